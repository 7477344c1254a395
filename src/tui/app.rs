//! The recovery screen's state and its one entry point, `update(Msg) -> Vec<Effect>`:
//! no I/O here. The runtime executes the effects and feeds the results back as messages;
//! answers to requests carry the generation they were made in, and stale ones are dropped.

use super::choice::{Choice, Fate};
use super::exec_view::ExecView;
use super::keymap::{Keymap, Layer};
use super::msg::{Effect, Msg, PlanProblem, SurveyData};
use super::table::TableView;
use crate::plan::{Plan, PlanSummary};
use crate::reconcile::{Decision, ParticipantState, StrategyName, diff};
use crate::status::ParticipantReport;
use ratatui::crossterm::event::KeyEventKind;
use serde_json::json;
use std::sync::Arc;

mod input;

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

    fn set_strategy(&mut self, s: StrategyName) -> Vec<Effect> {
        if self.ctx.read_only || self.running() {
            return Vec::new();
        }
        self.choice.set_strategy(s);
        self.invalidate_plan();
        self.flash(Level::Info, format!("strategy: {s}"));
        vec![Effect::Record {
            kind: "select.mode",
            data: json!({"strategy": s.as_str()}),
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
        self.choice.decide(&id, decision);
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
        if self.choice.strategy() != Some(StrategyName::Manual) {
            self.flash(Level::Warn, "Space picks rows in a manual selection: press m first");
            return Vec::new();
        }
        let Some(id) = self.selected_row().map(|r| r.contract_id().clone()) else {
            return Vec::new();
        };
        self.choice.toggle(&id);
        self.invalidate_plan();
        self.table.move_by(1);
        Vec::new()
    }

    fn preview(&mut self) -> Vec<Effect> {
        if self.data.is_none() {
            self.flash(Level::Warn, "the comparison is still loading");
            return Vec::new();
        }
        let Some(request) = self.choice.request().cloned() else {
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

    /// The row's fate under the current choice.
    pub fn fate(&self, row: &crate::reconcile::Row) -> Fate {
        self.choice.fate(row)
    }
}
