//! Appending to a journal: one `write` of a whole line per event, with the file opened
//! in append mode, and `sync_data` after the events that must survive a crash. The file
//! is private to its owner (mode 0600, [`crate::private_file`]).

use super::{Actor, Event, EventData, Header, JournalError, SessionClosed, event_hash, header_hash};
use crate::private_file;
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub struct JournalWriter {
    path: PathBuf,
    file: File,
    seq: u64,
    prev: String,
    started: Instant,
    /// Seconds of session time already behind us when an existing journal is reopened.
    offset_secs: f64,
    clock: Clock,
    /// The seal is written: nothing may follow it from this writer.
    sealed: bool,
}

/// Where event times come from.
#[derive(Debug, Clone)]
pub enum Clock {
    System,
    /// Each event `step` after the one before, the first `step` after `start`: journals whose
    /// bytes do not depend on when they were written (committed test fixtures).
    Stepped {
        start: jiff::Timestamp,
        step: jiff::SignedDuration,
        readings: i32,
    },
}

impl Clock {
    pub fn stepped(start: jiff::Timestamp, step: jiff::SignedDuration) -> Clock {
        Clock::Stepped {
            start,
            step,
            readings: 0,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl JournalWriter {
    /// Creates a new journal; refuses to overwrite an existing file.
    pub fn create(path: &Path, header: &Header) -> Result<JournalWriter, JournalError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_file::create_dir_all(dir).map_err(io(path))?;
        }
        let mut file = private_file::open(path, OpenOptions::new().create_new(true).append(true)).map_err(io(path))?;
        let mut line = serde_json::to_string(header).map_err(|e| io(path)(std::io::Error::other(e)))?;
        line.push('\n');
        file.write_all(line.as_bytes()).map_err(io(path))?;
        file.sync_all().map_err(io(path))?;
        Ok(JournalWriter {
            path: path.to_path_buf(),
            file,
            seq: 0,
            prev: header_hash(header),
            started: Instant::now(),
            offset_secs: 0.0,
            clock: Clock::System,
            sealed: false,
        })
    }

    /// Takes event times from `clock` from now on.
    pub fn with_clock(mut self, clock: Clock) -> JournalWriter {
        self.clock = clock;
        self
    }

    /// Reopens an existing journal to continue it (a resumed run). A line torn by a crash
    /// at the end is cut off first; a broken chain anywhere else is refused.
    pub fn append_to(path: &Path) -> Result<JournalWriter, JournalError> {
        let journal = super::reader::read_for_append(path)?;
        if let Some(len) = journal.valid_len {
            let f = OpenOptions::new().write(true).open(path).map_err(io(path))?;
            f.set_len(len).map_err(io(path))?;
            f.sync_all().map_err(io(path))?;
        }
        // A journal written by an older release is narrowed to 0600 as well.
        let file = private_file::open(path, OpenOptions::new().append(true)).map_err(io(path))?;
        let (seq, prev, offset_secs) = match journal.journal.events.last() {
            Some(e) => (e.seq, e.hash.clone(), e.t),
            None => (0, header_hash(&journal.journal.header), 0.0),
        };
        Ok(JournalWriter {
            path: path.to_path_buf(),
            file,
            seq,
            prev,
            started: Instant::now(),
            offset_secs,
            clock: Clock::System,
            sealed: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event; it is on disk when this returns if the kind is durable (see
    /// [`EventData::durable`]).
    pub fn append(&mut self, actor: Actor, body: EventData) -> Result<Event, JournalError> {
        let (kind, data) = body.to_parts().map_err(|e| io(&self.path)(std::io::Error::other(e)))?;
        let durable = body.durable();
        let mut event = self.append_raw(kind, actor, data, durable)?;
        event.body = Some(body);
        Ok(event)
    }

    /// Writes the seal (`session.close`) as the last event of this writer: the session ended
    /// cleanly. Later appends through this writer are refused; reopening the journal
    /// ([`JournalWriter::append_to`]) continues it after the seal.
    pub fn seal(&mut self, actor: Actor, front_end: &str) -> Result<Event, JournalError> {
        let event = self.append(
            actor,
            EventData::SessionClosed(SessionClosed {
                front_end: front_end.to_string(),
            }),
        )?;
        self.sealed = true;
        Ok(event)
    }

    pub fn is_sealed(&self) -> bool {
        self.sealed
    }

    /// The time of the last event written (now, for the system clock): for records made
    /// beside the journal, so that they agree with it.
    pub fn time(&self) -> jiff::Timestamp {
        match &self.clock {
            Clock::System => jiff::Timestamp::now(),
            Clock::Stepped { start, step, readings } => start.checked_add(*step * *readings).unwrap_or(*start),
        }
    }

    /// The event's time (RFC 3339 with milliseconds) and its seconds since the session began.
    fn now(&mut self) -> (String, f64) {
        let (now, secs) = match &mut self.clock {
            Clock::System => (jiff::Timestamp::now(), self.started.elapsed().as_secs_f64()),
            Clock::Stepped { start, step, readings } => {
                *readings += 1;
                let since = *step * *readings;
                (start.checked_add(since).unwrap_or(*start), since.as_secs_f64())
            }
        };
        (
            format!("{:.3}", now),
            ((self.offset_secs + secs) * 1000.0).round() / 1000.0,
        )
    }

    /// Appends an event of another family (a session log's), already split into its kind
    /// and data.
    pub fn append_raw(&mut self, kind: &str, actor: Actor, data: Value, durable: bool) -> Result<Event, JournalError> {
        if self.sealed {
            return Err(JournalError::Sealed {
                path: self.path.display().to_string(),
            });
        }
        let (ts, t) = self.now();
        let mut event = Event {
            seq: self.seq + 1,
            ts,
            t,
            actor,
            kind: kind.to_string(),
            data,
            prev: self.prev.clone(),
            hash: String::new(),
            body: None,
        };
        event.hash = event_hash(&event);
        let mut line = serde_json::to_string(&event).map_err(|e| io(&self.path)(std::io::Error::other(e)))?;
        line.push('\n');
        self.file.write_all(line.as_bytes()).map_err(io(&self.path))?;
        if durable {
            self.file.sync_data().map_err(io(&self.path))?;
        }
        self.seq = event.seq;
        self.prev = event.hash.clone();
        Ok(event)
    }
}
