//! The one retry policy of the executor, for reads and state-changing calls alike: a call
//! is tried again only when the error says a retry can succeed without anyone acting
//! (Canton's `RetryInfo`, or the transport being momentarily unavailable), with
//! exponential backoff that never waits less than the participant asked for.

use crate::client::ClientError;
use std::time::Duration;

const MAX_DELAY: Duration = Duration::from_secs(5);

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
        let backoff = self
            .base_delay
            .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16))
            .min(MAX_DELAY);
        Some(backoff.max(asked))
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
