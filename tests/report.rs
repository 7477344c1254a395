//! `report`: the incident report of a committed journal (an insta snapshot), and its
//! refusals — a byte flipped on any line, a journal cut short, a changed pinned file —
//! each naming the line; `--force` renders under a banner; an unsealed journal is reported
//! with a note.
//!
//! The fixture, `tests/fixtures/report/drill.journal.jsonl` with its pinned files in
//! `drill.journal.pins/`, is a real session on the diverged lab, made by the code: the
//! recovery screen driven by keys (union, two rows decided, the differing row's diff looked
//! at and excluded, the plan confirmed, a run that fails because the target synchronizer is
//! down, the same plan run again once it is back, the comparison on the target, quit), its
//! journal written with a stepped clock so that its times do not depend on when it ran.
//! Regenerate it (then review and accept the report snapshot) with
//!
//! ```sh
//! cargo test --test report -- --ignored regenerate_the_fixture
//! ```

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report")
}

const JOURNAL: &str = "drill.journal.jsonl";

fn report(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recovery-deck"))
        .arg("report")
        .args(args)
        .output()
        .expect("run the binary")
}

/// A copy of the fixture (journal and pinned files) to break.
fn copy_fixture() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture_dir(), tmp.path());
    let journal = tmp.path().join(JOURNAL);
    (tmp, journal)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Line boundaries of a file: `(start, end)` byte offsets, the newline included.
fn lines(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push((start, bytes.len()));
    }
    out
}

#[test]
fn the_report_of_the_fixture_journal() {
    let journal = fixture_dir().join(JOURNAL);
    let out = report(&[journal.to_str().expect("path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    insta::assert_snapshot!("drill_report", text);

    // --out writes the same report, private to its owner.
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("incident.md");
    let out = report(&[journal.to_str().expect("path"), "--out", file.to_str().expect("path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let written = std::fs::read_to_string(&file).expect("report file");
    assert_eq!(written.trim_end(), text.trim_end());
    let mode = std::fs::metadata(&file).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

/// One byte flipped — at the start, in the middle, at the end and in the newline of each
/// line in turn — and the report is refused, naming that line.
#[test]
fn a_byte_flipped_on_any_line_refuses_the_report_naming_that_line() {
    let (tmp, journal) = copy_fixture();
    let original = std::fs::read(&journal).expect("journal");
    let spans = lines(&original);
    assert!(spans.len() > 20, "a realistic journal");
    let path = journal.to_str().expect("path");
    for (n, &(start, end)) in spans.iter().enumerate() {
        let line = n + 1;
        let last = end - 1;
        for at in [start, (start + end) / 2, last - 1, last] {
            let mut bytes = original.clone();
            bytes[at] ^= 0x01;
            std::fs::write(&journal, &bytes).expect("write");
            let out = report(&[path]);
            let err = stderr(&out);
            assert!(
                !out.status.success(),
                "line {line}, byte {} flipped, and the report was written",
                at - start
            );
            assert!(
                err.contains(&format!("line {line}:")),
                "line {line}, byte {} flipped: the refusal names another line: {err}",
                at - start
            );
        }
    }
    drop(tmp);
}

#[test]
fn a_journal_cut_short_is_refused_in_a_line_and_noted_at_a_line_boundary() {
    let (_tmp, journal) = copy_fixture();
    let original = std::fs::read(&journal).expect("journal");
    let spans = lines(&original);
    let path = journal.to_str().expect("path");

    // Cut in the middle of a line, the last or any other: that line is named.
    for n in [spans.len() - 1, spans.len() / 2, 1] {
        let (start, end) = spans[n];
        std::fs::write(&journal, &original[..(start + end) / 2]).expect("write");
        let out = report(&[path]);
        assert!(!out.status.success(), "cut in line {}", n + 1);
        let err = stderr(&out);
        assert!(
            err.contains(&format!("line {}:", n + 1)) && err.contains("incomplete"),
            "cut in line {}: {err}",
            n + 1
        );
    }

    // Cut at a line boundary, the seal gone: reported, with a note that it is not sealed.
    let (_, seal_start) = spans[spans.len() - 2];
    std::fs::write(&journal, &original[..seal_start]).expect("write");
    let out = report(&[path]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("not sealed"), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("**Note: the journal is not sealed.**"), "{text}");
    assert!(text.contains("crash, or it is still running"), "{text}");
    assert!(!text.contains("WARNING"), "{text}");

    // Nothing but the header: reported, with nothing in it.
    std::fs::write(&journal, &original[..spans[0].1]).expect("write");
    let out = report(&[path]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("(no events)"));
    // Not even a whole header: refused.
    std::fs::write(&journal, &original[..spans[0].1 / 2]).expect("write");
    let out = report(&[path]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("line 1:"), "{}", stderr(&out));
}

#[test]
fn force_renders_what_verified_under_a_banner_naming_the_break() {
    let (_tmp, journal) = copy_fixture();
    let original = std::fs::read(&journal).expect("journal");
    let spans = lines(&original);
    let broken_line = spans.len() / 2;
    let (start, end) = spans[broken_line - 1];
    let mut bytes = original.clone();
    bytes[(start + end) / 2] ^= 0x01;
    std::fs::write(&journal, &bytes).expect("write");
    let path = journal.to_str().expect("path");
    let refused = report(&[path]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));

    let forced = report(&[path, "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    let text = stdout(&forced);
    let banner = text
        .lines()
        .skip_while(|l| !l.starts_with("> **WARNING"))
        .take_while(|l| l.starts_with('>'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        banner.contains("this journal failed verification") && banner.contains(&format!("line {broken_line}:")),
        "{text}"
    );
    assert!(
        banner.contains(&format!("Only lines 1–{} of {}", broken_line - 1, spans.len())),
        "{banner}"
    );
    assert!(text.contains("of the part that verified"), "{text}");
    assert!(stderr(&forced).contains(&format!("line {broken_line}:")));
}

#[test]
fn a_changed_or_missing_pinned_file_refuses_the_report_naming_it_and_its_line() {
    let (tmp, journal) = copy_fixture();
    let path = journal.to_str().expect("path");
    let pins = tmp.path().join("drill.journal.pins");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&pins)
        .expect("pins")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert!(
        files.iter().any(|f| f.to_string_lossy().contains("comparison-"))
            && files.iter().any(|f| f.to_string_lossy().contains("runbook-")),
        "{files:?}"
    );
    let runbook = files
        .iter()
        .find(|f| f.to_string_lossy().contains("runbook-"))
        .expect("runbook");
    let text = std::fs::read_to_string(runbook).expect("runbook");
    std::fs::write(runbook, text.replacen("batch_size = 500", "batch_size = 50", 1)).expect("tamper");
    let name = runbook.file_name().expect("name").to_string_lossy().into_owned();
    let out = report(&[path]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains(&name) && err.contains("was changed"), "{err}");
    let journal_text = std::fs::read_to_string(&journal).expect("journal");
    let line = journal_text
        .lines()
        .position(|l| l.contains(&name))
        .expect("the journal pins it")
        + 1;
    assert!(err.contains(&format!("line {line}:")), "{err}");

    let comparison = files
        .iter()
        .find(|f| f.to_string_lossy().contains("comparison-"))
        .expect("comparison");
    std::fs::remove_file(comparison).expect("remove");
    let forced = report(&[path, "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    let text = stdout(&forced);
    assert!(text.contains("is missing") && text.contains("was changed"), "{text}");
}

/// Drives the recovery screen over a diverged lab and writes the fixture (see the module
/// documentation). Not run by `cargo test`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "regenerates tests/fixtures/report; run on purpose"]
async fn regenerate_the_fixture() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use recovery_deck::config::IncidentConfig;
    use recovery_deck::journal::{Clock, Header, JournalWriter, ParticipantRef};
    use recovery_deck::lab::scenario::Scenario;
    use recovery_deck::tui::app::{PlanState, Popup, Screen};
    use recovery_deck::tui::keymap::Keymap;
    use recovery_deck::tui::launch::{self, TuiOptions};
    use recovery_deck::tui::msg::Msg;
    use recovery_deck::tui::theme::Theme;

    let mut lab = common::TestLab::up(Scenario::Diverged).await;
    let cfg = IncidentConfig::load(&lab.lab.incident_path()).expect("config");
    let path = lab.dir.path().join(JOURNAL);
    let start: jiff::Timestamp = "2026-11-03T09:14:00Z".parse().expect("time");
    let mut header = Header::new(
        &cfg.incident.name,
        "alice",
        cfg.participants
            .iter()
            .map(|p| ParticipantRef {
                name: p.name.clone(),
                endpoint: p.admin.clone(),
            })
            .collect(),
    );
    header.started = start.to_string();
    header.host = "drill-host".into();
    let writer = JournalWriter::create(&path, &header)
        .expect("journal")
        .with_clock(Clock::stepped(start, jiff::SignedDuration::from_millis(1250)));
    let opts = TuiOptions {
        read_only: false,
        theme: Theme::preset("dark").expect("theme"),
        keymap: Keymap::defaults(),
        journal: path.clone(),
        operator: "alice".into(),
        batch_size: 500,
    };
    let mut core = launch::core_with(&cfg, &opts, writer).expect("core");
    core.start();
    core.settle().await.expect("settled");
    async fn key(core: &mut recovery_deck::tui::core::Core, code: KeyCode) {
        core.handle(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        core.settle().await.expect("settled");
    }
    async fn keys(core: &mut recovery_deck::tui::core::Core, text: &str) {
        for c in text.chars() {
            key(core, KeyCode::Char(c)).await;
        }
    }
    // Union, blocked until the archived rows and the differing one are decided.
    keys(&mut core, "up").await;
    assert!(matches!(core.app.plan, PlanState::Blocked(_)));
    key(&mut core, KeyCode::Esc).await;
    keys(&mut core, "ccc").await;
    assert_eq!(core.app.table.rows.len(), 2);
    keys(&mut core, "PjE").await;
    keys(&mut core, "c").await;
    assert_eq!(core.app.table.rows.len(), 1);
    key(&mut core, KeyCode::Enter).await;
    assert!(matches!(core.app.popup, Some(Popup::Diff(_))));
    key(&mut core, KeyCode::Esc).await;
    keys(&mut core, "E").await;
    keys(&mut core, "p").await;
    assert!(matches!(core.app.plan, PlanState::Ready { .. }));

    // The target synchronizer is down: the run stops at init_target.
    lab.lab.kill("newDomain").expect("kill the target");
    let confirm = |core: &mut recovery_deck::tui::core::Core| {
        core.handle(Msg::Key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE)));
        for c in "newDomain".chars() {
            core.handle(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
        }
        core.handle(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    };
    confirm(&mut core);
    core.settle().await.expect("settled");
    assert_eq!(core.app.screen, Screen::Execution);
    let exec = core.app.exec.as_ref().expect("execution");
    assert!(
        exec.finished && exec.failure.is_some(),
        "the first run fails: {:?}",
        exec.report
    );

    // Back up, and the same plan again: the rerun resumes.
    lab.lab.start("newDomain").expect("restart the target");
    key(&mut core, KeyCode::Esc).await;
    keys(&mut core, "p").await;
    assert!(matches!(core.app.plan, PlanState::Ready { .. }));
    confirm(&mut core);
    core.settle().await.expect("settled");
    let exec = core.app.exec.as_ref().expect("execution");
    assert!(
        exec.finished && exec.verified(),
        "the rerun verifies: {:?}",
        exec.report
    );
    keys(&mut core, "t").await;
    core.close();
    drop(core);

    let target = fixture_dir();
    let _ = std::fs::remove_dir_all(&target);
    std::fs::create_dir_all(&target).expect("mkdir");
    std::fs::copy(&path, target.join(JOURNAL)).expect("copy the journal");
    copy_dir(
        &lab.dir.path().join("drill.journal.pins"),
        &target.join("drill.journal.pins"),
    );
    eprintln!("fixture written to {}", target.display());
}
