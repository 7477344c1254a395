//! The real binary in a real terminal (tmux): `demo`, choose intersection, preview,
//! execute with the typed confirmation, wait for the verified state, quit; then the
//! terminal is restored and the lab processes are gone.

mod common;

use common::tmux::{Tmux, processes_mentioning as lab_processes};
use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn demo_intersection_to_verified_in_tmux() {
    let bin = env!("CARGO_BIN_EXE_recovery-deck");
    let dir = tempfile::tempdir().expect("tempdir");
    let stderr = dir.path().join("stderr.txt");
    let after = dir.path().join("after.txt");
    let tmux = Tmux::new("e2e");
    // After the demo exits, record the terminal modes so that raw mode left behind shows.
    let script = format!(
        "{bin} demo 2>{err}; echo EXIT=$? > {after}; stty -a >> {after}; echo DONE; sleep 120",
        err = stderr.display(),
        after = after.display()
    );
    let out = tmux.cmd(&["new-session", "-d", "-s", "e2e", "-x", "120", "-y", "36", &script]);
    assert!(out.status.success(), "tmux: {}", String::from_utf8_lossy(&out.stderr));

    let screen = tmux.wait_for("e2e", "agreed 4", Duration::from_secs(90));
    assert!(
        screen.contains("participant1") && screen.contains("participant2"),
        "{screen}"
    );
    let lab_dir = std::fs::read_to_string(&stderr)
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.split(" lab in ").nth(1).map(|s| s.trim_end_matches(" …").to_string()))
        })
        .expect("the demo names its lab directory");
    assert!(
        !lab_processes(&lab_dir).is_empty(),
        "lab nodes run while the demo is open"
    );

    tmux.send("e2e", &["i"]);
    tmux.wait_for("e2e", "strategy: intersection", Duration::from_secs(10));
    tmux.send("e2e", &["p"]);
    tmux.wait_for("e2e", "contract(s) move", Duration::from_secs(20));
    tmux.send("e2e", &["x"]);
    tmux.wait_for("e2e", "Type newDomain to execute", Duration::from_secs(10));
    tmux.send("e2e", &["-l", "newDomain"]);
    tmux.send("e2e", &["Enter"]);
    let screen = tmux.wait_for("e2e", "VERIFIED", Duration::from_secs(60));
    assert!(
        screen.contains("verified participant1") && screen.contains("verified participant2"),
        "{screen}"
    );
    tmux.send("e2e", &["q"]);
    tmux.wait_for("e2e", "DONE", Duration::from_secs(30));

    let modes = std::fs::read_to_string(&after).expect("after.txt");
    assert!(modes.starts_with("EXIT=0"), "demo exit status: {modes}");
    assert!(
        modes.contains(" icanon") && modes.contains(" echo"),
        "the terminal is back in cooked mode: {modes}"
    );
    assert_eq!(
        tmux.display("e2e", "#{cursor_flag}"),
        "1",
        "the cursor is visible again"
    );
    assert_eq!(
        tmux.display("e2e", "#{alternate_on}"),
        "0",
        "the alternate screen was left"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !lab_processes(&lab_dir).is_empty() {
        assert!(
            Instant::now() < deadline,
            "lab processes outlived the demo: {:?}",
            lab_processes(&lab_dir)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !Path::new(&lab_dir).exists(),
        "the demo's temporary lab directory is removed"
    );
}

/// `demo --record`: the recording is an asciicast v2 file asciinema plays (a header, then
/// `[time, code, data]` events), holds what the screen showed, and marks each decision
/// before the frame that shows it.
#[test]
fn demo_record_writes_a_cast_with_markers_at_decisions() {
    use std::os::unix::fs::MetadataExt as _;
    let bin = env!("CARGO_BIN_EXE_recovery-deck");
    let dir = tempfile::tempdir().expect("tempdir");
    let cast = dir.path().join("session.cast");
    let stderr = dir.path().join("stderr.txt");
    let tmux = Tmux::new("e2e-record");
    let script = format!(
        "{bin} demo --record {cast} 2>{err}; echo EXIT=$?; echo DONE; sleep 120",
        cast = cast.display(),
        err = stderr.display()
    );
    let out = tmux.cmd(&["new-session", "-d", "-s", "rec", "-x", "120", "-y", "36", &script]);
    assert!(out.status.success(), "tmux: {}", String::from_utf8_lossy(&out.stderr));
    tmux.wait_for("rec", "agreed 4", Duration::from_secs(90));
    tmux.send("rec", &["u"]);
    tmux.wait_for("rec", "strategy: union", Duration::from_secs(10));
    // A decision on a row: the archived rows first (the class filter), purge the first.
    for _ in 0..3 {
        tmux.send("rec", &["c"]);
    }
    tmux.send("rec", &["P"]);
    tmux.wait_for("rec", "decided purge", Duration::from_secs(10));
    tmux.send("rec", &["q"]);
    let screen = tmux.wait_for("rec", "DONE", Duration::from_secs(30));
    assert!(screen.contains("EXIT=0"), "{screen}");
    let err = std::fs::read_to_string(&stderr).unwrap_or_default();
    assert!(
        err.contains("recording: "),
        "the demo says where the recording is: {err}"
    );

    assert_eq!(std::fs::metadata(&cast).expect("cast").mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&cast).expect("cast");
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().expect("header")).expect("header is JSON");
    assert_eq!(header["version"], 2);
    assert_eq!(
        (header["width"].as_u64(), header["height"].as_u64()),
        (Some(120), Some(36))
    );
    let events: Vec<(f64, String, String)> = lines
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("event line {l:?}: {e}")))
        .collect();
    assert!(events.windows(2).all(|w| w[0].0 <= w[1].0), "times never go back");
    let output: String = events.iter().filter(|e| e.1 == "o").map(|e| e.2.as_str()).collect();
    assert!(output.contains("participant1"), "the output events hold the screen");
    let marker = |label: &str| {
        events
            .iter()
            .position(|e| e.1 == "m" && e.2.starts_with(label))
            .unwrap_or_else(|| {
                panic!(
                    "no {label:?} marker in {:?}",
                    events.iter().filter(|e| e.1 == "m").collect::<Vec<_>>()
                )
            })
    };
    let strategy = marker("strategy union");
    let decided = marker("decided purge for ");
    assert!(strategy < decided, "markers in the order of the decisions");
    // Drawn as changed cells only, the frame after it need not hold the words whole.
    assert!(
        events[decided..].iter().any(|e| e.1 == "o"),
        "a frame follows the decision's marker"
    );
}

/// `replay` in a real terminal: the fixture session (tests/fixtures/report) paused at the
/// start, `d` to the first decision, `n` one event on, `space` to play at 64× to the end
/// (where the operators last looked at the comparison on the target), `q`; the terminal is
/// restored.
#[test]
fn replay_of_the_fixture_journal_in_tmux() {
    let bin = env!("CARGO_BIN_EXE_recovery-deck");
    let journal = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report/drill.journal.jsonl");
    let dir = tempfile::tempdir().expect("tempdir");
    let after = dir.path().join("after.txt");
    let tmux = Tmux::new("replay");
    let script = format!(
        "{bin} replay {journal} --paused --speed 64 --theme mono; echo EXIT=$? > {after}; stty -a >> {after}; echo DONE; sleep 120",
        journal = journal.display(),
        after = after.display()
    );
    let out = tmux.cmd(&["new-session", "-d", "-s", "replay", "-x", "120", "-y", "36", &script]);
    assert!(out.status.success(), "tmux: {}", String::from_utf8_lossy(&out.stderr));
    tmux.wait_for("replay", "0/81", Duration::from_secs(30));
    tmux.send("replay", &["d"]);
    let screen = tmux.wait_for("replay", "alice chose the union strategy", Duration::from_secs(10));
    assert!(
        screen.contains("contracts on lostDomain") && screen.contains("paused"),
        "{screen}"
    );
    tmux.send("replay", &["n"]);
    tmux.wait_for("replay", "alice decided purge", Duration::from_secs(10));
    tmux.send("replay", &["Space"]);
    let screen = tmux.wait_for("replay", "■ end", Duration::from_secs(30));
    assert!(screen.contains("contracts on newDomain"), "{screen}");
    tmux.send("replay", &["q"]);
    tmux.wait_for("replay", "DONE", Duration::from_secs(10));
    let modes = std::fs::read_to_string(&after).expect("after.txt");
    assert!(modes.starts_with("EXIT=0"), "replay exit status: {modes}");
    assert!(modes.contains(" icanon") && modes.contains(" echo"), "{modes}");
    assert_eq!(
        tmux.display("replay", "#{alternate_on}"),
        "0",
        "the alternate screen was left"
    );
}
