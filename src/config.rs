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
    /// Deadline between two messages of a streamed read (ExportAcs, GetActiveContracts),
    /// in seconds (default 60): a participant that stalls mid-stream fails the read. An
    /// export's first message waits `repair_timeout_secs` (Canton prepares the whole
    /// snapshot before it sends any of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_idle_secs: Option<u64>,
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
        let mut cfg: IncidentConfig = toml::from_str(&text).map_err(|e| invalid(toml_error(&text, &e)))?;
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
        for (what, alias) in [("lost", &self.incident.lost), ("target", &self.incident.target)] {
            if alias.trim().is_empty() {
                return Err(format!("incident.{what} must name a synchronizer alias"));
            }
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
            if p.stream_idle_secs == Some(0) {
                return Err(format!(
                    "participant {}: stream_idle_secs must be at least 1 (the seconds a streamed read may go without a message)",
                    p.name
                ));
            }
            if p.token_file.is_some() && p.token_env.is_some() {
                return Err(format!("participant {}: set token_file or token_env, not both", p.name));
            }
            if p.token_env.as_deref().is_some_and(|v| !is_env_name(v)) {
                // Not quoted: a value that is not a variable name may be the token itself.
                return Err(format!(
                    "participant {}: token_env must be the name of an environment variable (letters, digits, _), not the token",
                    p.name
                ));
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

fn is_env_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Where and what, without the offending line: a token pasted into the config by
/// mistake (`token = "…"`) must not be echoed to the terminal or a log. On one line.
pub(crate) fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim_end();
    let Some(mut at) = e.span().map(|s| s.start.min(text.len())) else {
        return message.to_string();
    };
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}: {message}")
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

    #[test]
    fn the_shipped_example_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/incident.example.toml");
        let cfg = IncidentConfig::load(&path).expect("examples/incident.example.toml");
        assert_eq!(cfg.participants.len(), 2);
        assert!(!cfg.participants[0].enable_all_ledger_api_reassignments);
        assert!(cfg.participants[1].enable_all_ledger_api_reassignments);
    }

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
            (
                EXAMPLE.replace("lost = \"lostDomain\"", "lost = \" \""),
                "incident.lost must name",
            ),
        ];
        for (text, expected) in cases {
            let err = IncidentConfig::load(&write(dir.path(), &text)).expect_err("invalid");
            assert!(err.to_string().contains(expected), "{err} should mention {expected}");
        }
        let err = IncidentConfig::load(&dir.path().join("missing.toml")).expect_err("missing");
        assert!(err.to_string().contains("cannot read"));
    }

    #[test]
    fn errors_never_echo_a_token_pasted_into_the_config() {
        let dir = tempfile::tempdir().expect("tempdir");
        let secret = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2VjcmV0";
        let cases = [
            (
                EXAMPLE.replace("operator = \"bob\"", &format!("token = \"{secret}\"")),
                "line 18, column 1: unknown field `token`",
            ),
            (
                EXAMPLE.replace(
                    "token_file = \"/secrets/p2.token\"",
                    &format!("token_env = \"{secret}\""),
                ),
                "token_env must be the name of an environment variable",
            ),
            (
                EXAMPLE.replace("operator = \"bob\"", &format!("operator = \"bob\n{secret}\"")),
                "line 19, column 52",
            ),
        ];
        for (text, expected) in cases {
            let err = IncidentConfig::load(&write(dir.path(), &text))
                .expect_err("invalid")
                .to_string();
            assert!(err.contains(expected), "{err} should mention {expected}");
            assert!(!err.contains(secret), "the error quotes the token: {err}");
        }
        let ok = EXAMPLE.replace("token_file = \"/secrets/p2.token\"", "token_env = \"P2_TOKEN\"");
        let cfg = IncidentConfig::load(&write(dir.path(), &ok)).expect("a variable name is fine");
        assert_eq!(cfg.participants[1].token_env.as_deref(), Some("P2_TOKEN"));
    }

    mod robustness {
        use super::*;
        use proptest::collection::vec;
        use proptest::prelude::*;
        use proptest::sample::Index;

        /// The example with lines removed, duplicated or edited, at character boundaries.
        fn edited_example() -> impl Strategy<Value = String> {
            let piece = prop::sample::select(vec![
                "\"",
                "'",
                "=",
                "[",
                "]",
                "[[",
                "{",
                "}",
                ",",
                "#",
                "\n",
                "\\",
                "0",
                "-1",
                "é",
                "😀",
                " ",
                "[[participants]]\n",
                "https://",
                "token_env = \"X\"\n",
                "99999999999999999999999",
            ]);
            vec((any::<Index>(), any::<Index>(), 0u8..3, piece), 1..5).prop_map(|edits| {
                let mut lines: Vec<String> = EXAMPLE.split_inclusive('\n').map(str::to_owned).collect();
                for (line, at, what, piece) in edits {
                    if lines.is_empty() {
                        break;
                    }
                    let k = line.index(lines.len());
                    match what {
                        0 => {
                            lines.remove(k);
                        }
                        1 => lines.insert(k, lines[k].clone()),
                        _ => {
                            let l = &mut lines[k];
                            let offsets: Vec<usize> = l.char_indices().map(|(o, _)| o).chain([l.len()]).collect();
                            l.insert_str(offsets[at.index(offsets.len())], piece);
                        }
                    }
                }
                lines.concat()
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Any file is loaded or refused with a cause, never a panic; what loads is valid.
            #[test]
            fn any_file_loads_valid_or_is_refused(
                bytes in prop_oneof![
                    vec(any::<u8>(), 0..256),
                    any::<String>().prop_map(String::into_bytes),
                    edited_example().prop_map(String::into_bytes),
                ],
            ) {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join("incident.toml");
                std::fs::write(&path, &bytes).expect("write");
                match IncidentConfig::load(&path) {
                    Ok(cfg) => {
                        prop_assert!(cfg.validate().is_ok());
                        prop_assert!(!cfg.participants.is_empty());
                        for p in &cfg.participants {
                            prop_assert!(p.admin.starts_with("http://") || p.admin.starts_with("https://"));
                            prop_assert!(p.token_file.iter().chain(&p.tls_ca).all(|f| f.is_absolute() || f.starts_with(dir.path())));
                        }
                        let _ = cfg.to_toml();
                    }
                    Err(e) => prop_assert!(e.to_string().contains("incident.toml")),
                }
            }
        }
    }
}
