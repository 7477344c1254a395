//! Admin API (v30) repair messages and ACS snapshot records (reference §4) against the field tables.

use super::*;

#[test]
fn export_acs_request_and_response() {
    let bytes = pb(&[
        (1, S("alice::1220ab")),
        (1, S("bob::1220ab")),
        (2, S("old::1220ef")),
        (3, I(1234)),
        (4, entry(S("old::1220ef"), M(pb(&[(1, S("new::1220ef"))])))),
        (5, S("carol::1220ab")),
    ]);
    roundtrip(
        &bytes,
        admin::ExportAcsRequest {
            party_ids: strings(&["alice::1220ab", "bob::1220ab"]),
            synchronizer_id: "old::1220ef".into(),
            ledger_offset: 1234,
            contract_synchronizer_renames: HashMap::from([(
                "old::1220ef".to_owned(),
                admin::ExportAcsTargetSynchronizer {
                    target_synchronizer_id: "new::1220ef".into(),
                },
            )]),
            excluded_stakeholder_ids: strings(&["carol::1220ab"]),
        },
    );
    roundtrip(
        &pb(&[(1, B(&[0x1f, 0x8b, 0x08]))]),
        admin::ExportAcsResponse {
            chunk: vec![0x1f, 0x8b, 0x08],
        },
    );
}

#[test]
fn import_acs_request_optional_fields() {
    use admin::ContractImportMode;
    let overrides = pb(&[
        (1, entry(S("00abcdef"), S("1220aa"))),
        (2, entry(S("1220bb"), S("1220cc"))),
        (3, entry(S("iou"), S("1220dd"))),
    ]);
    let first = pb(&[
        (1, B(&[0x1f, 0x8b])),
        (2, S("import-1")),
        (3, U(2)),
        (4, S("carol::1220ab")),
        (5, M(overrides)),
        (6, S("mysync::1220ef")),
    ]);
    roundtrip(
        &first,
        admin::ImportAcsRequest {
            acs_snapshot: vec![0x1f, 0x8b],
            workflow_id_prefix: Some("import-1".into()),
            contract_import_mode: Some(ContractImportMode::Validation as i32),
            excluded_stakeholder_ids: strings(&["carol::1220ab"]),
            representative_package_id_override: Some(admin::RepresentativePackageIdOverride {
                contract_override: string_map(&[("00abcdef", "1220aa")]),
                package_id_override: string_map(&[("1220bb", "1220cc")]),
                package_name_override: string_map(&[("iou", "1220dd")]),
            }),
            synchronizer_id: Some("mysync::1220ef".into()),
        },
    );
    // Explicit defaults stay present: UNSPECIFIED (0), "" and an empty override.
    let defaults = pb(&[(2, S("")), (3, U(0)), (5, M(vec![])), (6, S(""))]);
    roundtrip(
        &defaults,
        admin::ImportAcsRequest {
            acs_snapshot: Vec::new(),
            workflow_id_prefix: Some(String::new()),
            contract_import_mode: Some(ContractImportMode::Unspecified as i32),
            excluded_stakeholder_ids: Vec::new(),
            representative_package_id_override: Some(Default::default()),
            synchronizer_id: Some(String::new()),
        },
    );
    // Later messages of the stream carry only a slice.
    roundtrip(
        &pb(&[(1, B(b"slice"))]),
        admin::ImportAcsRequest {
            acs_snapshot: b"slice".to_vec(),
            ..Default::default()
        },
    );
}

#[test]
fn change_assignation_and_purge() {
    use admin::change_assignation_request::Contract;
    let bytes = pb(&[
        (1, S("old")),
        (2, S("new")),
        (3, U(1)),
        (4, M(pb(&[(1, S("00aa")), (2, I(0))]))),
        (4, M(pb(&[(1, S("00bb")), (2, I(-1))]))),
        (4, M(pb(&[(1, S("00cc")), (2, I(i64::MAX))]))),
        (4, M(pb(&[(1, S("00dd"))]))),
    ]);
    let contract = |id: &str, counter| Contract {
        id: id.into(),
        reassignment_counter_override: counter,
    };
    roundtrip(
        &bytes,
        admin::ChangeAssignationRequest {
            source_synchronizer_alias: "old".into(),
            target_synchronizer_alias: "new".into(),
            skip_inactive: true,
            contracts: vec![
                contract("00aa", Some(0)),
                contract("00bb", Some(-1)),
                contract("00cc", Some(i64::MAX)),
                contract("00dd", None),
            ],
        },
    );
    roundtrip(
        &pb(&[(1, S("old")), (2, S("00aa")), (2, S("00bb")), (3, U(1))]),
        admin::PurgeContractsRequest {
            synchronizer_alias: "old".into(),
            contract_ids: strings(&["00aa", "00bb"]),
            ignore_already_purged: true,
        },
    );
}

#[test]
fn snapshot_record_layers() {
    let (ac_b, ac) = ledger_active_contract();
    roundtrip(&ac_b, ac);
    let admin_b = pb(&[(1, B(&ac_b))]);
    roundtrip(
        &admin_b,
        admin::ActiveContract {
            active_contract: ac_b.clone(),
        },
    );
    roundtrip(
        &pb(&[(1, B(&admin_b)), (2, I(30))]),
        version::UntypedVersionedMessage {
            wrapper: Some(version::untyped_versioned_message::Wrapper::Data(admin_b)),
            version: 30,
        },
    );
}

#[test]
fn untyped_versioned_message_writes_empty_data() {
    use version::untyped_versioned_message::Wrapper;
    // Canton's parser requires `data`; as a oneof member it is written even when empty.
    let bytes = pb(&[(1, B(b"")), (2, I(30))]);
    assert_eq!(bytes, [0x0a, 0x00, 0x10, 0x1e]);
    roundtrip(
        &bytes,
        version::UntypedVersionedMessage {
            wrapper: Some(Wrapper::Data(Vec::new())),
            version: 30,
        },
    );
    roundtrip(
        &pb(&[(2, I(30))]),
        version::UntypedVersionedMessage {
            wrapper: None,
            version: 30,
        },
    );
}
