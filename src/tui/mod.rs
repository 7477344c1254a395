//! The recovery screen: one owner of the state (`app`), effects carried out by `core`,
//! a terminal runtime around it, and pure rendering in `ui`.

pub mod action;
pub mod app;
pub mod choice;
pub mod core;
pub mod exec_view;
pub mod keymap;
pub mod launch;
pub mod msg;
pub mod runtime;
pub mod table;
pub mod term;
pub mod theme;
pub mod ui;
