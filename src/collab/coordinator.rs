//! The coordinator (`recovery-deck serve`): one writer of the session's log. Every command
//! is authenticated, checked by [`rules`] against the folded state, appended (fsynced)
//! and only then acknowledged; watchers get the log replayed from any seq, then live.
//! Reopening the file after a restart continues its seq and hash chain. The coordinator
//! has no participant client: it cannot act on a participant, only order and relay.

use super::access::{Access, Authenticator};
use super::event::SessionEvent;
use super::manifest::{EntryState, InspectedEntry, ManifestEntry};
use super::rules::{self, Caller, Command, Refusal};
use super::state::SessionState;
use crate::client::SnapshotReader;
use crate::journal::{self, Actor, Header, JournalWriter, ParticipantRef};
use crate::plan::PhaseKind;
use crate::wire::collab::{
    self as pb, Ack, FetchAcsRequest, FetchAcsResponse, HeartbeatRequest, HeartbeatResponse, HelloRequest,
    HelloResponse, WatchRequest, WatchResponse,
    coordinator_server::{Coordinator as CoordinatorService, CoordinatorServer},
    upload_acs_request::Part,
    watch_response::Item,
};
use futures::Stream;
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc};
use tonic::{Request, Response, Status, Streaming};

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

fn caller_of<T>(request: &Request<T>) -> Result<Caller, Status> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("the call was not authenticated"))
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

fn phase_arg(name: &str) -> Result<Option<PhaseKind>, Status> {
    if name.is_empty() {
        return Ok(None);
    }
    name.parse().map(Some).map_err(Status::invalid_argument)
}

fn blob_path(dir: &Path, blob: &str) -> PathBuf {
    dir.join(format!("{}.acs.gz", blob.trim_start_matches("sha256:")))
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

type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchResponse, Status>> + Send>>;
type FetchStream = Pin<Box<dyn Stream<Item = Result<FetchAcsResponse, Status>> + Send>>;

fn event_item(e: &pb::Event) -> WatchResponse {
    WatchResponse {
        item: Some(Item::Event(e.clone())),
    }
}

fn tick_item(head_seq: u64) -> WatchResponse {
    WatchResponse {
        item: Some(Item::Tick(pb::Tick { head_seq })),
    }
}

/// Sends the log from `next` on; returns the seq after the last one sent.
async fn replay(
    coordinator: &Coordinator,
    tx: &mpsc::Sender<Result<WatchResponse, Status>>,
    mut next: u64,
) -> Result<u64, ()> {
    loop {
        let batch = coordinator.batch(next);
        if batch.is_empty() {
            return Ok(next);
        }
        for e in batch {
            tx.send(Ok(event_item(&e))).await.map_err(|_| ())?;
            next = e.seq + 1;
        }
    }
}

async fn stream_log(
    coordinator: Coordinator,
    tx: mpsc::Sender<Result<WatchResponse, Status>>,
    mut live: broadcast::Receiver<Arc<pb::Event>>,
    from: u64,
    follow: bool,
) {
    let Ok(mut next) = replay(&coordinator, &tx, from).await else {
        return;
    };
    if tx.send(Ok(tick_item(coordinator.head()))).await.is_err() || !follow {
        return;
    }
    let mut ticker = tokio::time::interval(coordinator.options.tick);
    ticker.tick().await;
    loop {
        tokio::select! {
            received = live.recv() => {
                let sent = match received {
                    Ok(e) if e.seq < next => continue,
                    Ok(e) if e.seq == next => {
                        next += 1;
                        tx.send(Ok(event_item(&e))).await.map_err(|_| ())
                    }
                    // A gap, or this watcher fell behind the broadcast: re-read from the log.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        replay(&coordinator, &tx, next).await.map(|n| next = n)
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if sent.is_err() {
                    return;
                }
            }
            _ = ticker.tick() => {
                if tx.send(Ok(tick_item(coordinator.head()))).await.is_err() {
                    return;
                }
            }
            _ = tx.closed() => return,
        }
    }
}

fn manifest_of(m: pb::PublishManifestRequest) -> super::manifest::Manifest {
    let contracts: Vec<ManifestEntry> = m
        .contracts
        .into_iter()
        .map(|c| ManifestEntry {
            contract_id: c.contract_id,
            template_id: c.template_id,
            stakeholders: c.stakeholders,
            payload_digest: c.payload_digest,
            state: EntryState::Active,
        })
        .collect();
    let mut manifest = super::manifest::Manifest {
        participant: m.participant,
        synchronizer_id: m.synchronizer_id,
        hosted_parties: m.hosted_parties,
        admin_party: m.admin_party,
        contracts,
        pending_submissions: m.pending_submissions,
        pending_transactions: m.pending_transactions,
        holdings_digest: String::new(),
    };
    manifest.hosted_parties.sort();
    manifest.contracts.sort_by(|a, b| a.contract_id.cmp(&b.contract_id));
    // The digest is recomputed here rather than trusted.
    if let Ok(snap) = manifest.snapshot(&mut crate::reconcile::Interner::new()) {
        manifest.holdings_digest = crate::plan::snapshot_digest(&snap.contracts);
    }
    manifest
}

fn entry_state(state: &str, moved_to: String) -> Result<EntryState, Status> {
    Ok(match state {
        "archived" => EntryState::Archived,
        "unknown" => EntryState::Unknown,
        "moved" => EntryState::Moved { to: moved_to },
        other => {
            return Err(Status::invalid_argument(format!(
                "inspected state {other:?}: expected archived, unknown or moved"
            )));
        }
    })
}

#[tonic::async_trait]
impl CoordinatorService for Coordinator {
    async fn hello(&self, request: Request<HelloRequest>) -> Result<Response<HelloResponse>, Status> {
        let caller = caller_of(&request)?;
        let participant = request.into_inner().participant;
        if !participant.is_empty() {
            rules::acts_for(&caller, &participant).map_err(refusal)?;
        }
        let inner = self.lock();
        let roster = self.access.roster();
        Ok(Response::new(HelloResponse {
            operator: caller.operator.clone(),
            role: caller.role.as_str().to_string(),
            participant: caller.participant.clone().unwrap_or_default(),
            incident: roster.incident.clone(),
            lost: roster.lost.clone(),
            target: roster.target.clone(),
            participants: roster.participants(),
            header_json: inner.header_json.clone(),
            head_seq: inner.state.head_seq,
        }))
    }

    type WatchStream = WatchStream;

    async fn watch(&self, request: Request<WatchRequest>) -> Result<Response<Self::WatchStream>, Status> {
        let caller = caller_of(&request)?;
        let WatchRequest {
            from_seq,
            follow,
            participant,
            presence,
        } = request.into_inner();
        if !participant.is_empty() {
            rules::acts_for(&caller, &participant).map_err(refusal)?;
        }
        let presence = presence && follow;
        let serving = presence && !participant.is_empty();
        let (tx, rx) = mpsc::channel(REPLAY_BATCH);
        // Subscribed before the replay reads the log, so that nothing falls in between.
        let live = self.live.subscribe();
        if presence {
            self.connect(&caller, serving)?;
        }
        let me = self.clone();
        tokio::spawn(async move {
            stream_log(me.clone(), tx, live, from_seq.max(1), follow).await;
            if presence {
                me.disconnect(&caller, serving, "its stream closed");
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }

    async fn heartbeat(&self, request: Request<HeartbeatRequest>) -> Result<Response<HeartbeatResponse>, Status> {
        let caller = caller_of(&request)?;
        self.heartbeat(&caller);
        Ok(Response::new(HeartbeatResponse { head_seq: self.head() }))
    }

    async fn publish_manifest(&self, request: Request<pb::PublishManifestRequest>) -> Result<Response<Ack>, Status> {
        let caller = caller_of(&request)?;
        let m = request.into_inner();
        let id = m.request_id.clone();
        self.command(&caller, &id, Command::PublishManifest(manifest_of(m)))
            .map(Response::new)
    }

    async fn publish_inspection(
        &self,
        request: Request<pb::PublishInspectionRequest>,
    ) -> Result<Response<Ack>, Status> {
        let caller = caller_of(&request)?;
        let m = request.into_inner();
        let contracts = m
            .contracts
            .into_iter()
            .map(|c| {
                Ok(InspectedEntry {
                    contract_id: c.contract_id,
                    state: entry_state(&c.state, c.moved_to)?,
                })
            })
            .collect::<Result<Vec<_>, Status>>()?;
        self.command(
            &caller,
            &m.request_id,
            Command::PublishInspection {
                participant: m.participant,
                contracts,
            },
        )
        .map(Response::new)
    }

    async fn propose(&self, request: Request<pb::ProposeRequest>) -> Result<Response<Ack>, Status> {
        let caller = caller_of(&request)?;
        let m = request.into_inner();
        let sidecar = (!m.sidecar_text.is_empty()).then_some(m.sidecar_text);
        self.command(
            &caller,
            &m.request_id,
            Command::Propose {
                runbook: m.runbook_toml,
                sidecar,
            },
        )
        .map(Response::new)
    }

    async fn approve(&self, request: Request<pb::ApproveRequest>) -> Result<Response<Ack>, Status> {
        let caller = caller_of(&request)?;
        let m = request.into_inner();
        self.command(
            &caller,
            &m.request_id,
            Command::Approve {
                participant: m.participant,
                plan_hash: m.plan_hash,
                holdings_digest: m.holdings_digest,
                comment: m.comment,
            },
        )
        .map(Response::new)
    }

    async fn control(&self, request: Request<pb::ControlRequest>) -> Result<Response<Ack>, Status> {
        let caller = caller_of(&request)?;
        let m = request.into_inner();
        let command = match pb::ControlAction::try_from(m.action) {
            Ok(pb::ControlAction::Go) => Command::Go { plan_hash: m.plan_hash },
            Ok(pb::ControlAction::Pause) => Command::Pause {
                plan_hash: m.plan_hash,
                reason: m.reason,
            },
            Ok(pb::ControlAction::Abort) => Command::Abort {
                plan_hash: m.plan_hash,
                reason: m.reason,
            },
            _ => return Err(Status::invalid_argument("action must be GO, PAUSE or ABORT")),
        };
        self.command(&caller, &m.request_id, command).map(Response::new)
    }

    async fn report_phase(&self, request: Request<pb::ReportPhaseRequest>) -> Result<Response<Ack>, Status> {
        let caller = caller_of(&request)?;
        let m = request.into_inner();
        let phase = phase_arg(&m.phase)?;
        let command = match (m.ok, phase) {
            (true, Some(phase)) => Command::ReportDone {
                participant: m.participant,
                plan_hash: m.plan_hash,
                phase,
                applied: m.applied,
                skipped: m.skipped,
                already_done: m.already_done,
            },
            (true, None) => return Err(Status::invalid_argument("a phase reported done must name the phase")),
            (false, phase) => Command::ReportFailed {
                participant: m.participant,
                plan_hash: m.plan_hash,
                phase,
                error: m.error,
            },
        };
        self.command(&caller, &m.request_id, command).map(Response::new)
    }

    async fn request_payload(&self, request: Request<pb::RequestPayloadRequest>) -> Result<Response<Ack>, Status> {
        let caller = caller_of(&request)?;
        let m = request.into_inner();
        self.command(
            &caller,
            &m.request_id,
            Command::RequestPayload {
                contract_id: m.contract_id,
                holder: m.holder,
                reason: m.reason,
            },
        )
        .map(Response::new)
    }

    async fn answer_payload(&self, request: Request<pb::AnswerPayloadRequest>) -> Result<Response<Ack>, Status> {
        let caller = caller_of(&request)?;
        let m = request.into_inner();
        let payload = if m.accept {
            Some(
                serde_json::from_str(&m.payload_json)
                    .map_err(|e| Status::invalid_argument(format!("payload_json is not JSON: {e}")))?,
            )
        } else {
            None
        };
        self.command(
            &caller,
            &m.request_id,
            Command::AnswerPayload {
                request_seq: m.request_seq,
                accept: m.accept,
                payload,
                reason: m.reason,
            },
        )
        .map(Response::new)
    }

    async fn upload_acs(&self, request: Request<Streaming<pb::UploadAcsRequest>>) -> Result<Response<Ack>, Status> {
        let caller = caller_of(&request)?;
        let mut stream = request.into_inner();
        let header = match stream.message().await?.and_then(|m| m.part) {
            Some(Part::Header(h)) => h,
            _ => return Err(Status::invalid_argument("an upload starts with its header")),
        };
        if header.request_id.trim().is_empty() {
            return Err(Status::invalid_argument("request_id is required"));
        }
        let ids: BTreeSet<String> = {
            let inner = self.lock();
            if let Some(seq) = inner.requests.get(&header.request_id) {
                return Ok(Response::new(Ack {
                    seq: *seq,
                    duplicate: true,
                    plan_hash: header.plan_hash,
                }));
            }
            rules::upload_ids(
                &inner.state,
                &caller,
                &header.plan_hash,
                &header.source,
                &header.receiver,
            )
            .map_err(refusal)?
            .into_iter()
            .collect()
        };
        let tmp = self.blobs.join(format!(".upload-{}", uuid::Uuid::new_v4()));
        let received = receive(&mut stream, &tmp, &ids).await;
        let (blob, bytes) = match received {
            Ok(r) => r,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
        };
        let path = blob_path(&self.blobs, &blob);
        tokio::fs::rename(&tmp, &path).await.map_err(internal)?;
        if let Ok(dir) = tokio::fs::File::open(&self.blobs).await {
            let _ = dir.sync_all().await;
        }
        self.command(
            &caller,
            &header.request_id,
            Command::Uploaded {
                plan_hash: header.plan_hash,
                source: header.source,
                receiver: header.receiver,
                contracts: ids.len() as u64,
                bytes,
                blob,
            },
        )
        .map(Response::new)
    }

    type FetchAcsStream = FetchStream;

    async fn fetch_acs(&self, request: Request<FetchAcsRequest>) -> Result<Response<Self::FetchAcsStream>, Status> {
        let caller = caller_of(&request)?;
        let m = request.into_inner();
        let blob = {
            let inner = self.lock();
            rules::fetchable(&inner.state, &caller, &m.plan_hash, &m.source, &m.receiver)
                .map_err(refusal)?
                .blob
                .clone()
        };
        let mut file = tokio::fs::File::open(blob_path(&self.blobs, &blob))
            .await
            .map_err(|e| Status::data_loss(format!("the stored snapshot {blob} cannot be read: {e}")))?;
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 1024 * 1024];
            loop {
                match file.read(&mut buf).await {
                    Ok(0) => return,
                    Ok(n) => {
                        let chunk = FetchAcsResponse {
                            chunk: buf[..n].to_vec(),
                        };
                        if tx.send(Ok(chunk)).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(Status::data_loss(e.to_string()))).await;
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }
}

/// Receives an upload's chunks into `tmp` (fsynced), checking as they come that they
/// decode as an ACS snapshot holding exactly `ids`. Returns the blob digest and size.
async fn receive(
    stream: &mut Streaming<pb::UploadAcsRequest>,
    tmp: &Path,
    ids: &BTreeSet<String>,
) -> Result<(String, u64), Status> {
    let mut file = tokio::fs::File::create(tmp).await.map_err(internal)?;
    let mut hasher = Sha256::new();
    let mut decoder = SnapshotReader::new();
    let mut seen = BTreeSet::new();
    let mut bytes = 0u64;
    while let Some(m) = stream.message().await? {
        let Some(Part::Chunk(chunk)) = m.part else {
            return Err(Status::invalid_argument("an upload has one header, then chunks"));
        };
        bytes += chunk.len() as u64;
        if bytes > MAX_UPLOAD {
            return Err(Status::resource_exhausted(format!(
                "the snapshot exceeds {MAX_UPLOAD} bytes"
            )));
        }
        hasher.update(&chunk);
        for c in decoder
            .feed(&chunk)
            .map_err(|e| Status::invalid_argument(format!("not an ACS snapshot: {e}")))?
        {
            let id = c.contract_id().unwrap_or_default().to_string();
            if !ids.contains(&id) {
                return Err(Status::invalid_argument(format!(
                    "the snapshot holds {id}, which the plan does not import this way"
                )));
            }
            seen.insert(id);
        }
        file.write_all(&chunk).await.map_err(internal)?;
    }
    decoder
        .finish()
        .map_err(|e| Status::invalid_argument(format!("not an ACS snapshot: {e}")))?;
    if seen.len() != ids.len() {
        return Err(Status::invalid_argument(format!(
            "the snapshot holds {} of the {} contracts the plan imports this way",
            seen.len(),
            ids.len()
        )));
    }
    file.sync_all().await.map_err(internal)?;
    Ok((format!("sha256:{}", hex::encode(hasher.finalize())), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collab::client::{Connect, SessionClient};
    use crate::collab::event::Role;
    use crate::collab::manifest::{EntryState, InspectedEntry};

    const ALICE: &str = "alice-secret-0123456789";

    fn access() -> Arc<Access> {
        let hash = |t: &str| hex::encode(Sha256::digest(t.as_bytes()));
        let text = format!(
            "incident = \"drill\"\nlost = \"lost\"\ntarget = \"new\"\n\
             [[operators]]\nname = \"carol\"\nrole = \"lead\"\ntoken_sha256 = \"{}\"\n\
             [[operators]]\nname = \"alice\"\nrole = \"node_operator\"\nparticipant = \"p1\"\ntoken_sha256 = \"{}\"\n",
            hash("carol-secret-0123456789"),
            hash(ALICE)
        );
        let file = toml::from_str(&text).expect("access toml");
        Arc::new(Access::from_file(file, Path::new(".")).expect("access"))
    }

    fn alice() -> Caller {
        Caller {
            operator: "alice".into(),
            role: Role::NodeOperator,
            participant: Some("p1".into()),
        }
    }

    fn answer(id: &str) -> Command {
        Command::PublishInspection {
            participant: "p1".into(),
            contracts: vec![InspectedEntry {
                contract_id: id.into(),
                state: EntryState::Unknown,
            }],
        }
    }

    #[test]
    fn a_request_id_is_answered_once_even_across_a_restart() {
        let dir = tempfile::tempdir().expect("dir");
        let options = CoordinatorOptions::new(dir.path().join("s.jsonl"));
        let c = Coordinator::open(access(), options.clone()).expect("open");
        let first = c.command(&alice(), "r1", answer("c1")).expect("first");
        assert!(!first.duplicate);
        let again = c.command(&alice(), "r1", answer("c2")).expect("again");
        assert_eq!((again.seq, again.duplicate), (first.seq, true), "same id, same answer");
        assert!(c.command(&alice(), "", answer("c3")).is_err(), "an id is required");
        drop(c);
        let c = Coordinator::open(access(), options).expect("reopen");
        let after = c.command(&alice(), "r1", answer("c4")).expect("after restart");
        assert_eq!((after.seq, after.duplicate), (first.seq, true));
        let next = c.command(&alice(), "r2", answer("c5")).expect("new id");
        let j = journal::read(&dir.path().join("s.jsonl")).expect("the chain continues");
        let kinds: Vec<&str> = j.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            vec![
                "session.opened",
                "session.inspected",
                "session.restarted",
                "session.inspected"
            ]
        );
        assert_eq!(next.seq, 4);
        assert_eq!(c.state().answers["p1"].len(), 2, "c1 and c5, nothing of the repeats");
    }

    #[test]
    fn presence_ends_without_heartbeats_and_after_a_restart_without_a_return() {
        let dir = tempfile::tempdir().expect("dir");
        let mut options = CoordinatorOptions::new(dir.path().join("s.jsonl"));
        options.presence_timeout = Duration::from_millis(600);
        let c = Coordinator::open(access(), options.clone()).expect("open");
        c.connect(&alice(), true).expect("join");
        assert!(c.state().present_for("p1"));
        let twin = c.connect(&alice(), true).expect_err("one deck per participant");
        assert_eq!(twin.code(), tonic::Code::FailedPrecondition);
        c.heartbeat(&alice());
        c.sweep();
        assert!(c.state().present_for("p1"), "the heartbeat keeps alice in");
        std::thread::sleep(Duration::from_millis(700));
        c.sweep();
        assert!(!c.state().present_for("p1"), "no heartbeat: alice left");
        c.heartbeat(&alice());
        assert!(c.state().present_for("p1"), "heartbeats again on her open stream: back");
        drop(c);

        // Restarted while alice was present: she has one timeout to come back.
        let c = Coordinator::open(access(), options).expect("reopen");
        assert!(c.state().present_for("p1"));
        std::thread::sleep(Duration::from_millis(700));
        c.sweep();
        assert!(!c.state().present_for("p1"));
        let j = journal::read(&dir.path().join("s.jsonl")).expect("log");
        let reasons: Vec<String> = j
            .of_kind("session.left")
            .map(|e| e.data["reason"].as_str().unwrap_or("").to_string())
            .collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].contains("no heartbeat"), "{reasons:?}");
        assert!(reasons[1].contains("coordinator's restart"), "{reasons:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_watcher_that_falls_behind_re_reads_the_log_and_misses_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let mut options = CoordinatorOptions::new(dir.path().join("s.jsonl"));
        options.live_capacity = 2;
        let c = Coordinator::open(access(), options).expect("open");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tonic::transport::Server::builder()
            .add_service(c.service())
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener));
        let server = tokio::spawn(server);
        let mut connect = Connect::new(&format!("http://{addr}"));
        connect.token = Some(ALICE.into());
        let client = SessionClient::connect(&connect).expect("client");
        let hello = client.hello(Some("p1")).await.expect("hello");
        assert_eq!(hello.operator, "alice");
        assert!(client.hello(Some("p2")).await.is_err(), "alice does not act for p2");
        let mut stream = client
            .open_watch(pb::WatchRequest {
                from_seq: 1,
                follow: true,
                participant: String::new(),
                presence: false,
            })
            .await
            .expect("watch");
        // Far more events than the live buffer and the stream's queue hold, unread.
        let total = 2 * REPLAY_BATCH as u64 + 40;
        for i in 0..total {
            c.command(&alice(), &format!("r{i}"), answer(&format!("c{i}")))
                .expect("append");
        }
        let mut chain = crate::collab::feed::Chain::new(&hello.header);
        while chain.next_seq() <= total + 1 {
            match stream.message().await.expect("stream").and_then(|m| m.item) {
                Some(Item::Event(e)) => {
                    chain.accept(&e).expect("in order, no gap");
                }
                Some(Item::Tick(_)) | None => {}
            }
        }
        assert_eq!(chain.next_seq(), total + 2);
        server.abort();
    }

    #[test]
    fn only_loopback_may_listen_without_tls() {
        let lo: SocketAddr = "127.0.0.1:7000".parse().expect("addr");
        let lo6: SocketAddr = "[::1]:7000".parse().expect("addr");
        let any: SocketAddr = "0.0.0.0:7000".parse().expect("addr");
        assert!(check_listen(&lo, false).is_ok());
        assert!(check_listen(&lo6, false).is_ok());
        let e = check_listen(&any, false).expect_err("refused");
        assert!(e.contains("not loopback") && e.contains("--tls-cert"), "{e}");
        assert!(check_listen(&any, true).is_ok());
    }
}
