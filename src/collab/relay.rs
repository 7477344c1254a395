//! Contracts that travel between organisations for a union plan's imports: the holder's
//! deck exports them from its own participant (ExportAcs, filtered to the plan's ids),
//! encodes them in Canton's ACS snapshot format and uploads them; the receiver's deck
//! downloads them, checks the blob digest the log recorded and every contract's payload
//! digest against the holder's manifest, and imports them (ImportAcs in VALIDATION mode
//! authenticates the ids on the participant).

use super::client::SessionClient;
use super::feed::{FeedState, until};
use super::manifest::Manifest;
use super::state::RunState;
use crate::client::{Contract, ParticipantApi, SnapshotReader, SnapshotWriter, logical_id};
use crate::exec::GateError;
use crate::plan::{Action, PhaseKind, Plan};
use crate::survey::SearchHit;
use crate::survey::payload_digest;
use crate::wire::collab::ReportPhaseRequest;
use futures::StreamExt;
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tokio::sync::watch;

/// One deck's link to the session while it runs its part of a plan.
pub(super) struct Relay {
    pub client: SessionClient,
    pub feed: watch::Receiver<FeedState>,
    /// This deck's participant.
    pub me: String,
    pub plan: Arc<Plan>,
}

impl Relay {
    fn hash(&self) -> &str {
        self.plan.hash()
    }

    /// Why the run this deck serves cannot go on, if it cannot.
    fn stopped(&self, f: &FeedState) -> Option<String> {
        let s = &f.session;
        if s.plan_hash() != Some(self.hash()) {
            return Some(format!("the session's plan is now {}", s.plan_hash().unwrap_or("none")));
        }
        match &s.run {
            RunState::Aborted { reason } => Some(format!("the run was aborted ({reason})")),
            _ => None,
        }
    }

    /// Waits for the coordinator to open `phase` while the run is going.
    pub async fn wait_open(&self, phase: PhaseKind) -> Result<(), GateError> {
        let position = |p: PhaseKind| PhaseKind::ALL.iter().position(|k| *k == p);
        let mut rx = self.feed.clone();
        until(&mut rx, |f| {
            if !f.synced {
                return None;
            }
            if let Some(why) = self.stopped(f) {
                return Some(Err(GateError::MovedOn(why)));
            }
            let s = &f.session;
            let open = s.open_phase.and_then(position) >= position(phase);
            (s.run == RunState::Running && open).then_some(Ok(()))
        })
        .await
        .map_err(GateError::failed)?
    }

    pub async fn report_done(
        &self,
        phase: PhaseKind,
        applied: u64,
        skipped: u64,
        already_done: bool,
    ) -> Result<(), GateError> {
        self.client
            .report(ReportPhaseRequest {
                participant: self.me.clone(),
                plan_hash: self.hash().to_string(),
                phase: phase.as_str().to_string(),
                ok: true,
                applied,
                skipped,
                already_done,
                ..ReportPhaseRequest::default()
            })
            .await
            .map(|_| ())
            .map_err(GateError::failed)
    }

    /// Per receiver, the ids it imports from this deck's participant.
    fn exports(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for step in self.plan.phase(PhaseKind::Import).into_iter().flat_map(|p| &p.steps) {
            if let Action::ImportAcs {
                source_participant,
                contract_ids,
                ..
            } = &step.action
                && source_participant == &self.me
            {
                out.entry(step.participant.clone())
                    .or_default()
                    .extend(contract_ids.iter().map(|c| c.to_string()));
            }
        }
        out
    }

    /// Exports and uploads what other participants import from this one (skipping what
    /// the log says was uploaded already).
    pub async fn upload_exports(&self, api: &dyn ParticipantApi) -> Result<(), String> {
        for (receiver, ids) in self.exports() {
            let done = self
                .feed
                .borrow()
                .session
                .upload(self.hash(), &self.me, &receiver)
                .is_some();
            if done {
                continue;
            }
            let chunks = export(api, self.plan.lost(), &ids).await?;
            self.client
                .upload(self.hash(), &self.me, &receiver, ids.len() as u64, chunks)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// The contracts `source` uploaded for this deck, once it has, verified.
    pub async fn snapshot_from(&self, source: &str, manifest: &Manifest) -> Result<Vec<Contract>, String> {
        let mut rx = self.feed.clone();
        let upload = until(&mut rx, |f| {
            if let Some(why) = self.stopped(f) {
                return Some(Err(why));
            }
            f.session.upload(self.hash(), source, &self.me).cloned().map(Ok)
        })
        .await
        .map_err(|e| e.to_string())??;
        let bytes = self
            .client
            .fetch(self.hash(), source, &self.me)
            .await
            .map_err(|e| e.to_string())?;
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        if digest != upload.blob {
            return Err(format!(
                "the snapshot from {source} hashes to {digest}, but the log recorded {}: it was altered in transit or at rest",
                upload.blob
            ));
        }
        let contracts = decode(&bytes)?;
        for c in &contracts {
            check_against(c, manifest, source)?;
        }
        Ok(contracts)
    }
}

/// Exports `ids` from the participant's lost synchronizer as ACS snapshot chunks.
pub(super) async fn export(
    api: &dyn ParticipantApi,
    lost_alias: &str,
    ids: &[String],
) -> Result<Vec<bytes::Bytes>, String> {
    let fail = |e: crate::client::ClientError| e.to_string();
    let lost_id = api.synchronizer_id(lost_alias).await.map_err(fail)?.logical;
    let mut stream = crate::client::export_at_ledger_end(api, Some(&lost_id))
        .await
        .map_err(fail)?;
    let wanted: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let mut encoder = SnapshotWriter::new();
    let mut chunks = Vec::new();
    let mut found = BTreeSet::new();
    while let Some(c) = stream.next().await {
        let c = c.map_err(fail)?;
        if logical_id(c.synchronizer_id()) != lost_id {
            continue;
        }
        let Some(id) = c.contract_id().filter(|id| wanted.contains(id)).map(str::to_string) else {
            continue;
        };
        encoder.push(&c).map_err(|e| e.to_string())?;
        while let Some(chunk) = encoder.take_chunk() {
            chunks.push(chunk);
        }
        found.insert(id);
    }
    if found.len() != wanted.len() {
        return Err(format!(
            "{} holds only {} of the {} contracts the plan has it give to others",
            api.name(),
            found.len(),
            wanted.len()
        ));
    }
    chunks.extend(encoder.finish().map_err(|e| e.to_string())?);
    Ok(chunks)
}

pub(super) fn decode(bytes: &[u8]) -> Result<Vec<Contract>, String> {
    let mut decoder = SnapshotReader::new();
    let contracts = decoder.feed(bytes).map_err(|e| format!("not an ACS snapshot: {e}"))?;
    decoder.finish().map_err(|e| format!("not an ACS snapshot: {e}"))?;
    Ok(contracts)
}

/// The contract is the one the holder's manifest announced: same id, same payload digest.
fn check_against(c: &Contract, manifest: &Manifest, source: &str) -> Result<(), String> {
    let hit = SearchHit::from_contract(c, c.synchronizer_id())
        .ok_or_else(|| format!("the snapshot from {source} holds a contract without its created event"))?;
    let entry = manifest
        .entry(&hit.contract_id)
        .ok_or_else(|| format!("{} is not in {source}'s manifest", hit.contract_id))?;
    let digest = hex::encode(payload_digest(
        &hit.template_id,
        &hit.payload,
        &hit.signatories,
        &hit.observers,
    ));
    if digest != entry.payload_digest {
        return Err(format!(
            "{}: the payload relayed from {source} does not match the digest in its manifest",
            hit.contract_id
        ));
    }
    Ok(())
}
