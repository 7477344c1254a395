use super::*;
use crate::reconcile::comparison::RowClass;
use crate::reconcile::model::Interner;
use crate::reconcile::testkit::*;

fn two() -> (Vec<ParticipantSnapshot>, Interner) {
    (
        vec![snapshot("p2", &["Bob"]), snapshot("p1", &["Alice"])],
        Interner::new(),
    )
}

#[test]
fn rows_are_sorted_and_participants_ordered_by_name() {
    let (mut snaps, mut i) = two();
    hold(&mut snaps, &mut i, &["p1", "p2"], "c2", &["Alice", "Bob"], 1);
    hold(&mut snaps, &mut i, &["p1", "p2"], "c1", &["Alice", "Bob"], 1);
    let cmp = compare("lost", &snaps, &Inspection::new()).unwrap();
    assert_eq!(cmp.participants(), ["p1", "p2"]);
    let ids: Vec<&str> = cmp.rows().iter().map(|r| &**r.contract_id()).collect();
    assert_eq!(ids, ["c1", "c2"]);
    assert_eq!(cmp.counts().get(RowClass::Agreed), 2);
}

#[test]
fn inspection_decides_between_missing_and_archived() {
    let (mut snaps, mut i) = two();
    hold(&mut snaps, &mut i, &["p1"], "c1", &["Alice", "Bob"], 1);
    hold(&mut snaps, &mut i, &["p1"], "c2", &["Alice", "Bob"], 1);
    hold(&mut snaps, &mut i, &["p1"], "c3", &["Alice", "Bob"], 1);
    let mut ins = Inspection::new();
    ins.record("p2", "c2", InspectionResult::Archived);
    ins.record("p2", "c3", InspectionResult::Moved { to: "other".into() });
    let cmp = compare("lost", &snaps, &ins).unwrap();
    let state = |id: &str| cmp.row(id).unwrap().state(1).unwrap().clone();
    assert_eq!(state("c1"), ParticipantState::Unknown);
    assert_eq!(state("c2"), ParticipantState::Archived);
    assert_eq!(state("c3"), ParticipantState::Moved { to: "other".into() });
    assert_eq!(cmp.row("c1").unwrap().class(), RowClass::Missing);
    assert_eq!(cmp.row("c3").unwrap().class(), RowClass::ArchivedSomewhere);
}

#[test]
fn non_hosting_participants_are_not_relevant() {
    let (mut snaps, mut i) = two();
    hold(&mut snaps, &mut i, &["p1"], "c1", &["Alice"], 1);
    let cmp = compare("lost", &snaps, &Inspection::new()).unwrap();
    let row = cmp.row("c1").unwrap();
    assert_eq!(row.class(), RowClass::LocalOnly);
    assert_eq!(row.state(1), Some(&ParticipantState::NotHosted));
}

#[test]
fn a_holder_is_relevant_even_without_hosting_a_stakeholder() {
    let (mut snaps, mut i) = two();
    hold(&mut snaps, &mut i, &["p1", "p2"], "c1", &["Alice"], 1);
    let cmp = compare("lost", &snaps, &Inspection::new()).unwrap();
    assert_eq!(cmp.row("c1").unwrap().class(), RowClass::Agreed);
}

#[test]
fn inspection_requests_list_what_relevant_participants_lack() {
    let mut i = Interner::new();
    let mut snaps = vec![
        snapshot("p1", &["Alice"]),
        snapshot("p2", &["Bob"]),
        snapshot("p3", &["Carol"]),
    ];
    hold(&mut snaps, &mut i, &["p1"], "c1", &["Alice", "Bob"], 1);
    hold(&mut snaps, &mut i, &["p2"], "c2", &["Alice", "Bob", "Carol"], 1);
    hold(&mut snaps, &mut i, &["p1", "p2"], "c3", &["Alice", "Bob"], 1);
    let asks = inspection_requests(&snaps).unwrap();
    let ids = |p: &str| -> Vec<&str> { asks[p].iter().map(|c| &**c).collect() };
    assert_eq!(ids("p1"), ["c2"]);
    assert_eq!(ids("p2"), ["c1"]);
    assert_eq!(ids("p3"), ["c2"]);
}

#[test]
fn diverged_stakeholders_are_merged_and_sorted() {
    let (mut snaps, mut i) = two();
    hold(&mut snaps, &mut i, &["p1"], "c1", &["Alice", "Bob"], 1);
    hold(&mut snaps, &mut i, &["p2"], "c1", &["Bob", "Carol"], 2);
    let cmp = compare("lost", &snaps, &Inspection::new()).unwrap();
    let parties: Vec<&str> = cmp.rows()[0].stakeholders().iter().map(|p| &**p).collect();
    assert_eq!(parties, ["Alice", "Bob", "Carol"]);
    assert_eq!(cmp.rows()[0].class(), RowClass::PayloadMismatch);
}

#[test]
fn bad_input_is_refused_with_the_participant_named() {
    let (mut snaps, mut i) = two();
    assert_eq!(
        compare("lost", &[], &Inspection::new()),
        Err(CompareError::NoParticipants)
    );
    hold(&mut snaps, &mut i, &["p1"], "c1", &["Alice"], 1);
    hold(&mut snaps, &mut i, &["p1"], "c1", &["Alice"], 2);
    let err = compare("lost", &snaps, &Inspection::new()).unwrap_err();
    assert!(err.to_string().contains("p1 lists contract c1 twice"), "{err}");
    let dup = vec![snapshot("p1", &[]), snapshot("p1", &[])];
    assert_eq!(
        compare("lost", &dup, &Inspection::new()),
        Err(CompareError::DuplicateParticipant("p1".into()))
    );
    let (mut snaps, mut i) = two();
    hold(&mut snaps, &mut i, &["p2"], "bad id", &["Bob"], 1);
    assert!(matches!(
        compare("lost", &snaps, &Inspection::new()),
        Err(CompareError::InvalidContractId { .. })
    ));
}

#[test]
fn prefix_keys_sort_like_the_ids() {
    let mut ids = vec![
        "00aa",
        "00a",
        "00aaaaaaaaaaaaaaaa1",
        "00aaaaaaaaaaaaaaaa0",
        "00aaaaaaaaaaaaaa",
        "0",
        "~",
        "00b",
    ];
    let mut by_key = ids.clone();
    by_key.sort_by(|a, b| prefix_key(a).cmp(&prefix_key(b)).then(a.cmp(b)));
    ids.sort();
    assert_eq!(by_key, ids);
}

#[test]
fn relevance_stays_right_beyond_the_host_cache() {
    let mut i = Interner::new();
    let parties: Vec<String> = (0..40).map(|k| format!("party{k}")).collect();
    let hosted = |parity: usize| -> Vec<&str> { parties.iter().skip(parity).step_by(2).map(String::as_str).collect() };
    let mut snaps = vec![snapshot("even", &hosted(0)), snapshot("odd", &hosted(1))];
    // 40 distinct stakeholder sets cycle three times through a cache of 16 entries.
    for round in 0..3 {
        for (k, party) in parties.iter().enumerate() {
            let id = format!("c{round}-{k:02}");
            hold(&mut snaps, &mut i, &["even"], &id, &[party.as_str()], 1);
        }
    }
    let cmp = compare("lost", &snaps, &Inspection::new()).unwrap();
    assert_eq!(cmp.len(), 120);
    for row in cmp.rows() {
        let k: usize = row.contract_id()[3..].parse().unwrap();
        let expected = if k.is_multiple_of(2) {
            RowClass::LocalOnly
        } else {
            RowClass::Missing
        };
        assert_eq!(row.class(), expected, "{}", row.contract_id());
    }
}
