//! The calls a step makes beside its one repair: the ping that makes the target's topology
//! hold the participant's parties, the vetting check left for the first connection, the
//! reads that narrow a resumed step to what is not done yet, and the import's stream.

use super::*;

/// Rounds of the init_target ping before the step gives up, and how long each waits.
const TOPOLOGY_PING_ROUNDS: u32 = 6;
const TOPOLOGY_PING_TIMEOUT: Duration = Duration::from_secs(10);

/// Pings the participant's own admin party over `synchronizer` until one ping succeeds:
/// a transaction sequenced there after the participant's parties were enabled, so the
/// topology snapshot the repairs take (at the target's clean record time) hosts them.
/// Each round is journaled; right after a connect the parties may not be known yet, so a
/// failed round is retried a few times.
pub(super) async fn topology_ping(
    ctx: &Ctx,
    phase: PhaseKind,
    p: &str,
    api: &dyn ParticipantApi,
    synchronizer: &str,
) -> Result<(), StepError> {
    let party = read(ctx, || api.admin_party()).await?;
    let sync_id = if ctx.dry_run {
        String::new()
    } else {
        read(ctx, || api.synchronizer_id(synchronizer)).await?.logical
    };
    let settle = Settle {
        rounds: TOPOLOGY_PING_ROUNDS,
        step: ctx.retry.base_delay,
    };
    let settled = settle
        .ping(|round| {
            let call = Call::Ping {
                synchronizer: synchronizer.to_string(),
                party: party.clone(),
                round,
            };
            let party = &party;
            let sync_id = &sync_id;
            async move {
                ctx.call(phase, p, call, || {
                    api.ping(std::slice::from_ref(party), sync_id, TOPOLOGY_PING_TIMEOUT)
                })
                .await
            }
        })
        .await?;
    let Settled::Failed(last) = settled else {
        return Ok(());
    };
    Err(StepError::Failed(format!(
        "no transaction could be sequenced on {synchronizer} ({TOPOLOGY_PING_ROUNDS} pings of {p}'s admin party failed, the last with: {last}); the repairs would not see {p}'s parties there. Check that {p} is connected to {synchronizer} and its parties are enabled there, then run again"
    )))
}

/// The vetting check preflight could not make (see `vetting`): now that the participant
/// is connected to the target, its topology there tells. Failing here leaves it
/// connected to the target, where the vetting can be done, before any repair.
pub(super) async fn check_vetting(
    ctx: &Ctx,
    p: &str,
    api: &dyn ParticipantApi,
    target: &str,
    needed: &ByPackage,
) -> Result<(), StepError> {
    let target_id = read(ctx, || api.synchronizer_id(target)).await?.logical;
    match super::super::vetting::unvetted(api, &target_id, needed).await? {
        Some(missing) if missing.is_empty() => Ok(()),
        Some(missing) => Err(StepError::Failed(
            missing
                .iter()
                .map(|(package, ids)| format!("{p} {}", super::super::vetting::unvetted_text(target, package, ids)))
                .collect::<Vec<_>>()
                .join("; "),
        )),
        None => Err(StepError::Failed(format!(
            "{p} shows no topology for {target} even after connecting to it, so what it vetted there cannot be read; run again once it does"
        ))),
    }
}

/// Ids of `ids` that the participant does not yet hold active on `target_alias`. One that
/// reached the target and was archived there since is sent again, and ChangeAssignation's
/// `skip_inactive` skips it (it is no longer active on the source).
pub(super) async fn not_yet_on(
    ctx: &Ctx,
    api: &dyn ParticipantApi,
    target_alias: &str,
    ids: &[ContractId],
) -> Result<Vec<ContractId>, StepError> {
    let target = read(ctx, || api.synchronizer_id(target_alias)).await?.logical;
    let mut todo = Vec::with_capacity(ids.len());
    for chunk in id_batches(ids, INSPECT_BATCH) {
        let list = strings(chunk);
        let histories = merge_inspections(read(ctx, || api.inspect_contracts(&target, &list)).await?);
        todo.extend(
            chunk
                .iter()
                .filter(|id| histories.get(&***id).map(|h| h.on(&target)) != Some(SyncState::Active))
                .cloned(),
        );
    }
    Ok(todo)
}

/// Ids the participant already holds: active on some synchronizer (imported, or imported
/// and moved on), or once held on the lost synchronizer and moved away since. An id it
/// only ever saw archived is not held: importing it again is Canton's decision to refuse.
async fn already_held(
    ctx: &Ctx,
    api: &dyn ParticipantApi,
    lost_id: &str,
    ids: &[ContractId],
) -> Result<HashSet<String>, StepError> {
    let mut held = HashSet::new();
    for chunk in id_batches(ids, INSPECT_BATCH) {
        let list = strings(chunk);
        let histories = merge_inspections(read(ctx, || api.inspect_contracts(lost_id, &list)).await?);
        for (id, h) in histories {
            if h.active_somewhere() || matches!(h.on(lost_id), SyncState::Moved { .. }) {
                held.insert(id);
            }
        }
    }
    Ok(held)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn import(
    ctx: &Ctx,
    phase: PhaseKind,
    step: &Step,
    track: Track,
    api: &Arc<dyn ParticipantApi>,
    synchronizer: &str,
    source: &str,
    contract_ids: &[ContractId],
) -> Result<StepReport, StepError> {
    let p = step.participant.as_str();
    let ids = contract_ids;
    let source_api = ctx.api(source)?.clone();
    let lost_id = read(ctx, || source_api.synchronizer_id(synchronizer)).await?.logical;
    let held = if ctx.dry_run {
        HashSet::new()
    } else {
        already_held(ctx, api.as_ref(), &lost_id, ids).await?
    };
    // The plan's own ids, shared with the stream that picks them out of the export.
    let todo: HashSet<ContractId> = ids.iter().filter(|id| !held.contains(&***id)).cloned().collect();
    let skipped = ids.len() - todo.len();
    skip(ctx, p, phase, Already::Held, skipped).await?;
    if todo.is_empty() {
        ctx.advance(phase, p, track, ids.len());
        return Ok(report(step, 0, skipped));
    }
    let in_order: Vec<&str> = ids.iter().map(|id| &**id).filter(|id| todo.contains(*id)).collect();
    let call = Call::ImportAcs {
        synchronizer: synchronizer.to_string(),
        source: source.to_string(),
        ids: todo.len(),
        ids_digest: ids_digest(&in_order),
        mode: ctx.import_mode,
    };
    drop(in_order);
    let wanted: Arc<HashSet<ContractId>> = Arc::new(todo);
    let mode = ctx.import_mode;
    ctx.call_or_describe(phase, p, call, || {
        let source_api = source_api.clone();
        let api = api.clone();
        let wanted = wanted.clone();
        let lost_id = lost_id.clone();
        let source_name = source.to_string();
        async move {
            let export = client::export_at_ledger_end(source_api.as_ref(), Some(&lost_id)).await?;
            api.import_acs(&lost_id, mode, only(export, wanted, source_name)).await
        }
    })
    .await?;
    ctx.advance(phase, p, track, ids.len());
    Ok(report(step, wanted.len(), skipped))
}

/// The contracts of `export` whose ids are wanted; fails at the end of the stream (which
/// cancels the import) when the source no longer holds every one of them.
fn only(export: ContractStream, wanted: Arc<HashSet<ContractId>>, source: String) -> ContractStream {
    let expected = wanted.len();
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    let filtered = export.filter(move |c| {
        let keep = match c {
            Ok(c) => c.contract_id().is_some_and(|id| wanted.contains(id)),
            Err(_) => true,
        };
        if keep && c.is_ok() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        futures::future::ready(keep)
    });
    let check = futures::stream::once(async move {
        let found = seen.load(std::sync::atomic::Ordering::SeqCst);
        if found == expected {
            None
        } else {
            Some(Err(ClientError::Protocol {
                participant: source,
                rpc: "ExportAcs",
                message: format!(
                    "the source holds only {found} of the {expected} contracts to import; the import was cancelled"
                ),
            }))
        }
    })
    .filter_map(futures::future::ready);
    filtered.chain(check).boxed()
}
