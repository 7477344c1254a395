use super::*;
use serde_json::json;
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

fn write_three(path: &std::path::Path) {
    let mut w = JournalWriter::create(path, &header()).expect("create");
    w.append("session.start", op(None), json!({})).expect("append");
    w.append(
        "exec.request",
        op(Some("participant1")),
        json!({"rpc": "ChangeAssignation", "ids": 3}),
    )
    .expect("append");
    w.append("exec.result", op(Some("participant1")), json!({"ok": true}))
        .expect("append");
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
    assert_eq!(j.of_kind("exec.result").count(), 1);
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
    let e = w
        .append("exec.request", op(Some("participant1")), json!({"resumed": true}))
        .expect("append");
    assert_eq!(e.seq, 4);
    let j = read(&path).expect("read");
    assert!(!j.torn_tail);
    assert_eq!(j.events.len(), 4);
    assert_eq!(j.events[3].prev, j.events[2].hash);
    assert!(j.events[3].t >= j.events[2].t, "session time continues");
}

#[test]
fn durable_kinds() {
    assert!(is_durable_kind("exec.request"));
    assert!(is_durable_kind("plan.proposed"));
    assert!(!is_durable_kind("view.diff"));
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
