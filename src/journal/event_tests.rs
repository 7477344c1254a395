//! The event types against the line shape: every kind round-trips, names are written as
//! the first format version wrote them.

use super::event::*;
use crate::client::ImportMode;
use crate::plan::{ConnectionValidation, PhaseKind};
use crate::reconcile::StrategyName;
use serde_json::Value;
use std::collections::BTreeMap;

fn samples() -> Vec<EventData> {
    let call = Call::ChangeAssignation {
        source: "lost".into(),
        target: "new".into(),
        skip_inactive: true,
        ids: 2,
        ids_digest: "sha256:ab".into(),
        first_id: Some("00aa".into()),
    };
    vec![
        EventData::ScreenOpened { read_only: true },
        EventData::RunStarted(RunStarted {
            plan_hash: "h".into(),
            incident: "i".into(),
            lost: "lost".into(),
            target: "new".into(),
            strategy: StrategyName::Union,
            dry_run: false,
            resumed: true,
            done_phases: vec![PhaseKind::Isolate],
            runbook: Some(pinned("runbook")),
            sidecar: None,
        }),
        EventData::RunEnded(RunEnded {
            plan_hash: "h".into(),
            ok: true,
            moved: [("p1".to_string(), 4)].into(),
            added: BTreeMap::new(),
            skipped: BTreeMap::new(),
            error: None,
        }),
        EventData::Preflight(PreflightResult {
            plan_hash: "h".into(),
            ok: false,
            problems: vec!["p1 [drift]: x".into()],
            warnings: vec!["p2 [pruning]: y".into()],
            done_by_state: vec![PhaseKind::Isolate],
        }),
        EventData::PhaseStarted {
            plan_hash: "h".into(),
            phase: PhaseKind::InitTarget,
            participants: vec!["p1".into()],
        },
        EventData::PhaseDone {
            plan_hash: "h".into(),
            phase: PhaseKind::Move,
        },
        EventData::PhaseSkipped {
            plan_hash: "h".into(),
            phase: PhaseKind::Move,
            reason: "done".into(),
        },
        EventData::PhaseFailed {
            plan_hash: "h".into(),
            phase: PhaseKind::Import,
            error: "e".into(),
            code: Some("IMPORT_ACS_ERROR".into()),
        },
        EventData::PhasePaused {
            plan_hash: "h".into(),
            before: PhaseKind::Verify,
        },
        EventData::PhaseAborted {
            plan_hash: "h".into(),
            before: PhaseKind::Purge,
        },
        EventData::CallSent(CallSent {
            plan_hash: "h".into(),
            phase: PhaseKind::Move,
            attempt: 1,
            call: call.clone(),
            request_digest: "sha256:cd".into(),
        }),
        EventData::CallAnswered(CallAnswered {
            phase: PhaseKind::Move,
            rpc: Rpc::ChangeAssignation,
            attempt: 1,
            ok: false,
            duration_ms: 3,
            request_digest: "sha256:cd".into(),
            code: Some("CONTRACT_ASSIGNATION_CHANGE_ERROR".into()),
            category: Some(9),
            grpc: Some("FailedPrecondition".into()),
            error: Some("e".into()),
            retry_after_ms: None,
        }),
        EventData::Skipped(Skipped {
            phase: PhaseKind::Move,
            rpc: Rpc::ChangeAssignation,
            synchronizer: None,
            reason: None,
            already_on_target: Some(3),
            already_held: None,
        }),
        EventData::CallDescribed(CallDescribed {
            phase: PhaseKind::Isolate,
            call: Call::DisconnectAllSynchronizers {},
            request_digest: "sha256:ef".into(),
        }),
        EventData::Verified(VerifyReport {
            participant: "p1".into(),
            ok: true,
            expected: 4,
            held: 4,
            missing: vec![],
            unexpected: vec![],
            pings: vec![PingResult {
                to: "p2".into(),
                ok: true,
                millis: Some(3),
                reason: None,
            }],
            archived_since: vec!["c9".into()],
        }),
        EventData::Surveyed(Surveyed {
            synchronizer: "lost".into(),
            classes: [("agreed".to_string(), 4)].into(),
            contracts: [("p1".to_string(), 6)].into(),
            snapshot: Some(pinned("comparison")),
        }),
        EventData::PlanProposed(PlanProposed {
            plan_hash: "h".into(),
            strategy: StrategyName::Union,
            moved: 6,
            excluded: 3,
            runbook: Some(pinned("runbook")),
            sidecar: Some(pinned("sidecar")),
            survey: Some("sha256:cc".into()),
        }),
        EventData::PlanApproved(PlanApproved {
            plan_hash: "h".into(),
            confirmed_by_typing: "new".into(),
            unattended: false,
        }),
        EventData::StrategyChosen {
            strategy: StrategyName::Union,
        },
        EventData::Decided {
            contract_id: "00aa".into(),
            decision: DecisionName::Purge,
            participant: None,
        },
        EventData::DiffViewed {
            contract_id: "00aa".into(),
        },
        EventData::SessionClosed(SessionClosed {
            front_end: "screen".into(),
        }),
    ]
}

fn pinned(kind: &str) -> crate::journal::Pinned {
    crate::journal::Pinned {
        file: format!("j.pins/{kind}-ab.bin"),
        sha256: "sha256:ab".into(),
        bytes: 3,
    }
}

#[test]
fn every_kind_round_trips_through_the_line_shape() {
    let samples = samples();
    let kinds: Vec<&str> = samples.iter().map(EventData::kind).collect();
    assert_eq!(kinds, KINDS, "one sample per kind, in order");
    for e in samples {
        let (kind, data) = e.to_parts().expect("serialise");
        assert_eq!(EventData::from_parts(kind, &data), Ok(Some(e.clone())), "{kind}");
    }
}

/// The `rpc` a line carries is [`Rpc`]'s name, for every call: renaming either side
/// fails here rather than splitting what resume and the screen match on.
#[test]
fn every_call_is_tagged_with_its_rpc_name() {
    let calls = [
        Call::DisconnectSynchronizer {
            synchronizer: "lost".into(),
        },
        Call::DisconnectAllSynchronizers {},
        Call::ModifySynchronizer {
            synchronizer: "lost".into(),
            manual_connect: true,
            validation: ConnectionValidation::Disabled,
        },
        Call::ReconnectSynchronizer {
            synchronizer: "new".into(),
            retry: true,
        },
        Call::Ping {
            synchronizer: "new".into(),
            party: "p".into(),
            round: 1,
        },
        Call::PurgeContracts {
            synchronizer: "lost".into(),
            ids: 1,
            ids_digest: "d".into(),
            ignore_already_purged: true,
        },
        Call::ImportAcs {
            synchronizer: "lost".into(),
            source: "p1".into(),
            ids: 1,
            ids_digest: "d".into(),
            mode: ImportMode::Validation,
        },
        Call::ChangeAssignation {
            source: "lost".into(),
            target: "new".into(),
            skip_inactive: true,
            ids: 1,
            ids_digest: "d".into(),
            first_id: None,
        },
    ];
    for call in calls {
        let line = serde_json::to_value(&call).expect("serialise");
        assert_eq!(line["rpc"], call.rpc().as_str(), "{call:?}");
        assert_eq!(serde_json::to_value(call.rpc()).expect("rpc"), call.rpc().as_str());
    }
}

#[test]
fn names_are_written_as_the_first_version_wrote_them() {
    for d in [DecisionName::Exclude, DecisionName::Purge, DecisionName::Adopt] {
        assert_eq!(serde_json::to_value(d).expect("decision"), d.as_str());
    }
    let decided = |v: Value| EventData::from_parts("select.decision", &v);
    assert!(decided(serde_json::json!({"contract_id": "00aa", "decision": "keep"})).is_err());
    let proposed = |strategy: &str| {
        EventData::from_parts(
            "plan.proposed",
            &serde_json::json!({"plan_hash": "h", "strategy": strategy, "moved": 1, "excluded": 0}),
        )
    };
    for (written, read) in [
        ("manual (2 rows)", StrategyName::Manual),
        ("manual", StrategyName::Manual),
        ("union", StrategyName::Union),
        ("intersection", StrategyName::Intersection),
    ] {
        match proposed(written) {
            Ok(Some(EventData::PlanProposed(p))) => assert_eq!(p.strategy, read, "{written}"),
            other => panic!("{written}: {other:?}"),
        }
    }
    assert!(proposed("everything").is_err());
    let modify = |validation: &str| {
        EventData::from_parts(
            "dryrun.request",
            &serde_json::json!({"phase": "isolate", "rpc": "ModifySynchronizer", "request_digest": "d",
                "detail": {"synchronizer": "lost", "manual_connect": true, "validation": validation}}),
        )
    };
    assert!(modify("All").is_ok_and(|e| e.is_some()));
    assert!(modify("Active").is_err(), "the plan never asks for it");
}

#[test]
fn unknown_kinds_are_skipped_and_bad_data_is_an_error() {
    assert_eq!(
        EventData::from_parts("session.joined", &serde_json::json!({})),
        Ok(None)
    );
    let bad = EventData::from_parts("phase.done", &serde_json::json!({"phase": "nowhere"}));
    assert!(bad.is_err_and(|e| e.contains("phase.done")));
}

#[test]
fn what_is_only_looked_at_need_not_be_fsynced() {
    let lazy: Vec<&str> = samples().iter().filter(|e| !e.durable()).map(EventData::kind).collect();
    assert_eq!(
        lazy,
        [
            "dryrun.request",
            "search.result",
            "select.mode",
            "select.decision",
            "view.diff"
        ]
    );
}
