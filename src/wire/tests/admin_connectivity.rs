//! Admin API (v30) connectivity messages (reference §3) against the field tables.

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
