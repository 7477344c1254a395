//! Snapshot and frame codec tests: byte layout against independently built streams,
//! each error case, and round-trips over arbitrary contracts and arbitrary chunkings.

use std::io::{Read as _, Write as _};

use flate2::GzBuilder;
use flate2::read::GzDecoder;

use super::*;
use crate::wire::ledger::value::Sum;

// ---------------------------------------------------------------------------------
// Helpers

fn party(name: &str) -> String {
    format!("{name}::1220abcdef")
}

/// A small contract whose fields all differ from their defaults.
fn contract(n: u8) -> ledger::ActiveContract {
    let args = ledger::Record {
        record_id: None,
        fields: vec![
            ledger::RecordField {
                label: "owner".into(),
                value: Some(ledger::Value {
                    sum: Some(Sum::Party(party("alice"))),
                }),
            },
            ledger::RecordField {
                label: "amount".into(),
                value: Some(ledger::Value {
                    sum: Some(Sum::Numeric(format!("{n}.5000000000"))),
                }),
            },
        ],
    };
    ledger::ActiveContract {
        created_event: Some(ledger::CreatedEvent {
            offset: i64::from(n) + 1,
            contract_id: format!("00{n:02x}{}", "ab".repeat(32)),
            template_id: Some(ledger::Identifier {
                package_id: "1220aa".into(),
                module_name: "Iou".into(),
                entity_name: "Iou".into(),
            }),
            create_arguments: Some(args),
            created_event_blob: vec![n; 64],
            signatories: vec![party("alice")],
            observers: vec![party("bob")],
            package_name: "iou".into(),
            representative_package_id: "1220aa".into(),
            ..Default::default()
        }),
        synchronizer_id: "mysync::1220ef".into(),
        reassignment_counter: u64::from(n),
    }
}

fn contracts(n: u8) -> Vec<ledger::ActiveContract> {
    (0..n).map(contract).collect()
}

/// One length-delimited record, built without the module's encoder.
fn record(version: i32, data: Option<Vec<u8>>) -> Vec<u8> {
    UntypedVersionedMessage {
        wrapper: data.map(Wrapper::Data),
        version,
    }
    .encode_length_delimited_to_vec()
}

fn contract_record(c: &ledger::ActiveContract) -> Vec<u8> {
    let wrapper = admin::ActiveContract {
        active_contract: c.encode_to_vec(),
    };
    record(RECORD_VERSION, Some(wrapper.encode_to_vec()))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(data).read_to_end(&mut out).expect("gunzip");
    out
}

fn encode_all(contracts: &[ledger::ActiveContract], chunk_size: usize) -> Vec<Bytes> {
    let mut enc = AcsEncoder::with_chunk_size(chunk_size);
    let mut chunks = Vec::new();
    for c in contracts {
        enc.push(c).expect("push");
        chunks.extend(std::iter::from_fn(|| enc.take_chunk()));
    }
    chunks.extend(enc.finish().expect("finish"));
    chunks
}

fn concat(chunks: &[Bytes]) -> Vec<u8> {
    chunks.iter().flat_map(|c| c.iter().copied()).collect()
}

/// Splits `data` into slices whose lengths cycle through `sizes`.
fn split<'a>(data: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    assert!(sizes.iter().all(|&s| s > 0));
    let mut out = Vec::new();
    let mut rest = data;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at(size.min(rest.len()));
        out.push(head);
        rest = tail;
    }
    out
}

fn decode_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<ledger::ActiveContract>, AcsError> {
    let mut dec = AcsDecoder::new();
    let mut out = Vec::new();
    for chunk in chunks {
        out.extend(dec.feed(chunk)?);
    }
    let count = dec.finish()?;
    assert_eq!(count, out.len() as u64);
    Ok(out)
}

#[track_caller]
fn decode_err(stream: &[u8]) -> AcsError {
    decode_chunks([stream]).expect_err("the stream must be refused")
}

/// Deterministic incompressible bytes.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// Layout

#[test]
fn snapshot_is_one_gzip_stream_of_delimited_records() {
    let cs = contracts(5);
    let stream = concat(&encode_all(&cs, 100));
    assert_eq!(stream[..3], [0x1f, 0x8b, 8]);
    let expected: Vec<u8> = cs.iter().flat_map(contract_record).collect();
    assert_eq!(gunzip(&stream), expected);
}

#[test]
fn decodes_a_snapshot_from_another_gzip_writer() {
    let cs = contracts(4);
    let plain: Vec<u8> = cs.iter().flat_map(contract_record).collect();
    assert_eq!(decode_chunks([gzip(&plain).as_slice()]).expect("decodes"), cs);
}

#[test]
fn accepts_every_optional_header_field() {
    let cs = contracts(2);
    let plain: Vec<u8> = cs.iter().flat_map(contract_record).collect();
    let mut enc = GzBuilder::new()
        .extra(vec![7; 300])
        .filename("acs.gz")
        .comment("export")
        .mtime(1_750_000_000)
        .write(Vec::new(), Compression::default());
    enc.write_all(&plain).expect("gzip");
    let stream = enc.finish().expect("gzip");
    assert_eq!(decode_chunks(split(&stream, &[1])).expect("decodes"), cs);
}

/// Inserts an FHCRC field into a header without optional fields.
fn with_header_crc(stream: &[u8], corrupt: bool) -> Vec<u8> {
    let mut header = stream[..10].to_vec();
    assert_eq!(header[3], 0, "no optional fields expected");
    header[3] = FHCRC;
    let mut crc = Crc::new();
    crc.update(&header);
    let mut check = (crc.sum() as u16).to_le_bytes();
    if corrupt {
        check[0] ^= 1;
    }
    [&header, &check[..], &stream[10..]].concat()
}

#[test]
fn checks_the_header_crc() {
    let cs = contracts(1);
    let stream = concat(&encode_all(&cs, 1024));
    let good = with_header_crc(&stream, false);
    assert_eq!(decode_chunks(split(&good, &[1])).expect("decodes"), cs);
    let bad = with_header_crc(&stream, true);
    assert!(matches!(
        decode_err(&bad),
        AcsError::CorruptGzip("header checksum mismatch")
    ));
}

#[test]
fn empty_snapshot() {
    let chunks = encode_all(&[], DEFAULT_CHUNK_SIZE);
    assert_eq!(chunks.len(), 1);
    assert!(gunzip(&chunks[0]).is_empty());
    assert_eq!(decode_chunks([&chunks[0][..]]).expect("decodes"), []);
}

#[test]
fn large_contracts_at_the_default_chunk_size() {
    let mut cs = contracts(3);
    for (i, c) in cs.iter_mut().enumerate() {
        if let Some(ev) = c.created_event.as_mut() {
            ev.created_event_blob = noise(1536 * 1024, i as u64 + 1);
        }
    }
    let chunks = encode_all(&cs, DEFAULT_CHUNK_SIZE);
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    let (last, full) = chunks.split_last().expect("chunks");
    assert!(full.iter().all(|c| c.len() == DEFAULT_CHUNK_SIZE));
    assert!(!last.is_empty() && last.len() <= DEFAULT_CHUNK_SIZE);
    assert_eq!(decode_chunks(chunks.iter().map(|c| &c[..])).expect("decodes"), cs);
}

#[test]
fn highly_compressible_chunk_inflates_completely() {
    // One small chunk expands to many inflate buffers; all of them must come out.
    let mut cs = contracts(2);
    for c in &mut cs {
        if let Some(ev) = c.created_event.as_mut() {
            ev.created_event_blob = vec![0; 1024 * 1024];
        }
    }
    let stream = concat(&encode_all(&cs, MAX_CHUNK_SIZE));
    assert!(stream.len() < 16 * 1024, "{} bytes", stream.len());
    let mut dec = AcsDecoder::new();
    assert_eq!(dec.feed(&stream).expect("decodes"), cs);
    assert_eq!(dec.finish().expect("complete"), 2);
}

#[test]
fn chunk_size_is_clamped() {
    assert_eq!(Chunker::new(0).size, 1);
    assert_eq!(Chunker::new(usize::MAX).size, MAX_CHUNK_SIZE);
    let chunks = encode_all(&contracts(1), 0);
    assert!(chunks.iter().all(|c| c.len() == 1));
}

#[tokio::test]
async fn encode_stream_runs_in_a_spawned_task() {
    let cs = contracts(20);
    let source = futures::stream::iter(cs.clone());
    let chunks: Vec<Bytes> = tokio::spawn(async move {
        encode_stream(source, 64)
            .map(|chunk| chunk.expect("encodes"))
            .collect()
            .await
    })
    .await
    .expect("task");
    assert!(chunks.len() > 1);
    assert!(chunks.iter().all(|c| !c.is_empty() && c.len() <= 64));
    assert_eq!(decode_chunks(chunks.iter().map(|c| &c[..])).expect("decodes"), cs);
}

#[test]
fn frame_layout_for_commitment_contracts() {
    let mut enc = FrameEncoder::<admin::CommitmentContract>::with_chunk_size(3);
    enc.push(&admin::CommitmentContract {
        cid: vec![0xab],
        ..Default::default()
    })
    .expect("push");
    assert_eq!(enc.take_chunk().as_deref(), Some(&[0x07, 0x0a, 0x03][..]));
    assert_eq!(enc.take_chunk().as_deref(), Some(&[0x0a, 0x01, 0xab][..]));
    assert_eq!(enc.take_chunk(), None);
    assert_eq!(enc.finish(), [Bytes::from_static(&[0x10, 0x1e])]);
}

// ---------------------------------------------------------------------------------
// Refused streams

#[test]
fn every_cut_is_a_truncation() {
    let stream = concat(&encode_all(&contracts(3), 1024));
    let len = stream.len();
    for cut in 0..len {
        let expected = match cut {
            0..10 => Truncation::GzipHeader,
            c if c >= len - 8 => Truncation::GzipTrailer,
            _ => Truncation::CompressedData,
        };
        match decode_chunks(split(&stream[..cut], &[7])) {
            Err(AcsError::Truncated(at)) => assert_eq!(at, expected, "cut at {cut}"),
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn partial_record_inside_a_complete_gzip_stream() {
    let plain: Vec<u8> = contracts(3).iter().flat_map(contract_record).collect();
    let stream = gzip(&plain[..plain.len() - 1]);
    assert!(matches!(
        decode_err(&stream),
        AcsError::Truncated(Truncation::Record(2))
    ));
}

#[test]
fn trailing_data_is_refused() {
    let stream = concat(&encode_all(&contracts(2), 1024));
    let glued = [&stream[..], &[0]].concat();
    assert!(matches!(decode_err(&glued), AcsError::TrailingData));
    let second_member = [&stream[..], &gzip(b"")].concat();
    assert!(matches!(decode_err(&second_member), AcsError::TrailingData));
    let mut dec = AcsDecoder::new();
    assert_eq!(dec.feed(&stream).expect("decodes").len(), 2);
    assert!(matches!(dec.feed(b"x"), Err(AcsError::TrailingData)));
}

#[test]
fn not_gzip() {
    assert!(matches!(decode_err(b"PK\x03\x04"), AcsError::NotGzip));
    // The uncompressed record stream, as InspectCommitmentContracts sends it.
    let plain = contract_record(&contract(1));
    assert_ne!(plain[0], 0x1f);
    assert!(matches!(decode_err(&plain), AcsError::NotGzip));
    // Refused on the first byte, not after a full header.
    assert!(matches!(AcsDecoder::new().feed(&[0x1f, 0x8c]), Err(AcsError::NotGzip)));
}

#[test]
fn unsupported_header() {
    let stream = concat(&encode_all(&contracts(1), 1024));
    let mut method = stream.clone();
    method[2] = 7;
    assert!(matches!(
        decode_err(&method),
        AcsError::CorruptGzip("compression method is not deflate")
    ));
    let mut flags = stream;
    flags[3] = 0x20;
    assert!(matches!(
        decode_err(&flags),
        AcsError::CorruptGzip("reserved header flags set")
    ));
}

#[test]
fn trailer_mismatch() {
    let stream = concat(&encode_all(&contracts(2), 1024));
    let len = stream.len();
    let mut crc = stream.clone();
    crc[len - 8] ^= 1;
    assert!(matches!(decode_err(&crc), AcsError::CorruptGzip("CRC-32 mismatch")));
    let mut size = stream;
    size[len - 1] ^= 1;
    assert!(matches!(decode_err(&size), AcsError::CorruptGzip("length mismatch")));
}

#[test]
fn corrupt_deflate_data() {
    let stream = concat(&encode_all(&contracts(1), 1024));
    // A final block of the reserved type 3.
    let bad = [&stream[..10], &[0x07, 0, 0, 0]].concat();
    assert!(matches!(decode_err(&bad), AcsError::Inflate(_)));
}

/// Found by fuzzing: with the whole stream in one chunk the deflate error hid an
/// undecodable record before it, which a byte-by-byte feed reported.
#[test]
fn a_bad_record_before_corrupt_deflate_data_is_reported_in_any_chunking() {
    let inner = record(RECORD_VERSION, Some(vec![0xff; 4]));
    // A stored, non-final deflate block holding the record, then a block of the
    // reserved type 3.
    let mut stream = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0x00];
    let len = inner.len() as u16;
    stream.extend(len.to_le_bytes());
    stream.extend((!len).to_le_bytes());
    stream.extend(&inner);
    stream.push(0x07);
    for sizes in [vec![stream.len()], vec![1], vec![13, 2]] {
        let err = decode_chunks(split(&stream, &sizes)).expect_err("refused");
        assert!(
            matches!(err, AcsError::Decode { record: 0, .. }),
            "chunks of {sizes:?}: {err}"
        );
    }
    assert!(matches!(
        decode_err(&stream[..stream.len() - 5]),
        AcsError::Truncated(_)
    ));
}

#[test]
fn wrong_version() {
    let c = contract(0);
    let wrapper = admin::ActiveContract {
        active_contract: c.encode_to_vec(),
    };
    let plain = [contract_record(&c), record(31, Some(wrapper.encode_to_vec()))].concat();
    assert!(matches!(
        decode_err(&gzip(&plain)),
        AcsError::UnsupportedVersion { record: 1, version: 31 }
    ));
}

#[test]
fn missing_data() {
    assert!(matches!(
        decode_err(&gzip(&record(RECORD_VERSION, None))),
        AcsError::MissingData { record: 0 }
    ));
}

#[test]
fn undecodable_layers() {
    let cases = [
        (
            vec![1, 0xff],
            "com::digitalasset::canton::version::v1::UntypedVersionedMessage",
        ),
        (
            record(RECORD_VERSION, Some(vec![0xff])),
            "com::digitalasset::canton::admin::participant::v30::ActiveContract",
        ),
        (
            record(
                RECORD_VERSION,
                Some(
                    admin::ActiveContract {
                        active_contract: vec![0x0a, 0x05],
                    }
                    .encode_to_vec(),
                ),
            ),
            "com::daml::ledger::api::v2::ActiveContract",
        ),
    ];
    for (plain, name) in cases {
        match decode_err(&gzip(&plain)) {
            AcsError::Decode { record: 0, message, .. } => assert_eq!(message, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn oversized_record_is_refused_from_its_prefix() {
    let mut prefix = Vec::new();
    prost::encoding::encode_varint(MAX_RECORD_LEN as u64 + 1, &mut prefix);
    // The body never arrives: the prefix alone must be enough.
    let mut dec = AcsDecoder::new();
    let stream = gzip(&prefix);
    assert!(matches!(
        dec.feed(&stream),
        Err(AcsError::RecordTooLarge { record: 0, .. })
    ));

    let frame = record(RECORD_VERSION, Some(vec![0; 8]));
    let mut small = FrameDecoder::<admin::CommitmentContract>::with_max_record_len(9);
    assert!(matches!(
        small.feed(&frame[..1]),
        Err(AcsError::RecordTooLarge {
            record: 0,
            len: 12,
            max: 9
        })
    ));

    let payload = admin::CommitmentContract {
        cid: vec![0; 16],
        ..Default::default()
    };
    assert!(matches!(
        encode_record(0, &payload, 8, &mut Vec::new()),
        Err(AcsError::RecordTooLarge { .. })
    ));
}

#[test]
fn malformed_length_prefix() {
    for prefix in [[0xff; 10], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]] {
        let mut dec = FrameDecoder::<admin::CommitmentContract>::new();
        assert!(matches!(
            dec.feed(&prefix),
            Err(AcsError::BadLengthPrefix { record: 0 })
        ));
    }
}

#[test]
fn frame_stream_ending_inside_a_record() {
    let frame = record(RECORD_VERSION, Some(vec![0x0a, 0x01, 0xab]));
    let mut dec = FrameDecoder::<admin::CommitmentContract>::new();
    assert!(dec.feed(&frame[..frame.len() - 1]).expect("feeds").is_empty());
    assert!(matches!(dec.finish(), Err(AcsError::Truncated(Truncation::Record(0)))));
}

#[test]
fn a_failed_decoder_stays_failed() {
    let mut dec = AcsDecoder::new();
    assert!(dec.feed(b"not gzip").is_err());
    let stream = concat(&encode_all(&contracts(1), 1024));
    assert!(matches!(dec.feed(&stream), Err(AcsError::Failed)));
    assert!(matches!(dec.finish(), Err(AcsError::Failed)));

    let mut frames = FrameDecoder::<admin::CommitmentContract>::new();
    assert!(frames.feed(&record(29, Some(Vec::new()))).is_err());
    assert!(matches!(frames.feed(&[]), Err(AcsError::Failed)));
    assert!(matches!(frames.finish(), Err(AcsError::Failed)));
}

mod robustness;
mod roundtrip;
