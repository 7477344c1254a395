//! The events of a recovery journal: one enum, one variant per kind, each with a typed
//! payload. On disk an event line carries `kind` and `data`; this module is the only place
//! that maps between the two, so renaming a kind or a field is a compile error here or a
//! failing fixture test (tests/fixtures/journal-v1.jsonl), never a silent change in what
//! resume, the screen or a report reads.

use super::pins::Pinned;
use crate::client::ImportMode;
use crate::plan::{ConnectionValidation, PhaseKind};
use crate::reconcile::{Decision, StrategyName};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// The RPCs that change a participant's state, by the names Canton's services give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rpc {
    DisconnectSynchronizer,
    DisconnectAllSynchronizers,
    ModifySynchronizer,
    ReconnectSynchronizer,
    Ping,
    PurgeContracts,
    ImportAcs,
    ChangeAssignation,
}

impl Rpc {
    pub fn as_str(self) -> &'static str {
        match self {
            Rpc::DisconnectSynchronizer => "DisconnectSynchronizer",
            Rpc::DisconnectAllSynchronizers => "DisconnectAllSynchronizers",
            Rpc::ModifySynchronizer => "ModifySynchronizer",
            Rpc::ReconnectSynchronizer => "ReconnectSynchronizer",
            Rpc::Ping => "Ping",
            Rpc::PurgeContracts => "PurgeContracts",
            Rpc::ImportAcs => "ImportAcs",
            Rpc::ChangeAssignation => "ChangeAssignation",
        }
    }
}

impl fmt::Display for Rpc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An operator's decision on a row, as the journal records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionName {
    Exclude,
    Purge,
    /// Written by the first format version only: Canton cannot adopt one participant's
    /// version of a contract (`reconcile::NO_ADOPT`), so nothing decides it any more.
    Adopt,
}

impl DecisionName {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionName::Exclude => "exclude",
            DecisionName::Purge => "purge",
            DecisionName::Adopt => "adopt",
        }
    }
}

impl From<&Decision> for DecisionName {
    fn from(d: &Decision) -> DecisionName {
        match d {
            Decision::Exclude => DecisionName::Exclude,
            Decision::Purge => DecisionName::Purge,
        }
    }
}

impl fmt::Display for DecisionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A strategy by its name (`intersection`, `union`, `manual`). The first format version
/// wrote a manual plan's proposal as `manual (N rows)`; that reads as `manual`.
mod strategy_name {
    use super::*;

    pub fn serialize<S: Serializer>(s: &StrategyName, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<StrategyName, D::Error> {
        let text = String::deserialize(de)?;
        let name = match text.split_once(" (") {
            Some((name, rest)) if rest.ends_with(" rows)") => name,
            _ => text.as_str(),
        };
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// One RPC that changes a participant's state, with the arguments the journal keeps.
/// Contract ids are summarised (count and digest): the runbook holds the lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rpc", content = "detail")]
pub enum Call {
    DisconnectSynchronizer {
        synchronizer: String,
    },
    // A struct variant so that the `{}` detail of every journal parses.
    DisconnectAllSynchronizers {},
    ModifySynchronizer {
        synchronizer: String,
        manual_connect: bool,
        #[serde(with = "validation_name")]
        validation: ConnectionValidation,
    },
    ReconnectSynchronizer {
        synchronizer: String,
        retry: bool,
    },
    /// init_target's ping of the participant's own admin party over the target.
    Ping {
        synchronizer: String,
        party: String,
        round: u32,
    },
    PurgeContracts {
        synchronizer: String,
        ids: usize,
        ids_digest: String,
        ignore_already_purged: bool,
    },
    ImportAcs {
        synchronizer: String,
        source: String,
        ids: usize,
        ids_digest: String,
        mode: ImportMode,
    },
    ChangeAssignation {
        source: String,
        target: String,
        skip_inactive: bool,
        ids: usize,
        ids_digest: String,
        #[serde(default)]
        first_id: Option<String>,
    },
}

/// ModifySynchronizer's validation as the journal writes it: `Disabled` or `All`, the
/// names of Canton's `SequencerConnectionValidation`.
mod validation_name {
    use super::*;

    pub fn serialize<S: Serializer>(v: &ConnectionValidation, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(match v {
            ConnectionValidation::Disabled => "Disabled",
            ConnectionValidation::All => "All",
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<ConnectionValidation, D::Error> {
        match String::deserialize(de)?.as_str() {
            "Disabled" => Ok(ConnectionValidation::Disabled),
            "All" => Ok(ConnectionValidation::All),
            other => Err(serde::de::Error::custom(format!(
                "unknown validation {other:?} (Disabled or All)"
            ))),
        }
    }
}

impl Call {
    /// The RPC's name, as Canton's service defines it (and as the line's `rpc` tag reads).
    pub fn rpc(&self) -> Rpc {
        match self {
            Call::DisconnectSynchronizer { .. } => Rpc::DisconnectSynchronizer,
            Call::DisconnectAllSynchronizers {} => Rpc::DisconnectAllSynchronizers,
            Call::ModifySynchronizer { .. } => Rpc::ModifySynchronizer,
            Call::ReconnectSynchronizer { .. } => Rpc::ReconnectSynchronizer,
            Call::Ping { .. } => Rpc::Ping,
            Call::PurgeContracts { .. } => Rpc::PurgeContracts,
            Call::ImportAcs { .. } => Rpc::ImportAcs,
            Call::ChangeAssignation { .. } => Rpc::ChangeAssignation,
        }
    }

    /// What identifies a request across its retries and runs: the RPC, the participant and
    /// the call's arguments.
    pub fn request_digest(&self, participant: &str) -> String {
        let (rpc, detail) = self.split();
        super::digest(&serde_json::json!({"rpc": rpc, "participant": participant, "detail": detail}))
    }

    /// The call's arguments as JSON (a dry run's description).
    pub fn detail_json(&self) -> String {
        self.split().1.to_string()
    }

    fn split(&self) -> (Value, Value) {
        match serde_json::to_value(self) {
            Ok(mut v) => (
                v.get_mut("rpc").map(Value::take).unwrap_or(Value::Null),
                v.get_mut("detail").map(Value::take).unwrap_or(Value::Null),
            ),
            Err(_) => (Value::Null, Value::Null),
        }
    }

    /// Contracts the call carries (0 for calls without contracts).
    pub fn ids(&self) -> usize {
        match self {
            Call::PurgeContracts { ids, .. } | Call::ImportAcs { ids, .. } | Call::ChangeAssignation { ids, .. } => {
                *ids
            }
            _ => 0,
        }
    }
}

/// A call about to be sent (`exec.request`), journaled before it leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSent {
    pub plan_hash: String,
    pub phase: PhaseKind,
    pub attempt: u32,
    #[serde(flatten)]
    pub call: Call,
    pub request_digest: String,
}

/// What a call's answer was (`exec.result`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallAnswered {
    pub phase: PhaseKind,
    pub rpc: Rpc,
    pub attempt: u32,
    pub ok: bool,
    pub duration_ms: u64,
    pub request_digest: String,
    /// Canton's error code id, when the participant sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Canton's error category id (1–14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<u8>,
    /// The gRPC status code, e.g. `Unavailable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The participant asked for a retry after this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

/// A call a dry run would send (`dryrun.request`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallDescribed {
    pub phase: PhaseKind,
    #[serde(flatten)]
    pub call: Call,
    pub request_digest: String,
}

/// Work a rerun found already done, and so did not send again (`exec.skip`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub phase: PhaseKind,
    pub rpc: Rpc,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synchronizer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Contracts already on the target (ChangeAssignation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub already_on_target: Option<usize>,
    /// Contracts the participant already holds (ImportAcs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub already_held: Option<usize>,
}

/// A run of a plan begins (`session.start`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStarted {
    pub plan_hash: String,
    pub incident: String,
    pub lost: String,
    pub target: String,
    #[serde(with = "strategy_name")]
    pub strategy: StrategyName,
    pub dry_run: bool,
    pub resumed: bool,
    #[serde(default)]
    pub done_phases: Vec<PhaseKind>,
    /// The runbook the run executes, as it was read (format version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<Pinned>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<Pinned>,
}

/// A run ends (`session.end`); the counts are per participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEnded {
    pub plan_hash: String,
    pub ok: bool,
    #[serde(default)]
    pub moved: BTreeMap<String, usize>,
    #[serde(default)]
    pub added: BTreeMap<String, usize>,
    #[serde(default)]
    pub skipped: BTreeMap<String, usize>,
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreflightResult {
    pub plan_hash: String,
    pub ok: bool,
    /// `participant [check]: message`, one per problem.
    #[serde(default)]
    pub problems: Vec<String>,
    /// The same, for what does not stop the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Phases the participants' state shows done, so not run again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub done_by_state: Vec<PhaseKind>,
}

/// One ping of verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingResult {
    pub to: String,
    pub ok: bool,
    pub millis: Option<u64>,
    pub reason: Option<String>,
}

/// What verification found on one participant (`verify.result`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub participant: String,
    pub ok: bool,
    pub expected: usize,
    pub held: usize,
    /// Planned for this participant but not active on the target.
    #[serde(default)]
    pub missing: Vec<String>,
    /// Active on the target, part of the plan, but not planned for this participant.
    #[serde(default)]
    pub unexpected: Vec<String>,
    #[serde(default)]
    pub pings: Vec<PingResult>,
    /// Planned for this participant, assigned to the target and archived there since (by
    /// workflows after the recovery): the recovery's work done, counted as held.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub archived_since: Vec<String>,
}

impl VerifyReport {
    pub fn summary(&self) -> String {
        let failed_pings: Vec<String> = self
            .pings
            .iter()
            .filter(|p| !p.ok)
            .map(|p| format!("{} ({})", p.to, p.reason.as_deref().unwrap_or("no answer")))
            .collect();
        let archived = if self.archived_since.is_empty() {
            String::new()
        } else {
            format!(" ({} archived there since)", self.archived_since.len())
        };
        format!(
            "{} of {} planned contracts on the target{archived}, {} missing, {} unexpected, pings failed to [{}]",
            self.held,
            self.expected,
            self.missing.len(),
            self.unexpected.len(),
            failed_pings.join(", ")
        )
    }
}

/// The comparison the screen showed (`search.result`): counts per class and per participant,
/// and (format version 3) every row of it in a pinned comparison file (`journal::snapshot`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Surveyed {
    pub synchronizer: String,
    #[serde(default)]
    pub classes: BTreeMap<String, usize>,
    #[serde(default)]
    pub contracts: BTreeMap<String, usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Pinned>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanProposed {
    pub plan_hash: String,
    #[serde(with = "strategy_name")]
    pub strategy: StrategyName,
    pub moved: usize,
    pub excluded: usize,
    /// The plan itself, as a runbook (and its sidecar) pinned beside the journal (format
    /// version 3): the decided and excluded rows with their reasons are in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<Pinned>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<Pinned>,
    /// The `sha256` of the pinned comparison the plan was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey: Option<String>,
}

/// The operator confirmed a plan (`plan.approved`): on the screen by typing the target's
/// alias, on the command line by typing it or with `--yes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanApproved {
    pub plan_hash: String,
    /// What was typed; empty when nothing was (`--yes`).
    pub confirmed_by_typing: String,
    /// Approved without a typed confirmation (`run --yes`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unattended: bool,
}

/// A front end let go of the journal after a clean end (`session.close`): the seal. A
/// journal whose last event is not one was cut short, by a crash or by hand, or is still
/// being written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClosed {
    /// `screen`, `plan` or `run`.
    pub front_end: String,
}

/// Declares an enum of journal events, each variant with the kind it is written as,
/// once: the serde tag, the `KINDS` list and `kind()` all come from this one list (the
/// recovery journal's [`EventData`] and the collab session log's events).
macro_rules! tagged_events {
    (
        $(#[$enum_meta:meta])*
        $vis:vis enum $name:ident;
        $( $(#[$meta:meta])* $kind:literal => $variant:ident $body:tt ),* $(,)?
    ) => {
        $(#[$enum_meta])*
        #[serde(tag = "kind", content = "data")]
        $vis enum $name {
            $( $(#[$meta])* #[serde(rename = $kind)] $variant $body, )*
        }

        /// Every kind, as written in the journal's `kind` field.
        $vis const KINDS: &[&str] = &[$($kind),*];

        impl $name {
            pub fn kind(&self) -> &'static str {
                match self {
                    $( $name::$variant { .. } => $kind, )*
                }
            }
        }
    };
}
pub(crate) use tagged_events;

tagged_events! {
    /// Every kind of event a recovery journal holds.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub enum EventData;

    /// The recovery screen opened this journal.
    "session.open" => ScreenOpened {
        #[serde(default)]
        read_only: bool,
    },
    "session.start" => RunStarted(RunStarted),
    "session.end" => RunEnded(RunEnded),
    "preflight.result" => Preflight(PreflightResult),
    "phase.start" => PhaseStarted {
        plan_hash: String,
        phase: PhaseKind,
        #[serde(default)]
        participants: Vec<String>,
    },
    /// What resume reads: the phase is complete for this plan.
    "phase.done" => PhaseDone { plan_hash: String, phase: PhaseKind },
    "phase.skipped" => PhaseSkipped {
        plan_hash: String,
        phase: PhaseKind,
        reason: String,
    },
    "phase.failed" => PhaseFailed {
        plan_hash: String,
        phase: PhaseKind,
        error: String,
        #[serde(default)]
        code: Option<String>,
    },
    /// Journals of format version 1 carry no plan hash here.
    "phase.paused" => PhasePaused {
        #[serde(default)]
        plan_hash: String,
        before: PhaseKind,
    },
    "phase.aborted" => PhaseAborted {
        #[serde(default)]
        plan_hash: String,
        before: PhaseKind,
    },
    "exec.request" => CallSent(CallSent),
    "exec.result" => CallAnswered(CallAnswered),
    "exec.skip" => Skipped(Skipped),
    "dryrun.request" => CallDescribed(CallDescribed),
    "verify.result" => Verified(VerifyReport),
    "search.result" => Surveyed(Surveyed),
    "plan.proposed" => PlanProposed(PlanProposed),
    "plan.approved" => PlanApproved(PlanApproved),
    "select.mode" => StrategyChosen {
        #[serde(with = "strategy_name")]
        strategy: StrategyName,
    },
    "select.decision" => Decided {
        contract_id: String,
        decision: DecisionName,
        /// Journals of the first version could name an adopted participant.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant: Option<String>,
    },
    "view.diff" => DiffViewed { contract_id: String },
    "session.close" => SessionClosed(SessionClosed),
}

impl EventData {
    /// Events that must be on disk before the caller goes on: everything that decides,
    /// changes or verifies state. What the operator only looked at or tried out may be
    /// lost in a crash.
    pub fn durable(&self) -> bool {
        !matches!(
            self,
            EventData::CallDescribed(_)
                | EventData::Surveyed(_)
                | EventData::StrategyChosen { .. }
                | EventData::Decided { .. }
                | EventData::DiffViewed { .. }
        )
    }

    /// The plan the event belongs to, if any.
    pub fn plan_hash(&self) -> Option<&str> {
        match self {
            EventData::RunStarted(r) => Some(&r.plan_hash),
            EventData::RunEnded(r) => Some(&r.plan_hash),
            EventData::Preflight(p) => Some(&p.plan_hash),
            EventData::CallSent(c) => Some(&c.plan_hash),
            EventData::PlanProposed(p) => Some(&p.plan_hash),
            EventData::PlanApproved(p) => Some(&p.plan_hash),
            EventData::PhaseStarted { plan_hash, .. }
            | EventData::PhaseDone { plan_hash, .. }
            | EventData::PhaseSkipped { plan_hash, .. }
            | EventData::PhaseFailed { plan_hash, .. }
            | EventData::PhasePaused { plan_hash, .. }
            | EventData::PhaseAborted { plan_hash, .. } => Some(plan_hash).filter(|h| !h.is_empty()),
            _ => None,
        }
        .map(String::as_str)
    }

    /// The line's `kind` and `data`.
    pub fn to_parts(&self) -> Result<(&'static str, Value), serde_json::Error> {
        let mut tagged = serde_json::to_value(self)?;
        let data = tagged
            .get_mut("data")
            .map(Value::take)
            .unwrap_or(Value::Object(Default::default()));
        Ok((self.kind(), data))
    }

    /// Reads a line's `kind` and `data` back. `Ok(None)` for a kind this version does not
    /// know (other tools' events, or a newer version's): readers skip those.
    pub fn from_parts(kind: &str, data: &Value) -> Result<Option<EventData>, String> {
        if !KINDS.contains(&kind) {
            return Ok(None);
        }
        let tagged = serde_json::json!({"kind": kind, "data": data});
        serde_json::from_value(tagged)
            .map(Some)
            .map_err(|e| format!("a {kind} event whose data does not fit: {e}"))
    }
}
