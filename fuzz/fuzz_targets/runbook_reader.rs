//! The runbook reader on hostile text. Input: the runbook, optionally followed by a NUL
//! byte and the sidecar text. Loading must return an error, never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use recovery_deck::plan::{load_runbook, runbook_sidecar};

fuzz_target!(|data: &[u8]| {
    // The command line reads both files with read_to_string: only UTF-8 gets this far.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (runbook, sidecar) = match text.split_once('\0') {
        Some((runbook, sidecar)) => (runbook, Some(sidecar)),
        None => (text, None),
    };
    let _ = runbook_sidecar(runbook);
    match load_runbook(runbook, sidecar) {
        Ok(loaded) => {
            let _ = loaded.plan.hash();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
