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

/// The `version` of every record; Canton rejects any other.
pub const RECORD_VERSION: i32 = 30;

/// Chunk size of the encoders unless configured: the size Canton's own export uses.
pub const DEFAULT_CHUNK_SIZE: usize = 2 * 1024 * 1024;

/// Upper bound for a configured chunk size, well under the 10 MiB a participant
/// accepts per inbound gRPC message.
pub const MAX_CHUNK_SIZE: usize = 4 * 1024 * 1024;

/// Largest record (length prefix excluded) accepted by default. Contract payloads are
/// far smaller; a larger prefix means a corrupt stream, and buffering it would let a
/// broken export exhaust memory.
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

/// Name of a generated message for error messages: its Rust path below `wire`, which
/// mirrors the protobuf package.
fn message_name<M>() -> &'static str {
    let path = std::any::type_name::<M>();
    path.split_once("::wire::").map_or(path, |(_, rest)| rest)
}

fn encode_record<M: Message>(
    record: u64,
    payload: &M,
    max_record_len: usize,
    out: &mut impl BufMut,
) -> Result<(), AcsError> {
    let envelope = UntypedVersionedMessage {
        wrapper: Some(Wrapper::Data(payload.encode_to_vec())),
        version: RECORD_VERSION,
    };
    let len = envelope.encoded_len();
    // Never produce a record that a decoder with the same limit would refuse.
    if len > max_record_len {
        return Err(AcsError::RecordTooLarge {
            record,
            len: len as u64,
            max: max_record_len,
        });
    }
    envelope.encode_length_delimited(out)?;
    Ok(())
}

fn decode_record<M: Message + Default>(record: u64, body: &[u8]) -> Result<M, AcsError> {
    let envelope = UntypedVersionedMessage::decode(body).map_err(|source| AcsError::Decode {
        record,
        message: message_name::<UntypedVersionedMessage>(),
        source,
    })?;
    if envelope.version != RECORD_VERSION {
        return Err(AcsError::UnsupportedVersion {
            record,
            version: envelope.version,
        });
    }
    let Some(Wrapper::Data(data)) = envelope.wrapper else {
        return Err(AcsError::MissingData { record });
    };
    M::decode(data.as_slice()).map_err(|source| AcsError::Decode {
        record,
        message: message_name::<M>(),
        source,
    })
}

/// Reads the varint length prefix at the start of `buf`: `Ok(None)` while incomplete,
/// else the prefix length and the record length.
fn read_prefix(record: u64, buf: &[u8]) -> Result<Option<(usize, u64)>, AcsError> {
    let mut len = 0u64;
    for (i, &byte) in buf.iter().take(10).enumerate() {
        // The tenth byte may only contribute the top bit of a u64.
        if i == 9 && byte > 1 {
            return Err(AcsError::BadLengthPrefix { record });
        }
        len |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((i + 1, len)));
        }
    }
    if buf.len() >= 10 {
        Err(AcsError::BadLengthPrefix { record })
    } else {
        Ok(None)
    }
}

/// Decodes a plain (not gzipped) stream of records whose `data` is an `M`, such as
/// the InspectCommitmentContracts output with `M` = `CommitmentContract`.
#[derive(Debug)]
pub struct FrameDecoder<M> {
    /// An incomplete record carried over from earlier chunks.
    pending: Vec<u8>,
    max_record_len: usize,
    records: u64,
    failed: bool,
    payload: PhantomData<fn() -> M>,
}

impl<M: Message + Default> Default for FrameDecoder<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Message + Default> FrameDecoder<M> {
    pub fn new() -> Self {
        Self::with_max_record_len(MAX_RECORD_LEN)
    }

    /// A decoder that refuses records longer than `max_record_len` bytes.
    pub fn with_max_record_len(max_record_len: usize) -> Self {
        Self {
            pending: Vec::new(),
            max_record_len,
            records: 0,
            failed: false,
            payload: PhantomData,
        }
    }

    /// Number of records decoded so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Feeds the next chunk; returns every record it completes.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<M>, AcsError> {
        let mut out = Vec::new();
        self.feed_each(chunk, |_, payload| {
            out.push(payload);
            Ok(())
        })?;
        Ok(out)
    }

    /// Checks that the stream ended on a record boundary; returns the record count.
    pub fn finish(self) -> Result<u64, AcsError> {
        if self.failed {
            return Err(AcsError::Failed);
        }
        if !self.pending.is_empty() {
            return Err(AcsError::Truncated(Truncation::Record(self.records)));
        }
        Ok(self.records)
    }

    /// Like [`Self::feed`], but hands each record with its number to `sink`.
    fn feed_each(
        &mut self,
        chunk: &[u8],
        mut sink: impl FnMut(u64, M) -> Result<(), AcsError>,
    ) -> Result<(), AcsError> {
        if self.failed {
            return Err(AcsError::Failed);
        }
        let result = self.feed_inner(chunk, &mut sink);
        self.failed = result.is_err();
        result
    }

    /// Total length (prefix included) of the record at the start of `buf`, once its
    /// prefix is complete.
    fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, AcsError> {
        let Some((prefix, len)) = read_prefix(self.records, buf)? else {
            return Ok(None);
        };
        match usize::try_from(len) {
            Ok(body) if body <= self.max_record_len => Ok(Some(prefix + body)),
            _ => Err(AcsError::RecordTooLarge {
                record: self.records,
                len,
                max: self.max_record_len,
            }),
        }
    }

    fn emit(&mut self, frame: &[u8], sink: &mut impl FnMut(u64, M) -> Result<(), AcsError>) -> Result<(), AcsError> {
        let record = self.records;
        let (prefix, _) = read_prefix(record, frame)?.ok_or(AcsError::BadLengthPrefix { record })?;
        let payload = decode_record(record, &frame[prefix..])?;
        sink(record, payload)?;
        self.records += 1;
        Ok(())
    }

    fn feed_inner(
        &mut self,
        mut input: &[u8],
        sink: &mut impl FnMut(u64, M) -> Result<(), AcsError>,
    ) -> Result<(), AcsError> {
        while !input.is_empty() {
            if self.pending.is_empty() {
                // Records lying wholly inside the chunk are decoded in place.
                match self.frame_len(input)? {
                    Some(total) if total <= input.len() => {
                        self.emit(&input[..total], sink)?;
                        input = &input[total..];
                    }
                    _ => {
                        self.pending.extend_from_slice(input);
                        return Ok(());
                    }
                }
                continue;
            }
            let Some(total) = self.frame_len(&self.pending)? else {
                // The prefix is at most ten bytes: completing it byte by byte is cheap.
                self.pending.push(input[0]);
                input = &input[1..];
                continue;
            };
            let take = (total - self.pending.len()).min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() == total {
                let frame = std::mem::take(&mut self.pending);
                self.emit(&frame, sink)?;
                // Keep a modest buffer for the next straddling record, not a huge one.
                if frame.capacity() <= 1024 * 1024 {
                    self.pending = frame;
                    self.pending.clear();
                }
            }
        }
        // A chunk may end inside a prefix that can already be judged.
        if !self.pending.is_empty() {
            self.frame_len(&self.pending)?;
        }
        Ok(())
    }
}

/// Cuts an append-only byte stream into chunks of exactly `size` bytes.
#[derive(Debug)]
struct Chunker {
    buf: BytesMut,
    size: usize,
}

impl Chunker {
    fn new(size: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            size: size.clamp(1, MAX_CHUNK_SIZE),
        }
    }

    fn take(&mut self) -> Option<Bytes> {
        (self.buf.len() >= self.size).then(|| self.buf.split_to(self.size).freeze())
    }

    /// All remaining bytes, as full chunks and a shorter last one.
    fn into_chunks(mut self) -> Vec<Bytes> {
        let mut chunks = Vec::new();
        while let Some(chunk) = self.take() {
            chunks.push(chunk);
        }
        if !self.buf.is_empty() {
            chunks.push(self.buf.freeze());
        }
        chunks
    }
}

/// Encodes records whose `data` is an `M` into a plain stream cut into chunks, such as
/// the InspectCommitmentContracts output.
///
/// Call [`Self::take_chunk`] until it returns `None` after each push; all chunks but
/// the last are exactly the chunk size.
#[derive(Debug)]
pub struct FrameEncoder<M> {
    chunks: Chunker,
    records: u64,
    payload: PhantomData<fn(&M)>,
}

impl<M: Message> Default for FrameEncoder<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Message> FrameEncoder<M> {
    pub fn new() -> Self {
        Self::with_chunk_size(DEFAULT_CHUNK_SIZE)
    }

    /// Chunks of `chunk_size` bytes, clamped to `1..=MAX_CHUNK_SIZE`.
    pub fn with_chunk_size(chunk_size: usize) -> Self {
        Self {
            chunks: Chunker::new(chunk_size),
            records: 0,
            payload: PhantomData,
        }
    }

    /// Number of records pushed so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    pub fn push(&mut self, payload: &M) -> Result<(), AcsError> {
        encode_record(self.records, payload, MAX_RECORD_LEN, &mut self.chunks.buf)?;
        self.records += 1;
        Ok(())
    }

    /// The next full chunk, if there is one.
    pub fn take_chunk(&mut self) -> Option<Bytes> {
        self.chunks.take()
    }

    /// The chunks not yet taken; empty if nothing is left.
    pub fn finish(self) -> Vec<Bytes> {
        self.chunks.into_chunks()
    }
}

// ---------------------------------------------------------------------------------
// ACS snapshots

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

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const FRESERVED: u8 = 0xe0;

/// Parts of a gzip member header (RFC 1952 §2.3.1), in stream order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderPart {
    Fixed,
    ExtraLen,
    Extra(usize),
    Name,
    Comment,
    HeaderCrc,
    Done,
}

/// Incremental gzip header parser: keeps no more than a few bytes whatever the
/// header's length, so chunks may split it anywhere.
#[derive(Debug)]
struct GzipHeader {
    part: HeaderPart,
    flags: u8,
    /// Bytes of the current fixed-size part (at most ten).
    buf: [u8; 10],
    filled: usize,
    crc: Crc,
}

impl GzipHeader {
    fn new() -> Self {
        Self {
            part: HeaderPart::Fixed,
            flags: 0,
            buf: [0; 10],
            filled: 0,
            crc: Crc::new(),
        }
    }

    fn is_done(&self) -> bool {
        self.part == HeaderPart::Done
    }

    /// The first optional part after `part` that the flags announce.
    fn next_part(&self, part: HeaderPart) -> HeaderPart {
        let order = [
            (FEXTRA, HeaderPart::ExtraLen),
            (FNAME, HeaderPart::Name),
            (FCOMMENT, HeaderPart::Comment),
            (FHCRC, HeaderPart::HeaderCrc),
        ];
        let rank = |p: HeaderPart| match p {
            HeaderPart::Fixed => 0,
            HeaderPart::ExtraLen | HeaderPart::Extra(_) => 1,
            HeaderPart::Name => 2,
            HeaderPart::Comment => 3,
            HeaderPart::HeaderCrc => 4,
            HeaderPart::Done => 5,
        };
        order
            .into_iter()
            .find(|&(flag, p)| rank(p) > rank(part) && self.flags & flag != 0)
            .map_or(HeaderPart::Done, |(_, p)| p)
    }

    /// Copies bytes into `buf` until it holds `want`; returns how many it took.
    fn fill(&mut self, input: &[u8], want: usize) -> usize {
        let n = (want - self.filled).min(input.len());
        self.buf[self.filled..self.filled + n].copy_from_slice(&input[..n]);
        self.filled += n;
        n
    }

    /// Consumes header bytes from the front of `input`; returns how many it used.
    fn consume(&mut self, input: &[u8]) -> Result<usize, AcsError> {
        let mut used = 0;
        while used < input.len() && !self.is_done() {
            let rest = &input[used..];
            let part = self.part;
            let n = match part {
                HeaderPart::Fixed => {
                    let n = self.fill(rest, 10);
                    let seen = self.filled.min(2);
                    if self.buf[..seen] != GZIP_MAGIC[..seen] {
                        return Err(AcsError::NotGzip);
                    }
                    if self.filled == 10 {
                        if self.buf[2] != 8 {
                            return Err(AcsError::CorruptGzip("compression method is not deflate"));
                        }
                        self.flags = self.buf[3];
                        if self.flags & FRESERVED != 0 {
                            return Err(AcsError::CorruptGzip("reserved header flags set"));
                        }
                        self.filled = 0;
                        self.part = self.next_part(part);
                    }
                    n
                }
                HeaderPart::ExtraLen => {
                    let n = self.fill(rest, 2);
                    if self.filled == 2 {
                        let len = usize::from(u16::from_le_bytes([self.buf[0], self.buf[1]]));
                        self.filled = 0;
                        self.part = if len == 0 {
                            self.next_part(part)
                        } else {
                            HeaderPart::Extra(len)
                        };
                    }
                    n
                }
                HeaderPart::Extra(left) => {
                    let n = left.min(rest.len());
                    self.part = if n == left {
                        self.next_part(part)
                    } else {
                        HeaderPart::Extra(left - n)
                    };
                    n
                }
                HeaderPart::Name | HeaderPart::Comment => match rest.iter().position(|&b| b == 0) {
                    Some(end) => {
                        self.part = self.next_part(part);
                        end + 1
                    }
                    None => rest.len(),
                },
                HeaderPart::HeaderCrc => {
                    let n = self.fill(rest, 2);
                    if self.filled == 2 {
                        let expected = u16::from_le_bytes([self.buf[0], self.buf[1]]);
                        // FHCRC holds the two low-order bytes of the header's CRC-32.
                        if u32::from(expected) != self.crc.sum() & 0xffff {
                            return Err(AcsError::CorruptGzip("header checksum mismatch"));
                        }
                        self.part = HeaderPart::Done;
                    }
                    n
                }
                HeaderPart::Done => 0,
            };
            if part != HeaderPart::HeaderCrc {
                self.crc.update(&rest[..n]);
            }
            used += n;
        }
        Ok(used)
    }
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
                .decompress_vec(&input[used..], &mut self.inflated, FlushDecompress::None)
                .map_err(AcsError::Inflate)?;
            let consumed = (self.inflater.total_in() - before) as usize;
            used += consumed;
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
            if status == Status::StreamEnd {
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
