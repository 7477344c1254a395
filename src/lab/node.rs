//! Runs one lab node as an OS process: binds its listeners (port 0 picks a free port),
//! records where it listens in `DIR/node.json` only once it accepts connections, and
//! serves until SIGTERM/SIGINT — or until its parent dies, when asked to.

use crate::lab::dialect::Dialect;
use crate::lab::participant::{self, Node};
use crate::lab::synchronizer::{self, SynchronizerNode};
use crate::wire::{admin, lab, ledger, ledger_admin, topology_admin};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};

/// What a running node publishes about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NodeInfo {
    pub name: String,
    pub kind: NodeKind,
    pub pid: u32,
    /// Participant: admin API; synchronizer: sequencer API.
    pub port: u16,
    /// Participant only: Ledger API.
    pub ledger_port: Option<u16>,
    pub tls: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Participant,
    Synchronizer,
}

pub const INFO_FILE: &str = "node.json";

pub fn read_info(dir: &Path) -> Option<NodeInfo> {
    let text = std::fs::read_to_string(dir.join(INFO_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_info(dir: &Path, info: &NodeInfo) -> std::io::Result<()> {
    let tmp = dir.join(format!("{INFO_FILE}.tmp"));
    let text = serde_json::to_string_pretty(info).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, dir.join(INFO_FILE))
}

/// Server-side options shared by both node kinds.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// When set, every call must carry `authorization: Bearer <token>`.
    pub token: Option<String>,
    pub exit_with_parent: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct ParticipantArgs {
    pub name: String,
    pub dir: PathBuf,
    pub admin_port: u16,
    pub ledger_port: u16,
    pub parties: Vec<String>,
    pub dialect: Dialect,
    pub enable_all_reassignments: bool,
    /// Synchronizer aliases on which the DAR is not vetted at the first connection.
    pub unvetted_on: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SynchronizerArgs {
    pub name: String,
    pub dir: PathBuf,
    pub port: u16,
    pub confirmation_timeout: Duration,
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn bind(port: u16) -> Result<(TcpListener, u16), BoxError> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let port = listener.local_addr()?.port();
    Ok((listener, port))
}

fn builder(opts: &ServeOptions) -> Result<Server, BoxError> {
    let mut b = Server::builder();
    if let (Some(cert), Some(key)) = (&opts.tls_cert, &opts.tls_key) {
        let cert = std::fs::read(cert).map_err(|e| format!("TLS certificate {}: {e}", cert.display()))?;
        let key = std::fs::read(key).map_err(|e| format!("TLS key {}: {e}", key.display()))?;
        b = b.tls_config(ServerTlsConfig::new().identity(Identity::from_pem(cert, key)))?;
    }
    Ok(b)
}

async fn shutdown_signal(exit_with_parent: Option<u32>) {
    use tokio::signal::unix::{SignalKind, signal};
    let parent_gone = async move {
        let Some(pid) = exit_with_parent else {
            return std::future::pending::<()>().await;
        };
        let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if nix::sys::signal::kill(pid, None).is_err() {
                return;
            }
        }
    };
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        parent_gone.await;
        tracing::info!("stopping: the parent process is gone");
        return;
    };
    // Say why the node stops: a drill reads this in node.log.
    tokio::select! {
        _ = term.recv() => tracing::info!("stopping: SIGTERM"),
        _ = int.recv() => tracing::info!("stopping: SIGINT"),
        _ = parent_gone => tracing::info!("stopping: the parent process is gone"),
    }
}

pub async fn run_participant(args: ParticipantArgs, opts: ServeOptions) -> Result<(), BoxError> {
    std::fs::create_dir_all(&args.dir)?;
    let node = Node::open(
        &args.name,
        &args.dir,
        &args.parties,
        args.dialect,
        args.enable_all_reassignments,
    )?;
    node.set_unvetted_on(&args.unvetted_on)?;
    let (admin_listener, admin_port) = bind(args.admin_port).await?;
    let (ledger_listener, ledger_port) = bind(args.ledger_port).await?;
    node.set_ports(BTreeMap::from([
        ("admin".to_string(), i32::from(admin_port)),
        ("ledger".to_string(), i32::from(ledger_port)),
    ]));
    let guard = GuardLayer {
        node: Some(node.clone()),
        token: opts.token.clone().map(Arc::new),
    };
    let admin_server = builder(&opts)?
        .layer(guard.clone())
        .add_service(
            admin::synchronizer_connectivity_service_server::SynchronizerConnectivityServiceServer::new(
                participant::ConnectivityService(node.clone()),
            ),
        )
        // Canton's admin server takes requests up to `maxInboundMessageSize`, 10 MiB by
        // default (`ServerConfig.defaultMaxInboundMessageSize`, see `crate::batch`); tonic's
        // own default would be 4 MiB. The services that receive contract lists follow Canton.
        .add_service(
            admin::participant_repair_service_server::ParticipantRepairServiceServer::new(participant::RepairService(
                node.clone(),
            ))
            .max_decoding_message_size(crate::batch::CANTON_MAX_INBOUND_MESSAGE),
        )
        .add_service(
            admin::participant_inspection_service_server::ParticipantInspectionServiceServer::new(
                participant::InspectionService(node.clone()),
            )
            .max_decoding_message_size(crate::batch::CANTON_MAX_INBOUND_MESSAGE),
        )
        .add_service(
            admin::participant_status_service_server::ParticipantStatusServiceServer::new(participant::StatusService(
                node.clone(),
            )),
        )
        .add_service(admin::ping_service_server::PingServiceServer::new(
            participant::PingService(node.clone()),
        ))
        .add_service(admin::pruning_service_server::PruningServiceServer::new(
            participant::PruningService(node.clone()),
        ))
        .add_service(admin::package_service_server::PackageServiceServer::new(
            participant::PackageService(node.clone()),
        ))
        .add_service(
            topology_admin::topology_manager_read_service_server::TopologyManagerReadServiceServer::new(
                participant::TopologyReadService(node.clone()),
            ),
        )
        .add_service(lab::participant_control_server::ParticipantControlServer::new(
            participant::ControlService(node.clone()),
        ));
    let ledger_server = builder(&opts)?
        .layer(guard)
        .add_service(ledger::state_service_server::StateServiceServer::new(
            participant::StateService(node.clone()),
        ))
        .add_service(ledger::command_service_server::CommandServiceServer::new(
            participant::CommandService(node.clone()),
        ))
        .add_service(
            ledger_admin::party_management_service_server::PartyManagementServiceServer::new(
                participant::PartyService(node.clone()),
            ),
        );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut stop_a = stop_rx.clone();
    let mut stop_l = stop_rx;
    let admin_task = tokio::spawn(admin_server.serve_with_incoming_shutdown(
        TcpIncoming::from(admin_listener),
        async move {
            let _ = stop_a.wait_for(|s| *s).await;
        },
    ));
    let ledger_task = tokio::spawn(ledger_server.serve_with_incoming_shutdown(
        TcpIncoming::from(ledger_listener),
        async move {
            let _ = stop_l.wait_for(|s| *s).await;
        },
    ));
    write_info(
        &args.dir,
        &NodeInfo {
            name: args.name.clone(),
            kind: NodeKind::Participant,
            pid: std::process::id(),
            port: admin_port,
            ledger_port: Some(ledger_port),
            tls: opts.tls_cert.is_some(),
        },
    )?;
    tracing::info!(
        "participant {} (Canton {}) serving admin on {admin_port}, ledger on {ledger_port}",
        args.name,
        args.dialect
    );
    node.auto_reconnect().await;
    shutdown_signal(opts.exit_with_parent).await;
    let _ = stop_tx.send(true);
    admin_task.await??;
    ledger_task.await??;
    Ok(())
}

pub async fn run_synchronizer(args: SynchronizerArgs, opts: ServeOptions) -> Result<(), BoxError> {
    std::fs::create_dir_all(&args.dir)?;
    let node = SynchronizerNode::open(&args.name, &args.dir, args.confirmation_timeout)?;
    let (listener, port) = bind(args.port).await?;
    let server = builder(&opts)?
        .layer(GuardLayer {
            node: None,
            token: None,
        })
        .add_service(lab::sequencer_server::SequencerServer::new(
            synchronizer::SequencerService(node.clone()),
        ))
        .add_service(lab::synchronizer_control_server::SynchronizerControlServer::new(
            synchronizer::ControlService(node),
        ));
    let serving = tokio::spawn(
        server.serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown_signal(opts.exit_with_parent)),
    );
    write_info(
        &args.dir,
        &NodeInfo {
            name: args.name.clone(),
            kind: NodeKind::Synchronizer,
            pid: std::process::id(),
            port,
            ledger_port: None,
            tls: opts.tls_cert.is_some(),
        },
    )?;
    tracing::info!(
        "synchronizer {} sequencing on {port} (pid {})",
        args.name,
        std::process::id()
    );
    serving.await??;
    Ok(())
}

/// Counts calls per method (the lab's counters), checks the bearer token, and crashes
/// the node where a drill armed it to (`crate::lab::crash`).
#[derive(Clone)]
struct GuardLayer {
    node: Option<Arc<Node>>,
    token: Option<Arc<String>>,
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guard<S>;
    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            node: self.node.clone(),
            token: self.token.clone(),
        }
    }
}

#[derive(Clone)]
struct Guard<S> {
    inner: S,
    node: Option<Arc<Node>>,
    token: Option<Arc<String>>,
}

type GuardFuture<R, E> = Pin<Box<dyn std::future::Future<Output = Result<R, E>> + Send>>;

impl<S> tower::Service<http::Request<tonic::body::Body>> for Guard<S>
where
    S: tower::Service<http::Request<tonic::body::Body>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = GuardFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let fatal = self.node.as_ref().and_then(|node| {
            node.count_call(req.uri().path());
            node.crash.on_call(req.uri().path())
        });
        if let Some(token) = &self.token {
            let expected = format!("Bearer {token}");
            let given = req.headers().get("authorization").and_then(|v| v.to_str().ok());
            // An expired JWT is no token at all to Canton: its verifier (auth0's, through
            // base/daml-jwt/.../JwtVerifier.scala, `verify`) fails on it, AuthServiceJWT.scala
            // then yields `ClaimSet.Unauthenticated`, and the call is refused as a wrong
            // token is (AuthorizationChecksErrors.Unauthenticated.MissingJwtToken, redacted).
            // ACCESS_TOKEN_EXPIRED is only for a stream that outlives its token
            // (UserBasedOngoingAuthorization.scala), which the lab does not model.
            let expired = crate::client::jwt::expired(token, jiff::Timestamp::now());
            if given != Some(expected.as_str()) || expired {
                let status = crate::canton_error::status(
                    crate::canton_error::codes::UNAUTHENTICATED,
                    "The command is missing a (valid) JWT token",
                );
                return Box::pin(async move { Ok(status.into_http()) });
            }
        }
        use crate::lab::crash::{CutAfter, Fatal, die};
        let what = req.uri().path().to_string();
        match fatal {
            None => Box::pin(self.inner.call(req)),
            Some(Fatal::OnArrival) => die(&format!("on arrival of {what}")),
            Some(Fatal::MidRequest(frames)) => {
                let req = req.map(|b| tonic::body::Body::new(CutAfter::request(b, frames)));
                Box::pin(self.inner.call(req))
            }
            Some(Fatal::BeforeReply) => {
                let answer = self.inner.call(req);
                Box::pin(crate::lab::crash::die_once_done(
                    answer,
                    format!("after handling {what}, before its reply"),
                ))
            }
            Some(Fatal::MidResponse(frames)) => {
                let answer = self.inner.call(req);
                Box::pin(async move {
                    let response = answer.await?;
                    Ok(response.map(|b| tonic::body::Body::new(CutAfter::response(b, frames))))
                })
            }
        }
    }
}
