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
