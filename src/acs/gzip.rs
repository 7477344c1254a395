use super::*;

pub(super) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
pub(super) const FHCRC: u8 = 0x02;
pub(super) const FEXTRA: u8 = 0x04;
pub(super) const FNAME: u8 = 0x08;
pub(super) const FCOMMENT: u8 = 0x10;
pub(super) const FRESERVED: u8 = 0xe0;

/// Parts of a gzip member header (RFC 1952 §2.3.1), in stream order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HeaderPart {
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
pub(super) struct GzipHeader {
    pub(super) part: HeaderPart,
    pub(super) flags: u8,
    /// Bytes of the current fixed-size part (at most ten).
    pub(super) buf: [u8; 10],
    pub(super) filled: usize,
    pub(super) crc: Crc,
}

impl GzipHeader {
    pub(super) fn new() -> Self {
        Self {
            part: HeaderPart::Fixed,
            flags: 0,
            buf: [0; 10],
            filled: 0,
            crc: Crc::new(),
        }
    }

    pub(super) fn is_done(&self) -> bool {
        self.part == HeaderPart::Done
    }

    /// The first optional part after `part` that the flags announce.
    pub(super) fn next_part(&self, part: HeaderPart) -> HeaderPart {
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
    pub(super) fn fill(&mut self, input: &[u8], want: usize) -> usize {
        let n = (want - self.filled).min(input.len());
        self.buf[self.filled..self.filled + n].copy_from_slice(&input[..n]);
        self.filled += n;
        n
    }

    /// Consumes header bytes from the front of `input`; returns how many it used.
    pub(super) fn consume(&mut self, input: &[u8]) -> Result<usize, AcsError> {
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
