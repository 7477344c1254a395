//! Walking a timeline: how many moments are shown, at what speed, paused or not. Pure:
//! the caller tells it how much wall time passed; waits between moments follow the
//! journal's own times, each capped (as asciinema caps idle time) so that a long pause
//! in the session does not stall the playback.

use super::Timeline;

/// The speeds `+` and `-` step through.
pub const SPEEDS: [f64; 9] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];
/// The longest wait between two moments, in session seconds, before the speed applies.
pub const IDLE_CAP: f64 = 2.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Player {
    /// How many moments are shown: the first `shown` of the timeline.
    shown: usize,
    speed: usize,
    paused: bool,
    /// Session seconds still to wait before the next moment.
    wait: f64,
}

impl Player {
    /// At the start, nothing shown yet, playing at 1×.
    pub fn new(timeline: &Timeline) -> Player {
        let mut p = Player {
            shown: 0,
            speed: 2,
            paused: false,
            wait: 0.0,
        };
        p.wait = p.gap(timeline);
        p
    }

    pub fn shown(&self) -> usize {
        self.shown
    }

    /// The index of the last moment shown.
    pub fn current(&self) -> Option<usize> {
        self.shown.checked_sub(1)
    }

    pub fn speed(&self) -> f64 {
        SPEEDS[self.speed]
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    pub fn at_end(&self, timeline: &Timeline) -> bool {
        self.shown >= timeline.len()
    }

    pub fn toggle_pause(&mut self) {
        self.paused = !self.paused;
    }

    pub fn faster(&mut self) {
        self.speed = (self.speed + 1).min(SPEEDS.len() - 1);
    }

    /// Plays at `speed`, one of [`SPEEDS`]; `false` (and no change) for any other.
    pub fn set_speed(&mut self, speed: f64) -> bool {
        match SPEEDS.iter().position(|s| *s == speed) {
            Some(i) => {
                self.speed = i;
                true
            }
            None => false,
        }
    }

    pub fn slower(&mut self) {
        self.speed = self.speed.saturating_sub(1);
    }

    /// Lets `secs` of wall time pass; returns how many moments became shown.
    pub fn tick(&mut self, secs: f64, timeline: &Timeline) -> usize {
        if self.paused {
            return 0;
        }
        let mut budget = secs * self.speed();
        let before = self.shown;
        while !self.at_end(timeline) && budget >= self.wait {
            budget -= self.wait;
            self.shown += 1;
            self.wait = self.gap(timeline);
        }
        if !self.at_end(timeline) {
            self.wait -= budget;
        }
        self.shown - before
    }

    /// Shows the next moment and pauses there.
    pub fn step(&mut self, timeline: &Timeline) -> usize {
        self.paused = true;
        self.advance_to(self.shown + 1, timeline)
    }

    /// Shows everything up to the next decision and pauses on it; at the end if none is left.
    pub fn next_decision(&mut self, timeline: &Timeline) -> usize {
        self.paused = true;
        let to = timeline.next_decision(self.current()).map_or(timeline.len(), |i| i + 1);
        self.advance_to(to, timeline)
    }

    fn advance_to(&mut self, shown: usize, timeline: &Timeline) -> usize {
        let before = self.shown;
        self.shown = shown.min(timeline.len()).max(self.shown);
        self.wait = self.gap(timeline);
        self.shown - before
    }

    /// Session seconds between the last moment shown and the next one, capped.
    fn gap(&self, timeline: &Timeline) -> f64 {
        let Some(next) = timeline.moments.get(self.shown) else {
            return 0.0;
        };
        let last = self
            .current()
            .and_then(|i| timeline.moments.get(i))
            .map_or(next.t, |m| m.t);
        (next.t - last).clamp(0.0, IDLE_CAP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Actor, Event};
    use crate::replay::{Change, Moment};

    fn timeline(times: &[(f64, bool)]) -> Timeline {
        Timeline {
            moments: times
                .iter()
                .enumerate()
                .map(|(i, &(t, decision))| Moment {
                    t,
                    ts: String::new(),
                    line: i + 2,
                    label: format!("m{i}"),
                    decision,
                    event: Event {
                        seq: i as u64 + 1,
                        ts: String::new(),
                        t,
                        actor: Actor {
                            op: "alice".into(),
                            node: None,
                        },
                        kind: "note".into(),
                        data: serde_json::Value::Null,
                        prev: String::new(),
                        hash: String::new(),
                        body: None,
                    },
                    change: Change::Noted,
                })
                .collect(),
        }
    }

    #[test]
    fn time_shows_moments_at_their_journal_times_scaled_by_the_speed() {
        let t = timeline(&[(0.0, false), (1.0, false), (1.5, false), (30.0, false)]);
        let mut p = Player::new(&t);
        assert_eq!(p.tick(0.0, &t), 1, "the first moment at once");
        assert_eq!(p.tick(0.9, &t), 0);
        assert_eq!(p.tick(0.1, &t), 1);
        p.faster();
        assert_eq!(p.speed(), 2.0);
        assert_eq!(p.tick(0.25, &t), 1, "half a second of session in a quarter at 2×");
        // 28.5 s of idle session is capped to IDLE_CAP.
        assert_eq!(p.tick(IDLE_CAP / 2.0 - 0.01, &t), 0);
        assert_eq!(p.tick(0.02, &t), 1);
        assert!(p.at_end(&t));
        assert_eq!(p.tick(100.0, &t), 0);
    }

    #[test]
    fn pause_holds_and_step_shows_one_moment_then_pauses() {
        let t = timeline(&[(0.0, false), (1.0, false), (2.0, false)]);
        let mut p = Player::new(&t);
        p.toggle_pause();
        assert_eq!(p.tick(10.0, &t), 0, "paused");
        assert_eq!(p.step(&t), 1);
        assert_eq!(p.step(&t), 1);
        assert!(p.paused());
        assert_eq!(p.current(), Some(1));
        p.toggle_pause();
        assert_eq!(p.tick(1.0, &t), 1);
        assert_eq!(p.step(&t), 0, "nothing after the end");
    }

    #[test]
    fn next_decision_shows_everything_up_to_it_and_pauses_on_it() {
        let t = timeline(&[(0.0, false), (1.0, true), (2.0, false), (3.0, false), (4.0, true)]);
        let mut p = Player::new(&t);
        assert_eq!(p.next_decision(&t), 2);
        assert_eq!(p.current(), Some(1));
        assert!(p.paused());
        assert_eq!(p.next_decision(&t), 3);
        assert_eq!(p.current(), Some(4));
        assert_eq!(p.next_decision(&t), 0, "none left: stays at the end");
        assert!(p.at_end(&t));
    }

    #[test]
    fn speed_stays_within_its_ladder() {
        let t = timeline(&[(0.0, false)]);
        let mut p = Player::new(&t);
        for _ in 0..20 {
            p.faster();
        }
        assert_eq!(p.speed(), 64.0);
        for _ in 0..20 {
            p.slower();
        }
        assert_eq!(p.speed(), 0.25);
        assert!(p.set_speed(8.0));
        assert_eq!(p.speed(), 8.0);
        assert!(!p.set_speed(3.0), "not on the ladder");
        assert_eq!(p.speed(), 8.0);
    }
}
