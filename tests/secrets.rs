//! Secrets and file modes, through the real binary: a lab whose participants serve TLS
//! and require a bearer token, `plan` and `run --yes` with the token in a file, then
//! every file the tool and the lab wrote (journal, run locks, runbook, sidecar, console
//! scripts, incident config, node logs, the screen's log, the node databases) and every
//! command's stdout and stderr are searched for the token and the TLS key. The files that
//! hold incident data must be mode 0600 (their new directories 0700) whatever the umask:
//! the commands run under umask 000 and 277.

mod common;

use recovery_deck::config::IncidentConfig;
use recovery_deck::lab::node::{self, NodeKind};
use recovery_deck::lab::supervisor::Lab;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_recovery-deck");

/// A detached lab whose participants were restarted requiring a token; stopped (and the
/// restarted nodes reaped) however the test ends.
struct TokenLab {
    dir: tempfile::TempDir,
    restarted: Vec<Child>,
}

impl Drop for TokenLab {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Ok(lab) = Lab::open(self.dir.path(), common::launcher())
        {
            common::dump_logs(&lab);
        }
        let _ = Command::new(BIN)
            .args(["lab", "down", "--dir"])
            .arg(self.dir.path())
            .output();
        for child in &mut self.restarted {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs the binary under `umask`, with extra environment variables, in a session of its
/// own: no controlling terminal, so that the screen can never take over the one the
/// tests run in. Killed after a minute.
fn run(umask: &str, args: &[&str], env: &[(&str, &Path)]) -> Output {
    use std::os::unix::process::CommandExt as _;
    let capture = tempfile::tempdir().expect("tempdir");
    let (out_path, err_path) = (capture.path().join("stdout"), capture.path().join("stderr"));
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("umask \"$1\" && shift && exec \"$@\"")
        .arg("sh")
        .arg(umask)
        .arg(BIN)
        .args(args)
        .env("RUST_LOG", "trace")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("capture"))
        .stderr(std::fs::File::create(&err_path).expect("capture"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| nix::unistd::setsid().map(drop).map_err(std::io::Error::from));
    }
    let mut child = cmd.spawn().expect("run the binary");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: std::fs::read(&out_path).expect("stdout"),
        stderr: std::fs::read(&err_path).expect("stderr"),
    }
}

#[track_caller]
fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("list") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Restarts every participant of the lab in `dir` on its ports, serving TLS with `tls`
/// (certificate, key) and requiring the token in `token_file`, logging to its node.log
/// as the supervisor does.
fn require_token(dir: &Path, token_file: &Path, tls: (&Path, &Path)) -> Vec<Child> {
    let lab = Lab::open(dir, common::launcher()).expect("open the lab");
    let mut children = Vec::new();
    for spec in lab.layout.nodes.iter().filter(|n| n.kind == NodeKind::Participant) {
        lab.kill(&spec.name).expect("stop the participant");
        let node_dir = lab.node_dir(&spec.name);
        let _ = std::fs::remove_file(node_dir.join(node::INFO_FILE));
        // The ports came from the ephemeral range: while the node was down, another
        // process may briefly hold one as the local end of a connection. Try again then.
        let mut attempts = 0;
        let child = loop {
            attempts += 1;
            let log = std::fs::OpenOptions::new()
                .append(true)
                .open(node_dir.join("node.log"))
                .expect("node log");
            let mut cmd = Command::new(BIN);
            cmd.args(["lab", "node", "participant", "--name", &spec.name, "--dir"])
                .arg(&node_dir)
                .args(["--admin-port", &spec.port.to_string()])
                .args(["--ledger-port", &spec.ledger_port.to_string()])
                .arg("--token-file")
                .arg(token_file)
                .arg("--tls-cert")
                .arg(tls.0)
                .arg("--tls-key")
                .arg(tls.1);
            for p in &spec.parties {
                cmd.args(["--party", p]);
            }
            let mut child = cmd
                .env("RUST_LOG", "trace")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .expect("start the participant");
            let deadline = Instant::now() + Duration::from_secs(30);
            let exited = loop {
                if node::read_info(&node_dir).is_some_and(|i| i.pid == child.id()) {
                    break None;
                }
                if let Some(status) = child.try_wait().expect("wait") {
                    break Some(status);
                }
                assert!(Instant::now() < deadline, "{} did not come back", spec.name);
                std::thread::sleep(Duration::from_millis(20));
            };
            match exited {
                None => break child,
                Some(status) if attempts < 10 => {
                    eprintln!("{} exited with {status} on start, trying again", spec.name);
                    std::thread::sleep(Duration::from_millis(500));
                }
                Some(status) => {
                    let log = std::fs::read_to_string(node_dir.join("node.log")).unwrap_or_default();
                    let tail: Vec<&str> = log.lines().rev().take(20).collect();
                    panic!("{} exited with {status}: {:#?}", spec.name, tail);
                }
            }
        };
        children.push(child);
    }
    children
}

#[test]
fn no_token_in_any_file_or_output_and_incident_files_are_private() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_path_buf();
    let ds = d.to_string_lossy().to_string();
    let mut lab = TokenLab {
        dir,
        restarted: Vec::new(),
    };
    let up = run(
        "000",
        &[
            "lab",
            "up",
            "--dir",
            &ds,
            "--scenario",
            "large",
            "--contracts",
            "1200",
            "--detach",
        ],
        &[],
    );
    ok(&up, "lab up");
    let incident = d.join("incident.toml");
    assert_eq!(mode(&incident), 0o600, "incident.toml under umask 000");
    assert_eq!(
        mode(&d.join("newDomain").join("node.log")),
        0o600,
        "node.log under umask 000"
    );

    // The secrets live outside the lab directory, so that every file inside it is searched.
    let secrets = tempfile::tempdir().expect("tempdir");
    let token = format!("rd-secret-{}", uuid::Uuid::new_v4().simple());
    let token_file = secrets.path().join("participants.token");
    std::fs::write(&token_file, format!("{token}\n")).expect("token file");
    let wrong = format!("rd-wrong-{}", uuid::Uuid::new_v4().simple());
    let wrong_file = secrets.path().join("wrong.token");
    std::fs::write(&wrong_file, &wrong).expect("token file");
    let (ca, cert, key) = common::ca_and_server(secrets.path());
    // What of the key could leak: the lines of its PEM body.
    let key_text = std::fs::read_to_string(&key).expect("key");
    let key_lines: Vec<String> = key_text
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_string)
        .collect();
    assert!(!key_lines.is_empty());
    lab.restarted = require_token(&d, &token_file, (&cert, &key));

    let base = IncidentConfig::load(&incident).expect("the lab's config");
    let with_token = |file: Option<&Path>| {
        let mut cfg = base.clone();
        for p in &mut cfg.participants {
            p.token_file = file.map(Path::to_path_buf);
            p.admin = p.admin.replace("http://", "https://");
            p.ledger = p.ledger.replace("http://", "https://");
            p.tls_ca = Some(ca.clone());
            p.tls_domain = Some("participant.lab.test".into());
        }
        cfg.to_toml()
    };
    let config = d.join("secure.toml");
    std::fs::write(&config, with_token(Some(&token_file))).expect("config");
    let wrong_config = d.join("wrong.toml");
    std::fs::write(&wrong_config, with_token(Some(&wrong_file))).expect("config");
    let tokenless = d.join("tokenless.toml");
    std::fs::write(&tokenless, with_token(None)).expect("config");
    let (cs, ws, is) = (
        config.to_string_lossy().to_string(),
        wrong_config.to_string_lossy().to_string(),
        tokenless.to_string_lossy().to_string(),
    );
    let screen_tmp = d.join("screen-tmp");
    std::fs::create_dir(&screen_tmp).expect("mkdir");

    let mut outputs: Vec<(String, Output)> = Vec::new();
    // The participants really do refuse a call without the token, or with another one.
    for (label, cfg) in [("no token", &is), ("wrong token", &ws)] {
        let out = run("022", &["status", "--config", cfg, "--format", "json"], &[]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // Canton redacts this category's message; only the gRPC code is sure to be there.
        assert!(text.to_lowercase().contains("unauthenticated"), "{label}: {text}");
        outputs.push((label.into(), out));
    }

    // A directory the tool creates for the runbook is private too.
    let runbook = d.join("plans").join("large.runbook.toml");
    let rs = runbook.to_string_lossy().to_string();
    let planned = run(
        "000",
        &[
            "plan",
            "--config",
            &cs,
            "--strategy",
            "intersection",
            "--out",
            &rs,
            "--format",
            "json",
        ],
        &[],
    );
    ok(&planned, "plan");
    let plan: Value = serde_json::from_slice(&planned.stdout).expect("plan JSON");
    let sidecar = PathBuf::from(plan["sidecar"].as_str().expect("a sidecar for 1,200 contracts"));
    outputs.push(("plan".into(), planned));

    let done = run("277", &["run", "--config", &cs, &rs, "--yes"], &[]);
    ok(&done, "run --yes");
    let stdout = String::from_utf8_lossy(&done.stdout).to_string();
    let last: Value = serde_json::from_str(stdout.lines().last().expect("final line")).expect("JSON final line");
    assert_eq!(last["ok"], true, "{stdout}");
    let journal = PathBuf::from(last["journal"].as_str().expect("journal"));
    outputs.push(("run".into(), done));
    let locks: Vec<PathBuf> = files(journal.parent().expect("journal dir"))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".run.lock"))
        .collect();
    assert_eq!(locks.len(), 3, "one run lock per participant: {locks:?}");

    let scripts = d.join("console");
    let exported = run(
        "277",
        &["export-console", &rs, "--out", &scripts.to_string_lossy()],
        &[],
    );
    ok(&exported, "export-console");
    outputs.push(("export-console".into(), exported));
    let script_files = files(&scripts);
    assert!(script_files.len() >= 3, "{script_files:?}");

    let status = run("022", &["status", "--config", &cs, "--format", "json"], &[]);
    ok(&status, "status");
    outputs.push(("status".into(), status));

    // The screen logs to $TMPDIR/recovery-deck.log; without a terminal it stops early,
    // but the log is opened first.
    let screen = run("000", &["tui", "--config", &cs], &[("TMPDIR", &screen_tmp)]);
    assert!(
        String::from_utf8_lossy(&screen.stderr).contains("terminal"),
        "the screen got as far as the terminal: {}",
        String::from_utf8_lossy(&screen.stderr)
    );
    outputs.push(("tui".into(), screen));
    let screen_log = screen_tmp.join("recovery-deck.log");
    let screen_journal = d.join(&base.incident.name).join("journal.jsonl");
    assert!(
        screen_journal.exists(),
        "the screen opened its journal before the terminal"
    );

    for (path, what) in [
        (&runbook, "runbook"),
        (&sidecar, "sidecar"),
        (&journal, "journal"),
        (&screen_journal, "screen journal"),
        (&screen_log, "screen log"),
        (&incident, "incident.toml"),
    ] {
        assert_eq!(mode(path), 0o600, "{what} {}", path.display());
    }
    for path in locks.iter().chain(&script_files) {
        assert_eq!(mode(path), 0o600, "{}", path.display());
    }
    for dir in [runbook.parent().expect("plans"), &scripts] {
        assert_eq!(mode(dir), 0o700, "{}", dir.display());
    }
    for n in ["participant1", "participant2", "participant3", "newDomain"] {
        let log = d.join(n).join("node.log");
        assert_eq!(mode(&log), 0o600, "{}", log.display());
    }

    let written = files(&d);
    assert!(
        contains(&std::fs::read(&token_file).expect("token"), &token),
        "the search finds the token where it is"
    );
    for path in [&runbook, &sidecar, &journal, &screen_journal, &screen_log]
        .into_iter()
        .chain(&locks)
        .chain(&script_files)
    {
        assert!(written.contains(path), "{} is searched", path.display());
    }
    let node_log = std::fs::read_to_string(d.join("participant1").join("node.log")).expect("log");
    assert!(
        node_log.contains("TRACE"),
        "the restarted nodes log at trace level, so the search covers their most verbose output"
    );
    for path in &written {
        let bytes = std::fs::read(path).expect("read");

        for secret in [&token, &wrong] {
            assert!(!contains(&bytes, secret), "{} contains a token", path.display());
        }
        for line in &key_lines {
            assert!(!contains(&bytes, line), "{} contains the TLS key", path.display());
        }
    }
    for (label, out) in &outputs {
        for secret in [&token, &wrong].into_iter().chain(&key_lines) {
            assert!(
                !contains(&out.stdout, secret) && !contains(&out.stderr, secret),
                "the output of {label} contains a token or the TLS key"
            );
        }
    }
}

#[test]
fn token_errors_never_quote_the_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = "rd-secret-\u{7f}-with-a-control-character";
    let token_file = dir.path().join("p.token");
    std::fs::write(&token_file, token).expect("token file");
    let config = dir.path().join("incident.toml");
    std::fs::write(
        &config,
        format!(
            "[incident]\nname = \"t\"\nlost = \"a\"\ntarget = \"b\"\n\n[[participants]]\nname = \"p\"\n\
             admin = \"http://127.0.0.1:1\"\nledger = \"http://127.0.0.1:1\"\ntoken_file = {:?}\n",
            token_file.display().to_string()
        ),
    )
    .expect("config");
    let out = run(
        "022",
        &["status", "--config", &config.to_string_lossy(), "--format", "json"],
        &[],
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("not allowed in a header"), "{text}");
    assert!(!text.contains("rd-secret"), "{text}");
}

/// The screen's log lives in a shared temporary directory: a symlink planted there under
/// its name is not followed, and the screen then logs nowhere (never into the terminal).
#[test]
fn the_screen_log_never_follows_a_planted_symlink() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "untouched").expect("write");
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::os::unix::fs::symlink(&victim, tmp.path().join("recovery-deck.log")).expect("symlink");
    let out = run(
        "022",
        &["tui", "--config", "/nonexistent/incident.toml"],
        &[("TMPDIR", tmp.path())],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("logs: off"), "{out:?}");
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "untouched");
    assert_eq!(mode(&victim), 0o644, "its mode is left alone");
}

/// A coordinator given its certificate and key the wrong way round, and a deck given a
/// key where its certificate goes, refuse with one line that names the files and quotes
/// neither the key nor a token.
#[test]
fn tls_files_mixed_up_are_refused_without_quoting_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, cert, key) = common::ca_and_server(dir.path());
    let key_text = std::fs::read_to_string(&key).expect("key");
    let token = format!("rd-secret-{}", uuid::Uuid::new_v4().simple());
    std::fs::write(dir.path().join("lead.token"), &token).expect("token");
    let operators = dir.path().join("operators.toml");
    std::fs::write(
        &operators,
        "incident = \"t\"\nlost = \"a\"\ntarget = \"b\"\n\n[[operators]]\nname = \"lead\"\nrole = \"lead\"\ntoken_file = \"lead.token\"\n",
    )
    .expect("operators");
    let session = dir.path().join("session.jsonl");
    let (c, k) = (cert.to_string_lossy().to_string(), key.to_string_lossy().to_string());
    let served = run(
        "022",
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--session",
            &session.to_string_lossy(),
            "--operators",
            &operators.to_string_lossy(),
            "--tls-cert",
            &k,
            "--tls-key",
            &c,
        ],
        &[],
    );
    let joined = run(
        "022",
        &[
            "session",
            "status",
            "--join",
            "https://127.0.0.1:1",
            "--token-file",
            &dir.path().join("lead.token").to_string_lossy(),
            "--cert",
            &k,
            "--key",
            &k,
        ],
        &[],
    );
    let said = String::from_utf8_lossy(&served.stderr);
    assert!(
        said.contains(&format!("--tls-cert {k} and --tls-key {c}")) && said.contains("private key"),
        "serve names the files and what is wrong: {said}"
    );
    for (label, out) in [("serve", &served), ("session status", &joined)] {
        assert!(!out.status.success(), "{label} must refuse");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let text = format!("{}{stderr}", String::from_utf8_lossy(&out.stdout));
        assert!(!text.contains("panicked"), "{label}: {text}");
        assert!(!text.contains(&token), "{label} quotes the token: {text}");
        for line in key_text.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!text.contains(line), "{label} quotes the key: {text}");
        }
        let last = stderr.lines().last().unwrap_or("");
        assert!(last.starts_with("error:") && last.contains("TLS"), "{label}: {stderr}");
    }
}
