//! Manifests: what one participant holds on the lost synchronizer, published by its own
//! deck (per contract: id, template, stakeholders, payload digest, state), and the
//! federated comparison everyone builds from them with the pure reconcile code. Payloads
//! stay on their participant; only digests travel.

use crate::plan::{self, InFlight};
use crate::reconcile::{
    self, Comparison, ContractSummary, Digest, Inspection, InspectionResult, Interner, ParticipantSnapshot,
};
use crate::survey::Holding;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A contract's state on the lost synchronizer as its participant reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EntryState {
    Active,
    /// Seen and archived.
    Archived,
    /// Never seen.
    Unknown,
    /// Unassigned to another synchronizer.
    Moved {
        to: String,
    },
}

/// One active contract of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub contract_id: String,
    /// `Module:Entity`.
    pub template_id: String,
    /// Sorted.
    pub stakeholders: Vec<String>,
    /// Hex sha256 ([`crate::survey::payload_digest`]).
    pub payload_digest: String,
    #[serde(flatten)]
    pub state: EntryState,
}

/// An answer about an id another participant holds and this one lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectedEntry {
    pub contract_id: String,
    #[serde(flatten)]
    pub state: EntryState,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub participant: String,
    /// The lost synchronizer's logical id as this participant knows it.
    pub synchronizer_id: String,
    /// Sorted.
    pub hosted_parties: Vec<String>,
    /// The participant's admin party: Canton's ping responder answers only pings to it.
    #[serde(default)]
    pub admin_party: String,
    /// Sorted by contract id.
    pub contracts: Vec<ManifestEntry>,
    pub pending_submissions: u32,
    pub pending_transactions: u32,
    /// [`plan::snapshot_digest`] over the held (id, payload digest) pairs: what a plan
    /// built from this manifest expects the participant to hold.
    pub holdings_digest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("no manifest from {0} yet: its node operator's deck has not surveyed it")]
    Missing(String),
    #[error("{participant}'s manifest is invalid: {message}")]
    Invalid { participant: String, message: String },
    #[error("{participant} knows the lost synchronizer as {found}, but {other} knows it as {expected}")]
    IdMismatch {
        participant: String,
        found: String,
        other: String,
        expected: String,
    },
    #[error("waiting for {participant} to say what it knows of {count} contract(s) other participants hold")]
    InspectionPending { participant: String, count: usize },
    #[error(transparent)]
    Compare(#[from] reconcile::CompareError),
}

impl Manifest {
    /// The manifest of a fresh survey of one participant.
    pub fn from_holding(holding: &Holding, synchronizer_id: &str, admin_party: &str, in_flight: InFlight) -> Manifest {
        let snap = &holding.snapshot;
        let mut contracts: Vec<ManifestEntry> = snap
            .contracts
            .iter()
            .map(|c| ManifestEntry {
                contract_id: c.contract_id.to_string(),
                template_id: c.template_id.to_string(),
                stakeholders: c.stakeholders.iter().map(|s| s.to_string()).collect(),
                payload_digest: hex::encode(c.payload_digest),
                state: EntryState::Active,
            })
            .collect();
        contracts.sort_by(|a, b| a.contract_id.cmp(&b.contract_id));
        Manifest {
            participant: snap.participant.clone(),
            synchronizer_id: synchronizer_id.to_string(),
            hosted_parties: snap.hosted_parties.iter().cloned().collect(),
            admin_party: admin_party.to_string(),
            contracts,
            pending_submissions: in_flight.pending_submissions,
            pending_transactions: in_flight.pending_transactions,
            holdings_digest: plan::snapshot_digest(&snap.contracts),
        }
    }

    fn invalid(&self, message: String) -> ManifestError {
        ManifestError::Invalid {
            participant: self.participant.clone(),
            message,
        }
    }

    /// The reconcile module's snapshot of this manifest.
    pub fn snapshot(&self, interner: &mut Interner) -> Result<ParticipantSnapshot, ManifestError> {
        let mut contracts = Vec::with_capacity(self.contracts.len());
        for c in &self.contracts {
            if !reconcile::is_valid_contract_id(&c.contract_id) {
                return Err(self.invalid(format!("contract id {:?} is not valid", c.contract_id)));
            }
            let digest = parse_digest(&c.payload_digest)
                .ok_or_else(|| self.invalid(format!("payload digest of {} is not 32 hex bytes", c.contract_id)))?;
            contracts.push(ContractSummary::new(
                c.contract_id.as_str(),
                interner.name(&c.template_id),
                interner.stakeholders(&c.stakeholders),
                digest,
            ));
        }
        Ok(ParticipantSnapshot {
            participant: self.participant.clone(),
            hosted_parties: self.hosted_parties.iter().cloned().collect(),
            contracts,
        })
    }

    /// Checks what a deck can check about a manifest before it enters the log.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let snap = self.snapshot(&mut Interner::new())?;
        let digest = plan::snapshot_digest(&snap.contracts);
        if digest != self.holdings_digest {
            return Err(self.invalid(format!(
                "holdings digest {} does not match its contracts ({digest})",
                self.holdings_digest
            )));
        }
        let ids: BTreeSet<&str> = self.contracts.iter().map(|c| c.contract_id.as_str()).collect();
        if ids.len() != self.contracts.len() {
            return Err(self.invalid("a contract id is listed twice".into()));
        }
        Ok(())
    }

    pub fn in_flight(&self) -> InFlight {
        InFlight {
            pending_submissions: self.pending_submissions,
            pending_transactions: self.pending_transactions,
        }
    }

    pub fn entry(&self, contract_id: &str) -> Option<&ManifestEntry> {
        self.contracts
            .binary_search_by(|c| c.contract_id.as_str().cmp(contract_id))
            .ok()
            .and_then(|i| self.contracts.get(i))
    }
}

pub fn parse_digest(hex_text: &str) -> Option<Digest> {
    let bytes = hex::decode(hex_text).ok()?;
    bytes.try_into().ok()
}

/// Answers per participant: contract id → state.
pub type Answers = BTreeMap<String, BTreeMap<String, EntryState>>;

fn snapshots(
    participants: &[String],
    manifests: &BTreeMap<String, Manifest>,
) -> Result<Vec<ParticipantSnapshot>, ManifestError> {
    let mut interner = Interner::new();
    let mut agreed: Option<(&str, &str)> = None;
    let mut out = Vec::with_capacity(participants.len());
    for p in participants {
        let m = manifests.get(p).ok_or_else(|| ManifestError::Missing(p.clone()))?;
        match agreed {
            None => agreed = Some((p, &m.synchronizer_id)),
            Some((other, expected)) if expected != m.synchronizer_id => {
                return Err(ManifestError::IdMismatch {
                    participant: p.clone(),
                    found: m.synchronizer_id.clone(),
                    other: other.to_string(),
                    expected: expected.to_string(),
                });
            }
            Some(_) => {}
        }
        out.push(m.snapshot(&mut interner)?);
    }
    Ok(out)
}

/// Ids each participant must still answer about: those another participant holds that it
/// lacks although it hosts a stakeholder (what InspectCommitmentContracts is asked for in a
/// local survey), minus those it answered. Participants without a manifest are skipped.
pub fn pending_inspections(
    participants: &[String],
    manifests: &BTreeMap<String, Manifest>,
    answers: &Answers,
) -> Result<BTreeMap<String, Vec<String>>, ManifestError> {
    let present: Vec<String> = participants
        .iter()
        .filter(|p| manifests.contains_key(*p))
        .cloned()
        .collect();
    let requests = reconcile::inspection_requests(&snapshots(&present, manifests)?)?;
    Ok(requests
        .into_iter()
        .map(|(p, ids)| {
            let done = answers.get(&p);
            let open: Vec<String> = ids
                .iter()
                .filter(|id| done.is_none_or(|d| !d.contains_key(&***id)))
                .map(|id| id.to_string())
                .collect();
            (p, open)
        })
        .filter(|(_, ids)| !ids.is_empty())
        .collect())
}

/// The comparison of the lost synchronizer built from every participant's manifest and
/// answers, and the in-flight counts the manifests report: what a plan is made from.
pub struct Federated {
    pub comparison: Comparison,
    pub in_flight: BTreeMap<String, InFlight>,
}

pub fn federated_comparison(
    lost_alias: &str,
    participants: &[String],
    manifests: &BTreeMap<String, Manifest>,
    answers: &Answers,
) -> Result<Federated, ManifestError> {
    let snaps = snapshots(participants, manifests)?;
    if let Some((participant, ids)) = pending_inspections(participants, manifests, answers)?
        .into_iter()
        .next()
    {
        return Err(ManifestError::InspectionPending {
            participant,
            count: ids.len(),
        });
    }
    let mut inspection = Inspection::new();
    for (p, states) in answers {
        for (id, state) in states {
            let result = match state {
                EntryState::Archived => InspectionResult::Archived,
                EntryState::Moved { to } => InspectionResult::Moved { to: to.clone() },
                // Active now but absent from the snapshot a moment ago, or never seen:
                // either way nothing proves it was archived here (as the local survey says).
                EntryState::Active | EntryState::Unknown => InspectionResult::Unknown,
            };
            inspection.record(p, id.as_str(), result);
        }
    }
    let comparison = reconcile::compare(lost_alias, &snaps, &inspection)?;
    let in_flight = participants
        .iter()
        .filter_map(|p| manifests.get(p).map(|m| (p.clone(), m.in_flight())))
        .collect();
    Ok(Federated { comparison, in_flight })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::RowClass;

    fn entry(id: &str, parties: &[&str], digest: u8) -> ManifestEntry {
        ManifestEntry {
            contract_id: id.into(),
            template_id: "Iou:Iou".into(),
            stakeholders: parties.iter().map(|p| p.to_string()).collect(),
            payload_digest: hex::encode([digest; 32]),
            state: EntryState::Active,
        }
    }

    fn manifest(name: &str, parties: &[&str], contracts: Vec<ManifestEntry>) -> Manifest {
        let mut m = Manifest {
            participant: name.into(),
            synchronizer_id: "lost::1".into(),
            hosted_parties: parties.iter().map(|p| p.to_string()).collect(),
            contracts,
            ..Manifest::default()
        };
        let mut interner = Interner::new();
        m.holdings_digest = plan::snapshot_digest(&m.snapshot(&mut interner).expect("snapshot").contracts);
        m
    }

    fn two() -> BTreeMap<String, Manifest> {
        let p1 = manifest(
            "p1",
            &["Alice"],
            vec![
                entry("c1", &["Alice", "Bob"], 1),
                entry("c2", &["Alice", "Bob"], 2),
                entry("c3", &["Alice", "Bob"], 3),
            ],
        );
        let p2 = manifest(
            "p2",
            &["Bob"],
            vec![entry("c1", &["Alice", "Bob"], 1), entry("c3", &["Alice", "Bob"], 9)],
        );
        [("p1".to_string(), p1), ("p2".to_string(), p2)].into()
    }

    #[test]
    fn the_comparison_waits_for_answers_then_classifies_like_a_local_survey() {
        let names = vec!["p1".to_string(), "p2".to_string()];
        let manifests = two();
        let pending = pending_inspections(&names, &manifests, &Answers::new()).expect("pending");
        assert_eq!(pending, [("p2".to_string(), vec!["c2".to_string()])].into());
        let err = federated_comparison("lost", &names, &manifests, &Answers::new())
            .err()
            .expect("pending");
        assert!(matches!(err, ManifestError::InspectionPending { ref participant, count: 1 } if participant == "p2"));

        let mut answers = Answers::new();
        answers
            .entry("p2".into())
            .or_default()
            .insert("c2".into(), EntryState::Archived);
        let f = federated_comparison("lost", &names, &manifests, &answers).expect("compare");
        let class = |id: &str| f.comparison.row(id).expect("row").class();
        assert_eq!(class("c1"), RowClass::Agreed);
        assert_eq!(class("c2"), RowClass::ArchivedSomewhere);
        assert_eq!(class("c3"), RowClass::PayloadMismatch);
        assert_eq!(f.in_flight.len(), 2);
    }

    #[test]
    fn a_missing_manifest_or_a_different_synchronizer_is_named() {
        let names = vec!["p1".to_string(), "p2".to_string(), "p3".to_string()];
        let err = federated_comparison("lost", &names, &two(), &Answers::new())
            .err()
            .expect("missing");
        assert_eq!(err, ManifestError::Missing("p3".into()));
        let mut m = two();
        if let Some(p2) = m.get_mut("p2") {
            p2.synchronizer_id = "other::2".into();
        }
        let err = federated_comparison("lost", &names[..2], &m, &Answers::new())
            .err()
            .expect("mismatch");
        assert!(matches!(err, ManifestError::IdMismatch { .. }), "{err}");
    }

    #[test]
    fn validation_catches_a_wrong_digest_and_bad_entries() {
        let mut m = two().remove("p1").expect("p1");
        assert_eq!(m.validate(), Ok(()));
        assert_eq!(
            m.entry("c2").map(|e| e.payload_digest.clone()),
            Some(hex::encode([2; 32]))
        );
        m.holdings_digest = "sha256:00".into();
        assert!(m.validate().is_err());
        let mut m = two().remove("p1").expect("p1");
        m.contracts[0].payload_digest = "zz".into();
        assert!(m.validate().is_err());
    }

    #[test]
    fn entries_serialise_with_their_state_inline() {
        let e = InspectedEntry {
            contract_id: "c".into(),
            state: EntryState::Moved { to: "new".into() },
        };
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(
            v,
            serde_json::json!({"contract_id": "c", "state": "moved", "to": "new"})
        );
        let m = entry("c1", &["A"], 1);
        assert_eq!(serde_json::to_value(&m).expect("json")["state"], "active");
    }
}
