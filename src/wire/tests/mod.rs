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

mod admin_connectivity;
mod admin_inspection;
mod admin_pruning;
mod admin_repair;
mod admin_vetting;
mod ledger_messages;
mod paths;
