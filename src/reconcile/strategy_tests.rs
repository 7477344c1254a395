use std::collections::BTreeSet;

use super::testkit::*;
use super::*;

const AB: [&str; 2] = ["Alice", "Bob"];

/// p1 hosts Alice, p2 Bob, p3 Carol.
/// agreed a1; local_only l1 (p1); missing m1 (p1 has, p2 unknown);
/// archived x1 (p1 has, p2 archived); mismatch d1 (p1: 1, p2: 2, p3 unknown; Carol too).
fn fixture() -> Comparison {
    let mut i = Interner::new();
    let mut s = vec![
        snapshot("p3", &["Carol"]),
        snapshot("p1", &["Alice"]),
        snapshot("p2", &["Bob"]),
    ];
    hold(&mut s, &mut i, &["p1", "p2"], "a1", &AB, 1);
    hold(&mut s, &mut i, &["p1"], "l1", &["Alice"], 1);
    hold(&mut s, &mut i, &["p1"], "m1", &AB, 1);
    hold(&mut s, &mut i, &["p1"], "x1", &AB, 1);
    hold(&mut s, &mut i, &["p1"], "d1", &["Alice", "Bob", "Carol"], 1);
    hold(&mut s, &mut i, &["p2"], "d1", &["Alice", "Bob", "Carol"], 2);
    let mut ins = Inspection::new();
    ins.record("p2", "x1", InspectionResult::Archived);
    compare("lost", &s, &ins).unwrap()
}

fn ids(list: &[ContractId]) -> Vec<&str> {
    list.iter().map(|c| &**c).collect()
}

fn reason(sel: &Selection, id: &str) -> Option<ExclusionReason> {
    sel.excluded().iter().find(|e| &*e.contract_id == id).map(|e| e.reason)
}

#[test]
fn fixture_classes() {
    let cmp = fixture();
    let class = |id| cmp.row(id).unwrap().class();
    assert_eq!(class("a1"), RowClass::Agreed);
    assert_eq!(class("l1"), RowClass::LocalOnly);
    assert_eq!(class("m1"), RowClass::Missing);
    assert_eq!(class("x1"), RowClass::ArchivedSomewhere);
    assert_eq!(class("d1"), RowClass::PayloadMismatch);
}

#[test]
fn intersection_moves_agreed_and_local_only() {
    let sel = select(&fixture(), &SelectionRequest::new(Strategy::Intersection)).unwrap();
    assert_eq!(ids(&sel.work("p1").unwrap().moves), ["a1", "l1"]);
    assert_eq!(ids(&sel.work("p2").unwrap().moves), ["a1"]);
    assert!(sel.work("p3").unwrap().is_empty());
    for id in ["m1", "x1", "d1"] {
        assert_eq!(reason(&sel, id), Some(ExclusionReason::NotInStrategy), "{id}");
    }
    let classes: Vec<RowClass> = sel.excluded().iter().map(|e| e.class).collect();
    assert_eq!(
        classes,
        [
            RowClass::PayloadMismatch,
            RowClass::Missing,
            RowClass::ArchivedSomewhere
        ]
    );
}

#[test]
fn union_blocks_until_every_disputed_row_is_decided() {
    let err = select(&fixture(), &SelectionRequest::new(Strategy::Union)).unwrap_err();
    let SelectionError::Undecided(rows) = &err else {
        panic!("{err}")
    };
    let listed: Vec<(&str, RowClass)> = rows.iter().map(|r| (&*r.contract_id, r.class)).collect();
    assert_eq!(
        listed,
        [("d1", RowClass::PayloadMismatch), ("x1", RowClass::ArchivedSomewhere)]
    );
    let msg = err.to_string();
    assert!(msg.starts_with("2 row(s) need an operator decision"), "{msg}");
    assert!(msg.contains("x1 (archived_somewhere)"), "{msg}");
}

#[test]
fn union_imports_missing_rows_then_moves_them_everywhere() {
    let req = SelectionRequest::new(Strategy::Union)
        .decide("x1", Decision::Exclude)
        .decide("d1", Decision::Exclude);
    let sel = select(&fixture(), &req).unwrap();
    let p2 = sel.work("p2").unwrap();
    assert_eq!(ids(&p2.import["p1"]), ["m1"]);
    assert_eq!(ids(&p2.moves), ["a1", "m1"]);
    assert_eq!(ids(&sel.work("p1").unwrap().moves), ["a1", "l1", "m1"]);
    assert_eq!(reason(&sel, "x1"), Some(ExclusionReason::DecidedExclude));
}

#[test]
fn purge_removes_the_row_wherever_it_is_active() {
    let req = SelectionRequest::new(Strategy::Union)
        .decide("x1", Decision::Purge)
        .decide("d1", Decision::Purge);
    let sel = select(&fixture(), &req).unwrap();
    assert_eq!(ids(&sel.work("p1").unwrap().purge), ["d1", "x1"]);
    assert_eq!(ids(&sel.work("p2").unwrap().purge), ["d1"]);
    assert!(sel.work("p3").unwrap().purge.is_empty());
    assert_eq!(reason(&sel, "x1"), Some(ExclusionReason::DecidedPurge));
    assert!(!sel.moved_ids().contains("d1"));
}

#[test]
fn decisions_that_do_not_fit_are_refused_all_at_once() {
    let req = SelectionRequest::new(Strategy::Union)
        .decide("a1", Decision::Purge)
        .decide("zz", Decision::Exclude)
        .exclude("nope");
    let SelectionError::Invalid(problems) = select(&fixture(), &req).unwrap_err() else {
        panic!("expected invalid")
    };
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems.iter().any(|p| matches!(
        p,
        SelectionProblem::DecisionNotNeeded {
            class: RowClass::Agreed,
            ..
        }
    )));
    let text = SelectionError::Invalid(problems).to_string();
    assert!(
        text.contains("contract nope in the exclude list is not on the lost synchronizer"),
        "{text}"
    );
}

#[test]
fn decisions_the_strategy_would_ignore_are_refused() {
    let req = SelectionRequest::new(Strategy::Intersection).decide("x1", Decision::Purge);
    let err = select(&fixture(), &req).unwrap_err().to_string();
    assert!(err.contains("intersection never imports or purges"), "{err}");
    let req = SelectionRequest::new(Strategy::Union)
        .decide("x1", Decision::Purge)
        .exclude("x1");
    let err = select(&fixture(), &req).unwrap_err().to_string();
    assert!(err.contains("also on the exclude list"), "{err}");
}

#[test]
fn manual_takes_only_the_picked_rows_and_treats_them_as_union() {
    let include: BTreeSet<ContractId> = ["m1", "d1"].into_iter().map(ContractId::from).collect();
    let req = SelectionRequest::new(Strategy::Manual {
        include: include.clone(),
    });
    let err = select(&fixture(), &req).unwrap_err();
    assert!(matches!(&err, SelectionError::Undecided(r) if r.len() == 1), "{err}");

    let req = req.decide("d1", Decision::Exclude);
    let sel = select(&fixture(), &req).unwrap();
    assert_eq!(sel.moved_ids(), ["m1".into()].into());
    assert_eq!(reason(&sel, "a1"), Some(ExclusionReason::NotSelected));
    assert_eq!(reason(&sel, "x1"), Some(ExclusionReason::NotSelected));
    assert_eq!(reason(&sel, "d1"), Some(ExclusionReason::DecidedExclude));
    assert_eq!(ids(&sel.work("p2").unwrap().import["p1"]), ["m1"]);

    let bad = SelectionRequest::new(Strategy::Manual {
        include: ["q".into()].into(),
    });
    assert!(
        select(&fixture(), &bad)
            .unwrap_err()
            .to_string()
            .contains("the manual selection")
    );
}

#[test]
fn the_exclude_list_wins_and_unblocks() {
    let req = SelectionRequest::new(Strategy::Union)
        .exclude("x1")
        .exclude("d1")
        .exclude("a1");
    let sel = select(&fixture(), &req).unwrap();
    assert_eq!(ids(&sel.work("p1").unwrap().moves), ["l1", "m1"]);
    for id in ["a1", "d1", "x1"] {
        assert_eq!(reason(&sel, id), Some(ExclusionReason::ExcludeList));
    }
}

#[test]
fn row_fates_are_what_select_does_with_each_row() {
    let cmp = fixture();
    let picks: BTreeSet<ContractId> = ["m1", "x1"].into_iter().map(ContractId::from).collect();
    let fates = |req: &SelectionRequest| -> Vec<(String, String)> {
        cmp.rows()
            .iter()
            .map(|r| (r.contract_id().to_string(), format!("{:?}", row_fate(r, req))))
            .collect()
    };
    let fate = |req: &SelectionRequest, id: &str| format!("{:?}", row_fate(cmp.row(id).unwrap(), req));

    let inter = SelectionRequest::new(Strategy::Intersection).decide("x1", Decision::Purge);
    assert_eq!(fate(&inter, "a1"), "Move");
    assert_eq!(fate(&inter, "l1"), "Move");
    for id in ["m1", "x1", "d1"] {
        assert_eq!(
            fate(&inter, id),
            "Exclude(NotInStrategy)",
            "{id}: decisions are not consulted"
        );
    }
    let union = SelectionRequest::new(Strategy::Union).decide("x1", Decision::Purge);
    assert_eq!(fate(&union, "m1"), "FillAndMove");
    assert_eq!(fate(&union, "x1"), "Purge");
    assert_eq!(fate(&union, "d1"), "Undecided");
    let union = union.decide("d1", Decision::Exclude);
    assert_eq!(fate(&union, "d1"), "Exclude(DecidedExclude)");
    assert_eq!(fate(&union.clone().exclude("d1"), "d1"), "Exclude(ExcludeList)");
    let manual = SelectionRequest::new(StrategyName::Manual.with_picks(picks)).decide("x1", Decision::Exclude);
    assert_eq!(fate(&manual, "a1"), "Exclude(NotSelected)");
    assert_eq!(fate(&manual, "x1"), "Exclude(DecidedExclude)");

    // Wherever select succeeds, the moved rows are exactly the rows whose fate moves.
    for req in [
        SelectionRequest::new(Strategy::Intersection),
        union.clone(),
        manual.clone(),
    ] {
        let sel = select(&cmp, &req).expect("select");
        for row in cmp.rows() {
            let moved = sel.moved_ids().contains(row.contract_id());
            assert_eq!(row_fate(row, &req).moves(), moved, "{:?}", fates(&req));
        }
    }
}

#[test]
fn only_consulted_decisions_survive_a_strategy_change() {
    let cmp = fixture();
    let decided = |strategy: Strategy| {
        SelectionRequest::new(strategy)
            .decide("x1", Decision::Purge)
            .decide("d1", Decision::Exclude)
            .without_ignored_decisions()
    };
    let inter = decided(Strategy::Intersection);
    assert!(inter.decisions.is_empty());
    assert!(select(&cmp, &inter).is_ok(), "nothing the engine would refuse is sent");
    let manual = decided(StrategyName::Manual.with_picks(["x1".into()].into()));
    assert_eq!(manual.decisions.keys().map(|k| &**k).collect::<Vec<_>>(), ["x1"]);
    assert!(select(&cmp, &manual).is_ok());
    assert_eq!(decided(Strategy::Union).decisions.len(), 2);
    assert!(
        !SelectionRequest::new(Strategy::Union)
            .exclude("x1")
            .consults_decision(&"x1".into())
    );
}

#[test]
fn decisions_fit_rows_whatever_the_strategy() {
    let cmp = fixture();
    let fits = |id: &str, d: &Decision| decision_fits(&cmp, cmp.row(id).unwrap(), d);
    assert!(fits("x1", &Decision::Purge).is_ok());
    assert!(fits("d1", &Decision::Exclude).is_ok());
    assert!(matches!(
        fits("a1", &Decision::Exclude),
        Err(SelectionProblem::DecisionNotNeeded { .. })
    ));
}

#[test]
fn strategy_names_round_trip_and_make_strategies() {
    for name in StrategyName::ALL {
        assert_eq!(name.as_str().parse::<StrategyName>(), Ok(name));
        assert_eq!(name.with_picks(BTreeSet::new()).kind(), name);
        assert_eq!(name.with_picks(BTreeSet::new()).name(), name.as_str());
    }
    assert!("both".parse::<StrategyName>().is_err());
}
