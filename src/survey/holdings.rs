//! The survey: what each participant holds on the lost synchronizer, turned into the
//! reconcile module's snapshots, plus InspectCommitmentContracts answers for the ids a
//! participant lacks (archived or never seen), and the in-flight counts.

use super::search::SearchFilter;
use crate::batch::{INSPECT_BATCH, id_batches};
use crate::client::{
    AcsEntry, ClientError, Contract, Created, IncompleteReassignment, ParticipantApi, SyncState, logical_id,
    merge_inspections,
};
use crate::failure::{Failure, FailureKind};
use crate::plan;
use crate::reconcile::{
    self, Comparison, ContractId, ContractSummary, Digest, IdPool, Inspection, InspectionResult, Interner,
    ParticipantSnapshot,
};
use futures::StreamExt;
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum SurveyError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{participant} knows the lost synchronizer {alias} as {found}, but {other} knows it as {expected}")]
    IdMismatch {
        participant: String,
        alias: String,
        found: String,
        other: String,
        expected: String,
    },
    #[error("comparing the snapshots: {0}")]
    Compare(#[from] reconcile::CompareError),
}

impl SurveyError {
    /// What went wrong, as the front ends read it.
    pub fn failure(&self) -> Failure {
        match self {
            SurveyError::Client(e) => Failure::from(e),
            SurveyError::IdMismatch { participant, .. } => {
                Failure::new(FailureKind::Check, Some(participant), self.to_string())
            }
            SurveyError::Compare(_) => Failure::new(FailureKind::Internal, None, self.to_string()),
        }
    }
}

/// The payload of every contract a participant holds, kept for diffs.
pub type Payloads = HashMap<ContractId, serde_json::Value>;

/// One participant's view of the lost synchronizer.
#[derive(Debug)]
pub struct Holding {
    pub snapshot: ParticipantSnapshot,
    pub payloads: Option<Payloads>,
    /// Contracts caught between the lost synchronizer and another one (unassigned and
    /// not yet assigned): not in the snapshot, and shown to the operators rather than
    /// silently dropped.
    pub incomplete: Vec<IncompleteReassignment>,
}

/// What a payload digest covers: template, arguments and parties, in canonical JSON, so
/// encoding details of either side (labels, record ids) cannot make equal payloads differ.
/// Journals and comparison files pin these digests, so the bytes hashed never change:
/// `{"observers":[…],"payload":…,"signatories":[…],"template":"…"}`, parties sorted,
/// objects keyed in byte order, as `serde_json` writes a `Value`.
pub fn payload_digest(
    template: &str,
    payload: &serde_json::Value,
    signatories: &[String],
    observers: &[String],
) -> Digest {
    canonical_digest(template, payload, signatories, observers)
}

/// [`payload_digest`] of a contract as it came off the wire, written straight into the
/// hash: no JSON tree, no text, no copy of the parties.
pub fn contract_digest(ev: &Created<'_>, template: &str) -> Digest {
    canonical_digest(template, &ev.arguments_json(), ev.signatories(), ev.observers())
}

fn canonical_digest(
    template: &str,
    payload: &impl serde::Serialize,
    signatories: &[String],
    observers: &[String],
) -> Digest {
    #[derive(serde::Serialize)]
    struct Canonical<'a, P> {
        observers: Vec<&'a str>,
        payload: P,
        signatories: Vec<&'a str>,
        template: &'a str,
    }
    fn sorted(parties: &[String]) -> Vec<&str> {
        let mut v: Vec<&str> = parties.iter().map(String::as_str).collect();
        v.sort_unstable();
        v
    }
    let canonical = Canonical {
        observers: sorted(observers),
        payload,
        signatories: sorted(signatories),
        template,
    };
    let mut hasher = Hashing(Sha256::new());
    // Writing into a hasher cannot fail, nor can these values (string keys only).
    let _ = serde_json::to_writer(&mut hasher, &canonical);
    hasher.0.finalize().into()
}

/// Feeds what is written to the hash.
struct Hashing(Sha256);

impl std::io::Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The payload digest of a contract as the survey computes it ([`payload_digest`]);
/// `None` for an entry without its created event.
pub fn digest_of(c: &Contract) -> Option<Digest> {
    let ev = c.created()?;
    Some(contract_digest(&ev, &ev.template()))
}

/// The contract's summary, its id from `ids` when several participants' holdings are read
/// together.
fn summary(c: &Contract, interner: &mut Interner, ids: Option<&IdPool>) -> Option<ContractSummary> {
    let ev = c.created()?;
    let template = ev.template();
    let digest = contract_digest(&ev, &template);
    let stakeholders = interner.stakeholders(ev.signatories().iter().chain(ev.observers()));
    let id = ids.map_or_else(|| ContractId::from(ev.contract_id()), |pool| pool.id(ev.contract_id()));
    Some(ContractSummary::new(id, interner.name(&template), stakeholders, digest))
}

/// Progress of a survey: contracts read so far from one participant.
pub type Observer = tokio::sync::mpsc::UnboundedSender<(String, usize)>;

/// Reports progress every this many contracts.
const REPORT_EVERY: usize = 5_000;

/// Reads what `api` holds on the synchronizer `synchronizer_id` (logical).
pub async fn holding(
    api: &dyn ParticipantApi,
    synchronizer_id: &str,
    filter: &SearchFilter,
    keep_payloads: bool,
) -> Result<Holding, ClientError> {
    holding_observed(api, synchronizer_id, filter, keep_payloads, None).await
}

/// [`holding`], reporting how many contracts were read as it goes.
pub async fn holding_observed(
    api: &dyn ParticipantApi,
    synchronizer_id: &str,
    filter: &SearchFilter,
    keep_payloads: bool,
    observer: Option<&Observer>,
) -> Result<Holding, ClientError> {
    holding_pooled(api, synchronizer_id, filter, keep_payloads, observer, None).await
}

/// [`holding_observed`], its ids from `ids` when several participants' holdings are read
/// together.
async fn holding_pooled(
    api: &dyn ParticipantApi,
    synchronizer_id: &str,
    filter: &SearchFilter,
    keep_payloads: bool,
    observer: Option<&Observer>,
    ids: Option<&IdPool>,
) -> Result<Holding, ClientError> {
    let hosted = api.hosted_parties().await?;
    let end = api.ledger_end().await?;
    let mut interner = Interner::new();
    let mut contracts = Vec::new();
    let mut payloads = keep_payloads.then(HashMap::new);
    let mut incomplete = Vec::new();
    if end > 0 {
        let mut stream = api.active_contracts(end, false).await?;
        while let Some(entry) = stream.next().await {
            let c = match entry? {
                AcsEntry::Active(c) => c,
                AcsEntry::Incomplete(r) => {
                    if r.touches(synchronizer_id) {
                        incomplete.push(r);
                    }
                    continue;
                }
            };
            if logical_id(c.synchronizer_id()) != synchronizer_id {
                continue;
            }
            let Some(s) = summary(&c, &mut interner, ids) else {
                continue;
            };
            if !filter.matches(&s.template_id, s.stakeholders.iter().map(|p| &**p)) {
                continue;
            }
            if let Some(p) = payloads.as_mut()
                && let Some(ev) = c.created()
            {
                p.insert(s.contract_id.clone(), ev.payload());
            }
            contracts.push(s);
            if contracts.len() % REPORT_EVERY == 0
                && let Some(o) = observer
            {
                let _ = o.send((api.name().to_string(), contracts.len()));
            }
        }
    }
    if let Some(o) = observer {
        let _ = o.send((api.name().to_string(), contracts.len()));
    }
    Ok(Holding {
        snapshot: ParticipantSnapshot {
            participant: api.name().to_string(),
            hosted_parties: hosted,
            contracts,
        },
        payloads,
        incomplete,
    })
}

/// Payloads of chosen contracts, per participant: `wanted` names, per participant, the ids
/// and the payload digest the survey saw. A second read of each such participant's active
/// contracts (all of them at once), keeping only those — the survey itself keeps digests
/// alone, so a million payloads are never held for the few rows whose holders disagree or
/// the one row a diff shows. A payload whose digest is no longer the one surveyed (it
/// changed in between) is left out.
pub async fn payloads_of(
    apis: &[Arc<dyn ParticipantApi>],
    synchronizer_id: &str,
    wanted: &BTreeMap<String, HashMap<ContractId, Digest>>,
) -> Result<BTreeMap<String, Payloads>, ClientError> {
    let reads = apis.iter().filter_map(|api| {
        let ids = wanted.get(api.name()).filter(|w| !w.is_empty())?;
        Some(async move {
            let found = payloads_held(api.as_ref(), synchronizer_id, ids).await?;
            Ok::<_, ClientError>((api.name().to_string(), found))
        })
    });
    Ok(futures::future::try_join_all(reads).await?.into_iter().collect())
}

async fn payloads_held(
    api: &dyn ParticipantApi,
    synchronizer_id: &str,
    ids: &HashMap<ContractId, Digest>,
) -> Result<Payloads, ClientError> {
    let mut found = Payloads::new();
    let mut interner = Interner::new();
    each_active(api, synchronizer_id, &mut |c| {
        let Some(expected) = c.contract_id().and_then(|id| ids.get(id)) else {
            return;
        };
        if let Some(s) = summary(c, &mut interner, None)
            && &s.payload_digest == expected
            && let Some(ev) = c.created()
        {
            found.insert(s.contract_id, ev.payload());
        }
    })
    .await?;
    Ok(found)
}

/// The payload `api` holds now for `contract_id` on the synchronizer `synchronizer_id`
/// (logical), if it holds it: one pass over its active contracts, keeping that one.
pub async fn payload_held(
    api: &dyn ParticipantApi,
    synchronizer_id: &str,
    contract_id: &str,
) -> Result<Option<serde_json::Value>, ClientError> {
    let mut found = None;
    each_active(api, synchronizer_id, &mut |c| {
        if found.is_none()
            && c.contract_id() == Some(contract_id)
            && let Some(ev) = c.created()
        {
            found = Some(ev.payload());
        }
    })
    .await?;
    Ok(found)
}

/// Hands `each` every contract `api` holds active on `synchronizer_id` (logical), as the
/// stream delivers them, keeping none.
pub async fn each_active(
    api: &dyn ParticipantApi,
    synchronizer_id: &str,
    each: &mut (dyn FnMut(&Contract) + Send),
) -> Result<(), ClientError> {
    let end = api.ledger_end().await?;
    if end > 0 {
        let mut stream = api.active_contracts(end, false).await?;
        while let Some(entry) = stream.next().await {
            let AcsEntry::Active(c) = entry? else { continue };
            if logical_id(c.synchronizer_id()) == synchronizer_id {
                each(&c);
            }
        }
    }
    Ok(())
}

/// Per participant, the rows whose holders disagree on the payload, with the digest the
/// participant's version had: the payloads a comparison file records.
pub fn differing(comparison: &Comparison) -> BTreeMap<String, HashMap<ContractId, Digest>> {
    let names = comparison.participants();
    let mut wanted: BTreeMap<String, HashMap<ContractId, Digest>> = BTreeMap::new();
    for row in comparison.rows() {
        let mut states = row.states().iter().filter_map(|s| s.digest());
        let Some(first) = states.next() else { continue };
        if states.all(|d| d == first) {
            continue;
        }
        for (name, state) in names.iter().zip(row.states()) {
            if let Some(d) = state.digest() {
                wanted
                    .entry(name.clone())
                    .or_default()
                    .insert(row.contract_id().clone(), *d);
            }
        }
    }
    wanted
}

/// Checks that every participant runs a Canton release recovery-deck serves, before
/// anything else is asked: an older release answers the survey's calls laid out
/// differently (3.3's GetSynchronizerId has the id in another field, so the survey would
/// silently find nothing), so it is refused with one line that says why.
pub async fn served(apis: &[Arc<dyn ParticipantApi>]) -> Result<(), ClientError> {
    futures::future::try_join_all(apis.iter().map(|a| a.canton_line())).await?;
    Ok(())
}

/// Resolves the lost synchronizer's id on every participant and checks they agree.
pub async fn synchronizer_id(apis: &[Arc<dyn ParticipantApi>], alias: &str) -> Result<String, SurveyError> {
    let mut agreed: Option<(String, String)> = None;
    for api in apis {
        let id = api.synchronizer_id(alias).await?.logical;
        match &agreed {
            None => agreed = Some((api.name().to_string(), id)),
            Some((other, expected)) if expected != &id => {
                return Err(SurveyError::IdMismatch {
                    participant: api.name().to_string(),
                    alias: alias.to_string(),
                    found: id,
                    other: other.clone(),
                    expected: expected.clone(),
                });
            }
            Some(_) => {}
        }
    }
    Ok(agreed.map(|(_, id)| id).unwrap_or_default())
}

/// Asks each participant about the ids it lacks, and reads its answer the way Canton
/// means it (see `client::history`): archived, moved away (with the target), or never
/// seen on the lost synchronizer.
pub async fn inspect(
    apis: &[Arc<dyn ParticipantApi>],
    synchronizer_id: &str,
    snapshots: &[ParticipantSnapshot],
) -> Result<Inspection, SurveyError> {
    let requests = reconcile::inspection_requests(snapshots)?;
    let mut inspection = Inspection::new();
    for api in apis {
        let Some(ids) = requests.get(api.name()) else { continue };
        for batch in id_batches(ids, INSPECT_BATCH) {
            let list: Vec<String> = batch.iter().map(|c| c.to_string()).collect();
            let histories = merge_inspections(api.inspect_contracts(synchronizer_id, &list).await?);
            for id in &list {
                let result = match histories.get(id).map(|h| h.on(synchronizer_id)) {
                    Some(SyncState::Archived) => InspectionResult::Archived,
                    Some(SyncState::Moved { to }) => InspectionResult::Moved {
                        to: to.into_iter().next().unwrap_or_default(),
                    },
                    // Active now but absent from the snapshot a moment ago, or never seen:
                    // either way nothing proves it was archived here.
                    Some(SyncState::Active | SyncState::Unknown) | None => InspectionResult::Unknown,
                };
                inspection.record(api.name(), id.as_str(), result);
            }
        }
    }
    Ok(inspection)
}

/// Everything the comparison and the plan are built from.
pub struct Survey {
    pub synchronizer_id: String,
    pub holdings: Vec<Holding>,
    pub comparison: Comparison,
    pub in_flight: BTreeMap<String, plan::InFlight>,
}

impl Survey {
    /// Per participant, the contracts it sees between the lost synchronizer and another.
    pub fn incomplete(&self) -> BTreeMap<String, Vec<IncompleteReassignment>> {
        self.holdings
            .iter()
            .filter(|h| !h.incomplete.is_empty())
            .map(|h| (h.snapshot.participant.clone(), h.incomplete.clone()))
            .collect()
    }
}

/// Of the contracts between synchronizers that `entries` lists, those the comparison has
/// no row for: no plan moves them (their reassignment must be finished in Canton). The
/// others are in a row too (active on the lost synchronizer at another participant), and
/// the row decides what happens to them.
pub fn in_no_row<'a>(
    comparison: &Comparison,
    entries: &'a [IncompleteReassignment],
) -> Vec<&'a IncompleteReassignment> {
    entries
        .iter()
        .filter(|e| comparison.row(&e.contract_id).is_none())
        .collect()
}

/// Surveys every participant concurrently and compares their views of `alias`.
pub async fn survey(
    apis: &[Arc<dyn ParticipantApi>],
    alias: &str,
    filter: &SearchFilter,
    keep_payloads: bool,
) -> Result<Survey, SurveyError> {
    survey_observed(apis, alias, filter, keep_payloads, None).await
}

/// [`survey`], reporting per participant how many contracts were read so far.
pub async fn survey_observed(
    apis: &[Arc<dyn ParticipantApi>],
    alias: &str,
    filter: &SearchFilter,
    keep_payloads: bool,
    observer: Option<Observer>,
) -> Result<Survey, SurveyError> {
    served(apis).await?;
    let id = synchronizer_id(apis, alias).await?;
    let pool = IdPool::new();
    let mut holdings: Vec<Holding> = futures::future::try_join_all(
        apis.iter()
            .map(|a| holding_pooled(a.as_ref(), &id, filter, keep_payloads, observer.as_ref(), Some(&pool))),
    )
    .await?;
    drop(pool);
    // Lent to the comparison and given back, not copied: a million summaries twice over
    // would be the survey's largest cost.
    let snapshots: Vec<ParticipantSnapshot> = holdings.iter_mut().map(|h| std::mem::take(&mut h.snapshot)).collect();
    let compared = async {
        let inspection = inspect(apis, &id, &snapshots).await?;
        Ok::<_, SurveyError>(reconcile::compare(alias, &snapshots, &inspection)?)
    }
    .await;
    for (h, s) in holdings.iter_mut().zip(snapshots) {
        h.snapshot = s;
    }
    let comparison = compared?;
    let mut in_flight = BTreeMap::new();
    for api in apis {
        let f = api.count_in_flight(&id).await?;
        in_flight.insert(
            api.name().to_string(),
            plan::InFlight {
                pending_submissions: f.pending_submissions,
                pending_transactions: f.pending_transactions,
            },
        );
    }
    Ok(Survey {
        synchronizer_id: id,
        holdings,
        comparison,
        in_flight,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{nested, numeric, party, record, text};

    fn iou() -> Contract {
        Contract::for_test(
            "00aa",
            ("pkg", "Iou", "Iou"),
            record(vec![
                ("payer", party("Alice::1220ab")),
                ("owner", party("Bob::1220cd")),
                (
                    "amount",
                    nested(record(vec![
                        ("value", numeric("100.0000000000")),
                        ("currency", text("USD")),
                    ])),
                ),
            ]),
            &["Alice::1220ab"],
            &["Carol::1220ef", "Bob::1220cd"],
            "lost::1220",
        )
    }

    /// Journals, comparison files and collaboration manifests pin these digests: the value
    /// of a known contract is written here once and must never change.
    #[test]
    fn a_contract_digest_is_pinned() {
        let c = iou();
        let ev = c.created().expect("created");
        let pinned = "79d2f1bb91c1180e367adb29e2dde9cd9223aff9e3feacdfd72f49a445714335";
        assert_eq!(hex::encode(contract_digest(&ev, &ev.template())), pinned);
        let from_json = payload_digest(&ev.template(), &ev.payload(), ev.signatories(), ev.observers());
        assert_eq!(hex::encode(from_json), pinned);
        // The text that is hashed, as the digest was first defined.
        let canonical = serde_json::json!({
            "template": "Iou:Iou",
            "payload": ev.payload(),
            "signatories": ["Alice::1220ab"],
            "observers": ["Bob::1220cd", "Carol::1220ef"],
        });
        assert_eq!(hex::encode(Sha256::digest(canonical.to_string().as_bytes())), pinned);
    }

    #[test]
    fn a_summary_carries_the_wire_digest() {
        let c = iou();
        let mut interner = Interner::new();
        let s = summary(&c, &mut interner, None).expect("summary");
        let ev = c.created().expect("created");
        let expected = payload_digest("Iou:Iou", &ev.payload(), ev.signatories(), ev.observers());
        assert_eq!(s.payload_digest, expected);
        assert_eq!(&*s.template_id, "Iou:Iou");
        assert_eq!(s.stakeholders.len(), 3);
    }
}
