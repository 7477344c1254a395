//! ParticipantRepairService: ACS export and import, change of assignation and purge,
//! with Canton's preconditions (every synchronizer disconnected for the mutating ones),
//! its per-contract rules and its error codes. Each mutating call is one SQLite
//! transaction: it applies completely or not at all.

use super::{Node, lock};
use crate::acs::{AcsDecoder, AcsEncoder};
use crate::canton_error::{self, Code, codes};
use crate::lab::store::{self, Status as AcsStatus, StoreError, acs, sync};
use crate::wire::admin::{
    self, ChangeAssignationRequest, ChangeAssignationResponse, ExportAcsRequest, ExportAcsResponse, ImportAcsRequest,
    ImportAcsResponse, PurgeContractsRequest, PurgeContractsResponse,
};
use crate::wire::ledger::{self, CreatedEvent};
use futures::StreamExt;
use prost::Message;
use std::collections::{BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

/// Builds the Ledger API view of a stored contract (shared with the StateService).
pub(crate) fn active_contract(
    entry: acs::ActiveEntry,
    hosted: &BTreeSet<String>,
    include_blob: bool,
    synchronizer_rename: Option<&str>,
) -> ledger::ActiveContract {
    let blob = entry.blob;
    let witnesses: Vec<String> = acs::stakeholders(&blob)
        .into_iter()
        .filter(|p| hosted.contains(p))
        .collect();
    let blob_bytes = if include_blob { blob.encode_to_vec() } else { Vec::new() };
    let package_id = blob
        .template_id
        .as_ref()
        .map(|t| t.package_id.clone())
        .unwrap_or_default();
    let created_at = prost_types::Timestamp {
        seconds: blob.created_at_micros.div_euclid(1_000_000),
        nanos: i32::try_from(blob.created_at_micros.rem_euclid(1_000_000) * 1000).unwrap_or(0),
    };
    ledger::ActiveContract {
        created_event: Some(CreatedEvent {
            offset: 0,
            node_id: 0,
            contract_id: blob.contract_id,
            template_id: blob.template_id,
            contract_key: None,
            create_arguments: blob.create_arguments,
            created_event_blob: blob_bytes,
            interface_views: Vec::new(),
            witness_parties: witnesses,
            signatories: blob.signatories,
            observers: blob.observers,
            created_at: Some(created_at),
            package_name: blob.package_name,
            acs_delta: false,
            representative_package_id: package_id,
            contract_key_hash: Vec::new(),
        }),
        synchronizer_id: synchronizer_rename.map(str::to_string).unwrap_or(entry.synchronizer_id),
        reassignment_counter: u64::try_from(entry.reassignment_counter).unwrap_or(0),
    }
}

fn repair_arg(cause: impl Into<String>) -> Status {
    canton_error::status(codes::INVALID_ARGUMENT_REPAIR, cause)
}

/// A per-contract rule failure inside a repair transaction.
struct Refusal(Code, String);

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal(codes::SERVICE_INTERNAL_ERROR, e.to_string())
    }
}

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Self {
        Refusal(codes::SERVICE_INTERNAL_ERROR, e.to_string())
    }
}

/// Runs a repair transaction on the store, mapping rule failures to Canton statuses.
async fn repair_tx<T: Send + 'static>(
    node: &Arc<Node>,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Status> {
    let node = node.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = lock(&node.store);
        let tx = store
            .conn()
            .transaction()
            .map_err(|e| Refusal(codes::SERVICE_INTERNAL_ERROR, e.to_string()))?;
        let out = f(&tx)?;
        tx.commit()
            .map_err(|e| Refusal(codes::SERVICE_INTERNAL_ERROR, e.to_string()))?;
        Ok(out)
    })
    .await
    .map_err(|e| super::internal(format_args!("repair task failed: {e}")))?
    .map_err(|Refusal(code, cause)| {
        if code.category.redacts_details() {
            super::internal(cause)
        } else {
            canton_error::status(code, cause)
        }
    })
}

/// Resolves an alias to its logical synchronizer id for a repair; an alias that is
/// registered but whose id was never learned is refused with `unknown_id`.
fn alias_id(
    conn: &rusqlite::Connection,
    alias: &str,
    unknown_id: impl FnOnce() -> Refusal,
) -> Result<(String, bool), Refusal> {
    let row: Option<(Option<String>, bool)> = conn
        .query_row(
            "SELECT synchronizer_id, topology_initialised FROM synchronizers WHERE alias = ?1",
            [alias],
            |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    match row {
        Some((Some(id), init)) => Ok((id, init)),
        Some((None, _)) => Err(unknown_id()),
        None => Err(Refusal(
            codes::INVALID_ARGUMENT_REPAIR,
            format!("Unable to find synchronizer id for alias {alias}"),
        )),
    }
}

fn never_connected(code: Code, alias: &str) -> impl FnOnce() -> Refusal {
    let alias = alias.to_string();
    move || {
        Refusal(
            code,
            format!(
                "Unable to resolve {alias} to a physical synchronizer id: it was never connected. Reconnect to the synchronizer to initialize the identity management and retry repair afterwards."
            ),
        )
    }
}

type ChunkStream = Pin<Box<dyn futures::Stream<Item = Result<ExportAcsResponse, Status>> + Send>>;

#[derive(Clone)]
pub struct RepairService(pub Arc<Node>);

#[tonic::async_trait]
impl admin::participant_repair_service_server::ParticipantRepairService for RepairService {
    type ExportAcsStream = ChunkStream;

    async fn export_acs(&self, req: Request<ExportAcsRequest>) -> Result<Response<ChunkStream>, Status> {
        let node = self.0.clone();
        let req = req.into_inner();
        let end = node.db(|s| s.ledger_end()).await?;
        if req.ledger_offset <= 0 {
            return Err(repair_arg(format!(
                "ledger_offset must be positive, got {}",
                req.ledger_offset
            )));
        }
        if req.ledger_offset > end {
            return Err(repair_arg(format!(
                "ledger_offset {} is after the ledger end {end}",
                req.ledger_offset
            )));
        }
        let filter_sync = (!req.synchronizer_id.is_empty()).then(|| req.synchronizer_id.clone());
        if let Some(id) = filter_sync.clone() {
            let known = node.db(move |s| s.alias_of(&id)).await?;
            if known.is_none() {
                return Err(repair_arg(format!("Unknown synchronizer id {}", req.synchronizer_id)));
            }
        }
        let hosted: BTreeSet<String> = node.db(|s| s.hosted_parties()).await?.into_iter().collect();
        let parties: BTreeSet<String> = if req.party_ids.is_empty() {
            hosted.clone()
        } else {
            req.party_ids.iter().cloned().collect()
        };
        let excluded: BTreeSet<String> = req.excluded_stakeholder_ids.iter().cloned().collect();
        let renames: std::collections::HashMap<String, String> = req
            .contract_synchronizer_renames
            .into_iter()
            .map(|(k, v)| (k, v.target_synchronizer_id))
            .collect();
        let reader = node.reader()?;
        let offset = req.ledger_offset;
        let (tx, rx) = mpsc::channel::<Result<ExportAcsResponse, Status>>(4);
        tokio::task::spawn_blocking(move || {
            let mut reader = reader;
            let mut encoder = AcsEncoder::new();
            let send = |chunk: bytes::Bytes| {
                tx.blocking_send(Ok(ExportAcsResponse { chunk: chunk.to_vec() }))
                    .is_ok()
            };
            let result = acs::for_each_active(reader.conn(), offset, filter_sync.as_deref(), |entry| {
                let holders = acs::stakeholders(&entry.blob);
                if !holders.iter().any(|p| parties.contains(p)) || holders.iter().any(|p| excluded.contains(p)) {
                    return Ok(true);
                }
                let rename = renames.get(&entry.synchronizer_id).cloned();
                let contract = active_contract(entry, &hosted, true, rename.as_deref());
                encoder
                    .push(&contract)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                while let Some(chunk) = encoder.take_chunk() {
                    if !send(chunk) {
                        return Ok(false);
                    }
                }
                Ok(true)
            });
            let tail = result
                .map_err(|e| e.to_string())
                .and_then(|()| encoder.finish().map_err(|e| e.to_string()));
            match tail {
                Ok(chunks) => {
                    for chunk in chunks {
                        if !send(chunk) {
                            break;
                        }
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(canton_error::status(codes::IO_STREAM_REPAIR_ERROR, e)));
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn import_acs(
        &self,
        req: Request<Streaming<ImportAcsRequest>>,
    ) -> Result<Response<ImportAcsResponse>, Status> {
        let node = self.0.clone();
        let mut stream = req.into_inner();
        let _turn = node.repair_lock.lock().await;
        node.ensure_all_disconnected(codes::IMPORT_ACS_ERROR)?;
        let mut decoder = AcsDecoder::new();
        let mut staged: Vec<ledger::ActiveContract> = Vec::new();
        let mut context: Option<import::Context> = None;
        // Half-close means "snapshot complete"; an error on the stream means the client
        // cancelled, and then nothing is applied.
        while let Some(msg) = stream.next().await {
            let msg = msg.map_err(|e| Status::cancelled(format!("import aborted by the client: {}", e.message())))?;
            match &context {
                None => context = Some(import::Context::read(&msg, node.dialect)?),
                Some(first) if node.dialect.import_context_on_every_message() => {
                    first.check_same(&import::Context::read(&msg, node.dialect)?)?
                }
                Some(_) => {}
            }
            let decoded = decoder
                .feed(&msg.acs_snapshot)
                .map_err(|e| canton_error::status(codes::IMPORT_ACS_ERROR, format!("Invalid ACS snapshot: {e}")))?;
            staged.extend(decoded);
        }
        let context = context.ok_or_else(|| repair_arg("ImportAcs received no request"))?;
        decoder
            .finish()
            .map_err(|e| canton_error::status(codes::IMPORT_ACS_ERROR, format!("Invalid ACS snapshot: {e}")))?;
        let rules = import::Rules {
            dialect: node.dialect,
            enable_all_reassignments: node.enable_all_reassignments,
        };
        let (imported, skipped, dropped) =
            repair_tx(&node, move |tx| import::apply(tx, &context, rules, staged)).await?;
        tracing::info!(
            "ImportAcs: {imported} persisted, {skipped} skipped (idempotent), {dropped} dropped (other synchronizer)"
        );
        Ok(Response::new(ImportAcsResponse {}))
    }

    async fn change_assignation(
        &self,
        req: Request<ChangeAssignationRequest>,
    ) -> Result<Response<ChangeAssignationResponse>, Status> {
        let node = self.0.clone();
        let req = req.into_inner();
        if req.source_synchronizer_alias == req.target_synchronizer_alias {
            return Err(repair_arg("Source must differ from target synchronizer!"));
        }
        let _turn = node.repair_lock.lock().await;
        node.ensure_all_disconnected(codes::CONTRACT_ASSIGNATION_CHANGE_ERROR)?;
        if req.contracts.is_empty() {
            return Ok(Response::new(ChangeAssignationResponse {}));
        }
        let uid = node.member.clone();
        repair_tx(&node, move |tx| change_assignation(tx, &uid, &req)).await?;
        Ok(Response::new(ChangeAssignationResponse {}))
    }

    async fn purge_contracts(
        &self,
        req: Request<PurgeContractsRequest>,
    ) -> Result<Response<PurgeContractsResponse>, Status> {
        let node = self.0.clone();
        let req = req.into_inner();
        if req.contract_ids.is_empty() {
            return Err(repair_arg("Missing contract ids to purge"));
        }
        let _turn = node.repair_lock.lock().await;
        node.ensure_all_disconnected(codes::CONTRACT_PURGE_ERROR)?;
        repair_tx(&node, move |tx| purge(tx, &req)).await?;
        Ok(Response::new(PurgeContractsResponse {}))
    }
}

fn change_error(cause: impl Into<String>) -> Refusal {
    Refusal(codes::CONTRACT_ASSIGNATION_CHANGE_ERROR, cause.into())
}

/// Canton's `ChangeAssignation` (participant/admin/repair/ChangeAssignation.scala and
/// RepairServiceHelpers.scala, release-line-3.5): per contract, the source state decides
/// (active: moved with counter + 1; otherwise an error unless `skip_inactive`), the target
/// must not hold it active or archived (even with `skip_inactive`), and a stakeholder
/// must be hosted here in the target's topology snapshot taken at the target's clean
/// record time — so parties enabled by the last event processed there do not count yet.
/// The contract's package is taken as it is (ChangeAssignation.readContracts): whether it
/// is vetted on the target is not checked, so the lab does not check it either.
fn change_assignation(
    tx: &rusqlite::Transaction<'_>,
    member: &str,
    req: &ChangeAssignationRequest,
) -> Result<(), Refusal> {
    let code = codes::CONTRACT_ASSIGNATION_CHANGE_ERROR;
    let (src_alias, dst_alias) = (&req.source_synchronizer_alias, &req.target_synchronizer_alias);
    let (source, _) = alias_id(tx, src_alias, never_connected(code, src_alias))?;
    let (target, initialised) = alias_id(tx, dst_alias, never_connected(code, dst_alias))?;
    if !initialised {
        return Err(change_error(format!(
            "No static synchronizer parameters found for {dst_alias}. Reconnect to the synchronizer to initialize the identity management and retry repair afterwards."
        )));
    }
    let as_of = sync::clean_record_time(tx, dst_alias)?;
    let on_target: BTreeSet<String> = sync::parties_on_at(tx, &target, member, as_of)?.into_iter().collect();
    let offset = store::next_offset(tx)?;
    let now = store::now_micros();
    let source_key = acs::sync_key_or_new(tx, &source)?;
    let target_key = acs::sync_key_or_new(tx, &target)?;
    // A batch holds contracts of a few sets of stakeholders: each set is checked once.
    let mut hosted_by_set: HashMap<String, bool> = HashMap::new();
    let away = acs::Change::Unassign { target: target.clone() };
    let here = acs::Change::Assign { source: source.clone() };
    for c in &req.contracts {
        let id = &c.id;
        let cannot = |why: String| change_error(format!("Cannot change contract assignation: contract {id} {why}."));
        // One statement finds the contract, its stakeholders and both of its states.
        let Some(found) = acs::find_on_both(tx, id, source_key, target_key)? else {
            if req.skip_inactive {
                continue;
            }
            return Err(cannot("does not exist in source synchronizer".into()));
        };
        let (key, json, on_target_state) = (found.key, found.stakeholders_json, found.on_second);
        let src = match found.on_first {
            Some(a) if a.status == AcsStatus::Active => a,
            _ if req.skip_inactive => continue,
            None => return Err(cannot("does not exist in source synchronizer".into())),
            Some(a) => {
                return Err(cannot(match a.status {
                    AcsStatus::Archived => "has been archived".into(),
                    AcsStatus::Purged => "has been purged".into(),
                    _ => format!("has been reassigned to {}", a.target.unwrap_or_default()),
                }));
            }
        };
        if let Some(t) = on_target_state {
            let shown = match t.status {
                AcsStatus::Active => Some(format!("Active({})", t.reassignment_counter)),
                AcsStatus::Archived => Some("Archived".to_string()),
                _ => None,
            };
            if let Some(shown) = shown {
                return Err(change_error(format!(
                    "Active contract {id} in source synchronizer exists in target synchronizer with status {shown}. Use 'repair.add' or 'repair.purge' instead."
                )));
            }
        }
        let hosted = match hosted_by_set.get(&json) {
            Some(&hosted) => hosted,
            None => {
                let holders = acs::parse_stakeholders(id, &json)?;
                let hosted = holders.iter().any(|p| on_target.contains(p));
                hosted_by_set.insert(json.clone(), hosted);
                hosted
            }
        };
        if !hosted {
            let holders = acs::parse_stakeholders(id, &json)?;
            let as_of = jiff::Timestamp::from_microsecond(as_of)
                .map(|t| t.to_string())
                .unwrap_or_default();
            return Err(change_error(format!(
                "Not allowed to change assignation of contract {id} without at least one stakeholder of {holders:?} existing locally on the target synchronizer asOf={as_of}"
            )));
        }
        let counter = c.reassignment_counter_override.unwrap_or(src.reassignment_counter + 1);
        // The unassignment carries the counter of the reassignment, as Canton's store does
        // (participant/admin/repair/ChangeAssignation.scala: both sides get the new counter).
        acs::set_state_by_key(tx, key, source_key, &away, counter, offset, now)?;
        acs::set_state_by_key(tx, key, target_key, &here, counter, offset, now)?;
    }
    Ok(())
}

fn purge(tx: &rusqlite::Transaction<'_>, req: &PurgeContractsRequest) -> Result<(), Refusal> {
    let (sync_id, _) = alias_id(
        tx,
        &req.synchronizer_alias,
        never_connected(codes::CONTRACT_PURGE_ERROR, &req.synchronizer_alias),
    )?;
    let offset = store::next_offset(tx)?;
    let now = store::now_micros();
    for id in &req.contract_ids {
        let state = acs::activeness(tx, id, &sync_id)?;
        let refuse = |what: &str| {
            Refusal(
                codes::CONTRACT_PURGE_ERROR,
                format!(
                    "Contract {id} cannot be purged: {what}. Set ignoreAlreadyPurged = true to skip non-existing contracts"
                ),
            )
        };
        let counter = match state {
            Some(a) if matches!(a.status, AcsStatus::Active | AcsStatus::Unassigned) => a.reassignment_counter,
            _ if req.ignore_already_purged => continue,
            None => return Err(refuse("unknown contract")),
            Some(a) if a.status == AcsStatus::Archived => return Err(refuse("archived contract")),
            Some(_) => return Err(refuse("purged contract")),
        };
        acs::set_state(tx, id, &sync_id, &acs::Change::Purge, counter, offset, now)?;
    }
    Ok(())
}

mod import;
#[cfg(test)]
mod tests;
