//! Multi-operator sessions across organisations, driven through the real binary: a
//! coordinator (`serve`), a lead who holds no participant credential, and two node
//! operators whose incident configs hold only their own participant. The diverged lab is
//! recovered with a union plan whose imports travel from one deck to the other through
//! the coordinator; approvals bind to plan hashes; operators are refused outside their
//! participant; a deck killed mid-run pauses the session and resumes after go; a
//! coordinator killed mid-run loses nothing. And the engine hook underneath, on its own:
//! runners restricted to one participant each, meeting at a gate.

mod common;

use common::{TestLab, holdings};
use recovery_deck::config::IncidentConfig;
use recovery_deck::journal::{self, Journal};
use recovery_deck::lab::ids;
use recovery_deck::lab::scenario::{LOST, Scenario, TARGET};
use recovery_deck::plan::{PhaseKind, Plan};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_recovery-deck");

/// A child process killed (SIGKILL) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// Waits for the process to end by itself and returns its last stdout line as JSON.
    fn finish(mut self, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            match self.0.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                other => panic!("the deck did not finish in time: {other:?}"),
            }
        }
        let mut out = String::new();
        if let Some(mut s) = self.0.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut s, &mut out);
        }
        let last = out.lines().last().unwrap_or("").to_string();
        serde_json::from_str(&last).unwrap_or_else(|e| panic!("last line {last:?} is not JSON: {e}"))
    }
}

struct Drill {
    dir: PathBuf,
    session: PathBuf,
    url: String,
    port: u16,
    lab: TestLab,
}

const OPERATORS: [(&str, &str); 4] = [
    ("carol", "lead"),
    ("alice", "participant1"),
    ("bob", "participant2"),
    ("olga", "observer"),
];

impl Drill {
    async fn up() -> Drill {
        let lab = TestLab::up(Scenario::Diverged).await;
        let dir = lab.dir.path().join("session");
        std::fs::create_dir_all(&dir).expect("dir");
        let cfg = IncidentConfig::load(&lab.lab.incident_path()).expect("config");
        // Each organisation's config holds its own participant only.
        for p in ["participant1", "participant2"] {
            let mut mine = cfg.clone();
            mine.participants.retain(|c| c.name == p);
            std::fs::write(dir.join(format!("{p}.toml")), mine.to_toml()).expect("write");
        }
        let mut access = format!(
            "incident = \"{}\"\nlost = \"{LOST}\"\ntarget = \"{TARGET}\"\n",
            cfg.incident.name
        );
        for (name, what) in OPERATORS {
            std::fs::write(dir.join(format!("{name}.token")), format!("{name}-secret-0123456789")).expect("token");
            let role = match what {
                "lead" => "role = \"lead\"".to_string(),
                "observer" => "role = \"observer\"".to_string(),
                p => format!("role = \"node_operator\"\nparticipant = \"{p}\""),
            };
            access.push_str(&format!(
                "\n[[operators]]\nname = \"{name}\"\n{role}\ntoken_file = \"{name}.token\"\n"
            ));
        }
        std::fs::write(dir.join("wrong.token"), "alice-secret-0123456780").expect("token");
        std::fs::write(dir.join("operators.toml"), access).expect("access");
        Drill {
            session: dir.join("session.jsonl"),
            dir,
            url: String::new(),
            port: 0,
            lab,
        }
    }

    /// Starts the coordinator (on the previous port when restarting).
    fn coordinator(&mut self) -> Proc {
        let log = std::fs::File::create(self.dir.join(format!("coordinator.{}.log", self.port))).expect("log");
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port), "--session"])
            .arg(&self.session)
            .arg("--operators")
            .arg(self.dir.join("operators.toml"))
            .args(["--format", "json"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("serve");
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        let up: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("serve printed {line:?}: {e}"));
        let addr = up["listening"].as_str().expect("listening").to_string();
        self.port = addr.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
        self.url = format!("http://{addr}");
        Proc(child)
    }

    fn command(&self, who: &str, args: &[&str]) -> Command {
        self.command_with(who, who, args)
    }

    /// `who`'s command, sent with the token in `token.token`.
    fn command_with(&self, who: &str, token: &str, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("session")
            .args(args)
            .args(["--join", &self.url, "--format", "json", "--token-file"])
            .arg(self.dir.join(format!("{token}.token")));
        if let Some((_, p)) = OPERATORS.iter().find(|(n, _)| *n == who)
            && p.starts_with("participant")
        {
            c.arg("--config").arg(self.dir.join(format!("{p}.toml")));
        }
        c
    }

    fn run(&self, who: &str, args: &[&str]) -> Output {
        self.command(who, args).output().expect("run")
    }

    fn ok(&self, who: &str, args: &[&str]) -> Value {
        let out = self.run(who, args);
        assert!(
            out.status.success(),
            "{who} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON")
    }

    fn refused(&self, who: &str, args: &[&str]) -> String {
        let out = self.run(who, args);
        assert!(!out.status.success(), "{who} {args:?} must be refused");
        String::from_utf8_lossy(&out.stderr).to_string()
    }

    fn deck(&self, who: &str, participant: &str, attempt: u32) -> Proc {
        let log = std::fs::File::create(self.dir.join(format!("{who}.{attempt}.log"))).expect("log");
        let journal = self
            .dir
            .join(format!("{participant}.journal.jsonl"))
            .display()
            .to_string();
        let child = self
            .command(who, &["run", "--participant", participant, "--journal", &journal])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("deck");
        Proc(child)
    }

    fn log(&self) -> Journal {
        journal::read(&self.session).expect("the session log verifies")
    }

    fn wait_log(&self, what: &str, done: impl Fn(&Journal) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if journal::read(&self.session).is_ok_and(|j| done(&j)) {
                return;
            }
            if Instant::now() > deadline {
                self.dump();
                panic!("timed out waiting for {what}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn wait_status(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let s = self.ok("olga", &["status"]);
            if done(&s) {
                return s;
            }
            if Instant::now() > deadline {
                self.dump();
                panic!("timed out waiting for {what}: {s:#}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn dump(&self) {
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "log") {
                    eprintln!(
                        "---- {}:\n{}",
                        p.display(),
                        std::fs::read_to_string(&p).unwrap_or_default()
                    );
                }
            }
        }
        if let Ok(j) = journal::read(&self.session) {
            for e in j.events {
                eprintln!("{} {} {} {}", e.seq, e.actor.op, e.kind, e.data);
            }
        }
    }

    fn plan(&self, runbook: &Path) -> Plan {
        let text = std::fs::read_to_string(runbook).expect("runbook");
        recovery_deck::plan::load_runbook(&text, None).expect("load").plan
    }

    /// The two rows the diverged lab archived on one side (one purged, one excluded) and
    /// the row whose payloads differ (excluded).
    fn union_decisions(&self) -> Vec<String> {
        let cmp = self.ok("carol", &["compare"]);
        let of = |class: &str| -> Vec<String> {
            cmp["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .filter(|r| r["class"] == class)
                .map(|r| r["contract_id"].as_str().expect("id").to_string())
                .collect()
        };
        let (archived, mismatch) = (of("archived_somewhere"), of("payload_mismatch"));
        assert_eq!((archived.len(), mismatch.len()), (2, 1), "{cmp:#}");
        vec![
            format!("{}=purge", archived[0]),
            format!("{}=exclude", archived[1]),
            format!("{}=exclude", mismatch[0]),
        ]
    }

    fn union_plan(&self, name: &str, batch: &str) -> PathBuf {
        let out = self.dir.join(name);
        let decisions = self.union_decisions();
        let out_s = out.display().to_string();
        let mut args = vec!["plan", "--strategy", "union", "--batch-size", batch, "--out", &out_s];
        for d in &decisions {
            args.extend(["--decide", d.as_str()]);
        }
        self.ok("carol", &args);
        out
    }

    fn surveyed(&self) {
        self.wait_status("both manifests and answers", |s| {
            s["turn"]["what"].as_str().is_some_and(|w| w.contains("propose a plan"))
        });
    }
}

fn kinds<'a>(j: &'a Journal, kind: &'a str) -> impl Iterator<Item = &'a journal::Event> + 'a {
    j.of_kind(kind)
}

/// Every participant holds on the target exactly what the plan moves for it.
async fn assert_recovered(d: &Drill, plan: &Plan) {
    let (lost, new) = (ids::synchronizer_id(LOST), ids::synchronizer_id(TARGET));
    for name in plan.participants() {
        let h = holdings(&d.lab.client(name)).await.expect("export");
        let on_new = h.get(&new).cloned().unwrap_or_default();
        let on_lost = h.get(&lost).cloned().unwrap_or_default();
        let planned: BTreeSet<String> = plan.moved_by(name).iter().map(|c| c.to_string()).collect();
        assert_eq!(
            on_new, planned,
            "{name} holds exactly its planned contracts on the target"
        );
        assert!(on_new.is_disjoint(&on_lost), "{name}: nothing on both synchronizers");
    }
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

    // A payload is shared for a diff only when its holder accepts.
    let cmp = d.ok("carol", &["compare"]);
    let row = cmp["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["class"] == "agreed"))
        .and_then(|r| r["contract_id"].as_str())
        .expect("an agreed row")
        .to_string();
    let asked = d.ok(
        "carol",
        &["request-payload", "--contract", &row, "--from", "participant2"],
    );
    let seq = asked["seq"].as_u64().expect("seq").to_string();
    let e = d.refused("alice", &["share", "--request", &seq]);
    assert!(e.contains("addressed to participant2"), "{e}");
    let s = d.ok("olga", &["status"]);
    assert!(
        s["session"]["payload_requests"][0]["answer"].is_null(),
        "nothing shared before bob accepts"
    );
    d.ok("bob", &["share", "--request", &seq]);
    let s = d.ok("olga", &["status"]);
    let answer = &s["session"]["payload_requests"][0]["answer"];
    assert_eq!(answer["accepted"], true);
    assert!(answer["payload"]["owner"].is_string(), "{answer}");

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
