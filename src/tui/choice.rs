//! The operator's choice while comparing: strategy, hand-picked rows and per-row
//! decisions, and what that means for one row on screen (moved, left behind, or waiting
//! for a decision). The plan itself is always computed by the engine from the same request.

use crate::reconcile::{ContractId, Decision, Row, RowClass, SelectionRequest, Strategy};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyKind {
    Intersection,
    Union,
    Manual,
}

impl StrategyKind {
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Intersection => "intersection",
            StrategyKind::Union => "union",
            StrategyKind::Manual => "manual",
        }
    }
}

/// What happens to a row under the current choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// No strategy chosen yet.
    Undecided,
    Moved,
    /// Left on the lost synchronizer.
    LeftBehind,
    /// Purged where still active (decision).
    Purged,
    /// Needs a decision before a plan can be made.
    NeedsDecision,
}

impl Fate {
    /// A one-character marker, readable without colour.
    pub fn marker(self) -> &'static str {
        match self {
            Fate::Undecided => " ",
            Fate::Moved => "●",
            Fate::LeftBehind => "○",
            Fate::Purged => "P",
            Fate::NeedsDecision => "?",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Choice {
    pub strategy: Option<StrategyKind>,
    pub manual: BTreeSet<ContractId>,
    pub decisions: BTreeMap<ContractId, Decision>,
}

impl Choice {
    pub fn fate(&self, row: &Row) -> Fate {
        let Some(strategy) = self.strategy else {
            return Fate::Undecided;
        };
        let id = row.contract_id();
        let class = row.class();
        let included = match strategy {
            StrategyKind::Intersection => {
                return if matches!(class, RowClass::Agreed | RowClass::LocalOnly) {
                    Fate::Moved
                } else {
                    Fate::LeftBehind
                };
            }
            StrategyKind::Union => true,
            StrategyKind::Manual => self.manual.contains(id),
        };
        if !included {
            return Fate::LeftBehind;
        }
        if !class.needs_decision() {
            return Fate::Moved;
        }
        match self.decisions.get(id) {
            None => Fate::NeedsDecision,
            Some(Decision::Exclude) => Fate::LeftBehind,
            Some(Decision::Purge) => Fate::Purged,
        }
    }

    /// The engine request for this choice; `None` until a strategy is chosen.
    pub fn request(&self) -> Option<SelectionRequest> {
        let strategy = match self.strategy? {
            StrategyKind::Intersection => Strategy::Intersection,
            StrategyKind::Union => Strategy::Union,
            StrategyKind::Manual => Strategy::Manual {
                include: self.manual.clone(),
            },
        };
        // The engine refuses decisions that the strategy ignores, so only send those that count.
        let mut request = SelectionRequest::new(strategy);
        for (id, d) in &self.decisions {
            let counts = match self.strategy? {
                StrategyKind::Intersection => false,
                StrategyKind::Union => true,
                StrategyKind::Manual => self.manual.contains(id),
            };
            if counts {
                request = request.decide(id, d.clone());
            }
        }
        Some(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::{ContractSummary, Inspection, InspectionResult, Interner, ParticipantSnapshot, compare};

    fn comparison() -> crate::reconcile::Comparison {
        let mut i = Interner::new();
        let t = i.name("Iou:Iou");
        let both = i.stakeholders(["A::1", "B::2"]);
        let c = |id: &str| ContractSummary::new(id, t.clone(), both.clone(), [1; 32]);
        let p1 = ParticipantSnapshot {
            participant: "p1".into(),
            hosted_parties: ["A::1".to_string()].into(),
            contracts: vec![c("00aa"), c("00bb"), c("00cc")],
        };
        let p2 = ParticipantSnapshot {
            participant: "p2".into(),
            hosted_parties: ["B::2".to_string()].into(),
            contracts: vec![c("00aa"), c("00dd")],
        };
        let mut inspection = Inspection::new();
        inspection.record("p2", "00bb", InspectionResult::Archived);
        compare("lost", &[p1, p2], &inspection).expect("compare")
    }

    fn fates(choice: &Choice) -> Vec<(String, Fate)> {
        comparison()
            .rows()
            .iter()
            .map(|r| (r.contract_id().to_string(), choice.fate(r)))
            .collect()
    }

    #[test]
    fn fates_follow_the_strategy() {
        let mut choice = Choice::default();
        assert!(fates(&choice).iter().all(|(_, f)| *f == Fate::Undecided));
        assert!(choice.request().is_none());
        choice.strategy = Some(StrategyKind::Intersection);
        assert_eq!(
            fates(&choice),
            vec![
                ("00aa".into(), Fate::Moved),
                ("00bb".into(), Fate::LeftBehind),
                ("00cc".into(), Fate::LeftBehind),
                ("00dd".into(), Fate::LeftBehind)
            ]
        );
        choice.strategy = Some(StrategyKind::Union);
        let f = fates(&choice);
        assert_eq!(f[1].1, Fate::NeedsDecision, "archived somewhere needs a decision");
        assert_eq!(f[2].1, Fate::Moved, "missing rows are imported and moved");
        choice.decisions.insert("00bb".into(), Decision::Purge);
        assert_eq!(fates(&choice)[1].1, Fate::Purged);
        choice.strategy = Some(StrategyKind::Manual);
        choice.manual.insert("00cc".into());
        let f = fates(&choice);
        assert_eq!(
            (f[0].1, f[1].1, f[2].1),
            (Fate::LeftBehind, Fate::LeftBehind, Fate::Moved)
        );
    }

    #[test]
    fn requests_carry_only_decisions_that_count() {
        let mut choice = Choice {
            strategy: Some(StrategyKind::Manual),
            ..Choice::default()
        };
        choice.decisions.insert("00bb".into(), Decision::Purge);
        let req = choice.request().expect("request");
        assert!(
            crate::reconcile::select(&comparison(), &req).is_ok(),
            "an unpicked row's decision is not sent"
        );
        choice.manual.insert("00bb".into());
        let req = choice.request().expect("request");
        let sel = crate::reconcile::select(&comparison(), &req).expect("select");
        assert_eq!(sel.moved_count(), 0);
    }
}
