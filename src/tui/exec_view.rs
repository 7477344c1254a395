//! The execution screen's state, fed by the executor's progress events.

use super::scroll::Scroll;
use crate::canton_error::{Code, codes};
use crate::exec::{Progress, RunReport};
use crate::failure::{Failure, FailureKind};
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

/// The step that stopped the run.
#[derive(Debug, Clone)]
pub struct StepFailure {
    pub phase: PhaseKind,
    pub participant: String,
    pub failure: Failure,
}

impl StepFailure {
    /// What the operator can do next, chosen by the failure's kind and Canton's code.
    pub fn advice(&self) -> &'static str {
        advice(&self.failure)
    }
}

/// What to do about a failure: by Canton's code where the participant sent one (with the
/// call that failed where one code covers several causes), else by the kind of failure.
/// Codes are matched as [`codes`] constants, so a misspelt code does not compile. Every
/// branch ends with how to go on, since a rerun resumes.
pub fn advice(f: &Failure) -> &'static str {
    use crate::canton_error::Category;
    match &f.kind {
        FailureKind::Canton { code, .. } => canton_advice(Code::by_id(code), f.rpc),
        FailureKind::Redacted { category, .. } => match category {
            Some(Category::AuthInterceptorInvalidAuthenticationCredentials) => {
                "The participant refused the token. Renew the token file or variable for this participant, then execute again."
            }
            Some(Category::InsufficientPermission) => {
                "The token's user lacks a right this call needs (participant admin, and read-as-any-party for the survey). Grant it, then execute again."
            }
            _ => {
                "The participant hid the details of the error. Ask its operator to look up the request id in the participant's log, then execute again."
            }
        },
        // Canton 3.4 answers a malformed ImportAcs context with a bare UNKNOWN
        // (GrpcParticipantRepairService.importAcs, release-line-3.4: onError of an
        // IllegalArgumentException); recovery-deck sends the full context on every message.
        FailureKind::Grpc {
            code: tonic::Code::Unknown,
        } if f.rpc == Some("ImportAcs") => {
            "The participant refused the import without saying why (Canton 3.4 does so for a malformed import context). Its log names the cause; fix it, then execute again: nothing of the import was applied."
        }
        FailureKind::Unreachable => {
            "The participant is unreachable. Bring it back (its state is safe), then execute again to resume."
        }
        FailureKind::Unsupported => {
            "The participant runs a Canton release recovery-deck does not serve (it needs 3.4 or newer). Use export-console for older releases."
        }
        FailureKind::Check => {
            "A check of this step failed. Read what it found, fix it, then execute again: what was done is not redone."
        }
        _ => "Nothing after this step ran. Fix the cause, then execute again to resume from where it stopped.",
    }
}

const UNKNOWN_ALIAS: &str = "The participant does not know a synchronizer of the plan by that alias. Check the incident's aliases against the participant's registered synchronizers, register it if needed, then execute again.";

fn canton_advice(code: Option<Code>, rpc: Option<&str>) -> &'static str {
    match (code, rpc) {
        (Some(codes::CONTRACT_ASSIGNATION_CHANGE_ERROR | codes::CONTRACT_PURGE_ERROR | codes::IMPORT_ACS_ERROR), _) => {
            "The participant refused a repair. Read the cause, fix the participant's state (or re-plan), then execute the same plan again: finished steps are skipped."
        }
        // ChangeAssignation's only argument check a plan's call can fail is the alias
        // lookup ("Unable to find synchronizer id for alias …", GrpcParticipantRepairService
        // .changeAssignation, release-line-3.5): its ids come from the participant's own ACS.
        (Some(codes::INVALID_ARGUMENT_REPAIR), Some("ChangeAssignation")) => UNKNOWN_ALIAS,
        // ExportAcs checks the ledger offset (positive, at most the ledger end) and the
        // synchronizer filter (a synchronizer the participant knows):
        // GrpcParticipantRepairService.validateExportAcsRequest, release-line-3.5.
        (Some(codes::INVALID_ARGUMENT_REPAIR), Some("ExportAcs")) => {
            "The participant refused the export's ledger offset or synchronizer filter: its ledger end moved, or it does not know the lost synchronizer's id. Check the participant with `status`, then execute again."
        }
        (Some(codes::INVALID_ARGUMENT_REPAIR), _) => {
            "The participant refused the call's arguments (the cause names which). Make sure the plan was made against these participants (re-plan if in doubt), then execute again."
        }
        (Some(codes::SYNC_SERVICE_UNKNOWN_SYNCHRONIZER | codes::SYNC_SERVICE_ALIAS_RESOLUTION), _) => UNKNOWN_ALIAS,
        (Some(codes::SYNCHRONIZER_IS_NOT_AVAILABLE | codes::SYNC_SERVICE_BAD_CONNECTIVITY), _) => {
            "The participant cannot reach the synchronizer's sequencers. Check the sequencer endpoints from the participant's host, then execute again."
        }
        (Some(codes::ACCESS_TOKEN_EXPIRED), _) => {
            "The token expired while the call was running. Renew the token file or variable for this participant, then execute again."
        }
        (Some(codes::SYNC_SERVICE_SYNCHRONIZERS_MUST_BE_OFFLINE), _) => {
            "A synchronizer is still connected. Execute again: the run disconnects before repairing."
        }
        _ => "Canton refused the call. Read its code and cause, fix what it names, then execute again to resume.",
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
    /// What preflight warned about without stopping the run.
    pub warnings: Vec<String>,
    pub journal: VecDeque<Event>,
    /// The journal pane follows the newest event until scrolled away from it.
    pub journal_view: Scroll,
    /// The journal takes the whole screen (the grid and outcome are hidden).
    pub journal_full: bool,
    pub failure: Option<StepFailure>,
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
            warnings: Vec::new(),
            journal: VecDeque::new(),
            journal_view: Scroll::following(),
            journal_full: false,
            failure: None,
            report: None,
            verify: BTreeMap::new(),
            finished: false,
        }
    }

    /// The view of one participant's part (a session deck runs only its own).
    pub fn only(mut self, participant: &str) -> ExecView {
        self.participants.retain(|p| p == participant);
        self.cells.retain(|(_, p), _| p == participant);
        self
    }

    pub fn running(&self) -> bool {
        !self.finished
    }

    pub fn apply(&mut self, p: Progress) {
        match p {
            Progress::Preflight { problems, warnings } => {
                self.preflight = Some(problems);
                self.warnings = warnings;
            }
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
                failure,
            } => {
                self.cells.entry((phase, participant.clone())).or_default().state = CellState::Failed;
                self.failure = Some(StepFailure {
                    phase,
                    participant,
                    failure,
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
            Progress::PhaseSkipped { phase, .. } => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canton_error::{codes, status};
    use crate::client::ClientError;

    fn from_status(s: tonic::Status) -> Failure {
        Failure::from(&ClientError::from_status("participant1", "ChangeAssignation", s))
    }

    #[test]
    fn advice_follows_the_code_and_the_kind_not_the_wording() {
        // Canton's answer to an alias a repair cannot resolve.
        let alias = from_status(status(
            codes::INVALID_ARGUMENT_REPAIR,
            "Unable to find synchronizer id for alias newDomian",
        ));
        assert!(advice(&alias).contains("alias"), "{}", advice(&alias));
        let unknown = from_status(status(codes::SYNC_SERVICE_UNKNOWN_SYNCHRONIZER, "whatever"));
        assert_eq!(advice(&unknown), advice(&alias));
        let refused = from_status(status(codes::CONTRACT_ASSIGNATION_CHANGE_ERROR, "anything at all"));
        assert!(advice(&refused).contains("refused a repair"));
        let token = from_status(status(codes::UNAUTHENTICATED, "hidden"));
        assert!(advice(&token).contains("token"), "{}", advice(&token));
        let expired = from_status(status(codes::ACCESS_TOKEN_EXPIRED, "Claims were valid until …"));
        assert!(advice(&expired).contains("Renew the token"), "{}", advice(&expired));
        // The wording of a transport error does not matter, its gRPC code does.
        let down = from_status(tonic::Status::unavailable("connection reset by peer"));
        assert!(advice(&down).contains("unreachable"));
        let odd = from_status(tonic::Status::unavailable("tcp connect error but worded oddly"));
        assert_eq!(advice(&odd), advice(&down));
    }

    #[test]
    fn one_code_for_several_causes_is_told_apart_by_the_call() {
        let of = |rpc: &'static str, cause: &str| {
            Failure::from(&ClientError::from_status(
                "participant1",
                rpc,
                status(codes::INVALID_ARGUMENT_REPAIR, cause),
            ))
        };
        let alias = of(
            "ChangeAssignation",
            "Unable to find synchronizer id for alias newDomian",
        );
        // The same code from ExportAcs is an offset (or filter), never an alias.
        let offset = of(
            "ExportAcs",
            "Ledger offset 9 needs to be smaller or equal to the ledger end 8",
        );
        let ids = of("PurgeContracts", "Missing contract ids to purge");
        assert!(advice(&alias).contains("alias"));
        assert!(advice(&offset).contains("ledger offset"), "{}", advice(&offset));
        assert!(!advice(&offset).contains("alias"));
        assert!(!advice(&ids).contains("alias"), "{}", advice(&ids));
        assert_ne!(advice(&offset), advice(&ids));
        // Without the call, the cause's wording is not read: the advice stays generic.
        let bare = Failure::new(alias.kind.clone(), Some("participant1"), alias.message.clone());
        assert_eq!(advice(&bare), advice(&ids));
        // A 3.4 import refused with a bare UNKNOWN says so.
        let unknown = Failure::from(&ClientError::from_status(
            "participant1",
            "ImportAcs",
            tonic::Status::unknown(""),
        ));
        assert!(advice(&unknown).contains("3.4"), "{}", advice(&unknown));
    }

    #[test]
    fn every_advised_code_is_one_canton_defines() {
        // Code::by_id is what the advice matches on: an id not in `codes` gets the generic
        // advice, so a code the lab emits must be found there.
        for code in codes::ALL {
            assert_eq!(Code::by_id(code.id), Some(*code));
        }
        assert_eq!(Code::by_id("CONTRACT_ASSIGNATION_CHANGE_ERRR"), None);
    }
}
