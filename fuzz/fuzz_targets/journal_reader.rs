//! The journal reader on hostile files, and reopening for append: what `append_to`
//! accepts must read back, with the appended event, and must be what `read` accepts.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use recovery_deck::journal::{self, Actor, JournalWriter};

/// One file, rewritten for every input (the reader takes a path, like the commands).
fn path() -> &'static PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        DIR.get_or_init(|| tempfile::tempdir().expect("tempdir"))
            .path()
            .join("fuzz.journal.jsonl")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = path();
    std::fs::write(path, data).expect("write the input");
    let read = journal::read(path);
    if let Err(e) = &read {
        let _ = e.to_string();
    }
    match JournalWriter::append_to(path) {
        Ok(mut w) => {
            let before = read.expect("append_to accepted a journal that read refuses");
            w.append(
                Actor::default(),
                journal::EventData::DiffViewed {
                    contract_id: "fuzz".into(),
                },
            )
            .expect("append");
            let after = journal::read(path).expect("an appended journal reads back");
            assert_eq!(after.events.len(), before.events.len() + 1);
            assert_eq!(after.events[..before.events.len()], before.events[..]);
            assert!(!after.torn_tail);
        }
        Err(_) => assert!(read.is_err(), "read accepts a journal that append_to refuses"),
    }
});
