//! The session journal: append-only JSON lines, one event per line, hash-chained. Line 1
//! is a header (incident, tool version, participants, operator); every later line is an
//! event whose `prev` is the previous line's hash and whose `hash` is the sha256 of its
//! own canonical JSON without `hash`. Tampering breaks the chain and the reader names the
//! line; a session that ends cleanly seals the journal with a last `session.close` event,
//! so a journal cut short says so. What is too large for a line (the comparison the
//! screen showed, the plan it proposed) goes to files pinned by digest beside the journal
//! (`pins`). Plan, execution and verification events are fsynced before the writer
//! returns; the journal never goes through a lossy logger.

pub mod event;
pub mod pins;
mod reader;
pub mod report;
pub mod snapshot;
mod writer;

pub use event::{
    Call, CallAnswered, CallDescribed, CallSent, DecisionName, EventData, PingResult, PlanApproved, PlanProposed,
    PreflightResult, Rpc, RunEnded, RunStarted, SessionClosed, Skipped, Surveyed, VerifyReport,
};
pub use pins::{PinError, Pinned, PinnedRunbook, Recorded};
pub use reader::{Checked, Journal, Seal, check, read, verify};
pub use writer::{Clock, JournalWriter};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const FORMAT: &str = "recovery-deck-journal";
/// Version 2 types every event (`event::EventData`) and puts the plan hash on every
/// phase event. Version 3 seals a journal whose session ended cleanly (`session.close`) and
/// pins what the screen showed and proposed (`search.result` and `plan.proposed` name a
/// comparison file and a runbook beside the journal). Versions 1 and 2 are still read.
pub const VERSION: u32 = 3;
/// The first format version whose sessions seal their journal.
pub const SEALED_SINCE: u32 = 3;
/// The oldest format version the reader accepts.
pub const OLDEST_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub incident: String,
    /// RFC 3339, UTC.
    pub started: String,
    pub tool: Tool,
    pub participants: Vec<ParticipantRef>,
    pub operator: String,
    #[serde(default)]
    pub host: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParticipantRef {
    pub name: String,
    pub endpoint: String,
}

impl Header {
    pub fn new(incident: &str, operator: &str, participants: Vec<ParticipantRef>) -> Header {
        Header {
            format: FORMAT.into(),
            version: VERSION,
            incident: incident.into(),
            started: jiff::Timestamp::now().to_string(),
            tool: Tool {
                name: env!("CARGO_PKG_NAME").into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            participants,
            operator: operator.into(),
            host: host_name(),
        }
    }
}

/// Who caused an event: an operator, acting on a participant (or on the session).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Actor {
    pub op: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    pub seq: u64,
    /// RFC 3339, UTC, with milliseconds.
    pub ts: String,
    /// Seconds since the session started.
    pub t: f64,
    pub actor: Actor,
    pub kind: String,
    pub data: Value,
    pub prev: String,
    pub hash: String,
    /// The typed event, for the kinds of a recovery journal (`None` for other kinds, such
    /// as a session log's). Not part of the line: the hash covers `kind` and `data`.
    #[serde(skip)]
    pub body: Option<EventData>,
}

/// sha256 of canonical JSON (serde_json sorts object keys), as `sha256:<hex>`.
pub fn digest(value: &Value) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(value.to_string().as_bytes())))
}

/// The hash of a journal line as it is chained: the header line hashes as a whole,
/// events hash without their `hash` field.
pub fn event_hash(event: &Event) -> String {
    let mut v = serde_json::to_value(event).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        obj.remove("hash");
    }
    digest(&v)
}

/// This machine's host name, as journals and run locks record it ("" if unknown).
pub fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default()
}

pub fn header_hash(header: &Header) -> String {
    digest(&serde_json::to_value(header).unwrap_or(Value::Null))
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("journal {path}, line {line}: {message}")]
    Invalid { path: String, line: usize, message: String },
    #[error("journal {path}, line {line}: the hash chain breaks: {message}")]
    Chain {
        path: String,
        line: usize,
        seq: u64,
        message: String,
    },
    #[error(
        "journal {path}, line {line}: the line is incomplete (the file ends in the middle of it: cut short, or the writer died while writing it)"
    )]
    Torn { path: String, line: usize },
    #[error("journal {path} is sealed: the session ended, nothing more is written to it")]
    Sealed { path: String },
}

impl JournalError {
    /// The line of the file the error is about, if it is about one.
    pub fn line(&self) -> Option<usize> {
        match self {
            JournalError::Invalid { line, .. } | JournalError::Chain { line, .. } | JournalError::Torn { line, .. } => {
                Some(*line)
            }
            JournalError::Io { .. } | JournalError::Sealed { .. } => None,
        }
    }
}

#[cfg(test)]
mod event_tests;
#[cfg(test)]
mod robustness;
#[cfg(test)]
mod tests;
