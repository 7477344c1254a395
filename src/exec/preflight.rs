//! Checks before the first state-changing call: every participant reachable, running a
//! Canton release recovery-deck serves, and still hosting what it must move; both
//! synchronizers registered; the lost synchronizer certainly lost (no healthy connection
//! to it, no new transaction in flight there, unless forced); no
//! import that the receiving participant's Canton would refuse for its reassignment
//! counters; and the participants' holdings still those the plan was made from, or
//! changed only in the ways the plan itself changes them (`state`): what is already done
//! is read from the participants, so a run resumes from any journal, or none.

use super::Participants;
use super::held::{self, Holds};
use super::state::{self, DoneBy, GoneRow, Observed, Planned, Standing};
use super::vetting::{self, ByPackage};
use crate::client::version::Line;
use crate::client::{ClientError, ParticipantApi, merge_inspections};
use crate::plan::{Action, DriftKind, DriftRow, PhaseKind, Plan, snapshot_digest_sorted};
use crate::reconcile::ContractId;
use crate::survey;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// How many ids go into one InspectCommitmentContracts call.
const INSPECT_BATCH: usize = 1000;

/// Canton's own warning about forcing a synchronizer migration, quoted from the console
/// help of `repair.migrate_synchronizer(source, target, force)`
/// (ParticipantRepairAdministration.scala, community/app-base, release-line-3.5): the
/// refusals below are Canton's rule for that command, applied to this recovery.
const CANTON_FORK_WARNING: &str = "Canton: \"Forcing the migration may lead to a ledger fork! Instead of forcing the migration, ensure the source synchronizer has no in-flight transactions by reconnecting all participants to the source synchronizer, halting activity on these participants and waiting for the in-flight transactions to complete or time out. Forcing a migration is intended for disaster recovery when a source synchronizer cannot be recovered anymore.\"";

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

/// What preflight learned of one participant.
#[derive(Default)]
struct Checked<'p> {
    problems: Vec<PreflightProblem>,
    warnings: Vec<PreflightProblem>,
    holds: Option<Holds<'p>>,
    line: Option<Line>,
    standing: Option<Standing>,
}

/// The ids' histories as InspectCommitmentContracts reports them, merged.
async fn histories(
    api: &dyn ParticipantApi,
    lost_id: &str,
    ids: &[String],
) -> Result<BTreeMap<String, crate::client::ContractHistory>, ClientError> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(INSPECT_BATCH) {
        out.extend(merge_inspections(api.inspect_contracts(lost_id, chunk).await?));
    }
    Ok(out)
}

async fn check_one<'p>(plan: &'p Plan, api: &dyn ParticipantApi, lost_id: Option<&str>, force: bool) -> Checked<'p> {
    let name = api.name().to_string();
    let problem = |check: &'static str, message: String| PreflightProblem {
        participant: name.clone(),
        check,
        message,
        drift: Vec::new(),
    };
    let line = match api.canton_line().await {
        Ok(line) => line,
        Err(e @ ClientError::Unsupported { .. }) => {
            return Checked {
                problems: vec![problem("version", e.to_string())],
                ..Checked::default()
            };
        }
        Err(e) => {
            return Checked {
                problems: vec![problem("reachable", e.to_string())],
                ..Checked::default()
            };
        }
    };
    let mut checked = Checked {
        line: Some(line),
        ..Checked::default()
    };
    let registered = match api.list_registered().await {
        Ok(regs) => {
            for alias in [plan.lost(), plan.target()] {
                if !regs.iter().any(|r| r.alias == alias) {
                    checked.problems.push(problem(
                        "registered",
                        format!("no synchronizer {alias} is registered; register it before the recovery"),
                    ));
                }
            }
            regs
        }
        Err(e) => {
            checked.problems.push(problem("registered", e.to_string()));
            Vec::new()
        }
    };
    let connected = match api.list_connected().await {
        Ok(c) => c,
        Err(e) => {
            checked.problems.push(problem("connected", e.to_string()));
            Vec::new()
        }
    };
    // A connection that is still healthy means the synchronizer answers: it is not lost
    // for this participant, and others may still transact there on the contracts the plan
    // moves away. A connection left over from the loss (unhealthy) is what the isolate
    // phase disconnects.
    if connected.iter().any(|c| c.alias == plan.lost() && c.healthy) {
        let found = format!(
            "still connected to {lost}, and the connection is healthy: {lost} is not lost for this participant",
            lost = plan.lost()
        );
        if force {
            checked.warnings.push(problem(
                "connected",
                format!("{found}; recovering anyway because of --force. This may lead to a ledger fork."),
            ));
        } else {
            checked.problems.push(problem(
                "connected",
                format!(
                    "{found}. {CANTON_FORK_WARNING} If {lost} cannot be recovered, run again with --force",
                    lost = plan.lost()
                ),
            ));
        }
    }
    match api.pruning_schedule().await {
        Ok(Some(schedule)) => checked.warnings.push(problem("pruning", pruning_warning(&schedule))),
        Ok(None) => {}
        Err(e) => checked.warnings.push(problem(
            "pruning",
            format!(
                "could not read the participant's pruning schedule ({e}); make sure no pruning runs during the recovery"
            ),
        )),
    }
    let Some(lost_id) = lost_id else {
        return checked;
    };
    match api.count_in_flight(lost_id).await {
        Ok(now) => {
            let ack = plan.in_flight().get(&name).copied().unwrap_or_default();
            if now.pending_submissions > ack.pending_submissions || now.pending_transactions > ack.pending_transactions
            {
                let found = format!(
                    "{} submission(s) and {} transaction(s) in flight on {}, the plan acknowledged {} and {}",
                    now.pending_submissions,
                    now.pending_transactions,
                    plan.lost(),
                    ack.pending_submissions,
                    ack.pending_transactions
                );
                if force {
                    // Canton's own log line when migrate_synchronizer is forced
                    // (SynchronizerMigration.isSynchronizerMigrationPossible, release-line-3.5).
                    checked.warnings.push(problem(
                        "in_flight",
                        format!(
                            "{found}. Ignoring existing in-flight transactions on synchronizer with alias {} because of forced migration. This may lead to a ledger fork.",
                            plan.lost()
                        ),
                    ));
                } else {
                    checked.problems.push(problem(
                        "in_flight",
                        format!(
                            "{found}: the synchronizer may still be processing. {CANTON_FORK_WARNING} Make a new plan once it is certainly gone, or, if it cannot be recovered, run again with --force"
                        ),
                    ));
                }
            }
        }
        Err(e) => checked.problems.push(problem("in_flight", e.to_string())),
    }
    let planned = Planned::of(plan, &name);
    let expected_ids = plan.expected(&name).map_or(&[][..], |e| &e.active[..]);
    let holds = match held::read(api, lost_id, expected_ids, &planned.import).await {
        Ok(h) => h,
        Err(e) => {
            checked.problems.push(problem("drift", e.to_string()));
            return checked;
        }
    };
    let Some(expected) = plan.expected(&name) else {
        checked.problems.push(problem(
            "drift",
            "the plan has no expected holdings for this participant".into(),
        ));
        checked.holds = Some(holds);
        return checked;
    };
    let to_inspect = Observed::to_inspect(&expected.active, &holds, &planned);
    // The target's id is only needed to read what became of contracts no longer held.
    let target_id = if to_inspect.is_empty() {
        String::new()
    } else {
        match api.synchronizer_id(plan.target()).await {
            Ok(ids) => ids.logical,
            Err(e) => {
                checked.problems.push(problem("drift", e.to_string()));
                checked.holds = Some(holds);
                return checked;
            }
        }
    };
    let histories = match histories(api, lost_id, &to_inspect).await {
        Ok(h) => h,
        Err(e) => {
            checked.problems.push(problem("drift", e.to_string()));
            checked.holds = Some(holds);
            return checked;
        }
    };
    let seen = Observed {
        lost_id,
        target_id: &target_id,
        lost_alias: plan.lost(),
        target_alias: plan.target(),
        expected: &expected.active,
        on_lost: &holds,
        histories,
        registered,
        connected,
    };
    let standing = state::stand(&planned, &seen);
    // The rows the plan names, for the drift table: of those that changed on the lost
    // synchronizer, the ones the participants' state does not explain by the plan's work.
    let check = expected.check_sorted(|| holds.sorted());
    let gone_ids: BTreeSet<&ContractId> = standing.gone.iter().map(|r| &r.id).collect();
    let rows_of = |kind: DriftKind| -> Vec<DriftRow> {
        check
            .rows
            .iter()
            .filter(|r| r.kind() == kind)
            .filter(|r| match kind {
                DriftKind::Appeared => standing.appeared.contains(&r.contract_id),
                DriftKind::Disappeared => gone_ids.contains(&r.contract_id),
                DriftKind::PayloadChanged => true,
            })
            .cloned()
            .collect()
    };
    if !standing.appeared.is_empty() {
        checked.problems.push(PreflightProblem {
            drift: rows_of(DriftKind::Appeared),
            ..problem(
                "drift",
                format!(
                    "{n} row(s) changed on {lost} since the plan was made: {n} contract(s) appeared on {lost}: {}",
                    shown(&standing.appeared),
                    n = standing.appeared.len(),
                    lost = plan.lost(),
                ),
            )
        });
    }
    if !standing.gone.is_empty() {
        checked.problems.push(PreflightProblem {
            drift: rows_of(DriftKind::Disappeared),
            ..problem(
            "drift",
            format!(
                "{n} row(s) changed on {lost} since the plan was made: {n} contract(s) the plan expects on {lost} are gone without reaching {} by the plan's own moves or purges: {}; make a new plan from the participants' current state",
                plan.target(),
                shown_rows(&standing.gone),
                n = standing.gone.len(),
                lost = plan.lost(),
            ),
        )
        });
    }
    let changed = rows_of(DriftKind::PayloadChanged);
    if !changed.is_empty() {
        checked.problems.push(PreflightProblem {
            message: drift_summary(plan.lost(), &changed),
            drift: changed,
            ..problem("drift", String::new())
        });
    } else if standing.gone.is_empty() && standing.appeared.is_empty() {
        match payloads_changed(api, plan, expected, &holds, &standing, &target_id).await {
            Ok(true) => checked.problems.push(problem(
                "drift",
                "the same contracts are there but a payload changed since the plan was made".into(),
            )),
            Ok(false) => {}
            Err(e) => checked.problems.push(problem("drift", e.to_string())),
        }
    }
    checked.holds = Some(holds);
    checked.standing = Some(standing);
    checked
}

/// `90s`, `15m`, `2h`, `30d`: the largest unit that divides the duration.
fn duration_text(secs: i64) -> String {
    match secs {
        s if s > 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s > 0 && s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Pruning during a recovery removes history the run reads: InspectCommitmentContracts
/// reports only unpruned changes (`client::history`), and Canton 3.4.9 lists a critical
/// issue (25-013) in which pruning together with ACS imports removed contracts from the
/// store. Pruning is not stopped for the operator: the schedule may be the policy of a
/// participant this operator does not own, so this warns, naming Canton's command.
fn pruning_warning(s: &crate::client::PruningSchedule) -> String {
    let scope = if s.prune_internally_only {
        ", Canton's internal stores only"
    } else {
        ""
    };
    format!(
        "a pruning schedule is set (cron \"{}\", retention {}, at most {} per run{scope}): pruning while the recovery runs can remove the history the repairs and their checks read, and with ACS imports has removed contracts (Canton 3.4.9, issue 25-013). Clear it for the recovery (console: pruning.clear_schedule()) and set it again afterwards",
        s.cron,
        duration_text(s.retention_secs),
        duration_text(s.max_duration_secs)
    )
}

/// Whether the payloads differ from the plan's digest over (id, payload) pairs. Contracts
/// the plan moved are read on the target, streamed for their digests alone; once some were
/// purged, or archived on the target by later workflows, their payloads are gone and the
/// digest cannot be recomputed, so only the id checks above stand.
async fn payloads_changed(
    api: &dyn ParticipantApi,
    plan: &Plan,
    expected: &crate::plan::ExpectedSnapshot,
    holds: &Holds<'_>,
    standing: &Standing,
    target_id: &str,
) -> Result<bool, ClientError> {
    let on_lost = holds.expected_digests().filter(|(_, d)| d.is_some()).count();
    if on_lost == expected.active.len() {
        let pairs = holds.expected_digests().filter_map(|(id, d)| Some((&**id, d?)));
        return Ok(snapshot_digest_sorted(pairs) != expected.digest);
    }
    if !standing.payloads_visible {
        return Ok(false);
    }
    let elsewhere = held::digests_elsewhere(api, target_id, holds).await?;
    let pairs = || {
        holds
            .expected_digests()
            .zip(&elsewhere)
            .filter_map(|((id, here), there)| Some((&**id, here.or(there.as_ref())?)))
    };
    let found = pairs().count();
    if found != expected.active.len() {
        tracing::warn!(
            "{}: {} of the {} contracts planned on {} are visible; payloads not compared",
            api.name(),
            found,
            expected.active.len(),
            plan.lost()
        );
        return Ok(false);
    }
    Ok(snapshot_digest_sorted(pairs()) != expected.digest)
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
