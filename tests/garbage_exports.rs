//! A participant that answers ExportAcs with garbage, through the real binary: `run`
//! exports the source's contracts for an import, and a source behind
//! `common::misbehaving` answers with a truncated gzip stream, a wrong snapshot version,
//! an oversized record, an oversized gRPC message, a stream that stops mid-record and one
//! that stalls (past the source's `stream_idle_secs`). Each stops the run with one
//! `error:` line naming the source and what is wrong, a non-zero exit and no panic; the
//! receiver applies none of it, and once the source answers honestly the same runbook
//! finishes the recovery. A Ledger API ACS read that stalls fails `search` alike.

mod common;

use common::misbehaving::{Garbage, misbehaving_participant};
use common::recovered::assert_recovered_once;
use common::{TestLab, diverged_rows};
use recovery_deck::lab::scenario::Scenario;
use recovery_deck::plan::{Action, PhaseKind};
use recovery_deck::reconcile::RowClass;
use std::path::Path;
use std::process::Output;

/// Runs the binary off the runtime's threads (the test serves a participant meanwhile).
async fn binary(dir: &Path, args: Vec<String>) -> Output {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_recovery-deck"))
            .current_dir(dir)
            .args(&args)
            .output()
            .expect("run the binary")
    })
    .await
    .expect("join")
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_answered_with_garbage_stops_the_run_in_one_line_naming_the_source() {
    let lab = TestLab::up(Scenario::Diverged).await;
    let dir = lab.dir.path();
    let rows = diverged_rows(&lab.lab).await;
    let class = |c: RowClass| rows.get(&c).cloned().unwrap_or_default();
    let (archived, mismatch) = (class(RowClass::ArchivedSomewhere), class(RowClass::PayloadMismatch));
    let planned = binary(
        dir,
        args(&[
            "plan",
            "--config",
            &lab.lab.incident_path().display().to_string(),
            "--strategy",
            "union",
            "--decide",
            &format!("{}=purge", archived[0]),
            "--decide",
            &format!("{}=exclude", archived[1]),
            "--decide",
            &format!("{}=purge", mismatch[0]),
            "--out",
            "union.runbook.toml",
        ]),
    )
    .await;
    assert!(planned.status.success(), "{}", String::from_utf8_lossy(&planned.stderr));
    let text = std::fs::read_to_string(dir.join("union.runbook.toml")).expect("runbook");
    let sidecar = recovery_deck::plan::runbook_sidecar(&text)
        .expect("runbook")
        .map(|f| std::fs::read_to_string(dir.join(f)).expect("sidecar"));
    let plan = recovery_deck::plan::from_runbook(&text, sidecar.as_deref()).expect("plan");
    let step = &plan.phase(PhaseKind::Import).expect("an import phase").steps[0];
    let Action::ImportAcs {
        source_participant: source,
        contract_ids,
        ..
    } = &step.action
    else {
        panic!("the import phase imports: {step:?}");
    };
    let receiver = step.participant.clone();

    // The source's admin API is reached through the misbehaving server.
    let admin = lab.lab.endpoint(source).expect("endpoint");
    let garbage = misbehaving_participant(&admin).await;
    // A short idle deadline, so that the stalled export fails quickly.
    let config = std::fs::read_to_string(lab.lab.incident_path())
        .expect("config")
        .replace(
            &format!("admin = \"{admin}\""),
            &format!("admin = \"{}\"\nstream_idle_secs = 2", garbage.url),
        );
    assert!(config.contains(&garbage.url), "{config}");
    std::fs::write(dir.join("garbage.toml"), config).expect("write config");
    let run = args(&[
        "run",
        "--config",
        "garbage.toml",
        "union.runbook.toml",
        "--yes",
        "--journal",
        "garbage.journal.jsonl",
    ]);

    for (answer, says) in [
        (Garbage::TruncatedGzip, "stream ends inside the compressed data"),
        (Garbage::WrongVersion, "record 0: version 31, expected 30"),
        (
            Garbage::OversizedRecord,
            "length 1073741824 exceeds the limit of 67108864 bytes",
        ),
        (Garbage::OversizedMessage, "decoded message length too large"),
        (Garbage::StopsMidRecord, "the snapshot broke off after"),
        (
            Garbage::Stalls,
            "ExportAcs failed (DeadlineExceeded): the participant sent nothing more for 2 s (the participant's stream_idle_secs); the snapshot broke off after",
        ),
    ] {
        garbage.answer_with(answer);
        // A stall the client does not notice would hang here: bounded, it fails instead.
        let out = tokio::time::timeout(std::time::Duration::from_secs(120), binary(dir, run.clone()))
            .await
            .unwrap_or_else(|_| panic!("{answer:?}: the run did not end within 120 s"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{answer:?} must stop the run: {stderr}");
        assert!(!stderr.contains("panicked"), "{answer:?}: {stderr}");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
        assert_eq!(errors.len(), 1, "{answer:?}: one error line: {stderr}");
        let line = errors[0];
        for part in ["phase import failed on", &format!("{source}: ExportAcs"), says] {
            assert!(line.contains(part), "{answer:?} should say {part:?}: {line}");
        }
        assert_eq!(
            stderr.lines().last(),
            Some(line),
            "{answer:?}: the error is the last line: {stderr}"
        );
        eprintln!("{answer:?}: {line}");
    }

    // The receiver applied none of it: the next run, with the source honest again,
    // imports the whole set once.
    garbage.answer_with(Garbage::None);
    let out = binary(dir, run.clone()).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let journal = dir.join("garbage.journal.jsonl");
    let imported = common::recovered::acknowledged_imports(&[&journal]);
    assert_eq!(
        imported.get(&receiver).copied(),
        Some(contract_ids.len()),
        "{imported:?}"
    );
    assert_recovered_once(&lab.lab, &plan, &[&journal]).await;
}

/// The Ledger API's ACS stream has the same idle deadline: a participant whose
/// GetActiveContracts stalls fails `search` in one line, past its `stream_idle_secs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_acs_read_fails_in_one_line_naming_the_participant_and_the_wait() {
    let lab = TestLab::up(Scenario::Seed).await;
    let dir = lab.dir.path();
    let ledger = lab.lab.ledger_endpoint("participant1").expect("ledger endpoint");
    let stalling = misbehaving_participant(&ledger).await;
    stalling.answer_with(Garbage::Stalls);
    let config = std::fs::read_to_string(lab.lab.incident_path())
        .expect("config")
        .replace(
            &format!("ledger = \"{ledger}\""),
            &format!("ledger = \"{}\"\nstream_idle_secs = 2", stalling.url),
        );
    assert!(config.contains(&stalling.url), "{config}");
    std::fs::write(dir.join("stalling.toml"), config).expect("write config");
    let search = args(&[
        "search",
        "--config",
        "stalling.toml",
        "--participant",
        "participant1",
        "--synchronizer",
        "lostDomain",
    ]);
    let out = tokio::time::timeout(std::time::Duration::from_secs(120), binary(dir, search))
        .await
        .expect("the stalled read ends within 120 s");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a stalled read must fail: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    for part in [
        "participant1: GetActiveContracts failed (DeadlineExceeded): the participant sent nothing",
        "for 2 s (the participant's stream_idle_secs)",
    ] {
        assert!(errors[0].contains(part), "should say {part:?}: {}", errors[0]);
    }
    eprintln!("{}", errors[0]);
}
