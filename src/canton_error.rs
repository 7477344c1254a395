//! Canton's error format on the wire: a gRPC status whose message reads
//! `CODE_ID(category,correlation): cause`. The lab produces it, the client parses it, so
//! both sides share this one definition.

use std::fmt;

/// Canton's error categories (Daml error framework). The number is what appears in the
/// status message; the category decides the gRPC status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    TransientServerFailure,
    ContentionOnSharedResources,
    DeadlineExceededRequestStateUnknown,
    SystemInternalAssumptionViolated,
    MaliciousOrFaultyBehaviour,
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
        Category::MaliciousOrFaultyBehaviour,
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
            Category::MaliciousOrFaultyBehaviour => 5,
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
            // Canton hides the details of these from the caller.
            Category::MaliciousOrFaultyBehaviour => Code::Unknown,
            Category::AuthInterceptorInvalidAuthenticationCredentials => Code::Unauthenticated,
            Category::InsufficientPermission => Code::PermissionDenied,
            Category::InvalidIndependentOfSystemState => Code::InvalidArgument,
            Category::InvalidGivenCurrentSystemStateOther => Code::FailedPrecondition,
            Category::InvalidGivenCurrentSystemStateResourceExists => Code::AlreadyExists,
            Category::InvalidGivenCurrentSystemStateResourceMissing => Code::NotFound,
            Category::InvalidGivenCurrentSystemStateSeekAfterEnd => Code::OutOfRange,
            Category::BackgroundProcessDegradationWarning => Code::Unknown,
            Category::InternalUnsupportedOperation => Code::Unimplemented,
        }
    }

    /// Whether retrying the same request later can succeed without anyone acting.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Category::TransientServerFailure | Category::ContentionOnSharedResources
        )
    }
}

/// An error code id with its category, as Canton's error definitions pair them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub id: &'static str,
    pub category: Category,
}

macro_rules! codes {
    ($($name:ident = $id:literal, $cat:ident;)*) => {
        $(pub const $name: Code = Code { id: $id, category: Category::$cat };)*
    };
}

/// The Canton error codes the lab emits (reference §5.2–5.7 and the Ledger API).
pub mod codes {
    use super::{Category, Code};
    codes! {
        INVALID_ARGUMENT_REPAIR = "INVALID_ARGUMENT_REPAIR", InvalidIndependentOfSystemState;
        IO_STREAM_REPAIR_ERROR = "IO_STREAM_REPAIR_ERROR", InvalidGivenCurrentSystemStateOther;
        INVALID_STATE_REPAIR_ERROR = "INVALID_STATE_REPAIR_ERROR", InvalidGivenCurrentSystemStateOther;
        CONTRACT_PURGE_ERROR = "CONTRACT_PURGE_ERROR", InvalidGivenCurrentSystemStateOther;
        CONTRACT_ASSIGNATION_CHANGE_ERROR = "CONTRACT_ASSIGNATION_CHANGE_ERROR", InvalidGivenCurrentSystemStateOther;
        IMPORT_ACS_ERROR = "IMPORT_ACS_ERROR", InvalidIndependentOfSystemState;
        SYNC_SERVICE_UNKNOWN_SYNCHRONIZER = "SYNC_SERVICE_UNKNOWN_SYNCHRONIZER", InvalidGivenCurrentSystemStateResourceMissing;
        SYNC_SERVICE_ALREADY_ADDED = "SYNC_SERVICE_ALREADY_ADDED", InvalidGivenCurrentSystemStateResourceExists;
        SYNC_SERVICE_SYNCHRONIZERS_MUST_BE_OFFLINE = "SYNC_SERVICE_SYNCHRONIZERS_MUST_BE_OFFLINE", InvalidGivenCurrentSystemStateOther;
        SYNC_SERVICE_SYNCHRONIZER_DISCONNECTED = "SYNC_SERVICE_SYNCHRONIZER_DISCONNECTED", TransientServerFailure;
        SYNC_SERVICE_SYNCHRONIZER_IS_NOT_INITIALIZED = "SYNC_SERVICE_SYNCHRONIZER_IS_NOT_INITIALIZED", InvalidGivenCurrentSystemStateOther;
        SEQUENCER_CONNECTION_VALIDATION_FAILED = "SEQUENCER_CONNECTION_VALIDATION_FAILED", InvalidGivenCurrentSystemStateOther;
        INVALID_ARGUMENT = "INVALID_ARGUMENT", InvalidIndependentOfSystemState;
        INVALID_FIELD = "INVALID_FIELD", InvalidIndependentOfSystemState;
        MISSING_FIELD = "MISSING_FIELD", InvalidIndependentOfSystemState;
        CONTRACT_NOT_FOUND = "CONTRACT_NOT_FOUND", InvalidGivenCurrentSystemStateResourceMissing;
        TEMPLATES_OR_INTERFACES_NOT_FOUND = "TEMPLATES_OR_INTERFACES_NOT_FOUND", InvalidGivenCurrentSystemStateResourceMissing;
        DAML_AUTHORIZATION_ERROR = "DAML_AUTHORIZATION_ERROR", InvalidIndependentOfSystemState;
        DAML_INTERPRETATION_ERROR = "DAML_INTERPRETATION_ERROR", InvalidGivenCurrentSystemStateOther;
        NO_SYNCHRONIZER_FOR_SUBMISSION = "NO_SYNCHRONIZER_FOR_SUBMISSION", InvalidGivenCurrentSystemStateOther;
        LOCAL_VERDICT_LOCKED_CONTRACTS = "LOCAL_VERDICT_LOCKED_CONTRACTS", ContentionOnSharedResources;
        LOCAL_VERDICT_INACTIVE_CONTRACTS = "LOCAL_VERDICT_INACTIVE_CONTRACTS", InvalidGivenCurrentSystemStateOther;
        REQUEST_TIME_OUT = "REQUEST_TIME_OUT", DeadlineExceededRequestStateUnknown;
        OFFSET_AFTER_LEDGER_END = "OFFSET_AFTER_LEDGER_END", InvalidGivenCurrentSystemStateSeekAfterEnd;
        UNAUTHENTICATED = "UNAUTHENTICATED", AuthInterceptorInvalidAuthenticationCredentials;
        INTERNAL_ERROR = "INTERNAL_ERROR", SystemInternalAssumptionViolated;
    }
}

/// A Canton error as recovered from a gRPC status message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CantonError {
    pub code: String,
    pub category: Option<Category>,
    pub correlation: String,
    pub cause: String,
}

impl fmt::Display for CantonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.cause)
    }
}

/// Builds the gRPC status Canton would send for `code` with `cause`.
pub fn status(code: Code, cause: impl Into<String>) -> tonic::Status {
    let correlation = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let message = format!("{}({},{}): {}", code.id, code.category.id(), correlation, cause.into());
    tonic::Status::new(code.category.grpc_code(), message)
}

/// Parses `CODE_ID(category,correlation): cause`; `None` when the message is not in
/// Canton's format (plain gRPC errors from proxies, transport failures).
pub fn parse(message: &str) -> Option<CantonError> {
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
        cause: cause.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_through_parse() {
        let st = status(
            codes::CONTRACT_ASSIGNATION_CHANGE_ERROR,
            "There are still synchronizers connected. Please disconnect all synchronizers.",
        );
        assert_eq!(st.code(), tonic::Code::FailedPrecondition);
        let parsed = parse(st.message()).expect("canton format");
        assert_eq!(parsed.code, "CONTRACT_ASSIGNATION_CHANGE_ERROR");
        assert_eq!(parsed.category, Some(Category::InvalidGivenCurrentSystemStateOther));
        assert_eq!(parsed.correlation.len(), 8);
        assert!(parsed.cause.starts_with("There are still synchronizers connected"));
    }

    #[test]
    fn parses_a_real_canton_message() {
        let m = "IMPORT_ACS_ERROR(8,a1b2c3d4): Cannot add previously archived contract 00ab as archived contracts cannot become active.";
        let e = parse(m).expect("parse");
        assert_eq!(e.code, "IMPORT_ACS_ERROR");
        assert_eq!(e.category, Some(Category::InvalidIndependentOfSystemState));
        assert_eq!(e.correlation, "a1b2c3d4");
        assert!(e.cause.starts_with("Cannot add previously archived contract 00ab"));
    }

    #[test]
    fn cause_may_contain_parentheses_and_colons() {
        let e = parse("CONTRACT_PURGE_ERROR(9,00000000): Contract C (x): bad").expect("parse");
        assert_eq!(e.cause, "Contract C (x): bad");
    }

    #[test]
    fn rejects_non_canton_messages() {
        assert_eq!(parse("transport error"), None);
        assert_eq!(parse("error trying to connect: tcp connect error (os error 111)"), None);
        assert_eq!(parse("Foo(1,x): y"), None);
        assert_eq!(parse("FOO(x,y): z"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn category_ids_are_unique_and_map_to_grpc_codes() {
        for c in Category::ALL {
            assert_eq!(Category::from_id(c.id()), Some(c));
        }
        assert_eq!(
            Category::InvalidIndependentOfSystemState.grpc_code(),
            tonic::Code::InvalidArgument
        );
        assert_eq!(Category::TransientServerFailure.grpc_code(), tonic::Code::Unavailable);
        assert_eq!(Category::from_id(0), None);
        assert_eq!(Category::from_id(15), None);
        assert!(Category::TransientServerFailure.is_retryable());
        assert!(!Category::InvalidGivenCurrentSystemStateOther.is_retryable());
    }

    mod robustness {
        use super::*;
        use proptest::prelude::*;

        /// Strings built from the characters that matter to the parser, multi-byte ones
        /// right next to the parentheses, the comma and the colon.
        fn tricky() -> impl Strategy<Value = String> {
            proptest::collection::vec(
                prop_oneof![
                    Just("("),
                    Just(")"),
                    Just(","),
                    Just(":"),
                    Just(" "),
                    Just("é"),
                    Just("€"),
                    Just("😀"),
                    Just("\u{301}"),
                    Just("\u{a0}"),
                    Just("A"),
                    Just("_"),
                    Just("9"),
                    Just("x"),
                ],
                0..24,
            )
            .prop_map(|parts| parts.concat())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn any_message_parses_or_is_declined(
                message in prop_oneof![any::<String>(), tricky(), ("[A-Z_]{1,8}", tricky()).prop_map(|(c, r)| format!("{c}({r}"))],
            ) {
                if let Some(e) = parse(&message) {
                    prop_assert!(!e.code.is_empty());
                    let head = format!("{}(", e.code);
                    prop_assert!(message.starts_with(&head), "{} does not start with {}", message, head);
                    let _ = e.to_string();
                }
                let status = tonic::Status::unknown(message.clone());
                let err = crate::client::ClientError::from_status("p", "Ping", status);
                let _ = err.to_string();
            }

            #[test]
            fn canton_messages_round_trip(
                code in "[A-Z][A-Z0-9_]{0,30}",
                category in any::<u8>(),
                correlation in "[^,()]{0,12}",
                cause in any::<String>(),
            ) {
                let message = format!("{code}({category},{correlation}): {cause}");
                let e = parse(&message).expect("Canton's format");
                prop_assert_eq!(e.code, code);
                prop_assert_eq!(e.category, Category::from_id(category));
                prop_assert_eq!(e.correlation, correlation.trim());
                prop_assert_eq!(e.cause, cause.trim());
            }

            #[test]
            fn statuses_the_lab_builds_parse_back(cause in prop_oneof![any::<String>(), tricky()]) {
                let st = status(codes::IMPORT_ACS_ERROR, cause.clone());
                let e = parse(st.message()).expect("Canton's format");
                prop_assert_eq!(e.code.as_str(), codes::IMPORT_ACS_ERROR.id);
                prop_assert_eq!(e.category, Some(codes::IMPORT_ACS_ERROR.category));
                prop_assert_eq!(e.cause, cause.trim());
            }
        }
    }
}
