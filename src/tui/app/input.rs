//! Operator input: keys resolved through the keymap to actions, the text prompts (filter,
//! command, typed confirmation) and the `:` commands.

use super::{App, ConfirmView, Focus, Level, PlanState, Popup, Prompt, PromptKind, Screen};
use crate::exec::Control;
use crate::reconcile::{Decision, RowClass, StrategyName};
use crate::tui::action::Action;
use crate::tui::msg::Effect;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

impl App {
    pub(super) fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return self.request_quit();
        }
        if let Some(Popup::Confirm(_)) = &self.popup {
            return self.confirm_key(key);
        }
        if matches!(self.popup, Some(Popup::QuitWhileRunning)) {
            self.popup = None;
            if matches!(key.code, KeyCode::Char('q') | KeyCode::Char('y')) {
                self.quit = true;
                return vec![Effect::Control(Control::Abort), Effect::Quit];
            }
            return Vec::new();
        }
        if self.prompt.is_some() {
            return self.prompt_key(key);
        }
        match self.keymap.resolve(&self.layers(), key) {
            Some(action) => self.on_action(action),
            None => Vec::new(),
        }
    }

    fn request_quit(&mut self) -> Vec<Effect> {
        if self.running() {
            self.popup = Some(Popup::QuitWhileRunning);
            Vec::new()
        } else {
            self.quit = true;
            vec![Effect::Quit]
        }
    }

    fn prompt_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(prompt) = self.prompt.as_mut() else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => {
                let p = self.prompt.take();
                if let Some(p) = p
                    && p.kind == PromptKind::Filter
                {
                    self.table.text = p.before;
                    self.refilter();
                }
                Vec::new()
            }
            KeyCode::Enter => {
                let p = self.prompt.take();
                match p {
                    Some(p) if p.kind == PromptKind::Command => self.command(p.text.trim()),
                    _ => Vec::new(),
                }
            }
            KeyCode::Backspace => {
                prompt.text.pop();
                if prompt.kind == PromptKind::Filter {
                    self.table.text = prompt.text.clone();
                    self.refilter();
                }
                Vec::new()
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                prompt.text.push(c);
                if prompt.kind == PromptKind::Filter {
                    self.table.text = prompt.text.clone();
                    self.refilter();
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn confirm_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(Popup::Confirm(c)) = self.popup.as_mut() else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => {
                self.popup = None;
                self.flash(Level::Info, "cancelled; nothing was changed");
                Vec::new()
            }
            KeyCode::Backspace => {
                c.typed.pop();
                Vec::new()
            }
            KeyCode::Enter => {
                if c.typed.is_empty() {
                    // Cancel is the default: an empty Enter never runs anything.
                    self.popup = None;
                    self.flash(Level::Info, "cancelled; nothing was changed");
                    return Vec::new();
                }
                if c.typed != self.ctx.target {
                    let target = self.ctx.target.clone();
                    self.flash(
                        Level::Warn,
                        format!("type {target} exactly to confirm, or Esc to cancel"),
                    );
                    return Vec::new();
                }
                self.popup = None;
                self.execute()
            }
            KeyCode::Char(ch) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                c.typed.push(ch);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn scroll_by(&mut self, delta: isize) {
        match self.popup.as_mut() {
            Some(Popup::Diff(v)) => {
                v.scroll = v
                    .scroll
                    .saturating_add_signed(delta)
                    .min(v.lines.len().saturating_sub(1))
            }
            Some(Popup::Help) => self.scroll = self.scroll.saturating_add_signed(delta),
            _ => match self.screen {
                Screen::Main => {
                    self.table.move_by(delta);
                    self.table.follow(self.page);
                }
                Screen::Plan | Screen::Execution => self.scroll = self.scroll.saturating_add_signed(delta),
            },
        }
    }

    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        let page = self.page.max(1) as isize;
        match action {
            Action::Quit => {
                if self.popup.is_some() {
                    self.popup = None;
                    return Vec::new();
                }
                return self.request_quit();
            }
            Action::Up => self.scroll_by(-1),
            Action::Down => self.scroll_by(1),
            Action::PageUp => self.scroll_by(-page),
            Action::PageDown => self.scroll_by(page),
            Action::Top => match self.screen {
                Screen::Main if self.popup.is_none() => {
                    self.table.top();
                    self.table.follow(self.page);
                }
                _ => self.scroll = 0,
            },
            Action::Bottom => match self.screen {
                Screen::Main if self.popup.is_none() => {
                    self.table.bottom();
                    self.table.follow(self.page);
                }
                _ => self.scroll = usize::MAX / 2,
            },
            Action::ScrollLeft => self.table.first_column = self.table.first_column.saturating_sub(1),
            Action::ScrollRight => {
                let last = self.ctx.participants.len().saturating_sub(1);
                self.table.first_column = (self.table.first_column + 1).min(last);
            }
            Action::FocusNext | Action::FocusPrev => {
                self.focus = match self.focus {
                    Focus::Table => Focus::Participants,
                    Focus::Participants => Focus::Table,
                }
            }
            Action::Filter => {
                if self.screen == Screen::Main {
                    self.prompt = Some(Prompt {
                        kind: PromptKind::Filter,
                        text: self.table.text.clone(),
                        before: self.table.text.clone(),
                    });
                }
            }
            Action::Command => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::Command,
                    text: String::new(),
                    before: String::new(),
                })
            }
            Action::CycleClass => {
                if let Some(d) = &self.data {
                    self.table.cycle_class(&d.comparison);
                }
            }
            Action::Clear => {
                if self.popup.take().is_some() {
                    return Vec::new();
                }
                match self.screen {
                    Screen::Plan => self.screen = Screen::Main,
                    Screen::Execution if !self.running() => self.screen = Screen::Main,
                    Screen::Execution => {}
                    Screen::Main => {
                        self.table.text.clear();
                        self.table.class = None;
                        self.refilter();
                    }
                }
            }
            Action::OpenDiff => {
                if self.screen == Screen::Main {
                    if let Some(p) = self.open_diff() {
                        let id = self
                            .selected_row()
                            .map(|r| r.contract_id().to_string())
                            .unwrap_or_default();
                        self.popup = Some(p);
                        return vec![Effect::Record {
                            kind: "view.diff",
                            data: json!({"contract_id": id}),
                        }];
                    }
                    self.flash(Level::Warn, "no participant holds a payload for this row");
                }
            }
            Action::NextPair => {
                if let Some(Popup::Diff(mut v)) = self.popup.take() {
                    v.pair = (v.pair + 1) % v.pairs.len().max(1);
                    self.compute_diff(&mut v);
                    self.popup = Some(Popup::Diff(v));
                }
            }
            Action::ToggleRow => return self.toggle_row(),
            Action::StrategyIntersection => return self.set_strategy(StrategyName::Intersection),
            Action::StrategyUnion => return self.set_strategy(StrategyName::Union),
            Action::StrategyManual => return self.set_strategy(StrategyName::Manual),
            Action::DecidePurge => return self.decide(Decision::Purge),
            Action::DecideExclude => return self.decide(Decision::Exclude),
            Action::PlanPreview => return self.preview(),
            Action::Execute => {
                if self.ctx.read_only || self.running() {
                    return Vec::new();
                }
                match &self.plan {
                    PlanState::Ready { .. } => {
                        self.popup = Some(Popup::Confirm(ConfirmView { typed: String::new() }));
                    }
                    PlanState::Building => self.flash(Level::Warn, "the plan is still being computed"),
                    _ => self.flash(Level::Warn, "preview the plan first (p)"),
                }
            }
            Action::Pause => {
                if let Some(e) = self.exec.as_mut()
                    && e.running()
                {
                    e.pause_requested = !e.pause_requested;
                    let ctl = if e.pause_requested {
                        Control::Pause
                    } else {
                        Control::Run
                    };
                    let text = if e.pause_requested {
                        "pausing after the current phase (space resumes)"
                    } else {
                        "resumed"
                    };
                    self.flash(Level::Info, text);
                    return vec![Effect::Control(ctl)];
                }
            }
            Action::Refresh => {
                if self.running() {
                    self.flash(Level::Warn, "a run is active; refresh after it ends");
                    return Vec::new();
                }
                self.screen = Screen::Main;
                return self.refresh();
            }
            Action::Help => {
                self.scroll = 0;
                self.popup = match self.popup {
                    Some(Popup::Help) => None,
                    _ => Some(Popup::Help),
                }
            }
            Action::Journal => self.show_journal = !self.show_journal,
            // Text entry (prompts, the typed confirmation) handles Enter itself.
            Action::Submit => {}
        }
        Vec::new()
    }

    /// `:` commands, for what has no key of its own.
    fn command(&mut self, text: &str) -> Vec<Effect> {
        let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
        let arg = arg.trim();
        match verb {
            "" => Vec::new(),
            "q" | "quit" => self.request_quit(),
            "help" => {
                self.popup = Some(Popup::Help);
                Vec::new()
            }
            "refresh" => self.on_action(Action::Refresh),
            "plan" => self.on_action(Action::PlanPreview),
            "intersection" => self.on_action(Action::StrategyIntersection),
            "union" => self.on_action(Action::StrategyUnion),
            "manual" => self.on_action(Action::StrategyManual),
            "journal" => self.on_action(Action::Journal),
            "filter" => {
                self.table.text = arg.to_string();
                self.refilter();
                Vec::new()
            }
            "class" => {
                let class = if arg == "all" || arg.is_empty() {
                    None
                } else {
                    arg.parse::<RowClass>().ok()
                };
                if class.is_none() && !(arg == "all" || arg.is_empty()) {
                    self.flash(
                        Level::Warn,
                        format!("unknown class {arg}: agreed, missing, archived_somewhere, payload_mismatch, local_only, all"),
                    );
                } else {
                    self.table.class = class;
                    self.refilter();
                }
                Vec::new()
            }
            "goto" => {
                let found = self.data.as_ref().is_some_and(|d| self.table.goto(&d.comparison, arg));
                if found {
                    self.table.follow(self.page);
                } else {
                    self.flash(Level::Warn, format!("no visible contract starts with {arg}"));
                }
                Vec::new()
            }
            other => {
                self.flash(
                    Level::Warn,
                    format!(
                        "unknown command :{other} (try :help, :filter TEXT, :class NAME, :goto ID, :plan, :refresh, :q)"
                    ),
                );
                Vec::new()
            }
        }
    }
}
