//! The session's keys on a joined screen, by role (each bound only in its role's layer):
//! the lead proposes, says go, pauses and aborts; a node operator approves and answers
//! payload requests; both ask for payloads. Each sends a command bound to the plan hash
//! on screen, and the coordinator refuses what the role may not do.

use super::{App, Ask, Button, ConfirmView, Level, PlanState, Popup, Purpose, Screen};
use crate::collab::event::Role;
use crate::collab::state::RunState;
use crate::journal::EventData;
use crate::reconcile::ParticipantState;
use crate::tui::action::Action;
use crate::tui::msg::{Effect, SessionCmd};
use crate::tui::ui::text::short_hash;

impl App {
    /// The session keys, by role (each only bound in its role's layer).
    pub(super) fn session_action(&mut self, action: Action) -> Vec<Effect> {
        let Some(j) = &self.joined else {
            self.flash(Level::Warn, "this works on a screen joined to a session (tui --join)");
            return Vec::new();
        };
        if let Some(fatal) = self.board().and_then(|b| b.fatal.clone()) {
            self.flash(Level::Error, format!("the session feed stopped: {fatal}"));
            return Vec::new();
        }
        let role = j.role;
        let me = j.participant.clone().unwrap_or_default();
        let proposal = self.board().and_then(|b| b.proposal.clone());
        let run = self.board().map(|b| b.run.clone()).unwrap_or_default();
        let no_plan = "no plan has been proposed in this session yet";
        match action {
            Action::Propose => {
                let PlanState::Ready { plan, .. } = &self.plan else {
                    let key = self.screen_key(Screen::Main, Action::PlanPreview);
                    self.flash(
                        Level::Warn,
                        format!("preview a plan first ({key}), or :propose RUNBOOK"),
                    );
                    return Vec::new();
                };
                if proposal.as_ref().is_some_and(|p| p.plan_hash == plan.hash()) {
                    self.flash(Level::Info, "this plan is the session's plan already");
                    return Vec::new();
                }
                let plan = plan.clone();
                return self.send(SessionCmd::Propose(plan));
            }
            Action::Go => {
                let Some(p) = proposal else {
                    self.flash(Level::Warn, no_plan);
                    return Vec::new();
                };
                if run == RunState::Running {
                    self.flash(Level::Warn, "the run is already going");
                    return Vec::new();
                }
                match &p.plan {
                    None => {
                        self.flash(Level::Error, "the session's runbook does not load here");
                        return Vec::new();
                    }
                    // What the decks will check before they approve, checked before go too.
                    Some(plan) if plan.hash() != p.plan_hash => {
                        let text = format!(
                            "the session's runbook hashes to {}, not to the {} it claims: do not go",
                            short_hash(plan.hash()),
                            short_hash(&p.plan_hash)
                        );
                        self.flash(Level::Error, text);
                        return Vec::new();
                    }
                    Some(_) => {}
                }
                self.popup = Some(Popup::Confirm(ConfirmView::new(Purpose::Go { plan_hash: p.plan_hash })));
            }
            Action::PauseRun => match proposal {
                Some(p) if run == RunState::Running => {
                    return self.send(SessionCmd::Pause { plan_hash: p.plan_hash });
                }
                _ => self.flash(Level::Warn, "the run is not going"),
            },
            Action::Abort => match proposal {
                Some(p) if matches!(run, RunState::Idle | RunState::Running | RunState::Paused { .. }) => {
                    self.popup = Some(Popup::Ask(Ask::Abort { plan_hash: p.plan_hash }, Button::Cancel));
                }
                Some(_) => self.flash(Level::Warn, "the run has already ended"),
                None => self.flash(Level::Warn, no_plan),
            },
            Action::Approve => {
                let Some(p) = proposal else {
                    self.flash(Level::Warn, no_plan);
                    return Vec::new();
                };
                if !p.participants.contains(&me) {
                    self.flash(
                        Level::Warn,
                        format!("plan {} does not involve {me}", short_hash(&p.plan_hash)),
                    );
                } else if self
                    .board()
                    .and_then(|b| b.participant(&me))
                    .and_then(|l| l.approval.as_ref())
                    .is_some_and(|a| a.plan_hash == p.plan_hash)
                {
                    self.flash(
                        Level::Info,
                        format!("{me} approved plan {} already", short_hash(&p.plan_hash)),
                    );
                } else if p.plan.is_none() {
                    self.flash(
                        Level::Error,
                        "the session's runbook does not load here: do not approve it",
                    );
                } else {
                    self.popup = Some(Popup::Confirm(ConfirmView::new(Purpose::Approve {
                        plan_hash: p.plan_hash,
                    })));
                }
            }
            Action::RequestPayload => return self.request_payload(role),
            Action::AnswerPayload => {
                let open = self.board().and_then(|b| b.open_requests_to(&me).next().map(|r| r.seq));
                match open {
                    Some(request_seq) => {
                        if let Some(j) = self.joined.as_mut() {
                            j.dismissed.remove(&request_seq);
                        }
                        self.popup = Some(Popup::Ask(Ask::Share { request_seq }, Button::Cancel));
                    }
                    None => self.flash(Level::Info, format!("no payload request for {me} is open")),
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// Asks the selected row's other holders for its payload.
    fn request_payload(&mut self, role: Role) -> Vec<Effect> {
        let me = self.joined.as_ref().and_then(|j| j.participant.clone());
        let (Some(d), Some(row)) = (self.data.as_ref(), self.selected_row()) else {
            return Vec::new();
        };
        let id = row.contract_id().to_string();
        let holders: Vec<String> = row
            .states()
            .iter()
            .zip(d.comparison.participants())
            .filter(|(s, name)| {
                matches!(s, ParticipantState::Active { .. } | ParticipantState::Differs { .. })
                    && me.as_deref() != Some(name.as_str())
            })
            .map(|(_, name)| name.clone())
            .collect();
        if holders.is_empty() || role == Role::Observer {
            self.flash(Level::Warn, "no other participant holds this row's payload");
            return Vec::new();
        }
        if let Some(j) = self.joined.as_mut() {
            j.awaiting.insert(id.clone());
        }
        let mut effects = Vec::new();
        for holder in holders {
            effects.extend(self.send(SessionCmd::RequestPayload {
                contract_id: id.clone(),
                holder,
            }));
        }
        effects
    }

    /// `:propose RUNBOOK`: the lead proposes a runbook file.
    pub(super) fn propose_file(&mut self, path: &str) -> Vec<Effect> {
        if self.joined.as_ref().is_none_or(|j| j.role != Role::Lead) {
            self.flash(Level::Warn, "only the lead of a session proposes plans");
            return Vec::new();
        }
        self.send(SessionCmd::ProposeFile(path.into()))
    }

    /// Sends a command to the session; its answer comes back as a flash.
    pub(super) fn send(&mut self, cmd: SessionCmd) -> Vec<Effect> {
        if let Some(j) = self.joined.as_mut() {
            j.sending += 1;
        }
        vec![Effect::Session(cmd)]
    }

    /// A typed confirmation of an approval or a go was accepted.
    pub(super) fn confirmed(&mut self, purpose: Purpose) -> Vec<Effect> {
        if let Purpose::Approve { plan_hash } | Purpose::Go { plan_hash } = &purpose
            && self.board().and_then(|b| b.plan_hash()) != Some(plan_hash.as_str())
        {
            self.flash(Level::Warn, "the plan changed while you confirmed: review the new plan");
            return Vec::new();
        }
        match purpose {
            Purpose::Execute => self.execute(),
            Purpose::Approve { plan_hash } => {
                let mut effects = vec![Effect::Record(EventData::PlanApproved(crate::journal::PlanApproved {
                    plan_hash: plan_hash.clone(),
                    confirmed_by_typing: self.ctx.target.clone(),
                    unattended: false,
                }))];
                effects.extend(self.send(SessionCmd::Approve { plan_hash }));
                effects
            }
            Purpose::Go { plan_hash } => self.send(SessionCmd::Go { plan_hash }),
        }
    }

    /// An answer to a session question (abort, share).
    pub(super) fn answered(&mut self, ask: Ask, proceed: bool) -> Vec<Effect> {
        match ask {
            Ask::Abort { plan_hash } if proceed => self.send(SessionCmd::Abort { plan_hash }),
            Ask::Abort { .. } => Vec::new(),
            Ask::Share { request_seq } => self.send(SessionCmd::AnswerPayload {
                request_seq,
                accept: proceed,
            }),
        }
    }

    /// The question closed without an answer: it stays open in the session.
    pub(super) fn dismissed(&mut self, ask: &Ask) {
        if let (Ask::Share { request_seq }, Some(j)) = (ask, self.joined.as_mut()) {
            j.dismissed.insert(*request_seq);
            let key = self.screen_key(Screen::Main, Action::AnswerPayload);
            self.flash(Level::Info, format!("the request stays open; {key} answers it"));
        }
    }
}
