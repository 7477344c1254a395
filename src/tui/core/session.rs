//! The effects of a screen joined to a session, carried out over `collab`: a follower
//! that turns the feed into boards (and the manifests into the federated comparison when
//! they change), the node operator's deck serving in the background, and the commands
//! the keys send. The coordinator decides what a role may do and the deck re-surveys
//! before approving; nothing here re-implements either.

use super::{Core, Envelope};
use crate::collab::board::{Board, Pending, SurveyMark};
use crate::collab::client::{Hello, SessionClient};
use crate::collab::deck::{Deck, DeckOptions};
use crate::collab::feed::Feed;
use crate::collab::manifest;
use crate::collab::state::SessionState;
use crate::plan::{self, RunbookMeta};
use crate::tui::msg::{Effect, Federated, Msg, SessionCmd};
use crate::tui::ui::text::short_hash;
use crate::wire::collab::ControlAction;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What a joined screen holds of the session.
pub struct SessionLink {
    pub client: SessionClient,
    pub hello: Hello,
    /// The screen's stream: its operator's presence (and a node operator's deck's).
    pub feed: Arc<Feed>,
    /// A node operator's deck, over their own participant only.
    pub deck: Option<Arc<Deck>>,
    pub deck_options: DeckOptions,
}

/// The open inspections and the federated comparison (or why there is none yet) of
/// the manifests and answers in `s`: a walk of every manifest, off the async workers.
async fn survey_of(s: SessionState) -> (Pending, Result<Federated, String>) {
    let worked = tokio::task::spawn_blocking(move || {
        let pending = s.pending_inspections();
        let federated = manifest::federated_comparison(&s.lost, &s.participants, &s.manifests, &s.answers)
            .map(|f| Federated {
                comparison: Arc::new(f.comparison),
                in_flight: f.in_flight,
            })
            .map_err(|e| e.to_string());
        (pending, federated)
    })
    .await;
    worked.unwrap_or_else(|e| (Pending::new(), Err(format!("building the comparison stopped: {e}"))))
}

impl Core {
    /// Follows the session for as long as the screen lives. Not a ticketed effect: it
    /// never answers, it only reports.
    pub(super) fn follow_session(&mut self) {
        let Some(link) = self.services.session.as_ref() else {
            return;
        };
        let mut rx = link.feed.receiver();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let mut built: Option<SurveyMark> = None;
            let mut pending = Pending::new();
            loop {
                // What the survey needs is copied only when a manifest or an answer
                // changed, and worked on after the borrow: the feed is never held up.
                let inputs = {
                    let s = rx.borrow_and_update();
                    let mark = SurveyMark::of(&s.session);
                    (s.synced && built.as_ref() != Some(&mark)).then(|| {
                        let state = SessionState {
                            lost: s.session.lost.clone(),
                            participants: s.session.participants.clone(),
                            manifests: s.session.manifests.clone(),
                            answers: s.session.answers.clone(),
                            ..SessionState::default()
                        };
                        (state, mark)
                    })
                };
                let mut federated = None;
                if let Some((state, mark)) = inputs {
                    built = Some(mark);
                    let (open, result) = survey_of(state).await;
                    pending = open;
                    federated = Some(result);
                }
                let board = Board::of(&rx.borrow(), &pending);
                if tx.send(Envelope::Progress(Msg::Board(Arc::new(board)))).is_err() {
                    return;
                }
                if let Some(result) = federated
                    && tx.send(Envelope::Progress(Msg::Federated(result))).is_err()
                {
                    return;
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        });
    }

    pub(super) fn dispatch_session(&mut self, effect: Effect) {
        let Some(link) = self.services.session.clone() else {
            if let Effect::Session(cmd) = effect {
                let reply = self.issue(format!("session {}", cmd.name()));
                reply.answer(Msg::SessionAnswer {
                    command: cmd.name(),
                    result: Err("this screen is not joined to a session".into()),
                });
            }
            return;
        };
        match effect {
            Effect::ServeDeck => {
                let Some(deck) = link.deck.clone() else { return };
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let (ptx, mut prx) = mpsc::unbounded_channel();
                    let forward = {
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            while let Some(p) = prx.recv().await {
                                let _ = tx.send(Envelope::Progress(Msg::Exec(p)));
                            }
                        })
                    };
                    let served = deck.serve_on(&link.feed, &link.deck_options, Some(ptx)).await;
                    // Every progress message first: the channel closes with the deck's run.
                    let _ = forward.await;
                    let _ = tx.send(Envelope::Progress(Msg::DeckStopped(served.map_err(|e| e.to_string()))));
                });
            }
            Effect::Session(cmd) => {
                let command = cmd.name();
                self.spawn(format!("session {command}"), move |reply| async move {
                    let result = command_result(&link, cmd).await;
                    reply.answer(Msg::SessionAnswer { command, result });
                });
            }
            _ => {}
        }
    }
}

/// The session's state now, for a command that checks it (a copy: never hold the feed).
fn state_now(link: &SessionLink) -> SessionState {
    link.feed.receiver().borrow().session.clone()
}

fn deck_of(link: &SessionLink) -> Result<&Deck, String> {
    link.deck
        .as_deref()
        .ok_or_else(|| format!("{} acts for no participant on this screen", link.hello.operator))
}

/// The lead's go, pause or abort, bound to the hash the lead saw: a plan proposed
/// meanwhile is refused by the coordinator.
async fn control(link: &SessionLink, action: ControlAction, plan_hash: &str, reason: &str) -> Result<String, String> {
    let ack = link
        .client
        .control(action, plan_hash, reason)
        .await
        .map_err(|e| e.to_string())?;
    let word = match action {
        ControlAction::Go => "go",
        ControlAction::Pause => "pause",
        _ => "abort",
    };
    Ok(format!("{word} for plan {} (seq {})", short_hash(plan_hash), ack.seq))
}

async fn command_result(link: &SessionLink, cmd: SessionCmd) -> Result<String, String> {
    let client = &link.client;
    let text = |e: &dyn std::fmt::Display| e.to_string();
    match cmd {
        SessionCmd::Propose(plan) => {
            let meta = RunbookMeta {
                created: jiff::Timestamp::now().to_string(),
                proposed_by: link.hello.operator.clone(),
            };
            let (toml, sidecar) = plan::to_runbook(&plan, &meta).map_err(|e| text(&e))?;
            let ack = client
                .propose(&toml, sidecar.as_ref().map(|s| s.text.as_str()))
                .await
                .map_err(|e| text(&e))?;
            Ok(format!("proposed plan {} (seq {})", short_hash(plan.hash()), ack.seq))
        }
        SessionCmd::ProposeFile(path) => {
            let file = crate::runbook_file::read(&path).map_err(|e| text(&e))?;
            let ack = client
                .propose(&file.toml, file.sidecar.as_deref())
                .await
                .map_err(|e| text(&e))?;
            Ok(format!(
                "proposed plan {} from {} (seq {})",
                short_hash(file.loaded.plan.hash()),
                path.display(),
                ack.seq
            ))
        }
        SessionCmd::Go { plan_hash } => control(link, ControlAction::Go, &plan_hash, "").await,
        SessionCmd::Pause { plan_hash } => {
            control(link, ControlAction::Pause, &plan_hash, "from the session screen").await
        }
        SessionCmd::Abort { plan_hash } => {
            control(link, ControlAction::Abort, &plan_hash, "from the session screen").await
        }
        SessionCmd::Approve { plan_hash } => {
            let deck = deck_of(link)?;
            let state = state_now(link);
            if state.plan_hash() != Some(plan_hash.as_str()) {
                return Err(format!(
                    "the session's plan changed to {} while you confirmed {}; review it",
                    short_hash(state.plan_hash().unwrap_or("none")),
                    short_hash(&plan_hash)
                ));
            }
            let (_, digest) = deck
                .approve(&state, "approved on the session screen")
                .await
                .map_err(|e| text(&e))?;
            Ok(format!(
                "approved plan {} for {} (holdings {})",
                short_hash(&plan_hash),
                deck.participant,
                short_hash(&digest)
            ))
        }
        SessionCmd::RequestPayload { contract_id, holder } => {
            let ack = client
                .request_payload(&contract_id, &holder, "to compare payloads on the session screen")
                .await
                .map_err(|e| text(&e))?;
            Ok(format!(
                "asked {holder}'s operator for the payload of {} (request seq {}); they must accept",
                crate::tui::ui::text::fit(&contract_id, 17),
                ack.seq
            ))
        }
        SessionCmd::AnswerPayload { request_seq, accept } => {
            let deck = deck_of(link)?;
            let reason = if accept { "" } else { "declined on the session screen" };
            deck.share(&state_now(link), request_seq, accept, reason)
                .await
                .map_err(|e| text(&e))?;
            Ok(if accept {
                format!("shared the payload asked for in request {request_seq}")
            } else {
                format!("declined payload request {request_seq}")
            })
        }
    }
}
