use super::*;
use crate::collab::event::{OperatorInfo, Roster};
use crate::collab::manifest::{self, Answers, EntryState, ManifestEntry};
use crate::plan::{RunbookMeta, to_runbook};
use crate::reconcile::{Interner, SelectionRequest, Strategy};
use crate::survey::{Incident, plan_from_parts};
use std::collections::BTreeMap;

fn caller(name: &str, role: Role, participant: Option<&str>) -> Caller {
    Caller {
        operator: name.into(),
        role,
        participant: participant.map(str::to_string),
    }
}

fn lead_() -> Caller {
    caller("lead", Role::Lead, None)
}
fn alice() -> Caller {
    caller("alice", Role::NodeOperator, Some("p1"))
}
fn bob() -> Caller {
    caller("bob", Role::NodeOperator, Some("p2"))
}
fn olga() -> Caller {
    caller("olga", Role::Observer, None)
}

fn entry(id: &str) -> ManifestEntry {
    ManifestEntry {
        contract_id: id.into(),
        template_id: "Iou:Iou".into(),
        stakeholders: vec!["Alice".into(), "Bob".into()],
        payload_digest: hex::encode([id.len() as u8; 32]),
        state: EntryState::Active,
    }
}

fn manifest(name: &str, party: &str, ids: &[&str]) -> Manifest {
    let mut m = Manifest {
        participant: name.into(),
        synchronizer_id: "lost::1".into(),
        hosted_parties: vec![party.into()],
        contracts: ids.iter().map(|i| entry(i)).collect(),
        ..Manifest::default()
    };
    m.holdings_digest = crate::plan::snapshot_digest(&m.snapshot(&mut Interner::new()).expect("snapshot").contracts);
    m
}

struct Session {
    state: SessionState,
    seq: u64,
}

impl Session {
    fn new() -> Session {
        let roster = Roster {
            incident: "drill".into(),
            lost: "lost".into(),
            target: "new".into(),
            operators: vec![
                OperatorInfo {
                    name: "lead".into(),
                    role: Role::Lead,
                    participant: None,
                },
                OperatorInfo {
                    name: "alice".into(),
                    role: Role::NodeOperator,
                    participant: Some("p1".into()),
                },
                OperatorInfo {
                    name: "bob".into(),
                    role: Role::NodeOperator,
                    participant: Some("p2".into()),
                },
                OperatorInfo {
                    name: "olga".into(),
                    role: Role::Observer,
                    participant: None,
                },
            ],
        };
        let mut s = Session {
            state: SessionState::default(),
            seq: 0,
        };
        s.apply(vec![SessionEvent::Opened(roster)]);
        s
    }

    fn apply(&mut self, events: Vec<SessionEvent>) -> usize {
        let n = events.len();
        for e in events {
            self.seq += 1;
            self.state.apply(self.seq, "h", &e);
        }
        let mut more = 0;
        while let Some(e) = next_step(&self.state) {
            self.seq += 1;
            self.state.apply(self.seq, "h", &e);
            more += 1;
        }
        n + more
    }

    fn send(&mut self, who: &Caller, command: Command) -> Result<usize, Refusal> {
        let events = decide(&self.state, who, command)?;
        Ok(self.apply(events))
    }

    fn join(&mut self, who: &Caller) {
        let events = joined(&self.state, who);
        self.apply(events);
    }

    fn surveyed(mut self) -> Session {
        self.send(
            &alice(),
            Command::PublishManifest(manifest("p1", "Alice", &["c1", "c2", "c3"])),
        )
        .expect("p1 manifest");
        self.send(&bob(), Command::PublishManifest(manifest("p2", "Bob", &["c1", "c2"])))
            .expect("p2 manifest");
        self.send(
            &bob(),
            Command::PublishInspection {
                participant: "p2".into(),
                contracts: vec![InspectedEntry {
                    contract_id: "c3".into(),
                    state: EntryState::Unknown,
                }],
            },
        )
        .expect("p2 answers");
        self
    }

    /// A runbook built from the manifests, as the lead's deck builds one.
    fn runbook(&self, strategy: Strategy) -> String {
        let names = self.state.participants.clone();
        let f = manifest::federated_comparison("lost", &names, &self.state.manifests, &self.state.answers)
            .expect("comparison");
        let incident = Incident {
            name: "drill",
            lost: "lost",
            target: "new",
        };
        let plan = plan_from_parts(
            &f.comparison,
            &f.in_flight,
            &incident,
            &SelectionRequest::new(strategy),
            10,
        )
        .expect("plan");
        let meta = RunbookMeta {
            created: "2026-01-01T00:00:00Z".into(),
            proposed_by: "lead".into(),
        };
        to_runbook(&plan, &meta).expect("runbook").0
    }

    fn propose(&mut self, strategy: Strategy) -> String {
        let runbook = self.runbook(strategy);
        self.send(&lead_(), Command::Propose { runbook, sidecar: None })
            .expect("propose");
        self.state.plan_hash().expect("hash").to_string()
    }

    fn approve(&mut self, who: &Caller, participant: &str, hash: &str) -> Result<usize, Refusal> {
        self.send(
            who,
            Command::Approve {
                participant: participant.into(),
                plan_hash: hash.into(),
                holdings_digest: String::new(),
                comment: String::new(),
            },
        )
    }

    fn done(&mut self, who: &Caller, participant: &str, hash: &str, phase: PhaseKind) -> Result<usize, Refusal> {
        self.send(
            who,
            Command::ReportDone {
                participant: participant.into(),
                plan_hash: hash.into(),
                phase,
                applied: 0,
                skipped: 0,
                already_done: false,
            },
        )
    }
}

fn forbidden(r: Result<usize, Refusal>) -> String {
    match r {
        Err(Refusal::Forbidden(m)) => m,
        other => panic!("expected a refusal for lack of rights, got {other:?}"),
    }
}

fn precondition(r: Result<usize, Refusal>) -> String {
    match r {
        Err(Refusal::Precondition(m)) => m,
        other => panic!("expected a precondition refusal, got {other:?}"),
    }
}

#[test]
fn the_survey_turns_into_a_comparison_only_when_every_participant_answered() {
    let mut s = Session::new();
    assert!(s.state.turn().what.contains("manifests of p1, p2"));
    s.send(
        &alice(),
        Command::PublishManifest(manifest("p1", "Alice", &["c1", "c3"])),
    )
    .expect("p1");
    s.send(&bob(), Command::PublishManifest(manifest("p2", "Bob", &["c1"])))
        .expect("p2");
    assert_eq!(
        s.state.pending_inspections(),
        [("p2".to_string(), vec!["c3".to_string()])].into()
    );
    assert_eq!(s.state.turn().who, vec!["bob".to_string()]);
    // The same manifest again changes nothing.
    assert_eq!(
        s.send(&bob(), Command::PublishManifest(manifest("p2", "Bob", &["c1"]))),
        Ok(0)
    );
    let m = forbidden(s.send(&alice(), Command::PublishManifest(manifest("p2", "Bob", &["c1"]))));
    assert!(m.contains("alice acts for p1, not for p2"), "{m}");
    let mut bad = manifest("p1", "Alice", &["c1"]);
    bad.holdings_digest = "sha256:forged".into();
    assert!(matches!(
        s.send(&alice(), Command::PublishManifest(bad)),
        Err(Refusal::Invalid(_))
    ));
}

#[test]
fn a_new_proposal_voids_every_approval_and_approvals_bind_to_the_hash() {
    let mut s = Session::new().surveyed();
    let first = s.propose(Strategy::Intersection);
    assert_eq!(s.approve(&alice(), "p1", &first), Ok(1));
    assert_eq!(s.approve(&alice(), "p1", &first), Ok(0), "a repeat logs nothing");
    let second = s.propose(Strategy::Union);
    assert_ne!(first, second);
    assert!(s.state.approvals.is_empty(), "the new proposal voided alice's approval");
    assert_eq!(s.state.voided.len(), 1);
    assert_eq!(s.state.voided[0].approvals, vec!["p1".to_string()]);
    let m = precondition(s.approve(&alice(), "p1", &first));
    assert!(m.contains("not the session's plan"), "{m}");
    // Re-proposing the very same plan still voids.
    s.approve(&alice(), "p1", &second).expect("approve");
    s.propose(Strategy::Union);
    assert!(s.state.approvals.is_empty());
}

#[test]
fn nobody_approves_or_commands_outside_their_role() {
    let mut s = Session::new().surveyed();
    let hash = s.propose(Strategy::Intersection);
    let m = forbidden(s.approve(&alice(), "p2", &hash));
    assert!(m.contains("alice acts for p1, not for p2"), "{m}");
    forbidden(s.approve(&lead_(), "p1", &hash));
    forbidden(s.approve(&olga(), "p1", &hash));
    forbidden(s.send(
        &alice(),
        Command::Go {
            plan_hash: hash.clone(),
        },
    ));
    let runbook = s.runbook(Strategy::Union);
    forbidden(s.send(&bob(), Command::Propose { runbook, sidecar: None }));
    forbidden(s.send(
        &olga(),
        Command::RequestPayload {
            contract_id: "c1".into(),
            holder: "p1".into(),
            reason: String::new(),
        },
    ));
    forbidden(s.done(&bob(), "p1", &hash, PhaseKind::Isolate));
}

#[test]
fn go_needs_every_approval_and_every_operator_then_phases_open_behind_barriers() {
    let mut s = Session::new().surveyed();
    let hash = s.propose(Strategy::Union);
    let go = || Command::Go {
        plan_hash: hash.clone(),
    };
    s.approve(&alice(), "p1", &hash).expect("alice");
    assert!(precondition(s.send(&lead_(), go())).contains("not approved for p2"));
    s.approve(&bob(), "p2", &hash).expect("bob");
    assert!(precondition(s.send(&lead_(), go())).contains("no operator of p1, p2"));
    s.join(&alice());
    s.join(&bob());
    assert!(s.state.turn().what.contains("say go"));
    // A phase cannot be reported before it opens.
    assert!(precondition(s.done(&alice(), "p1", &hash, PhaseKind::Isolate)).contains("not been started"));
    s.send(&lead_(), go()).expect("go");
    assert_eq!(s.state.open_phase, Some(PhaseKind::Isolate), "go opens the first phase");
    assert!(precondition(s.done(&alice(), "p1", &hash, PhaseKind::InitTarget)).contains("has not been opened"));
    s.done(&alice(), "p1", &hash, PhaseKind::Isolate).expect("p1 isolated");
    assert_eq!(s.state.open_phase, Some(PhaseKind::Isolate), "the barrier waits for p2");
    assert_eq!(s.state.turn().who, vec!["bob".to_string()]);
    assert_eq!(s.done(&alice(), "p1", &hash, PhaseKind::Isolate), Ok(0), "a repeat");
    s.done(&bob(), "p2", &hash, PhaseKind::Isolate).expect("p2 isolated");
    assert_eq!(s.state.open_phase, Some(PhaseKind::InitTarget));

    // bob's deck goes away mid-run: the session pauses and stays paused.
    s.done(&alice(), "p1", &hash, PhaseKind::InitTarget).expect("p1");
    let gone = left(&s.state, "bob", "stream closed");
    assert_eq!(gone.len(), 2, "left, then paused");
    s.apply(gone);
    assert!(matches!(&s.state.run, RunState::Paused { reason } if reason.contains("bob (p2) left")));
    assert!(s.state.turn().what.contains("waiting for p2 to rejoin"));
    // Its report still counts, but no phase opens while paused.
    s.done(&bob(), "p2", &hash, PhaseKind::InitTarget).expect("late report");
    assert_eq!(s.state.open_phase, Some(PhaseKind::InitTarget));
    assert!(precondition(s.send(&lead_(), go())).contains("no operator of p2"));
    s.join(&bob());
    assert_eq!(
        s.state.open_phase,
        Some(PhaseKind::InitTarget),
        "rejoining does not continue"
    );
    s.send(&lead_(), go()).expect("go again");
    assert_eq!(s.state.open_phase, Some(PhaseKind::Purge));
    assert!(precondition(s.send(&lead_(), go())).contains("already going"));

    for phase in &PhaseKind::ALL[2..] {
        s.done(&alice(), "p1", &hash, *phase).expect("p1");
        s.done(&bob(), "p2", &hash, *phase).expect("p2");
    }
    assert_eq!(s.state.run, RunState::Finished);
    assert!(precondition(s.send(&lead_(), go())).contains("finished"));
}

#[test]
fn the_lead_pauses_at_the_next_barrier_and_only_go_continues() {
    let mut s = Session::new().surveyed();
    let hash = s.propose(Strategy::Intersection);
    let pause = |h: &str| Command::Pause {
        plan_hash: h.into(),
        reason: "checking p2's logs".into(),
    };
    s.approve(&alice(), "p1", &hash).expect("alice");
    s.approve(&bob(), "p2", &hash).expect("bob");
    for who in [lead_(), alice(), bob()] {
        s.join(&who);
    }
    assert!(precondition(s.send(&lead_(), pause(&hash))).contains("not going"));
    s.send(
        &lead_(),
        Command::Go {
            plan_hash: hash.clone(),
        },
    )
    .expect("go");
    // Only the lead pauses, and only the session's plan.
    assert!(forbidden(s.send(&alice(), pause(&hash))).contains("only the lead may pause"));
    assert!(forbidden(s.send(&olga(), pause(&hash))).contains("only the lead may pause"));
    assert!(precondition(s.send(&lead_(), pause("sha256:other"))).contains("not the session's plan"));
    s.done(&alice(), "p1", &hash, PhaseKind::Isolate).expect("p1");
    assert_eq!(s.send(&lead_(), pause(&hash)), Ok(1), "one event, and no phase opens");
    assert!(matches!(&s.state.run, RunState::Paused { reason } if reason == "paused by lead: checking p2's logs"));
    assert!(
        precondition(s.send(&lead_(), pause(&hash))).contains("not going"),
        "once"
    );
    // A deck inside the phase finishes it; the barrier then stays shut.
    s.done(&bob(), "p2", &hash, PhaseKind::Isolate)
        .expect("p2 finishes its phase");
    assert_eq!(s.state.open_phase, Some(PhaseKind::Isolate));
    assert!(next_step(&s.state).is_none(), "paused: nothing opens by itself");
    assert!(s.state.turn().what.contains("the lead says go to continue"));
    assert_eq!(s.state.turn().who, vec!["lead".to_string()]);
    // Go re-checks approvals and presence, then the next phase opens.
    s.apply(left(&s.state, "bob", "stream closed"));
    assert!(
        precondition(s.send(
            &lead_(),
            Command::Go {
                plan_hash: hash.clone()
            }
        ))
        .contains("no operator of p2")
    );
    s.join(&bob());
    s.send(
        &lead_(),
        Command::Go {
            plan_hash: hash.clone(),
        },
    )
    .expect("go again");
    assert_eq!(s.state.run, RunState::Running);
    assert_eq!(s.state.open_phase, Some(PhaseKind::InitTarget));
}

#[test]
fn a_failure_pauses_and_the_observer_or_lead_leaving_does_not() {
    let mut s = Session::new().surveyed();
    let hash = s.propose(Strategy::Intersection);
    s.approve(&alice(), "p1", &hash).expect("alice");
    s.approve(&bob(), "p2", &hash).expect("bob");
    for who in [lead_(), alice(), bob(), olga()] {
        s.join(&who);
    }
    s.send(
        &lead_(),
        Command::Go {
            plan_hash: hash.clone(),
        },
    )
    .expect("go");
    assert_eq!(left(&s.state, "olga", "stream closed").len(), 1);
    assert_eq!(left(&s.state, "lead", "stream closed").len(), 1);
    s.send(
        &bob(),
        Command::ReportFailed {
            participant: "p2".into(),
            plan_hash: hash.clone(),
            phase: Some(PhaseKind::Isolate),
            error: "boom".into(),
        },
    )
    .expect("failure");
    assert!(matches!(&s.state.run, RunState::Paused { reason } if reason.contains("isolate failed on p2: boom")));
    assert!(s.state.doing("p2").contains("failed at isolate: boom"));
    let runbook = s.runbook(Strategy::Union);
    let m = precondition(s.send(&lead_(), Command::Propose { runbook, sidecar: None }));
    assert!(m.contains("abort it before proposing"), "{m}");
    s.send(
        &lead_(),
        Command::Abort {
            plan_hash: hash.clone(),
            reason: "drill".into(),
        },
    )
    .expect("abort");
    assert!(precondition(s.send(&lead_(), Command::Go { plan_hash: hash })).contains("aborted"));
    s.propose(Strategy::Union);
    assert_eq!(s.state.run, RunState::Idle);
}

#[test]
fn imports_travel_only_between_the_plan_s_source_and_receiver() {
    let mut s = Session::new().surveyed();
    let hash = s.propose(Strategy::Union);
    assert_eq!(
        upload_ids(&s.state, &alice(), &hash, "p1", "p2"),
        Ok(vec!["c3".to_string()])
    );
    assert!(matches!(
        upload_ids(&s.state, &bob(), &hash, "p1", "p2"),
        Err(Refusal::Forbidden(_))
    ));
    assert!(matches!(
        upload_ids(&s.state, &bob(), &hash, "p2", "p1"),
        Err(Refusal::Invalid(_))
    ));
    assert!(matches!(
        fetchable(&s.state, &bob(), &hash, "p1", "p2"),
        Err(Refusal::NotFound(_))
    ));
    let uploaded = || Command::Uploaded {
        plan_hash: hash.clone(),
        source: "p1".into(),
        receiver: "p2".into(),
        contracts: 1,
        bytes: 10,
        blob: "sha256:b".into(),
    };
    assert_eq!(s.send(&alice(), uploaded()), Ok(1));
    assert_eq!(s.send(&alice(), uploaded()), Ok(0));
    assert!(fetchable(&s.state, &bob(), &hash, "p1", "p2").is_ok());
    assert!(matches!(
        fetchable(&s.state, &olga(), &hash, "p1", "p2"),
        Err(Refusal::Forbidden(_))
    ));
}

#[test]
fn a_payload_is_shared_only_by_its_holder_and_only_once() {
    let mut s = Session::new().surveyed();
    let ask = |contract: &str, holder: &str| Command::RequestPayload {
        contract_id: contract.into(),
        holder: holder.into(),
        reason: "diff".into(),
    };
    assert!(matches!(s.send(&lead_(), ask("c3", "p2")), Err(Refusal::NotFound(_))));
    s.send(&lead_(), ask("c1", "p2")).expect("request");
    let seq = s.state.payload_requests[0].seq;
    let answer = |accept: bool| Command::AnswerPayload {
        request_seq: seq,
        accept,
        payload: Some(serde_json::json!({"amount": "1"})),
        reason: String::new(),
    };
    forbidden(s.send(&alice(), answer(true)));
    s.send(&bob(), answer(false)).expect("refuse");
    let a = s.state.payload_requests[0].answer.as_ref().expect("answered");
    assert!(!a.accepted && a.payload.is_none(), "a refusal carries no payload");
    precondition(s.send(&bob(), answer(true)));
}

#[test]
fn presence_is_logged_on_changes_only() {
    let mut s = Session::new();
    assert_eq!(joined(&s.state, &alice()).len(), 1);
    s.join(&alice());
    assert!(joined(&s.state, &alice()).is_empty());
    assert!(left(&s.state, "bob", "x").is_empty(), "bob was never here");
    assert_eq!(left(&s.state, "alice", "x").len(), 1, "nothing runs: no pause");
    let _: Answers = BTreeMap::new();
}
