//! The default bindings and status-bar hints. The placement rules are in the
//! [`keymap`](super) module docs; the snapshot test of the help listing pins this table.

use super::Layer;
use crate::tui::action::Action;

use Action::*;
use Layer::{
    Confirm, Diff, Execution, Finished, Global, Help as HelpLayer, JournalPane, Participants, Plan, Prompt, Table,
};

/// `(layer, key, action)`; within a layer the order is the order of keys in help text.
pub const BINDINGS: &[(Layer, &str, Action)] = &[
    (Confirm, "enter", Submit),
    (Confirm, "esc", Clear),
    (Confirm, "tab", FocusNext),
    (Confirm, "right", FocusNext),
    (Confirm, "shift-tab", FocusPrev),
    (Confirm, "left", FocusPrev),
    (Prompt, "enter", Submit),
    (Prompt, "esc", Clear),
    (Prompt, "ctrl-c", Clear),
    (HelpLayer, "esc", Clear),
    (HelpLayer, "q", Clear),
    (HelpLayer, "?", Help),
    (Diff, "tab", NextPair),
    (Diff, "esc", Clear),
    (Diff, "q", Clear),
    (Plan, "i", StrategyIntersection),
    (Plan, "u", StrategyUnion),
    (Plan, "m", StrategyManual),
    (Plan, "p", PlanPreview),
    (Plan, "x", Execute),
    (Execution, "space", Pause),
    (Finished, "t", CompareTarget),
    (Table, "/", Filter),
    (Table, "c", CycleClass),
    (Table, "enter", OpenDiff),
    (Table, "space", ToggleRow),
    (Table, "i", StrategyIntersection),
    (Table, "u", StrategyUnion),
    (Table, "m", StrategyManual),
    (Table, "P", DecidePurge),
    (Table, "E", DecideExclude),
    (Table, "A", DecideAdopt),
    (Table, "p", PlanPreview),
    (Table, "r", Refresh),
    (Table, "t", CompareTarget),
    (Participants, "r", Refresh),
    (Global, "tab", FocusNext),
    (Global, "shift-tab", FocusPrev),
    (Global, "k", Up),
    (Global, "up", Up),
    (Global, "j", Down),
    (Global, "down", Down),
    (Global, "pageup", PageUp),
    (Global, "ctrl-u", PageUp),
    (Global, "pagedown", PageDown),
    (Global, "ctrl-d", PageDown),
    (Global, "g", Top),
    (Global, "home", Top),
    (Global, "G", Bottom),
    (Global, "end", Bottom),
    (Global, "h", ScrollLeft),
    (Global, "left", ScrollLeft),
    (Global, "l", ScrollRight),
    (Global, "right", ScrollRight),
    (Global, "esc", Clear),
    (Global, "?", Help),
    (Global, ":", Command),
    (Global, "J", Journal),
    (Global, "q", Quit),
    (Global, "ctrl-c", Quit),
];

/// The actions worth a status-bar hint when `layer` is the topmost active layer, most
/// useful first (at most seven, so the bar fits in 80 columns).
pub const fn hint_actions(layer: Layer) -> &'static [Action] {
    match layer {
        Confirm => &[Submit, Clear],
        Prompt => &[Submit, Clear],
        HelpLayer => &[Down, Up, Clear],
        Diff => &[NextPair, Down, Up, Clear],
        Plan => &[
            Execute,
            StrategyIntersection,
            StrategyUnion,
            StrategyManual,
            Clear,
            Help,
            Quit,
        ],
        Execution => &[Pause, Journal, Help, Quit],
        Finished => &[CompareTarget, Journal, Clear, Help, Quit],
        Table => &[OpenDiff, Filter, CycleClass, PlanPreview, Journal, Help, Quit],
        JournalPane => &[Down, Up, Bottom, FocusNext, Journal, Help, Quit],
        Participants => &[Down, Up, Refresh, FocusNext, Help, Quit],
        Global => &[FocusNext, Command, Journal, Help, Quit],
    }
}
