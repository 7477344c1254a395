//! The ACS snapshot decoder and the plain frame decoder on hostile bytes, in any
//! chunking. Input: one mode byte, one chunking byte, then the stream. Mode bit 0 set:
//! the rest is the *uncompressed* record stream and the target gzips it, so that the
//! fuzzer reaches the framing and protobuf layers without having to forge deflate data.
//! Both decoders must return errors, never panic, and decode the same records or refuse
//! whatever the chunking; run with `-malloc_limit_mb` to catch an allocation sized by a
//! prefix.

#![no_main]

use std::io::Write as _;

use libfuzzer_sys::fuzz_target;
use recovery_deck::acs::{AcsDecoder, FrameDecoder};
use recovery_deck::wire::admin::CommitmentContract;

/// Chunk lengths derived from one byte: 1, 2, 3, 7, 64, 1000 or the whole input,
/// cycling through a few so that boundaries fall everywhere.
fn chunks(data: &[u8], seed: u8) -> Vec<&[u8]> {
    let sizes: &[usize] = match seed % 6 {
        0 => &[usize::MAX],
        1 => &[1],
        2 => &[1, 2, 3],
        3 => &[7, 64],
        4 => &[1000, 1, 13],
        _ => &[(seed as usize) + 1],
    };
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

fn acs(stream: &[u8], seed: u8) -> Result<u64, String> {
    let mut dec = AcsDecoder::new();
    let mut n = 0u64;
    for chunk in chunks(stream, seed) {
        n += dec.feed(chunk).map_err(|e| e.to_string())?.len() as u64;
    }
    let total = dec.finish().map_err(|e| e.to_string())?;
    assert_eq!(total, n, "finish counts what feed returned");
    Ok(total)
}

fn frames(stream: &[u8], seed: u8) -> Result<u64, String> {
    let mut dec = FrameDecoder::<CommitmentContract>::new();
    let mut n = 0u64;
    for chunk in chunks(stream, seed) {
        n += dec.feed(chunk).map_err(|e| e.to_string())?.len() as u64;
    }
    let total = dec.finish().map_err(|e| e.to_string())?;
    assert_eq!(total, n, "finish counts what feed returned");
    Ok(total)
}

/// The same number of records, or both refused. Which error can differ when a stream
/// has two defects more than the inflater's 32 KiB window apart (see
/// `src/acs/tests/robustness.rs`).
fn same_outcome(whole: Result<u64, String>, pieces: Result<u64, String>) {
    match (&whole, &pieces) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the records depend on the chunking"),
        (Err(_), Err(_)) => {}
        _ => panic!("the outcome depends on the chunking: {whole:?} vs {pieces:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, seed, rest @ ..] = data else {
        return;
    };
    let stream = if mode & 1 == 1 {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(rest).expect("gzip to memory");
        gz.finish().expect("gzip to memory")
    } else {
        rest.to_vec()
    };
    same_outcome(acs(&stream, 0), acs(&stream, *seed));
    same_outcome(frames(rest, 0), frames(rest, *seed));
});
