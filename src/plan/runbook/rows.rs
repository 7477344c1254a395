//! The writer's side of the contract table: the sorted ids of the plan, and its lists turned
//! into row numbers.
//!
//! At a million ids every string comparison is a cache miss, so the work is kept to one pass
//! per list, each finding its rows by galloping forward from the previous one (lists are
//! sorted), and an id is first compared by address: a plan's lists share the comparison's
//! `Arc<str>` for each contract, so most comparisons never read the strings.

use std::collections::HashMap;
use std::hash::{Hash as _, Hasher as _};

use crate::reconcile::ContractId;

use super::RunbookError;
use super::dto::SetRef;

/// Why a list has no rows.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum NoRows {
    /// An id of the list is not in the table.
    Missing,
    Unsorted,
}

impl NoRows {
    pub fn error(&self, what: &str) -> RunbookError {
        RunbookError::Render(match self {
            NoRows::Missing => format!("{what} holds an id outside the contract table"),
            NoRows::Unsorted => format!("{what} is not sorted and unique"),
        })
    }
}

fn same(a: &str, b: &str) -> bool {
    std::ptr::eq(a, b) || a == b
}

/// The sorted union of sorted lists (K-way; K is the number of participants), with each
/// list's row numbers in it.
pub(super) fn merge<'p>(lists: &[&'p [ContractId]]) -> Result<(Vec<&'p str>, Vec<Vec<u32>>), NoRows> {
    let mut at = vec![0usize; lists.len()];
    let mut rows: Vec<Vec<u32>> = lists.iter().map(|l| Vec::with_capacity(l.len())).collect();
    let mut out: Vec<&'p str> = Vec::with_capacity(lists.iter().map(|l| l.len()).max().unwrap_or(0));
    loop {
        let mut next: Option<&'p str> = None;
        for (l, &i) in lists.iter().zip(&at) {
            if let Some(id) = l.get(i) {
                let id: &'p str = id;
                if next.is_none_or(|n| !same(n, id) && id < n) {
                    next = Some(id);
                }
            }
        }
        let Some(next) = next else {
            return Ok((out, rows));
        };
        if out.last().is_some_and(|last| *last >= next) {
            return Err(NoRows::Unsorted);
        }
        let row = out.len() as u32;
        for ((l, i), r) in lists.iter().zip(at.iter_mut()).zip(rows.iter_mut()) {
            if l.get(*i).is_some_and(|id| same(id, next)) {
                *i += 1;
                r.push(row);
            }
        }
        out.push(next);
    }
}

/// Every id of `lists`, sorted and unique, for a plan whose lists hold ids no holding has.
pub(super) fn everything<'p>(lists: &[&'p [ContractId]]) -> Vec<&'p str> {
    let mut ids: Vec<&'p str> = lists.iter().flat_map(|l| l.iter().map(|id| &**id)).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The position of `id` in `table` at or after `from`, probing `from`, `from + 1`,
/// `from + 3`, … and then bisecting: cheap when consecutive lookups are close.
fn find_from(table: &[&str], from: usize, id: &str) -> Option<usize> {
    let n = table.len();
    if table.get(from).is_some_and(|t| std::ptr::eq(*t, id)) {
        return Some(from);
    }
    let (mut lo, mut step) = (from, 1usize);
    let hi = loop {
        let probe = from.saturating_add(step - 1);
        if probe >= n {
            break n;
        }
        if table[probe] >= id {
            break probe + 1;
        }
        lo = probe + 1;
        step = step.saturating_mul(2);
    };
    let at = lo + table[lo..hi].partition_point(|t| *t < id);
    (at < n && same(table[at], id)).then_some(at)
}

/// The table being written: its ids and the sets the runbook refers to, each stored once.
pub(super) struct Sets<'p> {
    pub ids: Vec<&'p str>,
    pub sets: Vec<(String, Vec<u32>)>,
    by_content: HashMap<u64, Vec<usize>>,
}

impl<'p> Sets<'p> {
    pub fn new(ids: Vec<&'p str>) -> Self {
        Self {
            ids,
            sets: Vec::new(),
            by_content: HashMap::new(),
        }
    }

    /// The row numbers of the ids of `lists`, one after the other, which must ascend.
    pub fn rows<'l>(&self, lists: impl IntoIterator<Item = &'l [ContractId]>) -> Result<Vec<u32>, NoRows> {
        let mut rows = Vec::new();
        let mut from = 0;
        for id in lists.into_iter().flatten() {
            let Some(at) = find_from(&self.ids, from, id) else {
                return Err(match self.ids.binary_search(&&**id) {
                    Ok(_) => NoRows::Unsorted,
                    Err(_) => NoRows::Missing,
                });
            };
            rows.push(at as u32);
            from = at + 1;
        }
        Ok(rows)
    }

    /// A reference to the whole set of `rows`: to an equal set already stored, or to a new
    /// one called `name`.
    pub fn add(&mut self, name: &str, rows: Vec<u32>) -> SetRef {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        rows.hash(&mut h);
        let key = h.finish();
        let count = rows.len() as u64;
        let same = self
            .by_content
            .get(&key)
            .and_then(|found| found.iter().find(|&&i| self.sets[i].1 == rows));
        if let Some(&i) = same {
            return SetRef {
                set: self.sets[i].0.clone(),
                from: 0,
                count,
            };
        }
        self.by_content.entry(key).or_default().push(self.sets.len());
        self.sets.push((name.to_owned(), rows));
        SetRef {
            set: name.to_owned(),
            from: 0,
            count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<ContractId> {
        v.iter().map(|s| ContractId::from(*s)).collect()
    }

    #[test]
    fn merging_holdings_gives_the_table_and_their_rows() {
        let (a, b) = (ids(&["a", "c", "e"]), ids(&["b", "c", "f"]));
        // `c` is a separate allocation in each list: equal by content.
        let (table, rows) = merge(&[&a, &b]).unwrap();
        assert_eq!(table, ["a", "b", "c", "e", "f"]);
        assert_eq!(rows, [vec![0, 2, 3], vec![1, 2, 4]]);
        let shared = ContractId::from("c");
        let (x, y) = (vec![shared.clone()], vec![ContractId::from("a"), shared]);
        assert_eq!(merge(&[&x, &y]).unwrap().0, ["a", "c"]);
        assert_eq!(merge(&[&ids(&["b", "a"])]).unwrap_err(), NoRows::Unsorted);
        assert_eq!(merge(&[&ids(&["a", "a"])]).unwrap_err(), NoRows::Unsorted);
        assert_eq!(everything(&[&a, &b, &ids(&["z", "a"])]), ["a", "b", "c", "e", "f", "z"]);
    }

    #[test]
    fn galloping_finds_every_position() {
        let table: Vec<String> = (0..1000).map(|i| format!("{i:04}")).collect();
        let table: Vec<&str> = table.iter().map(String::as_str).collect();
        for from in [0, 1, 5, 500, 999] {
            for (i, id) in table.iter().enumerate() {
                let copy = id.to_string();
                let want = (i >= from).then_some(i);
                assert_eq!(find_from(&table, from, &copy), want, "{from} {i}");
                assert_eq!(find_from(&table, from, id), want, "{from} {i}");
            }
            assert_eq!(find_from(&table, from, "x"), None);
        }
        assert_eq!(find_from(&[], 0, "a"), None);
    }

    #[test]
    fn sets_are_stored_once_and_lists_must_be_sorted() {
        let mut s = Sets::new(vec!["a", "b", "c"]);
        let list = ids(&["a", "c"]);
        assert_eq!(s.rows([list.as_slice()]).unwrap(), [0, 2]);
        let (first, second) = (ids(&["a"]), ids(&["b", "c"]));
        assert_eq!(s.rows([first.as_slice(), second.as_slice()]).unwrap(), [0, 1, 2]);
        assert_eq!(s.rows([ids(&["c", "a"]).as_slice()]), Err(NoRows::Unsorted));
        assert_eq!(s.rows([ids(&["x"]).as_slice()]), Err(NoRows::Missing));
        let first = s.add("one", vec![0, 2]);
        let again = s.add("two", vec![0, 2]);
        let other = s.add("three", vec![1]);
        assert_eq!(
            (first.set.as_str(), again.set.as_str(), other.set.as_str()),
            ("one", "one", "three")
        );
        assert_eq!(s.sets.len(), 2);
    }
}
