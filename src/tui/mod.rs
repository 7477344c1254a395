pub mod action;
pub mod keymap;
