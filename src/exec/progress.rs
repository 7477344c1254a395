//! What the executor reports while it runs, for the CLI and the TUI.

use crate::failure::Failure;
use crate::journal::Event;
use crate::plan::{DriftRow, PhaseKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// Sent to the executor between phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Run,
    /// Run the next phase, then wait for the next word.
    Step,
    /// Finish the current phase, then wait.
    Pause,
    /// Finish the current phase, then stop (resumable by running again).
    Abort,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub participant: String,
    pub action: &'static str,
    /// Contracts the step applied to in this run.
    pub applied: usize,
    /// Contracts found already done (resume) and not sent again.
    pub skipped: usize,
}

#[derive(Debug, Clone)]
pub enum Progress {
    Preflight {
        problems: Vec<String>,
        /// What preflight warns about without stopping the run.
        warnings: Vec<String>,
    },
    PhaseStarted {
        phase: PhaseKind,
        participants: Vec<String>,
    },
    /// `done` of `total` contracts (or steps, for steps without contracts).
    Advance {
        phase: PhaseKind,
        participant: String,
        done: usize,
        total: usize,
    },
    StepFailed {
        phase: PhaseKind,
        participant: String,
        failure: Failure,
    },
    PhaseDone {
        phase: PhaseKind,
    },
    PhaseSkipped {
        phase: PhaseKind,
        /// Why ([`super::DoneBy::reason`], or not asked for by `--phases`).
        reason: String,
    },
    Paused {
        before: PhaseKind,
    },
    Journal(Box<Event>),
    /// A dry run's description of one call it would send.
    WouldSend {
        participant: String,
        rpc: String,
        detail: String,
    },
    Finished(RunReport),
}

/// The final outcome (DESIGN §4: the last line of `run`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    pub ok: bool,
    pub moved: BTreeMap<String, usize>,
    pub added: BTreeMap<String, usize>,
    pub skipped: BTreeMap<String, usize>,
    pub journal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// Rows that changed since the plan was made, when preflight refused for that.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<DriftEntry>,
}

/// One row that changed on one participant since the plan was made.
#[derive(Debug, Clone, Serialize)]
pub struct DriftEntry {
    pub participant: String,
    #[serde(flatten)]
    pub row: DriftRow,
}
