//! Safety rails around a run: one run at a time per incident (a lock the running process
//! holds, stale locks named and taken over), and the preflight checks that refuse or warn
//! before anything is disconnected.

mod common;

use common::{TestLab, participants, plan_for};
use recovery_deck::client::{ParticipantApi, Submission};
use recovery_deck::exec::{self, Control, Progress, RunOptions, Runner};
use recovery_deck::journal;
use recovery_deck::lab::scenario::{self, LOST, Scenario, TARGET};
use recovery_deck::lab::{ids, templates};
use recovery_deck::plan::{PhaseKind, Plan};
use recovery_deck::reconcile::{SelectionRequest, Strategy};
use recovery_deck::wire::lab::{
    ArmPartialDeliveryRequest, CountersRequest, participant_control_client::ParticipantControlClient,
    synchronizer_control_client::SynchronizerControlClient,
};
use std::collections::{BTreeMap, BTreeSet};
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
    options.runbook_path = Some(rb.clone());
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

/// A seed lab whose lostDomain is still up, the participants connected to it.
async fn lab_with_lost_alive() -> TestLab {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = scenario::LabOptions {
        keep_lost: true,
        ..scenario::LabOptions::default()
    };
    let lab = scenario::up_with(dir.path(), Scenario::Seed, &options, common::launcher())
        .await
        .expect("lab");
    TestLab { lab, dir }
}

fn options(lab: &TestLab, name: &str, force: bool) -> RunOptions {
    let mut o = RunOptions::new(lab.dir.path().join(format!("{name}.journal.jsonl")), "tester");
    o.retry_delay = std::time::Duration::from_millis(50);
    o.force = force;
    o
}

/// Every participant holds its planned contracts on the target.
async fn assert_moved(lab: &TestLab, plan: &Plan) {
    let target = ids::synchronizer_id(TARGET);
    for p in plan.participants() {
        let held = common::ids_on(&lab.client(p), &target).await;
        let planned: BTreeSet<String> = plan.moved_by(p).iter().map(|c| c.to_string()).collect();
        assert_eq!(held, planned, "{p}");
    }
}

fn preflight_warnings(lab: &TestLab, journal: &str) -> Vec<String> {
    let j = journal::read(&lab.dir.path().join(journal)).expect("journal");
    let e = j.of_kind("preflight.result").last().expect("preflight");
    e.data["warnings"]
        .as_array()
        .map(|w| w.iter().filter_map(|w| w.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

const FORK: &str = "Canton: \"Forcing the migration may lead to a ledger fork! Instead of forcing the migration, ensure the source synchronizer has no in-flight transactions";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synchronizer_still_answering_is_refused_unless_forced() {
    let lab = lab_with_lost_alive().await;
    let plan = plan_for(&lab.lab, &SelectionRequest::new(Strategy::Intersection), 500).await;
    let before = mutating_calls(&lab).await;
    let refused = Runner::new(plan.clone(), participants(&lab.lab), options(&lab, "plain", false))
        .expect("runner")
        .run()
        .await;
    let Err(exec::RunError::Preflight(problems)) = &refused else {
        panic!("a synchronizer that answers is not lost: {refused:?}");
    };
    let connected = common::problems_of(problems, "connected");
    assert_eq!(connected.len(), 2, "{problems:?}");
    for (p, text) in ["participant1", "participant2"].iter().zip(&connected) {
        assert!(
            text.starts_with(&format!(
                "{p} [connected]: still connected to lostDomain, and the connection is healthy: lostDomain is not lost for this participant. {FORK}"
            )) && text.ends_with("If lostDomain cannot be recovered, run again with --force"),
            "{text}"
        );
    }
    assert_eq!(mutating_calls(&lab).await, before, "refused before anything was sent");

    let report = Runner::new(plan.clone(), participants(&lab.lab), options(&lab, "forced", true))
        .expect("runner")
        .run()
        .await
        .expect("forced");
    assert!(report.ok);
    assert_moved(&lab, &plan).await;
    let warnings = preflight_warnings(&lab, "forced.journal.jsonl");
    assert!(
        warnings.iter().any(
            |w| w.starts_with("participant1 [connected]: still connected to lostDomain")
                && w.ends_with("recovering anyway because of --force. This may lead to a ledger fork.")
        ),
        "{warnings:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_transactions_in_flight_are_refused_unless_forced() {
    let mut lab = lab_with_lost_alive().await;
    let plan = plan_for(&lab.lab, &SelectionRequest::new(Strategy::Intersection), 500).await;
    assert!(
        plan.in_flight()
            .values()
            .all(|f| f.pending_submissions + f.pending_transactions == 0)
    );
    // After the plan, one more transaction goes out; its verdict reaches nobody, and
    // lostDomain dies for good.
    let mut control = SynchronizerControlClient::connect(lab.lab.endpoint(LOST).expect("endpoint"))
        .await
        .expect("control");
    control
        .arm_partial_delivery(ArmPartialDeliveryRequest::default())
        .await
        .expect("arm");
    let p1 = lab.client("participant1");
    let (alice, bob) = (
        ids::party_id("Alice", "participant1"),
        ids::party_id("Bob", "participant2"),
    );
    let submitter = lab.client("participant1");
    let pending = tokio::spawn(async move {
        let _ = submitter
            .submit_and_wait(Submission {
                act_as: vec![alice.clone()],
                synchronizer_id: None,
                commands: vec![templates::create_iou_command(&alice, &bob, "170", "USD")],
            })
            .await;
    });
    let lost_id = ids::synchronizer_id(LOST);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while p1.count_in_flight(&lost_id).await.expect("in flight").total() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the transaction never got in flight"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    pending.abort();
    lab.lab.lose(LOST).expect("lose");
    for p in ["participant1", "participant2"] {
        let api = lab.client(p);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while api
            .list_connected()
            .await
            .expect("connected")
            .iter()
            .any(|c| c.alias == LOST && c.healthy)
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{p} still sees lostDomain healthy"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    let before = mutating_calls(&lab).await;
    let refused = Runner::new(plan.clone(), participants(&lab.lab), options(&lab, "plain", false))
        .expect("runner")
        .run()
        .await;
    let Err(exec::RunError::Preflight(problems)) = &refused else {
        panic!("new transactions in flight must refuse the run: {refused:?}");
    };
    let in_flight = common::problems_of(problems, "in_flight");
    assert!(!in_flight.is_empty(), "{problems:?}");
    assert!(
        in_flight[0].starts_with(
            "participant1 [in_flight]: 1 submission(s) and 1 transaction(s) in flight on lostDomain, the plan acknowledged 0 and 0: the synchronizer may still be processing. "
        ) && in_flight[0].contains(FORK)
            && in_flight[0].ends_with("Make a new plan once it is certainly gone, or, if it cannot be recovered, run again with --force"),
        "{}",
        in_flight[0]
    );
    assert!(
        problems.iter().all(|p| p.check == "in_flight"),
        "only the transactions in flight stand in the way: {problems:?}"
    );
    assert_eq!(mutating_calls(&lab).await, before, "refused before anything was sent");

    let report = Runner::new(plan.clone(), participants(&lab.lab), options(&lab, "forced", true))
        .expect("runner")
        .run()
        .await
        .expect("forced");
    assert!(report.ok);
    assert_moved(&lab, &plan).await;
    let warnings = preflight_warnings(&lab, "forced.journal.jsonl");
    assert!(
        warnings.iter().any(|w| w.starts_with("participant1 [in_flight]: 1 submission(s) and 1 transaction(s) in flight on lostDomain")
            && w.ends_with("Ignoring existing in-flight transactions on synchronizer with alias lostDomain because of forced migration. This may lead to a ledger fork.")),
        "{warnings:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pruning_schedule_is_warned_about_not_refused() {
    use recovery_deck::wire::admin::pruning_service_client::PruningServiceClient;
    use recovery_deck::wire::pruning::{
        ClearScheduleRequest, GetParticipantScheduleRequest, ParticipantPruningSchedule, PruningSchedule,
        SetParticipantScheduleRequest,
    };
    let lab = TestLab::up(Scenario::Seed).await;
    let mut pruning = PruningServiceClient::connect(lab.lab.endpoint("participant2").expect("endpoint"))
        .await
        .expect("pruning service");
    let schedule = |cron: &str| SetParticipantScheduleRequest {
        schedule: Some(ParticipantPruningSchedule {
            schedule: Some(PruningSchedule {
                cron: cron.into(),
                max_duration: Some(prost_types::Duration {
                    seconds: 3_600,
                    nanos: 0,
                }),
                retention: Some(prost_types::Duration {
                    seconds: 30 * 86_400,
                    nanos: 0,
                }),
            }),
            prune_internally_only: false,
        }),
    };
    // Canton refuses what is not a cron expression (seconds first).
    let bad = pruning
        .set_participant_schedule(schedule("every night"))
        .await
        .expect_err("not a cron expression");
    assert!(
        bad.message().starts_with("PROTO_DESERIALIZATION_FAILURE(8,"),
        "{}",
        bad.message()
    );
    pruning
        .set_participant_schedule(schedule("0 0 2 * * ?"))
        .await
        .expect("a nightly schedule");
    let read = lab.client("participant2").pruning_schedule().await.expect("read");
    assert_eq!(
        read.map(|s| (s.cron, s.retention_secs, s.max_duration_secs)),
        Some(("0 0 2 * * ?".to_string(), 30 * 86_400, 3_600))
    );
    assert_eq!(lab.client("participant1").pruning_schedule().await.expect("read"), None);

    let plan = plan_for(&lab.lab, &SelectionRequest::new(Strategy::Intersection), 500).await;
    let report = Runner::new(plan.clone(), participants(&lab.lab), options(&lab, "pruned", false))
        .expect("runner")
        .run()
        .await
        .expect("a warning does not stop the run");
    assert!(report.ok);
    let warnings = preflight_warnings(&lab, "pruned.journal.jsonl");
    assert_eq!(
        warnings,
        vec![
            "participant2 [pruning]: a pruning schedule is set (cron \"0 0 2 * * ?\", retention 30d, at most 1h per run): pruning while the recovery runs can remove the history the repairs and their checks read, and with ACS imports has removed contracts (Canton 3.4.9, issue 25-013). Clear it for the recovery (console: pruning.clear_schedule()) and set it again afterwards"
        ]
    );
    pruning.clear_schedule(ClearScheduleRequest {}).await.expect("clear");
    let cleared = pruning
        .get_participant_schedule(GetParticipantScheduleRequest {})
        .await
        .expect("get")
        .into_inner();
    assert_eq!(cleared.schedule, None);
}

/// Calls of these kinds the participants received: the repairs.
async fn repair_calls(lab: &TestLab) -> u64 {
    let mut n = 0;
    for name in participants(&lab.lab).keys() {
        let url = lab.lab.endpoint(name).expect("endpoint");
        let mut client = ParticipantControlClient::connect(url).await.expect("control");
        let counters = client
            .counters(CountersRequest {})
            .await
            .expect("counters")
            .into_inner();
        n += counters
            .calls
            .iter()
            .filter(|(path, _)| {
                ["PurgeContracts", "ImportAcs", "ChangeAssignation"]
                    .iter()
                    .any(|m| path.ends_with(&format!("/{m}")))
            })
            .map(|(_, n)| n)
            .sum::<u64>();
    }
    n
}

async fn package_service(
    lab: &TestLab,
    name: &str,
) -> recovery_deck::wire::admin::package_service_client::PackageServiceClient<tonic::transport::Channel> {
    recovery_deck::wire::admin::package_service_client::PackageServiceClient::connect(
        lab.lab.endpoint(name).expect("endpoint"),
    )
    .await
    .expect("package service")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unvetted_package_on_the_target_is_refused_before_anything_is_disconnected() {
    use recovery_deck::wire::admin::{UnvetDarRequest, VetDarRequest};
    let lab = TestLab::up(Scenario::Seed).await;
    let target = ids::synchronizer_id(TARGET);
    let package = templates::package_id();
    // participant2's operator connected to newDomain once before and took the DAR's
    // vetting away there (Canton's UnvetDar needs the connection).
    let p2 = lab.client("participant2");
    let mut packages = package_service(&lab, "participant2").await;
    let not_connected = packages
        .unvet_dar(UnvetDarRequest {
            main_package_id: package.clone(),
            synchronizer_id: Some(target.clone()),
        })
        .await
        .expect_err("not connected to newDomain yet");
    assert!(
        not_connected
            .message()
            .starts_with("PACKAGE_SERVICE_NOT_CONNECTED_TO_SYNCHRONIZER(9,"),
        "{}",
        not_connected.message()
    );
    assert_eq!(
        p2.vetted_packages(&target).await.expect("read"),
        None,
        "no store before connecting"
    );
    assert!(p2.reconnect(TARGET, false).await.expect("connect newDomain"));
    assert_eq!(
        p2.vetted_packages(&target).await.expect("read"),
        Some([package.clone()].into()),
        "the lab's DAR is vetted at the first connection"
    );
    packages
        .unvet_dar(UnvetDarRequest {
            main_package_id: package.clone(),
            synchronizer_id: Some(target.clone()),
        })
        .await
        .expect("unvet");
    assert_eq!(p2.vetted_packages(&target).await.expect("read"), Some(BTreeSet::new()));
    // Canton rejects a transaction on the unvetted package.
    let bob = ids::party_id("Bob", "participant2");
    let rejected = p2
        .submit_and_wait(Submission {
            act_as: vec![bob.clone()],
            synchronizer_id: Some(target.clone()),
            commands: vec![templates::create_iou_command(&bob, &bob, "1", "USD")],
        })
        .await
        .expect_err("unvetted");
    assert!(
        rejected.to_string().contains("PACKAGE_NOT_VETTED_BY_RECIPIENTS"),
        "{rejected}"
    );
    p2.disconnect(TARGET).await.expect("disconnect newDomain");

    let plan = plan_for(&lab.lab, &SelectionRequest::new(Strategy::Intersection), 500).await;
    let before = mutating_calls(&lab).await;
    let refused = Runner::new(plan.clone(), participants(&lab.lab), options(&lab, "unvetted", false))
        .expect("runner")
        .run()
        .await;
    let Err(exec::RunError::Preflight(problems)) = &refused else {
        panic!("an unvetted package must refuse the run: {refused:?}");
    };
    let vetting = common::problems_of(problems, "vetting");
    assert_eq!(vetting.len(), 1, "{problems:?}");
    assert!(
        vetting[0].starts_with(&format!(
            "participant2 [vetting]: has not vetted package {package} on newDomain, and 6 contract(s) it must hold there use it: "
        )) && vetting[0].contains("PACKAGE_NOT_VETTED_BY_RECIPIENTS"),
        "{}",
        vetting[0]
    );
    assert_eq!(
        mutating_calls(&lab).await,
        before,
        "refused before anything was disconnected"
    );
    // Vetted again, the run goes.
    assert!(p2.reconnect(TARGET, false).await.expect("connect newDomain"));
    packages
        .vet_dar(VetDarRequest {
            main_package_id: package,
            synchronize: true,
            synchronizer_id: Some(target),
        })
        .await
        .expect("vet");
    p2.disconnect(TARGET).await.expect("disconnect newDomain");
    let report = Runner::new(plan.clone(), participants(&lab.lab), options(&lab, "vetted", false))
        .expect("runner")
        .run()
        .await
        .expect("vetted");
    assert!(report.ok);
    assert_moved(&lab, &plan).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vetting_on_a_target_never_connected_is_checked_at_its_first_connection_before_any_repair() {
    use recovery_deck::wire::admin::VetDarRequest;
    let dir = tempfile::tempdir().expect("tempdir");
    let options_lab = scenario::LabOptions {
        unvetted: vec!["participant2".into()],
        ..scenario::LabOptions::default()
    };
    let lab = scenario::up_with(dir.path(), Scenario::Seed, &options_lab, common::launcher())
        .await
        .expect("lab");
    let lab = TestLab { lab, dir };
    let plan = plan_for(&lab.lab, &SelectionRequest::new(Strategy::Intersection), 500).await;
    let failed = Runner::new(plan.clone(), participants(&lab.lab), options(&lab, "first", false))
        .expect("runner")
        .run()
        .await;
    let Err(exec::RunError::Step {
        phase,
        participant,
        failure,
        ..
    }) = &failed
    else {
        panic!("participant2's first connection to newDomain shows the package unvetted: {failed:?}");
    };
    assert_eq!((*phase, participant.as_str()), (PhaseKind::InitTarget, "participant2"));
    assert!(
        failure.message.contains(&format!(
            "participant2 has not vetted package {} on newDomain, and 6 contract(s) it must hold there use it",
            templates::package_id()
        )),
        "{}",
        failure.message
    );
    assert_eq!(repair_calls(&lab).await, 0, "no repair was sent");
    // It is left connected to newDomain, where its operator vets the DAR.
    let p2 = lab.client("participant2");
    assert!(
        p2.list_connected()
            .await
            .expect("connected")
            .iter()
            .any(|c| c.alias == TARGET)
    );
    let target = ids::synchronizer_id(TARGET);
    package_service(&lab, "participant2")
        .await
        .vet_dar(VetDarRequest {
            main_package_id: templates::package_id(),
            synchronize: true,
            synchronizer_id: Some(target),
        })
        .await
        .expect("vet");
    let report = Runner::new(plan.clone(), participants(&lab.lab), options(&lab, "first", false))
        .expect("runner")
        .run()
        .await
        .expect("vetted, the run finishes");
    assert!(report.ok);
    assert_moved(&lab, &plan).await;
    let cfg = recovery_deck::config::IncidentConfig::load(&lab.lab.incident_path()).expect("config");
    let wf = recovery_deck::lab::workflow::run(&cfg).await.expect("workflow");
    assert!(wf.ok, "{wf:#?}");
}
