//! Plan hash properties over random incidents.

use std::collections::BTreeMap;

use proptest::prelude::{any, prop_assert_eq, prop_assert_ne, prop_assume, proptest};

use crate::reconcile::proptests::{World, scrambled, shuffled, union_request, world};
use crate::reconcile::*;

use super::{InFlight, Plan, PlanInput, build_plan};

fn plan(w: &World, snaps: &[ParticipantSnapshot], names: &[String], req: &SelectionRequest, batch: u32) -> Plan {
    let cmp = compare("lost", snaps, &w.inspection).unwrap();
    let selection = select(&cmp, req).unwrap();
    let in_flight: BTreeMap<String, InFlight> = names
        .iter()
        .map(|p| {
            (
                p.clone(),
                InFlight {
                    pending_submissions: 0,
                    pending_transactions: p.len() as u32,
                },
            )
        })
        .collect();
    build_plan(&PlanInput {
        incident: "inc",
        lost: "lost",
        target: "new",
        participants: names,
        comparison: &cmp,
        selection: &selection,
        request: req,
        batch_size: batch,
        in_flight: &in_flight,
    })
    .unwrap()
}

fn names(w: &World) -> Vec<String> {
    w.snapshots.iter().map(|s| s.participant.clone()).collect()
}

fn base(w: &World) -> (Comparison, SelectionRequest) {
    let cmp = compare("lost", &w.snapshots, &w.inspection).unwrap();
    let req = union_request(&cmp, w);
    (cmp, req)
}

proptest! {
    #[test]
    fn hash_is_stable_under_reordering(w in world(), seed in any::<u64>(), batch in 1u32..4) {
        let (cmp, req) = base(&w);
        let one = plan(&w, &w.snapshots, &names(&w), &req, batch);
        let mut rebuilt = SelectionRequest::new(req.strategy.clone());
        for (id, d) in shuffled(&req.decisions.clone().into_iter().collect::<Vec<_>>(), seed) {
            rebuilt.decisions.insert(id, d);
        }
        let rows: Vec<ContractId> = cmp.rows().iter().map(|r| r.contract_id().clone()).collect();
        let excl = shuffled(&rows, seed).into_iter().take((seed % 3) as usize).collect::<Vec<_>>();
        let mut req2 = req.clone();
        for id in &excl {
            req2.decisions.remove(id);
            req2.exclusions.insert(id.clone());
            rebuilt.decisions.remove(id);
        }
        for id in shuffled(&excl, seed ^ 1) {
            rebuilt.exclusions.insert(id);
        }
        let a = plan(&w, &w.snapshots, &names(&w), &req2, batch);
        let b = plan(&w, &scrambled(&w, seed), &shuffled(&names(&w), seed), &rebuilt, batch);
        prop_assert_eq!(a.hash(), b.hash());
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(one.hash(), plan(&w, &scrambled(&w, !seed), &names(&w), &req, batch).hash().to_owned());
    }

    #[test]
    fn hash_changes_with_batch_size_and_strategy(w in world(), batch in 1u32..1000) {
        let (_, req) = base(&w);
        let h = plan(&w, &w.snapshots, &names(&w), &req, batch);
        prop_assert_ne!(h.hash(), plan(&w, &w.snapshots, &names(&w), &req, batch + 1).hash().to_owned());
        let inter = SelectionRequest::new(Strategy::Intersection);
        prop_assert_ne!(h.hash(), plan(&w, &w.snapshots, &names(&w), &inter, batch).hash().to_owned());
    }

    #[test]
    fn hash_changes_with_any_decision(w in world(), pick in any::<usize>()) {
        let (_, req) = base(&w);
        prop_assume!(!req.decisions.is_empty());
        let (id, old) = req.decisions.iter().nth(pick % req.decisions.len()).unwrap();
        let new = match old {
            Decision::Exclude => Decision::Purge,
            Decision::Purge => Decision::Exclude,
        };
        let changed = req.clone().decide(id, new);
        let a = plan(&w, &w.snapshots, &names(&w), &req, 500);
        prop_assert_ne!(a.hash(), plan(&w, &w.snapshots, &names(&w), &changed, 500).hash().to_owned());
    }

    #[test]
    fn hash_changes_with_any_exclusion(w in world(), pick in any::<usize>()) {
        let (cmp, req) = base(&w);
        prop_assume!(!cmp.is_empty());
        let id = cmp.rows()[pick % cmp.len()].contract_id().clone();
        let mut changed = req.clone().exclude(&id);
        changed.decisions.remove(&id);
        let a = plan(&w, &w.snapshots, &names(&w), &req, 500);
        prop_assert_ne!(a.hash(), plan(&w, &w.snapshots, &names(&w), &changed, 500).hash().to_owned());
    }
}
