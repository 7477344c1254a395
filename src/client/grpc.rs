//! `ParticipantApi` over tonic: one lazily connected channel per API (admin, ledger),
//! TLS with the participant's own CA, the bearer token on every call (added by the
//! channel, see `transport`) and a deadline per call kind.

use super::idle::{DEFAULT_STREAM_IDLE, Patience, idle_deadline};
use super::raw;
use super::snapshot::{self, broke_off, decode_chunks};
use super::sync_config::SynchronizerConfig;
use super::transport::{AuthChannel, authenticated, token_of};
use super::{AcsStream, ClientError, Contract, ContractStream, ParticipantApi, Result, Submission, types::*};
use crate::config::ParticipantConfig;
use crate::wire::admin::{
    self, ChangeAssignationRequest, CountInFlightRequest, DisconnectAllSynchronizersRequest,
    DisconnectSynchronizerRequest, ExportAcsRequest, GetSynchronizerIdRequest, InspectCommitmentContractsRequest,
    ListConnectedSynchronizersRequest, ListRegisteredSynchronizersRequest, ModifySynchronizerRequest,
    ParticipantStatusRequest, PingRequest, PurgeContractsRequest, ReconnectSynchronizerRequest,
    RegisterSynchronizerRequest, SynchronizerConnectionConfig, connected_synchronizer::Health,
    contract_state::synchronizer_state::State,
    participant_inspection_service_client::ParticipantInspectionServiceClient,
    participant_repair_service_client::ParticipantRepairServiceClient, participant_status_response::Kind,
    participant_status_service_client::ParticipantStatusServiceClient, ping_response,
    ping_service_client::PingServiceClient, pruning_service_client::PruningServiceClient,
    register_synchronizer_request::SynchronizerConnection,
    synchronizer_connectivity_service_client::SynchronizerConnectivityServiceClient,
};
use crate::wire::ledger::{
    self, EventFormat, Filters, GetActiveContractsRequest, GetLedgerEndRequest, SubmitAndWaitRequest,
    command_service_client::CommandServiceClient, cumulative_filter::IdentifierFilter,
    get_active_contracts_response::ContractEntry, state_service_client::StateServiceClient,
};
use crate::wire::ledger_admin::{
    ListKnownPartiesRequest, party_management_service_client::PartyManagementServiceClient,
};
use crate::wire::pruning::GetParticipantScheduleRequest;
use crate::wire::sequencer::SequencerConnectionValidation;
use crate::wire::version::{UntypedVersionedMessage, untyped_versioned_message::Wrapper};
use async_trait::async_trait;
use futures::StreamExt;
use prost::Message;
use std::time::Duration;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_REPAIR_TIMEOUT: Duration = Duration::from_secs(600);
const USER_ID: &str = "recovery-deck";

pub struct GrpcParticipant {
    name: String,
    admin: AuthChannel,
    ledger: AuthChannel,
    timeout: Duration,
    repair_timeout: Duration,
    /// The longest wait for the next message of a streamed read.
    stream_idle: Duration,
    enable_all_reassignments: bool,
    /// When the bearer token expires, if it says (a JWT's `exp`).
    token_expiry: Option<jiff::Timestamp>,
}

impl GrpcParticipant {
    /// Builds a client from the incident config; no connection is made until the first call.
    pub fn from_config(cfg: &ParticipantConfig) -> Result<GrpcParticipant> {
        let token = token_of(cfg)?;
        Ok(GrpcParticipant {
            name: cfg.name.clone(),
            admin: authenticated(&cfg.name, &cfg.admin, cfg, token.as_ref())?,
            ledger: authenticated(&cfg.name, &cfg.ledger, cfg, token.as_ref())?,
            token_expiry: token.and_then(|t| t.expiry),
            timeout: cfg.timeout_secs.map(Duration::from_secs).unwrap_or(DEFAULT_TIMEOUT),
            repair_timeout: cfg
                .repair_timeout_secs
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_REPAIR_TIMEOUT),
            stream_idle: cfg
                .stream_idle_secs
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_STREAM_IDLE),
            enable_all_reassignments: cfg.enable_all_ledger_api_reassignments,
        })
    }

    fn req<T>(&self, msg: T, timeout: Duration) -> tonic::Request<T> {
        let mut r = tonic::Request::new(msg);
        r.set_timeout(timeout);
        r
    }

    /// A request without a deadline, for streams whose length depends on the data (their
    /// answers are read under [`idle_deadline`] instead).
    fn stream_req<T>(&self, msg: T) -> tonic::Request<T> {
        tonic::Request::new(msg)
    }

    fn err(&self, rpc: &'static str) -> impl Fn(tonic::Status) -> ClientError + '_ {
        move |s| ClientError::from_status(&self.name, rpc, s).token_expired(self.token_expiry, jiff::Timestamp::now())
    }

    fn protocol(&self, rpc: &'static str, message: impl Into<String>) -> ClientError {
        ClientError::Protocol {
            participant: self.name.clone(),
            rpc,
            message: message.into(),
        }
    }

    fn connectivity(&self) -> SynchronizerConnectivityServiceClient<AuthChannel> {
        SynchronizerConnectivityServiceClient::new(self.admin.clone())
    }

    /// One `ListRegisteredSynchronizers` call shared by the summary and the full-config views,
    /// so both see the same filter (active configurations only). Each result comes with
    /// whether its config holds fields our schema does not know (see `raw`).
    async fn registered_results(&self) -> Result<Vec<(admin::list_registered_synchronizers_response::Result, bool)>> {
        const RPC: &str = "ListRegisteredSynchronizers";
        const PATH: &str = "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/ListRegisteredSynchronizers";
        let request = ListRegisteredSynchronizersRequest { all_statuses: false };
        let raw = raw::unary(
            self.admin.clone(),
            PATH,
            self.req(bytes::Bytes::from(request.encode_to_vec()), self.timeout),
        )
        .await
        .map_err(self.err(RPC))?;
        let resp = admin::ListRegisteredSynchronizersResponse::decode(raw.as_ref())
            .map_err(|e| self.protocol(RPC, format!("undecodable answer: {e}")))?;
        let results = raw::len_fields(&raw, 1).map_err(|e| self.protocol(RPC, e))?;
        Ok(resp
            .results
            .into_iter()
            .zip(results)
            .map(|(r, bytes)| {
                let faithful = raw::len_fields(bytes, 1)
                    .ok()
                    .and_then(|c| c.first().copied())
                    .is_none_or(raw::round_trips::<SynchronizerConnectionConfig>);
                (r, !faithful)
            })
            .collect())
    }

    fn repair(&self) -> ParticipantRepairServiceClient<AuthChannel> {
        ParticipantRepairServiceClient::new(self.admin.clone()).max_decoding_message_size(64 << 20)
    }
}

fn undecodable(participant: &str, what: &str, e: prost::DecodeError) -> ClientError {
    ClientError::Protocol {
        participant: participant.to_string(),
        rpc: "GetActiveContracts",
        message: format!("undecodable {what}: {e}"),
    }
}

fn incomplete_unassigned(participant: &str, u: ledger::IncompleteUnassigned) -> Result<AcsEntry> {
    let event = ledger::UnassignedEvent::decode(u.unassigned_event.as_slice())
        .map_err(|e| undecodable(participant, "incomplete_unassigned", e))?;
    let contract_id = match u.created_event {
        Some(c) if !c.contract_id.is_empty() => c.contract_id,
        _ => event.contract_id,
    };
    Ok(AcsEntry::Incomplete(IncompleteReassignment {
        contract_id,
        kind: IncompleteKind::Unassigned,
        source: super::logical_id(&event.source).to_string(),
        target: super::logical_id(&event.target).to_string(),
    }))
}

fn incomplete_assigned(participant: &str, a: ledger::IncompleteAssigned) -> Result<AcsEntry> {
    let event = ledger::AssignedEvent::decode(a.assigned_event.as_slice())
        .map_err(|e| undecodable(participant, "incomplete_assigned", e))?;
    Ok(AcsEntry::Incomplete(IncompleteReassignment {
        contract_id: event.created_event.map(|c| c.contract_id).unwrap_or_default(),
        kind: IncompleteKind::Assigned,
        source: super::logical_id(&event.source).to_string(),
        target: super::logical_id(&event.target).to_string(),
    }))
}

fn inspected(state: Option<State>) -> InspectedState {
    match state {
        Some(State::Created(_)) => InspectedState::Created,
        Some(State::Assigned(a)) => InspectedState::Assigned {
            counter: a.reassignment_counter_target,
        },
        Some(State::Archived(_)) => InspectedState::Archived,
        Some(State::Unassigned(u)) => InspectedState::Unassigned {
            target: u.target_synchronizer_id,
        },
        Some(State::Unknown(_)) | None => InspectedState::Unknown,
    }
}

#[async_trait]
impl ParticipantApi for GrpcParticipant {
    fn name(&self) -> &str {
        &self.name
    }

    fn enables_all_reassignments(&self) -> bool {
        self.enable_all_reassignments
    }

    async fn list_registered(&self) -> Result<Vec<RegisteredSynchronizer>> {
        Ok(self
            .registered_results()
            .await?
            .into_iter()
            .filter_map(|(r, _)| {
                let c = r.config?;
                Some(RegisteredSynchronizer {
                    sequencers: super::sync_config::endpoints(&c),
                    alias: c.synchronizer_alias,
                    connected: r.connected,
                    manual_connect: c.manual_connect,
                    physical_id: r.physical_synchronizer_id.filter(|p| !p.is_empty()),
                    priority: c.priority,
                })
            })
            .collect())
    }

    async fn registered_configs(&self) -> Result<Vec<SynchronizerConfig>> {
        Ok(self
            .registered_results()
            .await?
            .into_iter()
            .filter_map(|(r, unknown_fields)| {
                r.config
                    .map(|config| SynchronizerConfig::from_wire(config, unknown_fields))
            })
            .collect())
    }

    async fn list_connected(&self) -> Result<Vec<ConnectedSynchronizer>> {
        let resp = self
            .connectivity()
            .list_connected_synchronizers(self.req(ListConnectedSynchronizersRequest {}, self.timeout))
            .await
            .map_err(self.err("ListConnectedSynchronizers"))?;
        Ok(resp
            .into_inner()
            .connected_synchronizers
            .into_iter()
            .map(|c| ConnectedSynchronizer {
                alias: c.synchronizer_alias,
                synchronizer_id: c.synchronizer_id,
                physical_id: c.physical_synchronizer_id,
                healthy: c.healthy,
            })
            .collect())
    }

    async fn register(&self, config: SynchronizerConfig, handshake: bool) -> Result<()> {
        let mode = if handshake {
            SynchronizerConnection::Handshake
        } else {
            SynchronizerConnection::None
        };
        let validation = if handshake {
            SequencerConnectionValidation::Active
        } else {
            SequencerConnectionValidation::Disabled
        };
        let req = RegisterSynchronizerRequest {
            config: Some(config.into_wire()),
            synchronizer_connection: mode as i32,
            sequencer_connection_validation: validation as i32,
            onboarding_transactions: Vec::new(),
        };
        self.connectivity()
            .register_synchronizer(self.req(req, self.timeout))
            .await
            .map_err(self.err("RegisterSynchronizer"))?;
        Ok(())
    }

    async fn connect(&self, config: SynchronizerConfig) -> Result<bool> {
        let req = admin::ConnectSynchronizerRequest {
            config: Some(config.into_wire()),
            sequencer_connection_validation: SequencerConnectionValidation::Active as i32,
            onboarding_transactions: Vec::new(),
        };
        let resp = self
            .connectivity()
            .connect_synchronizer(self.req(req, self.timeout))
            .await
            .map_err(self.err("ConnectSynchronizer"))?;
        Ok(resp.into_inner().connected_successfully)
    }

    async fn reconnect(&self, alias: &str, retry: bool) -> Result<bool> {
        let req = ReconnectSynchronizerRequest {
            synchronizer_alias: alias.to_string(),
            retry,
        };
        let resp = self
            .connectivity()
            .reconnect_synchronizer(self.req(req, self.timeout))
            .await
            .map_err(self.err("ReconnectSynchronizer"))?;
        Ok(resp.into_inner().connected_successfully)
    }

    async fn disconnect(&self, alias: &str) -> Result<()> {
        let req = DisconnectSynchronizerRequest {
            synchronizer_alias: alias.to_string(),
        };
        self.connectivity()
            .disconnect_synchronizer(self.req(req, self.timeout))
            .await
            .map_err(self.err("DisconnectSynchronizer"))?;
        Ok(())
    }

    async fn disconnect_all(&self) -> Result<()> {
        self.connectivity()
            .disconnect_all_synchronizers(self.req(DisconnectAllSynchronizersRequest {}, self.timeout))
            .await
            .map_err(self.err("DisconnectAllSynchronizers"))?;
        Ok(())
    }

    async fn modify(&self, config: SynchronizerConfig, validation: Validation) -> Result<()> {
        let validation = match validation {
            Validation::Disabled => SequencerConnectionValidation::Disabled,
            Validation::All => SequencerConnectionValidation::All,
            Validation::Active => SequencerConnectionValidation::Active,
        };
        let req = ModifySynchronizerRequest {
            physical_synchronizer_id: None,
            new_config: Some(config.into_wire()),
            sequencer_connection_validation: validation as i32,
        };
        self.connectivity()
            .modify_synchronizer(self.req(req, self.timeout))
            .await
            .map_err(self.err("ModifySynchronizer"))?;
        Ok(())
    }

    async fn synchronizer_id(&self, alias: &str) -> Result<SynchronizerIds> {
        let req = GetSynchronizerIdRequest {
            synchronizer_alias: alias.to_string(),
        };
        let resp = self
            .connectivity()
            .get_synchronizer_id(self.req(req, self.timeout))
            .await
            .map_err(self.err("GetSynchronizerId"))?
            .into_inner();
        Ok(SynchronizerIds {
            logical: resp.synchronizer_id,
            physical: resp.physical_synchronizer_id,
        })
    }

    async fn export_acs(&self, synchronizer_id: Option<&str>, ledger_offset: i64) -> Result<ContractStream> {
        let req = ExportAcsRequest {
            party_ids: Vec::new(),
            synchronizer_id: synchronizer_id.unwrap_or_default().to_string(),
            ledger_offset,
            contract_synchronizer_renames: Default::default(),
            excluded_stakeholder_ids: Vec::new(),
        };
        let answer = self
            .repair()
            .export_acs(self.stream_req(req))
            .await
            .map_err(self.err("ExportAcs"))?
            .into_inner();
        // Canton writes the whole snapshot before it sends its first chunk
        // (GrpcParticipantRepairService.exportAcs: GrpcStreamingUtils.streamToClient into a
        // ByteArrayOutputStream, release-line-3.4 and 3.5), so the first message may take as
        // long as a repair call; the next ones are only sent.
        let patience = Patience {
            first: self.repair_timeout,
            first_from: "repair_timeout_secs, the wait for an export's first message",
            next: self.stream_idle,
        };
        let stream = idle_deadline(answer, patience).map(|r| r.map(|c| c.chunk));
        Ok(decode_chunks(self.name.clone(), "ExportAcs", stream))
    }

    async fn import_acs(&self, synchronizer_id: &str, mode: ImportMode, contracts: ContractStream) -> Result<()> {
        snapshot::import(
            &self.name,
            self.repair(),
            self.req((), self.repair_timeout),
            synchronizer_id,
            mode,
            contracts,
        )
        .await
    }

    async fn change_assignation(
        &self,
        source_alias: &str,
        target_alias: &str,
        contract_ids: &[String],
        skip_inactive: bool,
    ) -> Result<()> {
        let req = ChangeAssignationRequest {
            source_synchronizer_alias: source_alias.to_string(),
            target_synchronizer_alias: target_alias.to_string(),
            skip_inactive,
            contracts: contract_ids
                .iter()
                .map(|id| admin::change_assignation_request::Contract {
                    id: id.clone(),
                    reassignment_counter_override: None,
                })
                .collect(),
        };
        self.repair()
            .change_assignation(self.req(req, self.repair_timeout))
            .await
            .map_err(self.err("ChangeAssignation"))?;
        Ok(())
    }

    async fn purge(&self, alias: &str, contract_ids: &[String], ignore_already_purged: bool) -> Result<()> {
        let req = PurgeContractsRequest {
            synchronizer_alias: alias.to_string(),
            contract_ids: contract_ids.to_vec(),
            ignore_already_purged,
        };
        self.repair()
            .purge_contracts(self.req(req, self.repair_timeout))
            .await
            .map_err(self.err("PurgeContracts"))?;
        Ok(())
    }

    async fn inspect_contracts(
        &self,
        synchronizer_id: &str,
        contract_ids: &[String],
    ) -> Result<Vec<ContractInspection>> {
        const RPC: &str = "InspectCommitmentContracts";
        let cids = contract_ids
            .iter()
            .map(|id| hex::decode(id).map_err(|_| self.protocol(RPC, format!("contract id {id} is not hex"))))
            .collect::<Result<Vec<_>>>()?;
        let now = jiff::Timestamp::now();
        let req = InspectCommitmentContractsRequest {
            cids,
            expected_synchronizer_id: synchronizer_id.to_string(),
            timestamp: Some(prost_types::Timestamp {
                seconds: now.as_second(),
                nanos: now.subsec_nanosecond(),
            }),
            download_payload: false,
        };
        let mut stream = ParticipantInspectionServiceClient::new(self.admin.clone())
            .inspect_commitment_contracts(self.req(req, self.timeout))
            .await
            .map_err(self.err(RPC))?
            .into_inner();
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend(chunk.map_err(self.err(RPC))?.chunk);
        }
        let mut slice = bytes.as_slice();
        let mut out = Vec::new();
        while !slice.is_empty() {
            let framed = UntypedVersionedMessage::decode_length_delimited(&mut slice)
                .map_err(|e| self.protocol(RPC, format!("undecodable record: {e}")))?;
            if framed.version != 30 {
                return Err(self.protocol(RPC, format!("unsupported record version {}", framed.version)));
            }
            let Some(Wrapper::Data(data)) = framed.wrapper else {
                return Err(self.protocol(RPC, "record without data"));
            };
            let c = admin::CommitmentContract::decode(data.as_slice())
                .map_err(|e| self.protocol(RPC, format!("undecodable CommitmentContract: {e}")))?;
            out.push(ContractInspection {
                contract_id: hex::encode(&c.cid),
                active_on_expected: c.active_on_expected_synchronizer,
                states: c
                    .states
                    .into_iter()
                    .map(|s| (s.synchronizer_id, inspected(s.state)))
                    .collect(),
            });
        }
        Ok(out)
    }

    async fn count_in_flight(&self, synchronizer_id: &str) -> Result<InFlight> {
        let req = CountInFlightRequest {
            synchronizer_id: synchronizer_id.to_string(),
        };
        let resp = ParticipantInspectionServiceClient::new(self.admin.clone())
            .count_in_flight(self.req(req, self.timeout))
            .await
            .map_err(self.err("CountInFlight"))?
            .into_inner();
        Ok(InFlight {
            pending_submissions: resp.pending_submissions,
            pending_transactions: resp.pending_transactions,
        })
    }

    async fn status(&self) -> Result<ParticipantStatus> {
        let resp = ParticipantStatusServiceClient::new(self.admin.clone())
            .participant_status(self.req(ParticipantStatusRequest {}, self.timeout))
            .await
            .map_err(self.err("ParticipantStatus"))?
            .into_inner();
        match resp.kind {
            Some(Kind::Status(s)) => {
                let common = s.common_status.unwrap_or_default();
                Ok(ParticipantStatus {
                    uid: common.uid,
                    version: common.version,
                    active: s.active,
                    uptime_secs: common
                        .uptime
                        .map(|d| u64::try_from(d.seconds).unwrap_or(0))
                        .unwrap_or(0),
                    connected: s
                        .connected_synchronizers
                        .into_iter()
                        .map(|c| (c.physical_synchronizer_id, c.health == Health::Healthy as i32))
                        .collect(),
                    protocol_versions: s.supported_protocol_versions,
                })
            }
            Some(Kind::NotInitialized(_)) => {
                Err(self.protocol("ParticipantStatus", "the participant is not initialized"))
            }
            None => Err(self.protocol("ParticipantStatus", "empty status")),
        }
    }

    async fn ping(&self, parties: &[String], synchronizer_id: &str, timeout: Duration) -> Result<PingOutcome> {
        let req = PingRequest {
            target_parties: parties.to_vec(),
            validators: Vec::new(),
            timeout: Some(prost_types::Duration {
                seconds: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
                nanos: i32::try_from(timeout.subsec_nanos()).unwrap_or(0),
            }),
            levels: 0,
            synchronizer_id: synchronizer_id.to_string(),
            workflow_id: String::new(),
            id: uuid::Uuid::new_v4().to_string(),
        };
        let resp = PingServiceClient::new(self.admin.clone())
            .ping(self.req(req, timeout + self.timeout))
            .await
            .map_err(self.err("Ping"))?
            .into_inner();
        Ok(match resp.response {
            Some(ping_response::Response::Success(s)) => PingOutcome::Success {
                millis: s.ping_time,
                responder: s.responder,
            },
            Some(ping_response::Response::Failure(f)) => PingOutcome::Failure { reason: f.reason },
            None => PingOutcome::Failure {
                reason: "empty ping response".into(),
            },
        })
    }

    async fn ledger_end(&self) -> Result<i64> {
        let resp = StateServiceClient::new(self.ledger.clone())
            .get_ledger_end(self.req(GetLedgerEndRequest {}, self.timeout))
            .await
            .map_err(self.err("GetLedgerEnd"))?;
        Ok(resp.into_inner().offset)
    }

    async fn active_contracts(&self, offset: i64, include_blob: bool) -> Result<AcsStream> {
        let wildcard = ledger::CumulativeFilter {
            identifier_filter: Some(IdentifierFilter::WildcardFilter(ledger::WildcardFilter {
                include_created_event_blob: include_blob,
            })),
        };
        let req = GetActiveContractsRequest {
            active_at_offset: offset,
            event_format: Some(EventFormat {
                filters_by_party: Default::default(),
                filters_for_any_party: Some(Filters {
                    cumulative: vec![wildcard],
                }),
                verbose: true,
            }),
            stream_continuation_token: None,
        };
        let name = self.name.clone();
        let answer = StateServiceClient::new(self.ledger.clone())
            .max_decoding_message_size(64 << 20)
            .get_active_contracts(self.stream_req(req))
            .await
            .map_err(self.err("GetActiveContracts"))?
            .into_inner();
        let mut read = 0u64;
        let stream = idle_deadline(answer, Patience::even(self.stream_idle)).filter_map(move |r| {
            let out = match r {
                Ok(resp) => {
                    read += 1;
                    match resp.contract_entry {
                        Some(ContractEntry::ActiveContract(c)) => Some(Ok(AcsEntry::Active(Contract::from_wire(c)))),
                        Some(ContractEntry::IncompleteUnassigned(u)) => Some(incomplete_unassigned(&name, u)),
                        Some(ContractEntry::IncompleteAssigned(a)) => Some(incomplete_assigned(&name, a)),
                        None => None,
                    }
                }
                Err(s) => {
                    let e = ClientError::from_status(&name, "GetActiveContracts", s);
                    Some(Err(broke_off(e, read > 0, read)))
                }
            };
            futures::future::ready(out)
        });
        Ok(stream.boxed())
    }

    async fn known_parties(&self) -> Result<Vec<KnownParty>> {
        let mut out = Vec::new();
        let mut page_token = String::new();
        loop {
            let req = ListKnownPartiesRequest {
                identity_provider_id: String::new(),
                page_token: page_token.clone(),
                page_size: 0,
                filter_party: String::new(),
            };
            let resp = PartyManagementServiceClient::new(self.ledger.clone())
                .list_known_parties(self.req(req, self.timeout))
                .await
                .map_err(self.err("ListKnownParties"))?
                .into_inner();
            out.extend(resp.party_details.into_iter().map(|p| KnownParty {
                party: p.party,
                is_local: p.is_local,
            }));
            if resp.next_page_token.is_empty() || resp.next_page_token == page_token {
                return Ok(out);
            }
            page_token = resp.next_page_token;
        }
    }

    async fn submit_and_wait(&self, submission: Submission) -> Result<SubmitOutcome> {
        let commands = submission.to_wire(USER_ID, uuid::Uuid::new_v4().to_string());
        let resp = CommandServiceClient::new(self.ledger.clone())
            .submit_and_wait(self.req(
                SubmitAndWaitRequest {
                    commands: Some(commands),
                },
                self.timeout,
            ))
            .await
            .map_err(self.err("SubmitAndWait"))?
            .into_inner();
        Ok(SubmitOutcome {
            update_id: resp.update_id,
            completion_offset: resp.completion_offset,
        })
    }

    async fn vetted_packages(&self, synchronizer_id: &str) -> Result<Option<std::collections::BTreeSet<String>>> {
        use crate::wire::protocol::enums::TopologyChangeOp;
        use crate::wire::topology_admin::{
            BaseQuery, ListVettedPackagesRequest, StoreId, Synchronizer, base_query::TimeQuery, store_id, synchronizer,
            topology_manager_read_service_client::TopologyManagerReadServiceClient,
        };
        const RPC: &str = "ListVettedPackages";
        let uid = self.status().await?.uid;
        let request = ListVettedPackagesRequest {
            base_query: Some(BaseQuery {
                store: Some(StoreId {
                    store: Some(store_id::Store::Synchronizer(Synchronizer {
                        kind: Some(synchronizer::Kind::Id(synchronizer_id.to_string())),
                    })),
                }),
                proposals: false,
                operation: TopologyChangeOp::AddReplace as i32,
                time_query: Some(TimeQuery::HeadState(())),
                filter_signed_key: String::new(),
                protocol_version: None,
            }),
            filter_participant: uid.clone(),
        };
        let answer = TopologyManagerReadServiceClient::new(self.admin.clone())
            .list_vetted_packages(self.req(request, self.timeout))
            .await
            .map_err(self.err(RPC));
        let results = match answer {
            Ok(r) => r.into_inner().results,
            // Canton's answer for a synchronizer store the participant does not have
            // (GrpcTopologyServiceUtil.collectActiveStores, release-line-3.5).
            Err(e) if e.canton_code() == Some("TOPOLOGY_STORE_NOT_FOUND") => return Ok(None),
            Err(e) => return Err(e),
        };
        let now = std::time::SystemTime::now();
        let in_force = |from: &Option<prost_types::Timestamp>, until: &Option<prost_types::Timestamp>| {
            let at = |t: &prost_types::Timestamp| std::time::SystemTime::try_from(*t).ok();
            from.as_ref().and_then(at).is_none_or(|f| f <= now) && until.as_ref().and_then(at).is_none_or(|u| now < u)
        };
        let mut vetted = std::collections::BTreeSet::new();
        for item in results.into_iter().filter_map(|r| r.item) {
            // The filter matches uids by prefix: keep this participant's own mapping.
            if item.participant_uid != uid {
                continue;
            }
            #[allow(deprecated)]
            vetted.extend(item.package_ids);
            vetted.extend(
                item.packages
                    .into_iter()
                    .filter(|p| in_force(&p.valid_from_inclusive, &p.valid_until_exclusive))
                    .map(|p| p.package_id),
            );
        }
        Ok(Some(vetted))
    }

    async fn pruning_schedule(&self) -> Result<Option<PruningSchedule>> {
        let resp = PruningServiceClient::new(self.admin.clone())
            .get_participant_schedule(self.req(GetParticipantScheduleRequest {}, self.timeout))
            .await
            .map_err(self.err("GetParticipantSchedule"))?
            .into_inner();
        Ok(resp.schedule.map(|p| {
            let s = p.schedule.unwrap_or_default();
            PruningSchedule {
                cron: s.cron,
                max_duration_secs: s.max_duration.map(|d| d.seconds).unwrap_or_default(),
                retention_secs: s.retention.map(|d| d.seconds).unwrap_or_default(),
                prune_internally_only: p.prune_internally_only,
            }
        }))
    }
}
