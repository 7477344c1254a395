//! `--record FILE.cast`: an asciicast v2 recording of the screen, playable by asciinema.
//!
//! Line 1 is the header (`version`, `width`, `height`, `timestamp`, …); every other line
//! is one event `[seconds since the start, code, data]`: `"o"` what was written to the
//! terminal, `"r"` a resize (`"COLSxROWS"`), `"m"` a marker, here one per decision (a
//! strategy chosen, a row decided, a plan proposed and confirmed, a run started and
//! finished). Keys typed are not recorded: a filter can hold a party id.
//!
//! The recording tees what the terminal backend writes ([`Tee`]): each flush — one per
//! frame — becomes one output event. Every event is written to the file as soon as it
//! happens, in one write, so a crash loses at most the event being written. The file is
//! private (mode 0600): the screen shows the incident's contracts.

use crate::journal::EventData;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// An asciicast v2 file being written.
pub struct Cast {
    file: File,
    start: Instant,
    /// The tail of the output that is not yet a whole UTF-8 character.
    partial: Vec<u8>,
}

/// A recording shared by the terminal's writer and the loop that adds markers.
pub type SharedCast = Arc<Mutex<Cast>>;

impl Cast {
    /// Creates (or replaces) `path` and writes the header for a `width`×`height` screen.
    pub fn create(path: &Path, width: u16, height: u16, title: &str) -> io::Result<Cast> {
        let file = crate::private_file::open(path, OpenOptions::new().write(true).create(true).truncate(true))?;
        let env: serde_json::Map<String, serde_json::Value> = ["TERM", "SHELL"]
            .into_iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v.into())))
            .collect();
        let header = serde_json::json!({
            "version": 2,
            "width": width,
            "height": height,
            "timestamp": jiff::Timestamp::now().as_second(),
            "title": title,
            "env": env,
        });
        let mut cast = Cast {
            file,
            start: Instant::now(),
            partial: Vec::new(),
        };
        cast.line(&header.to_string())?;
        Ok(cast)
    }

    pub fn shared(self) -> SharedCast {
        Arc::new(Mutex::new(self))
    }

    fn line(&mut self, text: &str) -> io::Result<()> {
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(b'\n');
        self.file.write_all(&bytes)
    }

    fn event(&mut self, code: &str, data: &str) -> io::Result<()> {
        // Microseconds are as fine as players read.
        let t = (self.start.elapsed().as_secs_f64() * 1e6).round() / 1e6;
        let line = serde_json::to_string(&(t, code, data)).map_err(io::Error::other)?;
        self.line(&line)
    }

    /// What was written to the terminal. A character split across two writes is held
    /// back until it is whole, so that every event is valid UTF-8 as the format wants.
    pub fn output(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.partial.extend_from_slice(bytes);
        let text = match std::str::from_utf8(&self.partial) {
            Ok(s) => s.to_string(),
            Err(e) if e.error_len().is_none() => {
                let whole = e.valid_up_to();
                let text = String::from_utf8_lossy(&self.partial[..whole]).into_owned();
                self.partial.drain(..whole);
                if text.is_empty() {
                    return Ok(());
                }
                return self.event("o", &text);
            }
            Err(_) => String::from_utf8_lossy(&self.partial).into_owned(),
        };
        self.partial.clear();
        if text.is_empty() {
            return Ok(());
        }
        self.event("o", &text)
    }

    pub fn marker(&mut self, label: &str) -> io::Result<()> {
        self.event("m", label)
    }

    pub fn resize(&mut self, width: u16, height: u16) -> io::Result<()> {
        self.event("r", &format!("{width}x{height}"))
    }
}

/// The marker a journal event sets in a recording, if it is a decision.
pub fn marker_for(event: &EventData) -> Option<String> {
    let short = |hash: &str| hash.trim_start_matches("sha256:").chars().take(12).collect::<String>();
    Some(match event {
        EventData::StrategyChosen { strategy } => format!("strategy {strategy}"),
        EventData::Decided {
            contract_id, decision, ..
        } => {
            let id: String = contract_id.chars().take(16).collect();
            format!("decided {decision} for {id}")
        }
        EventData::PlanProposed(p) => format!("plan proposed {} ({} move)", short(&p.plan_hash), p.moved),
        EventData::PlanApproved(p) => format!("plan confirmed {}", short(&p.plan_hash)),
        EventData::RunStarted(r) if r.dry_run => format!("dry run started {}", short(&r.plan_hash)),
        EventData::RunStarted(r) => format!("run started {}", short(&r.plan_hash)),
        EventData::RunEnded(r) if r.ok => format!("run finished ok {}", short(&r.plan_hash)),
        EventData::RunEnded(r) => format!("run finished FAILED {}", short(&r.plan_hash)),
        _ => return None,
    })
}

/// A writer that passes everything to `inner` (the terminal) and records it: each flush
/// appends one output event with what was written since the last one.
pub struct Tee<W: Write> {
    inner: W,
    cast: SharedCast,
    pending: Vec<u8>,
}

impl<W: Write> Tee<W> {
    pub fn new(inner: W, cast: SharedCast) -> Tee<W> {
        Tee {
            inner,
            cast,
            pending: Vec::new(),
        }
    }
}

impl<W: Write> Write for Tee<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.pending.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()?;
        if self.pending.is_empty() {
            return Ok(());
        }
        let bytes = std::mem::take(&mut self.pending);
        // A recording that cannot be written must not stop the screen it records.
        if let Err(e) = self.cast.lock().unwrap_or_else(|p| p.into_inner()).output(&bytes) {
            tracing::error!("recording: {e}");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{PlanApproved, RunEnded};
    use crate::reconcile::StrategyName;
    use serde_json::Value;
    use std::os::unix::fs::MetadataExt as _;

    fn lines(path: &Path) -> Vec<Value> {
        std::fs::read_to_string(path)
            .expect("read")
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
            .collect()
    }

    #[test]
    fn header_then_output_resize_and_marker_events_one_json_value_per_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.cast");
        let cast = Cast::create(&path, 120, 36, "recovery-deck").expect("create").shared();
        let mut tee = Tee::new(Vec::new(), cast.clone());
        write!(tee, "\x1b[1;1Hagreed 4").expect("write");
        tee.flush().expect("flush");
        cast.lock()
            .expect("lock")
            .marker("strategy intersection")
            .expect("marker");
        cast.lock().expect("lock").resize(100, 30).expect("resize");
        tee.flush().expect("an empty flush writes no event");
        write!(tee, "x").expect("write");
        tee.flush().expect("flush");

        let v = lines(&path);
        assert_eq!(v.len(), 5, "{v:?}");
        assert_eq!(v[0]["version"], 2);
        assert_eq!((v[0]["width"].as_u64(), v[0]["height"].as_u64()), (Some(120), Some(36)));
        assert!(v[0]["timestamp"].as_i64().is_some_and(|t| t > 1_600_000_000));
        let events: Vec<(&str, &str)> = v[1..]
            .iter()
            .map(|e| {
                let a = e.as_array().expect("an event is an array");
                assert_eq!(a.len(), 3);
                assert!(a[0].as_f64().is_some_and(|t| t >= 0.0), "time: {e}");
                (a[1].as_str().expect("code"), a[2].as_str().expect("data"))
            })
            .collect();
        assert_eq!(
            events,
            [
                ("o", "\x1b[1;1Hagreed 4"),
                ("m", "strategy intersection"),
                ("r", "100x30"),
                ("o", "x")
            ]
        );
        let times: Vec<f64> = v[1..].iter().map(|e| e[0].as_f64().expect("time")).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "times never go back: {times:?}");
        assert_eq!(tee.inner, b"\x1b[1;1Hagreed 4x", "the terminal got everything");
        assert_eq!(std::fs::metadata(&path).expect("meta").mode() & 0o777, 0o600);
    }

    #[test]
    fn a_character_split_across_flushes_is_recorded_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.cast");
        let cast = Cast::create(&path, 80, 24, "t").expect("create").shared();
        let mut tee = Tee::new(std::io::sink(), cast);
        let check = "a✓".as_bytes();
        tee.write_all(&check[..2]).expect("write");
        tee.flush().expect("flush");
        tee.write_all(&check[2..]).expect("write");
        tee.flush().expect("flush");
        let v = lines(&path);
        let data: Vec<&str> = v[1..].iter().map(|e| e[2].as_str().expect("data")).collect();
        assert_eq!(data, ["a", "✓"]);
    }

    #[test]
    fn every_event_is_on_disk_once_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.cast");
        let mut cast = Cast::create(&path, 80, 24, "t").expect("create");
        cast.marker("plan confirmed").expect("marker");
        // Still open: a crash now would leave these two lines.
        assert_eq!(lines(&path).len(), 2);
        drop(cast);
    }

    #[test]
    fn decisions_are_markers_and_what_was_only_seen_is_not() {
        let hash = "sha256:0123456789abcdef".to_string();
        assert_eq!(
            marker_for(&EventData::StrategyChosen {
                strategy: StrategyName::Union
            })
            .as_deref(),
            Some("strategy union")
        );
        assert_eq!(
            marker_for(&EventData::PlanApproved(PlanApproved {
                plan_hash: hash.clone(),
                confirmed_by_typing: "newDomain".into(),
                unattended: false,
            }))
            .as_deref(),
            Some("plan confirmed 0123456789ab")
        );
        let ended = RunEnded {
            plan_hash: hash,
            ok: true,
            moved: Default::default(),
            added: Default::default(),
            skipped: Default::default(),
            error: None,
        };
        assert_eq!(
            marker_for(&EventData::RunEnded(ended)).as_deref(),
            Some("run finished ok 0123456789ab")
        );
        assert_eq!(
            marker_for(&EventData::DiffViewed {
                contract_id: "00".into()
            }),
            None
        );
        assert_eq!(marker_for(&EventData::ScreenOpened { read_only: false }), None);
    }
}
