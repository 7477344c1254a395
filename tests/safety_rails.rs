//! Safety rails around a run: one run at a time per incident (a lock the running process
//! holds, stale locks named and taken over), and the preflight checks that refuse or warn
//! before anything is disconnected.

mod common;

use common::{TestLab, participants, plan_for};
use recovery_deck::exec::{self, Control, Progress, RunOptions, Runner};
use recovery_deck::journal;
use recovery_deck::lab::scenario::Scenario;
use recovery_deck::plan::Plan;
use recovery_deck::reconcile::{SelectionRequest, Strategy};
use recovery_deck::wire::lab::{CountersRequest, participant_control_client::ParticipantControlClient};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MUTATING: [&str; 9] = [
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

/// State-changing calls each participant received since it started, from the lab's count.
async fn mutating_calls(lab: &TestLab) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for name in participants(&lab.lab).keys() {
        let url = lab.lab.endpoint(name).expect("endpoint");
        let mut client = ParticipantControlClient::connect(url).await.expect("control");
        let counters = client
            .counters(CountersRequest {})
            .await
            .expect("counters")
            .into_inner();
        let n = counters
            .calls
            .iter()
            .filter(|(path, _)| MUTATING.iter().any(|m| path.ends_with(&format!("/{m}"))))
            .map(|(_, n)| n)
            .sum();
        out.insert(name.clone(), n);
    }
    out
}

fn bin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recovery-deck"))
        .args(args)
        .output()
        .expect("run the binary")
}

/// Writes `plan` as a runbook in the lab's directory.
fn runbook(lab: &TestLab, plan: &Plan) -> PathBuf {
    let meta = recovery_deck::plan::RunbookMeta {
        created: "2026-01-01T00:00:00Z".into(),
        proposed_by: "tester".into(),
    };
    let (toml, sidecar) = recovery_deck::plan::to_runbook(plan, &meta).expect("runbook");
    assert!(sidecar.is_none());
    let path = lab.dir.path().join("drill.runbook.toml");
    std::fs::write(&path, toml).expect("write runbook");
    path
}

fn run_cli(lab: &TestLab, runbook: &Path, journal: &str, extra: &[&str]) -> Output {
    let config = lab.lab.incident_path();
    let journal = lab.dir.path().join(journal);
    let mut args = vec![
        "run",
        "--config",
        config.to_str().expect("utf-8"),
        runbook.to_str().expect("utf-8"),
        "--yes",
        "--journal",
        journal.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    bin(&args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_concurrent_run_is_refused_and_a_stale_lock_is_taken_over() {
    let lab = TestLab::up(Scenario::Diverged).await;
    let plan = plan_for(&lab.lab, &SelectionRequest::new(Strategy::Intersection), 500).await;
    let rb = runbook(&lab, &plan);

    // The first run holds its lock while it waits, paused, before its first phase.
    let (ctl_tx, ctl_rx) = tokio::sync::watch::channel(Control::Pause);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut options = RunOptions::new(lab.dir.path().join("first.journal.jsonl"), "alice");
    options.runbook = Some(rb.clone());
    let first = tokio::spawn(
        Runner::new(plan.clone(), participants(&lab.lab), options)
            .expect("runner")
            .with_progress(tx)
            .with_control(ctl_rx)
            .run(),
    );
    while let Some(p) = rx.recv().await {
        if matches!(p, Progress::Paused { .. }) {
            break;
        }
    }
    let before = mutating_calls(&lab).await;
    // A second operator, another process, the same runbook, another journal.
    let second = run_cli(&lab, &rb, "second.journal.jsonl", &[]);
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    let host = journal::host_name();
    let expected = format!(
        "another run of incident test is at work on participant1: pid {} on host {host} since ",
        std::process::id()
    );
    assert!(err.contains(&expected), "{err}");
    assert!(
        err.contains(&format!("by alice (runbook {}, journal ", rb.display()))
            && err.contains("first.journal.jsonl). Wait for it to end (or stop it), then run again"),
        "{err}"
    );
    assert!(
        !lab.dir.path().join("second.journal.jsonl").exists(),
        "refused before its journal was opened"
    );
    assert_eq!(mutating_calls(&lab).await, before, "the refused run sent nothing");

    // The first run stops; its lock is released and its record cleared.
    ctl_tx.send(Control::Abort).expect("control");
    let stopped = first.await.expect("join");
    assert!(matches!(stopped, Err(exec::RunError::Aborted(_))), "{stopped:?}");
    let lock = exec::lock_path(lab.dir.path(), "test", "participant1");
    assert_eq!(std::fs::read_to_string(&lock).expect("lock file"), "");

    // A run killed before it could clear its record leaves a stale lock: taken over, named.
    let mut dead = Command::new("true").spawn().expect("spawn");
    let dead_pid = dead.id();
    dead.wait().expect("reap");
    let record = exec::Holder {
        pid: dead_pid,
        host: host.clone(),
        since: "2026-01-01T10:00:00Z".into(),
        runbook: Some(rb.display().to_string()),
        journal: "killed.journal.jsonl".into(),
        operator: "bob".into(),
    };
    std::fs::write(&lock, serde_json::to_vec(&record).expect("json")).expect("stale record");
    let third = run_cli(&lab, &rb, "third.journal.jsonl", &[]);
    let err = String::from_utf8_lossy(&third.stderr);
    assert!(third.status.success(), "{err}");
    let warning = format!(
        "warning: participant1 [lock]: stale lock from pid {dead_pid} on host {host} since 2026-01-01T10:00:00Z by bob (runbook {}, journal killed.journal.jsonl): that run ended without releasing it (killed?); it is taken over",
        rb.display()
    );
    assert!(err.contains(&warning), "{err}");
    let j = journal::read(&lab.dir.path().join("third.journal.jsonl")).expect("journal");
    let preflight = j.of_kind("preflight.result").next().expect("preflight");
    assert!(
        preflight.data["warnings"].as_array().is_some_and(|w| w
            .iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains("stale lock from pid")))),
        "the journal keeps the take-over: {}",
        preflight.data
    );
    assert_eq!(
        std::fs::read_to_string(&lock).expect("lock file"),
        "",
        "released at the end"
    );
}
