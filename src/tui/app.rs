//! The recovery screen's state and its one entry point, `update(Msg) -> Vec<Effect>`:
//! no I/O here. The runtime executes the effects and feeds the results back as messages;
//! answers to requests carry the generation they were made in, and stale ones are dropped.

use super::action::Action;
use super::choice::{Choice, Fate, StrategyKind};
use super::exec_view::ExecView;
use super::keymap::{Keymap, Layer};
use super::msg::{Effect, Msg, PlanProblem, SurveyData};
use super::table::TableView;
use crate::exec::Control;
use crate::plan::{Plan, PlanSummary};
use crate::reconcile::{Decision, ParticipantState, RowClass, diff};
use crate::status::ParticipantReport;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use serde_json::json;
use std::sync::Arc;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Main,
    Plan,
    Execution,
}

#[derive(Debug, Clone)]
pub struct DiffView {
    /// Index of the row in the comparison.
    pub row: usize,
    /// Participant index pairs to compare (holders of the row).
    pub pairs: Vec<(usize, usize)>,
    pub pair: usize,
    pub lines: Vec<diff::DiffRow>,
    pub scroll: usize,
}

#[derive(Debug, Clone)]
pub struct ConfirmView {
    pub typed: String,
}

#[derive(Debug, Clone)]
pub enum Popup {
    Diff(DiffView),
    Help,
    Confirm(ConfirmView),
    /// `q` while a run is active.
    QuitWhileRunning,
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
}

#[derive(Debug, Clone)]
pub enum SurveyState {
    Loading,
    Ready,
    Failed(String),
}

#[derive(Debug, Clone)]
pub enum PlanState {
    None,
    Building,
    Ready { plan: Arc<Plan>, summary: Box<PlanSummary> },
    Blocked(PlanProblem),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Table,
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
    pub data: Option<SurveyData>,
    pub survey: SurveyState,
    pub table: TableView,
    pub choice: Choice,
    pub plan: PlanState,
    pub exec: Option<ExecView>,
    pub show_journal: bool,
    pub flash: Option<Flash>,
    pub generation: u64,
    pub ticks: u64,
    pub quit: bool,
    /// Rows of the aligned view that fit on screen, kept from the last frame.
    pub page: usize,
    /// Scroll of the plan preview and of the journal pane.
    pub scroll: usize,
    /// The session's own journal events (what was seen and chosen), newest last.
    pub session: std::collections::VecDeque<crate::journal::Event>,
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
            data: None,
            survey: SurveyState::Loading,
            table: TableView::default(),
            choice: Choice::default(),
            plan: PlanState::None,
            exec: None,
            show_journal: false,
            flash: None,
            generation: 0,
            ticks: 0,
            quit: false,
            page: 10,
            scroll: 0,
            session: std::collections::VecDeque::new(),
        }
    }

    /// The effects that load everything when the screen opens.
    pub fn start(&mut self) -> Vec<Effect> {
        self.refresh()
    }

    pub fn running(&self) -> bool {
        self.exec.as_ref().is_some_and(ExecView::running)
    }

    /// Where the operator is, for the breadcrumbs.
    pub fn crumbs(&self) -> Vec<&'static str> {
        let mut c = vec!["compare"];
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
            Some(Popup::Help) => c.push("help"),
            Some(Popup::Confirm(_)) => c.push("confirm"),
            Some(Popup::QuitWhileRunning) => c.push("quit?"),
            None => {}
        }
        c
    }

    /// Active key layers, highest priority first.
    pub fn layers(&self) -> Vec<Layer> {
        let screen = match self.screen {
            Screen::Main => Layer::Table,
            Screen::Plan => Layer::Plan,
            Screen::Execution => Layer::Execution,
        };
        match &self.popup {
            Some(Popup::Help) => vec![Layer::Help, Layer::Global],
            Some(Popup::Diff(_)) => vec![Layer::Diff, Layer::Global],
            _ => vec![screen, Layer::Global],
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
            },
        ]
    }

    fn invalidate_plan(&mut self) {
        self.plan = PlanState::None;
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
            Msg::Plan { generation, result } => self.on_plan(generation, result),
            Msg::Recorded(event) => {
                self.session.push_back(event);
                while self.session.len() > 200 {
                    self.session.pop_front();
                }
                Vec::new()
            }
            Msg::Exec(p) => {
                if let Some(e) = self.exec.as_mut() {
                    e.apply(p);
                }
                Vec::new()
            }
            Msg::ExecDone(result) => {
                if let Some(e) = self.exec.as_mut() {
                    e.finished = true;
                }
                match result {
                    Ok(r) if r.ok => self.flash(Level::Info, "recovery finished and verified"),
                    Ok(_) => self.flash(Level::Error, "the run did not finish; see the failure below"),
                    Err(e) => self.flash(Level::Error, e),
                }
                Vec::new()
            }
        }
    }

    fn on_survey(&mut self, generation: u64, result: Result<SurveyData, String>) -> Vec<Effect> {
        if generation != self.generation {
            return Vec::new();
        }
        for p in &mut self.participants {
            p.reading = None;
        }
        match result {
            Ok(data) => {
                self.table.refilter(&data.comparison);
                let counts: serde_json::Map<String, serde_json::Value> = data
                    .comparison
                    .counts()
                    .iter()
                    .map(|(c, n)| (c.as_str().to_string(), json!(n)))
                    .collect();
                let per_participant: serde_json::Map<String, serde_json::Value> = data
                    .comparison
                    .participants()
                    .iter()
                    .zip(data.payloads.iter())
                    .map(|(n, p)| (n.clone(), json!(p.len())))
                    .collect();
                self.data = Some(data);
                self.survey = SurveyState::Ready;
                vec![Effect::Record {
                    kind: "search.result",
                    data: json!({"synchronizer": self.ctx.lost, "classes": counts, "contracts": per_participant}),
                }]
            }
            Err(e) => {
                self.survey = SurveyState::Failed(e.clone());
                self.flash(Level::Error, format!("survey failed: {e}"));
                Vec::new()
            }
        }
    }

    fn on_plan(&mut self, generation: u64, result: Result<Arc<Plan>, PlanProblem>) -> Vec<Effect> {
        if generation != self.generation || !matches!(self.plan, PlanState::Building) {
            return Vec::new();
        }
        match result {
            Ok(plan) => {
                let summary = Box::new(PlanSummary::of(&plan));
                let record = Effect::Record {
                    kind: "plan.proposed",
                    data: json!({"plan_hash": plan.hash(), "strategy": summary.strategy, "moved": summary.moved, "excluded": plan.excluded().len()}),
                };
                self.plan = PlanState::Ready { plan, summary };
                vec![record]
            }
            Err(problem) => {
                self.plan = PlanState::Blocked(problem);
                Vec::new()
            }
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
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

    fn execute(&mut self) -> Vec<Effect> {
        let PlanState::Ready { plan, .. } = &self.plan else {
            return Vec::new();
        };
        let plan = plan.clone();
        self.exec = Some(ExecView::new(&plan));
        self.screen = Screen::Execution;
        self.scroll = 0;
        vec![
            Effect::Record {
                kind: "plan.approved",
                data: json!({"plan_hash": plan.hash(), "confirmed_by_typing": self.ctx.target}),
            },
            Effect::Execute { plan },
        ]
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

    fn set_strategy(&mut self, s: StrategyKind) -> Vec<Effect> {
        if self.ctx.read_only || self.running() {
            return Vec::new();
        }
        self.choice.strategy = Some(s);
        self.invalidate_plan();
        self.flash(Level::Info, format!("strategy: {}", s.name()));
        vec![Effect::Record {
            kind: "select.mode",
            data: json!({"strategy": s.name()}),
        }]
    }

    fn decide(&mut self, decision: Decision) -> Vec<Effect> {
        if self.ctx.read_only || self.running() {
            return Vec::new();
        }
        let Some(row) = self.selected_row() else {
            return Vec::new();
        };
        if !row.class().needs_decision() {
            let class = row.class().as_str();
            self.flash(Level::Warn, format!("this row is {class}: it needs no decision"));
            return Vec::new();
        }
        let id = row.contract_id().clone();
        let name = decision.name();
        self.choice.decisions.insert(id.clone(), decision);
        self.invalidate_plan();
        self.flash(Level::Info, format!("decided {name} for {}", &id[..id.len().min(16)]));
        vec![Effect::Record {
            kind: "select.decision",
            data: json!({"contract_id": id.to_string(), "decision": name}),
        }]
    }

    fn toggle_row(&mut self) -> Vec<Effect> {
        if self.ctx.read_only || self.running() {
            return Vec::new();
        }
        if self.choice.strategy != Some(StrategyKind::Manual) {
            self.flash(Level::Warn, "Space picks rows in a manual selection: press m first");
            return Vec::new();
        }
        let Some(id) = self.selected_row().map(|r| r.contract_id().clone()) else {
            return Vec::new();
        };
        if !self.choice.manual.remove(&id) {
            self.choice.manual.insert(id);
        }
        self.invalidate_plan();
        self.table.move_by(1);
        Vec::new()
    }

    fn preview(&mut self) -> Vec<Effect> {
        if self.data.is_none() {
            self.flash(Level::Warn, "the comparison is still loading");
            return Vec::new();
        }
        let Some(request) = self.choice.request() else {
            self.flash(
                Level::Warn,
                "choose a strategy first: i intersection, u union, m manual",
            );
            return Vec::new();
        };
        self.screen = Screen::Plan;
        self.scroll = 0;
        if matches!(self.plan, PlanState::Ready { .. } | PlanState::Building) {
            return Vec::new();
        }
        self.plan = PlanState::Building;
        vec![Effect::BuildPlan {
            generation: self.generation,
            request,
        }]
    }

    fn open_diff(&mut self) -> Option<Popup> {
        let d = self.data.as_ref()?;
        let row_index = self.table.current()?;
        let row = d.comparison.rows().get(row_index)?;
        let holders: Vec<usize> = row
            .states()
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s, ParticipantState::Active { .. } | ParticipantState::Differs { .. }))
            .map(|(i, _)| i)
            .collect();
        let mut pairs = Vec::new();
        for (a, i) in holders.iter().enumerate() {
            for j in &holders[a + 1..] {
                pairs.push((*i, *j));
            }
        }
        if pairs.is_empty() {
            pairs.push((*holders.first()?, *holders.first()?));
        }
        // Show a differing pair first when there is one.
        if let Some(p) = pairs
            .iter()
            .position(|(i, j)| row.states()[*i].digest() != row.states()[*j].digest())
        {
            pairs.swap(0, p);
        }
        let mut view = DiffView {
            row: row_index,
            pairs,
            pair: 0,
            lines: Vec::new(),
            scroll: 0,
        };
        self.compute_diff(&mut view);
        Some(Popup::Diff(view))
    }

    fn compute_diff(&self, view: &mut DiffView) {
        let Some(d) = self.data.as_ref() else { return };
        let Some(row) = d.comparison.rows().get(view.row) else {
            return;
        };
        let Some((i, j)) = view.pairs.get(view.pair).copied() else {
            return;
        };
        let payload = |p: usize| {
            d.payloads
                .get(p)
                .and_then(|m| m.get(row.contract_id()))
                .cloned()
                .unwrap_or_default()
        };
        view.lines = diff::side_by_side(&payload(i), &payload(j));
        view.scroll = 0;
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
            Action::StrategyIntersection => return self.set_strategy(StrategyKind::Intersection),
            Action::StrategyUnion => return self.set_strategy(StrategyKind::Union),
            Action::StrategyManual => return self.set_strategy(StrategyKind::Manual),
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

    /// The row's fate under the current choice.
    pub fn fate(&self, row: &crate::reconcile::Row) -> Fate {
        self.choice.fate(row)
    }
}
