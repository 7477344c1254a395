//! What flows into the app (messages) and out of it (effects the runtime carries out).

use crate::exec::{Control, Progress, RunReport};
use crate::failure::Failure;
use crate::journal::{Pinned, PinnedRunbook, Recorded, Surveyed};
use crate::plan::{InFlight, Plan};
use crate::reconcile::{Comparison, SelectionRequest};
use crate::survey::Payloads;
use crate::survey::status::ParticipantReport;
use ratatui::crossterm::event::KeyEvent;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// One completed survey: the aligned comparison and what it was built from.
#[derive(Debug, Clone)]
pub struct SurveyData {
    pub comparison: Arc<Comparison>,
    /// Per participant (comparison order), the payloads it holds, for diffs.
    pub payloads: Arc<Vec<Payloads>>,
    pub in_flight: BTreeMap<String, InFlight>,
    /// Each participant's hosted parties (what the comparison file records with the rows).
    pub hosted: Arc<BTreeMap<String, BTreeSet<String>>>,
    /// The comparison file pinned beside the journal, once it is written.
    pub snapshot: Recorded<Pinned>,
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
        /// The plan's runbook pinned beside the journal.
        record: Recorded<PinnedRunbook>,
    },
    /// The comparison of a survey is written beside the journal (or could not be), with
    /// the `search.result` to record.
    SurveyRecorded {
        generation: u64,
        record: Surveyed,
    },
    Exec(Progress),
    /// A session event the journal just recorded.
    Recorded(Box<crate::journal::Event>),
    ExecDone(Result<RunReport, Failure>),
}

/// Why no plan could be made.
#[derive(Debug, Clone)]
pub enum PlanProblem {
    /// Rows that need an operator decision first (id, class).
    Undecided(Vec<(String, String)>),
    Other(String),
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
    /// Write the comparison just shown beside the journal, then record it.
    RecordSurvey {
        generation: u64,
        record: Surveyed,
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
