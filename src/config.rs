//! The incident config (TOML): which participants take part, how to reach them (TLS
//! with a custom CA, bearer token from a file or the environment) and which
//! synchronizer was lost and which replaces it. `lab up` writes one; operators write
//! their own for real participants.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IncidentConfig {
    pub incident: Incident,
    #[serde(default)]
    pub participants: Vec<ParticipantConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// Used in journals and reports.
    pub name: String,
    /// Alias of the lost synchronizer.
    pub lost: String,
    /// Alias of the replacement synchronizer.
    pub target: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParticipantConfig {
    pub name: String,
    /// Admin API (v30) endpoint, `http://` or `https://`.
    pub admin: String,
    /// Ledger API v2 endpoint.
    pub ledger: String,
    /// PEM file of the CA that signed the participant's TLS certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca: Option<PathBuf>,
    /// Server name to verify when it differs from the endpoint's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_domain: Option<String>,
    /// File holding a bearer token (JWT) for both APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    /// Environment variable holding the bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// The operator responsible for this participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// Deadline for unary calls, in seconds (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    /// Deadline for repair calls, in seconds (default 600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair_timeout_secs: Option<u64>,
    /// The participant runs with Canton's `enable-all-ledger-api-reassignments` (3.5 and
    /// later), so it accepts imports of contracts whose reassignment counter is not 0.
    /// Without it, preflight refuses such imports before anything is disconnected.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enable_all_ledger_api_reassignments: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read incident config {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("incident config {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl IncidentConfig {
    /// Loads a config; relative file paths in it are taken relative to its directory.
    pub fn load(path: &Path) -> Result<IncidentConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let mut cfg: IncidentConfig = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        cfg.validate().map_err(invalid)?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in &mut cfg.participants {
            for file in [&mut p.tls_ca, &mut p.token_file].into_iter().flatten() {
                if file.is_relative() {
                    *file = base.join(&*file);
                }
            }
        }
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.incident.name.trim().is_empty() {
            return Err("incident.name must not be empty".into());
        }
        if self.incident.lost == self.incident.target {
            return Err(format!(
                "incident.lost and incident.target are both {:?}; the replacement must be another synchronizer",
                self.incident.lost
            ));
        }
        if self.participants.is_empty() {
            return Err("at least one [[participants]] entry is required".into());
        }
        let mut names = std::collections::BTreeSet::new();
        for p in &self.participants {
            if p.name.trim().is_empty() {
                return Err("participant name must not be empty".into());
            }
            if !names.insert(p.name.as_str()) {
                return Err(format!("participant {:?} is listed twice", p.name));
            }
            for (what, url) in [("admin", &p.admin), ("ledger", &p.ledger)] {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(format!(
                        "participant {}: {what} endpoint {url:?} must start with http:// or https://",
                        p.name
                    ));
                }
            }
            if p.token_file.is_some() && p.token_env.is_some() {
                return Err(format!("participant {}: set token_file or token_env, not both", p.name));
            }
        }
        Ok(())
    }

    pub fn participant(&self, name: &str) -> Option<&ParticipantConfig> {
        self.participants.iter().find(|p| p.name == name)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[incident]
name = "lost-domain-drill"
lost = "lostDomain"
target = "newDomain"

[[participants]]
name = "participant1"
admin = "http://127.0.0.1:5012"
ledger = "http://127.0.0.1:5011"

[[participants]]
name = "participant2"
admin = "https://p2.example:5012"
ledger = "https://p2.example:5011"
tls_ca = "ca.pem"
token_file = "/secrets/p2.token"
operator = "bob"
"#;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("incident.toml");
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn loads_the_design_example_and_resolves_relative_paths() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = IncidentConfig::load(&write(dir.path(), EXAMPLE)).expect("valid");
        assert_eq!(cfg.incident.lost, "lostDomain");
        assert_eq!(cfg.participants.len(), 2);
        let p2 = cfg.participant("participant2").expect("p2");
        assert_eq!(p2.tls_ca.as_deref(), Some(dir.path().join("ca.pem").as_path()));
        assert_eq!(p2.token_file.as_deref(), Some(Path::new("/secrets/p2.token")));
        assert_eq!(p2.operator.as_deref(), Some("bob"));
    }

    #[test]
    fn round_trips_through_toml() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = IncidentConfig::load(&write(dir.path(), EXAMPLE)).expect("valid");
        let again: IncidentConfig = toml::from_str(&cfg.to_toml()).expect("parse");
        assert_eq!(again, cfg);
    }

    #[test]
    fn rejects_bad_configs_with_a_cause() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cases = [
            (
                EXAMPLE.replace("target = \"newDomain\"", "target = \"lostDomain\""),
                "replacement",
            ),
            (
                EXAMPLE.replace("name = \"participant2\"", "name = \"participant1\""),
                "listed twice",
            ),
            (
                EXAMPLE.replace("http://127.0.0.1:5012", "127.0.0.1:5012"),
                "must start with",
            ),
            (
                EXAMPLE.replace("operator = \"bob\"", "operatr = \"bob\""),
                "unknown field",
            ),
            (
                "[incident]\nname='x'\nlost='a'\ntarget='b'\n".to_string(),
                "at least one",
            ),
        ];
        for (text, expected) in cases {
            let err = IncidentConfig::load(&write(dir.path(), &text)).expect_err("invalid");
            assert!(err.to_string().contains(expected), "{err} should mention {expected}");
        }
        let err = IncidentConfig::load(&dir.path().join("missing.toml")).expect_err("missing");
        assert!(err.to_string().contains("cannot read"));
    }
}
