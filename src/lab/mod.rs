//! The lab: participant and synchronizer nodes of our own that serve Canton's wire API,
//! run as separate processes and reproduce recovery scenarios. Front ends never import
//! this module; they reach lab nodes over gRPC like any participant.

pub mod crash;
pub mod dialect;
pub mod ids;
pub mod node;
pub mod participant;
pub mod pruning_drill;
pub mod scenario;
pub mod store;
pub mod supervisor;
pub mod synchronizer;
pub mod templates;
pub mod workflow;
