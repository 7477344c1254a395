//! What the shared screen shows of a session: who is present, who approved which plan
//! hash, whose turn it is and what each participant is doing. A plain value folded from
//! the feed by the screen's follower task, so that drawing a frame never walks manifests
//! and the screen's own task never holds the feed.

use super::event::Role;
use super::feed::FeedState;
use super::state::{ApprovalView, OperatorView, PayloadRequestView, RunState, SessionState, Turn, VoidedView};
use crate::plan::{PhaseKind, Plan};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One participant of the session, as the screen's session pane lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantLine {
    pub name: String,
    /// Its node operators, each with whether they are in the session now.
    pub operators: Vec<(String, bool)>,
    /// Contracts in its manifest; `None` until its deck published one.
    pub contracts: Option<usize>,
    /// Whether the current plan involves it.
    pub in_plan: bool,
    /// Its approval of the current plan.
    pub approval: Option<ApprovalView>,
    /// What it is doing, in words (phase, barrier, result).
    pub doing: String,
    /// Phases of the current plan it reported done.
    pub phases_done: usize,
    pub applied: u64,
    pub skipped: u64,
    pub failed: Option<String>,
}

/// The session's current plan, without its runbook text.
#[derive(Debug, Clone)]
pub struct BoardPlan {
    pub seq: u64,
    pub plan_hash: String,
    pub proposed_by: String,
    pub strategy: String,
    pub participants: Vec<String>,
    /// The runbook, loaded and hash-checked here; `None` if it did not load.
    pub plan: Option<Arc<Plan>>,
}

/// Names the manifests and answers a federated comparison is built from: when it changes,
/// the comparison is built again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SurveyMark {
    /// Per participant with a manifest: its holdings digest and in-flight counts.
    manifests: Vec<(String, String, u32, u32)>,
    answers: usize,
}

#[derive(Debug, Clone)]
pub struct Board {
    pub incident: String,
    pub lost: String,
    pub target: String,
    pub head_seq: u64,
    pub head_hash: String,
    pub restarts: u64,
    /// A stream to the coordinator is open now.
    pub connected: bool,
    /// The replay caught up with the log at least once.
    pub synced: bool,
    /// The feed stopped for good (refused, or the log does not verify).
    pub fatal: Option<String>,
    pub participants: Vec<ParticipantLine>,
    /// Leads, observers, and node operators of no participant of the session.
    pub others: Vec<OperatorView>,
    pub proposal: Option<BoardPlan>,
    /// The approvals the latest proposal voided.
    pub voided: Option<VoidedView>,
    pub run: RunState,
    pub open_phase: Option<PhaseKind>,
    pub turn: Turn,
    pub payload_requests: Vec<PayloadRequestView>,
    pub survey: SurveyMark,
}

/// Ids each participant must still answer about, per participant (see
/// [`SessionState::pending_inspections`]).
pub type Pending = BTreeMap<String, Vec<String>>;

impl Board {
    /// The board of the feed's state; `pending` are its open inspections, computed by the
    /// caller when the manifests or answers change (walking every manifest on each event
    /// would hold the feed up).
    pub fn of(feed: &FeedState, pending: &Pending) -> Board {
        let s = &feed.session;
        let plan_names = s.plan_participants();
        let participants = s
            .participants
            .iter()
            .map(|name| {
                let progress = s.progress.get(name);
                let in_plan = plan_names.contains(name);
                let doing = if !s.manifests.contains_key(name) {
                    "no manifest yet: its deck has not surveyed it".to_string()
                } else if let Some(ids) = pending.get(name) {
                    format!("to inspect {} contract(s) others hold", ids.len())
                } else if s.proposal.is_some() && !in_plan {
                    "not in the plan".to_string()
                } else {
                    s.doing(name)
                };
                ParticipantLine {
                    name: name.clone(),
                    operators: s.operators_of(name).map(|o| (o.name.clone(), o.present)).collect(),
                    contracts: s.manifests.get(name).map(|m| m.contracts.len()),
                    in_plan,
                    approval: s.approvals.get(name).cloned(),
                    doing,
                    phases_done: progress.map(|p| p.done.len()).unwrap_or(0),
                    applied: progress.map(|p| p.applied).unwrap_or(0),
                    skipped: progress.map(|p| p.skipped).unwrap_or(0),
                    failed: progress.and_then(|p| p.failed.clone()),
                }
            })
            .collect();
        let others = s
            .operators
            .values()
            .filter(|o| {
                o.role != Role::NodeOperator || o.participant.as_ref().is_none_or(|p| !s.participants.contains(p))
            })
            .cloned()
            .collect();
        Board {
            incident: s.incident.clone(),
            lost: s.lost.clone(),
            target: s.target.clone(),
            head_seq: s.head_seq,
            head_hash: s.head_hash.clone(),
            restarts: s.restarts,
            connected: feed.connected,
            synced: feed.synced,
            fatal: feed.fatal.clone(),
            participants,
            others,
            proposal: s.proposal.as_ref().map(|p| BoardPlan {
                seq: p.seq,
                plan_hash: p.plan_hash.clone(),
                proposed_by: p.proposed_by.clone(),
                strategy: p.strategy.clone(),
                participants: p.participants.clone(),
                plan: p.plan.clone(),
            }),
            voided: s.voided.last().cloned(),
            run: s.run.clone(),
            open_phase: s.open_phase,
            turn: s.turn_given(|| pending.clone()),
            payload_requests: s.payload_requests.clone(),
            survey: SurveyMark::of(s),
        }
    }

    pub fn plan(&self) -> Option<&Arc<Plan>> {
        self.proposal.as_ref().and_then(|p| p.plan.as_ref())
    }

    pub fn plan_hash(&self) -> Option<&str> {
        self.proposal.as_ref().map(|p| p.plan_hash.as_str())
    }

    pub fn participant(&self, name: &str) -> Option<&ParticipantLine> {
        self.participants.iter().find(|p| p.name == name)
    }

    /// Whether `operator` is one of those the session waits for.
    pub fn waits_for(&self, operator: &str) -> bool {
        self.turn.who.iter().any(|w| w == operator)
    }

    /// Payload requests addressed to `participant` that nobody answered yet, oldest first.
    pub fn open_requests_to<'a>(&'a self, participant: &'a str) -> impl Iterator<Item = &'a PayloadRequestView> + 'a {
        self.payload_requests
            .iter()
            .filter(move |r| r.holder == participant && r.answer.is_none())
    }

    /// The payload of `contract_id` that `holder`'s operator shared, if any.
    pub fn shared_payload(&self, holder: &str, contract_id: &str) -> Option<&serde_json::Value> {
        self.payload_requests
            .iter()
            .rev()
            .filter(|r| r.holder == holder && r.contract_id == contract_id)
            .find_map(|r| {
                r.answer
                    .as_ref()
                    .filter(|a| a.accepted)
                    .and_then(|a| a.payload.as_ref())
            })
    }

    /// How many shared payloads the log holds: when it grows, a diff may open.
    pub fn shared_count(&self) -> usize {
        self.payload_requests
            .iter()
            .filter(|r| r.answer.as_ref().is_some_and(|a| a.accepted))
            .count()
    }
}

impl SurveyMark {
    pub fn of(s: &SessionState) -> SurveyMark {
        SurveyMark {
            manifests: s
                .manifests
                .iter()
                .map(|(p, m)| {
                    (
                        p.clone(),
                        m.holdings_digest.clone(),
                        m.pending_submissions,
                        m.pending_transactions,
                    )
                })
                .collect(),
            answers: s.answers.values().map(|a| a.len()).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collab::event::{OperatorInfo, Roster, SessionEvent};

    fn roster() -> Roster {
        let op = |name: &str, role: Role, participant: Option<&str>| OperatorInfo {
            name: name.into(),
            role,
            participant: participant.map(str::to_string),
        };
        Roster {
            incident: "i".into(),
            lost: "lost".into(),
            target: "target".into(),
            operators: vec![
                op("carol", Role::Lead, None),
                op("alice", Role::NodeOperator, Some("participant1")),
                op("bob", Role::NodeOperator, Some("participant2")),
                op("olga", Role::Observer, None),
            ],
        }
    }

    #[test]
    fn lists_participants_with_their_operators_and_the_others_apart() {
        let mut s = SessionState::default();
        s.apply(1, "h1", &SessionEvent::Opened(roster()));
        s.apply(
            2,
            "h2",
            &SessionEvent::Joined {
                operator: "alice".into(),
                role: Role::NodeOperator,
                participant: Some("participant1".into()),
            },
        );
        let pending = s.pending_inspections();
        let feed = FeedState {
            session: s,
            synced: true,
            connected: true,
            fatal: None,
        };
        let b = Board::of(&feed, &pending);
        let names: Vec<&str> = b.participants.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["participant1", "participant2"]);
        assert_eq!(b.participants[0].operators, [("alice".to_string(), true)]);
        assert_eq!(b.participants[1].operators, [("bob".to_string(), false)]);
        assert!(
            b.participants[1].doing.contains("no manifest yet"),
            "{:?}",
            b.participants[1]
        );
        let others: Vec<&str> = b.others.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(others, ["carol", "olga"]);
        assert!(b.waits_for("alice") && b.waits_for("bob"), "{:?}", b.turn);
        assert_eq!((b.head_seq, b.head_hash.as_str()), (2, "h2"));
        assert!(b.connected && b.synced);
    }

    #[test]
    fn shared_payloads_are_found_by_holder_and_contract() {
        use crate::collab::state::{PayloadAnswerView, PayloadRequestView};
        let mut b = Board::of(&FeedState::default(), &Pending::new());
        b.payload_requests = vec![
            PayloadRequestView {
                seq: 5,
                contract_id: "c1".into(),
                holder: "participant2".into(),
                by: "alice".into(),
                reason: String::new(),
                answer: Some(PayloadAnswerView {
                    seq: 6,
                    accepted: true,
                    payload: Some(serde_json::json!({"owner": "Bob"})),
                    reason: String::new(),
                }),
            },
            PayloadRequestView {
                seq: 7,
                contract_id: "c2".into(),
                holder: "participant2".into(),
                by: "alice".into(),
                reason: String::new(),
                answer: None,
            },
        ];
        assert_eq!(
            b.shared_payload("participant2", "c1"),
            Some(&serde_json::json!({"owner": "Bob"}))
        );
        assert_eq!(b.shared_payload("participant1", "c1"), None);
        assert_eq!(b.shared_payload("participant2", "c2"), None, "not answered yet");
        assert_eq!(b.shared_count(), 1);
        let open: Vec<u64> = b.open_requests_to("participant2").map(|r| r.seq).collect();
        assert_eq!(open, [7]);
    }
}
