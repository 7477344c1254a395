//! Reading a journal back and checking its hash chain.
//!
//! Two readings of one file. [`read`] is the lenient one resume and the screen use: a last
//! line torn by a crash is left out (and cut off by [`super::JournalWriter::append_to`]).
//! [`check`] is the reviewer's: what verified, the first line where the file stops being
//! trustworthy (a torn last line included) and whether the session sealed it; [`verify`]
//! refuses anything but a whole, unbroken chain. Errors name the line of the file
//! (1-based, the header is line 1).

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

    /// Whether the session that wrote the journal last sealed it (see [`Seal`]).
    pub fn seal(&self) -> Seal {
        if self.header.version < super::SEALED_SINCE {
            return Seal::BeforeSeals(self.header.version);
        }
        match self.events.last() {
            Some(e) if matches!(e.body, Some(EventData::SessionClosed(_))) => Seal::Sealed,
            _ => Seal::Unsealed,
        }
    }

    /// The line of the file an event is on.
    pub fn line_of(&self, index: usize) -> usize {
        index + 2
    }
}

/// How a journal ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seal {
    /// Its last event is the seal (`session.close`): the session ended cleanly.
    Sealed,
    /// No seal at the end: the session did not end cleanly (a crash, or it is still
    /// running), or the file was cut at a line boundary. The chain cannot tell these apart.
    Unsealed,
    /// Written by a format version (given) that did not seal journals.
    BeforeSeals(u32),
}

pub(super) struct ForAppend {
    pub journal: Journal,
    /// Set when a torn tail must be cut off: the length of the valid prefix.
    pub valid_len: Option<u64>,
}

/// Reads and verifies a journal; a torn last line is left out (see [`Journal::torn_tail`]).
pub fn read(path: &Path) -> Result<Journal, JournalError> {
    Ok(read_for_append(path)?.journal)
}

/// What [`check`] found: everything that verified, and where the file stopped verifying.
#[derive(Debug)]
pub struct Checked {
    /// The header and the events before the first problem.
    pub journal: Journal,
    /// Lines in the file, a torn last one included.
    pub lines: usize,
    /// The first problem, naming its line; `None` for a whole, unbroken chain.
    pub broken: Option<JournalError>,
}

impl Checked {
    /// The whole file verified: every line chains, none is torn.
    pub fn is_whole(&self) -> bool {
        self.broken.is_none()
    }
}

/// Checks a journal line by line, keeping what verified before the first problem. Fails
/// only when nothing can be trusted: the file cannot be read or its header is unusable.
pub fn check(path: &Path) -> Result<Checked, JournalError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| JournalError::Io {
        path: p.clone(),
        source,
    })?;
    let scanned = scan(&p, &bytes)?;
    let broken = match scanned.stop {
        None => None,
        Some(Stop::Torn { line, .. }) => Some(JournalError::Torn { path: p, line }),
        Some(Stop::Broken(e)) => Some(e),
    };
    Ok(Checked {
        journal: scanned.journal,
        lines: scanned.lines,
        broken,
    })
}

/// Reads a journal that must be whole: a torn last line, like any break in the chain, is
/// an error naming its line. An unsealed journal is not an error (see [`Journal::seal`]).
pub fn verify(path: &Path) -> Result<Journal, JournalError> {
    let checked = check(path)?;
    match checked.broken {
        Some(e) => Err(e),
        None => Ok(checked.journal),
    }
}

pub(super) fn read_for_append(path: &Path) -> Result<ForAppend, JournalError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| JournalError::Io {
        path: p.clone(),
        source,
    })?;
    let scanned = scan(&p, &bytes)?;
    match scanned.stop {
        None => Ok(ForAppend {
            journal: scanned.journal,
            valid_len: None,
        }),
        Some(Stop::Torn { valid_len, .. }) => {
            let mut journal = scanned.journal;
            journal.torn_tail = true;
            Ok(ForAppend {
                journal,
                valid_len: Some(valid_len),
            })
        }
        Some(Stop::Broken(e)) => Err(e),
    }
}

enum Stop {
    /// The last line has no newline: it was being written when the process died, or the
    /// file was cut in the middle of it.
    Torn {
        line: usize,
        valid_len: u64,
    },
    Broken(JournalError),
}

struct Scanned {
    journal: Journal,
    lines: usize,
    stop: Option<Stop>,
}

fn scan(p: &str, bytes: &[u8]) -> Result<Scanned, JournalError> {
    let invalid = |line: usize, message: String| JournalError::Invalid {
        path: p.to_string(),
        line,
        message,
    };
    let mut lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
    let total = lines.len();
    // A last line without its newline was being written when the process died.
    let torn = match lines.last() {
        Some(last) if !last.ends_with(b"\n") => lines.pop(),
        _ => None,
    };
    let Some(first) = lines.first() else {
        return Err(match torn {
            Some(_) => invalid(
                1,
                "the header line is incomplete (the file ends in the middle of it)".into(),
            ),
            None => invalid(1, "empty journal (no header)".into()),
        });
    };
    let header: Header = serde_json::from_slice(first).map_err(|e| invalid(1, format!("bad header: {e}")))?;
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
    let mut events: Vec<Event> = Vec::with_capacity(lines.len());
    let mut stop = None;
    for (i, raw) in lines.iter().enumerate().skip(1) {
        match next_event(p, i + 1, raw, &prev, events.last()) {
            Ok(event) => {
                prev = event.hash.clone();
                events.push(event);
            }
            Err(e) => {
                stop = Some(Stop::Broken(e));
                break;
            }
        }
    }
    if stop.is_none()
        && let Some(t) = torn
    {
        stop = Some(Stop::Torn {
            line: total,
            valid_len: (bytes.len() - t.len()) as u64,
        });
    }
    Ok(Scanned {
        journal: Journal {
            header,
            events,
            torn_tail: false,
        },
        lines: total,
        stop,
    })
}

/// Parses and checks the event on `line`, which must follow `before` (`None`: the header,
/// whose hash is `prev`).
fn next_event(p: &str, line: usize, raw: &[u8], prev: &str, before: Option<&Event>) -> Result<Event, JournalError> {
    let mut event: Event = serde_json::from_slice(raw).map_err(|e| JournalError::Invalid {
        path: p.to_string(),
        line,
        message: format!("bad event: {e}"),
    })?;
    let chain = |line: usize, message: String| JournalError::Chain {
        path: p.to_string(),
        line,
        seq: event.seq,
        message,
    };
    let expected = before.map_or(1, |b| b.seq + 1);
    if event_hash(&event) != event.hash {
        return Err(chain(
            line,
            format!("event {}'s content does not match its hash (it was edited)", event.seq),
        ));
    }
    if event.seq != expected {
        return Err(chain(
            line,
            format!(
                "expected seq {expected}, found {} (a line was removed, repeated or moved)",
                event.seq
            ),
        ));
    }
    if event.prev != prev {
        // The line is intact and in sequence, so what it follows changed. The header has
        // no hash of its own: an edit there shows only here.
        return Err(match before {
            None => chain(
                line - 1,
                "the header does not hash to what the first event records as its predecessor (the header was edited)"
                    .into(),
            ),
            Some(_) => chain(
                line,
                format!(
                    "event {}'s prev does not match the previous line's hash (the line was replaced or comes from another journal)",
                    event.seq
                ),
            ),
        });
    }
    event.body = EventData::from_parts(&event.kind, &event.data).map_err(|message| JournalError::Invalid {
        path: p.to_string(),
        line,
        message,
    })?;
    Ok(event)
}
