//! Following the session log: its hash chain checked as events arrive ([`Chain`]), each
//! event folded into a [`SessionState`] ([`fold`]), and a [`Feed`] that follows the log in
//! the background — replay, then live, reconnecting from the last seq — for a deck to
//! wait on ([`until`]).

use super::client::{Hello, SessionClient, SessionError};
use super::event::SessionEvent;
use super::state::SessionState;
use crate::exec::Backoff;
use crate::journal::{self, Actor, Header};
use crate::wire::collab::{self as pb, WatchRequest, watch_response::Item};
use std::time::Duration;
use tokio::sync::watch;
use tonic::Code;

/// A refusal that retrying cannot change.
fn is_final(code: Code) -> bool {
    matches!(
        code,
        Code::PermissionDenied | Code::Unauthenticated | Code::InvalidArgument | Code::NotFound
    )
}

/// Checks the log's hash chain as events arrive.
pub struct Chain {
    prev: String,
    next: u64,
}

impl Chain {
    pub fn new(header: &Header) -> Chain {
        Chain {
            prev: journal::header_hash(header),
            next: 1,
        }
    }

    pub fn next_seq(&self) -> u64 {
        self.next
    }

    /// The journal event of a wire event, if it is the next one; `Ok(None)` for one
    /// already seen.
    pub fn accept(&mut self, e: &pb::Event) -> Result<Option<journal::Event>, SessionError> {
        if e.seq < self.next {
            return Ok(None);
        }
        let chain = |message: String| SessionError::Chain { seq: e.seq, message };
        if e.seq > self.next {
            return Err(chain(format!(
                "expected seq {}, the coordinator sent {}",
                self.next, e.seq
            )));
        }
        let data = serde_json::from_str(&e.data_json).map_err(|err| chain(format!("data is not JSON: {err}")))?;
        let event = journal::Event {
            seq: e.seq,
            ts: e.ts.clone(),
            t: e.t,
            actor: Actor {
                op: e.operator.clone(),
                node: (!e.participant.is_empty()).then(|| e.participant.clone()),
            },
            kind: e.kind.clone(),
            data,
            prev: e.prev.clone(),
            hash: e.hash.clone(),
            body: None,
        };
        if event.prev != self.prev {
            return Err(chain("prev does not match the previous event's hash".into()));
        }
        if journal::event_hash(&event) != event.hash {
            return Err(chain("the event does not match its hash".into()));
        }
        self.prev = event.hash.clone();
        self.next += 1;
        Ok(Some(event))
    }
}

/// Folds a journal event into `state` (unknown kinds only advance the head).
pub fn fold(state: &mut SessionState, e: &journal::Event) -> Result<(), SessionError> {
    match SessionEvent::from_journal(&e.kind, &e.data) {
        Ok(Some((event, _))) => state.apply(e.seq, &e.hash, &event),
        Ok(None) => {
            state.head_seq = e.seq;
            state.head_hash = e.hash.clone();
        }
        Err(message) => return Err(SessionError::Chain { seq: e.seq, message }),
    }
    Ok(())
}

/// What a following deck knows of the session.
#[derive(Debug, Default)]
pub struct FeedState {
    pub session: SessionState,
    /// The replay caught up with the log at least once.
    pub synced: bool,
    /// A stream is open now.
    pub connected: bool,
    /// The feed stopped for good (refused, or the log does not verify).
    pub fatal: Option<String>,
}

/// Follows the log in the background for as long as it lives.
pub struct Feed {
    rx: watch::Receiver<FeedState>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Feed {
    /// Starts following; with `presence` the stream (and a heartbeat every
    /// `heartbeat`) is the operator's presence in the session.
    pub fn start(
        client: SessionClient,
        hello: &Hello,
        participant: Option<String>,
        presence: bool,
        heartbeat: Duration,
    ) -> Feed {
        let (tx, rx) = watch::channel(FeedState::default());
        let header = hello.header.clone();
        let follower = {
            let client = client.clone();
            tokio::spawn(async move { follow(client, header, participant, presence, tx).await })
        };
        let mut tasks = vec![follower];
        if presence {
            tasks.push(tokio::spawn(async move {
                let mut every = tokio::time::interval(heartbeat);
                loop {
                    every.tick().await;
                    let _ = client.heartbeat().await;
                }
            }));
        }
        Feed { rx, tasks }
    }

    pub fn receiver(&self) -> watch::Receiver<FeedState> {
        self.rx.clone()
    }

    /// Waits until `f` says something about the state; fails if the feed stopped.
    pub async fn until<T>(&self, mut f: impl FnMut(&SessionState) -> Option<T>) -> Result<T, SessionError> {
        until(&mut self.rx.clone(), |s| if s.synced { f(&s.session) } else { None }).await
    }
}

/// Waits on a feed until `f` returns something.
pub async fn until<T>(
    rx: &mut watch::Receiver<FeedState>,
    mut f: impl FnMut(&FeedState) -> Option<T>,
) -> Result<T, SessionError> {
    loop {
        {
            let s = rx.borrow_and_update();
            if let Some(fatal) = &s.fatal {
                return Err(SessionError::Other(fatal.clone()));
            }
            if let Some(t) = f(&s) {
                return Ok(t);
            }
        }
        if rx.changed().await.is_err() {
            return Err(SessionError::Other("the session feed stopped".into()));
        }
    }
}

async fn follow(
    client: SessionClient,
    header: Header,
    participant: Option<String>,
    presence: bool,
    tx: watch::Sender<FeedState>,
) {
    let mut chain = Chain::new(&header);
    // A follower reconnects sooner than a command retries: it is the operator's live view.
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
    let mut ever_connected = false;
    let fatal = |tx: &watch::Sender<FeedState>, message: String| {
        tx.send_modify(|s| {
            s.fatal = Some(message);
            s.connected = false;
        })
    };
    loop {
        let req = WatchRequest {
            from_seq: chain.next_seq(),
            follow: true,
            participant: participant.clone().unwrap_or_default(),
            presence,
        };
        match client.open_watch(req).await {
            Ok(mut stream) => {
                ever_connected = true;
                tx.send_modify(|s| s.connected = true);
                loop {
                    match stream.message().await {
                        Ok(Some(pb::WatchResponse {
                            item: Some(Item::Event(e)),
                        })) => match chain.accept(&e) {
                            Ok(Some(event)) => {
                                let mut failed = None;
                                tx.send_modify(|s| {
                                    if let Err(err) = fold(&mut s.session, &event) {
                                        failed = Some(err.to_string());
                                    }
                                });
                                if let Some(m) = failed {
                                    return fatal(&tx, m);
                                }
                                backoff.reset();
                            }
                            Ok(None) => {}
                            Err(SessionError::Chain { message, .. }) if message.starts_with("expected seq") => break,
                            Err(err) => return fatal(&tx, err.to_string()),
                        },
                        Ok(Some(_)) => {
                            tx.send_if_modified(|s| !std::mem::replace(&mut s.synced, true));
                        }
                        Ok(None) => break,
                        Err(s) if is_final(s.code()) => {
                            return fatal(&tx, SessionError::refused("Watch", s).to_string());
                        }
                        Err(_) => break,
                    }
                }
                tx.send_modify(|s| s.connected = false);
            }
            Err(s) if is_final(s.code()) => return fatal(&tx, SessionError::refused("Watch", s).to_string()),
            // Refused at the start (another deck serves the participant): say so and stop.
            // Once in, a refusal on reconnecting is waited out (the old stream may not be
            // gone yet on the coordinator's side).
            Err(s) if s.code() == Code::FailedPrecondition && !ever_connected => {
                return fatal(&tx, SessionError::refused("Watch", s).to_string());
            }
            Err(_) => {}
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_refuses_edits_and_gaps() {
        let header = Header::new("i", "coordinator", vec![]);
        let mut chain = Chain::new(&header);
        let mut e = journal::Event {
            seq: 1,
            ts: "t".into(),
            t: 0.5,
            actor: Actor {
                op: "coordinator".into(),
                node: None,
            },
            kind: "session.go".into(),
            data: serde_json::json!({"plan_hash": "h", "by": "lead"}),
            prev: journal::header_hash(&header),
            hash: String::new(),
            body: None,
        };
        e.hash = journal::event_hash(&e);
        let wire = |e: &journal::Event| pb::Event {
            seq: e.seq,
            ts: e.ts.clone(),
            t: e.t,
            operator: e.actor.op.clone(),
            participant: String::new(),
            kind: e.kind.clone(),
            data_json: e.data.to_string(),
            prev: e.prev.clone(),
            hash: e.hash.clone(),
        };
        let mut edited = wire(&e);
        edited.data_json = r#"{"plan_hash":"other","by":"lead"}"#.into();
        assert!(chain.accept(&edited).is_err());
        let mut gap = wire(&e);
        gap.seq = 2;
        assert!(chain.accept(&gap).is_err());
        assert!(chain.accept(&wire(&e)).expect("ok").is_some());
        assert!(
            chain.accept(&wire(&e)).expect("seen").is_none(),
            "a replayed event is skipped"
        );
        assert_eq!(chain.next_seq(), 2);
    }
}
