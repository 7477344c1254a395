//! What a run is asked and what it answers: its options (dry run, the approval, the
//! participants this process executes), its errors, and the gate between phases of a run
//! shared with other processes.

use super::*;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub dry_run: bool,
    pub operator: String,
    pub journal: PathBuf,
    /// Participant name -> admin endpoint, recorded in the journal header.
    pub endpoints: BTreeMap<String, String>,
    /// Attempts per call when the error says a retry can succeed (see `exec::retry`).
    pub max_attempts: u32,
    pub retry_delay: Duration,
    pub import_mode: ImportMode,
    /// Execute only this participant's steps (a multi-operator session, where each
    /// participant's own operator runs its part and the others' steps are theirs).
    /// Preflight then checks only this participant, and only it must have a client in the
    /// participants map; the others' entries, if any, are used for reads only (the source
    /// of an import, the party to ping). `None`: every participant of the plan.
    pub only: Option<String>,
    /// The runbook the plan was read from, named in the run's lock so that a refused
    /// second run can say what is being run.
    pub runbook_path: Option<PathBuf>,
    /// Run although a participant still has a working connection to the lost
    /// synchronizer, or new transactions in flight there: both refused otherwise, since
    /// recovering from a synchronizer that is not lost can fork the ledger.
    pub force: bool,
    /// Run only these phases (`run --phases`); `None`: all. The phases before the first
    /// of them are taken as done outside this run — by an earlier run, or by hand with the
    /// console scripts — so preflight accepts the changes they make, as on a resumed run;
    /// the phases not named are skipped, not recorded as done.
    pub phases: Option<BTreeSet<PhaseKind>>,
    /// The runbook file the run executes, pinned beside the journal (recorded with the
    /// run's start, so the journal holds the plan it ran).
    pub runbook: Option<PinnedRunbook>,
    /// How the operator confirmed the plan, recorded before the run starts (the screen
    /// records its own confirmation and leaves this `None`).
    pub approval: Option<Approval>,
}

/// How a run was confirmed on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    /// The operator typed this (the target's alias).
    Typed(String),
    /// `--yes`: no one was asked.
    Unattended,
}

impl RunOptions {
    /// Whether this run executes `phase`.
    pub fn runs(&self, phase: PhaseKind) -> bool {
        self.phases.as_ref().is_none_or(|p| p.contains(&phase))
    }

    /// The phases before the first one this run executes ([`RunOptions::phases`]).
    pub(super) fn done_elsewhere(&self) -> BTreeSet<PhaseKind> {
        PhaseKind::ALL.into_iter().take_while(|p| !self.runs(*p)).collect()
    }

    pub fn new(journal: PathBuf, operator: &str) -> RunOptions {
        RunOptions {
            dry_run: false,
            operator: operator.to_string(),
            journal,
            endpoints: BTreeMap::new(),
            max_attempts: 4,
            retry_delay: Duration::from_millis(250),
            import_mode: ImportMode::Validation,
            only: None,
            runbook_path: None,
            force: false,
            phases: None,
            runbook: None,
            approval: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("the plan names participant {0}, which the incident config does not list")]
    MissingParticipant(String),
    #[error("journal {path} belongs to {found}, not to {expected}; pass another --journal")]
    ForeignJournal {
        path: String,
        found: String,
        expected: String,
    },
    #[error("preflight refused to start:\n{}", list(.0))]
    Preflight(Vec<PreflightProblem>),
    #[error(
        "phase {phase} failed on {participant}: {failure}. Nothing later ran; fix the cause and run the same runbook again to resume"
    )]
    Step {
        phase: PhaseKind,
        participant: String,
        failure: Failure,
    },
    #[error("stopped by the operator before phase {0}; run the same runbook again to resume")]
    Aborted(PhaseKind),
    #[error("participant {0} is not part of this plan")]
    NotInPlan(String),
    #[error("the session stopped the run at phase {phase}: {error}")]
    Gate {
        phase: PhaseKind,
        #[source]
        error: GateError,
    },
    #[error(transparent)]
    Locked(#[from] LockError),
}

/// Why a [`PhaseGate`] stopped the run.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The session moved on (another plan, an abort): this run's part is over.
    #[error("{0}")]
    MovedOn(String),
    /// The gate could not do its part (reach the coordinator, relay a snapshot).
    #[error(transparent)]
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

impl GateError {
    pub fn failed(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> GateError {
        GateError::Failed(error.into())
    }
}

impl RunError {
    /// What went wrong, as the front ends read it.
    pub fn failure(&self) -> Failure {
        let message = self.to_string();
        let (kind, participant) = match self {
            RunError::Step { failure, .. } => {
                return Failure {
                    message,
                    ..failure.clone()
                };
            }
            RunError::Journal(_) => (FailureKind::Journal, None),
            RunError::MissingParticipant(p) | RunError::NotInPlan(p) => (FailureKind::Setup, Some(p.as_str())),
            RunError::ForeignJournal { .. } | RunError::Locked(_) => (FailureKind::Setup, None),
            RunError::Preflight(_) => (FailureKind::Preflight, None),
            RunError::Aborted(_) | RunError::Gate { .. } => (FailureKind::Stopped, None),
        };
        Failure::new(kind, participant, message)
    }
}

/// What a [`PhaseGate`] hears when this process is through with a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhaseOutcome {
    /// An earlier run did the phase (the participants' state, or for what leaves no trace
    /// the journal, shows it); nothing was sent now.
    pub already_done: bool,
    /// Contracts the phase's steps applied to in this run.
    pub applied: usize,
    /// Contracts found already done and not sent again.
    pub skipped: usize,
}

/// The barrier between phases of a run that executes one participant's part of a plan
/// ([`RunOptions::only`]) while other processes execute the others' parts: a
/// multi-operator session (`crate::collab`), where the gate waits for the session's
/// coordinator to open each phase. The runner awaits [`PhaseGate::enter`] before it
/// starts a phase and [`PhaseGate::done`] after it finished one, or skipped it as done
/// by an earlier run. An error from either stops the run there, resumable like an
/// operator's abort ([`RunError::Gate`]). Failures are not reported through the gate: the
/// run's error says which phase failed.
#[async_trait::async_trait]
pub trait PhaseGate: Send + Sync {
    async fn enter(&self, phase: PhaseKind) -> Result<(), GateError>;
    async fn done(&self, phase: PhaseKind, outcome: PhaseOutcome) -> Result<(), GateError>;
}

pub(super) fn list(problems: &[PreflightProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}
