//! The journal as the executor's tasks share it: one writer behind a lock, each event also
//! sent to the progress listener (the screen's live journal).

use super::progress::Progress;
use crate::journal::{Actor, EventData, JournalError, JournalWriter};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// The journal shared by the participant tasks of a phase.
#[derive(Clone)]
pub(super) struct SharedJournal {
    pub writer: Arc<Mutex<JournalWriter>>,
    pub operator: String,
    pub progress: Option<mpsc::UnboundedSender<Progress>>,
}

impl SharedJournal {
    /// Appends an event on behalf of `node` (or of the whole run). The append is a short
    /// synchronous write (plus an fsync for durable kinds) and the lock is never held
    /// across an await, so tasks of one phase never wait on each other for long.
    pub(super) fn record(&self, node: Option<&str>, body: EventData) -> Result<(), JournalError> {
        let actor = Actor {
            op: self.operator.clone(),
            node: node.map(str::to_string),
        };
        let event = self
            .writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .append(actor, body)?;
        if let Some(p) = &self.progress {
            let _ = p.send(Progress::Journal(Box::new(event)));
        }
        Ok(())
    }

    pub(super) fn progress(&self, p: Progress) {
        if let Some(tx) = &self.progress {
            let _ = tx.send(p);
        }
    }
}
