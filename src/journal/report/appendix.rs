//! The report's appendices: the payload diffs of the rows whose versions differ, and the
//! files the journal pins.

use super::{Ctx, cell, short_hash};
use crate::journal::snapshot::{SnapshotRow, State};
use crate::reconcile::diff;
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub(super) fn diffs(out: &mut String, c: &Ctx<'_>) {
    out.push_str("## Appendix A: payloads that differ\n\n");
    let Some(v) = c.input.survey else {
        out.push_str("The journal records no survey.\n\n");
        return;
    };
    if !v.detailed {
        out.push_str(
            "The journal pins no comparison (journal format before 3), so the payloads were not recorded.\n\n",
        );
        return;
    }
    if v.differing_total == 0 {
        out.push_str("Every participant that held a contract held the same payload.\n\n");
        return;
    }
    let names: Vec<&str> = v.participants.iter().map(|p| p.name.as_str()).collect();
    let _ = writeln!(
        out,
        "{} row(s) were held in more than one version; each version is compared with the one most participants held.\n",
        v.differing_total
    );
    for row in &v.differing {
        row_diff(out, row, &names);
    }
    if v.differing_total > v.differing.len() {
        let file = c
            .input
            .focus
            .survey
            .and_then(|i| c.input.journal.events.get(i))
            .and_then(|e| match &e.body {
                Some(crate::journal::EventData::Surveyed(s)) => s.snapshot.as_ref().map(|p| p.file.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{} more such row(s) are in the pinned comparison `{file}`.\n",
            v.differing_total - v.differing.len()
        );
    }
}

fn row_diff(out: &mut String, row: &SnapshotRow, names: &[&str]) {
    let _ = writeln!(out, "### `{}`\n", row.id);
    let _ = writeln!(out, "{}, template `{}`.\n", row.class, cell(&row.template));
    // Versions by digest, each with its holders, in the order the participants are listed.
    let mut versions: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if let Some(d) = row.digest_of(i) {
            if !versions.contains_key(d) {
                order.push(d);
            }
            versions.entry(d).or_default().push(name);
        }
    }
    let base = row.digest.as_deref().or(order.first().copied());
    for d in &order {
        let majority = if Some(*d) == row.digest.as_deref() {
            " (majority)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "- version `{}`{majority}: held by {}",
            short_hash(d),
            versions[d].join(", ")
        );
    }
    out.push('\n');
    let Some(base) = base else { return };
    for d in order.iter().filter(|d| **d != base) {
        let label = |digest: &str| format!("{} ({})", versions[digest].join(", "), short_hash(digest));
        match (row.payloads.get(base), row.payloads.get(*d)) {
            (Some(left), Some(right)) => {
                let text = diff::unified_diff(left, right, &label(base), &label(d));
                let _ = writeln!(out, "```diff\n{}```\n", ensure_newline(&text));
            }
            _ => {
                let _ = writeln!(
                    out,
                    "_The payload of version `{}` or `{}` was not recorded._\n",
                    short_hash(base),
                    short_hash(d)
                );
            }
        }
    }
    // Where the others saw it archived or moved, say so: the diff shows only holders.
    let gone: Vec<String> = row
        .states
        .iter()
        .zip(names)
        .filter_map(|(s, n)| match s {
            State::Archived => Some(format!("{n}: archived")),
            State::Moved(to) => Some(format!("{n}: moved to {to}")),
            _ => None,
        })
        .collect();
    if !gone.is_empty() {
        let _ = writeln!(out, "Elsewhere: {}.\n", gone.join("; "));
    }
}

fn ensure_newline(text: &str) -> String {
    if text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    }
}

pub(super) fn records(out: &mut String, c: &Ctx<'_>) {
    out.push_str("## Appendix B: records\n\n");
    let pins = &c.input.integrity.pins;
    if pins.is_empty() {
        out.push_str("The journal pins no files.\n\n");
        return;
    }
    out.push_str("Files the journal pins by digest, checked for this report:\n\n| line | file | sha256 | bytes | check |\n|---:|---|---|---:|---|\n");
    for p in pins {
        let _ = writeln!(
            out,
            "| {} | `{}` | `{}` | {} | {} |",
            p.line,
            cell(&p.pinned.file),
            short_hash(&p.pinned.sha256),
            p.pinned.bytes,
            p.problem
                .as_deref()
                .map_or("verified".to_string(), |m| format!("**{}**", cell(m)))
        );
    }
    out.push('\n');
}
