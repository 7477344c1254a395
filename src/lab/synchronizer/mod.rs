//! A lab synchronizer: sequencer and mediator in one process. It orders submissions,
//! delivers each event to the participants hosting a stakeholder, collects every such
//! participant's confirmation and sequences the verdict. For drills it can be armed to
//! deliver the next verdict to only some participants and then halt, which is how a
//! synchronizer that dies mid-transaction leaves participants diverged.

mod store;

use crate::lab::ids;
use crate::wire::lab::{
    self, ArmPartialDeliveryRequest, ArmPartialDeliveryResponse, ConfirmRequest, ConfirmResponse, ConfirmationRequest,
    HandshakeRequest, HandshakeResponse, SequencedEvent, SubmitRequest, SubmitResponse, SubscribeRequest,
    SynchronizerStateRequest, SynchronizerStateResponse, Topology, Verdict, sequenced_event::Payload,
};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::SyncStore;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

struct PendingVerdict {
    submitter: String,
    recipients: Vec<String>,
    confirmers: BTreeSet<String>,
    approvals: BTreeSet<String>,
}

/// How the synchronizer dies while delivering verdicts (a drill armed by its control
/// service): the next `remaining` verdicts reach only `deliver_to` (and, with
/// `to_submitter`, each request's submitter), then it halts.
struct Armed {
    deliver_to: Vec<String>,
    to_submitter: bool,
    remaining: u32,
}

pub struct SynchronizerNode {
    name: String,
    store: Mutex<SyncStore>,
    latest: watch::Sender<i64>,
    mediator: Mutex<HashMap<String, PendingVerdict>>,
    armed: Mutex<Option<Armed>>,
    halted: AtomicBool,
    confirmation_timeout: Duration,
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(format!("synchronizer store: {e}"))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep serving.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs store work (SQLite, fsync on every append) without stalling the runtime's other
/// tasks: under disk pressure a commit can take long enough to starve accepts and
/// handshakes if it runs on a worker thread as plain async code.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

impl SynchronizerNode {
    pub fn open(name: &str, dir: &Path, confirmation_timeout: Duration) -> Result<Arc<Self>, rusqlite::Error> {
        let store = SyncStore::open(&dir.join("synchronizer.db"))?;
        let last = store.last_seq()?;
        let halted = store.halted()?;
        let (latest, _) = watch::channel(last);
        Ok(Arc::new(SynchronizerNode {
            name: name.to_string(),
            store: Mutex::new(store),
            latest,
            mediator: Mutex::new(HashMap::new()),
            armed: Mutex::new(None),
            halted: AtomicBool::new(halted),
            confirmation_timeout,
        }))
    }

    fn ensure_alive(&self) -> Result<(), Status> {
        if self.halted.load(Ordering::SeqCst) {
            Err(Status::unavailable(format!("synchronizer {} is down", self.name)))
        } else {
            Ok(())
        }
    }

    fn sequence(&self, payload: Payload, recipients: &[String]) -> Result<i64, Status> {
        let event = SequencedEvent {
            seq: 0,
            timestamp_micros: crate::lab::store::now_micros(),
            payload: Some(payload),
        };
        let ev = blocking(|| lock(&self.store).append(event, recipients)).map_err(internal)?;
        self.latest.send_replace(ev.seq);
        Ok(ev.seq)
    }

    fn hosts_of(&self, parties: &BTreeSet<String>) -> Result<(BTreeSet<String>, Vec<String>), Status> {
        let hostings = blocking(|| lock(&self.store).hostings()).map_err(internal)?;
        let mut hosts = BTreeSet::new();
        let mut unknown = Vec::new();
        for p in parties {
            let mut found = false;
            for h in hostings.iter().filter(|h| &h.party == p) {
                hosts.insert(h.participant.clone());
                found = true;
            }
            if !found {
                unknown.push(p.clone());
            }
        }
        Ok((hosts, unknown))
    }

    fn finalize(&self, request_id: &str, approved: bool, reason: String) -> Result<(), Status> {
        let Some(pending) = lock(&self.mediator).remove(request_id) else {
            return Ok(());
        };
        let mut recipients = pending.recipients;
        // Whether this verdict is the last one delivered before the synchronizer dies.
        let halt = {
            let mut armed = lock(&self.armed);
            match armed.as_mut() {
                None => false,
                Some(arm) => {
                    recipients.retain(|r| arm.deliver_to.contains(r) || (arm.to_submitter && *r == pending.submitter));
                    arm.remaining = arm.remaining.saturating_sub(1);
                    let last = arm.remaining == 0;
                    if last {
                        *armed = None;
                    }
                    last
                }
            }
        };
        let verdict = Verdict {
            request_id: request_id.to_string(),
            approved,
            reason,
        };
        self.sequence(Payload::Verdict(verdict), &recipients)?;
        if halt {
            // The synchronizer "dies" right after this partial delivery.
            blocking(|| lock(&self.store).set_halted()).map_err(internal)?;
            self.halted.store(true, Ordering::SeqCst);
            lock(&self.mediator).clear();
        }
        Ok(())
    }

    /// Sequences the full topology to every member. Reading the state and appending the
    /// event happen under one lock: participants replace their topology with the latest
    /// event, so an event built from older state must never be sequenced after a newer one.
    fn topology_event(&self) -> Result<(), Status> {
        let event = blocking(|| {
            let mut s = lock(&self.store);
            let hostings = s.hostings()?;
            let members = s.members()?;
            let event = SequencedEvent {
                seq: 0,
                timestamp_micros: crate::lab::store::now_micros(),
                payload: Some(Payload::Topology(Topology { hostings })),
            };
            s.append(event, &members)
        })
        .map_err(internal)?;
        self.latest.send_replace(event.seq);
        Ok(())
    }
}

#[derive(Clone)]
pub struct SequencerService(pub Arc<SynchronizerNode>);

type EventStream = Pin<Box<dyn futures::Stream<Item = Result<SequencedEvent, Status>> + Send>>;

#[tonic::async_trait]
impl lab::sequencer_server::Sequencer for SequencerService {
    async fn handshake(&self, _req: Request<HandshakeRequest>) -> Result<Response<HandshakeResponse>, Status> {
        let node = &self.0;
        node.ensure_alive()?;
        Ok(Response::new(HandshakeResponse {
            synchronizer_name: node.name.clone(),
            synchronizer_id: ids::synchronizer_id(&node.name),
            physical_synchronizer_id: ids::physical_synchronizer_id(&node.name),
            protocol_version: ids::PROTOCOL_VERSION,
        }))
    }

    type SubscribeStream = EventStream;

    async fn subscribe(&self, req: Request<SubscribeRequest>) -> Result<Response<EventStream>, Status> {
        let node = self.0.clone();
        node.ensure_alive()?;
        let req = req.into_inner();
        if req.member.is_empty() {
            return Err(Status::invalid_argument("member is required"));
        }
        let changed = blocking(|| lock(&node.store).onboard(&req.member, &req.parties)).map_err(internal)?;
        if changed {
            node.topology_event()?;
        }
        let (tx, rx) = mpsc::channel(64);
        let mut latest = node.latest.subscribe();
        let member = req.member;
        let mut cursor = req.after_seq;
        tokio::spawn(async move {
            loop {
                let batch = blocking(|| lock(&node.store).events_for(&member, cursor, 256));
                match batch {
                    Ok(events) if events.is_empty() => {
                        if latest.changed().await.is_err() {
                            return;
                        }
                    }
                    Ok(events) => {
                        for ev in events {
                            cursor = ev.seq;
                            if tx.send(Ok(ev)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(internal(e))).await;
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn submit(&self, req: Request<SubmitRequest>) -> Result<Response<SubmitResponse>, Status> {
        let node = self.0.clone();
        node.ensure_alive()?;
        let req = req.into_inner();
        let mut request: ConfirmationRequest = req
            .request
            .ok_or_else(|| Status::invalid_argument("request is required"))?;
        if request.request_id.is_empty() {
            return Err(Status::invalid_argument("request_id is required"));
        }
        let mut informees: BTreeSet<String> = BTreeSet::new();
        if let Some(tx) = &request.transaction {
            // Borrowed: a bulk transaction's parties repeat, so only the distinct ones are copied.
            let mut seen: BTreeSet<&str> = BTreeSet::new();
            seen.extend(tx.inputs.iter().flat_map(|i| &i.stakeholders).map(String::as_str));
            seen.extend(
                tx.created
                    .iter()
                    .flat_map(|c| c.signatories.iter().chain(&c.observers))
                    .map(String::as_str),
            );
            seen.extend(tx.ping_parties.iter().map(String::as_str));
            seen.extend(
                tx.reassignments
                    .iter()
                    .filter_map(|r| r.contract.as_ref())
                    .flat_map(|c| c.signatories.iter().chain(&c.observers))
                    .map(String::as_str),
            );
            informees.extend(seen.into_iter().map(str::to_string));
        }
        let (mut hosts, unknown) = node.hosts_of(&informees)?;
        if !unknown.is_empty() {
            return Err(Status::failed_precondition(format!(
                "informees not hosted on synchronizer {}: {}",
                node.name,
                unknown.join(", ")
            )));
        }
        hosts.insert(req.member.clone());
        let recipients: Vec<String> = hosts.iter().cloned().collect();
        request.recipients = recipients.clone();
        request.confirmers = recipients.clone();
        request.submitter = req.member;
        let request_id = request.request_id.clone();
        lock(&node.mediator).insert(
            request_id.clone(),
            PendingVerdict {
                submitter: request.submitter.clone(),
                recipients: recipients.clone(),
                confirmers: hosts,
                approvals: BTreeSet::new(),
            },
        );
        let seq = node.sequence(Payload::Request(request), &recipients)?;
        let timeout = node.confirmation_timeout;
        let timer = node.clone();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            let missing: Option<Vec<String>> = lock(&timer.mediator)
                .get(&request_id)
                .map(|p| p.confirmers.difference(&p.approvals).cloned().collect());
            if let Some(missing) = missing {
                let reason = format!("mediator timeout: no confirmation from {}", missing.join(", "));
                if let Err(e) = timer.finalize(&request_id, false, reason) {
                    tracing::warn!("verdict for timed-out request {request_id}: {e}");
                }
            }
        });
        Ok(Response::new(SubmitResponse { seq }))
    }

    async fn confirm(&self, req: Request<ConfirmRequest>) -> Result<Response<ConfirmResponse>, Status> {
        let node = &self.0;
        node.ensure_alive()?;
        let req = req.into_inner();
        let decision = {
            let mut mediator = lock(&node.mediator);
            match mediator.get_mut(&req.request_id) {
                None => None,
                Some(p) if !p.confirmers.contains(&req.member) => {
                    return Err(Status::permission_denied(format!(
                        "{} is not a confirmer of {}",
                        req.member, req.request_id
                    )));
                }
                Some(_) if !req.approve => Some((false, format!("rejected by {}: {}", req.member, req.reason))),
                Some(p) => {
                    p.approvals.insert(req.member.clone());
                    (p.approvals == p.confirmers).then(|| (true, String::new()))
                }
            }
        };
        if let Some((approved, reason)) = decision {
            node.finalize(&req.request_id, approved, reason)?;
        }
        Ok(Response::new(ConfirmResponse {}))
    }
}

#[derive(Clone)]
pub struct ControlService(pub Arc<SynchronizerNode>);

#[tonic::async_trait]
impl lab::synchronizer_control_server::SynchronizerControl for ControlService {
    async fn arm_partial_delivery(
        &self,
        req: Request<ArmPartialDeliveryRequest>,
    ) -> Result<Response<ArmPartialDeliveryResponse>, Status> {
        self.0.ensure_alive()?;
        let req = req.into_inner();
        *lock(&self.0.armed) = Some(Armed {
            deliver_to: req.deliver_to,
            to_submitter: req.to_submitter,
            remaining: req.verdicts.max(1),
        });
        Ok(Response::new(ArmPartialDeliveryResponse {}))
    }

    async fn synchronizer_state(
        &self,
        _req: Request<SynchronizerStateRequest>,
    ) -> Result<Response<SynchronizerStateResponse>, Status> {
        let node = &self.0;
        let s = lock(&node.store);
        Ok(Response::new(SynchronizerStateResponse {
            last_seq: s.last_seq().map_err(internal)?,
            halted: node.halted.load(Ordering::SeqCst),
            members: s.members().map_err(internal)?,
            hostings: s.hostings().map_err(internal)?,
        }))
    }
}
