//! Canonical hashing.
//!
//! Every value is fed to SHA-256 as a length-prefixed field, so no two different plans share
//! an encoding, and nothing depends on a serialiser's formatting or map order. Collections are
//! hashed in their sorted order, so the hash does not depend on the order inputs arrived in.

use sha2::{Digest as _, Sha256};

use crate::reconcile::{ContractId, ContractSummary, Decision, Digest, Strategy};

use super::model::{Action, Plan};

pub(super) const PREFIX: &str = "sha256:";

pub(super) fn render(hasher: Sha256) -> String {
    format!("{PREFIX}{}", hex::encode(hasher.finalize()))
}

/// `sha256:<hex>` over the UTF-8 bytes of `text` (used for sidecar files).
pub fn text_digest(text: &str) -> String {
    render(Sha256::new_with_prefix(text.as_bytes()))
}

/// Digest over a participant's (contract id, payload digest) pairs, whatever their order.
/// The executor computes it over a fresh export and compares it with the plan's.
pub fn snapshot_digest(contracts: &[ContractSummary]) -> String {
    let mut pairs: Vec<(&str, &Digest)> = contracts.iter().map(|c| (&*c.contract_id, &c.payload_digest)).collect();
    pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
    snapshot_digest_sorted(pairs)
}

/// Same as [`snapshot_digest`] for pairs already sorted by id.
pub fn snapshot_digest_sorted<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a Digest)>) -> String {
    let mut c = Canon::new("recovery-deck/snapshot/v1");
    for (id, digest) in pairs {
        c.str(id);
        c.0.update(digest);
    }
    render(c.0)
}

struct Canon(Sha256);

impl Canon {
    fn new(domain: &str) -> Self {
        let mut c = Canon(Sha256::new());
        c.str(domain);
        c
    }
    fn u64(&mut self, n: u64) {
        self.0.update(n.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.update(s.as_bytes());
    }
    fn bool(&mut self, b: bool) {
        self.0.update([u8::from(b)]);
    }
    fn ids<'a>(&mut self, ids: impl ExactSizeIterator<Item = &'a ContractId>) {
        self.u64(ids.len() as u64);
        for id in ids {
            self.str(id);
        }
    }
    fn strs<'a>(&mut self, items: impl ExactSizeIterator<Item = &'a String>) {
        self.u64(items.len() as u64);
        for s in items {
            self.str(s);
        }
    }
}

/// The plan hash over everything in the plan except the hash itself.
///
/// A plan with per-row payload tags (every plan made since runbook version 2) hashes under
/// the `plan/v2` domain, which covers the tags; a plan read from a version 1 runbook has none
/// and keeps the `plan/v1` hash it was approved under.
pub(super) fn plan_hash(plan: &Plan) -> String {
    let tagged = plan.expected.values().any(|e| e.payloads.is_some());
    let mut c = Canon::new(if tagged {
        "recovery-deck/plan/v2"
    } else {
        "recovery-deck/plan/v1"
    });
    c.str(&plan.incident);
    c.str(&plan.lost);
    c.str(&plan.target);
    c.strs(plan.participants.iter());
    strategy(&mut c, &plan.strategy);
    c.u64(plan.decisions.len() as u64);
    for (id, d) in &plan.decisions {
        c.str(id);
        decision(&mut c, d);
    }
    c.ids(plan.exclusions.iter());
    c.u64(u64::from(plan.batch_size));
    c.u64(plan.excluded.len() as u64);
    for row in &plan.excluded {
        c.str(&row.contract_id);
        c.str(row.class.as_str());
        c.str(row.reason.as_str());
    }
    c.u64(plan.expected.len() as u64);
    for (p, e) in &plan.expected {
        c.str(p);
        c.ids(e.active.iter());
        if tagged {
            c.bool(e.payloads.is_some());
            let tags = e.payloads.as_deref().unwrap_or_default();
            c.u64(tags.len() as u64);
            for tag in tags {
                c.u64(tag.0);
            }
        }
        c.str(&e.digest);
    }
    c.u64(plan.in_flight.len() as u64);
    for (p, f) in &plan.in_flight {
        c.str(p);
        c.u64(u64::from(f.pending_submissions));
        c.u64(u64::from(f.pending_transactions));
    }
    c.u64(plan.phases.len() as u64);
    for phase in &plan.phases {
        c.str(phase.kind.as_str());
        c.u64(phase.steps.len() as u64);
        for step in &phase.steps {
            c.str(&step.participant);
            action(&mut c, &step.action);
        }
    }
    render(c.0)
}

fn strategy(c: &mut Canon, s: &Strategy) {
    c.str(s.name());
    if let Strategy::Manual { include } = s {
        c.ids(include.iter());
    }
}

fn decision(c: &mut Canon, d: &Decision) {
    c.str(d.name());
}

fn action(c: &mut Canon, a: &Action) {
    c.str(a.kind());
    match a {
        Action::DisconnectSynchronizer { synchronizer } => c.str(synchronizer),
        Action::ModifySynchronizer {
            synchronizer,
            manual_connect,
            validation,
        } => {
            c.str(synchronizer);
            c.bool(*manual_connect);
            c.str(validation.as_str());
        }
        Action::ReconnectSynchronizer { synchronizer, retry } => {
            c.str(synchronizer);
            c.bool(*retry);
        }
        Action::DisconnectAllSynchronizers => {}
        Action::Ping { synchronizer } => c.str(synchronizer),
        Action::PurgeContracts {
            synchronizer,
            contract_ids,
            ignore_already_purged,
        } => {
            c.str(synchronizer);
            c.ids(contract_ids.iter());
            c.bool(*ignore_already_purged);
        }
        Action::ImportAcs {
            synchronizer,
            source_participant,
            contract_ids,
        } => {
            c.str(synchronizer);
            c.str(source_participant);
            c.ids(contract_ids.iter());
        }
        Action::ChangeAssignation {
            source_synchronizer,
            target_synchronizer,
            contract_ids,
            skip_inactive,
        } => {
            c.str(source_synchronizer);
            c.str(target_synchronizer);
            c.ids(contract_ids.iter());
            c.bool(*skip_inactive);
        }
        Action::Verify {
            synchronizer,
            contract_ids,
            ping,
        } => {
            c.str(synchronizer);
            c.ids(contract_ids.iter());
            c.strs(ping.iter());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::Interner;

    #[test]
    fn snapshot_digest_ignores_order_but_not_content() {
        let mut i = Interner::new();
        let c =
            |id: &str, p: u8, i: &mut Interner| ContractSummary::new(id, i.name("M:T"), i.stakeholders(["A"]), [p; 32]);
        let a = vec![c("x", 1, &mut i), c("y", 2, &mut i)];
        let b = vec![c("y", 2, &mut i), c("x", 1, &mut i)];
        assert_eq!(snapshot_digest(&a), snapshot_digest(&b));
        let changed = vec![c("x", 1, &mut i), c("y", 3, &mut i)];
        assert_ne!(snapshot_digest(&a), snapshot_digest(&changed));
        assert!(snapshot_digest(&a).starts_with("sha256:"));
        assert_eq!(snapshot_digest(&a).len(), 7 + 64);
    }

    #[test]
    fn length_prefixes_keep_adjacent_fields_apart() {
        let mut one = Canon::new("t");
        one.str("ab");
        one.str("c");
        let mut two = Canon::new("t");
        two.str("a");
        two.str("bc");
        assert_ne!(render(one.0), render(two.0));
    }

    #[test]
    fn text_digest_is_sha256_of_the_bytes() {
        assert_eq!(
            text_digest(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
