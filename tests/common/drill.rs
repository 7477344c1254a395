//! A multi-operator drill on a lab: the diverged lab, a coordinator (`serve`) started
//! from the real binary, tokens for a lead (carol), two node operators (alice for
//! participant1, bob for participant2) and an observer (olga), and an incident config per
//! organisation that holds its own participant only.

use super::TestLab;
use recovery_deck::config::IncidentConfig;
use recovery_deck::journal::{self, Journal};
use recovery_deck::lab::scenario::{LOST, Scenario, TARGET};
use recovery_deck::plan::Plan;
use serde_json::Value;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_recovery-deck");

/// A child process killed (SIGKILL) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// Waits for the process to end by itself and returns its last stdout line as JSON.
    pub fn finish(mut self, within: Duration) -> Value {
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

pub struct Drill {
    pub dir: PathBuf,
    pub session: PathBuf,
    pub url: String,
    pub port: u16,
    pub lab: TestLab,
}

pub const OPERATORS: [(&str, &str); 4] = [
    ("carol", "lead"),
    ("alice", "participant1"),
    ("bob", "participant2"),
    ("olga", "observer"),
];

impl Drill {
    pub async fn up() -> Drill {
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
    pub fn coordinator(&mut self) -> Proc {
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

    pub fn command(&self, who: &str, args: &[&str]) -> Command {
        self.command_with(who, who, args)
    }

    /// `who`'s command, sent with the token in `token.token`.
    pub fn command_with(&self, who: &str, token: &str, args: &[&str]) -> Command {
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

    pub fn run(&self, who: &str, args: &[&str]) -> Output {
        self.command(who, args).output().expect("run")
    }

    pub fn ok(&self, who: &str, args: &[&str]) -> Value {
        let out = self.run(who, args);
        assert!(
            out.status.success(),
            "{who} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON")
    }

    pub fn refused(&self, who: &str, args: &[&str]) -> String {
        let out = self.run(who, args);
        assert!(!out.status.success(), "{who} {args:?} must be refused");
        String::from_utf8_lossy(&out.stderr).to_string()
    }

    pub fn deck(&self, who: &str, participant: &str, attempt: u32) -> Proc {
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

    pub fn log(&self) -> Journal {
        journal::read(&self.session).expect("the session log verifies")
    }

    pub fn wait_log(&self, what: &str, done: impl Fn(&Journal) -> bool) {
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

    pub fn wait_status(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
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

    pub fn dump(&self) {
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

    pub fn plan(&self, runbook: &Path) -> Plan {
        let text = std::fs::read_to_string(runbook).expect("runbook");
        recovery_deck::plan::load_runbook(&text, None).expect("load").plan
    }

    /// The two rows the diverged lab archived on one side (one purged, one excluded) and
    /// the row whose payloads differ (excluded).
    pub fn union_decisions(&self) -> Vec<String> {
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

    pub fn union_plan(&self, name: &str, batch: &str) -> PathBuf {
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

    pub fn surveyed(&self) {
        self.wait_status("both manifests and answers", |s| {
            s["turn"]["what"].as_str().is_some_and(|w| w.contains("propose a plan"))
        });
    }
}

/// Every participant holds on the target exactly what the plan moves for it, and nothing
/// on both synchronizers (`super::recovered::assert_recovered`).
pub async fn assert_recovered(d: &Drill, plan: &Plan) {
    super::recovered::assert_recovered(&d.lab.lab, plan).await;
}
