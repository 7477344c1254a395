//! The `:` commands, for what has no key of its own. [`COMMANDS`] is the one list: it
//! drives the parser, the prompt's hint, the help section and the unknown-command message.

use super::{App, Level, Popup};
use crate::tui::action::Action;
use crate::tui::msg::Effect;
use crate::tui::scroll::Scroll;
use crate::tui::table::{class_filter_names, parse_class_filter};

/// What a command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Does {
    /// The same as the action's key.
    Act(Action),
    /// Quit, even from under a popup.
    Quit,
    Help,
    Filter,
    Class,
    Goto,
    /// Joined as the lead: propose the previewed plan, or a runbook file.
    Propose,
    /// Write the plan on screen as a runbook.
    Save,
    /// Read a runbook and show its plan, checked against the participants.
    Load,
}

#[derive(Debug, Clone, Copy)]
pub struct Command {
    pub name: &'static str,
    /// A shorter spelling (`q`).
    pub alias: Option<&'static str>,
    /// What follows the name, as help shows it (`TEXT`), or empty.
    pub args: &'static str,
    pub does: Does,
}

impl Command {
    pub fn description(&self) -> &'static str {
        match self.does {
            Does::Act(action) => action.description(),
            Does::Quit => Action::Quit.description(),
            Does::Help => "show the help",
            Does::Filter => "filter rows by contract id, template or party prefix (nothing clears the filter)",
            Does::Class => "show only one class of rows",
            Does::Goto => "put the cursor on the first visible contract whose id starts with ID",
            Does::Propose => "in a session, as its lead: propose the previewed plan, or the runbook FILE",
            Does::Save => "write the previewed plan to FILE as a runbook (as `plan --out` does)",
            Does::Load => {
                "show the runbook FILE's plan, after checking it against what the participants hold now (drift)"
            }
        }
    }

    /// `:name ARGS`, as help and hints show it.
    pub fn usage(&self) -> String {
        if self.args.is_empty() {
            format!(":{}", self.name)
        } else {
            format!(":{} {}", self.name, self.args)
        }
    }

    /// Whether the command only means something on a screen joined to a session.
    pub fn session_only(&self) -> bool {
        matches!(self.does, Does::Propose | Does::Act(Action::AnswerPayload))
    }

    fn answers_to(&self, verb: &str) -> bool {
        self.name == verb || self.alias == Some(verb)
    }
}

const fn command(name: &'static str, args: &'static str, does: Does) -> Command {
    Command {
        name,
        alias: None,
        args,
        does,
    }
}

pub const COMMANDS: &[Command] = &[
    command("filter", "TEXT", Does::Filter),
    command("class", "NAME|all", Does::Class),
    command("goto", "ID", Does::Goto),
    command("intersection", "", Does::Act(Action::StrategyIntersection)),
    command("union", "", Does::Act(Action::StrategyUnion)),
    command("manual", "", Does::Act(Action::StrategyManual)),
    command("plan", "", Does::Act(Action::PlanPreview)),
    command("save", "FILE", Does::Save),
    command("load", "FILE", Does::Load),
    command("propose", "[FILE]", Does::Propose),
    command("answer", "", Does::Act(Action::AnswerPayload)),
    command("target", "", Does::Act(Action::CompareTarget)),
    command("refresh", "", Does::Act(Action::Refresh)),
    command("journal", "", Does::Act(Action::Journal)),
    command("help", "", Does::Help),
    Command {
        name: "quit",
        alias: Some("q"),
        args: "",
        does: Does::Quit,
    },
];

/// The command a verb names.
pub fn find(verb: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.answers_to(verb))
}

/// The commands whose name starts with what was typed of the verb, for the prompt's hint.
pub fn completions(verb: &str) -> impl Iterator<Item = &'static Command> + '_ {
    COMMANDS
        .iter()
        .filter(move |c| c.name.starts_with(verb) || c.alias == Some(verb))
}

impl App {
    /// Runs a `:` command line.
    pub(super) fn command(&mut self, text: &str) -> Vec<Effect> {
        let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
        let arg = arg.trim();
        if verb.is_empty() {
            return Vec::new();
        }
        let Some(cmd) = find(verb) else {
            let names: Vec<String> = COMMANDS.iter().map(|c| format!(":{}", c.name)).collect();
            self.flash(
                Level::Warn,
                format!("unknown command :{verb}; commands are {}", names.join(" ")),
            );
            return Vec::new();
        };
        match cmd.does {
            Does::Act(action) => self.view_action(action),
            Does::Quit => self.request_quit(),
            Does::Help => {
                self.popup = Some(Popup::Help(Scroll::default()));
                Vec::new()
            }
            Does::Filter => {
                self.table.text = arg.to_string();
                self.refilter();
                Vec::new()
            }
            Does::Class => {
                match parse_class_filter(if arg.is_empty() { "all" } else { arg }) {
                    Some(class) => {
                        self.table.class = class;
                        self.refilter();
                    }
                    None => self.flash(Level::Warn, format!("unknown class {arg}: {}", class_filter_names())),
                }
                Vec::new()
            }
            Does::Propose if arg.is_empty() => self.view_action(Action::Propose),
            Does::Propose => self.propose_file(arg),
            Does::Save | Does::Load if arg.is_empty() => {
                self.flash(Level::Warn, format!("{} needs a file name", cmd.usage()));
                Vec::new()
            }
            Does::Save => self.save_runbook(arg),
            Does::Load => self.load_runbook(arg),
            Does::Goto => {
                let found = self.data.as_ref().is_some_and(|d| self.table.goto(&d.comparison, arg));
                if found {
                    self.table.follow();
                } else {
                    self.flash(Level::Warn, format!("no visible contract starts with {arg}"));
                }
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for c in COMMANDS {
            assert!(seen.insert(c.name), "{}", c.name);
            if let Some(a) = c.alias {
                assert!(seen.insert(a), "{a}");
            }
            assert!(!c.description().is_empty());
        }
        assert_eq!(find("q").map(|c| c.name), Some("quit"));
        assert_eq!(
            completions("").count(),
            COMMANDS.len(),
            "an empty verb lists every command"
        );
    }
}
