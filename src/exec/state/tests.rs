use super::*;
use crate::client::{ContractInspection, InspectedState, merge_inspections};

const LOST: &str = "lost::1220aa";
const NEW: &str = "new::1220bb";

fn ids(list: &[&str]) -> BTreeSet<ContractId> {
    list.iter().map(|s| ContractId::from(*s)).collect()
}

fn record(id: &str, sync: &str, states: &[InspectedState]) -> ContractInspection {
    ContractInspection {
        contract_id: id.to_string(),
        active_on_expected: false,
        states: states.iter().map(|s| (sync.to_string(), s.clone())).collect(),
    }
}

fn moved(id: &str) -> Vec<ContractInspection> {
    vec![
        record(
            id,
            LOST,
            &[
                InspectedState::Created,
                InspectedState::Unassigned { target: NEW.into() },
            ],
        ),
        record(id, NEW, &[InspectedState::Assigned { counter: 1 }]),
    ]
}

fn moved_then_archived(id: &str) -> Vec<ContractInspection> {
    let mut r = moved(id);
    r.push(record(id, NEW, &[InspectedState::Archived]));
    r
}

fn purged(id: &str) -> Vec<ContractInspection> {
    vec![record(id, LOST, &[InspectedState::Created, InspectedState::Archived])]
}

fn registered(alias: &str, manual: bool) -> RegisteredSynchronizer {
    RegisteredSynchronizer {
        alias: alias.into(),
        connected: false,
        manual_connect: manual,
        physical_id: None,
        sequencers: vec![],
        priority: 0,
    }
}

fn connected(alias: &str) -> ConnectedSynchronizer {
    ConnectedSynchronizer {
        alias: alias.into(),
        synchronizer_id: String::new(),
        physical_id: String::new(),
        healthy: true,
    }
}

/// Expected a, b, c, p; the plan purges p, imports i, moves a, b, c and i.
fn planned() -> Planned {
    Planned {
        purge: ids(&["p"]),
        import: ids(&["i"]),
        moves: ids(&["a", "b", "c", "i"]),
    }
}

fn expected() -> Vec<ContractId> {
    ids(&["a", "b", "c", "p"]).into_iter().collect()
}

fn held<'a>(expected: &'a [ContractId], on_lost: &[&str]) -> Holds<'a> {
    let rows: Vec<(&str, u8)> = on_lost.iter().map(|id| (*id, 0)).collect();
    Holds::of(expected, &rows, "Alice")
}

fn observed<'a>(expected: &'a [ContractId], on_lost: &[&str], records: Vec<ContractInspection>) -> Observed<'a> {
    Observed {
        lost_id: LOST,
        target_id: NEW,
        lost_alias: "lostDomain",
        target_alias: "newDomain",
        expected,
        // Leaked: a test's few rows, borrowed for as long as the plan's ids.
        on_lost: Box::leak(Box::new(held(expected, on_lost))),
        histories: merge_inspections(records),
        registered: vec![registered("lostDomain", false), registered("newDomain", true)],
        connected: vec![connected("lostDomain")],
    }
}

#[test]
fn a_fresh_plan_has_nothing_done_and_no_drift() {
    let e = expected();
    let s = stand(&planned(), &observed(&e, &["a", "b", "c", "p"], vec![]));
    assert!(s.gone.is_empty() && s.appeared.is_empty());
    assert_eq!((s.purged.done, s.imported.done, s.moved.done), (0, 0, 0));
    assert!(!s.isolated && !s.idle && !s.reconnected);
    assert!(done_phases(&[s], &BTreeSet::new()).is_empty());
}

#[test]
fn a_finished_recovery_is_done_up_to_verify_even_after_workflows_archived_some() {
    let e = expected();
    let mut records = moved("a");
    records.extend(moved_then_archived("b"));
    records.extend(moved("c"));
    records.extend(purged("p"));
    // Imported onto the lost synchronizer, then moved on.
    records.push(record(
        "i",
        LOST,
        &[
            InspectedState::Created,
            InspectedState::Unassigned { target: NEW.into() },
        ],
    ));
    records.push(record("i", NEW, &[InspectedState::Assigned { counter: 1 }]));
    let mut seen = observed(&e, &[], records);
    seen.registered = vec![registered("lostDomain", true), registered("newDomain", false)];
    seen.connected = vec![connected("newDomain")];
    let s = stand(&planned(), &seen);
    assert!(s.gone.is_empty(), "{:?}", s.gone);
    assert!(s.appeared.is_empty());
    assert_eq!(s.moved, Count { done: 4, total: 4 });
    assert_eq!(s.purged, Count { done: 1, total: 1 });
    assert_eq!(s.imported, Count { done: 1, total: 1 });
    assert!(!s.payloads_visible, "b was archived since: its payload is gone");
    let done = done_phases(&[s], &BTreeSet::new());
    let phases: Vec<PhaseKind> = done.keys().copied().collect();
    assert_eq!(phases, PhaseKind::ALL[..6].to_vec());
    assert!(done.values().all(|b| *b == DoneBy::State));
    let journal: BTreeSet<PhaseKind> = [PhaseKind::Verify].into();
    let e2 = expected();
    let mut seen = observed(&e2, &[], moved("a"));
    seen.histories.extend(merge_inspections(
        moved("b")
            .into_iter()
            .chain(moved("c"))
            .chain(purged("p"))
            .chain(moved("i")),
    ));
    seen.registered = vec![registered("lostDomain", true), registered("newDomain", false)];
    seen.connected = vec![connected("newDomain")];
    let s = stand(&planned(), &seen);
    assert!(!s.payloads_visible, "p was purged: its payload is gone");
    assert_eq!(
        done_phases(&[s], &journal).get(&PhaseKind::Verify),
        Some(&DoneBy::Journal)
    );
    // Everything moved and still active on the target: the payloads can be compared.
    let moves_only = Planned {
        moves: ids(&["a", "b"]),
        ..Planned::default()
    };
    let e3: Vec<ContractId> = ids(&["a", "b"]).into_iter().collect();
    let records = moved("a").into_iter().chain(moved("b")).collect();
    assert!(stand(&moves_only, &observed(&e3, &[], records)).payloads_visible);
}

#[test]
fn a_contract_gone_without_reaching_the_target_is_drift() {
    let e = expected();
    // `a` was purged on the lost synchronizer by someone; `x` is new there.
    let s = stand(&planned(), &observed(&e, &["b", "c", "p", "x"], purged("a")));
    assert_eq!(s.gone.len(), 1);
    assert_eq!(&*s.gone[0].id, "a");
    assert!(
        s.gone[0].became.contains("archived or purged on lostDomain"),
        "{:?}",
        s.gone
    );
    assert_eq!(s.appeared, vec![ContractId::from("x")]);
    // A planned purge gone by being moved away is drift too.
    let mut records = moved("p");
    records.extend(moved("a"));
    let s = stand(&planned(), &observed(&e, &["b", "c"], records));
    assert_eq!(s.gone.iter().map(|r| &*r.id).collect::<Vec<_>>(), ["p"]);
    // A planned import held is the plan's own work.
    let s = stand(&planned(), &observed(&e, &["a", "b", "c", "p", "i"], vec![]));
    assert!(s.appeared.is_empty());
    assert_eq!(s.imported, Count { done: 1, total: 1 });
}

#[test]
fn an_interrupted_move_resumes_at_the_move() {
    let e = expected();
    let mut records = moved("a");
    records.extend(purged("p"));
    let mut seen = observed(&e, &["b", "c", "i"], records);
    seen.registered = vec![registered("lostDomain", true), registered("newDomain", true)];
    seen.connected = vec![];
    let s = stand(&planned(), &seen);
    assert!(s.gone.is_empty());
    assert_eq!(s.moved, Count { done: 1, total: 4 });
    assert_eq!(s.to_move, ids(&["b", "c", "i"]).into_iter().collect::<Vec<_>>());
    let done = done_phases(std::slice::from_ref(&s), &BTreeSet::new());
    assert_eq!(
        done.keys().copied().collect::<Vec<_>>(),
        [
            PhaseKind::Isolate,
            PhaseKind::InitTarget,
            PhaseKind::Purge,
            PhaseKind::Import
        ]
    );
    // Someone connected the participant meanwhile: the target's initialisation runs
    // again (it ends disconnected, as the repairs need).
    let mut busy = s.clone();
    busy.idle = false;
    assert_eq!(
        done_phases(&[busy], &BTreeSet::new())
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        [PhaseKind::Isolate]
    );
}

#[test]
fn the_journal_counts_only_for_what_leaves_no_trace_and_only_in_order() {
    let e = expected();
    let mut seen = observed(&e, &["a", "b", "c", "p"], vec![]);
    seen.registered = vec![registered("lostDomain", true), registered("newDomain", true)];
    seen.connected = vec![];
    let s = stand(&planned(), &seen);
    let journal: BTreeSet<PhaseKind> = PhaseKind::ALL.into_iter().collect();
    let done = done_phases(std::slice::from_ref(&s), &journal);
    assert_eq!(
        done,
        [
            (PhaseKind::Isolate, DoneBy::State),
            (PhaseKind::InitTarget, DoneBy::Journal)
        ]
        .into(),
        "the journal claims the purge done, the participant does not"
    );
    // Not isolated: nothing counts, whatever comes later.
    let mut open = s;
    open.isolated = false;
    assert!(done_phases(&[open], &journal).is_empty());
}

#[test]
fn to_inspect_asks_only_about_what_the_holding_cannot_tell() {
    let e = expected();
    let on_lost = held(&e, &["a", "b", "p"]);
    assert_eq!(Observed::to_inspect(&e, &on_lost, &planned()), ["c", "i"]);
}
