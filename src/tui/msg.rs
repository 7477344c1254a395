//! What flows into the app (messages) and out of it (effects the runtime carries out).

use crate::client::IncompleteReassignment;
use crate::collab::board::Board;
use crate::exec::{Control, Progress, RunReport};
use crate::failure::Failure;
use crate::journal::{Pinned, PinnedRunbook, Recorded, Surveyed};
use crate::plan::{InFlight, Plan, PlanError};
use crate::reconcile::{Comparison, ContractId, Digest, SelectionError, SelectionRequest, UndecidedRow};
use crate::survey::status::ParticipantReport;
use crate::survey::{ParticipantDrift, Payloads, ProposeError};
use ratatui::crossterm::event::KeyEvent;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

/// One completed survey: the aligned comparison and what it was built from.
#[derive(Debug, Clone)]
pub struct SurveyData {
    pub comparison: Arc<Comparison>,
    /// Per participant (comparison order), the payloads read so far, for diffs: the survey
    /// keeps digests only, so these are the rows whose holders disagree (read for the
    /// comparison file) and the rows a diff asked for.
    pub payloads: Arc<Vec<Payloads>>,
    pub in_flight: BTreeMap<String, InFlight>,
    /// Each participant's hosted parties (what the comparison file records with the rows).
    pub hosted: Arc<BTreeMap<String, BTreeSet<String>>>,
    /// The comparison file pinned beside the journal, once it is written.
    pub snapshot: Recorded<Pinned>,
    /// Per participant, the contracts it sees between the compared synchronizer and
    /// another (a reassignment cut short): in no row and in no plan, so shown apart.
    pub incomplete: BTreeMap<String, Vec<IncompleteReassignment>>,
}

impl SurveyData {
    /// How many contracts some participant sees between synchronizers, and how many of
    /// those have no row (so no plan covers them).
    pub fn incomplete_count(&self) -> (usize, usize) {
        let distinct = |entries: Vec<&IncompleteReassignment>| {
            entries
                .into_iter()
                .map(|r| r.contract_id.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        };
        let all = distinct(self.incomplete.values().flatten().collect());
        let outside = distinct(
            self.incomplete
                .values()
                .flat_map(|e| crate::survey::in_no_row(&self.comparison, e))
                .collect(),
        );
        (all, outside)
    }

    /// Per participant, how many of the contracts it sees between synchronizers no row covers.
    pub fn incomplete_outside_rows(&self) -> BTreeMap<&str, usize> {
        self.incomplete
            .iter()
            .map(|(p, e)| (p.as_str(), crate::survey::in_no_row(&self.comparison, e).len()))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
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
    /// Joined to a session: its state as the feed last saw it.
    Board(Arc<Board>),
    /// Joined: the comparison built from every participant's manifest (or why there is
    /// none yet), again whenever a manifest or an answer changes.
    Federated(Result<Federated, String>),
    /// Payloads read from the participants that hold them, per participant; `open`: the
    /// row whose diff asked for them, shown once they are here.
    Payloads {
        generation: u64,
        open: Option<ContractId>,
        result: Result<BTreeMap<String, Payloads>, Failure>,
    },
    /// A session command's answer: what the coordinator (or the deck) said.
    SessionAnswer {
        command: &'static str,
        result: Result<String, String>,
    },
    /// The local deck stopped serving: its part of the run finished, or it failed.
    DeckStopped(Result<RunReport, String>),
    /// `:save`: the runbook was written (with its sidecar, if any), or why not.
    Saved {
        path: PathBuf,
        result: Result<Option<PathBuf>, String>,
    },
    /// `:load`: the runbook's plan and the participants that drifted since it was made,
    /// or why it was not loaded.
    Loaded {
        generation: u64,
        path: PathBuf,
        result: Result<(Arc<Plan>, Vec<ParticipantDrift>), String>,
    },
}

/// The federated comparison and the in-flight counts from the manifests.
#[derive(Debug, Clone)]
pub struct Federated {
    pub comparison: Arc<Comparison>,
    pub in_flight: BTreeMap<String, InFlight>,
}

/// What a joined screen asks of the session; each binds to the plan hash the operator saw.
#[derive(Debug, Clone)]
pub enum SessionCmd {
    /// The lead proposes the plan previewed on the screen.
    Propose(Arc<Plan>),
    /// The lead proposes a runbook file.
    ProposeFile(PathBuf),
    Go {
        plan_hash: String,
    },
    Pause {
        plan_hash: String,
    },
    Abort {
        plan_hash: String,
    },
    /// The node operator's deck re-surveys and approves.
    Approve {
        plan_hash: String,
    },
    RequestPayload {
        contract_id: String,
        holder: String,
    },
    AnswerPayload {
        request_seq: u64,
        accept: bool,
    },
}

impl SessionCmd {
    /// A word for messages.
    pub fn name(&self) -> &'static str {
        match self {
            SessionCmd::Propose(_) | SessionCmd::ProposeFile(_) => "propose",
            SessionCmd::Go { .. } => "go",
            SessionCmd::Pause { .. } => "pause",
            SessionCmd::Abort { .. } => "abort",
            SessionCmd::Approve { .. } => "approve",
            SessionCmd::RequestPayload { .. } => "payload request",
            SessionCmd::AnswerPayload { .. } => "payload answer",
        }
    }
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
    /// Write the comparison just shown beside the journal, then record it.
    RecordSurvey {
        generation: u64,
        record: Surveyed,
    },
    BuildPlan {
        generation: u64,
        request: SelectionRequest,
    },
    /// Read these payloads (per participant: contract id and the digest surveyed) from the
    /// participants of `synchronizer`; `open` as in [`Msg::Payloads`].
    FetchPayloads {
        generation: u64,
        synchronizer: String,
        wanted: BTreeMap<String, HashMap<ContractId, Digest>>,
        open: Option<ContractId>,
    },
    Execute {
        plan: Arc<Plan>,
    },
    Control(Control),
    /// A session event for the journal (what was seen, chosen, confirmed).
    Record(crate::journal::EventData),
    /// Joined: send a command to the session.
    Session(SessionCmd),
    /// Write the plan as a runbook at `path`.
    SaveRunbook {
        plan: Arc<Plan>,
        path: PathBuf,
    },
    /// Read the runbook at `path` and check it against the participants.
    LoadRunbook {
        generation: u64,
        path: PathBuf,
    },
    /// Joined as a node operator: (re)start the local deck, which publishes the manifest,
    /// answers inspections and runs the participant's part on each go.
    ServeDeck,
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
