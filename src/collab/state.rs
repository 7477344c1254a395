//! The session's state, folded from its event log: the same fold on the coordinator (to
//! check commands) and on every deck (to know when to act). A plain struct, so that a
//! screen can render who is present, who approved which plan hash, whose turn it is and
//! what each participant is doing.

use super::event::{Proposal, Role, SessionEvent};
use super::manifest::{self, Answers, Manifest};
use crate::plan::{self, PhaseKind, Plan};
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorView {
    pub name: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    /// Whether the operator is in the session now (as the log last said).
    pub present: bool,
    /// Whether the coordinator's access config (still) lists the operator.
    pub known: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProposalView {
    pub seq: u64,
    pub plan_hash: String,
    pub proposed_by: String,
    pub strategy: String,
    pub participants: Vec<String>,
    #[serde(skip)]
    pub proposal: Proposal,
    /// The runbook, loaded and hash-checked; `None` if it did not load here.
    #[serde(skip)]
    pub plan: Option<Arc<Plan>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalView {
    pub seq: u64,
    pub operator: String,
    pub plan_hash: String,
    pub holdings_digest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoidedView {
    pub seq: u64,
    pub plan_hash: String,
    pub approvals: Vec<String>,
}

/// Where the run of the current proposal stands.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RunState {
    /// Not started (or no proposal).
    #[default]
    Idle,
    Running,
    /// Stopped at the next barrier; only the lead's go continues it.
    Paused {
        reason: String,
    },
    Aborted {
        reason: String,
    },
    Finished,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ParticipantProgress {
    #[serde(serialize_with = "phase_set")]
    pub done: BTreeSet<PhaseKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    pub applied: u64,
    pub skipped: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadView {
    pub seq: u64,
    pub plan_hash: String,
    pub source: String,
    pub receiver: String,
    pub contracts: u64,
    pub bytes: u64,
    pub blob: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PayloadAnswerView {
    pub seq: u64,
    pub accepted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PayloadRequestView {
    pub seq: u64,
    pub contract_id: String,
    pub holder: String,
    pub by: String,
    pub reason: String,
    pub answer: Option<PayloadAnswerView>,
}

/// Whose move it is, for the screen's status line and `session status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Turn {
    /// Operators expected to act next.
    pub who: Vec<String>,
    pub what: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SessionState {
    pub incident: String,
    pub lost: String,
    pub target: String,
    /// Every participant of the session (those with a node operator), sorted.
    pub participants: Vec<String>,
    pub operators: BTreeMap<String, OperatorView>,
    /// Latest manifest per participant.
    #[serde(serialize_with = "manifest_summaries")]
    pub manifests: BTreeMap<String, Manifest>,
    #[serde(serialize_with = "answer_counts")]
    pub answers: Answers,
    pub proposal: Option<ProposalView>,
    /// Approvals of the current proposal, per participant.
    pub approvals: BTreeMap<String, ApprovalView>,
    pub voided: Vec<VoidedView>,
    pub run: RunState,
    #[serde(serialize_with = "phase_opt")]
    pub open_phase: Option<PhaseKind>,
    /// Per participant of the current plan.
    pub progress: BTreeMap<String, ParticipantProgress>,
    pub uploads: Vec<UploadView>,
    pub payload_requests: Vec<PayloadRequestView>,
    /// seq of the last go: a deck starts (or restarts) its part once per go.
    pub last_go_seq: u64,
    pub restarts: u64,
    pub head_seq: u64,
    pub head_hash: String,
}

fn phase_set<S: Serializer>(set: &BTreeSet<PhaseKind>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(set.iter().map(|p| p.as_str()))
}

fn phase_opt<S: Serializer>(p: &Option<PhaseKind>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_some(p.as_str()),
        None => s.serialize_none(),
    }
}

fn manifest_summaries<S: Serializer>(m: &BTreeMap<String, Manifest>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(m.iter().map(|(p, m)| {
        (
            p,
            serde_json::json!({
                "contracts": m.contracts.len(),
                "holdings_digest": m.holdings_digest,
                "hosted_parties": m.hosted_parties,
                "in_flight": m.pending_submissions + m.pending_transactions,
            }),
        )
    }))
}

fn answer_counts<S: Serializer>(a: &Answers, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(a.iter().map(|(p, m)| (p, m.len())))
}

impl SessionState {
    /// Folds one event in. Events of other plans than the current proposal's change
    /// nothing but the head.
    pub fn apply(&mut self, seq: u64, hash: &str, event: &SessionEvent) {
        self.head_seq = seq;
        self.head_hash = hash.to_string();
        let current = self.proposal.as_ref().map(|p| p.plan_hash.clone());
        let ours = |h: &str| current.as_deref() == Some(h);
        match event {
            SessionEvent::Opened(roster) | SessionEvent::Restarted(roster) => {
                if matches!(event, SessionEvent::Restarted(_)) {
                    self.restarts += 1;
                }
                self.incident = roster.incident.clone();
                self.lost = roster.lost.clone();
                self.target = roster.target.clone();
                self.participants = roster.participants();
                for o in self.operators.values_mut() {
                    o.known = false;
                }
                for o in &roster.operators {
                    let present = self.operators.get(&o.name).is_some_and(|v| v.present);
                    self.operators.insert(
                        o.name.clone(),
                        OperatorView {
                            name: o.name.clone(),
                            role: o.role,
                            participant: o.participant.clone(),
                            present,
                            known: true,
                        },
                    );
                }
            }
            SessionEvent::Joined {
                operator,
                role,
                participant,
            } => {
                let view = self.operators.entry(operator.clone()).or_insert_with(|| OperatorView {
                    name: operator.clone(),
                    role: *role,
                    participant: participant.clone(),
                    present: false,
                    known: false,
                });
                view.present = true;
            }
            SessionEvent::Left { operator, .. } => {
                if let Some(v) = self.operators.get_mut(operator) {
                    v.present = false;
                }
            }
            SessionEvent::Manifest(m) => {
                self.manifests.insert(m.participant.clone(), m.clone());
            }
            SessionEvent::Inspected { participant, contracts } => {
                let answers = self.answers.entry(participant.clone()).or_default();
                for c in contracts {
                    answers.insert(c.contract_id.clone(), c.state.clone());
                }
            }
            SessionEvent::Proposed(p) => {
                let plan = plan::load_runbook(&p.runbook, p.sidecar.as_deref())
                    .ok()
                    .map(|l| Arc::new(l.plan));
                self.proposal = Some(ProposalView {
                    seq,
                    plan_hash: p.plan_hash.clone(),
                    proposed_by: p.proposed_by.clone(),
                    strategy: p.strategy.clone(),
                    participants: p.participants.clone(),
                    proposal: p.clone(),
                    plan,
                });
                self.approvals.clear();
                self.run = RunState::Idle;
                self.open_phase = None;
                self.progress = p
                    .participants
                    .iter()
                    .map(|n| (n.clone(), ParticipantProgress::default()))
                    .collect();
            }
            SessionEvent::Voided {
                plan_hash, approvals, ..
            } => {
                self.approvals.clear();
                self.voided.push(VoidedView {
                    seq,
                    plan_hash: plan_hash.clone(),
                    approvals: approvals.clone(),
                });
            }
            SessionEvent::Approved {
                plan_hash,
                participant,
                operator,
                holdings_digest,
                ..
            } if ours(plan_hash) => {
                self.approvals.insert(
                    participant.clone(),
                    ApprovalView {
                        seq,
                        operator: operator.clone(),
                        plan_hash: plan_hash.clone(),
                        holdings_digest: holdings_digest.clone(),
                    },
                );
            }
            SessionEvent::Go { plan_hash, .. } if ours(plan_hash) => {
                self.run = RunState::Running;
                self.last_go_seq = seq;
                for p in self.progress.values_mut() {
                    p.failed = None;
                }
            }
            SessionEvent::Paused { plan_hash, reason } if ours(plan_hash) => {
                self.run = RunState::Paused { reason: reason.clone() };
            }
            SessionEvent::Aborted { plan_hash, reason } if ours(plan_hash) => {
                self.run = RunState::Aborted { reason: reason.clone() };
            }
            SessionEvent::PhaseOpened { plan_hash, phase } if ours(plan_hash) => {
                self.open_phase = Some(*phase);
            }
            SessionEvent::PhaseDone {
                plan_hash,
                participant,
                phase,
                applied,
                skipped,
                ..
            } if ours(plan_hash) => {
                let p = self.progress.entry(participant.clone()).or_default();
                p.done.insert(*phase);
                p.failed = None;
                p.applied += applied;
                p.skipped += skipped;
            }
            SessionEvent::PhaseFailed {
                plan_hash,
                participant,
                phase,
                error,
            } if ours(plan_hash) => {
                let at = phase.map(|p| p.as_str()).unwrap_or("preflight");
                self.progress.entry(participant.clone()).or_default().failed = Some(format!("{at}: {error}"));
            }
            SessionEvent::Finished { plan_hash } if ours(plan_hash) => {
                self.run = RunState::Finished;
            }
            SessionEvent::AcsUploaded {
                plan_hash,
                source,
                receiver,
                contracts,
                bytes,
                blob,
            } => self.uploads.push(UploadView {
                seq,
                plan_hash: plan_hash.clone(),
                source: source.clone(),
                receiver: receiver.clone(),
                contracts: *contracts,
                bytes: *bytes,
                blob: blob.clone(),
            }),
            SessionEvent::PayloadRequested {
                contract_id,
                holder,
                by,
                reason,
            } => self.payload_requests.push(PayloadRequestView {
                seq,
                contract_id: contract_id.clone(),
                holder: holder.clone(),
                by: by.clone(),
                reason: reason.clone(),
                answer: None,
            }),
            SessionEvent::PayloadAnswered {
                request_seq,
                accepted,
                payload,
                reason,
                ..
            } => {
                if let Some(r) = self.payload_requests.iter_mut().find(|r| r.seq == *request_seq) {
                    r.answer = Some(PayloadAnswerView {
                        seq,
                        accepted: *accepted,
                        payload: payload.clone(),
                        reason: reason.clone(),
                    });
                }
            }
            // Events of another plan than the current one.
            _ => {}
        }
    }

    pub fn plan(&self) -> Option<&Arc<Plan>> {
        self.proposal.as_ref().and_then(|p| p.plan.as_ref())
    }

    pub fn plan_hash(&self) -> Option<&str> {
        self.proposal.as_ref().map(|p| p.plan_hash.as_str())
    }

    /// Participants of the current plan (empty without one).
    pub fn plan_participants(&self) -> Vec<String> {
        self.plan().map(|p| p.participants().to_vec()).unwrap_or_default()
    }

    /// Node operators who act for `participant`.
    pub fn operators_of(&self, participant: &str) -> impl Iterator<Item = &OperatorView> {
        self.operators
            .values()
            .filter(move |o| o.role == Role::NodeOperator && o.participant.as_deref() == Some(participant))
    }

    /// Some operator of `participant` is in the session.
    pub fn present_for(&self, participant: &str) -> bool {
        self.operators_of(participant).any(|o| o.present)
    }

    pub fn all_done(&self, phase: PhaseKind) -> bool {
        let names = self.plan_participants();
        !names.is_empty()
            && names
                .iter()
                .all(|n| self.progress.get(n).is_some_and(|p| p.done.contains(&phase)))
    }

    /// The first phase not every participant has done; `None` when all are done.
    pub fn next_phase(&self) -> Option<PhaseKind> {
        PhaseKind::ALL.into_iter().find(|p| !self.all_done(*p))
    }

    pub fn upload(&self, plan_hash: &str, source: &str, receiver: &str) -> Option<&UploadView> {
        self.uploads
            .iter()
            .find(|u| u.plan_hash == plan_hash && u.source == source && u.receiver == receiver)
    }

    /// Ids each participant must still answer about (see [`manifest::pending_inspections`]).
    pub fn pending_inspections(&self) -> BTreeMap<String, Vec<String>> {
        manifest::pending_inspections(&self.participants, &self.manifests, &self.answers).unwrap_or_default()
    }

    /// What `participant` is doing, in words.
    pub fn doing(&self, participant: &str) -> String {
        let progress = self.progress.get(participant);
        if let Some(f) = progress.and_then(|p| p.failed.as_ref()) {
            return format!("failed at {f}");
        }
        match (&self.run, self.open_phase) {
            (RunState::Finished, _) => "finished".into(),
            (RunState::Idle, _) if self.proposal.is_none() => "surveyed".into(),
            (RunState::Idle, _) => match self.approvals.get(participant) {
                Some(_) => "waiting for go".into(),
                None => "reviewing the plan".into(),
            },
            (_, Some(open)) if progress.is_some_and(|p| p.done.contains(&open)) => {
                format!("{open} done, at the barrier")
            }
            (RunState::Running, Some(open)) => format!("running {open}"),
            (RunState::Paused { .. }, Some(open)) => format!("paused in {open}"),
            (RunState::Aborted { .. }, _) => "aborted".into(),
            _ => "waiting".into(),
        }
    }

    fn operator_names(&self, participants: &[String]) -> Vec<String> {
        let mut v: Vec<String> = participants
            .iter()
            .flat_map(|p| self.operators_of(p).map(|o| o.name.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn leads(&self) -> Vec<String> {
        self.operators
            .values()
            .filter(|o| o.role == Role::Lead)
            .map(|o| o.name.clone())
            .collect()
    }

    /// Whose turn it is and to do what.
    pub fn turn(&self) -> Turn {
        self.turn_given(|| self.pending_inspections())
    }

    /// [`turn`](SessionState::turn) with the open inspections known already (they are
    /// only asked for while the survey is under way, and cost a walk of every manifest).
    pub fn turn_given(&self, pending: impl FnOnce() -> BTreeMap<String, Vec<String>>) -> Turn {
        let turn = |who: Vec<String>, what: String| Turn { who, what };
        match &self.run {
            RunState::Finished => return turn(vec![], "the run finished: every participant verified".into()),
            RunState::Aborted { reason } => {
                return turn(
                    self.leads(),
                    format!("aborted ({reason}); propose a plan to start again"),
                );
            }
            RunState::Paused { reason } => {
                let absent: Vec<String> = self
                    .plan_participants()
                    .into_iter()
                    .filter(|p| !self.present_for(p))
                    .collect();
                if absent.is_empty() {
                    return turn(self.leads(), format!("paused ({reason}); the lead says go to continue"));
                }
                return turn(
                    self.operator_names(&absent),
                    format!(
                        "paused ({reason}); waiting for {} to rejoin, then the lead says go",
                        absent.join(", ")
                    ),
                );
            }
            RunState::Running => {
                let Some(open) = self.open_phase else {
                    return turn(vec![], "starting".into());
                };
                let waiting: Vec<String> = self
                    .plan_participants()
                    .into_iter()
                    .filter(|p| !self.progress.get(p).is_some_and(|g| g.done.contains(&open)))
                    .collect();
                return turn(
                    self.operator_names(&waiting),
                    format!("phase {open}: waiting for {}", waiting.join(", ")),
                );
            }
            RunState::Idle => {}
        }
        let missing: Vec<String> = self
            .participants
            .iter()
            .filter(|p| !self.manifests.contains_key(*p))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return turn(
                self.operator_names(&missing),
                format!("survey: waiting for the manifests of {}", missing.join(", ")),
            );
        }
        let pending: Vec<String> = pending().into_keys().collect();
        if !pending.is_empty() {
            return turn(
                self.operator_names(&pending),
                format!(
                    "survey: waiting for {} to inspect contracts they lack",
                    pending.join(", ")
                ),
            );
        }
        let Some(p) = &self.proposal else {
            return turn(self.leads(), "compare the manifests and propose a plan".into());
        };
        let unapproved: Vec<String> = p
            .participants
            .iter()
            .filter(|n| !self.approvals.contains_key(*n))
            .cloned()
            .collect();
        if !unapproved.is_empty() {
            return turn(
                self.operator_names(&unapproved),
                format!("approve plan {} for {}", p.plan_hash, unapproved.join(", ")),
            );
        }
        let absent: Vec<String> = p
            .participants
            .iter()
            .filter(|n| !self.present_for(n))
            .cloned()
            .collect();
        if !absent.is_empty() {
            return turn(
                self.operator_names(&absent),
                format!("every participant approved; waiting for {} to join", absent.join(", ")),
            );
        }
        turn(
            self.leads(),
            format!("every participant approved {}: say go", p.plan_hash),
        )
    }
}
