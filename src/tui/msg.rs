//! What flows into the app (messages) and out of it (effects the runtime carries out).

use crate::exec::{Control, Progress, RunReport};
use crate::failure::Failure;
use crate::plan::{InFlight, Plan, PlanError};
use crate::reconcile::{Comparison, SelectionError, SelectionRequest, UndecidedRow};
use crate::survey::status::ParticipantReport;
use crate::survey::{Payloads, ProposeError};
use ratatui::crossterm::event::KeyEvent;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One completed survey: the aligned comparison and what it was built from.
#[derive(Debug, Clone)]
pub struct SurveyData {
    pub comparison: Arc<Comparison>,
    /// Per participant (comparison order), the payloads it holds, for diffs.
    pub payloads: Arc<Vec<Payloads>>,
    pub in_flight: BTreeMap<String, InFlight>,
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Resize,
    /// A quarter-second clock for expiring flash messages.
    Tick,
    /// Requests carry the generation they were made in; stale answers are dropped.
    Status {
        generation: u64,
        report: ParticipantReport,
    },
    SurveyProgress {
        generation: u64,
        participant: String,
        contracts: usize,
    },
    Survey {
        generation: u64,
        result: Result<SurveyData, Failure>,
    },
    Plan {
        generation: u64,
        result: Result<Arc<Plan>, PlanProblem>,
    },
    Exec(Progress),
    /// A session event the journal just recorded.
    Recorded(crate::journal::Event),
    ExecDone(Result<RunReport, Failure>),
}

/// Why no plan could be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PlanProblem {
    #[error("the comparison is not loaded")]
    NotCompared,
    /// Rows that need an operator decision first.
    #[error("{} row(s) need an operator decision before a plan can be made", .0.len())]
    Undecided(Vec<UndecidedRow>),
    #[error(transparent)]
    Selection(SelectionError),
    #[error(transparent)]
    Plan(PlanError),
    #[error("{0}")]
    Survey(Failure),
}

impl From<ProposeError> for PlanProblem {
    fn from(e: ProposeError) -> PlanProblem {
        match e {
            ProposeError::Selection(SelectionError::Undecided(rows)) => PlanProblem::Undecided(rows),
            ProposeError::Selection(other) => PlanProblem::Selection(other),
            ProposeError::Plan(p) => PlanProblem::Plan(p),
            ProposeError::Survey(s) => PlanProblem::Survey(s.failure()),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Effect {
    LoadStatus {
        generation: u64,
    },
    /// Survey what the participants hold on this synchronizer.
    Survey {
        generation: u64,
        synchronizer: String,
    },
    BuildPlan {
        generation: u64,
        request: SelectionRequest,
    },
    Execute {
        plan: Arc<Plan>,
    },
    Control(Control),
    /// A session event for the journal (what was seen, chosen, confirmed).
    Record(crate::journal::EventData),
    Quit,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::RowClass;

    #[test]
    fn plan_problems_keep_their_kind_and_their_words() {
        let row = UndecidedRow {
            contract_id: "00aa".into(),
            class: RowClass::PayloadMismatch,
        };
        let undecided = ProposeError::Selection(SelectionError::Undecided(vec![row.clone()]));
        assert!(matches!(PlanProblem::from(undecided), PlanProblem::Undecided(rows) if rows == [row]));
        let stale = ProposeError::Plan(PlanError::StaleSelection);
        let words = stale.to_string();
        let problem = PlanProblem::from(stale);
        assert!(matches!(problem, PlanProblem::Plan(PlanError::StaleSelection)));
        assert_eq!(problem.to_string(), words, "the screen shows what the engine said");
    }
}
