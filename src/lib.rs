//! recovery-deck: recover Canton participants from a permanently lost synchronizer.

pub mod plan;
pub mod reconcile;
pub mod wire;
