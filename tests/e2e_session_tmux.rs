//! Two screens of the real binary joined to one session, each in its own 80×24 tmux
//! window: alice for participant1 and bob for participant2, each with an incident config
//! that holds only their own participant, and a headless lead. The lead proposes; alice
//! approves on her screen and bob's screen shows it; bob approves; the lead says go; the
//! decks inside both screens run their parts and both screens show the run finished.
//! Then both quit: the terminals are restored and no process of the test is left.

mod common;

use common::drill::{BIN, Drill};
use common::tmux::{Tmux, processes_mentioning};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(90);

/// The shell line of a window: the screen, then the terminal's modes once it exits.
fn screen_script(d: &Drill, who: &str, participant: &str) -> (String, PathBuf) {
    let after = d.dir.join(format!("{who}.after.txt"));
    let script = format!(
        "{BIN} tui --join {url} --token-file {token} --config {config} 2>{err}; \
         echo EXIT=$? > {after}; stty -a >> {after}; echo DONE; sleep 120",
        url = d.url,
        token = d.dir.join(format!("{who}.token")).display(),
        config = d.dir.join(format!("{participant}.toml")).display(),
        err = d.dir.join(format!("{who}.screen.log")).display(),
        after = after.display(),
    );
    (script, after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_screens_joined_to_one_session_approve_and_finish() {
    let started = Instant::now();
    let mut d = Drill::up().await;
    let coordinator = d.coordinator();
    let tmux = Tmux::new("session-e2e");
    let (alice_script, alice_after) = screen_script(&d, "alice", "participant1");
    let (bob_script, bob_after) = screen_script(&d, "bob", "participant2");
    let out = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-n",
        "alice",
        "-x",
        "80",
        "-y",
        "24",
        &alice_script,
    ]);
    assert!(out.status.success(), "tmux: {}", String::from_utf8_lossy(&out.stderr));
    let out = tmux.cmd(&["new-window", "-d", "-t", "e2e", "-n", "bob", &bob_script]);
    assert!(out.status.success(), "tmux: {}", String::from_utf8_lossy(&out.stderr));
    let (alice, bob) = ("e2e:alice", "e2e:bob");

    // Both screens are live, with the comparison built from both decks' manifests.
    for w in [alice, bob] {
        tmux.wait_for(w, "propose a plan", WAIT);
        let screen = tmux.wait_for(w, "mismatch 1", WAIT);
        assert!(screen.contains("· live"), "{screen}");
    }
    let screen = tmux.capture(alice);
    assert!(
        screen
            .lines()
            .next()
            .is_some_and(|l| l.starts_with(" alice · node operator · participant1")),
        "{screen}"
    );

    // The lead, headless, proposes.
    let runbook = d.dir.join("intersection.runbook.toml");
    let out = runbook.display().to_string();
    d.ok("carol", &["plan", "--strategy", "intersection", "--out", &out]);
    let hash = d.ok("carol", &["propose", &out])["proposed"]
        .as_str()
        .expect("hash")
        .to_string();
    let short: String = hash.trim_start_matches("sha256:").chars().take(12).collect();
    tmux.wait_for(alice, &format!("plan {short} intersection by carol"), WAIT);
    tmux.wait_for(alice, "YOUR TURN: approve plan", WAIT);

    // alice approves on her screen; bob's screen sees it.
    tmux.send(alice, &["a"]);
    tmux.wait_for(alice, "Type newDomain to approve", WAIT);
    tmux.send(alice, &["-l", "newDomain"]);
    tmux.send(alice, &["Enter"]);
    let approved = format!("[APPROVED {short} by alice]");
    tmux.wait_for(alice, &approved, WAIT);
    let screen = tmux.wait_for(bob, &approved, WAIT);
    assert!(screen.contains("YOUR TURN: approve plan"), "{screen}");

    tmux.send(bob, &["a"]);
    tmux.wait_for(bob, "Type newDomain to approve", WAIT);
    tmux.send(bob, &["-l", "newDomain"]);
    tmux.send(bob, &["Enter"]);
    tmux.wait_for(alice, "2/2 approved", WAIT);
    tmux.wait_for(bob, "2/2 approved", WAIT);

    d.ok("carol", &["go"]);
    for w in [alice, bob] {
        let screen = tmux.wait_for(w, "FINISHED", WAIT);
        assert!(screen.contains("VERIFIED") || screen.contains("finished"), "{screen}");
    }
    let status = d.ok("olga", &["status"]);
    assert_eq!(status["session"]["run"]["state"], "finished");

    for (w, after) in [(alice, &alice_after), (bob, &bob_after)] {
        tmux.send(w, &["q"]);
        tmux.wait_for(w, "DONE", WAIT);
        let modes = std::fs::read_to_string(after).expect("after");
        assert!(modes.starts_with("EXIT=0"), "{w}: {modes}");
        assert!(
            modes.contains(" icanon") && modes.contains(" echo"),
            "{w}: the terminal is back in cooked mode: {modes}"
        );
        assert_eq!(
            tmux.display(w, "#{cursor_flag}"),
            "1",
            "{w}: the cursor is visible again"
        );
        assert_eq!(
            tmux.display(w, "#{alternate_on}"),
            "0",
            "{w}: the alternate screen was left"
        );
    }

    // Nothing of the test outlives it: the screens exited, then the coordinator and the
    // lab stop.
    let dir = d.lab.dir.path().display().to_string();
    drop(coordinator);
    drop(tmux);
    drop(d);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_mentioning(&dir).is_empty() {
        assert!(
            Instant::now() < deadline,
            "processes outlived the test: {:?}",
            processes_mentioning(&dir)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("two screens, one session: {:.1} s", started.elapsed().as_secs_f64());
}
