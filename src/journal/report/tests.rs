//! Reports of small journals written here; the full report of a real session is the
//! snapshot in `tests/report.rs`.

use super::*;
use crate::journal::{
    Actor, EventData, Header, JournalWriter, ParticipantRef, PlanApproved, PlanProposed, RunEnded, RunStarted, Surveyed,
};
use crate::plan::PhaseKind;
use std::collections::BTreeMap;

fn alice() -> Actor {
    Actor {
        op: "alice".into(),
        node: None,
    }
}

fn header(version: u32) -> Header {
    let mut h = Header::new(
        "drill",
        "alice",
        vec![ParticipantRef {
            name: "p1".into(),
            endpoint: "http://p1:5012".into(),
        }],
    );
    h.version = version;
    h
}

fn rendered(path: &std::path::Path) -> String {
    let loaded = load(path).expect("load");
    render(&loaded.input("test"))
}

/// A session of an older format: no pinned files, no seal.
fn write_old_session(path: &std::path::Path) {
    let mut w = JournalWriter::create(path, &header(2)).expect("create");
    let events = [
        EventData::Surveyed(Surveyed {
            synchronizer: "lost".into(),
            classes: [("agreed".to_string(), 3), ("payload_mismatch".to_string(), 1)].into(),
            contracts: [("p1".to_string(), 4)].into(),
            snapshot: None,
        }),
        EventData::StrategyChosen {
            strategy: crate::reconcile::StrategyName::Union,
        },
        EventData::Decided {
            contract_id: "00aa".into(),
            decision: crate::journal::DecisionName::Exclude,
            participant: None,
        },
        EventData::PlanProposed(PlanProposed {
            plan_hash: "sha256:0123456789abcdef".into(),
            strategy: crate::reconcile::StrategyName::Union,
            moved: 3,
            excluded: 1,
            runbook: None,
            sidecar: None,
            survey: None,
        }),
        EventData::PlanApproved(PlanApproved {
            plan_hash: "sha256:0123456789abcdef".into(),
            confirmed_by_typing: String::new(),
            unattended: true,
        }),
        EventData::RunStarted(RunStarted {
            plan_hash: "sha256:0123456789abcdef".into(),
            incident: "drill".into(),
            lost: "lost".into(),
            target: "new".into(),
            strategy: crate::reconcile::StrategyName::Union,
            dry_run: false,
            resumed: false,
            done_phases: Vec::new(),
            runbook: None,
            sidecar: None,
        }),
        EventData::PhaseStarted {
            plan_hash: "sha256:0123456789abcdef".into(),
            phase: PhaseKind::Move,
            participants: vec!["p1".into()],
        },
    ];
    for e in events {
        w.append(alice(), e).expect("append");
    }
    w.append(
        Actor {
            op: "alice".into(),
            node: Some("p1".into()),
        },
        EventData::PhaseFailed {
            plan_hash: "sha256:0123456789abcdef".into(),
            phase: PhaseKind::Move,
            error: "refused | twice\nover".into(),
            code: Some("CONTRACT_ASSIGNATION_CHANGE_ERROR".into()),
        },
    )
    .expect("append");
    w.append(
        alice(),
        EventData::RunEnded(RunEnded {
            plan_hash: "sha256:0123456789abcdef".into(),
            ok: false,
            moved: BTreeMap::new(),
            added: BTreeMap::new(),
            skipped: BTreeMap::new(),
            error: Some("phase move failed on p1".into()),
        }),
    )
    .expect("append");
}

#[test]
fn a_journal_without_pinned_records_is_reported_from_its_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("old.journal.jsonl");
    write_old_session(&path);
    let text = rendered(&path);
    assert!(text.contains("format version 2, which did not seal journals"), "{text}");
    assert!(text.contains("Not recovered: the run stopped"), "{text}");
    assert!(text.contains("### Decisions taken on the screen (1)"), "{text}");
    assert!(text.contains("| `00aa` | exclude |"), "{text}");
    assert!(text.contains("with `--yes` (no typed confirmation)"), "{text}");
    assert!(text.contains("the payloads were not recorded"), "{text}");
    assert!(
        text.contains("Per-class counts per participant need the pinned comparison"),
        "{text}"
    );
    // An error with a pipe and a newline stays in its table cell.
    assert!(
        text.contains("FAILED: CONTRACT_ASSIGNATION_CHANGE_ERROR: refused \\| twice over"),
        "{text}"
    );
    assert!(!text.contains("WARNING"), "{text}");
    let last = text.trim_end().lines().last().expect("a last line");
    assert!(
        last.starts_with("Journal `old.journal.jsonl`: 10 lines, 9 events"),
        "{last}"
    );
    assert!(
        last.ends_with(&format!("Final hash: `{}`", loaded_hash(&path))),
        "{last}"
    );
}

fn loaded_hash(path: &std::path::Path) -> String {
    crate::journal::read(path).expect("read").final_hash().to_string()
}

#[test]
fn an_unsealed_journal_is_reported_with_a_note_and_a_sealed_one_without() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j.jsonl");
    let mut w = JournalWriter::create(&path, &header(crate::journal::VERSION)).expect("create");
    w.append(alice(), EventData::ScreenOpened { read_only: true })
        .expect("append");
    let text = rendered(&path);
    assert!(text.contains("**Note: the journal is not sealed.**"), "{text}");
    assert!(
        text.contains("| Journal | `j.jsonl`: format version 3, 2 lines, **not sealed** |"),
        "{text}"
    );
    assert!(text.contains("alice opened the recovery screen (read-only)"), "{text}");
    assert!(text.contains("| Status | Nothing recorded |"), "{text}");
    w.seal(alice(), "screen").expect("seal");
    let text = rendered(&path);
    assert!(!text.contains("not sealed"), "{text}");
    assert!(
        text.contains("the screen closed the journal cleanly (sealed)"),
        "{text}"
    );
}

#[test]
fn a_broken_journal_reports_only_what_verified_under_the_banner() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("old.journal.jsonl");
    write_old_session(&path);
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replacen("\"moved\":3", "\"moved\":30", 1)).expect("tamper");
    let loaded = load(&path).expect("load");
    assert_eq!(loaded.journal.events.len(), 3, "the events before line 5");
    let problems = loaded.integrity.problems();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("line 5:"), "{problems:?}");
    let text = render(&loaded.input("test"));
    let warning = text.find("> **WARNING").expect("banner");
    assert!(
        warning < text.find("| Incident |").expect("facts"),
        "the banner comes first"
    );
    assert!(text.contains("Only lines 1–4 of 10 verified"), "{text}");
    assert!(text.contains("**failed verification**"), "{text}");
    assert!(text.contains("of the part that verified, lines 1–4"), "{text}");
    assert!(!text.contains("Note: the journal is not sealed"), "{text}");
}
