//! The headless recovery engine against the diverged lab: intersection and union end to
//! end with decisions, on a Canton 3.4 lab and a 3.5 lab, including an import larger
//! than one ImportAcs message on 3.4; dry runs that send nothing, and runs interrupted
//! at every phase boundary and by a participant crash in the middle of the move, finished
//! by running the same plan again.

mod common;

use common::{TestLab, decided_union, diverged_rows, holdings, participants, plan_for};
use recovery_deck::client::ParticipantApi;
use recovery_deck::exec::{self, Control, Progress, RunOptions, Runner};
use recovery_deck::journal;
use recovery_deck::lab::dialect::Dialect;
use recovery_deck::lab::ids;
use recovery_deck::lab::scenario::{LOST, LabOptions, Scenario, TARGET};
use recovery_deck::plan::{PhaseKind, Plan};
use recovery_deck::reconcile::{RowClass, SelectionRequest, Strategy};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn options_for(dir: &Path, name: &str) -> RunOptions {
    let mut o = RunOptions::new(dir.join(format!("{name}.journal.jsonl")), "tester");
    o.retry_delay = std::time::Duration::from_millis(50);
    o
}

async fn assert_recovered(lab: &TestLab, plan: &Plan) -> BTreeMap<String, BTreeSet<String>> {
    common::recovered::assert_recovered(&lab.lab, plan).await
}

/// With two participants that share every contract, both hold the same set.
fn assert_shared(held: &BTreeMap<String, BTreeSet<String>>) {
    let sets: Vec<&BTreeSet<String>> = held.values().collect();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[0], sets[1], "identical shared sets on the target");
}

async fn workflow_ok(lab: &TestLab) {
    let cfg = recovery_deck::config::IncidentConfig::load(&lab.lab.incident_path()).expect("config");
    let report = recovery_deck::lab::workflow::run(&cfg).await.expect("workflow");
    assert!(report.ok, "business workflow after the recovery: {report:#?}");
}

/// A diverged lab following `canton`'s rules.
async fn diverged_on(canton: Dialect) -> TestLab {
    let options = LabOptions {
        canton,
        ..LabOptions::default()
    };
    TestLab::up_with(Scenario::Diverged, &options).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intersection_recovers_the_diverged_lab_on_canton_3_4() {
    intersection_recovers_the_diverged_lab(Dialect::V3_4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intersection_recovers_the_diverged_lab_on_canton_3_5() {
    intersection_recovers_the_diverged_lab(Dialect::V3_5).await;
}

async fn intersection_recovers_the_diverged_lab(canton: Dialect) {
    let lab = diverged_on(canton).await;
    assert_eq!(
        lab.client("participant1")
            .canton_line()
            .await
            .expect("line")
            .to_string(),
        canton.name()
    );
    let plan = plan_for(&lab.lab, &SelectionRequest::new(Strategy::Intersection), 500).await;
    assert_eq!(plan.moved_by("participant1").len(), 4, "the four agreed Ious");
    assert_eq!(plan.excluded().len(), 5);
    let report = Runner::new(plan.clone(), participants(&lab.lab), options_for(lab.dir.path(), "i"))
        .expect("runner")
        .run()
        .await
        .expect("run");
    assert!(report.ok);
    assert_eq!(report.moved.get("participant2"), Some(&4));
    assert_shared(&assert_recovered(&lab, &plan).await);
    workflow_ok(&lab).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn union_imports_missing_contracts_and_applies_decisions_on_canton_3_4() {
    union_imports_missing_contracts_and_applies_decisions(Dialect::V3_4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn union_imports_missing_contracts_and_applies_decisions_on_canton_3_5() {
    union_imports_missing_contracts_and_applies_decisions(Dialect::V3_5).await;
}

async fn union_imports_missing_contracts_and_applies_decisions(canton: Dialect) {
    let lab = diverged_on(canton).await;
    let rows = diverged_rows(&lab.lab).await;
    let archived = rows.get(&RowClass::ArchivedSomewhere).cloned().unwrap_or_default();
    assert_eq!(archived.len(), 2);
    let apis: Vec<std::sync::Arc<dyn ParticipantApi>> = participants(&lab.lab).into_values().collect();
    let incident = recovery_deck::survey::Incident {
        name: "test",
        lost: LOST,
        target: TARGET,
    };
    let undecided =
        recovery_deck::survey::propose(&apis, &incident, &SelectionRequest::new(Strategy::Union), 500).await;
    let Err(recovery_deck::survey::ProposeError::Selection(e)) = undecided else {
        panic!("union must wait for decisions");
    };
    let message = e.to_string();
    assert!(
        archived.iter().all(|id| message.contains(id.as_str())),
        "the message names both rows: {message}"
    );

    let mismatch = rows.get(&RowClass::PayloadMismatch).cloned().unwrap_or_default();
    assert!(
        message.contains(mismatch[0].as_str()),
        "and the row whose payloads differ: {message}"
    );
    let plan = plan_for(&lab.lab, &decided_union(&rows), 500).await;
    assert_eq!(plan.moved_by("participant2").len(), 6, "4 agreed + 2 imported");
    let report = Runner::new(plan.clone(), participants(&lab.lab), options_for(lab.dir.path(), "u"))
        .expect("runner")
        .run()
        .await
        .expect("run");
    assert_eq!(report.added.get("participant2"), Some(&2));
    assert_eq!(report.added.get("participant1"), Some(&0));
    let held = assert_recovered(&lab, &plan).await;
    // Charlie's Iou is shared by Bob and Charlie only; everything else by Alice and Bob.
    assert_eq!(held["participant1"].len(), 6);
    assert_eq!(held["participant2"].len(), 6);
    let p2 = lab.client("participant2");
    let on_lost = holdings(&p2)
        .await
        .expect("export")
        .remove(&ids::synchronizer_id(LOST))
        .unwrap_or_default();
    assert!(!on_lost.contains(&archived[0]), "purged where it was still active");
    assert!(
        on_lost.contains(&archived[1]),
        "excluded: left on the lost synchronizer"
    );
    // The row whose payloads differed is purged on both participants and moved nowhere.
    for name in ["participant1", "participant2"] {
        let h = holdings(&lab.client(name)).await.expect("export");
        assert!(
            h.values().all(|ids| !ids.contains(&mismatch[0])),
            "{name} holds the purged row nowhere"
        );
    }
    workflow_ok(&lab).await;
}

/// How many contracts the diverging transaction adds for the big import: enough that
/// their snapshot is over 1 MiB compressed (each carries 1 KiB of incompressible text).
const BIG_IMPORT: usize = 1_800;

/// Canton 3.4 re-validates the import context on every ImportAcs message: a union whose
/// import spans several messages recovers only if each of them carries the context.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn union_on_canton_3_4_imports_a_snapshot_over_one_mib() {
    let options = LabOptions {
        canton: Dialect::V3_4,
        diverged_extra: BIG_IMPORT,
        ..LabOptions::default()
    };
    let lab = TestLab::up_with(Scenario::Diverged, &options).await;
    let rows = diverged_rows(&lab.lab).await;
    assert_eq!(
        rows.get(&RowClass::Missing).map(Vec::len),
        Some(2 + BIG_IMPORT),
        "the Call's GetCash, Charlie's Iou and the extra Ious"
    );
    let plan = plan_for(&lab.lab, &decided_union(&rows), 500).await;
    let imported: BTreeSet<String> = plan
        .phase(PhaseKind::Import)
        .into_iter()
        .flat_map(|p| &p.steps)
        .filter(|s| s.participant == "participant2")
        .flat_map(|s| s.action.contract_ids().iter().map(|c| c.to_string()))
        .collect();
    assert_eq!(imported.len(), 2 + BIG_IMPORT);
    // The snapshot the import streams, encoded as the client encodes it.
    let lost = ids::synchronizer_id(LOST);
    let source = lab.client("participant1");
    let mut export = recovery_deck::client::export_at_ledger_end(&source, Some(&lost))
        .await
        .expect("export");
    let mut encoder = recovery_deck::acs::AcsEncoder::with_chunk_size(1 << 20);
    let mut compressed = 0;
    while let Some(c) = futures::StreamExt::next(&mut export).await {
        let c = c.expect("contract");
        if c.contract_id().is_some_and(|id| imported.contains(id)) {
            encoder.push(c.wire()).expect("encode");
            while let Some(chunk) = encoder.take_chunk() {
                compressed += chunk.len();
            }
        }
    }
    compressed += encoder.finish().expect("finish").iter().map(|c| c.len()).sum::<usize>();
    eprintln!(
        "the import snapshot: {} contracts, {compressed} bytes compressed",
        imported.len()
    );
    assert!(compressed > 1 << 20, "over 1 MiB compressed: {compressed} bytes");

    let report = Runner::new(plan.clone(), participants(&lab.lab), options_for(lab.dir.path(), "big"))
        .expect("runner")
        .run()
        .await
        .expect("run");
    assert!(report.ok);
    assert_eq!(report.added.get("participant2"), Some(&(2 + BIG_IMPORT)));
    let held = assert_recovered(&lab, &plan).await;
    assert_eq!(held["participant2"].len(), 6 + BIG_IMPORT);
    workflow_ok(&lab).await;
}

async fn mutating_calls(lab: &TestLab, name: &str) -> u64 {
    common::mutating_calls(&lab.lab, name).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_sends_no_state_changing_call() {
    let lab = TestLab::up(Scenario::Diverged).await;
    let rows = diverged_rows(&lab.lab).await;
    let plan = plan_for(&lab.lab, &decided_union(&rows), 2).await;
    let before = (
        mutating_calls(&lab, "participant1").await,
        mutating_calls(&lab, "participant2").await,
    );
    let mut o = options_for(lab.dir.path(), "dry");
    o.dry_run = true;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let report = Runner::new(plan, participants(&lab.lab), o)
        .expect("runner")
        .with_progress(tx)
        .run()
        .await
        .expect("dry run");
    assert!(report.ok && report.dry_run);
    let mut described = BTreeSet::new();
    while let Ok(p) = rx.try_recv() {
        if let Progress::WouldSend { rpc, .. } = p {
            described.insert(rpc);
        }
    }
    for rpc in [
        "DisconnectSynchronizer",
        "ModifySynchronizer",
        "ReconnectSynchronizer",
        "PurgeContracts",
        "ImportAcs",
        "ChangeAssignation",
    ] {
        assert!(described.contains(rpc), "the dry run describes {rpc}: {described:?}");
    }
    let after = (
        mutating_calls(&lab, "participant1").await,
        mutating_calls(&lab, "participant2").await,
    );
    assert_eq!(before, after, "the lab counted no state-changing call");
    assert_eq!(
        before,
        (2, 4),
        "the staging's own calls are what the counters hold: connect and register, and participant2's hand-made disconnect and import"
    );
}

/// Runs `plan` one phase at a time and aborts at the boundary after `stop_after`.
async fn run_until(
    lab: &TestLab,
    plan: &Plan,
    name: &str,
    stop_after: PhaseKind,
) -> Result<exec::RunReport, exec::RunError> {
    let (ctl_tx, ctl_rx) = tokio::sync::watch::channel(Control::Step);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(plan.clone(), participants(&lab.lab), options_for(lab.dir.path(), name))
        .expect("runner")
        .with_progress(tx)
        .with_control(ctl_rx);
    let stop_before = PhaseKind::ALL
        .iter()
        .position(|p| *p == stop_after)
        .and_then(|i| PhaseKind::ALL.get(i + 1))
        .copied();
    let watcher = tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            if let Progress::Paused { before } = p {
                let next = if Some(before) == stop_before {
                    Control::Abort
                } else {
                    Control::Step
                };
                let _ = ctl_tx.send(next);
            }
        }
    });
    let r = runner.run().await;
    let _ = watcher.await;
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_at_any_phase_boundary_finishes_when_run_again() {
    for stop_after in &PhaseKind::ALL[..PhaseKind::ALL.len() - 1] {
        let lab = TestLab::up(Scenario::Diverged).await;
        let rows = diverged_rows(&lab.lab).await;
        let plan = plan_for(&lab.lab, &decided_union(&rows), 2).await;
        let first = run_until(&lab, &plan, "b", *stop_after).await;
        assert!(
            matches!(first, Err(exec::RunError::Aborted(_))),
            "stopped after {stop_after}: {first:?}"
        );
        let second = Runner::new(plan.clone(), participants(&lab.lab), options_for(lab.dir.path(), "b"))
            .expect("runner")
            .run()
            .await
            .unwrap_or_else(|e| panic!("resuming after {stop_after}: {e}"));
        assert!(second.ok);
        assert_recovered(&lab, &plan).await;
        let j = journal::read(&lab.dir.path().join("b.journal.jsonl")).expect("journal");
        assert_eq!(j.of_kind("session.start").count(), 2, "both runs are in one journal");
        assert_eq!(j.of_kind("phase.aborted").count(), 1);
        let done: Vec<&str> = j
            .of_kind("phase.done")
            .filter_map(|e| e.data["phase"].as_str())
            .collect();
        let unique: BTreeSet<&str> = done.iter().copied().collect();
        assert_eq!(done.len(), unique.len(), "no phase ran to completion twice: {done:?}");
        assert_eq!(unique.len(), PhaseKind::ALL.len());
        let skipped = j.of_kind("phase.skipped").count();
        let expected_skips = PhaseKind::ALL
            .iter()
            .position(|p| p == stop_after)
            .map(|i| i + 1)
            .unwrap_or(0);
        assert_eq!(skipped, expected_skips, "phases done before the stop are skipped");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_killed_mid_move_is_finished_by_running_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lab = recovery_deck::lab::scenario::up_sized(dir.path(), Scenario::Large, 3_000, common::launcher())
        .await
        .expect("lab");
    let lab = TestLab { lab, dir };
    let plan = plan_for(&lab.lab, &SelectionRequest::new(Strategy::Intersection), 10).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(plan.clone(), participants(&lab.lab), options_for(lab.dir.path(), "k"))
        .expect("runner")
        .with_progress(tx);
    let handle = tokio::spawn(runner.run());
    // Crash participant2 once its move is under way, at a batch that depends on the run.
    let threshold = 200 + (std::process::id() as usize % 10) * 90;
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
            lab.lab.kill("participant2").expect("kill -9");
            break;
        }
    }
    let first = handle.await.expect("join");
    let Err(exec::RunError::Step { phase, participant, .. }) = &first else {
        panic!("the run must fail when its participant dies: {first:?}");
    };
    assert_eq!((*phase, participant.as_str()), (PhaseKind::Move, "participant2"));
    drop(rx);

    let mut lab = lab;
    lab.lab.start("participant2").expect("restart");
    let second = Runner::new(plan.clone(), participants(&lab.lab), options_for(lab.dir.path(), "k"))
        .expect("runner")
        .run()
        .await
        .expect("second run");
    assert!(second.ok);
    let skipped = second.skipped.get("participant2").copied().unwrap_or(0);
    assert!(
        skipped >= threshold,
        "contracts moved before the crash are not sent again ({skipped})"
    );
    assert_eq!(
        second.moved.get("participant2").copied().unwrap_or(0) + skipped,
        plan.moved_by("participant2").len()
    );
    assert_recovered(&lab, &plan).await;
    let j = journal::read(&lab.dir.path().join("k.journal.jsonl")).expect("journal");
    // The journal tells the whole story: two sessions, the failure, the resumed move.
    let failed: Vec<_> = j.of_kind("phase.failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].actor.node.as_deref(), Some("participant2"));
    assert_eq!(failed[0].data["phase"], "move");
    let ends: Vec<bool> = j
        .of_kind("session.end")
        .filter_map(|e| e.data["ok"].as_bool())
        .collect();
    assert_eq!(ends, vec![false, true]);
    assert!(
        j.of_kind("exec.skip")
            .any(|e| e.actor.node.as_deref() == Some("participant2")
                && e.data["rpc"] == "ChangeAssignation"
                && e.data["phase"] == "move"
                && e.data["already_on_target"].as_u64().is_some_and(|n| n > 0)),
        "the rerun journals the contracts the crashed run had already moved"
    );
    let requests = j
        .of_kind("exec.request")
        .filter(|e| e.data["rpc"] == "ChangeAssignation")
        .count();
    let results = j
        .of_kind("exec.result")
        .filter(|e| e.data["rpc"] == "ChangeAssignation")
        .count();
    assert!(
        requests - results <= 1,
        "every call has its outcome, except one cut by the crash"
    );
}

/// The reassigning lab: participant1 holds the 170 Iou on the lost synchronizer with
/// reassignment counter 1, participant2 never saw it there, so a union imports it into
/// participant2 — an import Canton 3.4 always refuses, and 3.5 refuses unless the
/// participant enables all Ledger API reassignments.
async fn reassigning_union(
    canton: Dialect,
    enable_all: bool,
) -> (TestLab, Plan, Result<exec::RunReport, exec::RunError>) {
    let options = LabOptions {
        canton,
        enable_all_reassignments: enable_all,
        ..LabOptions::default()
    };
    let lab = TestLab::up_with(Scenario::Reassigning, &options).await;
    let plan = plan_for(&lab.lab, &SelectionRequest::new(Strategy::Union), 500).await;
    let imported: Vec<String> = plan
        .phase(PhaseKind::Import)
        .into_iter()
        .flat_map(|p| &p.steps)
        .flat_map(|s| s.action.contract_ids().iter().map(|c| c.to_string()))
        .collect();
    assert_eq!(imported.len(), 1, "the 170 Iou");
    let before = (
        mutating_calls(&lab, "participant1").await,
        mutating_calls(&lab, "participant2").await,
    );
    let result = Runner::new(
        plan.clone(),
        participants(&lab.lab),
        options_for(lab.dir.path(), "counters"),
    )
    .expect("runner")
    .run()
    .await;
    if result.is_err() {
        let after = (
            mutating_calls(&lab, "participant1").await,
            mutating_calls(&lab, "participant2").await,
        );
        assert_eq!(before, after, "refused before anything was disconnected");
    }
    (lab, plan, result)
}

fn counter_refusal(result: Result<exec::RunReport, exec::RunError>) -> String {
    let Err(exec::RunError::Preflight(problems)) = result else {
        panic!("preflight must refuse the import: {result:?}");
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        (problems[0].participant.as_str(), problems[0].check),
        ("participant2", "counters")
    );
    let message = problems[0].message.clone();
    assert!(
        message.contains("reassignment counter is not 0") && message.contains("=1"),
        "{message}"
    );
    assert!(message.contains("never rewrites a counter"), "{message}");
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_refuses_importing_a_reassigned_contract_on_canton_3_4() {
    let (_lab, _, result) = reassigning_union(Dialect::V3_4, false).await;
    let message = counter_refusal(result);
    assert!(message.contains("Canton 3.4 refuses every import"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_refuses_importing_a_reassigned_contract_on_canton_3_5_by_default() {
    let (_lab, _, result) = reassigning_union(Dialect::V3_5, false).await;
    let message = counter_refusal(result);
    assert!(
        message.contains("enable_all_ledger_api_reassignments = true"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reassigned_contract_is_imported_on_canton_3_5_with_all_reassignments_enabled() {
    let (lab, plan, result) = reassigning_union(Dialect::V3_5, true).await;
    let report = result.expect("run");
    assert!(report.ok);
    assert_eq!(report.added.get("participant2"), Some(&1));
    let held = assert_recovered(&lab, &plan).await;
    assert_shared(&held);
    workflow_ok(&lab).await;
}
