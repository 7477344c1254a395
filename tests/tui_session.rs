//! The screen joined to a multi-operator session, without a network: the session is
//! folded from its events with the coordinator's own state code, the comparison built
//! from the manifests with the federated code, and both handed to the app as the core's
//! follower would. Snapshots of the shared screen for the lead, a node operator and an
//! observer at 80×24 and 200×50 (and styled in the mono theme), and the keys of each
//! role: what they send, what they open, what they leave alone.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use recovery_deck::collab::board::Board;
use recovery_deck::collab::event::{OperatorInfo, Proposal, Role, Roster, SessionEvent};
use recovery_deck::collab::feed::FeedState;
use recovery_deck::collab::manifest::{self, EntryState, InspectedEntry, Manifest};
use recovery_deck::collab::state::SessionState;
use recovery_deck::exec::Progress;
use recovery_deck::journal::{Actor, Event, EventData, RunStarted};
use recovery_deck::plan::{self, InFlight, PhaseKind, Plan, RunbookMeta};
use recovery_deck::reconcile::{ContractSummary, Interner, ParticipantSnapshot, RowClass, SelectionRequest, Strategy};
use recovery_deck::survey::{Holding, Payloads, payload_digest};
use recovery_deck::tui::app::{App, Ask, Context, Joined, Popup, Purpose, Screen};
use recovery_deck::tui::keymap::{KeyChord, Keymap};
use recovery_deck::tui::msg::{Effect, Federated, Msg, SessionCmd};
use recovery_deck::tui::theme::Theme;
use recovery_deck::tui::ui;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const ALICE: &str = "Alice::1220aaaa";
const BOB: &str = "Bob::1220bbbb";
const P1: &str = "participant1";
const P2: &str = "participant2";
const LOST_ID: &str = "lostDomain::1220";

fn id(n: u8) -> String {
    format!("00{:02x}{}", n, "c0ffee".repeat(22))
}

fn iou(payer: &str, owner: &str, amount: &str) -> Value {
    json!({"payer": payer, "owner": owner, "amount": {"value": amount, "currency": "USD"}, "viewers": []})
}

/// What each participant holds: one row of each kind (agreed, missing, archived on one
/// side, a payload that differs, one relevant to participant1 only).
fn holdings() -> [(Holding, Payloads); 2] {
    let mut interner = Interner::new();
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
        (6, &[0], iou(ALICE, ALICE, "1.0000000000"), None),
    ];
    let mut out: Vec<(Vec<ContractSummary>, Payloads)> = vec![Default::default(), Default::default()];
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
            out[h].1.insert(s.contract_id.clone(), p);
            out[h].0.push(s);
        }
    }
    let mut it = out
        .into_iter()
        .zip([(P1, ALICE), (P2, BOB)])
        .map(|((contracts, payloads), (name, party))| {
            (
                Holding {
                    snapshot: ParticipantSnapshot {
                        participant: name.into(),
                        hosted_parties: [party.to_string()].into(),
                        contracts,
                    },
                    payloads: None,
                    incomplete: Vec::new(),
                },
                payloads,
            )
        });
    let first = it.next().expect("participant1");
    let second = it.next().expect("participant2");
    [first, second]
}

fn manifests() -> Vec<Manifest> {
    holdings()
        .iter()
        .map(|(h, _)| {
            let in_flight = if h.snapshot.participant == P2 {
                InFlight {
                    pending_submissions: 0,
                    pending_transactions: 1,
                }
            } else {
                InFlight::default()
            };
            let name = &h.snapshot.participant;
            Manifest::from_holding(h, LOST_ID, &format!("{name}::admin"), in_flight)
        })
        .collect()
}

fn roster() -> Roster {
    let op = |name: &str, role: Role, participant: Option<&str>| OperatorInfo {
        name: name.into(),
        role,
        participant: participant.map(str::to_string),
    };
    Roster {
        incident: "lab-diverged".into(),
        lost: "lostDomain".into(),
        target: "newDomain".into(),
        operators: vec![
            op("carol", Role::Lead, None),
            op("alice", Role::NodeOperator, Some(P1)),
            op("bob", Role::NodeOperator, Some(P2)),
            op("olga", Role::Observer, None),
        ],
    }
}

/// A session log being folded, as a deck folds it.
struct Log {
    state: SessionState,
    seq: u64,
}

impl Log {
    fn apply(&mut self, e: SessionEvent) {
        self.seq += 1;
        let hash = format!(
            "sha256:{:08x}{}",
            self.seq.wrapping_mul(2_654_435_761) % (1 << 32),
            "5e".repeat(28)
        );
        self.state.apply(self.seq, &hash, &e);
    }

    fn board(&self) -> Arc<Board> {
        let feed = FeedState {
            session: self.state.clone(),
            synced: true,
            connected: true,
            fatal: None,
        };
        Arc::new(Board::of(&feed, &self.state.pending_inspections()))
    }
}

fn joined(name: &str, role: Role, participant: Option<&str>) -> SessionEvent {
    SessionEvent::Joined {
        operator: name.into(),
        role,
        participant: participant.map(str::to_string),
    }
}

/// Surveyed: both manifests in, both participants answered about what they lack.
fn surveyed() -> Log {
    let mut log = Log {
        state: SessionState::default(),
        seq: 0,
    };
    log.apply(SessionEvent::Opened(roster()));
    log.apply(joined("carol", Role::Lead, None));
    log.apply(joined("alice", Role::NodeOperator, Some(P1)));
    log.apply(joined("bob", Role::NodeOperator, Some(P2)));
    log.apply(joined("olga", Role::Observer, None));
    for m in manifests() {
        log.apply(SessionEvent::Manifest(m));
    }
    let pending = log.state.pending_inspections();
    for (p, ids) in pending {
        let state = if p == P1 {
            EntryState::Archived
        } else {
            EntryState::Unknown
        };
        let contracts = ids
            .into_iter()
            .map(|id| InspectedEntry {
                contract_id: id,
                state: state.clone(),
            })
            .collect();
        log.apply(SessionEvent::Inspected {
            participant: p,
            contracts,
        });
    }
    log
}

fn federated(log: &Log) -> Federated {
    let s = &log.state;
    let f = manifest::federated_comparison(&s.lost, &s.participants, &s.manifests, &s.answers).expect("federated");
    Federated {
        comparison: Arc::new(f.comparison),
        in_flight: f.in_flight,
    }
}

/// The lead's intersection plan of the federated comparison.
fn intersection(log: &Log) -> Plan {
    let f = federated(log);
    let incident = recovery_deck::survey::Incident {
        name: "lab-diverged",
        lost: "lostDomain",
        target: "newDomain",
    };
    recovery_deck::survey::plan_from_parts(
        &f.comparison,
        &f.in_flight,
        &incident,
        &SelectionRequest::new(Strategy::Intersection),
        500,
    )
    .expect("plan")
}

/// The lead's proposal of `plan`, as the coordinator logs it.
fn proposal_of(plan: &Plan) -> Proposal {
    let meta = RunbookMeta {
        created: "2026-11-26T00:00:00Z".into(),
        proposed_by: "carol".into(),
    };
    let (runbook, sidecar) = plan::to_runbook(plan, &meta).expect("runbook");
    Proposal {
        plan_hash: plan.hash().into(),
        proposed_by: "carol".into(),
        strategy: plan.strategy().name().into(),
        participants: plan.participants().to_vec(),
        runbook,
        sidecar: sidecar.map(|s| s.text),
    }
}

/// Proposed by carol; participant1 approved by alice; bob's turn.
fn approving() -> (Log, Plan) {
    let mut log = surveyed();
    let plan = intersection(&log);
    log.apply(SessionEvent::Proposed(proposal_of(&plan)));
    log.apply(SessionEvent::Approved {
        plan_hash: plan.hash().into(),
        participant: P1.into(),
        operator: "alice".into(),
        holdings_digest: "sha256:00".into(),
        comment: String::new(),
    });
    (log, plan)
}

/// Both approved, go, and the barriers up to the import phase, which participant1
/// finished and participant2 is running.
fn running() -> (Log, Plan) {
    let (mut log, plan) = approving();
    let hash = plan.hash().to_string();
    log.apply(SessionEvent::Approved {
        plan_hash: hash.clone(),
        participant: P2.into(),
        operator: "bob".into(),
        holdings_digest: "sha256:00".into(),
        comment: String::new(),
    });
    log.apply(SessionEvent::Go {
        plan_hash: hash.clone(),
        by: "carol".into(),
    });
    for phase in PhaseKind::ALL {
        log.apply(SessionEvent::PhaseOpened {
            plan_hash: hash.clone(),
            phase,
        });
        for p in [P1, P2] {
            if phase == PhaseKind::Import && p == P2 {
                continue;
            }
            log.apply(SessionEvent::PhaseDone {
                plan_hash: hash.clone(),
                participant: p.into(),
                phase,
                applied: 1,
                skipped: 0,
                already_done: false,
            });
        }
        if phase == PhaseKind::Import {
            break;
        }
    }
    (log, plan)
}

fn app(role: Role, operator: &str, participant: Option<&str>) -> App {
    let ctx = Context {
        incident: "lab-diverged".into(),
        lost: "lostDomain".into(),
        target: "newDomain".into(),
        operator: operator.into(),
        participants: vec![P1.into(), P2.into()],
        read_only: role == Role::Observer,
        theme: "dark".into(),
    };
    let joined = Joined::new(role, operator, participant.map(str::to_string), "http://127.0.0.1:7700");
    let mut a = App::joined(ctx, Keymap::defaults().for_session(role), joined);
    a.start();
    a
}

/// A screen of `role` that has seen `log` and built its comparison.
fn joined_screen(log: &Log, role: Role) -> App {
    let (operator, participant) = match role {
        Role::Lead => ("carol", None),
        Role::NodeOperator => ("alice", Some(P1)),
        Role::Observer => ("olga", None),
    };
    let mut a = app(role, operator, participant);
    a.update(Msg::Board(log.board()));
    a.update(Msg::Federated(Ok(federated(log))));
    a
}

/// The payload reads among `effects`: (participant, contract id, digest) asked for, and
/// the row whose diff opens once they are here.
fn fetched(effects: &[Effect]) -> Vec<(String, String, [u8; 32], Option<String>)> {
    effects
        .iter()
        .flat_map(|e| match e {
            Effect::FetchPayloads { wanted, open, .. } => wanted
                .iter()
                .flat_map(|(p, ids)| {
                    ids.iter()
                        .map(|(id, d)| (p.clone(), id.to_string(), *d, open.as_ref().map(|o| o.to_string())))
                })
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
        .collect()
}

/// What the core answers to a read of participant1's payload of `row`: the payload it
/// holds now.
fn local_read(a: &App, row: &str) -> Msg {
    let [(_, local), _] = holdings();
    let read: BTreeMap<String, Payloads> = [(
        P1.to_string(),
        local.into_iter().filter(|(id, _)| &**id == row).collect(),
    )]
    .into();
    Msg::Payloads {
        generation: a.generation,
        open: Some(row.into()),
        result: Ok(read),
    }
}

/// A node operator's screen holds no payload until a diff asks for one, and then reads
/// its own participant's alone (the others' travel only when shared), with the digest the
/// comparison shows; the diff opens once it is here. Refreshing drops what was read.
#[test]
fn a_node_operator_s_screen_reads_its_own_payloads_on_demand_only() {
    let log = surveyed();
    let mut alice = joined_screen(&log, Role::NodeOperator);
    let refreshed = press(&mut alice, "r");
    assert!(
        fetched(&refreshed).is_empty(),
        "no payload is read up front: {refreshed:?}"
    );
    press(&mut alice, ":");
    typed(&mut alice, "class mismatch");
    press(&mut alice, "enter");
    let row = id(5);
    let asked = fetched(&press(&mut alice, "enter"));
    let d = alice.data.as_ref().expect("comparison");
    let r = d.comparison.row(&row).expect("the mismatched row");
    let mine = *r.state(0).and_then(|s| s.digest()).expect("participant1 holds it");
    assert_eq!(asked, vec![(P1.to_string(), row.clone(), mine, Some(row.clone()))]);
    assert!(alice.popup.is_none(), "the diff waits for the payload");
    alice.update(local_read(&alice, &row));
    let Some(Popup::Diff(d)) = &alice.popup else {
        panic!("the payload read opens the diff: {:?}", alice.popup);
    };
    assert_eq!(d.pairs, vec![(0, 0)], "participant1's own payload only");
    press(&mut alice, "esc");
    assert!(fetched(&press(&mut alice, "enter")).is_empty(), "read once, kept");
    press(&mut alice, "esc");
    press(&mut alice, "r");
    assert_eq!(
        fetched(&press(&mut alice, "enter")).len(),
        1,
        "a refresh reads it again"
    );

    // Neither the lead nor an observer reads any participant.
    for role in [Role::Lead, Role::Observer] {
        let mut a = joined_screen(&log, role);
        press(&mut a, ":");
        typed(&mut a, "class mismatch");
        press(&mut a, "enter");
        assert!(fetched(&press(&mut a, "enter")).is_empty(), "{role:?}");
    }
}

fn press(a: &mut App, name: &str) -> Vec<Effect> {
    let chord: KeyChord = name.parse().expect("key name");
    a.update(Msg::Key(KeyEvent::new(chord.code(), chord.modifiers())))
}

fn typed(a: &mut App, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        effects.extend(a.update(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))));
    }
    effects
}

fn render(app: &mut App, width: u16, height: u16, theme: &Theme) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    ui::render(&mut terminal, app, theme).expect("draw");
    terminal
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

fn sessions() -> Vec<(String, App)> {
    let mut out = Vec::new();
    for (state, (log, _)) in [("approving", approving()), ("running", running())] {
        for (who, role) in [
            ("lead", Role::Lead),
            ("node", Role::NodeOperator),
            ("observer", Role::Observer),
        ] {
            out.push((format!("session_{state}_{who}"), joined_screen(&log, role)));
        }
    }
    out
}

#[test]
fn the_shared_screen_for_each_role_at_both_sizes() {
    let theme = Theme::preset("dark").expect("dark");
    for (name, mut app) in sessions() {
        for (w, h) in [(80, 24), (200, 50)] {
            let terminal = render(&mut app, w, h, &theme);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend());
        }
    }
}

#[test]
fn the_shared_screen_in_the_mono_theme() {
    let theme = Theme::preset("mono").expect("mono");
    for (name, mut app) in sessions()
        .into_iter()
        .filter(|(n, _)| n.starts_with("session_approving"))
    {
        let terminal = render(&mut app, 80, 24, &theme);
        insta::assert_debug_snapshot!(format!("{name}_mono"), terminal.backend().buffer());
    }
}

#[test]
fn who_and_what_stay_readable_at_80_columns() {
    let theme = Theme::preset("mono").expect("mono");
    let (log, plan) = approving();
    let short: String = plan.hash().trim_start_matches("sha256:").chars().take(12).collect();
    for (role, header) in [
        (Role::Lead, " carol · lead "),
        (Role::NodeOperator, " alice · node operator · participant1 "),
        (Role::Observer, " olga · observer [RO]"),
    ] {
        let mut a = joined_screen(&log, role);
        let screen = text(&render(&mut a, 80, 24, &theme));
        let first = screen.lines().next().unwrap_or_default();
        assert!(first.starts_with(header), "{first}");
        // Approvals, presence and the turn, in words.
        assert!(screen.contains(&format!("[APPROVED {short} by alice]")), "{screen}");
        assert!(screen.contains("[NOT APPROVED]"), "{screen}");
        assert!(screen.contains("olga (observer) here"), "{screen}");
        assert!(screen.contains("bob here"), "{screen}");
        assert!(
            screen.contains(&format!("» turn: bob — approve plan {short}")),
            "{screen}"
        );
    }
}

fn sent(effects: &[Effect]) -> Vec<SessionCmd> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Session(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_lead_proposes_the_plan_made_on_the_screen_and_says_go_after_typing_the_target() {
    let (log, plan) = approving();
    let mut a = joined_screen(&log, Role::Lead);
    // Without a strategy, the plan pane shows the session's plan.
    press(&mut a, "p");
    assert_eq!(a.screen, Screen::Plan);
    // Go asks for the target's alias; a wrong one sends nothing.
    press(&mut a, "x");
    let Some(Popup::Confirm(c)) = &a.popup else {
        panic!("go asks first: {:?}", a.popup);
    };
    assert_eq!(
        c.purpose,
        Purpose::Go {
            plan_hash: plan.hash().into()
        }
    );
    assert!(sent(&typed(&mut a, "newDomain")).is_empty());
    let effects = press(&mut a, "enter");
    match sent(&effects).as_slice() {
        [SessionCmd::Go { plan_hash }] => assert_eq!(plan_hash, plan.hash()),
        other => panic!("{other:?}"),
    }
    // A proposal that replaces the plan while the lead types: nothing is sent.
    press(&mut a, "x");
    typed(&mut a, "newDomain");
    let mut replaced = approving().0;
    replaced.apply(SessionEvent::Voided {
        plan_hash: plan.hash().into(),
        approvals: vec![P1.into()],
        reason: "carol proposed another plan".into(),
    });
    let f = federated(&replaced);
    let smaller_batches = recovery_deck::survey::plan_from_parts(
        &f.comparison,
        &f.in_flight,
        &recovery_deck::survey::Incident {
            name: "lab-diverged",
            lost: "lostDomain",
            target: "newDomain",
        },
        &SelectionRequest::new(Strategy::Intersection),
        10,
    )
    .expect("plan");
    replaced.apply(SessionEvent::Proposed(proposal_of(&smaller_batches)));
    a.update(Msg::Board(replaced.board()));
    let screen = text(&render(&mut a, 80, 24, &Theme::preset("mono").expect("mono")));
    let short: String = smaller_batches.hash()[7..19].to_string();
    assert!(screen.contains(&format!("was replaced by plan {short}")), "{screen}");
    assert!(
        sent(&press(&mut a, "enter")).is_empty(),
        "a go binds to the plan the lead saw"
    );
    a.update(Msg::Board(log.board()));
    press(&mut a, "esc");
    // A strategy of the lead's own is previewed, then proposed.
    press(&mut a, "esc");
    press(&mut a, "i");
    let effects = press(&mut a, "p");
    assert!(
        effects.iter().any(|e| matches!(e, Effect::BuildPlan { .. })),
        "{effects:?}"
    );
    let generation = a.generation;
    let mine = intersection(&log);
    a.update(Msg::Plan {
        generation,
        result: Ok(Arc::new(mine.clone())),
        record: recovery_deck::journal::Recorded::Nothing,
    });
    let effects = press(&mut a, "o");
    assert!(
        sent(&effects).is_empty(),
        "the session's plan already: nothing to propose"
    );
    let mut union = joined_screen(&log, Role::Lead);
    press(&mut union, "u");
    press(&mut union, "p");
    let generation = union.generation;
    let other = Arc::new({
        let f = federated(&log);
        let mut request = SelectionRequest::new(Strategy::Union);
        for row in f.comparison.rows() {
            if matches!(row.class(), RowClass::ArchivedSomewhere | RowClass::PayloadMismatch) {
                request
                    .decisions
                    .insert(row.contract_id().clone(), recovery_deck::reconcile::Decision::Exclude);
            }
        }
        recovery_deck::survey::plan_from_parts(
            &f.comparison,
            &f.in_flight,
            &recovery_deck::survey::Incident {
                name: "lab-diverged",
                lost: "lostDomain",
                target: "newDomain",
            },
            &request,
            500,
        )
        .expect("union")
    });
    union.update(Msg::Plan {
        generation,
        result: Ok(other.clone()),
        record: recovery_deck::journal::Recorded::Nothing,
    });
    match sent(&press(&mut union, "o")).as_slice() {
        [SessionCmd::Propose(p)] => assert_eq!(p.hash(), other.hash()),
        other => panic!("{other:?}"),
    }
    // Pause only while the run goes; abort asks first.
    assert!(sent(&press(&mut union, "z")).is_empty());
    press(&mut union, "X");
    assert!(matches!(union.popup, Some(Popup::Ask(Ask::Abort { .. }, _))));
    assert!(
        sent(&press(&mut union, "enter")).is_empty(),
        "keep the run is focused first"
    );
    let (run, _) = running();
    let mut lead = joined_screen(&run, Role::Lead);
    match sent(&press(&mut lead, "z")).as_slice() {
        [SessionCmd::Pause { .. }] => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_node_operator_approves_for_their_participant_after_typing_the_target() {
    let (log, plan) = approving();
    let mut bob = app(Role::NodeOperator, "bob", Some(P2));
    bob.update(Msg::Board(log.board()));
    bob.update(Msg::Federated(Ok(federated(&log))));
    let screen = text(&render(&mut bob, 80, 24, &Theme::preset("mono").expect("mono")));
    assert!(screen.contains("» YOUR TURN: approve plan"), "{screen}");
    press(&mut bob, "a");
    assert!(matches!(bob.popup, Some(Popup::Confirm(_))), "{:?}", bob.popup);
    let screen = text(&render(&mut bob, 80, 24, &Theme::preset("mono").expect("mono")));
    assert!(screen.contains("Type newDomain to approve"), "{screen}");
    typed(&mut bob, "newDomain");
    let effects = press(&mut bob, "enter");
    match sent(&effects).as_slice() {
        [SessionCmd::Approve { plan_hash }] => assert_eq!(plan_hash, plan.hash()),
        other => panic!("{other:?}"),
    }
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Record(EventData::PlanApproved(_)))),
        "the approval is in the screen's journal"
    );
    // alice approved already: nothing to confirm.
    let mut alice = joined_screen(&log, Role::NodeOperator);
    press(&mut alice, "a");
    assert!(alice.popup.is_none());
    // Neither proposes nor says go: those keys are the lead's.
    for k in ["o", "x", "z", "X", "i", "u"] {
        assert!(sent(&press(&mut alice, k)).is_empty(), "{k}");
        assert!(alice.popup.is_none(), "{k}");
    }
}

#[test]
fn an_observer_changes_nothing_and_sees_no_session_keys_in_help() {
    let (log, _) = approving();
    let mut olga = joined_screen(&log, Role::Observer);
    for k in ["o", "x", "z", "X", "a", "s", "R", "i", "u", "p", "space"] {
        assert!(sent(&press(&mut olga, k)).is_empty(), "{k}");
    }
    press(&mut olga, "esc");
    press(&mut olga, "?");
    let screen = text(&render(&mut olga, 200, 50, &Theme::preset("mono").expect("mono")));
    assert!(!screen.contains("Session, as"), "{screen}");
    let mut carol = joined_screen(&log, Role::Lead);
    press(&mut carol, "?");
    let help = text(&render(&mut carol, 200, 50, &Theme::preset("mono").expect("mono")));
    assert!(help.contains("Session, as its lead"), "{help}");
    assert!(
        !help.contains("execute the plan"),
        "a joined screen executes nothing itself: {help}"
    );
}

/// A payload asked for: the holder's screen asks its operator; a shared payload opens in
/// the diff against the local copy on the asker's screen.
#[test]
fn a_mismatched_payload_is_shared_only_with_consent_and_opens_in_the_diff() {
    let mut log = surveyed();
    let mut alice = joined_screen(&log, Role::NodeOperator);
    // The mismatched row, selected.
    press(&mut alice, ":");
    typed(&mut alice, "class mismatch");
    press(&mut alice, "enter");
    let row = id(5);
    match sent(&press(&mut alice, "R")).as_slice() {
        [SessionCmd::RequestPayload { contract_id, holder }] => {
            assert_eq!((contract_id.as_str(), holder.as_str()), (row.as_str(), P2));
        }
        other => panic!("{other:?}"),
    }
    // Only the local copy is here, read when the diff asks: the diff shows it alone.
    assert_eq!(fetched(&press(&mut alice, "enter")).len(), 1);
    alice.update(local_read(&alice, &row));
    let Some(Popup::Diff(d)) = &alice.popup else {
        panic!("{:?}", alice.popup);
    };
    assert_eq!(d.pairs, vec![(0, 0)], "participant1's own payload only");
    press(&mut alice, "esc");

    log.apply(SessionEvent::PayloadRequested {
        contract_id: row.clone(),
        holder: P2.into(),
        by: "alice".into(),
        reason: "to compare payloads".into(),
    });
    let request_seq = log.seq;
    // bob's screen asks; refuse is focused first, esc leaves it open, `s` asks again.
    let mut bob = app(Role::NodeOperator, "bob", Some(P2));
    bob.update(Msg::Federated(Ok(federated(&log))));
    bob.update(Msg::Board(log.board()));
    assert!(
        matches!(bob.popup, Some(Popup::Ask(Ask::Share { request_seq: s }, _)) if s == request_seq),
        "{:?}",
        bob.popup
    );
    let screen = text(&render(&mut bob, 80, 24, &Theme::preset("mono").expect("mono")));
    assert!(
        screen.contains("alice asks for participant2's payload") && screen.contains("[ Share ]"),
        "{screen}"
    );
    press(&mut bob, "esc");
    assert!(bob.popup.is_none());
    bob.update(Msg::Board(log.board()));
    assert!(bob.popup.is_none(), "a dismissed request does not ask again by itself");
    press(&mut bob, "s");
    press(&mut bob, "tab");
    match sent(&press(&mut bob, "enter")).as_slice() {
        [
            SessionCmd::AnswerPayload {
                request_seq: s,
                accept: true,
            },
        ] => assert_eq!(*s, request_seq),
        other => panic!("{other:?}"),
    }
    // Refusing is an answer too.
    let mut no = app(Role::NodeOperator, "bob", Some(P2));
    no.update(Msg::Board(log.board()));
    match sent(&press(&mut no, "enter")).as_slice() {
        [SessionCmd::AnswerPayload { accept: false, .. }] => {}
        other => panic!("{other:?}"),
    }

    // The answer arrives on alice's screen with the row selected: the diff opens.
    let [_, (_, theirs)] = holdings();
    log.apply(SessionEvent::PayloadAnswered {
        request_seq,
        contract_id: row.clone(),
        holder: P2.into(),
        accepted: true,
        payload: theirs.get(row.as_str()).cloned(),
        reason: String::new(),
    });
    alice.update(Msg::Board(log.board()));
    let Some(Popup::Diff(d)) = &alice.popup else {
        panic!("the shared payload opens the diff: {:?}", alice.popup);
    };
    assert_eq!(d.pairs, vec![(0, 1)], "local copy against the shared one");
    assert!(
        d.lines
            .iter()
            .any(|l| l.tag != recovery_deck::reconcile::diff::DiffTag::Equal),
        "the amounts differ"
    );
    let screen = text(&render(&mut alice, 80, 24, &Theme::preset("mono").expect("mono")));
    assert!(screen.contains("participant1 ↔ participant2"), "{screen}");
}

#[test]
fn the_deck_s_run_follows_on_the_execution_screen() {
    let (log, plan) = running();
    let mut alice = joined_screen(&log, Role::NodeOperator);
    let started = Event {
        seq: 1,
        ts: "2026-11-26T00:00:00.000Z".into(),
        t: 1.0,
        actor: Actor {
            op: "alice".into(),
            node: None,
        },
        kind: "session.start".into(),
        data: Value::Null,
        prev: String::new(),
        hash: String::new(),
        body: Some(EventData::RunStarted(RunStarted {
            plan_hash: plan.hash().into(),
            incident: "lab-diverged".into(),
            lost: "lostDomain".into(),
            target: "newDomain".into(),
            strategy: recovery_deck::reconcile::StrategyName::Intersection,
            dry_run: false,
            resumed: false,
            done_phases: Vec::new(),
            runbook: None,
            sidecar: None,
        })),
    };
    alice.update(Msg::Exec(Progress::Journal(Box::new(started))));
    assert_eq!(alice.screen, Screen::Execution);
    let exec = alice.exec.as_ref().expect("exec view");
    assert_eq!(
        exec.participants,
        vec![P1.to_string()],
        "the deck runs its own part only"
    );
    alice.update(Msg::Exec(Progress::Preflight {
        problems: Vec::new(),
        warnings: Vec::new(),
    }));
    for phase in &PhaseKind::ALL[..4] {
        alice.update(Msg::Exec(Progress::PhaseStarted {
            phase: *phase,
            participants: vec![P1.into()],
        }));
        alice.update(Msg::Exec(Progress::PhaseDone { phase: *phase }));
    }
    alice.update(Msg::Exec(Progress::PhaseStarted {
        phase: PhaseKind::Move,
        participants: vec![P1.into()],
    }));
    let terminal = render(&mut alice, 80, 24, &Theme::preset("dark").expect("dark"));
    insta::assert_snapshot!("session_running_node_execution_80x24", terminal.backend());
    let screen = text(&terminal);
    assert!(screen.contains("2/2 approved · import RUNNING"), "{screen}");
    assert!(
        screen.contains("verify"),
        "every phase of the grid fits under the session pane: {screen}"
    );
    // Quitting while the deck runs says what leaving does.
    press(&mut alice, "q");
    let screen = text(&render(&mut alice, 80, 24, &Theme::preset("mono").expect("mono")));
    assert!(screen.contains("leaves the session: the run pauses"), "{screen}");
}
