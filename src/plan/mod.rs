//! Recovery plans: built purely from a comparison and a selection, hashed canonically,
//! and written to / read from TOML runbooks. No I/O here; callers read and write the files.

mod build;
mod hash;
mod model;
mod runbook;
mod summary;

pub use build::{DEFAULT_BATCH_SIZE, PlanError, PlanInput, build_plan};
pub use hash::{snapshot_digest, snapshot_digest_sorted, text_digest};
pub use model::{Action, ConnectionValidation, Drift, ExpectedSnapshot, InFlight, Phase, PhaseKind, Plan, Step};
pub use runbook::{
    INLINE_MAX, LoadedRunbook, RUNBOOK_FORMAT, RUNBOOK_VERSION, RunbookError, RunbookMeta, SIDECAR_THRESHOLD, Sidecar,
    from_runbook, load_runbook, runbook_sidecar, to_runbook,
};
pub use summary::{PhaseCell, PhaseSummary, PlanSummary};

#[cfg(test)]
mod build_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod testkit;
