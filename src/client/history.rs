//! What InspectCommitmentContracts says about a contract, read the way Canton means it.
//!
//! Canton answers with one record per (synchronizer, contract), each carrying that
//! synchronizer's whole unpruned history of activeness changes — Created (a create or a
//! repair add), Archived (an archive or a purge), Assigned, Unassigned — in no guaranteed
//! order, and a single `Unknown` record only for a contract unknown everywhere
//! (participant/pruning/CommitmentCommandsHelper.scala, inspectContractState, release-line-3.5).
//! So the records of a contract are merged and each synchronizer's history is read as a
//! multiset: pruning removes only balanced prefixes, and order cannot matter.

use super::types::{ContractInspection, InspectedState, logical_id};
use std::collections::{BTreeMap, BTreeSet};

/// Where a contract stands on one synchronizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncState {
    /// More activations (creates, adds, assignments) than deactivations.
    Active,
    /// Not active, and archived (or purged) there at some point.
    Archived,
    /// Not active, and reassigned away: to these synchronizers (logical ids).
    Moved { to: BTreeSet<String> },
    /// Never seen there.
    Unknown,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Tally {
    activations: usize,
    archivals: usize,
    unassignments: usize,
    targets: BTreeSet<String>,
}

impl Tally {
    fn add(&mut self, state: &InspectedState) {
        match state {
            InspectedState::Created | InspectedState::Assigned { .. } => self.activations += 1,
            InspectedState::Archived => self.archivals += 1,
            InspectedState::Unassigned { target } => {
                self.unassignments += 1;
                self.targets.insert(logical_id(target).to_string());
            }
            InspectedState::Unknown => {}
        }
    }

    fn state(&self) -> SyncState {
        if self.activations > self.archivals + self.unassignments {
            SyncState::Active
        } else if self.archivals > 0 {
            SyncState::Archived
        } else if self.unassignments > 0 {
            SyncState::Moved {
                to: self.targets.clone(),
            }
        } else {
            SyncState::Unknown
        }
    }
}

/// Everything the participant reported about one contract, across its records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractHistory {
    per_sync: BTreeMap<String, Tally>,
}

impl ContractHistory {
    /// The contract's state on `synchronizer` (a logical or physical id).
    pub fn on(&self, synchronizer: &str) -> SyncState {
        self.per_sync
            .get(logical_id(synchronizer))
            .map(Tally::state)
            .unwrap_or(SyncState::Unknown)
    }

    pub fn active_somewhere(&self) -> bool {
        self.per_sync.values().any(|t| t.state() == SyncState::Active)
    }

    /// How many times the contract became active on `synchronizer` (created, added by a
    /// repair, or assigned there).
    pub fn activations(&self, synchronizer: &str) -> usize {
        self.per_sync.get(logical_id(synchronizer)).map_or(0, |t| t.activations)
    }

    /// The participant held the contract on `synchronizer` at some point, whatever became
    /// of it since (still there, moved on, or archived).
    pub fn ever_on(&self, synchronizer: &str) -> bool {
        self.per_sync
            .get(logical_id(synchronizer))
            .is_some_and(|t| t.activations > 0)
    }
}

/// Merges InspectCommitmentContracts records by contract id.
pub fn merge(records: impl IntoIterator<Item = ContractInspection>) -> BTreeMap<String, ContractHistory> {
    let mut out: BTreeMap<String, ContractHistory> = BTreeMap::new();
    for record in records {
        let history = out.entry(record.contract_id).or_default();
        for (sync, state) in &record.states {
            history
                .per_sync
                .entry(logical_id(sync).to_string())
                .or_default()
                .add(state);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LOST: &str = "lost::1220aa";
    const NEW: &str = "new::1220bb";

    fn record(id: &str, sync: &str, states: &[InspectedState]) -> ContractInspection {
        ContractInspection {
            contract_id: id.to_string(),
            active_on_expected: false,
            states: states.iter().map(|s| (sync.to_string(), s.clone())).collect(),
        }
    }

    fn moved_to(target: &str) -> InspectedState {
        InspectedState::Unassigned {
            target: target.to_string(),
        }
    }

    #[test]
    fn an_archived_contract_reads_as_archived_whatever_the_order() {
        for states in [
            vec![InspectedState::Created, InspectedState::Archived],
            vec![InspectedState::Archived, InspectedState::Created],
        ] {
            let h = merge([record("c", LOST, &states)]);
            assert_eq!(h["c"].on(LOST), SyncState::Archived);
            assert!(!h["c"].active_somewhere());
            assert!(h["c"].ever_on(LOST));
        }
    }

    #[test]
    fn a_moved_contract_has_two_records_and_is_active_on_the_target() {
        let h = merge([
            record("c", NEW, &[InspectedState::Assigned { counter: 1 }]),
            record("c", &format!("{LOST}::34-0"), &[moved_to(NEW), InspectedState::Created]),
        ]);
        assert_eq!(
            h["c"].on(LOST),
            SyncState::Moved {
                to: [NEW.to_string()].into()
            }
        );
        assert_eq!(h["c"].on(NEW), SyncState::Active);
        assert!(h["c"].active_somewhere());
    }

    #[test]
    fn purged_then_added_again_is_active() {
        let h = merge([record(
            "c",
            LOST,
            &[
                InspectedState::Created,
                InspectedState::Created,
                InspectedState::Archived,
            ],
        )]);
        assert_eq!(h["c"].on(LOST), SyncState::Active);
    }

    #[test]
    fn unknown_everywhere_is_unknown() {
        let h = merge([record("c", LOST, &[InspectedState::Unknown])]);
        assert_eq!(h["c"].on(LOST), SyncState::Unknown);
        assert_eq!(h["c"].on(NEW), SyncState::Unknown);
        assert!(!h["c"].ever_on(LOST));
    }

    fn arb_state() -> impl Strategy<Value = InspectedState> {
        prop_oneof![
            Just(InspectedState::Created),
            (0i64..3).prop_map(|counter| InspectedState::Assigned { counter }),
            Just(InspectedState::Archived),
            prop_oneof![Just(NEW), Just(LOST)].prop_map(moved_to),
        ]
    }

    proptest! {
        /// Shuffling the states and splitting one synchronizer's history over several
        /// records (as a streamed answer can) never changes what is decided.
        #[test]
        fn shuffled_and_split_records_decide_the_same(
            lost in proptest::collection::vec(arb_state(), 0..6),
            new in proptest::collection::vec(arb_state(), 0..6),
            seed in any::<u64>(),
            cuts in proptest::collection::vec(0usize..6, 0..4),
        ) {
            let whole = merge([record("c", LOST, &lost), record("c", NEW, &new)]);
            let mut flat: Vec<(String, InspectedState)> = lost.iter().map(|s| (LOST.to_string(), s.clone()))
                .chain(new.iter().map(|s| (format!("{NEW}::34-0"), s.clone())))
                .collect();
            // A deterministic shuffle from the seed.
            let mut x = seed | 1;
            for i in (1..flat.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                flat.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let mut records = Vec::new();
            let mut rest = flat.as_slice();
            for cut in cuts {
                let (head, tail) = rest.split_at(cut.min(rest.len()));
                records.push(ContractInspection { contract_id: "c".into(), active_on_expected: false, states: head.to_vec() });
                rest = tail;
            }
            records.push(ContractInspection { contract_id: "c".into(), active_on_expected: false, states: rest.to_vec() });
            let merged = merge(records);
            let (a, b) = (whole.get("c").cloned().unwrap_or_default(), merged.get("c").cloned().unwrap_or_default());
            prop_assert_eq!(a.on(LOST), b.on(LOST));
            prop_assert_eq!(a.on(NEW), b.on(NEW));
            prop_assert_eq!(a.active_somewhere(), b.active_somewhere());
            prop_assert_eq!(a.ever_on(LOST), b.ever_on(LOST));
        }
    }
}
