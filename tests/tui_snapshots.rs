//! Every screen rendered through ratatui's TestBackend at 80×24 and 200×50, and the
//! styled rendering of the main screens in every theme, as insta snapshots. The data is
//! synthetic and fixed, so the snapshots are stable.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use recovery_deck::canton_error::Category;
use recovery_deck::client::{InFlight, IncompleteKind, IncompleteReassignment};
use recovery_deck::exec::{Progress, RunReport};
use recovery_deck::failure::{Failure, FailureKind};
use recovery_deck::journal::{
    Actor, Call, CallAnswered, CallSent, Event, EventData, PingResult, Rpc, Surveyed, VerifyReport,
};
use recovery_deck::plan::{self, PhaseKind};
use recovery_deck::reconcile::{
    ContractSummary, Inspection, InspectionResult, Interner, ParticipantSnapshot, RowClass, StrategyName, UndecidedRow,
    compare,
};
use recovery_deck::survey::status::{ParticipantReport, SynchronizerStatus};
use recovery_deck::survey::{Payloads, payload_digest};
use recovery_deck::tui::app::{App, Context};
use recovery_deck::tui::app::{Compared, Popup, Screen};
use recovery_deck::tui::keymap::{KeyChord, Keymap};
use recovery_deck::tui::msg::Effect;
use recovery_deck::tui::msg::{Msg, PlanProblem, SurveyData};
use recovery_deck::tui::theme::Theme;
use recovery_deck::tui::ui;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const ALICE: &str = "Alice::1220aaaa";
const BOB: &str = "Bob::1220bbbb";
const P1: &str = "participant1";
const P2: &str = "participant2";

fn id(n: u8) -> String {
    format!("00{:02x}{}", n, "c0ffee".repeat(22))
}

fn iou(payer: &str, owner: &str, amount: &str) -> Value {
    json!({"payer": payer, "owner": owner, "amount": {"value": amount, "currency": "USD"}, "viewers": []})
}

/// Six contracts, one of each interesting kind, as two participants see them.
fn survey() -> SurveyData {
    survey_on("lostDomain")
}

fn survey_on(synchronizer: &str) -> SurveyData {
    let mut interner = Interner::new();
    let mut snaps = [
        (P1, ALICE, Vec::new(), Payloads::new()),
        (P2, BOB, Vec::new(), Payloads::new()),
    ];
    let rows: [(u8, &[usize], Value, Option<Value>); 6] = [
        (1, &[0, 1], iou(ALICE, BOB, "100.0000000000"), None),
        (2, &[0, 1], iou(BOB, ALICE, "110.0000000000"), None),
        (3, &[0], iou(ALICE, BOB, "160.0000000000"), None),
        (4, &[1], iou(BOB, ALICE, "130.0000000000"), None),
        (
            5,
            &[0, 1],
            iou(ALICE, BOB, "140.0000000000"),
            Some(iou(ALICE, BOB, "140.5000000000")),
        ),
        (
            6,
            &[0],
            json!({"payer": ALICE, "owner": ALICE, "amount": {"value": "1.0000000000", "currency": "EUR"}, "viewers": []}),
            None,
        ),
    ];
    for (n, holders, payload, other) in rows {
        for &h in holders {
            let p = if h == 1 {
                other.clone().unwrap_or(payload.clone())
            } else {
                payload.clone()
            };
            let parties: Vec<String> = if n == 6 {
                vec![ALICE.into()]
            } else {
                vec![ALICE.into(), BOB.into()]
            };
            let signatories = vec![p["payer"].as_str().unwrap_or_default().to_string()];
            let observers = vec![p["owner"].as_str().unwrap_or_default().to_string()];
            let digest = payload_digest("Iou:Iou", &p, &signatories, &observers);
            let s = ContractSummary::new(
                id(n).as_str(),
                interner.name("Iou:Iou"),
                interner.stakeholders(&parties),
                digest,
            );
            snaps[h].3.insert(s.contract_id.clone(), p);
            snaps[h].2.push(s);
        }
    }
    let snapshots: Vec<ParticipantSnapshot> = snaps
        .iter()
        .map(|(name, party, contracts, _)| ParticipantSnapshot {
            participant: name.to_string(),
            hosted_parties: [party.to_string()].into(),
            contracts: contracts.clone(),
        })
        .collect();
    let mut inspection = Inspection::new();
    inspection.record(P1, id(4).as_str(), InspectionResult::Archived);
    let comparison = compare(synchronizer, &snapshots, &inspection).expect("compare");
    let in_flight = BTreeMap::from([
        (P1.to_string(), plan::InFlight::default()),
        (
            P2.to_string(),
            plan::InFlight {
                pending_submissions: 0,
                pending_transactions: 1,
            },
        ),
    ]);
    SurveyData {
        comparison: Arc::new(comparison),
        payloads: Arc::new(snaps.into_iter().map(|s| s.3).collect()),
        in_flight,
        hosted: Default::default(),
        snapshot: Default::default(),
        incomplete: BTreeMap::new(),
    }
}

/// The survey with contracts between synchronizers: participant1 sees one unassigned
/// from the lost synchronizer and never assigned (in no row), participant2 that one and
/// the missing row's contract, which it saw unassigned from the target towards the lost
/// synchronizer and never assigned there.
fn survey_between() -> SurveyData {
    let between = |n: u8, source: &str, target: &str| IncompleteReassignment {
        contract_id: id(n),
        kind: IncompleteKind::Unassigned,
        source: format!("{source}::1220"),
        target: format!("{target}::1220"),
    };
    SurveyData {
        incomplete: BTreeMap::from([
            (P1.to_string(), vec![between(7, "lostDomain", "newDomain")]),
            (
                P2.to_string(),
                vec![
                    between(7, "lostDomain", "newDomain"),
                    between(3, "newDomain", "lostDomain"),
                ],
            ),
        ]),
        ..survey()
    }
}

fn report(name: &str, party: &str) -> ParticipantReport {
    let sync = |alias: &str, connected: bool, healthy: Option<bool>, ever: bool, in_flight: u32| SynchronizerStatus {
        alias: alias.into(),
        connected,
        healthy,
        manual_connect: alias == "newDomain",
        ever_connected: ever,
        synchronizer_id: ever.then(|| format!("{alias}::1220")),
        in_flight: ever.then_some(InFlight {
            pending_submissions: 0,
            pending_transactions: in_flight,
        }),
    };
    ParticipantReport {
        participant: name.into(),
        reachable: true,
        error: None,
        uid: Some(format!("PAR::{name}::1220")),
        version: Some("3.5.10".into()),
        canton: Some(recovery_deck::client::version::Line::V3_5),
        unsupported: None,
        parties: vec![party.into()],
        synchronizers: vec![
            sync("lostDomain", true, Some(false), true, u32::from(name == P2)),
            sync("newDomain", false, None, false, 0),
        ],
    }
}

fn app(read_only: bool) -> App {
    let ctx = Context {
        incident: "lab-diverged".into(),
        lost: "lostDomain".into(),
        target: "newDomain".into(),
        operator: "alice".into(),
        participants: vec![P1.into(), P2.into()],
        read_only,
        theme: "dark".into(),
    };
    let keymap = if read_only {
        Keymap::defaults().read_only()
    } else {
        Keymap::defaults()
    };
    App::new(ctx, keymap)
}

fn loaded(read_only: bool) -> App {
    loaded_with(read_only, survey())
}

fn loaded_with(read_only: bool, data: SurveyData) -> App {
    let mut a = app(read_only);
    a.start();
    let generation = a.generation;
    a.update(Msg::Status {
        generation,
        report: report(P1, ALICE),
    });
    a.update(Msg::Status {
        generation,
        report: report(P2, BOB),
    });
    a.update(Msg::Survey {
        generation,
        result: Ok(data),
    });
    a
}

fn key(a: &mut App, code: KeyCode) {
    a.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// Presses a key by its key-file name (`G`, `pagedown`, `ctrl-d`).
fn press(a: &mut App, name: &str) -> Vec<Effect> {
    let chord: KeyChord = name.parse().expect("key name");
    a.update(Msg::Key(KeyEvent::new(chord.code(), chord.modifiers())))
}

fn chars(a: &mut App, s: &str) {
    for c in s.chars() {
        key(a, KeyCode::Char(c));
    }
}

/// The app with a union plan decided and built.
fn planned() -> App {
    planned_with(survey())
}

fn planned_with(data: SurveyData) -> App {
    let mut a = loaded_with(false, data.clone());
    chars(&mut a, "u");
    // Decide the archived and the mismatched rows.
    a.update(Msg::Key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE)));
    chars(&mut a, &format!("goto {}", &id(4)[..6]));
    key(&mut a, KeyCode::Enter);
    chars(&mut a, "P");
    key(&mut a, KeyCode::Char(':'));
    chars(&mut a, &format!("goto {}", &id(5)[..6]));
    key(&mut a, KeyCode::Enter);
    chars(&mut a, "E");
    chars(&mut a, "p");
    let request = a.choice.request().cloned().expect("request");
    let incident = recovery_deck::survey::Incident {
        name: "lab-diverged",
        lost: "lostDomain",
        target: "newDomain",
    };
    let plan = recovery_deck::survey::plan_from_parts(&data.comparison, &data.in_flight, &incident, &request, 500)
        .expect("plan");
    let generation = a.generation;
    a.update(Msg::Plan {
        generation,
        result: Ok(Arc::new(plan)),
        record: Default::default(),
    });
    a
}

fn event(seq: u64, node: Option<&str>, body: EventData) -> Event {
    let (kind, data) = body.to_parts().expect("parts");
    Event {
        seq,
        ts: "2026-11-26T00:00:00.000Z".into(),
        t: seq as f64,
        actor: Actor {
            op: "alice".into(),
            node: node.map(str::to_string),
        },
        kind: kind.into(),
        data,
        prev: String::new(),
        hash: String::new(),
        body: Some(body),
    }
}

const HASH: &str = "sha256:9f197fe82cd262f4";

fn move_call(phase: PhaseKind) -> EventData {
    EventData::CallSent(CallSent {
        plan_hash: HASH.into(),
        phase,
        attempt: 1,
        call: Call::ChangeAssignation {
            source: "lostDomain".into(),
            target: "newDomain".into(),
            skip_inactive: true,
            ids: 4,
            ids_digest: "sha256:00".into(),
            first_id: None,
        },
        request_digest: "sha256:01".into(),
    })
}

fn answered(phase: PhaseKind, rpc: Rpc) -> EventData {
    EventData::CallAnswered(CallAnswered {
        phase,
        rpc,
        attempt: 1,
        ok: true,
        duration_ms: 3,
        request_digest: "sha256:01".into(),
        code: None,
        category: None,
        grpc: None,
        error: None,
        retry_after_ms: None,
    })
}

/// Execution up to `until` phases done; finished and verified when `until` is all seven.
fn executing(until: usize, fail: bool) -> App {
    let mut a = planned();
    chars(&mut a, "x");
    chars(&mut a, "newDomain");
    key(&mut a, KeyCode::Enter);
    let mut seq = 0;
    let mut ev = |a: &mut App, node: Option<&str>, body: EventData| {
        seq += 1;
        a.update(Msg::Exec(Progress::Journal(Box::new(event(seq, node, body)))));
    };
    a.update(Msg::Exec(Progress::Preflight {
        problems: Vec::new(),
        warnings: Vec::new(),
    }));
    for (i, phase) in PhaseKind::ALL.iter().enumerate().take(until) {
        a.update(Msg::Exec(Progress::PhaseStarted {
            phase: *phase,
            participants: vec![P1.into(), P2.into()],
        }));
        ev(
            &mut a,
            None,
            EventData::PhaseStarted {
                plan_hash: HASH.into(),
                phase: *phase,
                participants: vec![P1.into(), P2.into()],
            },
        );
        for p in [P1, P2] {
            ev(&mut a, Some(p), move_call(*phase));
            ev(&mut a, Some(p), answered(*phase, Rpc::ChangeAssignation));
        }
        if fail && i + 1 == until {
            a.update(Msg::Exec(Progress::Advance {
                phase: *phase,
                participant: P2.into(),
                done: 1,
                total: 4,
            }));
            a.update(Msg::Exec(Progress::StepFailed {
                phase: *phase,
                participant: P2.into(),
                failure: Failure::new(
                    FailureKind::Canton {
                        code: "CONTRACT_ASSIGNATION_CHANGE_ERROR".into(),
                        category: Some(Category::InvalidGivenCurrentSystemStateOther),
                    },
                    Some(P2),
                    "participant2: ChangeAssignation failed: CONTRACT_ASSIGNATION_CHANGE_ERROR: There are still synchronizers connected. Please disconnect all synchronizers.",
                ),
            }));
            ev(
                &mut a,
                Some(P2),
                EventData::PhaseFailed {
                    plan_hash: HASH.into(),
                    phase: *phase,
                    error: "CONTRACT_ASSIGNATION_CHANGE_ERROR".into(),
                    code: Some("CONTRACT_ASSIGNATION_CHANGE_ERROR".into()),
                },
            );
            a.update(Msg::Exec(Progress::Finished(RunReport {
                ok: false,
                journal: "incident.journal.jsonl".into(),
                ..RunReport::default()
            })));
            a.update(Msg::ExecDone(Err(Failure::new(
                FailureKind::Canton {
                    code: "CONTRACT_ASSIGNATION_CHANGE_ERROR".into(),
                    category: Some(Category::InvalidGivenCurrentSystemStateOther),
                },
                Some(P2),
                "phase move failed on participant2",
            ))));
            return a;
        }
        if *phase == PhaseKind::Verify {
            for (p, other) in [(P1, P2), (P2, P1)] {
                ev(
                    &mut a,
                    Some(p),
                    EventData::Verified(VerifyReport {
                        participant: p.into(),
                        ok: true,
                        expected: 5,
                        held: 5,
                        missing: Vec::new(),
                        unexpected: Vec::new(),
                        pings: vec![PingResult {
                            to: other.into(),
                            ok: true,
                            millis: Some(12),
                            reason: None,
                        }],
                        archived_since: Vec::new(),
                    }),
                );
            }
        }
        a.update(Msg::Exec(Progress::PhaseDone { phase: *phase }));
        ev(
            &mut a,
            None,
            EventData::PhaseDone {
                plan_hash: HASH.into(),
                phase: *phase,
            },
        );
    }
    if until == PhaseKind::ALL.len() {
        let report = RunReport {
            ok: true,
            moved: BTreeMap::from([(P1.into(), 5), (P2.into(), 5)]),
            added: BTreeMap::from([(P1.into(), 0), (P2.into(), 1)]),
            skipped: BTreeMap::from([(P1.into(), 0), (P2.into(), 0)]),
            journal: "incident.journal.jsonl".into(),
            error: None,
            dry_run: false,
            drift: Vec::new(),
        };
        a.update(Msg::Exec(Progress::Finished(report.clone())));
        a.update(Msg::ExecDone(Ok(report)));
    } else {
        a.update(Msg::Exec(Progress::Advance {
            phase: PhaseKind::ALL[until],
            participant: P1.into(),
            done: 2,
            total: 5,
        }));
    }
    a
}

fn render(app: &mut App, width: u16, height: u16, theme: &Theme) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    ui::render(&mut terminal, app, theme).expect("draw");
    terminal
}

fn screens() -> Vec<(&'static str, App)> {
    let mut filtered = loaded(false);
    chars(&mut filtered, "cc");
    let mut diff = loaded(false);
    key(&mut diff, KeyCode::Char(':'));
    chars(&mut diff, &format!("goto {}", &id(5)[..6]));
    key(&mut diff, KeyCode::Enter);
    key(&mut diff, KeyCode::Enter);
    let mut help = loaded(false);
    chars(&mut help, "?");
    let mut command = loaded(false);
    chars(&mut command, ":goto 00");
    let mut prompt = loaded(false);
    chars(&mut prompt, "/Iou");
    let mut blocked = loaded(false);
    chars(&mut blocked, "up");
    let generation = blocked.generation;
    blocked.update(Msg::Plan {
        generation,
        result: Err(PlanProblem::Undecided(vec![
            UndecidedRow {
                contract_id: id(4).as_str().into(),
                class: RowClass::ArchivedSomewhere,
            },
            UndecidedRow {
                contract_id: id(5).as_str().into(),
                class: RowClass::PayloadMismatch,
            },
        ])),
        record: Default::default(),
    });
    let mut confirm = planned();
    chars(&mut confirm, "xnewDo");
    let mut journal = loaded(false);
    chars(&mut journal, "iJ");
    journal.update(Msg::Recorded(Box::new(event(
        1,
        None,
        EventData::Surveyed(Surveyed {
            synchronizer: "lostDomain".into(),
            classes: BTreeMap::from([("agreed".into(), 2), ("missing".into(), 1)]),
            contracts: BTreeMap::new(),
            snapshot: None,
        }),
    ))));
    journal.update(Msg::Recorded(Box::new(event(
        2,
        None,
        EventData::StrategyChosen {
            strategy: StrategyName::Intersection,
        },
    ))));
    vec![
        ("main_loading", app(false)),
        ("main", loaded(false)),
        ("main_read_only", loaded(true)),
        ("main_union_decided", {
            let mut a = planned();
            key(&mut a, KeyCode::Esc);
            a
        }),
        ("main_filtered", filtered),
        ("main_with_journal", journal),
        ("filter_prompt", prompt),
        ("command_prompt", command),
        ("diff", diff),
        ("help", help),
        ("plan_blocked", blocked),
        ("plan_ready", planned()),
        ("confirm", confirm),
        ("execution_running", executing(4, false)),
        ("quit_while_running", {
            let mut a = executing(4, false);
            key(&mut a, KeyCode::Char('q'));
            a
        }),
        ("execution_failed", executing(5, true)),
        ("execution_verified", executing(7, false)),
        ("main_between_synchronizers", loaded_with(false, survey_between())),
        ("plan_between_synchronizers", planned_with(survey_between())),
    ]
}

#[test]
fn every_screen_at_both_sizes() {
    let theme = Theme::preset("dark").expect("dark");
    for (name, mut app) in screens() {
        for (w, h) in [(80, 24), (200, 50)] {
            let terminal = render(&mut app, w, h, &theme);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend());
        }
    }
}

#[test]
fn every_theme_styles_the_main_screens() {
    for theme_name in ["dark", "light", "high-contrast", "mono"] {
        let theme = Theme::preset(theme_name).expect("theme");
        for (name, mut app) in screens()
            .into_iter()
            .filter(|(n, _)| ["main_union_decided", "confirm", "execution_verified"].contains(n))
        {
            let terminal = render(&mut app, 80, 24, &theme);
            insta::assert_debug_snapshot!(format!("{name}_{theme_name}"), terminal.backend().buffer());
        }
    }
}

fn text(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// Presses each key in turn and draws after each, as the terminal does; returns every
/// frame, headed by the key that led to it.
fn scrolled(app: &mut App, (w, h): (u16, u16), keys: &[&str]) -> Vec<(String, String)> {
    let theme = Theme::preset("dark").expect("dark");
    render(app, w, h, &theme);
    keys.iter()
        .map(|k| {
            press(app, k);
            (k.to_string(), text(&render(app, w, h, &theme)))
        })
        .collect()
}

fn transcript(frames: &[(String, String)]) -> String {
    frames
        .iter()
        .map(|(k, screen)| format!("── after {k}\n{screen}"))
        .collect()
}

const SCROLL_KEYS: [&str; 6] = ["G", "k", "g", "pagedown", "j", "pageup"];

#[test]
fn the_execution_journal_scrolls_down_towards_newer_events() {
    let mut a = executing(4, false);
    let frames = scrolled(&mut a, (80, 24), &SCROLL_KEYS);
    let frame = |i: usize| frames[i].1.as_str();
    // 24 events, six lines of them on screen.
    assert!(
        frame(0).contains("#24") && !frame(0).contains("#18 "),
        "G shows the newest:\n{}",
        frame(0)
    );
    assert!(
        frame(1).contains("#23") && !frame(1).contains("#24"),
        "k goes one older:\n{}",
        frame(1)
    );
    assert!(
        frame(2).contains("#1 ") && !frame(2).contains("#7 "),
        "g shows the oldest:\n{}",
        frame(2)
    );
    assert!(
        frame(3).contains("#7 ") && !frame(3).contains("#6 "),
        "a page down:\n{}",
        frame(3)
    );
    assert!(
        frame(4).contains("#8 ") && !frame(4).contains("#7 "),
        "j goes one newer:\n{}",
        frame(4)
    );
    assert!(
        frame(5).contains("#2 ") && !frame(5).contains("#1 "),
        "a page up:\n{}",
        frame(5)
    );
    insta::assert_snapshot!("scroll_execution_journal_80x24", transcript(&frames));
}

#[test]
fn the_execution_journal_follows_new_events_until_scrolled_up() {
    let mut a = executing(4, false);
    let theme = Theme::preset("dark").expect("dark");
    render(&mut a, 80, 24, &theme);
    let more = |a: &mut App, seq: u64| {
        a.update(Msg::Exec(Progress::Journal(Box::new(event(
            seq,
            Some(P1),
            answered(PhaseKind::Verify, Rpc::Ping),
        )))));
    };
    more(&mut a, 25);
    assert!(
        text(&render(&mut a, 80, 24, &theme)).contains("#25"),
        "the tail is followed"
    );
    press(&mut a, "k");
    more(&mut a, 26);
    let screen = text(&render(&mut a, 80, 24, &theme));
    assert!(
        !screen.contains("#26") && screen.contains("#24"),
        "scrolled up, it stays put:\n{screen}"
    );
    press(&mut a, "G");
    more(&mut a, 27);
    assert!(text(&render(&mut a, 80, 24, &theme)).contains("#27"), "G follows again");
    press(&mut a, "J");
    let full = text(&render(&mut a, 80, 24, &theme));
    assert!(
        !full.contains("outcome") && full.contains("#9 ") && full.contains("#27"),
        "J gives the journal the screen:\n{full}"
    );
}

#[test]
fn the_plan_preview_scrolls_and_never_blanks() {
    let mut a = planned();
    let frames = scrolled(&mut a, (80, 14), &SCROLL_KEYS);
    for (key, screen) in &frames {
        assert!(screen.contains("│"), "{key}");
    }
    assert!(
        frames[0].1.contains("x execute (asks"),
        "G shows the end:\n{}",
        frames[0].1
    );
    assert!(
        frames[2].1.contains("lostDomain → newDomain"),
        "g shows the top:\n{}",
        frames[2].1
    );
    insta::assert_snapshot!("scroll_plan_80x14", transcript(&frames));
}

#[test]
fn the_help_scrolls_to_its_last_line_and_back() {
    let mut a = loaded(false);
    chars(&mut a, "?");
    let frames = scrolled(&mut a, (80, 24), &SCROLL_KEYS);
    assert!(
        frames[0].1.contains("not hosted"),
        "G shows the legend at the end:\n{}",
        frames[0].1
    );
    assert!(frames[2].1.contains("Comparison"), "g shows the top:\n{}", frames[2].1);
    insta::assert_snapshot!("scroll_help_80x24", transcript(&frames));
    // Opening help does not move the plan preview, and closing it keeps its own place.
    let mut b = planned();
    scrolled(&mut b, (80, 14), &["G"]);
    chars(&mut b, "?");
    let frames = scrolled(&mut b, (80, 14), &["esc"]);
    assert!(frames[0].1.contains("x execute (asks"), "{}", frames[0].1);
}

#[test]
fn the_session_journal_pane_scrolls_when_focused() {
    let mut a = loaded(false);
    chars(&mut a, "J");
    for seq in 1..=20 {
        a.update(Msg::Recorded(Box::new(event(
            seq,
            None,
            EventData::StrategyChosen {
                strategy: StrategyName::Union,
            },
        ))));
    }
    // tab: the focus moves from the table to the journal pane.
    let frames = scrolled(&mut a, (80, 24), &["tab", "g", "j", "G", "k", "pageup"]);
    assert!(
        frames[0].1.contains("#20") && !frames[0].1.contains("#14 "),
        "{}",
        frames[0].1
    );
    assert!(
        frames[1].1.contains("#1 ") && !frames[1].1.contains("#20"),
        "{}",
        frames[1].1
    );
    assert!(
        frames[2].1.contains("#2 ") && !frames[2].1.contains("#1 "),
        "{}",
        frames[2].1
    );
    assert!(
        frames[4].1.contains("#19") && !frames[4].1.contains("#20"),
        "{}",
        frames[4].1
    );
    assert_eq!(a.table.selected, 0, "the table did not move");
    insta::assert_snapshot!("scroll_session_journal_80x24", transcript(&frames));
}

#[test]
fn the_diff_scrolls_within_its_lines() {
    let mut a = loaded(false);
    chars(&mut a, &format!(":goto {}", &id(5)[..6]));
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Enter);
    assert!(matches!(a.popup, Some(Popup::Diff(_))));
    let frames = scrolled(&mut a, (80, 10), &SCROLL_KEYS);
    assert!(
        frames[0].1.contains("}"),
        "G reaches the closing brace:\n{}",
        frames[0].1
    );
    insta::assert_snapshot!("scroll_diff_80x10", transcript(&frames));
}

#[test]
fn the_table_pages_through_its_rows() {
    let mut a = loaded(false);
    let frames = scrolled(&mut a, (80, 16), &SCROLL_KEYS);
    assert!(frames[0].1.contains("6/6"), "{}", frames[0].1);
    assert!(frames[1].1.contains("5/6"), "{}", frames[1].1);
    assert!(frames[2].1.contains("1/6"), "{}", frames[2].1);
    insta::assert_snapshot!("scroll_table_80x16", transcript(&frames));
}

#[test]
fn the_selected_payload_is_readable_at_80_columns() {
    let mut a = loaded(false);
    chars(&mut a, &format!(":goto {}", &id(5)[..6]));
    key(&mut a, KeyCode::Enter);
    let screen = text(&render(&mut a, 80, 24, &Theme::preset("dark").expect("dark")));
    // The payload column is cut to "owner=Bob…"; the detail pane shows both versions.
    assert!(
        screen.contains("participant1: owner=Bob payer=Alice amount=140 USD"),
        "{screen}"
    );
    assert!(
        screen.contains("participant2: owner=Bob payer=Alice amount=140.5 USD"),
        "{screen}"
    );
}

#[test]
fn asking_to_adopt_a_version_says_why_canton_cannot() {
    let mut a = loaded(false);
    chars(&mut a, "u");
    chars(&mut a, &format!(":goto {}", &id(5)[..6]));
    key(&mut a, KeyCode::Enter);
    chars(&mut a, "A");
    assert!(
        a.choice.decision(&id(5).as_str().into()).is_none(),
        "nothing is decided"
    );
    assert!(
        a.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("Stored contracts are immutable") && f.text.contains("exclude")),
        "{:?}",
        a.flash
    );
    insta::assert_snapshot!(
        "main_adopt_refused_80x24",
        render(&mut a, 80, 24, &Theme::preset("dark").expect("dark")).backend()
    );
}

#[test]
fn after_a_run_the_screen_offers_the_comparison_on_the_target() {
    let mut a = executing(7, false);
    let screen = text(&render(&mut a, 80, 24, &Theme::preset("dark").expect("dark")));
    assert!(!screen.contains("space pause"), "{screen}");
    assert!(
        screen.contains("t target") && screen.contains("next: t compare on newDomain"),
        "{screen}"
    );
    let effects = press(&mut a, "t");
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Survey { synchronizer, .. } if synchronizer == "newDomain")),
        "{effects:?}"
    );
    assert_eq!((a.screen, a.compared), (Screen::Main, Compared::Target));
    let generation = a.generation;
    a.update(Msg::Survey {
        generation,
        result: Ok(survey_on("newDomain")),
    });
    // Nothing is planned on the target.
    chars(&mut a, "u");
    assert!(
        a.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("t returns to lostDomain"))
    );
    insta::assert_snapshot!(
        "target_comparison_80x24",
        render(&mut a, 80, 24, &Theme::preset("dark").expect("dark")).backend()
    );
    let effects = press(&mut a, "t");
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Survey { synchronizer, .. } if synchronizer == "lostDomain"))
    );
}

#[test]
fn confirmation_keys_come_from_the_keys_file() {
    let keys = "[keys.confirm]\n\"enter\" = \"none\"\n\"ctrl-s\" = \"submit\"\n";
    let mut a = planned();
    a.keymap = Keymap::defaults().with_overrides(keys, "keys.toml").expect("keys");
    chars(&mut a, "x");
    chars(&mut a, "newDomain");
    key(&mut a, KeyCode::Enter);
    assert!(
        matches!(a.popup, Some(Popup::Confirm(_))),
        "enter is unbound in the confirmation"
    );
    let screen = text(&render(&mut a, 80, 24, &Theme::preset("dark").expect("dark")));
    assert!(
        screen.contains("ctrl-s chooses"),
        "the popup names the bound key:\n{screen}"
    );
    assert!(screen.contains(" ctrl-s ok "), "so does the status bar:\n{screen}");
    let effects = press(&mut a, "ctrl-s");
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Execute { .. })),
        "{effects:?}"
    );
}

#[test]
fn quitting_while_running_asks_with_cancel_focused() {
    let mut a = executing(4, false);
    press(&mut a, "q");
    assert!(matches!(a.popup, Some(Popup::QuitWhileRunning(_))));
    press(&mut a, "q");
    assert!(!a.quit, "q is not an answer: the popup owns its keys");
    press(&mut a, "enter");
    assert!(
        a.popup.is_none() && !a.quit,
        "enter on the focused Cancel keeps running"
    );
    press(&mut a, "q");
    press(&mut a, "tab");
    let effects = press(&mut a, "enter");
    assert!(a.quit && effects.iter().any(|e| matches!(e, Effect::Quit)));
}

#[test]
fn prompts_own_their_keys() {
    let mut a = loaded(false);
    chars(&mut a, "/Iou");
    press(&mut a, "ctrl-c");
    assert!(a.prompt.is_none() && !a.quit, "ctrl-c closes the prompt");
    assert_eq!(a.table.text, "", "and restores the filter");
    chars(&mut a, ":nope");
    press(&mut a, "enter");
    let flash = a.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(
        flash.contains(":filter") && flash.contains(":target") && flash.contains(":quit"),
        "{flash}"
    );
    chars(&mut a, ":class archived");
    press(&mut a, "enter");
    assert_eq!(a.table.rows.len(), 1, "short class names work too");
}

/// The numbers of the events a journal frame shows (`#N` at the start of a line inside
/// a border), in order.
fn seqs_shown(screen: &str) -> Vec<u64> {
    screen
        .lines()
        .filter_map(|l| l.trim_start_matches('│').strip_prefix('#'))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn the_full_screen_execution_journal_scrolls_with_every_key() {
    let mut a = executing(4, false);
    press(&mut a, "J");
    let frames = scrolled(&mut a, (80, 16), &SCROLL_KEYS);
    let shown: Vec<Vec<u64>> = frames.iter().map(|(_, s)| seqs_shown(s)).collect();
    let page = shown[0].len();
    assert!((5..24).contains(&page), "a page of the 24 events: {shown:?}");
    assert_eq!(shown[0].last(), Some(&24), "G shows the newest:\n{}", frames[0].1);
    assert_eq!(shown[1].last(), Some(&23), "k goes one older:\n{}", frames[1].1);
    assert_eq!(shown[2].first(), Some(&1), "g shows the oldest:\n{}", frames[2].1);
    assert!(
        shown[3].first() > shown[2].first() && shown[3].first() <= Some(&(1 + page as u64)),
        "a page down:\n{}",
        frames[3].1
    );
    assert_eq!(
        shown[4].first().copied(),
        shown[3].first().map(|f| f + 1),
        "j goes one newer:\n{}",
        frames[4].1
    );
    assert!(shown[5].first() < shown[4].first(), "a page up:\n{}", frames[5].1);
    for (key, screen) in &frames {
        assert!(
            !screen.contains("outcome"),
            "after {key} the journal still has the screen"
        );
    }
    insta::assert_snapshot!("scroll_execution_journal_full_80x16", transcript(&frames));
}

fn many_participants(n: usize) -> App {
    let names: Vec<String> = (1..=n).map(|i| format!("participant{i}")).collect();
    let ctx = Context {
        incident: "lab-large".into(),
        lost: "lostDomain".into(),
        target: "newDomain".into(),
        operator: "alice".into(),
        participants: names.clone(),
        read_only: false,
        theme: "dark".into(),
    };
    let mut a = App::new(ctx, Keymap::defaults());
    a.start();
    let generation = a.generation;
    for name in &names {
        a.update(Msg::Status {
            generation,
            report: report(name, ALICE),
        });
    }
    a
}

#[test]
fn the_participants_strip_scrolls_when_focused_and_says_so() {
    let mut a = many_participants(9);
    let keys = ["tab", "G", "k", "g", "j", "pagedown", "pageup"];
    let frames = scrolled(&mut a, (80, 24), &keys);
    let first = |i: usize| {
        frames[i]
            .1
            .lines()
            .find_map(|l| l.strip_prefix("│participant"))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<usize>().ok())
    };
    let visible = |i: usize| frames[i].1.lines().filter(|l| l.starts_with("│participant")).count();
    let page = visible(0);
    assert!(
        page < 9,
        "the strip shows fewer than its 9 participants:\n{}",
        frames[0].1
    );
    assert_eq!(first(0), Some(1), "tab moves the focus, not the strip");
    assert_eq!(first(1), Some(10 - page), "G shows the last:\n{}", frames[1].1);
    assert_eq!(first(2), Some(9 - page), "k goes one up:\n{}", frames[2].1);
    assert_eq!(first(3), Some(1), "g shows the first:\n{}", frames[3].1);
    assert_eq!(first(4), Some(2), "j goes one down:\n{}", frames[4].1);
    assert_eq!(
        first(5),
        Some(10 - page),
        "a page down (as far as it goes):\n{}",
        frames[5].1
    );
    assert_eq!(first(6), Some(1), "a page up:\n{}", frames[6].1);
    for (key, screen) in &frames {
        let hints = screen.lines().last().unwrap_or_default();
        assert!(
            hints.contains("r refresh") && hints.contains("tab next pane") && !hints.contains("enter diff"),
            "after {key} the status bar shows the strip's keys: {hints}"
        );
    }
    assert_eq!(a.table.selected, 0, "the table did not move");
    insta::assert_snapshot!("scroll_participants_80x24", transcript(&frames));
}

#[test]
fn the_status_bar_follows_the_focus() {
    let mut a = loaded(false);
    chars(&mut a, "J");
    let theme = Theme::preset("dark").expect("dark");
    let bar = |a: &mut App| {
        text(&render(a, 80, 24, &theme))
            .lines()
            .last()
            .unwrap_or_default()
            .trim_end()
            .to_string()
    };
    let mut seen = vec![bar(&mut a)];
    for _ in 0..3 {
        press(&mut a, "tab");
        seen.push(bar(&mut a));
    }
    assert_eq!(
        seen,
        [
            " enter diff  / filter  c class  p plan  J journal  ? help  q quit",
            " j down  k up  G bottom  tab next pane  J journal  ? help  q quit",
            " j down  k up  r refresh  tab next pane  ? help  q quit",
            " enter diff  / filter  c class  p plan  J journal  ? help  q quit",
        ],
        "table, journal pane, participants strip, and back"
    );
    // What has focus owns the keys: the table's are not reached from the strip.
    press(&mut a, "tab");
    press(&mut a, "tab");
    assert!(press(&mut a, "p").is_empty() && matches!(a.screen, Screen::Main));
}

/// The survey keeps digests only: the screen holds no payload until a diff asks for one.
/// Enter on a row asks for exactly the holders' payloads with the digests surveyed, and
/// the answer opens the diff; a payload that changed since the survey is not shown as if
/// it were the one surveyed.
#[test]
fn the_diff_reads_the_rows_payloads_on_demand() {
    let full = survey();
    let bare = SurveyData {
        payloads: Arc::new(vec![Payloads::new(); 2]),
        ..full.clone()
    };
    let mut a = loaded_with(false, bare.clone());
    chars(&mut a, &format!(":goto {}", &id(5)[..6]));
    key(&mut a, KeyCode::Enter);
    let screen = text(&render(&mut a, 200, 50, &Theme::preset("dark").expect("dark")));
    assert!(
        screen.contains("(not read yet: enter reads it for the diff)"),
        "{screen}"
    );
    let effects = press(&mut a, "enter");
    assert!(a.popup.is_none(), "nothing to show before the payloads arrive");
    let [
        Effect::FetchPayloads {
            generation,
            synchronizer,
            wanted,
            open,
        },
    ] = effects.as_slice()
    else {
        panic!("one read of the row's payloads: {effects:?}");
    };
    assert_eq!(synchronizer, "lostDomain");
    let row = id(5);
    assert_eq!(open.as_deref(), Some(row.as_str()));
    let states = full
        .comparison
        .rows()
        .iter()
        .find(|r| **r.contract_id() == *row)
        .expect("row 5");
    for (i, p) in [P1, P2].into_iter().enumerate() {
        assert_eq!(
            wanted.get(p).and_then(|w| w.get(row.as_str())),
            states.states()[i].digest(),
            "{p}: its payload, by the digest surveyed"
        );
        assert_eq!(wanted[p].len(), 1, "{p}: that row only");
    }
    let read = |which: &[usize]| {
        which
            .iter()
            .map(|&i| {
                let p = [P1, P2][i];
                let payload = full.payloads[i].get(row.as_str()).cloned().expect("held");
                (p.to_string(), Payloads::from([(row.as_str().into(), payload)]))
            })
            .collect::<BTreeMap<_, _>>()
    };
    // An answer from an earlier survey is dropped.
    a.update(Msg::Payloads {
        generation: generation.wrapping_sub(1),
        open: open.clone(),
        result: Ok(read(&[0, 1])),
    });
    assert!(a.popup.is_none());
    let effects = a.update(Msg::Payloads {
        generation: *generation,
        open: open.clone(),
        result: Ok(read(&[0, 1])),
    });
    let Some(Popup::Diff(view)) = &a.popup else {
        panic!("the answer opens the diff: {:?}", a.popup);
    };
    assert_eq!(view.pairs, vec![(0, 1)]);
    assert!(
        view.lines
            .iter()
            .any(|l| l.tag != recovery_deck::reconcile::diff::DiffTag::Equal)
    );
    assert!(matches!(
        effects.as_slice(),
        [Effect::Record(EventData::DiffViewed { .. })]
    ));
    // Read once: the same row opens again without another read.
    key(&mut a, KeyCode::Esc);
    let again = press(&mut a, "enter");
    assert!(matches!(a.popup, Some(Popup::Diff(_))), "{again:?}");
    assert!(!again.iter().any(|e| matches!(e, Effect::FetchPayloads { .. })));

    // participant2's payload changed since the survey: the read leaves it out (its digest
    // no longer matches), and the diff shows what is known, with a warning.
    let mut b = loaded_with(false, bare);
    chars(&mut b, &format!(":goto {}", &id(5)[..6]));
    key(&mut b, KeyCode::Enter);
    let effects = press(&mut b, "enter");
    let [Effect::FetchPayloads { generation, open, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    b.update(Msg::Payloads {
        generation: *generation,
        open: open.clone(),
        result: Ok(read(&[0])),
    });
    assert!(
        matches!(&b.popup, Some(Popup::Diff(v)) if v.pairs == vec![(0, 0)]),
        "{:?}",
        b.popup
    );
    let warned = b.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(warned.contains("changed since the survey"), "{warned}");
}
