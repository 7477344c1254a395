//! Builders shared by the reconcile and plan tests.

use super::model::{ContractSummary, Digest, Interner, ParticipantSnapshot};

pub(crate) fn digest(b: u8) -> Digest {
    [b; 32]
}

/// `parties` is a comma-free list of hosted parties.
pub(crate) fn snapshot(name: &str, parties: &[&str]) -> ParticipantSnapshot {
    ParticipantSnapshot {
        participant: name.to_owned(),
        hosted_parties: parties.iter().map(|p| p.to_string()).collect(),
        contracts: Vec::new(),
    }
}

pub(crate) fn contract(interner: &mut Interner, id: &str, stakeholders: &[&str], payload: u8) -> ContractSummary {
    ContractSummary::new(
        id,
        interner.name("Iou:Iou"),
        interner.stakeholders(stakeholders),
        digest(payload),
    )
}

/// Adds a contract with the given payload to the named snapshots.
pub(crate) fn hold(
    snaps: &mut [ParticipantSnapshot],
    interner: &mut Interner,
    holders: &[&str],
    id: &str,
    stakeholders: &[&str],
    payload: u8,
) {
    for s in snaps.iter_mut().filter(|s| holders.contains(&s.participant.as_str())) {
        s.contracts.push(contract(interner, id, stakeholders, payload));
    }
}
