//! ParticipantInspectionService (commitment contract states, in-flight counts),
//! ParticipantStatusService and PingService.

use super::{Node, lock, protocol};
use crate::canton_error::{self, codes};
use crate::lab::ids;
use crate::lab::store::acs;
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
use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tonic::{Request, Response, Status};

const CHUNK: usize = 256 * 1024;

/// How InspectCommitmentContracts reports one logged change
/// (participant/pruning/CommitmentCommandsHelper.scala, synchronizerContractStates,
/// release-line-3.5): a repair `add`
/// reads as `Created` and a `purge` as `Archived`; an unassignment reports the counter
/// the contract had before it.
fn reported_state(sync: &str, logged: &acs::Logged) -> contract_state::SynchronizerState {
    let counter = logged.reassignment_counter;
    let state = match &logged.change {
        acs::Change::Create | acs::Change::Add => State::Created(contract_state::Created {}),
        acs::Change::Archive | acs::Change::Purge => State::Archived(contract_state::Archived {}),
        acs::Change::Assign { .. } => State::Assigned(contract_state::Assigned {
            reassignment_counter_target: counter,
            reassignment_id: None,
        }),
        acs::Change::Unassign { target } => State::Unassigned(contract_state::Unassigned {
            target_synchronizer_id: target.clone(),
            reassignment_counter_src: counter - 1,
            reassignment_id: None,
        }),
    };
    contract_state::SynchronizerState {
        synchronizer_id: sync.to_string(),
        state: Some(state),
    }
}

/// Canton reads the history without `ORDER BY` (participant/store/db/DbActiveContractStore.scala,
/// activenessQuery) and groups it through hash maps, so no order is guaranteed; the lab scrambles it (deterministically) so that nothing can
/// depend on one.
fn scrambled<T>(items: &mut [T], key: impl Fn(&T) -> String) {
    items.sort_by_cached_key(|i| ids::sha256_hex(&[b"scramble", key(i).as_bytes()]));
}

/// The records Canton returns for one contract (participant/pruning/CommitmentCommandsHelper.scala,
/// inspectContractState; the history from participant/admin/inspection/SyncStateInspection.scala,
/// lookupContractSynchronizers):
/// one per synchronizer the contract ever had a state on, each carrying that
/// synchronizer's whole unpruned history; a single `Unknown` record when it is unknown
/// everywhere. `active_on_expected_synchronizer` is the same on every record: the last
/// change on the expected synchronizer at `micros` was a create or an assignment — a
/// repair `add` does not count.
fn inspection_records(
    id: &str,
    raw: &[u8],
    history: Vec<(String, acs::Logged)>,
    expected: &str,
    micros: i64,
    payload: Option<Vec<u8>>,
) -> Vec<CommitmentContract> {
    if history.is_empty() {
        return vec![CommitmentContract {
            cid: raw.to_vec(),
            active_on_expected_synchronizer: false,
            contract: None,
            states: vec![contract_state::SynchronizerState {
                synchronizer_id: expected.to_string(),
                state: Some(State::Unknown(contract_state::Unknown {})),
            }],
        }];
    }
    let last_on_expected = history
        .iter()
        .filter(|(sync, l)| sync == expected && l.record_time <= micros)
        .max_by_key(|(_, l)| l.record_time)
        .map(|(_, l)| &l.change);
    let active = matches!(last_on_expected, Some(acs::Change::Create | acs::Change::Assign { .. }));
    let mut by_sync: BTreeMap<String, Vec<(usize, contract_state::SynchronizerState)>> = BTreeMap::new();
    for (i, (sync, logged)) in history.iter().enumerate() {
        by_sync
            .entry(sync.clone())
            .or_default()
            .push((i, reported_state(sync, logged)));
    }
    let mut records: Vec<CommitmentContract> = by_sync
        .into_iter()
        .map(|(sync, mut states)| {
            scrambled(&mut states, |(i, _)| format!("{id}/{sync}/{i}"));
            CommitmentContract {
                cid: raw.to_vec(),
                active_on_expected_synchronizer: active,
                contract: payload.clone(),
                states: states.into_iter().map(|(_, st)| st).collect(),
            }
        })
        .collect();
    scrambled(&mut records, |r| {
        format!(
            "{id}/{}",
            r.states.first().map(|s| s.synchronizer_id.as_str()).unwrap_or("")
        )
    });
    records
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
                    let history = acs::history(s.conn(), &id)?;
                    let payload = if download {
                        acs::contract(s.conn(), &id)?.map(|b| b.encode_to_vec())
                    } else {
                        None
                    };
                    out.extend(inspection_records(&id, &raw, history, &expected, micros, payload));
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
            framed.encode_length_delimited(&mut bytes).map_err(super::internal)?;
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
                version: node.dialect.version().to_string(),
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
