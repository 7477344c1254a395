//! Recovery plans: built purely from a comparison and a selection, hashed canonically,
//! and written to / read from TOML runbooks. No I/O here: callers open the files and hand
//! over streams.

mod build;
mod drift;
mod hash;
mod model;
mod runbook;
mod summary;

pub use build::{DEFAULT_BATCH_SIZE, PlanError, PlanInput, build_plan};
pub use drift::{Drift, DriftKind, DriftRow, Held, PayloadTag};
pub use hash::{snapshot_digest, snapshot_digest_sorted, text_digest};
pub use model::{Action, ConnectionValidation, ExpectedSnapshot, InFlight, Phase, PhaseKind, Plan, Step};
pub use runbook::{
    INLINE_MAX, LoadedRunbook, RUNBOOK_FORMAT, RUNBOOK_VERSION, RUNBOOK_VERSIONS_READ, RunbookError, RunbookMeta,
    RunbookWriter, SIDECAR_THRESHOLD, Sidecar, from_runbook, load_runbook, load_runbook_from, runbook_sidecar,
    to_runbook,
};
pub use summary::{PhaseCell, PhaseSummary, PlanSummary};

#[cfg(test)]
mod build_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod testkit;
