use super::*;
use crate::client::sync_config::default_config;
use crate::lab::ids;
use crate::value;
use crate::wire::lab::ContractBlob;

fn blob(n: u32) -> ContractBlob {
    let mut b = ContractBlob {
        contract_id: String::new(),
        template_id: Some(crate::lab::templates::template_id("Iou")),
        package_name: "CantonExamples".into(),
        create_arguments: Some(value::record(vec![
            ("payer", value::party("A::1")),
            ("n", value::text(&n.to_string())),
        ])),
        signatories: vec!["A::1".into()],
        observers: vec!["B::2".into()],
        created_at_micros: 1,
    };
    b.contract_id = ids::contract_id(&[&n.to_be_bytes()], &b);
    b
}

#[test]
fn state_survives_reopening_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.db");
    let b = blob(1);
    {
        let mut s = Store::open(&path).expect("open");
        s.add_party("A::1").expect("party");
        assert!(
            s.register_sync(&default_config("lost", "http://x:1", false))
                .expect("register")
        );
        assert!(
            !s.register_sync(&default_config("lost", "http://y:2", true))
                .expect("again"),
            "alias is taken"
        );
        let tx = s.conn().transaction().expect("tx");
        let off = next_offset(&tx).expect("offset");
        assert_eq!(acs::upsert_contract(&tx, &b).expect("insert"), acs::ContractInsert::New);
        acs::set_state(&tx, &b.contract_id, "lost::1", &Change::Create, 0, off, 10).expect("state");
        tx.commit().expect("commit");
    }
    let mut s = Store::open(&path).expect("reopen");
    assert_eq!(s.hosted_parties().expect("parties"), vec!["A::1"]);
    assert_eq!(s.ledger_end().expect("end"), 1);
    let reg = s.sync("lost").expect("read").expect("registered");
    assert_eq!(
        reg.config.sequencer_connections.map(|c| c.sequencer_connections.len()),
        Some(1)
    );
    assert!(
        !reg.config.manual_connect,
        "the second registration must not have replaced the first"
    );
    assert_eq!(
        acs::active_ids(s.conn(), "lost::1").expect("ids"),
        vec![b.contract_id.clone()]
    );
    assert_eq!(acs::contract(s.conn(), &b.contract_id).expect("read"), Some(b));
}

#[test]
fn a_different_payload_under_the_same_id_is_a_conflict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Store::open(&dir.path().join("p.db")).expect("open");
    let b = blob(1);
    let mut other = blob(2);
    other.contract_id = b.contract_id.clone();
    let tx = s.conn().transaction().expect("tx");
    assert_eq!(acs::upsert_contract(&tx, &b).expect("new"), acs::ContractInsert::New);
    assert_eq!(acs::upsert_contract(&tx, &b).expect("same"), acs::ContractInsert::Same);
    assert_eq!(
        acs::upsert_contract(&tx, &other).expect("conflict"),
        acs::ContractInsert::Conflict
    );
}

#[test]
fn the_acs_can_be_read_as_of_an_earlier_offset_and_the_history_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Store::open(&dir.path().join("p.db")).expect("open");
    let (a, b) = (blob(1), blob(2));
    let tx = s.conn().transaction().expect("tx");
    for c in [&a, &b] {
        acs::upsert_contract(&tx, c).expect("insert");
    }
    let o1 = next_offset(&tx).expect("o1");
    acs::set_state(&tx, &a.contract_id, "lost", &Change::Create, 0, o1, 100).expect("a");
    let o2 = next_offset(&tx).expect("o2");
    acs::set_state(&tx, &b.contract_id, "lost", &Change::Add, 0, o2, 200).expect("b");
    let o3 = next_offset(&tx).expect("o3");
    let away = Change::Unassign { target: "new".into() };
    acs::set_state(&tx, &a.contract_id, "lost", &away, 1, o3, 300).expect("unassign");
    let here = Change::Assign { source: "lost".into() };
    acs::set_state(&tx, &a.contract_id, "new", &here, 1, o3, 300).expect("assign");
    tx.commit().expect("commit");
    let ids_at = |s: &mut Store, offset: i64, sync: Option<&str>| {
        let mut out = Vec::new();
        acs::for_each_active(s.conn(), offset, sync, |e| {
            out.push((e.blob.contract_id, e.synchronizer_id, e.reassignment_counter));
            Ok(true)
        })
        .expect("scan");
        out
    };
    assert_eq!(ids_at(&mut s, 1, None), vec![(a.contract_id.clone(), "lost".into(), 0)]);
    assert_eq!(ids_at(&mut s, 2, Some("lost")).len(), 2);
    let now = ids_at(&mut s, 3, None);
    assert!(now.contains(&(a.contract_id.clone(), "new".into(), 1)));
    assert!(now.contains(&(b.contract_id.clone(), "lost".into(), 0)));
    assert_eq!(now.len(), 2, "a is active only on the new synchronizer");
    let history = acs::history(s.conn(), &a.contract_id).expect("history");
    let changes: Vec<(&str, &Change)> = history.iter().map(|(s, l)| (s.as_str(), &l.change)).collect();
    assert_eq!(
        changes,
        vec![("lost", &Change::Create), ("lost", &away), ("new", &here)]
    );
    assert_eq!(
        acs::activeness(s.conn(), &a.contract_id, "lost").expect("state"),
        Some(Activeness {
            status: Status::Unassigned,
            reassignment_counter: 1,
            target: Some("new".into())
        })
    );
    assert!(acs::history(s.conn(), "00ff").expect("none").is_empty());
}

#[test]
fn pending_requests_count_as_in_flight_until_taken() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Store::open(&dir.path().join("p.db")).expect("open");
    let req = crate::wire::lab::ConfirmationRequest {
        request_id: "r1".into(),
        ..Default::default()
    };
    s.add_submission("sub1", "lost::1").expect("sub");
    pending::insert_request(s.conn(), "lost::1", &req, &["c1".into()], true).expect("insert");
    assert_eq!(s.in_flight("lost::1").expect("count"), (1, 1));
    assert_eq!(s.in_flight("new::1").expect("count"), (0, 0));
    assert!(pending::locked_contracts(s.conn()).expect("locks").contains("c1"));
    let taken = pending::take_request(s.conn(), "r1").expect("take").expect("present");
    assert!(taken.approved);
    assert!(pending::remove_submission(s.conn(), "sub1").expect("remove"));
    assert_eq!(s.in_flight("lost::1").expect("count"), (0, 0));
}

#[test]
fn a_store_of_another_layout_is_refused_not_misread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch("CREATE TABLE contracts (contract_id TEXT PRIMARY KEY, blob BLOB NOT NULL);")
            .expect("an older layout");
    }
    let err = Store::open(&path).err().expect("refused");
    assert!(err.to_string().contains("another version of the lab"), "{err}");
    let fresh = dir.path().join("fresh.db");
    Store::open(&fresh).expect("a new store");
    Store::open(&fresh).expect("and again, as readers open it");
}

#[test]
fn states_and_the_log_refer_to_contracts_by_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Store::open(&dir.path().join("p.db")).expect("open");
    let (a, b) = (blob(1), blob(2));
    let tx = s.conn().transaction().expect("tx");
    for c in [&a, &b] {
        acs::upsert_contract(&tx, c).expect("insert");
    }
    let off = next_offset(&tx).expect("offset");
    acs::set_state(&tx, &a.contract_id, "lost", &Change::Create, 0, off, 1).expect("a");
    acs::set_state(&tx, &b.contract_id, "lost", &Change::Create, 0, off, 1).expect("b");
    let (lost, new) = (
        acs::sync_key_or_new(&tx, "lost").expect("lost"),
        acs::sync_key_or_new(&tx, "new").expect("new"),
    );
    assert_eq!(acs::sync_key(&tx, "lost").expect("read"), Some(lost));
    assert_ne!(lost, new);
    let found = acs::find_on_both(&tx, &a.contract_id, lost, new)
        .expect("read")
        .expect("stored");
    assert_eq!(found.on_first.map(|s| s.status), Some(Status::Active));
    assert_eq!(found.on_second, None);
    assert_eq!(
        acs::parse_stakeholders(&a.contract_id, &found.stakeholders_json).expect("json"),
        vec!["A::1".to_string(), "B::2".to_string()]
    );
    assert!(acs::find_on_both(&tx, "00ff", lost, new).expect("read").is_none());
    let err = acs::set_state(&tx, "00ff", "lost", &Change::Archive, 0, off, 1).expect_err("not stored");
    assert!(err.to_string().contains("not stored"), "{err}");
    tx.commit().expect("commit");
    assert_eq!(
        acs::activeness_on_both(s.conn(), &b.contract_id, "lost", "new").expect("both"),
        (
            Some(Activeness {
                status: Status::Active,
                reassignment_counter: 0,
                target: None
            }),
            None
        )
    );
    assert_eq!(acs::all_states(s.conn(), &b.contract_id).expect("all").len(), 1);
    assert_eq!(acs::active_ids(s.conn(), "new").expect("none"), Vec::<String>::new());
}

#[test]
fn lookups_are_planned_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Store::open(&dir.path().join("p.db")).expect("open");
    let tx = s.conn().transaction().expect("tx");
    let blobs: Vec<_> = (1..=4).map(blob).collect();
    let off = next_offset(&tx).expect("offset");
    for b in &blobs {
        acs::upsert_contract(&tx, b).expect("insert");
        for sync in ["lost", "other"] {
            acs::set_state(&tx, &b.contract_id, sync, &Change::Create, 0, off, 1).expect("state");
        }
    }
    let unassign = Change::Unassign { target: "new".into() };
    let later = next_offset(&tx).expect("offset");
    acs::set_state(&tx, &blobs[0].contract_id, "lost", &unassign, 1, later, 2).expect("moved");
    let (lost, new) = (
        acs::sync_key_or_new(&tx, "lost").expect("lost"),
        acs::sync_key_or_new(&tx, "new").expect("new"),
    );
    for (i, b) in blobs.iter().enumerate() {
        // Other parameters each time, as a ChangeAssignation batch binds them.
        let (first, second) = if i % 2 == 0 { (lost, new) } else { (new, lost) };
        let found = acs::find_on_both(&tx, &b.contract_id, first, second)
            .expect("read")
            .expect("stored");
        let on_lost = if i % 2 == 0 { &found.on_first } else { &found.on_second };
        let on_new = if i % 2 == 0 { &found.on_second } else { &found.on_first };
        let expected = if i == 0 { Status::Unassigned } else { Status::Active };
        assert_eq!(on_lost.as_ref().map(|a| a.status), Some(expected), "{i}");
        assert_eq!(
            on_new, &None,
            "the state on a third synchronizer is not taken for the target's"
        );
        let sync = if i % 2 == 0 { "lost" } else { "other" };
        let state = acs::activeness(&tx, &b.contract_id, sync).expect("read");
        let expected = if i == 0 { Status::Unassigned } else { Status::Active };
        assert_eq!(state.map(|a| a.status), Some(expected), "{i} on {sync}");
    }
    assert_eq!(acs::activeness(&tx, "00ff", "lost").expect("read"), None);
    assert_eq!(acs::activeness(&tx, &blobs[1].contract_id, "new").expect("read"), None);
    // A join with a bound parameter was planned anew on every execution (SQLite with
    // STAT4): most of a ChangeAssignation's CPU. The per-contract lookups keep their plan.
    for b in &blobs {
        let history = acs::history(&tx, &b.contract_id).expect("history");
        let syncs: Vec<&str> = history.iter().map(|(s, _)| s.as_str()).collect();
        let expected: &[&str] = if b == &blobs[0] {
            &["lost", "lost", "other"]
        } else {
            &["lost", "other"]
        };
        assert_eq!(syncs, expected, "by synchronizer id, each in log order");
    }
    let moved = acs::history(&tx, &blobs[0].contract_id).expect("history");
    assert!(matches!(moved[0].1.change, Change::Create) && matches!(moved[1].1.change, Change::Unassign { .. }));
    assert!(acs::history(&tx, "00ff").expect("history").is_empty());
    for sql in [acs::FIND_CONTRACT, acs::STATES_OF, acs::HISTORY] {
        let stmt = tx.prepare_cached(sql).expect("cached");
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0, "{sql}");
    }
}
