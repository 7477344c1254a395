//! Errors of calls to a participant, with Canton's code id, category and cause parsed
//! out of the gRPC status so that operators see `CODE: cause` and the executor can tell
//! transient failures from refusals.

use crate::canton_error::{self, CantonError, Category};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{participant}: {rpc} failed: {canton}{}", hint.as_deref().map(|h| format!("; {h}")).unwrap_or_default())]
    Canton {
        participant: String,
        rpc: &'static str,
        grpc: tonic::Code,
        canton: Box<CantonError>,
        /// What the client knows that explains a refusal the participant kept to itself.
        hint: Option<String>,
    },
    #[error("{participant}: {rpc} failed ({grpc:?}): {message}")]
    Grpc {
        participant: String,
        rpc: &'static str,
        grpc: tonic::Code,
        message: String,
    },
    #[error("{participant}: {message}")]
    Setup { participant: String, message: String },
    #[error("{participant}: {rpc}: {message}")]
    Protocol {
        participant: String,
        rpc: &'static str,
        message: String,
    },
    /// The participant runs a Canton release the client cannot serve.
    #[error("{participant}: {message}")]
    Unsupported { participant: String, message: String },
}

/// tonic reports a call that reached its own deadline on the client side (no answer in
/// time, e.g. the network to the participant is lost) as CANCELLED with the text of
/// `tonic::TimeoutExpired`, as if someone had cancelled it; it is a deadline exceeded.
fn deadline_as_such(status: tonic::Status) -> tonic::Status {
    if status.code() == tonic::Code::Cancelled && status.message() == tonic::TimeoutExpired(()).to_string() {
        tonic::Status::deadline_exceeded(
            "no answer within the call's deadline (the participant's timeout_secs or repair_timeout_secs)",
        )
    } else {
        status
    }
}

/// Canton ends a stream that outlives its bearer token with ACCESS_TOKEN_EXPIRED
/// (`UserBasedOngoingAuthorization.scala`, release-line-3.5) in a category it calls
/// retryable (`AuthorizationChecksErrors.scala`: ContentionOnSharedResources): a client that
/// renews its token may restart the stream. This client sends the token it was configured
/// with, so a retry can only be refused again: the operator has to renew it.
fn needs_a_new_token(canton: &CantonError) -> bool {
    canton.code == canton_error::codes::ACCESS_TOKEN_EXPIRED.id
}

const RENEW_TOKEN: &str = "the bearer token expired while the call was running: renew the participant's token (its token_file or token_env in the incident config) and run again";

impl ClientError {
    pub fn from_status(participant: &str, rpc: &'static str, status: tonic::Status) -> ClientError {
        let status = deadline_as_such(status);
        match canton_error::from_status(&status) {
            Some(canton) => ClientError::Canton {
                participant: participant.to_string(),
                rpc,
                grpc: status.code(),
                hint: needs_a_new_token(&canton).then(|| RENEW_TOKEN.to_string()),
                canton: Box::new(canton),
            },
            None => ClientError::Grpc {
                participant: participant.to_string(),
                rpc,
                grpc: status.code(),
                // A transport failure says only "transport error"; its cause is below.
                message: match std::error::Error::source(&status) {
                    Some(cause) => {
                        let top = if status.message().is_empty() {
                            "failed"
                        } else {
                            status.message()
                        };
                        let cause = crate::error_chain::chain(cause);
                        if top.contains(&cause) {
                            top.to_string()
                        } else if cause.contains(top) {
                            cause
                        } else {
                            format!("{top}: {cause}")
                        }
                    }
                    None if status.message().is_empty() => format!("{status}"),
                    None => status.message().to_string(),
                },
            },
        }
    }

    /// An UNAUTHENTICATED refusal, explained when the token sent is a JWT that had expired
    /// by `now` (its `expiry`): Canton refuses an expired token as it refuses a wrong one,
    /// with the cause redacted (see `jwt::expired`), so only the client can say which.
    pub fn token_expired(self, expiry: Option<jiff::Timestamp>, now: jiff::Timestamp) -> ClientError {
        match (self, expiry) {
            (
                ClientError::Canton {
                    participant,
                    rpc,
                    grpc: tonic::Code::Unauthenticated,
                    canton,
                    hint: None,
                },
                Some(exp),
            ) if exp <= now => ClientError::Canton {
                participant,
                rpc,
                grpc: tonic::Code::Unauthenticated,
                canton,
                hint: Some(format!(
                    "the bearer token expired at {exp} ({:#} ago): get a new one",
                    jiff::SignedDuration::from_secs(now.as_second() - exp.as_second())
                )),
            },
            (e, _) => e,
        }
    }

    pub fn grpc_code(&self) -> Option<tonic::Code> {
        match self {
            ClientError::Canton { grpc, .. } | ClientError::Grpc { grpc, .. } => Some(*grpc),
            _ => None,
        }
    }

    /// Canton's error code id, e.g. `CONTRACT_ASSIGNATION_CHANGE_ERROR`.
    pub fn canton_code(&self) -> Option<&str> {
        match self {
            ClientError::Canton { canton, .. } => Some(&canton.code),
            _ => None,
        }
    }

    pub fn category(&self) -> Option<Category> {
        match self {
            ClientError::Canton { canton, .. } => canton.category,
            _ => None,
        }
    }

    /// The node or the network is momentarily unavailable.
    pub fn is_unavailable(&self) -> bool {
        self.grpc_code() == Some(tonic::Code::Unavailable)
    }

    /// The participant redacted the error (a security-sensitive category): only the
    /// correlation id identifies it, in the participant's own log.
    pub fn is_redacted(&self) -> bool {
        matches!(self, ClientError::Canton { canton, .. } if canton.redacted)
    }

    /// Whether the same call can succeed later without anyone acting, and after how long:
    /// Canton says so with a `RetryInfo` (categories 1, 2, 3 and 12); a plain UNAVAILABLE
    /// from the transport (connection refused, reset) is retried too. Every other failure
    /// is a refusal that retrying would only repeat.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            ClientError::Canton { canton, .. } if canton.is_retryable() && !needs_a_new_token(canton) => {
                Some(canton.retry_after.unwrap_or(std::time::Duration::from_secs(1)))
            }
            ClientError::Grpc {
                grpc: tonic::Code::Unavailable,
                ..
            } => Some(std::time::Duration::ZERO),
            _ => None,
        }
    }

    /// The call that failed, when a call did.
    pub fn rpc(&self) -> Option<&'static str> {
        match self {
            ClientError::Canton { rpc, .. } | ClientError::Grpc { rpc, .. } | ClientError::Protocol { rpc, .. } => {
                Some(rpc)
            }
            ClientError::Setup { .. } | ClientError::Unsupported { .. } => None,
        }
    }

    pub fn participant(&self) -> &str {
        match self {
            ClientError::Canton { participant, .. }
            | ClientError::Grpc { participant, .. }
            | ClientError::Setup { participant, .. }
            | ClientError::Protocol { participant, .. }
            | ClientError::Unsupported { participant, .. } => participant,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canton_error::{codes, status};

    #[test]
    fn canton_statuses_keep_code_category_and_cause() {
        let e = ClientError::from_status(
            "participant1",
            "ChangeAssignation",
            status(
                codes::CONTRACT_ASSIGNATION_CHANGE_ERROR,
                "There are still synchronizers connected.",
            ),
        );
        assert_eq!(e.canton_code(), Some("CONTRACT_ASSIGNATION_CHANGE_ERROR"));
        assert_eq!(e.category(), Some(Category::InvalidGivenCurrentSystemStateOther));
        assert_eq!(e.grpc_code(), Some(tonic::Code::FailedPrecondition));
        assert!(!e.is_unavailable());
        let text = e.to_string();
        assert!(
            text.starts_with(
                "participant1: ChangeAssignation failed: CONTRACT_ASSIGNATION_CHANGE_ERROR: There are still"
            ),
            "{text}"
        );
    }

    #[test]
    fn only_an_unauthenticated_refusal_of_an_expired_token_says_it_expired() {
        let ts = |s: i64| jiff::Timestamp::from_second(s).expect("timestamp");
        let refused = || {
            ClientError::from_status(
                "p1",
                "ParticipantStatus",
                status(codes::UNAUTHENTICATED, "The command is missing a (valid) JWT token"),
            )
        };
        let text = refused().token_expired(Some(ts(1_000)), ts(1_090)).to_string();
        assert!(text.starts_with("p1: ParticipantStatus failed: "), "{text}");
        assert!(
            text.ends_with("; the bearer token expired at 1970-01-01T00:16:40Z (1m 30s ago): get a new one"),
            "{text}"
        );
        // Not yet expired, no expiry known, or another refusal: left as it was.
        for e in [
            refused().token_expired(Some(ts(1_000)), ts(999)),
            refused().token_expired(None, ts(1_090)),
            ClientError::from_status("p1", "Ping", status(codes::SERVICE_INTERNAL_ERROR, "x"))
                .token_expired(Some(ts(1_000)), ts(1_090)),
        ] {
            assert!(!e.to_string().contains("expired at"), "{e}");
        }
        assert_eq!(
            refused().token_expired(Some(ts(1_000)), ts(1_090)).grpc_code(),
            Some(tonic::Code::Unauthenticated)
        );
    }

    #[test]
    fn a_stream_ended_by_an_expired_token_is_not_retried_and_says_to_renew_it() {
        // What UserBasedOngoingAuthorization sends when a stream outlives its token: a
        // retryable category, with a RetryInfo.
        let expired = status(
            codes::ACCESS_TOKEN_EXPIRED,
            "Claims were valid until 2026-12-07T10:00:00Z, current time is 2026-12-07T10:00:05Z",
        );
        assert_eq!(expired.code(), tonic::Code::Aborted);
        let e = ClientError::from_status("p1", "GetActiveContracts", expired);
        assert!(
            e.category().is_some_and(Category::is_retryable),
            "Canton calls it retryable"
        );
        assert_eq!(e.retry_after(), None, "the same token would only be refused again");
        let text = e.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(
            text.starts_with("p1: GetActiveContracts failed: ACCESS_TOKEN_EXPIRED: Claims were valid until"),
            "{text}"
        );
        assert!(text.ends_with("; the bearer token expired while the call was running: renew the participant's token (its token_file or token_env in the incident config) and run again"), "{text}");
        // The same category under another code is still retried.
        let contention = ClientError::from_status("p1", "ImportAcs", status(codes::SEQUENCER_REQUEST_FAILED, "busy"));
        assert!(contention.retry_after().is_some());
        assert!(!contention.to_string().contains("renew"), "{contention}");
    }

    #[test]
    fn a_deadline_reached_on_the_client_side_is_reported_as_one() {
        // What tonic's client-side deadline produces (tonic::Status::from_error of
        // TimeoutExpired).
        let timed_out = tonic::Status::cancelled(tonic::TimeoutExpired(()).to_string());
        let e = ClientError::from_status("p", "ChangeAssignation", timed_out);
        assert_eq!(e.grpc_code(), Some(tonic::Code::DeadlineExceeded));
        assert!(e.to_string().contains("deadline"), "{e}");
        let cancelled = ClientError::from_status("p", "ImportAcs", tonic::Status::cancelled("import aborted"));
        assert_eq!(
            cancelled.grpc_code(),
            Some(tonic::Code::Cancelled),
            "a real cancellation stays one"
        );
    }

    #[test]
    fn plain_statuses_are_kept_verbatim() {
        let e = ClientError::from_status("p", "Ping", tonic::Status::unavailable("tcp connect error"));
        assert!(e.is_unavailable());
        assert_eq!(e.canton_code(), None);
        assert!(e.to_string().contains("tcp connect error"));
    }
}
