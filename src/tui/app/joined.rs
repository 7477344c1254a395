//! The screen joined to a multi-operator session (`tui --join`). The session's state
//! arrives as a [`Board`] and the comparison everyone sees as the federated comparison
//! built from the manifests; keys send commands by role through the core, which hands
//! them to the session client and the deck (`collab`), so no session rule is decided
//! here: the coordinator refuses what a role may not do, and the deck re-surveys before
//! approving.

use super::{App, Ask, Button, Level, PlanState, Popup, Screen, SurveyState};
use crate::collab::board::Board;
use crate::collab::event::Role;
use crate::exec::{Progress, RunReport};
use crate::journal::{EventData, Surveyed};
use crate::plan::PlanSummary;
use crate::survey::Payloads;
use crate::tui::action::Action;
use crate::tui::exec_view::ExecView;
use crate::tui::keymap::Layer;
use crate::tui::msg::{Effect, Federated, SurveyData};
use crate::tui::scroll::Scroll;
use crate::tui::ui::text::short_hash;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Where the local deck (a node operator's) stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeckState {
    /// No deck here: the lead and observers hold no participant credential.
    None,
    /// Publishing, answering and, on each go, running the participant's part.
    Serving,
    /// Its part of the run is over; refresh serves again, for a next plan.
    Finished { ok: bool },
    /// It stopped on an error; refresh starts it again.
    Stopped(String),
}

/// Who this screen is in the session, and what it knows of it.
#[derive(Debug, Clone)]
pub struct Joined {
    pub role: Role,
    /// The operator, as the coordinator named them.
    pub operator: String,
    /// The participant a node operator acts for.
    pub participant: Option<String>,
    /// The coordinator's address.
    pub coordinator: String,
    pub board: Option<Arc<Board>>,
    /// Why there is no comparison yet (manifests or answers still missing).
    pub waiting: Option<String>,
    pub deck: DeckState,
    /// Payload requests whose question was closed unanswered; `s` asks again.
    pub(super) dismissed: BTreeSet<u64>,
    /// Contracts whose payload this screen asked for and has not shown yet.
    pub(super) awaiting: BTreeSet<String>,
    /// Session commands sent and not answered yet.
    pub sending: usize,
}

impl Joined {
    pub fn new(role: Role, operator: &str, participant: Option<String>, coordinator: &str) -> Joined {
        Joined {
            role,
            operator: operator.to_string(),
            deck: if role == Role::NodeOperator {
                DeckState::Serving
            } else {
                DeckState::None
            },
            participant,
            coordinator: coordinator.to_string(),
            board: None,
            waiting: None,
            dismissed: BTreeSet::new(),
            awaiting: BTreeSet::new(),
            sending: 0,
        }
    }

    /// The role as operators say it.
    pub fn role_text(&self) -> &'static str {
        match self.role {
            Role::Lead => "lead",
            Role::NodeOperator => "node operator",
            Role::Observer => "observer",
        }
    }

    /// A payload `participant`'s operator shared in the session (the local participant's
    /// own are read from it, as on the main screen).
    pub fn payload(&self, participant: &str, contract_id: &str) -> Option<&serde_json::Value> {
        self.board.as_ref()?.shared_payload(participant, contract_id)
    }
}

impl App {
    /// The key layer of the joined role, if any.
    pub fn role_layer(&self) -> Option<Layer> {
        match self.joined.as_ref()?.role {
            Role::Lead => Some(Layer::Lead),
            Role::NodeOperator => Some(Layer::Node),
            Role::Observer => None,
        }
    }

    /// Whether a layer's keys can ever be active on this screen (help lists only those).
    pub fn uses_layer(&self, layer: Layer) -> bool {
        match layer {
            Layer::Lead | Layer::Node => self.role_layer() == Some(layer),
            _ => true,
        }
    }

    pub fn board(&self) -> Option<&Board> {
        self.joined.as_ref()?.board.as_deref()
    }

    pub(super) fn refresh_joined(&mut self) -> Vec<Effect> {
        self.generation += 1;
        let Some(j) = self.joined.as_mut() else {
            return Vec::new();
        };
        if j.role != Role::NodeOperator {
            return Vec::new();
        }
        let mut effects = Vec::new();
        // A deck that stopped, or whose part of a run is over, serves again (for the next
        // plan of the session).
        if matches!(j.deck, DeckState::Stopped(_) | DeckState::Finished { .. }) {
            j.deck = DeckState::Serving;
            effects.push(Effect::ServeDeck);
        }
        // Payloads are read from the participant when a diff asks for them (`payload_diff`);
        // those read before may have changed there since.
        if let Some(d) = self.data.as_mut() {
            d.payloads = Arc::new(vec![Payloads::new(); d.comparison.participants().len()]);
        }
        effects
    }

    pub(super) fn on_board(&mut self, board: Arc<Board>) -> Vec<Effect> {
        let Some(j) = self.joined.as_mut() else {
            return Vec::new();
        };
        let before = j.board.replace(board.clone());
        let me = j.operator.clone();
        if let Some(fatal) = board
            .fatal
            .as_ref()
            .filter(|_| before.as_ref().is_none_or(|b| b.fatal.is_none()))
        {
            let text = format!("the session feed stopped: {fatal}");
            self.flash(Level::Error, text);
        }
        let plan_changed =
            before.as_ref().and_then(|b| b.plan_hash().map(str::to_string)) != board.plan_hash().map(str::to_string);
        // Said when it happens while the screen watches, not when it reads the log.
        if plan_changed
            && before.is_some()
            && let Some(p) = board.proposal.as_ref().filter(|p| p.proposed_by != me)
        {
            let text = format!("plan {} proposed by {}", short_hash(&p.plan_hash), p.proposed_by);
            self.flash(Level::Info, text);
        }
        self.sync_session_plan(plan_changed);
        self.show_shared_payload();
        self.ask_consent();
        Vec::new()
    }

    /// A node operator, an observer, or a lead who chose no strategy sees the session's
    /// plan in the plan pane; a new proposal replaces it there.
    fn sync_session_plan(&mut self, changed: bool) {
        let Some(j) = &self.joined else { return };
        let shows_session = j.role != Role::Lead || self.choice.strategy().is_none();
        if !shows_session || !(changed || matches!(self.plan, PlanState::None)) {
            return;
        }
        match self.board().and_then(|b| b.plan()).cloned() {
            Some(plan) => {
                let summary = Box::new(PlanSummary::of(&plan));
                self.plan = PlanState::Ready { plan, summary };
            }
            None if changed => self.plan = PlanState::None,
            None => {}
        }
    }

    /// A payload this screen asked for arrived: open the diff on it when its row is the
    /// selected one and nothing else is open, else say so.
    fn show_shared_payload(&mut self) {
        let arrived: Vec<String> = match (&self.joined, self.board()) {
            (Some(j), Some(b)) => j
                .awaiting
                .iter()
                .filter(|id| {
                    b.payload_requests
                        .iter()
                        .any(|r| &r.contract_id == *id && r.answer.is_some())
                })
                .cloned()
                .collect(),
            _ => return,
        };
        for id in arrived {
            if let Some(j) = self.joined.as_mut() {
                j.awaiting.remove(&id);
            }
            let shared = self
                .board()
                .map(|b| {
                    b.payload_requests
                        .iter()
                        .rev()
                        .find(|r| r.contract_id == id && r.answer.is_some())
                        .map(|r| (r.holder.clone(), r.answer.as_ref().is_some_and(|a| a.accepted)))
                })
                .unwrap_or_default();
            let Some((holder, accepted)) = shared else { continue };
            if !accepted {
                self.flash(
                    Level::Warn,
                    format!("{holder}'s operator declined to share {}", short_id(&id)),
                );
                continue;
            }
            let selected = self
                .selected_row()
                .is_some_and(|r| r.contract_id().as_ref() == id.as_str());
            if selected && self.popup.is_none() && self.prompt.is_none() && self.screen == Screen::Main {
                self.popup = self.open_diff();
            } else {
                let key = self.screen_key(Screen::Main, Action::OpenDiff);
                self.flash(
                    Level::Info,
                    format!(
                        "{holder} shared the payload of {}: {key} on its row opens the diff",
                        short_id(&id)
                    ),
                );
            }
        }
    }

    /// A payload request addressed to this node operator's participant asks its question,
    /// unless something else is open or the operator closed it.
    pub(super) fn ask_consent(&mut self) {
        if self.popup.is_some() || self.prompt.is_some() {
            return;
        }
        let (Some(j), Some(b)) = (&self.joined, self.board()) else {
            return;
        };
        let Some(me) = j.participant.as_deref() else { return };
        let open = b
            .open_requests_to(me)
            .find(|r| !j.dismissed.contains(&r.seq))
            .map(|r| r.seq);
        if let Some(request_seq) = open {
            self.popup = Some(Popup::Ask(Ask::Share { request_seq }, Button::Cancel));
        }
    }

    pub(super) fn on_federated(&mut self, result: Result<Federated, String>) -> Vec<Effect> {
        let Some(j) = self.joined.as_mut() else {
            return Vec::new();
        };
        match result {
            Ok(f) => {
                j.waiting = None;
                let n = f.comparison.participants().len();
                // Another comparison: a plan previewed from the old one is stale, and so
                // are answers still on their way.
                self.generation += 1;
                if self.choice.strategy().is_some() {
                    self.plan = PlanState::None;
                    if self.screen == Screen::Plan {
                        self.screen = Screen::Main;
                    }
                }
                self.table.refilter(&f.comparison);
                let record = Surveyed {
                    synchronizer: self.ctx.lost.clone(),
                    classes: f
                        .comparison
                        .counts()
                        .iter()
                        .map(|(c, n)| (c.as_str().to_string(), n))
                        .collect(),
                    contracts: Default::default(),
                    snapshot: None,
                };
                self.data = Some(SurveyData {
                    comparison: f.comparison,
                    payloads: Arc::new(vec![Payloads::new(); n]),
                    in_flight: f.in_flight,
                    // Manifests carry rows only: a joined screen cannot see another
                    // participant's reassignments cut short (the README says so).
                    incomplete: Default::default(),
                    // Nor their hosted parties: the pinned comparison has the rows alone.
                    hosted: Default::default(),
                    snapshot: crate::journal::Recorded::Nothing,
                });
                self.survey = SurveyState::Ready;
                self.sync_session_plan(false);
                vec![Effect::RecordSurvey {
                    generation: self.generation,
                    record,
                }]
            }
            Err(why) => {
                j.waiting = Some(why);
                if self.data.is_none() {
                    self.survey = SurveyState::Loading;
                }
                Vec::new()
            }
        }
    }

    pub(super) fn on_session_answer(&mut self, command: &'static str, result: Result<String, String>) -> Vec<Effect> {
        if let Some(j) = self.joined.as_mut() {
            j.sending = j.sending.saturating_sub(1);
        }
        match result {
            Ok(text) => self.flash(Level::Info, text),
            Err(e) => self.flash(Level::Error, format!("{command} refused: {e}")),
        }
        Vec::new()
    }

    pub(super) fn on_deck_stopped(&mut self, result: Result<RunReport, String>) -> Vec<Effect> {
        let Some(j) = self.joined.as_mut() else {
            return Vec::new();
        };
        match result {
            Ok(report) => {
                j.deck = DeckState::Finished { ok: report.ok };
                self.flash(Level::Info, "your deck's part of the run is over");
            }
            Err(e) => {
                j.deck = DeckState::Stopped(e.clone());
                let key = self.screen_key(Screen::Main, Action::Refresh);
                self.flash(Level::Error, format!("your deck stopped: {e} ({key} starts it again)"));
            }
        }
        if let Some(e) = self.exec.as_mut() {
            e.finished = true;
        }
        Vec::new()
    }

    /// The deck started its part of a plan (after a go): the execution screen follows it.
    pub(super) fn deck_progress(&mut self, p: &Progress) {
        let Some(j) = &self.joined else { return };
        let Progress::Journal(event) = p else { return };
        let Some(EventData::RunStarted(started)) = &event.body else {
            return;
        };
        let plan = self
            .board()
            .and_then(|b| b.plan())
            .filter(|plan| plan.hash() == started.plan_hash)
            .cloned();
        if let (Some(plan), Some(me)) = (plan, j.participant.clone()) {
            self.exec = Some(ExecView::new(&plan).only(&me));
            self.screen = Screen::Execution;
        }
    }

    /// Shows the session's plan in the plan pane.
    pub(super) fn show_session_plan(&mut self) -> Vec<Effect> {
        self.sync_session_plan(true);
        if matches!(self.plan, PlanState::Ready { .. }) {
            self.screen = Screen::Plan;
            self.plan_view = Scroll::default();
        } else {
            self.flash(Level::Warn, "no plan has been proposed in this session yet");
        }
        Vec::new()
    }
}

fn short_id(id: &str) -> String {
    crate::tui::ui::text::fit(id, 17)
}
