//! The lab answers as Canton does where the client could misread Canton, and the client
//! refuses what it cannot serve: a release older than 3.4, an export at offset 0, the
//! shape of InspectCommitmentContracts answers, the fields each Canton line knows.

mod common;

use common::{TestLab, code_of, ids_on, old_participant, participants, plan_for};
use futures::StreamExt;
use recovery_deck::client::{
    ContractStream, GrpcParticipant, ImportMode, InspectedState, ParticipantApi, PingOutcome, SyncState,
    SynchronizerConfig, merge_inspections, set_manual_connect, sync_config,
};
use recovery_deck::exec::{self, RunOptions, Runner};
use recovery_deck::lab::dialect::Dialect;
use recovery_deck::lab::ids;
use recovery_deck::lab::scenario::{LOST, Scenario, TARGET};
use recovery_deck::reconcile::{SelectionRequest, Strategy};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// Runs the binary off the runtime's threads (the test serves a participant meanwhile).
async fn run_binary(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_recovery-deck"))
            .args(&args)
            .output()
            .expect("run the binary")
    })
    .await
    .expect("join")
}

fn one_participant_config(dir: &Path, url: &str) -> String {
    let path = dir.join("incident.toml");
    std::fs::write(
        &path,
        format!(
            "[incident]\nname = \"old\"\nlost = \"{LOST}\"\ntarget = \"{TARGET}\"\n\n[[participants]]\nname = \"participant1\"\nadmin = \"{url}\"\nledger = \"{url}\"\n"
        ),
    )
    .expect("write config");
    path.to_string_lossy().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canton_3_3_is_refused_in_one_line_by_status_compare_and_plan() {
    let old = old_participant("3.3.0").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = one_participant_config(dir.path(), &old.url);

    let status = run_binary(vec!["status".into(), "--config".into(), config.clone()]).await;
    assert_eq!(
        status.status.code(),
        Some(2),
        "status exits 2 when a participant is unsupported"
    );
    let stdout = String::from_utf8_lossy(&status.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("participant1")).collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(
        lines[0].contains("UNSUPPORTED")
            && lines[0].contains("Canton 3.3.0 is not supported")
            && lines[0].contains("3.4 or newer"),
        "{stdout}"
    );
    let json = run_binary(vec![
        "status".into(),
        "--config".into(),
        config.clone(),
        "--format".into(),
        "json".into(),
    ])
    .await;
    let reports: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert!(
        reports[0]["unsupported"].as_str().is_some_and(|u| u.contains("3.3.0")),
        "{reports}"
    );

    // compare and plan refuse before asking anything a 3.3 node would answer differently.
    let runbook = dir.path().join("plan.toml").to_string_lossy().to_string();
    for args in [
        vec!["compare", "--config", &config],
        vec![
            "plan",
            "--config",
            &config,
            "--strategy",
            "intersection",
            "--out",
            &runbook,
        ],
    ] {
        let out = run_binary(args.iter().map(|a| a.to_string()).collect()).await;
        assert!(!out.status.success(), "{args:?} must fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains("Canton 3.3.0 is not supported"), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("UNIMPLEMENTED") && !stderr.contains("Unimplemented"),
            "{stderr}"
        );
    }
    assert!(
        !Path::new(&runbook).exists(),
        "no runbook for an unsupported participant"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_refuses_canton_3_3_before_anything_changes() {
    let lab = TestLab::up(Scenario::Seed).await;
    let plan = plan_for(&lab.lab, &SelectionRequest::new(Strategy::Intersection), 500).await;
    let old = old_participant("3.3.2").await;
    let cfg = common::config_with(&lab.lab, "participant1", &old.url);
    let mut apis = participants(&lab.lab);
    let p1 = cfg.participant("participant1").expect("participant1");
    apis.insert(
        "participant1".into(),
        std::sync::Arc::new(GrpcParticipant::from_config(p1).expect("client")),
    );
    let before = common::mutating_calls(&lab.lab, "participant2").await;
    let options = RunOptions::new(lab.dir.path().join("old.journal.jsonl"), "tester");
    let result = Runner::new(plan, apis, options).expect("runner").run().await;
    let Err(exec::RunError::Preflight(problems)) = result else {
        panic!("preflight must refuse: {result:?}");
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        (problems[0].participant.as_str(), problems[0].check),
        ("participant1", "version")
    );
    assert!(
        problems[0].message.contains("Canton 3.3.2 is not supported"),
        "{problems:?}"
    );
    assert_eq!(
        common::mutating_calls(&lab.lab, "participant2").await,
        before,
        "nothing was disconnected or changed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_is_never_asked_at_offset_zero() {
    let lab = TestLab::bare(Dialect::default());
    let api = lab.client("participant1");
    let url = lab.lab.endpoint("sync").expect("endpoint");
    assert!(
        api.connect(SynchronizerConfig::new("sync", &url, false))
            .await
            .expect("connect")
    );
    assert_eq!(api.ledger_end().await.expect("end"), 0, "nothing happened yet");
    // Canton refuses ExportAcs at offset 0, and so does the lab.
    let (code, _) = code_of(api.export_acs(None, 0).await.map(|_| ()));
    assert_eq!(code, "INVALID_ARGUMENT_REPAIR");
    // The client's one export rule asks nothing at offset 0: nothing is held there.
    let none: Vec<_> = recovery_deck::client::export_at_ledger_end(&api, None)
        .await
        .expect("no export at offset 0")
        .collect()
        .await;
    assert!(none.is_empty());
    // Verification of a participant that holds nothing yet goes through that rule.
    let report = exec::verify(&api, &participants(&lab.lab), "sync", &[], &[], &HashSet::new())
        .await
        .expect("verify at offset 0");
    assert!(report.ok && report.held == 0, "{report:?}");
}

/// Canton 3.4 has no registered-synchronizer status, and only main knows a sequencer
/// connection's liveness limits: a lab line neither sends nor keeps what its Canton
/// line does not know.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_lab_line_answers_with_the_fields_its_canton_knows() {
    use recovery_deck::wire::admin::{
        ListRegisteredSynchronizersRequest, RegisterSynchronizerRequest,
        list_registered_synchronizers_response::Status as RegStatus,
        register_synchronizer_request::SynchronizerConnection,
        synchronizer_connectivity_service_client::SynchronizerConnectivityServiceClient,
    };
    use recovery_deck::wire::sequencer::{SequencerConnectionValidation, SubscriptionLivenessLimits};
    for (line, version, status, limits) in [
        (Dialect::V3_4, "3.4.12", RegStatus::Unspecified, false),
        (Dialect::V3_5, "3.5.10", RegStatus::Active, false),
        (Dialect::Main, "3.6.0-SNAPSHOT", RegStatus::Active, true),
    ] {
        let lab = TestLab::bare(line);
        let api = lab.client("participant1");
        assert_eq!(api.status().await.expect("status").version, version);
        let mut config = sync_config::default_config("sync", &lab.lab.endpoint("sync").expect("url"), true);
        if let Some(c) = config.sequencer_connections.as_mut() {
            c.subscription_liveness_limits = Some(SubscriptionLivenessLimits::default());
        }
        let mut raw = SynchronizerConnectivityServiceClient::connect(lab.lab.endpoint("participant1").expect("url"))
            .await
            .expect("connect");
        raw.register_synchronizer(RegisterSynchronizerRequest {
            config: Some(config),
            synchronizer_connection: SynchronizerConnection::None as i32,
            sequencer_connection_validation: SequencerConnectionValidation::Disabled as i32,
            onboarding_transactions: Vec::new(),
        })
        .await
        .expect("register");
        let results = raw
            .list_registered_synchronizers(ListRegisteredSynchronizersRequest { all_statuses: false })
            .await
            .expect("list")
            .into_inner()
            .results;
        assert_eq!(results.len(), 1);
        // proto3 puts no default on the wire: Unspecified means "absent".
        assert_eq!(results[0].status, status as i32, "{line}: registration status");
        let kept = results[0]
            .config
            .as_ref()
            .and_then(|c| c.sequencer_connections.as_ref())
            .is_some_and(|c| c.subscription_liveness_limits.is_some());
        assert_eq!(kept, limits, "{line}: subscription_liveness_limits");
        // What the client reads back it can write back: no field it does not know.
        let stored = api.registered_configs().await.expect("configs");
        assert!(stored.iter().all(|c| !c.has_unknown_fields()), "{line}");
    }
}

fn ids_of(records: &[recovery_deck::client::ContractInspection], id: &str) -> Vec<(String, Vec<InspectedState>, bool)> {
    records
        .iter()
        .filter(|r| r.contract_id == id)
        .map(|r| {
            let syncs: std::collections::BTreeSet<&str> = r.states.iter().map(|(s, _)| s.as_str()).collect();
            assert_eq!(syncs.len(), 1, "a record carries one synchronizer's history: {r:?}");
            let mut states: Vec<InspectedState> = r.states.iter().map(|(_, s)| s.clone()).collect();
            states.sort_by_key(|s| format!("{s:?}"));
            (r.states[0].0.clone(), states, r.active_on_expected)
        })
        .collect()
}

/// Canton answers InspectCommitmentContracts with one record per (synchronizer,
/// contract), each carrying that synchronizer's whole history in no guaranteed order; a
/// repair `add` is not "active on the expected synchronizer"; an id unknown everywhere
/// gets one `Unknown` record (CommitmentCommandsHelper.scala). A lab that answered with
/// current states would fail here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_commitment_contracts_answers_with_whole_histories() {
    let lab = TestLab::up(Scenario::Seed).await;
    let p1 = lab.client("participant1");
    let (lost, new) = (ids::synchronizer_id(LOST), ids::synchronizer_id(TARGET));
    let held: Vec<String> = ids_on(&p1, &lost).await.into_iter().collect();
    let (moved, purged, readded, untouched) = (&held[0], &held[1], &held[2], &held[3]);
    let snapshot: Vec<_> = recovery_deck::client::export_at_ledger_end(&p1, Some(&lost))
        .await
        .expect("export")
        .map(|c| c.expect("contract"))
        .filter(|c| futures::future::ready(c.contract_id() == Some(readded.as_str())))
        .collect()
        .await;
    // Canton's recipe: isolate, make the target's topology current, disconnect everything.
    p1.disconnect(LOST).await.expect("disconnect");
    set_manual_connect(&p1, LOST, true).await.expect("modify");
    assert!(p1.reconnect(TARGET, false).await.expect("connect new"));
    let admin = p1.admin_party().await.expect("admin");
    let mut pinged = false;
    for _ in 0..10 {
        if matches!(
            p1.ping(std::slice::from_ref(&admin), &new, Duration::from_secs(10))
                .await,
            Ok(PingOutcome::Success { .. })
        ) {
            pinged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(pinged, "self-ping over the target");
    p1.disconnect_all().await.expect("disconnect all");
    p1.change_assignation(LOST, TARGET, std::slice::from_ref(moved), false)
        .await
        .expect("move");
    p1.purge(LOST, &[purged.clone(), readded.clone()], false)
        .await
        .expect("purge");
    let back: ContractStream = futures::stream::iter(snapshot.into_iter().map(Ok)).boxed();
    p1.import_acs(&lost, ImportMode::Validation, back)
        .await
        .expect("re-add");

    let unknown = format!("00{}", "ab".repeat(34));
    let asked = [moved, purged, readded, untouched, &unknown];
    let list: Vec<String> = asked.iter().map(|s| s.to_string()).collect();
    let records = p1.inspect_contracts(&lost, &list).await.expect("inspect");
    use InspectedState::*;
    let mut moved_records = ids_of(&records, moved);
    moved_records.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected_moved = vec![
        (lost.clone(), vec![Created, Unassigned { target: new.clone() }], false),
        (new.clone(), vec![Assigned { counter: 1 }], false),
    ];
    expected_moved.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        moved_records, expected_moved,
        "a moved contract: one record per synchronizer"
    );
    assert_eq!(
        ids_of(&records, purged),
        vec![(lost.clone(), vec![Archived, Created], false)]
    );
    assert_eq!(
        ids_of(&records, readded),
        vec![(lost.clone(), vec![Archived, Created, Created], false)],
        "the whole history, and a repair add is not active on the expected synchronizer"
    );
    assert_eq!(ids_of(&records, untouched), vec![(lost.clone(), vec![Created], true)]);
    assert_eq!(ids_of(&records, &unknown), vec![(lost.clone(), vec![Unknown], false)]);
    assert_eq!(records.len(), 6, "2 + 1 + 1 + 1 + 1 records");

    // The client reads these as Canton means them.
    let merged: BTreeMap<String, _> = merge_inspections(records).into_iter().collect();
    let on_lost = |id: &str| merged.get(id).map(|h| h.on(&lost));
    assert_eq!(
        on_lost(moved),
        Some(SyncState::Moved {
            to: [new.clone()].into()
        })
    );
    assert_eq!(on_lost(purged), Some(SyncState::Archived));
    assert_eq!(on_lost(readded), Some(SyncState::Active));
    assert_eq!(on_lost(untouched), Some(SyncState::Active));
    assert_eq!(on_lost(&unknown), Some(SyncState::Unknown));
}

/// Contracts a lost synchronizer leaves between synchronizers: unassigned and never
/// assigned. The lab makes them as Canton does (a reassignment through the Ledger API, cut
/// short), its active contract stream reports them as Canton's does, and `compare` and
/// `plan` count and show them instead of dropping them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reassignments_cut_short_are_counted_and_shown() {
    use recovery_deck::client::{AcsEntry, IncompleteKind};
    let lab = TestLab::up(Scenario::Reassigning).await;
    let (lost, new) = (ids::synchronizer_id(LOST), ids::synchronizer_id(TARGET));
    let incomplete = |api: GrpcParticipant| async move {
        let end = api.ledger_end().await.expect("end");
        let mut out: Vec<_> = api
            .active_contracts(end, false)
            .await
            .expect("acs")
            .filter_map(|e| {
                futures::future::ready(match e.expect("entry") {
                    AcsEntry::Incomplete(r) => Some(r),
                    AcsEntry::Active(_) => None,
                })
            })
            .collect()
            .await;
        out.sort_by(|a, b| a.source.cmp(&b.source));
        out
    };
    let on1 = incomplete(lab.client("participant1")).await;
    let on2 = incomplete(lab.client("participant2")).await;
    // The 100 Iou: unassigned from lostDomain towards newDomain on both participants.
    assert_eq!(on1.len(), 1, "{on1:?}");
    assert_eq!(
        (on1[0].kind, on1[0].source.as_str(), on1[0].target.as_str()),
        (IncompleteKind::Unassigned, lost.as_str(), new.as_str())
    );
    // participant2 also never saw the 170 Iou's assignment on lostDomain.
    assert_eq!(on2.len(), 2, "{on2:?}");
    assert_eq!(on2[0].contract_id, on1[0].contract_id);
    assert_eq!(
        (on2[1].kind, on2[1].source.as_str(), on2[1].target.as_str()),
        (IncompleteKind::Unassigned, new.as_str(), lost.as_str())
    );

    let config = lab.lab.incident_path().to_string_lossy().to_string();
    let json = run_binary(vec![
        "compare".into(),
        "--config".into(),
        config.clone(),
        "--format".into(),
        "json".into(),
    ])
    .await;
    assert!(json.status.success(), "{}", String::from_utf8_lossy(&json.stderr));
    let cmp: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let listed = &cmp["incomplete_reassignments"];
    assert_eq!(listed["participant1"].as_array().map(Vec::len), Some(1), "{cmp}");
    assert_eq!(listed["participant2"].as_array().map(Vec::len), Some(2), "{cmp}");
    assert_eq!(listed["participant2"][1]["contract_id"], on2[1].contract_id.as_str());
    assert_eq!(listed["participant2"][1]["kind"], "unassigned");
    // Not in any row: they are not active on the lost synchronizer anywhere.
    let rows = cmp["rows"].as_array().expect("rows");
    assert!(rows.iter().all(|r| r["contract_id"] != on1[0].contract_id.as_str()));

    // The 170 Iou is also a row (participant1 holds it on lostDomain): the row decides it.
    assert!(rows.iter().any(|r| r["contract_id"] == on2[1].contract_id.as_str()));
    let text = run_binary(vec!["compare".into(), "--config".into(), config.clone()]).await;
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(
        out.contains("! participant1: 1 contract(s) between lostDomain and another synchronizer"),
        "{out}"
    );
    assert!(
        out.contains("! participant2: 2 contract(s) between lostDomain and another synchronizer"),
        "{out}"
    );
    assert!(out.contains("1 in no row, so in no plan"), "{out}");
    assert!(out.contains("1 also in a row, which decides them"), "{out}");
    let runbook = lab.dir.path().join("i.runbook.toml").to_string_lossy().to_string();
    let plan = run_binary(vec![
        "plan".into(),
        "--config".into(),
        config,
        "--strategy".into(),
        "intersection".into(),
        "--out".into(),
        runbook,
    ])
    .await;
    assert!(plan.status.success(), "{}", String::from_utf8_lossy(&plan.stderr));
    let out = String::from_utf8_lossy(&plan.stdout);
    assert!(
        out.contains("! participant2: 2 contract(s) between lostDomain"),
        "{out}"
    );
}

/// A participant can process an assignment before the unassignment it completes (Canton's
/// ReassignmentStore.addAssignmentDataIfAbsent): when the source synchronizer dies after
/// delivering the unassignment to the submitter only, the other stakeholder's participant
/// sees the assignment alone, and its active contract stream lists it as
/// `incomplete_assigned` — while it still holds the contract active on the source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assignment_seen_without_its_unassignment_is_incomplete_assigned() {
    use recovery_deck::client::{AcsEntry, IncompleteKind};
    use recovery_deck::lab::scenario::{assign, unassign};
    use recovery_deck::lab::templates;
    use recovery_deck::wire::lab::{ArmPartialDeliveryRequest, synchronizer_control_client::SynchronizerControlClient};
    let lab = TestLab::with_nodes(
        Dialect::default(),
        &["source", "target"],
        &[("participant1", &["Alice"]), ("participant2", &["Bob"])],
    );
    let (p1, p2) = (lab.client("participant1"), lab.client("participant2"));
    for p in [&p1, &p2] {
        for s in ["source", "target"] {
            let url = lab.lab.endpoint(s).expect("url");
            assert!(
                p.connect(SynchronizerConfig::new(s, &url, false))
                    .await
                    .expect("connect")
            );
        }
    }
    let (source, target) = (ids::synchronizer_id("source"), ids::synchronizer_id("target"));
    let (alice, bob) = (
        ids::party_id("Alice", "participant1"),
        ids::party_id("Bob", "participant2"),
    );
    let entries = |p: GrpcParticipant| async move {
        let end = p.ledger_end().await.expect("end");
        p.active_contracts(end, false)
            .await
            .expect("acs")
            .map(|e| e.expect("entry"))
            .collect::<Vec<AcsEntry>>()
            .await
    };
    let mut iou = None;
    for _ in 0..100 {
        if iou.is_none() {
            let created = p1
                .submit_and_wait(recovery_deck::client::Submission {
                    act_as: vec![alice.clone()],
                    commands: vec![templates::create_iou_command(&alice, &bob, "5", "USD")],
                    synchronizer_id: Some(source.clone()),
                })
                .await;
            if created.is_ok() {
                iou = ids_on(&p1, &source).await.into_iter().next();
            }
        }
        if let Some(id) = &iou
            && ids_on(&p2, &source).await.contains(id)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let iou = iou.expect("an Iou on the source, seen by both");
    let ledger1 = lab.lab.ledger_endpoint("participant1").expect("ledger");
    let mut control = SynchronizerControlClient::connect(lab.lab.endpoint("source").expect("url"))
        .await
        .expect("control");
    control
        .arm_partial_delivery(ArmPartialDeliveryRequest {
            deliver_to: vec![ids::participant_member("participant1")],
            ..ArmPartialDeliveryRequest::default()
        })
        .await
        .expect("arm");
    let mut away = None;
    for _ in 0..100 {
        match unassign(&ledger1, &alice, &iou, &source, &target).await {
            Ok(r) => {
                away = Some(r);
                break;
            }
            Err(e) if e.message().contains("is not hosted on the target") => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("unassign: {e}"),
        }
    }
    let away = away.expect("unassigned");
    let reassignment_id = match away.events.first().and_then(|e| e.event.clone()) {
        Some(recovery_deck::wire::ledger::reassignment_event::Event::Unassigned(u)) => u.reassignment_id,
        other => panic!("an unassigned event: {other:?}"),
    };
    assign(&ledger1, &alice, &reassignment_id, &source, &target)
        .await
        .expect("assign");
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = entries(lab.client("participant2")).await;
        if seen.iter().any(|e| matches!(e, AcsEntry::Incomplete(_))) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let incomplete: Vec<_> = seen
        .iter()
        .filter_map(|e| match e {
            AcsEntry::Incomplete(r) => Some(r.clone()),
            AcsEntry::Active(_) => None,
        })
        .collect();
    assert_eq!(incomplete.len(), 1, "{seen:?}");
    assert_eq!(incomplete[0].contract_id, iou);
    assert_eq!(
        (
            incomplete[0].kind,
            incomplete[0].source.as_str(),
            incomplete[0].target.as_str()
        ),
        (IncompleteKind::Assigned, source.as_str(), target.as_str())
    );
    // participant2 never saw the unassignment: it holds the contract on both synchronizers.
    let active_on: std::collections::BTreeSet<String> = seen
        .iter()
        .filter_map(|e| match e {
            AcsEntry::Active(c) if c.contract_id() == Some(iou.as_str()) => Some(c.synchronizer_id().to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(active_on, [source.clone(), target.clone()].into());
    // participant1 saw both halves: nothing incomplete, active on the target only.
    let on1 = entries(lab.client("participant1")).await;
    assert!(on1.iter().all(|e| matches!(e, AcsEntry::Active(_))), "{on1:?}");
    assert!(ids_on(&p1, &target).await.contains(&iou));
    assert!(!ids_on(&p1, &source).await.contains(&iou));
}

/// A restarted participant retries, in the background, a synchronizer it cannot reach
/// (manual_connect unset); that synchronizer is not connected, and Canton's repairs
/// (RepairServiceHelpers.scala, withRepairIndexer: `isConnectedToAny`) are not refused
/// for it. Found by the fault drills: a participant killed before the lost synchronizer's
/// manual_connect was set came back retrying it, and every repair of the resumed run was
/// refused as "still connected".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synchronizer_retried_after_a_restart_does_not_block_repairs() {
    let mut lab = TestLab::with_nodes(Dialect::default(), &["gone", "other"], &[("participant1", &["Alice"])]);
    let p1 = lab.client("participant1");
    let url = lab.lab.endpoint("gone").expect("url");
    assert!(
        p1.connect(SynchronizerConfig::new("gone", &url, false))
            .await
            .expect("connect")
    );
    lab.lab.kill("gone").expect("the synchronizer is lost");
    lab.lab.kill("participant1").expect("kill -9");
    lab.lab.start("participant1").expect("restart");
    let log = lab.lab.node_dir("participant1").join("node.log");
    let mut retried = false;
    for _ in 0..200 {
        retried =
            std::fs::read_to_string(&log).is_ok_and(|t| t.contains("gone: sequencer") && t.contains("unreachable"));
        if retried {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(retried, "the restart tried to reconnect the lost synchronizer");
    let p1 = lab.client("participant1");
    assert!(p1.list_connected().await.expect("connected").is_empty());
    p1.change_assignation("gone", "other", &[], true)
        .await
        .expect("a repair is not refused for a synchronizer only being retried");
}
