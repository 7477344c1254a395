//! The coordinator (`recovery-deck serve`): one writer of the session's log. Every command
//! is authenticated, checked by [`rules`] against the folded state, appended (fsynced)
//! and only then acknowledged; watchers get the log replayed from any seq, then live.
//! Reopening the file after a restart continues its seq and hash chain. The coordinator
//! has no participant client: it cannot act on a participant, only order and relay.
//!
//! This file keeps the log and the operators' presence; [`service`] is its gRPC face.

use super::access::{Access, Authenticator};
use super::event::SessionEvent;
use super::rules::{self, Caller, Command, Refusal};
use super::state::SessionState;
use crate::journal::{self, Actor, Header, JournalWriter, ParticipantRef};
use crate::wire::collab::{self as pb, Ack, coordinator_server::CoordinatorServer};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use tonic::Status;

/// Largest gRPC message either side accepts (manifests and runbooks of big incidents).
pub const MAX_MESSAGE: usize = 64 * 1024 * 1024;
/// Largest ACS snapshot accepted in one upload.
pub const MAX_UPLOAD: u64 = 2 * 1024 * 1024 * 1024;
const REPLAY_BATCH: usize = 256;
const COORDINATOR: &str = "coordinator";

#[derive(Debug, Clone)]
pub struct CoordinatorOptions {
    /// The session log (journal format).
    pub session: PathBuf,
    /// An operator without a heartbeat or open stream for this long has left.
    pub presence_timeout: Duration,
    /// How often an idle watch stream gets a tick.
    pub tick: Duration,
    /// Live events buffered per watcher; one that falls further behind re-reads the log.
    pub live_capacity: usize,
}

impl CoordinatorOptions {
    pub fn new(session: PathBuf) -> CoordinatorOptions {
        CoordinatorOptions {
            session,
            presence_timeout: Duration::from_secs(10),
            tick: Duration::from_secs(2),
            live_capacity: 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error("session log {path}: {message}")]
    Log { path: String, message: String },
    #[error("{0}")]
    Io(String),
}

/// An operator's live connections, beside what the log says about their presence.
struct Presence {
    /// Open presence streams.
    streams: usize,
    /// Of those, streams of a deck serving the operator's participant.
    serving: usize,
    last_seen: Instant,
    /// Not seen since this coordinator started (the log says present from before).
    from_before: bool,
}

struct Inner {
    writer: JournalWriter,
    header_json: String,
    state: SessionState,
    /// The whole log as sent on the wire; `events[i].seq == i + 1`.
    events: Vec<Arc<pb::Event>>,
    /// Client request id -> seq of the last event it logged.
    requests: HashMap<String, u64>,
    presence: HashMap<String, Presence>,
}

/// The coordinator service; cheap to clone (shared state).
#[derive(Clone)]
pub struct Coordinator {
    inner: Arc<Mutex<Inner>>,
    live: broadcast::Sender<Arc<pb::Event>>,
    access: Arc<Access>,
    blobs: PathBuf,
    options: CoordinatorOptions,
}

fn to_wire(e: &journal::Event) -> pb::Event {
    pb::Event {
        seq: e.seq,
        ts: e.ts.clone(),
        t: e.t,
        operator: e.actor.op.clone(),
        participant: e.actor.node.clone().unwrap_or_default(),
        kind: e.kind.clone(),
        data_json: e.data.to_string(),
        prev: e.prev.clone(),
        hash: e.hash.clone(),
    }
}

fn refusal(r: Refusal) -> Status {
    match r {
        Refusal::Forbidden(m) => Status::permission_denied(m),
        Refusal::Precondition(m) => Status::failed_precondition(m),
        Refusal::Invalid(m) => Status::invalid_argument(m),
        Refusal::NotFound(m) => Status::not_found(m),
    }
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

fn actor(caller: &Caller) -> Actor {
    Actor {
        op: caller.operator.clone(),
        node: caller.participant.clone(),
    }
}

fn coordinator_actor() -> Actor {
    Actor {
        op: COORDINATOR.into(),
        node: None,
    }
}

impl Coordinator {
    /// Opens the session log (creating it on first start) and folds it.
    pub fn open(access: Arc<Access>, options: CoordinatorOptions) -> Result<Coordinator, CoordinatorError> {
        let path = options.session.clone();
        let p = path.display().to_string();
        let roster = access.roster().clone();
        let mut blobs = path.clone().into_os_string();
        blobs.push(".blobs");
        let blobs = PathBuf::from(blobs);
        std::fs::create_dir_all(&blobs).map_err(|e| CoordinatorError::Io(format!("{}: {e}", blobs.display())))?;
        let (live, _) = broadcast::channel(options.live_capacity.max(1));
        let fresh = !path.exists();
        let (writer, existing) = if fresh {
            let participants = roster
                .participants()
                .into_iter()
                .map(|name| ParticipantRef {
                    name,
                    endpoint: String::new(),
                })
                .collect();
            let header = Header::new(&roster.incident, COORDINATOR, participants);
            (JournalWriter::create(&path, &header)?, None)
        } else {
            // append_to cuts a line torn by a crash; read then sees only whole lines.
            let writer = JournalWriter::append_to(&path)?;
            (writer, Some(journal::read(&path)?))
        };
        let header = match &existing {
            Some(j) => j.header.clone(),
            None => journal::read(&path)?.header,
        };
        if header.incident != roster.incident {
            return Err(CoordinatorError::Log {
                path: p,
                message: format!(
                    "it is the log of incident {}, but the access file is for {}; use another --session file",
                    header.incident, roster.incident
                ),
            });
        }
        let header_json = serde_json::to_string(&header).map_err(internal_io)?;
        let mut inner = Inner {
            writer,
            header_json,
            state: SessionState::default(),
            events: Vec::new(),
            requests: HashMap::new(),
            presence: HashMap::new(),
        };
        for e in existing.map(|j| j.events).unwrap_or_default() {
            match SessionEvent::from_journal(&e.kind, &e.data) {
                Ok(Some((event, request_id))) => {
                    inner.state.apply(e.seq, &e.hash, &event);
                    if let Some(id) = request_id {
                        inner.requests.insert(id, e.seq);
                    }
                }
                Ok(None) => {}
                Err(message) => {
                    return Err(CoordinatorError::Log {
                        path: p,
                        message: format!("event {}: {message}", e.seq),
                    });
                }
            }
            inner.events.push(Arc::new(to_wire(&e)));
        }
        let now = Instant::now();
        for o in inner.state.operators.values().filter(|o| o.present) {
            inner.presence.insert(
                o.name.clone(),
                Presence {
                    streams: 0,
                    serving: 0,
                    last_seen: now,
                    from_before: true,
                },
            );
        }
        let coordinator = Coordinator {
            inner: Arc::new(Mutex::new(inner)),
            live,
            access,
            blobs,
            options,
        };
        {
            let mut inner = coordinator.lock();
            let first = if fresh {
                SessionEvent::Opened(roster)
            } else {
                SessionEvent::Restarted(roster)
            };
            coordinator
                .commit(&mut inner, &coordinator_actor(), vec![first], None)
                .map_err(|s| CoordinatorError::Io(s.message().to_string()))?;
        }
        Ok(coordinator)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The folded state now (a copy).
    pub fn state(&self) -> SessionState {
        self.lock().state.clone()
    }

    /// Appends one event: on disk (fsynced) before it is folded, broadcast or acknowledged.
    fn append(
        &self,
        inner: &mut Inner,
        actor: &Actor,
        event: &SessionEvent,
        request_id: Option<&str>,
    ) -> Result<u64, Status> {
        let (kind, data) = event.to_journal(request_id).map_err(internal)?;
        // Every session event decides or records the session's course: all are fsynced.
        let e = inner
            .writer
            .append_raw(&kind, actor.clone(), data, true)
            .map_err(internal)?;
        inner.state.apply(e.seq, &e.hash, event);
        if let Some(id) = request_id {
            inner.requests.insert(id.to_string(), e.seq);
        }
        let wire = Arc::new(to_wire(&e));
        inner.events.push(wire.clone());
        let _ = self.live.send(wire);
        Ok(e.seq)
    }

    /// Appends a command's events, then whatever barriers they open.
    fn commit(
        &self,
        inner: &mut Inner,
        actor: &Actor,
        events: Vec<SessionEvent>,
        request_id: Option<&str>,
    ) -> Result<u64, Status> {
        let mut seq = inner.state.head_seq;
        for e in &events {
            seq = self.append(inner, actor, e, request_id)?;
        }
        while let Some(e) = rules::next_step(&inner.state) {
            self.append(inner, &coordinator_actor(), &e, None)?;
        }
        Ok(seq)
    }

    /// Runs one command: deduplicated by request id, checked, logged, acknowledged.
    fn command(&self, caller: &Caller, request_id: &str, command: Command) -> Result<Ack, Status> {
        if request_id.trim().is_empty() {
            return Err(Status::invalid_argument("request_id is required"));
        }
        let mut inner = self.lock();
        if let Some(seq) = inner.requests.get(request_id) {
            return Ok(Ack {
                seq: *seq,
                duplicate: true,
                plan_hash: inner.state.plan_hash().unwrap_or_default().to_string(),
            });
        }
        let events = rules::decide(&inner.state, caller, command).map_err(refusal)?;
        let duplicate = events.is_empty();
        let seq = if duplicate {
            inner.state.head_seq
        } else {
            self.commit(&mut inner, &actor(caller), events, Some(request_id))?
        };
        Ok(Ack {
            seq,
            duplicate,
            plan_hash: inner.state.plan_hash().unwrap_or_default().to_string(),
        })
    }

    fn presence_events(&self, inner: &mut Inner, events: Vec<SessionEvent>) {
        if let Err(e) = self.commit(inner, &coordinator_actor(), events, None) {
            tracing::error!("cannot log a presence change: {}", e.message());
        }
    }

    /// A presence stream opens; `serving` when it is a deck serving the caller's
    /// participant, which only one deck may do at a time.
    fn connect(&self, caller: &Caller, serving: bool) -> Result<(), Status> {
        let mut inner = self.lock();
        if serving && let Some(p) = caller.participant.as_deref() {
            let busy = inner
                .state
                .operators_of(p)
                .find(|o| inner.presence.get(&o.name).is_some_and(|x| x.serving > 0))
                .map(|o| o.name.clone());
            if let Some(other) = busy {
                return Err(Status::failed_precondition(format!(
                    "a deck of {other} already serves {p} in this session; a participant is served by one deck at a time"
                )));
            }
        }
        let p = inner.presence.entry(caller.operator.clone()).or_insert(Presence {
            streams: 0,
            serving: 0,
            last_seen: Instant::now(),
            from_before: false,
        });
        p.streams += 1;
        if serving {
            p.serving += 1;
        }
        p.last_seen = Instant::now();
        p.from_before = false;
        let events = rules::joined(&inner.state, caller);
        self.presence_events(&mut inner, events);
        Ok(())
    }

    fn disconnect(&self, caller: &Caller, serving: bool, reason: &str) {
        let mut inner = self.lock();
        let remaining = match inner.presence.get_mut(&caller.operator) {
            Some(p) => {
                p.streams = p.streams.saturating_sub(1);
                if serving {
                    p.serving = p.serving.saturating_sub(1);
                }
                p.streams
            }
            None => 0,
        };
        if remaining == 0 {
            let events = rules::left(&inner.state, &caller.operator, reason);
            self.presence_events(&mut inner, events);
        }
    }

    fn heartbeat(&self, caller: &Caller) {
        let mut inner = self.lock();
        let streams = match inner.presence.get_mut(&caller.operator) {
            Some(p) => {
                p.last_seen = Instant::now();
                p.streams
            }
            None => 0,
        };
        // Back after a timeout while its stream stayed open.
        if streams > 0 {
            let events = rules::joined(&inner.state, caller);
            self.presence_events(&mut inner, events);
        }
    }

    /// Ends the presence of operators whose heartbeats stopped (and of those present
    /// before a restart who did not come back).
    fn sweep(&self) {
        let mut inner = self.lock();
        let timeout = self.options.presence_timeout;
        let expired: Vec<(String, bool)> = inner
            .state
            .operators
            .values()
            .filter(|o| o.present)
            .filter_map(|o| {
                let p = inner.presence.get(&o.name)?;
                (p.last_seen.elapsed() > timeout).then(|| (o.name.clone(), p.from_before))
            })
            .collect();
        for (name, from_before) in expired {
            let reason = if from_before {
                format!(
                    "did not come back within {}s of the coordinator's restart",
                    timeout.as_secs()
                )
            } else {
                format!("no heartbeat for {}s", timeout.as_secs())
            };
            let events = rules::left(&inner.state, &name, &reason);
            self.presence_events(&mut inner, events);
        }
    }

    /// Events from `next` on, at most one batch.
    fn batch(&self, next: u64) -> Vec<Arc<pb::Event>> {
        let inner = self.lock();
        let start = next.saturating_sub(1) as usize;
        inner.events.iter().skip(start).take(REPLAY_BATCH).cloned().collect()
    }

    fn head(&self) -> u64 {
        self.lock().state.head_seq
    }

    /// The tonic service, with authentication, ready to add to a server.
    pub fn service(
        &self,
    ) -> tonic::service::interceptor::InterceptedService<CoordinatorServer<Coordinator>, Authenticator> {
        let server = CoordinatorServer::new(self.clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        tonic::service::interceptor::InterceptedService::new(server, Authenticator(self.access.clone()))
    }

    /// Checks presence leases until the process ends.
    pub fn spawn_sweeper(&self) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(500));
            loop {
                every.tick().await;
                me.sweep();
            }
        })
    }
}

fn internal_io(e: impl std::fmt::Display) -> CoordinatorError {
    CoordinatorError::Io(e.to_string())
}

/// Refuses a listening address that is not loopback unless TLS is on: tokens and the
/// session's content must not cross a network in clear.
pub fn check_listen(addr: &SocketAddr, tls: bool) -> Result<(), String> {
    if tls || addr.ip().is_loopback() {
        return Ok(());
    }
    Err(format!(
        "the coordinator would listen on {addr}, which is not loopback, without TLS: pass --tls-cert and --tls-key \
         (and --client-ca for client certificates), or listen on 127.0.0.1 and let operators reach it through ssh -L"
    ))
}

mod service;
#[cfg(test)]
mod tests;
