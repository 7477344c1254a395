//! Which Canton release a participant runs, from `ParticipantStatus.common_status.version`,
//! and what recovery-deck can do with it. The wire and the semantics the client relies on
//! were compared release by release (canton-semantics.md): 3.4, 3.5 and main work; 3.3
//! places ExportAcs in another service and lays out ModifySynchronizer,
//! ListConnectedSynchronizers and GetSynchronizerId differently, so it is refused.

use std::fmt;

/// A Canton release line the client knows how to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Line {
    V3_4,
    V3_5,
    /// 3.6 and later 3.x (Canton's main branch).
    Main,
}

impl Line {
    /// ImportAcs refuses contracts whose reassignment counter is not 0: always on 3.4,
    /// and on 3.5+ unless the participant enables all Ledger API reassignments.
    pub fn imports_nonzero_counters(self, enable_all_reassignments: bool) -> bool {
        self != Line::V3_4 && enable_all_reassignments
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Line::V3_4 => "3.4",
            Line::V3_5 => "3.5",
            Line::Main => "main",
        })
    }
}

/// The release line of a reported version, or why it cannot be served (one line).
pub fn line_of(version: &str) -> Result<Line, String> {
    let v = version.trim();
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
    match (major, minor) {
        (Some(3), Some(4)) => Ok(Line::V3_4),
        (Some(3), Some(5)) => Ok(Line::V3_5),
        (Some(3), Some(m)) if m >= 6 => Ok(Line::Main),
        (Some(3), Some(m)) if m <= 3 => Err(format!(
            "Canton {v} is not supported: recovery-deck needs Canton 3.4 or newer (3.{m} has ExportAcs in another service and a different ModifySynchronizer, ListConnectedSynchronizers and GetSynchronizerId)"
        )),
        (Some(2), _) => Err(format!(
            "Canton {v} is not supported: Canton 2.x has no admin API for these repairs; use `export-console --dialect 2` and run the scripts in its console"
        )),
        _ => Err(format!(
            "the participant reports version {v:?}, which is not a Canton version recovery-deck knows (it supports 3.4, 3.5 and main)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_versions_canton_reports() {
        assert_eq!(line_of("3.4.12"), Ok(Line::V3_4));
        assert_eq!(line_of("3.4.0-SNAPSHOT"), Ok(Line::V3_4));
        assert_eq!(line_of("3.5.10"), Ok(Line::V3_5));
        assert_eq!(line_of("3.6.0-SNAPSHOT"), Ok(Line::Main));
        assert_eq!(line_of("3.7.1"), Ok(Line::Main));
        let old = line_of("3.3.0").expect_err("3.3");
        assert!(old.starts_with("Canton 3.3.0 is not supported"), "{old}");
        assert!(!old.contains('\n'), "one line");
        assert!(line_of("2.10.2").expect_err("2.x").contains("export-console"));
        assert!(line_of("recovery-deck-lab 0.1.0").is_err());
        assert!(line_of("").is_err());
    }

    #[test]
    fn nonzero_counters_need_3_5_and_the_setting() {
        assert!(!Line::V3_4.imports_nonzero_counters(true));
        assert!(!Line::V3_5.imports_nonzero_counters(false));
        assert!(Line::V3_5.imports_nonzero_counters(true));
        assert!(Line::Main.imports_nonzero_counters(true));
    }
}
