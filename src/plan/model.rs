//! The plan: everything the executor will do, in order, with exact arguments.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::reconcile::{ContractId, Decision, ExcludedRow, Strategy};

use super::drift::PayloadTag;

/// Phases run in this order with a barrier between each: every participant finishes a phase
/// before any participant starts the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseKind {
    Isolate,
    InitTarget,
    Purge,
    Import,
    Move,
    Reconnect,
    Verify,
}

impl PhaseKind {
    pub const ALL: [PhaseKind; 7] = [
        PhaseKind::Isolate,
        PhaseKind::InitTarget,
        PhaseKind::Purge,
        PhaseKind::Import,
        PhaseKind::Move,
        PhaseKind::Reconnect,
        PhaseKind::Verify,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PhaseKind::Isolate => "isolate",
            PhaseKind::InitTarget => "init_target",
            PhaseKind::Purge => "purge",
            PhaseKind::Import => "import",
            PhaseKind::Move => "move",
            PhaseKind::Reconnect => "reconnect",
            PhaseKind::Verify => "verify",
        }
    }
}

impl fmt::Display for PhaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PhaseKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown phase {s:?}"))
    }
}

/// `sequencer_connection_validation` for ModifySynchronizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionValidation {
    /// For the lost synchronizer: its sequencers are unreachable and validation would fail.
    Disabled,
    All,
}

impl ConnectionValidation {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionValidation::Disabled => "disabled",
            ConnectionValidation::All => "all",
        }
    }
}

/// One admin-API call (or, for `Verify`, one check) with its exact arguments.
/// Synchronizers are named by alias, as the repair RPCs expect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    DisconnectSynchronizer {
        synchronizer: String,
    },
    /// Read-modify-write of the registered config, flipping only `manual_connect`.
    ModifySynchronizer {
        synchronizer: String,
        manual_connect: bool,
        validation: ConnectionValidation,
    },
    ReconnectSynchronizer {
        synchronizer: String,
        retry: bool,
    },
    DisconnectAllSynchronizers,
    /// Ping the participant's own admin party over `synchronizer`: a transaction sequenced
    /// there after the participant's parties were enabled makes that topology the one the
    /// repairs see (Canton checks stakeholder hosting at the target's clean record time,
    /// and its own procedure runs a ping before disconnecting).
    Ping {
        synchronizer: String,
    },
    PurgeContracts {
        synchronizer: String,
        contract_ids: Vec<ContractId>,
        ignore_already_purged: bool,
    },
    /// ImportAcs of these ids, taken from `source_participant`'s export on `synchronizer`.
    ImportAcs {
        synchronizer: String,
        source_participant: String,
        contract_ids: Vec<ContractId>,
    },
    ChangeAssignation {
        source_synchronizer: String,
        target_synchronizer: String,
        contract_ids: Vec<ContractId>,
        skip_inactive: bool,
    },
    /// The participant must hold exactly `contract_ids` of the moved set on `synchronizer`,
    /// and a ping to every participant in `ping` must succeed.
    Verify {
        synchronizer: String,
        contract_ids: Vec<ContractId>,
        ping: Vec<String>,
    },
}

impl Action {
    /// snake_case name used in runbooks and journals.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::DisconnectSynchronizer { .. } => "disconnect_synchronizer",
            Action::ModifySynchronizer { .. } => "modify_synchronizer",
            Action::ReconnectSynchronizer { .. } => "reconnect_synchronizer",
            Action::DisconnectAllSynchronizers => "disconnect_all_synchronizers",
            Action::Ping { .. } => "ping",
            Action::PurgeContracts { .. } => "purge_contracts",
            Action::ImportAcs { .. } => "import_acs",
            Action::ChangeAssignation { .. } => "change_assignation",
            Action::Verify { .. } => "verify",
        }
    }

    pub fn contract_ids(&self) -> &[ContractId] {
        match self {
            Action::PurgeContracts { contract_ids, .. }
            | Action::ImportAcs { contract_ids, .. }
            | Action::ChangeAssignation { contract_ids, .. }
            | Action::Verify { contract_ids, .. } => contract_ids,
            _ => &[],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub participant: String,
    pub action: Action,
}

/// Within a plan (fixed by its hash), a step is identified by (phase, index in phase).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase {
    pub kind: PhaseKind,
    pub steps: Vec<Step>,
}

/// In-flight counts on the lost synchronizer observed at plan time (CountInFlight). The
/// operators acknowledge these transactions as abandoned by approving the plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InFlight {
    pub pending_submissions: u32,
    pub pending_transactions: u32,
}

/// What a participant held active on the lost synchronizer when the plan was made. The
/// executor re-exports before touching anything and refuses to go on if this drifted
/// ([`ExpectedSnapshot::check`] names the rows that changed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedSnapshot {
    /// Sorted.
    pub active: Vec<ContractId>,
    /// The payload tag of each id in `active`, in the same order. `None` for a plan read
    /// from a version 1 runbook, which kept only the digest below.
    pub payloads: Option<Vec<PayloadTag>>,
    /// [`snapshot_digest`](super::snapshot_digest) over the held (id, payload digest) pairs.
    pub digest: String,
}

/// A complete, hashed recovery plan. Built by [`super::build_plan`] or loaded from a runbook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub(super) incident: String,
    pub(super) lost: String,
    pub(super) target: String,
    /// Sorted.
    pub(super) participants: Vec<String>,
    pub(super) strategy: Strategy,
    pub(super) decisions: BTreeMap<ContractId, Decision>,
    pub(super) exclusions: BTreeSet<ContractId>,
    pub(super) batch_size: u32,
    /// Sorted by contract id.
    pub(super) excluded: Vec<ExcludedRow>,
    pub(super) expected: BTreeMap<String, ExpectedSnapshot>,
    pub(super) in_flight: BTreeMap<String, InFlight>,
    /// Always the seven phases, in [`PhaseKind::ALL`] order.
    pub(super) phases: Vec<Phase>,
    pub(super) hash: String,
}

impl Plan {
    pub fn incident(&self) -> &str {
        &self.incident
    }
    pub fn lost(&self) -> &str {
        &self.lost
    }
    pub fn target(&self) -> &str {
        &self.target
    }
    pub fn participants(&self) -> &[String] {
        &self.participants
    }
    pub fn strategy(&self) -> &Strategy {
        &self.strategy
    }
    pub fn decisions(&self) -> &BTreeMap<ContractId, Decision> {
        &self.decisions
    }
    pub fn exclusions(&self) -> &BTreeSet<ContractId> {
        &self.exclusions
    }
    pub fn batch_size(&self) -> u32 {
        self.batch_size
    }
    pub fn excluded(&self) -> &[ExcludedRow] {
        &self.excluded
    }
    pub fn expected(&self, participant: &str) -> Option<&ExpectedSnapshot> {
        self.expected.get(participant)
    }
    pub fn expected_snapshots(&self) -> &BTreeMap<String, ExpectedSnapshot> {
        &self.expected
    }
    pub fn in_flight(&self) -> &BTreeMap<String, InFlight> {
        &self.in_flight
    }
    pub fn phases(&self) -> &[Phase] {
        &self.phases
    }
    pub fn phase(&self, kind: PhaseKind) -> Option<&Phase> {
        self.phases.iter().find(|p| p.kind == kind)
    }
    /// `sha256:<hex>`; approvals and journals refer to the plan by this.
    pub fn hash(&self) -> &str {
        &self.hash
    }
    /// Ids a participant must hold on the target at the end.
    pub fn moved_by(&self, participant: &str) -> Vec<ContractId> {
        self.phase(PhaseKind::Move)
            .into_iter()
            .flat_map(|p| &p.steps)
            .filter(|s| s.participant == participant)
            .flat_map(|s| s.action.contract_ids().iter().cloned())
            .collect()
    }
}
