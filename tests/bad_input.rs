//! Bad input through the real binary: each case must end with a non-zero exit, no panic,
//! and a first stderr line `error: …` that says what is wrong — the README's bad-input
//! table shows these lines, and each of its rows names the case here (or the unit test)
//! that checks it.

mod common;

use common::TestLab;
use recovery_deck::lab::scenario::Scenario;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_recovery-deck");

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run the binary")
}

/// The command fails with a non-zero exit and a first stderr line that starts with
/// `error: ` and holds every one of `says`; returns that line. `what` names the case in
/// every failure.
#[track_caller]
fn refused(dir: &Path, what: &str, args: &[&str], says: &[&str]) -> String {
    let out = run(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{what}: {args:?} must fail: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {args:?} panicked: {stderr}");
    let first = stderr.lines().next().unwrap_or("").to_string();
    assert!(first.starts_with("error: "), "{what}: {args:?}: {stderr}");
    for s in says {
        assert!(first.contains(s), "{what}: {args:?} should say {s:?}: {first}");
    }
    eprintln!("{what}: {args:?}: {first}");
    first
}

/// A table of refusals: `(what the case is, the command line, what its error line says)`.
type Refusals<'a> = [(&'a str, &'a [&'a str], &'a [&'a str])];

#[track_caller]
fn all_refused(dir: &Path, cases: &Refusals<'_>) {
    for (what, args, says) in cases {
        refused(dir, what, args, says);
    }
}

const GOOD: &str = "[incident]\nname = \"t\"\nlost = \"lostDomain\"\ntarget = \"newDomain\"\n\n\
[[participants]]\nname = \"p1\"\nadmin = \"http://127.0.0.1:1\"\nledger = \"http://127.0.0.1:1\"\n";

#[test]
fn bad_configs_flags_and_files_are_refused_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let write = |name: &str, text: &str| std::fs::write(d.join(name), text).expect("write");
    write("good.toml", GOOD);
    write("malformed.toml", "[incident\nname = \"t\"\n");
    write(
        "unknown.toml",
        &GOOD.replace("ledger = ", "colour = \"red\"\nledger = "),
    );
    write("missing.toml", &GOOD.replace("lost = \"lostDomain\"\n", ""));
    write(
        "badurl.toml",
        &GOOD.replace("admin = \"http://127.0.0.1:1\"", "admin = \"not a url\""),
    );
    write(
        "notoken.toml",
        &GOOD.replace("name = \"p1\"", "name = \"p1\"\ntoken_file = \"nosuch.token\""),
    );

    all_refused(
        d,
        &[
            (
                "no config file",
                &["status", "--config", "nosuch.toml"],
                &["cannot read incident config nosuch.toml"],
            ),
            (
                "malformed TOML",
                &["status", "--config", "malformed.toml"],
                &["incident config malformed.toml is not valid: line 1, column 10"],
            ),
            (
                "unknown field",
                &["status", "--config", "unknown.toml"],
                &["line 9, column 1: unknown field `colour`"],
            ),
            (
                "missing field",
                &["status", "--config", "missing.toml"],
                &["missing field `lost`"],
            ),
            (
                "endpoint not a URL",
                &["status", "--config", "badurl.toml"],
                &["admin endpoint \"not a url\" must start with http:// or https://"],
            ),
            (
                "token file not there",
                &["status", "--config", "notoken.toml"],
                &["p1: token file nosuch.token: No such file or directory"],
            ),
            (
                "unknown strategy",
                &[
                    "plan",
                    "--config",
                    "good.toml",
                    "--strategy",
                    "nonsense",
                    "--out",
                    "x.toml",
                ],
                &["invalid value 'nonsense' for '--strategy"],
            ),
            (
                "malformed decision",
                &[
                    "plan",
                    "--config",
                    "good.toml",
                    "--strategy",
                    "union",
                    "--decide",
                    "foo",
                    "--out",
                    "x.toml",
                ],
                &["--decide \"foo\": expected ID=exclude or ID=purge"],
            ),
            (
                "unknown command",
                &["frobnicate"],
                &["unrecognized subcommand 'frobnicate'"],
            ),
            (
                "no runbook file",
                &["run", "--config", "good.toml", "nosuch.runbook.toml"],
                &["reading runbook nosuch.runbook.toml: No such file or directory"],
            ),
            (
                "not a runbook",
                &["run", "--config", "good.toml", "good.toml"],
                &["this file is not a recovery-deck runbook"],
            ),
            // Nothing listens on port 1.
            (
                "participant unreachable",
                &[
                    "plan",
                    "--config",
                    "good.toml",
                    "--strategy",
                    "intersection",
                    "--out",
                    "x.toml",
                ],
                &["p1: ParticipantStatus failed (Unavailable)", "Connection refused"],
            ),
        ],
    );
}

/// An endpoint that is no gRPC server: it answers every connection with bytes that are
/// not HTTP/2, and keeps the connection open, so the client reads the garbage instead of
/// finding the connection gone while it still writes its preface.
fn garbage_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\n\x00\xff\x13garbage, not a gRPC answer\n");
            open.push(s);
        }
    });
    format!("http://{addr}")
}

#[test]
fn an_endpoint_that_answers_garbage_is_refused_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = garbage_server();
    std::fs::write(
        dir.path().join("garbage.toml"),
        GOOD.replace("http://127.0.0.1:1", &url),
    )
    .expect("write");
    refused(
        dir.path(),
        "an endpoint that answers garbage",
        &[
            "plan",
            "--config",
            "garbage.toml",
            "--strategy",
            "intersection",
            "--out",
            "x.toml",
        ],
        // hyper names the cause by timing (a protocol error, or the connection gone first).
        &["p1: ParticipantStatus failed", "transport error"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_aliases_runbooks_and_journals_are_refused_in_one_line() {
    let lab = TestLab::up(Scenario::Seed).await;
    let d = lab.dir.path();
    let cfg = lab.lab.incident_path().display().to_string();
    let c = cfg.as_str();
    let out = run(
        d,
        &["plan", "--config", c, "--strategy", "intersection", "--out", "rb.toml"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let runbook = std::fs::read_to_string(d.join("rb.toml")).expect("runbook");

    // An edited runbook, one with an unknown field, one of a format this release does
    // not read.
    let batch_line = runbook
        .lines()
        .find(|l| l.trim_start().starts_with("batch_size = "))
        .expect("the batch size line");
    std::fs::write(d.join("edited.toml"), runbook.replacen(batch_line, "batch_size = 7", 1)).expect("write");
    std::fs::write(d.join("unknown.toml"), format!("colour = \"red\"\n{runbook}")).expect("write");
    let version_line = runbook
        .lines()
        .find(|l| l.starts_with("version = "))
        .expect("the runbook's version line");
    std::fs::write(d.join("newer.toml"), runbook.replacen(version_line, "version = 99", 1)).expect("write");

    // A journal edited after the fact, one of a newer format, one that is not a journal
    // and one of another incident.
    let out = run(
        d,
        &["run", "--config", c, "rb.toml", "--dry-run", "--journal", "dry.jsonl"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let journal = std::fs::read_to_string(d.join("dry.jsonl")).expect("journal");
    let lines: Vec<&str> = journal.lines().collect();
    assert!(lines.len() > 3, "a dry run journals its steps: {journal}");
    let mut edited = lines.clone();
    let second_event = edited[2].replacen("\"ts\":\"2", "\"ts\":\"1", 1);
    assert_ne!(second_event, edited[2], "{}", edited[2]);
    edited[2] = &second_event;
    std::fs::write(d.join("edited.jsonl"), edited.join("\n") + "\n").expect("write");
    let mut header: serde_json::Value = serde_json::from_str(lines[0]).expect("header");
    header["version"] = serde_json::json!(99);
    std::fs::write(d.join("newer.jsonl"), format!("{header}\n")).expect("write");
    std::fs::write(d.join("garbage.jsonl"), "this is not a journal\n").expect("write");
    recovery_deck::journal::JournalWriter::create(
        &d.join("foreign.jsonl"),
        &recovery_deck::journal::Header::new("another-incident", "someone", Vec::new()),
    )
    .expect("journal");

    all_refused(
        d,
        &[
            (
                "unknown participant",
                &[
                    "search",
                    "--config",
                    c,
                    "--participant",
                    "nobody",
                    "--synchronizer",
                    "lostDomain",
                ],
                &["no participant \"nobody\" in the incident config (known: participant1, participant2)"],
            ),
            (
                "unknown synchronizer alias",
                &[
                    "plan",
                    "--config",
                    c,
                    "--strategy",
                    "intersection",
                    "--from",
                    "nosuch",
                    "--out",
                    "x.toml",
                ],
                &["SYNC_SERVICE_UNKNOWN_SYNCHRONIZER: The synchronizer with alias nosuch is unknown"],
            ),
            (
                "edited runbook",
                &["run", "--config", c, "edited.toml", "--yes"],
                &["plan hash mismatch: the runbook records sha256:"],
            ),
            (
                "unknown runbook field",
                &["run", "--config", c, "unknown.toml", "--yes"],
                &["line 1, column 1: unknown field `colour`"],
            ),
            (
                "newer runbook",
                &["run", "--config", c, "newer.toml", "--yes"],
                &["runbook version 99 is not supported"],
            ),
            (
                "edited journal, report",
                &["report", "edited.jsonl"],
                &["edited.jsonl", "event 2"],
            ),
            (
                "edited journal, run",
                &["run", "--config", c, "rb.toml", "--yes", "--journal", "edited.jsonl"],
                &["edited.jsonl", "event 2"],
            ),
            (
                "newer journal",
                &["report", "newer.jsonl"],
                &["newer.jsonl", "format version 99"],
            ),
            (
                "not a journal",
                &["run", "--config", c, "rb.toml", "--yes", "--journal", "garbage.jsonl"],
                &["garbage.jsonl"],
            ),
            (
                "journal of another incident",
                &["run", "--config", c, "rb.toml", "--yes", "--journal", "foreign.jsonl"],
                &["foreign.jsonl", "another-incident"],
            ),
        ],
    );
}

/// A runbook whose contract ids live in a sidecar, with the sidecar missing or changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_altered_sidecar_is_refused_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lab = recovery_deck::lab::scenario::up_sized(dir.path(), Scenario::Large, 1_100, common::launcher())
        .await
        .expect("lab");
    let lab = TestLab { lab, dir };
    let d = lab.dir.path();
    let cfg = lab.lab.incident_path().display().to_string();
    let c = cfg.as_str();
    let plan = common::plan_for(
        &lab.lab,
        &recovery_deck::reconcile::SelectionRequest::new(recovery_deck::reconcile::Strategy::Intersection),
        500,
    )
    .await;
    let meta = recovery_deck::plan::RunbookMeta {
        created: "2026-12-07T09:00:00Z".into(),
        proposed_by: "tester".into(),
    };
    let sidecar = recovery_deck::runbook_file::write(&d.join("big.toml"), &plan, &meta)
        .expect("write")
        .expect("a plan this large keeps its ids in a sidecar");
    let name = sidecar.file_name().expect("name").to_string_lossy().to_string();
    let text = std::fs::read_to_string(&sidecar).expect("sidecar");

    // One id changed: the pinned digest no longer matches.
    let lines: Vec<&str> = text.lines().collect();
    let last = lines.last().expect("an id");
    let flipped = if last.ends_with('0') { "1" } else { "0" };
    let changed = text.replacen(last, &format!("{}{flipped}", &last[..last.len() - 1]), 1);
    assert_ne!(changed, text);
    std::fs::write(&sidecar, changed).expect("write");
    refused(
        d,
        "altered sidecar",
        &["run", "--config", c, "big.toml", "--yes"],
        &[&format!("sidecar {name} was changed after the plan was made")],
    );
    std::fs::remove_file(&sidecar).expect("remove");
    refused(
        d,
        "missing sidecar",
        &["run", "--config", c, "big.toml", "--yes"],
        &[&format!("reading sidecar {name}: No such file or directory")],
    );
}

/// Each field of the incident config malformed in turn: a wrong type, a value the field
/// cannot take, or fields that contradict each other.
#[test]
fn every_malformed_config_field_is_refused_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let participant =
        "[[participants]]\nname = \"p1\"\nadmin = \"http://127.0.0.1:1\"\nledger = \"http://127.0.0.1:1\"\n";
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "wrong type",
            GOOD.replace("ledger = ", "timeout_secs = \"ten\"\nledger = "),
            "line 9, column 16: invalid type: string \"ten\", expected u64",
        ),
        (
            "negative timeout",
            GOOD.replace("ledger = ", "repair_timeout_secs = -5\nledger = "),
            "line 9, column 23: invalid value: integer `-5`, expected u64",
        ),
        (
            "an idle deadline of zero",
            GOOD.replace("ledger = ", "stream_idle_secs = 0\nledger = "),
            "participant p1: stream_idle_secs must be at least 1",
        ),
        (
            "not a boolean",
            GOOD.replace("ledger = ", "enable_all_ledger_api_reassignments = \"yes\"\nledger = "),
            "invalid type: string \"yes\", expected a boolean",
        ),
        (
            "same lost and target",
            GOOD.replace("target = \"newDomain\"", "target = \"lostDomain\""),
            "incident.lost and incident.target are both \"lostDomain\"; the replacement must be another synchronizer",
        ),
        (
            "empty alias",
            GOOD.replace("lost = \"lostDomain\"", "lost = \" \""),
            "incident.lost must name a synchronizer alias",
        ),
        (
            "empty incident name",
            GOOD.replace("name = \"t\"", "name = \"\""),
            "incident.name",
        ),
        (
            "no participants",
            GOOD[..GOOD.find("[[participants]]").expect("participants")].to_string(),
            "at least one [[participants]] entry is required",
        ),
        (
            "a participant listed twice",
            format!("{GOOD}\n{participant}"),
            "participant \"p1\" is listed twice",
        ),
        (
            "empty participant name",
            GOOD.replace("name = \"p1\"", "name = \"\""),
            "participant name must not be empty",
        ),
        (
            "ledger endpoint not a URL",
            GOOD.replace("ledger = \"http://127.0.0.1:1\"", "ledger = \"127.0.0.1:1\""),
            "participant p1: ledger endpoint \"127.0.0.1:1\" must start with http:// or https://",
        ),
        (
            "token file and variable both",
            GOOD.replace("name = \"p1\"", "name = \"p1\"\ntoken_file = \"a\"\ntoken_env = \"B\""),
            "participant p1: set token_file or token_env, not both",
        ),
        (
            "a token where its variable's name goes",
            GOOD.replace("name = \"p1\"", "name = \"p1\"\ntoken_env = \"eyJhbGciOi.J9x\""),
            "participant p1: token_env must be the name of an environment variable (letters, digits, _), not the token",
        ),
        (
            "a token variable that is not set",
            GOOD.replace(
                "name = \"p1\"",
                "name = \"p1\"\ntoken_env = \"RECOVERY_DECK_BAD_INPUT_UNSET\"",
            ),
            "p1: environment variable RECOVERY_DECK_BAD_INPUT_UNSET (token_env) is not set",
        ),
        (
            "a TLS CA file that is not there",
            GOOD.replace("http://", "https://")
                .replace("name = \"p1\"", "name = \"p1\"\ntls_ca = \"nope.pem\""),
            "p1: TLS CA",
        ),
    ];
    for (what, text, says) in cases {
        let file = format!("{}.toml", what.replace(' ', "-"));
        std::fs::write(d.join(&file), text).expect("write");
        let line = refused(d, what, &["compare", "--config", &file], &[says]);
        assert!(!line.contains("eyJhbGciOi"), "{what}: the token is quoted: {line}");
    }
}
