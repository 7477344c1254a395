//! Screens joined to a real session: the diverged lab, a coordinator from the real
//! binary, and three screens in this process — the lead (carol, no participant
//! credential) and the node operators alice and bob, each with only their own
//! participant — driven by keys through the same core the terminal runs. A mismatched
//! row's payload is asked for, consented to on the holder's screen and opened in the diff
//! against the local copy; a runbook is proposed, approved, replaced by the plan made on
//! the lead's screen (which voids the approval), approved on both screens, and run to the
//! end by the decks inside the screens after the lead's go.

mod common;

use common::drill::{Drill, assert_recovered};
use ratatui::crossterm::event::KeyEvent;
use recovery_deck::client::{GrpcParticipant, ParticipantApi};
use recovery_deck::collab::client::{Connect, SessionClient};
use recovery_deck::collab::deck::Deck;
use recovery_deck::collab::state::RunState;
use recovery_deck::config::IncidentConfig;
use recovery_deck::reconcile::diff::DiffTag;
use recovery_deck::tui::app::{App, Ask, DeckState, PlanState, Popup};
use recovery_deck::tui::core::Core;
use recovery_deck::tui::keymap::{KeyChord, Keymap};
use recovery_deck::tui::launch::{self, TuiOptions};
use recovery_deck::tui::msg::Msg;
use recovery_deck::tui::theme::Theme;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Screen {
    core: Core,
    who: &'static str,
}

impl Screen {
    async fn open(d: &Drill, who: &'static str, participant: Option<&str>) -> Screen {
        let token = std::fs::read_to_string(d.dir.join(format!("{who}.token"))).expect("token");
        let mut connect = Connect::new(&d.url);
        connect.token = Some(token);
        let client = SessionClient::connect(&connect).expect("client");
        let hello = client.hello(None).await.expect("hello");
        let deck = match participant {
            Some(p) => {
                let cfg = IncidentConfig::load(&d.dir.join(format!("{p}.toml"))).expect("config");
                let entry = cfg.participant(p).expect("own participant");
                let api: Arc<dyn ParticipantApi> = Arc::new(GrpcParticipant::from_config(entry).expect("api"));
                Some(Deck::join(client.clone(), p, api, &entry.admin).await.expect("deck"))
            }
            None => None,
        };
        let opts = TuiOptions {
            read_only: false,
            theme: Theme::preset("mono").expect("theme"),
            keymap: Keymap::defaults(),
            journal: d.dir.join(format!("{who}.screen.journal.jsonl")),
            operator: who.into(),
            batch_size: 500,
        };
        let mut core = launch::joined_core(client, hello, deck, &opts).expect("core");
        core.start();
        Screen { core, who }
    }

    /// Handles what arrives until `done` holds of the app (never a sleep: each wait is
    /// for the next message, at most a quarter second).
    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            self.core.drain();
            if done(&self.core.app) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: timed out waiting for {what}; flash: {:?}; board: {:?}",
                self.who,
                self.core.app.flash.as_ref().map(|f| f.text.clone()),
                self.core.app.board().map(|b| (&b.turn, &b.run))
            );
            let _ = tokio::time::timeout(Duration::from_millis(250), self.core.next()).await;
        }
    }

    /// Presses keys by their key-file names, waiting for the effects they start.
    async fn press(&mut self, keys: &[&str]) {
        for k in keys {
            let chord: KeyChord = k.parse().expect("key");
            self.core
                .handle(Msg::Key(KeyEvent::new(chord.code(), chord.modifiers())));
            self.core.settle().await.expect("settled");
        }
    }

    async fn typed(&mut self, text: &str) {
        let keys: Vec<String> = text.chars().map(|c| c.to_string()).collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.press(&keys).await;
    }

    async fn command(&mut self, line: &str) {
        self.press(&[":"]).await;
        self.typed(line).await;
        self.press(&["enter"]).await;
    }

    /// The flash after a command: its answer, which must not be a refusal.
    fn said(&self) -> String {
        let text = self.core.app.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
        assert!(!text.contains("refused"), "{}: {text}", self.who);
        text
    }

    fn plan_hash(&self) -> Option<String> {
        self.core.app.board().and_then(|b| b.plan_hash().map(str::to_string))
    }
}

fn approved_by(app: &App, participant: &str, hash: &str) -> bool {
    app.board()
        .and_then(|b| b.participant(participant))
        .and_then(|l| l.approval.as_ref())
        .is_some_and(|a| a.plan_hash == hash)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screens_joined_to_one_session_share_a_payload_approve_and_run_to_the_end() {
    let mut d = Drill::up().await;
    let _coordinator = d.coordinator();
    let mut alice = Screen::open(&d, "alice", Some("participant1")).await;
    let mut bob = Screen::open(&d, "bob", Some("participant2")).await;
    let mut carol = Screen::open(&d, "carol", None).await;

    // Every screen sees the comparison built from both decks' manifests.
    for s in [&mut alice, &mut bob, &mut carol] {
        s.until("the federated comparison", |a| {
            a.data.as_ref().is_some_and(|d| d.comparison.participants().len() == 2)
        })
        .await;
    }
    let counts = carol
        .core
        .app
        .data
        .as_ref()
        .map(|d| d.comparison.counts())
        .expect("data");
    let mismatched = counts
        .iter()
        .find(|(c, _)| c.as_str() == "payload_mismatch")
        .map(|(_, n)| n);
    assert_eq!(mismatched, Some(1), "the diverged lab has one mismatched row");

    // alice asks for participant2's version of the mismatched row.
    alice.command("class mismatch").await;
    alice.press(&["R"]).await;
    let asked = alice.said();
    assert!(asked.contains("asked participant2's operator"), "{asked}");
    // Nothing is shared until bob says so on his screen.
    bob.until("the consent question", |a| {
        matches!(a.popup, Some(Popup::Ask(Ask::Share { .. }, _)))
    })
    .await;
    bob.press(&["tab", "enter"]).await;
    assert!(bob.said().contains("shared the payload"), "{}", bob.said());
    // The answer opens the diff on alice's screen: her copy against bob's.
    alice
        .until(
            "the diff of the shared payload",
            |a| matches!(&a.popup, Some(Popup::Diff(v)) if v.pairs.first() == Some(&(0, 1))),
        )
        .await;
    let Some(Popup::Diff(view)) = &alice.core.app.popup else {
        unreachable!()
    };
    assert!(
        view.lines.iter().any(|l| l.tag != DiffTag::Equal),
        "the two versions differ"
    );
    alice.press(&["esc"]).await;

    // The lead proposes a runbook file; alice approves it on her screen after typing the
    // target; bob's screen sees her approval.
    let runbook = d.union_plan("union.runbook.toml", "500");
    carol.command(&format!("propose {}", runbook.display())).await;
    assert!(carol.said().contains("proposed plan"), "{}", carol.said());
    let union = recovery_deck::runbook_file::read(&runbook)
        .expect("runbook")
        .loaded
        .plan;
    alice
        .until("the union proposal", |a| {
            a.board().and_then(|b| b.plan_hash()) == Some(union.hash())
        })
        .await;
    alice.press(&["a"]).await;
    alice.typed("newDomain").await;
    alice.press(&["enter"]).await;
    assert!(alice.said().contains("approved plan"), "{}", alice.said());
    bob.until("alice's approval", |a| approved_by(a, "participant1", union.hash()))
        .await;

    // The lead's own plan, made on the screen, replaces it: the approval is voided.
    carol.press(&["i", "p"]).await;
    carol
        .until("the intersection preview", |a| {
            matches!(a.plan, PlanState::Ready { .. })
        })
        .await;
    carol.press(&["o"]).await;
    assert!(carol.said().contains("proposed plan"), "{}", carol.said());
    let PlanState::Ready { plan, .. } = &carol.core.app.plan else {
        unreachable!()
    };
    let plan = plan.clone();
    alice
        .until("the new proposal, which voided the approval", |a| {
            a.board().is_some_and(|b| {
                b.plan_hash() == Some(plan.hash())
                    && b.participant("participant1").is_some_and(|l| l.approval.is_none())
                    && b.voided.as_ref().is_some_and(|v| v.approvals == ["participant1"])
            })
        })
        .await;

    // Both approve on their screens, the lead says go on hers.
    for s in [&mut alice, &mut bob] {
        s.until("the intersection proposal", |a| {
            a.board().and_then(|b| b.plan_hash()) == Some(plan.hash())
        })
        .await;
        s.press(&["a"]).await;
        s.typed("newDomain").await;
        s.press(&["enter"]).await;
        assert!(s.said().contains("approved plan"), "{}", s.said());
    }
    carol
        .until("both approvals", |a| {
            approved_by(a, "participant1", plan.hash()) && approved_by(a, "participant2", plan.hash())
        })
        .await;
    assert_eq!(carol.plan_hash().as_deref(), Some(plan.hash()));
    carol.press(&["x"]).await;
    carol.typed("newDomain").await;
    carol.press(&["enter"]).await;
    assert!(carol.said().contains("go for plan"), "{}", carol.said());

    // Each deck runs its own part inside its screen; every screen sees the end.
    for s in [&mut alice, &mut bob] {
        s.until("the deck's part, finished", |a| {
            a.joined
                .as_ref()
                .is_some_and(|j| j.deck == DeckState::Finished { ok: true })
        })
        .await;
        let exec = s.core.app.exec.as_ref().expect("the execution screen");
        assert!(exec.verified(), "{}: its participant verified", s.who);
    }
    for s in [&mut alice, &mut bob, &mut carol] {
        s.until("the session finished", |a| {
            a.board().is_some_and(|b| b.run == RunState::Finished)
        })
        .await;
    }
    assert_recovered(&d, &plan).await;
}

/// A node operator's participant down when the screen joins: the deck stops and says
/// so, and `r` starts it again once the participant is back. The coordinator lost while
/// screens are joined: they say so, keep what they show, follow the log again once it
/// is back on its port, and their commands go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joined_screens_ride_out_a_lost_participant_and_a_lost_coordinator() {
    let mut d = Drill::up().await;
    let coordinator = d.coordinator();
    d.lab.lab.kill("participant2").expect("kill participant2");
    let mut bob = Screen::open(&d, "bob", Some("participant2")).await;
    bob.until("the deck stopped", |a| {
        a.joined
            .as_ref()
            .is_some_and(|j| matches!(j.deck, DeckState::Stopped(_)))
    })
    .await;
    let said = bob.core.app.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(
        said.contains("your deck stopped") && said.contains("starts it again"),
        "{said}"
    );
    // The screen is in the session all the same: its stream is bob's presence.
    let mut alice = Screen::open(&d, "alice", Some("participant1")).await;
    alice
        .until("bob present, without a manifest", |a| {
            a.board()
                .and_then(|b| b.participant("participant2"))
                .is_some_and(|l| l.operators == [("bob".to_string(), true)] && l.contracts.is_none())
        })
        .await;
    d.lab.lab.start("participant2").expect("restart participant2");
    bob.press(&["r"]).await;
    assert!(
        bob.core
            .app
            .joined
            .as_ref()
            .is_some_and(|j| j.deck == DeckState::Serving),
        "refresh starts the deck again"
    );
    for s in [&mut alice, &mut bob] {
        s.until("the comparison", |a| a.data.is_some()).await;
    }

    // The coordinator goes away.
    let seq = alice.core.app.board().map(|b| b.head_seq).unwrap_or_default();
    drop(coordinator);
    alice
        .until("the coordinator unreachable", |a| {
            a.board().is_some_and(|b| !b.connected)
        })
        .await;
    assert!(alice.core.app.data.is_some(), "the comparison stays on screen");
    let _coordinator = d.coordinator();
    alice
        .until("the log followed again", |a| {
            a.board()
                .is_some_and(|b| b.connected && b.restarts == 1 && b.head_seq > seq)
        })
        .await;
    let s = d.ok("olga", &["status"]);
    for who in ["alice", "bob"] {
        assert_eq!(s["session"]["operators"][who]["present"], true, "{who} is back: {s:#}");
    }
    alice.command("class mismatch").await;
    alice.press(&["R"]).await;
    assert!(
        alice.said().contains("asked participant2's operator"),
        "{}",
        alice.said()
    );
    bob.until("the question", |a| {
        matches!(a.popup, Some(Popup::Ask(Ask::Share { .. }, _)))
    })
    .await;
}

/// `tui --join` refuses, with one line and before touching the terminal, what it cannot
/// do for the operator the credentials name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joined_screen_refuses_what_its_operator_may_not_do() {
    let mut d = Drill::up().await;
    let _coordinator = d.coordinator();
    let tui = |who: &str, extra: &[&str]| {
        let out = std::process::Command::new(common::drill::BIN)
            .args(["tui", "--join", &d.url, "--token-file"])
            .arg(d.dir.join(format!("{who}.token")))
            .args(extra)
            .output()
            .expect("tui");
        assert!(!out.status.success(), "{who} {extra:?} must be refused");
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        // The screen names its log file first; the cause is one line.
        let last = err.lines().last().unwrap_or_default().to_string();
        assert!(last.starts_with("error: "), "{err}");
        last
    };
    let p2 = d.dir.join("participant2.toml").display().to_string();
    let e = tui("carol", &["--participant", "participant1"]);
    assert!(
        e.contains("carol is a lead in this session and acts for no participant"),
        "{e}"
    );
    let e = tui("alice", &["--config", &p2]);
    assert!(e.contains("has no participant participant1"), "{e}");
    let e = tui("alice", &["--participant", "participant2", "--config", &p2]);
    assert!(e.contains("alice acts for participant1, not for participant2"), "{e}");
    let e = tui("alice", &["--operator", "bob"]);
    assert!(e.contains("belong to alice, not to bob"), "{e}");
    let e = tui("wrong", &[]);
    assert!(e.contains("not known to this coordinator"), "{e}");
    let out = std::process::Command::new(common::drill::BIN)
        .args(["tui", "--join", "http://10.0.0.5:7000", "--token-file"])
        .arg(d.dir.join("carol.token"))
        .output()
        .expect("tui");
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && e.contains("without TLS"), "{e}");
    let out = std::process::Command::new(common::drill::BIN)
        .args(["tui", "--participant", "participant1"])
        .output()
        .expect("tui");
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && e.contains("--join"), "{e}");
}
