//! Real lab processes on loopback: streaming vs survey, ChangeAssignation throughput and an
//! end-to-end run of an intersection plan (DESIGN §7, "Compare" and "Change assignation").
//!
//! `cargo bench --bench lab`; `BENCH_CONTRACTS` (default 20000) sizes the `large` scenario,
//! `BENCH_BATCHES` (default 100,500,2000) the ChangeAssignation batches, `BENCH_RUN_BATCH`
//! (default the plan's 500) the batch size of the end-to-end plan; `BENCH_ONLY` (a
//! comma-separated subset of `survey`, `change_assignation`, `runner`) what is measured;
//! `BENCH_BASELINE` (another build's `recovery-deck` binary) measures ChangeAssignation on
//! its nodes too, side by side; `BENCH_SURVEY_SIZES` (default `BENCH_CONTRACTS`) the sizes
//! at which the survey is measured against the streams it reads, one lab each.

mod support;

use futures::StreamExt;
use recovery_deck::client::logical_id;
use recovery_deck::client::{ClientError, ParticipantApi, PingOutcome, set_manual_connect};
use recovery_deck::exec::{Participants, Progress, RunOptions, Runner};
use recovery_deck::lab::ids;
use recovery_deck::lab::node::NodeKind;
use recovery_deck::lab::scenario::{self, LOST, Scenario, TARGET};
use recovery_deck::lab::supervisor::{Lab, Launcher};
use recovery_deck::plan::{self, PhaseKind};
use recovery_deck::reconcile::{SelectionRequest, Strategy};
use recovery_deck::survey::SearchFilter;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Report, Reps, Samples};

type Apis = Vec<Arc<dyn ParticipantApi>>;

/// A running lab that is stopped however the measurement ends (error, panic or success).
struct BenchLab {
    lab: Lab,
    _dir: tempfile::TempDir,
}

impl Drop for BenchLab {
    fn drop(&mut self) {
        if let Err(e) = self.lab.down() {
            eprintln!("stopping the lab in {}: {e}", self.lab.dir.display());
        }
    }
}

impl BenchLab {
    /// Starts `Scenario::Large` with `n` contracts from this build's binary; the staging
    /// time goes into the report.
    async fn up(report: &mut Report, n: usize, label: &str) -> BenchLab {
        Self::up_from(report, n, label, PathBuf::from(env!("CARGO_BIN_EXE_recovery-deck"))).await
    }

    /// [`BenchLab::up`] with the nodes run by `binary`.
    async fn up_from(report: &mut Report, n: usize, label: &str, binary: PathBuf) -> BenchLab {
        // On the project's disk, not a tmpfs: the lab's commits must really reach the disk.
        let dir = tempfile::Builder::new()
            .prefix("bench-lab-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("lab directory");
        let launcher = Launcher {
            binary,
            tie_to_parent: true,
            confirmation_timeout_ms: 5_000,
        };
        eprintln!("--- starting a large lab with {n} contracts ({label})");
        let start = Instant::now();
        let lab = scenario::up_sized(dir.path(), Scenario::Large, n, launcher)
            .await
            .expect("lab up");
        let mut s = Samples::new();
        s.push(start.elapsed());
        report.add(
            &format!("lab_up_and_stage/{label}"),
            n as u64,
            "contracts",
            s,
            json!({}),
        );
        BenchLab { lab, _dir: dir }
    }

    fn participants(&self) -> Participants {
        self.lab
            .layout
            .nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Participant)
            .map(|n| {
                let api: Arc<dyn ParticipantApi> = Arc::new(scenario::client(&self.lab, &n.name).expect("client"));
                (n.name.clone(), api)
            })
            .collect()
    }

    fn apis(&self) -> Apis {
        self.participants().into_values().collect()
    }
}

/// Contracts an ExportAcs of `synchronizer_id` yields, with the ids collected.
async fn export_ids(api: &dyn ParticipantApi, synchronizer_id: &str) -> Result<Vec<String>, ClientError> {
    let end = api.ledger_end().await?;
    let mut stream = api.export_acs(Some(synchronizer_id), end).await?;
    let mut ids = Vec::new();
    while let Some(c) = stream.next().await {
        if let Some(id) = c?.contract_id() {
            ids.push(id.to_string());
        }
    }
    Ok(ids)
}

/// Streams one participant's ExportAcs of the lost synchronizer (decoded, nothing kept).
async fn stream_export(api: &dyn ParticipantApi, synchronizer_id: &str) -> Result<usize, ClientError> {
    let end = api.ledger_end().await?;
    let mut stream = api.export_acs(Some(synchronizer_id), end).await?;
    let mut n = 0;
    while let Some(c) = stream.next().await {
        std::hint::black_box(c?);
        n += 1;
    }
    Ok(n)
}

/// Streams one participant's Ledger API ACS, keeping only the lost synchronizer's count.
async fn stream_ledger(api: &dyn ParticipantApi, synchronizer_id: &str) -> Result<usize, ClientError> {
    let end = api.ledger_end().await?;
    let mut stream = api.active_contracts(end, false).await?;
    let mut n = 0;
    while let Some(c) = stream.next().await {
        let Some(c) = c?.into_active() else { continue };
        n += usize::from(logical_id(c.synchronizer_id()) == synchronizer_id);
        std::hint::black_box(c);
    }
    Ok(n)
}

/// (a) Raw streaming of every participant at once (as the survey reads them) vs the survey.
/// `suffix` names the lab's size when several are measured.
async fn survey_vs_streaming(report: &mut Report, lab: &BenchLab, reps: Reps, suffix: &str) {
    let apis = lab.apis();
    let lost = ids::synchronizer_id(LOST);
    let (export, exported) = support::run_async(reps, || {
        futures::future::try_join_all(apis.iter().map(|a| stream_export(a.as_ref(), &lost)))
    })
    .await;
    let exported: usize = exported.expect("export").iter().sum();
    let (ledger, listed) = support::run_async(reps, || {
        futures::future::try_join_all(apis.iter().map(|a| stream_ledger(a.as_ref(), &lost)))
    })
    .await;
    let listed: usize = listed.expect("ledger acs").iter().sum();
    let everything = SearchFilter::default();
    let (survey, surveyed) =
        support::run_async(reps, || recovery_deck::survey::survey(&apis, LOST, &everything, false)).await;
    let surveyed = surveyed.expect("survey");
    let held: usize = surveyed.holdings.iter().map(|h| h.snapshot.contracts.len()).sum();
    assert_eq!(held, exported, "the survey sees what the exports hold");
    assert_eq!(listed, exported, "the Ledger API and ExportAcs agree");

    let (e, l, s) = (export.median(), ledger.median(), survey.median());
    report.add(
        &format!("stream_export_acs_all{suffix}"),
        exported as u64,
        "contracts",
        export,
        json!({"participants": apis.len()}),
    );
    report.add(
        &format!("stream_ledger_acs_all{suffix}"),
        listed as u64,
        "contracts",
        ledger,
        json!({"participants": apis.len()}),
    );
    report.add(
        &format!("survey{suffix}"),
        held as u64,
        "contracts",
        survey,
        json!({"participants": apis.len(), "rows": surveyed.comparison.len()}),
    );
    let ratio = |a: Duration, b: Duration| (a.as_secs_f64() / b.as_secs_f64() * 1000.0).round() / 1000.0;
    report.figure(
        &format!("survey_over_streaming{suffix}"),
        json!({
            "contracts": held,
            "survey_over_ledger_acs": ratio(s, l),
            "survey_over_export_acs": ratio(s, e),
            "target_max_ratio": 1.3,
        }),
    );
}

/// Steps 1–2 of the recipe: isolate the lost synchronizer, initialise the new one's
/// topology with one connection and a ping sequenced there (the repairs take the topology
/// at the target's clean record time, as `init_target` does), leave everything
/// disconnected (repairs require it).
async fn prepare(api: &dyn ParticipantApi) -> Result<(), ClientError> {
    api.disconnect(LOST).await?;
    set_manual_connect(api, LOST, true).await?;
    assert!(api.reconnect(TARGET, false).await?, "newDomain reachable");
    let party = api.admin_party().await?;
    let target = api.synchronizer_id(TARGET).await?.logical;
    let mut pinged = false;
    for _ in 0..6 {
        let outcome = api
            .ping(std::slice::from_ref(&party), &target, Duration::from_secs(10))
            .await?;
        if matches!(outcome, PingOutcome::Success { .. }) {
            pinged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(pinged, "a ping over newDomain succeeded");
    api.disconnect_all().await
}

/// (b) ChangeAssignation of everything each participant holds, one participant at a time,
/// in batches of `batch`. Each call is one durable SQLite transaction on the participant.
async fn change_assignation(report: &mut Report, lab: &BenchLab, batch: usize, suffix: &str) {
    let participants = lab.participants();
    let lost = ids::synchronizer_id(LOST);
    let target = ids::synchronizer_id(TARGET);
    for api in participants.values() {
        prepare(api.as_ref()).await.expect("prepare");
    }
    let mut total = 0;
    let mut busy = Duration::ZERO;
    for (name, api) in &participants {
        let ids = export_ids(api.as_ref(), &lost).await.expect("export");
        let start = Instant::now();
        for chunk in ids.chunks(batch) {
            api.change_assignation(LOST, TARGET, chunk, true)
                .await
                .expect("ChangeAssignation");
        }
        let took = start.elapsed();
        let moved = export_ids(api.as_ref(), &target).await.expect("export target").len();
        assert_eq!(moved, ids.len(), "{name} moved everything");
        let mut s = Samples::new();
        s.push(took);
        report.add(
            &format!("change_assignation/batch{batch}/{name}{suffix}"),
            ids.len() as u64,
            "contracts",
            s,
            json!({"batch": batch, "participant": name, "calls": ids.len().div_ceil(batch)}),
        );
        total += ids.len();
        busy += took;
    }
    let mut s = Samples::new();
    s.push(busy);
    report.add(
        &format!("change_assignation/batch{batch}/all_sequential{suffix}"),
        total as u64,
        "contracts",
        s,
        json!({"batch": batch, "target_per_participant_per_sec": 20_000}),
    );
}

/// (c) Survey + plan, then `Runner::run` of the intersection plan, timed per phase.
async fn end_to_end(report: &mut Report, lab: &BenchLab, batch: u32) {
    let apis = lab.apis();
    let incident = recovery_deck::survey::Incident {
        name: "bench",
        lost: LOST,
        target: TARGET,
    };
    let request = SelectionRequest::new(Strategy::Intersection);
    let start = Instant::now();
    let (plan, survey) = recovery_deck::survey::propose(&apis, &incident, &request, batch)
        .await
        .expect("plan");
    let mut s = Samples::new();
    s.push(start.elapsed());
    let moves: usize = plan.participants().iter().map(|p| plan.moved_by(p).len()).sum();
    report.add(
        "propose_intersection",
        survey.comparison.len() as u64,
        "rows",
        s,
        json!({"batch": batch}),
    );

    let journal = lab.lab.dir.join("bench.journal.jsonl");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(plan, lab.participants(), RunOptions::new(journal, "bench"))
        .expect("runner")
        .with_progress(tx);
    let phases = tokio::spawn(async move {
        let mut started: BTreeMap<PhaseKind, Instant> = BTreeMap::new();
        let mut took: Vec<(PhaseKind, Duration)> = Vec::new();
        while let Some(p) = rx.recv().await {
            match p {
                Progress::PhaseStarted { phase, .. } => {
                    started.insert(phase, Instant::now());
                }
                Progress::PhaseDone { phase } => {
                    if let Some(t) = started.get(&phase) {
                        took.push((phase, t.elapsed()));
                    }
                }
                _ => {}
            }
        }
        took
    });
    let start = Instant::now();
    let outcome = runner.run().await.expect("run");
    let elapsed = start.elapsed();
    assert!(outcome.ok, "the run succeeded: {outcome:?}");
    let phases = phases.await.expect("progress task");
    let moved: usize = outcome.moved.values().sum();
    assert_eq!(moved, moves, "every planned move was made");
    let mut s = Samples::new();
    s.push(elapsed);
    report.add(
        "runner_run_intersection",
        moved as u64,
        "contracts",
        s,
        json!({"batch": batch, "moved": outcome.moved}),
    );
    for (phase, took) in phases {
        let n = if phase == PhaseKind::Move { moved as u64 } else { 0 };
        let mut s = Samples::new();
        s.push(took);
        report.add(
            &format!("runner_phase/{}", phase.as_str()),
            n,
            "contracts",
            s,
            json!({"batch": batch}),
        );
    }
}

async fn bench(report: &mut Report, smoke: bool) {
    let n = if smoke {
        400
    } else {
        support::env_usize("BENCH_CONTRACTS", 20_000)
    };
    let batches = if smoke {
        vec![100]
    } else {
        support::env_sizes("BENCH_BATCHES", &[100, 500, 2000])
    };
    let reps = if smoke { Reps::once() } else { Reps::new(1, 5, 10, 30) };
    let run_batch = support::env_usize("BENCH_RUN_BATCH", plan::DEFAULT_BATCH_SIZE as usize);
    let run_batch = u32::try_from(run_batch).unwrap_or(plan::DEFAULT_BATCH_SIZE);

    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let baseline = std::env::var_os("BENCH_BASELINE").filter(|_| !smoke).map(PathBuf::from);
    let wanted = |part: &str| only.is_empty() || only.split(',').any(|p| p.trim() == part);

    let survey_sizes = if smoke {
        vec![n]
    } else {
        support::env_sizes("BENCH_SURVEY_SIZES", &[n])
    };
    // The survey only reads, so at the bench's own size it shares the first lab of the
    // ChangeAssignation part, before anything moves; other sizes get a lab each.
    let shares_lab = wanted("change_assignation") && survey_sizes.contains(&n);
    if wanted("survey") {
        for &size in survey_sizes.iter().filter(|&&s| !(shares_lab && s == n)) {
            let lab = BenchLab::up(report, size, &format!("survey{size}")).await;
            // A million contracts take minutes per survey: fewer repetitions there.
            let reps = if size >= 500_000 { Reps::new(0, 2, 3, 60) } else { reps };
            let suffix = if survey_sizes.len() > 1 {
                format!("/{size}")
            } else {
                String::new()
            };
            survey_vs_streaming(report, &lab, reps, &suffix).await;
        }
    }
    if wanted("change_assignation") {
        for (i, &batch) in batches.iter().enumerate() {
            let lab = BenchLab::up(report, n, &format!("batch{batch}")).await;
            if i == 0 && shares_lab && wanted("survey") {
                let suffix = if survey_sizes.len() > 1 {
                    format!("/{n}")
                } else {
                    String::new()
                };
                survey_vs_streaming(report, &lab, reps, &suffix).await;
            }
            change_assignation(report, &lab, batch, "").await;
            drop(lab);
            // The same measurement on the nodes of another build, side by side in one run.
            if let Some(binary) = &baseline {
                let label = format!("batch{batch}@baseline");
                let lab = BenchLab::up_from(report, n, &label, binary.clone()).await;
                change_assignation(report, &lab, batch, "@baseline").await;
            }
        }
    }
    if wanted("runner") {
        let lab = BenchLab::up(report, n, "runner").await;
        end_to_end(report, &lab, run_batch).await;
    }
}

fn main() {
    let smoke = !support::is_bench_run();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut report = Report::new("lab");
    runtime.block_on(bench(&mut report, smoke));
    report.print();
}
