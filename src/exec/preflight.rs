//! Checks before the first state-changing call: every participant reachable, running a
//! Canton release recovery-deck serves, and still hosting what it must move; both
//! synchronizers registered; no new transaction in flight on the lost synchronizer; no
//! import that the receiving participant's Canton would refuse for its reassignment
//! counters; and the participants' holdings still those the plan was made from (on a
//! resumed run: changed only in the ways the plan itself changes them).

use super::Participants;
use crate::client::version::Line;
use crate::client::{ClientError, ParticipantApi};
use crate::plan::{Action, DriftKind, DriftRow, PhaseKind, Plan};
use crate::reconcile::ContractId;
use crate::survey;
use crate::survey::SearchFilter;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PreflightProblem {
    pub participant: String,
    pub check: &'static str,
    pub message: String,
    /// For the `drift` check: the rows that changed, by contract id.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<DriftRow>,
}

impl fmt::Display for PreflightProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]: {}", self.participant, self.check, self.message)
    }
}

/// Ids the plan purges, imports and moves on `participant`.
fn planned(plan: &Plan, participant: &str) -> (BTreeSet<ContractId>, BTreeSet<ContractId>, BTreeSet<ContractId>) {
    let (mut purge, mut import, mut moves) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for phase in plan.phases() {
        for step in phase.steps.iter().filter(|s| s.participant == participant) {
            let set = match step.action {
                Action::PurgeContracts { .. } => &mut purge,
                Action::ImportAcs { .. } => &mut import,
                Action::ChangeAssignation { .. } => &mut moves,
                _ => continue,
            };
            set.extend(step.action.contract_ids().iter().cloned());
        }
    }
    (purge, import, moves)
}

/// "3 row(s) changed on lostDomain since the plan was made (1 appeared, 2 disappeared): 00ab…, …"
fn drift_summary(lost: &str, rows: &[DriftRow]) -> String {
    let kinds = [
        (DriftKind::Appeared, "appeared"),
        (DriftKind::Disappeared, "disappeared"),
        (DriftKind::PayloadChanged, "with another payload"),
    ];
    let counts: Vec<String> = kinds
        .iter()
        .map(|(k, word)| (rows.iter().filter(|r| r.kind() == *k).count(), word))
        .filter(|(n, _)| *n > 0)
        .map(|(n, word)| format!("{n} {word}"))
        .collect();
    let ids: Vec<ContractId> = rows.iter().map(|r| r.contract_id.clone()).collect();
    format!(
        "{} row(s) changed on {lost} since the plan was made ({}): {}",
        rows.len(),
        counts.join(", "),
        shown(&ids)
    )
}

fn shown(ids: &[ContractId]) -> String {
    let mut v: Vec<String> = ids
        .iter()
        .take(5)
        .map(|i| i.chars().take(20).collect::<String>() + "…")
        .collect();
    if ids.len() > 5 {
        v.push(format!("and {} more", ids.len() - 5));
    }
    v.join(", ")
}

/// What preflight learned of one participant.
struct Checked {
    problems: Vec<PreflightProblem>,
    holding: Option<survey::Holding>,
    line: Option<Line>,
}

async fn check_one(plan: &Plan, api: &dyn ParticipantApi, lost_id: Option<&str>, resumed: bool) -> Checked {
    let name = api.name().to_string();
    let problem = |check: &'static str, message: String| PreflightProblem {
        participant: name.clone(),
        check,
        message,
        drift: Vec::new(),
    };
    let refused = |problem: PreflightProblem| Checked {
        problems: vec![problem],
        holding: None,
        line: None,
    };
    let line = match api.canton_line().await {
        Ok(line) => line,
        Err(e @ ClientError::Unsupported { .. }) => return refused(problem("version", e.to_string())),
        Err(e) => return refused(problem("reachable", e.to_string())),
    };
    let mut problems = Vec::new();
    match api.list_registered().await {
        Ok(regs) => {
            for alias in [plan.lost(), plan.target()] {
                if !regs.iter().any(|r| r.alias == alias) {
                    problems.push(problem(
                        "registered",
                        format!("no synchronizer {alias} is registered; register it before the recovery"),
                    ));
                }
            }
        }
        Err(e) => problems.push(problem("registered", e.to_string())),
    }
    let Some(lost_id) = lost_id else {
        return Checked {
            problems,
            holding: None,
            line: Some(line),
        };
    };
    match api.count_in_flight(lost_id).await {
        Ok(now) => {
            let ack = plan.in_flight().get(&name).copied().unwrap_or_default();
            if now.pending_submissions > ack.pending_submissions || now.pending_transactions > ack.pending_transactions
            {
                problems.push(problem(
                    "in_flight",
                    format!(
                        "{} submission(s) and {} transaction(s) in flight on {}, the plan acknowledged {} and {}: the synchronizer may still be processing; make a new plan once it is certainly gone",
                        now.pending_submissions, now.pending_transactions, plan.lost(), ack.pending_submissions, ack.pending_transactions
                    ),
                ));
            }
        }
        Err(e) => problems.push(problem("in_flight", e.to_string())),
    }
    let holding = match survey::holding(api, lost_id, &SearchFilter::default(), false).await {
        Ok(h) => h,
        Err(e) => {
            problems.push(problem("drift", e.to_string()));
            return Checked {
                problems,
                holding: None,
                line: Some(line),
            };
        }
    };
    if let Some(expected) = plan.expected(&name) {
        let drift = expected.check(&holding.snapshot);
        let (purge, import, moves) = planned(plan, &name);
        // On a resumed run, what the plan itself imported, purged or moved is not drift.
        let rows: Vec<DriftRow> = drift
            .rows
            .into_iter()
            .filter(|r| match r.kind() {
                DriftKind::Appeared => !(resumed && import.contains(&r.contract_id)),
                DriftKind::Disappeared => {
                    !(resumed && (purge.contains(&r.contract_id) || moves.contains(&r.contract_id)))
                }
                DriftKind::PayloadChanged => true,
            })
            .collect();
        let mut said = Vec::new();
        if !rows.is_empty() {
            said.push(drift_summary(plan.lost(), &rows));
        }
        if drift.unnamed_payload_change {
            said.push(
                "a payload changed since the plan was made, and the plan (from a version 1 runbook) cannot say which"
                    .into(),
            );
        }
        if !said.is_empty() {
            problems.push(PreflightProblem {
                drift: rows,
                ..problem("drift", said.join("; "))
            });
        }
    } else {
        problems.push(problem(
            "drift",
            "the plan has no expected holdings for this participant".into(),
        ));
    }
    Checked {
        problems,
        holding: Some(holding),
        line: Some(line),
    }
}

/// Runs every check; an empty list means the run may start. `done` are the phases the
/// journal records as complete (a resumed run).
pub async fn preflight(plan: &Plan, participants: &Participants, done: &BTreeSet<PhaseKind>) -> Vec<PreflightProblem> {
    let resumed = done.iter().any(|p| *p != PhaseKind::Isolate);
    let apis: Vec<_> = plan
        .participants()
        .iter()
        .filter_map(|n| participants.get(n).cloned())
        .collect();
    // An unsupported release is refused first: its answers to the next calls are laid out
    // differently (3.3's GetSynchronizerId has no logical id where 3.4+ puts it).
    let unsupported: Vec<PreflightProblem> = futures::future::join_all(apis.iter().map(|a| a.canton_line()))
        .await
        .into_iter()
        .zip(&apis)
        .filter_map(|(line, api)| match line {
            Err(e @ ClientError::Unsupported { .. }) => Some(PreflightProblem {
                participant: api.name().to_string(),
                check: "version",
                message: e.to_string(),
                drift: Vec::new(),
            }),
            _ => None,
        })
        .collect();
    if !unsupported.is_empty() {
        return unsupported;
    }
    let lost_id = match survey::synchronizer_id(&apis, plan.lost()).await {
        Ok(id) => Some(id),
        Err(e) => {
            return vec![PreflightProblem {
                participant: "all".into(),
                check: "registered",
                message: e.to_string(),
                drift: Vec::new(),
            }];
        }
    };
    let results = futures::future::join_all(
        apis.iter()
            .map(|a| check_one(plan, a.as_ref(), lost_id.as_deref(), resumed)),
    )
    .await;
    let mut problems = Vec::new();
    let mut stakeholders: HashMap<ContractId, Vec<String>> = HashMap::new();
    let mut hosted: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut counters: HashMap<String, BTreeMap<ContractId, u64>> = HashMap::new();
    let mut lines: HashMap<String, Line> = HashMap::new();
    for (api, checked) in apis.iter().zip(results) {
        problems.extend(checked.problems);
        if let Some(line) = checked.line {
            lines.insert(api.name().to_string(), line);
        }
        if let Some(h) = checked.holding {
            for c in &h.snapshot.contracts {
                stakeholders
                    .entry(c.contract_id.clone())
                    .or_insert_with(|| c.stakeholders.iter().map(|s| s.to_string()).collect());
            }
            counters.insert(h.snapshot.participant.clone(), h.nonzero_counters);
            hosted.insert(h.snapshot.participant.clone(), h.snapshot.hosted_parties);
        }
    }
    // Each participant must still host a stakeholder of everything it is to move.
    for (name, parties) in &hosted {
        let orphans: Vec<ContractId> = plan
            .moved_by(name)
            .into_iter()
            .filter(|id| {
                stakeholders
                    .get(id)
                    .is_some_and(|s| !s.iter().any(|p| parties.contains(p)))
            })
            .collect();
        if !orphans.is_empty() {
            problems.push(PreflightProblem {
                participant: name.clone(),
                check: "hosting",
                message: format!(
                    "hosts no stakeholder of {} contract(s) it must move: {}",
                    orphans.len(),
                    shown(&orphans)
                ),
                drift: Vec::new(),
            });
        }
    }
    if !done.contains(&PhaseKind::Import) {
        problems.extend(counter_problems(plan, participants, &lines, &counters));
    }
    problems
}

/// Imports of contracts whose reassignment counter is not 0 fail on Canton 3.4 always and
/// on 3.5+ unless the receiving participant enables all Ledger API reassignments; found
/// here, before anything is disconnected, rather than as an IMPORT_ACS_ERROR mid-run.
/// Rewriting a counter is a decision for people (it changes what commitments say), so it
/// is never done silently.
fn counter_problems(
    plan: &Plan,
    participants: &Participants,
    lines: &HashMap<String, Line>,
    counters: &HashMap<String, BTreeMap<ContractId, u64>>,
) -> Vec<PreflightProblem> {
    let mut problems = Vec::new();
    for step in plan.phase(PhaseKind::Import).into_iter().flat_map(|p| &p.steps) {
        let Action::ImportAcs {
            source_participant,
            contract_ids,
            ..
        } = &step.action
        else {
            continue;
        };
        let (Some(line), Some(held)) = (lines.get(&step.participant), counters.get(source_participant)) else {
            continue;
        };
        let enabled = participants
            .get(&step.participant)
            .is_some_and(|p| p.enables_all_reassignments());
        if line.imports_nonzero_counters(enabled) {
            continue;
        }
        let offenders: Vec<(&ContractId, u64)> = contract_ids
            .iter()
            .filter_map(|id| held.get(id).map(|c| (id, *c)))
            .collect();
        if offenders.is_empty() {
            continue;
        }
        let listed: Vec<String> = offenders
            .iter()
            .take(5)
            .map(|(id, c)| format!("{}…={c}", id.chars().take(20).collect::<String>()))
            .collect();
        let why = if *line == Line::V3_4 {
            "Canton 3.4 refuses every import of such a contract".to_string()
        } else {
            format!(
                "Canton {line} refuses such imports unless the participant runs with enable-all-ledger-api-reassignments (if it does, set enable_all_ledger_api_reassignments = true for {} in the incident config)",
                step.participant
            )
        };
        problems.push(PreflightProblem {
            participant: step.participant.clone(),
            check: "counters",
            message: format!(
                "must import {} contract(s) from {source_participant} whose reassignment counter is not 0 ({}): {why}; leave these rows out of the plan (--exclude ID) or decide them otherwise. recovery-deck never rewrites a counter",
                offenders.len(),
                listed.join(", ")
            ),
            drift: Vec::new(),
        });
    }
    problems
}
