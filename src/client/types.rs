//! Plain results of participant calls, independent of the generated protobuf types
//! where that makes them easier to use.

use super::Contract;
use serde::{Deserialize, Serialize};

/// The logical part of a synchronizer id (`name::namespace`), dropping a physical
/// `::<pv>-<serial>` suffix.
pub fn logical_id(id: &str) -> &str {
    match id.rsplit_once("::") {
        Some((logical, suffix)) if logical.contains("::") && suffix.contains('-') => logical,
        _ => id,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisteredSynchronizer {
    pub alias: String,
    pub connected: bool,
    pub manual_connect: bool,
    /// Known once the participant has shaken hands with the synchronizer.
    pub physical_id: Option<String>,
    pub sequencers: Vec<String>,
    pub priority: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectedSynchronizer {
    pub alias: String,
    pub synchronizer_id: String,
    pub physical_id: String,
    pub healthy: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SynchronizerIds {
    pub logical: String,
    pub physical: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct InFlight {
    pub pending_submissions: u32,
    pub pending_transactions: u32,
}

impl InFlight {
    pub fn total(&self) -> u32 {
        self.pending_submissions.saturating_add(self.pending_transactions)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParticipantStatus {
    pub uid: String,
    pub version: String,
    pub active: bool,
    pub uptime_secs: u64,
    pub connected: Vec<(String, bool)>,
    pub protocol_versions: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PingOutcome {
    Success { millis: u64, responder: String },
    Failure { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownParty {
    pub party: String,
    pub is_local: bool,
}

/// A contract's state on one synchronizer, as InspectCommitmentContracts reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum InspectedState {
    Created,
    Assigned { counter: i64 },
    Archived,
    Unassigned { target: String },
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractInspection {
    pub contract_id: String,
    pub active_on_expected: bool,
    pub states: Vec<(String, InspectedState)>,
}

/// An entry of the Ledger API's active contract stream.
#[derive(Debug, Clone, PartialEq)]
// Nearly every entry is an active contract; boxing it would cost an allocation per
// contract on the survey's hot path to save space on the rare other kind.
#[expect(clippy::large_enum_variant, reason = "active contracts are the common case")]
pub enum AcsEntry {
    Active(Contract),
    /// A contract between synchronizers: unassigned from one and not yet assigned to the
    /// other (`incomplete_unassigned` / `incomplete_assigned`).
    Incomplete(IncompleteReassignment),
}

impl AcsEntry {
    pub fn into_active(self) -> Option<Contract> {
        match self {
            AcsEntry::Active(c) => Some(c),
            AcsEntry::Incomplete(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IncompleteKind {
    /// The participant saw the unassignment, not yet the assignment.
    Unassigned,
    /// The participant saw the assignment of a contract whose unassignment it did not see.
    Assigned,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncompleteReassignment {
    pub contract_id: String,
    pub kind: IncompleteKind,
    /// Logical ids.
    pub source: String,
    pub target: String,
}

impl IncompleteReassignment {
    /// Whether the reassignment leaves or enters `synchronizer` (a logical id).
    pub fn touches(&self, synchronizer: &str) -> bool {
        self.source == synchronizer || self.target == synchronizer
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportMode {
    /// Canton authenticates each contract id against its payload.
    Validation,
    Accept,
}

/// How a participant checks a synchronizer's sequencers before it stores a connection
/// (Canton's `SequencerConnectionValidation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// No check: for a synchronizer whose sequencers cannot be reached (the lost one).
    Disabled,
    /// Every sequencer must answer.
    All,
    /// Only the sequencers that answer are checked.
    Active,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubmitOutcome {
    pub update_id: String,
    pub completion_offset: i64,
}
