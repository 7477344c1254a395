//! The whole recovery at scale, through the release binary as an operator runs it: a `large`
//! lab with a `diverged`-style fraction of its rows missing, archived or mismatched, the
//! intersection planned, `run --yes` to the end, and the target compared afterwards.
//!
//! Ignored in `cargo test` (a million contracts take minutes to stage and to move):
//!
//! ```sh
//! cargo test --release --test million -- --ignored --nocapture
//! RECOVERY_DECK_MILLION=100000 cargo test --release --test million -- --ignored   # smaller
//! ```

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_recovery-deck");

/// The fraction of rows the lab diverges, as `diverged` does (missing, archived, mismatched).
const DIVERGENCE: &str = "0.001";

fn recovery_deck(cwd: &Path, args: &[&str]) -> Output {
    let start = Instant::now();
    let out = Command::new(BIN)
        .args(args)
        .args(["--progress", "off"])
        .current_dir(cwd)
        .output()
        .expect("start recovery-deck");
    eprintln!(
        "recovery-deck {}: {:.1} s",
        args.join(" "),
        start.elapsed().as_secs_f64()
    );
    assert!(
        out.status.success(),
        "recovery-deck {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Stops the lab however the test ends.
struct Lab<'a>(&'a Path);

impl Drop for Lab<'_> {
    fn drop(&mut self) {
        let _ = Command::new(BIN).args(["lab", "down", "--dir"]).arg(self.0).output();
    }
}

#[test]
#[ignore = "minutes at a million contracts: cargo test --release --test million -- --ignored"]
fn a_diverged_recovery_of_a_million_contracts_on_three_participants_runs_and_verifies() {
    let n: usize = std::env::var("RECOVERY_DECK_MILLION")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::Builder::new()
        .prefix("million-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("lab directory");
    let d = dir.path();
    let _lab = Lab(d);
    let dir_arg = d.to_string_lossy().to_string();
    recovery_deck(
        d,
        &[
            "lab",
            "up",
            "--dir",
            &dir_arg,
            "--scenario",
            "large",
            "--contracts",
            &n.to_string(),
            "--participants",
            "3",
            "--divergence",
            DIVERGENCE,
            "--detach",
        ],
    );

    let before = json_of(&recovery_deck(d, &["--format", "json", "compare"]));
    let rows = before["rows"].as_array().expect("rows");
    let diverged = rows.iter().filter(|r| r["class"] != "agreed").count();
    assert!(diverged > 0, "the lab diverged some of its {} rows", rows.len());

    let planned = json_of(&recovery_deck(
        d,
        &[
            "--format",
            "json",
            "plan",
            "--strategy",
            "intersection",
            "--out",
            "million.runbook.toml",
        ],
    ));
    let moved = planned["moved"].as_u64().expect("moved");
    assert!(moved > 0);
    drop(before);

    let ran = json_of(&recovery_deck(
        d,
        &["--format", "json", "run", "million.runbook.toml", "--yes"],
    ));
    assert_eq!(ran["ok"], true, "{ran}");

    // What the participants hold on the target afterwards: exactly the planned rows, agreed.
    let after = json_of(&recovery_deck(
        d,
        &["--format", "json", "compare", "--synchronizer", "newDomain"],
    ));
    let rows = after["rows"].as_array().expect("rows");
    assert_eq!(
        rows.len() as u64,
        moved,
        "every planned row is on the target, nothing else"
    );
    let not_agreed: Vec<&Value> = rows.iter().filter(|r| r["class"] != "agreed").take(5).collect();
    assert!(
        not_agreed.is_empty(),
        "rows the participants disagree on after the run: {not_agreed:?}"
    );

    // Running it again from a fresh journal finds the work done (resume from state).
    let again = json_of(&recovery_deck(
        d,
        &[
            "--format",
            "json",
            "run",
            "million.runbook.toml",
            "--yes",
            "--journal",
            "again.journal.jsonl",
        ],
    ));
    assert_eq!(again["ok"], true, "{again}");
}
