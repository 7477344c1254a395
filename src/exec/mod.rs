//! The executor: runs a plan across participants with a barrier between phases, one
//! task per participant inside a phase, bounded retries only where the error says a retry
//! can succeed (`retry`), and a journal entry before and after every call that changes state. It stops at the first
//! hard failure and can always be finished by running the same runbook again, with the
//! same journal, another one or none: the participants' state decides which phases are
//! done (`state`), and within a phase what is left (contracts already on the target are
//! not sent again).

mod held;
mod lock;
mod preflight;
mod progress;
mod record;
mod retry;
mod runner;
mod state;
mod steps;
mod verify;
mod vetting;

pub use lock::{Holder, LockError, lock_path};
pub use preflight::{Preflight, PreflightProblem, preflight};
pub use progress::{Control, DriftEntry, Progress, RunReport, StepReport};
pub use retry::Backoff;
pub use runner::{Approval, GateError, PhaseGate, PhaseOutcome, RunError, RunOptions, Runner};
pub use state::DoneBy;
pub use verify::{VerifyReport, verify};

use crate::client::ParticipantApi;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The participants of a plan, by name.
pub type Participants = BTreeMap<String, Arc<dyn ParticipantApi>>;
