//! Who may take part in a session, and how the coordinator knows who is calling: an
//! access file lists every operator with their role, the participant a node operator acts
//! for, and their credentials — a bearer token (the token itself in a file, or only its
//! sha256) and/or the sha256 fingerprint of a TLS client certificate. Every credential an
//! operator's entry names must be presented; a call with an unknown credential is refused.
//!
//! ```toml
//! incident = "lost-domain-drill"
//! lost = "lostDomain"
//! target = "newDomain"
//!
//! [[operators]]
//! name = "carol"
//! role = "lead"
//! token_file = "carol.token"
//!
//! [[operators]]
//! name = "alice"
//! role = "node_operator"
//! participant = "participant1"
//! token_sha256 = "9f86d081…"
//! cert_sha256 = "AB:CD:…"      # openssl x509 -noout -fingerprint -sha256 -in alice.crt
//! ```

use super::event::{OperatorInfo, Role, Roster};
use super::rules::Caller;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessFile {
    /// Must match the `incident.name` of every deck's incident config.
    pub incident: String,
    pub lost: String,
    pub target: String,
    #[serde(default)]
    pub operators: Vec<OperatorEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorEntry {
    pub name: String,
    pub role: Role,
    /// The participant a node operator acts for (and nobody else).
    #[serde(default)]
    pub participant: Option<String>,
    /// A file holding the operator's bearer token.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// The token's sha256 in hex, so that the coordinator's host keeps no usable secret.
    #[serde(default)]
    pub token_sha256: Option<String>,
    /// sha256 of the DER of the operator's TLS client certificate, hex (colons allowed).
    #[serde(default)]
    pub cert_sha256: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("cannot read access file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("access file {path}: {message}")]
    Invalid { path: String, message: String },
}

struct Credentials {
    token: Option<[u8; 32]>,
    cert: Option<[u8; 32]>,
}

/// The loaded access file: the roster plus the credentials to recognise each operator.
pub struct Access {
    roster: Roster,
    credentials: Vec<Credentials>,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn parse_fingerprint(text: &str) -> Option<[u8; 32]> {
    let clean: String = text.chars().filter(|c| *c != ':' && !c.is_whitespace()).collect();
    hex::decode(clean).ok()?.try_into().ok()
}

/// Equal without an early exit, so that timing does not tell how much of a guess matched.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The bearer token of a request's `authorization` header.
pub fn bearer(metadata: &tonic::metadata::MetadataMap) -> Option<&str> {
    let value = metadata.get("authorization")?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

impl Access {
    pub fn load(path: &Path) -> Result<Access, AccessError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| AccessError::Read {
            path: p.clone(),
            source,
        })?;
        let file: AccessFile = toml::from_str(&text).map_err(|e| AccessError::Invalid {
            path: p.clone(),
            message: e.to_string(),
        })?;
        Access::from_file(file, path.parent().unwrap_or(Path::new(".")))
            .map_err(|message| AccessError::Invalid { path: p, message })
    }

    /// Checks the file and reads the token files (relative to `base`).
    pub fn from_file(file: AccessFile, base: &Path) -> Result<Access, String> {
        for (what, v) in [
            ("incident", &file.incident),
            ("lost", &file.lost),
            ("target", &file.target),
        ] {
            if v.trim().is_empty() {
                return Err(format!("{what} must not be empty"));
            }
        }
        let mut names = BTreeSet::new();
        let mut tokens: Vec<[u8; 32]> = Vec::new();
        let mut operators = Vec::new();
        let mut credentials = Vec::new();
        for o in &file.operators {
            let who = &o.name;
            if o.name.trim().is_empty() {
                return Err("an operator's name must not be empty".into());
            }
            if !names.insert(o.name.as_str()) {
                return Err(format!("operator {who} is listed twice"));
            }
            match (o.role, &o.participant) {
                (Role::NodeOperator, None) => {
                    return Err(format!(
                        "operator {who} is a node_operator: set the participant they act for"
                    ));
                }
                (Role::Lead | Role::Observer, Some(_)) => {
                    return Err(format!(
                        "operator {who} is a {}: only node operators act for a participant",
                        o.role
                    ));
                }
                _ => {}
            }
            let token = match (&o.token_file, &o.token_sha256) {
                (Some(_), Some(_)) => return Err(format!("operator {who}: set token_file or token_sha256, not both")),
                (Some(f), None) => {
                    let path = if f.is_relative() { base.join(f) } else { f.clone() };
                    let t = std::fs::read_to_string(&path)
                        .map_err(|e| format!("operator {who}: token file {}: {e}", path.display()))?;
                    let t = t.trim();
                    if t.len() < 16 {
                        return Err(format!(
                            "operator {who}: the token in {} is shorter than 16 characters",
                            path.display()
                        ));
                    }
                    Some(sha256(t.as_bytes()))
                }
                (None, Some(h)) => Some(
                    parse_fingerprint(h).ok_or_else(|| format!("operator {who}: token_sha256 is not 32 hex bytes"))?,
                ),
                (None, None) => None,
            };
            let cert = o
                .cert_sha256
                .as_deref()
                .map(|h| parse_fingerprint(h).ok_or_else(|| format!("operator {who}: cert_sha256 is not 32 hex bytes")))
                .transpose()?;
            if token.is_none() && cert.is_none() {
                return Err(format!(
                    "operator {who} has no credential: set token_file, token_sha256 or cert_sha256"
                ));
            }
            if let Some(t) = token {
                if tokens.iter().any(|other| same(other, &t)) {
                    return Err(format!("operator {who} shares a token with another operator"));
                }
                tokens.push(t);
            }
            operators.push(OperatorInfo {
                name: o.name.clone(),
                role: o.role,
                participant: o.participant.clone(),
            });
            credentials.push(Credentials { token, cert });
        }
        if !operators.iter().any(|o| o.role == Role::Lead) {
            return Err("no operator is the lead: one must propose plans and say go".into());
        }
        Ok(Access {
            roster: Roster {
                incident: file.incident,
                lost: file.lost,
                target: file.target,
                operators,
            },
            credentials,
        })
    }

    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// Some operator is identified by a client certificate (the server must ask for one).
    pub fn uses_client_certs(&self) -> bool {
        self.credentials.iter().any(|c| c.cert.is_some())
    }

    /// The operator a request's credentials name; refused when they name nobody, or not
    /// everything the operator's entry requires was presented.
    pub fn authenticate(&self, token: Option<&str>, cert_der: Option<&[u8]>) -> Result<Caller, tonic::Status> {
        let token = token.map(|t| sha256(t.as_bytes()));
        let cert = cert_der.map(sha256);
        let by_token = token.and_then(|t| {
            self.credentials
                .iter()
                .position(|c| c.token.is_some_and(|x| same(&x, &t)))
        });
        let by_cert = cert.and_then(|d| {
            self.credentials
                .iter()
                .position(|c| c.cert.is_some_and(|x| same(&x, &d)))
        });
        let index = match (token, by_token, by_cert) {
            (Some(_), None, _) => {
                return Err(tonic::Status::unauthenticated(
                    "the bearer token is not known to this coordinator",
                ));
            }
            (_, Some(t), Some(c)) if t != c => {
                return Err(tonic::Status::unauthenticated(
                    "the bearer token and the client certificate belong to different operators",
                ));
            }
            (_, Some(i), _) | (_, None, Some(i)) => i,
            (None, None, None) if cert.is_some() => {
                return Err(tonic::Status::unauthenticated(
                    "the client certificate is not known to this coordinator",
                ));
            }
            (None, None, None) => {
                return Err(tonic::Status::unauthenticated(
                    "no credentials: send the operator's bearer token (or a client certificate)",
                ));
            }
        };
        let (Some(info), Some(creds)) = (self.roster.operators.get(index), self.credentials.get(index)) else {
            return Err(tonic::Status::internal("access table out of step"));
        };
        if creds.token.is_some() && by_token != Some(index) {
            return Err(tonic::Status::unauthenticated(format!(
                "operator {} must also send their bearer token",
                info.name
            )));
        }
        if creds.cert.is_some() && by_cert != Some(index) {
            return Err(tonic::Status::unauthenticated(format!(
                "operator {} must also present their client certificate",
                info.name
            )));
        }
        Ok(Caller {
            operator: info.name.clone(),
            role: info.role,
            participant: info.participant.clone(),
        })
    }
}

/// The tonic interceptor: authenticates every call and leaves the [`Caller`] in the
/// request's extensions for the handler.
#[derive(Clone)]
pub struct Authenticator(pub Arc<Access>);

impl tonic::service::Interceptor for Authenticator {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let certs = request.peer_certs();
        let der = certs.as_ref().and_then(|c| c.first()).map(|c| c.as_ref());
        let caller = self.0.authenticate(bearer(request.metadata()), der)?;
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN_A: &str = "alice-0123456789abcdef";
    const TOKEN_L: &str = "lead-0123456789abcdef";

    fn file(extra: &str) -> AccessFile {
        toml::from_str(&format!(
            r#"
incident = "drill"
lost = "lost"
target = "new"

[[operators]]
name = "lead"
role = "lead"
token_sha256 = "{}"

[[operators]]
name = "alice"
role = "node_operator"
participant = "p1"
token_sha256 = "{}"
{extra}
"#,
            hex::encode(sha256(TOKEN_L.as_bytes())),
            hex::encode(sha256(TOKEN_A.as_bytes()))
        ))
        .expect("toml")
    }

    fn access(extra: &str) -> Access {
        Access::from_file(file(extra), Path::new(".")).expect("valid")
    }

    #[test]
    fn tokens_name_their_operator_and_unknown_ones_are_refused() {
        let a = access("");
        let c = a.authenticate(Some(TOKEN_A), None).expect("alice");
        assert_eq!(
            (c.operator.as_str(), c.role, c.participant.as_deref()),
            ("alice", Role::NodeOperator, Some("p1"))
        );
        assert_eq!(a.authenticate(Some(TOKEN_L), None).expect("lead").role, Role::Lead);
        let e = a.authenticate(Some("alice-0123456789abcdeX"), None).expect_err("wrong");
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
        assert!(a.authenticate(None, None).is_err());
        assert_eq!(a.roster().participants(), vec!["p1".to_string()]);
    }

    #[test]
    fn a_certificate_identifies_and_both_credentials_must_agree() {
        let cert = b"der bytes of bob's certificate";
        let fp: Vec<String> = sha256(cert).iter().map(|b| format!("{b:02X}")).collect();
        let a = access(&format!(
            "[[operators]]\nname = \"bob\"\nrole = \"node_operator\"\nparticipant = \"p2\"\ncert_sha256 = \"{}\"\n",
            fp.join(":")
        ));
        assert!(a.uses_client_certs());
        assert_eq!(a.authenticate(None, Some(cert)).expect("bob").operator, "bob");
        let e = a.authenticate(Some(TOKEN_A), Some(cert)).expect_err("mixed");
        assert!(e.message().contains("different operators"));
        // alice presents an unknown certificate with her token: her entry asks for no cert.
        assert_eq!(
            a.authenticate(Some(TOKEN_A), Some(b"other")).expect("alice").operator,
            "alice"
        );
        assert!(a.authenticate(None, Some(b"other")).is_err());
    }

    #[test]
    fn an_operator_with_two_credentials_must_present_both() {
        let cert = b"alice's cert";
        let mut f = file("");
        f.operators[1].cert_sha256 = Some(hex::encode(sha256(cert)));
        let a = Access::from_file(f, Path::new(".")).expect("valid");
        assert!(
            a.authenticate(Some(TOKEN_A), None)
                .expect_err("no cert")
                .message()
                .contains("client certificate")
        );
        assert!(
            a.authenticate(None, Some(cert))
                .expect_err("no token")
                .message()
                .contains("bearer token")
        );
        assert_eq!(
            a.authenticate(Some(TOKEN_A), Some(cert)).expect("both").operator,
            "alice"
        );
    }

    #[test]
    fn bad_access_files_are_refused_with_a_cause() {
        type Change = Box<dyn Fn(&mut AccessFile)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|f| f.operators[1].participant = None), "set the participant"),
            (
                Box::new(|f| f.operators[0].participant = Some("p1".into())),
                "only node operators",
            ),
            (Box::new(|f| f.operators[1].name = "lead".into()), "listed twice"),
            (Box::new(|f| f.operators[1].token_sha256 = None), "no credential"),
            (
                Box::new(|f| f.operators[1].token_sha256 = f.operators[0].token_sha256.clone()),
                "shares a token",
            ),
            (
                Box::new(|f| f.operators[0].role = Role::Observer),
                "no operator is the lead",
            ),
            (
                Box::new(|f| f.operators[1].token_sha256 = Some("12".into())),
                "not 32 hex bytes",
            ),
        ];
        for (change, expected) in cases {
            let mut f = file("");
            change(&mut f);
            let e = Access::from_file(f, Path::new(".")).err().expect("invalid");
            assert!(e.contains(expected), "{e} should mention {expected}");
        }
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("short.token"), "abc").expect("write");
        let mut f = file("");
        f.operators[1].token_sha256 = None;
        f.operators[1].token_file = Some("short.token".into());
        let e = Access::from_file(f, dir.path()).err().expect("short");
        assert!(e.contains("shorter than 16"), "{e}");
    }

    #[test]
    fn the_bearer_header_is_read_leniently() {
        let mut m = tonic::metadata::MetadataMap::new();
        assert_eq!(bearer(&m), None);
        m.insert("authorization", "Bearer  abc ".parse().expect("value"));
        assert_eq!(bearer(&m), Some("abc"));
        m.insert("authorization", "Basic abc".parse().expect("value"));
        assert_eq!(bearer(&m), None);
    }
}
