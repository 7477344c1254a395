use crate::reconcile::*;

use super::testkit::*;
use super::*;

fn ids(list: &[ContractId]) -> Vec<&str> {
    list.iter().map(|c| &**c).collect()
}

fn steps(plan: &Plan, kind: PhaseKind) -> Vec<(&str, &Action)> {
    plan.phase(kind)
        .unwrap()
        .steps
        .iter()
        .map(|s| (s.participant.as_str(), &s.action))
        .collect()
}

#[test]
fn phases_come_in_order_and_frame_every_participant() {
    let plan = plan_for(&comparison(), &union_request(), 500).unwrap();
    let kinds: Vec<PhaseKind> = plan.phases().iter().map(|p| p.kind).collect();
    assert_eq!(kinds, PhaseKind::ALL);
    for kind in [
        PhaseKind::Isolate,
        PhaseKind::InitTarget,
        PhaseKind::Reconnect,
        PhaseKind::Verify,
    ] {
        let who: std::collections::BTreeSet<&str> = steps(&plan, kind).iter().map(|s| s.0).collect();
        assert_eq!(who.len(), 3, "{kind}");
    }
    let isolate = steps(&plan, PhaseKind::Isolate);
    assert_eq!(
        isolate[..2],
        [
            (
                "p1",
                &Action::DisconnectSynchronizer {
                    synchronizer: "lost".into()
                }
            ),
            (
                "p1",
                &Action::ModifySynchronizer {
                    synchronizer: "lost".into(),
                    manual_connect: true,
                    validation: ConnectionValidation::Disabled,
                }
            ),
        ]
    );
    let init: Vec<&str> = steps(&plan, PhaseKind::InitTarget)
        .iter()
        .take(4)
        .map(|s| s.1.kind())
        .collect();
    assert_eq!(
        init,
        [
            "modify_synchronizer",
            "reconnect_synchronizer",
            "ping",
            "disconnect_all_synchronizers"
        ]
    );
    let reconnect = steps(&plan, PhaseKind::Reconnect);
    assert!(matches!(
        reconnect[0].1,
        Action::ModifySynchronizer {
            manual_connect: false,
            ..
        }
    ));
    assert!(matches!(
        reconnect[1].1,
        Action::ReconnectSynchronizer { retry: true, .. }
    ));
}

#[test]
fn union_purges_decided_rows_and_imports_both_ways() {
    let plan = plan_for(&comparison(), &union_request(), 500).unwrap();
    let purge = steps(&plan, PhaseKind::Purge);
    assert_eq!(purge.len(), 1, "only p1 purges");
    let Action::PurgeContracts {
        contract_ids,
        ignore_already_purged,
        ..
    } = purge[0].1
    else {
        panic!()
    };
    assert_eq!((purge[0].0, ids(contract_ids)), ("p1", vec!["x1"]));
    assert!(ignore_already_purged);

    let imports: Vec<(&str, &str, Vec<&str>)> = steps(&plan, PhaseKind::Import)
        .into_iter()
        .map(|(p, a)| match a {
            Action::ImportAcs {
                source_participant,
                contract_ids,
                ..
            } => (p, source_participant.as_str(), ids(contract_ids)),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(imports, [("p1", "p2", vec!["m2"]), ("p2", "p1", vec!["m1"])]);
}

#[test]
fn moves_are_sorted_batches_of_the_batch_size() {
    let plan = plan_for(&comparison(), &union_request(), 2).unwrap();
    let batches: Vec<Vec<&str>> = steps(&plan, PhaseKind::Move)
        .into_iter()
        .filter(|(p, _)| *p == "p1")
        .map(|(_, a)| {
            let Action::ChangeAssignation {
                contract_ids,
                skip_inactive: true,
                ..
            } = a
            else {
                panic!()
            };
            ids(contract_ids)
        })
        .collect();
    assert_eq!(batches, [vec!["a1", "a2"], vec!["a3", "l1"], vec!["m1", "m2"]]);
    assert!(plan.moved_by("p3").is_empty(), "p3 only had the excluded row");
}

#[test]
fn verify_lists_the_moved_set_and_pings_the_others() {
    let plan = plan_for(&comparison(), &union_request(), 500).unwrap();
    let verify = steps(&plan, PhaseKind::Verify);
    let Action::Verify {
        synchronizer,
        contract_ids,
        ping,
    } = verify[1].1
    else {
        panic!()
    };
    assert_eq!(verify[1].0, "p2");
    assert_eq!(synchronizer, "new");
    assert_eq!(ids(contract_ids), ["a1", "a2", "a3", "m1", "m2"]);
    assert_eq!(ping, &["p1", "p3"]);
}

#[test]
fn intersection_has_no_purge_or_import_steps() {
    let req = SelectionRequest::new(Strategy::Intersection);
    let plan = plan_for(&comparison(), &req, 500).unwrap();
    assert!(plan.phase(PhaseKind::Purge).unwrap().steps.is_empty());
    assert!(plan.phase(PhaseKind::Import).unwrap().steps.is_empty());
    assert!(steps(&plan, PhaseKind::Move).iter().all(|(p, _)| *p != "p3"));
    let excluded: Vec<(&str, RowClass)> = plan.excluded().iter().map(|e| (&*e.contract_id, e.class)).collect();
    assert_eq!(
        excluded,
        [
            ("d1", RowClass::PayloadMismatch),
            ("m1", RowClass::Missing),
            ("m2", RowClass::Missing),
            ("x1", RowClass::ArchivedSomewhere)
        ]
    );
}

#[test]
fn expected_snapshots_match_the_exports_and_detect_drift() {
    let (snaps, _) = snapshots();
    let plan = plan_for(&comparison(), &union_request(), 500).unwrap();
    for s in &snaps {
        let e = plan.expected(&s.participant).unwrap();
        assert_eq!(e.digest, snapshot_digest(&s.contracts));
        assert_eq!(e.active.len(), s.contracts.len());
        assert!(e.check(s).is_none());
    }
    let mut p1 = snaps[0].clone();
    p1.contracts.retain(|c| &*c.contract_id != "m1");
    let drift = plan.expected("p1").unwrap().check(&p1);
    let gone: Vec<_> = drift
        .rows
        .iter()
        .map(|r| (r.contract_id.to_string(), r.kind()))
        .collect();
    assert_eq!(gone, [("m1".to_string(), DriftKind::Disappeared)]);
    let mut p2 = snaps[1].clone();
    let changed = p2.contracts[0].contract_id.clone();
    p2.contracts[0].payload_digest = [7; 32];
    let drift = plan.expected("p2").unwrap().check(&p2);
    assert_eq!(drift.rows.len(), 1);
    assert_eq!(drift.rows[0].contract_id, changed);
    assert_eq!(drift.rows[0].found, Held::Active(Some(PayloadTag::from(&[7; 32]))));
    assert_eq!(drift.count(DriftKind::PayloadChanged), 1);
}

#[test]
fn bad_inputs_are_refused_with_a_reason() {
    let cmp = comparison();
    let req = union_request();
    assert_eq!(plan_for(&cmp, &req, 0), Err(PlanError::ZeroBatchSize));
    let undecided = SelectionRequest::new(Strategy::Union);
    assert!(matches!(plan_for(&cmp, &undecided, 5), Err(PlanError::Selection(_))));

    let selection = select(&cmp, &req).unwrap();
    let flights = in_flight(&cmp);
    let base = PlanInput {
        incident: "drill",
        lost: "lost",
        target: "new",
        participants: cmp.participants(),
        comparison: &cmp,
        selection: &selection,
        request: &req,
        batch_size: 10,
        in_flight: &flights,
    };
    assert!(build_plan(&base).is_ok());
    let err = build_plan(&PlanInput { target: "lost", ..base }).unwrap_err();
    assert_eq!(err, PlanError::SameSynchronizer("lost".into()));
    let err = build_plan(&PlanInput {
        lost: "other",
        target: "new",
        ..base
    })
    .unwrap_err();
    assert!(matches!(err, PlanError::WrongSynchronizer { .. }));
    let two = vec!["p1".to_string(), "p2".to_string(), "p4".to_string()];
    let err = build_plan(&PlanInput {
        participants: &two,
        ..base
    })
    .unwrap_err();
    assert!(err.to_string().contains("not compared: [\"p4\"]"), "{err}");
    assert!(err.to_string().contains("[\"p3\"]"), "{err}");
    let mut fewer = flights.clone();
    fewer.remove("p2");
    let err = build_plan(&PlanInput {
        in_flight: &fewer,
        ..base
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("no in-flight count for participant p2"),
        "{err}"
    );
    let other_req = req.clone().exclude("a1");
    let err = build_plan(&PlanInput {
        request: &other_req,
        ..base
    })
    .unwrap_err();
    assert_eq!(err, PlanError::StaleSelection);
    let err = build_plan(&PlanInput { incident: " ", ..base }).unwrap_err();
    assert!(err.to_string().contains("incident name is empty"), "{err}");
}

#[test]
fn in_flight_acknowledgements_are_kept() {
    let cmp = comparison();
    let req = union_request();
    let selection = select(&cmp, &req).unwrap();
    let mut flights = in_flight(&cmp);
    flights.insert(
        "p2".into(),
        InFlight {
            pending_submissions: 1,
            pending_transactions: 3,
        },
    );
    let plan = build_plan(&PlanInput {
        incident: "drill",
        lost: "lost",
        target: "new",
        participants: cmp.participants(),
        comparison: &cmp,
        selection: &selection,
        request: &req,
        batch_size: 10,
        in_flight: &flights,
    })
    .unwrap();
    assert_eq!(plan.in_flight()["p2"].pending_transactions, 3);
    assert_ne!(plan.hash(), plan_for(&cmp, &req, 10).unwrap().hash());
}
