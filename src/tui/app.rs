//! The recovery screen's state and its one entry point, `update(Msg) -> Vec<Effect>`:
//! no I/O here. The runtime executes the effects and feeds the results back as messages;
//! answers to requests carry the generation they were made in, and stale ones are dropped.

use super::action::Action;
use super::choice::Choice;
use super::exec_view::ExecView;
use super::keymap::{Keymap, Layer};
use super::msg::{Effect, Msg, PlanProblem, SurveyData};
use super::scroll::{Measures, Scroll};
use super::table::TableView;
use crate::failure::Failure;
use crate::plan::{Plan, PlanSummary};
use crate::survey::status::ParticipantReport;
use ratatui::crossterm::event::KeyEventKind;
use std::sync::Arc;

mod answers;
pub mod commands;
mod input;
mod joined;
mod payload_diff;
mod popup;
mod runbook;
mod selection;
mod session_keys;

pub use joined::{DeckState, Joined};
pub use popup::{Ask, Button, ConfirmView, DiffView, Popup, Purpose};
pub use runbook::Loaded;

/// Ticks (a quarter second each) a flash message stays.
const FLASH_TICKS: u64 = 24;

/// Who runs the screen against what.
#[derive(Debug, Clone)]
pub struct Context {
    pub incident: String,
    pub lost: String,
    pub target: String,
    pub operator: String,
    pub participants: Vec<String>,
    pub read_only: bool,
    pub theme: String,
}

/// Which synchronizer the aligned view compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compared {
    /// The lost one: where the recovery is planned.
    Lost,
    /// The replacement, typically after a run: what the participants hold there now.
    Target,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Main,
    Plan,
    Execution,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    Command,
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
    /// The filter before the prompt opened, restored on Esc.
    pub before: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone)]
pub struct Flash {
    pub text: String,
    pub level: Level,
    pub until: u64,
}

#[derive(Debug, Clone, Default)]
pub struct ParticipantView {
    pub name: String,
    pub report: Option<ParticipantReport>,
    /// Contracts read so far by the running survey.
    pub reading: Option<usize>,
    /// What a replay knows in place of a live status (the journal has no status reports).
    pub recorded: Option<String>,
}

#[derive(Debug, Clone)]
pub enum SurveyState {
    Loading,
    Ready,
    Failed(Failure),
}

#[derive(Debug, Clone)]
pub enum PlanState {
    None,
    Building,
    Ready { plan: Arc<Plan>, summary: Box<PlanSummary> },
    Blocked(PlanProblem),
}

/// The pane of the main screen that moving keys act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Table,
    /// The session journal pane, while it is shown.
    Journal,
    Participants,
}

pub struct App {
    pub ctx: Context,
    pub keymap: Keymap,
    pub screen: Screen,
    pub popup: Option<Popup>,
    pub prompt: Option<Prompt>,
    pub focus: Focus,
    pub participants: Vec<ParticipantView>,
    /// Scroll of the participants strip.
    pub strip_view: Scroll,
    pub compared: Compared,
    pub data: Option<SurveyData>,
    pub survey: SurveyState,
    pub table: TableView,
    pub choice: Choice,
    pub plan: PlanState,
    /// The plan on screen came from a runbook (`:load`): which, and what drifted since.
    pub loaded: Option<Loaded>,
    pub plan_view: Scroll,
    pub exec: Option<ExecView>,
    pub show_journal: bool,
    /// Scroll of the session journal pane.
    pub session_view: Scroll,
    pub flash: Option<Flash>,
    pub generation: u64,
    pub ticks: u64,
    pub quit: bool,
    /// The session's own journal events (what was seen and chosen), newest last.
    pub session: std::collections::VecDeque<crate::journal::Event>,
    /// Joined to a multi-operator session: who this screen is there, and what it shows.
    pub joined: Option<Joined>,
    /// A row's payloads can be read from its holders when a diff asks for them: not in a
    /// replay, which shows what was recorded.
    pub payloads_on_demand: bool,
}

impl App {
    pub fn new(ctx: Context, keymap: Keymap) -> App {
        let participants = ctx
            .participants
            .iter()
            .map(|n| ParticipantView {
                name: n.clone(),
                ..ParticipantView::default()
            })
            .collect();
        App {
            ctx,
            keymap,
            screen: Screen::Main,
            popup: None,
            prompt: None,
            focus: Focus::Table,
            participants,
            strip_view: Scroll::default(),
            compared: Compared::Lost,
            data: None,
            survey: SurveyState::Loading,
            table: TableView::default(),
            choice: Choice::default(),
            plan: PlanState::None,
            loaded: None,
            plan_view: Scroll::default(),
            exec: None,
            show_journal: false,
            session_view: Scroll::following(),
            flash: None,
            generation: 0,
            ticks: 0,
            quit: false,
            session: std::collections::VecDeque::new(),
            joined: None,
            payloads_on_demand: true,
        }
    }

    /// A screen joined to a session (see [`Joined`]).
    pub fn joined(ctx: Context, keymap: Keymap, joined: Joined) -> App {
        let mut app = App::new(ctx, keymap);
        app.joined = Some(joined);
        app
    }

    /// The effects that load everything when the screen opens.
    pub fn start(&mut self) -> Vec<Effect> {
        let mut effects = self.refresh();
        if self.joined.as_ref().is_some_and(|j| j.deck == DeckState::Serving) {
            effects.push(Effect::ServeDeck);
        }
        effects
    }

    pub fn running(&self) -> bool {
        self.exec.as_ref().is_some_and(ExecView::running)
    }

    /// The alias of the synchronizer the aligned view compares.
    pub fn compared_alias(&self) -> &str {
        match self.compared {
            Compared::Lost => &self.ctx.lost,
            Compared::Target => &self.ctx.target,
        }
    }

    /// Where the operator is, for the breadcrumbs.
    pub fn crumbs(&self) -> Vec<&'static str> {
        let mut c = vec![match self.compared {
            Compared::Lost => "compare",
            Compared::Target => "target",
        }];
        match self.screen {
            Screen::Main => {}
            Screen::Plan => c.push("plan"),
            Screen::Execution => {
                c.push("plan");
                c.push("execution");
            }
        }
        match &self.popup {
            Some(Popup::Diff(_)) => c.push("diff"),
            Some(Popup::Help(_)) => c.push("help"),
            Some(Popup::Confirm(_)) => c.push("confirm"),
            Some(Popup::QuitWhileRunning(_)) => c.push("quit?"),
            Some(Popup::Ask(Ask::Abort { .. }, _)) => c.push("abort?"),
            Some(Popup::Ask(Ask::Share { .. }, _)) => c.push("share?"),
            None => {}
        }
        c
    }

    /// The key layer of a screen, below any popup.
    pub fn screen_layer(&self, screen: Screen) -> Layer {
        match screen {
            Screen::Main => Layer::Table,
            Screen::Plan => Layer::Plan,
            Screen::Execution if self.running() => Layer::Execution,
            Screen::Execution => Layer::Finished,
        }
    }

    /// Active key layers, highest priority first: whatever has focus owns the keys.
    pub fn layers(&self) -> Vec<Layer> {
        match &self.popup {
            Some(Popup::Confirm(_) | Popup::QuitWhileRunning(_) | Popup::Ask(..)) => return vec![Layer::Confirm],
            _ if self.prompt.is_some() => return vec![Layer::Prompt],
            Some(Popup::Help(_)) => return vec![Layer::Help, Layer::Global],
            Some(Popup::Diff(_)) => return vec![Layer::Diff, Layer::Global],
            None => {}
        }
        let screen = match (self.screen, self.focus) {
            (Screen::Main, Focus::Journal) => Layer::JournalPane,
            (Screen::Main, Focus::Participants) => Layer::Participants,
            (screen, _) => self.screen_layer(screen),
        };
        let mut layers = vec![screen];
        layers.extend(self.role_layer());
        layers.push(Layer::Global);
        layers
    }

    /// The key that does `action` with `layers` active, for text that tells the operator
    /// what to press; `(unbound)` when no key does.
    pub fn key(&self, layers: &[Layer], action: Action) -> String {
        self.keymap
            .key_for(layers, action)
            .map(|k| k.to_string())
            .unwrap_or_else(|| "(unbound)".to_string())
    }

    /// [`key`](App::key) with a screen's layers active (no popup, no prompt).
    pub fn screen_key(&self, screen: Screen, action: Action) -> String {
        let mut layers = vec![self.screen_layer(screen)];
        layers.extend(self.role_layer());
        layers.push(Layer::Global);
        self.key(&layers, action)
    }

    /// Takes what the last frame measured: each view keeps its own viewport.
    pub fn measured(&mut self, m: &Measures) {
        if let Some(page) = m.table {
            self.table.page = page.max(1);
            self.table.follow();
        }
        if let Some(v) = m.strip {
            self.strip_view.measure(v);
        }
        if let Some(v) = m.session {
            self.session_view.measure(v);
        }
        if let Some(v) = m.plan {
            self.plan_view.measure(v);
        }
        if let (Some(v), Some(e)) = (m.exec_journal, self.exec.as_mut()) {
            e.journal_view.measure(v);
        }
        match &mut self.popup {
            Some(Popup::Help(s)) => {
                if let Some(v) = m.help {
                    s.measure(v);
                }
            }
            Some(Popup::Diff(d)) => {
                if let Some(v) = m.diff {
                    d.scroll.measure(v);
                }
            }
            _ => {}
        }
    }

    fn flash(&mut self, level: Level, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            level,
            until: self.ticks + FLASH_TICKS,
        });
    }

    fn refresh(&mut self) -> Vec<Effect> {
        if self.joined.is_some() {
            return self.refresh_joined();
        }
        self.generation += 1;
        self.survey = SurveyState::Loading;
        self.invalidate_plan();
        for p in &mut self.participants {
            p.reading = Some(0);
        }
        vec![
            Effect::LoadStatus {
                generation: self.generation,
            },
            Effect::Survey {
                generation: self.generation,
                synchronizer: self.compared_alias().to_string(),
            },
        ]
    }

    fn invalidate_plan(&mut self) {
        self.plan = PlanState::None;
        self.loaded = None;
        if self.screen == Screen::Plan {
            self.screen = Screen::Main;
        }
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) if key.kind != KeyEventKind::Release => self.on_key(key),
            Msg::Key(_) | Msg::Resize => Vec::new(),
            Msg::Tick => {
                self.ticks += 1;
                if self.flash.as_ref().is_some_and(|f| f.until <= self.ticks) {
                    self.flash = None;
                }
                // A payload request that came while something else was open asks now.
                self.ask_consent();
                Vec::new()
            }
            Msg::Status { generation, report } => {
                if generation == self.generation
                    && let Some(p) = self.participants.iter_mut().find(|p| p.name == report.participant)
                {
                    p.report = Some(report);
                }
                Vec::new()
            }
            Msg::SurveyProgress {
                generation,
                participant,
                contracts,
            } => {
                if generation == self.generation
                    && let Some(p) = self.participants.iter_mut().find(|p| p.name == participant)
                {
                    p.reading = Some(contracts);
                }
                Vec::new()
            }
            Msg::Survey { generation, result } => self.on_survey(generation, result),
            Msg::SurveyRecorded { generation, record } => self.on_survey_recorded(generation, record),
            Msg::Plan {
                generation,
                result,
                record,
            } => self.on_plan(generation, result, record),
            Msg::Recorded(event) => {
                self.session.push_back(*event);
                while self.session.len() > 200 {
                    self.session.pop_front();
                }
                Vec::new()
            }
            Msg::Exec(p) => {
                self.deck_progress(&p);
                if let Some(e) = self.exec.as_mut() {
                    e.apply(p);
                }
                Vec::new()
            }
            Msg::Board(board) => self.on_board(board),
            Msg::Federated(result) => self.on_federated(result),
            Msg::Payloads {
                generation,
                open,
                result,
            } => self.on_payloads(generation, open, result),
            Msg::SessionAnswer { command, result } => self.on_session_answer(command, result),
            Msg::DeckStopped(result) => self.on_deck_stopped(result),
            Msg::Saved { path, result } => self.on_saved(&path, result),
            Msg::Loaded {
                generation,
                path,
                result,
            } => self.on_loaded(generation, path, result),
            Msg::ExecDone(result) => {
                if let Some(e) = self.exec.as_mut() {
                    e.finished = true;
                }
                match result {
                    Ok(r) if r.ok => self.flash(Level::Info, "recovery finished and verified"),
                    Ok(_) => self.flash(Level::Error, "the run did not finish; see the failure below"),
                    Err(e) => self.flash(Level::Error, e.message),
                }
                Vec::new()
            }
        }
    }

    fn refilter(&mut self) {
        if let Some(d) = &self.data {
            self.table.refilter(&d.comparison);
        }
    }

    fn selected_row(&self) -> Option<&crate::reconcile::Row> {
        let d = self.data.as_ref()?;
        d.comparison.rows().get(self.table.current()?)
    }

    /// Compares the other synchronizer: the target (after a run, what moved) or back to
    /// the lost one.
    fn compare_other(&mut self) -> Vec<Effect> {
        if self.running() {
            self.flash(Level::Warn, "a run is active; compare after it ends");
            return Vec::new();
        }
        self.compared = match self.compared {
            Compared::Lost => Compared::Target,
            Compared::Target => Compared::Lost,
        };
        self.screen = Screen::Main;
        self.popup = None;
        self.focus = Focus::Table;
        self.table.top();
        self.table.follow();
        self.data = None;
        self.refresh()
    }
}
