//! `replay`: the recovery screen in read-only playback. A fresh screen state is fed the
//! recording's moments in order — the comparison each survey showed, the strategy and the
//! decisions, the plan proposed, the execution as the runner reported it — so each pane is
//! drawn as it was at that moment. Keys drive the player, never the session: nothing is
//! sent, nothing is written. The bottom lines say where in the recording the screen is.

use super::app::{App, Compared, Context, PlanState, Screen};
use super::exec_view::ExecView;
use super::keymap::Keymap;
use super::msg::{Msg, SurveyData};
use super::theme::{Role, Theme};
use super::ui;
use crate::exec::Progress;
use crate::journal::{EventData, Journal, Recorded};
use crate::plan::PlanSummary;
use crate::replay::{Change, Moment, Player, Timeline};
use crate::survey::Payloads;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use std::sync::Arc;

pub struct Replay {
    pub timeline: Timeline,
    pub player: Player,
    pub app: App,
    keymap: Keymap,
    ctx: Context,
    /// Moments fed to `app` so far.
    applied: usize,
    /// Why the recording is not to be trusted, when it was opened with `--force`.
    pub warning: Option<String>,
    pub quit: bool,
}

/// The screen's context from the journal: its incident and participants, the
/// synchronizers from the first plan it pins (or the first survey).
pub fn context(journal: &Journal, timeline: &Timeline, theme: &str) -> Context {
    let mut lost = String::new();
    let mut target = String::new();
    for m in &timeline.moments {
        match &m.change {
            Change::Plan { plan: Some(p), .. } | Change::RunStarted { plan: Some(p), .. } if target.is_empty() => {
                lost = p.lost().to_string();
                target = p.target().to_string();
            }
            Change::Survey { synchronizer, .. } if lost.is_empty() => lost = synchronizer.clone(),
            _ => {}
        }
    }
    let mut participants: Vec<String> = journal.header.participants.iter().map(|p| p.name.clone()).collect();
    participants.sort();
    Context {
        incident: journal.header.incident.clone(),
        lost,
        target,
        operator: journal.header.operator.clone(),
        participants,
        read_only: true,
        theme: theme.to_string(),
    }
}

impl Replay {
    pub fn new(ctx: Context, keymap: Keymap, timeline: Timeline, warning: Option<String>) -> Replay {
        let keymap = keymap.read_only();
        let player = Player::new(&timeline);
        Replay {
            app: shown(ctx.clone(), keymap.clone()),
            timeline,
            player,
            keymap,
            ctx,
            applied: 0,
            warning,
            quit: false,
        }
    }

    /// Feeds the screen the moments the player shows that it has not seen yet.
    pub fn sync(&mut self) {
        while self.applied < self.player.shown() {
            let Some(m) = self.timeline.moments.get(self.applied) else {
                break;
            };
            apply(&mut self.app, m);
            self.applied += 1;
        }
    }

    /// From the start again (the screen state only moves forward).
    pub fn restart(&mut self) {
        self.app = shown(self.ctx.clone(), self.keymap.clone());
        self.player = Player::new(&self.timeline);
        self.applied = 0;
    }

    pub fn tick(&mut self, secs: f64) {
        self.player.tick(secs, &self.timeline);
        self.sync();
    }

    pub fn key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Char('q') | KeyCode::Esc => self.quit = true,
            KeyCode::Char(' ') => self.player.toggle_pause(),
            KeyCode::Char('+') | KeyCode::Char('=') => self.player.faster(),
            KeyCode::Char('-') => self.player.slower(),
            KeyCode::Char('n') | KeyCode::Right => {
                self.player.step(&self.timeline);
            }
            KeyCode::Char('d') | KeyCode::Tab => {
                self.player.next_decision(&self.timeline);
            }
            KeyCode::Char('r') | KeyCode::Home => self.restart(),
            // Moving around what is shown is the screen's own business; it changes nothing.
            KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown => {
                let _ = self.app.update(Msg::Key(k));
            }
            _ => {}
        }
        self.sync();
    }

    /// The screen as it was, with the playback lines in place of its key hints.
    pub fn draw(&mut self, frame: &mut Frame, theme: &Theme) {
        let measures = ui::draw(frame, &self.app, theme);
        self.app.measured(&measures);
        let area = frame.area();
        if area.height < 4 {
            return;
        }
        let bar = Rect {
            y: area.y + area.height - 2,
            height: 2,
            ..area
        };
        frame.render_widget(Clear, bar);
        frame.render_widget(Paragraph::new(self.bar_lines(theme)), bar);
        if let Some(w) = &self.warning {
            let top = Rect { height: 1, ..area };
            frame.render_widget(Clear, top);
            frame.render_widget(
                Paragraph::new(Line::from(Span::styled(
                    format!(" UNVERIFIED RECORDING: {w}"),
                    theme.style(Role::Danger),
                ))),
                top,
            );
        }
    }

    fn bar_lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let state = if self.player.at_end(&self.timeline) {
            "■ end".to_string()
        } else if self.player.paused() {
            "❚❚ paused".to_string()
        } else {
            format!("▶ {}×", self.player.speed())
        };
        let current = self.player.current().and_then(|i| self.timeline.moments.get(i));
        let mut first = vec![
            Span::styled(" REPLAY ", theme.style(Role::ReadOnly)),
            Span::styled(format!(" {state} "), theme.style(Role::Accent)),
            Span::styled(
                format!(" {}/{} ", self.player.shown(), self.timeline.len()),
                theme.style(Role::Muted),
            ),
        ];
        if let Some(m) = current {
            let time = m.ts.get(11..23).unwrap_or(&m.ts).to_string();
            first.push(Span::styled(
                format!("line {} · {time} · ", m.line),
                theme.style(Role::Muted),
            ));
            let role = if m.decision { Role::Warn } else { Role::Base };
            first.push(Span::styled(m.label.clone(), theme.style(role)));
        }
        let mut keys = Vec::new();
        for (key, what) in [
            ("space", "pause"),
            ("+/-", "speed"),
            ("n", "step"),
            ("d", "next decision"),
            ("r", "restart"),
            ("↑↓", "move"),
            ("q", "quit"),
        ] {
            keys.push(Span::styled(format!(" {key}"), theme.style(Role::KeyHint)));
            keys.push(Span::styled(format!(" {what} "), theme.style(Role::Muted)));
        }
        vec![Line::from(first), Line::from(keys)]
    }
}

/// The screen a replay draws: it shows what was recorded and reads nothing.
fn shown(ctx: Context, keymap: Keymap) -> App {
    let mut app = App::new(ctx, keymap);
    app.payloads_on_demand = false;
    app
}

/// What the live screen did when this happened, done to `app`.
fn apply(app: &mut App, m: &Moment) {
    let _ = app.update(Msg::Recorded(Box::new(m.event.clone())));
    let running = app.exec.as_ref().is_some_and(|e| !e.finished);
    match &m.change {
        Change::Survey {
            synchronizer,
            comparison: Some(comparison),
        } => {
            app.compared = if *synchronizer == app.ctx.target && !app.ctx.target.is_empty() {
                Compared::Target
            } else {
                Compared::Lost
            };
            let data = SurveyData {
                comparison: comparison.clone(),
                // The pinned comparison keeps digests; the payloads were never recorded.
                payloads: Arc::new(vec![Payloads::new(); comparison.participants().len()]),
                in_flight: Default::default(),
                incomplete: Default::default(),
                hosted: Default::default(),
                snapshot: Recorded::Nothing,
            };
            if let Some(EventData::Surveyed(s)) = &m.event.body {
                for p in &mut app.participants {
                    p.recorded = Some(match s.contracts.get(&p.name) {
                        Some(n) => format!("{n} contract(s) held on {synchronizer} (status not recorded)"),
                        None => "status not recorded".to_string(),
                    });
                }
            }
            let generation = app.generation;
            let _ = app.update(Msg::Survey {
                generation,
                result: Ok(data),
            });
            if !running {
                app.screen = Screen::Main;
            }
        }
        Change::Strategy(s) => app.choice.set_strategy(*s),
        Change::Decided(id, d) => app.choice.decide(id, d.clone()),
        Change::Plan { plan: Some(plan), .. } => {
            app.plan = PlanState::Ready {
                plan: plan.clone(),
                summary: Box::new(PlanSummary::of(plan)),
            };
            app.screen = Screen::Plan;
        }
        Change::RunStarted { plan, hash } => {
            let plan = plan.clone().or_else(|| match &app.plan {
                PlanState::Ready { plan, .. } if plan.hash() == hash => Some(plan.clone()),
                _ => None,
            });
            if let Some(plan) = plan {
                app.exec = Some(ExecView::new(&plan));
                app.screen = Screen::Execution;
            }
        }
        Change::Run(progress) => {
            for p in progress {
                let _ = app.update(Msg::Exec(p.clone()));
            }
            // The live screen hears of the end twice: from the run, then from its task.
            if let Some(Progress::Finished(report)) = progress.iter().find(|p| matches!(p, Progress::Finished(_))) {
                let _ = app.update(Msg::ExecDone(Ok(report.clone())));
            }
        }
        Change::Opened
        | Change::Survey { comparison: None, .. }
        | Change::Plan { plan: None, .. }
        | Change::Approved { .. }
        | Change::Noted => {}
    }
}
