//! What preflight checks of one participant: reachable, serving a Canton release
//! recovery-deck speaks, both synchronizers registered, the lost one certainly lost
//! (unless forced), pruning, and its holdings on the lost synchronizer against the plan
//! (`held`, `state`).

use super::super::held::{self, Holds};
use super::super::state::{self, Observed, Planned, Standing};
use super::{PreflightProblem, drift_summary, shown, shown_rows};
use crate::client::version::Line;
use crate::client::{ClientError, ParticipantApi, merge_inspections};
use crate::plan::{DriftKind, DriftRow, Plan, snapshot_digest_sorted};
use crate::reconcile::ContractId;
use std::collections::{BTreeMap, BTreeSet};

/// How many ids go into one InspectCommitmentContracts call.
const INSPECT_BATCH: usize = 1000;

/// Canton's own warning about forcing a synchronizer migration, quoted from the console
/// help of `repair.migrate_synchronizer(source, target, force)`
/// (ParticipantRepairAdministration.scala, community/app-base, release-line-3.5): the
/// refusals below are Canton's rule for that command, applied to this recovery.
const CANTON_FORK_WARNING: &str = "Canton: \"Forcing the migration may lead to a ledger fork! Instead of forcing the migration, ensure the source synchronizer has no in-flight transactions by reconnecting all participants to the source synchronizer, halting activity on these participants and waiting for the in-flight transactions to complete or time out. Forcing a migration is intended for disaster recovery when a source synchronizer cannot be recovered anymore.\"";

/// What preflight learned of one participant.
#[derive(Default)]
pub(super) struct Checked<'p> {
    pub problems: Vec<PreflightProblem>,
    pub warnings: Vec<PreflightProblem>,
    pub holds: Option<Holds<'p>>,
    pub line: Option<Line>,
    pub standing: Option<Standing>,
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

pub(super) async fn check_one<'p>(
    plan: &'p Plan,
    api: &dyn ParticipantApi,
    lost_id: Option<&str>,
    force: bool,
) -> Checked<'p> {
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
