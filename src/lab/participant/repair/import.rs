//! ImportAcs as the lab's Canton line runs it: the import context each streamed message
//! carries, and the rules that apply a whole snapshot in one transaction.

use super::Refusal;
use crate::canton_error::{self, codes};
use crate::lab::dialect::Dialect;
use crate::lab::ids;
use crate::lab::store::{self, Status as AcsStatus, acs};
use crate::wire::admin::{ContractImportMode, ImportAcsRequest};
use crate::wire::lab::ContractBlob;
use crate::wire::ledger;
use prost::Message;
use std::collections::BTreeSet;
use tonic::Status;

/// The import context of an ImportAcs request message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Context {
    pub mode: ContractImportMode,
    pub workflow_id_prefix: String,
    pub excluded: BTreeSet<String>,
    /// 3.5+: where every contract goes; 3.4 has no such field.
    pub synchronizer_id: Option<String>,
}

/// 3.4 turns a bad context into `responseObserver.onError(new IllegalArgumentException(…))`,
/// which grpc-java sends as a bare UNKNOWN without a description.
fn bare_unknown(why: &str) -> Status {
    tracing::warn!("ImportAcs refused (sent as UNKNOWN): {why}");
    Status::unknown("")
}

/// 3.5: `ProtoConverter.parseRequired` failures become ProtoDeserializationFailure.
fn not_set(field: &str) -> Status {
    canton_error::status(
        codes::PROTO_DESERIALIZATION_FAILURE,
        format!("Deserialization of protobuf message failed: FieldNotSet({field})"),
    )
}

impl Context {
    /// Reads the context of one message (participant/admin/grpc/GrpcParticipantRepairService.scala,
    /// importAcs: release-line-3.4 `fromProtoV30` + `setOrCheck`, release-line-3.5
    /// `extractImportArgs`).
    pub(super) fn read(msg: &ImportAcsRequest, dialect: Dialect) -> Result<Context, Status> {
        let mode = match msg.contract_import_mode.map(ContractImportMode::try_from) {
            Some(Ok(m @ (ContractImportMode::Accept | ContractImportMode::Validation))) => m,
            _ if dialect == Dialect::V3_4 => return Err(bare_unknown("contract_import_mode: FieldNotSet")),
            _ => return Err(not_set("contract_import_mode")),
        };
        let synchronizer_id = if dialect.import_reads_synchronizer_id() {
            Some(
                msg.synchronizer_id
                    .clone()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| not_set("synchronizer_id"))?,
            )
        } else {
            None
        };
        Ok(Context {
            mode,
            workflow_id_prefix: msg.workflow_id_prefix.clone().unwrap_or_default(),
            excluded: msg.excluded_stakeholder_ids.iter().cloned().collect(),
            synchronizer_id,
        })
    }

    /// 3.4's `setOrCheck`: every later message must carry the first one's context.
    pub(super) fn check_same(&self, next: &Context) -> Result<(), Status> {
        if next.workflow_id_prefix != self.workflow_id_prefix {
            return Err(bare_unknown(&format!(
                "Workflow ID prefix cannot be changed from {} to {}",
                self.workflow_id_prefix, next.workflow_id_prefix
            )));
        }
        if next.mode != self.mode {
            return Err(bare_unknown("Contract authentication import mode cannot be changed"));
        }
        if next.excluded != self.excluded {
            return Err(bare_unknown("Exclude parties cannot be changed"));
        }
        Ok(())
    }
}

/// The participant settings an import depends on.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rules {
    pub dialect: Dialect,
    pub enable_all_reassignments: bool,
}

fn import_error(cause: impl Into<String>) -> Refusal {
    Refusal(codes::IMPORT_ACS_ERROR, cause.into())
}

fn alias_known(tx: &rusqlite::Transaction<'_>, synchronizer_id: &str) -> Result<bool, Refusal> {
    let known: Option<String> = tx
        .query_row(
            "SELECT alias FROM synchronizers WHERE synchronizer_id = ?1",
            [synchronizer_id],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    Ok(known.is_some())
}

/// Applies an imported ACS; returns (persisted, skipped as already present, dropped).
pub(super) fn apply(
    tx: &rusqlite::Transaction<'_>,
    context: &Context,
    rules: Rules,
    contracts: Vec<ledger::ActiveContract>,
) -> Result<(usize, usize, usize), Refusal> {
    // Both lines check the counters of the whole snapshot before anything else (3.4:
    // participant/admin/grpc/ParticipantCommon.scala, importAcsNewSnapshot; 3.5:
    // participant/admin/repair/RepairServiceContractsImporter.scala, on the unfiltered
    // contracts).
    let offenders: Vec<String> = contracts
        .iter()
        .filter(|c| c.reassignment_counter != 0)
        .map(|c| {
            let id = c.created_event.as_ref().map(|e| e.contract_id.as_str()).unwrap_or("");
            format!("({id},{})", c.reassignment_counter)
        })
        .collect();
    if !offenders.is_empty()
        && let Some(why) = rules
            .dialect
            .refuses_nonzero_counters(rules.enable_all_reassignments, &offenders.join(", "))
    {
        return Err(import_error(why));
    }
    let requested = context
        .synchronizer_id
        .as_deref()
        .map(|s| ids::logical_of(s).to_string());
    if let Some(target) = &requested
        && !alias_known(tx, target)?
    {
        return Err(import_error(format!(
            "Not able to find synchronizer alias for {target}"
        )));
    }
    let offset = store::next_offset(tx)?;
    let now = store::now_micros();
    let (mut imported, mut skipped, mut dropped) = (0, 0, 0);
    for c in contracts {
        let own = ids::logical_of(&c.synchronizer_id).to_string();
        let target = match &requested {
            // 3.5+: contracts of other synchronizers are silently dropped.
            Some(t) if &own != t => {
                dropped += 1;
                continue;
            }
            Some(t) => t.clone(),
            // 3.4: each contract goes to its own synchronizer.
            None if alias_known(tx, &own)? => own,
            None => return Err(import_error(format!("Not able to find synchronizer alias for {own}"))),
        };
        let event = c
            .created_event
            .ok_or_else(|| import_error("an ActiveContract has no created_event"))?;
        if event.created_event_blob.is_empty() {
            return Err(import_error(format!(
                "created_event_blob is required for contract {}",
                event.contract_id
            )));
        }
        let blob = ContractBlob::decode(event.created_event_blob.as_slice())
            .map_err(|e| import_error(format!("Cannot decode the blob of contract {}: {e}", event.contract_id)))?;
        if blob.contract_id != event.contract_id {
            return Err(import_error(format!(
                "The blob of contract {} carries id {}",
                event.contract_id, blob.contract_id
            )));
        }
        if crate::lab::templates::resolve_template(blob.template_id.as_ref()).is_err() {
            return Err(import_error(format!(
                "Failed to locate package for contract {}",
                blob.contract_id
            )));
        }
        if acs::stakeholders(&blob).iter().any(|p| context.excluded.contains(p)) {
            dropped += 1;
            continue;
        }
        if context.mode == ContractImportMode::Validation && !ids::authenticate(&blob) {
            return Err(import_error(format!(
                "Failed to authenticate contract with id {}",
                blob.contract_id
            )));
        }
        let counter = i64::try_from(c.reassignment_counter).unwrap_or(i64::MAX);
        let id = blob.contract_id.clone();
        let mismatch = || {
            import_error(format!(
                "Contract {id} exists in synchronizer, but does not match with contract being added."
            ))
        };
        let state = acs::activeness(tx, &id, &target)?;
        // participant/admin/repair/RepairServiceContractsImporter.scala (contractToAdd,
        // release-line-3.5): an identical active contract is
        // skipped, an archived one refused, a purged one re-added, and one reassigned away
        // comes back as an assignment if its counter grew.
        let mut change = acs::Change::Add;
        match state.as_ref().map(|s| s.status) {
            Some(AcsStatus::Active) => {
                if acs::upsert_contract(tx, &blob)? == acs::ContractInsert::Conflict {
                    return Err(mismatch());
                }
                skipped += 1;
                continue;
            }
            Some(AcsStatus::Archived) => {
                return Err(import_error(format!(
                    "Cannot add previously archived contract {id} as archived contracts cannot become active."
                )));
            }
            Some(AcsStatus::Unassigned) => {
                let old = state.as_ref().map(|s| s.reassignment_counter).unwrap_or(0);
                if counter <= old {
                    return Err(import_error(format!(
                        "Cannot assign contract {id} back to {target}: reassignment counter {counter} does not exceed {old}"
                    )));
                }
                change = acs::Change::Assign {
                    source: state.and_then(|s| s.target).unwrap_or_default(),
                };
            }
            Some(AcsStatus::Purged) | None => {}
        }
        // Canton never replaces a stored contract: a purged or unassigned contract can come
        // back, but only with the payload stored under its id before. The import checks
        // this before writing (participant/admin/repair/RepairServiceContractsImporter.scala,
        // persistAddContracts, release-line-3.5 and main; participant/admin/repair/RepairService.scala
        // in release-line-3.4), and the store itself refuses a different contract under a
        // stored id ("Stored contracts are immutable, but found different contract",
        // participant/store/db/DbContractStore.scala). The refusal reaches the caller as
        // IMPORT_ACS_ERROR (GrpcParticipantRepairService.scala, importAcs).
        if acs::upsert_contract(tx, &blob)? == acs::ContractInsert::Conflict {
            return Err(import_error(format!(
                "Contract {id} already exists in the contract store, but differs from contract to be created."
            )));
        }
        acs::set_state(tx, &id, &target, &change, counter, offset, now)?;
        imported += 1;
    }
    Ok((imported, skipped, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(prefix: Option<&str>, mode: Option<ContractImportMode>, sync: Option<&str>) -> ImportAcsRequest {
        ImportAcsRequest {
            acs_snapshot: Vec::new(),
            workflow_id_prefix: prefix.map(str::to_string),
            contract_import_mode: mode.map(|m| m as i32),
            excluded_stakeholder_ids: Vec::new(),
            representative_package_id_override: None,
            synchronizer_id: sync.map(str::to_string),
        }
    }

    #[test]
    fn canton_3_4_checks_every_message_and_3_5_only_the_first() {
        let first = msg(Some("p"), Some(ContractImportMode::Validation), Some("lost::1"));
        // What a client sends when it puts the context in the first message only.
        let bare = msg(None, None, None);
        let c34 = Context::read(&first, Dialect::V3_4).expect("first");
        let err = Context::read(&bare, Dialect::V3_4).expect_err("mode unset");
        assert_eq!((err.code(), err.message()), (tonic::Code::Unknown, ""));
        let other_prefix = msg(Some("q"), Some(ContractImportMode::Validation), None);
        let next = Context::read(&other_prefix, Dialect::V3_4).expect("readable");
        assert_eq!(c34.check_same(&next).expect_err("prefix").code(), tonic::Code::Unknown);
        assert!(
            c34.check_same(&Context::read(&first, Dialect::V3_4).expect("same"))
                .is_ok()
        );
        // 3.5 never reads the later messages; the first one must name the synchronizer.
        assert!(Context::read(&first, Dialect::V3_5).is_ok());
        let no_sync = msg(Some("p"), Some(ContractImportMode::Accept), None);
        let err = Context::read(&no_sync, Dialect::V3_5).expect_err("synchronizer_id required");
        assert!(
            err.message().starts_with("PROTO_DESERIALIZATION_FAILURE(8,"),
            "{}",
            err.message()
        );
        assert!(
            Context::read(&no_sync, Dialect::V3_4).is_ok(),
            "3.4 has no synchronizer_id"
        );
    }

    #[test]
    fn counters_follow_the_line_and_the_participant_setting() {
        assert!(Dialect::V3_4.refuses_nonzero_counters(true, "x").is_some());
        assert!(Dialect::V3_5.refuses_nonzero_counters(false, "x").is_some());
        assert!(Dialect::V3_5.refuses_nonzero_counters(true, "x").is_none());
        assert!(Dialect::Main.refuses_nonzero_counters(true, "x").is_none());
    }
}
