//! The executor: runs a plan across participants with a barrier between phases, one
//! task per participant inside a phase, bounded retries only where the error says a retry
//! can succeed (`retry`), and a journal entry before and after every call that changes state. It stops at the first
//! hard failure and can always be finished by running the same runbook again: phases the
//! journal records as done are skipped, and within a phase the participants' actual
//! state decides what is left (contracts already on the target are not sent again).

mod preflight;
mod progress;
mod record;
mod retry;
mod runner;
mod steps;
mod verify;

pub use preflight::{PreflightProblem, preflight};
pub use progress::{Control, DriftEntry, Progress, RunReport, StepReport};
pub use retry::Backoff;
pub use runner::{Approval, GateError, PhaseGate, PhaseOutcome, RunError, RunOptions, Runner};
pub use verify::{VerifyReport, verify};

use crate::client::ParticipantApi;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The participants of a plan, by name.
pub type Participants = BTreeMap<String, Arc<dyn ParticipantApi>>;
