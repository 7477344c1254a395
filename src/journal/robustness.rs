//! Hostile journal files: arbitrary bytes, and a valid journal with bytes and lines
//! flipped, inserted, deleted, duplicated or cut. Reading returns an error, never panics,
//! and whatever it accepts is what was written (a prefix of it, after a torn line);
//! reopening for append accepts only what reads back. `fuzz/` runs the reader under
//! libFuzzer for longer.

use std::sync::LazyLock;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::json;

use super::*;

struct Written {
    bytes: Vec<u8>,
    journal: Journal,
}

/// One journal with events of every shape the writer produces: nested objects, arrays,
/// numbers, non-ASCII text, an actor with and without a node.
static VALID: LazyLock<Written> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j.jsonl");
    let header = Header::new(
        "drill ✓",
        "alice",
        vec![ParticipantRef {
            name: "participant1".into(),
            endpoint: "http://127.0.0.1:1".into(),
        }],
    );
    let mut w = JournalWriter::create(&path, &header).expect("create");
    let op = |node: Option<&str>| Actor {
        op: "alice".into(),
        node: node.map(str::to_owned),
    };
    // Typed events, and events of kinds the typed reader does not know (another tool's)
    // whose data holds every kind of JSON value.
    w.append(
        op(None),
        EventData::Decided {
            contract_id: "é😀\"\\\n".into(),
            decision: crate::journal::DecisionName::Purge,
            participant: None,
        },
    )
    .expect("append");
    w.append(
        op(Some("participant1")),
        EventData::DiffViewed {
            contract_id: "00ab".into(),
        },
    )
    .expect("append");
    let raw = [
        ("note.values", op(None), json!([1, -2, 3.25, null, true, "x"])),
        (
            "note.result",
            op(Some("participant1")),
            json!({"ok": false, "code": "IMPORT_ACS_ERROR", "n": 1e300}),
        ),
    ];
    for (kind, actor, data) in raw {
        w.append_raw(kind, actor, data, true).expect("append");
    }
    let bytes = std::fs::read(&path).expect("read");
    let journal = read(&path).expect("valid");
    Written { bytes, journal }
});

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(Index),
    Flip(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    let piece = prop_oneof![
        vec(any::<u8>(), 1..8),
        prop::sample::select(vec![
            " ", "\n", "\"", "\\", "{", "}", ",", ":", "0", "1e999", "é", "\u{2028}"
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ];
    prop_oneof![
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (any::<Index>(), piece).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<Index>().prop_map(Mutation::DeleteLine),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn mutated(bytes: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut data = bytes.to_vec();
    for m in mutations {
        let len = data.len();
        if len == 0 {
            break;
        }
        let mut lines: Vec<Vec<u8>> = data.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
        let n = lines.len();
        match m {
            Mutation::Truncate(i) => data.truncate(i.index(len)),
            Mutation::Flip(i, x) => data[i.index(len)] ^= x,
            Mutation::Insert(i, b) => {
                let k = i.index(len);
                data.splice(k..k, b.iter().copied());
            }
            Mutation::Delete(i, d) => {
                let k = i.index(len);
                data.drain(k..(k + d).min(len));
            }
            Mutation::DeleteLine(i) => {
                lines.remove(i.index(n));
                data = lines.concat();
            }
            Mutation::DuplicateLine(i) => {
                let k = i.index(n);
                lines.insert(k, lines[k].clone());
                data = lines.concat();
            }
            Mutation::SwapLines(a, b) => {
                lines.swap(a.index(n), b.index(n));
                data = lines.concat();
            }
        }
    }
    data
}

/// Reads `bytes` as a journal file, then reopens it for append: both must agree, and a
/// journal reopened for append must read back with the new event.
fn check(dir: &std::path::Path, bytes: &[u8]) -> Result<Option<Journal>, TestCaseError> {
    let path = dir.join("j.jsonl");
    std::fs::write(&path, bytes).expect("write");
    let read_back = read(&path);
    if let Err(e) = &read_back {
        let _ = e.to_string();
    }
    match JournalWriter::append_to(&path) {
        Ok(mut w) => {
            let before = read_back
                .as_ref()
                .map_err(|e| TestCaseError::fail(format!("append_to accepted what read refuses: {e}")))?;
            w.append(
                Actor::default(),
                EventData::DiffViewed {
                    contract_id: "after".into(),
                },
            )
            .expect("append");
            let after =
                read(&path).map_err(|e| TestCaseError::fail(format!("an appended journal does not read back: {e}")))?;
            prop_assert!(!after.torn_tail);
            prop_assert_eq!(after.events.len(), before.events.len() + 1);
            prop_assert_eq!(&after.events[..before.events.len()], &before.events[..]);
        }
        Err(_) => prop_assert!(read_back.is_err(), "read accepts what append_to refuses"),
    }
    Ok(read_back.ok())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_are_refused_without_panicking(
        bytes in prop_oneof![
            vec(any::<u8>(), 0..512),
            "[ -~\n]{0,300}".prop_map(String::into_bytes),
            "\\{\"format\":\"recovery-deck-journal\",\"version\":1[ -~]{0,80}\\}\n[ -~\n]{0,200}".prop_map(String::into_bytes),
        ],
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        if let Some(j) = check(dir.path(), &bytes)? {
            prop_assert!(j.events.is_empty(), "random bytes hold no valid event");
        }
    }

    /// Whatever a corrupted journal still reads as is a prefix of what was written: an
    /// edit is either harmless (whitespace, a torn tail) or detected.
    #[test]
    fn a_corrupted_journal_reads_as_what_was_written_or_not_at_all(
        mutations in vec(arb_mutation(), 1..4),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let valid = &*VALID;
        let bytes = mutated(&valid.bytes, &mutations);
        if let Some(j) = check(dir.path(), &bytes)? {
            let original = &valid.journal.events;
            prop_assert!(j.events.len() <= original.len());
            prop_assert_eq!(&j.events[..], &original[..j.events.len()], "an edited event was accepted");
            if !j.events.is_empty() {
                prop_assert_eq!(&j.header, &valid.journal.header, "an edited header was accepted");
            }
        }
    }
}
