//! A unary call that keeps the answer's bytes, and a check on them: whether a message
//! decoded by prost re-encodes to exactly what the participant sent. prost drops fields it
//! does not know, so writing a read-modify-write back would silently reset whatever a newer
//! Canton put there; the check tells such a message apart before anything is written.

use super::transport::AuthChannel;
use bytes::{Buf, BufMut, Bytes};
use prost::Message;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// Passes bytes through unchanged, both ways.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct BytesCodec;

impl Codec for BytesCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = BytesCodec;
    type Decoder = BytesCodec;

    fn encoder(&mut self) -> Self::Encoder {
        BytesCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        BytesCodec
    }
}

impl Encoder for BytesCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for BytesCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// Sends `request` (already encoded, with its deadline) to `path` and returns the answer's
/// bytes.
pub(super) async fn unary(
    channel: AuthChannel,
    path: &'static str,
    request: tonic::Request<Bytes>,
) -> Result<Bytes, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(format!("the channel is not ready: {e}")))?;
    let path = http::uri::PathAndQuery::from_static(path);
    Ok(grpc.unary(request, path, BytesCodec).await?.into_inner())
}

/// The bodies of every length-delimited field `number` of a message, in order.
pub(super) fn len_fields(mut buf: &[u8], number: u32) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let key = prost::encoding::decode_varint(&mut buf).map_err(|e| e.to_string())?;
        let (field, wire) = ((key >> 3) as u32, key & 7);
        match wire {
            0 => {
                prost::encoding::decode_varint(&mut buf).map_err(|e| e.to_string())?;
            }
            1 | 5 => {
                let n = if wire == 1 { 8 } else { 4 };
                if buf.len() < n {
                    return Err("truncated fixed-width field".into());
                }
                buf = &buf[n..];
            }
            2 => {
                let len = usize::try_from(prost::encoding::decode_varint(&mut buf).map_err(|e| e.to_string())?)
                    .map_err(|_| "length does not fit".to_string())?;
                if buf.len() < len {
                    return Err("truncated length-delimited field".into());
                }
                let (body, rest) = buf.split_at(len);
                if field == number {
                    out.push(body);
                }
                buf = rest;
            }
            other => return Err(format!("unsupported wire type {other}")),
        }
    }
    Ok(out)
}

/// Whether `raw` decodes as `M` and re-encodes to the same bytes: nothing in it is unknown
/// to our schema, and writing the decoded message back loses nothing.
pub(super) fn round_trips<M: Message + Default>(raw: &[u8]) -> bool {
    M::decode(raw).is_ok_and(|m| m.encode_to_vec() == raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::sync_config::default_config;
    use crate::wire::admin::SynchronizerConnectionConfig;

    #[test]
    fn a_config_with_a_field_we_do_not_know_is_told_apart() {
        let config = default_config("lostDomain", "http://127.0.0.1:1", false).encode_to_vec();
        assert!(round_trips::<SynchronizerConnectionConfig>(&config));
        // Field 99 (varint 1) — what a newer Canton could add.
        let mut newer = config.clone();
        newer.extend_from_slice(&[0x98, 0x06, 0x01]);
        assert!(
            SynchronizerConnectionConfig::decode(newer.as_slice()).is_ok(),
            "prost skips it"
        );
        assert!(!round_trips::<SynchronizerConnectionConfig>(&newer));
        // Walking a response: results = 1, each result's config = 1, connected = 2.
        let field = |number: u64, body: &[u8]| {
            let mut v = Vec::new();
            prost::encoding::encode_varint((number << 3) | 2, &mut v);
            prost::encoding::encode_varint(body.len() as u64, &mut v);
            v.extend_from_slice(body);
            v
        };
        let mut result = field(1, &newer);
        result.extend_from_slice(&[0x10, 0x01]);
        let response = field(1, &result);
        let results = len_fields(&response, 1).expect("walk");
        assert_eq!(results.len(), 1);
        let configs = len_fields(results[0], 1).expect("walk");
        assert_eq!(configs, [newer.as_slice()]);
        assert!(len_fields(&[0x0a, 0x05, 0x01], 1).is_err(), "truncated");
    }
}
