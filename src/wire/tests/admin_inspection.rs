//! Admin API (v30) inspection, status and ping messages (reference §5–§7) against the field tables.

use super::*;

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
