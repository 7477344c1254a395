//! The comparison file a journal pins (`search.result`'s `snapshot`): every row the screen
//! showed, gzip-compressed JSON lines, so a million rows cost the journal one line.
//!
//! Line 1 is a header: `{"format":"recovery-deck-comparison","version":1,"synchronizer",
//! "participants":[{"name","hosted_parties"}],"rows","classes"}`. Every later line is one
//! row, in contract-id order: `{"id","template","stakeholders","class","states","digest",
//! "payloads"}`, where `states` holds one entry per participant (header order): `active`,
//! `differs:<hex>`, `archived`, `moved:<alias>`, `unknown` or `not_hosted`; `digest` is the
//! payload digest the `active` holders share (hex); and `payloads`, only on rows whose
//! holders disagree, maps each version's digest to its payload (Daml JSON) — what a
//! report's appendix diffs. The header's hosted parties make the rows enough to rebuild
//! the very [`Comparison`] ([`to_comparison`]).

use crate::reconcile::{
    self, Comparison, ContractSummary, Digest, Inspection, InspectionResult, Interner, ParticipantSnapshot,
    ParticipantState, RowClass,
};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufRead, BufReader, Read, Write};

pub const FORMAT: &str = "recovery-deck-comparison";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotHeader {
    pub format: String,
    pub version: u32,
    pub synchronizer: String,
    pub participants: Vec<SnapshotParticipant>,
    pub rows: usize,
    pub classes: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotParticipant {
    pub name: String,
    pub hosted_parties: BTreeSet<String>,
}

/// One participant's state in a row, digests as hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    NotHosted,
    Active,
    Differs(String),
    Archived,
    Moved(String),
    Unknown,
}

impl State {
    fn encode(state: &ParticipantState) -> String {
        match state {
            ParticipantState::NotHosted => "not_hosted".into(),
            ParticipantState::Active { .. } => "active".into(),
            ParticipantState::Differs { digest } => format!("differs:{}", hex::encode(digest)),
            ParticipantState::Archived => "archived".into(),
            ParticipantState::Moved { to } => format!("moved:{to}"),
            ParticipantState::Unknown => "unknown".into(),
        }
    }

    fn decode(text: &str) -> Result<State, String> {
        Ok(match text {
            "not_hosted" => State::NotHosted,
            "active" => State::Active,
            "archived" => State::Archived,
            "unknown" => State::Unknown,
            _ => match text.split_once(':') {
                Some(("differs", d)) => State::Differs(hex::encode(checked_digest(d)?)),
                Some(("moved", to)) => State::Moved(to.to_string()),
                _ => return Err(format!("unknown state {text:?}")),
            },
        })
    }

    pub fn is_held(&self) -> bool {
        matches!(self, State::Active | State::Differs(_))
    }
}

fn checked_digest(hex_text: &str) -> Result<Digest, String> {
    let bytes = hex::decode(hex_text).map_err(|_| format!("digest {hex_text:?} is not hex"))?;
    bytes
        .try_into()
        .map_err(|_| format!("digest {hex_text:?} is not 32 bytes"))
}

/// One row of the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotRow {
    pub id: String,
    pub template: String,
    pub stakeholders: Vec<String>,
    pub class: RowClass,
    /// Header participant order.
    pub states: Vec<State>,
    /// The digest the `active` holders share.
    pub digest: Option<String>,
    /// Each version's payload by its digest, on rows whose holders disagree.
    pub payloads: BTreeMap<String, Value>,
}

impl SnapshotRow {
    /// The digest of participant `i`'s version, if it holds the contract.
    pub fn digest_of(&self, i: usize) -> Option<&str> {
        match self.states.get(i)? {
            State::Active => self.digest.as_deref(),
            State::Differs(d) => Some(d),
            _ => None,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct RowLine {
    id: String,
    template: String,
    stakeholders: Vec<String>,
    class: String,
    states: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    payloads: BTreeMap<String, Value>,
}

/// A participant's payload of a contract, by the participant's index in the comparison.
pub type PayloadOf<'a> = &'a dyn Fn(usize, &str) -> Option<Value>;

/// Writes `comparison` as a comparison file. `hosted` gives each participant's hosted
/// parties; `payload` is asked only for the rows whose holders disagree (a version it does
/// not have is left out, and the row keeps its digests).
pub fn write(
    comparison: &Comparison,
    hosted: &BTreeMap<String, BTreeSet<String>>,
    payload: PayloadOf<'_>,
    out: impl Write,
) -> io::Result<()> {
    // Fast compression: the file is written while the operator waits for the survey. The
    // buffer sits in front of the compressor: serde writes a row in many small pieces, and
    // the compressor is slow on tiny writes.
    let mut gz = io::BufWriter::with_capacity(256 * 1024, GzEncoder::new(out, Compression::fast()));
    let header = SnapshotHeader {
        format: FORMAT.into(),
        version: VERSION,
        synchronizer: comparison.synchronizer().to_string(),
        participants: comparison
            .participants()
            .iter()
            .map(|name| SnapshotParticipant {
                name: name.clone(),
                hosted_parties: hosted.get(name).cloned().unwrap_or_default(),
            })
            .collect(),
        rows: comparison.len(),
        classes: comparison
            .counts()
            .iter()
            .map(|(c, n)| (c.as_str().to_string(), n))
            .collect(),
    };
    serde_json::to_writer(&mut gz, &header)?;
    gz.write_all(b"\n")?;
    for row in comparison.rows() {
        let digests: BTreeSet<&Digest> = row.states().iter().filter_map(ParticipantState::digest).collect();
        let majority = row.states().iter().find_map(|s| match s {
            ParticipantState::Active { digest } => Some(hex::encode(digest)),
            _ => None,
        });
        let mut payloads = BTreeMap::new();
        if digests.len() > 1 {
            for (i, state) in row.states().iter().enumerate() {
                if let Some(d) = state.digest() {
                    let key = hex::encode(d);
                    if !payloads.contains_key(&key)
                        && let Some(p) = payload(i, row.contract_id())
                    {
                        payloads.insert(key, p);
                    }
                }
            }
        }
        let line = RowLine {
            id: row.contract_id().to_string(),
            template: row.template_id().to_string(),
            stakeholders: row.stakeholders().iter().map(|p| p.to_string()).collect(),
            class: row.class().as_str().to_string(),
            states: row.states().iter().map(State::encode).collect(),
            digest: majority,
            payloads,
        };
        serde_json::to_writer(&mut gz, &line)?;
        gz.write_all(b"\n")?;
    }
    gz.into_inner()
        .map_err(io::IntoInnerError::into_error)?
        .finish()?
        .flush()
}

/// Writes the comparison file of `comparison` beside `journal` and pins it.
pub fn pin(
    journal: &std::path::Path,
    comparison: &Comparison,
    hosted: &BTreeMap<String, BTreeSet<String>>,
    payload: PayloadOf<'_>,
) -> Result<super::Pinned, String> {
    let fail = |e: io::Error| format!("writing the comparison beside {}: {e}", journal.display());
    let mut w = super::pins::PinWriter::create(journal, "comparison", "jsonl.gz").map_err(fail)?;
    write(comparison, hosted, payload, &mut w).map_err(fail)?;
    w.finish().map_err(fail)
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("comparison file: {0}")]
    Io(#[from] io::Error),
    #[error("comparison file, line {line}: {message}")]
    Invalid { line: usize, message: String },
    #[error("comparison file: its rows do not make a comparison: {0}")]
    Rebuild(String),
}

/// Reads a comparison file row by row (a million rows need not be in memory at once).
pub struct SnapshotReader<R: Read> {
    header: SnapshotHeader,
    lines: io::Lines<BufReader<GzDecoder<R>>>,
    line: usize,
    rows: usize,
}

impl<R: Read> SnapshotReader<R> {
    pub fn open(input: R) -> Result<SnapshotReader<R>, SnapshotError> {
        let mut lines = BufReader::new(GzDecoder::new(input)).lines();
        let invalid = |message: String| SnapshotError::Invalid { line: 1, message };
        let first = lines.next().ok_or_else(|| invalid("empty file".into()))??;
        let header: SnapshotHeader = serde_json::from_str(&first).map_err(|e| invalid(format!("bad header: {e}")))?;
        if header.format != FORMAT {
            return Err(invalid(format!("not a comparison file (format {:?})", header.format)));
        }
        if header.version != VERSION {
            return Err(invalid(format!(
                "comparison file version {} is not one this recovery-deck reads ({VERSION})",
                header.version
            )));
        }
        Ok(SnapshotReader {
            header,
            lines,
            line: 1,
            rows: 0,
        })
    }

    pub fn header(&self) -> &SnapshotHeader {
        &self.header
    }

    fn row(&self, text: &str) -> Result<SnapshotRow, String> {
        let raw: RowLine = serde_json::from_str(text).map_err(|e| format!("bad row: {e}"))?;
        if raw.states.len() != self.header.participants.len() {
            return Err(format!(
                "{} states for {} participants",
                raw.states.len(),
                self.header.participants.len()
            ));
        }
        let class: RowClass = raw
            .class
            .parse()
            .map_err(|e: reconcile::UnknownRowClass| e.to_string())?;
        let states = raw
            .states
            .iter()
            .map(|s| State::decode(s))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(d) = &raw.digest {
            checked_digest(d)?;
        }
        if states.contains(&State::Active) && raw.digest.is_none() {
            return Err("an active state without the row's digest".into());
        }
        Ok(SnapshotRow {
            id: raw.id,
            template: raw.template,
            stakeholders: raw.stakeholders,
            class,
            states,
            digest: raw.digest,
            payloads: raw.payloads,
        })
    }
}

impl<R: Read> Iterator for SnapshotReader<R> {
    type Item = Result<SnapshotRow, SnapshotError>;

    fn next(&mut self) -> Option<Self::Item> {
        let text = match self.lines.next() {
            Some(Ok(t)) => t,
            Some(Err(e)) => return Some(Err(e.into())),
            None if self.rows != self.header.rows => {
                return Some(Err(SnapshotError::Invalid {
                    line: self.line + 1,
                    message: format!("the file ends after {} of {} rows", self.rows, self.header.rows),
                }));
            }
            None => return None,
        };
        self.line += 1;
        self.rows += 1;
        Some(self.row(&text).map_err(|message| SnapshotError::Invalid {
            line: self.line,
            message,
        }))
    }
}

/// Rebuilds the comparison the file was written from: the rows give each participant's
/// holdings and the archived and moved answers, the header its hosted parties, and the
/// same alignment yields the same rows and classes.
pub fn to_comparison<R: Read>(reader: SnapshotReader<R>) -> Result<Comparison, SnapshotError> {
    let header = reader.header().clone();
    let mut interner = Interner::new();
    let mut snapshots: Vec<ParticipantSnapshot> = header
        .participants
        .iter()
        .map(|p| ParticipantSnapshot {
            participant: p.name.clone(),
            hosted_parties: p.hosted_parties.clone(),
            contracts: Vec::new(),
        })
        .collect();
    let mut inspection = Inspection::new();
    for row in reader {
        let row = row?;
        let template = interner.name(&row.template);
        let stakeholders = interner.stakeholders(&row.stakeholders);
        for (i, state) in row.states.iter().enumerate() {
            let name = &header.participants[i].name;
            match state {
                State::Active | State::Differs(_) => {
                    // The reader checked every digest it hands out.
                    let digest = row
                        .digest_of(i)
                        .map(checked_digest)
                        .transpose()
                        .map_err(SnapshotError::Rebuild)?
                        .unwrap_or_default();
                    snapshots[i].contracts.push(ContractSummary::new(
                        row.id.as_str(),
                        template.clone(),
                        stakeholders.clone(),
                        digest,
                    ));
                }
                State::Archived => inspection.record(name, row.id.as_str(), InspectionResult::Archived),
                State::Moved(to) => {
                    inspection.record(name, row.id.as_str(), InspectionResult::Moved { to: to.clone() })
                }
                State::Unknown | State::NotHosted => {}
            }
        }
    }
    reconcile::compare(&header.synchronizer, &snapshots, &inspection).map_err(|e| SnapshotError::Rebuild(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::testkit::*;
    use serde_json::json;

    /// Three participants: agreed, missing, archived somewhere, a payload mismatch, moved
    /// and local rows.
    fn sample() -> (Comparison, BTreeMap<String, BTreeSet<String>>) {
        let mut i = Interner::new();
        let mut snaps = vec![
            snapshot("p1", &["Alice"]),
            snapshot("p2", &["Bob"]),
            snapshot("p3", &["Carol"]),
        ];
        let all = ["Alice", "Bob", "Carol"];
        hold(&mut snaps, &mut i, &["p1", "p2", "p3"], "00agreed", &all, 1);
        hold(&mut snaps, &mut i, &["p1", "p2"], "01missing", &all, 1);
        hold(&mut snaps, &mut i, &["p1", "p2"], "02archived", &all, 1);
        hold(&mut snaps, &mut i, &["p1", "p3"], "03mismatch", &all, 1);
        hold(&mut snaps, &mut i, &["p2"], "03mismatch", &all, 2);
        hold(&mut snaps, &mut i, &["p1"], "04moved", &["Alice", "Bob"], 1);
        hold(&mut snaps, &mut i, &["p3"], "05local", &["Carol"], 1);
        let mut ins = Inspection::new();
        ins.record("p3", "02archived", InspectionResult::Archived);
        ins.record("p2", "04moved", InspectionResult::Moved { to: "other".into() });
        let hosted = snaps
            .iter()
            .map(|s| (s.participant.clone(), s.hosted_parties.clone()))
            .collect();
        (reconcile::compare("lost", &snaps, &ins).expect("compare"), hosted)
    }

    fn payload(participant: usize, id: &str) -> Option<Value> {
        Some(json!({"id": id, "amount": if participant == 1 { "120.0" } else { "100.0" }}))
    }

    fn written(cmp: &Comparison, hosted: &BTreeMap<String, BTreeSet<String>>) -> Vec<u8> {
        let mut out = Vec::new();
        write(cmp, hosted, &payload, &mut out).expect("write");
        out
    }

    #[test]
    fn the_file_rebuilds_the_comparison_it_was_written_from() {
        let (cmp, hosted) = sample();
        let bytes = written(&cmp, &hosted);
        let again = to_comparison(SnapshotReader::open(bytes.as_slice()).expect("open")).expect("rebuild");
        assert_eq!(again, cmp);
        assert_eq!(
            written(&again, &hosted),
            bytes,
            "the same comparison writes the same bytes"
        );
    }

    #[test]
    fn rows_carry_states_digests_and_the_disagreeing_payloads_only() {
        let (cmp, hosted) = sample();
        let bytes = written(&cmp, &hosted);
        let reader = SnapshotReader::open(bytes.as_slice()).expect("open");
        assert_eq!(reader.header().rows, cmp.len());
        assert_eq!(reader.header().classes["payload_mismatch"], 1);
        assert_eq!(
            reader.header().participants[1].hosted_parties,
            ["Bob".to_string()].into()
        );
        let rows: Vec<SnapshotRow> = reader.collect::<Result<_, _>>().expect("rows");
        let by_id = |id: &str| rows.iter().find(|r| r.id == id).expect("row");
        let mismatch = by_id("03mismatch");
        assert_eq!(mismatch.class, RowClass::PayloadMismatch);
        let (one, two) = (hex::encode(digest(1)), hex::encode(digest(2)));
        assert_eq!(
            mismatch.states,
            [State::Active, State::Differs(two.clone()), State::Active]
        );
        assert_eq!(mismatch.digest_of(1), Some(two.as_str()));
        assert_eq!(mismatch.payloads.len(), 2, "both versions");
        assert_eq!(mismatch.payloads[&two]["amount"], "120.0");
        assert_eq!(mismatch.payloads[&one]["amount"], "100.0");
        assert!(by_id("00agreed").payloads.is_empty(), "agreed rows carry no payload");
        assert_eq!(by_id("04moved").states[1], State::Moved("other".into()));
        assert_eq!(by_id("05local").states[0], State::NotHosted);
    }

    #[test]
    fn a_damaged_or_foreign_file_is_refused_naming_the_line() {
        let (cmp, hosted) = sample();
        let gz = |text: &str| {
            let mut e = GzEncoder::new(Vec::new(), Compression::fast());
            e.write_all(text.as_bytes()).expect("gz");
            e.finish().expect("gz")
        };
        let bytes = written(&cmp, &hosted);
        let mut text = String::new();
        GzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .expect("gunzip");
        let lines: Vec<&str> = text.lines().collect();
        // Cut after three rows: the header promised more.
        let cut = gz(&(lines[..4].join("\n") + "\n"));
        let err = SnapshotReader::open(cut.as_slice())
            .expect("open")
            .collect::<Result<Vec<_>, _>>()
            .expect_err("short");
        assert!(err.to_string().contains("line 5"), "{err}");
        let bad_state = gz(&text.replacen("\"active\"", "\"hovering\"", 1));
        let err = SnapshotReader::open(bad_state.as_slice())
            .expect("open")
            .collect::<Result<Vec<_>, _>>()
            .expect_err("state");
        assert!(
            err.to_string().contains("line 2") && err.to_string().contains("hovering"),
            "{err}"
        );
        let foreign = gz(&text.replacen(FORMAT, "something-else", 1));
        assert!(SnapshotReader::open(foreign.as_slice()).is_err());
        assert!(SnapshotReader::open(&b"not gzip"[..]).is_err());
    }
}
