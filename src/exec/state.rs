//! What a participant's own state says about a plan: which of its planned changes are
//! already made, which differences from the plan are the plan's own work and which are
//! drift, and from that, which phases are done. Pure: the executor reads the state
//! (`preflight`), this decides.
//!
//! The participants are the source of truth, so that a run can be finished from any
//! machine, with any journal or none: a journal only adds the story.

use super::held::Holds;
use crate::client::{ConnectedSynchronizer, ContractHistory, RegisteredSynchronizer, SyncState};
use crate::plan::{Action, PhaseKind, Plan};
use crate::reconcile::ContractId;
use std::collections::{BTreeMap, BTreeSet};

/// The ids a plan purges, imports and moves on one participant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Planned {
    pub purge: BTreeSet<ContractId>,
    pub import: BTreeSet<ContractId>,
    pub moves: BTreeSet<ContractId>,
}

impl Planned {
    pub fn of(plan: &Plan, participant: &str) -> Planned {
        let mut out = Planned::default();
        for phase in plan.phases() {
            for step in phase.steps.iter().filter(|s| s.participant == participant) {
                let set = match step.action {
                    Action::PurgeContracts { .. } => &mut out.purge,
                    Action::ImportAcs { .. } => &mut out.import,
                    Action::ChangeAssignation { .. } => &mut out.moves,
                    _ => continue,
                };
                set.extend(step.action.contract_ids().iter().cloned());
            }
        }
        out
    }
}

/// What was read from one participant.
#[derive(Debug, Clone)]
pub(super) struct Observed<'a> {
    /// Logical ids.
    pub lost_id: &'a str,
    pub target_id: &'a str,
    pub lost_alias: &'a str,
    pub target_alias: &'a str,
    /// What the plan expected on the lost synchronizer (sorted).
    pub expected: &'a [ContractId],
    /// Active on the lost synchronizer now.
    pub on_lost: &'a Holds<'a>,
    /// InspectCommitmentContracts, merged, for the ids whose fate the holding alone cannot
    /// tell: those gone from the lost synchronizer, and planned imports not held there.
    pub histories: BTreeMap<String, ContractHistory>,
    pub registered: Vec<RegisteredSynchronizer>,
    pub connected: Vec<ConnectedSynchronizer>,
}

impl Observed<'_> {
    /// The ids [`Observed::histories`] must cover.
    pub fn to_inspect(expected: &[ContractId], on_lost: &Holds<'_>, planned: &Planned) -> Vec<String> {
        let gone = expected.iter().filter(|id| !on_lost.holds(id));
        let not_held = planned.import.iter().filter(|id| !on_lost.holds(id));
        let ids: BTreeSet<&ContractId> = gone.chain(not_held).collect();
        ids.into_iter().map(|id| id.to_string()).collect()
    }

    fn history(&self, id: &str) -> ContractHistory {
        self.histories.get(id).cloned().unwrap_or_default()
    }

    /// The contract reached the target: it was active there at some point (it may have
    /// been archived there since, by a workflow after the recovery), and it is not active
    /// on the lost synchronizer.
    fn reached_target(&self, id: &ContractId) -> bool {
        if self.on_lost.holds(id) {
            return false;
        }
        let h = self.history(id);
        h.ever_on(self.target_id) && matches!(h.on(self.target_id), SyncState::Active | SyncState::Archived)
    }

    fn connected_to(&self, alias: &str) -> bool {
        self.connected.iter().any(|c| c.alias == alias)
    }

    fn manual(&self, alias: &str) -> Option<bool> {
        self.registered
            .iter()
            .find(|r| r.alias == alias)
            .map(|r| r.manual_connect)
    }
}

/// How far one kind of planned change has got on a participant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Count {
    pub done: usize,
    pub total: usize,
}

impl Count {
    pub fn complete(self) -> bool {
        self.done == self.total
    }
}

/// A planned row that is gone or new for reasons the plan does not explain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GoneRow {
    pub id: ContractId,
    /// What the participant says became of it.
    pub became: String,
}

/// Where one participant stands against the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Standing {
    /// Expected on the lost synchronizer, gone, and neither moved to the target nor
    /// purged by the plan.
    pub gone: Vec<GoneRow>,
    /// Active on the lost synchronizer, neither expected nor imported by the plan.
    pub appeared: Vec<ContractId>,
    pub purged: Count,
    pub imported: Count,
    pub moved: Count,
    /// Planned moves (imports included) that have not reached the target yet.
    pub to_move: Vec<ContractId>,
    /// Disconnected from the lost synchronizer, which will not reconnect by itself.
    pub isolated: bool,
    /// Connected to no synchronizer: repairs can run.
    pub idle: bool,
    /// Connected to the target, which reconnects by itself.
    pub reconnected: bool,
    /// Every expected contract gone from the lost synchronizer reached the target and is
    /// still active there, so their payloads can be compared with the plan's digest.
    pub payloads_visible: bool,
}

impl Standing {
    /// Some planned change is already made.
    fn progressed(&self) -> bool {
        self.purged.done + self.imported.done + self.moved.done > 0
    }

    fn data_complete(&self) -> bool {
        self.purged.complete() && self.imported.complete() && self.moved.complete()
    }

    /// How many contracts of `phase` need nothing more.
    pub fn already(&self, phase: PhaseKind) -> usize {
        match phase {
            PhaseKind::Purge => self.purged.done,
            PhaseKind::Import => self.imported.done,
            PhaseKind::Move => self.moved.done,
            _ => 0,
        }
    }
}

fn became(h: &ContractHistory, lost: &Observed<'_>) -> String {
    match h.on(lost.lost_id) {
        SyncState::Archived => format!("archived or purged on {}", lost.lost_alias),
        SyncState::Moved { to } if to.iter().any(|t| t == lost.target_id) => {
            format!("moved to {} but no longer held there", lost.target_alias)
        }
        SyncState::Moved { to } => format!("moved to {}", to.into_iter().collect::<Vec<_>>().join(", ")),
        SyncState::Active => format!("active on {} again", lost.lost_alias),
        SyncState::Unknown => format!("unknown to the participant on {}", lost.lost_alias),
    }
}

/// Reads one participant's state against its part of the plan.
pub(super) fn stand(planned: &Planned, seen: &Observed<'_>) -> Standing {
    let mut gone = Vec::new();
    let mut payloads_visible = true;
    for id in seen.expected.iter().filter(|id| !seen.on_lost.holds(id)) {
        let h = seen.history(id);
        if planned.moves.contains(id) && seen.reached_target(id) {
            payloads_visible &= h.on(seen.target_id) == SyncState::Active;
            continue;
        }
        payloads_visible = false;
        if planned.purge.contains(id) && h.on(seen.lost_id) == SyncState::Archived {
            continue;
        }
        gone.push(GoneRow {
            id: id.clone(),
            became: became(&h, seen),
        });
    }
    let appeared = seen
        .on_lost
        .unexpected()
        .filter(|id| !planned.import.contains(*id))
        .cloned()
        .collect();
    let count = |ids: &BTreeSet<ContractId>, done: &dyn Fn(&ContractId) -> bool| Count {
        done: ids.iter().filter(|id| done(id)).count(),
        total: ids.len(),
    };
    // Held: active on the lost synchronizer, or imported and moved on since (the same
    // rule as the import step's own skip, `steps::already_held`).
    let held = |id: &ContractId| {
        seen.on_lost.holds(id) || {
            let h = seen.history(id);
            h.active_somewhere() || matches!(h.on(seen.lost_id), SyncState::Moved { .. })
        }
    };
    let purged = |id: &ContractId| !seen.on_lost.holds(id) && seen.history(id).on(seen.lost_id) == SyncState::Archived;
    Standing {
        gone,
        appeared,
        purged: count(&planned.purge, &purged),
        imported: count(&planned.import, &held),
        moved: count(&planned.moves, &|id| seen.reached_target(id)),
        to_move: planned
            .moves
            .iter()
            .filter(|id| !seen.reached_target(id))
            .cloned()
            .collect(),
        isolated: !seen.connected_to(seen.lost_alias) && seen.manual(seen.lost_alias) == Some(true),
        idle: seen.connected.is_empty(),
        reconnected: seen.connected_to(seen.target_alias) && seen.manual(seen.target_alias) == Some(false),
        payloads_visible,
    }
}

/// Why a phase is not run again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoneBy {
    /// The participants' state shows its work done.
    State,
    /// Its work leaves no trace the participants report (the target's first connection
    /// and ping, the verification), and the journal records it done, with nothing since
    /// that undid it.
    Journal,
}

impl DoneBy {
    pub fn reason(self) -> &'static str {
        match self {
            DoneBy::State => "done according to the participants' state",
            DoneBy::Journal => "done according to the journal",
        }
    }
}

/// The phases a run need not run again, in plan order: a phase counts only when every
/// phase before it does, since each phase relies on the state the earlier ones left
/// (the repairs need every synchronizer disconnected, which running the target's first
/// connection again would undo after the reconnect).
pub(super) fn done_phases(standings: &[Standing], journal: &BTreeSet<PhaseKind>) -> BTreeMap<PhaseKind, DoneBy> {
    let all = |f: &dyn Fn(&Standing) -> bool| standings.iter().all(f);
    let progressed = standings.iter().any(Standing::progressed);
    let data_complete = all(&Standing::data_complete);
    let mut done = BTreeMap::new();
    for phase in PhaseKind::ALL {
        let by = match phase {
            PhaseKind::Isolate => all(&|s| s.isolated).then_some(DoneBy::State),
            // A repair already made proves the target was initialised; it must be left
            // disconnected for the repairs still to come. A finished recovery (nothing
            // left to repair, back on the target) needs it no more either.
            PhaseKind::InitTarget => {
                let finished = data_complete && all(&|s| s.reconnected);
                if finished || (progressed && (data_complete || all(&|s| s.idle))) {
                    Some(DoneBy::State)
                } else if journal.contains(&phase) && all(&|s| s.idle) {
                    Some(DoneBy::Journal)
                } else {
                    None
                }
            }
            PhaseKind::Purge => all(&|s| s.purged.complete()).then_some(DoneBy::State),
            PhaseKind::Import => all(&|s| s.imported.complete()).then_some(DoneBy::State),
            PhaseKind::Move => all(&|s| s.moved.complete()).then_some(DoneBy::State),
            PhaseKind::Reconnect => all(&|s| s.reconnected).then_some(DoneBy::State),
            PhaseKind::Verify => journal.contains(&phase).then_some(DoneBy::Journal),
        };
        match by {
            Some(by) => {
                done.insert(phase, by);
            }
            None => break,
        }
    }
    done
}

#[cfg(test)]
mod tests;
