//! Property tests over random snapshots: 1–4 participants, random hostings, random fates.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::{
    Just, Strategy as Gen, TestCaseError, any, prop, prop_assert, prop_assert_eq, prop_oneof, proptest,
};

use super::*;

const PARTIES: [&str; 5] = ["A", "B", "C", "D", "E"];

/// What happened to a contract on one participant.
#[derive(Clone, Copy, Debug)]
enum Fate {
    Holds(u8),
    Archived,
    Moved,
    Unknown,
    NotAsked,
}

fn fate() -> impl Gen<Value = Fate> {
    prop_oneof![
        4 => (1u8..=2).prop_map(Fate::Holds),
        1 => Just(Fate::Archived),
        1 => Just(Fate::Moved),
        1 => Just(Fate::Unknown),
        1 => Just(Fate::NotAsked),
    ]
}

#[derive(Clone, Debug)]
pub(crate) struct World {
    pub(crate) snapshots: Vec<ParticipantSnapshot>,
    pub(crate) inspection: Inspection,
    /// Per contract index: a seed used to pick decisions.
    pub(crate) seeds: Vec<u8>,
}

pub(crate) fn world() -> impl Gen<Value = World> {
    (1usize..=4).prop_flat_map(|n| {
        let hosting = prop::collection::vec(0u8..32, n);
        let contracts = prop::collection::vec((1u8..32, prop::collection::vec(fate(), n), any::<u8>()), 0..14);
        (hosting, contracts).prop_map(build_world)
    })
}

fn parties(mask: u8) -> Vec<&'static str> {
    PARTIES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, p)| *p)
        .collect()
}

/// (stakeholder mask, fate per participant, decision seed)
type GenContract = (u8, Vec<Fate>, u8);

fn build_world((hosting, contracts): (Vec<u8>, Vec<GenContract>)) -> World {
    let mut interner = Interner::new();
    let mut snapshots: Vec<ParticipantSnapshot> = hosting
        .iter()
        .enumerate()
        .map(|(i, mask)| ParticipantSnapshot {
            participant: format!("p{i}"),
            hosted_parties: parties(*mask).into_iter().map(String::from).collect(),
            contracts: Vec::new(),
        })
        .collect();
    let mut inspection = Inspection::new();
    let mut seeds = Vec::new();
    for (k, (mask, fates, seed)) in contracts.into_iter().enumerate() {
        let id = format!("c{k:02}");
        let stakeholders = interner.stakeholders(parties(mask));
        seeds.push(seed);
        for (snap, fate) in snapshots.iter_mut().zip(fates) {
            let name = snap.participant.clone();
            match fate {
                Fate::Holds(p) => snap.contracts.push(ContractSummary::new(
                    id.as_str(),
                    interner.name("M:T"),
                    stakeholders.clone(),
                    [p; 32],
                )),
                Fate::Archived => inspection.record(&name, id.as_str(), InspectionResult::Archived),
                Fate::Moved => {
                    inspection.record(&name, id.as_str(), InspectionResult::Moved { to: "elsewhere".into() })
                }
                Fate::Unknown => inspection.record(&name, id.as_str(), InspectionResult::Unknown),
                Fate::NotAsked => {}
            }
        }
    }
    World {
        snapshots,
        inspection,
        seeds,
    }
}

/// A decision for every disputed row, derived from the seeds so it is reproducible.
pub(crate) fn decisions(cmp: &Comparison, seeds: &[u8]) -> BTreeMap<ContractId, Decision> {
    let mut out = BTreeMap::new();
    for row in cmp.rows() {
        if !row.class().needs_decision() {
            continue;
        }
        let k: usize = row.contract_id()[1..].parse().unwrap();
        let seed = seeds[k];
        let d = match seed % 3 {
            0 => Decision::Exclude,
            _ => Decision::Purge,
        };
        out.insert(row.contract_id().clone(), d);
    }
    out
}

pub(crate) fn union_request(cmp: &Comparison, w: &World) -> SelectionRequest {
    SelectionRequest {
        strategy: Strategy::Union,
        decisions: decisions(cmp, &w.seeds),
        exclusions: BTreeSet::new(),
    }
}

/// A deterministic shuffle driven by `seed`, enough to scramble small inputs.
pub(crate) fn shuffled<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
    let mut out = items.to_vec();
    let mut x = seed | 1;
    for i in (1..out.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.swap(i, (x % (i as u64 + 1)) as usize);
    }
    out
}

pub(crate) fn scrambled(w: &World, seed: u64) -> Vec<ParticipantSnapshot> {
    let mut snaps = shuffled(&w.snapshots, seed);
    for (i, s) in snaps.iter_mut().enumerate() {
        s.contracts = shuffled(&s.contracts, seed.wrapping_add(i as u64 * 7919));
    }
    snaps
}

/// Applies purges, imports and moves to the participants' holdings and checks that every
/// moved contract ends up with the same payload on every relevant participant.
fn check_consistent(w: &World, cmp: &Comparison, sel: &Selection) -> Result<(), TestCaseError> {
    let mut held: BTreeMap<&str, BTreeMap<&str, [u8; 32]>> = w
        .snapshots
        .iter()
        .map(|s| {
            let m = s
                .contracts
                .iter()
                .map(|c| (&*c.contract_id, c.payload_digest))
                .collect();
            (s.participant.as_str(), m)
        })
        .collect();
    for (p, work) in sel.iter() {
        for id in &work.purge {
            prop_assert!(
                held.get_mut(p).unwrap().remove(&**id).is_some(),
                "{p} purges {id} it lacks"
            );
        }
    }
    let after_purge = held.clone();
    for (p, work) in sel.iter() {
        for (src, ids) in &work.import {
            for id in ids {
                let version = after_purge[src.as_str()].get(&**id);
                prop_assert!(version.is_some(), "{p} imports {id} from {src}, which lacks it");
                let prev = held.get_mut(p).unwrap().insert(id, *version.unwrap());
                prop_assert!(prev.is_none(), "{p} imports {id} it still holds");
            }
        }
    }
    let moved = sel.moved_ids();
    for id in &moved {
        let row = cmp.row(id).unwrap();
        let mut versions = BTreeSet::new();
        for (i, p) in cmp.participants().iter().enumerate() {
            let moves = sel.work(p).unwrap().moves.binary_search(id).is_ok();
            prop_assert_eq!(moves, row.states()[i].is_relevant(), "{} moving {}", p, id);
            if moves {
                let v = held[p.as_str()].get(&**id);
                prop_assert!(v.is_some(), "{p} moves {id} without holding it");
                versions.insert(*v.unwrap());
            }
        }
        prop_assert_eq!(versions.len(), 1, "{} moves with different payloads", id);
    }
    let excluded: BTreeSet<ContractId> = sel.excluded().iter().map(|e| e.contract_id.clone()).collect();
    prop_assert!(moved.is_disjoint(&excluded));
    prop_assert_eq!(
        moved.len() + excluded.len(),
        cmp.len(),
        "every row is moved or excluded"
    );
    Ok(())
}

proptest! {
    #[test]
    fn selections_leave_participants_consistent(w in world()) {
        let cmp = compare("lost", &w.snapshots, &w.inspection).unwrap();
        for req in [SelectionRequest::new(Strategy::Intersection), union_request(&cmp, &w)] {
            let sel = select(&cmp, &req).unwrap();
            check_consistent(&w, &cmp, &sel)?;
        }
    }

    #[test]
    fn manual_selections_are_consistent(w in world(), pick in any::<u64>()) {
        let cmp = compare("lost", &w.snapshots, &w.inspection).unwrap();
        let include: BTreeSet<ContractId> = cmp.rows().iter().enumerate()
            .filter(|(i, _)| pick & (1 << (i % 64)) != 0)
            .map(|(_, r)| r.contract_id().clone())
            .collect();
        let decisions = decisions(&cmp, &w.seeds).into_iter()
            .filter(|(id, _)| include.contains(id))
            .collect();
        let req = SelectionRequest { strategy: Strategy::Manual { include }, decisions, exclusions: BTreeSet::new() };
        let sel = select(&cmp, &req).unwrap();
        check_consistent(&w, &cmp, &sel)?;
    }

    #[test]
    fn intersection_is_contained_in_union(w in world()) {
        let cmp = compare("lost", &w.snapshots, &w.inspection).unwrap();
        let inter = select(&cmp, &SelectionRequest::new(Strategy::Intersection)).unwrap();
        let union = select(&cmp, &union_request(&cmp, &w)).unwrap();
        prop_assert!(inter.moved_ids().is_subset(&union.moved_ids()));
        for (p, work) in inter.iter() {
            let u = union.work(p).unwrap();
            prop_assert!(work.moves.iter().all(|id| u.moves.binary_search(id).is_ok()));
        }
    }

    #[test]
    fn results_do_not_depend_on_input_order(w in world(), seed in any::<u64>()) {
        let cmp = compare("lost", &w.snapshots, &w.inspection).unwrap();
        let other = compare("lost", &scrambled(&w, seed), &w.inspection).unwrap();
        prop_assert_eq!(&cmp, &other);
        prop_assert_eq!(
            inspection_requests(&w.snapshots).unwrap(),
            inspection_requests(&scrambled(&w, seed ^ 0x5555)).unwrap()
        );
        let req = union_request(&cmp, &w);
        prop_assert_eq!(select(&cmp, &req).unwrap(), select(&other, &req).unwrap());
    }

    #[test]
    fn exclusions_only_ever_shrink_the_move(w in world(), pick in any::<u64>()) {
        let cmp = compare("lost", &w.snapshots, &w.inspection).unwrap();
        let mut req = union_request(&cmp, &w);
        let full = select(&cmp, &req).unwrap().moved_ids();
        req.exclusions = cmp.rows().iter().enumerate()
            .filter(|(i, _)| pick & (1 << (i % 64)) != 0)
            .map(|(_, r)| r.contract_id().clone())
            .collect();
        req.decisions.retain(|id, _| !req.exclusions.contains(id));
        let fewer = select(&cmp, &req).unwrap().moved_ids();
        prop_assert!(fewer.is_subset(&full));
        prop_assert!(fewer.is_disjoint(&req.exclusions));
    }
}
