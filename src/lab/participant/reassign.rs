//! Reassignments through the Ledger API, as a Canton participant runs them
//! (`CommandService.SubmitAndWaitForReassignment`): an unassignment sequenced on the
//! source synchronizer, an assignment on the target, each confirmed by the stakeholders'
//! participants; and the incomplete ones — one half seen, not the other — in the active
//! contract stream.

use super::{Node, lock, protocol, repair::active_contract};
use crate::canton_error::{self, codes};
use crate::lab::ids;
use crate::lab::store::reassignment::{self, Half, Reassignment as Seen};
use crate::lab::store::{self, Status as AcsStatus, acs};
use crate::wire::lab::{ContractBlob, LabReassignment, LabTransaction};
use crate::wire::ledger::{
    self, AssignedEvent, IncompleteAssigned, IncompleteUnassigned, Reassignment, ReassignmentEvent,
    SubmitAndWaitForReassignmentRequest, UnassignedEvent, get_active_contracts_response::ContractEntry,
    reassignment_command::Command, reassignment_event,
};
use prost::Message;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tonic::Status;

/// Reassignment submissions fail as Canton's do: unresolvable synchronizers and failed
/// validations are INVALID_ARGUMENT (participant/sync/CantonSyncService.scala,
/// submitReassignment: `RequestValidationErrors.InvalidArgument.Reject`).
fn invalid(cause: impl Into<String>) -> Status {
    canton_error::status(codes::INVALID_ARGUMENT, cause)
}

fn missing(field: &str) -> Status {
    canton_error::status(
        codes::MISSING_FIELD,
        format!("The submitted command is missing a mandatory field: {field}"),
    )
}

/// The alias of a connected, healthy synchronizer with logical id `id`.
fn connected(node: &Node, id: &str) -> Result<String, Status> {
    let id = ids::logical_of(id);
    lock(&node.conns)
        .iter()
        .find(|(_, c)| c.synchronizer_id == id && c.healthy.load(Ordering::SeqCst))
        .map(|(alias, _)| alias.clone())
        .ok_or_else(|| {
            invalid(format!(
                "Unable to resolve {id} to a connected physical synchronizer id"
            ))
        })
}

/// What a submission needs to know before it is sent.
struct Prepared {
    alias: String,
    sequenced_on: String,
    reassignment: LabReassignment,
}

/// An unassignment (participant/protocol/reassignment/UnassignmentProcessingSteps.scala,
/// createSubmission, and UnassignmentRequest.scala): the contract active on the source,
/// the submitter one of its stakeholders, every stakeholder hosted on the target (whose
/// topology the submitter must see, so the target must be connected too); the counter
/// grows by one.
async fn unassignment(node: &Arc<Node>, submitter: &str, u: ledger::UnassignCommand) -> Result<Prepared, Status> {
    let (source, target) = (
        ids::logical_of(&u.source).to_string(),
        ids::logical_of(&u.target).to_string(),
    );
    if source == target {
        return Err(invalid(format!(
            "Cannot unassign contract {} to the synchronizer it is on",
            u.contract_id
        )));
    }
    let alias = connected(node, &source)?;
    connected(node, &target)?;
    let (id, src, tgt) = (u.contract_id.clone(), source.clone(), target.clone());
    let (state, blob, on_target) = node
        .db(move |s| {
            let state = acs::activeness(s.conn_ref(), &id, &src)?;
            let blob = acs::contract(s.conn_ref(), &id)?;
            let on_target: BTreeSet<String> = s.topology(&tgt)?.into_iter().map(|(p, _)| p).collect();
            Ok((state, blob, on_target))
        })
        .await?;
    let (Some(state), Some(blob)) = (state.filter(|a| a.status == AcsStatus::Active), blob) else {
        return Err(invalid(format!("Contract {} is not active on {source}", u.contract_id)));
    };
    let holders = acs::stakeholders(&blob);
    if !holders.iter().any(|p| p == submitter) {
        return Err(invalid(format!(
            "Submitter {submitter} is not a stakeholder of contract {}",
            u.contract_id
        )));
    }
    if let Some(p) = holders.iter().find(|p| !on_target.contains(*p)) {
        return Err(invalid(format!(
            "Stakeholder {p} of contract {} is not hosted on the target synchronizer {target}",
            u.contract_id
        )));
    }
    let reassignment_id = format!(
        "00{}",
        ids::sha256_hex(&[
            source.as_bytes(),
            u.contract_id.as_bytes(),
            uuid::Uuid::new_v4().as_bytes()
        ])
    );
    Ok(Prepared {
        alias,
        sequenced_on: source.clone(),
        reassignment: LabReassignment {
            reassignment_id,
            contract: Some(blob),
            source,
            target,
            reassignment_counter: state.reassignment_counter + 1,
            assign: false,
            submitter: submitter.to_string(),
        },
    })
}

/// An assignment (participant/protocol/reassignment/AssignmentProcessingSteps.scala): the
/// submitting participant must hold the unassignment's data and not have assigned it yet.
async fn assignment(node: &Arc<Node>, submitter: &str, a: ledger::AssignCommand) -> Result<Prepared, Status> {
    let id = a.reassignment_id.clone();
    let (seen, blob) = node
        .db(move |s| {
            let seen = reassignment::find(s.conn_ref(), &id)?;
            let blob = match &seen {
                Some(r) => acs::contract(s.conn_ref(), &r.contract_id)?,
                None => None,
            };
            Ok((seen, blob))
        })
        .await?;
    let (Some(seen), Some(blob)) = (seen.filter(|r| r.unassigned_offset.is_some()), blob) else {
        return Err(invalid(format!(
            "Unassignment data not found for reassignment {}",
            a.reassignment_id
        )));
    };
    if seen.assigned_offset.is_some() {
        return Err(invalid(format!(
            "Reassignment {} is already completed",
            a.reassignment_id
        )));
    }
    if ids::logical_of(&a.source) != seen.source || ids::logical_of(&a.target) != seen.target {
        return Err(invalid(format!(
            "Reassignment {} goes from {} to {}",
            a.reassignment_id, seen.source, seen.target
        )));
    }
    let alias = connected(node, &seen.target)?;
    Ok(Prepared {
        alias,
        sequenced_on: seen.target.clone(),
        reassignment: LabReassignment {
            reassignment_id: seen.reassignment_id,
            contract: Some(blob),
            source: seen.source,
            target: seen.target,
            reassignment_counter: seen.reassignment_counter,
            assign: true,
            submitter: submitter.to_string(),
        },
    })
}

/// `SubmitAndWaitForReassignment` with one command.
pub(super) async fn submit(node: &Arc<Node>, req: SubmitAndWaitForReassignmentRequest) -> Result<Reassignment, Status> {
    let cmds = req
        .reassignment_commands
        .ok_or_else(|| missing("reassignment_commands"))?;
    for (field, value) in [
        ("command_id", &cmds.command_id),
        ("user_id", &cmds.user_id),
        ("submitter", &cmds.submitter),
    ] {
        if value.is_empty() {
            return Err(missing(field));
        }
    }
    let hosted: BTreeSet<String> = node.db(|s| s.hosted_parties()).await?.into_iter().collect();
    if !hosted.contains(&cmds.submitter) {
        return Err(invalid(format!(
            "This participant cannot submit as {}: the party is not hosted here",
            cmds.submitter
        )));
    }
    let [command] = cmds.commands.as_slice() else {
        return Err(invalid("the lab submits one reassignment command at a time"));
    };
    let prepared = match command.command.clone() {
        Some(Command::UnassignCommand(u)) => unassignment(node, &cmds.submitter, u).await?,
        Some(Command::AssignCommand(a)) => assignment(node, &cmds.submitter, a).await?,
        None => return Err(missing("commands.command")),
    };
    let update_id = format!("1220{}", ids::sha256_hex(&[uuid::Uuid::new_v4().as_bytes()]));
    let tx = LabTransaction {
        update_id: update_id.clone(),
        workflow_id: cmds.workflow_id.clone(),
        command_id: cmds.command_id.clone(),
        act_as: vec![cmds.submitter.clone()],
        reassignments: vec![prepared.reassignment.clone()],
        ..Default::default()
    };
    let submission_id = if cmds.submission_id.is_empty() {
        uuid::Uuid::new_v4().to_string()
    } else {
        cmds.submission_id.clone()
    };
    let completion = protocol::submit(
        node,
        &prepared.alias,
        &prepared.sequenced_on,
        tx,
        submission_id,
        protocol::SUBMISSION_TIMEOUT,
    )
    .await?;
    if let Some(reason) = completion.rejection {
        return Err(super::ledger::rejected(&prepared.alias, &reason));
    }
    let r = prepared.reassignment;
    let seen = seen_of(&r);
    let event = match r.assign {
        false => reassignment_event::Event::Unassigned(unassigned_event(&seen, r.contract.as_ref(), &hosted)),
        true => reassignment_event::Event::Assigned(assigned_event(&seen, r.contract.clone(), &hosted, true)),
    };
    Ok(Reassignment {
        update_id: completion.update_id,
        command_id: cmds.command_id,
        workflow_id: cmds.workflow_id,
        offset: completion.offset,
        events: vec![ReassignmentEvent { event: Some(event) }],
        record_time: None,
        synchronizer_id: prepared.sequenced_on,
    })
}

fn seen_of(r: &LabReassignment) -> Seen {
    Seen {
        reassignment_id: r.reassignment_id.clone(),
        contract_id: r.contract.as_ref().map(|c| c.contract_id.clone()).unwrap_or_default(),
        source: r.source.clone(),
        target: r.target.clone(),
        reassignment_counter: r.reassignment_counter,
        submitter: r.submitter.clone(),
        unassigned_offset: None,
        assigned_offset: None,
    }
}

fn counter(r: &Seen) -> u64 {
    u64::try_from(r.reassignment_counter).unwrap_or(0)
}

fn unassigned_event(r: &Seen, blob: Option<&ContractBlob>, hosted: &BTreeSet<String>) -> UnassignedEvent {
    let witnesses = blob
        .map(|b| {
            acs::stakeholders(b)
                .into_iter()
                .filter(|p| hosted.contains(p))
                .collect()
        })
        .unwrap_or_default();
    UnassignedEvent {
        reassignment_id: r.reassignment_id.clone(),
        contract_id: r.contract_id.clone(),
        template_id: blob.and_then(|b| b.template_id.clone()),
        source: r.source.clone(),
        target: r.target.clone(),
        submitter: r.submitter.clone(),
        reassignment_counter: counter(r),
        assignment_exclusivity: None,
        witness_parties: witnesses,
        package_name: blob.map(|b| b.package_name.clone()).unwrap_or_default(),
        offset: r.unassigned_offset.unwrap_or(0),
        node_id: 0,
    }
}

fn assigned_event(
    r: &Seen,
    blob: Option<ContractBlob>,
    hosted: &BTreeSet<String>,
    include_blob: bool,
) -> AssignedEvent {
    let created_event = blob.and_then(|blob| {
        let entry = acs::ActiveEntry {
            blob,
            synchronizer_id: r.target.clone(),
            reassignment_counter: r.reassignment_counter,
        };
        active_contract(entry, hosted, include_blob, None).created_event
    });
    AssignedEvent {
        source: r.source.clone(),
        target: r.target.clone(),
        reassignment_id: r.reassignment_id.clone(),
        submitter: r.submitter.clone(),
        reassignment_counter: counter(r),
        created_event,
    }
}

/// The reassignments incomplete here as of `offset`, as the active contract stream lists
/// them, each with its contract (for the caller's filter).
pub(super) fn incomplete(
    conn: &rusqlite::Connection,
    offset: i64,
    parties: &BTreeSet<String>,
    include_blob: bool,
) -> store::Result<Vec<(ContractBlob, ContractEntry)>> {
    let mut out = Vec::new();
    for (r, half) in reassignment::incomplete_at(conn, offset)? {
        let Some(blob) = acs::contract(conn, &r.contract_id)? else {
            continue;
        };
        let entry = match half {
            Half::Unassigned => {
                let activation = acs::ActiveEntry {
                    blob: blob.clone(),
                    synchronizer_id: r.source.clone(),
                    reassignment_counter: r.reassignment_counter - 1,
                };
                ContractEntry::IncompleteUnassigned(IncompleteUnassigned {
                    created_event: active_contract(activation, parties, include_blob, None).created_event,
                    unassigned_event: unassigned_event(&r, Some(&blob), parties).encode_to_vec(),
                })
            }
            Half::Assigned => ContractEntry::IncompleteAssigned(IncompleteAssigned {
                assigned_event: assigned_event(&r, Some(blob.clone()), parties, include_blob).encode_to_vec(),
            }),
        };
        out.push((blob, entry));
    }
    Ok(out)
}
