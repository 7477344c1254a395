//! Shared helpers for integration tests: real lab nodes as child processes on loopback,
//! reached over gRPC through the client library.

#![allow(dead_code)]

pub mod binary;
pub mod drill;
pub mod faults;
pub mod misbehaving;
pub mod recovered;
pub mod tmux;

use futures::StreamExt;
use recovery_deck::client::{ClientError, GrpcParticipant, ParticipantApi};
use recovery_deck::lab::scenario::{self, Scenario};
use recovery_deck::lab::supervisor::{Lab, Launcher};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

pub fn launcher() -> Launcher {
    Launcher {
        binary: PathBuf::from(env!("CARGO_BIN_EXE_recovery-deck")),
        tie_to_parent: true,
        confirmation_timeout_ms: 5_000,
    }
}

/// A running lab in a temporary directory, stopped when dropped.
pub struct TestLab {
    pub lab: Lab,
    pub dir: tempfile::TempDir,
}

impl Drop for TestLab {
    fn drop(&mut self) {
        if std::thread::panicking() {
            dump_logs(&self.lab);
        }
        let _ = self.lab.down();
    }
}

/// Prints the end of every node's log, so that a failure on CI shows what the nodes saw.
pub fn dump_logs(lab: &Lab) {
    for n in &lab.layout.nodes {
        let path = lab.node_dir(&n.name).join("node.log");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|_| "(no log: the node was lost or never started)".into());
        let lines: Vec<&str> = text.lines().collect();
        eprintln!("---- {} ({} lines), last 30:", n.name, lines.len());
        for l in &lines[lines.len().saturating_sub(30)..] {
            eprintln!("  {l}");
        }
    }
}

impl TestLab {
    pub async fn up(scenario: Scenario) -> TestLab {
        let dir = tempfile::tempdir().expect("tempdir");
        let lab = scenario::up(dir.path(), scenario, launcher()).await.expect("lab up");
        TestLab { lab, dir }
    }

    /// A lab of `scenario` following the Canton line and settings of `options`.
    pub async fn up_with(scenario: Scenario, options: &scenario::LabOptions) -> TestLab {
        let dir = tempfile::tempdir().expect("tempdir");
        let lab = scenario::up_with(dir.path(), scenario, options, launcher())
            .await
            .expect("lab up");
        TestLab { lab, dir }
    }

    /// A bare lab on `canton`: one synchronizer `sync` and one participant,
    /// `participant1` hosting Alice, neither connected nor staged.
    pub fn bare(canton: recovery_deck::lab::dialect::Dialect) -> TestLab {
        TestLab::with_nodes(canton, &["sync"], &[("participant1", &["Alice"])])
    }

    /// A lab on `canton` of these synchronizers and participants (with their party
    /// hints), all started, nothing connected or staged.
    pub fn with_nodes(
        canton: recovery_deck::lab::dialect::Dialect,
        synchronizers: &[&str],
        participants: &[(&str, &[&str])],
    ) -> TestLab {
        use recovery_deck::lab::node::NodeKind;
        use recovery_deck::lab::supervisor::{Layout, NodeSpec};
        let dir = tempfile::tempdir().expect("tempdir");
        let node = |name: &str, kind, parties: &[&str]| NodeSpec {
            name: name.into(),
            kind,
            parties: parties.iter().map(|p| p.to_string()).collect(),
            port: 0,
            ledger_port: 0,
            lost: false,
            unvetted_on: Vec::new(),
        };
        let mut nodes: Vec<NodeSpec> = synchronizers
            .iter()
            .map(|s| node(s, NodeKind::Synchronizer, &[]))
            .collect();
        nodes.extend(
            participants
                .iter()
                .map(|(p, parties)| node(p, NodeKind::Participant, parties)),
        );
        let names: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
        let layout = Layout {
            scenario: "bare".into(),
            canton,
            enable_all_reassignments: false,
            nodes,
        };
        let mut lab = Lab::create(dir.path(), layout, launcher()).expect("lab");
        for name in &names {
            lab.start(name).expect("start");
        }
        TestLab { lab, dir }
    }

    pub fn client(&self, name: &str) -> GrpcParticipant {
        scenario::client(&self.lab, name).expect("client")
    }
}

/// Contract ids a participant holds active, per synchronizer id (from ExportAcs).
pub async fn holdings(api: &dyn ParticipantApi) -> Result<BTreeMap<String, BTreeSet<String>>, ClientError> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stream = recovery_deck::client::export_at_ledger_end(api, None).await?;
    while let Some(c) = stream.next().await {
        let c = c?;
        let id = c.contract_id().unwrap_or_default().to_string();
        out.entry(c.synchronizer_id().to_string()).or_default().insert(id);
    }
    Ok(out)
}

/// Active contract ids on one synchronizer.
pub async fn ids_on(api: &dyn ParticipantApi, synchronizer_id: &str) -> BTreeSet<String> {
    holdings(api)
        .await
        .expect("export")
        .remove(synchronizer_id)
        .unwrap_or_default()
}

/// The Canton code of a failed call, panicking with the error if it is something else.
pub fn code_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (String, String) {
    match r {
        Err(ClientError::Canton { canton, .. }) => (canton.code, canton.cause),
        other => panic!("expected a Canton error, got {other:?}"),
    }
}

/// The calls that change a participant's state.
pub const MUTATING: [&str; 9] = [
    "ChangeAssignation",
    "ImportAcs",
    "PurgeContracts",
    "DisconnectSynchronizer",
    "DisconnectAllSynchronizers",
    "ModifySynchronizer",
    "ReconnectSynchronizer",
    "ConnectSynchronizer",
    "RegisterSynchronizer",
];

/// How many state-changing calls a lab participant has received since it started.
pub async fn mutating_calls(lab: &Lab, name: &str) -> u64 {
    mutating_calls_at(&lab.endpoint(name).expect("endpoint")).await
}

/// The same, for the participant whose admin API is at `url`.
pub async fn mutating_calls_at(url: &str) -> u64 {
    use recovery_deck::wire::lab::{CountersRequest, participant_control_client::ParticipantControlClient};
    let mut client = ParticipantControlClient::connect(url.to_string())
        .await
        .expect("control");
    let counters = client
        .counters(CountersRequest {})
        .await
        .expect("counters")
        .into_inner();
    counters
        .calls
        .iter()
        .filter(|(path, _)| MUTATING.iter().any(|m| path.ends_with(&format!("/{m}"))))
        .map(|(_, n)| n)
        .sum()
}

/// The participants of a lab as the executor wants them.
pub fn participants(lab: &Lab) -> recovery_deck::exec::Participants {
    lab.layout
        .nodes
        .iter()
        .filter(|n| n.kind == recovery_deck::lab::node::NodeKind::Participant)
        .map(|n| {
            let api: std::sync::Arc<dyn ParticipantApi> =
                std::sync::Arc::new(scenario::client(lab, &n.name).expect("client"));
            (n.name.clone(), api)
        })
        .collect()
}

/// The diverged lab's union with both decision kinds: purge one archived row, exclude the
/// other, and purge the row whose payloads differ (neither version can replace the
/// other: Canton never replaces a stored contract).
pub fn decided_union(
    rows: &BTreeMap<recovery_deck::reconcile::RowClass, Vec<String>>,
) -> recovery_deck::reconcile::SelectionRequest {
    let archived = rows
        .get(&recovery_deck::reconcile::RowClass::ArchivedSomewhere)
        .cloned()
        .unwrap_or_default();
    let mismatch = rows
        .get(&recovery_deck::reconcile::RowClass::PayloadMismatch)
        .cloned()
        .unwrap_or_default();
    assert_eq!((archived.len(), mismatch.len()), (2, 1), "{rows:?}");
    recovery_deck::reconcile::SelectionRequest::new(recovery_deck::reconcile::Strategy::Union)
        .decide(&archived[0], recovery_deck::reconcile::Decision::Purge)
        .decide(&archived[1], recovery_deck::reconcile::Decision::Exclude)
        .decide(&mismatch[0], recovery_deck::reconcile::Decision::Purge)
}

pub async fn diverged_rows(lab: &Lab) -> BTreeMap<recovery_deck::reconcile::RowClass, Vec<String>> {
    let apis: Vec<std::sync::Arc<dyn ParticipantApi>> = participants(lab).into_values().collect();
    let s = recovery_deck::survey::survey(
        &apis,
        scenario::LOST,
        &recovery_deck::survey::SearchFilter::default(),
        false,
    )
    .await
    .expect("survey");
    let mut out: BTreeMap<recovery_deck::reconcile::RowClass, Vec<String>> = BTreeMap::new();
    for row in s.comparison.rows() {
        out.entry(row.class()).or_default().push(row.contract_id().to_string());
    }
    out
}

/// Surveys the lab now and builds a plan for `request`.
pub async fn plan_for(
    lab: &Lab,
    request: &recovery_deck::reconcile::SelectionRequest,
    batch_size: u32,
) -> recovery_deck::plan::Plan {
    let apis: Vec<std::sync::Arc<dyn ParticipantApi>> = participants(lab).into_values().collect();
    let incident = recovery_deck::survey::Incident {
        name: "test",
        lost: scenario::LOST,
        target: scenario::TARGET,
    };
    recovery_deck::survey::propose(&apis, &incident, request, batch_size)
        .await
        .expect("plan")
        .0
}

/// A CA and a server certificate for `participant.lab.test` signed by it, written to
/// `dir`: (CA PEM, certificate PEM, key PEM).
pub fn ca_and_server(dir: &std::path::Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("ca key")).expect("ca");
    let server_key = KeyPair::generate().expect("key");
    let server = CertificateParams::new(vec!["participant.lab.test".to_string()])
        .expect("params")
        .signed_by(&server_key, &ca)
        .expect("server cert");
    let (ca_pem, cert, key) = (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&ca_pem, ca.pem()).expect("write");
    std::fs::write(&cert, server.pem()).expect("write");
    std::fs::write(&key, server_key.serialize_pem()).expect("write");
    (ca_pem, cert, key)
}

/// A stand-in for a participant of a release recovery-deck does not serve: it answers
/// `ParticipantStatus` with `version` and nothing else (every other call is
/// UNIMPLEMENTED), which is all the client may ask before it refuses the release.
pub struct OldParticipant {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for OldParticipant {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

struct StatusOnly {
    version: String,
}

#[tonic::async_trait]
impl recovery_deck::wire::admin::participant_status_service_server::ParticipantStatusService for StatusOnly {
    async fn participant_status(
        &self,
        _req: tonic::Request<recovery_deck::wire::admin::ParticipantStatusRequest>,
    ) -> Result<tonic::Response<recovery_deck::wire::admin::ParticipantStatusResponse>, tonic::Status> {
        use recovery_deck::wire::admin::participant_status_response::{Kind, ParticipantStatusResponseStatus};
        let status = ParticipantStatusResponseStatus {
            common_status: Some(recovery_deck::wire::health::Status {
                uid: recovery_deck::lab::ids::participant_uid("participant1"),
                version: self.version.clone(),
                active: true,
                ..Default::default()
            }),
            active: true,
            ..Default::default()
        };
        Ok(tonic::Response::new(
            recovery_deck::wire::admin::ParticipantStatusResponse {
                kind: Some(Kind::Status(status)),
            },
        ))
    }
}

/// Serves [`OldParticipant`] on a loopback port until dropped.
pub async fn old_participant(version: &str) -> OldParticipant {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = recovery_deck::wire::admin::participant_status_service_server::ParticipantStatusServiceServer::new(
        StatusOnly {
            version: version.to_string(),
        },
    );
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming_shutdown(tonic::transport::server::TcpIncoming::from(listener), async {
                let _ = stopped.await;
            }),
    );
    OldParticipant { url, stop: Some(stop) }
}

/// A lab's incident config with `participant` pointing at `url` instead.
pub fn config_with(lab: &Lab, participant: &str, url: &str) -> recovery_deck::config::IncidentConfig {
    let mut cfg = scenario::incident_config(lab).expect("config");
    for p in cfg.participants.iter_mut().filter(|p| p.name == participant) {
        p.admin = url.to_string();
        p.ledger = url.to_string();
    }
    cfg
}

/// The create arguments of a contract a participant holds on the lost synchronizer, as
/// its deck would share them.
pub async fn payload_of(api: &dyn ParticipantApi, contract_id: &str) -> serde_json::Value {
    let lost = api
        .synchronizer_id(scenario::LOST)
        .await
        .expect("the lost synchronizer's id")
        .logical;
    let held = recovery_deck::survey::holding(api, &lost, &Default::default(), true)
        .await
        .expect("holding");
    held.payloads
        .and_then(|mut p| p.remove(contract_id))
        .expect("the participant holds the contract")
}

/// The preflight problems of one check, as the operator reads them.
pub fn problems_of(problems: &[recovery_deck::exec::PreflightProblem], check: &str) -> Vec<String> {
    problems
        .iter()
        .filter(|p| p.check == check)
        .map(|p| p.to_string())
        .collect()
}
