//! Streaming codecs for Canton's length-delimited `UntypedVersionedMessage` byte streams
//! (canton-wire-fields.md §4a and §5).
//!
//! * ACS snapshots, the ExportAcs output and ImportAcs input: one gzip stream over
//!   records whose `data` is an admin `ActiveContract` wrapping the serialized Ledger API
//!   `ActiveContract`. [`AcsEncoder`], [`AcsDecoder`], [`encode_stream`].
//! * InspectCommitmentContracts output: the same records without gzip, with a
//!   `CommitmentContract` as `data`. [`FrameEncoder`], [`FrameDecoder`].
//!
//! Each record is a varint length followed by an `UntypedVersionedMessage` with
//! `version` = [`RECORD_VERSION`]. The decoders are push-based and accept chunk
//! boundaries anywhere. Apart from what they return, the codecs buffer at most about
//! one record and one chunk.

use std::fmt;
use std::io::Write as _;
use std::marker::PhantomData;
use std::pin::Pin;

use bytes::{BufMut, Bytes, BytesMut};
use flate2::write::GzEncoder;
use flate2::{Compression, Crc, Decompress, FlushDecompress, Status};
use futures::{Stream, StreamExt as _};
use prost::Message;

use crate::wire::version::UntypedVersionedMessage;
use crate::wire::version::untyped_versioned_message::Wrapper;
use crate::wire::{admin, ledger};

mod frame;
mod gzip;

use frame::*;
pub use frame::{FrameDecoder, FrameEncoder};
use gzip::*;

/// The `version` of every record; Canton rejects any other.
pub const RECORD_VERSION: i32 = 30;

/// Chunk size of the encoders unless configured: the size Canton's own export uses.
pub const DEFAULT_CHUNK_SIZE: usize = 2 * 1024 * 1024;

/// Upper bound for a configured chunk size, well under the 10 MiB a participant
/// accepts per inbound gRPC message.
pub const MAX_CHUNK_SIZE: usize = 4 * 1024 * 1024;

/// Largest record (length prefix excluded) accepted by default; a longer prefix is
/// refused as soon as it is read, before any of the body, and nothing is reserved from
/// a prefix: a decoder buffers at most one record, as its bytes arrive.
///
/// Why 64 MiB: Canton's 10 MiB default per gRPC message bounds a chunk, not a record (a
/// record spans chunks). One record is one contract, whose size the transaction that
/// created it bounds — the synchronizer's maximum request size, 10 MiB by default and
/// raisable — and which it carries twice (the create arguments and the created event
/// blob). 64 MiB leaves room for that on a synchronizer with raised limits, while a
/// corrupt prefix costs at most that much memory per decoder.
pub const MAX_RECORD_LEN: usize = 64 * 1024 * 1024;

/// Everything that can go wrong while encoding or decoding a stream.
///
/// Record numbers count from 0 in stream order. After a decoder returned an error,
/// every further call returns [`AcsError::Failed`].
#[derive(Debug, thiserror::Error)]
pub enum AcsError {
    #[error("record {record}: version {version}, expected {RECORD_VERSION}")]
    UnsupportedVersion { record: u64, version: i32 },
    #[error("record {record}: the versioned envelope has no data")]
    MissingData { record: u64 },
    #[error("record {record}: undecodable {message}")]
    Decode {
        record: u64,
        /// The message that failed to decode, e.g. `com::daml::ledger::api::v2::ActiveContract`.
        message: &'static str,
        #[source]
        source: prost::DecodeError,
    },
    #[error("record {record}: length {len} exceeds the limit of {max} bytes")]
    RecordTooLarge { record: u64, len: u64, max: usize },
    #[error("record {record}: malformed length prefix")]
    BadLengthPrefix { record: u64 },
    #[error("stream ends inside {0}")]
    Truncated(Truncation),
    #[error("not a gzip stream")]
    NotGzip,
    #[error("corrupt gzip stream: {0}")]
    CorruptGzip(&'static str),
    #[error("corrupt compressed data")]
    Inflate(#[source] flate2::DecompressError),
    #[error("data after the end of the gzip stream")]
    TrailingData,
    #[error("the decoder failed earlier")]
    Failed,
    #[error("encoding a record")]
    Encode(#[from] prost::EncodeError),
    #[error("compressing")]
    Compress(#[from] std::io::Error),
}

/// Where a stream ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncation {
    GzipHeader,
    CompressedData,
    GzipTrailer,
    /// Inside the given record (its length prefix or its body).
    Record(u64),
}

impl fmt::Display for Truncation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::GzipHeader => f.write_str("the gzip header"),
            Self::CompressedData => f.write_str("the compressed data"),
            Self::GzipTrailer => f.write_str("the gzip trailer"),
            Self::Record(record) => write!(f, "record {record}"),
        }
    }
}

// ---------------------------------------------------------------------------------
// Records

/// Encodes Ledger API active contracts into an ACS snapshot: gzipped, cut into chunks
/// for `ExportAcsResponse.chunk` or `ImportAcsRequest.acs_snapshot`.
///
/// Call [`Self::take_chunk`] until it returns `None` after each push; all chunks but
/// the last are exactly the chunk size. [`Self::finish`] returns the rest, the last
/// chunk ending with the gzip trailer.
pub struct AcsEncoder {
    gzip: GzEncoder<Vec<u8>>,
    chunks: Chunker,
    /// Reused buffer for one uncompressed record.
    record: Vec<u8>,
    records: u64,
}

impl fmt::Debug for AcsEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcsEncoder")
            .field("chunk_size", &self.chunks.size)
            .field("records", &self.records)
            .finish_non_exhaustive()
    }
}

impl Default for AcsEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl AcsEncoder {
    pub fn new() -> Self {
        Self::with_chunk_size(DEFAULT_CHUNK_SIZE)
    }

    /// Chunks of `chunk_size` bytes, clamped to `1..=MAX_CHUNK_SIZE`.
    pub fn with_chunk_size(chunk_size: usize) -> Self {
        Self {
            gzip: GzEncoder::new(Vec::new(), Compression::default()),
            chunks: Chunker::new(chunk_size),
            record: Vec::new(),
            records: 0,
        }
    }

    /// Number of contracts pushed so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    pub fn push(&mut self, contract: &ledger::ActiveContract) -> Result<(), AcsError> {
        let payload = admin::ActiveContract {
            active_contract: contract.encode_to_vec(),
        };
        self.record.clear();
        encode_record(self.records, &payload, MAX_RECORD_LEN, &mut self.record)?;
        self.gzip.write_all(&self.record)?;
        self.records += 1;
        // The encoder only appends to its Vec, so moving the output out is safe.
        let compressed = self.gzip.get_mut();
        self.chunks.buf.extend_from_slice(compressed);
        compressed.clear();
        Ok(())
    }

    /// The next full chunk, if there is one.
    pub fn take_chunk(&mut self) -> Option<Bytes> {
        self.chunks.take()
    }

    /// Ends the gzip stream and returns the chunks not yet taken (at least one).
    pub fn finish(mut self) -> Result<Vec<Bytes>, AcsError> {
        let tail = self.gzip.finish()?;
        self.chunks.buf.extend_from_slice(&tail);
        Ok(self.chunks.into_chunks())
    }
}

/// Encodes a stream of contracts into snapshot chunks of `chunk_size` bytes, for
/// example as the body of an ImportAcs call. The stream ends after the first error.
pub fn encode_stream<S>(contracts: S, chunk_size: usize) -> impl Stream<Item = Result<Bytes, AcsError>> + Send
where
    S: Stream<Item = ledger::ActiveContract> + Send,
{
    struct State<S> {
        contracts: Pin<Box<S>>,
        encoder: Option<AcsEncoder>,
        tail: std::vec::IntoIter<Bytes>,
    }
    let state = State {
        contracts: Box::pin(contracts),
        encoder: Some(AcsEncoder::with_chunk_size(chunk_size)),
        tail: Vec::new().into_iter(),
    };
    futures::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(chunk) = st.tail.next() {
                return Some((Ok(chunk), st));
            }
            let encoder = st.encoder.as_mut()?;
            if let Some(chunk) = encoder.take_chunk() {
                return Some((Ok(chunk), st));
            }
            let step = match st.contracts.next().await {
                Some(contract) => encoder.push(&contract),
                None => st
                    .encoder
                    .take()
                    .map_or(Ok(()), |enc| enc.finish().map(|rest| st.tail = rest.into_iter())),
            };
            if let Err(err) = step {
                st.encoder = None;
                return Some((Err(err), st));
            }
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Header,
    Body,
    Trailer,
    Done,
}

/// Decompressed bytes produced per inflate call, so that a small, highly compressed
/// chunk never expands into one large buffer.
const INFLATE_BUF: usize = 64 * 1024;

/// Decodes an ACS snapshot fed chunk by chunk, as received from ExportAcs or read
/// from a snapshot file.
pub struct AcsDecoder {
    stage: Stage,
    header: GzipHeader,
    inflater: Decompress,
    /// CRC-32 and length of the decompressed data, checked against the trailer.
    crc: Crc,
    trailer: [u8; 8],
    trailer_len: usize,
    inflated: Vec<u8>,
    frames: FrameDecoder<admin::ActiveContract>,
    failed: bool,
}

impl fmt::Debug for AcsDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcsDecoder")
            .field("stage", &self.stage)
            .field("records", &self.frames.records())
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl Default for AcsDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl AcsDecoder {
    pub fn new() -> Self {
        Self::with_max_record_len(MAX_RECORD_LEN)
    }

    /// A decoder that refuses records longer than `max_record_len` bytes.
    pub fn with_max_record_len(max_record_len: usize) -> Self {
        Self {
            stage: Stage::Header,
            header: GzipHeader::new(),
            inflater: Decompress::new(false),
            crc: Crc::new(),
            trailer: [0; 8],
            trailer_len: 0,
            inflated: Vec::with_capacity(INFLATE_BUF),
            frames: FrameDecoder::with_max_record_len(max_record_len),
            failed: false,
        }
    }

    /// Number of contracts decoded so far.
    pub fn records(&self) -> u64 {
        self.frames.records()
    }

    /// Feeds the next chunk; returns every contract it completes. On error, contracts
    /// completed earlier in the same chunk are not returned: the snapshot is unusable.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<ledger::ActiveContract>, AcsError> {
        if self.failed {
            return Err(AcsError::Failed);
        }
        let mut out = Vec::new();
        let result = self.feed_inner(chunk, &mut out);
        self.failed = result.is_err();
        result.map(|()| out)
    }

    /// Checks that the gzip stream ended with a valid trailer and on a record
    /// boundary; returns the number of contracts.
    pub fn finish(self) -> Result<u64, AcsError> {
        if self.failed {
            return Err(AcsError::Failed);
        }
        match self.stage {
            Stage::Header => Err(AcsError::Truncated(Truncation::GzipHeader)),
            Stage::Body => Err(AcsError::Truncated(Truncation::CompressedData)),
            Stage::Trailer => Err(AcsError::Truncated(Truncation::GzipTrailer)),
            Stage::Done => self.frames.finish(),
        }
    }

    fn feed_inner(&mut self, mut input: &[u8], out: &mut Vec<ledger::ActiveContract>) -> Result<(), AcsError> {
        while !input.is_empty() {
            let used = match self.stage {
                Stage::Header => {
                    let used = self.header.consume(input)?;
                    if self.header.is_done() {
                        self.stage = Stage::Body;
                    }
                    used
                }
                Stage::Body => self.inflate(input, out)?,
                Stage::Trailer => self.read_trailer(input)?,
                Stage::Done => return Err(AcsError::TrailingData),
            };
            input = &input[used..];
        }
        Ok(())
    }

    /// Inflates from `input` until it is used up or the deflate stream ends; returns
    /// the number of bytes used.
    fn inflate(&mut self, input: &[u8], out: &mut Vec<ledger::ActiveContract>) -> Result<usize, AcsError> {
        let mut used = 0;
        loop {
            self.inflated.clear();
            let before = self.inflater.total_in();
            let status = self
                .inflater
                .decompress_vec(&input[used..], &mut self.inflated, FlushDecompress::None);
            let consumed = (self.inflater.total_in() - before) as usize;
            used += consumed;
            // What inflated before a corrupt spot is decoded first, so that the error is
            // the stream's first defect however the chunks fall (had the corrupt bytes
            // come in a later chunk, these records would already have been decoded).
            self.crc.update(&self.inflated);
            self.frames.feed_each(&self.inflated, |record, wrapper| {
                let contract =
                    ledger::ActiveContract::decode(wrapper.active_contract.as_slice()).map_err(|source| {
                        AcsError::Decode {
                            record,
                            message: message_name::<ledger::ActiveContract>(),
                            source,
                        }
                    })?;
                out.push(contract);
                Ok(())
            })?;
            if status.map_err(AcsError::Inflate)? == Status::StreamEnd {
                self.stage = Stage::Trailer;
                return Ok(used);
            }
            // A full output buffer may hide more pending output; otherwise the
            // inflater wants more input.
            let output_full = self.inflated.len() == self.inflated.capacity();
            if !output_full {
                if used < input.len() && consumed == 0 && self.inflated.is_empty() {
                    return Err(AcsError::CorruptGzip("inflater made no progress"));
                }
                if used == input.len() {
                    return Ok(used);
                }
            }
        }
    }

    fn read_trailer(&mut self, input: &[u8]) -> Result<usize, AcsError> {
        let n = (8 - self.trailer_len).min(input.len());
        self.trailer[self.trailer_len..self.trailer_len + n].copy_from_slice(&input[..n]);
        self.trailer_len += n;
        if self.trailer_len == 8 {
            let [c0, c1, c2, c3, l0, l1, l2, l3] = self.trailer;
            if u32::from_le_bytes([c0, c1, c2, c3]) != self.crc.sum() {
                return Err(AcsError::CorruptGzip("CRC-32 mismatch"));
            }
            if u32::from_le_bytes([l0, l1, l2, l3]) != self.crc.amount() {
                return Err(AcsError::CorruptGzip("length mismatch"));
            }
            self.stage = Stage::Done;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
