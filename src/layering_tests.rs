//! The one-way flow of ARCHITECTURE.md, checked on the source: which module may name
//! what. Each test walks `src/` and lists the lines that break its rule.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, with its path relative to `src/`.
fn sources() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                out.push((path.strip_prefix(&root).expect("under src").to_path_buf(), text));
            }
        }
    }
    out.sort();
    out
}

/// The lines of files outside `allowed` (top-level modules or files under `src/`) for which
/// `breaks` holds.
fn offenders(allowed: &[&str], breaks: impl Fn(&str) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    for (path, text) in sources() {
        let top = path
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        let exempt = top.is_some_and(|t| allowed.contains(&t.as_str())) || allowed.iter().any(|a| path == Path::new(a));
        if exempt || path == Path::new("layering_tests.rs") {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            if breaks(line) {
                out.push(format!("src/{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    out
}

/// The participant API's generated types stay behind `ParticipantApi`: only the client,
/// the lab (which serves the wire), the generated code and the two wire codecs (`acs`,
/// `value`) name them or reach into a `client::Contract`'s message. The collab session's
/// own protocol (`wire::collab`) belongs to the coordinator and its clients.
#[test]
fn front_ends_never_touch_the_wire() {
    let allowed = ["client", "lab", "wire", "wire.rs", "acs", "acs.rs", "value.rs"];
    let found = offenders(&allowed, |line| {
        let names_wire = line
            .match_indices("wire::")
            .any(|(i, _)| !line[i..].starts_with("wire::collab"));
        let reaches_in = ["from_wire(", "into_wire(", ".wire()"].iter().any(|n| line.contains(n));
        names_wire || reaches_in
    });
    assert!(
        found.is_empty(),
        "use the client's plain types (Contract, SynchronizerConfig, Submission, Validation):\n{}",
        found.join("\n")
    );
}

/// The lab is a separate tree: only the commands that run it (`lab`, `demo`, and the CLI
/// that names its scenarios and dialects) import it; everything else reaches lab nodes
/// over gRPC like any participant.
#[test]
fn only_the_lab_commands_import_the_lab() {
    let allowed = ["lab", "cmd/lab.rs", "cmd/demo.rs", "cli.rs", "cli/lab.rs"];
    let found = offenders(&allowed, |line| line.contains("crate::lab"));
    assert!(found.is_empty(), "the lab is reached over gRPC:\n{}", found.join("\n"));
}

/// `reconcile` and `plan` are pure: no async runtime, no network, no terminal, no files,
/// and nothing from the layers above them.
#[test]
fn reconcile_and_plan_stay_pure() {
    let impure = [
        "tokio",
        "tonic",
        "ratatui",
        "crossterm",
        "std::fs",
        "std::net",
        "crate::client",
        "crate::exec",
        "crate::survey",
        "crate::journal",
        "crate::tui",
        "crate::cmd",
        "crate::collab",
        "crate::lab",
    ];
    let mut found = Vec::new();
    for (path, text) in sources() {
        if !(path.starts_with("reconcile") || path.starts_with("plan")) {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if impure.iter().any(|w| code.contains(w)) {
                found.push(format!("src/{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "plain data in, plain data out:\n{}", found.join("\n"));
}
