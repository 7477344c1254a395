//! The end state every recovery must reach, however it got there — cleanly, or through
//! crashes, lost connections and reruns: every contract of the plan is active on exactly
//! one synchronizer (the target) on every relevant participant, the participants that
//! share a contract agree, and nothing was imported (or moved) twice.

use super::holdings;
use futures::StreamExt;
use recovery_deck::client::{ParticipantApi, merge_inspections};
use recovery_deck::journal::{self, Call, EventData};
use recovery_deck::lab::ids;
use recovery_deck::lab::scenario::{self, LOST, TARGET};
use recovery_deck::lab::supervisor::Lab;
use recovery_deck::plan::{PhaseKind, Plan};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every participant holds on the target exactly what the plan moves for it, nothing it
/// moved is still on the lost synchronizer, no contract is active on both, and excluded
/// contracts stay where they were (purged ones gone). Returns what each participant holds
/// on the target.
pub async fn assert_recovered(lab: &Lab, plan: &Plan) -> BTreeMap<String, BTreeSet<String>> {
    let (lost, new) = (ids::synchronizer_id(LOST), ids::synchronizer_id(TARGET));
    let mut out = BTreeMap::new();
    for name in plan.participants() {
        let api = scenario::client(lab, name).expect("client");
        let h = holdings(&api).await.expect("export");
        let on_new = h.get(&new).cloned().unwrap_or_default();
        let on_lost = h.get(&lost).cloned().unwrap_or_default();
        let planned: BTreeSet<String> = plan.moved_by(name).iter().map(|c| c.to_string()).collect();
        assert_eq!(
            on_new, planned,
            "{name} holds exactly its planned contracts on the target"
        );
        assert!(
            on_new.is_disjoint(&on_lost),
            "{name}: no contract on both synchronizers"
        );
        for (sync, held) in &h {
            assert!(
                sync == &new || sync == &lost || held.is_disjoint(&planned),
                "{name}: planned contracts on a third synchronizer {sync}"
            );
        }
        let expected_left: BTreeSet<String> = plan
            .expected(name)
            .map(|e| e.active.iter().map(|c| c.to_string()).collect())
            .unwrap_or_default();
        let purged = planned_ids(plan, name, PhaseKind::Purge);
        let still: BTreeSet<String> = expected_left
            .difference(&planned)
            .filter(|id| !purged.contains(*id))
            .cloned()
            .collect();
        assert_eq!(
            on_lost, still,
            "{name}: excluded contracts stay on the lost synchronizer"
        );
        out.insert(name.clone(), on_new);
    }
    out
}

/// The contract ids of `participant`'s steps in `phase`.
pub fn planned_ids(plan: &Plan, participant: &str, phase: PhaseKind) -> BTreeSet<String> {
    plan.phase(phase)
        .into_iter()
        .flat_map(|p| &p.steps)
        .filter(|s| s.participant == participant)
        .flat_map(|s| s.action.contract_ids().iter().map(|c| c.to_string()))
        .collect()
}

/// The whole invariant a fault drill ends with: [`assert_recovered`]; the shared sets
/// agree (a contract on the target is held there by every participant hosting one of its
/// stakeholders); the participants' histories show each moved contract activated once on
/// the lost synchronizer (created, or imported) and assigned once to the target; and the
/// journals at `journals` acknowledge no more imported contracts per participant than the
/// plan imports there.
pub async fn assert_recovered_once(lab: &Lab, plan: &Plan, journals: &[&Path]) {
    let held = assert_recovered(lab, plan).await;
    let target = ids::synchronizer_id(TARGET);
    let lost = ids::synchronizer_id(LOST);
    let mut hosted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stakeholders: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in plan.participants() {
        let api = scenario::client(lab, name).expect("client");
        hosted.insert(name.clone(), api.hosted_parties().await.expect("parties"));
        let mut export = recovery_deck::client::export_at_ledger_end(&api, Some(&target))
            .await
            .expect("export");
        while let Some(c) = export.next().await {
            let c = c.expect("contract");
            let event = c.created().expect("created event");
            stakeholders
                .entry(event.contract_id().to_string())
                .or_default()
                .extend(event.signatories().iter().chain(event.observers()).cloned());
        }
    }
    for (id, parties) in &stakeholders {
        for (name, own) in &hosted {
            if !own.is_disjoint(parties) {
                assert!(
                    held.get(name).is_some_and(|h| h.contains(id)),
                    "{name} hosts a stakeholder of {id}, which others hold on the target, but does not hold it there"
                );
            }
        }
    }
    for name in plan.participants() {
        let api = scenario::client(lab, name).expect("client");
        let moved: Vec<String> = held.get(name).into_iter().flatten().cloned().collect();
        for chunk in moved.chunks(500) {
            let histories = merge_inspections(api.inspect_contracts(&target, chunk).await.expect("inspect"));
            for id in chunk {
                let h = histories
                    .get(id)
                    .unwrap_or_else(|| panic!("{name}: no history of {id}"));
                assert_eq!(
                    (h.activations(&lost), h.activations(&target)),
                    (1, 1),
                    "{name}: {id} was activated once on the lost synchronizer (created or imported) and assigned once to the target"
                );
            }
        }
    }
    let acknowledged = acknowledged_imports(journals);
    for name in plan.participants() {
        let planned = planned_ids(plan, name, PhaseKind::Import).len();
        let done = acknowledged.get(name).copied().unwrap_or(0);
        assert!(
            done <= planned,
            "{name}: the journals acknowledge {done} imported contracts, the plan imports {planned}"
        );
    }
}

/// Per participant, the contracts of every ImportAcs the journals record as answered with
/// success.
pub fn acknowledged_imports(journals: &[&Path]) -> BTreeMap<String, usize> {
    let mut out: BTreeMap<String, usize> = BTreeMap::new();
    for path in journals {
        let j = journal::read(path).expect("journal");
        let mut sent: BTreeMap<(String, String, u32), usize> = BTreeMap::new();
        for e in &j.events {
            let node = e.actor.node.clone().unwrap_or_default();
            match &e.body {
                Some(EventData::CallSent(s)) => {
                    if let Call::ImportAcs { ids, .. } = &s.call {
                        sent.insert((node, s.request_digest.clone(), s.attempt), *ids);
                    }
                }
                Some(EventData::CallAnswered(a)) if a.rpc == journal::Rpc::ImportAcs && a.ok => {
                    let ids = sent
                        .get(&(node.clone(), a.request_digest.clone(), a.attempt))
                        .copied()
                        .unwrap_or_else(|| panic!("an ImportAcs answer without its request in {}", path.display()));
                    *out.entry(node).or_default() += ids;
                }
                _ => {}
            }
        }
    }
    out
}
