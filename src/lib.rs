//! recovery-deck: recover Canton participants from a permanently lost synchronizer.

pub mod acs;
pub mod batch;
pub mod canton_error;
pub mod cli;
pub mod client;
pub mod cmd;
pub mod collab;
pub mod config;
pub mod console;
pub mod error_chain;
pub mod exec;
pub mod failure;
pub mod journal;
pub mod lab;
pub mod meter;
pub mod plan;
pub mod private_file;
pub mod reconcile;
pub mod replay;
pub mod runbook_file;
pub mod survey;
pub mod tui;
pub mod value;
pub mod wire;

#[cfg(test)]
mod layering_tests;
