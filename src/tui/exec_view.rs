//! The execution screen's state, fed by the executor's progress events.

use super::scroll::Scroll;
use crate::exec::{Progress, RunReport};
use crate::journal::Event;
use crate::journal::{EventData, VerifyReport};
use crate::plan::{PhaseKind, Plan};
use std::collections::{BTreeMap, VecDeque};

const JOURNAL_LINES: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellState {
    /// The phase has no step for this participant, or has not started.
    Idle,
    Running,
    Done,
    Skipped,
    Failed,
}

#[derive(Debug, Clone, Copy)]
pub struct Cell {
    pub state: CellState,
    pub done: usize,
    pub total: usize,
}

impl Default for Cell {
    fn default() -> Self {
        Cell {
            state: CellState::Idle,
            done: 0,
            total: 0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub phase: PhaseKind,
    pub participant: String,
    pub error: String,
    pub code: Option<String>,
}

impl Failure {
    /// What the operator can do next, by Canton code where one is known.
    pub fn advice(&self) -> &'static str {
        match self.code.as_deref() {
            Some("CONTRACT_ASSIGNATION_CHANGE_ERROR") | Some("CONTRACT_PURGE_ERROR") | Some("IMPORT_ACS_ERROR") => {
                "The participant refused a repair. Read the cause, fix the participant's state (or re-plan), then execute the same plan again: finished steps are skipped."
            }
            Some("SYNC_SERVICE_UNKNOWN_SYNCHRONIZER") => {
                "A synchronizer alias is not registered on this participant. Register it, then execute again."
            }
            _ if self.error.contains("Unavailable")
                || self.error.contains("unreachable")
                || self.error.contains("tcp connect") =>
            {
                "The participant is unreachable. Bring it back (its state is safe), then execute again to resume."
            }
            _ => "Nothing after this step ran. Fix the cause, then execute again to resume from where it stopped.",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExecView {
    pub participants: Vec<String>,
    pub phases: Vec<PhaseKind>,
    pub cells: BTreeMap<(PhaseKind, String), Cell>,
    pub current: Option<PhaseKind>,
    pub paused_before: Option<PhaseKind>,
    pub pause_requested: bool,
    pub preflight: Option<Vec<String>>,
    pub journal: VecDeque<Event>,
    /// The journal pane follows the newest event until scrolled away from it.
    pub journal_view: Scroll,
    /// The journal takes the whole screen (the grid and outcome are hidden).
    pub journal_full: bool,
    pub failure: Option<Failure>,
    pub report: Option<RunReport>,
    pub verify: BTreeMap<String, VerifyReport>,
    pub finished: bool,
}

impl ExecView {
    pub fn new(plan: &Plan) -> ExecView {
        let mut cells = BTreeMap::new();
        for phase in plan.phases() {
            for step in &phase.steps {
                let cell: &mut Cell = cells.entry((phase.kind, step.participant.clone())).or_default();
                cell.total += step.action.contract_ids().len().max(1);
            }
        }
        ExecView {
            participants: plan.participants().to_vec(),
            phases: plan.phases().iter().map(|p| p.kind).collect(),
            cells,
            current: None,
            paused_before: None,
            pause_requested: false,
            preflight: None,
            journal: VecDeque::new(),
            journal_view: Scroll::following(),
            journal_full: false,
            failure: None,
            report: None,
            verify: BTreeMap::new(),
            finished: false,
        }
    }

    pub fn running(&self) -> bool {
        !self.finished
    }

    pub fn apply(&mut self, p: Progress) {
        match p {
            Progress::Preflight { problems } => self.preflight = Some(problems),
            Progress::PhaseStarted { phase, participants } => {
                self.current = Some(phase);
                self.paused_before = None;
                for name in participants {
                    let cell = self.cells.entry((phase, name)).or_default();
                    cell.state = CellState::Running;
                }
            }
            Progress::Advance {
                phase,
                participant,
                done,
                total,
            } => {
                let cell = self.cells.entry((phase, participant)).or_default();
                cell.done = done;
                cell.total = total;
                cell.state = CellState::Running;
            }
            Progress::StepFailed {
                phase,
                participant,
                error,
                code,
            } => {
                self.cells.entry((phase, participant.clone())).or_default().state = CellState::Failed;
                self.failure = Some(Failure {
                    phase,
                    participant,
                    error,
                    code,
                });
            }
            Progress::PhaseDone { phase } => {
                for ((p, _), cell) in self.cells.iter_mut() {
                    if *p == phase && cell.state != CellState::Failed {
                        cell.state = CellState::Done;
                        cell.done = cell.total;
                    }
                }
            }
            Progress::PhaseSkipped { phase } => {
                for ((p, _), cell) in self.cells.iter_mut() {
                    if *p == phase {
                        cell.state = CellState::Skipped;
                    }
                }
            }
            Progress::Paused { before } => self.paused_before = Some(before),
            Progress::Journal(event) => {
                if let Some(EventData::Verified(report)) = &event.body {
                    self.verify.insert(report.participant.clone(), report.clone());
                }
                self.journal.push_back(*event);
                while self.journal.len() > JOURNAL_LINES {
                    self.journal.pop_front();
                }
            }
            Progress::WouldSend { .. } => {}
            Progress::Finished(report) => {
                self.report = Some(report);
                self.finished = true;
            }
        }
    }

    pub fn cell(&self, phase: PhaseKind, participant: &str) -> Option<&Cell> {
        self.cells.get(&(phase, participant.to_string()))
    }

    /// Verified: the run ended well and every participant's verification passed.
    pub fn verified(&self) -> bool {
        self.report.as_ref().is_some_and(|r| r.ok) && !self.verify.is_empty() && self.verify.values().all(|v| v.ok)
    }
}
