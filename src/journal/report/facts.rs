//! What a journal says happened, gathered from its events: which plan the session was
//! about, the runs of it with their phase × participant outcomes, the verification. Pure;
//! the report renders these, and a playback can read them too.

use crate::journal::{EventData, Journal, Pinned, PlanApproved, PlanProposed, RunEnded, RunStarted, VerifyReport};
use crate::plan::PhaseKind;
use std::collections::BTreeMap;

/// The plan the report is about and where its records are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Focus {
    pub plan_hash: Option<String>,
    /// The runbook (and sidecar) pinned for that plan, with the index of the event that
    /// pins them.
    pub runbook: Option<(usize, Pinned, Option<Pinned>)>,
    /// The `search.result` the plan was made from (index of the event).
    pub survey: Option<usize>,
    /// The `plan.proposed` of that plan (the last, if it was proposed again).
    pub proposed: Option<usize>,
    /// The last `plan.approved` of that plan.
    pub approved: Option<usize>,
}

/// Picks the plan the session was about: the one executed last (not as a dry run), else
/// the one approved last, else the one dry-run or proposed last; and its records.
pub fn focus(journal: &Journal) -> Focus {
    let bodies: Vec<Option<&EventData>> = journal.events.iter().map(|e| e.body.as_ref()).collect();
    let last = |pred: &dyn Fn(&EventData) -> bool| bodies.iter().rposition(|b| b.is_some_and(pred));
    let hash_at = |i: usize| bodies[i].and_then(EventData::plan_hash).map(str::to_string);
    let plan_hash = last(&|b| matches!(b, EventData::RunStarted(r) if !r.dry_run))
        .or_else(|| last(&|b| matches!(b, EventData::PlanApproved(_))))
        .or_else(|| last(&|b| matches!(b, EventData::RunStarted(_) | EventData::PlanProposed(_))))
        .and_then(hash_at);
    let Some(hash) = plan_hash else {
        return Focus {
            survey: last(&|b| matches!(b, EventData::Surveyed(_))),
            ..Focus::default()
        };
    };
    let proposed = last(&|b| matches!(b, EventData::PlanProposed(p) if p.plan_hash == hash));
    let approved = last(&|b| matches!(b, EventData::PlanApproved(p) if p.plan_hash == hash));
    let runbook = bodies.iter().enumerate().rev().find_map(|(i, b)| match b {
        Some(EventData::RunStarted(RunStarted {
            plan_hash,
            runbook: Some(r),
            sidecar,
            ..
        }))
        | Some(EventData::PlanProposed(PlanProposed {
            plan_hash,
            runbook: Some(r),
            sidecar,
            ..
        })) if *plan_hash == hash => Some((i, r.clone(), sidecar.clone())),
        _ => None,
    });
    let survey = proposed.and_then(|p| {
        let Some(EventData::PlanProposed(proposal)) = bodies[p] else {
            return None;
        };
        let surveyed_before = |pred: &dyn Fn(&crate::journal::Surveyed) -> bool| {
            bodies[..p]
                .iter()
                .rposition(|b| matches!(b, Some(EventData::Surveyed(s)) if pred(s)))
        };
        match &proposal.survey {
            Some(digest) => surveyed_before(&|s| s.snapshot.as_ref().is_some_and(|f| &f.sha256 == digest)),
            None => surveyed_before(&|_| true),
        }
    });
    // Without a proposal (a runbook made elsewhere), the survey of the lost synchronizer
    // closest before the run.
    let survey = survey.or_else(|| {
        let run = bodies
            .iter()
            .rposition(|b| matches!(b, Some(EventData::RunStarted(r)) if r.plan_hash == hash))?;
        let Some(EventData::RunStarted(r)) = bodies[run] else {
            return None;
        };
        bodies[..run]
            .iter()
            .rposition(|b| matches!(b, Some(EventData::Surveyed(s)) if s.synchronizer == r.lost))
    });
    Focus {
        plan_hash: Some(hash),
        runbook,
        survey,
        proposed,
        approved,
    }
}

/// Every operator who acted in the journal, in order of first appearance, the header's
/// operator first.
pub fn operators(journal: &Journal) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for op in std::iter::once(&journal.header.operator).chain(journal.events.iter().map(|e| &e.actor.op)) {
        if !op.is_empty() && !out.contains(op) {
            out.push(op.clone());
        }
    }
    out
}

/// What one participant did in one phase of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    /// Calls answered (every attempt).
    pub calls: usize,
    /// Attempts after the first of a call.
    pub retries: usize,
    /// Milliseconds the participant took to answer, summed over its calls.
    pub call_ms: u64,
    /// Contracts the calls that succeeded carried.
    pub contracts: usize,
    /// Work a rerun found already done and did not send again.
    pub skipped: usize,
    /// Canton codes of the failed attempts, with how often each came.
    pub codes: BTreeMap<String, usize>,
    /// The phase failed on this participant: the error.
    pub failed: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseOutcome {
    Done,
    /// Done in an earlier run (the journal said so); skipped in this one.
    DoneBefore,
    Failed,
    /// The operator stopped the run before it.
    Aborted,
    /// Started and never finished: the journal ends in it.
    Unfinished,
    /// Described only (a dry run).
    Described,
}

impl PhaseOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseOutcome::Done => "done",
            PhaseOutcome::DoneBefore => "done in an earlier run",
            PhaseOutcome::Failed => "FAILED",
            PhaseOutcome::Aborted => "stopped by the operator before it",
            PhaseOutcome::Unfinished => "unfinished (the journal ends in it)",
            PhaseOutcome::Described => "described (dry run)",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PhaseRun {
    pub phase: PhaseKind,
    pub outcome: PhaseOutcome,
    /// Index of the event that started it.
    pub started: Option<usize>,
    /// Seconds from its start to its end, when both are in the journal.
    pub seconds: Option<f64>,
    pub cells: BTreeMap<String, Cell>,
}

/// One run of a plan, `session.start` to `session.end`.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub start: usize,
    pub started: RunStarted,
    pub operator: String,
    pub preflight: Option<(bool, Vec<String>)>,
    pub phases: Vec<PhaseRun>,
    pub paused: Vec<(usize, PhaseKind)>,
    pub ended: Option<(usize, RunEnded)>,
    /// Calls a dry run described.
    pub described: usize,
    pub verified: BTreeMap<String, VerifyReport>,
}

/// The runs the journal records, in order.
pub fn runs(journal: &Journal) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for (i, e) in journal.events.iter().enumerate() {
        let Some(body) = &e.body else { continue };
        if let EventData::RunStarted(r) = body {
            runs.push(Run {
                start: i,
                started: r.clone(),
                operator: e.actor.op.clone(),
                preflight: None,
                phases: Vec::new(),
                paused: Vec::new(),
                ended: None,
                described: 0,
                verified: BTreeMap::new(),
            });
            continue;
        }
        let Some(run) = runs.last_mut().filter(|r| r.ended.is_none()) else {
            continue;
        };
        let node = e.actor.node.clone().unwrap_or_default();
        match body {
            EventData::Preflight(p) => run.preflight = Some((p.ok, p.problems.clone())),
            EventData::PhaseStarted {
                phase, participants, ..
            } => {
                let outcome = if run.started.dry_run {
                    PhaseOutcome::Described
                } else {
                    PhaseOutcome::Unfinished
                };
                run.phases.push(PhaseRun {
                    phase: *phase,
                    outcome,
                    started: Some(i),
                    seconds: None,
                    cells: participants.iter().map(|p| (p.clone(), Cell::default())).collect(),
                });
            }
            EventData::PhaseSkipped { phase, .. } => run.phases.push(PhaseRun {
                phase: *phase,
                outcome: PhaseOutcome::DoneBefore,
                started: None,
                seconds: None,
                cells: BTreeMap::new(),
            }),
            EventData::PhaseDone { phase, .. } | EventData::PhaseFailed { phase, .. } => {
                let failed = matches!(body, EventData::PhaseFailed { .. });
                if let Some(p) = run.phases.iter_mut().rev().find(|p| p.phase == *phase) {
                    p.outcome = if failed {
                        PhaseOutcome::Failed
                    } else {
                        PhaseOutcome::Done
                    };
                    p.seconds = p.started.map(|s| e.t - journal.events[s].t);
                    if let EventData::PhaseFailed { error, code, .. } = body {
                        let cell = p.cells.entry(node).or_default();
                        cell.failed = Some(match code {
                            Some(c) => format!("{c}: {error}"),
                            None => error.clone(),
                        });
                    }
                }
            }
            EventData::PhasePaused { before, .. } => run.paused.push((i, *before)),
            EventData::PhaseAborted { before, .. } => run.phases.push(PhaseRun {
                phase: *before,
                outcome: PhaseOutcome::Aborted,
                started: None,
                seconds: None,
                cells: BTreeMap::new(),
            }),
            EventData::CallAnswered(a) => {
                if let Some(p) = run.phases.iter_mut().rev().find(|p| p.phase == a.phase) {
                    let cell = p.cells.entry(node).or_default();
                    cell.calls += 1;
                    cell.call_ms += a.duration_ms;
                    if a.attempt > 1 {
                        cell.retries += 1;
                    }
                    if let Some(code) = &a.code {
                        *cell.codes.entry(code.clone()).or_default() += 1;
                    }
                    if a.ok {
                        cell.contracts += contracts_of(journal, i, &a.request_digest);
                    }
                }
            }
            EventData::Skipped(s) => {
                if let Some(p) = run.phases.iter_mut().rev().find(|p| p.phase == s.phase) {
                    let cell = p.cells.entry(node).or_default();
                    cell.skipped += s.already_on_target.or(s.already_held).unwrap_or(1);
                }
            }
            EventData::CallDescribed(_) => run.described += 1,
            EventData::Verified(v) => {
                run.verified.insert(v.participant.clone(), v.clone());
            }
            EventData::RunEnded(r) => run.ended = Some((i, r.clone())),
            _ => {}
        }
    }
    runs
}

/// The contracts carried by the request an answer belongs to (the closest `exec.request`
/// before it with the same digest).
fn contracts_of(journal: &Journal, answer: usize, digest: &str) -> usize {
    journal.events[..answer]
        .iter()
        .rev()
        .find_map(|e| match &e.body {
            Some(EventData::CallSent(s)) if s.request_digest == digest => Some(s.call.ids()),
            _ => None,
        })
        .unwrap_or(0)
}

/// Every approval of the focused plan, in order: who, when, how.
pub fn approvals<'a>(journal: &'a Journal, focus: &Focus) -> Vec<(&'a crate::journal::Event, &'a PlanApproved)> {
    journal
        .events
        .iter()
        .filter_map(|e| match &e.body {
            Some(EventData::PlanApproved(a)) if Some(&a.plan_hash) == focus.plan_hash.as_ref() => Some((e, a)),
            _ => None,
        })
        .collect()
}

/// Seconds from the focused plan's first isolation to its reconnection to the target,
/// with the index of the isolation's start: how long the repair kept the participants
/// off every synchronizer, across reruns.
pub fn repair_window(journal: &Journal, focus: &Focus) -> Option<(usize, f64)> {
    let hash = focus.plan_hash.as_deref()?;
    let start = journal.events.iter().position(|e| {
        matches!(&e.body, Some(EventData::PhaseStarted { plan_hash, phase: PhaseKind::Isolate, .. }) if plan_hash == hash)
    })?;
    let end = journal.events.iter().rposition(|e| {
        matches!(&e.body, Some(EventData::PhaseDone { plan_hash, phase: PhaseKind::Reconnect }) if plan_hash == hash)
    })?;
    Some((start, journal.events[end].t - journal.events[start].t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Actor, CallAnswered, CallSent, Event, Header, Surveyed};
    use crate::journal::{Call, EventData as E};

    fn journal(bodies: Vec<(Option<&str>, E)>) -> Journal {
        let events = bodies
            .into_iter()
            .enumerate()
            .map(|(i, (node, body))| {
                let (kind, data) = body.to_parts().expect("parts");
                Event {
                    seq: i as u64 + 1,
                    ts: format!("2026-11-03T09:00:{:02}.000Z", i),
                    t: i as f64,
                    actor: Actor {
                        op: if i == 0 { "alice".into() } else { "bob".into() },
                        node: node.map(str::to_string),
                    },
                    kind: kind.into(),
                    data,
                    prev: String::new(),
                    hash: String::new(),
                    body: Some(body),
                }
            })
            .collect();
        Journal {
            header: Header::new("drill", "alice", Vec::new()),
            events,
            torn_tail: false,
        }
    }

    fn surveyed(digest: &str) -> E {
        E::Surveyed(Surveyed {
            synchronizer: "lost".into(),
            classes: BTreeMap::new(),
            contracts: BTreeMap::new(),
            snapshot: Some(Pinned {
                file: format!("j.pins/comparison-{digest}.jsonl.gz"),
                sha256: format!("sha256:{digest}"),
                bytes: 1,
            }),
        })
    }

    fn proposed(hash: &str, survey: &str) -> E {
        E::PlanProposed(PlanProposed {
            plan_hash: hash.into(),
            strategy: crate::reconcile::StrategyName::Union,
            moved: 1,
            excluded: 0,
            runbook: Some(Pinned {
                file: format!("j.pins/runbook-{hash}.toml"),
                sha256: format!("sha256:{hash}"),
                bytes: 1,
            }),
            sidecar: None,
            survey: Some(format!("sha256:{survey}")),
        })
    }

    fn started(hash: &str, dry_run: bool) -> E {
        E::RunStarted(RunStarted {
            plan_hash: hash.into(),
            incident: "drill".into(),
            lost: "lost".into(),
            target: "new".into(),
            strategy: crate::reconcile::StrategyName::Union,
            dry_run,
            resumed: false,
            done_phases: Vec::new(),
            runbook: None,
            sidecar: None,
        })
    }

    #[test]
    fn the_focus_is_the_plan_executed_with_the_survey_it_was_made_from() {
        let j = journal(vec![
            (None, surveyed("s1")),
            (None, surveyed("s2")),
            (None, proposed("h1", "s1")),
            (None, proposed("h2", "s2")),
            (None, started("h2", true)),
            (None, proposed("h1", "s1")),
            (
                None,
                E::PlanApproved(PlanApproved {
                    plan_hash: "h1".into(),
                    confirmed_by_typing: "new".into(),
                    unattended: false,
                }),
            ),
            (None, started("h1", false)),
            (None, proposed("h3", "s2")),
        ]);
        let f = focus(&j);
        assert_eq!(f.plan_hash.as_deref(), Some("h1"), "executed beats proposed later");
        assert_eq!(f.proposed, Some(5));
        assert_eq!(f.approved, Some(6));
        assert_eq!(f.survey, Some(0), "the survey its proposal names, not the latest");
        assert_eq!(f.runbook.as_ref().map(|r| r.0), Some(5));
        let only_dry = journal(vec![
            (None, surveyed("s1")),
            (None, proposed("h2", "s1")),
            (None, started("h2", true)),
        ]);
        assert_eq!(focus(&only_dry).plan_hash.as_deref(), Some("h2"));
        assert_eq!(focus(&journal(vec![(None, surveyed("s1"))])).survey, Some(0));
    }

    #[test]
    fn runs_gather_calls_retries_codes_and_outcomes_per_phase_and_participant() {
        let call = Call::ChangeAssignation {
            source: "lost".into(),
            target: "new".into(),
            skip_inactive: true,
            ids: 3,
            ids_digest: "sha256:i".into(),
            first_id: None,
        };
        let answered = |attempt: u32, ok: bool| {
            E::CallAnswered(CallAnswered {
                phase: PhaseKind::Move,
                rpc: crate::journal::Rpc::ChangeAssignation,
                attempt,
                ok,
                duration_ms: 10,
                request_digest: "sha256:r".into(),
                code: (!ok).then(|| "SYNC_SERVICE_BAD_CONNECTIVITY".into()),
                category: None,
                grpc: None,
                error: None,
                retry_after_ms: None,
            })
        };
        let j = journal(vec![
            (None, started("h", false)),
            (
                None,
                E::PhaseStarted {
                    plan_hash: "h".into(),
                    phase: PhaseKind::Move,
                    participants: vec!["p1".into(), "p2".into()],
                },
            ),
            (
                Some("p1"),
                E::CallSent(CallSent {
                    plan_hash: "h".into(),
                    phase: PhaseKind::Move,
                    attempt: 1,
                    call,
                    request_digest: "sha256:r".into(),
                }),
            ),
            (Some("p1"), answered(1, false)),
            (Some("p1"), answered(2, true)),
            (
                Some("p2"),
                E::PhaseFailed {
                    plan_hash: "h".into(),
                    phase: PhaseKind::Move,
                    error: "refused".into(),
                    code: Some("CONTRACT_ASSIGNATION_CHANGE_ERROR".into()),
                },
            ),
        ]);
        let runs = runs(&j);
        assert_eq!(runs.len(), 1);
        let phase = &runs[0].phases[0];
        assert_eq!(phase.outcome, PhaseOutcome::Failed);
        assert_eq!(phase.seconds, Some(4.0));
        let p1 = &phase.cells["p1"];
        assert_eq!((p1.calls, p1.retries, p1.call_ms, p1.contracts), (2, 1, 20, 3));
        assert_eq!(p1.codes["SYNC_SERVICE_BAD_CONNECTIVITY"], 1);
        assert!(
            phase.cells["p2"]
                .failed
                .as_deref()
                .is_some_and(|f| f.starts_with("CONTRACT_ASSIGNATION"))
        );
        assert!(runs[0].ended.is_none(), "the journal ends inside the run");
        assert_eq!(operators(&j), ["alice", "bob"]);
    }
}
