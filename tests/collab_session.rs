//! Multi-operator sessions across organisations, driven through the real binary: a
//! coordinator (`serve`), a lead who holds no participant credential, and two node
//! operators whose incident configs hold only their own participant. The diverged lab is
//! recovered with a union plan whose imports travel from one deck to the other through
//! the coordinator; approvals bind to plan hashes; operators are refused outside their
//! participant; a deck killed mid-run pauses the session and resumes after go; a
//! coordinator killed mid-run loses nothing. And the engine hook underneath, on its own:
//! runners restricted to one participant each, meeting at a gate.

mod common;

use common::TestLab;
use common::drill::{Drill, assert_recovered};
use recovery_deck::config::IncidentConfig;
use recovery_deck::journal::{self, Journal};
use recovery_deck::lab::ids;
use recovery_deck::lab::scenario::{Scenario, TARGET};
use recovery_deck::plan::{PhaseKind, Plan};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

fn kinds<'a>(j: &'a Journal, kind: &'a str) -> impl Iterator<Item = &'a journal::Event> + 'a {
    j.of_kind(kind)
}

/// Barriers as the log records them: each phase opened once, in order, and only after
/// every participant reported the previous one.
fn assert_barriers(j: &Journal, plan: &Plan) {
    let opened: Vec<(u64, String)> = kinds(j, "session.phase_opened")
        .filter(|e| e.data["plan_hash"] == plan.hash())
        .map(|e| (e.seq, e.data["phase"].as_str().unwrap_or("").to_string()))
        .collect();
    let names: Vec<String> = opened.iter().map(|(_, p)| p.clone()).collect();
    let all: Vec<String> = PhaseKind::ALL.iter().map(|p| p.as_str().to_string()).collect();
    assert_eq!(names, all, "every phase opened once, in order");
    let mut done: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for e in kinds(j, "session.phase_done").filter(|e| e.data["plan_hash"] == plan.hash()) {
        let key = (
            e.data["participant"].as_str().unwrap_or("").to_string(),
            e.data["phase"].as_str().unwrap_or("").to_string(),
        );
        done.entry(key).or_default().push(e.seq);
    }
    for p in plan.participants() {
        for (i, (seq, phase)) in opened.iter().enumerate() {
            let reports = done.get(&(p.clone(), phase.clone())).cloned().unwrap_or_default();
            assert_eq!(reports.len(), 1, "{p} reported {phase} exactly once");
            assert!(reports[0] > *seq, "{p} reported {phase} after it opened");
            if let Some((next, _)) = opened.get(i + 1) {
                assert!(reports[0] < *next, "{phase} of {p} was in before the next phase opened");
            }
        }
    }
    assert_eq!(kinds(j, "session.finished").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_decks_recover_the_diverged_lab_with_approvals_barriers_and_relayed_imports() {
    let mut d = Drill::up().await;
    let _coordinator = d.coordinator();
    let alice = d.deck("alice", "participant1", 1);
    let bob = d.deck("bob", "participant2", 1);
    d.surveyed();
    // A participant is served by one deck at a time.
    let twin = d.deck("alice", "participant1", 9).finish(Duration::from_secs(30));
    assert_eq!(twin["ok"], false);
    assert!(
        twin["error"]
            .as_str()
            .is_some_and(|e| e.contains("already serves participant1")),
        "{twin}"
    );

    // Propose; one approval; a new proposal voids it.
    let first = d.dir.join("intersection.runbook.toml");
    d.ok(
        "carol",
        &[
            "plan",
            "--strategy",
            "intersection",
            "--out",
            &first.display().to_string(),
        ],
    );
    let h1 = d.ok("carol", &["propose", &first.display().to_string()])["proposed"]
        .as_str()
        .expect("hash")
        .to_string();
    let approved = d.ok("alice", &["approve"]);
    assert_eq!(approved["approved"], h1.as_str());
    let s = d.ok("olga", &["status"]);
    assert_eq!(s["session"]["approvals"]["participant1"]["plan_hash"], h1.as_str());
    assert_eq!(s["turn"]["who"], serde_json::json!(["bob"]));
    let second = d.union_plan("union.runbook.toml", "500");
    let h2 = d.ok("carol", &["propose", &second.display().to_string()])["proposed"]
        .as_str()
        .expect("hash")
        .to_string();
    assert_ne!(h1, h2);
    let s = d.ok("olga", &["status"]);
    assert_eq!(
        s["session"]["approvals"],
        serde_json::json!({}),
        "the new proposal voided alice's approval"
    );
    assert_eq!(s["session"]["voided"][0]["plan_hash"], h1.as_str());
    assert_eq!(
        s["session"]["voided"][0]["approvals"],
        serde_json::json!(["participant1"])
    );

    // Nobody acts outside their participant or role, and a wrong token gets nowhere.
    let e = d.refused("alice", &["approve", "--participant", "participant2"]);
    assert!(e.contains("alice acts for participant1, not for participant2"), "{e}");
    let e = d.refused("alice", &["run", "--participant", "participant2"]);
    assert!(e.contains("PermissionDenied"), "{e}");
    let e = d.refused("alice", &["go"]);
    assert!(e.contains("only the lead"), "{e}");
    let e = d.refused("olga", &["abort"]);
    assert!(e.contains("only the lead"), "{e}");
    let e = d.refused("carol", &["go"]);
    assert!(e.contains("not approved for participant1, participant2"), "{e}");
    for args in [&["status"][..], &["approve"][..]] {
        let out = d.command_with("alice", "wrong", args).output().expect("run");
        assert!(!out.status.success());
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.contains("not known to this coordinator"), "{e}");
    }
    let e = d.refused("bob", &["status", "--operator", "alice"]);
    assert!(e.contains("belong to bob, not to alice"), "{e}");

    // A payload is shared for a diff only when its holder accepts: alice asks bob for his
    // version of the row whose payloads differ, to compare it with her own.
    let cmp = d.ok("carol", &["compare"]);
    let row = cmp["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["class"] == "payload_mismatch"))
        .and_then(|r| r["contract_id"].as_str())
        .expect("the mismatched row")
        .to_string();
    let asked = d.ok(
        "alice",
        &["request-payload", "--contract", &row, "--from", "participant2"],
    );
    let seq = asked["seq"].as_u64().expect("seq").to_string();
    let e = d.refused("alice", &["share", "--request", &seq]);
    assert!(e.contains("addressed to participant2"), "{e}");
    let e = d.refused(
        "olga",
        &["request-payload", "--contract", &row, "--from", "participant2"],
    );
    assert!(e.contains("observers read the session only"), "{e}");
    let s = d.ok("olga", &["status"]);
    assert!(
        s["session"]["payload_requests"][0]["answer"].is_null(),
        "nothing shared before bob accepts"
    );
    d.ok("bob", &["share", "--request", &seq]);
    let s = d.ok("olga", &["status"]);
    let answer = &s["session"]["payload_requests"][0]["answer"];
    assert_eq!(answer["accepted"], true);
    // bob's version, not alice's: the payloads of this row differ between them.
    let mine = common::payload_of(&d.lab.client("participant1"), &row).await;
    let theirs = &answer["payload"];
    assert!(theirs["owner"].is_string(), "{answer}");
    assert_ne!(
        theirs, &mine,
        "participant2 shared its own version of the mismatched row"
    );
    assert_eq!(
        theirs,
        &common::payload_of(&d.lab.client("participant2"), &row).await,
        "exactly what participant2 holds"
    );

    // Both approve; go; the run completes with barriers and verifies.
    d.ok("alice", &["approve"]);
    d.ok("bob", &["approve", "--comment", "holdings re-surveyed"]);
    let go = d.ok("carol", &["go"]);
    assert_eq!(go["plan_hash"], h2.as_str());
    let a = alice.finish(Duration::from_secs(120));
    let b = bob.finish(Duration::from_secs(120));
    assert_eq!(
        (a["ok"].clone(), b["ok"].clone()),
        (Value::Bool(true), Value::Bool(true)),
        "{a} {b}"
    );
    assert_eq!(
        b["added"]["participant2"], 2,
        "participant2 imported what only participant1 had"
    );
    assert_eq!(a["added"]["participant1"], 0);

    let plan = d.plan(&second);
    assert_eq!(plan.hash(), h2);
    assert_recovered(&d, &plan).await;
    let j = d.log();
    assert_barriers(&j, &plan);
    // The imports travelled from participant1's deck to participant2's, through the coordinator.
    let uploads: Vec<&journal::Event> = kinds(&j, "session.acs_uploaded").collect();
    assert_eq!(uploads.len(), 1);
    assert_eq!(
        (
            &uploads[0].data["source"],
            &uploads[0].data["receiver"],
            &uploads[0].data["contracts"]
        ),
        (
            &Value::from("participant1"),
            &Value::from("participant2"),
            &Value::from(2)
        )
    );
    assert_eq!(uploads[0].actor.op, "alice");
    let upload_seq = uploads[0].seq;
    let import_done = kinds(&j, "session.phase_done")
        .find(|e| e.data["participant"] == "participant2" && e.data["phase"] == "import")
        .map(|e| e.seq)
        .expect("import done");
    assert!(upload_seq < import_done);
    // Verification ran on both participants, each from its own deck.
    for p in ["participant1", "participant2"] {
        let verify = kinds(&j, "session.phase_done")
            .find(|e| e.data["participant"] == p && e.data["phase"] == "verify")
            .expect("verified");
        assert_eq!(verify.actor.node.as_deref(), Some(p));
    }
    let cfg = IncidentConfig::load(&d.lab.lab.incident_path()).expect("config");
    let report = recovery_deck::lab::workflow::run(&cfg).await.expect("workflow");
    assert!(report.ok, "business workflow after the recovery: {report:#?}");

    // The same plan put again: a deck re-surveys before approving and sees the drift.
    d.ok("carol", &["propose", &second.display().to_string()]);
    let e = d.refused("bob", &["approve"]);
    assert!(e.contains("refusing to approve") && e.contains("drifted"), "{e}");
}

/// Sum of the contract ids in ChangeAssignation calls the participant acknowledged.
fn moved_in(j: &Journal) -> usize {
    let requests: BTreeMap<(String, u64), u64> = j
        .of_kind("exec.request")
        .filter(|e| e.data["rpc"] == "ChangeAssignation")
        .map(|e| {
            (
                (
                    e.data["request_digest"].as_str().unwrap_or("").to_string(),
                    e.data["attempt"].as_u64().unwrap_or(0),
                ),
                e.data["detail"]["ids"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    j.of_kind("exec.result")
        .filter(|e| e.data["rpc"] == "ChangeAssignation" && e.data["ok"] == true)
        .filter_map(|e| {
            requests.get(&(
                e.data["request_digest"].as_str().unwrap_or("").to_string(),
                e.data["attempt"].as_u64().unwrap_or(0),
            ))
        })
        .sum::<u64>() as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_deck_pauses_the_session_and_a_restarted_coordinator_loses_nothing() {
    let mut d = Drill::up().await;
    let coordinator = d.coordinator();
    let alice = d.deck("alice", "participant1", 1);
    let bob = d.deck("bob", "participant2", 1);
    d.surveyed();
    let runbook = d.union_plan("union.runbook.toml", "1");
    d.ok("carol", &["propose", &runbook.display().to_string()]);
    d.ok("alice", &["approve"]);
    d.ok("bob", &["approve"]);
    d.ok("carol", &["go"]);

    // The coordinator dies as soon as the run is under way, and comes back on its port.
    d.wait_log("the first barrier", |j| j.of_kind("session.phase_opened").count() >= 1);
    drop(coordinator);
    let before = d.log().events.len();
    let _coordinator = d.coordinator();
    // The decks come back within the presence timeout: nobody left, nothing paused.
    d.wait_log("bob's purge", |j| {
        j.of_kind("session.phase_done")
            .any(|e| e.data["participant"] == "participant2" && e.data["phase"] == "purge")
    });

    // bob's deck dies mid-run: the session pauses, and stays paused when it is back.
    drop(bob);
    let paused = d.wait_status("the pause", |s| s["session"]["run"]["state"] == "paused");
    let reason = paused["session"]["run"]["reason"].as_str().unwrap_or("");
    assert!(reason.contains("bob (participant2) left"), "{reason}");
    let bob = d.deck("bob", "participant2", 2);
    d.wait_status("bob back", |s| s["session"]["operators"]["bob"]["present"] == true);
    std::thread::sleep(Duration::from_millis(500));
    let s = d.ok("olga", &["status"]);
    assert_eq!(
        s["session"]["run"]["state"], "paused",
        "the run never continues by itself"
    );
    d.ok("carol", &["go"]);
    let a = alice.finish(Duration::from_secs(120));
    let b = bob.finish(Duration::from_secs(120));
    assert_eq!(
        (a["ok"].clone(), b["ok"].clone()),
        (Value::Bool(true), Value::Bool(true)),
        "{a} {b}"
    );

    let plan = d.plan(&runbook);
    assert_recovered(&d, &plan).await;
    let j = d.log();
    assert!(j.events.len() > before, "the restarted coordinator continued the log");
    assert_barriers(&j, &plan);
    let restarted: Vec<u64> = j.of_kind("session.restarted").map(|e| e.seq).collect();
    let go: Vec<u64> = j.of_kind("session.go").map(|e| e.seq).collect();
    let finished = j.of_kind("session.finished").map(|e| e.seq).next().unwrap_or(0);
    assert_eq!(restarted.len(), 1);
    assert!(
        go[0] < restarted[0] && restarted[0] < finished,
        "the restart happened mid-run"
    );
    assert_eq!(go.len(), 2, "one go to start, one after the pause");
    // Decks leave when their part is over; before that, only bob's kill made anyone leave.
    let left: Vec<&journal::Event> = j.of_kind("session.left").filter(|e| e.seq < finished).collect();
    assert_eq!(
        left.iter()
            .map(|e| e.data["operator"].as_str().unwrap_or(""))
            .collect::<Vec<_>>(),
        vec!["bob"],
        "the coordinator's restart made nobody leave"
    );
    // Nothing was moved twice: the deck's journal acknowledges each contract's move once.
    let bobs = journal::read(&d.dir.join("participant2.journal.jsonl")).expect("bob's journal");
    assert_eq!(moved_in(&bobs), plan.moved_by("participant2").len());
    let alices = journal::read(&d.dir.join("participant1.journal.jsonl")).expect("alice's journal");
    assert_eq!(moved_in(&alices), plan.moved_by("participant1").len());
    assert_eq!(
        bobs.of_kind("session.start").count(),
        2,
        "bob's deck ran twice, resuming"
    );
}

/// A gate that lets a phase start only when every runner has reached it: what the
/// coordinator's barriers do, in process.
struct Barrier {
    barrier: tokio::sync::Barrier,
    seen: std::sync::Mutex<Vec<(String, &'static str, PhaseKind)>>,
}

struct Named(std::sync::Arc<Barrier>, String);

#[async_trait::async_trait]
impl recovery_deck::exec::PhaseGate for Named {
    async fn enter(&self, phase: PhaseKind) -> Result<(), recovery_deck::exec::GateError> {
        self.0.barrier.wait().await;
        self.0.seen.lock().expect("lock").push((self.1.clone(), "enter", phase));
        Ok(())
    }
    async fn done(
        &self,
        phase: PhaseKind,
        _: recovery_deck::exec::PhaseOutcome,
    ) -> Result<(), recovery_deck::exec::GateError> {
        self.0.seen.lock().expect("lock").push((self.1.clone(), "done", phase));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runners_restricted_to_one_participant_each_meet_at_the_gate() {
    use recovery_deck::exec::{RunOptions, Runner};
    use recovery_deck::reconcile::{SelectionRequest, Strategy};
    let lab = TestLab::up(Scenario::Diverged).await;
    let plan = common::plan_for(&lab.lab, &SelectionRequest::new(Strategy::Intersection), 500).await;
    let gate = std::sync::Arc::new(Barrier {
        barrier: tokio::sync::Barrier::new(2),
        seen: std::sync::Mutex::new(Vec::new()),
    });
    let runs = ["participant1", "participant2"].map(|p| {
        let mut o = RunOptions::new(lab.dir.path().join(format!("{p}.journal.jsonl")), "tester");
        o.only = Some(p.to_string());
        Runner::new(plan.clone(), common::participants(&lab.lab), o)
            .expect("runner")
            .with_gate(std::sync::Arc::new(Named(gate.clone(), p.to_string())))
            .run()
    });
    let [a, b] = runs;
    let (a, b) = tokio::join!(a, b);
    let (a, b) = (a.expect("participant1's part"), b.expect("participant2's part"));
    assert_eq!(
        a.moved.keys().collect::<Vec<_>>(),
        vec!["participant1"],
        "each reports its own part"
    );
    assert_eq!(b.moved.get("participant2"), Some(&4));
    let seen = gate.seen.lock().expect("lock").clone();
    for p in ["participant1", "participant2"] {
        let mine: Vec<(&str, PhaseKind)> = seen.iter().filter(|s| s.0 == p).map(|s| (s.1, s.2)).collect();
        let expected: Vec<(&str, PhaseKind)> = PhaseKind::ALL
            .iter()
            .flat_map(|k| [("enter", *k), ("done", *k)])
            .collect();
        assert_eq!(mine, expected, "{p} entered and left every phase in order");
    }
    // Each journal holds only its participant's calls.
    for p in ["participant1", "participant2"] {
        let j = journal::read(&lab.dir.path().join(format!("{p}.journal.jsonl"))).expect("journal");
        assert!(j.of_kind("exec.request").all(|e| e.actor.node.as_deref() == Some(p)));
    }
    let target = ids::synchronizer_id(TARGET);
    for p in plan.participants() {
        let held = common::ids_on(&lab.client(p), &target).await;
        let planned: BTreeSet<String> = plan.moved_by(p).iter().map(|c| c.to_string()).collect();
        assert_eq!(held, planned);
    }
    // Run again: every phase is done according to the journal; the gate hears it, unentered.
    let mut o = RunOptions::new(lab.dir.path().join("participant1.journal.jsonl"), "tester");
    o.only = Some("participant1".into());
    let again = std::sync::Arc::new(Barrier {
        barrier: tokio::sync::Barrier::new(1),
        seen: std::sync::Mutex::new(Vec::new()),
    });
    Runner::new(plan.clone(), common::participants(&lab.lab), o)
        .expect("runner")
        .with_gate(std::sync::Arc::new(Named(again.clone(), "participant1".into())))
        .run()
        .await
        .expect("nothing left");
    let seen = again.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), PhaseKind::ALL.len());
    assert!(seen.iter().all(|s| s.1 == "done"));
}

/// A gate that lets the run through until `at`, where the session has moved on.
struct MovesOn {
    at: PhaseKind,
}

#[async_trait::async_trait]
impl recovery_deck::exec::PhaseGate for MovesOn {
    async fn enter(&self, phase: PhaseKind) -> Result<(), recovery_deck::exec::GateError> {
        if phase == self.at {
            return Err(recovery_deck::exec::GateError::MovedOn(
                "the session's plan is now another".into(),
            ));
        }
        Ok(())
    }
    async fn done(
        &self,
        _: PhaseKind,
        _: recovery_deck::exec::PhaseOutcome,
    ) -> Result<(), recovery_deck::exec::GateError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gate_that_moves_on_stops_the_run_before_its_phase() {
    use recovery_deck::exec::{GateError, RunError, RunOptions, Runner};
    use recovery_deck::reconcile::{SelectionRequest, Strategy};
    let lab = TestLab::up(Scenario::Seed).await;
    let plan = common::plan_for(&lab.lab, &SelectionRequest::new(Strategy::Intersection), 500).await;
    let path = lab.dir.path().join("gated.journal.jsonl");
    let mut options = RunOptions::new(path.clone(), "tester");
    options.dry_run = true;
    let err = Runner::new(plan, common::participants(&lab.lab), options)
        .expect("runner")
        .with_gate(std::sync::Arc::new(MovesOn {
            at: PhaseKind::InitTarget,
        }))
        .run()
        .await
        .expect_err("the gate stops it");
    match &err {
        RunError::Gate {
            phase: PhaseKind::InitTarget,
            error: GateError::MovedOn(why),
        } => assert!(why.contains("another"), "{why}"),
        other => panic!("expected the gate's stop before init_target, got {other:?}"),
    }
    assert_eq!(err.failure().kind, recovery_deck::failure::FailureKind::Stopped);
    let j = journal::read(&path).expect("journal");
    let started: Vec<String> = j
        .of_kind("phase.start")
        .map(|e| e.data["phase"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(started, ["isolate"], "nothing of init_target ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lead_pauses_the_run_at_the_barrier_and_only_go_continues_it() {
    use recovery_deck::collab::client::{Connect, SessionClient};
    use recovery_deck::collab::feed::Feed;
    let mut d = Drill::up().await;
    let _coordinator = d.coordinator();
    let alice = d.deck("alice", "participant1", 1);
    let bob = d.deck("bob", "participant2", 1);
    d.surveyed();
    // bob stays in the session without a deck, so the run holds at the first barrier.
    drop(bob);
    d.wait_status("bob gone", |s| s["session"]["operators"]["bob"]["present"] == false);
    let mut connect = Connect::new(&d.url);
    connect.token = Some(std::fs::read_to_string(d.dir.join("bob.token")).expect("token"));
    let client = SessionClient::connect(&connect).expect("client");
    let hello = client.hello(None).await.expect("hello");
    let presence = Feed::start(client, &hello, None, true, Duration::from_secs(1));
    d.wait_status("bob back", |s| s["session"]["operators"]["bob"]["present"] == true);

    let runbook = d.dir.join("intersection.runbook.toml");
    let out = runbook.display().to_string();
    d.ok("carol", &["plan", "--strategy", "intersection", "--out", &out]);
    d.ok("carol", &["propose", &out]);
    let e = d.refused("carol", &["pause"]);
    assert!(e.contains("the run is not going"), "{e}");
    d.ok("alice", &["approve"]);
    d.ok("bob", &["approve"]);
    d.ok("carol", &["go"]);
    d.wait_log("participant1 isolated", |j| {
        j.of_kind("session.phase_done")
            .any(|e| e.data["participant"] == "participant1" && e.data["phase"] == "isolate")
    });
    let e = d.refused("alice", &["pause"]);
    assert!(e.contains("only the lead may pause"), "{e}");
    let paused = d.ok("carol", &["pause", "--reason", "checking participant2"]);
    assert_eq!(paused["control"], "pause");
    let s = d.ok("olga", &["status"]);
    assert_eq!(s["session"]["run"]["state"], "paused");
    assert_eq!(s["session"]["run"]["reason"], "paused by carol: checking participant2");
    assert!(
        s["turn"]["what"]
            .as_str()
            .is_some_and(|w| w.contains("the lead says go")),
        "{s:#}"
    );

    // bob's deck comes: the run stays where it is until the lead says go.
    let bob = d.deck("bob", "participant2", 2);
    let opened = |d: &Drill| d.log().of_kind("session.phase_opened").count();
    let before = opened(&d);
    let s = d.ok("olga", &["status"]);
    assert_eq!(
        s["session"]["run"]["state"], "paused",
        "the run never continues by itself"
    );
    assert_eq!(opened(&d), before);
    d.ok("carol", &["go"]);
    let a = alice.finish(Duration::from_secs(120));
    let b = bob.finish(Duration::from_secs(120));
    assert_eq!(
        (&a["ok"], &b["ok"]),
        (&Value::Bool(true), &Value::Bool(true)),
        "{a} {b}"
    );
    drop(presence);
    let plan = d.plan(&runbook);
    assert_recovered(&d, &plan).await;
    let j = d.log();
    let pauses: Vec<&journal::Event> = j.of_kind("session.paused").collect();
    assert_eq!(pauses.len(), 1);
    let go: Vec<u64> = j.of_kind("session.go").map(|e| e.seq).collect();
    assert_eq!(go.len(), 2);
    // No phase opened between the pause and the second go.
    assert!(
        j.of_kind("session.phase_opened")
            .all(|e| e.seq < pauses[0].seq || e.seq > go[1]),
        "the barrier stayed shut while paused"
    );

    // `session status` names the head of the log: the hash of the event at its seq.
    let out = std::process::Command::new(common::drill::BIN)
        .args(["session", "status", "--join", &d.url, "--token-file"])
        .arg(d.dir.join("olga.token"))
        .output()
        .expect("status");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let seq: u64 = text
        .split("log at seq ")
        .nth(1)
        .and_then(|t| t.split(';').next())
        .and_then(|n| n.trim().parse().ok())
        .expect("the text names the seq");
    let head = text
        .lines()
        .find_map(|l| l.strip_prefix("head hash "))
        .expect("the text names the head hash");
    let event = d.log().events.into_iter().find(|e| e.seq == seq).expect("that event");
    assert_eq!(head, event.hash, "{text}");
}
