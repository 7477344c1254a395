//! Building a plan from a comparison and the operators' selection.

use std::collections::{BTreeMap, BTreeSet};

use crate::reconcile::{Comparison, Selection, SelectionError, SelectionRequest, select};

use super::drift::PayloadTag;
use super::hash::{plan_hash, snapshot_digest_sorted};
use super::model::{Action, ConnectionValidation, ExpectedSnapshot, InFlight, Phase, PhaseKind, Plan, Step};
use crate::batch::id_batches;

/// Contracts per ChangeAssignation (and PurgeContracts) call unless the operators choose
/// another; a batch is also cut short at [`crate::batch::REQUEST_BYTES`] of ids.
pub const DEFAULT_BATCH_SIZE: u32 = 500;

pub struct PlanInput<'a> {
    pub incident: &'a str,
    /// Alias of the lost synchronizer.
    pub lost: &'a str,
    /// Alias of the replacement synchronizer.
    pub target: &'a str,
    pub participants: &'a [String],
    pub comparison: &'a Comparison,
    pub selection: &'a Selection,
    /// Strategy, decisions and exclusions the selection was computed from.
    pub request: &'a SelectionRequest,
    pub batch_size: u32,
    /// CountInFlight on the lost synchronizer per participant, acknowledged as abandoned.
    pub in_flight: &'a BTreeMap<String, InFlight>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the {0} is empty; set it in the incident config")]
    EmptyName(&'static str),
    #[error("lost and target synchronizer are both {0:?}; the target must be the replacement synchronizer")]
    SameSynchronizer(String),
    #[error("batch size 0 would never move anything; use at least 1 (default {DEFAULT_BATCH_SIZE})")]
    ZeroBatchSize,
    #[error(
        "the comparison was made on synchronizer {compared:?} but the plan moves contracts off {lost:?}; compare the lost synchronizer again"
    )]
    WrongSynchronizer { compared: String, lost: String },
    #[error(
        "participants do not match the comparison (not compared: {not_compared:?}; compared but not in the plan: {not_planned:?}); compare all participants of the incident again"
    )]
    ParticipantsMismatch {
        not_compared: Vec<String>,
        not_planned: Vec<String>,
    },
    #[error(
        "no in-flight count for participant {0}; run CountInFlight on the lost synchronizer for it and acknowledge the result"
    )]
    MissingInFlight(String),
    #[error("in-flight count given for {0}, which is not part of this plan")]
    UnknownInFlight(String),
    #[error(
        "the selection is stale: it does not follow from this comparison, strategy, decisions and exclusions; recompute it"
    )]
    StaleSelection,
    #[error(transparent)]
    Selection(#[from] SelectionError),
}

pub fn build_plan(input: &PlanInput<'_>) -> Result<Plan, PlanError> {
    for (what, value) in [
        ("incident name", input.incident),
        ("lost synchronizer alias", input.lost),
        ("target synchronizer alias", input.target),
    ] {
        if value.trim().is_empty() {
            return Err(PlanError::EmptyName(what));
        }
    }
    if input.lost == input.target {
        return Err(PlanError::SameSynchronizer(input.lost.to_owned()));
    }
    if input.batch_size == 0 {
        return Err(PlanError::ZeroBatchSize);
    }
    let cmp = input.comparison;
    if cmp.synchronizer() != input.lost {
        return Err(PlanError::WrongSynchronizer {
            compared: cmp.synchronizer().to_owned(),
            lost: input.lost.to_owned(),
        });
    }
    let participants = check_participants(input.participants, cmp.participants())?;
    check_in_flight(&participants, input.in_flight)?;
    if select(cmp, input.request)? != *input.selection {
        return Err(PlanError::StaleSelection);
    }

    let mut plan = Plan {
        incident: input.incident.to_owned(),
        lost: input.lost.to_owned(),
        target: input.target.to_owned(),
        strategy: input.request.strategy.clone(),
        decisions: input.request.decisions.clone(),
        exclusions: input.request.exclusions.clone(),
        batch_size: input.batch_size,
        excluded: input.selection.excluded().to_vec(),
        expected: expected_snapshots(cmp),
        in_flight: input.in_flight.clone(),
        phases: phases(input, &participants),
        participants,
        hash: String::new(),
    };
    plan.hash = plan_hash(&plan);
    Ok(plan)
}

fn check_participants(given: &[String], compared: &[String]) -> Result<Vec<String>, PlanError> {
    let given: BTreeSet<&String> = given.iter().collect();
    let compared: BTreeSet<&String> = compared.iter().collect();
    if given == compared {
        return Ok(given.into_iter().cloned().collect());
    }
    Err(PlanError::ParticipantsMismatch {
        not_compared: given.difference(&compared).map(|s| s.to_string()).collect(),
        not_planned: compared.difference(&given).map(|s| s.to_string()).collect(),
    })
}

fn check_in_flight(participants: &[String], in_flight: &BTreeMap<String, InFlight>) -> Result<(), PlanError> {
    if let Some(p) = participants.iter().find(|p| !in_flight.contains_key(*p)) {
        return Err(PlanError::MissingInFlight(p.clone()));
    }
    if let Some(p) = in_flight.keys().find(|p| !participants.contains(p)) {
        return Err(PlanError::UnknownInFlight(p.clone()));
    }
    Ok(())
}

fn expected_snapshots(cmp: &Comparison) -> BTreeMap<String, ExpectedSnapshot> {
    cmp.participants()
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let held = || {
                cmp.rows()
                    .iter()
                    .filter_map(move |r| Some((r.contract_id(), r.state(i)?.digest()?)))
            };
            let snapshot = ExpectedSnapshot {
                active: held().map(|(id, _)| id.clone()).collect(),
                payloads: Some(held().map(|(_, d)| PayloadTag::from(d)).collect()),
                digest: snapshot_digest_sorted(held().map(|(id, d)| (&**id, d))),
            };
            (name.clone(), snapshot)
        })
        .collect()
}

fn phases(input: &PlanInput<'_>, participants: &[String]) -> Vec<Phase> {
    let (lost, target) = (input.lost.to_owned(), input.target.to_owned());
    let sel = input.selection;
    let mut phases: Vec<Phase> = PhaseKind::ALL
        .into_iter()
        .map(|kind| Phase {
            kind,
            steps: Vec::new(),
        })
        .collect();
    let modify = |synchronizer: &String, manual_connect, validation| Action::ModifySynchronizer {
        synchronizer: synchronizer.clone(),
        manual_connect,
        validation,
    };
    for p in participants {
        let Some(work) = sel.work(p) else { continue };
        let mut add = |kind: PhaseKind, action: Action| {
            phases[kind as usize].steps.push(Step {
                participant: p.clone(),
                action,
            });
        };
        add(
            PhaseKind::Isolate,
            Action::DisconnectSynchronizer {
                synchronizer: lost.clone(),
            },
        );
        add(PhaseKind::Isolate, modify(&lost, true, ConnectionValidation::Disabled));
        // manual_connect first, so a participant restarting mid-repair stays disconnected.
        add(PhaseKind::InitTarget, modify(&target, true, ConnectionValidation::All));
        // One attempt only: the connection exists to initialise topology, not to stay up.
        add(
            PhaseKind::InitTarget,
            Action::ReconnectSynchronizer {
                synchronizer: target.clone(),
                retry: false,
            },
        );
        add(
            PhaseKind::InitTarget,
            Action::Ping {
                synchronizer: target.clone(),
            },
        );
        add(PhaseKind::InitTarget, Action::DisconnectAllSynchronizers);
        if !work.purge.is_empty() {
            add(
                PhaseKind::Purge,
                Action::PurgeContracts {
                    synchronizer: lost.clone(),
                    contract_ids: work.purge.clone(),
                    // A retried purge after a partial failure must not trip over its own work.
                    ignore_already_purged: true,
                },
            );
        }
        for (source, ids) in &work.import {
            add(
                PhaseKind::Import,
                Action::ImportAcs {
                    synchronizer: lost.clone(),
                    source_participant: source.clone(),
                    contract_ids: ids.clone(),
                },
            );
        }
        for batch in id_batches(&work.moves, input.batch_size as usize) {
            add(
                PhaseKind::Move,
                Action::ChangeAssignation {
                    source_synchronizer: lost.clone(),
                    target_synchronizer: target.clone(),
                    contract_ids: batch.to_vec(),
                    // Makes a re-run after partial success a no-op for already moved ids.
                    skip_inactive: true,
                },
            );
        }
        add(PhaseKind::Reconnect, modify(&target, false, ConnectionValidation::All));
        add(
            PhaseKind::Reconnect,
            Action::ReconnectSynchronizer {
                synchronizer: target.clone(),
                retry: true,
            },
        );
        add(
            PhaseKind::Verify,
            Action::Verify {
                synchronizer: target.clone(),
                contract_ids: work.moves.clone(),
                ping: participants.iter().filter(|o| *o != p).cloned().collect(),
            },
        );
    }
    phases
}
