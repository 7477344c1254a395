//! A node operator's deck in a session: it surveys its own participant and publishes the
//! manifest, answers what its participant knows of ids others hold, approves a plan only
//! after re-surveying its participant, shares a payload when its operator accepts, and
//! runs its participant's part of the plan — one phase at a time, each only once the
//! coordinator opened it — with the executor's own resume.

use super::client::{Hello, SessionClient, SessionError};
use super::event::Role;
use super::feed::Feed;
use super::manifest::{EntryState, InspectedEntry, Manifest};
use super::peer::PeerParticipant;
use super::relay::Relay;
use super::state::{RunState, SessionState};
use crate::client::{ClientError, ParticipantApi};
use crate::exec::{
    GateError, Participants, PhaseGate, PhaseOutcome, Progress, RunError, RunOptions, RunReport, Runner,
};
use crate::journal::JournalWriter;
use crate::plan::{self, DriftKind, InFlight, PhaseKind, Plan};
use crate::reconcile::InspectionResult;
use crate::survey;
use crate::survey::{Holding, SearchFilter};
use crate::wire::collab::{Ack, ReportPhaseRequest};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

#[derive(Debug, thiserror::Error)]
pub enum DeckError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("{0}")]
    Refused(String),
}

/// How a deck runs its part.
#[derive(Clone)]
pub struct DeckOptions {
    /// The deck's own journal: its participant's steps, for resume.
    pub journal: PathBuf,
    pub heartbeat: Duration,
    pub retry_delay: Duration,
    /// A journal this process already writes at `journal` (the screen's), shared with
    /// the executor instead of opened a second time.
    pub shared_journal: Option<Arc<Mutex<JournalWriter>>>,
}

/// A deck joined to a session for one participant.
pub struct Deck {
    pub client: SessionClient,
    pub hello: Hello,
    pub participant: String,
    pub api: Arc<dyn ParticipantApi>,
    /// The participant's admin endpoint, for the journal header.
    pub endpoint: String,
}

/// What the deck should do next, read off the session state.
enum Move {
    Inspect(Vec<String>, BTreeMap<String, Manifest>),
    Run(Arc<Plan>, BTreeMap<String, Manifest>, u64),
    Republish,
    Finished,
}

fn run_active(s: &SessionState) -> bool {
    matches!(s.run, RunState::Running | RunState::Paused { .. })
}

impl Deck {
    /// Says hello as `participant`'s operator: refused by the coordinator unless the
    /// caller acts for that participant.
    pub async fn join(
        client: SessionClient,
        participant: &str,
        api: Arc<dyn ParticipantApi>,
        endpoint: &str,
    ) -> Result<Deck, DeckError> {
        let hello = client.hello(Some(participant)).await?;
        if hello.role != Role::NodeOperator {
            return Err(DeckError::Refused(format!(
                "{} is a {} in this session; only a node operator's deck serves a participant",
                hello.operator, hello.role
            )));
        }
        Ok(Deck {
            client,
            hello,
            participant: participant.to_string(),
            api,
            endpoint: endpoint.to_string(),
        })
    }

    /// What the participant holds on the lost synchronizer (digests, no payloads: the
    /// screen reads a payload when its diff asks for it), and the lost synchronizer's id
    /// as it knows it.
    pub async fn holding(&self) -> Result<(Holding, String), DeckError> {
        let api = self.api.as_ref();
        let lost = api.synchronizer_id(&self.hello.lost).await?.logical;
        let holding = survey::holding(api, &lost, &SearchFilter::default(), false).await?;
        Ok((holding, lost))
    }

    /// Surveys the participant's holdings on the lost synchronizer.
    pub async fn survey(&self) -> Result<Manifest, DeckError> {
        let api = self.api.as_ref();
        let (holding, lost) = self.holding().await?;
        let f = api.count_in_flight(&lost).await?;
        let in_flight = InFlight {
            pending_submissions: f.pending_submissions,
            pending_transactions: f.pending_transactions,
        };
        let admin = api.admin_party().await?;
        Ok(Manifest::from_holding(&holding, &lost, &admin, in_flight))
    }

    /// Surveys and publishes the manifest unless the log already has the same one.
    pub async fn publish(&self, state: &SessionState) -> Result<Option<Ack>, DeckError> {
        let m = self.survey().await?;
        if state.manifests.get(&self.participant) == Some(&m) {
            return Ok(None);
        }
        Ok(Some(self.client.publish_manifest(&m).await?))
    }

    /// Asks the participant (InspectCommitmentContracts) about `ids`, which others hold
    /// and it lacks, and publishes the answers.
    pub async fn answer(&self, ids: &[String], manifests: &BTreeMap<String, Manifest>) -> Result<Ack, DeckError> {
        let mine = manifests
            .get(&self.participant)
            .ok_or_else(|| DeckError::Refused("publish the manifest first".into()))?;
        let mut interner = crate::reconcile::Interner::new();
        let snapshots = manifests
            .values()
            .map(|m| m.snapshot(&mut interner))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| DeckError::Refused(e.to_string()))?;
        let apis = [self.api.clone()];
        let inspection = survey::inspect(&apis, &mine.synchronizer_id, &snapshots)
            .await
            .map_err(|e| DeckError::Refused(e.to_string()))?;
        let entries: Vec<InspectedEntry> = ids
            .iter()
            .map(|id| InspectedEntry {
                contract_id: id.clone(),
                state: match inspection.get(&self.participant, id) {
                    Some(InspectionResult::Archived) => EntryState::Archived,
                    Some(InspectionResult::Moved { to }) => EntryState::Moved { to: to.clone() },
                    _ => EntryState::Unknown,
                },
            })
            .collect();
        Ok(self.client.publish_inspection(&self.participant, &entries).await?)
    }

    /// Re-surveys the participant and approves the session's plan only if its holdings
    /// and in-flight counts are still those the plan was made from. Returns the ack and
    /// the holdings digest approved.
    pub async fn approve(&self, state: &SessionState, comment: &str) -> Result<(Ack, String), DeckError> {
        let refuse = |m: String| DeckError::Refused(m);
        let proposal = state
            .proposal
            .as_ref()
            .ok_or_else(|| refuse("no plan has been proposed in this session".into()))?;
        let plan = proposal.plan.as_ref().ok_or_else(|| {
            refuse(format!(
                "the runbook of plan {} does not load here; do not approve it",
                proposal.plan_hash
            ))
        })?;
        if plan.hash() != proposal.plan_hash {
            return Err(refuse(format!(
                "the proposal claims plan {} but its runbook hashes to {}; do not approve it",
                proposal.plan_hash,
                plan.hash()
            )));
        }
        let me = &self.participant;
        if !plan.participants().contains(me) {
            return Err(refuse(format!("plan {} does not involve {me}", plan.hash())));
        }
        let api = self.api.as_ref();
        let lost = api.synchronizer_id(plan.lost()).await?.logical;
        let holding = survey::holding(api, &lost, &SearchFilter::default(), false).await?;
        let expected = plan
            .expected(me)
            .ok_or_else(|| refuse(format!("plan {} expects nothing of {me}", plan.hash())))?;
        let drift = expected.check(&holding.snapshot);
        if !drift.is_none() {
            return Err(refuse(format!(
                "refusing to approve plan {}: {me} drifted since the plan was made ({} appeared, {} disappeared, {} with another payload{}); ask the lead for a new plan",
                plan.hash(),
                drift.count(DriftKind::Appeared),
                drift.count(DriftKind::Disappeared),
                drift.count(DriftKind::PayloadChanged),
                if drift.unnamed_payload_change {
                    ", a payload changed"
                } else {
                    ""
                }
            )));
        }
        let now = api.count_in_flight(&lost).await?;
        let ack = plan.in_flight().get(me).copied().unwrap_or_default();
        if now.pending_submissions > ack.pending_submissions || now.pending_transactions > ack.pending_transactions {
            return Err(refuse(format!(
                "refusing to approve plan {}: {me} has more in flight on {} than the plan acknowledged",
                plan.hash(),
                plan.lost()
            )));
        }
        let digest = plan::snapshot_digest(&holding.snapshot.contracts);
        let ack = self.client.approve(me, plan.hash(), &digest, comment).await?;
        Ok((ack, digest))
    }

    /// Answers a payload request addressed to this participant: with the payload read
    /// from the participant, or with a refusal.
    pub async fn share(
        &self,
        state: &SessionState,
        request_seq: u64,
        accept: bool,
        reason: &str,
    ) -> Result<Ack, DeckError> {
        let request = state
            .payload_requests
            .iter()
            .find(|r| r.seq == request_seq)
            .ok_or_else(|| DeckError::Refused(format!("no payload request at seq {request_seq}")))?;
        if request.holder != self.participant {
            return Err(DeckError::Refused(format!(
                "the request at seq {request_seq} is addressed to {}, not {}",
                request.holder, self.participant
            )));
        }
        if !accept {
            return Ok(self.client.answer_payload(request_seq, None, reason).await?);
        }
        let api = self.api.as_ref();
        let lost = api.synchronizer_id(&self.hello.lost).await?.logical;
        let payload = survey::payload_held(api, &lost, request.contract_id.as_str())
            .await?
            .ok_or_else(|| {
                DeckError::Refused(format!(
                    "{} no longer holds {} on {}",
                    self.participant, request.contract_id, self.hello.lost
                ))
            })?;
        Ok(self.client.answer_payload(request_seq, Some(&payload), reason).await?)
    }

    /// Serves the participant's part of the session until a run that involves it ends:
    /// publishes the manifest, answers inspections, and on each go runs (or resumes) its
    /// part behind the coordinator's barriers. A failed part is reported (the session
    /// pauses) and run again on the lead's next go.
    pub async fn serve(
        &self,
        options: &DeckOptions,
        progress: Option<mpsc::UnboundedSender<Progress>>,
    ) -> Result<RunReport, DeckError> {
        let feed = self.feed(options.heartbeat);
        self.serve_on(&feed, options, progress).await
    }

    /// The feed a deck follows: the participant's stream, which is also its operator's
    /// presence (a participant is served by one such stream at a time).
    pub fn feed(&self, heartbeat: Duration) -> Feed {
        Feed::start(
            self.client.clone(),
            &self.hello,
            Some(self.participant.clone()),
            true,
            heartbeat,
        )
    }

    /// [`serve`](Deck::serve) on a feed the caller keeps (the screen follows the same
    /// stream, and keeps it after the deck's part is over).
    pub async fn serve_on(
        &self,
        feed: &Feed,
        options: &DeckOptions,
        progress: Option<mpsc::UnboundedSender<Progress>>,
    ) -> Result<RunReport, DeckError> {
        let me = self.participant.clone();
        let mut tried_go = 0u64;
        // This deck's finished part, by plan hash.
        let mut part: Option<(String, RunReport)> = None;
        let mut published_after: Option<u64> = None;
        loop {
            let next = feed
                .until(|s| {
                    let in_plan = s.plan_participants().contains(&me);
                    match &s.run {
                        RunState::Finished if in_plan => return Some(Move::Finished),
                        RunState::Running
                            if in_plan
                                && part.is_none()
                                && s.last_go_seq > tried_go
                                && s.approvals.contains_key(&me) =>
                        {
                            let plan = s.plan()?.clone();
                            return Some(Move::Run(plan, s.manifests.clone(), s.last_go_seq));
                        }
                        _ => {}
                    }
                    if run_active(s) {
                        return None;
                    }
                    // Idle (or after an abort): keep the manifest current, once per change of run.
                    let epoch = s.proposal.as_ref().map(|p| p.seq).unwrap_or(0).max(s.last_go_seq);
                    if published_after.is_none_or(|e| e < epoch && matches!(s.run, RunState::Aborted { .. })) {
                        return Some(Move::Republish);
                    }
                    let ids = s.pending_inspections().remove(&me)?;
                    Some(Move::Inspect(ids, s.manifests.clone()))
                })
                .await?;
            match next {
                Move::Finished => {
                    let hash = feed
                        .until(|s| Some(s.plan_hash().unwrap_or_default().to_string()))
                        .await?;
                    return Ok(match part {
                        Some((h, report)) if h == hash => report,
                        _ => {
                            tracing::warn!("{me}: the session's run had finished before this deck joined");
                            RunReport {
                                ok: true,
                                journal: options.journal.display().to_string(),
                                ..RunReport::default()
                            }
                        }
                    });
                }
                Move::Republish => {
                    let state = feed.until(|s| Some(s.clone())).await?;
                    let epoch = state
                        .proposal
                        .as_ref()
                        .map(|p| p.seq)
                        .unwrap_or(0)
                        .max(state.last_go_seq);
                    match self.publish(&state).await {
                        Ok(_) => {}
                        // Someone said go meanwhile: manifests are frozen, which is fine.
                        Err(DeckError::Session(e)) if e.code() == Some(tonic::Code::FailedPrecondition) => {}
                        Err(e) => return Err(e),
                    }
                    published_after = Some(epoch);
                }
                Move::Inspect(ids, manifests) => {
                    self.answer(&ids, &manifests).await?;
                }
                Move::Run(plan, manifests, go_seq) => {
                    tried_go = go_seq;
                    match self
                        .run_part(feed, plan.clone(), &manifests, options, progress.clone())
                        .await
                    {
                        Ok(report) => part = Some((plan.hash().to_string(), report)),
                        // The session moved on (new plan, abort): nothing to report.
                        Err(RunError::Gate { error, .. }) => {
                            tracing::warn!("{me}: the run stopped: {error}");
                        }
                        Err(e) => {
                            let phase = match &e {
                                RunError::Step { phase, .. } => Some(*phase),
                                _ => None,
                            };
                            self.client
                                .report(ReportPhaseRequest {
                                    participant: me.clone(),
                                    plan_hash: plan.hash().to_string(),
                                    phase: phase.map(|p| p.as_str().to_string()).unwrap_or_default(),
                                    ok: false,
                                    error: e.to_string(),
                                    ..ReportPhaseRequest::default()
                                })
                                .await?;
                        }
                    }
                }
            }
        }
    }

    /// Runs this participant's steps of `plan`, the others standing in as peers.
    async fn run_part(
        &self,
        feed: &Feed,
        plan: Arc<Plan>,
        manifests: &BTreeMap<String, Manifest>,
        options: &DeckOptions,
        progress: Option<mpsc::UnboundedSender<Progress>>,
    ) -> Result<RunReport, RunError> {
        let relay = Arc::new(Relay {
            client: self.client.clone(),
            feed: feed.receiver(),
            me: self.participant.clone(),
            plan: plan.clone(),
        });
        let mut participants: Participants = BTreeMap::new();
        participants.insert(self.participant.clone(), self.api.clone());
        for other in plan.participants().iter().filter(|p| **p != self.participant) {
            let manifest = manifests.get(other).cloned().unwrap_or_default();
            let peer = PeerParticipant::new(other, plan.lost(), manifest, relay.clone());
            participants.insert(other.clone(), Arc::new(peer));
        }
        let mut o = RunOptions::new(options.journal.clone(), &self.hello.operator);
        o.only = Some(self.participant.clone());
        o.retry_delay = options.retry_delay;
        o.endpoints = [(self.participant.clone(), self.endpoint.clone())].into();
        let gate = Arc::new(SessionGate {
            relay,
            api: self.api.clone(),
        });
        let mut runner = Runner::new((*plan).clone(), participants, o)?.with_gate(gate);
        if let Some(tx) = progress {
            runner = runner.with_progress(tx);
        }
        if let Some(journal) = &options.shared_journal {
            runner = runner.with_journal(journal.clone());
        }
        runner.run().await
    }
}

/// The executor's barrier in a session: a phase starts once the coordinator opened it,
/// and each phase done is reported before the next is awaited.
struct SessionGate {
    relay: Arc<Relay>,
    api: Arc<dyn ParticipantApi>,
}

#[async_trait::async_trait]
impl PhaseGate for SessionGate {
    async fn enter(&self, phase: PhaseKind) -> Result<(), GateError> {
        self.relay.wait_open(phase).await?;
        if phase == PhaseKind::Import {
            // What others import from this participant leaves it before its own imports,
            // so that two participants importing from each other cannot wait on each other.
            self.relay
                .upload_exports(self.api.as_ref())
                .await
                .map_err(GateError::failed)?;
        }
        Ok(())
    }

    async fn done(&self, phase: PhaseKind, outcome: PhaseOutcome) -> Result<(), GateError> {
        self.relay
            .report_done(
                phase,
                outcome.applied as u64,
                outcome.skipped as u64,
                outcome.already_done,
            )
            .await
    }
}
