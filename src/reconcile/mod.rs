//! Reconciliation of several participants' views of a lost synchronizer (DESIGN §5).
//!
//! Pure: snapshots and inspection answers in, an aligned [`Comparison`] and a [`Selection`]
//! out. No I/O and no async, so everything here is exhaustively testable.

mod align;
mod classify;
mod comparison;
pub mod diff;
mod json;
mod model;
mod select_error;
mod selection;
mod strategy;

#[cfg(test)]
pub(crate) mod testkit;

pub use align::{CompareError, compare, inspection_requests};
pub use comparison::{ClassCounts, Comparison, ParticipantState, Row, RowClass, RowFilter, UnknownRowClass};
pub use json::WithIncomplete;
pub use model::{
    ContractId, ContractSummary, Digest, IdPool, Inspection, InspectionResult, Interner, Name, ParticipantSnapshot,
    Stakeholders, is_valid_contract_id,
};
pub use select_error::{IdSource, SelectionError, SelectionProblem, UndecidedRow};
pub use selection::{
    Decision, ExcludedRow, ExclusionReason, NO_ADOPT, ParticipantWork, Selection, SelectionRequest, Strategy,
    StrategyName,
};
pub use strategy::{RowFate, decision_fits, row_fate, select};

#[cfg(test)]
mod strategy_tests;

#[cfg(test)]
pub(crate) mod proptests;
