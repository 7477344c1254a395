//! The `large` scenario: N Ious over party pairs on K participants, a fraction of them
//! diverged the way `diverged` is.
//!
//! Participant i (1-based) hosts two parties: the first three are Alice/Dave, Bob/Erin and
//! Carol/Frank, the others `P<i>a`/`P<i>b`. The pairs form a ring (each participant pays
//! the next one) plus one more pair from participant1 to participant2, so that at K = 3
//! participant1 and participant2 hold 3/4 of the contracts each and participant3 1/2; at
//! K = 2 both hold every contract.
//!
//! Divergence: `round(F × N)` rows, split as evenly as possible into *archived on one
//! side*, *missing on one side* and *payloads that differ* (the remainder going to the
//! first classes), and each class over the pairs as evenly as possible. The payer's
//! participant submits, as the last transactions before lostDomain dies, the archival of
//! contracts both sides hold and the creation of the missing and the soon-to-differ
//! ones; lostDomain delivers those verdicts to the submitter only and then halts, so the
//! owner's participant confirmed them but never learned the outcome (as `diverged`). After
//! the loss the owner's operator adds a hand-edited copy of each soon-to-differ Iou
//! (currency `EUR`) with an ACCEPT import. The rows stay N in all: the bulk creates the
//! N minus the rows that diverge by being created.

use super::{LOST, client, connect_all, step, submit, wait_unhealthy};
use crate::client::{Contract, GrpcParticipant, ImportMode, ParticipantApi};
use crate::lab::ids;
use crate::lab::supervisor::{Lab, LabError};
use crate::lab::templates;
use crate::value;
use crate::wire::lab::{
    ArmPartialDeliveryRequest, ContractBlob, synchronizer_control_client::SynchronizerControlClient,
};
use futures::{StreamExt, TryStreamExt};
use prost::Message;
use std::collections::BTreeMap;

/// Archivals or creates per transaction of the diverging phase (a small share of the rows).
const BULK: usize = 250;
/// Bulk creates each pair keeps in flight. One at a time, a pair's transactions form a
/// chain of synchronous steps (submission, sequencing, two confirmations, the verdict,
/// each committed to disk) and the nodes wait on each other's fsyncs; with a few in flight
/// each node always has work queued.
const IN_FLIGHT: usize = 3;
/// The most participants a `large` lab may have (each is a process of its own).
pub const MAX_PARTICIPANTS: usize = 16;
pub const DEFAULT_PARTICIPANTS: usize = 3;

/// The shape asked of a `large` lab.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub contracts: usize,
    pub participants: usize,
    /// Fraction of the rows diverged, 0 ≤ F ≤ 1.
    pub divergence: f64,
}

impl Shape {
    /// One clear line for a shape that cannot be staged.
    pub fn validate(&self) -> Result<(), String> {
        if self.contracts == 0 {
            return Err("--contracts must be at least 1".into());
        }
        if !(2..=MAX_PARTICIPANTS).contains(&self.participants) {
            return Err(format!(
                "--participants must be between 2 and {MAX_PARTICIPANTS}, got {}",
                self.participants
            ));
        }
        if !(0.0..=1.0).contains(&self.divergence) {
            return Err(format!("--divergence must be between 0 and 1, got {}", self.divergence));
        }
        Ok(())
    }

    /// How many rows of each class diverge.
    pub fn diverged(&self) -> Diverged {
        let d = ((self.divergence * self.contracts as f64).round() as usize).min(self.contracts);
        let [archived, missing, mismatched] = split::<3>(d);
        Diverged {
            archived,
            missing,
            mismatched,
        }
    }
}

/// Rows per diverged class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Diverged {
    /// Archived at the payer's participant, active at the owner's.
    pub archived: usize,
    /// Active at the payer's participant, unknown at the owner's.
    pub missing: usize,
    /// Active at both, with different payloads.
    pub mismatched: usize,
}

/// `n` split into `K` parts as evenly as possible, the first parts taking the remainder.
fn split<const K: usize>(n: usize) -> [usize; K] {
    std::array::from_fn(|i| n / K + usize::from(i < n % K))
}

fn split_n(n: usize, parts: usize) -> Vec<usize> {
    (0..parts).map(|i| n / parts + usize::from(i < n % parts)).collect()
}

/// The parties participant `i` (0-based) hosts.
fn parties_of(i: usize) -> [String; 2] {
    const FIRST: [&str; 3] = ["Alice", "Bob", "Carol"];
    const SECOND: [&str; 3] = ["Dave", "Erin", "Frank"];
    match (FIRST.get(i), SECOND.get(i)) {
        (Some(a), Some(b)) => [a.to_string(), b.to_string()],
        _ => [format!("P{}a", i + 1), format!("P{}b", i + 1)],
    }
}

pub fn participant_name(i: usize) -> String {
    format!("participant{}", i + 1)
}

/// Participant names with their party hints.
pub fn participants(k: usize) -> Vec<(String, Vec<String>)> {
    (0..k).map(|i| (participant_name(i), parties_of(i).to_vec())).collect()
}

/// One pair: the payer on one participant, the owner on another (indices 0-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub payer_at: usize,
    pub payer: String,
    pub owner_at: usize,
    pub owner: String,
}

/// The ring, then participant1's second party paying participant2's second.
pub fn pairs(k: usize) -> Vec<Pair> {
    let mut out: Vec<Pair> = (0..k)
        .map(|i| {
            let next = (i + 1) % k;
            Pair {
                payer_at: i,
                payer: parties_of(i)[usize::from(i != 0)].clone(),
                owner_at: next,
                owner: parties_of(next)[usize::from(next == 0)].clone(),
            }
        })
        .collect();
    out.push(Pair {
        payer_at: 0,
        payer: parties_of(0)[1].clone(),
        owner_at: 1,
        owner: parties_of(1)[1].clone(),
    });
    out
}

/// What one pair stages.
#[derive(Debug, Clone, Copy, Default)]
struct Work {
    bulk: usize,
    archived: usize,
    missing: usize,
    mismatched: usize,
}

impl Work {
    fn diverging_transactions(&self) -> usize {
        self.archived.div_ceil(BULK) + (self.missing + self.mismatched).div_ceil(BULK)
    }
}

fn plan(shape: &Shape, pairs: usize) -> Vec<Work> {
    let d = shape.diverged();
    let bulk = split_n(shape.contracts - d.missing - d.mismatched, pairs);
    let archived = split_n(d.archived, pairs);
    let missing = split_n(d.missing, pairs);
    let mismatched = split_n(d.mismatched, pairs);
    (0..pairs)
        .map(|i| Work {
            bulk: bulk[i],
            archived: archived[i],
            missing: missing[i],
            mismatched: mismatched[i],
        })
        .collect()
}

/// The amount of pair `pair`'s `n`-th bulk Iou.
fn bulk_amount(n: usize, pair: usize) -> String {
    format!("{}.{:02}", 1 + n % 1000, pair % 100)
}

/// How many of a pair's Ious one bulk transaction creates: as many as fit in
/// [`crate::batch::REQUEST_BYTES`] of created contracts, the project's one rule for how much
/// contract data a request carries. The largest message a transaction becomes is the
/// confirmation request the synchronizer sends each participant, which holds every created
/// contract with its id; the rule keeps it far under the gRPC limits (tonic's 4 MiB
/// default on the sequencer's stream, Canton's 10 MiB) whatever the party ids' lengths.
fn creates_per_transaction(payer: &str, owner: &str) -> usize {
    let Some(widest) = bulk_contract(payer, owner, 999, 99) else {
        return BULK;
    };
    // A repeated message field adds its tag and length to each contract.
    let bytes = widest.encoded_len() + 1 + prost::length_delimiter_len(widest.encoded_len());
    (crate::batch::REQUEST_BYTES / bytes).max(1)
}

/// Pair `pair`'s `n`-th bulk Iou as the payer's participant creates it, with an id.
fn bulk_contract(payer: &str, owner: &str, n: usize, pair: usize) -> Option<ContractBlob> {
    let command = templates::create_iou_command(payer, owner, &bulk_amount(n, pair), "USD").to_wire();
    let act_as = std::collections::BTreeSet::from([payer.to_string()]);
    let created = templates::interpret(&[command], &act_as, |_| None)
        .ok()?
        .created
        .into_iter()
        .next()?;
    let mut blob = created.into_blob(i64::MAX);
    blob.contract_id = ids::contract_id(&[b"size"], &blob);
    Some(blob)
}

/// The currency of the Ious whose copy the owner's operator edits after the loss.
const EDITED: &str = "EUR";

pub(super) async fn stage(
    lab: &mut Lab,
    shape: &Shape,
    keep_lost: bool,
    staged: Option<tokio::sync::mpsc::UnboundedSender<usize>>,
) -> Result<(), LabError> {
    let clients: Vec<GrpcParticipant> = (0..shape.participants)
        .map(|i| client(lab, &participant_name(i)))
        .collect::<Result<_, _>>()?;
    let refs: Vec<&GrpcParticipant> = clients.iter().collect();
    connect_all(lab, &refs).await?;
    let pairs = pairs(shape.participants);
    let work = plan(shape, pairs.len());
    let party = |at: usize, hint: &str| ids::party_id(hint, &participant_name(at));
    // Each pair creates its share in bulk transactions; the pairs run in parallel so that
    // every participant submits concurrently.
    let jobs = pairs.iter().zip(&work).enumerate().map(|(i, (pair, w))| {
        let api = &clients[pair.payer_at];
        let (payer, owner) = (party(pair.payer_at, &pair.payer), party(pair.owner_at, &pair.owner));
        let staged = staged.clone();
        async move {
            let (payer, owner) = (&payer, &owner);
            let per_transaction = creates_per_transaction(payer, owner);
            let transactions = (0..w.bulk)
                .step_by(per_transaction)
                .map(|start| start..w.bulk.min(start + per_transaction));
            futures::stream::iter(transactions)
                .map(|rows| async move {
                    let k = rows.len();
                    let commands = rows
                        .map(|n| templates::create_iou_command(payer, owner, &bulk_amount(n, i), "USD"))
                        .collect();
                    submit(api, payer, commands).await.map(|()| k)
                })
                .buffered(IN_FLIGHT)
                .try_for_each(|k| {
                    if let Some(s) = &staged {
                        let _ = s.send(k);
                    }
                    futures::future::ready(Ok(()))
                })
                .await
        }
    });
    futures::future::try_join_all(jobs).await?;
    let diverging: usize = work.iter().map(Work::diverging_transactions).sum();
    if diverging > 0 {
        if keep_lost {
            return Err(LabError::Refused(
                "--divergence needs lostDomain lost: it cannot go with --keep-lost".into(),
            ));
        }
        diverge(lab, &clients, &pairs, &work, diverging, staged.as_ref()).await?;
    } else if keep_lost {
        return Ok(());
    }
    lab.lose(LOST)?;
    for p in &clients {
        wait_unhealthy(p, LOST).await?;
    }
    if work.iter().any(|w| w.mismatched > 0) {
        hand_edited_copies(&clients, &pairs, &work).await?;
    }
    Ok(())
}

/// The last transactions before lostDomain dies: each pair's payer archives some Ious
/// both sides hold and creates the missing and the soon-to-differ ones; lostDomain
/// delivers each verdict to the submitter only, then halts.
async fn diverge(
    lab: &Lab,
    clients: &[GrpcParticipant],
    pairs: &[Pair],
    work: &[Work],
    transactions: usize,
    staged: Option<&tokio::sync::mpsc::UnboundedSender<usize>>,
) -> Result<(), LabError> {
    let lost_id = ids::synchronizer_id(LOST);
    let party = |at: usize, hint: &str| ids::party_id(hint, &participant_name(at));
    let mut to_archive = Vec::new();
    for (pair, w) in pairs.iter().zip(work) {
        let (payer, owner) = (party(pair.payer_at, &pair.payer), party(pair.owner_at, &pair.owner));
        to_archive.push(ious_of(&clients[pair.payer_at], &lost_id, &payer, &owner, w.archived).await?);
    }
    let mut control = SynchronizerControlClient::connect(lab.endpoint(LOST)?)
        .await
        .map_err(|e| LabError::Scenario(format!("reaching lostDomain's control service: {e}")))?;
    control
        .arm_partial_delivery(ArmPartialDeliveryRequest {
            deliver_to: Vec::new(),
            verdicts: u32::try_from(transactions)
                .map_err(|_| LabError::Refused(format!("{transactions} diverging transactions are too many")))?,
            to_submitter: true,
        })
        .await
        .map_err(|e| LabError::Scenario(format!("arming lostDomain: {}", e.message())))?;
    let jobs = pairs
        .iter()
        .zip(work)
        .zip(to_archive)
        .map(|((pair, w), archive)| async move {
            let api = &clients[pair.payer_at];
            let (payer, owner) = (party(pair.payer_at, &pair.payer), party(pair.owner_at, &pair.owner));
            for chunk in archive.chunks(BULK) {
                let commands = chunk
                    .iter()
                    .map(|id| templates::exercise_iou_command(id, "Archive", crate::client::DamlValue::Unit))
                    .collect();
                submit(api, &payer, commands).await?;
            }
            let currencies = std::iter::repeat_n("USD", w.missing).chain(std::iter::repeat_n(EDITED, w.mismatched));
            let creates: Vec<_> = currencies
                .enumerate()
                .map(|(j, currency)| templates::create_iou_command(&payer, &owner, &format!("{}.50", j + 1), currency))
                .collect();
            for chunk in creates.chunks(BULK) {
                submit(api, &payer, chunk.to_vec()).await?;
                if let Some(s) = staged {
                    let _ = s.send(chunk.len());
                }
            }
            Ok::<(), LabError>(())
        });
    futures::future::try_join_all(jobs).await?;
    Ok(())
}

/// The payer and owner of an Iou, with its currency.
fn iou_parties(c: &crate::wire::ledger::ActiveContract) -> Option<(&str, &str, &str)> {
    let args = c.created_event.as_ref()?.create_arguments.as_ref()?;
    let payer = value::field(args, "payer").and_then(value::as_party)?;
    let owner = value::field(args, "owner").and_then(value::as_party)?;
    let currency = value::field(args, "amount")
        .and_then(value::as_record)
        .and_then(|a| value::field(a, "currency"))
        .and_then(value::as_text)?;
    Some((payer, owner, currency))
}

/// `n` Ious from `payer` to `owner` on `synchronizer_id`, as the payer's participant holds them.
async fn ious_of(
    p: &GrpcParticipant,
    synchronizer_id: &str,
    payer: &str,
    owner: &str,
    n: usize,
) -> Result<Vec<String>, LabError> {
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return Ok(out);
    }
    let end = p.ledger_end().await.map_err(step("ledger end"))?;
    let mut stream = p.active_contracts(end, false).await.map_err(step("reading the ACS"))?;
    while let Some(c) = stream.next().await {
        let Some(c) = c.map_err(step("reading the ACS"))?.into_active() else {
            continue;
        };
        let c = c.into_wire();
        if c.synchronizer_id == synchronizer_id
            && iou_parties(&c).is_some_and(|(a, b, _)| a == payer && b == owner)
            && let Some(ev) = c.created_event
        {
            out.push(ev.contract_id);
            if out.len() == n {
                return Ok(out);
            }
        }
    }
    Err(LabError::Scenario(format!(
        "{} holds {} Ious from {payer} to {owner}, {n} wanted",
        p.name(),
        out.len()
    )))
}

/// The owner's operator, repairing by hand after the loss, adds a copy of each `EUR` Iou
/// it lacks with an edited amount, through ACCEPT imports (which check no contract id),
/// as in `diverged`; the owner's participant is left disconnected from lostDomain.
async fn hand_edited_copies(clients: &[GrpcParticipant], pairs: &[Pair], work: &[Work]) -> Result<(), LabError> {
    let payers: std::collections::BTreeSet<usize> = pairs
        .iter()
        .zip(work)
        .filter(|(_, w)| w.mismatched > 0)
        .map(|(p, _)| p.payer_at)
        .collect();
    // Each payer's participant is read once, all at the same time: every read scans that
    // participant's whole ACS, and the participants are processes of their own.
    let reads = payers
        .into_iter()
        .map(|at| edited_copies_from(&clients[at], at, pairs, work));
    let mut copies: BTreeMap<usize, Vec<Contract>> = BTreeMap::new();
    for found in futures::future::try_join_all(reads).await? {
        for (owner_at, contract) in found {
            copies.entry(owner_at).or_default().push(contract);
        }
    }
    for (at, contracts) in copies {
        let p = &clients[at];
        p.disconnect(LOST)
            .await
            .map_err(step("disconnecting lostDomain for a hand-made import"))?;
        let stream = futures::stream::iter(contracts.into_iter().map(Ok)).boxed();
        p.import_acs(&lost_id(), ImportMode::Accept, stream)
            .await
            .map_err(step("the hand-made import"))?;
    }
    Ok(())
}

fn lost_id() -> String {
    ids::synchronizer_id(LOST)
}

/// The edited copies of the `EUR` Ious participant `at` created as a payer, each with the
/// owner participant that imports it. Read from the Ledger API's ACS with the created
/// event blobs, the same contracts an export at the ledger end holds, without the
/// export's compression of the whole ACS.
async fn edited_copies_from(
    p: &GrpcParticipant,
    at: usize,
    pairs: &[Pair],
    work: &[Work],
) -> Result<Vec<(usize, Contract)>, LabError> {
    let lost_id = lost_id();
    let party = |at: usize, hint: &str| ids::party_id(hint, &participant_name(at));
    let mut out = Vec::new();
    let end = p.ledger_end().await.map_err(step("ledger end"))?;
    let mut stream = p
        .active_contracts(end, true)
        .await
        .map_err(step("reading the ACS for the hand-edited copies"))?;
    while let Some(c) = stream.next().await {
        let Some(c) = c
            .map_err(step("reading the ACS for the hand-edited copies"))?
            .into_active()
        else {
            continue;
        };
        let wire = c.into_wire();
        if wire.synchronizer_id != lost_id {
            continue;
        }
        let Some((payer, owner, currency)) = iou_parties(&wire) else {
            continue;
        };
        if currency != EDITED {
            continue;
        }
        let Some(pair) = pairs.iter().zip(work).find(|(pr, w)| {
            w.mismatched > 0
                && pr.payer_at == at
                && party(pr.payer_at, &pr.payer) == payer
                && party(pr.owner_at, &pr.owner) == owner
        }) else {
            continue;
        };
        out.push((pair.0.owner_at, edited(wire)?));
    }
    Ok(out)
}

/// The contract with its amount changed, blob and arguments alike, under the same id.
fn edited(mut c: crate::wire::ledger::ActiveContract) -> Result<Contract, LabError> {
    let event = c
        .created_event
        .as_mut()
        .ok_or_else(|| LabError::Scenario("an exported Iou has no created event".into()))?;
    let mut blob = ContractBlob::decode(event.created_event_blob.as_slice())
        .map_err(|e| LabError::Scenario(format!("an exported Iou's blob: {e}")))?;
    let args = templates::iou_arguments(&blob, "999999.99")
        .ok_or_else(|| LabError::Scenario("an exported Iou has no amount".into()))?;
    blob.create_arguments = Some(args.clone());
    event.create_arguments = Some(args);
    event.created_event_blob = blob.encode_to_vec();
    Ok(Contract::from_wire(c))
}

#[cfg(test)]
mod tests;
