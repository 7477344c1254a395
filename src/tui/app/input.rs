//! Operator input. Every key goes through the keymap with the layers of what has focus
//! ([`App::layers`]); the popup or prompt that is open handles the actions of its layer,
//! and a key no active layer binds is text for the open text field, if there is one.

use super::{App, Button, ConfirmView, Focus, Level, PlanState, Popup, Prompt, PromptKind, Purpose, Screen};
use crate::exec::Control;
use crate::reconcile::{Decision, StrategyName};
use crate::tui::action::Action;
use crate::tui::keymap::Layer;
use crate::tui::msg::Effect;
use crate::tui::scroll::{Motion, Scroll};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What an unbound key does to a text field.
enum Edit {
    Insert(char),
    Erase,
}

impl Edit {
    fn of(key: KeyEvent) -> Option<Edit> {
        match key.code {
            KeyCode::Backspace => Some(Edit::Erase),
            KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                Some(Edit::Insert(c))
            }
            _ => None,
        }
    }

    fn apply(self, text: &mut String) {
        match self {
            Edit::Insert(c) => text.push(c),
            Edit::Erase => {
                text.pop();
            }
        }
    }
}

impl App {
    pub(super) fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        match self.keymap.resolve(&self.layers(), key) {
            Some(action) => self.on_action(action),
            None => {
                if let Some(edit) = Edit::of(key) {
                    self.type_text(edit);
                }
                Vec::new()
            }
        }
    }

    /// A key no active layer binds, for the text field that is open.
    fn type_text(&mut self, edit: Edit) {
        if let Some(Popup::Confirm(c)) = &mut self.popup {
            edit.apply(&mut c.typed);
            c.focus = if c.typed == self.ctx.target {
                Button::Proceed
            } else {
                Button::Cancel
            };
        } else if let Some(p) = &mut self.prompt {
            edit.apply(&mut p.text);
            if p.kind == PromptKind::Filter {
                self.table.text = p.text.clone();
                self.refilter();
            }
        }
    }

    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        match self.popup {
            Some(Popup::Confirm(_)) => return self.confirm_action(action),
            Some(Popup::QuitWhileRunning(_)) => return self.quit_action(action),
            Some(Popup::Ask(..)) => return self.ask_action(action),
            _ => {}
        }
        if self.prompt.is_some() {
            match action {
                Action::Submit => return self.submit_prompt(),
                Action::Clear => {
                    self.cancel_prompt();
                    return Vec::new();
                }
                // Other actions a key file binds in the prompt act on the view below it.
                _ => {}
            }
        }
        self.view_action(action)
    }

    pub(super) fn request_quit(&mut self) -> Vec<Effect> {
        if self.running() {
            self.popup = Some(Popup::QuitWhileRunning(Button::Cancel));
            Vec::new()
        } else {
            self.quit = true;
            vec![Effect::Quit]
        }
    }

    fn cancelled(&mut self) {
        self.popup = None;
        self.flash(Level::Info, "cancelled; nothing was changed");
    }

    /// The typed confirmation: its buttons, and the alias typed into its field.
    fn confirm_action(&mut self, action: Action) -> Vec<Effect> {
        let Some(Popup::Confirm(view)) = self.popup.as_mut() else {
            return Vec::new();
        };
        match action {
            Action::FocusNext | Action::FocusPrev => view.focus = view.focus.toggled(),
            Action::Clear => self.cancelled(),
            Action::Submit => {
                let matches = view.typed == self.ctx.target;
                match view.focus {
                    Button::Proceed if matches => {
                        let purpose = view.purpose.clone();
                        self.popup = None;
                        return self.confirmed(purpose);
                    }
                    // Cancel is the default: an empty Enter never runs anything.
                    Button::Cancel if matches || view.typed.is_empty() => self.cancelled(),
                    // A typo keeps the popup open, so it can be corrected.
                    _ => {
                        let text = format!(
                            "type {} exactly to confirm, or {} to cancel",
                            self.ctx.target,
                            self.key(&[Layer::Confirm], Action::Clear)
                        );
                        self.flash(Level::Warn, text);
                    }
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// A session question: its buttons send the answer; `esc` leaves it unanswered.
    fn ask_action(&mut self, action: Action) -> Vec<Effect> {
        let Some(Popup::Ask(_, focus)) = self.popup.as_mut() else {
            return Vec::new();
        };
        match action {
            Action::FocusNext | Action::FocusPrev => *focus = focus.toggled(),
            Action::Clear => {
                if let Some(Popup::Ask(ask, _)) = self.popup.take() {
                    self.dismissed(&ask);
                }
            }
            Action::Submit => {
                if let Some(Popup::Ask(ask, focus)) = self.popup.take() {
                    return self.answered(ask, focus == Button::Proceed);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn quit_action(&mut self, action: Action) -> Vec<Effect> {
        let Some(Popup::QuitWhileRunning(focus)) = self.popup.as_mut() else {
            return Vec::new();
        };
        match action {
            Action::FocusNext | Action::FocusPrev => *focus = focus.toggled(),
            Action::Clear => self.popup = None,
            Action::Submit => {
                let stop = *focus == Button::Proceed;
                self.popup = None;
                if stop {
                    self.quit = true;
                    return vec![Effect::Control(Control::Abort), Effect::Quit];
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn submit_prompt(&mut self) -> Vec<Effect> {
        match self.prompt.take() {
            Some(p) if p.kind == PromptKind::Command => self.command(p.text.trim()),
            // The filter applies as it is typed; Enter keeps it.
            _ => Vec::new(),
        }
    }

    fn cancel_prompt(&mut self) {
        if let Some(p) = self.prompt.take()
            && p.kind == PromptKind::Filter
        {
            self.table.text = p.before;
            self.refilter();
        }
    }

    /// Moves whatever has focus: the popup, else the screen's view (on the main screen,
    /// the focused pane).
    fn motion(&mut self, motion: Motion) {
        match self.popup.as_mut() {
            Some(Popup::Diff(v)) => return v.scroll.apply(motion),
            Some(Popup::Help(s)) => return s.apply(motion),
            _ => {}
        }
        match self.screen {
            Screen::Main => match self.focus {
                Focus::Table => self.table.apply(motion),
                Focus::Journal => self.session_view.apply(motion),
                Focus::Participants => self.strip_view.apply(motion),
            },
            Screen::Plan => self.plan_view.apply(motion),
            Screen::Execution => {
                if let Some(e) = self.exec.as_mut() {
                    e.journal_view.apply(motion);
                }
            }
        }
    }

    /// Tab and shift-tab on the main screen: the table, the journal pane when shown, the
    /// participants strip.
    fn cycle_focus(&mut self, forward: bool) {
        if self.screen != Screen::Main {
            return;
        }
        let mut panes = vec![Focus::Table];
        if self.show_journal {
            panes.push(Focus::Journal);
        }
        panes.push(Focus::Participants);
        let at = panes.iter().position(|f| *f == self.focus).unwrap_or(0);
        let next = if forward { at + 1 } else { at + panes.len() - 1 };
        self.focus = panes[next % panes.len()];
    }

    fn toggle_journal(&mut self) {
        match (self.screen, self.exec.as_mut()) {
            (Screen::Execution, Some(e)) => e.journal_full = !e.journal_full,
            _ => {
                self.show_journal = !self.show_journal;
                if !self.show_journal && self.focus == Focus::Journal {
                    self.focus = Focus::Table;
                }
            }
        }
    }

    /// The actions of the screens and of the help and diff popups.
    pub(super) fn view_action(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Quit => {
                if self.popup.take().is_some() {
                    return Vec::new();
                }
                return self.request_quit();
            }
            Action::Up => self.motion(Motion::By(-1)),
            Action::Down => self.motion(Motion::By(1)),
            Action::PageUp => self.motion(Motion::Pages(-1)),
            Action::PageDown => self.motion(Motion::Pages(1)),
            Action::Top => self.motion(Motion::Top),
            Action::Bottom => self.motion(Motion::Bottom),
            Action::ScrollLeft => self.table.first_column = self.table.first_column.saturating_sub(1),
            Action::ScrollRight => {
                let last = self.ctx.participants.len().saturating_sub(1);
                self.table.first_column = (self.table.first_column + 1).min(last);
            }
            Action::FocusNext => self.cycle_focus(true),
            Action::FocusPrev => self.cycle_focus(false),
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
                    return self.diff_or_fetch();
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
            Action::DecideAdopt => return self.adopt(),
            Action::PlanPreview => return self.preview(),
            Action::Propose
            | Action::Go
            | Action::PauseRun
            | Action::Abort
            | Action::Approve
            | Action::RequestPayload
            | Action::AnswerPayload => return self.session_action(action),
            Action::Execute => {
                if self.ctx.read_only || self.running() || self.joined.is_some() {
                    return Vec::new();
                }
                match &self.plan {
                    PlanState::Ready { .. } if self.joined.is_none() => {
                        self.popup = Some(Popup::Confirm(ConfirmView::new(Purpose::Execute)));
                    }
                    PlanState::Building => self.flash(Level::Warn, "the plan is still being computed"),
                    _ => {
                        let p = self.screen_key(Screen::Main, Action::PlanPreview);
                        self.flash(Level::Warn, format!("preview the plan first ({p})"));
                    }
                }
            }
            Action::Pause => {
                let key = self.key(&self.layers(), Action::Pause);
                if let Some(e) = self.exec.as_mut()
                    && e.running()
                {
                    e.pause_requested = !e.pause_requested;
                    let (ctl, text) = if e.pause_requested {
                        (
                            Control::Pause,
                            format!("pausing after the current phase ({key} resumes)"),
                        )
                    } else {
                        (Control::Run, "resumed".to_string())
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
                if self.joined.as_ref().is_some_and(|j| j.participant.is_none()) {
                    let text = "the comparison follows the session: it is rebuilt whenever a deck publishes a survey";
                    self.flash(Level::Info, text);
                }
                return self.refresh();
            }
            Action::CompareTarget => return self.compare_other(),
            Action::Help => {
                self.popup = match self.popup {
                    Some(Popup::Help(_)) => None,
                    _ => Some(Popup::Help(Scroll::default())),
                }
            }
            Action::Journal => self.toggle_journal(),
            // Submit belongs to prompts and confirmations; here nothing waits for it.
            Action::Submit => {}
        }
        Vec::new()
    }
}
