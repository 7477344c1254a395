//! Reading a recording: the journal and every file it pins, checked as the report checks
//! them (`journal::report::load`), then each pinned comparison and plan read once.

use crate::journal::report::{self, Loaded};
use crate::journal::snapshot::{self, SnapshotReader};
use crate::journal::{EventData, JournalError, Pinned, pins};
use crate::plan::Plan;
use crate::reconcile::Comparison;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The comparisons and plans the journal pins, by their files' sha256.
#[derive(Debug, Clone, Default)]
pub struct Records {
    pub comparisons: HashMap<String, Arc<Comparison>>,
    pub plans: HashMap<String, Arc<Plan>>,
}

/// A journal, checked, with what it pins.
pub struct Recording {
    pub loaded: Loaded,
    pub records: Records,
    /// Pinned files that verified but could not be read back, `line N: why`.
    pub unreadable: Vec<String>,
}

/// Reads the journal at `path` and everything it pins. Fails only when nothing can be
/// trusted; a broken chain or a changed pinned file is in `loaded.integrity`, for the
/// caller to refuse or to play under a warning, and only what verified is read.
pub fn load(path: &Path) -> Result<Recording, JournalError> {
    let loaded = report::load(path)?;
    let trusted = |pin: &Pinned| {
        loaded
            .integrity
            .pins
            .iter()
            .any(|p| &p.pinned == pin && p.problem.is_none())
    };
    let mut records = Records::default();
    let mut unreadable = Vec::new();
    for (i, e) in loaded.journal.events.iter().enumerate() {
        let line = loaded.journal.line_of(i);
        let read = match &e.body {
            Some(EventData::Surveyed(s)) => match &s.snapshot {
                Some(pin) if trusted(pin) && !records.comparisons.contains_key(&pin.sha256) => {
                    read_comparison(path, pin).map(|c| {
                        records.comparisons.insert(pin.sha256.clone(), Arc::new(c));
                    })
                }
                _ => Ok(()),
            },
            Some(
                EventData::PlanProposed(crate::journal::PlanProposed {
                    runbook: Some(runbook),
                    sidecar,
                    ..
                })
                | EventData::RunStarted(crate::journal::RunStarted {
                    runbook: Some(runbook),
                    sidecar,
                    ..
                }),
            ) if trusted(runbook)
                && sidecar.as_ref().is_none_or(trusted)
                && !records.plans.contains_key(&runbook.sha256) =>
            {
                report::read_plan(path, runbook, sidecar.as_ref()).map(|l| {
                    records.plans.insert(runbook.sha256.clone(), Arc::new(l.plan));
                })
            }
            _ => Ok(()),
        };
        if let Err(why) = read {
            unreadable.push(format!("line {line}: {why}"));
        }
    }
    Ok(Recording {
        loaded,
        records,
        unreadable,
    })
}

fn read_comparison(journal: &Path, pin: &Pinned) -> Result<Comparison, String> {
    let path = pins::resolve(journal, pin).map_err(|e| e.to_string())?;
    let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", pin.file))?;
    let reader = SnapshotReader::open(file).map_err(|e| format!("{}: {e}", pin.file))?;
    snapshot::to_comparison(reader).map_err(|e| format!("{}: {e}", pin.file))
}
