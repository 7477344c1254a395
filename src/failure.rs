//! Why something failed, as plain data the front ends can reason about: the screen picks
//! its advice from the kind and Canton's code, reports list codes, and nothing downstream
//! has to read an error's English.

use crate::canton_error::Category;
use crate::client::ClientError;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FailureKind {
    /// The participant could not be reached, or answered UNAVAILABLE without Canton's form.
    Unreachable,
    /// Canton refused, with its code id and category.
    Canton { code: String, category: Option<Category> },
    /// Canton refused and kept the details to its own log (a security-sensitive category).
    Redacted {
        category: Option<Category>,
        correlation: String,
    },
    /// A gRPC status without Canton's form (a proxy, an RPC the node lacks, …).
    Grpc {
        #[serde(serialize_with = "grpc_name")]
        code: tonic::Code,
    },
    /// The participant runs a Canton release recovery-deck does not serve.
    Unsupported,
    /// The participant answered something that is not what the API promises.
    Protocol,
    /// The client could not be set up for the participant (endpoint, TLS, token).
    Setup,
    /// Preflight refused to start.
    Preflight,
    /// A step's own check failed: verification, a connect that did not succeed.
    Check,
    /// The operator (or the session's barrier) stopped the run between phases.
    Stopped,
    /// Writing the journal failed.
    Journal,
    /// Anything else: a bug or a local failure.
    Internal,
}

fn grpc_name<S: serde::Serializer>(code: &tonic::Code, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{code:?}"))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    #[serde(flatten)]
    pub kind: FailureKind,
    /// The participant it concerns, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    /// The whole message, causes included, as an operator reads it.
    pub message: String,
    /// The call that failed, when a participant's answer is the failure: with the code it
    /// tells apart what Canton reports under one code (INVALID_ARGUMENT_REPAIR is an
    /// unknown alias from ChangeAssignation but an offset or filter from ExportAcs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpc: Option<&'static str>,
}

impl Failure {
    pub fn new(kind: FailureKind, participant: Option<&str>, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            participant: participant.map(str::to_string),
            message: message.into(),
            rpc: None,
        }
    }

    /// The same failure, raised by a call to `rpc`.
    pub fn of_rpc(self, rpc: &'static str) -> Failure {
        Failure { rpc: Some(rpc), ..self }
    }

    /// Canton's error code id, when the participant sent one.
    pub fn code(&self) -> Option<&str> {
        match &self.kind {
            FailureKind::Canton { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<&ClientError> for Failure {
    fn from(e: &ClientError) -> Failure {
        let kind = match e {
            ClientError::Canton { canton, .. } if canton.redacted => FailureKind::Redacted {
                category: canton.category,
                correlation: canton.correlation.clone(),
            },
            ClientError::Canton { canton, .. } => FailureKind::Canton {
                code: canton.code.clone(),
                category: canton.category,
            },
            ClientError::Grpc { grpc, .. } if *grpc == tonic::Code::Unavailable => FailureKind::Unreachable,
            ClientError::Grpc { grpc, .. } => FailureKind::Grpc { code: *grpc },
            ClientError::Setup { .. } => FailureKind::Setup,
            ClientError::Protocol { .. } => FailureKind::Protocol,
            ClientError::Unsupported { .. } => FailureKind::Unsupported,
        };
        let failure = Failure::new(kind, Some(e.participant()), e.to_string());
        match e.rpc() {
            Some(rpc) => failure.of_rpc(rpc),
            None => failure,
        }
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        Failure::from(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canton_error::{codes, status};

    #[test]
    fn client_errors_keep_their_kind_and_code() {
        let canton = ClientError::from_status("p1", "ImportAcs", status(codes::IMPORT_ACS_ERROR, "bad"));
        let f = Failure::from(&canton);
        assert_eq!(f.code(), Some("IMPORT_ACS_ERROR"));
        assert_eq!(f.participant.as_deref(), Some("p1"));
        assert!(f.message.contains("IMPORT_ACS_ERROR: bad"), "{f}");
        let down = ClientError::from_status("p2", "Ping", tonic::Status::unavailable("tcp connect error"));
        assert_eq!(Failure::from(&down).kind, FailureKind::Unreachable);
        let redacted = ClientError::from_status("p2", "Ping", status(codes::UNAUTHENTICATED, "no token"));
        assert!(matches!(
            Failure::from(&redacted).kind,
            FailureKind::Redacted {
                category: Some(Category::AuthInterceptorInvalidAuthenticationCredentials),
                ..
            }
        ));
        assert_eq!(f.rpc, Some("ImportAcs"));
        let json = serde_json::to_value(Failure::from(&canton)).expect("json");
        assert_eq!(json["kind"], "canton");
        assert_eq!(json["code"], "IMPORT_ACS_ERROR");
        assert_eq!(json["rpc"], "ImportAcs");
    }
}
