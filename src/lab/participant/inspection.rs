//! ParticipantInspectionService (commitment contract states, in-flight counts),
//! ParticipantStatusService and PingService.

use super::{Node, lock, protocol};
use crate::canton_error::{self, codes};
use crate::lab::ids;
use crate::lab::store::{Status as AcsStatus, acs};
use crate::wire::admin::{
    self, CommitmentContract, CountInFlightRequest, CountInFlightResponse, InspectCommitmentContractsRequest,
    InspectCommitmentContractsResponse, ParticipantStatusRequest, ParticipantStatusResponse, PingFailure, PingRequest,
    PingResponse, PingSuccess,
    connected_synchronizer::Health,
    contract_state::{self, synchronizer_state::State},
    participant_status_response::{Kind, ParticipantStatusResponseStatus},
    ping_response,
};
use crate::wire::health;
use crate::wire::lab::LabTransaction;
use crate::wire::version::UntypedVersionedMessage;
use crate::wire::version::untyped_versioned_message::Wrapper;
use prost::Message;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tonic::{Request, Response, Status};

const CHUNK: usize = 256 * 1024;

fn synchronizer_state(sync: String, a: &acs::Activeness) -> contract_state::SynchronizerState {
    let state = match a.status {
        AcsStatus::Active if a.reassignment_counter > 0 => State::Assigned(contract_state::Assigned {
            reassignment_counter_target: a.reassignment_counter,
            reassignment_id: None,
        }),
        AcsStatus::Active => State::Created(contract_state::Created {}),
        AcsStatus::Archived | AcsStatus::Purged => State::Archived(contract_state::Archived {}),
        AcsStatus::Unassigned => State::Unassigned(contract_state::Unassigned {
            target_synchronizer_id: a.target.clone().unwrap_or_default(),
            reassignment_counter_src: a.reassignment_counter,
            reassignment_id: None,
        }),
    };
    contract_state::SynchronizerState {
        synchronizer_id: sync,
        state: Some(state),
    }
}

type InspectStream = Pin<Box<dyn futures::Stream<Item = Result<InspectCommitmentContractsResponse, Status>> + Send>>;

#[derive(Clone)]
pub struct InspectionService(pub Arc<Node>);

#[tonic::async_trait]
impl admin::participant_inspection_service_server::ParticipantInspectionService for InspectionService {
    type InspectCommitmentContractsStream = InspectStream;

    async fn inspect_commitment_contracts(
        &self,
        req: Request<InspectCommitmentContractsRequest>,
    ) -> Result<Response<InspectStream>, Status> {
        let req = req.into_inner();
        let ts = req
            .timestamp
            .ok_or_else(|| canton_error::status(codes::MISSING_FIELD, "timestamp: field is required"))?;
        let micros = ts
            .seconds
            .saturating_mul(1_000_000)
            .saturating_add(i64::from(ts.nanos / 1000));
        let expected = ids::logical_of(&req.expected_synchronizer_id).to_string();
        let ids: Vec<(Vec<u8>, String)> = req
            .cids
            .into_iter()
            .map(|b| {
                let hex = hex::encode(&b);
                (b, hex)
            })
            .collect();
        let download = req.download_payload;
        let records = self
            .0
            .db(move |s| {
                let mut out = Vec::with_capacity(ids.len());
                for (raw, id) in ids {
                    let states = acs::states_at_time(s.conn(), &id, micros)?;
                    let active = states
                        .iter()
                        .any(|(sync, a)| sync == &expected && a.status == AcsStatus::Active);
                    let mut entries: Vec<_> = states
                        .iter()
                        .map(|(sync, a)| synchronizer_state(sync.clone(), a))
                        .collect();
                    if entries.is_empty() {
                        entries.push(contract_state::SynchronizerState {
                            synchronizer_id: expected.clone(),
                            state: Some(State::Unknown(contract_state::Unknown {})),
                        });
                    }
                    let contract = if download {
                        acs::contract(s.conn(), &id)?.map(|b| b.encode_to_vec())
                    } else {
                        None
                    };
                    out.push(CommitmentContract {
                        cid: raw,
                        active_on_expected_synchronizer: active,
                        contract,
                        states: entries,
                    });
                }
                Ok(out)
            })
            .await?;
        let mut bytes = Vec::new();
        for r in records {
            let framed = UntypedVersionedMessage {
                wrapper: Some(Wrapper::Data(r.encode_to_vec())),
                version: 30,
            };
            framed
                .encode_length_delimited(&mut bytes)
                .map_err(|e| Status::internal(e.to_string()))?;
        }
        let chunks: Vec<Result<InspectCommitmentContractsResponse, Status>> = bytes
            .chunks(CHUNK)
            .map(|c| Ok(InspectCommitmentContractsResponse { chunk: c.to_vec() }))
            .collect();
        Ok(Response::new(Box::pin(futures::stream::iter(chunks))))
    }

    async fn count_in_flight(
        &self,
        req: Request<CountInFlightRequest>,
    ) -> Result<Response<CountInFlightResponse>, Status> {
        let id = ids::logical_of(&req.into_inner().synchronizer_id).to_string();
        if id.is_empty() {
            return Err(canton_error::status(
                codes::MISSING_FIELD,
                "synchronizer_id: field is required",
            ));
        }
        let (subs, txs) = self.0.db(move |s| s.in_flight(&id)).await?;
        Ok(Response::new(CountInFlightResponse {
            pending_submissions: subs,
            pending_transactions: txs,
        }))
    }
}

#[derive(Clone)]
pub struct StatusService(pub Arc<Node>);

#[tonic::async_trait]
impl admin::participant_status_service_server::ParticipantStatusService for StatusService {
    async fn participant_status(
        &self,
        _req: Request<ParticipantStatusRequest>,
    ) -> Result<Response<ParticipantStatusResponse>, Status> {
        let node = &self.0;
        let uptime = node.uptime();
        let connected: Vec<admin::ConnectedSynchronizer> = {
            let conns = lock(&node.conns);
            let mut v: Vec<_> = conns
                .values()
                .filter(|c| c.established.load(Ordering::SeqCst))
                .map(|c| admin::ConnectedSynchronizer {
                    physical_synchronizer_id: c.physical_id.clone(),
                    health: if c.healthy.load(Ordering::SeqCst) {
                        Health::Healthy as i32
                    } else {
                        Health::Unhealthy as i32
                    },
                })
                .collect();
            v.sort_by(|a, b| a.physical_synchronizer_id.cmp(&b.physical_synchronizer_id));
            v
        };
        let status = ParticipantStatusResponseStatus {
            common_status: Some(health::Status {
                uid: node.uid.clone(),
                uptime: Some(prost_types::Duration {
                    seconds: i64::try_from(uptime.as_secs()).unwrap_or(i64::MAX),
                    nanos: i32::try_from(uptime.subsec_nanos()).unwrap_or(0),
                }),
                ports: lock(&node.ports).clone().into_iter().collect(),
                active: true,
                topology_queues: Some(health::TopologyQueueStatus::default()),
                components: Vec::new(),
                version: format!("recovery-deck-lab {}", env!("CARGO_PKG_VERSION")),
            }),
            connected_synchronizers: connected,
            active: true,
            supported_protocol_versions: vec![ids::PROTOCOL_VERSION],
        };
        Ok(Response::new(ParticipantStatusResponse {
            kind: Some(Kind::Status(status)),
        }))
    }
}

#[derive(Clone)]
pub struct PingService(pub Arc<Node>);

fn failure(reason: impl Into<String>) -> Response<PingResponse> {
    Response::new(PingResponse {
        response: Some(ping_response::Response::Failure(PingFailure { reason: reason.into() })),
    })
}

#[tonic::async_trait]
impl admin::ping_service_server::PingService for PingService {
    async fn ping(&self, req: Request<PingRequest>) -> Result<Response<PingResponse>, Status> {
        let node = &self.0;
        let req = req.into_inner();
        let timeout = req
            .timeout
            .ok_or_else(|| canton_error::status(codes::MISSING_FIELD, "timeout: field is required"))?;
        let timeout = Duration::from_secs(u64::try_from(timeout.seconds).unwrap_or(0))
            + Duration::from_nanos(u64::try_from(timeout.nanos).unwrap_or(0));
        if req.target_parties.is_empty() {
            return Err(canton_error::status(
                codes::MISSING_FIELD,
                "target_parties: must not be empty",
            ));
        }
        let wanted = ids::logical_of(&req.synchronizer_id).to_string();
        let candidates: Vec<(String, String)> = {
            let conns = lock(&node.conns);
            let mut v: Vec<(String, String)> = conns
                .iter()
                .filter(|(_, c)| c.healthy.load(Ordering::SeqCst))
                .filter(|(_, c)| wanted.is_empty() || c.synchronizer_id == wanted)
                .map(|(a, c)| (a.clone(), c.synchronizer_id.clone()))
                .collect();
            v.sort();
            v
        };
        let targets = req.target_parties.clone();
        let mut chosen = None;
        for (alias, sync_id) in candidates {
            let (id, ts) = (sync_id.clone(), targets.clone());
            let responders = node
                .db(move |s| {
                    let topo = s.topology(&id)?;
                    let hosts: Vec<Option<String>> = ts
                        .iter()
                        .map(|p| topo.iter().find(|(party, _)| party == p).map(|(_, h)| h.clone()))
                        .collect();
                    Ok(hosts)
                })
                .await?;
            if responders.iter().all(Option::is_some) {
                chosen = Some((
                    alias,
                    sync_id,
                    responders.into_iter().flatten().next().unwrap_or_default(),
                ));
                break;
            }
        }
        let Some((alias, sync_id, responder)) = chosen else {
            return Ok(failure(format!(
                "no connected, healthy synchronizer hosts all of {}",
                req.target_parties.join(", ")
            )));
        };
        let started = std::time::Instant::now();
        let tx = LabTransaction {
            update_id: uuid::Uuid::new_v4().to_string(),
            workflow_id: req.workflow_id,
            ping_parties: req.target_parties,
            ..Default::default()
        };
        let id = if req.id.is_empty() {
            uuid::Uuid::new_v4().to_string()
        } else {
            req.id
        };
        match protocol::submit(node, &alias, &sync_id, tx, format!("ping-{id}"), timeout).await {
            Ok(c) if c.rejection.is_none() => Ok(Response::new(PingResponse {
                response: Some(ping_response::Response::Success(PingSuccess {
                    ping_time: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    responder,
                })),
            })),
            Ok(c) => Ok(failure(c.rejection.unwrap_or_default())),
            Err(e) => Ok(failure(e.message().to_string())),
        }
    }
}
