//! Canton's per-contract repair rules (reference §5.2–5.4), checked directly on a store.

use super::*;
use crate::client::sync_config::default_config;
use crate::lab::dialect::Dialect;
use crate::lab::ids;
use crate::lab::store::{Store, next_offset};
use crate::wire::admin::ContractImportMode;
use crate::wire::admin::change_assignation_request::Contract;
use crate::wire::lab::ContractBlob;

const UID: &str = "PAR::p1::1220";
const LOST: &str = "lost::1220";
const NEW: &str = "new::1220";

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Store::open(&dir.path().join("p.db")).expect("open");
    s.add_party("Alice::1").expect("party");
    for (alias, id) in [("lost", LOST), ("new", NEW)] {
        s.register_sync(&default_config(alias, "http://x:1", false))
            .expect("register");
        s.set_sync_ids(alias, id, &format!("{id}::34-0")).expect("ids");
    }
    sync::replace_topology(s.conn_ref(), "new", NEW, &[("Alice::1".into(), UID.into())], UID, 10).expect("topology");
    // A later event makes the hosting visible at the target's clean record time.
    sync::set_cursor(s.conn_ref(), "new", 2, 20).expect("cursor");
    (dir, s)
}

fn contract(n: u32, stakeholder: &str) -> ContractBlob {
    let mut b = ContractBlob {
        contract_id: String::new(),
        template_id: Some(crate::lab::templates::template_id("Iou")),
        package_name: "CantonExamples".into(),
        create_arguments: Some(crate::value::record(vec![("n", crate::value::text(&n.to_string()))])),
        signatories: vec![stakeholder.into()],
        observers: vec![],
        created_at_micros: 1,
    };
    b.contract_id = ids::contract_id(&[&n.to_be_bytes()], &b);
    b
}

fn put(s: &mut Store, b: &ContractBlob, sync_id: &str, status: AcsStatus) {
    let tx = s.conn().transaction().expect("tx");
    acs::upsert_contract(&tx, b).expect("insert");
    let off = next_offset(&tx).expect("offset");
    let change = match status {
        AcsStatus::Active => acs::Change::Create,
        AcsStatus::Archived => acs::Change::Archive,
        AcsStatus::Purged => acs::Change::Purge,
        AcsStatus::Unassigned => acs::Change::Unassign {
            target: NEW.to_string(),
        },
    };
    acs::set_state(&tx, &b.contract_id, sync_id, &change, 0, off, 1).expect("state");
    tx.commit().expect("commit");
}

fn change(s: &mut Store, ids: &[&str], skip_inactive: bool) -> Result<(), (Code, String)> {
    let req = ChangeAssignationRequest {
        source_synchronizer_alias: "lost".into(),
        target_synchronizer_alias: "new".into(),
        skip_inactive,
        contracts: ids
            .iter()
            .map(|id| Contract {
                id: id.to_string(),
                reassignment_counter_override: None,
            })
            .collect(),
    };
    let tx = s.conn().transaction().expect("tx");
    let r = change_assignation(&tx, UID, &req).map_err(|Refusal(c, m)| (c, m));
    if r.is_ok() {
        tx.commit().expect("commit");
    }
    r
}

fn state(s: &mut Store, id: &str, sync_id: &str) -> Option<AcsStatus> {
    acs::activeness(s.conn(), id, sync_id).expect("read").map(|a| a.status)
}

#[test]
fn change_assignation_moves_active_contracts_and_bumps_the_counter() {
    let (_d, mut s) = store();
    let c = contract(1, "Alice::1");
    put(&mut s, &c, LOST, AcsStatus::Active);
    change(&mut s, &[&c.contract_id], false).expect("move");
    assert_eq!(state(&mut s, &c.contract_id, LOST), Some(AcsStatus::Unassigned));
    let on_new = acs::activeness(s.conn(), &c.contract_id, NEW)
        .expect("read")
        .expect("state");
    assert_eq!((on_new.status, on_new.reassignment_counter), (AcsStatus::Active, 1));
}

#[test]
fn inactive_sources_fail_unless_skipped() {
    let (_d, mut s) = store();
    let cases = [
        (contract(1, "Alice::1"), Some(AcsStatus::Archived), "has been archived"),
        (contract(2, "Alice::1"), Some(AcsStatus::Purged), "has been purged"),
        (contract(3, "Alice::1"), None, "does not exist in source synchronizer"),
    ];
    for (c, st, why) in &cases {
        if let Some(st) = st {
            put(&mut s, c, LOST, *st);
        }
        let (code, cause) = change(&mut s, &[&c.contract_id], false).expect_err("refused");
        assert_eq!(code, codes::CONTRACT_ASSIGNATION_CHANGE_ERROR);
        assert!(cause.contains(why), "{cause}");
        change(&mut s, &[&c.contract_id], true).expect("skipped");
        assert_eq!(state(&mut s, &c.contract_id, NEW), None, "nothing moved");
    }
}

#[test]
fn one_refused_contract_leaves_the_whole_batch_unapplied() {
    let (_d, mut s) = store();
    let (good, active_on_target) = (contract(1, "Alice::1"), contract(2, "Alice::1"));
    put(&mut s, &good, LOST, AcsStatus::Active);
    put(&mut s, &active_on_target, LOST, AcsStatus::Active);
    put(&mut s, &active_on_target, NEW, AcsStatus::Active);
    let (code, cause) = change(&mut s, &[&good.contract_id, &active_on_target.contract_id], true).expect_err("refused");
    assert_eq!(code, codes::CONTRACT_ASSIGNATION_CHANGE_ERROR);
    assert!(cause.contains("with status Active(0)"), "{cause}");
    assert_eq!(
        state(&mut s, &good.contract_id, LOST),
        Some(AcsStatus::Active),
        "rolled back"
    );
    assert_eq!(state(&mut s, &good.contract_id, NEW), None);
}

#[test]
fn a_stakeholder_must_be_hosted_here_on_the_target() {
    let (_d, mut s) = store();
    let c = contract(1, "Zed::9");
    put(&mut s, &c, LOST, AcsStatus::Active);
    let (code, cause) = change(&mut s, &[&c.contract_id], true).expect_err("refused");
    assert_eq!(code, codes::CONTRACT_ASSIGNATION_CHANGE_ERROR);
    assert!(cause.contains("without at least one stakeholder"), "{cause}");
}

#[test]
fn a_hosting_counts_only_once_an_event_after_it_was_processed() {
    let (_d, mut s) = store();
    let c = contract(1, "Bob::2");
    put(&mut s, &c, LOST, AcsStatus::Active);
    // Bob is enabled by the last event processed on the target: not visible at its time.
    sync::replace_topology(
        s.conn_ref(),
        "new",
        NEW,
        &[("Alice::1".into(), UID.into()), ("Bob::2".into(), UID.into())],
        UID,
        30,
    )
    .expect("topology");
    sync::set_cursor(s.conn_ref(), "new", 3, 30).expect("cursor");
    let (_, cause) = change(&mut s, &[&c.contract_id], true).expect_err("not yet effective");
    assert!(cause.contains("without at least one stakeholder of"), "{cause}");
    assert!(cause.contains("asOf="), "{cause}");
    // Any later event (a ping's verdict) moves the clean record time past it.
    sync::set_cursor(s.conn_ref(), "new", 4, 31).expect("cursor");
    change(&mut s, &[&c.contract_id], true).expect("now hosted");
    assert_eq!(state(&mut s, &c.contract_id, NEW), Some(AcsStatus::Active));
}

fn purge_ids(s: &mut Store, ids: &[&str], ignore: bool) -> Result<(), (Code, String)> {
    let req = PurgeContractsRequest {
        synchronizer_alias: "lost".into(),
        contract_ids: ids.iter().map(|i| i.to_string()).collect(),
        ignore_already_purged: ignore,
    };
    let tx = s.conn().transaction().expect("tx");
    let r = purge(&tx, &req).map_err(|Refusal(c, m)| (c, m));
    if r.is_ok() {
        tx.commit().expect("commit");
    }
    r
}

#[test]
fn purge_rules() {
    let (_d, mut s) = store();
    let (active, archived, away) = (
        contract(1, "Alice::1"),
        contract(2, "Alice::1"),
        contract(3, "Alice::1"),
    );
    put(&mut s, &active, LOST, AcsStatus::Active);
    put(&mut s, &archived, LOST, AcsStatus::Archived);
    put(&mut s, &away, LOST, AcsStatus::Unassigned);
    purge_ids(&mut s, &[&active.contract_id, &away.contract_id], false).expect("active and reassigned-away purge");
    assert_eq!(state(&mut s, &active.contract_id, LOST), Some(AcsStatus::Purged));
    assert_eq!(state(&mut s, &away.contract_id, LOST), Some(AcsStatus::Purged));
    for (id, why) in [
        (&archived.contract_id, "archived contract"),
        (&active.contract_id, "purged contract"),
        (&"00ff".to_string(), "unknown contract"),
    ] {
        let (code, cause) = purge_ids(&mut s, &[id], false).expect_err("refused");
        assert_eq!(code, codes::CONTRACT_PURGE_ERROR);
        assert!(cause.contains(why) && cause.contains("ignoreAlreadyPurged"), "{cause}");
        purge_ids(&mut s, &[id], true).expect("ignored");
    }
}

fn import_one(
    s: &mut Store,
    c: &ContractBlob,
    sync_id: &str,
    counter: u64,
    mode: ContractImportMode,
) -> Result<(usize, usize, usize), (Code, String)> {
    let hosted = BTreeSet::from(["Alice::1".to_string()]);
    let entry = acs::ActiveEntry {
        blob: c.clone(),
        synchronizer_id: sync_id.into(),
        reassignment_counter: i64::try_from(counter).unwrap_or(0),
    };
    let ac = active_contract(entry, &hosted, true, None);
    let context = import::Context {
        mode,
        workflow_id_prefix: String::new(),
        synchronizer_id: Some(LOST.into()),
        excluded: BTreeSet::new(),
    };
    let rules = import::Rules {
        dialect: Dialect::V3_5,
        enable_all_reassignments: true,
    };
    let tx = s.conn().transaction().expect("tx");
    let r = import::apply(&tx, &context, rules, vec![ac]).map_err(|Refusal(c, m)| (c, m));
    if r.is_ok() {
        tx.commit().expect("commit");
    }
    r
}

#[test]
fn import_rules() {
    let (_d, mut s) = store();
    let v = ContractImportMode::Validation;
    let fresh = contract(1, "Alice::1");
    assert_eq!(
        import_one(&mut s, &fresh, LOST, 0, v),
        Ok((1, 0, 0)),
        "unknown contracts are created"
    );
    assert_eq!(
        import_one(&mut s, &fresh, LOST, 0, v),
        Ok((0, 1, 0)),
        "identical ones are skipped"
    );
    assert_eq!(
        import_one(&mut s, &contract(2, "Alice::1"), NEW, 0, v),
        Ok((0, 0, 1)),
        "other synchronizers are dropped"
    );

    let purged = contract(3, "Alice::1");
    put(&mut s, &purged, LOST, AcsStatus::Purged);
    assert_eq!(
        import_one(&mut s, &purged, LOST, 0, v),
        Ok((1, 0, 0)),
        "purged contracts can be re-added"
    );

    let archived = contract(4, "Alice::1");
    put(&mut s, &archived, LOST, AcsStatus::Archived);
    let (code, cause) = import_one(&mut s, &archived, LOST, 0, v).expect_err("archived");
    assert_eq!(code, codes::IMPORT_ACS_ERROR);
    assert!(cause.contains("archived contracts cannot become active"), "{cause}");

    let away = contract(5, "Alice::1");
    put(&mut s, &away, LOST, AcsStatus::Unassigned);
    let (_, cause) = import_one(&mut s, &away, LOST, 0, v).expect_err("counter must grow");
    assert!(cause.contains("reassignment counter"), "{cause}");
    assert_eq!(
        import_one(&mut s, &away, LOST, 2, v),
        Ok((1, 0, 0)),
        "assigned back with a higher counter"
    );

    let mut forged = fresh.clone();
    forged.observers.push("Mallory::6".into());
    let (_, cause) = import_one(&mut s, &forged, LOST, 0, v).expect_err("forged");
    assert!(cause.contains("Failed to authenticate"), "{cause}");
    let (_, cause) = import_one(&mut s, &forged, LOST, 0, ContractImportMode::Accept).expect_err("mismatch");
    assert!(cause.contains("does not match"), "{cause}");
}
