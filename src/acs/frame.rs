use super::*;

/// Name of a generated message for error messages: its Rust path below `wire`, which
/// mirrors the protobuf package.
pub(super) fn message_name<M>() -> &'static str {
    let path = std::any::type_name::<M>();
    path.split_once("::wire::").map_or(path, |(_, rest)| rest)
}

pub(super) fn encode_record<M: Message>(
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

pub(super) fn decode_record<M: Message + Default>(record: u64, body: &[u8]) -> Result<M, AcsError> {
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
pub(super) fn read_prefix(record: u64, buf: &[u8]) -> Result<Option<(usize, u64)>, AcsError> {
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
    pub(super) pending: Vec<u8>,
    pub(super) max_record_len: usize,
    pub(super) records: u64,
    pub(super) failed: bool,
    pub(super) payload: PhantomData<fn() -> M>,
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
    pub(super) fn feed_each(
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
    pub(super) fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, AcsError> {
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

    pub(super) fn emit(
        &mut self,
        frame: &[u8],
        sink: &mut impl FnMut(u64, M) -> Result<(), AcsError>,
    ) -> Result<(), AcsError> {
        let record = self.records;
        let (prefix, _) = read_prefix(record, frame)?.ok_or(AcsError::BadLengthPrefix { record })?;
        let payload = decode_record(record, &frame[prefix..])?;
        sink(record, payload)?;
        self.records += 1;
        Ok(())
    }

    pub(super) fn feed_inner(
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
pub(super) struct Chunker {
    pub(super) buf: BytesMut,
    pub(super) size: usize,
}

impl Chunker {
    pub(super) fn new(size: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            size: size.clamp(1, MAX_CHUNK_SIZE),
        }
    }

    pub(super) fn take(&mut self) -> Option<Bytes> {
        (self.buf.len() >= self.size).then(|| self.buf.split_to(self.size).freeze())
    }

    /// All remaining bytes, as full chunks and a shorter last one.
    pub(super) fn into_chunks(mut self) -> Vec<Bytes> {
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
    pub(super) chunks: Chunker,
    pub(super) records: u64,
    pub(super) payload: PhantomData<fn(&M)>,
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
