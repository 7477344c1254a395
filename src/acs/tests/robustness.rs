//! Hostile input: the decoders return an error, never panic, and never buffer more than
//! one record whatever a length prefix claims. Inputs are arbitrary bytes and valid
//! streams mutated at the gzip layer and inside it (truncated, flipped, inserted and
//! deleted bytes, a wrong version, an oversized length prefix), each fed in an arbitrary
//! chunking; the outcome never depends on the chunking. `fuzz/` runs the same decoders
//! under libFuzzer for longer.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use super::roundtrip::{arb_commitment_contract, arb_contract, arb_split};
use super::*;

/// A record limit small enough for the buffer bound below to mean something, large
/// enough for every generated contract.
const LIMIT: usize = 16 * 1024;

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(Index),
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Append(Vec<u8>),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<Index>(), vec(any::<u8>(), 1..12)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<Index>(), 1usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
        vec(any::<u8>(), 1..12).prop_map(Mutation::Append),
    ]
}

fn apply(data: &mut Vec<u8>, mutation: &Mutation) {
    let len = data.len();
    let at = |i: &Index| if len == 0 { 0 } else { i.index(len) };
    match mutation {
        Mutation::Truncate(i) => data.truncate(at(i)),
        Mutation::Flip(i, x) if len > 0 => data[at(i)] ^= x,
        Mutation::Set(i, b) if len > 0 => data[at(i)] = *b,
        Mutation::Flip(..) | Mutation::Set(..) => {}
        Mutation::Insert(i, bytes) => {
            let k = at(i);
            data.splice(k..k, bytes.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let k = at(i);
            data.drain(k..(k + n).min(len));
        }
        Mutation::Append(bytes) => data.extend_from_slice(bytes),
    }
}

fn mutated(mut data: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        apply(&mut data, m);
    }
    data
}

/// At most one record (and its prefix) is ever buffered, whatever a prefix announces,
/// and the inflate buffer never grows.
#[track_caller]
fn assert_bounded<M>(frames: &FrameDecoder<M>) {
    let cap = frames.pending.capacity();
    assert!(cap <= 2 * (LIMIT + 10), "the frame decoder buffers {cap} bytes");
}

/// The outcome of decoding `data` in pieces of `sizes`, with the buffers checked after
/// every piece. Errors are compared by their message.
fn acs_outcome(data: &[u8], sizes: &[usize]) -> Result<Vec<ledger::ActiveContract>, String> {
    let mut dec = AcsDecoder::with_max_record_len(LIMIT);
    let mut out = Vec::new();
    for piece in split(data, sizes) {
        let fed = dec.feed(piece);
        assert_bounded(&dec.frames);
        assert!(dec.inflated.capacity() <= INFLATE_BUF, "the inflate buffer grew");
        out.extend(fed.map_err(|e| e.to_string())?);
    }
    let count = dec.finish().map_err(|e| e.to_string())?;
    assert_eq!(count, out.len() as u64);
    Ok(out)
}

fn frame_outcome(data: &[u8], sizes: &[usize]) -> Result<Vec<admin::CommitmentContract>, String> {
    let mut dec = FrameDecoder::<admin::CommitmentContract>::with_max_record_len(LIMIT);
    let mut out = Vec::new();
    for piece in split(data, sizes) {
        let fed = dec.feed(piece);
        assert_bounded(&dec);
        out.extend(fed.map_err(|e| e.to_string())?);
    }
    let count = dec.finish().map_err(|e| e.to_string())?;
    assert_eq!(count, out.len() as u64);
    Ok(out)
}

/// Decodes in one piece and in `sizes`: both must decode the same contracts or both
/// refuse. Which error they give may differ when a stream has two defects and the
/// inflater reaches the later one while more than its 32 KiB window of output before it
/// is still unread; within that window the first defect is always the one reported
/// (`a_bad_record_before_corrupt_deflate_data_is_reported_in_any_chunking`).
fn acs_decode(data: &[u8], sizes: &[usize]) -> Result<Result<Vec<ledger::ActiveContract>, String>, TestCaseError> {
    let whole = acs_outcome(data, &[data.len().max(1)]);
    let pieces = acs_outcome(data, sizes);
    match (&whole, &pieces) {
        (Ok(a), Ok(b)) => prop_assert_eq!(a, b, "the contracts depend on the chunking"),
        (Err(_), Err(_)) => {}
        _ => prop_assert!(
            false,
            "the outcome depends on the chunking: {:?} vs {:?}",
            whole,
            pieces
        ),
    }
    Ok(whole)
}

fn snapshot(contracts: &[ledger::ActiveContract], chunk_size: usize) -> Vec<u8> {
    concat(&encode_all(contracts, chunk_size))
}

/// Records built by hand: any version, with or without data, data of any bytes.
fn arb_raw_record() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(RECORD_VERSION), any::<i32>()],
        proptest::option::weighted(0.9, vec(any::<u8>(), 0..64)),
    )
        .prop_map(|(version, data)| record(version, data))
}

/// Gzip member headers with arbitrary flags and optional parts.
fn arb_gzip_prefix() -> impl Strategy<Value = Vec<u8>> {
    (any::<u8>(), vec(any::<u8>(), 6), vec(any::<u8>(), 0..64)).prop_map(|(flags, fixed, rest)| {
        let mut out = vec![0x1f, 0x8b, 8, flags];
        out.extend(fixed);
        out.extend(rest);
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_are_refused_without_panicking(
        data in prop_oneof![
            vec(any::<u8>(), 0..2048),
            arb_gzip_prefix(),
            vec(any::<u8>(), 0..2048).prop_map(|d| gzip(&d)),
            vec(arb_raw_record(), 0..6).prop_map(|r| gzip(&r.concat())),
        ],
        sizes in arb_split(),
    ) {
        let _ = acs_decode(&data, &sizes)?;
        let whole = frame_outcome(&data, &[data.len().max(1)]);
        prop_assert_eq!(whole, frame_outcome(&data, &sizes));
    }

    /// Mutating the compressed bytes either breaks the stream or leaves the contracts as
    /// they were (a header field such as the mtime, a padding bit): the CRC-32 makes
    /// sure a corrupt snapshot never yields other contracts.
    #[test]
    fn a_corrupted_snapshot_never_yields_other_contracts(
        cs in vec(arb_contract(), 0..4),
        chunk_size in 1usize..512,
        mutations in vec(arb_mutation(), 1..4),
        sizes in arb_split(),
    ) {
        let valid = snapshot(&cs, chunk_size);
        let data = mutated(valid, &mutations);
        if let Ok(decoded) = acs_decode(&data, &sizes)? {
            prop_assert_eq!(decoded, cs);
        }
    }

    /// Mutations inside the gzip layer reach the framing and the protobuf decoders.
    #[test]
    fn mutated_records_inside_valid_gzip_are_handled(
        cs in vec(arb_contract(), 1..4),
        mutations in vec(arb_mutation(), 1..4),
        sizes in arb_split(),
    ) {
        let inner = mutated(gunzip(&snapshot(&cs, 4096)), &mutations);
        let _ = acs_decode(&gzip(&inner), &sizes)?;
    }

    #[test]
    fn every_truncation_is_refused(
        cs in vec(arb_contract(), 0..4),
        cut in any::<Index>(),
        sizes in arb_split(),
    ) {
        let valid = snapshot(&cs, 1024);
        let data = &valid[..cut.index(valid.len())];
        let outcome = acs_decode(data, &sizes)?;
        prop_assert!(outcome.is_err(), "a snapshot cut at {} of {} bytes decodes", data.len(), valid.len());
    }

    #[test]
    fn a_wrong_version_names_the_record(
        cs in vec(arb_contract(), 1..4),
        bad in any::<Index>(),
        version in any::<i32>().prop_filter("not 30", |v| *v != RECORD_VERSION),
        sizes in arb_split(),
    ) {
        let bad = bad.index(cs.len());
        let inner: Vec<u8> = cs
            .iter()
            .enumerate()
            .flat_map(|(i, c)| {
                let wrapper = admin::ActiveContract { active_contract: c.encode_to_vec() };
                record(if i == bad { version } else { RECORD_VERSION }, Some(wrapper.encode_to_vec()))
            })
            .collect();
        let expected = AcsError::UnsupportedVersion { record: bad as u64, version }.to_string();
        prop_assert_eq!(acs_decode(&gzip(&inner), &sizes)?, Err(expected));
    }

    /// A prefix announcing more than the limit is refused as soon as it is complete,
    /// before any of the body arrives and without reserving it.
    #[test]
    fn an_oversized_length_prefix_is_refused_before_its_body(
        cs in vec(arb_contract(), 0..3),
        len in (LIMIT as u64 + 1)..=u64::MAX,
        tail in vec(any::<u8>(), 0..64),
        sizes in arb_split(),
    ) {
        let mut oversized = Vec::new();
        prost::encoding::encode_varint(len, &mut oversized);
        oversized.extend(tail);
        let mut inner = gunzip(&snapshot(&cs, 4096));
        inner.extend(&oversized);
        let refused = |record: usize| AcsError::RecordTooLarge { record: record as u64, len, max: LIMIT }.to_string();
        prop_assert_eq!(acs_decode(&gzip(&inner), &sizes)?, Err(refused(cs.len())));
        // The same limit holds for the plain frames of InspectCommitmentContracts.
        prop_assert_eq!(frame_outcome(&oversized, &sizes), Err(refused(0)));
    }

    #[test]
    fn mutated_commitment_streams_are_handled(
        ccs in vec(arb_commitment_contract(), 0..5),
        mutations in vec(arb_mutation(), 0..4),
        sizes in arb_split(),
    ) {
        let mut enc = FrameEncoder::<admin::CommitmentContract>::new();
        for c in &ccs {
            enc.push(c).expect("push");
        }
        let data = mutated(concat(&enc.finish()), &mutations);
        let whole = frame_outcome(&data, &[data.len().max(1)]);
        prop_assert_eq!(&whole, &frame_outcome(&data, &sizes), "the outcome depends on the chunking");
        if mutations.is_empty() {
            prop_assert_eq!(whole, Ok(ccs));
        }
    }
}
