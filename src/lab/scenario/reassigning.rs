//! The `reassigning` scenario's reassignments, made through the Ledger API's
//! `SubmitAndWaitForReassignment` as a Canton application makes them, and the two the
//! loss of lostDomain cuts short.

use super::{LOST, TARGET, iou_with_amount, step};
use crate::client::{AcsEntry, GrpcParticipant, ParticipantApi, Submission};
use crate::lab::supervisor::{Lab, LabError};
use crate::lab::{ids, templates};
use crate::wire::lab::{ArmPartialDeliveryRequest, synchronizer_control_client::SynchronizerControlClient};
use crate::wire::ledger::{
    AssignCommand, Reassignment, ReassignmentCommand, ReassignmentCommands, SubmitAndWaitForReassignmentRequest,
    UnassignCommand, command_service_client::CommandServiceClient, reassignment_command::Command,
};
use futures::StreamExt;
use std::time::{Duration, Instant};

async fn reassign(ledger_url: &str, submitter: &str, command: Command) -> Result<Reassignment, tonic::Status> {
    let mut client = CommandServiceClient::connect(ledger_url.to_string())
        .await
        .map_err(|e| tonic::Status::unavailable(format!("{ledger_url}: {e}")))?;
    let request = SubmitAndWaitForReassignmentRequest {
        reassignment_commands: Some(ReassignmentCommands {
            workflow_id: String::new(),
            user_id: "recovery-deck-lab".into(),
            command_id: uuid::Uuid::new_v4().to_string(),
            submitter: submitter.to_string(),
            submission_id: String::new(),
            commands: vec![ReassignmentCommand { command: Some(command) }],
        }),
    };
    client
        .submit_and_wait_for_reassignment(request)
        .await?
        .into_inner()
        .reassignment
        .ok_or_else(|| tonic::Status::internal("no reassignment in the answer"))
}

/// Unassigns `contract_id` from `source` towards `target` (logical ids), as `submitter`,
/// through the participant's Ledger API at `ledger_url`.
pub async fn unassign(
    ledger_url: &str,
    submitter: &str,
    contract_id: &str,
    source: &str,
    target: &str,
) -> Result<Reassignment, tonic::Status> {
    let command = Command::UnassignCommand(UnassignCommand {
        contract_id: contract_id.to_string(),
        source: source.to_string(),
        target: target.to_string(),
    });
    reassign(ledger_url, submitter, command).await
}

/// Assigns the unassigned `reassignment_id` on its target.
pub async fn assign(
    ledger_url: &str,
    submitter: &str,
    reassignment_id: &str,
    source: &str,
    target: &str,
) -> Result<Reassignment, tonic::Status> {
    let command = Command::AssignCommand(AssignCommand {
        reassignment_id: reassignment_id.to_string(),
        source: source.to_string(),
        target: target.to_string(),
    });
    reassign(ledger_url, submitter, command).await
}

fn reassignment_id(r: &Reassignment) -> String {
    use crate::wire::ledger::reassignment_event::Event;
    r.events
        .iter()
        .find_map(|e| match &e.event {
            Some(Event::Unassigned(u)) => Some(u.reassignment_id.clone()),
            Some(Event::Assigned(a)) => Some(a.reassignment_id.clone()),
            None => None,
        })
        .unwrap_or_default()
}

/// Unassigns, retrying while the target's topology does not yet show every stakeholder
/// (right after connecting, the participant has not processed the target's hostings).
async fn unassign_when_hosted(
    ledger_url: &str,
    submitter: &str,
    contract_id: &str,
    source: &str,
    target: &str,
) -> Result<Reassignment, LabError> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match unassign(ledger_url, submitter, contract_id, source, target).await {
            Ok(r) => return Ok(r),
            Err(e) if e.message().contains("is not hosted on the target") && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => {
                return Err(LabError::Scenario(format!(
                    "unassigning {contract_id}: {}",
                    e.message()
                )));
            }
        }
    }
}

/// Waits until `p`'s active contract stream shows what `seen` looks for.
async fn wait_until(p: &GrpcParticipant, what: &str, seen: impl Fn(&[AcsEntry]) -> bool) -> Result<(), LabError> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let end = p.ledger_end().await.map_err(step("ledger end"))?;
        let entries: Vec<AcsEntry> = p
            .active_contracts(end, false)
            .await
            .map_err(step("reading the ACS"))?
            .filter_map(|e| futures::future::ready(e.ok()))
            .collect()
            .await;
        if seen(&entries) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(LabError::Scenario(format!("{} never saw {what}", p.name())));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn incomplete(entries: &[AcsEntry], contract_id: &str) -> bool {
    entries
        .iter()
        .any(|e| matches!(e, AcsEntry::Incomplete(r) if r.contract_id == contract_id))
}

/// Both participants connected to newDomain as well; two reassignments the loss of
/// lostDomain cuts short (see the scenario's description); newDomain disconnected again.
pub(super) async fn cut_short(lab: &Lab, p1: &GrpcParticipant, p2: &GrpcParticipant) -> Result<(), LabError> {
    let (lost, new) = (ids::synchronizer_id(LOST), ids::synchronizer_id(TARGET));
    let alice = ids::party_id("Alice", "participant1");
    let bob = ids::party_id("Bob", "participant2");
    let ledger1 = lab.ledger_endpoint("participant1")?;
    for p in [p1, p2] {
        if !p.reconnect(TARGET, false).await.map_err(step("connecting newDomain"))? {
            return Err(LabError::Scenario(format!(
                "{} could not connect to {TARGET}",
                p.name()
            )));
        }
    }
    // Unassigned from lostDomain, never assigned on newDomain.
    let iou100 = iou_with_amount(p1, &lost, "100").await?;
    unassign_when_hosted(&ledger1, &alice, &iou100, &lost, &new).await?;
    wait_until(p2, "the 100 Iou's unassignment", |e| incomplete(e, &iou100)).await?;
    // Created on newDomain, reassigned to lostDomain; the assignment reaches participant1 only.
    p1.submit_and_wait(Submission {
        act_as: vec![alice.clone()],
        commands: vec![templates::create_iou_command(&alice, &bob, "170", "USD")],
        synchronizer_id: Some(new.clone()),
    })
    .await
    .map_err(step("creating the 170 Iou on newDomain"))?;
    let iou170 = iou_with_amount(p1, &new, "170").await?;
    let away = unassign_when_hosted(&ledger1, &alice, &iou170, &new, &lost).await?;
    wait_until(p2, "the 170 Iou's unassignment", |e| incomplete(e, &iou170)).await?;
    let mut control = SynchronizerControlClient::connect(lab.endpoint(LOST)?)
        .await
        .map_err(|e| LabError::Scenario(format!("reaching lostDomain's control service: {e}")))?;
    control
        .arm_partial_delivery(ArmPartialDeliveryRequest {
            deliver_to: vec![ids::participant_member("participant1")],
            ..ArmPartialDeliveryRequest::default()
        })
        .await
        .map_err(|e| LabError::Scenario(format!("arming lostDomain: {}", e.message())))?;
    assign(&ledger1, &alice, &reassignment_id(&away), &new, &lost)
        .await
        .map_err(|e| LabError::Scenario(format!("assigning the 170 Iou on lostDomain: {}", e.message())))?;
    for p in [p1, p2] {
        p.disconnect(TARGET).await.map_err(step("disconnecting newDomain"))?;
    }
    Ok(())
}
