//! Input latency while a survey streams: the screen's one task handles keys, effect
//! results and draws; the exports stream in other tasks. The latency an operator feels
//! is the longest stretch that task is busy between two events. DESIGN §7: under 50 ms.
//!
//! Run: `cargo bench --bench responsive` (starts a `large` lab of BENCH_CONTRACTS
//! contracts, default 50,000, on loopback; release build).

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use recovery_deck::config::IncidentConfig;
use recovery_deck::lab::scenario::{self, Scenario};
use recovery_deck::lab::supervisor::Launcher;
use recovery_deck::tui::keymap::Keymap;
use recovery_deck::tui::launch::{self, TuiOptions};
use recovery_deck::tui::msg::Msg;
use recovery_deck::tui::theme::Theme;
use recovery_deck::tui::ui;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() {
    let n: usize = std::env::var("BENCH_CONTRACTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let launcher = Launcher {
            binary: PathBuf::from(env!("CARGO_BIN_EXE_recovery-deck")),
            tie_to_parent: true,
            confirmation_timeout_ms: 5_000,
        };
        let t = Instant::now();
        let lab = scenario::up_sized(dir.path(), Scenario::Large, n, launcher).await.expect("lab");
        eprintln!("# lab with {n} contracts staged in {:?}", t.elapsed());
        let cfg = IncidentConfig::load(&lab.incident_path()).expect("config");
        let theme = Theme::preset("dark").expect("theme");
        let opts = TuiOptions {
            read_only: false,
            theme: theme.clone(),
            keymap: Keymap::defaults(),
            journal: dir.path().join("bench.journal.jsonl"),
            operator: "bench".into(),
            batch_size: 500,
        };
        let mut core = launch::core(&cfg, &opts).expect("core");
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
        let started = Instant::now();
        core.start();
        let mut busy: Vec<Duration> = Vec::new();
        let mut keys = 0usize;
        // Alternate: a key press (as an operator scrolling), then whatever the survey sent.
        while !core.idle() {
            let t = Instant::now();
            core.handle(Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)));
            keys += 1;
            core.drain();
            ui::render(&mut terminal, &mut core.app, &theme).expect("draw");
            busy.push(t.elapsed());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let survey = started.elapsed();
        busy.sort();
        let p = |q: f64| busy[((busy.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
        println!(
            "survey of {n} contracts (3 participants) took {:.0} ms; {keys} keys handled meanwhile: busy per key+draw p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            survey.as_secs_f64() * 1e3,
            p(0.5),
            p(0.99),
            p(1.0)
        );
        println!(
            "{}",
            serde_json::json!({"bench": "input_latency_during_survey", "contracts": n, "survey_ms": survey.as_secs_f64() * 1e3, "keys": keys, "p50_ms": p(0.5), "p99_ms": p(0.99), "max_ms": p(1.0)})
        );
        let _ = lab.down();
    });
}
