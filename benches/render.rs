//! Frame cost of the aligned view: a frame must cost the same for 1,000 and 1,000,000
//! rows (only the visible rows are touched), and stay under 2 ms at 200×50 (DESIGN §7).
//! Also the one O(n) operation the operator triggers on the view: re-filtering.
//!
//! Run: `cargo bench --bench render` (release). Prints a table and one JSON line per
//! measurement.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use recovery_deck::plan;
use recovery_deck::reconcile::{ContractSummary, Inspection, Interner, ParticipantSnapshot, compare};
use recovery_deck::survey::{Payloads, payload_digest};
use recovery_deck::tui::app::{App, Context};
use recovery_deck::tui::keymap::Keymap;
use recovery_deck::tui::msg::{Msg, SurveyData};
use recovery_deck::tui::theme::Theme;
use recovery_deck::tui::ui;
use serde_json::json;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ALICE: &str = "Alice::1220aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const BOB: &str = "Bob::1220bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn contract_id(i: usize) -> String {
    // Canton-shaped: 00 + 64 hex + ca10 + 64 hex, spread so that sorting is realistic.
    let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("00{h:016x}{:048x}ca10{:064x}", i, i)
}

/// Two participants holding `n` contracts, 1% of them differing in some way.
fn data(n: usize) -> SurveyData {
    let mut interner = Interner::new();
    let template = interner.name("Iou:Iou");
    let both = interner.stakeholders([ALICE, BOB]);
    let payload =
        json!({"payer": ALICE, "owner": BOB, "amount": {"value": "100.0000000000", "currency": "USD"}, "viewers": []});
    let digest = payload_digest("Iou:Iou", &payload, &[ALICE.to_string()], &[BOB.to_string()]);
    let mut p1 = Vec::with_capacity(n);
    let mut p2 = Vec::with_capacity(n);
    let mut payloads = (Payloads::new(), Payloads::new());
    for i in 0..n {
        let id = contract_id(i);
        let c = ContractSummary::new(id.as_str(), template.clone(), both.clone(), digest);
        // Payload JSON for the rows a frame shows; the map lookup costs the same at any size.
        if i < 2_000 {
            payloads.0.insert(c.contract_id.clone(), payload.clone());
            payloads.1.insert(c.contract_id.clone(), payload.clone());
        }
        if i % 100 != 7 {
            p2.push(c.clone());
        }
        p1.push(c);
    }
    let snaps = [
        ParticipantSnapshot {
            participant: "participant1".into(),
            hosted_parties: [ALICE.to_string()].into(),
            contracts: p1,
        },
        ParticipantSnapshot {
            participant: "participant2".into(),
            hosted_parties: [BOB.to_string()].into(),
            contracts: p2,
        },
    ];
    let comparison = compare("lostDomain", &snaps, &Inspection::new()).expect("compare");
    SurveyData {
        comparison: Arc::new(comparison),
        payloads: Arc::new(vec![payloads.0, payloads.1]),
        in_flight: BTreeMap::from([
            ("participant1".to_string(), plan::InFlight::default()),
            ("participant2".to_string(), plan::InFlight::default()),
        ]),
        hosted: Default::default(),
        snapshot: Default::default(),
        incomplete: Default::default(),
    }
}

fn app(d: SurveyData) -> App {
    let ctx = Context {
        incident: "bench".into(),
        lost: "lostDomain".into(),
        target: "newDomain".into(),
        operator: "bench".into(),
        participants: vec!["participant1".into(), "participant2".into()],
        read_only: false,
        theme: "dark".into(),
    };
    let mut a = App::new(ctx, Keymap::defaults());
    a.start();
    let generation = a.generation;
    a.update(Msg::Survey {
        generation,
        result: Ok(d),
    });
    a.update(Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::NONE)));
    a
}

struct Stats {
    median: Duration,
    min: Duration,
    max: Duration,
}

fn measure(iterations: usize, mut f: impl FnMut()) -> Stats {
    for _ in 0..iterations / 10 + 1 {
        f();
    }
    let mut times: Vec<Duration> = (0..iterations)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    Stats {
        median: times[times.len() / 2],
        min: times[0],
        max: times[times.len() - 1],
    }
}

fn report(name: &str, rows: usize, s: &Stats) {
    println!(
        "{name:<34} {rows:>9} rows  median {:>9.3} ms  min {:>8.3} ms  max {:>8.3} ms",
        s.median.as_secs_f64() * 1e3,
        s.min.as_secs_f64() * 1e3,
        s.max.as_secs_f64() * 1e3
    );
    println!(
        "{}",
        json!({"bench": name, "rows": rows, "median_ms": s.median.as_secs_f64() * 1e3, "min_ms": s.min.as_secs_f64() * 1e3, "max_ms": s.max.as_secs_f64() * 1e3})
    );
}

fn main() {
    let theme = Theme::preset("dark").expect("theme");
    for rows in [1_000usize, 1_000_000] {
        let built = Instant::now();
        let mut a = app(data(rows));
        eprintln!("# {rows} rows prepared in {:?}", built.elapsed());
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
        let frame = measure(300, || {
            terminal
                .draw(|f| {
                    black_box(ui::draw(f, &a, &theme));
                })
                .expect("draw");
        });
        report("frame 200x50, cursor at top", rows, &frame);
        // Scroll to the middle: the frame still only touches the visible rows.
        a.update(Msg::Key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE)));
        for c in format!("goto {}", &contract_id(rows / 2)[..12]).chars() {
            a.update(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
        }
        a.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        let middle = measure(300, || {
            terminal
                .draw(|f| {
                    black_box(ui::draw(f, &a, &theme));
                })
                .expect("draw");
        });
        report("frame 200x50, cursor mid-table", rows, &middle);
        let key = measure(300, || {
            a.update(Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)));
        });
        report("key j (update only)", rows, &key);
        let refilter = measure(if rows > 100_000 { 10 } else { 100 }, || {
            a.update(Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE)));
        });
        report("class filter change (O(n))", rows, &refilter);
    }
}
