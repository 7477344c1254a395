//! Fault drills: a recovery of the diverged lab (a union with an import, purges and a
//! move on two participants) broken on purpose — a participant SIGKILLed at seeded points
//! of every phase, the client itself SIGKILLed, the network to one participant lost, the
//! target synchronizer restarted during reconnect, an import whose source dies mid-stream —
//! and finished by running the same runbook again. Each drill ends with the one invariant
//! of `common::recovered::assert_recovered_once`.
//!
//! `cargo test` runs a short seeded subset; `RECOVERY_DECK_DRILLS=full` runs the whole
//! matrix (20 kill points). `RECOVERY_DECK_DRILL_SEED=<n>` replays another seed.

mod common;

use common::faults::{Proxy, Seeded, arm_crash, full_matrix, seed};
use common::recovered::assert_recovered_once;
use common::{TestLab, decided_union, diverged_rows, participants, plan_for};
use recovery_deck::client::{GrpcParticipant, ParticipantApi};
use recovery_deck::exec::{Control, Progress, RunError, RunOptions, RunReport, Runner};
use recovery_deck::lab::scenario::{self, LabOptions, Scenario, TARGET};
use recovery_deck::plan::{Action, PhaseKind, Plan};
use recovery_deck::wire::lab::CrashPoint;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The seed of the participant-kill matrix (README: "Fault drills").
const KILL_SEED: u64 = 20_261_207;
const FULL_KILL_POINTS: usize = 20;
const SHORT_KILL_POINTS: usize = 3;

fn journal_in(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.journal.jsonl"))
}

fn options(journal: &Path) -> RunOptions {
    let mut o = RunOptions::new(journal.to_path_buf(), "drill");
    o.retry_delay = Duration::from_millis(50);
    o
}

/// The diverged lab and its decided union, in batches of `batch` (small batches make
/// several calls per phase to crash in).
async fn diverged_union(extra: usize, batch: u32) -> (TestLab, Plan) {
    let options = LabOptions {
        diverged_extra: extra,
        ..LabOptions::default()
    };
    let lab = TestLab::up_with(Scenario::Diverged, &options).await;
    let rows = diverged_rows(&lab.lab).await;
    let plan = plan_for(&lab.lab, &decided_union(&rows), batch).await;
    (lab, plan)
}

/// Runs `plan` with a pause before each phase, calling `before(phase)` there and letting
/// the phase run once it returns: faults are injected at a phase boundary, not at a
/// moment in time, so a seed always lands in the same place.
async fn run_with_hook<F, Fut>(
    plan: &Plan,
    participants: recovery_deck::exec::Participants,
    journal: &Path,
    mut before: F,
) -> Result<RunReport, RunError>
where
    F: FnMut(PhaseKind) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let (ctl_tx, ctl_rx) = tokio::sync::watch::channel(Control::Pause);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(plan.clone(), participants, options(journal))
        .expect("runner")
        .with_progress(tx)
        .with_control(ctl_rx);
    let driver = tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            if let Progress::Paused { before: phase } = p {
                before(phase).await;
                let _ = ctl_tx.send(Control::Step);
            }
        }
    });
    let result = runner.run().await;
    let _ = driver.await;
    result
}

/// A plain second run of the same runbook and journal, which must finish the recovery.
async fn finish(lab: &TestLab, plan: &Plan, journal: &Path, what: &str) -> RunReport {
    let report = Runner::new(plan.clone(), participants(&lab.lab), options(journal))
        .expect("runner")
        .run()
        .await
        .unwrap_or_else(|e| panic!("the run after {what} must finish the recovery: {e}"));
    assert!(report.ok, "after {what}: {report:?}");
    report
}

/// One seeded place to kill a participant: at `point` of the `nth` call of `method` it
/// receives during `phase`.
#[derive(Debug, Clone)]
struct KillPoint {
    phase: PhaseKind,
    participant: String,
    method: &'static str,
    nth: u64,
    point: CrashPoint,
}

impl std::fmt::Display for KillPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} killed in phase {} at {:?} of {} call {}",
            self.participant, self.phase, self.point, self.method, self.nth
        )
    }
}

/// The calls a step makes, by receiving participant: the state-changing call, and for an
/// import the source's export too.
fn calls_of(step: &recovery_deck::plan::Step) -> Vec<(String, &'static str)> {
    let p = step.participant.clone();
    match &step.action {
        Action::DisconnectSynchronizer { .. } => vec![(p, "DisconnectSynchronizer")],
        Action::DisconnectAllSynchronizers => vec![(p, "DisconnectAllSynchronizers")],
        Action::ModifySynchronizer { .. } => vec![(p, "ModifySynchronizer")],
        Action::ReconnectSynchronizer { .. } => vec![(p, "ReconnectSynchronizer")],
        Action::Ping { .. } => vec![(p, "Ping")],
        Action::PurgeContracts { .. } => vec![(p, "PurgeContracts")],
        Action::ImportAcs { source_participant, .. } => {
            vec![(source_participant.clone(), "ExportAcs"), (p, "ImportAcs")]
        }
        Action::ChangeAssignation { .. } => vec![(p, "ChangeAssignation")],
        Action::Verify { .. } => vec![(p, "ExportAcs")],
    }
}

/// Where a call can be cut: on arrival and after it was applied for every call, part way
/// through the stream for the two streamed ones.
fn points_of(method: &str) -> Vec<CrashPoint> {
    match method {
        "ImportAcs" => vec![CrashPoint::OnArrival, CrashPoint::MidRequest, CrashPoint::BeforeReply],
        "ExportAcs" => vec![CrashPoint::OnArrival, CrashPoint::MidResponse],
        _ => vec![CrashPoint::OnArrival, CrashPoint::BeforeReply],
    }
}

/// Every kill point of `plan`, per phase.
fn kill_points(plan: &Plan) -> BTreeMap<PhaseKind, Vec<KillPoint>> {
    let mut out: BTreeMap<PhaseKind, Vec<KillPoint>> = BTreeMap::new();
    for phase in PhaseKind::ALL {
        let mut calls: BTreeMap<(String, &'static str), u64> = BTreeMap::new();
        for step in plan.phase(phase).into_iter().flat_map(|p| &p.steps) {
            for c in calls_of(step) {
                *calls.entry(c).or_default() += 1;
            }
        }
        for ((participant, method), count) in calls {
            for nth in 1..=count {
                for point in points_of(method) {
                    out.entry(phase).or_default().push(KillPoint {
                        phase,
                        participant: participant.clone(),
                        method,
                        nth,
                        point,
                    });
                }
            }
        }
    }
    out
}

/// `count` kill points drawn from `seed`: the import's points first (every one of them
/// when `every_import`, else one seeded), then the other phases in a seeded order, a
/// seeded point of each, round after round.
fn draw(plan: &Plan, seed: u64, count: usize, every_import: bool) -> Vec<KillPoint> {
    let mut rng = Seeded::new(seed);
    let mut per_phase = kill_points(plan);
    let mut imports = per_phase.remove(&PhaseKind::Import).unwrap_or_default();
    let mut out = if every_import {
        imports
    } else {
        vec![imports.swap_remove(rng.below(imports.len()))]
    };
    out.truncate(count);
    let mut phases: Vec<PhaseKind> = per_phase.keys().copied().collect();
    for i in 0..phases.len() {
        let j = i + rng.below(phases.len() - i);
        phases.swap(i, j);
    }
    while out.len() < count && per_phase.values().any(|v| !v.is_empty()) {
        for phase in &phases {
            let Some(left) = per_phase.get_mut(phase).filter(|v| !v.is_empty()) else {
                continue;
            };
            out.push(left.swap_remove(rng.below(left.len())));
            if out.len() == count {
                break;
            }
        }
    }
    out
}

/// One kill point: a fresh lab, a run in which the participant dies there, its restart,
/// a second run, and the invariant.
async fn kill_drill(point: &KillPoint) {
    let (mut lab, plan) = diverged_union(0, 2).await;
    let journal = journal_in(lab.dir.path(), "kill");
    let url = lab.lab.endpoint(&point.participant).expect("endpoint");
    let at = point.clone();
    let first = run_with_hook(&plan, participants(&lab.lab), &journal, move |phase| {
        let (url, at) = (url.clone(), at.clone());
        async move {
            if phase == at.phase {
                arm_crash(url, at.method, at.nth, at.point, 1).await;
            }
        }
    })
    .await;
    assert!(
        lab.lab.info(&point.participant).is_none(),
        "{point}: the armed call never came (the run ended with {first:?})"
    );
    assert!(first.is_err(), "{point}: a run that lost a participant cannot succeed");
    lab.lab.start(&point.participant).expect("restart");
    finish(&lab, &plan, &journal, &point.to_string()).await;
    assert_recovered_once(&lab.lab, &plan, &[&journal]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_killed_at_seeded_points_of_every_phase_is_recovered_by_running_again() {
    let seed = seed(KILL_SEED);
    let count = if full_matrix() {
        FULL_KILL_POINTS
    } else {
        SHORT_KILL_POINTS
    };
    // The points depend on the plan's shape only, which every fresh diverged lab shares.
    let (lab, plan) = diverged_union(0, 2).await;
    let points = draw(&plan, seed, count, full_matrix());
    drop(lab);
    assert_eq!(points.len(), count, "the plan offers {count} kill points");
    let started = std::time::Instant::now();
    // RECOVERY_DECK_DRILL_POINT=<n> replays the n-th point of the matrix alone.
    let only: Option<usize> = std::env::var("RECOVERY_DECK_DRILL_POINT")
        .ok()
        .and_then(|n| n.parse().ok());
    for (i, point) in points.iter().enumerate() {
        if only.is_some_and(|n| n != i + 1) {
            continue;
        }
        eprintln!("kill drill {}/{count} (seed {seed}): {point}", i + 1);
        kill_drill(point).await;
    }
    let phases: std::collections::BTreeSet<PhaseKind> = points.iter().map(|p| p.phase).collect();
    eprintln!(
        "{count} kill points over {} phases, seed {seed}, in {:.1?}",
        phases.len(),
        started.elapsed()
    );
    if full_matrix() {
        assert_eq!(phases.len(), PhaseKind::ALL.len(), "the full matrix covers every phase");
    }
}

/// The source of an import dies part way through its export: the import is cancelled
/// (never half-closed), the receiver applies none of it, and the next run imports it
/// whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_whose_source_dies_mid_stream_applies_nothing_and_is_imported_whole_next_run() {
    // Enough contracts on the source that its export spans several frames.
    let (mut lab, plan) = diverged_union(300, 500).await;
    let import = plan.phase(PhaseKind::Import).expect("import phase");
    let step = import.steps.first().expect("an import step");
    let Action::ImportAcs {
        source_participant,
        contract_ids,
        ..
    } = &step.action
    else {
        panic!("the import phase imports: {step:?}");
    };
    let (source, receiver) = (source_participant.clone(), step.participant.clone());
    let journal = journal_in(lab.dir.path(), "import");
    let url = lab.lab.endpoint(&source).expect("endpoint");
    let imports_before = calls_of_method(&lab, &receiver, "ImportAcs").await;
    let first = run_with_hook(&plan, participants(&lab.lab), &journal, move |phase| {
        let url = url.clone();
        async move {
            if phase == PhaseKind::Import {
                arm_crash(url, "ExportAcs", 1, CrashPoint::MidResponse, 1).await;
            }
        }
    })
    .await;
    assert!(lab.lab.info(&source).is_none(), "the source died: {first:?}");
    let Err(RunError::Step { phase, participant, .. }) = &first else {
        panic!("the import must fail with its source: {first:?}");
    };
    assert_eq!((*phase, participant.as_str()), (PhaseKind::Import, receiver.as_str()));
    assert_eq!(
        calls_of_method(&lab, &receiver, "ImportAcs").await,
        imports_before + 1,
        "the import had started on the receiver when the source died"
    );
    let held = common::holdings(&lab.client(&receiver)).await.expect("export");
    let lost = recovery_deck::lab::ids::synchronizer_id(scenario::LOST);
    let on_lost = held.get(&lost).cloned().unwrap_or_default();
    assert!(
        contract_ids.iter().all(|id| !on_lost.contains(&id.to_string())),
        "the receiver applied none of the aborted import"
    );
    lab.lab.start(&source).expect("restart the source");
    let second = finish(&lab, &plan, &journal, "the aborted import").await;
    assert_eq!(
        second.added.get(&receiver).copied(),
        Some(contract_ids.len()),
        "the next run imports the whole set"
    );
    assert_recovered_once(&lab.lab, &plan, &[&journal]).await;
}

async fn calls_of_method(lab: &TestLab, name: &str, method: &str) -> u64 {
    use recovery_deck::wire::lab::{CountersRequest, participant_control_client::ParticipantControlClient};
    let url = lab.lab.endpoint(name).expect("endpoint");
    let mut c = ParticipantControlClient::connect(url).await.expect("control");
    let counters = c.counters(CountersRequest {}).await.expect("counters").into_inner();
    counters
        .calls
        .iter()
        .filter(|(path, _)| path.ends_with(&format!("/{method}")))
        .map(|(_, n)| *n)
        .sum()
}

/// The network to one participant is lost as a phase starts: its calls time out, the run
/// stops there, resumable; once the network is back, a second run finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_loss_to_a_participant_stops_the_run_resumable_and_a_second_run_finishes() {
    let mut rng = Seeded::new(seed(KILL_SEED));
    let phases = [
        PhaseKind::Isolate,
        PhaseKind::Purge,
        PhaseKind::Import,
        PhaseKind::Move,
        PhaseKind::Reconnect,
    ];
    let drills: Vec<PhaseKind> = if full_matrix() {
        phases.to_vec()
    } else {
        vec![phases[rng.below(phases.len())]]
    };
    for cut_at in drills {
        eprintln!("network loss to participant2 in phase {cut_at}");
        network_drill(cut_at).await;
    }
}

async fn network_drill(cut_at: PhaseKind) {
    let (lab, plan) = diverged_union(0, 2).await;
    let victim = "participant2";
    let cfg = scenario::incident_config(&lab.lab).expect("config");
    let mut p2 = cfg
        .participants
        .iter()
        .find(|p| p.name == victim)
        .expect("participant2")
        .clone();
    let admin = Proxy::to(&p2.admin).await;
    let ledger = Proxy::to(&p2.ledger).await;
    p2.admin = admin.url.clone();
    p2.ledger = ledger.url.clone();
    // Short deadlines, so that the drill waits seconds rather than Canton's minutes.
    p2.timeout_secs = Some(2);
    p2.repair_timeout_secs = Some(2);
    let through_proxy = || {
        let mut ps = participants(&lab.lab);
        let api: Arc<dyn ParticipantApi> = Arc::new(GrpcParticipant::from_config(&p2).expect("client"));
        ps.insert(victim.to_string(), api);
        ps
    };
    let journal = journal_in(lab.dir.path(), "net");
    let proxies = Arc::new((admin, ledger));
    let cutter = proxies.clone();
    let first = run_with_hook(&plan, through_proxy(), &journal, move |phase| {
        let cutter = cutter.clone();
        async move {
            if phase == cut_at {
                cutter.0.cut();
                cutter.1.cut();
            }
        }
    })
    .await;
    let Err(RunError::Step {
        phase,
        participant,
        failure,
    }) = &first
    else {
        panic!("network loss in {cut_at} must stop the run: {first:?}");
    };
    assert_eq!((*phase, participant.as_str()), (cut_at, victim), "{failure:?}");
    assert!(
        failure.message.contains("DeadlineExceeded"),
        "the call timed out: {failure:?}"
    );
    proxies.0.restore();
    proxies.1.restore();
    let second = Runner::new(plan.clone(), through_proxy(), options(&journal))
        .expect("runner")
        .run()
        .await
        .unwrap_or_else(|e| panic!("the run after network loss in {cut_at} must finish: {e}"));
    assert!(second.ok);
    assert_recovered_once(&lab.lab, &plan, &[&journal]).await;
}

/// The target synchronizer goes down as the participants reconnect to it and comes back a
/// seeded moment later: the run either rides it out or stops resumable, and at most one
/// more run finishes the recovery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_target_synchronizer_restarted_during_reconnect_is_ridden_out_or_resumed() {
    let mut rng = Seeded::new(seed(KILL_SEED));
    let delays: Vec<u64> = if full_matrix() {
        vec![0, 300, 1_500]
    } else {
        vec![[0, 300, 1_500][rng.below(3)]]
    };
    for delay in delays {
        eprintln!("target synchronizer restarted {delay} ms into the reconnect phase");
        let (lab, plan) = diverged_union(0, 2).await;
        let journal = journal_in(lab.dir.path(), "sync");
        let shared = Arc::new(std::sync::Mutex::new(lab));
        let restarter = shared.clone();
        let handle: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>> = Default::default();
        let restart = handle.clone();
        let ps = participants(&shared.lock().expect("lab").lab);
        let first = run_with_hook(&plan, ps, &journal, move |phase| {
            let (lab, restart) = (restarter.clone(), restart.clone());
            async move {
                if phase == PhaseKind::Reconnect {
                    lab.lock().expect("lab").lab.kill(TARGET).expect("kill the target");
                    let back = tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                        tokio::task::spawn_blocking(move || {
                            lab.lock().expect("lab").lab.start(TARGET).expect("restart the target")
                        })
                        .await
                        .expect("restart");
                    });
                    *restart.lock().expect("handle") = Some(back);
                }
            }
        })
        .await;
        let back = handle.lock().expect("handle").take().expect("the reconnect phase ran");
        back.await.expect("the target is back");
        let lab = Arc::try_unwrap(shared)
            .ok()
            .expect("one owner")
            .into_inner()
            .expect("lab");
        match first {
            Ok(report) => assert!(report.ok),
            Err(RunError::Step { phase, .. }) => {
                assert!(
                    matches!(phase, PhaseKind::Reconnect | PhaseKind::Verify),
                    "only the phases that need the target fail: {phase}"
                );
                finish(&lab, &plan, &journal, "the target's restart").await;
            }
            Err(e) => panic!("the run must stop at a step: {e}"),
        }
        assert_recovered_once(&lab.lab, &plan, &[&journal]).await;
    }
}

/// The client itself is SIGKILLed part way through `recovery-deck run` (after a seeded
/// number of calls were journaled as sent), then `run` is started again on the same
/// runbook and journal: it finishes the recovery from where the killed run stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_killed_mid_run_finishes_when_run_again() {
    let mut rng = Seeded::new(seed(KILL_SEED));
    let kills: Vec<usize> = if full_matrix() {
        vec![2, 6, 12, 18, 24]
    } else {
        vec![2 + rng.below(20)]
    };
    for after in kills {
        eprintln!("client killed after {after} calls sent");
        client_kill_drill(after).await;
    }
}

fn binary() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_recovery-deck"))
}

async fn client_kill_drill(after_calls: usize) {
    let lab = TestLab::up(Scenario::Diverged).await;
    let dir = lab.dir.path();
    let config = lab.lab.incident_path();
    let rows = diverged_rows(&lab.lab).await;
    let class = |c: recovery_deck::reconcile::RowClass| rows.get(&c).cloned().unwrap_or_default();
    let archived = class(recovery_deck::reconcile::RowClass::ArchivedSomewhere);
    let mismatch = class(recovery_deck::reconcile::RowClass::PayloadMismatch);
    let runbook = dir.join("drill.runbook.toml");
    let journal = journal_in(dir, "client");
    let planned = binary()
        .arg("plan")
        .arg("--config")
        .arg(&config)
        .args(["--strategy", "union", "--batch-size", "1"])
        .args(["--decide", &format!("{}=purge", archived[0])])
        .args(["--decide", &format!("{}=exclude", archived[1])])
        .args(["--decide", &format!("{}=purge", mismatch[0])])
        .arg("--out")
        .arg(&runbook)
        .output()
        .expect("plan");
    assert!(planned.status.success(), "{}", String::from_utf8_lossy(&planned.stderr));
    let text = std::fs::read_to_string(&runbook).expect("runbook");
    let sidecar = recovery_deck::plan::runbook_sidecar(&text)
        .expect("runbook")
        .map(|f| std::fs::read_to_string(dir.join(f)).expect("sidecar"));
    let plan = recovery_deck::plan::from_runbook(&text, sidecar.as_deref()).expect("plan");
    let (cfg, book, jn) = (config.clone(), runbook.clone(), journal.clone());
    let run = move || {
        let mut c = binary();
        c.arg("run")
            .arg("--config")
            .arg(&cfg)
            .arg(&book)
            .arg("--yes")
            .arg("--journal")
            .arg(&jn)
            .args(["--format", "json"]);
        c
    };
    let mut child = run()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run");
    let sent = || {
        std::fs::read_to_string(&journal)
            .unwrap_or_default()
            .matches("\"kind\":\"exec.request\"")
            .count()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while sent() < after_calls {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the run ended before {after_calls} calls were sent ({} were)",
            sent()
        );
        assert!(std::time::Instant::now() < deadline, "the run is stuck");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill().expect("SIGKILL the client");
    let status = child.wait().expect("reaped");
    assert!(!status.success(), "the client was killed, not finished");
    let again = tokio::task::spawn_blocking(move || run().output().expect("run again"))
        .await
        .expect("join");
    assert!(
        again.status.success(),
        "run again after the client was killed after {after_calls} calls: {}",
        String::from_utf8_lossy(&again.stderr)
    );
    let stdout = String::from_utf8_lossy(&again.stdout);
    let last: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("final line")).expect("JSON final line");
    assert_eq!(last["ok"], true, "{stdout}");
    assert_recovered_once(&lab.lab, &plan, &[&journal]).await;
}
