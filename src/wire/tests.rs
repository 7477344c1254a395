//! Wire-compatibility tests against canton-wire-fields.md: the method paths the
//! generated clients send, and every Canton / Ledger API message decoded from bytes
//! built by hand from the reference's field numbers and wire types, then re-encoded.

// wire.rs silences clippy for the generated code; the hand-written tests should not be.
#![warn(clippy::all)]

use std::collections::HashMap;
use std::fmt::Debug;

use prost::Message;
use prost_types::{Duration, Timestamp};

use super::com::digitalasset::canton::admin::topology::v30 as topology;
use super::google::rpc;
use super::{admin, health, ledger, ledger_admin, sequencer, time, version};

// ---------------------------------------------------------------------------------
// A minimal protobuf writer, independent of prost.

/// One field value in wire form; the variant fixes the tag's wire type.
enum F<'a> {
    /// Varint: uint32, uint64, bool, enum.
    U(u64),
    /// Varint of int32 / int64: negative values are sign-extended to ten bytes.
    I(i64),
    /// Varint of a zigzag-encoded sint64.
    Z(i64),
    /// Fixed 64 bits, little-endian: sfixed64.
    X(i64),
    /// Length-delimited string.
    S(&'a str),
    /// Length-delimited bytes.
    B(&'a [u8]),
    /// Length-delimited embedded message (already encoded).
    M(Vec<u8>),
    /// Length-delimited packed repeated int32 / int64.
    P(&'a [i64]),
}
use F::*;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v & 0x7f) as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn tag(out: &mut Vec<u8>, field: u32, wire_type: u64) {
    varint(out, (u64::from(field) << 3) | wire_type);
}

fn delimited(out: &mut Vec<u8>, field: u32, body: &[u8]) {
    tag(out, field, 2);
    varint(out, body.len() as u64);
    out.extend_from_slice(body);
}

/// Encodes the fields in the order given. prost writes fields in ascending number
/// order, so tables must be ascending too for the byte-for-byte re-encoding check.
fn pb(fields: &[(u32, F)]) -> Vec<u8> {
    assert!(
        fields.windows(2).all(|w| w[0].0 <= w[1].0),
        "fields must be in ascending number order"
    );
    let mut out = Vec::new();
    for (n, value) in fields {
        match value {
            U(v) => {
                tag(&mut out, *n, 0);
                varint(&mut out, *v);
            }
            I(v) => {
                tag(&mut out, *n, 0);
                varint(&mut out, *v as u64);
            }
            Z(v) => {
                tag(&mut out, *n, 0);
                varint(&mut out, ((v << 1) ^ (v >> 63)) as u64);
            }
            X(v) => {
                tag(&mut out, *n, 1);
                out.extend_from_slice(&v.to_le_bytes());
            }
            S(s) => delimited(&mut out, *n, s.as_bytes()),
            B(b) => delimited(&mut out, *n, b),
            M(m) => delimited(&mut out, *n, m),
            P(vs) => {
                let mut body = Vec::new();
                for v in *vs {
                    varint(&mut body, *v as u64);
                }
                delimited(&mut out, *n, &body);
            }
        }
    }
    out
}

/// Decodes `bytes`, compares with `expected`, and checks that prost writes the very
/// same bytes back.
#[track_caller]
fn roundtrip<T: Message + Default + PartialEq + Debug>(bytes: &[u8], expected: T) {
    let decoded = T::decode(bytes).expect("decodes");
    assert_eq!(decoded, expected);
    assert_eq!(decoded.encode_to_vec(), bytes, "re-encoding differs");
}

/// For messages whose byte order is not fixed (maps with several entries): the value
/// must survive, and the re-encoding must have the same length.
#[track_caller]
fn roundtrip_unordered<T: Message + Default + PartialEq + Debug>(bytes: &[u8], expected: T) {
    let decoded = T::decode(bytes).expect("decodes");
    assert_eq!(decoded, expected);
    let again = decoded.encode_to_vec();
    assert_eq!(again.len(), bytes.len());
    assert_eq!(T::decode(again.as_slice()).expect("re-decodes"), expected);
}

fn entry(key: F, value: F) -> F<'static> {
    M(pb(&[(1, key), (2, value)]))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn string_map(items: &[(&str, &str)]) -> HashMap<String, String> {
    items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// The writer itself, checked against the examples of the protobuf encoding guide.
#[test]
fn writer_matches_protobuf_encoding_guide() {
    assert_eq!(pb(&[(1, U(150))]), [0x08, 0x96, 0x01]);
    assert_eq!(pb(&[(2, S("testing"))]), b"\x12\x07testing");
    assert_eq!(pb(&[(3, Z(-1))]), [0x18, 0x01]);
    assert_eq!(pb(&[(3, Z(-2))]), [0x18, 0x03]);
    assert_eq!(pb(&[(3, Z(1))]), [0x18, 0x02]);
    assert_eq!(
        pb(&[(1, I(-2))]),
        [0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
    );
    assert_eq!(pb(&[(5, X(1))]), [0x29, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(pb(&[(4, P(&[3, 270]))]), [0x22, 0x03, 0x03, 0x8e, 0x02]);
    assert_eq!(pb(&[(12, M(vec![]))]), [0x62, 0x00]);
}

// ---------------------------------------------------------------------------------
// Fixtures: wire bytes and the value prost must decode them to.

/// `seconds` and `nanos` of Duration and Timestamp; zeros are not written (proto3).
fn seconds_nanos(seconds: i64, nanos: i32) -> Vec<u8> {
    match (seconds, nanos) {
        (s, 0) => pb(&[(1, I(s))]),
        (0, n) => pb(&[(2, I(n.into()))]),
        (s, n) => pb(&[(1, I(s)), (2, I(n.into()))]),
    }
}

fn duration(seconds: i64, nanos: i32) -> (Vec<u8>, Duration) {
    (seconds_nanos(seconds, nanos), Duration { seconds, nanos })
}

fn timestamp(seconds: i64, nanos: i32) -> (Vec<u8>, Timestamp) {
    (seconds_nanos(seconds, nanos), Timestamp { seconds, nanos })
}

fn identifier(package_id: &str, module: &str, entity: &str) -> (Vec<u8>, ledger::Identifier) {
    (
        pb(&[(1, S(package_id)), (2, S(module)), (3, S(entity))]),
        ledger::Identifier {
            package_id: package_id.to_owned(),
            module_name: module.to_owned(),
            entity_name: entity.to_owned(),
        },
    )
}

fn value(sum: ledger::value::Sum) -> ledger::Value {
    ledger::Value { sum: Some(sum) }
}

/// A record with a labelled party field and an unlabelled int64 field.
fn record() -> (Vec<u8>, ledger::Record) {
    use ledger::value::Sum;
    let (id_b, id) = identifier("1220aa", "Iou", "Iou");
    let bytes = pb(&[
        (1, M(id_b)),
        (2, M(pb(&[(1, S("owner")), (2, M(pb(&[(7, S("alice::1220ab"))])))]))),
        (2, M(pb(&[(2, M(pb(&[(3, Z(-5))])))]))),
    ]);
    let expected = ledger::Record {
        record_id: Some(id),
        fields: vec![
            ledger::RecordField {
                label: "owner".into(),
                value: Some(value(Sum::Party("alice::1220ab".into()))),
            },
            ledger::RecordField {
                label: String::new(),
                value: Some(value(Sum::Int64(-5))),
            },
        ],
    };
    (bytes, expected)
}

fn sequencer_connections() -> (Vec<u8>, sequencer::SequencerConnections) {
    use sequencer::sequencer_connection::{Grpc, Type};
    let (patience_b, patience) = duration(5, 0);
    let (conf_patience_b, conf_patience) = duration(1, 500);
    let (d1_b, d1) = duration(1, 1);
    let (d2_b, d2) = duration(2, 2);
    let (d3_b, d3) = duration(3, 3);
    let (d4_b, d4) = duration(4, 4);
    let (d5_b, d5) = duration(60, 0);
    let bytes = pb(&[
        (
            1,
            M(pb(&[
                (
                    2,
                    M(pb(&[
                        (1, S("https://seq1:5001")),
                        (1, S("http://seq1b:5001")),
                        (2, U(1)),
                        (3, B(b"-----BEGIN CERTIFICATE-----")),
                    ])),
                ),
                (3, S("seq1")),
                (4, S("SEQ::1220cd")),
            ])),
        ),
        // An optional field set to its default stays set: sequencer_id = "" and
        // custom_trust_certificates = b"".
        (
            1,
            M(pb(&[
                (2, M(pb(&[(1, S("http://seq2:5001")), (3, B(b""))]))),
                (3, S("seq2")),
                (4, S("")),
            ])),
        ),
        // Neither optional field present.
        (1, M(pb(&[(2, M(pb(&[(1, S("http://seq3:5001"))]))), (3, S("seq3"))]))),
        (2, U(2)),
        (
            3,
            M(pb(&[(1, U(3)), (2, M(patience_b)), (3, U(0)), (4, M(conf_patience_b))])),
        ),
        (4, U(1)),
        (5, M(pb(&[(1, M(d1_b)), (2, M(d2_b)), (3, M(d3_b)), (4, M(d4_b))]))),
        (6, M(pb(&[(1, M(d5_b)), (2, U(100))]))),
    ]);
    let expected = sequencer::SequencerConnections {
        sequencer_connections: vec![
            sequencer::SequencerConnection {
                r#type: Some(Type::Grpc(Grpc {
                    connections: strings(&["https://seq1:5001", "http://seq1b:5001"]),
                    transport_security: true,
                    custom_trust_certificates: Some(b"-----BEGIN CERTIFICATE-----".to_vec()),
                })),
                alias: "seq1".into(),
                sequencer_id: Some("SEQ::1220cd".into()),
            },
            sequencer::SequencerConnection {
                r#type: Some(Type::Grpc(Grpc {
                    connections: strings(&["http://seq2:5001"]),
                    transport_security: false,
                    custom_trust_certificates: Some(Vec::new()),
                })),
                alias: "seq2".into(),
                sequencer_id: Some(String::new()),
            },
            sequencer::SequencerConnection {
                r#type: Some(Type::Grpc(Grpc {
                    connections: strings(&["http://seq3:5001"]),
                    transport_security: false,
                    custom_trust_certificates: None,
                })),
                alias: "seq3".into(),
                sequencer_id: None,
            },
        ],
        sequencer_trust_threshold: 2,
        submission_request_amplification: Some(sequencer::SubmissionRequestAmplification {
            factor: 3,
            patience: Some(patience),
            confirmation_response_factor: Some(0),
            confirmation_response_patience: Some(conf_patience),
        }),
        sequencer_liveness_margin: 1,
        sequencer_connection_pool_delays: Some(sequencer::SequencerConnectionPoolDelays {
            min_restart_delay: Some(d1),
            max_restart_delay: Some(d2),
            subscription_request_delay: Some(d3),
            warn_validation_delay: Some(d4),
        }),
        subscription_liveness_limits: Some(sequencer::SubscriptionLivenessLimits {
            max_timestamp_delta: Some(d5),
            max_ordinal_delta: 100,
        }),
    };
    (bytes, expected)
}

fn time_tracker() -> (Vec<u8>, time::SynchronizerTimeTrackerConfig) {
    let d: Vec<_> = (1..=6).map(|s| duration(s, 0)).collect();
    let bytes = pb(&[
        (1, M(d[0].0.clone())),
        (2, M(d[1].0.clone())),
        (3, M(d[2].0.clone())),
        (
            4,
            M(pb(&[
                (1, M(d[3].0.clone())),
                (2, M(d[4].0.clone())),
                (3, M(d[5].0.clone())),
            ])),
        ),
    ]);
    let expected = time::SynchronizerTimeTrackerConfig {
        observation_latency: Some(d[0].1),
        patience_duration: Some(d[1].1),
        min_observation_duration: Some(d[2].1),
        time_proof_request: Some(time::TimeProofRequestConfig {
            initial_retry_delay: Some(d[3].1),
            max_retry_delay: Some(d[4].1),
            max_sequencing_delay: Some(d[5].1),
        }),
    };
    (bytes, expected)
}

fn connection_config() -> (Vec<u8>, admin::SynchronizerConnectionConfig) {
    let (seq_b, seq) = sequencer_connections();
    let (tt_b, tt) = time_tracker();
    let (initial_b, initial) = duration(2, 0);
    let (max_b, max) = duration(30, 0);
    let bytes = pb(&[
        (1, S("mysync")),
        (2, M(seq_b)),
        (3, U(1)),
        (4, S("mysync::1220ef::34-0")),
        (5, I(-3)),
        (6, M(initial_b)),
        (7, M(max_b)),
        (8, M(tt_b)),
        // Number 9 is unused.
        (10, U(1)),
    ]);
    let expected = admin::SynchronizerConnectionConfig {
        synchronizer_alias: "mysync".into(),
        sequencer_connections: Some(seq),
        manual_connect: true,
        physical_synchronizer_id: "mysync::1220ef::34-0".into(),
        priority: -3,
        initial_retry_delay: Some(initial),
        max_retry_delay: Some(max),
        time_tracker: Some(tt),
        initialize_from_trusted_synchronizer: true,
    };
    (bytes, expected)
}

/// A created event with every field of the reference set.
fn created_event() -> (Vec<u8>, ledger::CreatedEvent) {
    use ledger::value::Sum;
    let (tpl_b, tpl) = identifier("1220aa", "Iou", "Iou");
    let (iface_b, iface) = identifier("1220bb", "Iface", "View");
    let (args_b, args) = record();
    let (view_b, view) = record();
    let (created_at_b, created_at) = timestamp(1_700_000_000, 123_000);
    let status_b = pb(&[
        (1, I(3)),
        (2, S("no view")),
        (3, M(pb(&[(1, S("type.googleapis.com/x.Y")), (2, B(&[1, 2]))]))),
    ]);
    let bytes = pb(&[
        (1, I(42)),
        (2, I(7)),
        (3, S("00abcdef")),
        (4, M(tpl_b)),
        (5, M(pb(&[(8, S("key"))]))),
        (6, M(args_b)),
        (7, B(&[0xca, 0xfe])),
        (
            8,
            M(pb(&[
                (1, M(iface_b)),
                (2, M(status_b)),
                (3, M(view_b)),
                (4, S("1220cc")),
            ])),
        ),
        (9, S("alice::1220ab")),
        (10, S("alice::1220ab")),
        (10, S("bank::1220ab")),
        (11, S("bob::1220ab")),
        (12, M(created_at_b)),
        (13, S("iou")),
        (14, U(1)),
        (15, S("1220dd")),
        (16, B(&[0x11; 4])),
    ]);
    let expected = ledger::CreatedEvent {
        offset: 42,
        node_id: 7,
        contract_id: "00abcdef".into(),
        template_id: Some(tpl),
        contract_key: Some(value(Sum::Text("key".into()))),
        create_arguments: Some(args),
        created_event_blob: vec![0xca, 0xfe],
        interface_views: vec![ledger::InterfaceView {
            interface_id: Some(iface),
            view_status: Some(rpc::Status {
                code: 3,
                message: "no view".into(),
                details: vec![prost_types::Any {
                    type_url: "type.googleapis.com/x.Y".into(),
                    value: vec![1, 2],
                }],
            }),
            view_value: Some(view),
            implementation_package_id: "1220cc".into(),
        }],
        witness_parties: strings(&["alice::1220ab"]),
        signatories: strings(&["alice::1220ab", "bank::1220ab"]),
        observers: strings(&["bob::1220ab"]),
        created_at: Some(created_at),
        package_name: "iou".into(),
        acs_delta: true,
        representative_package_id: "1220dd".into(),
        contract_key_hash: vec![0x11; 4],
    };
    (bytes, expected)
}

fn ledger_active_contract() -> (Vec<u8>, ledger::ActiveContract) {
    let (ev_b, ev) = created_event();
    let bytes = pb(&[(1, M(ev_b)), (2, S("mysync::1220ef")), (3, U(u64::MAX))]);
    let expected = ledger::ActiveContract {
        created_event: Some(ev),
        synchronizer_id: "mysync::1220ef".into(),
        reassignment_counter: u64::MAX,
    };
    (bytes, expected)
}

// ---------------------------------------------------------------------------------
// Method paths.

mod paths {
    use std::convert::Infallible;
    use std::future::{Ready, ready};
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll};

    use tonic::body::Body;
    use tonic::codegen::{Service, http};
    use tonic::{Code, Status};

    use super::super::{admin, lab, ledger, ledger_admin};

    const REFUSAL: &str = "recorded";

    /// Records the path of every request and refuses it, so that the client code
    /// runs exactly as far as the wire.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<String>>>);

    impl Service<http::Request<Body>> for Recorder {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = Ready<Result<Self::Response, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, req: http::Request<Body>) -> Self::Future {
            assert_eq!(req.method(), http::Method::POST);
            self.0.lock().expect("recorder lock").push(req.uri().path().to_owned());
            ready(Ok(Status::unimplemented(REFUSAL).into_http()))
        }
    }

    impl Recorder {
        #[track_caller]
        fn assert_paths(&self, expected: &[&str]) {
            assert_eq!(*self.0.lock().expect("recorder lock"), expected);
        }
    }

    /// The call must have reached the recorder and come back with its refusal.
    #[track_caller]
    fn refused<T: std::fmt::Debug>(result: Result<T, Status>) {
        let status = result.expect_err("the recorder refuses every call");
        assert_eq!(status.code(), Code::Unimplemented);
        assert_eq!(status.message(), REFUSAL);
    }

    #[tokio::test]
    async fn synchronizer_connectivity_service() {
        use admin::synchronizer_connectivity_service_client::SynchronizerConnectivityServiceClient;
        let rec = Recorder::default();
        let mut c = SynchronizerConnectivityServiceClient::new(rec.clone());
        refused(
            c.list_registered_synchronizers(admin::ListRegisteredSynchronizersRequest::default())
                .await,
        );
        refused(
            c.list_connected_synchronizers(admin::ListConnectedSynchronizersRequest::default())
                .await,
        );
        refused(
            c.register_synchronizer(admin::RegisterSynchronizerRequest::default())
                .await,
        );
        refused(
            c.connect_synchronizer(admin::ConnectSynchronizerRequest::default())
                .await,
        );
        refused(
            c.reconnect_synchronizer(admin::ReconnectSynchronizerRequest::default())
                .await,
        );
        refused(
            c.disconnect_synchronizer(admin::DisconnectSynchronizerRequest::default())
                .await,
        );
        refused(
            c.disconnect_all_synchronizers(admin::DisconnectAllSynchronizersRequest::default())
                .await,
        );
        refused(c.modify_synchronizer(admin::ModifySynchronizerRequest::default()).await);
        refused(c.get_synchronizer_id(admin::GetSynchronizerIdRequest::default()).await);
        rec.assert_paths(&[
            "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/ListRegisteredSynchronizers",
            "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/ListConnectedSynchronizers",
            "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/RegisterSynchronizer",
            "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/ConnectSynchronizer",
            "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/ReconnectSynchronizer",
            "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/DisconnectSynchronizer",
            "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/DisconnectAllSynchronizers",
            "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/ModifySynchronizer",
            "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/GetSynchronizerId",
        ]);
        assert_eq!(
            admin::synchronizer_connectivity_service_server::SERVICE_NAME,
            "com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService"
        );
    }

    #[tokio::test]
    async fn participant_repair_service() {
        use admin::participant_repair_service_client::ParticipantRepairServiceClient;
        let rec = Recorder::default();
        let mut c = ParticipantRepairServiceClient::new(rec.clone());
        refused(c.export_acs(admin::ExportAcsRequest::default()).await);
        let chunks = futures::stream::iter([admin::ImportAcsRequest::default()]);
        refused(c.import_acs(chunks).await);
        refused(c.change_assignation(admin::ChangeAssignationRequest::default()).await);
        refused(c.purge_contracts(admin::PurgeContractsRequest::default()).await);
        rec.assert_paths(&[
            "/com.digitalasset.canton.admin.participant.v30.ParticipantRepairService/ExportAcs",
            "/com.digitalasset.canton.admin.participant.v30.ParticipantRepairService/ImportAcs",
            "/com.digitalasset.canton.admin.participant.v30.ParticipantRepairService/ChangeAssignation",
            "/com.digitalasset.canton.admin.participant.v30.ParticipantRepairService/PurgeContracts",
        ]);
        assert_eq!(
            admin::participant_repair_service_server::SERVICE_NAME,
            "com.digitalasset.canton.admin.participant.v30.ParticipantRepairService"
        );
    }

    #[tokio::test]
    async fn participant_inspection_service() {
        use admin::participant_inspection_service_client::ParticipantInspectionServiceClient;
        let rec = Recorder::default();
        let mut c = ParticipantInspectionServiceClient::new(rec.clone());
        refused(
            c.inspect_commitment_contracts(admin::InspectCommitmentContractsRequest::default())
                .await,
        );
        refused(c.count_in_flight(admin::CountInFlightRequest::default()).await);
        rec.assert_paths(&[
            "/com.digitalasset.canton.admin.participant.v30.ParticipantInspectionService/InspectCommitmentContracts",
            "/com.digitalasset.canton.admin.participant.v30.ParticipantInspectionService/CountInFlight",
        ]);
        assert_eq!(
            admin::participant_inspection_service_server::SERVICE_NAME,
            "com.digitalasset.canton.admin.participant.v30.ParticipantInspectionService"
        );
    }

    #[tokio::test]
    async fn participant_status_service() {
        use admin::participant_status_service_client::ParticipantStatusServiceClient;
        let rec = Recorder::default();
        let mut c = ParticipantStatusServiceClient::new(rec.clone());
        refused(c.participant_status(admin::ParticipantStatusRequest::default()).await);
        rec.assert_paths(&[
            "/com.digitalasset.canton.admin.participant.v30.ParticipantStatusService/ParticipantStatus",
        ]);
        assert_eq!(
            admin::participant_status_service_server::SERVICE_NAME,
            "com.digitalasset.canton.admin.participant.v30.ParticipantStatusService"
        );
    }

    #[tokio::test]
    async fn ping_service() {
        use admin::ping_service_client::PingServiceClient;
        let rec = Recorder::default();
        let mut c = PingServiceClient::new(rec.clone());
        refused(c.ping(admin::PingRequest::default()).await);
        rec.assert_paths(&["/com.digitalasset.canton.admin.participant.v30.PingService/Ping"]);
        assert_eq!(
            admin::ping_service_server::SERVICE_NAME,
            "com.digitalasset.canton.admin.participant.v30.PingService"
        );
    }

    #[tokio::test]
    async fn state_service() {
        use ledger::state_service_client::StateServiceClient;
        let rec = Recorder::default();
        let mut c = StateServiceClient::new(rec.clone());
        refused(c.get_ledger_end(ledger::GetLedgerEndRequest::default()).await);
        refused(
            c.get_active_contracts(ledger::GetActiveContractsRequest::default())
                .await,
        );
        rec.assert_paths(&[
            "/com.daml.ledger.api.v2.StateService/GetLedgerEnd",
            "/com.daml.ledger.api.v2.StateService/GetActiveContracts",
        ]);
        assert_eq!(
            ledger::state_service_server::SERVICE_NAME,
            "com.daml.ledger.api.v2.StateService"
        );
    }

    #[tokio::test]
    async fn command_service() {
        use ledger::command_service_client::CommandServiceClient;
        let rec = Recorder::default();
        let mut c = CommandServiceClient::new(rec.clone());
        refused(c.submit_and_wait(ledger::SubmitAndWaitRequest::default()).await);
        rec.assert_paths(&["/com.daml.ledger.api.v2.CommandService/SubmitAndWait"]);
        assert_eq!(
            ledger::command_service_server::SERVICE_NAME,
            "com.daml.ledger.api.v2.CommandService"
        );
    }

    #[tokio::test]
    async fn party_management_service() {
        use ledger_admin::party_management_service_client::PartyManagementServiceClient;
        let rec = Recorder::default();
        let mut c = PartyManagementServiceClient::new(rec.clone());
        refused(
            c.list_known_parties(ledger_admin::ListKnownPartiesRequest::default())
                .await,
        );
        rec.assert_paths(&["/com.daml.ledger.api.v2.admin.PartyManagementService/ListKnownParties"]);
        assert_eq!(
            ledger_admin::party_management_service_server::SERVICE_NAME,
            "com.daml.ledger.api.v2.admin.PartyManagementService"
        );
    }

    #[tokio::test]
    async fn lab_sequencer() {
        use lab::sequencer_client::SequencerClient;
        let rec = Recorder::default();
        let mut c = SequencerClient::new(rec.clone());
        refused(c.handshake(lab::HandshakeRequest::default()).await);
        refused(c.subscribe(lab::SubscribeRequest::default()).await);
        refused(c.submit(lab::SubmitRequest::default()).await);
        refused(c.confirm(lab::ConfirmRequest::default()).await);
        rec.assert_paths(&[
            "/recoverydeck.lab.v1.Sequencer/Handshake",
            "/recoverydeck.lab.v1.Sequencer/Subscribe",
            "/recoverydeck.lab.v1.Sequencer/Submit",
            "/recoverydeck.lab.v1.Sequencer/Confirm",
        ]);
        assert_eq!(lab::sequencer_server::SERVICE_NAME, "recoverydeck.lab.v1.Sequencer");
    }

    #[tokio::test]
    async fn lab_synchronizer_control() {
        use lab::synchronizer_control_client::SynchronizerControlClient;
        let rec = Recorder::default();
        let mut c = SynchronizerControlClient::new(rec.clone());
        refused(c.arm_partial_delivery(lab::ArmPartialDeliveryRequest::default()).await);
        refused(c.synchronizer_state(lab::SynchronizerStateRequest::default()).await);
        rec.assert_paths(&[
            "/recoverydeck.lab.v1.SynchronizerControl/ArmPartialDelivery",
            "/recoverydeck.lab.v1.SynchronizerControl/SynchronizerState",
        ]);
        assert_eq!(
            lab::synchronizer_control_server::SERVICE_NAME,
            "recoverydeck.lab.v1.SynchronizerControl"
        );
    }

    #[tokio::test]
    async fn lab_participant_control() {
        use lab::participant_control_client::ParticipantControlClient;
        let rec = Recorder::default();
        let mut c = ParticipantControlClient::new(rec.clone());
        refused(c.counters(lab::CountersRequest::default()).await);
        rec.assert_paths(&["/recoverydeck.lab.v1.ParticipantControl/Counters"]);
        assert_eq!(
            lab::participant_control_server::SERVICE_NAME,
            "recoverydeck.lab.v1.ParticipantControl"
        );
    }
}

// ---------------------------------------------------------------------------------
// §1–3: synchronizer connectivity, sequencer connections, time tracker, topology.

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
