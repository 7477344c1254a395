//! Plan -> runbook TOML (+ sidecar).

use std::collections::BTreeMap;

use crate::reconcile::{ContractId, Decision, Strategy};

use super::dto::*;
use super::sidecar::SidecarWriter;
use super::{INLINE_MAX, RUNBOOK_FORMAT, RUNBOOK_VERSION, RunbookError, RunbookMeta, SIDECAR_THRESHOLD, Sidecar};
use crate::plan::hash::PREFIX;
use crate::plan::model::{Action, Plan};

const BANNER: &str = "# recovery-deck runbook. Any edit changes the plan hash and the file will be refused;\n# regenerate the plan instead.\n\n";

/// Renders the runbook and, for large plans, the sidecar it references.
pub fn to_runbook(plan: &Plan, meta: &RunbookMeta) -> Result<(String, Option<Sidecar>), RunbookError> {
    let mut lists = Lists {
        sidecar: (id_count(plan) > SIDECAR_THRESHOLD).then(|| SidecarWriter::new(plan.hash())),
        used: false,
    };
    let selection = selection(plan, &mut lists);
    let participants = plan
        .participants()
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let expected = plan.expected(name);
            let flight = plan.in_flight().get(name).copied().unwrap_or_default();
            ParticipantDto {
                name: name.clone(),
                in_flight: InFlightDto {
                    pending_submissions: flight.pending_submissions,
                    pending_transactions: flight.pending_transactions,
                },
                expected_digest: expected.map(|e| e.digest.clone()).unwrap_or_default(),
                expected_active: lists.list(
                    &format!("participants.{i}.expected_active"),
                    expected.map(|e| e.active.as_slice()).unwrap_or_default(),
                ),
            }
        })
        .collect();
    let phases = plan
        .phases()
        .iter()
        .enumerate()
        .map(|(p, phase)| PhaseDto {
            name: phase.kind.as_str().to_owned(),
            steps: phase
                .steps
                .iter()
                .enumerate()
                .map(|(s, step)| StepDto {
                    participant: step.participant.clone(),
                    action: action(&step.action, &format!("phases.{p}.steps.{s}"), &mut lists),
                })
                .collect(),
        })
        .collect();

    let sidecar = lists.finish().map(|text| Sidecar {
        file_name: sidecar_name(plan),
        text,
    });
    let doc = RunbookDoc {
        runbook: Header {
            format: RUNBOOK_FORMAT.to_owned(),
            version: RUNBOOK_VERSION,
            incident: plan.incident().to_owned(),
            plan_hash: plan.hash().to_owned(),
            created: meta.created.clone(),
            proposed_by: meta.proposed_by.clone(),
            sidecar: sidecar.as_ref().map(|s| SidecarRef {
                file: s.file_name.clone(),
                digest: crate::plan::text_digest(&s.text),
            }),
        },
        synchronizers: Synchronizers {
            lost: plan.lost().to_owned(),
            target: plan.target().to_owned(),
        },
        selection,
        participants,
        phases,
    };
    let body = toml::to_string_pretty(&doc).map_err(|e| RunbookError::Render(e.to_string()))?;
    Ok((format!("{BANNER}{body}"), sidecar))
}

struct Lists {
    sidecar: Option<SidecarWriter>,
    used: bool,
}

impl Lists {
    fn list(&mut self, name: &str, ids: &[ContractId]) -> IdList {
        match &mut self.sidecar {
            Some(w) if ids.len() > INLINE_MAX => {
                w.section(name, ids);
                self.used = true;
                IdList::Sidecar {
                    sidecar: name.to_owned(),
                    count: ids.len() as u64,
                }
            }
            _ => IdList::Inline(ids.iter().map(|i| i.to_string()).collect()),
        }
    }

    fn finish(self) -> Option<String> {
        self.sidecar.filter(|_| self.used).map(SidecarWriter::finish)
    }
}

fn id_count(plan: &Plan) -> usize {
    let include = match plan.strategy() {
        Strategy::Manual { include } => include.len(),
        _ => 0,
    };
    let steps: usize = plan
        .phases()
        .iter()
        .flat_map(|p| &p.steps)
        .map(|s| s.action.contract_ids().len())
        .sum();
    let expected: usize = plan.expected_snapshots().values().map(|e| e.active.len()).sum();
    include + plan.exclusions().len() + plan.decisions().len() + plan.excluded().len() + expected + steps
}

fn selection(plan: &Plan, lists: &mut Lists) -> SelectionDto {
    let include = match plan.strategy() {
        Strategy::Manual { include } => {
            let ids: Vec<ContractId> = include.iter().cloned().collect();
            Some(lists.list("selection.include", &ids))
        }
        _ => None,
    };
    let exclusions: Vec<ContractId> = plan.exclusions().iter().cloned().collect();
    let mut by_decision: BTreeMap<&Decision, Vec<ContractId>> = BTreeMap::new();
    for (id, d) in plan.decisions() {
        by_decision.entry(d).or_default().push(id.clone());
    }
    let mut by_reason = BTreeMap::new();
    for row in plan.excluded() {
        by_reason
            .entry((row.class, row.reason))
            .or_insert_with(Vec::new)
            .push(row.contract_id.clone());
    }
    SelectionDto {
        strategy: plan.strategy().name().to_owned(),
        batch_size: plan.batch_size(),
        include,
        exclusions: lists.list("selection.exclusions", &exclusions),
        decisions: by_decision
            .into_iter()
            .enumerate()
            .map(|(i, (d, ids))| DecisionDto {
                decision: d.name().to_owned(),
                participant: None,
                contract_ids: lists.list(&format!("selection.decisions.{i}"), &ids),
            })
            .collect(),
        excluded: by_reason
            .into_iter()
            .enumerate()
            .map(|(i, ((class, reason), ids))| ExcludedDto {
                class: class.as_str().to_owned(),
                reason: reason.as_str().to_owned(),
                contract_ids: lists.list(&format!("selection.excluded.{i}"), &ids),
            })
            .collect(),
    }
}

fn action(a: &Action, name: &str, lists: &mut Lists) -> ActionDto {
    match a {
        Action::DisconnectSynchronizer { synchronizer } => ActionDto::DisconnectSynchronizer {
            synchronizer: synchronizer.clone(),
        },
        Action::ModifySynchronizer {
            synchronizer,
            manual_connect,
            validation,
        } => ActionDto::ModifySynchronizer {
            synchronizer: synchronizer.clone(),
            manual_connect: *manual_connect,
            validation: validation.as_str().to_owned(),
        },
        Action::ReconnectSynchronizer { synchronizer, retry } => ActionDto::ReconnectSynchronizer {
            synchronizer: synchronizer.clone(),
            retry: *retry,
        },
        Action::DisconnectAllSynchronizers => ActionDto::DisconnectAllSynchronizers,
        Action::Ping { synchronizer } => ActionDto::Ping {
            synchronizer: synchronizer.clone(),
        },
        Action::PurgeContracts {
            synchronizer,
            contract_ids,
            ignore_already_purged,
        } => ActionDto::PurgeContracts {
            synchronizer: synchronizer.clone(),
            ignore_already_purged: *ignore_already_purged,
            contract_ids: lists.list(name, contract_ids),
        },
        Action::ImportAcs {
            synchronizer,
            source_participant,
            contract_ids,
        } => ActionDto::ImportAcs {
            synchronizer: synchronizer.clone(),
            source_participant: source_participant.clone(),
            contract_ids: lists.list(name, contract_ids),
        },
        Action::ChangeAssignation {
            source_synchronizer,
            target_synchronizer,
            contract_ids,
            skip_inactive,
        } => ActionDto::ChangeAssignation {
            source_synchronizer: source_synchronizer.clone(),
            target_synchronizer: target_synchronizer.clone(),
            skip_inactive: *skip_inactive,
            contract_ids: lists.list(name, contract_ids),
        },
        Action::Verify {
            synchronizer,
            contract_ids,
            ping,
        } => ActionDto::Verify {
            synchronizer: synchronizer.clone(),
            ping: ping.clone(),
            contract_ids: lists.list(name, contract_ids),
        },
    }
}

/// `<incident>.contracts-<first 16 hex digits of the plan hash>.txt`, safe as a file name.
fn sidecar_name(plan: &Plan) -> String {
    let slug: String = plan
        .incident()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let hex = plan.hash().strip_prefix(PREFIX).unwrap_or(plan.hash());
    format!("{slug}.contracts-{}.txt", hex.get(..16).unwrap_or(hex))
}
