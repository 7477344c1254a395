//! The events of a recovery journal: one enum, one variant per kind, each with a typed
//! payload. On disk an event line carries `kind` and `data`; this module is the only place
//! that maps between the two, so renaming a kind or a field is a compile error here or a
//! failing fixture test (tests/fixtures/journal-v1.jsonl), never a silent change in what
//! resume, the screen or a report reads.

use super::pins::Pinned;
use crate::plan::PhaseKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

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
        /// `Disabled` or `All`.
        validation: String,
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
        /// `Validation` or `Accept`.
        mode: String,
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

impl Call {
    /// The RPC's name, as Canton's service defines it.
    pub fn rpc(&self) -> &'static str {
        match self {
            Call::DisconnectSynchronizer { .. } => "DisconnectSynchronizer",
            Call::DisconnectAllSynchronizers {} => "DisconnectAllSynchronizers",
            Call::ModifySynchronizer { .. } => "ModifySynchronizer",
            Call::ReconnectSynchronizer { .. } => "ReconnectSynchronizer",
            Call::Ping { .. } => "Ping",
            Call::PurgeContracts { .. } => "PurgeContracts",
            Call::ImportAcs { .. } => "ImportAcs",
            Call::ChangeAssignation { .. } => "ChangeAssignation",
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
    pub rpc: String,
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
    pub rpc: String,
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
    pub strategy: String,
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
}

impl VerifyReport {
    pub fn summary(&self) -> String {
        let failed_pings: Vec<String> = self
            .pings
            .iter()
            .filter(|p| !p.ok)
            .map(|p| format!("{} ({})", p.to, p.reason.as_deref().unwrap_or("no answer")))
            .collect();
        format!(
            "{} of {} planned contracts on the target, {} missing, {} unexpected, pings failed to [{}]",
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
    pub strategy: String,
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

/// Every kind of event a recovery journal holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data")]
pub enum EventData {
    /// The recovery screen opened this journal.
    #[serde(rename = "session.open")]
    ScreenOpened {
        #[serde(default)]
        read_only: bool,
    },
    #[serde(rename = "session.start")]
    RunStarted(RunStarted),
    #[serde(rename = "session.end")]
    RunEnded(RunEnded),
    #[serde(rename = "preflight.result")]
    Preflight(PreflightResult),
    #[serde(rename = "phase.start")]
    PhaseStarted {
        plan_hash: String,
        phase: PhaseKind,
        #[serde(default)]
        participants: Vec<String>,
    },
    /// What resume reads: the phase is complete for this plan.
    #[serde(rename = "phase.done")]
    PhaseDone { plan_hash: String, phase: PhaseKind },
    #[serde(rename = "phase.skipped")]
    PhaseSkipped {
        plan_hash: String,
        phase: PhaseKind,
        reason: String,
    },
    #[serde(rename = "phase.failed")]
    PhaseFailed {
        plan_hash: String,
        phase: PhaseKind,
        error: String,
        #[serde(default)]
        code: Option<String>,
    },
    /// Journals of format version 1 carry no plan hash here.
    #[serde(rename = "phase.paused")]
    PhasePaused {
        #[serde(default)]
        plan_hash: String,
        before: PhaseKind,
    },
    #[serde(rename = "phase.aborted")]
    PhaseAborted {
        #[serde(default)]
        plan_hash: String,
        before: PhaseKind,
    },
    #[serde(rename = "exec.request")]
    CallSent(CallSent),
    #[serde(rename = "exec.result")]
    CallAnswered(CallAnswered),
    #[serde(rename = "exec.skip")]
    Skipped(Skipped),
    #[serde(rename = "dryrun.request")]
    CallDescribed(CallDescribed),
    #[serde(rename = "verify.result")]
    Verified(VerifyReport),
    #[serde(rename = "search.result")]
    Surveyed(Surveyed),
    #[serde(rename = "plan.proposed")]
    PlanProposed(PlanProposed),
    #[serde(rename = "plan.approved")]
    PlanApproved(PlanApproved),
    #[serde(rename = "select.mode")]
    StrategyChosen { strategy: String },
    #[serde(rename = "select.decision")]
    Decided {
        contract_id: String,
        decision: String,
        /// Journals of the first version could name an adopted participant.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant: Option<String>,
    },
    #[serde(rename = "view.diff")]
    DiffViewed { contract_id: String },
    #[serde(rename = "session.close")]
    SessionClosed(SessionClosed),
}

/// Every kind, as written in the journal's `kind` field.
pub const KINDS: [&str; 22] = [
    "session.open",
    "session.start",
    "session.end",
    "preflight.result",
    "phase.start",
    "phase.done",
    "phase.skipped",
    "phase.failed",
    "phase.paused",
    "phase.aborted",
    "exec.request",
    "exec.result",
    "exec.skip",
    "dryrun.request",
    "verify.result",
    "search.result",
    "plan.proposed",
    "plan.approved",
    "select.mode",
    "select.decision",
    "view.diff",
    "session.close",
];

impl EventData {
    pub fn kind(&self) -> &'static str {
        match self {
            EventData::ScreenOpened { .. } => KINDS[0],
            EventData::RunStarted(_) => KINDS[1],
            EventData::RunEnded(_) => KINDS[2],
            EventData::Preflight(_) => KINDS[3],
            EventData::PhaseStarted { .. } => KINDS[4],
            EventData::PhaseDone { .. } => KINDS[5],
            EventData::PhaseSkipped { .. } => KINDS[6],
            EventData::PhaseFailed { .. } => KINDS[7],
            EventData::PhasePaused { .. } => KINDS[8],
            EventData::PhaseAborted { .. } => KINDS[9],
            EventData::CallSent(_) => KINDS[10],
            EventData::CallAnswered(_) => KINDS[11],
            EventData::Skipped(_) => KINDS[12],
            EventData::CallDescribed(_) => KINDS[13],
            EventData::Verified(_) => KINDS[14],
            EventData::Surveyed(_) => KINDS[15],
            EventData::PlanProposed(_) => KINDS[16],
            EventData::PlanApproved(_) => KINDS[17],
            EventData::StrategyChosen { .. } => KINDS[18],
            EventData::Decided { .. } => KINDS[19],
            EventData::DiffViewed { .. } => KINDS[20],
            EventData::SessionClosed(_) => KINDS[21],
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<EventData> {
        let call = Call::ChangeAssignation {
            source: "lost".into(),
            target: "new".into(),
            skip_inactive: true,
            ids: 2,
            ids_digest: "sha256:ab".into(),
            first_id: Some("00aa".into()),
        };
        vec![
            EventData::ScreenOpened { read_only: true },
            EventData::RunStarted(RunStarted {
                plan_hash: "h".into(),
                incident: "i".into(),
                lost: "lost".into(),
                target: "new".into(),
                strategy: "union".into(),
                dry_run: false,
                resumed: true,
                done_phases: vec![PhaseKind::Isolate],
                runbook: Some(pinned("runbook")),
                sidecar: None,
            }),
            EventData::RunEnded(RunEnded {
                plan_hash: "h".into(),
                ok: true,
                moved: [("p1".to_string(), 4)].into(),
                added: BTreeMap::new(),
                skipped: BTreeMap::new(),
                error: None,
            }),
            EventData::Preflight(PreflightResult {
                plan_hash: "h".into(),
                ok: false,
                problems: vec!["p1 [drift]: x".into()],
            }),
            EventData::PhaseStarted {
                plan_hash: "h".into(),
                phase: PhaseKind::InitTarget,
                participants: vec!["p1".into()],
            },
            EventData::PhaseDone {
                plan_hash: "h".into(),
                phase: PhaseKind::Move,
            },
            EventData::PhaseSkipped {
                plan_hash: "h".into(),
                phase: PhaseKind::Move,
                reason: "done".into(),
            },
            EventData::PhaseFailed {
                plan_hash: "h".into(),
                phase: PhaseKind::Import,
                error: "e".into(),
                code: Some("IMPORT_ACS_ERROR".into()),
            },
            EventData::PhasePaused {
                plan_hash: "h".into(),
                before: PhaseKind::Verify,
            },
            EventData::PhaseAborted {
                plan_hash: "h".into(),
                before: PhaseKind::Purge,
            },
            EventData::CallSent(CallSent {
                plan_hash: "h".into(),
                phase: PhaseKind::Move,
                attempt: 1,
                call: call.clone(),
                request_digest: "sha256:cd".into(),
            }),
            EventData::CallAnswered(CallAnswered {
                phase: PhaseKind::Move,
                rpc: "ChangeAssignation".into(),
                attempt: 1,
                ok: false,
                duration_ms: 3,
                request_digest: "sha256:cd".into(),
                code: Some("CONTRACT_ASSIGNATION_CHANGE_ERROR".into()),
                category: Some(9),
                grpc: Some("FailedPrecondition".into()),
                error: Some("e".into()),
                retry_after_ms: None,
            }),
            EventData::Skipped(Skipped {
                phase: PhaseKind::Move,
                rpc: "ChangeAssignation".into(),
                synchronizer: None,
                reason: None,
                already_on_target: Some(3),
                already_held: None,
            }),
            EventData::CallDescribed(CallDescribed {
                phase: PhaseKind::Isolate,
                call: Call::DisconnectAllSynchronizers {},
                request_digest: "sha256:ef".into(),
            }),
            EventData::Verified(VerifyReport {
                participant: "p1".into(),
                ok: true,
                expected: 4,
                held: 4,
                missing: vec![],
                unexpected: vec![],
                pings: vec![PingResult {
                    to: "p2".into(),
                    ok: true,
                    millis: Some(3),
                    reason: None,
                }],
            }),
            EventData::Surveyed(Surveyed {
                synchronizer: "lost".into(),
                classes: [("agreed".to_string(), 4)].into(),
                contracts: [("p1".to_string(), 6)].into(),
                snapshot: Some(pinned("comparison")),
            }),
            EventData::PlanProposed(PlanProposed {
                plan_hash: "h".into(),
                strategy: "union".into(),
                moved: 6,
                excluded: 3,
                runbook: Some(pinned("runbook")),
                sidecar: Some(pinned("sidecar")),
                survey: Some("sha256:cc".into()),
            }),
            EventData::PlanApproved(PlanApproved {
                plan_hash: "h".into(),
                confirmed_by_typing: "new".into(),
                unattended: false,
            }),
            EventData::StrategyChosen {
                strategy: "union".into(),
            },
            EventData::Decided {
                contract_id: "00aa".into(),
                decision: "purge".into(),
                participant: None,
            },
            EventData::DiffViewed {
                contract_id: "00aa".into(),
            },
            EventData::SessionClosed(SessionClosed {
                front_end: "screen".into(),
            }),
        ]
    }

    fn pinned(kind: &str) -> Pinned {
        Pinned {
            file: format!("j.pins/{kind}-ab.bin"),
            sha256: "sha256:ab".into(),
            bytes: 3,
        }
    }

    #[test]
    fn every_kind_round_trips_through_the_line_shape() {
        let samples = samples();
        let kinds: Vec<&str> = samples.iter().map(EventData::kind).collect();
        assert_eq!(kinds, KINDS, "one sample per kind, in order");
        for e in samples {
            let (kind, data) = e.to_parts().expect("serialise");
            assert_eq!(EventData::from_parts(kind, &data), Ok(Some(e.clone())), "{kind}");
        }
    }

    #[test]
    fn unknown_kinds_are_skipped_and_bad_data_is_an_error() {
        assert_eq!(
            EventData::from_parts("session.joined", &serde_json::json!({})),
            Ok(None)
        );
        let bad = EventData::from_parts("phase.done", &serde_json::json!({"phase": "nowhere"}));
        assert!(bad.is_err_and(|e| e.contains("phase.done")));
    }

    #[test]
    fn what_is_only_looked_at_need_not_be_fsynced() {
        let lazy: Vec<&str> = samples().iter().filter(|e| !e.durable()).map(EventData::kind).collect();
        assert_eq!(
            lazy,
            [
                "dryrun.request",
                "search.result",
                "select.mode",
                "select.decision",
                "view.diff"
            ]
        );
    }
}
