//! One participant's steps of a plan, arranged by the script stage they run in, with the
//! purges, hand-offs, moves and checks each stage carries out.

use std::collections::BTreeSet;

use super::ConsoleError;
use crate::plan::{Action, PhaseKind, Plan};
use crate::reconcile::ContractId;

/// An import hand-off: `receiver` imports `ids` that `source` exports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Handoff<'a> {
    pub source: &'a str,
    pub receiver: &'a str,
    pub synchronizer: &'a str,
    pub ids: &'a [ContractId],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Purge<'a> {
    pub synchronizer: &'a str,
    pub ids: Vec<ContractId>,
    pub ignore_already_purged: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Moves<'a> {
    pub source: &'a str,
    pub target: &'a str,
    pub ids: Vec<ContractId>,
    pub batches: usize,
    pub skip_inactive: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Verify<'a> {
    pub synchronizer: &'a str,
    pub ids: &'a [ContractId],
    pub ping: &'a [String],
}

/// One participant's steps of the plan, arranged by script stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Part<'a> {
    pub name: &'a str,
    /// Stage 1: the `isolate` phase, then `init_target` up to its disconnect-all.
    pub connect: Vec<&'a Action>,
    /// Other participants to ping over the target in stage 1 (those that connect to it too).
    pub init_ping: Vec<&'a str>,
    /// Stage 2: the rest of `init_target`.
    pub prepare: Vec<&'a Action>,
    pub purge: Option<Purge<'a>>,
    /// Stage 2: hand-offs this participant is the source of.
    pub exports: Vec<Handoff<'a>>,
    /// Stage 3.
    pub imports: Vec<Handoff<'a>>,
    pub moves: Option<Moves<'a>>,
    /// Stage 4.
    pub reconnect: Vec<&'a Action>,
    pub verify: Option<Verify<'a>>,
}

fn is_connectivity(a: &Action) -> bool {
    matches!(
        a,
        Action::DisconnectSynchronizer { .. }
            | Action::ModifySynchronizer { .. }
            | Action::ReconnectSynchronizer { .. }
            | Action::DisconnectAllSynchronizers
    )
}

impl<'a> Part<'a> {
    pub fn of(plan: &'a Plan, name: &'a str) -> Result<Part<'a>, ConsoleError> {
        let mut part = Part {
            name,
            connect: Vec::new(),
            init_ping: Vec::new(),
            prepare: Vec::new(),
            purge: None,
            exports: Vec::new(),
            imports: Vec::new(),
            moves: None,
            reconnect: Vec::new(),
            verify: None,
        };
        let mut moves: Vec<(&str, &str, &[ContractId], bool)> = Vec::new();
        let mut self_ping = false;
        for phase in plan.phases() {
            let mut disconnected = false;
            for step in &phase.steps {
                if let Action::ImportAcs {
                    synchronizer,
                    source_participant,
                    contract_ids,
                } = &step.action
                    && phase.kind == PhaseKind::Import
                    && source_participant == name
                {
                    part.exports.push(Handoff {
                        source: name,
                        receiver: &step.participant,
                        synchronizer,
                        ids: contract_ids,
                    });
                }
                if step.participant != name {
                    continue;
                }
                let unexpected = || ConsoleError::UnexpectedStep {
                    participant: name.to_string(),
                    phase: phase.kind,
                    action: step.action.kind(),
                };
                let action = &step.action;
                match (phase.kind, action) {
                    (PhaseKind::Isolate, a) if is_connectivity(a) => part.connect.push(a),
                    (PhaseKind::InitTarget, a @ Action::DisconnectAllSynchronizers) => {
                        disconnected = true;
                        part.prepare.push(a);
                    }
                    (PhaseKind::InitTarget, a) if is_connectivity(a) && !disconnected => part.connect.push(a),
                    // The plan's own ping of its admin party over the target.
                    (PhaseKind::InitTarget, Action::Ping { .. }) if !disconnected => self_ping = true,
                    (PhaseKind::InitTarget, a) if is_connectivity(a) => part.prepare.push(a),
                    (PhaseKind::Reconnect, a) if is_connectivity(a) => part.reconnect.push(a),
                    (
                        PhaseKind::Purge,
                        Action::PurgeContracts {
                            synchronizer,
                            contract_ids,
                            ignore_already_purged,
                        },
                    ) => part.add_purge(synchronizer, contract_ids, *ignore_already_purged)?,
                    (
                        PhaseKind::Import,
                        Action::ImportAcs {
                            synchronizer,
                            source_participant,
                            contract_ids,
                        },
                    ) => part.imports.push(Handoff {
                        source: source_participant,
                        receiver: name,
                        synchronizer,
                        ids: contract_ids,
                    }),
                    (
                        PhaseKind::Move,
                        Action::ChangeAssignation {
                            source_synchronizer,
                            target_synchronizer,
                            contract_ids,
                            skip_inactive,
                        },
                    ) => moves.push((source_synchronizer, target_synchronizer, contract_ids, *skip_inactive)),
                    (
                        PhaseKind::Verify,
                        Action::Verify {
                            synchronizer,
                            contract_ids,
                            ping,
                        },
                    ) if part.verify.is_none() => {
                        part.verify = Some(Verify {
                            synchronizer,
                            ids: contract_ids,
                            ping,
                        })
                    }
                    _ => return Err(unexpected()),
                }
            }
        }
        part.moves = Moves::of(name, &moves, plan.batch_size())?;
        part.check_handoffs()?;
        let connecting: BTreeSet<&str> = plan
            .phases()
            .iter()
            .filter(|p| p.kind == PhaseKind::InitTarget)
            .flat_map(|p| &p.steps)
            .filter(|s| matches!(s.action, Action::ReconnectSynchronizer { .. }))
            .map(|s| s.participant.as_str())
            .collect();
        if part
            .connect
            .iter()
            .any(|a| matches!(a, Action::ReconnectSynchronizer { .. }))
        {
            part.init_ping = connecting.into_iter().filter(|p| *p != name).collect();
        }
        if self_ping {
            part.init_ping.insert(0, name);
        }
        Ok(part)
    }

    fn add_purge(&mut self, synchronizer: &'a str, ids: &[ContractId], ignore: bool) -> Result<(), ConsoleError> {
        match &mut self.purge {
            None => {
                self.purge = Some(Purge {
                    synchronizer,
                    ids: ids.to_vec(),
                    ignore_already_purged: ignore,
                })
            }
            Some(p) if p.synchronizer == synchronizer && p.ignore_already_purged == ignore => {
                p.ids.extend_from_slice(ids)
            }
            Some(_) => {
                return Err(ConsoleError::UnexpectedShape {
                    participant: self.name.to_string(),
                    what: "purge",
                    problem: "purge steps on different synchronizers or with different ignore_already_purged".into(),
                });
            }
        }
        Ok(())
    }

    /// One hand-off per (source, receiver) pair: the file names are made from the pair.
    fn check_handoffs(&self) -> Result<(), ConsoleError> {
        for (what, list) in [("import", &self.imports), ("export", &self.exports)] {
            let mut pairs = BTreeSet::new();
            for h in list.iter() {
                if h.source == h.receiver {
                    return Err(self.shape(what, format!("{} imports from itself", h.receiver)));
                }
                if !pairs.insert((h.source, h.receiver)) {
                    return Err(self.shape(what, format!("two imports from {} into {}", h.source, h.receiver)));
                }
            }
        }
        Ok(())
    }

    fn shape(&self, what: &'static str, problem: String) -> ConsoleError {
        ConsoleError::UnexpectedShape {
            participant: self.name.to_string(),
            what,
            problem,
        }
    }

    pub fn is_idle(&self) -> bool {
        self.connect.is_empty()
            && self.prepare.is_empty()
            && self.purge.is_none()
            && self.exports.is_empty()
            && self.imports.is_empty()
            && self.moves.is_none()
            && self.reconnect.is_empty()
            && self.verify.is_none()
    }
}

impl<'a> Moves<'a> {
    /// The script re-creates the plan's batches by cutting the one id list at the plan's batch
    /// size; this checks that doing so gives exactly the plan's ChangeAssignation steps.
    fn of(
        participant: &str,
        steps: &[(&'a str, &'a str, &'a [ContractId], bool)],
        batch_size: u32,
    ) -> Result<Option<Moves<'a>>, ConsoleError> {
        let Some(&(source, target, _, skip_inactive)) = steps.first() else {
            return Ok(None);
        };
        let shape = |problem: String| ConsoleError::UnexpectedShape {
            participant: participant.to_string(),
            what: "move",
            problem,
        };
        if steps.iter().any(|s| (s.0, s.1, s.3) != (source, target, skip_inactive)) {
            return Err(shape(
                "batches with different synchronizers or skip_inactive flags".into(),
            ));
        }
        let ids: Vec<ContractId> = steps.iter().flat_map(|s| s.2.iter().cloned()).collect();
        let batch = batch_size.max(1) as usize;
        let cut: Vec<&[ContractId]> = crate::batch::id_batches(&ids, batch).collect();
        let planned: Vec<&[ContractId]> = steps.iter().map(|s| s.2).collect();
        if cut != planned {
            return Err(shape(format!(
                "the batches are not the id list cut every {batch} ids (or {} bytes)",
                crate::batch::REQUEST_BYTES
            )));
        }
        Ok(Some(Moves {
            source,
            target,
            batches: cut.len(),
            ids,
            skip_inactive,
        }))
    }
}
