//! SynchronizerConnectivityService as a Canton participant implements it: registered
//! configs (full-config replace on modify, alias immutable), explicit and automatic
//! connections, and the subscription task that keeps a connection alive.

use super::session::spawn_runner;
use super::{Node, lock};
use crate::canton_error::{self, codes};
use crate::wire::admin::{
    self, ConnectSynchronizerRequest, ConnectSynchronizerResponse, DisconnectAllSynchronizersRequest,
    DisconnectAllSynchronizersResponse, DisconnectSynchronizerRequest, DisconnectSynchronizerResponse,
    GetSynchronizerIdRequest, GetSynchronizerIdResponse, ListConnectedSynchronizersRequest,
    ListConnectedSynchronizersResponse, ListRegisteredSynchronizersRequest, ListRegisteredSynchronizersResponse,
    ModifySynchronizerRequest, ModifySynchronizerResponse, ReconnectSynchronizerRequest, ReconnectSynchronizerResponse,
    RegisterSynchronizerRequest, RegisterSynchronizerResponse, SynchronizerConnectionConfig,
    list_registered_synchronizers_response::{Result as RegisteredResult, Status as RegStatus},
    register_synchronizer_request::SynchronizerConnection,
};
use crate::wire::lab::{HandshakeRequest, HandshakeResponse, sequencer_client::SequencerClient};
use crate::wire::sequencer::{SequencerConnectionValidation, sequencer_connection};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status};

/// Generous: on a loaded machine a healthy sequencer can take seconds to answer, and a
/// validation that fails for that reason fails the operator's modify or connect.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_WAIT: Duration = Duration::from_secs(10);

fn invalid(cause: impl Into<String>) -> Status {
    canton_error::status(codes::INVALID_FIELD, cause)
}

/// The server-side checks Canton's proto parsers apply to a connection config
/// (participant/synchronizer/SynchronizerConnectionConfig.scala and
/// sequencing/SequencerConnections.scala, fromProtoV30).
pub(crate) fn validate_config(c: &SynchronizerConnectionConfig) -> Result<(), Status> {
    if c.synchronizer_alias.trim().is_empty() {
        return Err(invalid("synchronizer_alias: must not be empty"));
    }
    if c.synchronizer_alias.len() > 255 {
        return Err(invalid("synchronizer_alias: longer than 255 characters"));
    }
    let conns = c
        .sequencer_connections
        .as_ref()
        .ok_or_else(|| invalid("sequencer_connections: field is required"))?;
    if conns.sequencer_connections.is_empty() {
        return Err(invalid("sequencer_connections: must not be empty"));
    }
    let mut aliases = std::collections::BTreeSet::new();
    for sc in &conns.sequencer_connections {
        let Some(sequencer_connection::Type::Grpc(grpc)) = &sc.r#type else {
            return Err(invalid("sequencer_connections.type: field is required"));
        };
        if grpc.connections.is_empty() {
            return Err(invalid("sequencer_connections.grpc.connections: must not be empty"));
        }
        if !aliases.insert(sc.alias.clone()) {
            return Err(invalid(format!(
                "sequencer_connections: duplicate sequencer alias {:?}",
                sc.alias
            )));
        }
    }
    if conns.sequencer_trust_threshold < 1 {
        return Err(invalid("sequencer_trust_threshold: must be positive"));
    }
    let amp = conns
        .submission_request_amplification
        .as_ref()
        .ok_or_else(|| invalid("submission_request_amplification: field is required"))?;
    if amp.factor < 1 || amp.patience.is_none() {
        return Err(invalid(
            "submission_request_amplification: factor must be positive and patience set",
        ));
    }
    let delays = conns
        .sequencer_connection_pool_delays
        .as_ref()
        .ok_or_else(|| invalid("sequencer_connection_pool_delays: field is required"))?;
    if delays.min_restart_delay.is_none()
        || delays.max_restart_delay.is_none()
        || delays.subscription_request_delay.is_none()
    {
        return Err(invalid(
            "sequencer_connection_pool_delays: min/max restart and subscription request delays are required",
        ));
    }
    let tt = c
        .time_tracker
        .as_ref()
        .ok_or_else(|| invalid("time_tracker: field is required"))?;
    let tp = tt
        .time_proof_request
        .as_ref()
        .ok_or_else(|| invalid("time_tracker.time_proof_request: field is required"))?;
    if tt.observation_latency.is_none()
        || tt.patience_duration.is_none()
        || tt.min_observation_duration.is_none()
        || tp.initial_retry_delay.is_none()
        || tp.max_retry_delay.is_none()
        || tp.max_sequencing_delay.is_none()
    {
        return Err(invalid("time_tracker: every duration is required"));
    }
    Ok(())
}

fn validation_of(raw: i32) -> Result<SequencerConnectionValidation, Status> {
    match SequencerConnectionValidation::try_from(raw) {
        Ok(SequencerConnectionValidation::Unspecified) | Err(_) => Err(invalid(
            "sequencer_connection_validation: UNSPECIFIED is not a valid validation mode",
        )),
        Ok(v) => Ok(v),
    }
}

/// The first sequencer endpoint of a config (the lab's synchronizers have one sequencer).
pub(crate) fn first_endpoint(c: &SynchronizerConnectionConfig) -> Option<String> {
    sequencer_url(c)
}

fn sequencer_url(c: &SynchronizerConnectionConfig) -> Option<String> {
    c.sequencer_connections
        .as_ref()?
        .sequencer_connections
        .iter()
        .find_map(|sc| match &sc.r#type {
            Some(sequencer_connection::Type::Grpc(g)) => g.connections.first().cloned(),
            None => None,
        })
}

/// An error with its causes: tonic's transport errors say only "transport error" at the
/// top, the cause (refused, reset, timed out) is further down.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

pub(crate) async fn sequencer_client(url: &str) -> Result<SequencerClient<Channel>, String> {
    let endpoint = Endpoint::from_shared(url.to_string())
        .map_err(|e| format!("bad sequencer endpoint {url}: {e}"))?
        .connect_timeout(HANDSHAKE_TIMEOUT)
        .timeout(HANDSHAKE_TIMEOUT * 2);
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| format!("sequencer {url} unreachable: {}", chain(&e)))?;
    Ok(SequencerClient::new(channel))
}

pub(super) async fn handshake(url: &str, member: &str) -> Result<HandshakeResponse, String> {
    // Like Canton's sequencer connection pool (sequencing/client/pool/SequencerConnectionPoolImpl.scala),
    // a refused or reset attempt is retried a couple of times before the sequencer counts
    // as unreachable.
    let mut last = String::new();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(150 * u64::from(attempt))).await;
        }
        match handshake_once(url, member).await {
            Ok(r) => return Ok(r),
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn handshake_once(url: &str, member: &str) -> Result<HandshakeResponse, String> {
    let mut client = sequencer_client(url).await?;
    let resp = tokio::time::timeout(
        HANDSHAKE_TIMEOUT,
        client.handshake(HandshakeRequest {
            member: member.to_string(),
        }),
    )
    .await
    .map_err(|_| format!("sequencer {url} did not answer the handshake"))?
    .map_err(|e| format!("sequencer {url}: {}", e.message()))?;
    Ok(resp.into_inner())
}

/// Validates the sequencers of a config as the requested mode says.
async fn validate_sequencers(
    node: &Node,
    c: &SynchronizerConnectionConfig,
    v: SequencerConnectionValidation,
) -> Result<(), Status> {
    if v == SequencerConnectionValidation::Disabled {
        return Ok(());
    }
    let url = sequencer_url(c).ok_or_else(|| invalid("sequencer_connections: no endpoint"))?;
    // Canton: participant/sync/SynchronizerConnectionsManager.scala (validateSequencerConnection)
    // maps every validation failure to SyncServiceInconsistentConnectivity
    // (participant/sync/SyncServiceError.scala).
    handshake(&url, &node.member).await.map(|_| ()).map_err(|e| {
        canton_error::status(
            codes::SYNC_SERVICE_BAD_CONNECTIVITY,
            format!(
                "The provided sequencer connections are inconsistent: {} {e}.",
                c.synchronizer_alias
            ),
        )
    })
}

/// Stores a new config (as much of it as the node's line knows); an alias can be
/// registered once.
async fn register(node: &Arc<Node>, config: SynchronizerConnectionConfig) -> Result<(), Status> {
    let config = node.dialect.known_config_fields(config);
    let alias = config.synchronizer_alias.clone();
    if node.db(move |s| s.register_sync(&config)).await? {
        Ok(())
    } else {
        // Canton 3.4+: SynchronizerRegistration (sync/SyncServiceError.scala); 3.3 had
        // SYNC_SERVICE_ALREADY_ADDED.
        Err(canton_error::status(
            codes::SYNCHRONIZER_REGISTRATION,
            format!("The synchronizer with alias {alias} cannot be registered: the alias is already configured"),
        ))
    }
}

/// Canton: SynchronizerRegistryError.ConnectionErrors.SynchronizerIsNotAvailable
/// (participant/synchronizer/SynchronizerRegistry.scala): transient, retryable.
fn not_available(alias: &str, why: &str) -> Status {
    tracing::info!("{alias}: {why}");
    canton_error::status(
        codes::SYNCHRONIZER_IS_NOT_AVAILABLE,
        format!("Cannot connect to synchronizer {alias}"),
    )
}

fn unknown_alias(alias: &str) -> Status {
    canton_error::status(
        codes::SYNC_SERVICE_UNKNOWN_SYNCHRONIZER,
        format!("The synchronizer with alias {alias} is unknown."),
    )
}

/// Connects a registered alias. Returns whether the connection is established; with
/// `retry`, an unreachable synchronizer keeps being tried in the background.
pub(crate) async fn connect_alias(node: &Arc<Node>, alias: &str, retry: bool) -> Result<bool, Status> {
    let a = alias.to_string();
    let sync = node
        .db(move |s| s.sync(&a))
        .await?
        .ok_or_else(|| unknown_alias(alias))?;
    if lock(&node.conns).contains_key(alias) {
        return Ok(true);
    }
    let url = sequencer_url(&sync.config).ok_or_else(|| invalid("sequencer_connections: no endpoint"))?;
    let hs = match handshake(&url, &node.member).await {
        Ok(hs) => hs,
        Err(e) => {
            tracing::info!("{alias}: {e}");
            if retry {
                spawn_runner(
                    node,
                    alias,
                    &url,
                    sync.synchronizer_id.clone(),
                    sync.physical_id.clone(),
                );
            }
            return Ok(false);
        }
    };
    let pinned = &sync.config.physical_synchronizer_id;
    if !pinned.is_empty() && pinned != &hs.physical_synchronizer_id {
        return Err(canton_error::status(
            codes::INVALID_ARGUMENT,
            format!(
                "Synchronizer {alias} reports id {} but the config pins {pinned}",
                hs.physical_synchronizer_id
            ),
        ));
    }
    let (a, id, phys) = (
        alias.to_string(),
        hs.synchronizer_id.clone(),
        hs.physical_synchronizer_id.clone(),
    );
    node.db(move |s| s.set_sync_ids(&a, &id, &phys)).await?;
    let established = spawn_runner(
        node,
        alias,
        &url,
        Some(hs.synchronizer_id),
        Some(hs.physical_synchronizer_id),
    );
    // Canton's connect returns once the participant is active on the synchronizer
    // (participant/admin/grpc/GrpcSynchronizerConnectivityService.scala, waitUntilActive).
    let deadline = tokio::time::Instant::now() + CONNECT_WAIT;
    loop {
        let a = alias.to_string();
        let initialised = node
            .db(move |s| Ok(s.sync(&a)?.is_some_and(|s| s.topology_initialised)))
            .await?;
        if initialised && established.load(Ordering::SeqCst) {
            return Ok(true);
        }
        if tokio::time::Instant::now() > deadline {
            return Ok(established.load(Ordering::SeqCst));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn registered_result(node: &Node, s: crate::lab::store::RegisteredSync) -> RegisteredResult {
    let connected = lock(&node.conns)
        .get(&s.alias)
        .is_some_and(|c| c.established.load(Ordering::SeqCst));
    // 3.4 has no registration status: the field is left at its default, which proto3
    // does not put on the wire.
    let status = if node.dialect.knows_registration_status() {
        RegStatus::Active
    } else {
        RegStatus::Unspecified
    };
    RegisteredResult {
        config: Some(s.config),
        connected,
        physical_synchronizer_id: s.physical_id,
        status: status as i32,
        synchronizer_predecessor: None,
    }
}

#[derive(Clone)]
pub struct ConnectivityService(pub Arc<Node>);

#[tonic::async_trait]
impl admin::synchronizer_connectivity_service_server::SynchronizerConnectivityService for ConnectivityService {
    async fn list_registered_synchronizers(
        &self,
        _req: Request<ListRegisteredSynchronizersRequest>,
    ) -> Result<Response<ListRegisteredSynchronizersResponse>, Status> {
        let node = &self.0;
        let syncs = node.db(|s| s.syncs()).await?;
        Ok(Response::new(ListRegisteredSynchronizersResponse {
            results: syncs.into_iter().map(|s| registered_result(node, s)).collect(),
        }))
    }

    async fn list_connected_synchronizers(
        &self,
        _req: Request<ListConnectedSynchronizersRequest>,
    ) -> Result<Response<ListConnectedSynchronizersResponse>, Status> {
        use admin::list_connected_synchronizers_response::Result as Connected;
        let conns = lock(&self.0.conns);
        let mut out: Vec<Connected> = conns
            .iter()
            .filter(|(_, c)| c.established.load(Ordering::SeqCst))
            .map(|(alias, c)| Connected {
                synchronizer_alias: alias.clone(),
                synchronizer_id: c.synchronizer_id.clone(),
                physical_synchronizer_id: c.physical_id.clone(),
                healthy: c.healthy.load(Ordering::SeqCst),
            })
            .collect();
        out.sort_by(|a, b| a.synchronizer_alias.cmp(&b.synchronizer_alias));
        Ok(Response::new(ListConnectedSynchronizersResponse {
            connected_synchronizers: out,
        }))
    }

    async fn register_synchronizer(
        &self,
        req: Request<RegisterSynchronizerRequest>,
    ) -> Result<Response<RegisterSynchronizerResponse>, Status> {
        let node = &self.0;
        let req = req.into_inner();
        let config = req.config.ok_or_else(|| invalid("config: field is required"))?;
        validate_config(&config)?;
        let mode = match SynchronizerConnection::try_from(req.synchronizer_connection) {
            Ok(SynchronizerConnection::Unspecified) | Err(_) => {
                return Err(invalid("synchronizer_connection: UNSPECIFIED is not valid"));
            }
            Ok(m) => m,
        };
        let validation = validation_of(req.sequencer_connection_validation)?;
        validate_sequencers(node, &config, validation).await?;
        let hs = if mode == SynchronizerConnection::Handshake {
            let url = sequencer_url(&config).ok_or_else(|| invalid("sequencer_connections: no endpoint"))?;
            Some(
                handshake(&url, &node.member)
                    .await
                    .map_err(|e| not_available(&config.synchronizer_alias, &e))?,
            )
        } else {
            None
        };
        let alias = config.synchronizer_alias.clone();
        register(node, config).await?;
        if let Some(hs) = hs {
            node.db(move |s| s.set_sync_ids(&alias, &hs.synchronizer_id, &hs.physical_synchronizer_id))
                .await?;
        }
        Ok(Response::new(RegisterSynchronizerResponse {}))
    }

    async fn connect_synchronizer(
        &self,
        req: Request<ConnectSynchronizerRequest>,
    ) -> Result<Response<ConnectSynchronizerResponse>, Status> {
        let node = &self.0;
        let req = req.into_inner();
        let config = req.config.ok_or_else(|| invalid("config: field is required"))?;
        validate_config(&config)?;
        let validation = validation_of(req.sequencer_connection_validation)?;
        validate_sequencers(node, &config, validation).await?;
        let alias = config.synchronizer_alias.clone();
        register(node, config).await?;
        let ok = connect_alias(node, &alias, false).await?;
        Ok(Response::new(ConnectSynchronizerResponse {
            connected_successfully: ok,
        }))
    }

    async fn reconnect_synchronizer(
        &self,
        req: Request<ReconnectSynchronizerRequest>,
    ) -> Result<Response<ReconnectSynchronizerResponse>, Status> {
        let req = req.into_inner();
        let ok = connect_alias(&self.0, &req.synchronizer_alias, req.retry).await?;
        Ok(Response::new(ReconnectSynchronizerResponse {
            connected_successfully: ok,
        }))
    }

    async fn disconnect_synchronizer(
        &self,
        req: Request<DisconnectSynchronizerRequest>,
    ) -> Result<Response<DisconnectSynchronizerResponse>, Status> {
        let node = &self.0;
        let alias = req.into_inner().synchronizer_alias;
        let a = alias.clone();
        if node.db(move |s| s.sync(&a)).await?.is_none() {
            return Err(unknown_alias(&alias));
        }
        disconnect(node, &alias).await;
        Ok(Response::new(DisconnectSynchronizerResponse {}))
    }

    async fn disconnect_all_synchronizers(
        &self,
        _req: Request<DisconnectAllSynchronizersRequest>,
    ) -> Result<Response<DisconnectAllSynchronizersResponse>, Status> {
        let aliases: Vec<String> = lock(&self.0.conns).keys().cloned().collect();
        for alias in aliases {
            disconnect(&self.0, &alias).await;
        }
        Ok(Response::new(DisconnectAllSynchronizersResponse {}))
    }

    async fn modify_synchronizer(
        &self,
        req: Request<ModifySynchronizerRequest>,
    ) -> Result<Response<ModifySynchronizerResponse>, Status> {
        let node = &self.0;
        let req = req.into_inner();
        let config = req.new_config.ok_or_else(|| invalid("new_config: field is required"))?;
        validate_config(&config)?;
        let validation = validation_of(req.sequencer_connection_validation)?;
        let a = config.synchronizer_alias.clone();
        let existing = node
            .db(move |s| s.sync(&a))
            .await?
            .ok_or_else(|| unknown_alias(&config.synchronizer_alias))?;
        if let Some(pid) = req.physical_synchronizer_id.filter(|p| !p.is_empty())
            && existing.physical_id.as_deref() != Some(pid.as_str())
        {
            return Err(unknown_alias(&format!(
                "{} (physical id {pid})",
                config.synchronizer_alias
            )));
        }
        validate_sequencers(node, &config, validation).await?;
        let config = node.dialect.known_config_fields(config);
        node.db(move |s| s.replace_sync_config(&config)).await?;
        Ok(Response::new(ModifySynchronizerResponse {}))
    }

    /// Canton answers from the stored config when the physical id is known, and otherwise
    /// asks the sequencers (a live handshake) and records what they say
    /// (participant/admin/grpc/GrpcSynchronizerConnectivityService.scala, getSynchronizerId,
    /// release-line-3.5).
    async fn get_synchronizer_id(
        &self,
        req: Request<GetSynchronizerIdRequest>,
    ) -> Result<Response<GetSynchronizerIdResponse>, Status> {
        let node = &self.0;
        let alias = req.into_inner().synchronizer_alias;
        let a = alias.clone();
        let sync = node
            .db(move |s| s.sync(&a))
            .await?
            .ok_or_else(|| unknown_alias(&alias))?;
        if let (Some(id), Some(phys)) = (sync.synchronizer_id, sync.physical_id) {
            return Ok(Response::new(GetSynchronizerIdResponse {
                synchronizer_id: id,
                physical_synchronizer_id: phys,
            }));
        }
        let url = sequencer_url(&sync.config).ok_or_else(|| invalid("sequencer_connections: no endpoint"))?;
        let hs = handshake(&url, &node.member)
            .await
            .map_err(|e| not_available(&alias, &e))?;
        let (a, id, phys) = (
            alias.clone(),
            hs.synchronizer_id.clone(),
            hs.physical_synchronizer_id.clone(),
        );
        node.db(move |s| s.set_sync_ids(&a, &id, &phys)).await?;
        Ok(Response::new(GetSynchronizerIdResponse {
            synchronizer_id: hs.synchronizer_id,
            physical_synchronizer_id: hs.physical_synchronizer_id,
        }))
    }
}

/// Stops the connection's task and waits until it no longer processes events, so that
/// a repair issued right after a disconnect never races a late event.
pub(crate) async fn disconnect(node: &Arc<Node>, alias: &str) {
    let conn = lock(&node.conns).remove(alias);
    if let Some(conn) = conn {
        conn.cancel.cancel();
        let abort = conn.task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(5), conn.task).await.is_err() {
            abort.abort();
        }
    }
}
