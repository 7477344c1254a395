//! `replay`: the recovery screen played back from the committed fixture journal (a real
//! session on the diverged lab, see tests/report.rs), driven by the player's keys to its
//! decisions and snapshotted there through ratatui's TestBackend; and the refusals of a
//! tampered or cut-off journal or a changed pinned file, naming the line.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use recovery_deck::replay::{self, Change, Timeline};
use recovery_deck::tui::app::Screen;
use recovery_deck::tui::keymap::Keymap;
use recovery_deck::tui::replay::{Replay, context};
use recovery_deck::tui::theme::Theme;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report/drill.journal.jsonl")
}

fn replay_of(path: &Path) -> Replay {
    let recording = replay::load(path).expect("load");
    assert!(recording.loaded.integrity.problems().is_empty());
    assert!(recording.unreadable.is_empty(), "{:?}", recording.unreadable);
    let timeline = Timeline::build(&recording.loaded.journal, &recording.records);
    let ctx = context(&recording.loaded.journal, &timeline, "mono");
    Replay::new(ctx, Keymap::defaults(), timeline, None)
}

fn press(r: &mut Replay, c: char) {
    r.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
}

fn frame(r: &mut Replay, (w, h): (u16, u16)) -> Terminal<TestBackend> {
    let theme = Theme::preset("mono").expect("mono");
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    terminal.draw(|f| r.draw(f, &theme)).expect("draw");
    terminal
}

fn text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// Presses `d` until the moment shown is the one `is` picks.
fn to_decision(r: &mut Replay, is: impl Fn(&Change) -> bool) {
    for _ in 0..r.timeline.len() {
        press(r, 'd');
        let m = &r.timeline.moments[r.player.current().expect("a moment")];
        assert!(m.decision, "d stops on decisions only: {}", m.label);
        if is(&m.change) {
            return;
        }
    }
    panic!("no such decision");
}

#[test]
fn the_replay_jumps_to_each_decision_and_shows_the_screen_as_it_was() {
    let mut r = replay_of(&fixture());
    press(&mut r, ' ');
    assert!(r.player.paused());
    assert_eq!(r.player.shown(), 0, "nothing shown before the first tick or step");

    // The strategy chosen: the comparison the survey pinned, on the main screen.
    to_decision(&mut r, |c| matches!(c, Change::Strategy(_)));
    assert_eq!(r.app.screen, Screen::Main);
    let data = r.app.data.as_ref().expect("the pinned comparison");
    assert_eq!(data.comparison.rows().len(), 9);
    let t = frame(&mut r, (120, 30));
    let shown = text(&t);
    assert!(
        shown.contains("REPLAY") && shown.contains("alice chose the union strategy"),
        "{shown}"
    );
    insta::assert_snapshot!("replay_strategy_120x30", t.backend());

    // The plan proposed: the plan preview of the pinned runbook, the decisions made.
    to_decision(&mut r, |c| matches!(c, Change::Plan { .. }));
    assert_eq!(r.app.screen, Screen::Plan);
    assert_eq!(r.app.choice.decision(&"00dd8a722e49438044ccd708aa23eeaa5f3fbc1e6f8786eaa554d67771281a388aca10cf97264149ba76ccaee203b0220dbff22b57e267ecef80a7319857cbf07601cb".into()).map(|d| d.name()), Some("exclude"));
    let t = frame(&mut r, (120, 30));
    assert!(text(&t).contains("4c11e42c8c39"), "the plan hash: {}", text(&t));
    insta::assert_snapshot!("replay_plan_proposed_120x30", t.backend());

    // One step at a time from the approval: the first run, failing in init_target.
    to_decision(&mut r, |c| matches!(c, Change::Approved { .. }));
    while !text(&frame(&mut r, (120, 30))).contains("FAILED") {
        let before = r.player.shown();
        press(&mut r, 'n');
        assert_eq!(r.player.shown(), before + 1, "one step, one moment");
    }
    assert_eq!(r.app.screen, Screen::Execution);
    let exec = r.app.exec.as_ref().expect("the execution view");
    assert!(exec.failure.is_some(), "the failure of the first run is shown");
    insta::assert_snapshot!("replay_first_run_failed_120x30", frame(&mut r, (120, 30)).backend());

    // To the end: the second run, verified; past the last decision `d` stays at the end.
    to_decision(&mut r, |c| matches!(c, Change::Approved { .. }));
    press(&mut r, 'd');
    assert!(r.player.at_end(&r.timeline));
    let exec = r.app.exec.as_ref().expect("the execution view");
    assert!(exec.verified(), "the second run ended verified");
    assert!(text(&frame(&mut r, (120, 30))).contains("■ end"));

    // From the start again.
    press(&mut r, 'r');
    assert_eq!(r.player.shown(), 0);
    assert!(r.app.data.is_none() && r.app.exec.is_none());
}

#[test]
fn playing_shows_the_moments_in_time_and_space_pauses() {
    let mut r = replay_of(&fixture());
    r.tick(0.0);
    assert_eq!(r.player.shown(), 1, "the first event at once");
    r.tick(1.3);
    let playing = r.player.shown();
    assert!(playing > 1, "the fixture's events are 1.25 s apart");
    press(&mut r, ' ');
    r.tick(60.0);
    assert_eq!(r.player.shown(), playing, "paused");
    press(&mut r, ' ');
    press(&mut r, '+');
    press(&mut r, '+');
    assert_eq!(r.player.speed(), 4.0);
    r.tick(1000.0);
    assert!(r.player.at_end(&r.timeline));
}

fn run_replay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recovery-deck"))
        .arg("replay")
        .args(args)
        .output()
        .expect("run the binary")
}

fn copy_fixture() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let from = fixture();
    let dir = from.parent().expect("dir");
    let pins = dir.join("drill.journal.pins");
    std::fs::create_dir_all(tmp.path().join("drill.journal.pins")).expect("mkdir");
    for entry in std::fs::read_dir(&pins).expect("pins") {
        let entry = entry.expect("entry");
        std::fs::copy(
            entry.path(),
            tmp.path().join("drill.journal.pins").join(entry.file_name()),
        )
        .expect("copy");
    }
    let journal = tmp.path().join("drill.journal.jsonl");
    std::fs::copy(&from, &journal).expect("copy");
    (tmp, journal)
}

#[test]
fn a_tampered_journal_or_pinned_file_is_refused_naming_the_line() {
    let (_tmp, journal) = copy_fixture();
    let original = std::fs::read(&journal).expect("read");
    // Line 10 (a decision): one letter of the operator's name changed.
    let start = original
        .split(|b| *b == b'\n')
        .take(9)
        .map(|l| l.len() + 1)
        .sum::<usize>();
    let at = start + original[start..].windows(5).position(|w| w == b"alice").expect("alice");
    let mut bytes = original.clone();
    bytes[at] = b'A';
    std::fs::write(&journal, &bytes).expect("write");
    let out = run_replay(&[journal.to_str().expect("utf-8")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("refusing to replay") && err.contains("line 10:"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");

    // Forced, it goes on to the terminal check (no terminal here): the refusal is lifted.
    let out = run_replay(&[journal.to_str().expect("utf-8"), "--force"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning:") && err.contains("needs a terminal"), "{err}");

    // The journal whole again, the pinned runbook changed: refused, naming the line that pins it.
    std::fs::write(&journal, &original).expect("write");
    let runbook = std::fs::read_dir(journal.with_file_name("drill.journal.pins"))
        .expect("pins")
        .map(|e| e.expect("entry").path())
        .find(|p| p.to_string_lossy().contains("runbook-"))
        .expect("a pinned runbook");
    let mut text = std::fs::read_to_string(&runbook).expect("runbook");
    text.push('\n');
    std::fs::write(&runbook, text).expect("write");
    let out = run_replay(&[journal.to_str().expect("utf-8")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("refusing to replay") && err.contains("line 9:"), "{err}");
}

/// A journal cut off in the middle of a line (a copy that stopped short) is refused as
/// `report` refuses it, naming the line: the replay would otherwise end early without saying so.
#[test]
fn a_journal_cut_in_a_line_is_refused_naming_that_line() {
    let (_tmp, journal) = copy_fixture();
    let original = std::fs::read(&journal).expect("read");
    let ends: Vec<usize> = original
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i)
        .collect();
    for line in [2, ends.len() / 2, ends.len()] {
        let (start, end) = (ends[line - 2] + 1, ends[line - 1]);
        std::fs::write(&journal, &original[..(start + end) / 2]).expect("write");
        let out = run_replay(&[journal.to_str().expect("utf-8")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "cut in line {line}");
        assert!(
            err.contains("refusing to replay") && err.contains(&format!("line {line}:")) && err.contains("incomplete"),
            "cut in line {line}: {err}"
        );
    }
}

#[test]
fn a_speed_off_the_ladder_is_refused() {
    let out = run_replay(&[fixture().to_str().expect("utf-8"), "--speed", "3"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--speed 3 is not one of"));
}
