//! recovery-deck: recover Canton participants from a permanently lost synchronizer.

pub mod acs;
pub mod wire;
