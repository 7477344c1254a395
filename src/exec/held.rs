//! What a participant holds on the lost synchronizer now, as preflight reads it: kept
//! beside the plan's own sorted list of the ids it expects there, so a contract the plan
//! names costs no id of its own, only its payload digest, an index of its stakeholder set
//! and one of its package (44 bytes). Contracts held that the plan does not expect are
//! kept by id. Payloads are never kept: the export streams through
//! ([`survey::each_active`]).
//!
//! Canton's rule this serves: the repairs act on what each participant holds on the lost
//! synchronizer at the time they run, so preflight checks that holding against the one the
//! plan was made from (ids and payload digests), that each participant still hosts a
//! stakeholder of what it moves (ChangeAssignation.readContracts, release-line-3.5) and
//! that the packages of what it moves are vetted on the target (`vetting`).

use crate::client::{ClientError, Contract, ParticipantApi};
use crate::reconcile::{ContractId, Digest};
use crate::survey;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Not a package index: the contract's created event names no package.
const NO_PACKAGE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Row {
    digest: Digest,
    stakeholders: u32,
    package: u32,
}

/// One participant's contracts on the lost synchronizer, by the plan's ids.
#[derive(Clone, Debug)]
pub(super) struct Holds<'p> {
    /// The plan's ids for this participant on the lost synchronizer, sorted.
    expected: &'p [ContractId],
    /// Aligned with `expected`: what is held now of each (`None`: not held).
    rows: Vec<Option<Row>>,
    /// Held now, not expected.
    others: BTreeMap<ContractId, Row>,
    /// Sorted parties of each distinct stakeholder set.
    sets: Vec<Box<[String]>>,
    /// Each set's parties, one a line, to its index.
    set_index: HashMap<String, u32>,
    key: String,
    packages: Vec<String>,
    package_index: HashMap<String, u32>,
    /// The parties the participant hosts.
    pub hosted: BTreeSet<String>,
    /// Contracts whose reassignment counter is not 0, with the counter.
    pub nonzero_counters: BTreeMap<ContractId, u64>,
}

impl<'p> Holds<'p> {
    pub fn new(expected: &'p [ContractId], hosted: BTreeSet<String>) -> Holds<'p> {
        Holds {
            expected,
            rows: vec![None; expected.len()],
            others: BTreeMap::new(),
            sets: Vec::new(),
            set_index: HashMap::new(),
            key: String::new(),
            packages: Vec::new(),
            package_index: HashMap::new(),
            hosted,
            nonzero_counters: BTreeMap::new(),
        }
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.expected.binary_search_by(|e| (**e).cmp(id)).ok()
    }

    /// The plan's own allocation of `id`, when it expects it here or in `known`, so a
    /// contract it names is not allocated again.
    fn intern(&self, id: &str, known: &BTreeSet<ContractId>) -> ContractId {
        match self.position(id) {
            Some(i) => self.expected[i].clone(),
            None => known.get(id).cloned().unwrap_or_else(|| ContractId::from(id)),
        }
    }

    /// Records one contract held now. `known` are other ids the plan names for this
    /// participant (its imports), shared rather than copied. A second entry for an id
    /// already recorded is ignored, as the drift check ignores one.
    pub fn add<'s>(
        &mut self,
        id: &str,
        digest: Digest,
        parties: impl IntoIterator<Item = &'s str>,
        package: Option<&str>,
        known: &BTreeSet<ContractId>,
    ) {
        let mut list: Vec<&str> = parties.into_iter().collect();
        list.sort_unstable();
        list.dedup();
        // A Daml party id is made of letters, digits and `:-_ ` (Ref.Party in daml-lf), never a
        // newline, so one party a line names the set.
        self.key.clear();
        for p in &list {
            self.key.push_str(p);
            self.key.push('\n');
        }
        let stakeholders = match self.set_index.get(self.key.as_str()) {
            Some(i) => *i,
            None => {
                let i = self.sets.len() as u32;
                self.sets.push(list.iter().map(|p| p.to_string()).collect());
                self.set_index.insert(self.key.clone(), i);
                i
            }
        };
        let package = match package {
            None => NO_PACKAGE,
            Some(p) => match self.package_index.get(p) {
                Some(i) => *i,
                None => {
                    let i = self.packages.len() as u32;
                    self.packages.push(p.to_string());
                    self.package_index.insert(p.to_string(), i);
                    i
                }
            },
        };
        let row = Row {
            digest,
            stakeholders,
            package,
        };
        match self.position(id) {
            Some(i) => {
                self.rows[i].get_or_insert(row);
            }
            None => {
                let id = self.intern(id, known);
                self.others.entry(id).or_insert(row);
            }
        }
    }

    /// Records a contract's reassignment counter when it is not 0.
    pub fn counter(&mut self, id: &str, counter: u64, known: &BTreeSet<ContractId>) {
        if counter != 0 {
            let id = self.intern(id, known);
            self.nonzero_counters.insert(id, counter);
        }
    }

    fn row(&self, id: &str) -> Option<&Row> {
        match self.position(id) {
            Some(i) => self.rows[i].as_ref(),
            None => self.others.get(id),
        }
    }

    /// Active on the lost synchronizer now.
    pub fn holds(&self, id: &str) -> bool {
        self.row(id).is_some()
    }

    /// Held now and not expected by the plan, sorted.
    pub fn unexpected(&self) -> impl Iterator<Item = &ContractId> {
        self.others.keys()
    }

    /// Every (id, payload digest) held now, sorted by id: the form the drift check reads.
    pub fn sorted(&self) -> impl Iterator<Item = (&str, &Digest)> {
        let expected = self
            .expected
            .iter()
            .zip(&self.rows)
            .filter_map(|(id, r)| r.as_ref().map(|r| (&**id, &r.digest)));
        let others = self.others.iter().map(|(id, r)| (&**id, &r.digest));
        Merged {
            a: expected.peekable(),
            b: others.peekable(),
        }
    }

    /// The payload digest held now of each expected id, in the plan's order.
    pub fn expected_digests(&self) -> impl Iterator<Item = (&ContractId, Option<&Digest>)> {
        self.expected
            .iter()
            .zip(&self.rows)
            .map(|(id, r)| (id, r.as_ref().map(|r| &r.digest)))
    }

    /// The contract's stakeholders, when it is held here.
    pub fn stakeholders(&self, id: &str) -> Option<&[String]> {
        self.row(id).map(|r| &*self.sets[r.stakeholders as usize])
    }

    /// The package of the contract's template, when it is held here and names one.
    pub fn package(&self, id: &str) -> Option<&str> {
        self.row(id)
            .filter(|r| r.package != NO_PACKAGE)
            .map(|r| self.packages[r.package as usize].as_str())
    }
}

/// Two iterators sorted by id, merged into one sorted by id; the same id in both is a
/// contract held and expected, which cannot also be among the others, so it never occurs.
struct Merged<'a, A: Iterator<Item = (&'a str, &'a Digest)>, B: Iterator<Item = (&'a str, &'a Digest)>> {
    a: std::iter::Peekable<A>,
    b: std::iter::Peekable<B>,
}

impl<'a, A, B> Iterator for Merged<'a, A, B>
where
    A: Iterator<Item = (&'a str, &'a Digest)>,
    B: Iterator<Item = (&'a str, &'a Digest)>,
{
    type Item = (&'a str, &'a Digest);
    fn next(&mut self) -> Option<Self::Item> {
        match (self.a.peek(), self.b.peek()) {
            (Some(x), Some(y)) if y.0 < x.0 => self.b.next(),
            (Some(_), _) => self.a.next(),
            (None, _) => self.b.next(),
        }
    }
}

/// Reads what `api` holds on the synchronizer `lost_id` (logical), against the ids the
/// plan expects there; `known` are the other ids the plan names for it.
pub(super) async fn read<'p>(
    api: &dyn ParticipantApi,
    lost_id: &str,
    expected: &'p [ContractId],
    known: &BTreeSet<ContractId>,
) -> Result<Holds<'p>, ClientError> {
    let mut holds = Holds::new(expected, api.hosted_parties().await?);
    survey::each_active(api, lost_id, &mut |c: &Contract| {
        let (Some(ev), Some(digest)) = (c.created(), survey::digest_of(c)) else {
            return;
        };
        let id = ev.contract_id();
        holds.counter(id, c.reassignment_counter(), known);
        let parties = ev.signatories().iter().chain(ev.observers()).map(String::as_str);
        holds.add(id, digest, parties, ev.package_id(), known);
    })
    .await?;
    Ok(holds)
}

/// The payload digests `api` holds on `synchronizer_id` (logical) of the ids the plan
/// expects on the lost synchronizer but `holds` no longer finds there, in the plan's
/// order (`None`: not held there either).
pub(super) async fn digests_elsewhere(
    api: &dyn ParticipantApi,
    synchronizer_id: &str,
    holds: &Holds<'_>,
) -> Result<Vec<Option<Digest>>, ClientError> {
    let mut found: Vec<Option<Digest>> = vec![None; holds.expected.len()];
    survey::each_active(api, synchronizer_id, &mut |c: &Contract| {
        let Some(i) = c.contract_id().and_then(|id| holds.position(id)) else {
            return;
        };
        if holds.rows[i].is_none()
            && found[i].is_none()
            && let Some(d) = survey::digest_of(c)
        {
            found[i] = Some(d);
        }
    })
    .await?;
    Ok(found)
}

#[cfg(test)]
impl<'p> Holds<'p> {
    /// Held: `ids`, each with the payload digest `[n; 32]` and the one stakeholder `party`.
    pub fn of(expected: &'p [ContractId], ids: &[(&str, u8)], party: &str) -> Holds<'p> {
        let mut h = Holds::new(expected, BTreeSet::new());
        for (id, n) in ids {
            h.add(id, [*n; 32], [party], Some("pkg"), &BTreeSet::new());
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{DriftKind, ExpectedSnapshot, PayloadTag, snapshot_digest_sorted};

    fn ids(list: &[&str]) -> Vec<ContractId> {
        list.iter().map(|s| ContractId::from(*s)).collect()
    }

    #[test]
    fn expected_contracts_share_the_plan_s_ids_and_others_are_kept_sorted() {
        let expected = ids(&["b", "d"]);
        let known: BTreeSet<ContractId> = ids(&["i"]).into_iter().collect();
        let mut h = Holds::new(&expected, BTreeSet::new());
        for (id, n) in [("z", 1), ("d", 2), ("i", 3), ("a", 4)] {
            h.add(id, [n; 32], ["Alice", "Bob", "Alice"], Some("pkg"), &known);
        }
        h.add("d", [9; 32], ["Carol"], None, &known);
        assert!(h.holds("d") && h.holds("z") && !h.holds("b"));
        let others: Vec<&ContractId> = h.unexpected().collect();
        assert_eq!(others, [&ids(&["a"])[0], &ids(&["i"])[0], &ids(&["z"])[0]]);
        let shared = h.unexpected().find(|id| &***id == "i").expect("i");
        assert!(std::sync::Arc::ptr_eq(shared, known.first().expect("i")));
        let sorted: Vec<(&str, u8)> = h.sorted().map(|(id, d)| (id, d[0])).collect();
        assert_eq!(sorted, [("a", 4), ("d", 2), ("i", 3), ("z", 1)]);
        assert_eq!(h.stakeholders("d"), Some(&["Alice".to_string(), "Bob".to_string()][..]));
        assert_eq!(h.package("a"), Some("pkg"));
        assert_eq!(
            h.sets.len(),
            2,
            "Alice and Bob's set once for four contracts, Carol's once"
        );
        h.counter("b", 0, &known);
        h.counter("b", 2, &known);
        assert_eq!(h.nonzero_counters.len(), 1);
        assert!(std::sync::Arc::ptr_eq(
            h.nonzero_counters.keys().next().expect("b"),
            &expected[0]
        ));
    }

    fn plan_of(rows: &[(&str, u8)]) -> ExpectedSnapshot {
        let digests: Vec<Digest> = rows.iter().map(|(_, n)| [*n; 32]).collect();
        ExpectedSnapshot {
            active: rows.iter().map(|(id, _)| ContractId::from(*id)).collect(),
            payloads: Some(digests.iter().map(PayloadTag::from).collect()),
            digest: snapshot_digest_sorted(rows.iter().map(|(id, _)| *id).zip(&digests)),
        }
    }

    #[test]
    fn a_holding_that_changed_since_the_plan_is_drift_row_by_row() {
        let plan = plan_of(&[("a", 1), ("b", 2), ("c", 3)]);
        let same = Holds::of(&plan.active, &[("c", 3), ("a", 1), ("b", 2)], "Alice");
        assert!(plan.check_sorted(|| same.sorted()).is_none());
        let changed = Holds::of(&plan.active, &[("a", 1), ("b", 7), ("x", 4)], "Alice");
        let drift = plan.check_sorted(|| changed.sorted());
        let rows: Vec<(&str, DriftKind)> = drift.rows.iter().map(|r| (&*r.contract_id, r.kind())).collect();
        assert_eq!(
            rows,
            [
                ("b", DriftKind::PayloadChanged),
                ("c", DriftKind::Disappeared),
                ("x", DriftKind::Appeared)
            ]
        );
        let untagged = ExpectedSnapshot {
            payloads: None,
            ..plan.clone()
        };
        let payload_only = Holds::of(&plan.active, &[("a", 1), ("b", 7), ("c", 3)], "Alice");
        let drift = untagged.check_sorted(|| payload_only.sorted());
        assert!(drift.rows.is_empty() && drift.unnamed_payload_change);
    }
}
