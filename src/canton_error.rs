//! Canton's error format on the wire, as `base/errors/.../SerializableErrorComponents.scala`
//! (release-line-3.5) builds it: a gRPC status whose message reads
//! `CODE_ID(category,correlation): cause`, with details in `grpc-status-details-bin` — an
//! `ErrorInfo` (reason = code id, metadata `category` and `tid`), a `RetryInfo` for the
//! retryable categories and a `RequestInfo` (the correlation id). Categories that redact
//! their details send only a fixed message and the `RequestInfo`. The lab produces this
//! form and the client reads it (details first, the message second), so both sides share
//! this one definition.

use std::fmt;
use std::time::Duration;
use tonic_types::{ErrorDetails, StatusExt};

/// Canton's error categories (`base/errors/.../ErrorCategory.scala`). The number is what
/// appears in the status message; the category decides the gRPC status code, whether the
/// details are redacted and whether a retry can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    TransientServerFailure,
    ContentionOnSharedResources,
    DeadlineExceededRequestStateUnknown,
    SystemInternalAssumptionViolated,
    /// Canton has two categories with id 5 (`SecurityAlert`, redacted, and
    /// `UnredactedSecurityAlert`); both map to INVALID_ARGUMENT.
    SecurityAlert,
    AuthInterceptorInvalidAuthenticationCredentials,
    InsufficientPermission,
    InvalidIndependentOfSystemState,
    InvalidGivenCurrentSystemStateOther,
    InvalidGivenCurrentSystemStateResourceExists,
    InvalidGivenCurrentSystemStateResourceMissing,
    InvalidGivenCurrentSystemStateSeekAfterEnd,
    BackgroundProcessDegradationWarning,
    InternalUnsupportedOperation,
}

impl Category {
    const ALL: [Category; 14] = [
        Category::TransientServerFailure,
        Category::ContentionOnSharedResources,
        Category::DeadlineExceededRequestStateUnknown,
        Category::SystemInternalAssumptionViolated,
        Category::SecurityAlert,
        Category::AuthInterceptorInvalidAuthenticationCredentials,
        Category::InsufficientPermission,
        Category::InvalidIndependentOfSystemState,
        Category::InvalidGivenCurrentSystemStateOther,
        Category::InvalidGivenCurrentSystemStateResourceExists,
        Category::InvalidGivenCurrentSystemStateResourceMissing,
        Category::InvalidGivenCurrentSystemStateSeekAfterEnd,
        Category::BackgroundProcessDegradationWarning,
        Category::InternalUnsupportedOperation,
    ];

    /// The category id Canton prints in the status message.
    pub fn id(self) -> u8 {
        match self {
            Category::TransientServerFailure => 1,
            Category::ContentionOnSharedResources => 2,
            Category::DeadlineExceededRequestStateUnknown => 3,
            Category::SystemInternalAssumptionViolated => 4,
            Category::SecurityAlert => 5,
            Category::AuthInterceptorInvalidAuthenticationCredentials => 6,
            Category::InsufficientPermission => 7,
            Category::InvalidIndependentOfSystemState => 8,
            Category::InvalidGivenCurrentSystemStateOther => 9,
            Category::InvalidGivenCurrentSystemStateResourceExists => 10,
            Category::InvalidGivenCurrentSystemStateResourceMissing => 11,
            Category::InvalidGivenCurrentSystemStateSeekAfterEnd => 12,
            Category::BackgroundProcessDegradationWarning => 13,
            Category::InternalUnsupportedOperation => 14,
        }
    }

    pub fn from_id(id: u8) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.id() == id)
    }

    pub fn grpc_code(self) -> tonic::Code {
        use tonic::Code;
        match self {
            Category::TransientServerFailure => Code::Unavailable,
            Category::ContentionOnSharedResources => Code::Aborted,
            Category::DeadlineExceededRequestStateUnknown => Code::DeadlineExceeded,
            Category::SystemInternalAssumptionViolated => Code::Internal,
            Category::SecurityAlert => Code::InvalidArgument,
            Category::AuthInterceptorInvalidAuthenticationCredentials => Code::Unauthenticated,
            Category::InsufficientPermission => Code::PermissionDenied,
            Category::InvalidIndependentOfSystemState => Code::InvalidArgument,
            Category::InvalidGivenCurrentSystemStateOther => Code::FailedPrecondition,
            Category::InvalidGivenCurrentSystemStateResourceExists => Code::AlreadyExists,
            Category::InvalidGivenCurrentSystemStateResourceMissing => Code::NotFound,
            Category::InvalidGivenCurrentSystemStateSeekAfterEnd => Code::OutOfRange,
            // Never sent on an API (Canton has no gRPC code for it).
            Category::BackgroundProcessDegradationWarning => Code::Unknown,
            Category::InternalUnsupportedOperation => Code::Unimplemented,
        }
    }

    /// Categories whose cause Canton never puts on the wire: the caller gets a fixed
    /// message and the correlation id to ask the operator about.
    pub fn redacts_details(self) -> bool {
        matches!(
            self,
            Category::SystemInternalAssumptionViolated
                | Category::SecurityAlert
                | Category::AuthInterceptorInvalidAuthenticationCredentials
                | Category::InsufficientPermission
                | Category::InternalUnsupportedOperation
        )
    }

    /// How long Canton asks a caller to wait before retrying, for the categories where a
    /// retry of the same request can succeed without anyone acting (1 s for each).
    pub fn retry_after(self) -> Option<Duration> {
        matches!(
            self,
            Category::TransientServerFailure
                | Category::ContentionOnSharedResources
                | Category::DeadlineExceededRequestStateUnknown
                | Category::InvalidGivenCurrentSystemStateSeekAfterEnd
        )
        .then_some(Duration::from_secs(1))
    }

    pub fn is_retryable(self) -> bool {
        self.retry_after().is_some()
    }

    /// What an error of a redacted category means, for the operator who sees no cause.
    pub fn meaning(self) -> &'static str {
        match self {
            Category::AuthInterceptorInvalidAuthenticationCredentials => {
                "unauthenticated: the token is missing, invalid or expired"
            }
            Category::InsufficientPermission => "permission denied: the token's user lacks a right this call needs",
            Category::SecurityAlert => "refused as a security alert: the request looked malformed or malicious",
            Category::InternalUnsupportedOperation => "unsupported operation",
            _ => "internal error",
        }
    }
}

/// An error code id with its category, as Canton's error definitions pair them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub id: &'static str,
    pub category: Category,
}

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $cat:ident;)*) => {
        $($(#[$doc])* pub const $name: Code = Code { id: stringify!($name), category: Category::$cat };)*

        /// Every code above.
        pub const ALL: &[Code] = &[$($name),*];
    };
}

/// The Canton error codes the lab emits, each with the category Canton gives it (the
/// source file of each definition beside it, release-line-3.5 unless noted).
pub mod codes {
    use super::{Category, Code};
    codes! {
        // participant/admin/repair/RepairServiceError.scala
        INVALID_ARGUMENT_REPAIR = InvalidIndependentOfSystemState;
        IO_STREAM_REPAIR_ERROR = InvalidGivenCurrentSystemStateOther;
        INVALID_STATE_REPAIR_ERROR = InvalidGivenCurrentSystemStateOther;
        CONTRACT_PURGE_ERROR = InvalidGivenCurrentSystemStateOther;
        CONTRACT_ASSIGNATION_CHANGE_ERROR = InvalidGivenCurrentSystemStateOther;
        IMPORT_ACS_ERROR = InvalidIndependentOfSystemState;
        // participant/sync/SyncServiceError.scala
        SYNC_SERVICE_UNKNOWN_SYNCHRONIZER = InvalidGivenCurrentSystemStateResourceMissing;
        SYNC_SERVICE_ALIAS_RESOLUTION = InvalidGivenCurrentSystemStateResourceMissing;
        SYNCHRONIZER_REGISTRATION = InvalidGivenCurrentSystemStateResourceExists;
        SYNC_SERVICE_BAD_CONNECTIVITY = InvalidGivenCurrentSystemStateOther;
        SYNC_SERVICE_SYNCHRONIZERS_MUST_BE_OFFLINE = InvalidGivenCurrentSystemStateOther;
        // participant/synchronizer/SynchronizerRegistry.scala
        SYNCHRONIZER_IS_NOT_AVAILABLE = TransientServerFailure;
        // participant/protocol/TransactionProcessor.scala
        SEQUENCER_REQUEST_FAILED = ContentionOnSharedResources;
        PACKAGE_NOT_VETTED_BY_RECIPIENTS = InvalidGivenCurrentSystemStateOther;
        // participant/admin/CantonPackageServiceError.scala
        PACKAGE_SERVICE_NOT_CONNECTED_TO_SYNCHRONIZER = InvalidGivenCurrentSystemStateOther;
        PACKAGE_SERVICE_CANNOT_AUTODETECT_SYNCHRONIZER = InvalidGivenCurrentSystemStateOther;
        DAR_NOT_FOUND = InvalidGivenCurrentSystemStateResourceMissing;
        // base/.../topology/TopologyManagerError.scala
        TOPOLOGY_STORE_NOT_FOUND = InvalidGivenCurrentSystemStateResourceMissing;
        // ledger/error/groups/RequestValidationErrors.scala
        INVALID_ARGUMENT = InvalidIndependentOfSystemState;
        // base/.../ProtoDeserializationError.scala
        PROTO_DESERIALIZATION_FAILURE = InvalidIndependentOfSystemState;
        INVALID_FIELD = InvalidIndependentOfSystemState;
        MISSING_FIELD = InvalidIndependentOfSystemState;
        // ledger/error/groups/ConsistencyErrors.scala, RequestValidationErrors.scala
        CONTRACT_NOT_FOUND = InvalidGivenCurrentSystemStateResourceMissing;
        TEMPLATES_OR_INTERFACES_NOT_FOUND = InvalidGivenCurrentSystemStateResourceMissing;
        // ledger/error/groups/CommandExecutionErrors.scala
        DAML_AUTHORIZATION_ERROR = InvalidIndependentOfSystemState;
        DAML_INTERPRETATION_ERROR = InvalidGivenCurrentSystemStateOther;
        // participant/sync/SyncServiceError.scala (routing)
        NO_SYNCHRONIZER_FOR_SUBMISSION = InvalidGivenCurrentSystemStateOther;
        // participant/protocol/validation/LocalRejectError.scala
        LOCAL_VERDICT_LOCKED_CONTRACTS = ContentionOnSharedResources;
        LOCAL_VERDICT_INACTIVE_CONTRACTS = InvalidGivenCurrentSystemStateResourceMissing;
        // ledger/error/groups/CommonErrors.scala, RequestValidationErrors.scala
        REQUEST_TIME_OUT = DeadlineExceededRequestStateUnknown;
        OFFSET_AFTER_LEDGER_END = InvalidGivenCurrentSystemStateSeekAfterEnd;
        // ledger/error/groups/AuthorizationChecksErrors.scala: redacted on the wire.
        UNAUTHENTICATED = AuthInterceptorInvalidAuthenticationCredentials;
        // ledger/error/CommonErrors.scala: redacted on the wire.
        SERVICE_INTERNAL_ERROR = SystemInternalAssumptionViolated;
        // base/.../auth/AuthorizationChecksErrors.scala: a stream that outlives its token
        // ends with it (ledger-api-core/.../auth/UserBasedOngoingAuthorization.scala).
        ACCESS_TOKEN_EXPIRED = ContentionOnSharedResources;
    }
}

impl Code {
    /// The code with this id, when it is one of [`codes`]: what code-keyed decisions
    /// match on, so that a misspelt code does not compile.
    pub fn by_id(id: &str) -> Option<Code> {
        codes::ALL.iter().copied().find(|c| c.id == id)
    }
}

/// The message Canton sends for a redacted category (`BaseError.RedactedMessage`).
const REDACTED_PREFIX: &str = "An error occurred. Please contact the operator and inquire about the request";

/// Canton truncates a cause to this many characters (`MaxCauseLogLength`).
const MAX_CAUSE: usize = 512;

/// A Canton error as recovered from a gRPC status.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CantonError {
    /// The code id; empty when the participant redacted the error.
    pub code: String,
    pub category: Option<Category>,
    pub correlation: String,
    /// Canton's trace id, when the status carried one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    pub cause: String,
    /// What the participant's `RetryInfo` asks for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<Duration>,
    /// The category hides the details: only the correlation id tells the operator of the
    /// participant which error it was.
    pub redacted: bool,
}

impl CantonError {
    /// Whether Canton says the same request can succeed later: its `RetryInfo`, or the
    /// category when the details were lost.
    pub fn is_retryable(&self) -> bool {
        self.retry_after.is_some() || self.category.is_some_and(Category::is_retryable)
    }
}

impl fmt::Display for CantonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.redacted {
            write!(
                f,
                "{} (the participant redacts the details of such errors; its operator can find request {} (tid {}) in the participant's log)",
                self.category.map(Category::meaning).unwrap_or("an error"),
                if self.correlation.is_empty() {
                    "<none>"
                } else {
                    &self.correlation
                },
                self.tid.as_deref().unwrap_or("<none>"),
            )
        } else {
            write!(f, "{}: {}", self.code, self.cause)
        }
    }
}

fn random_hex(len: usize) -> String {
    let mut s = uuid::Uuid::new_v4().simple().to_string();
    s.truncate(len);
    s
}

/// The first `max` characters of `s` (never splitting a character), with "..." when cut.
fn truncate_cause(s: String) -> String {
    match s.char_indices().nth(MAX_CAUSE) {
        Some((cut, _)) => format!("{}...", &s[..cut]),
        None => s,
    }
}

/// Builds the gRPC status Canton would send for `code` with `cause`.
pub fn status(code: Code, cause: impl Into<String>) -> tonic::Status {
    let correlation = random_hex(8);
    let tid = random_hex(32);
    let grpc = code.category.grpc_code();
    let mut details = ErrorDetails::new();
    details.set_request_info(correlation.clone(), "");
    if code.category.redacts_details() {
        let message = format!("{REDACTED_PREFIX} {correlation} with tid {tid}");
        return tonic::Status::with_error_details(grpc, message, details);
    }
    let metadata: std::collections::HashMap<String, String> = [
        ("category".to_string(), code.category.id().to_string()),
        ("tid".to_string(), tid),
    ]
    .into_iter()
    .collect();
    details.set_error_info(code.id, "", metadata);
    if let Some(after) = code.category.retry_after() {
        details.set_retry_info(Some(after));
    }
    let message = format!(
        "{}({},{}): {}",
        code.id,
        code.category.id(),
        correlation,
        truncate_cause(cause.into())
    );
    tonic::Status::with_error_details(grpc, message, details)
}

/// Reads a Canton error from a status: the structured details first, the message second.
/// `None` when neither is in Canton's form (plain gRPC errors from proxies, transport
/// failures, grpc-java's bare `UNKNOWN` for an exception).
pub fn from_status(status: &tonic::Status) -> Option<CantonError> {
    let details = status.get_error_details();
    let from_message = parse(status.message());
    let request_id = details
        .request_info()
        .map(|r| r.request_id.clone())
        .filter(|r| !r.is_empty());
    let retry_after = details.retry_info().and_then(|r| r.retry_delay);
    match details.error_info() {
        Some(info) if !info.reason.is_empty() => {
            let category = info
                .metadata
                .get("category")
                .and_then(|c| c.parse::<u8>().ok())
                .and_then(Category::from_id)
                .or_else(|| from_message.as_ref().and_then(|m| m.category));
            let (cause, correlation) = match &from_message {
                Some(m) if m.code == info.reason => (m.cause.clone(), m.correlation.clone()),
                _ => (status.message().to_string(), String::new()),
            };
            Some(CantonError {
                code: info.reason.clone(),
                category,
                correlation: request_id.unwrap_or(correlation),
                tid: info.metadata.get("tid").cloned(),
                cause,
                retry_after,
                redacted: false,
            })
        }
        _ => from_message.map(|mut m| {
            if m.redacted && m.correlation.is_empty() {
                m.correlation = request_id.unwrap_or_default();
            }
            if m.retry_after.is_none() {
                m.retry_after = retry_after;
            }
            if m.redacted {
                m.category = Some(redacted_category(status.code()));
            }
            m
        }),
    }
}

/// The category a redacted status must have had, from its gRPC code (the categories
/// that redact map to distinct codes).
fn redacted_category(code: tonic::Code) -> Category {
    match code {
        tonic::Code::InvalidArgument => Category::SecurityAlert,
        tonic::Code::Unauthenticated => Category::AuthInterceptorInvalidAuthenticationCredentials,
        tonic::Code::PermissionDenied => Category::InsufficientPermission,
        tonic::Code::Unimplemented => Category::InternalUnsupportedOperation,
        _ => Category::SystemInternalAssumptionViolated,
    }
}

/// Parses the message alone: `CODE_ID(category,correlation): cause`, or Canton's redacted
/// message. `None` when the message is in neither form.
pub fn parse(message: &str) -> Option<CantonError> {
    if let Some(rest) = message.strip_prefix(REDACTED_PREFIX) {
        let rest = rest.trim();
        let (correlation, tid) = match rest.split_once(" with tid ") {
            Some((c, t)) => (c.trim(), Some(t.trim().to_string())),
            None => (rest, None),
        };
        return Some(CantonError {
            code: String::new(),
            category: None,
            correlation: correlation.trim_start_matches('<').trim_end_matches('>').to_string(),
            tid,
            cause: String::new(),
            retry_after: None,
            redacted: true,
        });
    }
    let open = message.find('(')?;
    let code = &message[..open];
    if code.is_empty()
        || !code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        || !code.starts_with(|c: char| c.is_ascii_uppercase())
    {
        return None;
    }
    let rest = &message[open + 1..];
    let close = rest.find(')')?;
    let inside = &rest[..close];
    let (category, correlation) = match inside.split_once(',') {
        Some((cat, corr)) => (cat.trim(), corr.trim()),
        None => (inside.trim(), ""),
    };
    let category_id: u8 = category.parse().ok()?;
    let after = &rest[close + 1..];
    let cause = after.strip_prefix(':').unwrap_or(after).trim();
    Some(CantonError {
        code: code.to_string(),
        category: Category::from_id(category_id),
        correlation: correlation.to_string(),
        tid: None,
        cause: cause.to_string(),
        retry_after: None,
        redacted: false,
    })
}

#[cfg(test)]
mod tests;
