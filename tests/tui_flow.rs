//! Flow tests: key events through the real app and its effects over a real lab, waiting
//! for the app to be idle (every request answered) instead of sleeping.

mod common;

use common::TestLab;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use recovery_deck::config::IncidentConfig;
use recovery_deck::journal;
use recovery_deck::lab::scenario::Scenario;
use recovery_deck::reconcile::RowClass;
use recovery_deck::tui::app::{Compared, PlanState, Popup, Screen, SurveyState};
use recovery_deck::tui::core::Core;
use recovery_deck::tui::keymap::Keymap;
use recovery_deck::tui::launch::{self, TuiOptions};
use recovery_deck::tui::msg::Msg;
use recovery_deck::tui::theme::Theme;
use recovery_deck::tui::ui;

struct Screenful {
    core: Core,
    terminal: Terminal<TestBackend>,
    theme: Theme,
}

impl Screenful {
    async fn open(lab: &TestLab, read_only: bool) -> Screenful {
        Screenful::open_with(lab, read_only, Keymap::defaults()).await
    }

    async fn open_with(lab: &TestLab, read_only: bool, keymap: Keymap) -> Screenful {
        let cfg = IncidentConfig::load(&lab.lab.incident_path()).expect("config");
        let theme = Theme::preset("dark").expect("theme");
        let opts = TuiOptions {
            read_only,
            theme: theme.clone(),
            keymap,
            journal: lab.dir.path().join("screen.journal.jsonl"),
            operator: "tester".into(),
            batch_size: 500,
        };
        let mut core = launch::core(&cfg, &opts).expect("core");
        // As under --record: a marker per decision, taken by the test instead of a recording.
        core.mark_decisions();
        core.start();
        core.settle().await.expect("settled");
        let terminal = Terminal::new(TestBackend::new(120, 36)).expect("terminal");
        let mut s = Screenful { core, terminal, theme };
        s.draw();
        s
    }

    fn draw(&mut self) {
        ui::render(&mut self.terminal, &mut self.core.app, &self.theme).expect("draw");
    }

    async fn key(&mut self, code: KeyCode) {
        self.chord(KeyEvent::new(code, KeyModifiers::NONE)).await;
    }

    async fn chord(&mut self, key: KeyEvent) {
        self.core.handle(Msg::Key(key));
        self.core.settle().await.expect("settled");
        self.draw();
    }

    async fn press(&mut self, c: char) {
        self.key(KeyCode::Char(c)).await;
    }

    async fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(c).await;
        }
    }

    fn screen(&self) -> String {
        let buffer = self.terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..buffer.area.height {
            for x in 0..buffer.area.width {
                out.push_str(buffer[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intersection_preview_confirm_and_run_to_verified() {
    let lab = TestLab::up(Scenario::Diverged).await;
    let mut s = Screenful::open(&lab, false).await;
    assert!(matches!(s.core.app.survey, SurveyState::Ready));
    let screen = s.screen();
    assert!(
        screen.contains("participant1") && screen.contains("participant2"),
        "{screen}"
    );
    assert!(
        screen.contains("agreed 4") && screen.contains("missing 2") && screen.contains("archived 2"),
        "{screen}"
    );
    assert!(
        screen.contains("in flight 1"),
        "participant2's abandoned transaction shows: {screen}"
    );

    s.press('i').await;
    s.press('p').await;
    assert_eq!(s.core.app.screen, Screen::Plan);
    assert!(matches!(s.core.app.plan, PlanState::Ready { .. }), "plan built");
    assert!(s.screen().contains("4 contract(s) move"), "{}", s.screen());

    s.press('x').await;
    assert!(matches!(s.core.app.popup, Some(Popup::Confirm(_))));
    assert!(s.screen().contains("Type newDomain to execute"), "{}", s.screen());
    // A wrong alias does not run anything.
    s.type_text("newdomain").await;
    s.key(KeyCode::Enter).await;
    assert!(matches!(s.core.app.popup, Some(Popup::Confirm(_))), "still asking");
    assert!(s.core.app.exec.is_none());
    for _ in 0.."newdomain".len() {
        s.key(KeyCode::Backspace).await;
    }
    s.type_text("newDomain").await;
    s.key(KeyCode::Enter).await;

    assert_eq!(s.core.app.screen, Screen::Execution);
    let exec = s.core.app.exec.as_ref().expect("execution");
    assert!(exec.finished && exec.verified(), "run verified: {:?}", exec.report);
    // The markers a recording gets: each decision, in order, the run's own events included.
    let marks = s.core.take_marks();
    let at = |label: &str| {
        marks
            .iter()
            .position(|m| m.starts_with(label))
            .unwrap_or_else(|| panic!("no {label:?} in {marks:?}"))
    };
    let order = [
        at("strategy intersection"),
        at("plan proposed "),
        at("plan confirmed "),
        at("run started "),
        at("run finished ok "),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{marks:?}");
    let screen = s.screen();
    assert!(screen.contains("VERIFIED"), "{screen}");
    assert!(screen.contains("journal ("), "{screen}");
    // The post-run screen offers what comes next, not pausing.
    assert!(
        !screen.contains("space pause") && screen.contains("t target"),
        "{screen}"
    );

    // The comparison on the target: what the run moved, held the same everywhere.
    s.press('t').await;
    assert_eq!(
        (s.core.app.screen, s.core.app.compared),
        (Screen::Main, Compared::Target)
    );
    let screen = s.screen();
    assert!(screen.contains("contracts on newDomain"), "{screen}");
    let data = s.core.app.data.as_ref().expect("the target's comparison");
    assert_eq!(data.comparison.synchronizer(), "newDomain");
    let counts = data.comparison.counts();
    assert_eq!(
        (counts.total(), counts.get(RowClass::Agreed)),
        (4, 4),
        "the four moved contracts, agreed: {screen}"
    );
    assert!(!screen.contains("│● "), "no fate markers on the target: {screen}");

    // The journal holds the whole session: what was seen, chosen, confirmed and done.
    let j = recovery_deck::journal::read(&lab.dir.path().join("screen.journal.jsonl")).expect("journal");
    for kind in [
        "session.open",
        "search.result",
        "select.mode",
        "plan.proposed",
        "plan.approved",
        "session.start",
        "phase.done",
        "verify.result",
        "session.end",
    ] {
        assert!(j.of_kind(kind).count() > 0, "journal has {kind}");
    }
    assert!(
        j.of_kind("search.result")
            .any(|e| e.data["synchronizer"] == "newDomain"),
        "the comparison on the target is on the record"
    );
    s.press('q').await;
    assert!(s.core.app.quit);

    // Closing the screen seals the journal; what the screen showed and proposed is pinned
    // beside it, whole, and reads back as what was on screen.
    s.core.close();
    let path = lab.dir.path().join("screen.journal.jsonl");
    let j = journal::verify(&path).expect("a whole journal");
    assert_eq!(j.seal(), journal::Seal::Sealed);
    let loaded = journal::report::load(&path).expect("load");
    assert!(
        loaded.integrity.problems().is_empty(),
        "{:?}",
        loaded.integrity.problems()
    );
    assert_eq!(loaded.integrity.pins.len(), 3, "two comparisons and a runbook");
    let proposed = j
        .bodies()
        .find_map(|b| match b {
            journal::EventData::PlanProposed(p) => Some(p.clone()),
            _ => None,
        })
        .expect("proposed");
    assert_eq!(
        loaded.plan.as_ref().expect("the pinned plan").plan.hash(),
        proposed.plan_hash
    );
    assert_eq!(loaded.survey.as_ref().expect("the pinned survey").rows(), 9);
    let last_survey = j
        .bodies()
        .filter_map(|b| match b {
            journal::EventData::Surveyed(s) => s.snapshot.clone(),
            _ => None,
        })
        .last()
        .expect("a pinned comparison");
    assert!(proposed.survey.is_some(), "the plan names the survey it came from");
    let file = std::fs::File::open(journal::pins::resolve(&path, &last_survey).expect("inside")).expect("open");
    let again = journal::snapshot::to_comparison(journal::snapshot::SnapshotReader::open(file).expect("reader"))
        .expect("rebuilt");
    assert_eq!(
        &again,
        s.core.app.data.as_ref().expect("on screen").comparison.as_ref(),
        "the pinned comparison is the one on screen"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn union_needs_decisions_which_are_taken_on_the_rows() {
    let lab = TestLab::up(Scenario::Diverged).await;
    let mut s = Screenful::open(&lab, false).await;
    s.press('u').await;
    s.press('p').await;
    let PlanState::Blocked(_) = &s.core.app.plan else {
        panic!("union is blocked until the archived rows are decided");
    };
    assert!(s.screen().contains("need a decision"), "{}", s.screen());
    s.key(KeyCode::Esc).await;
    // Cycle the class filter to the archived rows and decide each.
    for _ in 0..3 {
        s.press('c').await;
    }
    assert_eq!(s.core.app.table.rows.len(), 2, "{}", s.screen());
    s.press('P').await;
    s.press('j').await;
    s.press('E').await;
    // Then the row whose payloads differ: left on the lost synchronizer.
    s.press('c').await;
    assert_eq!(s.core.app.table.rows.len(), 1, "{}", s.screen());
    s.press('E').await;
    s.press('p').await;
    assert!(matches!(s.core.app.plan, PlanState::Ready { .. }), "{}", s.screen());
    assert!(s.screen().contains("6 contract(s) move"), "{}", s.screen());
    // The diff popup opens on a row and cycles pairs.
    s.key(KeyCode::Esc).await;
    s.key(KeyCode::Esc).await;
    s.key(KeyCode::Enter).await;
    assert!(matches!(s.core.app.popup, Some(Popup::Diff(_))), "{}", s.screen());
    assert!(s.screen().contains("payload"), "{}", s.screen());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_leaves_destructive_keys_unbound() {
    let lab = TestLab::up(Scenario::Diverged).await;
    let mut s = Screenful::open(&lab, true).await;
    assert!(s.screen().contains("[RO]"), "{}", s.screen());
    s.press('i').await;
    assert!(
        s.core.app.choice.strategy().is_none(),
        "i is not bound in read-only mode"
    );
    s.press('x').await;
    assert!(s.core.app.popup.is_none());
    s.press(' ').await;
    assert!(s.core.app.choice.picked().is_empty());
    // Reading is allowed: filter, diff, help.
    s.press('?').await;
    assert!(matches!(s.core.app.popup, Some(Popup::Help(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_handled_while_the_survey_is_outstanding() {
    let lab = TestLab::up(Scenario::Diverged).await;
    let cfg = IncidentConfig::load(&lab.lab.incident_path()).expect("config");
    let opts = TuiOptions {
        read_only: false,
        theme: Theme::preset("dark").expect("theme"),
        keymap: Keymap::defaults(),
        journal: lab.dir.path().join("screen.journal.jsonl"),
        operator: "tester".into(),
        batch_size: 500,
    };
    let mut core = launch::core(&cfg, &opts).expect("core");
    core.start();
    // The survey runs in other tasks: the app answers keys before any result arrives.
    assert!(!core.idle(), "requests are outstanding");
    assert!(matches!(core.app.survey, SurveyState::Loading));
    core.handle(Msg::Key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE)));
    assert!(matches!(core.app.popup, Some(Popup::Help(_))));
    core.handle(Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::NONE)));
    core.handle(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    core.handle(Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::NONE)));
    assert!(
        core.app.choice.strategy().is_some(),
        "a strategy can be chosen while loading"
    );
    core.settle().await.expect("settled");
    assert!(matches!(core.app.survey, SurveyState::Ready));
    assert_eq!(core.app.table.rows.len(), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmation_key_rebound_in_a_keys_file_confirms() {
    let lab = TestLab::up(Scenario::Diverged).await;
    let keys = lab.dir.path().join("keys.toml");
    std::fs::write(&keys, "[keys.confirm]\n\"enter\" = \"none\"\n\"ctrl-s\" = \"submit\"\n").expect("keys file");
    let keymap = Keymap::load(&keys).expect("keys file loads");
    let mut s = Screenful::open_with(&lab, false, keymap).await;
    s.press('i').await;
    s.press('p').await;
    s.press('x').await;
    assert!(matches!(s.core.app.popup, Some(Popup::Confirm(_))));
    s.type_text("newDomain").await;
    assert!(
        s.screen().contains("ctrl-s chooses"),
        "the popup names the bound key: {}",
        s.screen()
    );
    s.key(KeyCode::Enter).await;
    assert!(s.core.app.exec.is_none(), "enter is unbound in the confirmation");
    assert!(matches!(s.core.app.popup, Some(Popup::Confirm(_))));
    s.chord(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)).await;
    let exec = s.core.app.exec.as_ref().expect("ctrl-s executed the plan");
    assert!(exec.finished && exec.verified(), "run verified: {:?}", exec.report);
}

impl Screenful {
    /// Types a `:` command and runs it.
    async fn command(&mut self, text: &str) {
        self.press(':').await;
        self.type_text(text).await;
        self.key(KeyCode::Enter).await;
    }

    fn flash(&self) -> String {
        self.core.app.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default()
    }

    fn plan_hash(&self) -> Option<String> {
        match &self.core.app.plan {
            PlanState::Ready { plan, .. } => Some(plan.hash().to_string()),
            _ => None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_then_load_round_trips_the_plan_and_a_drifted_or_foreign_runbook_says_so() {
    use recovery_deck::client::ParticipantApi;
    use std::os::unix::fs::MetadataExt as _;
    let lab = TestLab::up(Scenario::Diverged).await;
    let mut s = Screenful::open(&lab, false).await;
    s.press('i').await;
    s.press('p').await;
    let hash = s.plan_hash().expect("a plan on screen");
    let runbook = lab.dir.path().join("saved").join("screen.runbook.toml");
    s.command(&format!("save {}", runbook.display())).await;
    assert!(s.flash().contains("saved to"), "{}", s.flash());
    assert_eq!(std::fs::metadata(&runbook).expect("runbook").mode() & 0o777, 0o600);
    let file = recovery_deck::runbook_file::read(&runbook).expect("the runbook `run` reads");
    assert_eq!(file.loaded.plan.hash(), hash, "the file holds the plan on screen");
    assert_eq!(file.loaded.meta.proposed_by, "tester");

    // Another choice drops the plan; :load brings the saved one back, checked and clean.
    s.key(KeyCode::Esc).await;
    s.press('u').await;
    assert!(s.plan_hash().is_none());
    s.command(&format!("load {}", runbook.display())).await;
    assert_eq!(s.core.app.screen, Screen::Plan);
    assert_eq!(
        s.plan_hash().as_deref(),
        Some(hash.as_str()),
        "the same plan, by its hash"
    );
    let loaded = s.core.app.loaded.as_ref().expect("loaded from a file");
    assert!(loaded.drift.is_empty(), "{:?}", loaded.drift);
    assert!(s.flash().contains("still hold what it was made from"), "{}", s.flash());
    assert!(s.screen().contains("loaded from"), "{}", s.screen());
    let j = recovery_deck::journal::read(&lab.dir.path().join("screen.journal.jsonl")).expect("journal");
    assert_eq!(
        j.of_kind("plan.proposed")
            .filter(|e| e.data["plan_hash"] == hash.as_str())
            .count(),
        2,
        "the loaded plan is on the record as proposed again"
    );

    // participant1 loses a contract the plan expects (purged while disconnected).
    let gone = file.loaded.plan.expected("participant1").expect("expected").active[0].to_string();
    let api = lab.client("participant1");
    api.disconnect(recovery_deck::lab::scenario::LOST)
        .await
        .expect("disconnect");
    api.purge(recovery_deck::lab::scenario::LOST, std::slice::from_ref(&gone), false)
        .await
        .expect("purge");
    s.key(KeyCode::Esc).await;
    s.command(&format!("load {}", runbook.display())).await;
    let loaded = s.core.app.loaded.as_ref().expect("loaded, with its drift");
    assert_eq!(loaded.drift.len(), 1, "{:?}", loaded.drift);
    assert_eq!(loaded.drift[0].participant, "participant1");
    let rows: Vec<(String, recovery_deck::plan::DriftKind)> = loaded.drift[0]
        .drift
        .rows
        .iter()
        .map(|r| (r.contract_id.to_string(), r.kind()))
        .collect();
    assert_eq!(rows, [(gone.clone(), recovery_deck::plan::DriftKind::Disappeared)]);
    assert!(s.flash().contains("drifted"), "{}", s.flash());
    let screen = s.screen();
    assert!(screen.contains("drifted since the plan was made"), "{screen}");
    assert!(screen.contains("participant1: 1 gone"), "{screen}");

    // A runbook of another incident is refused and leaves the screen's plan alone.
    let cfg = IncidentConfig::load(&lab.lab.incident_path()).expect("config");
    let apis: Vec<std::sync::Arc<dyn ParticipantApi>> = cfg
        .participants
        .iter()
        .map(|p| {
            std::sync::Arc::new(recovery_deck::client::GrpcParticipant::from_config(p).expect("client"))
                as std::sync::Arc<dyn ParticipantApi>
        })
        .collect();
    let other = recovery_deck::survey::Incident {
        name: "another-incident",
        lost: recovery_deck::lab::scenario::LOST,
        target: recovery_deck::lab::scenario::TARGET,
    };
    let request = recovery_deck::reconcile::SelectionRequest::new(recovery_deck::reconcile::Strategy::Intersection);
    let (foreign, _) = recovery_deck::survey::propose(&apis, &other, &request, 500)
        .await
        .expect("plan");
    let foreign_path = lab.dir.path().join("foreign.runbook.toml");
    let meta = recovery_deck::plan::RunbookMeta {
        created: "2026-12-07T00:00:00Z".into(),
        proposed_by: "someone".into(),
    };
    recovery_deck::runbook_file::write(&foreign_path, &foreign, &meta).expect("write");
    s.command(&format!("load {}", foreign_path.display())).await;
    assert!(
        s.flash().contains("not loaded") && s.flash().contains("incident another-incident"),
        "{}",
        s.flash()
    );
    assert_eq!(
        s.plan_hash().as_deref(),
        Some(hash.as_str()),
        "the plan on screen stays"
    );

    // Without a plan there is nothing to save; without a file name, nothing to do.
    s.command("save").await;
    assert!(s.flash().contains("needs a file name"), "{}", s.flash());
}
