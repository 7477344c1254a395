//! The files a script refers to: the contract-id data files beside it, pinned by digest and
//! count, and the names of the hand-off snapshots.

use std::collections::BTreeMap;

use super::part::{Handoff, Part};
use super::{ConsoleError, ConsoleFile, Dialect, check_name};
use crate::plan::{Plan, text_digest};
use crate::reconcile::ContractId;

/// A data file and the ids it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct DataFile {
    pub file: ConsoleFile,
    pub count: usize,
    pub digest: String,
}

impl DataFile {
    fn new(name: String, ids: &[ContractId]) -> DataFile {
        let mut text = String::with_capacity(ids.iter().map(|i| i.len() + 1).sum());
        for id in ids {
            text.push_str(id);
            text.push('\n');
        }
        DataFile {
            digest: text_digest(&text),
            count: ids.len(),
            file: ConsoleFile { name, text },
        }
    }
}

/// The names (and for data files, the contents) of everything a script refers to.
pub(super) struct Files {
    pub data: Vec<DataFile>,
    pub purge: Option<usize>,
    pub moves: Option<usize>,
    /// Index into `data` of the verify list (the move list when they are the same).
    pub verify: Option<usize>,
    /// (source, receiver) → index into `data`.
    pub handoff: BTreeMap<(String, String), usize>,
    /// `<incident>-<hash prefix>`, the stem of hand-off snapshot names.
    snapshot_stem: String,
    snapshot_ext: &'static str,
}

impl Files {
    pub(super) fn of(plan: &Plan, dialect: Dialect, part: &Part<'_>) -> Result<Files, ConsoleError> {
        let p = part.name;
        let mut files = Files {
            data: Vec::new(),
            purge: None,
            moves: None,
            verify: None,
            handoff: BTreeMap::new(),
            snapshot_stem: format!("{}-{}", slug(plan.incident()), hash_prefix(plan.hash())),
            snapshot_ext: if dialect.is_2x() { "contracts.bin" } else { "acs.gz" },
        };
        let add = |files: &mut Files, name: String, ids: &[ContractId]| {
            files.data.push(DataFile::new(name, ids));
            files.data.len() - 1
        };
        if let Some(purge) = &part.purge {
            files.purge = Some(add(&mut files, format!("{p}.purge.ids"), &purge.ids));
        }
        for h in part.exports.iter().chain(&part.imports) {
            check_name("participant", h.source)?;
            check_name("participant", h.receiver)?;
            let i = add(&mut files, format!("{}-to-{}.handoff.ids", h.source, h.receiver), h.ids);
            files.handoff.insert((h.source.to_string(), h.receiver.to_string()), i);
        }
        if let Some(m) = &part.moves {
            files.moves = Some(add(&mut files, format!("{p}.move.ids"), &m.ids));
        }
        if let Some(v) = &part.verify {
            let same = part.moves.as_ref().is_some_and(|m| m.ids == v.ids);
            files.verify = if same {
                files.moves
            } else {
                Some(add(&mut files, format!("{p}.verify.ids"), v.ids))
            };
        }
        Ok(files)
    }

    pub fn handoff_ids(&self, h: &Handoff<'_>) -> &DataFile {
        let i = self.handoff[&(h.source.to_string(), h.receiver.to_string())];
        &self.data[i]
    }

    /// The hand-off snapshot file, named by the plan (incident and hash) and the pair.
    pub fn snapshot(&self, h: &Handoff<'_>) -> String {
        format!(
            "{}.{}-to-{}.{}",
            self.snapshot_stem, h.source, h.receiver, self.snapshot_ext
        )
    }
}

/// The first 12 hex digits of a `sha256:…` hash.
pub(super) fn hash_prefix(hash: &str) -> &str {
    let hex = hash.strip_prefix("sha256:").unwrap_or(hash);
    hex.get(..12).unwrap_or(hex)
}

/// An incident name made safe for a file name.
pub(super) fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-');
    if s.is_empty() { "incident".into() } else { s.into() }
}
