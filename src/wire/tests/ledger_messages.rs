//! Ledger API v2 messages against the reference field tables, and messages without fields.

use super::*;

#[test]
fn implicit_presence_drops_explicit_defaults() {
    // Unlike `optional` fields, a plain proto3 field written as 0 is not kept.
    let bytes = pb(&[(4, U(0)), (7, S("x"))]);
    let decoded = admin::PingRequest::decode(bytes.as_slice()).expect("decodes");
    assert_eq!(decoded.levels, 0);
    assert_eq!(decoded.encode_to_vec(), pb(&[(7, S("x"))]));
}

// ---------------------------------------------------------------------------------
// §8: values.

#[test]
fn value_every_member_of_sum() {
    use ledger::value::Sum;
    let (id_b, id) = identifier("1220aa", "Mod", "Color");
    let (rec_b, rec) = record();
    let int = |v: i64| value(Sum::Int64(v));
    let cases: Vec<(Vec<u8>, Sum)> = vec![
        (pb(&[(1, M(vec![]))]), Sum::Unit(())),
        // A oneof member is written even when it holds its default.
        (pb(&[(2, U(0))]), Sum::Bool(false)),
        (pb(&[(2, U(1))]), Sum::Bool(true)),
        (pb(&[(3, Z(0))]), Sum::Int64(0)),
        (pb(&[(3, Z(-1))]), Sum::Int64(-1)),
        (pb(&[(3, Z(i64::MIN))]), Sum::Int64(i64::MIN)),
        (pb(&[(3, Z(i64::MAX))]), Sum::Int64(i64::MAX)),
        (pb(&[(4, I(-719_162))]), Sum::Date(-719_162)),
        (pb(&[(4, I(20_000))]), Sum::Date(20_000)),
        (pb(&[(5, X(-1))]), Sum::Timestamp(-1)),
        (
            pb(&[(5, X(1_700_000_000_123_456))]),
            Sum::Timestamp(1_700_000_000_123_456),
        ),
        (pb(&[(6, S("-12.3400000000"))]), Sum::Numeric("-12.3400000000".into())),
        (pb(&[(7, S("alice::1220ab"))]), Sum::Party("alice::1220ab".into())),
        (pb(&[(8, S(""))]), Sum::Text(String::new())),
        (pb(&[(9, S("00abcdef"))]), Sum::ContractId("00abcdef".into())),
        (
            pb(&[(10, M(pb(&[(1, M(pb(&[(3, Z(5))])))])))]),
            Sum::Optional(Box::new(ledger::Optional {
                value: Some(Box::new(int(5))),
            })),
        ),
        // None: an Optional without its value.
        (
            pb(&[(10, M(vec![]))]),
            Sum::Optional(Box::new(ledger::Optional { value: None })),
        ),
        (
            pb(&[(
                11,
                M(pb(&[
                    (1, M(pb(&[(3, Z(0))]))),
                    (1, M(pb(&[(8, S("x"))]))),
                    (1, M(vec![])),
                ])),
            )]),
            Sum::List(ledger::List {
                elements: vec![int(0), value(Sum::Text("x".into())), ledger::Value { sum: None }],
            }),
        ),
        (
            pb(&[(12, M(pb(&[(1, entry(S("k"), M(pb(&[(3, Z(-7))]))))])))]),
            Sum::TextMap(ledger::TextMap {
                entries: vec![ledger::text_map::Entry {
                    key: "k".into(),
                    value: Some(int(-7)),
                }],
            }),
        ),
        (
            pb(&[(
                13,
                M(pb(&[(1, entry(M(pb(&[(7, S("bob::1220ab"))])), M(pb(&[(2, U(1))]))))])),
            )]),
            Sum::GenMap(ledger::GenMap {
                entries: vec![ledger::gen_map::Entry {
                    key: Some(value(Sum::Party("bob::1220ab".into()))),
                    value: Some(value(Sum::Bool(true))),
                }],
            }),
        ),
        (pb(&[(14, M(rec_b))]), Sum::Record(rec)),
        (
            pb(&[(
                15,
                M(pb(&[(1, M(id_b.clone())), (2, S("Some")), (3, M(pb(&[(5, X(0))])))])),
            )]),
            Sum::Variant(Box::new(ledger::Variant {
                variant_id: Some(id.clone()),
                constructor: "Some".into(),
                value: Some(Box::new(value(Sum::Timestamp(0)))),
            })),
        ),
        (
            pb(&[(16, M(pb(&[(1, M(id_b)), (2, S("Red"))])))]),
            Sum::Enum(ledger::Enum {
                enum_id: Some(id),
                constructor: "Red".into(),
            }),
        ),
    ];
    for (bytes, sum) in cases {
        roundtrip(&bytes, value(sum));
    }
}

#[test]
fn value_int64_is_zigzag_and_timestamp_is_fixed() {
    use ledger::value::Sum;
    // -1 as sint64 is one byte; as int64 it would be ten.
    assert_eq!(value(Sum::Int64(-1)).encode_to_vec(), [0x18, 0x01]);
    assert_eq!(value(Sum::Timestamp(1)).encode_to_vec(), [0x29, 1, 0, 0, 0, 0, 0, 0, 0]);
}

// ---------------------------------------------------------------------------------
// §9: state service, events, filters.

#[test]
fn ledger_end() {
    let (ts_b, ts) = timestamp(1_750_000_000, 999);
    roundtrip(
        &pb(&[(1, I(77)), (2, M(pb(&[(1, S("mysync::1220ef")), (2, M(ts_b))])))]),
        ledger::GetLedgerEndResponse {
            offset: 77,
            synchronizer_times: vec![ledger::SynchronizerTime {
                synchronizer_id: "mysync::1220ef".into(),
                record_time: Some(ts),
            }],
        },
    );
}

#[test]
fn get_active_contracts_request() {
    use ledger::cumulative_filter::IdentifierFilter;
    let (tpl_b, tpl) = identifier("#iou", "Iou", "Iou");
    let (iface_b, iface) = identifier("1220bb", "Iface", "View");
    let filters = pb(&[
        (1, M(pb(&[(1, M(pb(&[(1, U(1))])))]))),
        (1, M(pb(&[(2, M(pb(&[(1, M(iface_b)), (2, U(1)), (3, U(1))])))]))),
        (1, M(pb(&[(3, M(pb(&[(1, M(tpl_b)), (2, U(1))])))]))),
    ]);
    let format = pb(&[
        (1, entry(S("alice::1220ab"), M(filters))),
        (2, M(pb(&[(1, M(pb(&[(1, M(vec![]))])))]))),
        (3, U(1)),
    ]);
    let filter = |f| ledger::CumulativeFilter {
        identifier_filter: Some(f),
    };
    let expected_filters = ledger::Filters {
        cumulative: vec![
            filter(IdentifierFilter::WildcardFilter(ledger::WildcardFilter {
                include_created_event_blob: true,
            })),
            filter(IdentifierFilter::InterfaceFilter(ledger::InterfaceFilter {
                interface_id: Some(iface),
                include_interface_view: true,
                include_created_event_blob: true,
            })),
            filter(IdentifierFilter::TemplateFilter(ledger::TemplateFilter {
                template_id: Some(tpl),
                include_created_event_blob: true,
            })),
        ],
    };
    let expected_format = ledger::EventFormat {
        filters_by_party: HashMap::from([("alice::1220ab".to_owned(), expected_filters)]),
        filters_for_any_party: Some(ledger::Filters {
            cumulative: vec![filter(IdentifierFilter::WildcardFilter(
                ledger::WildcardFilter::default(),
            ))],
        }),
        verbose: true,
    };
    roundtrip(
        &pb(&[(3, I(99)), (4, M(format.clone())), (5, B(b""))]),
        ledger::GetActiveContractsRequest {
            active_at_offset: 99,
            event_format: Some(expected_format.clone()),
            stream_continuation_token: Some(Vec::new()),
        },
    );
    roundtrip(
        &pb(&[(3, I(99)), (4, M(format))]),
        ledger::GetActiveContractsRequest {
            active_at_offset: 99,
            event_format: Some(expected_format),
            stream_continuation_token: None,
        },
    );
}

#[test]
fn get_active_contracts_request_skips_reserved_fields() {
    // 1 and 2 (the old `filter` and `verbose`) are reserved: skipped, never re-emitted.
    let bytes = pb(&[(1, M(vec![])), (2, U(1)), (3, I(5))]);
    let decoded = ledger::GetActiveContractsRequest::decode(bytes.as_slice()).expect("decodes");
    assert_eq!(decoded.active_at_offset, 5);
    assert_eq!(decoded.encode_to_vec(), pb(&[(3, I(5))]));
}

#[test]
fn get_active_contracts_response_entries() {
    use ledger::get_active_contracts_response::ContractEntry;
    let (ac_b, ac) = ledger_active_contract();
    let (ev_b, ev) = created_event();
    let cases = [
        (
            pb(&[(1, S("wf")), (2, M(ac_b)), (5, B(b"tok"))]),
            ledger::GetActiveContractsResponse {
                workflow_id: "wf".into(),
                contract_entry: Some(ContractEntry::ActiveContract(ac)),
                stream_continuation_token: b"tok".to_vec(),
            },
        ),
        (
            pb(&[(3, M(pb(&[(1, M(ev_b)), (2, B(b"unassigned"))])))]),
            ledger::GetActiveContractsResponse {
                contract_entry: Some(ContractEntry::IncompleteUnassigned(ledger::IncompleteUnassigned {
                    created_event: Some(ev),
                    unassigned_event: b"unassigned".to_vec(),
                })),
                ..Default::default()
            },
        ),
        (
            pb(&[(4, M(pb(&[(1, B(b"assigned"))])))]),
            ledger::GetActiveContractsResponse {
                contract_entry: Some(ContractEntry::IncompleteAssigned(ledger::IncompleteAssigned {
                    assigned_event: b"assigned".to_vec(),
                })),
                ..Default::default()
            },
        ),
    ];
    for (bytes, expected) in cases {
        roundtrip(&bytes, expected);
    }
}

#[test]
fn event_format_with_several_parties() {
    // A map entry without its value stands for the default value.
    let bytes = pb(&[
        (1, entry(S("alice::1220ab"), M(pb(&[(1, M(vec![]))])))),
        (1, M(pb(&[(1, S("bob::1220ab"))]))),
    ]);
    roundtrip_unordered(
        &bytes,
        ledger::EventFormat {
            filters_by_party: HashMap::from([
                (
                    "alice::1220ab".to_owned(),
                    ledger::Filters {
                        cumulative: vec![ledger::CumulativeFilter::default()],
                    },
                ),
                ("bob::1220ab".to_owned(), ledger::Filters::default()),
            ]),
            ..Default::default()
        },
    );
}

// ---------------------------------------------------------------------------------
// §10: party management.

#[test]
fn list_known_parties() {
    roundtrip(
        &pb(&[(1, S("idp")), (2, S("page-2")), (3, I(100)), (4, S("alice"))]),
        ledger_admin::ListKnownPartiesRequest {
            identity_provider_id: "idp".into(),
            page_token: "page-2".into(),
            page_size: 100,
            filter_party: "alice".into(),
        },
    );
    let meta = pb(&[(6, S("17")), (12, entry(S("team"), S("ops")))]);
    let bytes = pb(&[
        (
            1,
            M(pb(&[
                (1, S("alice::1220ab")),
                // Number 2 is unused.
                (3, U(1)),
                (4, M(meta)),
                (5, S("idp")),
            ])),
        ),
        (1, M(pb(&[(1, S("bob::1220ab"))]))),
        (2, S("page-3")),
    ]);
    roundtrip(
        &bytes,
        ledger_admin::ListKnownPartiesResponse {
            party_details: vec![
                ledger_admin::PartyDetails {
                    party: "alice::1220ab".into(),
                    is_local: true,
                    local_metadata: Some(ledger_admin::ObjectMeta {
                        resource_version: "17".into(),
                        annotations: string_map(&[("team", "ops")]),
                    }),
                    identity_provider_id: "idp".into(),
                },
                ledger_admin::PartyDetails {
                    party: "bob::1220ab".into(),
                    ..Default::default()
                },
            ],
            next_page_token: "page-3".into(),
        },
    );
}

#[test]
fn object_meta_field_numbers() {
    // Tags 0x32 (6, length-delimited) and 0x62 (12, length-delimited).
    let bytes = pb(&[(6, S("v")), (12, entry(S("a"), S("b")))]);
    assert_eq!(bytes[0], 0x32);
    assert_eq!(bytes[3], 0x62);
    roundtrip(
        &bytes,
        ledger_admin::ObjectMeta {
            resource_version: "v".into(),
            annotations: string_map(&[("a", "b")]),
        },
    );
    let several = pb(&[(12, entry(S("a"), S("1"))), (12, entry(S("b"), S("2")))]);
    roundtrip_unordered(
        &several,
        ledger_admin::ObjectMeta {
            resource_version: String::new(),
            annotations: string_map(&[("a", "1"), ("b", "2")]),
        },
    );
}

// ---------------------------------------------------------------------------------
// §11: commands.

#[test]
fn submit_and_wait() {
    use ledger::command::Command as C;
    use ledger::commands::DeduplicationPeriod;
    let (tpl_b, tpl) = identifier("#iou", "Iou", "Iou");
    let (args_b, args) = record();
    let (dedup_b, dedup) = duration(60, 0);
    let (abs_b, abs) = timestamp(1_750_000_000, 0);
    let (rel_b, rel) = duration(5, 0);
    let choice_arg = pb(&[(14, M(vec![]))]);
    let choice_value = value(ledger::value::Sum::Record(ledger::Record::default()));
    let key = pb(&[(7, S("alice::1220ab"))]);
    let key_value = value(ledger::value::Sum::Party("alice::1220ab".into()));

    let commands = pb(&[
        (1, S("wf")),
        (2, S("user")),
        (3, S("cmd-1")),
        (
            4,
            M(pb(&[(1, M(pb(&[(1, M(tpl_b.clone())), (2, M(args_b.clone()))])))])),
        ),
        (
            4,
            M(pb(&[(
                2,
                M(pb(&[
                    (1, M(tpl_b.clone())),
                    (2, S("00ab")),
                    (3, S("Archive")),
                    (4, M(choice_arg.clone())),
                ])),
            )])),
        ),
        (
            4,
            M(pb(&[(
                3,
                M(pb(&[
                    (1, M(tpl_b.clone())),
                    (2, M(args_b)),
                    (3, S("Go")),
                    (4, M(choice_arg.clone())),
                ])),
            )])),
        ),
        (
            4,
            M(pb(&[(
                4,
                M(pb(&[
                    (1, M(tpl_b.clone())),
                    (2, M(key.clone())),
                    (3, S("Go")),
                    (4, M(choice_arg)),
                ])),
            )])),
        ),
        (5, M(dedup_b)),
        (7, M(abs_b)),
        (8, M(rel_b)),
        (9, S("alice::1220ab")),
        (10, S("bob::1220ab")),
        (11, S("sub-1")),
        (
            12,
            M(pb(&[
                (1, M(tpl_b.clone())),
                (2, S("00cd")),
                (3, B(&[0xbe, 0xef])),
                (4, S("mysync::1220ef")),
            ])),
        ),
        (13, S("mysync::1220ef")),
        (14, S("1220aa")),
        (15, M(pb(&[(1, M(tpl_b)), (2, M(key)), (3, U(0))]))),
        (16, U(0)),
    ]);
    let expected = ledger::Commands {
        workflow_id: "wf".into(),
        user_id: "user".into(),
        command_id: "cmd-1".into(),
        commands: vec![
            ledger::Command {
                command: Some(C::Create(ledger::CreateCommand {
                    template_id: Some(tpl.clone()),
                    create_arguments: Some(args.clone()),
                })),
            },
            ledger::Command {
                command: Some(C::Exercise(ledger::ExerciseCommand {
                    template_id: Some(tpl.clone()),
                    contract_id: "00ab".into(),
                    choice: "Archive".into(),
                    choice_argument: Some(choice_value.clone()),
                })),
            },
            ledger::Command {
                command: Some(C::CreateAndExercise(ledger::CreateAndExerciseCommand {
                    template_id: Some(tpl.clone()),
                    create_arguments: Some(args),
                    choice: "Go".into(),
                    choice_argument: Some(choice_value.clone()),
                })),
            },
            ledger::Command {
                command: Some(C::ExerciseByKey(ledger::ExerciseByKeyCommand {
                    template_id: Some(tpl.clone()),
                    contract_key: Some(key_value.clone()),
                    choice: "Go".into(),
                    choice_argument: Some(choice_value),
                })),
            },
        ],
        deduplication_period: Some(DeduplicationPeriod::DeduplicationDuration(dedup)),
        min_ledger_time_abs: Some(abs),
        min_ledger_time_rel: Some(rel),
        act_as: strings(&["alice::1220ab"]),
        read_as: strings(&["bob::1220ab"]),
        submission_id: "sub-1".into(),
        disclosed_contracts: vec![ledger::DisclosedContract {
            template_id: Some(tpl.clone()),
            contract_id: "00cd".into(),
            created_event_blob: vec![0xbe, 0xef],
            synchronizer_id: "mysync::1220ef".into(),
        }],
        synchronizer_id: "mysync::1220ef".into(),
        package_id_selection_preference: strings(&["1220aa"]),
        prefetch_contract_keys: vec![ledger::PrefetchContractKey {
            template_id: Some(tpl),
            contract_key: Some(key_value),
            limit: Some(0),
        }],
        taps_max_passes: Some(0),
    };
    roundtrip(&commands, expected.clone());
    roundtrip(
        &pb(&[(1, M(commands))]),
        ledger::SubmitAndWaitRequest {
            commands: Some(expected),
        },
    );
    roundtrip(
        &pb(&[(1, S("upd-1")), (2, I(78))]),
        ledger::SubmitAndWaitResponse {
            update_id: "upd-1".into(),
            completion_offset: 78,
        },
    );
}

#[test]
fn commands_deduplication_offset_and_absent_optionals() {
    use ledger::commands::DeduplicationPeriod;
    // The oneof member is written even when 0; taps_max_passes and limit stay unset.
    let bytes = pb(&[(3, S("cmd-2")), (6, I(0)), (9, S("alice::1220ab")), (15, M(vec![]))]);
    roundtrip(
        &bytes,
        ledger::Commands {
            command_id: "cmd-2".into(),
            deduplication_period: Some(DeduplicationPeriod::DeduplicationOffset(0)),
            act_as: strings(&["alice::1220ab"]),
            prefetch_contract_keys: vec![ledger::PrefetchContractKey::default()],
            ..Default::default()
        },
    );
}

// ---------------------------------------------------------------------------------
// Messages without fields: they must still skip what newer or older peers send.

#[track_caller]
fn assert_fieldless<T: Message + Default + PartialEq + Debug>(foreign: &[u8]) {
    let decoded = T::decode(foreign).expect("unknown fields are skipped");
    assert_eq!(decoded, T::default());
    assert_eq!(decoded.encoded_len(), 0);
}

#[test]
fn messages_without_fields() {
    // ImportAcsResponse of Canton 3.4: contract_id_mappings = 1, map<string, string>.
    let old_import_response = pb(&[(1, entry(S("00aa"), S("00bb")))]);
    assert_fieldless::<admin::ImportAcsResponse>(&old_import_response);
    let foreign = pb(&[(1, S("x")), (2, U(1)), (3, X(-1))]);
    assert_fieldless::<admin::RegisterSynchronizerResponse>(&foreign);
    assert_fieldless::<admin::ModifySynchronizerResponse>(&foreign);
    assert_fieldless::<admin::DisconnectSynchronizerResponse>(&foreign);
    assert_fieldless::<admin::DisconnectAllSynchronizersRequest>(&foreign);
    assert_fieldless::<admin::DisconnectAllSynchronizersResponse>(&foreign);
    assert_fieldless::<admin::ListConnectedSynchronizersRequest>(&foreign);
    assert_fieldless::<admin::ChangeAssignationResponse>(&foreign);
    assert_fieldless::<admin::PurgeContractsResponse>(&foreign);
    assert_fieldless::<admin::ParticipantStatusRequest>(&foreign);
    assert_fieldless::<admin::ContractState>(&foreign);
    assert_fieldless::<admin::contract_state::Created>(&foreign);
    assert_fieldless::<admin::contract_state::Archived>(&foreign);
    assert_fieldless::<admin::contract_state::Unknown>(&foreign);
    assert_fieldless::<ledger::GetLedgerEndRequest>(&foreign);
}
