//! Admin API (v30) messages against the reference field tables.

use super::*;

#[test]
fn sequencer_connections_all_fields_and_presence() {
    let (bytes, expected) = sequencer_connections();
    roundtrip(&bytes, expected);
}

#[test]
fn time_tracker_config() {
    let (bytes, expected) = time_tracker();
    roundtrip(&bytes, expected);
}

#[test]
fn synchronizer_connection_config() {
    let (bytes, expected) = connection_config();
    roundtrip(&bytes, expected);
}

#[test]
fn register_and_connect_requests() {
    use admin::register_synchronizer_request::SynchronizerConnection;
    use sequencer::SequencerConnectionValidation as Validation;
    let (cfg_b, cfg) = connection_config();
    let bytes = pb(&[(1, M(cfg_b.clone())), (2, U(2)), (3, U(4)), (4, B(b"tx1")), (4, B(b""))]);
    roundtrip(
        &bytes,
        admin::RegisterSynchronizerRequest {
            config: Some(cfg.clone()),
            synchronizer_connection: SynchronizerConnection::Handshake as i32,
            sequencer_connection_validation: Validation::ThresholdActive as i32,
            onboarding_transactions: vec![b"tx1".to_vec(), Vec::new()],
        },
    );
    let bytes = pb(&[(1, M(cfg_b)), (2, U(1)), (3, B(b"tx"))]);
    roundtrip(
        &bytes,
        admin::ConnectSynchronizerRequest {
            config: Some(cfg),
            sequencer_connection_validation: Validation::Disabled as i32,
            onboarding_transactions: vec![b"tx".to_vec()],
        },
    );
    roundtrip(
        &pb(&[(1, U(1))]),
        admin::ConnectSynchronizerResponse {
            connected_successfully: true,
        },
    );
}

#[test]
fn reconnect_disconnect_and_get_id() {
    roundtrip(
        &pb(&[(1, S("mysync")), (2, U(1))]),
        admin::ReconnectSynchronizerRequest {
            synchronizer_alias: "mysync".into(),
            retry: true,
        },
    );
    roundtrip(
        &pb(&[(1, U(1))]),
        admin::ReconnectSynchronizerResponse {
            connected_successfully: true,
        },
    );
    roundtrip(
        &pb(&[(1, S("mysync"))]),
        admin::DisconnectSynchronizerRequest {
            synchronizer_alias: "mysync".into(),
        },
    );
    roundtrip(
        &pb(&[(1, S("mysync"))]),
        admin::GetSynchronizerIdRequest {
            synchronizer_alias: "mysync".into(),
        },
    );
    roundtrip(
        &pb(&[(1, S("mysync::1220ef")), (2, S("mysync::1220ef::34-0"))]),
        admin::GetSynchronizerIdResponse {
            synchronizer_id: "mysync::1220ef".into(),
            physical_synchronizer_id: "mysync::1220ef::34-0".into(),
        },
    );
}

#[test]
fn modify_synchronizer_request_optional_id() {
    let (cfg_b, cfg) = connection_config();
    // Present but empty is not the same as absent.
    let bytes = pb(&[(1, S("")), (2, M(cfg_b.clone())), (3, U(1))]);
    roundtrip(
        &bytes,
        admin::ModifySynchronizerRequest {
            physical_synchronizer_id: Some(String::new()),
            new_config: Some(cfg.clone()),
            sequencer_connection_validation: 1,
        },
    );
    let bytes = pb(&[(2, M(cfg_b)), (3, U(3))]);
    roundtrip(
        &bytes,
        admin::ModifySynchronizerRequest {
            physical_synchronizer_id: None,
            new_config: Some(cfg),
            sequencer_connection_validation: 3,
        },
    );
}

#[test]
fn list_registered_synchronizers() {
    use admin::list_registered_synchronizers_response::{Result, Status};
    roundtrip(
        &pb(&[(1, U(1))]),
        admin::ListRegisteredSynchronizersRequest { all_statuses: true },
    );
    let (cfg_b, cfg) = connection_config();
    let (ts_b, ts) = timestamp(1_750_000_000, 0);
    let bytes = pb(&[
        (
            1,
            M(pb(&[
                (1, M(cfg_b.clone())),
                (2, U(1)),
                (3, S("mysync::1220ef::34-1")),
                (4, U(5)),
                (5, M(pb(&[(1, S("mysync::1220ef::34-0")), (2, M(ts_b)), (3, U(1))]))),
            ])),
        ),
        (1, M(pb(&[(1, M(cfg_b)), (4, U(6))]))),
    ]);
    roundtrip(
        &bytes,
        admin::ListRegisteredSynchronizersResponse {
            results: vec![
                Result {
                    config: Some(cfg.clone()),
                    connected: true,
                    physical_synchronizer_id: Some("mysync::1220ef::34-1".into()),
                    status: Status::LsuTarget as i32,
                    synchronizer_predecessor: Some(topology::SynchronizerPredecessor {
                        predecessor_physical_id: "mysync::1220ef::34-0".into(),
                        upgrade_time: Some(ts),
                        is_late_upgrade: true,
                    }),
                },
                Result {
                    config: Some(cfg),
                    connected: false,
                    physical_synchronizer_id: None,
                    status: Status::Inactive as i32,
                    synchronizer_predecessor: None,
                },
            ],
        },
    );
}

#[test]
fn list_connected_synchronizers() {
    use admin::list_connected_synchronizers_response::Result;
    let bytes = pb(&[(
        1,
        M(pb(&[
            (1, S("mysync")),
            (2, S("mysync::1220ef")),
            (3, S("mysync::1220ef::34-0")),
            (4, U(1)),
        ])),
    )]);
    roundtrip(
        &bytes,
        admin::ListConnectedSynchronizersResponse {
            connected_synchronizers: vec![Result {
                synchronizer_alias: "mysync".into(),
                synchronizer_id: "mysync::1220ef".into(),
                physical_synchronizer_id: "mysync::1220ef::34-0".into(),
                healthy: true,
            }],
        },
    );
}

// ---------------------------------------------------------------------------------
// §4: repair service, ACS snapshot records.

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

// ---------------------------------------------------------------------------------
// §5: inspection service.

#[test]
fn inspect_commitment_contracts() {
    let (ts_b, ts) = timestamp(1_750_000_000, 1);
    let bytes = pb(&[
        (1, B(&[0x00, 0xab])),
        (1, B(&[0x00, 0xcd])),
        (2, S("mysync::1220ef")),
        (3, M(ts_b)),
        (4, U(1)),
    ]);
    roundtrip(
        &bytes,
        admin::InspectCommitmentContractsRequest {
            cids: vec![vec![0x00, 0xab], vec![0x00, 0xcd]],
            expected_synchronizer_id: "mysync::1220ef".into(),
            timestamp: Some(ts),
            download_payload: true,
        },
    );
    roundtrip(
        &pb(&[(1, B(&[0x07, 0x0a]))]),
        admin::InspectCommitmentContractsResponse {
            chunk: vec![0x07, 0x0a],
        },
    );
}

#[test]
fn commitment_contract_states() {
    use admin::contract_state::synchronizer_state::State;
    use admin::contract_state::{Archived, Assigned, Created, ReassignmentId, SynchronizerState, Unassigned, Unknown};
    let state = |id: &str, state| SynchronizerState {
        synchronizer_id: id.into(),
        state: Some(state),
    };
    let bytes = pb(&[
        (1, B(&[0x00, 0xab])),
        (2, U(1)),
        (3, B(b"")),
        (4, M(pb(&[(1, S("a")), (2, M(vec![]))]))),
        (4, M(pb(&[(1, S("b")), (3, M(vec![]))]))),
        (
            4,
            M(pb(&[
                (1, S("c")),
                (4, M(pb(&[(1, S("d")), (2, I(-2)), (3, M(pb(&[(1, S("r1"))])))]))),
            ])),
        ),
        (
            4,
            M(pb(&[
                (1, S("d")),
                (5, M(pb(&[(1, I(3)), (2, M(pb(&[(1, S("r1"))])))]))),
            ])),
        ),
        (4, M(pb(&[(1, S("e")), (6, M(vec![]))]))),
        // The oneof unset.
        (4, M(pb(&[(1, S("f"))]))),
    ]);
    roundtrip(
        &bytes,
        admin::CommitmentContract {
            cid: vec![0x00, 0xab],
            active_on_expected_synchronizer: true,
            contract: Some(Vec::new()),
            states: vec![
                state("a", State::Created(Created {})),
                state("b", State::Archived(Archived {})),
                state(
                    "c",
                    State::Unassigned(Unassigned {
                        target_synchronizer_id: "d".into(),
                        reassignment_counter_src: -2,
                        reassignment_id: Some(ReassignmentId { id: "r1".into() }),
                    }),
                ),
                state(
                    "d",
                    State::Assigned(Assigned {
                        reassignment_counter_target: 3,
                        reassignment_id: Some(ReassignmentId { id: "r1".into() }),
                    }),
                ),
                state("e", State::Unknown(Unknown {})),
                SynchronizerState {
                    synchronizer_id: "f".into(),
                    state: None,
                },
            ],
        },
    );
    // Without the payload the optional `contract` is absent.
    roundtrip(
        &pb(&[(1, B(&[0x00, 0xab]))]),
        admin::CommitmentContract {
            cid: vec![0x00, 0xab],
            ..Default::default()
        },
    );
}

#[test]
fn count_in_flight() {
    roundtrip(
        &pb(&[(1, S("mysync::1220ef"))]),
        admin::CountInFlightRequest {
            synchronizer_id: "mysync::1220ef".into(),
        },
    );
    roundtrip(
        &pb(&[(1, U(4)), (2, U(u32::MAX.into()))]),
        admin::CountInFlightResponse {
            pending_submissions: 4,
            pending_transactions: u32::MAX,
        },
    );
}

// ---------------------------------------------------------------------------------
// §6: status.

#[test]
fn participant_status_initialized() {
    use admin::participant_status_response::{Kind, ParticipantStatusResponseStatus};
    use health::component_status::{Status as State, StatusData};
    let (uptime_b, uptime) = duration(3600, 5);
    let data = |d: Option<&str>| StatusData {
        description: d.map(str::to_owned),
    };
    let common = pb(&[
        (1, S("PAR::p1::1220ab")),
        (2, M(uptime_b)),
        (3, entry(S("ledger-api"), I(5001))),
        (4, U(1)),
        (5, M(pb(&[(1, U(1)), (2, U(2)), (3, U(3))]))),
        (6, M(pb(&[(1, S("db")), (2, M(pb(&[(1, S("fine"))])))]))),
        (6, M(pb(&[(1, S("seq")), (3, M(pb(&[(1, S(""))])))]))),
        (6, M(pb(&[(1, S("acs")), (4, M(vec![]))]))),
        (6, M(pb(&[(1, S("mem")), (5, M(pb(&[(1, S("oom"))])))]))),
        (7, S("3.5.0")),
    ]);
    let bytes = pb(&[(
        1,
        M(pb(&[
            (1, M(common)),
            (2, M(pb(&[(1, S("mysync::1220ef::34-0")), (2, U(2))]))),
            (3, U(1)),
            (4, P(&[33, 34])),
        ])),
    )]);
    let component = |name: &str, status| health::ComponentStatus {
        name: name.into(),
        status: Some(status),
    };
    roundtrip(
        &bytes,
        admin::ParticipantStatusResponse {
            kind: Some(Kind::Status(ParticipantStatusResponseStatus {
                common_status: Some(health::Status {
                    uid: "PAR::p1::1220ab".into(),
                    uptime: Some(uptime),
                    ports: HashMap::from([("ledger-api".to_owned(), 5001)]),
                    active: true,
                    topology_queues: Some(health::TopologyQueueStatus {
                        manager: 1,
                        dispatcher: 2,
                        clients: 3,
                    }),
                    components: vec![
                        component("db", State::Ok(data(Some("fine")))),
                        component("seq", State::Degraded(data(Some("")))),
                        component("acs", State::Failed(data(None))),
                        component("mem", State::Fatal(data(Some("oom")))),
                    ],
                    version: "3.5.0".into(),
                }),
                connected_synchronizers: vec![admin::ConnectedSynchronizer {
                    physical_synchronizer_id: "mysync::1220ef::34-0".into(),
                    health: admin::connected_synchronizer::Health::Unhealthy as i32,
                }],
                active: true,
                supported_protocol_versions: vec![33, 34],
            })),
        },
    );
}

#[test]
fn participant_status_not_initialized() {
    use admin::participant_status_response::Kind;
    use health::not_initialized::WaitingForExternalInput;
    let bytes = pb(&[(2, M(pb(&[(1, U(1)), (2, U(2)), (3, S("3.5.0"))])))]);
    roundtrip(
        &bytes,
        admin::ParticipantStatusResponse {
            kind: Some(Kind::NotInitialized(health::NotInitialized {
                active: true,
                waiting_for_external_input: WaitingForExternalInput::NodeTopology as i32,
                version: "3.5.0".into(),
            })),
        },
    );
}

#[test]
fn status_ports_with_several_entries() {
    let bytes = pb(&[
        (3, entry(S("admin-api"), I(5002))),
        (3, entry(S("ledger-api"), I(5001))),
    ]);
    roundtrip_unordered(
        &bytes,
        health::Status {
            ports: HashMap::from([("admin-api".to_owned(), 5002), ("ledger-api".to_owned(), 5001)]),
            ..Default::default()
        },
    );
}

// ---------------------------------------------------------------------------------
// §7: ping.

#[test]
fn ping_request_and_responses() {
    use admin::ping_response::Response;
    let (timeout_b, timeout) = duration(10, 0);
    let bytes = pb(&[
        (1, S("alice::1220ab")),
        (2, S("bob::1220ab")),
        (3, M(timeout_b)),
        (4, U(2)),
        (5, S("mysync::1220ef")),
        (6, S("wf")),
        (7, S("2f1c")),
    ]);
    roundtrip(
        &bytes,
        admin::PingRequest {
            target_parties: strings(&["alice::1220ab"]),
            validators: strings(&["bob::1220ab"]),
            timeout: Some(timeout),
            levels: 2,
            synchronizer_id: "mysync::1220ef".into(),
            workflow_id: "wf".into(),
            id: "2f1c".into(),
        },
    );
    roundtrip(
        &pb(&[(1, M(pb(&[(1, U(1500)), (2, S("p1"))])))]),
        admin::PingResponse {
            response: Some(Response::Success(admin::PingSuccess {
                ping_time: 1500,
                responder: "p1".into(),
            })),
        },
    );
    roundtrip(
        &pb(&[(2, M(pb(&[(1, S("timeout"))])))]),
        admin::PingResponse {
            response: Some(Response::Failure(admin::PingFailure {
                reason: "timeout".into(),
            })),
        },
    );
}
