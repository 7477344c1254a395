//! The session's rules, pure: a command from an authenticated caller, checked against the
//! folded state, becomes the events to log (or a refusal). The coordinator appends what
//! comes out, then asks [`next_step`] whether a barrier opens.
//!
//! - Only the lead proposes, says go, pauses and aborts; only a participant's node
//!   operator publishes, approves, reports, uploads and shares for that participant.
//! - An approval binds to the plan hash; a new proposal voids every approval.
//! - Go needs every participant of the plan approved and present.
//! - A phase opens when every participant reported the previous one, and never while
//!   the run is paused; a required operator leaving pauses a running session, and only
//!   the lead's go continues it.

use super::event::{Proposal, Role, SessionEvent};
use super::manifest::{InspectedEntry, Manifest};
use super::state::{ProposalView, RunState, SessionState, UploadView};
use crate::plan::{self, Action, PhaseKind};
use serde_json::Value;

/// Who sent a command, as the coordinator authenticated them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub operator: String,
    pub role: Role,
    pub participant: Option<String>,
}

/// What an operator asks the session to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    PublishManifest(Manifest),
    PublishInspection {
        participant: String,
        contracts: Vec<InspectedEntry>,
    },
    Propose {
        runbook: String,
        sidecar: Option<String>,
    },
    Approve {
        participant: String,
        plan_hash: String,
        holdings_digest: String,
        comment: String,
    },
    Go {
        plan_hash: String,
    },
    Pause {
        plan_hash: String,
        reason: String,
    },
    Abort {
        plan_hash: String,
        reason: String,
    },
    ReportDone {
        participant: String,
        plan_hash: String,
        phase: PhaseKind,
        applied: u64,
        skipped: u64,
        already_done: bool,
    },
    ReportFailed {
        participant: String,
        plan_hash: String,
        phase: Option<PhaseKind>,
        error: String,
    },
    RequestPayload {
        contract_id: String,
        holder: String,
        reason: String,
    },
    AnswerPayload {
        request_seq: u64,
        accept: bool,
        payload: Option<Value>,
        reason: String,
    },
    /// The coordinator stored an uploaded snapshot (checked with [`upload_ids`] first).
    Uploaded {
        plan_hash: String,
        source: String,
        receiver: String,
        contracts: u64,
        bytes: u64,
        blob: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The caller may not do this (PERMISSION_DENIED).
    #[error("{0}")]
    Forbidden(String),
    /// Not now (FAILED_PRECONDITION).
    #[error("{0}")]
    Precondition(String),
    /// Malformed (INVALID_ARGUMENT).
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
}

fn lead(caller: &Caller, what: &str) -> Result<(), Refusal> {
    if caller.role == Role::Lead {
        Ok(())
    } else {
        Err(Refusal::Forbidden(format!(
            "{} is a {}; only the lead may {what}",
            caller.operator, caller.role
        )))
    }
}

/// The caller is a node operator acting for `participant`.
pub fn acts_for(caller: &Caller, participant: &str) -> Result<(), Refusal> {
    match (caller.role, caller.participant.as_deref()) {
        (Role::NodeOperator, Some(p)) if p == participant => Ok(()),
        (Role::NodeOperator, Some(p)) => Err(Refusal::Forbidden(format!(
            "{} acts for {p}, not for {participant}: an operator acts for their own participant only",
            caller.operator
        ))),
        _ => Err(Refusal::Forbidden(format!(
            "{} is a {} and acts for no participant; only {participant}'s node operator may do this",
            caller.operator, caller.role
        ))),
    }
}

fn current<'a>(state: &'a SessionState, plan_hash: &str) -> Result<&'a ProposalView, Refusal> {
    match &state.proposal {
        Some(p) if p.plan_hash == plan_hash => Ok(p),
        Some(p) => Err(Refusal::Precondition(format!(
            "plan {plan_hash} is not the session's plan (now {}): approvals and commands bind to a plan hash; review the current plan",
            p.plan_hash
        ))),
        None => Err(Refusal::Precondition("no plan has been proposed".into())),
    }
}

fn run_active(state: &SessionState) -> bool {
    matches!(state.run, RunState::Running | RunState::Paused { .. })
}

fn position(p: PhaseKind) -> usize {
    PhaseKind::ALL.iter().position(|k| *k == p).unwrap_or(0)
}

fn next_after(p: PhaseKind) -> Option<PhaseKind> {
    PhaseKind::ALL.get(position(p) + 1).copied()
}

/// The events a command logs; empty when it changes nothing (a repeat).
pub fn decide(state: &SessionState, caller: &Caller, command: Command) -> Result<Vec<SessionEvent>, Refusal> {
    match command {
        Command::PublishManifest(m) => {
            acts_for(caller, &m.participant)?;
            m.validate().map_err(|e| Refusal::Invalid(e.to_string()))?;
            if run_active(state) {
                return Err(Refusal::Precondition(
                    "a run is in progress: manifests are frozen until it ends".into(),
                ));
            }
            if state.manifests.get(&m.participant) == Some(&m) {
                return Ok(vec![]);
            }
            Ok(vec![SessionEvent::Manifest(m)])
        }
        Command::PublishInspection { participant, contracts } => {
            acts_for(caller, &participant)?;
            let known = state.answers.get(&participant);
            let fresh: Vec<InspectedEntry> = contracts
                .into_iter()
                .filter(|c| known.and_then(|k| k.get(&c.contract_id)) != Some(&c.state))
                .collect();
            if fresh.is_empty() {
                return Ok(vec![]);
            }
            Ok(vec![SessionEvent::Inspected {
                participant,
                contracts: fresh,
            }])
        }
        Command::Propose { runbook, sidecar } => {
            lead(caller, "propose a plan")?;
            let loaded =
                plan::load_runbook(&runbook, sidecar.as_deref()).map_err(|e| Refusal::Invalid(e.to_string()))?;
            let plan = loaded.plan;
            if plan.incident() != state.incident || plan.lost() != state.lost || plan.target() != state.target {
                return Err(Refusal::Invalid(format!(
                    "the runbook is for incident {} ({} -> {}), the session for {} ({} -> {})",
                    plan.incident(),
                    plan.lost(),
                    plan.target(),
                    state.incident,
                    state.lost,
                    state.target
                )));
            }
            if let Some(stranger) = plan.participants().iter().find(|p| !state.participants.contains(p)) {
                return Err(Refusal::Invalid(format!(
                    "the plan names {stranger}, which has no node operator in this session"
                )));
            }
            if run_active(state) {
                return Err(Refusal::Precondition(format!(
                    "plan {} is being run; abort it before proposing another plan",
                    state.plan_hash().unwrap_or_default()
                )));
            }
            let mut events = Vec::new();
            if let Some(old) = &state.proposal
                && !state.approvals.is_empty()
            {
                events.push(SessionEvent::Voided {
                    plan_hash: old.plan_hash.clone(),
                    approvals: state.approvals.keys().cloned().collect(),
                    reason: format!("{} proposed plan {}", caller.operator, plan.hash()),
                });
            }
            events.push(SessionEvent::Proposed(Proposal {
                plan_hash: plan.hash().to_string(),
                proposed_by: caller.operator.clone(),
                strategy: plan.strategy().name().to_string(),
                participants: plan.participants().to_vec(),
                runbook,
                sidecar,
            }));
            Ok(events)
        }
        Command::Approve {
            participant,
            plan_hash,
            holdings_digest,
            comment,
        } => {
            acts_for(caller, &participant)?;
            let p = current(state, &plan_hash)?;
            if !p.participants.contains(&participant) {
                return Err(Refusal::Invalid(format!(
                    "plan {plan_hash} does not involve {participant}"
                )));
            }
            if matches!(state.run, RunState::Aborted { .. } | RunState::Finished) {
                return Err(Refusal::Precondition(format!(
                    "the run of plan {plan_hash} has ended; a new proposal is needed"
                )));
            }
            if state
                .approvals
                .get(&participant)
                .is_some_and(|a| a.plan_hash == plan_hash)
            {
                return Ok(vec![]);
            }
            Ok(vec![SessionEvent::Approved {
                plan_hash,
                participant,
                operator: caller.operator.clone(),
                holdings_digest,
                comment,
            }])
        }
        Command::Go { plan_hash } => {
            lead(caller, "say go")?;
            let p = current(state, &plan_hash)?;
            match &state.run {
                RunState::Running => return Err(Refusal::Precondition("the run is already going".into())),
                RunState::Finished => return Err(Refusal::Precondition("the run has finished".into())),
                RunState::Aborted { .. } => {
                    return Err(Refusal::Precondition(
                        "the run was aborted; propose a plan (and collect approvals) again".into(),
                    ));
                }
                RunState::Idle | RunState::Paused { .. } => {}
            }
            let unapproved: Vec<&String> = p
                .participants
                .iter()
                .filter(|n| state.approvals.get(*n).is_none_or(|a| a.plan_hash != plan_hash))
                .collect();
            if !unapproved.is_empty() {
                return Err(Refusal::Precondition(format!(
                    "plan {plan_hash} is not approved for {}",
                    join(&unapproved)
                )));
            }
            let absent: Vec<&String> = p.participants.iter().filter(|n| !state.present_for(n)).collect();
            if !absent.is_empty() {
                return Err(Refusal::Precondition(format!(
                    "no operator of {} is in the session; every participant's operator must be present to go",
                    join(&absent)
                )));
            }
            Ok(vec![SessionEvent::Go {
                plan_hash,
                by: caller.operator.clone(),
            }])
        }
        Command::Pause { plan_hash, reason } => {
            lead(caller, "pause the run")?;
            current(state, &plan_hash)?;
            if state.run != RunState::Running {
                return Err(Refusal::Precondition("the run is not going".into()));
            }
            Ok(vec![SessionEvent::Paused {
                plan_hash,
                reason: format!("paused by {}: {reason}", caller.operator),
            }])
        }
        Command::Abort { plan_hash, reason } => {
            lead(caller, "abort the run")?;
            current(state, &plan_hash)?;
            if matches!(state.run, RunState::Finished | RunState::Aborted { .. }) {
                return Err(Refusal::Precondition("the run has already ended".into()));
            }
            Ok(vec![SessionEvent::Aborted {
                plan_hash,
                reason: format!("aborted by {}: {reason}", caller.operator),
            }])
        }
        Command::ReportDone {
            participant,
            plan_hash,
            phase,
            applied,
            skipped,
            already_done,
        } => {
            acts_for(caller, &participant)?;
            let p = current(state, &plan_hash)?;
            if !p.participants.contains(&participant) {
                return Err(Refusal::Invalid(format!(
                    "plan {plan_hash} does not involve {participant}"
                )));
            }
            if state
                .progress
                .get(&participant)
                .is_some_and(|g| g.done.contains(&phase))
            {
                return Ok(vec![]);
            }
            if state.last_go_seq < p.seq {
                return Err(Refusal::Precondition("the run has not been started".into()));
            }
            match state.open_phase {
                Some(open) if position(phase) <= position(open) => {}
                _ => {
                    return Err(Refusal::Precondition(format!(
                        "phase {phase} has not been opened: a deck runs a phase only after the barrier"
                    )));
                }
            }
            Ok(vec![SessionEvent::PhaseDone {
                plan_hash,
                participant,
                phase,
                applied,
                skipped,
                already_done,
            }])
        }
        Command::ReportFailed {
            participant,
            plan_hash,
            phase,
            error,
        } => {
            acts_for(caller, &participant)?;
            current(state, &plan_hash)?;
            let at = phase.map(|p| p.as_str()).unwrap_or("preflight");
            let mut events = vec![SessionEvent::PhaseFailed {
                plan_hash: plan_hash.clone(),
                participant: participant.clone(),
                phase,
                error: error.clone(),
            }];
            if state.run == RunState::Running {
                events.push(SessionEvent::Paused {
                    plan_hash,
                    reason: format!("{at} failed on {participant}: {error}"),
                });
            }
            Ok(events)
        }
        Command::RequestPayload {
            contract_id,
            holder,
            reason,
        } => {
            if caller.role == Role::Observer {
                return Err(Refusal::Forbidden(format!(
                    "{} is an observer; observers read the session only",
                    caller.operator
                )));
            }
            let held = state.manifests.get(&holder).and_then(|m| m.entry(&contract_id));
            if held.is_none() {
                return Err(Refusal::NotFound(format!(
                    "{holder}'s manifest has no contract {contract_id}"
                )));
            }
            Ok(vec![SessionEvent::PayloadRequested {
                contract_id,
                holder,
                by: caller.operator.clone(),
                reason,
            }])
        }
        Command::AnswerPayload {
            request_seq,
            accept,
            payload,
            reason,
        } => {
            let request = state
                .payload_requests
                .iter()
                .find(|r| r.seq == request_seq)
                .ok_or_else(|| Refusal::NotFound(format!("no payload request at seq {request_seq}")))?;
            acts_for(caller, &request.holder)?;
            if request.answer.is_some() {
                return Err(Refusal::Precondition(format!(
                    "the payload request at seq {request_seq} was already answered"
                )));
            }
            if accept && payload.is_none() {
                return Err(Refusal::Invalid("accepting a request means sending the payload".into()));
            }
            Ok(vec![SessionEvent::PayloadAnswered {
                request_seq,
                contract_id: request.contract_id.clone(),
                holder: request.holder.clone(),
                accepted: accept,
                payload: if accept { payload } else { None },
                reason,
            }])
        }
        Command::Uploaded {
            plan_hash,
            source,
            receiver,
            contracts,
            bytes,
            blob,
        } => {
            upload_ids(state, caller, &plan_hash, &source, &receiver)?;
            if state.upload(&plan_hash, &source, &receiver).is_some() {
                return Ok(vec![]);
            }
            Ok(vec![SessionEvent::AcsUploaded {
                plan_hash,
                source,
                receiver,
                contracts,
                bytes,
                blob,
            }])
        }
    }
}

/// The ids `receiver` imports from `source` under the current plan, if the caller may
/// upload them (it acts for the source).
pub fn upload_ids(
    state: &SessionState,
    caller: &Caller,
    plan_hash: &str,
    source: &str,
    receiver: &str,
) -> Result<Vec<String>, Refusal> {
    acts_for(caller, source)?;
    current(state, plan_hash)?;
    let plan = state
        .plan()
        .ok_or_else(|| Refusal::Precondition("the session's runbook did not load".into()))?;
    let ids: Vec<String> = plan
        .phase(PhaseKind::Import)
        .into_iter()
        .flat_map(|p| &p.steps)
        .filter(|s| s.participant == receiver)
        .filter_map(|s| match &s.action {
            Action::ImportAcs {
                source_participant,
                contract_ids,
                ..
            } if source_participant == source => Some(contract_ids.iter().map(|c| c.to_string())),
            _ => None,
        })
        .flatten()
        .collect();
    if ids.is_empty() {
        return Err(Refusal::Invalid(format!(
            "plan {plan_hash} imports nothing from {source} into {receiver}"
        )));
    }
    Ok(ids)
}

/// The stored snapshot `receiver` may download (it acts for the receiver or the source).
pub fn fetchable<'a>(
    state: &'a SessionState,
    caller: &Caller,
    plan_hash: &str,
    source: &str,
    receiver: &str,
) -> Result<&'a UploadView, Refusal> {
    if acts_for(caller, receiver).is_err() {
        acts_for(caller, source)?;
    }
    current(state, plan_hash)?;
    state
        .upload(plan_hash, source, receiver)
        .ok_or_else(|| Refusal::NotFound(format!("{source} has not uploaded the contracts for {receiver} yet")))
}

/// An operator's presence begins.
pub fn joined(state: &SessionState, caller: &Caller) -> Vec<SessionEvent> {
    if state.operators.get(&caller.operator).is_some_and(|o| o.present) {
        return vec![];
    }
    vec![SessionEvent::Joined {
        operator: caller.operator.clone(),
        role: caller.role,
        participant: caller.participant.clone(),
    }]
}

/// An operator's presence ends; a running session whose participant has no operator left
/// is paused.
pub fn left(state: &SessionState, operator: &str, reason: &str) -> Vec<SessionEvent> {
    let Some(view) = state.operators.get(operator).filter(|o| o.present) else {
        return vec![];
    };
    let mut events = vec![SessionEvent::Left {
        operator: operator.to_string(),
        reason: reason.to_string(),
    }];
    if state.run == RunState::Running
        && view.role == Role::NodeOperator
        && let Some(p) = view.participant.as_deref()
        && state.plan_participants().iter().any(|n| n == p)
        && !state.operators_of(p).any(|o| o.present && o.name != operator)
        && let Some(hash) = state.plan_hash()
    {
        events.push(SessionEvent::Paused {
            plan_hash: hash.to_string(),
            reason: format!("{operator} ({p}) left the session: {reason}"),
        });
    }
    events
}

/// What the coordinator logs by itself once a command's events are in: the next barrier
/// opens when every participant reported the open phase, and the run finishes after the
/// last one. Nothing opens unless the run is going.
pub fn next_step(state: &SessionState) -> Option<SessionEvent> {
    if state.run != RunState::Running {
        return None;
    }
    let hash = state.plan_hash()?.to_string();
    match state.open_phase {
        None => Some(SessionEvent::PhaseOpened {
            plan_hash: hash,
            phase: PhaseKind::ALL[0],
        }),
        Some(open) if state.all_done(open) => Some(match next_after(open) {
            Some(phase) => SessionEvent::PhaseOpened { plan_hash: hash, phase },
            None => SessionEvent::Finished { plan_hash: hash },
        }),
        Some(_) => None,
    }
}

fn join(names: &[&String]) -> String {
    names.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
