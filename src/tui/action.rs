//! The actions a key can be bound to.
//!
//! This is the vocabulary of the keymap file (`"j" = "down"`) and of the help overlay, so
//! the names are a user-facing contract: variants are snake_case in TOML and renaming one
//! breaks operators' key files. What an action *does* depends on the focused pane or popup;
//! the descriptions below say it for the pane where the action is bound by default.

use serde::{Deserialize, Serialize};
use std::fmt;

enum_with_all! {
    /// A bindable action. The declaration order is the order of the help overlay.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Action {
        FocusNext,
        FocusPrev,
        Up,
        Down,
        PageUp,
        PageDown,
        Top,
        Bottom,
        ScrollLeft,
        ScrollRight,
        Filter,
        CycleClass,
        Clear,
        Submit,
        OpenDiff,
        NextPair,
        ToggleRow,
        StrategyIntersection,
        StrategyUnion,
        StrategyManual,
        DecidePurge,
        DecideExclude,
        DecideAdopt,
        PlanPreview,
        Execute,
        Pause,
        Propose,
        Go,
        PauseRun,
        Abort,
        Approve,
        RequestPayload,
        AnswerPayload,
        Refresh,
        CompareTarget,
        Help,
        Command,
        Journal,
        Quit,
    }
}

impl Action {
    /// The name used in key files, help text and `:` commands (same as the serde name).
    pub const fn name(self) -> &'static str {
        match self {
            Action::FocusNext => "focus_next",
            Action::FocusPrev => "focus_prev",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::ScrollLeft => "scroll_left",
            Action::ScrollRight => "scroll_right",
            Action::Filter => "filter",
            Action::CycleClass => "cycle_class",
            Action::Clear => "clear",
            Action::Submit => "submit",
            Action::OpenDiff => "open_diff",
            Action::NextPair => "next_pair",
            Action::ToggleRow => "toggle_row",
            Action::StrategyIntersection => "strategy_intersection",
            Action::StrategyUnion => "strategy_union",
            Action::StrategyManual => "strategy_manual",
            Action::DecidePurge => "decide_purge",
            Action::DecideExclude => "decide_exclude",
            Action::DecideAdopt => "decide_adopt",
            Action::PlanPreview => "plan_preview",
            Action::Execute => "execute",
            Action::Pause => "pause",
            Action::Propose => "propose",
            Action::Go => "go",
            Action::PauseRun => "pause_run",
            Action::Abort => "abort",
            Action::Approve => "approve",
            Action::RequestPayload => "request_payload",
            Action::AnswerPayload => "answer_payload",
            Action::Refresh => "refresh",
            Action::CompareTarget => "compare_target",
            Action::Help => "help",
            Action::Command => "command",
            Action::Journal => "journal",
            Action::Quit => "quit",
        }
    }

    /// Looks an action up by its [`name`](Action::name).
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// One line for the help overlay.
    pub const fn description(self) -> &'static str {
        match self {
            Action::FocusNext => "focus the next pane or button",
            Action::FocusPrev => "focus the previous pane or button",
            Action::Up => "move up one row",
            Action::Down => "move down one row",
            Action::PageUp => "move up one page",
            Action::PageDown => "move down one page",
            Action::Top => "go to the first row",
            Action::Bottom => "go to the last row",
            Action::ScrollLeft => "scroll left",
            Action::ScrollRight => "scroll right",
            Action::Filter => "filter rows by contract id, template or party",
            Action::CycleClass => "cycle the class filter: all rows, then each class in turn",
            Action::Clear => "close the popup or prompt, or clear the filter",
            Action::Submit => "accept what was typed, or the focused button",
            Action::OpenDiff => "show the row's per-participant diff",
            Action::NextPair => "compare the next pair of participants",
            Action::ToggleRow => "include or exclude the row (manual selection)",
            Action::StrategyIntersection => "strategy intersection: move the agreed and local-only contracts",
            Action::StrategyUnion => "strategy union: also import missing contracts where they are unknown",
            Action::StrategyManual => "strategy manual: move only the rows included by hand",
            Action::DecidePurge => "decide: include the row by purging it where it is still active",
            Action::DecideExclude => "decide: leave the row on the lost synchronizer",
            Action::DecideAdopt => {
                "why one participant's version cannot replace the others (Canton never replaces a stored contract)"
            }
            Action::PlanPreview => "preview the plan for the chosen strategy",
            Action::Execute => "execute the plan (asks for a typed confirmation)",
            Action::Pause => "pause or resume execution between phases",
            Action::Propose => "propose the previewed plan to the session (voids every approval)",
            Action::Go => "start, or after a pause continue, the session's run (asks for a typed confirmation)",
            Action::PauseRun => "pause the session's run at the next barrier (go continues it)",
            Action::Abort => "abort the session's run (asks first; what is done stays done)",
            Action::Approve => {
                "approve the session's plan for your participant, after re-surveying it (asks for a typed confirmation)"
            }
            Action::RequestPayload => "ask the row's other holders to share its payload for a diff",
            Action::AnswerPayload => "answer the oldest payload request addressed to your participant",
            Action::Refresh => "search the participants again",
            Action::CompareTarget => {
                "compare what the participants hold on the target synchronizer; again to return to the lost one"
            }
            Action::Help => "show or hide this help",
            Action::Command => "enter a : command",
            Action::Journal => "show or hide the journal pane",
            Action::Quit => "quit (asks first while steps are running)",
        }
    }

    /// A word or two for the status-bar hints.
    pub const fn label(self) -> &'static str {
        match self {
            Action::FocusNext => "next pane",
            Action::FocusPrev => "prev pane",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::ScrollLeft => "left",
            Action::ScrollRight => "right",
            Action::Filter => "filter",
            Action::CycleClass => "class",
            Action::Clear => "back",
            Action::Submit => "ok",
            Action::OpenDiff => "diff",
            Action::NextPair => "next pair",
            Action::ToggleRow => "toggle",
            Action::StrategyIntersection => "intersection",
            Action::StrategyUnion => "union",
            Action::StrategyManual => "manual",
            Action::DecidePurge => "purge",
            Action::DecideExclude => "exclude",
            Action::DecideAdopt => "why no adopt",
            Action::PlanPreview => "plan",
            Action::Execute => "execute",
            Action::Pause => "pause",
            Action::Propose => "propose",
            Action::Go => "go",
            Action::PauseRun => "pause run",
            Action::Abort => "abort",
            Action::Approve => "approve",
            Action::RequestPayload => "ask payload",
            Action::AnswerPayload => "answer",
            Action::Refresh => "refresh",
            Action::CompareTarget => "target",
            Action::Help => "help",
            Action::Command => "command",
            Action::Journal => "journal",
            Action::Quit => "quit",
        }
    }

    /// Whether the action changes what will happen to contracts. Read-only mode leaves these
    /// unbound. `plan_preview` only computes and `pause`/`pause_run` only delay, so none counts;
    /// `submit` is only reachable through a prompt or confirmation opened by another action.
    pub const fn destructive(self) -> bool {
        matches!(
            self,
            Action::ToggleRow
                | Action::StrategyIntersection
                | Action::StrategyUnion
                | Action::StrategyManual
                | Action::DecidePurge
                | Action::DecideExclude
                | Action::DecideAdopt
                | Action::Execute
                | Action::Propose
                | Action::Go
                | Action::Abort
                | Action::Approve
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn all_is_sorted_and_unique() {
        // Complete by construction: `enum_with_all!` writes ALL from the declaration.
        let set: BTreeSet<Action> = Action::ALL.into_iter().collect();
        assert_eq!(set.len(), Action::ALL.len());
        assert!(
            Action::ALL.windows(2).all(|w| w[0] < w[1]),
            "ALL is in declaration order"
        );
    }

    #[test]
    fn name_matches_serde_and_round_trips() {
        for action in Action::ALL {
            let json = serde_json::to_value(action).unwrap();
            assert_eq!(json, serde_json::Value::String(action.name().to_string()));
            assert_eq!(Action::from_name(action.name()), Some(action));
            let back: Action = serde_json::from_value(json).unwrap();
            assert_eq!(back, action);
        }
        assert_eq!(Action::from_name("nope"), None);
    }

    #[test]
    fn destructive_set_is_exactly_the_contract_changing_actions() {
        let destructive: Vec<&str> = Action::ALL
            .into_iter()
            .filter(|a| a.destructive())
            .map(Action::name)
            .collect();
        assert_eq!(
            destructive,
            [
                "toggle_row",
                "strategy_intersection",
                "strategy_union",
                "strategy_manual",
                "decide_purge",
                "decide_exclude",
                "decide_adopt",
                "execute",
                "propose",
                "go",
                "abort",
                "approve"
            ]
        );
    }

    #[test]
    fn display_honours_width_for_help_columns() {
        assert_eq!(format!("{:<6}|", Action::Up), "up    |");
    }

    #[test]
    fn every_action_has_a_description_and_label() {
        for action in Action::ALL {
            assert!(!action.description().is_empty(), "{action}");
            assert!(!action.label().is_empty(), "{action}");
            assert!(!action.description().contains('\n'), "{action}");
        }
    }
}
