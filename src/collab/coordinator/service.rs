//! The coordinator's gRPC service: each RPC authenticated, turned into a command for the
//! log (or a watch of it, or an ACS snapshot stored and served), its answer on the wire.

use super::{Coordinator, MAX_UPLOAD, REPLAY_BATCH, internal, refusal};
use crate::client::SnapshotReader;
use crate::collab::manifest::{EntryState, InspectedEntry, ManifestEntry};
use crate::collab::rules::{self, Caller, Command};
use crate::plan::PhaseKind;
use crate::wire::collab::{
    self as pb, Ack, FetchAcsRequest, FetchAcsResponse, HeartbeatRequest, HeartbeatResponse, HelloRequest,
    HelloResponse, WatchRequest, WatchResponse, coordinator_server::Coordinator as CoordinatorService,
    upload_acs_request::Part, watch_response::Item,
};
use futures::Stream;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc};
use tonic::{Request, Response, Status, Streaming};

fn blob_path(dir: &Path, blob: &str) -> PathBuf {
    dir.join(format!("{}.acs.gz", blob.trim_start_matches("sha256:")))
}

fn caller_of<T>(request: &Request<T>) -> Result<Caller, Status> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("the call was not authenticated"))
}

fn phase_arg(name: &str) -> Result<Option<PhaseKind>, Status> {
    if name.is_empty() {
        return Ok(None);
    }
    name.parse().map(Some).map_err(Status::invalid_argument)
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

fn manifest_of(m: pb::PublishManifestRequest) -> crate::collab::manifest::Manifest {
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
    let mut manifest = crate::collab::manifest::Manifest {
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
