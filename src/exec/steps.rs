//! One plan step against one participant: the call(s) it makes, journaled before and
//! after, retried under the executor's one policy (`retry`: only when the error says a
//! retry can succeed without anyone acting), and narrowed on resume to what the
//! participant has not done yet.

mod calls;

use super::Participants;
use super::progress::{Progress, StepReport};
use super::record::SharedJournal;
use super::retry::{RetryPolicy, Settle, Settled};
use super::vetting::ByPackage;
use crate::batch::{INSPECT_BATCH, id_batches};
use crate::client::{
    self, ClientError, ContractStream, ImportMode, ParticipantApi, SyncState, Validation, merge_inspections,
};
use crate::failure::{Failure, FailureKind};
use crate::journal::{Call, CallAnswered, CallDescribed, CallSent, EventData, JournalError, Rpc, Skipped};
use crate::plan::{Action, ConnectionValidation, PhaseKind, Plan, Step};
use crate::reconcile::ContractId;
use calls::{check_vetting, import, not_yet_on, topology_ping};
use futures::StreamExt;
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) struct Ctx {
    pub plan: Arc<Plan>,
    pub participants: Participants,
    pub journal: SharedJournal,
    pub dry_run: bool,
    pub retry: RetryPolicy,
    pub import_mode: ImportMode,
    /// Per participant that never connected to the target before this run: what it must
    /// move there, by package, checked for vetting once init_target has connected it.
    pub vetting_after_connect: BTreeMap<String, ByPackage>,
    /// Every contract the plan moves, built once for the verifications of all participants.
    pub moved: std::sync::OnceLock<HashSet<ContractId>>,
}

impl Ctx {
    /// Every contract the plan moves, on any participant (the plan's own ids, shared).
    fn moved(&self) -> &HashSet<ContractId> {
        self.moved.get_or_init(|| {
            self.plan
                .participants()
                .iter()
                .flat_map(|n| self.plan.moved_by(n))
                .collect()
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub(super) enum StepError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("{0}")]
    Failed(String),
    #[error("{0}")]
    Internal(String),
}

impl StepError {
    /// What went wrong, as the front ends read it.
    pub(super) fn failure(&self, participant: &str) -> Failure {
        match self {
            StepError::Client(e) => Failure::from(e),
            StepError::Journal(e) => Failure::new(FailureKind::Journal, None, e.to_string()),
            StepError::Failed(m) => Failure::new(FailureKind::Check, Some(participant), m.clone()),
            StepError::Internal(m) => Failure::new(FailureKind::Internal, Some(participant), m.clone()),
        }
    }
}

/// `journal::digest` of the ids joined by newlines, hashed as it goes: the ids of a
/// participant's whole import would otherwise be copied twice into one string first.
fn ids_digest<T: AsRef<str>>(ids: &[T]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"\"");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            hash.update(b"\\n");
        }
        // JSON escapes character by character, so the escaped join is the join of the
        // escaped ids; `to_string` of a string cannot fail.
        let quoted = serde_json::to_string(id.as_ref()).unwrap_or_default();
        let inner = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"'));
        hash.update(inner.unwrap_or_default().as_bytes());
    }
    hash.update(b"\"");
    format!("sha256:{}", hex::encode(hash.finalize()))
}

fn strings(ids: &[ContractId]) -> Vec<String> {
    ids.iter().map(|c| c.to_string()).collect()
}

impl Ctx {
    fn api(&self, participant: &str) -> Result<&Arc<dyn ParticipantApi>, StepError> {
        self.participants
            .get(participant)
            .ok_or_else(|| StepError::Internal(format!("no client for {participant}")))
    }

    /// One state-changing call: journaled before it is sent and after it returns, retried
    /// under the retry policy. In a dry run the call is only described and `None` comes back.
    async fn call<T, F, Fut>(
        &self,
        phase: PhaseKind,
        participant: &str,
        call: Call,
        f: F,
    ) -> Result<Option<T>, StepError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, ClientError>>,
    {
        let request_digest = call.request_digest(participant);
        let rpc = call.rpc();
        if self.dry_run {
            let described = Progress::WouldSend {
                participant: participant.to_string(),
                rpc: rpc.to_string(),
                detail: call.detail_json(),
            };
            self.journal.record(
                Some(participant),
                EventData::CallDescribed(CallDescribed {
                    phase,
                    call,
                    request_digest,
                }),
            )?;
            self.journal.progress(described);
            return Ok(None);
        }
        for attempt in 1..=self.retry.max_attempts.max(1) {
            let sent = CallSent {
                plan_hash: self.plan.hash().to_string(),
                phase,
                attempt,
                call: call.clone(),
                request_digest: request_digest.clone(),
            };
            self.journal.record(Some(participant), EventData::CallSent(sent))?;
            let started = Instant::now();
            let result = f().await;
            let mut answer = CallAnswered {
                phase,
                rpc,
                attempt,
                ok: result.is_ok(),
                duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                request_digest: request_digest.clone(),
                code: None,
                category: None,
                grpc: None,
                error: None,
                retry_after_ms: None,
            };
            if let Err(e) = &result {
                answer.code = e.canton_code().map(str::to_string);
                answer.category = e.category().map(|c| c.id());
                answer.grpc = e.grpc_code().map(|c| format!("{c:?}"));
                answer.error = Some(e.to_string());
                answer.retry_after_ms = e
                    .retry_after()
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            }
            self.journal
                .record(Some(participant), EventData::CallAnswered(answer))?;
            match result {
                Ok(v) => return Ok(Some(v)),
                Err(e) => match self.retry.delay_after(attempt, &e) {
                    Some(delay) => tokio::time::sleep(delay).await,
                    None => return Err(e.into()),
                },
            }
        }
        Err(StepError::Internal("retries exhausted".into()))
    }

    /// A call whose answer carries nothing: sent (or, in a dry run, described).
    async fn call_or_describe<F, Fut>(
        &self,
        phase: PhaseKind,
        participant: &str,
        call: Call,
        f: F,
    ) -> Result<(), StepError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<(), ClientError>>,
    {
        self.call(phase, participant, call, f).await.map(|_| ())
    }

    /// Progress of a participant through its whole phase: `done` of this step's units on
    /// top of what its earlier steps in the phase covered.
    fn advance(&self, phase: PhaseKind, participant: &str, track: Track, done: usize) {
        self.journal.progress(Progress::Advance {
            phase,
            participant: participant.to_string(),
            done: track.base + done,
            total: track.total,
        });
    }
}

fn report(step: &Step, applied: usize, skipped: usize) -> StepReport {
    StepReport {
        participant: step.participant.clone(),
        action: step.action.kind(),
        applied,
        skipped,
    }
}

/// Where a step sits in its participant's phase, in units (contracts, or 1 per step
/// without contracts).
#[derive(Debug, Clone, Copy)]
pub(super) struct Track {
    pub base: usize,
    pub total: usize,
}

/// The units a step counts for in progress reports.
pub(super) fn units(step: &Step) -> usize {
    step.action.contract_ids().len().max(1)
}

pub(super) async fn execute(ctx: &Ctx, phase: PhaseKind, step: &Step, track: Track) -> Result<StepReport, StepError> {
    let p = step.participant.as_str();
    let api = ctx.api(p)?.clone();
    match &step.action {
        Action::DisconnectSynchronizer { synchronizer } => {
            let call = Call::DisconnectSynchronizer {
                synchronizer: synchronizer.clone(),
            };
            ctx.call_or_describe(phase, p, call, || api.disconnect(synchronizer))
                .await?;
            ctx.advance(phase, p, track, 1);
            Ok(report(step, 0, 0))
        }
        Action::DisconnectAllSynchronizers => {
            ctx.call_or_describe(phase, p, Call::DisconnectAllSynchronizers {}, || api.disconnect_all())
                .await?;
            ctx.advance(phase, p, track, 1);
            Ok(report(step, 0, 0))
        }
        Action::ModifySynchronizer {
            synchronizer,
            manual_connect,
            validation,
        } => {
            let configs = read(ctx, || api.registered_configs()).await?;
            let Some(config) = client::manual_connect_change(p, configs, synchronizer, *manual_connect)? else {
                let skipped = Skipped {
                    phase,
                    rpc: Rpc::ModifySynchronizer,
                    synchronizer: Some(synchronizer.clone()),
                    reason: Some(format!("manual_connect is already {manual_connect}")),
                    already_on_target: None,
                    already_held: None,
                };
                ctx.journal.record(Some(p), EventData::Skipped(skipped))?;
                ctx.advance(phase, p, track, 1);
                return Ok(report(step, 0, 0));
            };
            let checked = match validation {
                ConnectionValidation::Disabled => Validation::Disabled,
                ConnectionValidation::All => Validation::All,
            };
            let call = Call::ModifySynchronizer {
                synchronizer: synchronizer.clone(),
                manual_connect: *manual_connect,
                validation: *validation,
            };
            ctx.call_or_describe(phase, p, call, || api.modify(config.clone(), checked))
                .await?;
            ctx.advance(phase, p, track, 1);
            Ok(report(step, 0, 0))
        }
        Action::ReconnectSynchronizer { synchronizer, retry } => {
            let call = Call::ReconnectSynchronizer {
                synchronizer: synchronizer.clone(),
                retry: *retry,
            };
            let connected = ctx.call(phase, p, call, || api.reconnect(synchronizer, *retry)).await?;
            if connected == Some(false) {
                return Err(StepError::Failed(format!(
                    "{p} could not connect to {synchronizer} (connected_successfully = false): check that its sequencers are reachable from the participant"
                )));
            }
            ctx.advance(phase, p, track, 1);
            Ok(report(step, 0, 0))
        }
        Action::Ping { synchronizer } => {
            topology_ping(ctx, phase, p, api.as_ref(), synchronizer).await?;
            if !ctx.dry_run
                && let Some(needed) = ctx.vetting_after_connect.get(p)
            {
                check_vetting(ctx, p, api.as_ref(), synchronizer, needed).await?;
            }
            ctx.advance(phase, p, track, 1);
            Ok(report(step, 0, 0))
        }
        Action::PurgeContracts {
            synchronizer,
            contract_ids,
            ignore_already_purged,
        } => {
            let batch = ctx.plan.batch_size().max(1) as usize;
            let mut done = 0;
            for chunk in id_batches(contract_ids, batch) {
                // One batch of ids as the client takes them, not the whole step's.
                let chunk = strings(chunk);
                let chunk = chunk.as_slice();
                let call = Call::PurgeContracts {
                    synchronizer: synchronizer.clone(),
                    ids: chunk.len(),
                    ids_digest: ids_digest(chunk),
                    ignore_already_purged: *ignore_already_purged,
                };
                ctx.call_or_describe(phase, p, call, || {
                    api.purge(synchronizer, chunk, *ignore_already_purged)
                })
                .await?;
                done += chunk.len();
                ctx.advance(phase, p, track, done);
            }
            Ok(report(step, contract_ids.len(), 0))
        }
        Action::ImportAcs {
            synchronizer,
            source_participant,
            contract_ids,
        } => {
            import(
                ctx,
                phase,
                step,
                track,
                &api,
                synchronizer,
                source_participant,
                contract_ids,
            )
            .await
        }
        Action::ChangeAssignation {
            source_synchronizer,
            target_synchronizer,
            contract_ids,
            skip_inactive,
        } => {
            let todo = if ctx.dry_run {
                contract_ids.to_vec()
            } else {
                not_yet_on(ctx, api.as_ref(), target_synchronizer, contract_ids).await?
            };
            let skipped = contract_ids.len() - todo.len();
            skip(ctx, p, phase, Already::OnTarget, skipped).await?;
            let batch = ctx.plan.batch_size().max(1) as usize;
            let mut done = skipped;
            ctx.advance(phase, p, track, done);
            for chunk in id_batches(&todo, batch) {
                let chunk = strings(chunk);
                let chunk = chunk.as_slice();
                let call = Call::ChangeAssignation {
                    source: source_synchronizer.clone(),
                    target: target_synchronizer.clone(),
                    skip_inactive: *skip_inactive,
                    ids: chunk.len(),
                    ids_digest: ids_digest(chunk),
                    first_id: chunk.first().cloned(),
                };
                ctx.call_or_describe(phase, p, call, || {
                    api.change_assignation(source_synchronizer, target_synchronizer, chunk, *skip_inactive)
                })
                .await?;
                done += chunk.len();
                ctx.advance(phase, p, track, done);
            }
            Ok(report(step, todo.len(), skipped))
        }
        Action::Verify {
            synchronizer,
            contract_ids,
            ping,
        } => {
            if ctx.dry_run {
                ctx.journal.progress(Progress::WouldSend {
                    participant: p.to_string(),
                    rpc: "verify (ExportAcs + Ping, read-only)".into(),
                    detail: format!(
                        "expect {} contracts on {synchronizer}, ping {}",
                        contract_ids.len(),
                        ping.join(", ")
                    ),
                });
                return Ok(report(step, 0, 0));
            }
            let result = super::verify::verify(
                api.as_ref(),
                &ctx.participants,
                synchronizer,
                contract_ids,
                ping,
                ctx.moved(),
            )
            .await?;
            ctx.journal.record(Some(p), EventData::Verified(result.clone()))?;
            ctx.advance(phase, p, track, 1);
            if result.ok {
                Ok(report(step, 0, 0))
            } else {
                Err(StepError::Failed(format!(
                    "verification failed on {p}: {}",
                    result.summary()
                )))
            }
        }
    }
}

/// Journals the part of a batch a rerun found already done, so the journal explains why
/// fewer calls were made than the plan lists. Nothing is written when nothing was skipped.
async fn skip(ctx: &Ctx, p: &str, phase: PhaseKind, what: Already, skipped: usize) -> Result<(), StepError> {
    if skipped > 0 {
        let (rpc, already_on_target, already_held) = match what {
            Already::OnTarget => (Rpc::ChangeAssignation, Some(skipped), None),
            Already::Held => (Rpc::ImportAcs, None, Some(skipped)),
        };
        let record = Skipped {
            phase,
            rpc,
            synchronizer: None,
            reason: None,
            already_on_target,
            already_held,
        };
        ctx.journal.record(Some(p), EventData::Skipped(record))?;
    }
    Ok(())
}

/// Why a rerun skips contracts.
#[derive(Debug, Clone, Copy)]
enum Already {
    /// ChangeAssignation: already active on the target.
    OnTarget,
    /// ImportAcs: the participant already holds them.
    Held,
}

/// A read-only call, retried under the same policy as state-changing ones, but not
/// journaled.
async fn read<T, F, Fut>(ctx: &Ctx, f: F) -> Result<T, StepError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    Ok(ctx.retry.run(f).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::digest;
    use serde_json::Value;

    /// The journal's `ids_digest` of a call stays what it was when the ids were joined
    /// into one string first, so older journals and the new ones agree.
    #[test]
    fn the_ids_digest_is_the_digest_of_the_joined_ids() {
        let joined = |ids: &[&str]| digest(&Value::String(ids.join("\n")));
        for ids in [
            vec![],
            vec!["00ab"],
            vec!["00ab", "00cd", "00ef"],
            vec!["odd\"quote", "back\\slash", "tab\tand\u{1}control", "é"],
        ] {
            assert_eq!(ids_digest(&ids), joined(&ids), "{ids:?}");
        }
        let arcs: Vec<ContractId> = vec!["00ab".into(), "00cd".into()];
        assert_eq!(ids_digest(&arcs), joined(&["00ab", "00cd"]));
    }
}
