//! The session log's events: one typed enum, one variant per kind, each with a typed
//! payload. On disk an event is a journal line (`kind` + `data` JSON, hash-chained); the
//! enum is (de)serialised into that pair, so the journal's own typed event model can
//! absorb it as one more family of variants.

use super::manifest::{InspectedEntry, Manifest};
use crate::plan::PhaseKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// What an operator may do in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Proposes plans, says go, pauses and aborts; approves nothing and executes nothing.
    Lead,
    /// Holds one participant's credentials: publishes its manifest, approves and executes
    /// for that participant only.
    NodeOperator,
    /// Reads the session; changes nothing.
    Observer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Lead => "lead",
            Role::NodeOperator => "node_operator",
            Role::Observer => "observer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        [Role::Lead, Role::NodeOperator, Role::Observer]
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?} (lead, node_operator or observer)"))
    }
}

/// An operator as the coordinator's access config declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorInfo {
    pub name: String,
    pub role: Role,
    /// The participant a node operator acts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
}

/// The session's fixed facts and who may take part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    pub incident: String,
    pub lost: String,
    pub target: String,
    pub operators: Vec<OperatorInfo>,
}

impl Roster {
    /// Every participant some node operator acts for, sorted.
    pub fn participants(&self) -> Vec<String> {
        let mut v: Vec<String> = self.operators.iter().filter_map(|o| o.participant.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    pub fn operator(&self, name: &str) -> Option<&OperatorInfo> {
        self.operators.iter().find(|o| o.name == name)
    }
}

/// A plan put to the session: the runbook text travels in the log, so every deck checks
/// the hash itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub plan_hash: String,
    pub proposed_by: String,
    pub strategy: String,
    pub participants: Vec<String>,
    pub runbook: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<String>,
}

crate::journal::event::tagged_events! {
    /// One event of the session log.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub enum SessionEvent;

    /// The first event: the session's facts and operators.
    "session.opened" => Opened(Roster),
    /// The coordinator reopened its log (after a restart); its access config may have
    /// changed, so the roster is recorded again.
    "session.restarted" => Restarted(Roster),
    "session.joined" => Joined {
        operator: String,
        role: Role,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant: Option<String>,
    },
    /// Presence lost: the operator's stream closed, or its heartbeats stopped.
    "session.left" => Left { operator: String, reason: String },
    /// A participant's holdings on the lost synchronizer, as its own deck surveyed them.
    "session.manifest" => Manifest(Manifest),
    /// A participant's answers about ids others hold and it lacks.
    "session.inspected" => Inspected {
        participant: String,
        contracts: Vec<InspectedEntry>,
    },
    "session.proposed" => Proposed(Proposal),
    /// A new proposal voided the approvals of the previous one.
    "session.voided" => Voided {
        plan_hash: String,
        /// Participants whose approvals were voided.
        approvals: Vec<String>,
        reason: String,
    },
    "session.approved" => Approved {
        plan_hash: String,
        participant: String,
        operator: String,
        /// Digest of the holdings the deck re-surveyed before approving (the plan's
        /// expected digest for that participant).
        holdings_digest: String,
        #[serde(default)]
        comment: String,
    },
    "session.go" => Go { plan_hash: String, by: String },
    "session.paused" => Paused { plan_hash: String, reason: String },
    "session.aborted" => Aborted { plan_hash: String, reason: String },
    /// The barrier: every participant reported the previous phase; decks may start this one.
    "session.phase_opened" => PhaseOpened {
        plan_hash: String,
        #[serde(with = "phase_name")]
        phase: PhaseKind,
    },
    "session.phase_done" => PhaseDone {
        plan_hash: String,
        participant: String,
        #[serde(with = "phase_name")]
        phase: PhaseKind,
        applied: u64,
        skipped: u64,
        /// The deck found the phase done in its own journal (it was resumed).
        already_done: bool,
    },
    "session.phase_failed" => PhaseFailed {
        plan_hash: String,
        participant: String,
        /// `None`: before the first phase (preflight).
        #[serde(with = "opt_phase_name", default)]
        phase: Option<PhaseKind>,
        error: String,
    },
    /// Every participant verified: the run is complete.
    "session.finished" => Finished { plan_hash: String },
    /// An ACS snapshot for an import was uploaded by the holder's deck and stored.
    "session.acs_uploaded" => AcsUploaded {
        plan_hash: String,
        source: String,
        receiver: String,
        contracts: u64,
        bytes: u64,
        /// `sha256:<hex>` of the snapshot bytes.
        blob: String,
    },
    "session.payload_requested" => PayloadRequested {
        contract_id: String,
        holder: String,
        by: String,
        #[serde(default)]
        reason: String,
    },
    "session.payload_answered" => PayloadAnswered {
        request_seq: u64,
        contract_id: String,
        holder: String,
        accepted: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload: Option<Value>,
        #[serde(default)]
        reason: String,
    },
}

/// The key under which a command's client request id is kept in the event's data.
const REQUEST_ID: &str = "request_id";

impl SessionEvent {
    /// The journal's `kind` and `data` for this event; `request_id` (the command that
    /// caused it) is kept in `data` so that deduplication survives a restart.
    pub fn to_journal(&self, request_id: Option<&str>) -> Result<(String, Value), serde_json::Error> {
        let mut tagged = serde_json::to_value(self)?;
        let mut data = tagged
            .get_mut("data")
            .map(Value::take)
            .unwrap_or(Value::Object(Default::default()));
        if let (Some(id), Some(obj)) = (request_id, data.as_object_mut()) {
            obj.insert(REQUEST_ID.into(), Value::String(id.to_string()));
        }
        Ok((self.kind().to_string(), data))
    }

    /// Reads an event back from a journal line. `Ok(None)` for kinds this version does not
    /// know (readers ignore them, so that newer coordinators' logs stay readable).
    pub fn from_journal(kind: &str, data: &Value) -> Result<Option<(SessionEvent, Option<String>)>, String> {
        if !KINDS.contains(&kind) {
            return Ok(None);
        }
        let request_id = data.get(REQUEST_ID).and_then(Value::as_str).map(str::to_string);
        let tagged = serde_json::json!({"kind": kind, "data": data});
        let event = serde_json::from_value(tagged).map_err(|e| format!("{kind}: {e}"))?;
        Ok(Some((event, request_id)))
    }

    /// The plan an event belongs to, if any.
    pub fn plan_hash(&self) -> Option<&str> {
        match self {
            SessionEvent::Proposed(p) => Some(&p.plan_hash),
            SessionEvent::Voided { plan_hash, .. }
            | SessionEvent::Approved { plan_hash, .. }
            | SessionEvent::Go { plan_hash, .. }
            | SessionEvent::Paused { plan_hash, .. }
            | SessionEvent::Aborted { plan_hash, .. }
            | SessionEvent::PhaseOpened { plan_hash, .. }
            | SessionEvent::PhaseDone { plan_hash, .. }
            | SessionEvent::PhaseFailed { plan_hash, .. }
            | SessionEvent::Finished { plan_hash }
            | SessionEvent::AcsUploaded { plan_hash, .. } => Some(plan_hash),
            _ => None,
        }
    }
}

mod phase_name {
    use crate::plan::PhaseKind;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &PhaseKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(p.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PhaseKind, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

mod opt_phase_name {
    use crate::plan::PhaseKind;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &Option<PhaseKind>, s: S) -> Result<S::Ok, S::Error> {
        match p {
            Some(p) => s.serialize_some(p.as_str()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PhaseKind>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(s) => s.parse().map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collab::manifest::EntryState;

    fn samples() -> Vec<SessionEvent> {
        let roster = Roster {
            incident: "i".into(),
            lost: "a".into(),
            target: "b".into(),
            operators: vec![OperatorInfo {
                name: "alice".into(),
                role: Role::NodeOperator,
                participant: Some("p1".into()),
            }],
        };
        let h = || "sha256:00".to_string();
        vec![
            SessionEvent::Opened(roster.clone()),
            SessionEvent::Restarted(roster),
            SessionEvent::Joined {
                operator: "alice".into(),
                role: Role::NodeOperator,
                participant: Some("p1".into()),
            },
            SessionEvent::Left {
                operator: "alice".into(),
                reason: "stream closed".into(),
            },
            SessionEvent::Manifest(Manifest::default()),
            SessionEvent::Inspected {
                participant: "p1".into(),
                contracts: vec![InspectedEntry {
                    contract_id: "c".into(),
                    state: EntryState::Moved { to: "x".into() },
                }],
            },
            SessionEvent::Proposed(Proposal {
                plan_hash: h(),
                proposed_by: "lead".into(),
                strategy: "union".into(),
                participants: vec!["p1".into()],
                runbook: "toml".into(),
                sidecar: None,
            }),
            SessionEvent::Voided {
                plan_hash: h(),
                approvals: vec!["p1".into()],
                reason: "r".into(),
            },
            SessionEvent::Approved {
                plan_hash: h(),
                participant: "p1".into(),
                operator: "alice".into(),
                holdings_digest: h(),
                comment: String::new(),
            },
            SessionEvent::Go {
                plan_hash: h(),
                by: "lead".into(),
            },
            SessionEvent::Paused {
                plan_hash: h(),
                reason: "r".into(),
            },
            SessionEvent::Aborted {
                plan_hash: h(),
                reason: "r".into(),
            },
            SessionEvent::PhaseOpened {
                plan_hash: h(),
                phase: PhaseKind::InitTarget,
            },
            SessionEvent::PhaseDone {
                plan_hash: h(),
                participant: "p1".into(),
                phase: PhaseKind::Move,
                applied: 3,
                skipped: 1,
                already_done: false,
            },
            SessionEvent::PhaseFailed {
                plan_hash: h(),
                participant: "p1".into(),
                phase: None,
                error: "e".into(),
            },
            SessionEvent::Finished { plan_hash: h() },
            SessionEvent::AcsUploaded {
                plan_hash: h(),
                source: "p1".into(),
                receiver: "p2".into(),
                contracts: 3,
                bytes: 100,
                blob: h(),
            },
            SessionEvent::PayloadRequested {
                contract_id: "c".into(),
                holder: "p1".into(),
                by: "lead".into(),
                reason: String::new(),
            },
            SessionEvent::PayloadAnswered {
                request_seq: 4,
                contract_id: "c".into(),
                holder: "p1".into(),
                accepted: true,
                payload: Some(serde_json::json!({"a": 1})),
                reason: String::new(),
            },
        ]
    }

    #[test]
    fn every_kind_round_trips_through_the_journal_shape() {
        let events = samples();
        assert_eq!(events.len(), KINDS.len(), "one sample per kind");
        for e in events {
            let (kind, data) = e.to_journal(Some("req-1")).expect("serialise");
            let tagged = serde_json::to_value(&e).expect("tagged");
            assert_eq!(tagged["kind"], kind.as_str(), "kind() agrees with the serde tag");
            assert_eq!(data["request_id"], "req-1");
            let (back, id) = SessionEvent::from_journal(&kind, &data)
                .expect("parse")
                .expect("known kind");
            assert_eq!(back, e);
            assert_eq!(id.as_deref(), Some("req-1"));
        }
    }

    #[test]
    fn unknown_kinds_are_skipped_and_bad_data_is_an_error() {
        assert_eq!(
            SessionEvent::from_journal("session.future", &serde_json::json!({})),
            Ok(None)
        );
        assert!(SessionEvent::from_journal("session.go", &serde_json::json!({"plan_hash": 3})).is_err());
        assert!(
            SessionEvent::from_journal(
                "session.phase_opened",
                &serde_json::json!({"plan_hash": "h", "phase": "teleport"})
            )
            .is_err()
        );
    }

    #[test]
    fn roles_parse_and_print() {
        for r in [Role::Lead, Role::NodeOperator, Role::Observer] {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("admin".parse::<Role>().is_err());
    }
}
