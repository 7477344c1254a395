//! The writer's side of the contract table: the sorted universe of the plan's ids, and its
//! lists turned into row numbers, in time linear in the lists (each list is sorted, so a row
//! is found by galloping forward from the previous one).

use std::collections::HashMap;
use std::hash::{Hash as _, Hasher as _};

use crate::reconcile::ContractId;

use super::RunbookError;
use super::dto::SetRef;

/// Every id of `lists`, sorted and unique. `lists[..covering]` are expected to hold nearly
/// all of them (the expected holdings cover every row of the comparison) and are merged;
/// ids found only in the others are added.
pub(super) fn universe<'p>(lists: &[&'p [ContractId]], covering: usize) -> Result<Vec<&'p str>, RunbookError> {
    let (main, rest) = lists.split_at(covering.min(lists.len()));
    let mut ids = merge(main)?;
    let mut extra: Vec<&'p str> = Vec::new();
    for list in rest {
        let mut from = 0;
        for id in list.iter() {
            match find_from(&ids, from, id) {
                Some(at) => from = at + 1,
                None => extra.push(id),
            }
        }
    }
    if !extra.is_empty() {
        ids.extend(extra);
        ids.sort_unstable();
        ids.dedup();
    }
    Ok(ids)
}

fn unsorted(what: &str) -> RunbookError {
    RunbookError::Render(format!("{what} is not sorted and unique"))
}

/// K-way merge of sorted lists (K is the number of participants), dropping duplicates.
fn merge<'p>(lists: &[&'p [ContractId]]) -> Result<Vec<&'p str>, RunbookError> {
    if lists.iter().any(|l| l.windows(2).any(|w| w[0] >= w[1])) {
        return Err(unsorted("an expected holding"));
    }
    let mut at = vec![0usize; lists.len()];
    let mut out: Vec<&'p str> = Vec::with_capacity(lists.iter().map(|l| l.len()).max().unwrap_or(0));
    loop {
        let next = lists
            .iter()
            .zip(&at)
            .filter_map(|(l, &i)| l.get(i).map(|id| &**id))
            .min();
        let Some(next) = next else { return Ok(out) };
        for (l, i) in lists.iter().zip(at.iter_mut()) {
            if l.get(*i).is_some_and(|id| **id == *next) {
                *i += 1;
            }
        }
        out.push(next);
    }
}

/// The position of `id` in `table` at or after `from`, probing `from`, `from + 1`,
/// `from + 3`, … and then bisecting: cheap when consecutive lookups are close.
fn find_from(table: &[&str], from: usize, id: &str) -> Option<usize> {
    let n = table.len();
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
    (at < n && table[at] == id).then_some(at)
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

    /// The row numbers of a sorted list of ids of the table.
    pub fn rows(&self, list: &[ContractId], what: &str) -> Result<Vec<u32>, RunbookError> {
        let mut rows = Vec::with_capacity(list.len());
        let mut from = 0;
        for id in list {
            let at = find_from(&self.ids, from, id).ok_or_else(|| unsorted(what))?;
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
    fn the_universe_merges_holdings_and_adds_the_rest() {
        let (a, b, c) = (ids(&["a", "c", "e"]), ids(&["b", "c", "f"]), ids(&["c", "d", "z"]));
        let u = universe(&[&a, &b, &c], 2).unwrap();
        assert_eq!(u, ["a", "b", "c", "d", "e", "f", "z"]);
        let unsorted = ids(&["b", "a"]);
        assert!(universe(&[&unsorted], 1).is_err());
    }

    #[test]
    fn galloping_finds_every_position() {
        let table: Vec<String> = (0..1000).map(|i| format!("{i:04}")).collect();
        let table: Vec<&str> = table.iter().map(String::as_str).collect();
        for from in [0, 1, 5, 500, 999] {
            for i in 0..1000 {
                let want = (i >= from).then_some(i);
                assert_eq!(find_from(&table, from, table[i]), want, "{from} {i}");
            }
            assert_eq!(find_from(&table, from, "x"), None);
        }
        assert_eq!(find_from(&[], 0, "a"), None);
    }

    #[test]
    fn sets_are_stored_once_and_lists_must_be_sorted() {
        let mut s = Sets::new(vec!["a", "b", "c"]);
        assert_eq!(s.rows(&ids(&["a", "c"]), "l").unwrap(), [0, 2]);
        assert!(s.rows(&ids(&["c", "a"]), "l").is_err());
        assert!(s.rows(&ids(&["x"]), "l").is_err());
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
