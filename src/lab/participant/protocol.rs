//! The participant side of the lab synchronizer protocol: processing sequenced events
//! (topology, confirmation requests, verdicts) exactly once and crash-safely — each
//! event's effects and the new subscription cursor commit in one SQLite transaction —
//! and submitting our own transactions.

use super::{Completion, Node, lock};
use crate::canton_error::{self, codes};
use crate::lab::store::reassignment::{self, Half};
use crate::lab::store::{self, Change, Status as AcsStatus, acs, pending, sync};
use crate::wire::lab::{
    ConfirmRequest, ConfirmationRequest, LabReassignment, LabTransaction, SequencedEvent, SubmitRequest,
    sequenced_event::Payload, sequencer_client::SequencerClient,
};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tonic::Status;
use tonic::transport::Channel;

/// How long SubmitAndWait waits for the verdict before answering REQUEST_TIME_OUT.
pub(crate) const SUBMISSION_TIMEOUT: Duration = Duration::from_secs(20);

/// Applies one sequenced event and, for a confirmation request, answers the mediator.
pub(crate) async fn process_event(
    node: &Arc<Node>,
    alias: &str,
    synchronizer_id: &str,
    event: SequencedEvent,
    client: &mut SequencerClient<Channel>,
) -> Result<(), Status> {
    let seq = event.seq;
    let ts = event.timestamp_micros;
    let (alias, sync_id, uid) = (alias.to_string(), synchronizer_id.to_string(), node.member.clone());
    match event.payload {
        Some(Payload::Topology(t)) => {
            let hostings: Vec<(String, String)> = t.hostings.into_iter().map(|h| (h.party, h.participant)).collect();
            node.db(move |s| {
                let tx = s.conn().transaction()?;
                sync::replace_topology(&tx, &alias, &sync_id, &hostings, &uid, ts)?;
                sync::set_cursor(&tx, &alias, seq, ts)?;
                tx.commit()?;
                Ok(())
            })
            .await
        }
        Some(Payload::Request(request)) => {
            let request_id = request.request_id.clone();
            let admin_party = node.uid.clone();
            let answer = node
                .db(move |s| {
                    let hosted: BTreeSet<String> = s.hosted_parties()?.into_iter().collect();
                    let tx = s.conn().transaction()?;
                    if !answers_ping(&request, &hosted, &admin_party) {
                        sync::set_cursor(&tx, &alias, seq, ts)?;
                        tx.commit()?;
                        return Ok(None);
                    }
                    let (locked, verdict) = validate(&tx, &sync_id, &request, &hosted)?;
                    pending::insert_request(&tx, &sync_id, &request, &locked, verdict.is_ok())?;
                    sync::set_cursor(&tx, &alias, seq, ts)?;
                    tx.commit()?;
                    Ok(Some(match verdict {
                        Ok(()) => (true, String::new()),
                        Err(reason) => (false, reason),
                    }))
                })
                .await?;
            if let Some((approve, reason)) = answer {
                send_confirmation(client, &node.member, &request_id, approve, reason).await;
            }
            Ok(())
        }
        Some(Payload::Verdict(v)) => {
            let node2 = node.clone();
            let completion = node
                .db(move |s| {
                    let hosted: BTreeSet<String> = s.hosted_parties()?.into_iter().collect();
                    let tx = s.conn().transaction()?;
                    let done = match pending::take_request(&tx, &v.request_id)? {
                        None => None,
                        Some(p) => {
                            let ours = p.request.submitter == uid;
                            let tr = p.request.transaction.unwrap_or_default();
                            let offset = if v.approved && p.approved {
                                apply(&tx, &sync_id, &tr, &hosted, ts, ours)?
                            } else if ours {
                                Some(store::next_offset(&tx)?)
                            } else {
                                None
                            };
                            if ours {
                                pending::remove_submission(&tx, &p.request.submission_id)?;
                                Some((
                                    p.request.submission_id,
                                    Completion {
                                        update_id: tr.update_id.clone(),
                                        offset: offset.unwrap_or(0),
                                        rejection: (!v.approved).then(|| v.reason.clone()),
                                    },
                                ))
                            } else {
                                None
                            }
                        }
                    };
                    sync::set_cursor(&tx, &alias, seq, ts)?;
                    tx.commit()?;
                    Ok(done)
                })
                .await?;
            if let Some((submission_id, c)) = completion {
                node2.complete(&submission_id, c);
            }
            Ok(())
        }
        None => {
            node.db(move |s| {
                sync::set_cursor(s.conn(), &alias, seq, ts)?;
                Ok(())
            })
            .await
        }
    }
}

/// Canton's ping responder is a bot subscribed for the participant's admin party only
/// (`PingService.eventFormat`, participant/admin/PingService.scala, release-line-3.5): a ping
/// addressed to any other party we host is never answered, and times out at the initiator.
fn answers_ping(request: &ConfirmationRequest, hosted: &BTreeSet<String>, admin_party: &str) -> bool {
    let Some(tx) = &request.transaction else { return true };
    tx.ping_parties
        .iter()
        .filter(|p| hosted.contains(*p))
        .all(|p| p == admin_party)
}

/// Checks the request's inputs against our ACS; returns the contracts it locks and
/// whether we approve (with the reason when not).
fn validate(
    conn: &rusqlite::Connection,
    synchronizer_id: &str,
    request: &ConfirmationRequest,
    hosted: &BTreeSet<String>,
) -> store::Result<(Vec<String>, Result<(), String>)> {
    let none = LabTransaction::default();
    let tx = request.transaction.as_ref().unwrap_or(&none);
    let locked_now = pending::locked_contracts(conn)?;
    let mut locks = Vec::new();
    for input in &tx.inputs {
        if !input.stakeholders.iter().any(|p| hosted.contains(p)) {
            continue;
        }
        let state = acs::activeness(conn, &input.contract_id, synchronizer_id)?;
        let verdict = match state.map(|a| a.status) {
            Some(AcsStatus::Active) => {
                let digest = acs::contract_digest(conn, &input.contract_id)?;
                if digest.as_deref() != Some(input.payload_digest.as_str()) {
                    Err(format!("contract {} differs from our copy", input.contract_id))
                } else if input.consumed && locked_now.contains(&input.contract_id) {
                    Err(format!("contract {} is locked by another request", input.contract_id))
                } else {
                    Ok(())
                }
            }
            Some(s) => Err(format!(
                "contract {} is inactive here ({})",
                input.contract_id,
                s.as_str()
            )),
            None => Err(format!("contract {} is unknown here", input.contract_id)),
        };
        if let Err(reason) = verdict {
            return Ok((Vec::new(), Err(reason)));
        }
        if input.consumed {
            locks.push(input.contract_id.clone());
        }
    }
    for r in tx.reassignments.iter().filter(|r| concerns(r, hosted)) {
        let verdict = validate_reassignment(conn, synchronizer_id, r, &locked_now)?;
        if let Err(reason) = verdict {
            return Ok((Vec::new(), Err(reason)));
        }
        if !r.assign {
            locks.extend(r.contract.as_ref().map(|c| c.contract_id.clone()));
        }
    }
    Ok((locks, Ok(())))
}

/// Whether a reassignment is ours to validate and apply: we host a stakeholder.
fn concerns(r: &LabReassignment, hosted: &BTreeSet<String>) -> bool {
    r.contract
        .as_ref()
        .is_some_and(|c| acs::stakeholders(c).iter().any(|p| hosted.contains(p)))
}

/// A reassigning participant's checks (participant/protocol/reassignment/UnassignmentValidation.scala
/// and AssignmentValidation.scala, release-line-3.5): an unassignment is sequenced on its
/// source, where the contract must be active and unlocked, with our payload; an
/// assignment on its target, where the contract must not be active already
/// (ASSIGNMENT_ALREADY_COMPLETED, protocol/LocalRejectError.scala). An assignment whose
/// unassignment we have not seen is accepted (ReassignmentStore.addAssignmentDataIfAbsent).
fn validate_reassignment(
    conn: &rusqlite::Connection,
    synchronizer_id: &str,
    r: &LabReassignment,
    locked_now: &BTreeSet<String>,
) -> store::Result<Result<(), String>> {
    let Some(contract) = &r.contract else {
        return Ok(Err("a reassignment without its contract".into()));
    };
    let id = &contract.contract_id;
    let here = if r.assign { &r.target } else { &r.source };
    if here != synchronizer_id {
        return Ok(Err(format!(
            "reassignment {} sequenced on the wrong synchronizer",
            r.reassignment_id
        )));
    }
    let state = acs::activeness(conn, id, synchronizer_id)?.map(|a| a.status);
    let digest = acs::contract_digest(conn, id)?;
    if digest
        .as_ref()
        .is_some_and(|d| d != &crate::lab::ids::payload_digest(contract))
    {
        return Ok(Err(format!("contract {id} differs from our copy")));
    }
    Ok(match (r.assign, state) {
        (false, Some(AcsStatus::Active)) if locked_now.contains(id) => {
            Err(format!("contract {id} is locked by another request"))
        }
        (false, Some(AcsStatus::Active)) => Ok(()),
        (false, Some(s)) => Err(format!("contract {id} is inactive here ({})", s.as_str())),
        (false, None) => Err(format!("contract {id} is unknown here")),
        (true, Some(AcsStatus::Active)) => Err(format!("contract {id} is already active on the target")),
        (true, _) => Ok(()),
    })
}

/// Applies an approved transaction to our stores; returns the new ledger offset when
/// anything changed for us (or when we submitted it).
fn apply(
    conn: &rusqlite::Connection,
    synchronizer_id: &str,
    tx: &LabTransaction,
    hosted: &BTreeSet<String>,
    record_time: i64,
    ours: bool,
) -> store::Result<Option<i64>> {
    let consumed: Vec<_> = tx
        .inputs
        .iter()
        .filter(|i| i.consumed && i.stakeholders.iter().any(|p| hosted.contains(p)))
        .collect();
    let created: Vec<_> = tx
        .created
        .iter()
        .filter(|c| c.signatories.iter().chain(&c.observers).any(|p| hosted.contains(p)))
        .collect();
    let reassigned: Vec<&LabReassignment> = tx.reassignments.iter().filter(|r| concerns(r, hosted)).collect();
    if consumed.is_empty() && created.is_empty() && reassigned.is_empty() && !ours {
        return Ok(None);
    }
    let offset = store::next_offset(conn)?;
    for input in consumed {
        let counter = acs::activeness(conn, &input.contract_id, synchronizer_id)?
            .map(|a| a.reassignment_counter)
            .unwrap_or(0);
        acs::set_state(
            conn,
            &input.contract_id,
            synchronizer_id,
            &Change::Archive,
            counter,
            offset,
            record_time,
        )?;
    }
    for blob in created {
        acs::upsert_contract(conn, blob)?;
        acs::set_state(
            conn,
            &blob.contract_id,
            synchronizer_id,
            &Change::Create,
            0,
            offset,
            record_time,
        )?;
    }
    for r in reassigned {
        let Some(contract) = &r.contract else { continue };
        let (change, half) = if r.assign {
            acs::upsert_contract(conn, contract)?;
            (
                Change::Assign {
                    source: r.source.clone(),
                },
                Half::Assigned,
            )
        } else {
            (
                Change::Unassign {
                    target: r.target.clone(),
                },
                Half::Unassigned,
            )
        };
        acs::set_state(
            conn,
            &contract.contract_id,
            synchronizer_id,
            &change,
            r.reassignment_counter,
            offset,
            record_time,
        )?;
        let seen = reassignment::Reassignment {
            reassignment_id: r.reassignment_id.clone(),
            contract_id: contract.contract_id.clone(),
            source: r.source.clone(),
            target: r.target.clone(),
            reassignment_counter: r.reassignment_counter,
            submitter: r.submitter.clone(),
            unassigned_offset: None,
            assigned_offset: None,
        };
        reassignment::record(conn, &seen, half, offset)?;
    }
    Ok(Some(offset))
}

async fn send_confirmation(
    client: &mut SequencerClient<Channel>,
    member: &str,
    request_id: &str,
    approve: bool,
    reason: String,
) {
    let req = ConfirmRequest {
        member: member.to_string(),
        request_id: request_id.to_string(),
        approve,
        reason,
    };
    if let Err(e) = client.confirm(req).await {
        tracing::debug!("confirmation for {request_id} not delivered: {}", e.message());
    }
}

/// After a reconnect, answers again for requests still awaiting their verdict (the
/// mediator ignores answers it already has).
pub(crate) async fn resend_confirmations(
    node: &Arc<Node>,
    synchronizer_id: &str,
    client: &mut SequencerClient<Channel>,
) {
    let id = synchronizer_id.to_string();
    let pending = match node.db(move |s| s.pending_on(&id)).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("reading pending requests: {}", e.message());
            return;
        }
    };
    for p in pending {
        let reason = if p.approved {
            String::new()
        } else {
            "rejected before restart".into()
        };
        send_confirmation(client, &node.member, &p.request.request_id, p.approved, reason).await;
    }
}

/// Sequences our transaction on `alias` and waits for its verdict.
pub(crate) async fn submit(
    node: &Arc<Node>,
    alias: &str,
    synchronizer_id: &str,
    transaction: LabTransaction,
    submission_id: String,
    timeout: Duration,
) -> Result<Completion, Status> {
    let a = alias.to_string();
    let url = node
        .db(move |s| Ok(s.sync(&a)?.and_then(|s| super::connectivity::first_endpoint(&s.config))))
        .await?
        .ok_or_else(|| {
            canton_error::status(
                codes::NO_SYNCHRONIZER_FOR_SUBMISSION,
                format!("no sequencer endpoint for {alias}"),
            )
        })?;
    let (tx, rx) = oneshot::channel();
    lock(&node.waiters).insert(submission_id.clone(), tx);
    let (sid, sync_id) = (submission_id.clone(), synchronizer_id.to_string());
    node.db(move |s| s.add_submission(&sid, &sync_id)).await?;
    let request = ConfirmationRequest {
        request_id: uuid::Uuid::new_v4().to_string(),
        submitter: node.member.clone(),
        submission_id: submission_id.clone(),
        transaction: Some(transaction),
        recipients: Vec::new(),
        confirmers: Vec::new(),
    };
    let sent = async {
        let mut client = super::connectivity::sequencer_client(&url)
            .await
            // Canton: TransactionProcessor.SequencerRequest (participant/protocol/TransactionProcessor.scala).
            .map_err(|e| {
                canton_error::status(codes::SEQUENCER_REQUEST_FAILED, format!("Failed to send command: {e}"))
            })?;
        client
            .submit(SubmitRequest {
                member: node.member.clone(),
                request: Some(request),
            })
            .await
            .map_err(|e| match e.code() {
                tonic::Code::FailedPrecondition => {
                    canton_error::status(codes::NO_SYNCHRONIZER_FOR_SUBMISSION, e.message().to_string())
                }
                _ => canton_error::status(
                    codes::SEQUENCER_REQUEST_FAILED,
                    format!(
                        "Failed to send command: {alias} did not accept the submission: {}",
                        e.message()
                    ),
                ),
            })
    }
    .await;
    if let Err(e) = sent {
        lock(&node.waiters).remove(&submission_id);
        let sid = submission_id.clone();
        node.db(move |s| s.drop_submission(&sid)).await?;
        return Err(e);
    }
    match tokio::time::timeout(timeout, rx).await {
        Ok(Ok(c)) => Ok(c),
        _ => {
            lock(&node.waiters).remove(&submission_id);
            Err(canton_error::status(
                codes::REQUEST_TIME_OUT,
                format!(
                    "Timed out while awaiting the completion of submission {submission_id}; the transaction may still commit."
                ),
            ))
        }
    }
}
