//! The real binary in a real terminal (tmux): `demo`, choose intersection, preview,
//! execute with the typed confirmation, wait for the verified state, quit; then the
//! terminal is restored and the lab processes are gone.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "e2e"]).stdout).to_string()
    }

    fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        self.cmd(&args);
    }

    fn wait_for(&self, what: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.capture();
            if screen.contains(what) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what:?}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

fn lab_processes(dir_hint: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(dir_hint))
                .unwrap_or(false)
        })
        .collect()
}

#[test]
fn demo_intersection_to_verified_in_tmux() {
    if Command::new("tmux").arg("-V").output().is_err() {
        panic!("tmux is required for the end-to-end test (.ci/run installs it)");
    }
    let bin = env!("CARGO_BIN_EXE_recovery-deck");
    let dir = tempfile::tempdir().expect("tempdir");
    let stderr = dir.path().join("stderr.txt");
    let after = dir.path().join("after.txt");
    let tmux = Tmux {
        socket: format!("recovery-deck-e2e-{}", std::process::id()),
    };
    // After the demo exits, record the terminal modes so that raw mode left behind shows.
    let script = format!(
        "{bin} demo 2>{err}; echo EXIT=$? > {after}; stty -a >> {after}; echo DONE; sleep 120",
        err = stderr.display(),
        after = after.display()
    );
    let out = tmux.cmd(&["new-session", "-d", "-s", "e2e", "-x", "120", "-y", "36", &script]);
    assert!(out.status.success(), "tmux: {}", String::from_utf8_lossy(&out.stderr));

    let screen = tmux.wait_for("agreed 4", Duration::from_secs(90));
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

    tmux.send(&["i"]);
    tmux.wait_for("strategy: intersection", Duration::from_secs(10));
    tmux.send(&["p"]);
    tmux.wait_for("contract(s) move", Duration::from_secs(20));
    tmux.send(&["x"]);
    tmux.wait_for("Type newDomain to execute", Duration::from_secs(10));
    tmux.send(&["-l", "newDomain"]);
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for("VERIFIED", Duration::from_secs(60));
    assert!(
        screen.contains("verified participant1") && screen.contains("verified participant2"),
        "{screen}"
    );
    tmux.send(&["q"]);
    tmux.wait_for("DONE", Duration::from_secs(30));

    let modes = std::fs::read_to_string(&after).expect("after.txt");
    assert!(modes.starts_with("EXIT=0"), "demo exit status: {modes}");
    assert!(
        modes.contains(" icanon") && modes.contains(" echo"),
        "the terminal is back in cooked mode: {modes}"
    );
    let cursor = String::from_utf8_lossy(
        &tmux
            .cmd(&["display-message", "-p", "-t", "e2e", "#{cursor_flag}"])
            .stdout,
    )
    .to_string();
    assert_eq!(cursor.trim(), "1", "the cursor is visible again");
    let alt = String::from_utf8_lossy(
        &tmux
            .cmd(&["display-message", "-p", "-t", "e2e", "#{alternate_on}"])
            .stdout,
    )
    .to_string();
    assert_eq!(alt.trim(), "0", "the alternate screen was left");
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
