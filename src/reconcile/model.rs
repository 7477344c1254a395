//! Input data: what each participant still holds on the lost synchronizer, and what
//! InspectCommitmentContracts said about the ids it lacks.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// SHA-256 over a contract's payload, computed by the caller from the export. Payload bytes
/// themselves never enter this module: at a million contracts they would dwarf everything else.
pub type Digest = [u8; 32];

/// Contract ids are shared between the comparison, the selection and the plan, so one
/// allocation serves all three.
pub type ContractId = Arc<str>;

/// A party id or template id; identical strings should share one allocation (see [`Interner`]).
pub type Name = Arc<str>;

/// Sorted, de-duplicated stakeholder parties. Most contracts of one workflow share the same
/// set, so interning the whole set (not only its parties) keeps a row at a few pointers.
pub type Stakeholders = Arc<[Name]>;

/// Contract ids travel through runbooks and sidecar files one per line, so an id must be
/// non-empty and free of whitespace and control characters. Canton ids are hex strings.
pub fn is_valid_contract_id(id: &str) -> bool {
    // Printable ASCII settles real ids without the slower Unicode classification.
    !id.is_empty()
        && (id.bytes().all(|b| b.is_ascii_graphic()) || !id.chars().any(|c| c.is_whitespace() || c.is_control()))
}

/// One active contract as seen by one participant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractSummary {
    pub contract_id: ContractId,
    /// `Module:Entity`.
    pub template_id: Name,
    pub stakeholders: Stakeholders,
    pub payload_digest: Digest,
}

impl ContractSummary {
    pub fn new(
        contract_id: impl Into<ContractId>,
        template_id: Name,
        stakeholders: Stakeholders,
        payload_digest: Digest,
    ) -> Self {
        Self {
            contract_id: contract_id.into(),
            template_id,
            stakeholders,
            payload_digest,
        }
    }
}

/// A participant's ACTIVE contracts on the lost synchronizer, in any order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParticipantSnapshot {
    pub participant: String,
    pub hosted_parties: BTreeSet<String>,
    pub contracts: Vec<ContractSummary>,
}

/// Shares identical template ids, party ids and stakeholder sets across snapshots.
///
/// The export stream yields fresh strings for every contract; without sharing, a million
/// contracts would carry a million copies of `Iou:Iou` and of each party id.
#[derive(Debug, Default)]
pub struct Interner {
    names: std::collections::HashSet<Name>,
    sets: std::collections::HashSet<Stakeholders>,
}

impl Interner {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn name(&mut self, s: &str) -> Name {
        if let Some(existing) = self.names.get(s) {
            return existing.clone();
        }
        let fresh: Name = Arc::from(s);
        self.names.insert(fresh.clone());
        fresh
    }

    /// Sorts and de-duplicates the parties so equal sets compare and hash equal.
    pub fn stakeholders<I, S>(&mut self, parties: I) -> Stakeholders
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list: Vec<Name> = parties.into_iter().map(|p| self.name(p.as_ref())).collect();
        list.sort_unstable();
        list.dedup();
        if let Some(existing) = self.sets.get(list.as_slice()) {
            return existing.clone();
        }
        let fresh: Stakeholders = Arc::from(list);
        self.sets.insert(fresh.clone());
        fresh
    }

    /// Number of distinct strings held; useful to check that sharing actually happens.
    pub fn distinct_names(&self) -> usize {
        self.names.len()
    }
}

/// Shares contract ids across the participants' snapshots of one survey: each
/// participant's export yields its own copy of an id they all hold, and at a million
/// contracts those copies were the survey's largest cost; with the pool one allocation
/// serves every participant (and the comparison's row). The participants stream
/// concurrently, hence the lock; dropped after the survey, it frees only its index.
#[derive(Debug, Default)]
pub struct IdPool(std::sync::Mutex<std::collections::HashSet<ContractId>>);

impl IdPool {
    pub fn new() -> Self {
        Self::default()
    }

    /// The pool's allocation of `id`, made on first sight.
    pub fn id(&self, id: &str) -> ContractId {
        // A panic while holding the lock leaves the set intact (insert is the only write).
        let mut ids = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = ids.get(id) {
            return existing.clone();
        }
        let fresh: ContractId = Arc::from(id);
        ids.insert(fresh.clone());
        fresh
    }
}

/// What InspectCommitmentContracts reported for an id a participant does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InspectionResult {
    /// The participant saw it and saw it archived.
    Archived,
    /// The participant never saw it.
    Unknown,
    /// The participant unassigned it to another synchronizer.
    Moved { to: String },
}

/// Inspection answers per (participant, contract id). Anything not recorded counts as
/// [`InspectionResult::Unknown`]: a participant that could not be asked has, as far as the
/// plan can prove, never seen the contract.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inspection {
    results: BTreeMap<String, HashMap<ContractId, InspectionResult>>,
}

impl Inspection {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&mut self, participant: &str, contract_id: impl Into<ContractId>, result: InspectionResult) {
        self.results
            .entry(participant.to_owned())
            .or_default()
            .insert(contract_id.into(), result);
    }

    pub fn get(&self, participant: &str, contract_id: &str) -> Option<&InspectionResult> {
        self.results.get(participant)?.get(contract_id)
    }

    pub fn is_empty(&self) -> bool {
        self.results.values().all(HashMap::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interner_shares_equal_strings_and_sets() {
        let mut i = Interner::new();
        let a = i.name("Alice::1220");
        let b = i.name("Alice::1220");
        assert!(Arc::ptr_eq(&a, &b));
        let s1 = i.stakeholders(["Bob", "Alice", "Bob"]);
        let s2 = i.stakeholders(vec!["Alice".to_string(), "Bob".to_string()]);
        assert!(Arc::ptr_eq(&s1, &s2));
        assert_eq!(&*s1, &[Arc::from("Alice"), Arc::from("Bob")] as &[Name]);
        assert_eq!(i.distinct_names(), 3);
    }

    #[test]
    fn the_id_pool_gives_every_participant_one_allocation_per_id() {
        let pool = IdPool::new();
        let first = pool.id("00ab12");
        let again = pool.id(&String::from("00ab12"));
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!Arc::ptr_eq(&first, &pool.id("00ab13")));
        assert_eq!(&*first, "00ab12");
    }

    #[test]
    fn contract_id_validity() {
        assert!(is_valid_contract_id("00ab12cd"));
        assert!(!is_valid_contract_id(""));
        assert!(!is_valid_contract_id("00ab 12"));
        assert!(!is_valid_contract_id("00ab\n"));
        assert!(!is_valid_contract_id("00ab\u{2003}x"));
        assert!(is_valid_contract_id("00ab-é"));
    }

    #[test]
    fn inspection_lookup_by_participant_and_id() {
        let mut ins = Inspection::new();
        assert!(ins.is_empty());
        ins.record("p2", "c1", InspectionResult::Archived);
        assert_eq!(ins.get("p2", "c1"), Some(&InspectionResult::Archived));
        assert_eq!(ins.get("p1", "c1"), None);
        assert_eq!(ins.get("p2", "c2"), None);
        assert!(!ins.is_empty());
    }
}
