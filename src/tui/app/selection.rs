//! The operator's selection through the screen: strategy, hand-picked rows, decisions,
//! and the plan preview they lead to. Every decision is checked with the engine's own
//! rule before it is kept.

use super::{App, Compared, Level, PlanState, Screen};
use crate::journal::{DecisionName, EventData};
use crate::reconcile::{self, Decision, SelectionProblem, StrategyName};
use crate::tui::action::Action;
use crate::tui::choice::Fate;
use crate::tui::msg::Effect;
use crate::tui::scroll::Scroll;

impl App {
    /// The row's fate under the current choice; none on the target, where nothing is planned.
    pub fn fate(&self, row: &crate::reconcile::Row) -> Fate {
        match self.compared {
            Compared::Lost => self.choice.fate(row),
            Compared::Target => Fate::Undecided,
        }
    }

    /// Whether the view compares the target, where there is nothing to plan; says so.
    fn on_target(&mut self) -> bool {
        if self.compared != Compared::Target {
            return false;
        }
        let key = self.screen_key(Screen::Main, Action::CompareTarget);
        let text = format!(
            "this compares {}; {key} returns to {} to plan",
            self.ctx.target, self.ctx.lost
        );
        self.flash(Level::Warn, text);
        true
    }

    /// Whether the choice is frozen: read-only (its keys are unbound anyway), a run is
    /// active, or the view compares the target.
    fn choice_frozen(&mut self) -> bool {
        self.ctx.read_only || self.running() || self.on_target()
    }

    pub(super) fn set_strategy(&mut self, s: StrategyName) -> Vec<Effect> {
        if self.choice_frozen() {
            return Vec::new();
        }
        self.choice.set_strategy(s);
        self.invalidate_plan();
        self.flash(Level::Info, format!("strategy: {s}"));
        vec![Effect::Record(EventData::StrategyChosen { strategy: s })]
    }

    pub(super) fn decide(&mut self, decision: Decision) -> Vec<Effect> {
        if self.choice_frozen() {
            return Vec::new();
        }
        let (Some(data), Some(row)) = (self.data.as_ref(), self.selected_row()) else {
            return Vec::new();
        };
        if let Err(problem) = reconcile::decision_fits(&data.comparison, row, &decision) {
            let text = match problem {
                SelectionProblem::DecisionNotNeeded { class, .. } => {
                    format!("this row is {class}: it needs no decision")
                }
                other => other.to_string(),
            };
            self.flash(Level::Warn, text);
            return Vec::new();
        }
        let id = row.contract_id().clone();
        let record = EventData::Decided {
            contract_id: id.to_string(),
            decision: DecisionName::from(&decision),
            participant: None,
        };
        let short: String = id.chars().take(16).collect();
        self.flash(Level::Info, format!("decided {decision} for {short}"));
        self.choice.decide(&id, decision);
        self.invalidate_plan();
        vec![Effect::Record(record)]
    }

    /// Operators used to other tools ask for one participant's version of a row whose
    /// payloads differ; Canton cannot do that, and the screen says why.
    pub(super) fn adopt(&mut self) -> Vec<Effect> {
        self.flash(Level::Warn, reconcile::NO_ADOPT.to_string());
        Vec::new()
    }

    pub(super) fn toggle_row(&mut self) -> Vec<Effect> {
        if self.choice_frozen() {
            return Vec::new();
        }
        if self.choice.strategy() != Some(StrategyName::Manual) {
            let (space, m) = (
                self.screen_key(Screen::Main, Action::ToggleRow),
                self.screen_key(Screen::Main, Action::StrategyManual),
            );
            self.flash(
                Level::Warn,
                format!("{space} picks rows in a manual selection: press {m} first"),
            );
            return Vec::new();
        }
        let Some(id) = self.selected_row().map(|r| r.contract_id().clone()) else {
            return Vec::new();
        };
        self.choice.toggle(&id);
        self.invalidate_plan();
        self.table.move_by(1);
        self.table.follow();
        Vec::new()
    }

    pub(super) fn preview(&mut self) -> Vec<Effect> {
        // Joined, the plan on screen is the session's, unless the lead chose a strategy.
        if let Some(j) = &self.joined
            && (j.role != crate::collab::event::Role::Lead || self.choice.strategy().is_none())
        {
            return self.show_session_plan();
        }
        if self.data.is_none() {
            self.flash(Level::Warn, "the comparison is still loading");
            return Vec::new();
        }
        if self.on_target() {
            return Vec::new();
        }
        let Some(request) = self.choice.request().cloned() else {
            let keys = [
                Action::StrategyIntersection,
                Action::StrategyUnion,
                Action::StrategyManual,
            ]
            .map(|a| format!("{} {}", self.screen_key(Screen::Main, a), a.label()));
            self.flash(Level::Warn, format!("choose a strategy first: {}", keys.join(", ")));
            return Vec::new();
        };
        self.screen = Screen::Plan;
        self.plan_view = Scroll::default();
        if matches!(self.plan, PlanState::Ready { .. } | PlanState::Building) {
            return Vec::new();
        }
        self.plan = PlanState::Building;
        vec![Effect::BuildPlan {
            generation: self.generation,
            request,
        }]
    }
}
