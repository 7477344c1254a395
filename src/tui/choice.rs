//! The operator's choice while comparing: strategy, hand-picked rows and per-row decisions,
//! kept as the engine request they make. What a row's marker says comes from the engine's
//! own rule ([`reconcile::row_fate`]) applied to that request, so the screen and the plan
//! cannot disagree.

use crate::reconcile::{self, ContractId, Decision, Row, RowFate, SelectionRequest, StrategyName};
use std::collections::{BTreeMap, BTreeSet};

enum_with_all! {
    /// What happens to a row under the current choice, as the screen groups it. The
    /// declaration order is the order of the help legend.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Fate {
        /// No strategy chosen yet.
        Undecided,
        /// Moved to the new synchronizer (imported or adopted first where needed).
        Moved,
        /// Left on the lost synchronizer.
        LeftBehind,
        /// Purged where still active (decision).
        Purged,
        /// Needs a decision before a plan can be made.
        NeedsDecision,
    }
}

impl Fate {
    pub fn of(fate: Option<RowFate>) -> Fate {
        match fate {
            None => Fate::Undecided,
            Some(f) if f.moves() => Fate::Moved,
            Some(RowFate::Purge) => Fate::Purged,
            Some(RowFate::Undecided) => Fate::NeedsDecision,
            Some(_) => Fate::LeftBehind,
        }
    }

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

    /// What the marker means, for the help legend.
    pub fn meaning(self) -> &'static str {
        match self {
            Fate::Undecided => "no strategy yet",
            Fate::Moved => "moved",
            Fate::LeftBehind => "left behind",
            Fate::Purged => "purged",
            Fate::NeedsDecision => "needs a decision",
        }
    }
}

/// The strategy, picks and decisions, and the request they make. The fields change only
/// through the methods, which keep the request in step.
#[derive(Debug, Clone, Default)]
pub struct Choice {
    strategy: Option<StrategyName>,
    /// Rows picked by hand; kept while other strategies are tried.
    picked: BTreeSet<ContractId>,
    /// Decisions taken on rows; kept while other strategies are tried, sent when they count.
    decisions: BTreeMap<ContractId, Decision>,
    request: Option<SelectionRequest>,
}

impl Choice {
    pub fn strategy(&self) -> Option<StrategyName> {
        self.strategy
    }

    pub fn picked(&self) -> &BTreeSet<ContractId> {
        &self.picked
    }

    pub fn decision(&self, id: &ContractId) -> Option<&Decision> {
        self.decisions.get(id)
    }

    pub fn set_strategy(&mut self, strategy: StrategyName) {
        self.strategy = Some(strategy);
        self.rebuild();
    }

    /// Picks the row, or drops it if it was picked.
    pub fn toggle(&mut self, id: &ContractId) {
        if !self.picked.remove(id) {
            self.picked.insert(id.clone());
        }
        self.rebuild();
    }

    pub fn decide(&mut self, id: &ContractId, decision: Decision) {
        self.decisions.insert(id.clone(), decision);
        self.rebuild();
    }

    /// The engine request for this choice, with only the decisions the strategy consults
    /// (the engine refuses the others); `None` until a strategy is chosen.
    pub fn request(&self) -> Option<&SelectionRequest> {
        self.request.as_ref()
    }

    /// The row's fate under the current choice.
    pub fn fate(&self, row: &Row) -> Fate {
        Fate::of(self.request.as_ref().map(|r| reconcile::row_fate(row, r)))
    }

    fn rebuild(&mut self) {
        self.request = self.strategy.map(|s| {
            let mut request = SelectionRequest::new(s.with_picks(self.picked.clone()));
            request.decisions = self.decisions.clone();
            request.without_ignored_decisions()
        });
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
        choice.set_strategy(StrategyName::Intersection);
        assert_eq!(
            fates(&choice),
            vec![
                ("00aa".into(), Fate::Moved),
                ("00bb".into(), Fate::LeftBehind),
                ("00cc".into(), Fate::LeftBehind),
                ("00dd".into(), Fate::LeftBehind)
            ]
        );
        choice.set_strategy(StrategyName::Union);
        let f = fates(&choice);
        assert_eq!(f[1].1, Fate::NeedsDecision, "archived somewhere needs a decision");
        assert_eq!(f[2].1, Fate::Moved, "missing rows are imported and moved");
        choice.decide(&"00bb".into(), Decision::Purge);
        assert_eq!(fates(&choice)[1].1, Fate::Purged);
        choice.set_strategy(StrategyName::Manual);
        choice.toggle(&"00cc".into());
        let f = fates(&choice);
        assert_eq!(
            (f[0].1, f[1].1, f[2].1),
            (Fate::LeftBehind, Fate::LeftBehind, Fate::Moved)
        );
    }

    #[test]
    fn requests_carry_only_decisions_that_count() {
        let mut choice = Choice::default();
        choice.set_strategy(StrategyName::Manual);
        choice.decide(&"00bb".into(), Decision::Purge);
        let req = choice.request().expect("request");
        assert!(
            crate::reconcile::select(&comparison(), req).is_ok(),
            "an unpicked row's decision is not sent"
        );
        choice.toggle(&"00bb".into());
        let req = choice.request().expect("request");
        let sel = crate::reconcile::select(&comparison(), req).expect("select");
        assert_eq!(sel.moved_count(), 0);
        choice.toggle(&"00bb".into());
        assert!(choice.picked().is_empty(), "a second toggle drops the pick");
    }
}
