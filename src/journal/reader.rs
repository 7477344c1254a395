//! Reading a journal back and checking its hash chain.

use super::{Event, EventData, FORMAT, Header, JournalError, event_hash, header_hash};
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Journal {
    pub header: Header,
    pub events: Vec<Event>,
    /// The last line was cut off (a crash while writing it); it is not in `events`.
    pub torn_tail: bool,
}

impl Journal {
    pub fn final_hash(&self) -> &str {
        self.events.last().map(|e| e.hash.as_str()).unwrap_or("")
    }

    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Event> + 'a {
        self.events.iter().filter(move |e| e.kind == kind)
    }

    /// The typed events, in order (events of kinds this version does not know are left out).
    pub fn bodies(&self) -> impl Iterator<Item = &EventData> + '_ {
        self.events.iter().filter_map(|e| e.body.as_ref())
    }
}

pub(super) struct ForAppend {
    pub journal: Journal,
    /// Set when a torn tail must be cut off: the length of the valid prefix.
    pub valid_len: Option<u64>,
}

/// Reads and verifies a journal.
pub fn read(path: &Path) -> Result<Journal, JournalError> {
    Ok(read_for_append(path)?.journal)
}

pub(super) fn read_for_append(path: &Path) -> Result<ForAppend, JournalError> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| JournalError::Io {
        path: p.clone(),
        source,
    })?;
    let invalid = |line: usize, message: String| JournalError::Invalid {
        path: p.clone(),
        line,
        message,
    };
    let complete = text.ends_with('\n');
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    // A last line without its newline was being written when the process died.
    let torn = if !complete && !lines.is_empty() {
        lines.pop()
    } else {
        None
    };
    let Some(first) = lines.first() else {
        return Err(invalid(1, "empty journal (no header)".into()));
    };
    let header: Header = serde_json::from_str(first).map_err(|e| invalid(1, format!("bad header: {e}")))?;
    if header.format != FORMAT {
        return Err(invalid(
            1,
            format!("not a recovery-deck journal (format {:?})", header.format),
        ));
    }
    if !(super::OLDEST_VERSION..=super::VERSION).contains(&header.version) {
        return Err(invalid(
            1,
            format!(
                "journal format version {} is not one this recovery-deck reads ({} to {})",
                header.version,
                super::OLDEST_VERSION,
                super::VERSION
            ),
        ));
    }
    let mut prev = header_hash(&header);
    let mut events = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate().skip(1) {
        let mut event: Event = serde_json::from_str(line).map_err(|e| invalid(i + 1, format!("bad event: {e}")))?;
        let chain = |message: String| JournalError::Chain {
            path: p.clone(),
            seq: event.seq,
            message,
        };
        if event.seq != events.len() as u64 + 1 {
            return Err(chain(format!("expected seq {}, found {}", events.len() + 1, event.seq)));
        }
        if event.prev != prev {
            return Err(chain(
                "prev does not match the previous line's hash (a line was removed or changed)".into(),
            ));
        }
        if event_hash(&event) != event.hash {
            return Err(chain(
                "the event's content does not match its hash (it was edited)".into(),
            ));
        }
        event.body = EventData::from_parts(&event.kind, &event.data).map_err(|e| invalid(i + 1, e))?;
        prev = event.hash.clone();
        events.push(event);
    }
    let valid_len = torn.map(|t| (text.len() - t.len()) as u64);
    Ok(ForAppend {
        journal: Journal {
            header,
            events,
            torn_tail: torn.is_some(),
        },
        valid_len,
    })
}
