//! The real binary, run from a test: its output, its JSON answer, its last JSON line.

use serde_json::Value;
use std::process::{Command, Output};

/// Runs `recovery-deck ARGS` to the end.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recovery-deck"))
        .args(args)
        .output()
        .expect("run the binary")
}

/// The JSON a command printed, after checking it succeeded.
pub fn ok_json(args: &[&str]) -> Value {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// The report a command printed as its last line of JSON (`run --format json`).
pub fn last_json(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().expect("a final line")).expect("JSON final line")
}
