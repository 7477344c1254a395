//! Alignment of several participants' snapshots by contract id.
//!
//! Each snapshot is sorted once (O(n log n)) by reference, then all are merged in one pass.
//! Nothing is copied except reference-counted pointers.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::classify::classify;
use super::comparison::{ClassCounts, Comparison, ParticipantState, Row};
use super::model::{
    ContractId, ContractSummary, Inspection, InspectionResult, Name, ParticipantSnapshot, Stakeholders,
    is_valid_contract_id,
};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompareError {
    #[error("no participant snapshots to compare; export at least one participant first")]
    NoParticipants,
    #[error("a participant snapshot has an empty name; every snapshot must name its participant")]
    EmptyParticipantName,
    #[error("participant {0} was given twice; pass each participant's snapshot once")]
    DuplicateParticipant(String),
    #[error("participant {participant} lists contract {contract_id} twice; its export is inconsistent, re-export it")]
    DuplicateContract { participant: String, contract_id: String },
    #[error(
        "participant {participant} has a contract id {contract_id:?} that is empty or contains whitespace; check its export"
    )]
    InvalidContractId { participant: String, contract_id: String },
}

/// Snapshots sorted by participant name, each with its contracts sorted by id.
struct Prepared<'a> {
    snapshots: Vec<&'a ParticipantSnapshot>,
    sorted: Vec<Vec<&'a ContractSummary>>,
    hosts: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Prepared<'a> {
    fn new(snapshots: &'a [ParticipantSnapshot]) -> Result<Self, CompareError> {
        if snapshots.is_empty() {
            return Err(CompareError::NoParticipants);
        }
        let mut ordered: Vec<&ParticipantSnapshot> = snapshots.iter().collect();
        ordered.sort_by(|a, b| a.participant.cmp(&b.participant));
        for pair in ordered.windows(2) {
            if pair[0].participant == pair[1].participant {
                return Err(CompareError::DuplicateParticipant(pair[0].participant.clone()));
            }
        }
        let mut sorted = Vec::with_capacity(ordered.len());
        let mut hosts: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, snap) in ordered.iter().enumerate() {
            if snap.participant.is_empty() {
                return Err(CompareError::EmptyParticipantName);
            }
            for party in &snap.hosted_parties {
                hosts.entry(party.as_str()).or_default().push(i);
            }
            sorted.push(sort_contracts(snap)?);
        }
        Ok(Self {
            snapshots: ordered,
            sorted,
            hosts,
        })
    }

    /// Calls `f` once per distinct contract id, in id order, with each participant's version.
    fn for_each_id(&self, mut f: impl FnMut(&[Option<&'a ContractSummary>])) {
        let mut cursors = vec![0usize; self.sorted.len()];
        let mut group: Vec<Option<&ContractSummary>> = vec![None; self.sorted.len()];
        loop {
            let next = self
                .sorted
                .iter()
                .zip(&cursors)
                .filter_map(|(list, &c)| list.get(c))
                .map(|c| &c.contract_id)
                .min()
                .cloned();
            let Some(id) = next else { break };
            for (i, list) in self.sorted.iter().enumerate() {
                group[i] = match list.get(cursors[i]) {
                    Some(c) if c.contract_id == id => {
                        cursors[i] += 1;
                        Some(*c)
                    }
                    _ => None,
                };
            }
            f(&group);
        }
    }

    /// A participant is relevant if it hosts a stakeholder of any version of the contract,
    /// or holds the contract at all: a holder must take part in the move whatever its
    /// party list says, or it would keep a copy behind.
    fn relevance(&self, group: &[Option<&ContractSummary>], cache: &mut HostCache, out: &mut [bool]) {
        for (slot, held) in out.iter_mut().zip(group) {
            *slot = held.is_some();
        }
        let mut seen: Option<&Stakeholders> = None;
        for c in group.iter().flatten() {
            if seen.is_some_and(|s| Arc::ptr_eq(s, &c.stakeholders)) {
                continue;
            }
            seen = Some(&c.stakeholders);
            let hosts = cache.hosts(&c.stakeholders, |parties, mask| {
                for party in parties.iter() {
                    for &i in self.hosts.get(&**party).into_iter().flatten() {
                        mask[i] = true;
                    }
                }
            });
            for (slot, &h) in out.iter_mut().zip(hosts) {
                *slot |= h;
            }
        }
    }
}

/// Which participants host someone in a stakeholder set, remembered per interned set.
/// Interned snapshots share a handful of sets across millions of rows, so a few entries
/// replace two hash lookups of long party ids per contract with a pointer comparison.
struct HostCache {
    width: usize,
    entries: Vec<(Stakeholders, Box<[bool]>)>,
    next: usize,
}

impl HostCache {
    const SIZE: usize = 16;

    fn new(width: usize) -> Self {
        Self {
            width,
            entries: Vec::with_capacity(Self::SIZE),
            next: 0,
        }
    }

    fn hosts(&mut self, set: &Stakeholders, compute: impl FnOnce(&[Name], &mut [bool])) -> &[bool] {
        if let Some(i) = self.entries.iter().position(|(s, _)| Arc::ptr_eq(s, set)) {
            return &self.entries[i].1;
        }
        let mut mask = vec![false; self.width].into_boxed_slice();
        compute(set, &mut mask);
        let slot = if self.entries.len() < Self::SIZE {
            self.entries.push((Arc::clone(set), mask));
            self.entries.len() - 1
        } else {
            self.next = (self.next + 1) % Self::SIZE;
            self.entries[self.next] = (Arc::clone(set), mask);
            self.next
        };
        &self.entries[slot].1
    }
}

fn sort_contracts(snap: &ParticipantSnapshot) -> Result<Vec<&ContractSummary>, CompareError> {
    if let Some(bad) = snap.contracts.iter().find(|c| !is_valid_contract_id(&c.contract_id)) {
        return Err(CompareError::InvalidContractId {
            participant: snap.participant.clone(),
            contract_id: bad.contract_id.to_string(),
        });
    }
    // Comparing ids through their pointers costs two cache misses per comparison, which
    // dominates at a million contracts; the inline prefix settles almost every comparison.
    let mut keyed: Vec<(u128, &ContractSummary)> =
        snap.contracts.iter().map(|c| (prefix_key(&c.contract_id), c)).collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.contract_id.cmp(&b.1.contract_id)));
    let list: Vec<&ContractSummary> = keyed.into_iter().map(|(_, c)| c).collect();
    if let Some(pair) = list.windows(2).find(|p| p[0].contract_id == p[1].contract_id) {
        return Err(CompareError::DuplicateContract {
            participant: snap.participant.clone(),
            contract_id: pair[0].contract_id.to_string(),
        });
    }
    Ok(list)
}

/// The first 16 bytes, big-endian, zero-padded. Valid ids contain no NUL, so padding sorts
/// before any real byte and the key order agrees with the string order.
fn prefix_key(id: &str) -> u128 {
    let mut buf = [0u8; 16];
    let n = id.len().min(16);
    buf[..n].copy_from_slice(&id.as_bytes()[..n]);
    u128::from_be_bytes(buf)
}

/// Which ids to ask each participant about with InspectCommitmentContracts: those some
/// participant holds that this relevant participant lacks. Sorted; participants with
/// nothing to ask are absent.
pub fn inspection_requests(
    snapshots: &[ParticipantSnapshot],
) -> Result<BTreeMap<String, Vec<ContractId>>, CompareError> {
    let prep = Prepared::new(snapshots)?;
    let mut relevant = vec![false; prep.snapshots.len()];
    let mut cache = HostCache::new(prep.snapshots.len());
    let mut asks: Vec<Vec<ContractId>> = vec![Vec::new(); prep.snapshots.len()];
    prep.for_each_id(|group| {
        prep.relevance(group, &mut cache, &mut relevant);
        for (i, held) in group.iter().enumerate() {
            if relevant[i] && held.is_none() {
                let id = group.iter().flatten().map(|c| &c.contract_id).next();
                asks[i].extend(id.cloned());
            }
        }
    });
    Ok(prep
        .snapshots
        .iter()
        .zip(asks)
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(s, ids)| (s.participant.clone(), ids))
        .collect())
}

/// Aligns the snapshots and classifies every contract (see [`RowClass`](super::RowClass)).
pub fn compare(
    synchronizer: &str,
    snapshots: &[ParticipantSnapshot],
    inspection: &Inspection,
) -> Result<Comparison, CompareError> {
    let prep = Prepared::new(snapshots)?;
    let names: Vec<String> = prep.snapshots.iter().map(|s| s.participant.clone()).collect();
    let mut relevant = vec![false; names.len()];
    let mut cache = HostCache::new(names.len());
    let mut rows = Vec::with_capacity(prep.sorted.iter().map(Vec::len).max().unwrap_or(0));
    let mut counts = ClassCounts::default();
    let mut moved_to: HashMap<&str, Name> = HashMap::new();

    prep.for_each_id(|group| {
        prep.relevance(group, &mut cache, &mut relevant);
        let Some(first) = group.iter().flatten().next() else {
            return;
        };
        let id = &first.contract_id;
        let mut states: Box<[ParticipantState]> = group
            .iter()
            .zip(&relevant)
            .zip(&names)
            .map(|((held, &rel), name)| match held {
                Some(c) => ParticipantState::Active {
                    digest: c.payload_digest,
                },
                None if !rel => ParticipantState::NotHosted,
                None => match inspection.get(name, id) {
                    Some(InspectionResult::Archived) => ParticipantState::Archived,
                    Some(InspectionResult::Moved { to }) => ParticipantState::Moved {
                        to: moved_to
                            .entry(to.as_str())
                            .or_insert_with(|| Arc::from(to.as_str()))
                            .clone(),
                    },
                    Some(InspectionResult::Unknown) | None => ParticipantState::Unknown,
                },
            })
            .collect();
        let (class, reference) = classify(&mut states);
        let reference = reference.and_then(|i| group[i]).unwrap_or(first);
        counts.add(class);
        rows.push(Row {
            contract_id: Arc::clone(id),
            template_id: Arc::clone(&reference.template_id),
            stakeholders: stakeholder_union(group, &reference.stakeholders),
            class,
            states,
        });
    });

    Ok(Comparison {
        synchronizer: synchronizer.to_owned(),
        participants: names,
        rows,
        counts,
    })
}

/// Versions of one contract normally share their stakeholders; only diverged payloads can
/// differ, and then the row shows everyone any version involves. Always sorted.
fn stakeholder_union(group: &[Option<&ContractSummary>], reference: &Stakeholders) -> Stakeholders {
    let canonical = reference.windows(2).all(|w| w[0] < w[1]);
    if canonical && group.iter().flatten().all(|c| c.stakeholders == *reference) {
        return Arc::clone(reference);
    }
    let mut all: Vec<Name> = group
        .iter()
        .flatten()
        .flat_map(|c| c.stakeholders.iter().cloned())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    all.sort_unstable();
    Arc::from(all)
}

#[cfg(test)]
#[path = "align_tests.rs"]
mod tests;
