//! Shared helpers for integration tests: real lab nodes as child processes on loopback,
//! reached over gRPC through the client library.

#![allow(dead_code)]

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

    pub fn client(&self, name: &str) -> GrpcParticipant {
        scenario::client(&self.lab, name).expect("client")
    }
}

/// Contract ids a participant holds active, per synchronizer id (from ExportAcs).
pub async fn holdings(api: &dyn ParticipantApi) -> Result<BTreeMap<String, BTreeSet<String>>, ClientError> {
    let end = api.ledger_end().await?;
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if end == 0 {
        return Ok(out);
    }
    let mut stream = api.export_acs(None, end).await?;
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
