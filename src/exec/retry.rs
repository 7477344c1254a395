//! Trying again, in one place:
//! - [`RetryPolicy`], the executor's policy for reads and state-changing calls alike: a call
//!   is tried again only when the error says a retry can succeed without anyone acting
//!   (Canton's `RetryInfo`, or the transport being momentarily unavailable), with
//!   exponential backoff that never waits less than the participant asked for;
//! - [`Settle`], pings repeated until a synchronizer's topology has settled (init_target's
//!   ping and verification's), where a failed ping is an answer, not an error;
//! - [`Backoff`], the same doubling wait for loops that retry on their own terms (the
//!   collab session's reconnects to its coordinator).

use crate::client::{ClientError, PingOutcome};
use std::future::Future;
use std::time::Duration;

const MAX_DELAY: Duration = Duration::from_secs(5);

/// `base` doubled `attempt - 1` times, never above `max`.
fn doubled(base: Duration, attempt: u32, max: Duration) -> Duration {
    base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(max)
}

/// Exponential backoff: waits `base`, then twice as long each time, never above `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Backoff {
        Backoff { base, max, attempt: 0 }
    }

    /// The next wait.
    pub fn next_delay(&mut self) -> Duration {
        self.attempt = self.attempt.saturating_add(1);
        doubled(self.base, self.attempt, self.max)
    }

    /// Back to `base` (after a success).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
}

impl RetryPolicy {
    /// How long to wait before attempt `attempt + 1` after `error`, or `None` to give up.
    pub fn delay_after(&self, attempt: u32, error: &ClientError) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let asked = error.retry_after()?;
        Some(doubled(self.base_delay, attempt, MAX_DELAY).max(asked))
    }

    /// `f` until it succeeds or the policy gives up (calls that are not journaled).
    pub async fn run<T, F, Fut>(&self, f: F) -> Result<T, ClientError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let mut attempt = 1;
        loop {
            match f().await {
                Ok(v) => return Ok(v),
                Err(e) => match self.delay_after(attempt, &e) {
                    Some(delay) => {
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Err(e),
                },
            }
        }
    }
}

/// Pings until one succeeds: right after a connect or a reconnect a participant may still
/// be catching up with the synchronizer's topology (Canton's console waits for topology to
/// settle after a reconnect for the same reason). Round `r` that fails is followed by a
/// wait of `step * r`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Settle {
    pub rounds: u32,
    pub step: Duration,
}

/// How a settling ping ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Settled {
    /// A ping got through (`None` in a dry run, where nothing is sent).
    Pinged(Option<u64>),
    /// Every round failed; the last reason.
    Failed(String),
}

impl Settle {
    /// Runs `ping(round)` for rounds 1, 2, … until one succeeds or the rounds are spent. A
    /// ping that answers `None` (nothing was sent) counts as a success; an error ends it.
    pub async fn ping<E, F, Fut>(&self, mut ping: F) -> Result<Settled, E>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<Option<PingOutcome>, E>>,
    {
        let mut last = String::new();
        for round in 1..=self.rounds.max(1) {
            match ping(round).await? {
                None => return Ok(Settled::Pinged(None)),
                Some(PingOutcome::Success { millis, .. }) => return Ok(Settled::Pinged(Some(millis))),
                Some(PingOutcome::Failure { reason }) => last = reason,
            }
            if round < self.rounds {
                tokio::time::sleep(self.step * round).await;
            }
        }
        Ok(Settled::Failed(last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canton_error::{codes, status};

    fn err(s: tonic::Status) -> ClientError {
        ClientError::from_status("p", "Ping", s)
    }

    #[test]
    fn backoff_doubles_up_to_its_ceiling_and_starts_over() {
        let mut b = Backoff::new(Duration::from_millis(200), Duration::from_secs(2));
        let waits: Vec<u128> = (0..6).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(waits, [200, 400, 800, 1600, 2000, 2000]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn settling_pings_stop_at_the_first_success_or_after_the_last_round() {
        let settle = Settle {
            rounds: 3,
            step: Duration::from_millis(500),
        };
        let fail = |r: u32| PingOutcome::Failure {
            reason: format!("round {r}"),
        };
        let started = tokio::time::Instant::now();
        let mut rounds = Vec::new();
        let out = settle
            .ping(|r| {
                rounds.push(r);
                let answer = if r == 2 {
                    PingOutcome::Success {
                        millis: 7,
                        responder: "p2".into(),
                    }
                } else {
                    fail(r)
                };
                async move { Ok::<_, ()>(Some(answer)) }
            })
            .await;
        assert_eq!(out, Ok(Settled::Pinged(Some(7))));
        assert_eq!(rounds, [1, 2]);
        assert_eq!(started.elapsed(), Duration::from_millis(500), "one wait, after round 1");
        let out = settle.ping(|r| async move { Ok::<_, ()>(Some(fail(r))) }).await;
        assert_eq!(out, Ok(Settled::Failed("round 3".into())));
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(500 + 500 + 1000),
            "no wait after the last round"
        );
        let dry = settle.ping(|_| async { Ok::<_, ()>(None) }).await;
        assert_eq!(dry, Ok(Settled::Pinged(None)));
        let broken = settle.ping(|_| async { Err::<Option<PingOutcome>, _>("down") }).await;
        assert_eq!(broken, Err("down"));
    }

    #[test]
    fn retries_what_canton_calls_retryable_and_nothing_else() {
        let policy = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
        };
        let transport = err(tonic::Status::unavailable("tcp connect error"));
        assert_eq!(policy.delay_after(1, &transport), Some(Duration::from_millis(250)));
        assert_eq!(policy.delay_after(2, &transport), Some(Duration::from_millis(500)));
        assert_eq!(policy.delay_after(4, &transport), None, "attempts exhausted");
        let contention = err(status(codes::SEQUENCER_REQUEST_FAILED, "Failed to send command"));
        assert_eq!(
            policy.delay_after(1, &contention),
            Some(Duration::from_secs(1)),
            "Canton's RetryInfo asks for 1 s"
        );
        let timeout = err(status(codes::REQUEST_TIME_OUT, "timed out"));
        assert!(policy.delay_after(1, &timeout).is_some(), "category 3 is retryable");
        let refusal = err(status(codes::CONTRACT_ASSIGNATION_CHANGE_ERROR, "still connected"));
        assert_eq!(policy.delay_after(1, &refusal), None);
        let redacted = err(status(codes::SERVICE_INTERNAL_ERROR, "boom"));
        assert_eq!(
            policy.delay_after(1, &redacted),
            None,
            "internal errors are not retried"
        );
    }
}
