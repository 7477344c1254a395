//! Appending to a journal: one `write` of a whole line per event, with the file opened
//! in append mode, and `sync_data` after the events that must survive a crash. The file
//! is private to its owner (mode 0600, [`crate::private_file`]).

use super::{Actor, Event, EventData, Header, JournalError, event_hash, header_hash};
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
        })
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

    /// Appends an event of another family (a session log's), already split into its kind
    /// and data.
    pub fn append_raw(&mut self, kind: &str, actor: Actor, data: Value, durable: bool) -> Result<Event, JournalError> {
        let now = jiff::Timestamp::now();
        let mut event = Event {
            seq: self.seq + 1,
            ts: format!("{:.3}", now),
            t: ((self.offset_secs + self.started.elapsed().as_secs_f64()) * 1000.0).round() / 1000.0,
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
