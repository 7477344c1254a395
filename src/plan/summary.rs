//! A phase × participant preview of a plan, for the CLI and the TUI confirmation screen.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::reconcile::ExclusionReason;

use super::model::{InFlight, PhaseKind, Plan};

/// What one participant does in one phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhaseCell {
    pub steps: usize,
    /// Contract ids named by those steps (for verify: ids expected on the target).
    pub contracts: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhaseSummary {
    pub phase: PhaseKind,
    /// Indexed like [`PlanSummary::participants`].
    pub cells: Vec<PhaseCell>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanSummary {
    pub plan_hash: String,
    pub strategy: String,
    pub batch_size: u32,
    pub lost: String,
    pub target: String,
    pub participants: Vec<String>,
    pub phases: Vec<PhaseSummary>,
    /// Distinct contracts moved to the target.
    pub moved: usize,
    pub excluded: BTreeMap<ExclusionReason, usize>,
    pub in_flight: BTreeMap<String, InFlight>,
}

impl PlanSummary {
    pub fn of(plan: &Plan) -> Self {
        let participants = plan.participants().to_vec();
        let phases = plan
            .phases()
            .iter()
            .map(|phase| {
                let mut cells = vec![PhaseCell::default(); participants.len()];
                for step in &phase.steps {
                    if let Ok(i) = participants.binary_search(&step.participant) {
                        cells[i].steps += 1;
                        cells[i].contracts += step.action.contract_ids().len();
                    }
                }
                PhaseSummary {
                    phase: phase.kind,
                    cells,
                }
            })
            .collect();
        let moved: BTreeSet<&str> = plan
            .phase(PhaseKind::Move)
            .into_iter()
            .flat_map(|p| &p.steps)
            .flat_map(|s| s.action.contract_ids().iter().map(|id| &**id))
            .collect();
        let mut excluded = BTreeMap::new();
        for row in plan.excluded() {
            *excluded.entry(row.reason).or_insert(0) += 1;
        }
        Self {
            plan_hash: plan.hash().to_owned(),
            strategy: plan.strategy().to_string(),
            batch_size: plan.batch_size(),
            lost: plan.lost().to_owned(),
            target: plan.target().to_owned(),
            participants,
            phases,
            moved: moved.len(),
            excluded,
            in_flight: plan.in_flight().clone(),
        }
    }
}

impl PhaseSummary {
    /// The text of one cell, e.g. "1200 ids in 3 batches"; "-" when nothing happens.
    pub fn cell_text(&self, participant: usize) -> String {
        let Some(c) = self.cells.get(participant) else {
            return String::new();
        };
        if c.steps == 0 {
            return "-".to_owned();
        }
        match self.phase {
            PhaseKind::Purge => format!("{} ids", c.contracts),
            PhaseKind::Import => format!("{} ids from {} source(s)", c.contracts, c.steps),
            PhaseKind::Move => format!("{} ids in {} batch(es)", c.contracts, c.steps),
            PhaseKind::Verify => format!("{} ids + ping", c.contracts),
            _ => format!("{} steps", c.steps),
        }
    }
}

impl fmt::Display for PlanSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "plan {} (strategy {}, batch size {})",
            self.plan_hash, self.strategy, self.batch_size
        )?;
        writeln!(
            f,
            "{} -> {}: {} participant(s), {} contract(s) move",
            self.lost,
            self.target,
            self.participants.len(),
            self.moved
        )?;
        let mut table: Vec<Vec<String>> = vec![
            std::iter::once("phase".to_owned())
                .chain(self.participants.iter().cloned())
                .collect(),
        ];
        for phase in &self.phases {
            let mut line = vec![phase.phase.to_string()];
            line.extend((0..self.participants.len()).map(|i| phase.cell_text(i)));
            table.push(line);
        }
        let widths: Vec<usize> = (0..table[0].len())
            .map(|col| table.iter().map(|r| r[col].chars().count()).max().unwrap_or(0))
            .collect();
        for line in &table {
            let cells: Vec<String> = line
                .iter()
                .zip(&widths)
                .map(|(text, w)| format!("{text:<w$}"))
                .collect();
            writeln!(f, "{}", cells.join(" | ").trim_end())?;
        }
        let total: usize = self.excluded.values().sum();
        let reasons: Vec<String> = self
            .excluded
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect();
        if total > 0 {
            writeln!(f, "excluded: {total} ({})", reasons.join(", "))?;
        } else {
            writeln!(f, "excluded: none")?;
        }
        let pending: Vec<String> = self
            .in_flight
            .iter()
            .filter(|(_, c)| c.pending_submissions + c.pending_transactions > 0)
            .map(|(p, c)| {
                format!(
                    "{p} {} submission(s), {} transaction(s)",
                    c.pending_submissions, c.pending_transactions
                )
            })
            .collect();
        if pending.is_empty() {
            writeln!(f, "in-flight on {}: none", self.lost)
        } else {
            writeln!(
                f,
                "in-flight on {} acknowledged as abandoned: {}",
                self.lost,
                pending.join("; ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testkit::*;

    #[test]
    fn counts_per_phase_and_participant() {
        let plan = plan_for(&comparison(), &union_request(), 2).unwrap();
        let s = PlanSummary::of(&plan);
        assert_eq!(s.participants, ["p1", "p2", "p3"]);
        let cell = |phase: PhaseKind, p: usize| s.phases[phase as usize].cells[p];
        assert_eq!(cell(PhaseKind::Isolate, 2), PhaseCell { steps: 2, contracts: 0 });
        assert_eq!(cell(PhaseKind::Purge, 0), PhaseCell { steps: 1, contracts: 1 });
        assert_eq!(cell(PhaseKind::Purge, 1), PhaseCell::default());
        assert_eq!(cell(PhaseKind::Move, 0), PhaseCell { steps: 3, contracts: 6 });
        assert_eq!(cell(PhaseKind::Verify, 2), PhaseCell { steps: 1, contracts: 0 });
        assert_eq!(s.moved, 6);
        assert_eq!(s.excluded[&ExclusionReason::DecidedPurge], 1);
    }

    #[test]
    fn preview_text_is_a_table() {
        let plan = plan_for(&comparison(), &union_request(), 2).unwrap();
        let text = PlanSummary::of(&plan).to_string();
        assert!(
            text.starts_with(&format!("plan {} (strategy union, batch size 2)\n", plan.hash())),
            "{text}"
        );
        assert!(
            text.contains("lost -> new: 3 participant(s), 6 contract(s) move"),
            "{text}"
        );
        let move_line = text.lines().find(|l| l.starts_with("move")).unwrap();
        assert_eq!(
            move_line,
            "move        | 6 ids in 3 batch(es)   | 5 ids in 3 batch(es)   | -"
        );
        assert!(
            text.lines()
                .any(|l| l.starts_with("purge       | 1 ids ") && l.ends_with("| -")),
            "{text}"
        );
        assert!(
            text.contains("excluded: 2 (decision_exclude 1, decision_purge 1)"),
            "{text}"
        );
        assert!(text.contains("in-flight on lost: none"), "{text}");
    }
}
