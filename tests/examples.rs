//! `examples/diverged/`: the drill committed as an example (runbook, journal with its pinned
//! files, report, recording, console scripts in both dialects) agrees with itself and with the
//! code. Each file is made again from the committed files by the code of today — the report
//! from the journal, the runbook from its plan, the console scripts from the runbook, the
//! recording's markers from the journal's decisions — and must come out the same, so a change
//! of any of these formats fails here until the examples are regenerated with
//! `examples/regenerate.sh` (see examples/README.md). The script itself is run too, into a
//! temporary directory, and what it makes must pass the same checks.

mod common;

use recovery_deck::console::{self, Dialect};
use recovery_deck::journal::{self, EventData, Seal, report};
use recovery_deck::plan::{self, LoadedRunbook};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const REGENERATE: &str = "the examples are out of date: run examples/regenerate.sh and commit examples/diverged/";

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/diverged")
}

/// Every check below on the committed drill, one test each.
mod committed {
    use super::*;

    #[test]
    fn the_journal_verifies_is_sealed_and_is_of_the_current_format() {
        super::the_journal_verifies_is_sealed_and_is_of_the_current_format(&committed());
    }

    #[test]
    fn the_report_is_what_report_renders_from_the_journal_today() {
        super::the_report_is_what_report_renders_from_the_journal_today(&committed());
    }

    #[test]
    fn the_runbook_is_the_plan_the_journal_proposed_approved_and_ran() {
        super::the_runbook_is_the_plan_the_journal_proposed_approved_and_ran(&committed());
    }

    #[test]
    fn the_console_scripts_are_what_export_console_writes_for_the_runbook_today() {
        super::the_console_scripts_are_what_export_console_writes_for_the_runbook_today(&committed());
    }

    #[test]
    fn the_recording_is_asciicast_v2_with_a_marker_at_each_decision_of_the_journal() {
        super::the_recording_is_asciicast_v2_with_a_marker_at_each_decision_of_the_journal(&committed());
    }

    #[test]
    fn no_example_names_a_temporary_directory() {
        super::no_example_names_a_temporary_directory(&committed());
    }
}

/// `examples/regenerate.sh` itself, with the binary under test and into a temporary
/// directory: it drives the screen over a fresh lab (tmux) and makes a drill that passes
/// every check the committed one passes, and leaves no lab process behind.
#[test]
fn regenerate_sh_makes_a_drill_that_passes_the_same_checks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("diverged");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/regenerate.sh");
    let run = std::process::Command::new(&script)
        .env("RECOVERY_DECK_BIN", env!("CARGO_BIN_EXE_recovery-deck"))
        .env("RECOVERY_DECK_EXAMPLE_DIR", &out)
        .env("TMPDIR", tmp.path())
        .output()
        .expect("run examples/regenerate.sh");
    assert!(
        run.status.success(),
        "regenerate.sh failed:\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        common::tmux::processes_mentioning(&tmp.path().to_string_lossy()),
        Vec::<u32>::new(),
        "no lab node outlives the script"
    );
    the_journal_verifies_is_sealed_and_is_of_the_current_format(&out);
    the_report_is_what_report_renders_from_the_journal_today(&out);
    the_runbook_is_the_plan_the_journal_proposed_approved_and_ran(&out);
    the_console_scripts_are_what_export_console_writes_for_the_runbook_today(&out);
    the_recording_is_asciicast_v2_with_a_marker_at_each_decision_of_the_journal(&out);
    no_example_names_a_temporary_directory(&out);
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{}/{name}: {e}", dir.display()))
}

fn journal_path(dir: &Path) -> PathBuf {
    dir.join("diverged.journal.jsonl")
}

fn runbook(dir: &Path) -> LoadedRunbook {
    plan::load_runbook(&read(dir, "diverged.runbook.toml"), None).expect("the example runbook loads")
}

/// The plan hashes the journal's events name, by kind.
fn hashes_by_kind(j: &journal::Journal) -> BTreeMap<&'static str, Vec<String>> {
    let mut out: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for e in &j.events {
        let (kind, hash) = match &e.body {
            Some(EventData::PlanProposed(p)) => ("proposed", &p.plan_hash),
            Some(EventData::PlanApproved(p)) => ("approved", &p.plan_hash),
            Some(EventData::RunStarted(r)) => ("run", &r.plan_hash),
            _ => continue,
        };
        out.entry(kind).or_default().push(hash.clone());
    }
    out
}

fn the_journal_verifies_is_sealed_and_is_of_the_current_format(dir: &Path) {
    let loaded = report::load(&journal_path(dir)).expect("the example journal has a header");
    assert_eq!(loaded.integrity.problems(), Vec::<String>::new(), "{REGENERATE}");
    assert_eq!(loaded.journal.seal(), Seal::Sealed);
    assert_eq!(loaded.journal.header.format, journal::FORMAT);
    assert_eq!(loaded.journal.header.version, journal::VERSION, "{REGENERATE}");
    assert!(
        loaded.integrity.pins.len() >= 2,
        "the journal pins the comparison and the runbook: {:?}",
        loaded.integrity.pins
    );
}

fn the_report_is_what_report_renders_from_the_journal_today(dir: &Path) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_recovery-deck"))
        .arg("report")
        .arg(journal_path(dir))
        .output()
        .expect("run the binary");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rendered = String::from_utf8(out.stdout).expect("UTF-8");
    let committed = read(dir, "diverged.report.md");
    assert!(
        rendered.trim_end() == committed.trim_end(),
        "{REGENERATE} (or just the report: recovery-deck report examples/diverged/diverged.journal.jsonl --out examples/diverged/diverged.report.md)\n{}",
        first_difference(&committed, &rendered)
    );
    let j = journal::read(&journal_path(dir)).expect("journal");
    assert!(
        committed.contains(&format!("Final hash: `{}`", j.final_hash())),
        "the report ends with the journal's final hash"
    );
}

fn the_runbook_is_the_plan_the_journal_proposed_approved_and_ran(dir: &Path) {
    let loaded = runbook(dir);
    let hash = loaded.plan.hash().to_string();
    let j = journal::read(&journal_path(dir)).expect("journal");
    let by_kind = hashes_by_kind(&j);
    for kind in ["proposed", "approved", "run"] {
        assert_eq!(
            by_kind.get(kind).and_then(|v| v.last()),
            Some(&hash),
            "the last plan {kind} in the journal is the runbook's: {by_kind:?}"
        );
    }
    // The pinned copy (written when the plan was proposed) holds the same plan.
    let pinned = j
        .events
        .iter()
        .rev()
        .find_map(|e| match &e.body {
            Some(EventData::PlanProposed(p)) => p.runbook.clone().map(|r| (r, p.sidecar.clone())),
            _ => None,
        })
        .expect("the proposal pins its runbook");
    let pinned = report::read_plan(&journal_path(dir), &pinned.0, pinned.1.as_ref()).expect("pinned runbook");
    assert_eq!(pinned.plan.hash(), hash);
    // Written again by today's code, the runbook is the same file.
    let (text, sidecar) = plan::to_runbook(&loaded.plan, &loaded.meta).expect("render");
    assert!(sidecar.is_none(), "the diverged plan is small: no sidecar");
    assert!(
        text == read(dir, "diverged.runbook.toml"),
        "{REGENERATE}\n{}",
        first_difference(&read(dir, "diverged.runbook.toml"), &text)
    );
    assert!(
        read(dir, "diverged.report.md").contains(&format!("Plan hash: `{hash}`")),
        "the report's decision names the plan"
    );
}

fn the_console_scripts_are_what_export_console_writes_for_the_runbook_today(dir: &Path) {
    let plan = runbook(dir).plan;
    for (dialect, sub) in [
        (Dialect::Canton3, "console-canton3"),
        (Dialect::Canton2, "console-canton2"),
    ] {
        let export = console::export(&plan, dialect).expect("export");
        let mut committed: Vec<String> = std::fs::read_dir(dir.join(sub))
            .unwrap_or_else(|e| panic!("{sub}: {e}"))
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        committed.sort();
        let mut made: Vec<String> = export.files().iter().map(|f| f.name.clone()).collect();
        made.sort();
        assert_eq!(committed, made, "{sub}: {REGENERATE}");
        for file in export.files() {
            let on_disk = read(dir, &format!("{sub}/{}", file.name));
            assert!(
                on_disk == file.text,
                "{sub}/{}: {REGENERATE}\n{}",
                file.name,
                first_difference(&on_disk, &file.text)
            );
        }
        for p in &export.participants {
            let script = read(dir, &format!("{sub}/{}", p.script.name));
            assert!(
                script
                    .lines()
                    .any(|l| l.starts_with("// plan ") && l.trim_end().ends_with(plan.hash())),
                "{sub}/{}: the header names the plan hash",
                p.script.name
            );
        }
    }
}

/// The recording is asciicast v2: a header, then `[time, code, data]` events in time order,
/// output holding the screen, and one marker per decision the journal recorded, in order.
fn the_recording_is_asciicast_v2_with_a_marker_at_each_decision_of_the_journal(dir: &Path) {
    let text = read(dir, "diverged.cast");
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().expect("header")).expect("header is JSON");
    assert_eq!(header["version"], 2);
    assert!(header["width"].as_u64().is_some_and(|w| w >= 80), "{header}");
    assert!(header["height"].as_u64().is_some_and(|h| h >= 24), "{header}");
    let events: Vec<(f64, String, String)> = lines
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("event line {l:?}: {e}")))
        .collect();
    assert!(events.windows(2).all(|w| w[0].0 <= w[1].0), "times never go back");
    let output: String = events.iter().filter(|e| e.1 == "o").map(|e| e.2.as_str()).collect();
    for shown in ["participant1", "participant2", "VERIFIED"] {
        assert!(output.contains(shown), "the screen showed {shown}");
    }
    let markers: Vec<&str> = events.iter().filter(|e| e.1 == "m").map(|e| e.2.as_str()).collect();
    let j = journal::read(&journal_path(dir)).expect("journal");
    let decisions: Vec<String> = j
        .events
        .iter()
        .filter_map(|e| e.body.as_ref().and_then(recovery_deck::tui::cast::marker_for))
        .collect();
    assert!(decisions.len() >= 6, "a drill with decisions: {decisions:?}");
    assert_eq!(
        markers, decisions,
        "the recording and the journal are of one session; {REGENERATE}"
    );
}

fn no_example_names_a_temporary_directory(dir: &Path) {
    fn walk(path: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(path).expect("read dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue; // gzip-compressed pinned comparisons
        };
        for temp in ["/tmp/", "recovery-deck-example-", "/home/", "/work/"] {
            assert!(!text.contains(temp), "{} names {temp}", f.display());
        }
    }
}

/// Where two texts first differ, for a failure message a reader can act on.
fn first_difference(committed: &str, made: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (committed.lines().collect(), made.lines().collect());
    for i in 0..a.len().max(b.len()) {
        if a.get(i) != b.get(i) {
            return format!(
                "first difference at line {}:\n  committed: {:?}\n  made now:  {:?}",
                i + 1,
                a.get(i),
                b.get(i)
            );
        }
    }
    "they differ only in trailing whitespace".into()
}
