//! The moments of a recorded session, in journal order: what each event changes on the
//! screen, with the report's words for it and whether it is a decision. Pure: the pinned
//! comparisons and plans come in already read ([`Records`]).

use super::Records;
use crate::exec::{Progress, RunReport};
use crate::failure::{Failure, FailureKind};
use crate::journal::{DecisionName, Event, EventData, Journal, report};
use crate::plan::Plan;
use crate::reconcile::{Comparison, ContractId, Decision, StrategyName};
use std::sync::Arc;

/// What one event changes on the screen.
#[derive(Debug, Clone)]
pub enum Change {
    /// The screen opened (its journal began).
    Opened,
    /// A survey: the comparison the screen showed, when its file is pinned and whole.
    Survey {
        synchronizer: String,
        comparison: Option<Arc<Comparison>>,
    },
    Strategy(StrategyName),
    Decided(ContractId, Decision),
    /// A plan proposed: the plan itself, when its runbook is pinned and whole.
    Plan {
        hash: String,
        plan: Option<Arc<Plan>>,
    },
    Approved {
        hash: String,
    },
    /// A run of `plan` starts (the same plan as proposed, or a runbook run on its own).
    RunStarted {
        hash: String,
        plan: Option<Arc<Plan>>,
    },
    /// What a live run reported to the execution screen for this event.
    Run(Vec<Progress>),
    /// Shown in the session journal only.
    Noted,
}

/// One event of the journal as the replay shows it.
#[derive(Debug, Clone)]
pub struct Moment {
    /// Seconds since the session began (the journal's `t`).
    pub t: f64,
    pub ts: String,
    /// The journal line the event is on.
    pub line: usize,
    pub label: String,
    pub decision: bool,
    pub event: Event,
    pub change: Change,
}

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub moments: Vec<Moment>,
}

impl Timeline {
    pub fn build(journal: &Journal, records: &Records) -> Timeline {
        let moments = journal
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let (label, decision) = report::timeline_entry(e).unwrap_or_else(|| (call_label(e), false));
                Moment {
                    t: e.t,
                    ts: e.ts.clone(),
                    line: journal.line_of(i),
                    label,
                    decision,
                    event: e.clone(),
                    change: change_of(e, records),
                }
            })
            .collect();
        Timeline { moments }
    }

    pub fn len(&self) -> usize {
        self.moments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.moments.is_empty()
    }

    /// The index of the first decision after `index` (or from the start, for `None`).
    pub fn next_decision(&self, after: Option<usize>) -> Option<usize> {
        let from = after.map_or(0, |i| i + 1);
        (from..self.moments.len()).find(|&i| self.moments[i].decision)
    }
}

/// What the timeline of the report leaves out (calls, dry-run lines): named by kind and
/// participant.
fn call_label(e: &Event) -> String {
    match (&e.body, e.actor.node.as_deref()) {
        (Some(EventData::CallSent(c)), Some(node)) => format!("{node}: {} sent", c.call.rpc()),
        (Some(EventData::CallAnswered(a)), Some(node)) if a.ok => format!("{node}: {} ok", a.rpc),
        (Some(EventData::CallAnswered(a)), Some(node)) => format!("{node}: {} FAILED", a.rpc),
        (_, Some(node)) => format!("{node}: {}", e.kind),
        (_, None) => e.kind.clone(),
    }
}

fn change_of(e: &Event, records: &Records) -> Change {
    let Some(body) = &e.body else {
        return Change::Noted;
    };
    match body {
        EventData::ScreenOpened { .. } => Change::Opened,
        EventData::Surveyed(s) => Change::Survey {
            synchronizer: s.synchronizer.clone(),
            comparison: s
                .snapshot
                .as_ref()
                .and_then(|p| records.comparisons.get(&p.sha256).cloned()),
        },
        EventData::StrategyChosen { strategy } => Change::Strategy(*strategy),
        EventData::Decided {
            contract_id, decision, ..
        } => match decision {
            DecisionName::Purge => Change::Decided(contract_id.as_str().into(), Decision::Purge),
            DecisionName::Exclude => Change::Decided(contract_id.as_str().into(), Decision::Exclude),
            // Only the first format version wrote it; nothing on screen can show it.
            DecisionName::Adopt => Change::Noted,
        },
        EventData::PlanProposed(p) => Change::Plan {
            hash: p.plan_hash.clone(),
            plan: plan_of(records, p.runbook.as_ref().map(|r| r.sha256.as_str()), &p.plan_hash),
        },
        EventData::PlanApproved(a) => Change::Approved {
            hash: a.plan_hash.clone(),
        },
        EventData::RunStarted(r) => Change::RunStarted {
            hash: r.plan_hash.clone(),
            plan: plan_of(records, r.runbook.as_ref().map(|p| p.sha256.as_str()), &r.plan_hash),
        },
        _ => match progress_of(e) {
            p if p.is_empty() => Change::Noted,
            p => Change::Run(p),
        },
    }
}

/// The plan pinned by this digest, or else any pinned plan with this hash (a run of the
/// plan the screen proposed pins nothing new).
fn plan_of(records: &Records, sha256: Option<&str>, hash: &str) -> Option<Arc<Plan>> {
    sha256
        .and_then(|d| records.plans.get(d))
        .or_else(|| records.plans.values().find(|p| p.hash() == hash))
        .cloned()
}

/// What the execution screen was told at this event during the run: the runner reports a
/// phase's progress and journals it in the same step, so the journal gives it back.
pub fn progress_of(e: &Event) -> Vec<Progress> {
    let Some(body) = &e.body else {
        return Vec::new();
    };
    let journaled = Progress::Journal(Box::new(e.clone()));
    let first = match body {
        EventData::Preflight(p) => Some(Progress::Preflight {
            problems: p.problems.clone(),
            warnings: p.warnings.clone(),
        }),
        EventData::PhaseStarted {
            phase, participants, ..
        } => Some(Progress::PhaseStarted {
            phase: *phase,
            participants: participants.clone(),
        }),
        EventData::PhaseDone { phase, .. } => Some(Progress::PhaseDone { phase: *phase }),
        EventData::PhaseSkipped { phase, reason, .. } => Some(Progress::PhaseSkipped {
            phase: *phase,
            reason: reason.clone(),
        }),
        EventData::PhasePaused { before, .. } => Some(Progress::Paused { before: *before }),
        EventData::PhaseFailed { phase, error, code, .. } => {
            let participant = e.actor.node.clone().unwrap_or_default();
            let kind = match code {
                Some(code) => FailureKind::Canton {
                    code: code.clone(),
                    category: None,
                },
                // The journal keeps the message and the code; a failure without a
                // code is shown as the step's own check, which is what the runner
                // reports for those (a connect that did not succeed, verification).
                None => FailureKind::Check,
            };
            Some(Progress::StepFailed {
                phase: *phase,
                failure: Failure::new(
                    kind,
                    Some(participant.as_str()).filter(|p| !p.is_empty()),
                    error.clone(),
                ),
                participant,
            })
        }
        EventData::RunEnded(r) => {
            return vec![
                journaled,
                Progress::Finished(RunReport {
                    ok: r.ok,
                    moved: r.moved.clone(),
                    added: r.added.clone(),
                    skipped: r.skipped.clone(),
                    journal: String::new(),
                    error: r.error.clone(),
                    dry_run: false,
                    drift: Vec::new(),
                }),
            ];
        }
        EventData::CallSent(_)
        | EventData::CallAnswered(_)
        | EventData::Skipped(_)
        | EventData::Verified(_)
        | EventData::PhaseAborted { .. }
        | EventData::CallDescribed(_) => None,
        _ => return Vec::new(),
    };
    first.into_iter().chain([journaled]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Actor, PlanApproved, RunEnded};
    use crate::plan::PhaseKind;

    fn event(node: Option<&str>, body: EventData) -> Event {
        Event {
            seq: 1,
            ts: "2026-11-03T09:14:01.250Z".into(),
            t: 1.0,
            actor: Actor {
                op: "alice".into(),
                node: node.map(str::to_string),
            },
            kind: body.kind().into(),
            data: serde_json::Value::Null,
            prev: String::new(),
            hash: String::new(),
            body: Some(body),
        }
    }

    #[test]
    fn a_failed_phase_is_the_step_failure_the_screen_showed_with_its_code() {
        let failed = |code: Option<&str>| {
            progress_of(&event(
                Some("p1"),
                EventData::PhaseFailed {
                    plan_hash: "h".into(),
                    phase: PhaseKind::Move,
                    error: "refused".into(),
                    code: code.map(str::to_string),
                },
            ))
        };
        match failed(Some("REPAIR_X")).as_slice() {
            [
                Progress::StepFailed {
                    phase: PhaseKind::Move,
                    participant,
                    failure,
                },
                Progress::Journal(_),
            ] => {
                assert_eq!(participant, "p1");
                assert_eq!(failure.code(), Some("REPAIR_X"));
                assert_eq!(failure.message, "refused");
            }
            other => panic!("{other:?}"),
        }
        match failed(None).as_slice() {
            [Progress::StepFailed { failure, .. }, _] => assert_eq!(failure.code(), None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_end_of_a_run_finishes_the_execution_view_with_its_counts() {
        let ended = progress_of(&event(
            None,
            EventData::RunEnded(RunEnded {
                plan_hash: "h".into(),
                ok: true,
                moved: [("p1".to_string(), 6)].into(),
                added: Default::default(),
                skipped: Default::default(),
                error: None,
            }),
        ));
        match ended.as_slice() {
            [Progress::Journal(_), Progress::Finished(r)] => {
                assert!(r.ok);
                assert_eq!(r.moved.get("p1"), Some(&6));
            }
            other => panic!("{other:?}"),
        }
        let call = EventData::DiffViewed {
            contract_id: "00aa".into(),
        };
        assert!(progress_of(&event(None, call)).is_empty(), "not a run's event");
    }

    #[test]
    fn decisions_are_the_reports_and_next_decision_finds_them_in_order() {
        let journal = Journal {
            header: serde_json::from_value(serde_json::json!({
                "format": "recovery-deck-journal", "version": 3, "incident": "i",
                "started": "2026-11-03T09:14:00Z", "tool": {"name": "recovery-deck", "version": "0"},
                "participants": [], "operator": "alice"
            }))
            .expect("header"),
            events: vec![
                event(None, EventData::ScreenOpened { read_only: false }),
                event(
                    None,
                    EventData::StrategyChosen {
                        strategy: StrategyName::Union,
                    },
                ),
                event(
                    None,
                    EventData::Decided {
                        contract_id: "00aa".into(),
                        decision: DecisionName::Purge,
                        participant: None,
                    },
                ),
                event(
                    None,
                    EventData::PlanApproved(PlanApproved {
                        plan_hash: "h".into(),
                        confirmed_by_typing: "new".into(),
                        unattended: false,
                    }),
                ),
            ],
            torn_tail: false,
        };
        let t = Timeline::build(&journal, &Records::default());
        let flags: Vec<bool> = t.moments.iter().map(|m| m.decision).collect();
        assert_eq!(flags, [false, true, true, true]);
        assert!(matches!(t.moments[1].change, Change::Strategy(StrategyName::Union)));
        assert!(matches!(&t.moments[2].change, Change::Decided(id, Decision::Purge) if &**id == "00aa"));
        assert_eq!(t.moments[3].line, 5, "line 1 is the header");
        assert_eq!(t.next_decision(None), Some(1));
        assert_eq!(t.next_decision(Some(1)), Some(2));
        assert_eq!(t.next_decision(Some(3)), None);
    }
}
