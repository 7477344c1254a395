//! Round-trips over arbitrary contracts and arbitrary chunkings of the byte stream.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::*;
use crate::wire::ledger::value::Sum;

// ---------------------------------------------------------------------------------
// Round-trips

fn arb_identifier() -> impl Strategy<Value = ledger::Identifier> {
    (
        "[0-9a-f]{0,64}|#[a-z-]{1,12}",
        "[A-Z][A-Za-z.]{0,12}",
        "[A-Z][A-Za-z]{0,12}",
    )
        .prop_map(|(package_id, module_name, entity_name)| ledger::Identifier {
            package_id,
            module_name,
            entity_name,
        })
}

fn arb_party() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_-]{0,10}::1220[0-9a-f]{8}"
}

fn arb_value() -> impl Strategy<Value = ledger::Value> {
    let leaf = prop_oneof![
        Just(None),
        Just(Some(Sum::Unit(()))),
        any::<bool>().prop_map(|v| Some(Sum::Bool(v))),
        any::<i64>().prop_map(|v| Some(Sum::Int64(v))),
        any::<i32>().prop_map(|v| Some(Sum::Date(v))),
        any::<i64>().prop_map(|v| Some(Sum::Timestamp(v))),
        "-?[0-9]{1,28}\\.[0-9]{0,10}".prop_map(|v| Some(Sum::Numeric(v))),
        arb_party().prop_map(|v| Some(Sum::Party(v))),
        any::<String>().prop_map(|v| Some(Sum::Text(v))),
        "[0-9a-f]{2,80}".prop_map(|v| Some(Sum::ContractId(v))),
        (option::of(arb_identifier()), "[A-Z][a-z]{0,8}")
            .prop_map(|(enum_id, constructor)| { Some(Sum::Enum(ledger::Enum { enum_id, constructor })) }),
    ]
    .prop_map(|sum| ledger::Value { sum });
    leaf.prop_recursive(4, 48, 4, |inner| {
        let field =
            ("[a-z]{0,8}", option::of(inner.clone())).prop_map(|(label, value)| ledger::RecordField { label, value });
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(|elements| Sum::List(ledger::List { elements })),
            option::of(inner.clone())
                .prop_map(|v| Sum::Optional(Box::new(ledger::Optional { value: v.map(Box::new) }))),
            (option::of(arb_identifier()), vec(field, 0..4))
                .prop_map(|(record_id, fields)| { Sum::Record(ledger::Record { record_id, fields }) }),
            (
                option::of(arb_identifier()),
                "[A-Z][a-z]{0,8}",
                option::of(inner.clone())
            )
                .prop_map(|(variant_id, constructor, v)| {
                    Sum::Variant(Box::new(ledger::Variant {
                        variant_id,
                        constructor,
                        value: v.map(Box::new),
                    }))
                }),
            vec((any::<String>(), option::of(inner.clone())), 0..3).prop_map(|entries| {
                Sum::TextMap(ledger::TextMap {
                    entries: entries
                        .into_iter()
                        .map(|(key, value)| ledger::text_map::Entry { key, value })
                        .collect(),
                })
            }),
            vec((option::of(inner.clone()), option::of(inner)), 0..3).prop_map(|entries| {
                Sum::GenMap(ledger::GenMap {
                    entries: entries
                        .into_iter()
                        .map(|(key, value)| ledger::gen_map::Entry { key, value })
                        .collect(),
                })
            }),
        ]
        .prop_map(|sum| ledger::Value { sum: Some(sum) })
    })
}

fn arb_record() -> impl Strategy<Value = ledger::Record> {
    let field = ("[a-z]{0,8}", option::of(arb_value())).prop_map(|(label, value)| ledger::RecordField { label, value });
    (option::of(arb_identifier()), vec(field, 0..5))
        .prop_map(|(record_id, fields)| ledger::Record { record_id, fields })
}

fn arb_interface_view() -> impl Strategy<Value = ledger::InterfaceView> {
    (
        option::of(arb_identifier()),
        option::of((any::<i32>(), any::<String>())),
        option::of(arb_record()),
        "[0-9a-f]{0,64}",
    )
        .prop_map(
            |(interface_id, status, view_value, implementation_package_id)| ledger::InterfaceView {
                interface_id,
                view_status: status.map(|(code, message)| crate::wire::google::rpc::Status {
                    code,
                    message,
                    details: Vec::new(),
                }),
                view_value,
                implementation_package_id,
            },
        )
}

fn arb_created_event() -> impl Strategy<Value = ledger::CreatedEvent> {
    let head = (
        any::<i64>(),
        any::<i32>(),
        "[0-9a-f]{2,80}",
        option::of(arb_identifier()),
        option::of(arb_value()),
        option::of(arb_record()),
        vec(any::<u8>(), 0..1024),
        vec(arb_interface_view(), 0..2),
    );
    let tail = (
        vec(arb_party(), 0..3),
        vec(arb_party(), 0..3),
        vec(arb_party(), 0..3),
        option::of((any::<i64>(), 0..1_000_000_000i32)),
        "[a-z-]{0,12}",
        any::<bool>(),
        "[0-9a-f]{0,64}",
        vec(any::<u8>(), 0..32),
    );
    (head, tail).prop_map(
        |(
            (offset, node_id, contract_id, template_id, contract_key, create_arguments, blob, views),
            (witnesses, signatories, observers, created_at, package_name, acs_delta, rep, key_hash),
        )| ledger::CreatedEvent {
            offset,
            node_id,
            contract_id,
            template_id,
            contract_key,
            create_arguments,
            created_event_blob: blob,
            interface_views: views,
            witness_parties: witnesses,
            signatories,
            observers,
            created_at: created_at.map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
            package_name,
            acs_delta,
            representative_package_id: rep,
            contract_key_hash: key_hash,
        },
    )
}

pub(super) fn arb_contract() -> impl Strategy<Value = ledger::ActiveContract> {
    (
        option::weighted(0.95, arb_created_event()),
        "[a-z][a-z0-9-]{0,8}::1220[0-9a-f]{8}",
        any::<u64>(),
    )
        .prop_map(
            |(created_event, synchronizer_id, reassignment_counter)| ledger::ActiveContract {
                created_event,
                synchronizer_id,
                reassignment_counter,
            },
        )
}

pub(super) fn arb_commitment_contract() -> impl Strategy<Value = admin::CommitmentContract> {
    use admin::contract_state::synchronizer_state::State;
    use admin::contract_state::{self as cs, ReassignmentId, SynchronizerState};
    let reassignment = option::of("[a-z0-9]{0,8}".prop_map(|id| ReassignmentId { id }));
    let state = prop_oneof![
        Just(State::Created(cs::Created {})),
        Just(State::Archived(cs::Archived {})),
        Just(State::Unknown(cs::Unknown {})),
        ("[a-z:0-9]{0,16}", any::<i64>(), reassignment.clone()).prop_map(|(t, c, r)| {
            State::Unassigned(cs::Unassigned {
                target_synchronizer_id: t,
                reassignment_counter_src: c,
                reassignment_id: r,
            })
        }),
        (any::<i64>(), reassignment).prop_map(|(c, r)| State::Assigned(cs::Assigned {
            reassignment_counter_target: c,
            reassignment_id: r,
        })),
    ];
    let sync_state = ("[a-z:0-9]{0,16}", option::of(state))
        .prop_map(|(synchronizer_id, state)| SynchronizerState { synchronizer_id, state });
    (
        vec(any::<u8>(), 0..40),
        any::<bool>(),
        option::of(vec(any::<u8>(), 0..300)),
        vec(sync_state, 0..4),
    )
        .prop_map(|(cid, active, contract, states)| admin::CommitmentContract {
            cid,
            active_on_expected_synchronizer: active,
            contract,
            states,
        })
}

/// Slice lengths for re-chunking a byte stream: single bytes, small or large pieces.
pub(super) fn arb_split() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![Just(vec![1]), vec(1usize..16, 1..8), vec(1usize..5000, 1..8),]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn acs_roundtrip_for_any_chunking(
        cs in vec(arb_contract(), 0..6),
        chunk_size in 1usize..2048,
        sizes in arb_split(),
    ) {
        let chunks = encode_all(&cs, chunk_size);
        let (last, full) = chunks.split_last().expect("at least the gzip trailer");
        prop_assert!(full.iter().all(|c| c.len() == chunk_size));
        prop_assert!(!last.is_empty() && last.len() <= chunk_size);
        let stream = concat(&chunks);
        prop_assert_eq!(decode_chunks(split(&stream, &sizes)).expect("decodes"), cs);
    }

    #[test]
    fn frame_roundtrip_for_any_chunking(
        ccs in vec(arb_commitment_contract(), 0..8),
        chunk_size in 1usize..512,
        sizes in arb_split(),
    ) {
        let mut enc = FrameEncoder::with_chunk_size(chunk_size);
        let mut chunks = Vec::new();
        for c in &ccs {
            enc.push(c).expect("push");
            chunks.extend(std::iter::from_fn(|| enc.take_chunk()));
        }
        prop_assert_eq!(enc.records(), ccs.len() as u64);
        chunks.extend(enc.finish());
        prop_assert!(chunks.iter().all(|c| !c.is_empty() && c.len() <= chunk_size));
        let stream = concat(&chunks);

        let mut dec = FrameDecoder::<admin::CommitmentContract>::new();
        let mut decoded = Vec::new();
        for piece in split(&stream, &sizes) {
            decoded.extend(dec.feed(piece).expect("decodes"));
        }
        prop_assert_eq!(dec.finish().expect("complete"), ccs.len() as u64);
        prop_assert_eq!(decoded, ccs);
    }
}
