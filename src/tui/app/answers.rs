//! The engine's answers to the screen's requests: a survey and its record, a plan and
//! the step from an approved plan to its execution. Each answer carries the generation it
//! was asked in; a stale one changes nothing.

use super::{App, Level, PlanState, Screen, SurveyState};
use crate::failure::Failure;
use crate::journal::{EventData, PlanApproved, PlanProposed, Surveyed};
use crate::plan::{Plan, PlanSummary};
use crate::tui::exec_view::ExecView;
use crate::tui::msg::{Effect, PlanProblem, SurveyData};
use std::sync::Arc;

impl App {
    pub(super) fn on_survey(&mut self, generation: u64, result: Result<SurveyData, Failure>) -> Vec<Effect> {
        if generation != self.generation {
            return Vec::new();
        }
        for p in &mut self.participants {
            p.reading = None;
        }
        match result {
            Ok(data) => {
                self.table.refilter(&data.comparison);
                let record = Surveyed {
                    synchronizer: self.compared_alias().to_string(),
                    classes: data
                        .comparison
                        .counts()
                        .iter()
                        .map(|(c, n)| (c.as_str().to_string(), n))
                        .collect(),
                    contracts: data.comparison.held_counts().collect(),
                    snapshot: None,
                };
                self.data = Some(data);
                self.survey = SurveyState::Ready;
                vec![Effect::RecordSurvey { generation, record }]
            }
            Err(e) => {
                self.survey = SurveyState::Failed(e.clone());
                self.flash(Level::Error, format!("survey failed: {e}"));
                Vec::new()
            }
        }
    }

    /// Whatever happened on screen since, the comparison the operator saw goes on the record.
    pub(super) fn on_survey_recorded(&mut self, generation: u64, record: Surveyed) -> Vec<Effect> {
        if generation == self.generation
            && let Some(d) = self.data.as_mut()
        {
            d.snapshot = match &record.snapshot {
                Some(p) => crate::journal::Recorded::Pinned(p.clone()),
                None => crate::journal::Recorded::Failed("not written".into()),
            };
        }
        if record.snapshot.is_none() {
            self.flash(
                Level::Warn,
                "the comparison could not be written beside the journal (see the log); its counts are recorded",
            );
        }
        vec![Effect::Record(EventData::Surveyed(record))]
    }

    pub(super) fn on_plan(
        &mut self,
        generation: u64,
        result: Result<Arc<Plan>, PlanProblem>,
        pinned: crate::journal::Recorded<crate::journal::PinnedRunbook>,
    ) -> Vec<Effect> {
        if generation != self.generation || !matches!(self.plan, PlanState::Building) {
            return Vec::new();
        }
        match result {
            Ok(plan) => {
                let record = self.show_plan(plan, pinned.pinned());
                if let Some(e) = pinned.failure() {
                    self.flash(Level::Warn, format!("the plan is not on the record: {e}"));
                }
                vec![record]
            }
            Err(problem) => {
                self.plan = PlanState::Blocked(problem);
                Vec::new()
            }
        }
    }

    /// Puts a plan on screen, ready to execute; the journal records it as proposed.
    /// Shows `plan` in the preview and returns its record: with the runbook pinned beside
    /// the journal when there is one, and the survey it was made from.
    pub(super) fn show_plan(&mut self, plan: Arc<Plan>, pinned: Option<&crate::journal::PinnedRunbook>) -> Effect {
        let summary = Box::new(PlanSummary::of(&plan));
        let record = Effect::Record(EventData::PlanProposed(PlanProposed {
            plan_hash: plan.hash().to_string(),
            strategy: plan.strategy().kind(),
            moved: summary.moved,
            excluded: plan.excluded().len(),
            runbook: pinned.map(|r| r.runbook.clone()),
            sidecar: pinned.and_then(|r| r.sidecar.clone()),
            survey: self
                .data
                .as_ref()
                .and_then(|d| d.snapshot.pinned())
                .map(|p| p.sha256.clone()),
        }));
        self.plan = PlanState::Ready { plan, summary };
        record
    }

    pub(super) fn execute(&mut self) -> Vec<Effect> {
        // A joined screen runs nothing but its deck, behind the session's barriers.
        if self.joined.is_some() {
            return Vec::new();
        }
        let PlanState::Ready { plan, .. } = &self.plan else {
            return Vec::new();
        };
        let plan = plan.clone();
        self.exec = Some(ExecView::new(&plan));
        self.screen = Screen::Execution;
        vec![
            Effect::Record(EventData::PlanApproved(PlanApproved {
                plan_hash: plan.hash().to_string(),
                confirmed_by_typing: self.ctx.target.clone(),
                unattended: false,
            })),
            Effect::Execute { plan },
        ]
    }
}
