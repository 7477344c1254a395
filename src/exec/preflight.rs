//! Checks before the first state-changing call: every participant reachable, running a
//! Canton release recovery-deck serves, and still hosting what it must move; both
//! synchronizers registered; the lost synchronizer certainly lost (no healthy connection
//! to it, no new transaction in flight there, unless forced); no
//! import that the receiving participant's Canton would refuse for its reassignment
//! counters; and the participants' holdings still those the plan was made from, or
//! changed only in the ways the plan itself changes them (`state`): what is already done
//! is read from the participants, so a run resumes from any journal, or none.

mod participant;

use super::Participants;
use super::held::Holds;
use super::state::{self, DoneBy, GoneRow};
use super::vetting::{self, ByPackage};
use crate::client::version::Line;
use crate::client::{ClientError, ParticipantApi};
use crate::plan::{Action, DriftKind, DriftRow, PhaseKind, Plan};
use crate::reconcile::ContractId;
use crate::survey;
use participant::check_one;
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

fn short(id: &str) -> String {
    id.chars().take(20).collect::<String>() + "…"
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
    listed(ids.iter().map(|i| short(i)).collect())
}

/// At most five items, and how many more.
fn listed(items: Vec<String>) -> String {
    let n = items.len();
    let mut v: Vec<String> = items.into_iter().take(5).collect();
    if n > 5 {
        v.push(format!("and {} more", n - 5));
    }
    v.join(", ")
}

fn shown_rows(rows: &[GoneRow]) -> String {
    listed(
        rows.iter()
            .map(|r| format!("{} ({})", short(&r.id), r.became))
            .collect(),
    )
}

/// What preflight found: the problems that refuse the run, what it warns about, and the
/// phases the participants' state (or, for what leaves no trace, the journal) shows done.
#[derive(Debug, Clone, Default)]
pub struct Preflight {
    pub problems: Vec<PreflightProblem>,
    pub warnings: Vec<PreflightProblem>,
    pub done: BTreeMap<PhaseKind, DoneBy>,
    /// Per participant and phase: planned contracts found already done.
    pub already: BTreeMap<String, BTreeMap<PhaseKind, usize>>,
    /// Participants that never connected to the target, so whose vetting there can only
    /// be read after init_target connects them: what they must move there, by package.
    pub vetting_after_connect: BTreeMap<String, ByPackage>,
    /// The target's logical id, when preflight resolved it.
    pub target_id: Option<String>,
}

/// Runs every check; an empty problem list means the run may start. `journal_done` are
/// the phases the journal records as complete for this plan: they count only for what
/// the participants' state cannot show (see `state::done_phases`). `force` turns the
/// refusals of a synchronizer that is not certainly lost (a healthy connection, new
/// transactions in flight) into warnings.
pub async fn preflight(
    plan: &Plan,
    participants: &Participants,
    journal_done: &BTreeSet<PhaseKind>,
    force: bool,
) -> Preflight {
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
        return Preflight {
            problems: unsupported,
            ..Preflight::default()
        };
    }
    let lost_id = match survey::synchronizer_id(&apis, plan.lost()).await {
        Ok(id) => Some(id),
        Err(e) => {
            return Preflight {
                problems: vec![PreflightProblem {
                    participant: "all".into(),
                    check: "registered",
                    message: e.to_string(),
                    drift: Vec::new(),
                }],
                ..Preflight::default()
            };
        }
    };
    let results = futures::future::join_all(
        apis.iter()
            .map(|a| check_one(plan, a.as_ref(), lost_id.as_deref(), force)),
    )
    .await;
    let mut out = Preflight::default();
    // What each participant holds, in plan order: a contract's stakeholders and package are
    // those the first participant holding it reports.
    let mut held: Vec<(String, Holds<'_>)> = Vec::new();
    let mut lines: HashMap<String, Line> = HashMap::new();
    let mut standings = Vec::new();
    let mut to_move: Vec<(usize, Vec<ContractId>)> = Vec::new();
    for (i, (api, checked)) in apis.iter().zip(results).enumerate() {
        let name = api.name().to_string();
        out.problems.extend(checked.problems);
        out.warnings.extend(checked.warnings);
        if let Some(line) = checked.line {
            lines.insert(name.clone(), line);
        }
        if let Some(h) = checked.holds {
            held.push((name.clone(), h));
        }
        if let Some(mut s) = checked.standing {
            to_move.push((i, std::mem::take(&mut s.to_move)));
            let already = [PhaseKind::Purge, PhaseKind::Import, PhaseKind::Move]
                .into_iter()
                .map(|p| (p, s.already(p)))
                .collect();
            out.already.insert(name, already);
            standings.push(s);
        }
    }
    let stakeholders_of = |id: &str| held.iter().find_map(|(_, h)| h.stakeholders(id));
    // Each participant must still host a stakeholder of everything it is to move.
    for (name, h) in &held {
        let orphans: Vec<ContractId> = plan
            .moved_by(name)
            .into_iter()
            .filter(|id| stakeholders_of(id).is_some_and(|s| !s.iter().any(|p| h.hosted.contains(p))))
            .collect();
        if !orphans.is_empty() {
            out.problems.push(PreflightProblem {
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
    if standings.len() == apis.len() {
        out.done = state::done_phases(&standings, journal_done);
    }
    check_vetting(plan, &apis, &held, &to_move, &mut out).await;
    if !out.done.contains_key(&PhaseKind::Import) {
        out.problems.extend(counter_problems(plan, participants, &lines, &held));
    }
    out
}

/// Refuses what a participant would move onto a package it has not vetted on the target
/// (see `vetting`); a participant without a topology store for the target yet is left to
/// init_target's check.
async fn check_vetting(
    plan: &Plan,
    apis: &[std::sync::Arc<dyn ParticipantApi>],
    held: &[(String, Holds<'_>)],
    to_move: &[(usize, Vec<ContractId>)],
    out: &mut Preflight,
) {
    let package_of = |id: &str| held.iter().find_map(|(_, h)| h.package(id));
    let needed: Vec<(usize, ByPackage)> = to_move
        .iter()
        .map(|(i, ids)| (*i, vetting::by_package(ids, &package_of)))
        .filter(|(_, by)| !by.is_empty())
        .collect();
    if needed.is_empty() {
        return;
    }
    let problem = |participant: &str, message: String| PreflightProblem {
        participant: participant.to_string(),
        check: "vetting",
        message,
        drift: Vec::new(),
    };
    let target_id = match survey::synchronizer_id(apis, plan.target()).await {
        Ok(id) => id,
        Err(e) => {
            out.problems
                .push(problem("all", format!("resolving {}: {e}", plan.target())));
            return;
        }
    };
    for (i, needed) in needed {
        let api = apis[i].as_ref();
        match vetting::unvetted(api, &target_id, &needed).await {
            Ok(Some(missing)) => out.problems.extend(
                missing
                    .iter()
                    .map(|(package, ids)| problem(api.name(), vetting::unvetted_text(plan.target(), package, ids))),
            ),
            Ok(None) => {
                out.vetting_after_connect.insert(api.name().to_string(), needed);
            }
            Err(e) => out.problems.push(problem(
                api.name(),
                format!("could not read its vetted packages on {}: {e}", plan.target()),
            )),
        }
    }
    out.target_id = Some(target_id);
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
    held: &[(String, Holds<'_>)],
) -> Vec<PreflightProblem> {
    let counters = |participant: &str| {
        held.iter()
            .find(|(name, _)| name == participant)
            .map(|(_, h)| &h.nonzero_counters)
    };
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
        let (Some(line), Some(held)) = (lines.get(&step.participant), counters(source_participant)) else {
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
