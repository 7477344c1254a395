//! The participants' state, not the journal, decides what a run has left to do: a
//! finished runbook run again from another journal reports it complete, a run cut off
//! with its journal lost finishes from state, and real drift is still refused with the
//! rows named.

mod common;

use common::binary::{last_json, run};
use common::{TestLab, decided_union, diverged_rows, holdings, participants, plan_for};
use recovery_deck::client::ParticipantApi;
use recovery_deck::config::IncidentConfig;
use recovery_deck::exec::{self, Progress, RunOptions, Runner};
use recovery_deck::journal;
use recovery_deck::lab::ids;
use recovery_deck::lab::scenario::{LOST, Scenario, TARGET};
use recovery_deck::plan::{PhaseKind, Plan};
use recovery_deck::reconcile::{SelectionRequest, Strategy};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

async fn all_mutating_calls(config: &Path) -> BTreeMap<String, u64> {
    let cfg = IncidentConfig::load(config).expect("config");
    let mut out = BTreeMap::new();
    for p in &cfg.participants {
        out.insert(p.name.clone(), common::mutating_calls_at(&p.admin).await);
    }
    out
}

/// Every participant holds on the target exactly its planned contracts, none of them
/// also on the lost synchronizer.
async fn assert_on_target(lab: &TestLab, plan: &Plan) {
    let (lost, new) = (ids::synchronizer_id(LOST), ids::synchronizer_id(TARGET));
    for name in plan.participants() {
        let h = holdings(&lab.client(name)).await.expect("export");
        let on_new = h.get(&new).cloned().unwrap_or_default();
        let planned: BTreeSet<String> = plan.moved_by(name).iter().map(|c| c.to_string()).collect();
        assert_eq!(on_new, planned, "{name} holds its planned contracts on the target");
        assert!(on_new.is_disjoint(&h.get(&lost).cloned().unwrap_or_default()));
    }
}

fn skipped_reasons(j: &journal::Journal) -> BTreeMap<String, String> {
    j.of_kind("phase.skipped")
        .map(|e| {
            (
                e.data["phase"].as_str().unwrap_or("").to_string(),
                e.data["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_runbook_run_again_from_a_fresh_journal_reports_it_complete() {
    let lab = TestLab::up(Scenario::Diverged).await;
    let dir = lab.dir.path().to_path_buf();
    let config = lab.lab.incident_path();
    let rows = diverged_rows(&lab.lab).await;
    let plan = plan_for(&lab.lab, &decided_union(&rows), 500).await;
    let runbook = dir.join("union.runbook.toml");
    let meta = recovery_deck::plan::RunbookMeta {
        created: "2026-01-01T00:00:00Z".into(),
        proposed_by: "tester".into(),
    };
    let (toml, sidecar) = recovery_deck::plan::to_runbook(&plan, &meta).expect("runbook");
    assert!(sidecar.is_none(), "a small plan keeps its ids inline");
    std::fs::write(&runbook, toml).expect("write runbook");
    let (config_s, runbook_s) = (
        config.to_string_lossy().to_string(),
        runbook.to_string_lossy().to_string(),
    );

    let first = run(&["run", "--config", &config_s, &runbook_s, "--yes"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(last_json(&first)["moved"]["participant2"], 6);
    // Business goes on on the target: the workflow archives moved Ious (Call).
    let wf = run(&["lab", "workflow", "--dir", &dir.to_string_lossy()]);
    assert!(wf.status.success(), "{}", String::from_utf8_lossy(&wf.stdout));

    let before = all_mutating_calls(&config).await;
    let fresh = dir.join("second-laptop.journal.jsonl");
    let again = run(&[
        "run",
        "--config",
        &config_s,
        &runbook_s,
        "--yes",
        "--journal",
        &fresh.to_string_lossy(),
    ]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    let last = last_json(&again);
    assert_eq!(last["ok"], true, "{last}");
    for p in ["participant1", "participant2"] {
        assert_eq!(last["moved"][p], 0, "nothing moved again: {last}");
        assert_eq!(last["added"][p], 0, "nothing imported again: {last}");
    }
    // participant2 found its 6 moves, 2 imports and 2 purges done; participant1 its 6
    // moves and 1 purge.
    assert_eq!(last["skipped"]["participant2"], 10, "{last}");
    assert_eq!(last["skipped"]["participant1"], 7, "{last}");
    assert!(
        stderr.contains("phase move skipped (done according to the participants' state)"),
        "{stderr}"
    );
    assert!(stderr.contains("already complete"), "{stderr}");
    assert_eq!(
        all_mutating_calls(&config).await,
        before,
        "the lab counted no state-changing call"
    );
    let j = journal::read(&fresh).expect("fresh journal");
    let reasons = skipped_reasons(&j);
    assert_eq!(reasons.len(), 6, "every phase but verify: {reasons:?}");
    assert!(
        reasons
            .values()
            .all(|r| r == "done according to the participants' state")
    );
    let verified: Vec<&journal::Event> = j.of_kind("verify.result").collect();
    assert_eq!(verified.len(), 2);
    assert!(
        verified
            .iter()
            .all(|e| e.data["ok"] == true && e.data["archived_since"].as_array().is_some_and(|a| !a.is_empty())),
        "the Ious the workflow archived count as the recovery's work: {verified:?}"
    );
}

/// Runs `plan` one phase at a time and stops it at the boundary after `stop_after`.
async fn run_until(lab: &TestLab, plan: &Plan, options: RunOptions, stop_after: PhaseKind) {
    let (ctl_tx, ctl_rx) = tokio::sync::watch::channel(exec::Control::Step);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(plan.clone(), participants(&lab.lab), options)
        .expect("runner")
        .with_progress(tx)
        .with_control(ctl_rx);
    let watcher = tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            if let Progress::Paused { before } = p {
                let stop = PhaseKind::ALL.iter().position(|k| *k == before)
                    == PhaseKind::ALL.iter().position(|k| *k == stop_after).map(|i| i + 1);
                let _ = ctl_tx.send(if stop {
                    exec::Control::Abort
                } else {
                    exec::Control::Step
                });
            }
        }
    });
    let first = runner.run().await;
    let _ = watcher.await;
    assert!(matches!(first, Err(exec::RunError::Aborted(_))), "{first:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_after_its_imports_finishes_from_state_with_its_journal_deleted() {
    let lab = TestLab::up(Scenario::Diverged).await;
    let rows = diverged_rows(&lab.lab).await;
    let plan = plan_for(&lab.lab, &decided_union(&rows), 500).await;
    let journal_path = lab.dir.path().join("lost.journal.jsonl");
    let options = RunOptions::new(journal_path.clone(), "tester");
    run_until(&lab, &plan, options.clone(), PhaseKind::Import).await;
    std::fs::remove_file(&journal_path).expect("the journal is lost");

    let report = Runner::new(plan.clone(), participants(&lab.lab), options)
        .expect("runner")
        .run()
        .await
        .expect("finished from state");
    assert!(report.ok);
    assert_eq!(report.moved.get("participant2"), Some(&6));
    assert_eq!(report.added.get("participant2"), Some(&0), "the imports were done");
    assert_eq!(
        report.skipped.get("participant2"),
        Some(&4),
        "2 purges and 2 imports found done"
    );
    assert_on_target(&lab, &plan).await;
    let j = journal::read(&journal_path).expect("new journal");
    let reasons = skipped_reasons(&j);
    assert_eq!(
        reasons.keys().map(String::as_str).collect::<Vec<_>>(),
        ["import", "init_target", "isolate", "purge"],
        "the phases before the move are done according to the participants"
    );
    assert!(
        reasons
            .values()
            .all(|r| r == "done according to the participants' state")
    );
    assert_eq!(
        j.of_kind("exec.request")
            .filter(|e| e.data["rpc"] == "ImportAcs" || e.data["rpc"] == "PurgeContracts")
            .count(),
        0,
        "nothing purged or imported twice"
    );
    assert_eq!(j.of_kind("verify.result").filter(|e| e.data["ok"] == true).count(), 2);
    let cfg = IncidentConfig::load(&lab.lab.incident_path()).expect("config");
    let wf = recovery_deck::lab::workflow::run(&cfg).await.expect("workflow");
    assert!(wf.ok, "{wf:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_killed_mid_move_finishes_from_state_with_its_journal_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lab = recovery_deck::lab::scenario::up_sized(dir.path(), Scenario::Large, 3_000, common::launcher())
        .await
        .expect("lab");
    let lab = TestLab { lab, dir };
    let plan = plan_for(&lab.lab, &SelectionRequest::new(Strategy::Intersection), 10).await;
    let journal_path = lab.dir.path().join("lost.journal.jsonl");
    let mut options = RunOptions::new(journal_path.clone(), "tester");
    options.retry_delay = std::time::Duration::from_millis(50);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let run = tokio::spawn(
        Runner::new(plan.clone(), participants(&lab.lab), options.clone())
            .expect("runner")
            .with_progress(tx)
            .run(),
    );
    // The client dies once participant2's move is under way: its calls are cut.
    let threshold = 200;
    while let Some(p) = rx.recv().await {
        if let Progress::Advance {
            phase: PhaseKind::Move,
            participant,
            done,
            ..
        } = &p
            && participant == "participant2"
            && *done >= threshold
        {
            run.abort();
            break;
        }
    }
    assert!(run.await.is_err_and(|e| e.is_cancelled()), "the run was cut off");
    drop(rx);
    std::fs::remove_file(&journal_path).expect("the journal is lost");

    let report = Runner::new(plan.clone(), participants(&lab.lab), options)
        .expect("runner")
        .run()
        .await
        .expect("finished from state");
    assert!(report.ok);
    let total = plan.moved_by("participant2").len();
    let moved = report.moved.get("participant2").copied().unwrap_or(0);
    let skipped = report.skipped.get("participant2").copied().unwrap_or(0);
    assert!(skipped >= threshold, "moved before the cut, not sent again: {skipped}");
    assert_eq!(moved + skipped, total);
    assert_on_target(&lab, &plan).await;
    let j = journal::read(&journal_path).expect("new journal");
    assert_eq!(
        skipped_reasons(&j).keys().map(String::as_str).collect::<Vec<_>>(),
        ["import", "init_target", "isolate", "purge"],
    );
    assert_eq!(j.of_kind("verify.result").filter(|e| e.data["ok"] == true).count(), 3);
}

/// A deck running one participant's part (a multi-operator session) reads its own state
/// the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deck_resumes_from_state_with_a_fresh_journal() {
    let lab = TestLab::up(Scenario::Diverged).await;
    let plan = plan_for(&lab.lab, &SelectionRequest::new(Strategy::Intersection), 500).await;
    let first = Runner::new(
        plan.clone(),
        participants(&lab.lab),
        RunOptions::new(lab.dir.path().join("all.journal.jsonl"), "tester"),
    )
    .expect("runner")
    .run()
    .await
    .expect("run");
    assert!(first.ok);
    for p in ["participant1", "participant2"] {
        let mut o = RunOptions::new(lab.dir.path().join(format!("{p}.deck.journal.jsonl")), "tester");
        o.only = Some(p.to_string());
        let report = Runner::new(plan.clone(), participants(&lab.lab), o)
            .expect("runner")
            .run()
            .await
            .unwrap_or_else(|e| panic!("{p}'s deck: {e}"));
        assert_eq!(report.moved.get(p), Some(&0));
        assert_eq!(report.skipped.get(p), Some(&4), "{p} found its four moves done");
        let j = journal::read(&lab.dir.path().join(format!("{p}.deck.journal.jsonl"))).expect("journal");
        assert_eq!(skipped_reasons(&j).len(), 6);
        assert_eq!(j.of_kind("exec.request").count(), 0, "{p}'s deck sent nothing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_drift_is_refused_with_the_rows_named() {
    let lab = TestLab::up(Scenario::Diverged).await;
    let plan = plan_for(&lab.lab, &SelectionRequest::new(Strategy::Intersection), 500).await;
    // After the plan, participant1's operator purges one of the contracts it is to move,
    // by hand: gone from the lost synchronizer without reaching the target.
    let victim = plan.moved_by("participant1")[0].to_string();
    let p1 = lab.client("participant1");
    p1.disconnect_all().await.expect("disconnect");
    p1.purge(LOST, std::slice::from_ref(&victim), false)
        .await
        .expect("hand-made purge");
    let config = lab.lab.incident_path();
    let before = all_mutating_calls(&config).await;
    let refused = Runner::new(
        plan.clone(),
        participants(&lab.lab),
        RunOptions::new(lab.dir.path().join("drift.journal.jsonl"), "tester"),
    )
    .expect("runner")
    .run()
    .await;
    let Err(exec::RunError::Preflight(problems)) = &refused else {
        panic!("drift must refuse the run: {refused:?}");
    };
    let drift = common::problems_of(problems, "drift");
    assert_eq!(drift.len(), 1, "{problems:?}");
    let short: String = victim.chars().take(20).collect();
    assert!(
        drift[0].starts_with(
            "participant1 [drift]: 1 row(s) changed on lostDomain since the plan was made: 1 contract(s) the plan expects on lostDomain are gone without reaching newDomain"
        ) && drift[0].contains(&format!("{short}… (archived or purged on lostDomain)")),
        "{}",
        drift[0]
    );
    assert_eq!(
        all_mutating_calls(&config).await,
        before,
        "nothing was sent after the refusal"
    );
}
