use super::*;
use crate::plan::{ConnectionValidation, PhaseKind};
use crate::reconcile::StrategyName;
use std::io::Write;

fn header() -> Header {
    Header::new(
        "drill",
        "alice",
        vec![ParticipantRef {
            name: "participant1".into(),
            endpoint: "http://127.0.0.1:1".into(),
        }],
    )
}

fn op(node: Option<&str>) -> Actor {
    Actor {
        op: "alice".into(),
        node: node.map(str::to_string),
    }
}

fn started() -> EventData {
    EventData::RunStarted(RunStarted {
        plan_hash: "sha256:ab".into(),
        incident: "drill".into(),
        lost: "lost".into(),
        target: "new".into(),
        strategy: crate::reconcile::StrategyName::Intersection,
        dry_run: false,
        resumed: false,
        done_phases: Vec::new(),
        runbook: None,
        sidecar: None,
    })
}

fn sent(ids: usize) -> EventData {
    EventData::CallSent(CallSent {
        plan_hash: "sha256:ab".into(),
        phase: PhaseKind::Move,
        attempt: 1,
        call: Call::ChangeAssignation {
            source: "lost".into(),
            target: "new".into(),
            skip_inactive: true,
            ids,
            ids_digest: "sha256:cd".into(),
            first_id: None,
        },
        request_digest: "sha256:ef".into(),
    })
}

fn done() -> EventData {
    EventData::PhaseDone {
        plan_hash: "sha256:ab".into(),
        phase: PhaseKind::Move,
    }
}

fn write_three(path: &std::path::Path) {
    let mut w = JournalWriter::create(path, &header()).expect("create");
    w.append(op(None), started()).expect("append");
    w.append(op(Some("participant1")), sent(3)).expect("append");
    w.append(op(None), done()).expect("append");
}

#[test]
fn events_chain_and_read_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j.jsonl");
    write_three(&path);
    let j = read(&path).expect("read");
    assert_eq!(j.header.incident, "drill");
    assert_eq!(j.events.len(), 3);
    assert_eq!(j.events[0].prev, header_hash(&j.header));
    assert_eq!(j.events[2].prev, j.events[1].hash);
    assert!(j.final_hash().starts_with("sha256:"));
    assert_eq!(j.of_kind("phase.done").count(), 1);
    assert_eq!(j.events[1].body, Some(sent(3)), "read back typed");
    assert_eq!(j.header.version, VERSION);
    assert!(!j.torn_tail);
    assert!(
        JournalWriter::create(&path, &header()).is_err(),
        "never overwrites a journal"
    );
}

#[test]
fn edits_and_removed_lines_break_the_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j.jsonl");
    write_three(&path);
    let text = std::fs::read_to_string(&path).expect("read");
    let edited = text.replace("\"ids\":3", "\"ids\":4");
    std::fs::write(&path, &edited).expect("write");
    let err = read(&path).expect_err("edited");
    assert!(err.to_string().contains("event 2"), "{err}");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(2);
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    let err = read(&path).expect_err("removed");
    assert!(err.to_string().contains("expected seq 2"), "{err}");
    std::fs::write(&path, "{\"format\":\"other\"}\n").expect("write");
    assert!(read(&path).is_err());
}

#[test]
fn a_torn_last_line_is_reported_and_cut_on_append() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j.jsonl");
    write_three(&path);
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    f.write_all(b"{\"seq\":4,\"ts\":\"2026").expect("torn write");
    drop(f);
    let j = read(&path).expect("readable");
    assert!(j.torn_tail);
    assert_eq!(j.events.len(), 3);
    let mut w = JournalWriter::append_to(&path).expect("reopen");
    let e = w.append(op(Some("participant1")), sent(1)).expect("append");
    assert_eq!(e.seq, 4);
    let j = read(&path).expect("read");
    assert!(!j.torn_tail);
    assert_eq!(j.events.len(), 4);
    assert_eq!(j.events[3].prev, j.events[2].hash);
    assert!(j.events[3].t >= j.events[2].t, "session time continues");
}

/// A journal written by the first format version (a dry run, a run and a rerun of a
/// union plan on the diverged lab) still reads, every event typed: renaming a kind or a
/// field of a kind it holds fails here.
#[test]
fn version_1_journals_still_read_typed() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journal-v1.jsonl");
    let j = read(&path).expect("the v1 fixture reads");
    assert_eq!(j.header.version, 1);
    assert_eq!(j.events.len(), 109);
    let untyped: Vec<&str> = j
        .events
        .iter()
        .filter(|e| e.body.is_none())
        .map(|e| e.kind.as_str())
        .collect();
    assert!(untyped.is_empty(), "every v1 kind is known: {untyped:?}");
    let done: std::collections::BTreeSet<PhaseKind> = j
        .bodies()
        .filter_map(|e| match e {
            EventData::PhaseDone { phase, .. } => Some(*phase),
            _ => None,
        })
        .collect();
    assert_eq!(
        done,
        PhaseKind::ALL.into_iter().collect(),
        "resume sees every phase done"
    );
    assert!(
        j.bodies()
            .any(|e| matches!(e, EventData::Verified(v) if v.ok && v.expected == 7))
    );
    assert!(
        j.bodies().any(
            |e| matches!(e, EventData::Skipped(s) if s.reason.as_deref() == Some("manual_connect is already true"))
        )
    );
    assert!(j.bodies().any(|e| matches!(
        e,
        EventData::CallDescribed(CallDescribed {
            call: Call::ChangeAssignation { ids: 2, .. },
            ..
        })
    )));
}

/// What the recovery screen and an interrupted run wrote in the first format version (the
/// screen's kinds, a pause, an abort and a failed phase; a decision to adopt, which that
/// version still had) reads typed, with the names the first version wrote.
#[test]
fn version_1_screen_journals_still_read_typed() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journal-v1-screen.jsonl");
    let j = read(&path).expect("the v1 screen fixture reads");
    assert_eq!(j.header.version, 1);
    let untyped: Vec<&str> = j
        .events
        .iter()
        .filter(|e| e.body.is_none())
        .map(|e| e.kind.as_str())
        .collect();
    assert!(untyped.is_empty(), "every v1 kind is known: {untyped:?}");
    let kinds: std::collections::BTreeSet<&str> = j.events.iter().map(|e| e.kind.as_str()).collect();
    let v1 = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journal-v1.jsonl");
    let run = read(&v1).expect("the v1 run fixture reads");
    let all: std::collections::BTreeSet<&str> = kinds
        .iter()
        .copied()
        .chain(run.events.iter().map(|e| e.kind.as_str()))
        .collect();
    // `session.close` (the seal) came with format version 3.
    assert_eq!(
        all,
        crate::journal::event::KINDS
            .iter()
            .copied()
            .filter(|k| *k != "session.close")
            .collect(),
        "the two v1 fixtures hold every kind a v1 journal could"
    );
    let bodies: Vec<&EventData> = j.bodies().collect();
    let has = |f: &dyn Fn(&EventData) -> bool| bodies.iter().any(|e| f(e));
    assert!(has(&|e| matches!(e, EventData::ScreenOpened { read_only: false })));
    assert!(has(
        &|e| matches!(e, EventData::Surveyed(s) if s.classes.get("agreed") == Some(&4))
    ));
    assert!(has(&|e| matches!(
        e,
        EventData::StrategyChosen {
            strategy: StrategyName::Manual
        }
    )));
    assert!(has(&|e| matches!(
        e,
        EventData::Decided { decision: DecisionName::Adopt, participant: Some(p), .. } if p == "participant1"
    )));
    assert!(has(&|e| matches!(
        e,
        EventData::Decided {
            decision: DecisionName::Purge,
            participant: None,
            ..
        }
    )));
    assert!(has(
        &|e| matches!(e, EventData::PlanProposed(p) if p.strategy == StrategyName::Manual && p.moved == 2)
    ));
    assert!(has(
        &|e| matches!(e, EventData::PlanApproved(p) if p.confirmed_by_typing == "newDomain")
    ));
    assert!(has(&|e| matches!(e, EventData::DiffViewed { .. })));
    assert!(has(
        &|e| matches!(e, EventData::PhasePaused { plan_hash, before: PhaseKind::InitTarget } if plan_hash.is_empty())
    ));
    assert!(has(&|e| matches!(
        e,
        EventData::PhaseAborted {
            before: PhaseKind::InitTarget,
            ..
        }
    )));
    assert!(has(&|e| matches!(
        e,
        EventData::PhaseFailed { phase: PhaseKind::InitTarget, code: Some(c), .. } if c == "SYNC_SERVICE_ALIAS_RESOLUTION"
    )));
    assert!(has(
        &|e| matches!(e, EventData::CallAnswered(a) if !a.ok && a.rpc == Rpc::ModifySynchronizer)
    ));
    assert!(has(&|e| matches!(
        e,
        EventData::CallSent(CallSent {
            call: Call::ModifySynchronizer {
                validation: ConnectionValidation::All,
                ..
            },
            ..
        })
    )));
    // Resume reads the first run's isolate as done; the second run's failure is not.
    let done: Vec<PhaseKind> = j
        .bodies()
        .filter_map(|e| match e {
            EventData::PhaseDone { phase, .. } => Some(*phase),
            _ => None,
        })
        .collect();
    assert_eq!(done, [PhaseKind::Isolate]);
}

#[test]
fn a_journal_of_a_newer_format_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j.jsonl");
    let mut h = header();
    h.version = VERSION + 1;
    std::fs::write(&path, serde_json::to_string(&h).expect("json") + "\n").expect("write");
    let err = read(&path).expect_err("newer");
    assert!(err.to_string().contains("format version"), "{err}");
}

#[test]
fn journals_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j.jsonl");
    write_three(&path);
    assert_eq!(mode(&path), 0o600);
    // A journal an older release left world-readable is narrowed when it is continued.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    JournalWriter::append_to(&path).expect("reopen");
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn a_clean_end_seals_the_journal_and_nothing_follows_the_seal_from_that_writer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j.jsonl");
    let mut w = JournalWriter::create(&path, &header()).expect("create");
    w.append(op(None), started()).expect("append");
    assert_eq!(read(&path).expect("read").seal(), Seal::Unsealed, "still running");
    w.seal(op(None), "run").expect("seal");
    assert!(w.is_sealed());
    let err = w.append(op(None), done()).expect_err("sealed");
    assert!(matches!(err, JournalError::Sealed { .. }), "{err}");
    let j = verify(&path).expect("whole");
    assert_eq!(j.seal(), Seal::Sealed);
    assert!(matches!(&j.events[1].body, Some(EventData::SessionClosed(s)) if s.front_end == "run"));
    // A rerun continues after the seal; until it seals again the journal is open.
    let mut w = JournalWriter::append_to(&path).expect("reopen");
    w.append(op(None), started()).expect("append");
    assert_eq!(read(&path).expect("read").seal(), Seal::Unsealed);
    w.seal(op(None), "run").expect("seal");
    assert_eq!(read(&path).expect("read").seal(), Seal::Sealed);
}

#[test]
fn the_strict_reading_refuses_a_torn_line_by_number_where_resume_cuts_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j.jsonl");
    write_three(&path);
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    f.write_all(b"{\"seq\":4,\"ts\":\"2026").expect("torn write");
    drop(f);
    assert!(read(&path).expect("lenient").torn_tail);
    let checked = check(&path).expect("checked");
    assert_eq!(checked.lines, 5);
    assert_eq!(checked.journal.events.len(), 3, "what verified before it");
    let err = verify(&path).expect_err("torn");
    assert!(matches!(err, JournalError::Torn { line: 5, .. }), "{err}");
    assert!(err.to_string().contains("line 5"), "{err}");
}

#[test]
fn an_edited_header_is_named_as_line_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j.jsonl");
    write_three(&path);
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replacen("\"operator\":\"alice\"", "\"operator\":\"mallory\"", 1),
    )
    .expect("write");
    let err = verify(&path).expect_err("edited header");
    assert_eq!(err.line(), Some(1), "{err}");
    assert!(err.to_string().contains("header"), "{err}");
}

#[test]
fn journals_before_version_3_are_read_as_written_before_seals() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journal-v1.jsonl");
    let j = verify(&path).expect("whole");
    assert_eq!(j.seal(), Seal::BeforeSeals(1));
}

#[test]
fn a_stepped_clock_makes_the_same_session_the_same_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let start: jiff::Timestamp = "2026-11-03T09:00:00Z".parse().expect("time");
    let write = |name: &str| {
        let path = dir.path().join(name);
        let mut h = header();
        h.started = start.to_string();
        h.host = "lab".into();
        let mut w = JournalWriter::create(&path, &h)
            .expect("create")
            .with_clock(Clock::stepped(start, jiff::SignedDuration::from_millis(250)));
        w.append(op(None), started()).expect("append");
        w.append(op(Some("participant1")), sent(3)).expect("append");
        w.seal(op(None), "run").expect("seal");
        std::fs::read(&path).expect("bytes")
    };
    let (a, b) = (write("a.jsonl"), write("b.jsonl"));
    assert_eq!(a, b);
    let j = read(&dir.path().join("a.jsonl")).expect("read");
    assert_eq!(j.events[1].ts, "2026-11-03T09:00:00.500Z");
    assert_eq!(j.events[2].t, 0.75);
}
