//! Runbook files: a TOML rendering of a plan, pinned by its plan hash. A large plan keeps its
//! contract ids in one sidecar file, a table with every id once (see `table`), pinned by its
//! SHA-256. Both are written to and read from streams the caller opens: this module touches
//! no file itself, and never holds a sidecar's text whole.
//!
//! Version 2 (the one written) stores each id once and refers to sets of rows; version 1
//! (lists written out in full, in named sidecar sections) is still read, and keeps the plan
//! hash it was approved under.

mod dto;
mod lines;
mod read;
mod rows;
mod sidecar_v1;
mod table;
mod write;

pub use read::{from_runbook, load_runbook, load_runbook_from, runbook_sidecar};
pub use write::{RunbookWriter, to_runbook};

use super::Plan;

pub const RUNBOOK_FORMAT: &str = "recovery-deck-runbook";
/// The version written.
pub const RUNBOOK_VERSION: i64 = 2;
/// Versions read.
pub const RUNBOOK_VERSIONS_READ: [i64; 2] = [1, 2];
/// Above this many contract ids in all the plan's lists, the ids go to the sidecar file.
pub const SIDECAR_THRESHOLD: usize = 1000;
/// With a sidecar, lists up to this length stay inline so the runbook stays readable.
pub const INLINE_MAX: usize = 16;

/// Who made the runbook and when; recorded, but not part of the plan hash, so re-exporting
/// an approved plan keeps its approvals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunbookMeta {
    /// RFC 3339, supplied by the caller.
    pub created: String,
    pub proposed_by: String,
}

/// The sidecar text to write next to the runbook, under `file_name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sidecar {
    pub file_name: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedRunbook {
    pub plan: Plan,
    pub meta: RunbookMeta,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunbookError {
    #[error("the runbook is not readable TOML of the expected shape: {0}")]
    Toml(String),
    #[error("this file is not a recovery-deck runbook (format = {0:?}, expected \"recovery-deck-runbook\")")]
    UnknownFormat(String),
    #[error(
        "runbook version {0} is not supported (this recovery-deck reads versions 1 and 2); use the recovery-deck release that wrote it"
    )]
    UnsupportedVersion(i64),
    #[error("the runbook keeps its contract ids in {file}, which was not provided; put it next to the runbook")]
    MissingSidecar { file: String },
    #[error(
        "sidecar {file} was changed after the plan was made: the runbook pins {recorded}, the file hashes to {actual}. Do not run this plan; regenerate it"
    )]
    SidecarDigestMismatch {
        file: String,
        recorded: String,
        actual: String,
    },
    #[error("sidecar {file} line {line}: {problem}")]
    SidecarSyntax { file: String, line: usize, problem: String },
    #[error("sidecar section {section:?}: {problem}")]
    SidecarSection { section: String, problem: String },
    #[error(
        "plan hash mismatch: the runbook records {recorded} but its content hashes to {computed}. It was edited after it was made or is corrupt; do not run it, regenerate and re-approve the plan"
    )]
    HashMismatch { recorded: String, computed: String },
    #[error("runbook {at}: {problem}")]
    Invalid { at: String, problem: String },
    #[error("could not render the runbook: {0}")]
    Render(String),
    #[error("{0}")]
    Io(String),
}

impl From<std::io::Error> for RunbookError {
    fn from(e: std::io::Error) -> Self {
        RunbookError::Io(e.to_string())
    }
}

#[cfg(test)]
mod robustness;
#[cfg(test)]
mod tests;
