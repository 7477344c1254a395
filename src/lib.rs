//! recovery-deck: recover Canton participants from a permanently lost synchronizer.

pub mod reconcile;
pub mod wire;
