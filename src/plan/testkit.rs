//! A small incident shared by the plan tests.

use std::collections::BTreeMap;

use crate::reconcile::testkit::{hold, snapshot};
use crate::reconcile::*;

use super::{InFlight, Plan, PlanError, PlanInput, build_plan};

const AB: [&str; 2] = ["Alice", "Bob"];

/// p1 hosts Alice, p2 Bob, p3 Carol. a1..a3 agreed; m1 missing on p2; m2 missing on p1;
/// x1 archived on p2; d1 differs between p1 and p2 (Carol is a stakeholder, p3 never saw
/// it); l1 only on p1.
pub(crate) fn snapshots() -> (Vec<ParticipantSnapshot>, Inspection) {
    let mut i = Interner::new();
    let mut s = vec![
        snapshot("p1", &["Alice"]),
        snapshot("p2", &["Bob"]),
        snapshot("p3", &["Carol"]),
    ];
    for id in ["a3", "a1", "a2"] {
        hold(&mut s, &mut i, &["p1", "p2"], id, &AB, 1);
    }
    hold(&mut s, &mut i, &["p1"], "m1", &AB, 1);
    hold(&mut s, &mut i, &["p2"], "m2", &AB, 1);
    hold(&mut s, &mut i, &["p1"], "x1", &AB, 1);
    hold(&mut s, &mut i, &["p1"], "d1", &["Alice", "Bob", "Carol"], 1);
    hold(&mut s, &mut i, &["p2"], "d1", &["Alice", "Bob", "Carol"], 2);
    hold(&mut s, &mut i, &["p1"], "l1", &["Alice"], 1);
    let mut ins = Inspection::new();
    ins.record("p2", "x1", InspectionResult::Archived);
    (s, ins)
}

pub(crate) fn comparison() -> Comparison {
    let (s, ins) = snapshots();
    compare("lost", &s, &ins).unwrap()
}

pub(crate) fn union_request() -> SelectionRequest {
    SelectionRequest::new(Strategy::Union)
        .decide("x1", Decision::Purge)
        .decide("d1", Decision::Exclude)
}

pub(crate) fn in_flight(cmp: &Comparison) -> BTreeMap<String, InFlight> {
    cmp.participants()
        .iter()
        .map(|p| (p.clone(), InFlight::default()))
        .collect()
}

pub(crate) fn plan_for(cmp: &Comparison, req: &SelectionRequest, batch_size: u32) -> Result<Plan, PlanError> {
    let selection = select(cmp, req)?;
    build_plan(&PlanInput {
        incident: "drill",
        lost: "lost",
        target: "new",
        participants: cmp.participants(),
        comparison: cmp,
        selection: &selection,
        request: req,
        batch_size,
        in_flight: &in_flight(cmp),
    })
}
