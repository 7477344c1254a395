//! The sidecar of a large plan (runbook version 2): every contract id of the plan once,
//! sorted, with its payload tag; then the named sets of rows that the runbook's lists,
//! steps and expected holdings refer to.
//!
//! ```text
//! # recovery-deck contract table v2
//! # plan sha256:…
//! # participants: 0 participant1, 1 participant2
//! @ids 3
//! 00a1… 1a2b3c4d5e6f7a8b
//! 00b7… 99aa00bb11cc22dd 1:0123456789abcdef
//! 00c0… -
//! @set held.0 2 list
//! 0
//! 1
//! @set move.1 3 bits
//! e
//! ```
//!
//! An id line holds the id; the payload tag of the first participant (in the runbook's
//! order) that held the contract when the plan was made, or `-` when none did; and `k:tag`
//! for each later holder `k` whose payload differs (a `payload_mismatch` row). A set is a
//! strictly ascending list of row numbers (0-based, into the ids above) written as one
//! number per line (`list`) or as a bitmap (`bits`: hex digits of four rows each, the first
//! row in the high bit, 128 digits a line); the writer takes the shorter. Comments (`# …`)
//! come only before `@ids`: after it every line is data, whatever an id looks like.
//!
//! At a million 134-character Canton ids the file is about 1.13× the bytes of the bare id
//! list: 17 bytes of tag per row, and a few bitmaps of n/4 bytes each.

use std::collections::HashMap;
use std::io::Write;

use crate::plan::PayloadTag;
use crate::reconcile::{ContractId, is_valid_contract_id};

use super::RunbookError;
use super::lines::HashedLines;

pub(super) const MAGIC: &str = "# recovery-deck contract table v2";
const BITS_PER_LINE: usize = 512;

/// The parsed table.
#[derive(Debug)]
pub(super) struct Table {
    pub ids: Vec<ContractId>,
    /// The payload tag of each row's first holder.
    pub tags: Vec<Option<PayloadTag>>,
    /// (row, participant index) -> tag, for later holders whose payload differs.
    pub others: HashMap<(u32, u32), PayloadTag>,
    pub sets: HashMap<String, Vec<u32>>,
}

impl Table {
    /// The payload tags of each participant's held rows (`held[k]`: participant `k`'s rows,
    /// ascending), checking that the table says exactly that: a first tag on every row
    /// someone holds and on no other, and other tags only for later holders that differ.
    pub fn payloads(&self, held: &[&[u32]]) -> Result<Vec<Vec<PayloadTag>>, String> {
        let mut first: Vec<Option<u32>> = vec![None; self.ids.len()];
        for (k, rows) in held.iter().enumerate() {
            for &r in *rows {
                first[r as usize].get_or_insert(k as u32);
            }
        }
        for (r, (first, tag)) in first.iter().zip(&self.tags).enumerate() {
            if first.is_some() != tag.is_some() {
                let id = &self.ids[r];
                return Err(match tag {
                    Some(_) => format!("row {r} ({id}) has a payload tag but nobody holds it"),
                    None => format!("row {r} ({id}) is held but has no payload tag"),
                });
            }
        }
        for (&(r, k), tag) in &self.others {
            let holds = held.get(k as usize).is_some_and(|rows| rows.binary_search(&r).is_ok());
            if !holds || first[r as usize] == Some(k) || self.tags[r as usize] == Some(*tag) {
                return Err(format!(
                    "row {r} ({}) names a payload for participant {k} that is not a later holder with another payload",
                    self.ids[r as usize]
                ));
            }
        }
        Ok(held
            .iter()
            .enumerate()
            .map(|(k, rows)| {
                rows.iter()
                    .map(|&r| {
                        self.others
                            .get(&(r, k as u32))
                            .or(self.tags[r as usize].as_ref())
                            .copied()
                            .unwrap_or(PayloadTag(0))
                    })
                    .collect()
            })
            .collect())
    }
}

pub(super) fn read(lines: &mut HashedLines<'_>) -> Result<Table, RunbookError> {
    if lines.next_line()? != Some(MAGIC) {
        return Err(lines.error(format!("the first line must be {MAGIC:?}")));
    }
    let n = loop {
        let Some(line) = lines.next_line()? else {
            return Err(lines.error("the file ends before its @ids line"));
        };
        if line.starts_with('#') {
            continue;
        }
        let problem = match line.strip_prefix("@ids ").and_then(number) {
            Some(n) if n <= u32::MAX as usize => break n,
            _ => format!("expected \"@ids COUNT\", found {line:?}"),
        };
        return Err(lines.error(problem));
    };
    let mut table = Table {
        ids: Vec::with_capacity(n.min(1 << 20)),
        tags: Vec::with_capacity(n.min(1 << 20)),
        others: HashMap::new(),
        sets: HashMap::new(),
    };
    for r in 0..n as u32 {
        let Some(line) = lines.next_line()? else {
            let problem = format!("the file ends after {r} of {n} ids");
            return Err(lines.error(problem));
        };
        let row = id_line(line, r, &mut table).map_err(|p| lines.error(p))?;
        table.ids.push(row.0);
        table.tags.push(row.1);
    }
    while let Some(line) = lines.next_line()? {
        let header: Vec<&str> = line.split(' ').collect();
        let parsed = match header.as_slice() {
            ["@set", name, count, encoding] if !name.is_empty() => match number(count) {
                Some(count) => Ok((name.to_string(), count, encoding.to_string())),
                None => Err(format!("{count:?} is not a count")),
            },
            _ => Err(format!("expected \"@set NAME COUNT list|bits\", found {line:?}")),
        };
        let (name, count, encoding) = parsed.map_err(|p| lines.error(p))?;
        if table.sets.contains_key(&name) {
            return Err(lines.error(format!("set {name:?} appears twice")));
        }
        if count > n {
            return Err(lines.error(format!("set {name:?} claims {count} of {n} rows")));
        }
        let rows = match encoding.as_str() {
            "list" => read_list(lines, n, count)?,
            "bits" => read_bits(lines, n, count)?,
            other => return Err(lines.error(format!("unknown set encoding {other:?}"))),
        };
        table.sets.insert(name, rows);
    }
    Ok(table)
}

/// A decimal number as the writer writes it: digits only, no leading zero.
fn number(s: &str) -> Option<usize> {
    let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

fn id_line(line: &str, r: u32, table: &mut Table) -> Result<(ContractId, Option<PayloadTag>), String> {
    let mut fields = line.split(' ');
    let id = fields.next().unwrap_or_default();
    if !is_valid_contract_id(id) {
        return Err(format!("{id:?} is not a contract id"));
    }
    if table.ids.last().is_some_and(|prev| **prev >= *id) {
        return Err(format!(
            "{id} is not after the previous id: ids must be sorted and unique"
        ));
    }
    let tag = match fields.next() {
        Some("-") => None,
        Some(t) => Some(t.parse::<PayloadTag>()?),
        None => return Err(format!("{id} has no payload tag (or -)")),
    };
    for other in fields {
        let parsed = other
            .split_once(':')
            .and_then(|(k, t)| Some((number(k)?, t.parse::<PayloadTag>().ok()?)));
        let Some((k, t)) = parsed.filter(|_| tag.is_some()) else {
            return Err(format!("{other:?} is not PARTICIPANT:TAG after a payload tag"));
        };
        let k = u32::try_from(k).map_err(|_| format!("participant {k} is out of range"))?;
        if table.others.insert((r, k), t).is_some() {
            return Err(format!("participant {k} has two payload tags"));
        }
    }
    Ok((ContractId::from(id), tag))
}

fn read_list(lines: &mut HashedLines<'_>, n: usize, count: usize) -> Result<Vec<u32>, RunbookError> {
    let mut rows: Vec<u32> = Vec::with_capacity(count.min(1 << 20));
    for _ in 0..count {
        let Some(line) = lines.next_line()? else {
            return Err(lines.error("the file ends inside a set"));
        };
        match number(line) {
            Some(r) if r < n && rows.last().is_none_or(|&p| (p as usize) < r) => rows.push(r as u32),
            _ => {
                let problem = format!("{line:?} is not a row number after the previous one and below {n}");
                return Err(lines.error(problem));
            }
        }
    }
    Ok(rows)
}

fn read_bits(lines: &mut HashedLines<'_>, n: usize, count: usize) -> Result<Vec<u32>, RunbookError> {
    let mut rows: Vec<u32> = Vec::with_capacity(count.min(1 << 20));
    let digits = n.div_ceil(4);
    let mut at = 0;
    while at < digits {
        let Some(line) = lines.next_line()? else {
            return Err(lines.error("the file ends inside a set"));
        };
        let want = (digits - at).min(BITS_PER_LINE / 4);
        if line.len() != want {
            let problem = format!("a bitmap line of {} digits, expected {want}", line.len());
            return Err(lines.error(problem));
        }
        for c in line.bytes() {
            let v = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => return Err(lines.error(format!("{:?} is not a lowercase hex digit", c as char))),
            };
            for bit in 0..4 {
                if v & (8 >> bit) != 0 {
                    let r = at * 4 + bit;
                    if r >= n {
                        return Err(lines.error("a bit is set past the last row"));
                    }
                    rows.push(r as u32);
                }
            }
            at += 1;
        }
    }
    if rows.len() != count {
        return Err(lines.error(format!("the set holds {} rows, its header says {count}", rows.len())));
    }
    Ok(rows)
}

/// What [`write`] puts in the file.
pub(super) struct TableOut<'a> {
    pub plan_hash: &'a str,
    pub participants: &'a [String],
    /// Sorted, unique.
    pub ids: &'a [&'a str],
    pub tags: &'a [Option<PayloadTag>],
    /// (row, participant index, tag), ascending by row then participant.
    pub others: &'a [(u32, u32, PayloadTag)],
    pub sets: &'a [(String, Vec<u32>)],
}

pub(super) fn write(t: &TableOut<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{MAGIC}")?;
    writeln!(out, "# plan {}", t.plan_hash)?;
    let names: Vec<String> = t
        .participants
        .iter()
        .enumerate()
        .map(|(k, p)| format!("{k} {}", p.replace(['\n', '\r'], " ")))
        .collect();
    writeln!(out, "# participants: {}", names.join(", "))?;
    writeln!(out, "@ids {}", t.ids.len())?;
    let mut others = t.others.iter().peekable();
    for (r, (id, tag)) in t.ids.iter().zip(t.tags).enumerate() {
        out.write_all(id.as_bytes())?;
        match tag {
            Some(tag) => write!(out, " {tag}")?,
            None => out.write_all(b" -")?,
        }
        while let Some((_, k, tag)) = others.next_if(|o| o.0 as usize == r) {
            write!(out, " {k}:{tag}")?;
        }
        out.write_all(b"\n")?;
    }
    for (name, rows) in t.sets {
        if list_bytes(rows) < bits_bytes(t.ids.len()) {
            writeln!(out, "@set {name} {} list", rows.len())?;
            for r in rows {
                writeln!(out, "{r}")?;
            }
        } else {
            writeln!(out, "@set {name} {} bits", rows.len())?;
            write_bits(rows, t.ids.len(), out)?;
        }
    }
    Ok(())
}

fn list_bytes(rows: &[u32]) -> usize {
    rows.iter().map(|r| r.checked_ilog10().unwrap_or(0) as usize + 2).sum()
}

fn bits_bytes(n: usize) -> usize {
    n.div_ceil(4) + n.div_ceil(BITS_PER_LINE)
}

fn write_bits(rows: &[u32], n: usize, out: &mut dyn Write) -> std::io::Result<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rows = rows.iter().peekable();
    let mut line = Vec::with_capacity(BITS_PER_LINE / 4 + 1);
    for start in (0..n).step_by(BITS_PER_LINE) {
        line.clear();
        for digit in (start..n.min(start + BITS_PER_LINE)).step_by(4) {
            let mut v = 0u8;
            for bit in 0..4 {
                if rows.next_if(|&&r| r as usize == digit + bit).is_some() {
                    v |= 8 >> bit;
                }
            }
            line.push(HEX[v as usize]);
        }
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(
        ids: &[&str],
        tags: &[Option<PayloadTag>],
        others: &[(u32, u32, PayloadTag)],
        sets: &[(String, Vec<u32>)],
    ) -> String {
        let mut out = Vec::new();
        let participants = ["p1".to_string(), "p2".to_string()];
        write(
            &TableOut {
                plan_hash: "sha256:00",
                participants: &participants,
                ids,
                tags,
                others,
                sets,
            },
            &mut out,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    fn parsed(text: &str) -> Result<Table, RunbookError> {
        read(&mut HashedLines::new("t.txt", &mut text.as_bytes()))
    }

    #[test]
    fn a_written_table_reads_back_with_both_set_encodings() {
        let ids: Vec<String> = (0..1000).map(|i| format!("00{i:04}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let tags: Vec<Option<PayloadTag>> = (0..1000).map(|i| (i % 10 != 0).then_some(PayloadTag(i))).collect();
        let others = [(5, 1, PayloadTag(77))];
        let dense: Vec<u32> = (0..1000).filter(|r| r % 3 != 0).collect();
        let sparse = vec![1, 500, 999];
        let sets = vec![
            ("dense".to_string(), dense.clone()),
            ("sparse".to_string(), sparse.clone()),
            ("empty".to_string(), vec![]),
        ];
        let text = written(&ids, &tags, &others, &sets);
        assert!(text.contains("@set dense 666 bits\n") && text.contains("@set sparse 3 list\n1\n500\n999\n"));
        assert!(
            text.contains("\n000005 0000000000000005 1:000000000000004d\n"),
            "{}",
            &text[..400]
        );
        assert!(text.contains("\n000000 -\n"));
        let t = parsed(&text).unwrap();
        assert_eq!(t.ids.len(), 1000);
        assert_eq!(t.ids[7].as_ref(), "000007");
        assert_eq!(t.tags, tags);
        assert_eq!(t.others, HashMap::from([((5, 1), PayloadTag(77))]));
        assert_eq!(t.sets["dense"], dense);
        assert_eq!(t.sets["sparse"], sparse);
        assert!(t.sets["empty"].is_empty());
    }

    #[test]
    fn bitmaps_pad_the_last_digit_and_refuse_stray_bits() {
        let sets = vec![("s".to_string(), vec![0, 4])];
        let text = written(&["a", "b", "c", "d", "e"], &[None; 5], &[], &sets);
        assert!(text.ends_with("@set s 2 bits\n88\n"), "{text}");
        assert_eq!(parsed(&text).unwrap().sets["s"], [0, 4]);
        let stray = text.replace("\n88\n", "\n8c\n");
        assert!(parsed(&stray).unwrap_err().to_string().contains("past the last row"));
        let miscounted = text.replace("@set s 2 bits", "@set s 3 bits");
        assert!(parsed(&miscounted).unwrap_err().to_string().contains("header says 3"));
    }

    #[test]
    fn malformed_tables_are_refused_with_the_line() {
        let good = format!(
            "{MAGIC}\n# plan sha256:00\n# participants: 0 p1\n@ids 2\na 0000000000000001\nb -\n@set s 1 list\n1\n"
        );
        assert_eq!(parsed(&good).unwrap().sets["s"], [1]);
        let t = |from: &str, to: &str| {
            let bad = good.replacen(from, to, 1);
            assert_ne!(bad, good, "{from}");
            parsed(&bad).err().map(|e| e.to_string()).unwrap_or_default()
        };
        // The set header is read as a third id line, and refused as one.
        assert!(t("@ids 2", "@ids 3").contains("line 7"));
        let short = written(&["a"], &[None], &[], &[]).replace("@ids 1", "@ids 2");
        assert!(parsed(&short).unwrap_err().to_string().contains("ends after 1 of 2"));
        assert!(t("@ids 2", "@ids 02").contains("@ids COUNT"));
        assert!(t("\nb -\n", "\na -\n").contains("sorted and unique"));
        assert!(t("\nb -\n", "\nb\n").contains("no payload tag"));
        assert!(t("\nb -\n", "\nb - 1:0000000000000001\n").contains("after a payload tag"));
        assert!(t("a 0000000000000001", "a 0000000000000001 1:x").contains("PARTICIPANT:TAG"));
        assert!(t("a 0000000000000001", "a 000000000000001").contains("payload tag"));
        assert!(t("a 0000000000000001", "a b 0000000000000001").contains("payload tag"));
        assert!(t("@set s 1 list\n1", "@set s 1 list\n2").contains("below 2"));
        assert!(t("@set s 1 list", "@set s 1 lust").contains("unknown set encoding"));
        assert!(t("@set s 1 list\n1\n", "@set s 1 list\n1\n@set s 0 list\n").contains("appears twice"));
        assert!(t(MAGIC, "# other").contains("line 1"));
        let err = t("\nb -\n", "\nb -\n# comment\n");
        assert!(err.contains("line 7"), "{err}");
    }

    #[test]
    fn payloads_per_participant_follow_the_first_holder_rule() {
        let table = Table {
            ids: ["a", "b", "c"].map(ContractId::from).to_vec(),
            tags: vec![Some(PayloadTag(1)), Some(PayloadTag(2)), None],
            others: HashMap::from([((1, 1), PayloadTag(3))]),
            sets: HashMap::new(),
        };
        let got = table.payloads(&[&[0, 1], &[1]]).unwrap();
        assert_eq!(got, [vec![PayloadTag(1), PayloadTag(2)], vec![PayloadTag(3)]]);
        assert!(
            table.payloads(&[&[0], &[1]]).is_err(),
            "row 1's other tag names its first holder"
        );
        assert!(
            table.payloads(&[&[0, 1, 2], &[1]]).is_err(),
            "row 2 is held without a tag"
        );
        assert!(table.payloads(&[&[1], &[1]]).is_err(), "row 0 has a tag nobody holds");
    }
}
