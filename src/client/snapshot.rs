//! ACS snapshots over the wire: export chunks decoded into a stream of contracts, a
//! stream of contracts encoded into an ImportAcs call that is cancelled — never
//! half-closed — when the source fails, so the participant applies nothing, and the same
//! snapshot format read and written in memory for snapshots relayed between decks.

use super::transport::AuthChannel;
use super::{ClientError, Contract, ContractStream, ImportMode, Result};
use crate::acs::{AcsDecoder, AcsEncoder, AcsError};
use crate::wire::admin::{
    ContractImportMode, ImportAcsRequest, participant_repair_service_client::ParticipantRepairServiceClient,
};
use crate::wire::ledger::ActiveContract;
use bytes::Bytes;
use futures::StreamExt;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;

/// ImportAcs chunk size: the snapshot bytes one message carries, by the rule every
/// request follows (`crate::batch`), with the context beside them.
const IMPORT_CHUNK: usize = crate::batch::REQUEST_BYTES;

fn encoding_failed(participant: &str, e: AcsError) -> ClientError {
    ClientError::Protocol {
        participant: participant.to_string(),
        rpc: "ImportAcs",
        message: format!("encoding the snapshot: {e}"),
    }
}

/// Compressed bytes fed to the decoder at a time (see [`decode_chunks`]).
const DECODE_PIECE: usize = 16 * 1024;

/// A transport failure (or a stall) after part of the snapshot arrived says how far it
/// got: the participant's answer stopped part way, not before it began.
pub(super) fn broke_off(e: ClientError, fed: bool, contracts: u64) -> ClientError {
    match e {
        ClientError::Grpc {
            participant,
            rpc,
            grpc,
            message,
        } if fed => ClientError::Grpc {
            participant,
            rpc,
            grpc,
            message: format!("{message}; the snapshot broke off after {contracts} contract(s)"),
        },
        other => other,
    }
}

/// Turns a stream of ACS snapshot chunks into a stream of contracts.
pub(super) fn decode_chunks<S>(participant: String, rpc: &'static str, mut chunks: S) -> ContractStream
where
    S: futures::Stream<Item = std::result::Result<Vec<u8>, tonic::Status>> + Send + Unpin + 'static,
{
    let (tx, rx) = mpsc::channel::<Result<Contract>>(256);
    tokio::spawn(async move {
        let mut decoder = AcsDecoder::new();
        let mut fed = false;
        let fail = |m: String| ClientError::Protocol {
            participant: participant.clone(),
            rpc,
            message: m,
        };
        while let Some(chunk) = chunks.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(s) => {
                    let e = ClientError::from_status(&participant, rpc, s);
                    let _ = tx.send(Err(broke_off(e, fed, decoder.records()))).await;
                    return;
                }
            };
            // One chunk of a well-compressed snapshot inflates to tens of thousands of
            // contracts: fed in small pieces, each piece's contracts are handed on before
            // the next is decoded, so a few hundred are held at a time, not a chunk's worth
            // per participant (at 200,000 contracts that was most of `run`'s heap).
            fed = true;
            for piece in chunk.chunks(DECODE_PIECE) {
                match decoder.feed(piece) {
                    Ok(contracts) => {
                        for c in contracts {
                            if tx.send(Ok(Contract::from_wire(c))).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(fail(format!("invalid ACS snapshot: {e}")))).await;
                        return;
                    }
                }
            }
        }
        match decoder.finish() {
            Ok(_) => {}
            Err(e) => {
                let _ = tx.send(Err(fail(format!("invalid ACS snapshot: {e}")))).await;
            }
        }
    });
    ReceiverStream::new(rx).boxed()
}

/// The messages of one ImportAcs call: the snapshot cut into chunks, each message carrying
/// the whole import context. Canton 3.4 checks the context on every message (the workflow
/// prefix must not change, the mode must be set: GrpcParticipantRepairService.scala,
/// importAcs, `setOrCheck`, release-line-3.4); 3.5+ reads it from the first. Sending the
/// same context on every message serves both.
struct ImportFrames {
    encoder: AcsEncoder,
    context: ImportContext,
}

/// What every ImportAcs message repeats.
struct ImportContext {
    prefix: String,
    mode: ContractImportMode,
    synchronizer_id: String,
}

impl ImportContext {
    fn message(&self, chunk: &[u8]) -> ImportAcsRequest {
        ImportAcsRequest {
            acs_snapshot: chunk.to_vec(),
            workflow_id_prefix: Some(self.prefix.clone()),
            contract_import_mode: Some(self.mode as i32),
            excluded_stakeholder_ids: Vec::new(),
            representative_package_id_override: None,
            synchronizer_id: Some(self.synchronizer_id.clone()),
        }
    }
}

impl ImportFrames {
    fn new(synchronizer_id: &str, mode: ImportMode) -> ImportFrames {
        ImportFrames {
            encoder: AcsEncoder::with_chunk_size(IMPORT_CHUNK),
            context: ImportContext {
                prefix: format!("recovery-deck-{}", uuid::Uuid::new_v4().simple()),
                mode: match mode {
                    ImportMode::Validation => ContractImportMode::Validation,
                    ImportMode::Accept => ContractImportMode::Accept,
                },
                synchronizer_id: synchronizer_id.to_string(),
            },
        }
    }

    /// The messages that `contract` completes (often none).
    fn push(&mut self, contract: &ActiveContract) -> std::result::Result<Vec<ImportAcsRequest>, AcsError> {
        self.encoder.push(contract)?;
        let mut out = Vec::new();
        while let Some(chunk) = self.encoder.take_chunk() {
            out.push(self.context.message(&chunk));
        }
        Ok(out)
    }

    /// The last messages: the rest of the snapshot.
    fn finish(self) -> std::result::Result<Vec<ImportAcsRequest>, AcsError> {
        let chunks = self.encoder.finish()?;
        Ok(chunks.iter().map(|c| self.context.message(c)).collect())
    }
}

/// Sends `contracts` as one ImportAcs snapshot; `template` carries the deadline and the
/// token for the call.
pub(super) async fn import(
    participant: &str,
    mut repair: ParticipantRepairServiceClient<AuthChannel>,
    template: tonic::Request<()>,
    synchronizer_id: &str,
    mode: ImportMode,
    mut contracts: ContractStream,
) -> Result<()> {
    let (tx, rx) = mpsc::channel::<ImportAcsRequest>(4);
    let (failed_tx, failed_rx) = oneshot::channel::<(ClientError, mpsc::Sender<ImportAcsRequest>)>();
    let mut frames = ImportFrames::new(synchronizer_id, mode);
    let name = participant.to_string();
    // The producer hands its sender back on failure instead of dropping it: dropping
    // it would half-close the request stream, which Canton reads as "snapshot
    // complete" and would import a partial snapshot.
    let producer = tokio::spawn(async move {
        while let Some(item) = contracts.next().await {
            let framed = match item {
                Ok(contract) => frames.push(contract.wire()),
                Err(e) => {
                    let _ = failed_tx.send((e, tx));
                    return;
                }
            };
            match framed {
                Ok(messages) => {
                    for m in messages {
                        if tx.send(m).await.is_err() {
                            return;
                        }
                    }
                }
                Err(e) => {
                    let _ = failed_tx.send((encoding_failed(&name, e), tx));
                    return;
                }
            }
        }
        match frames.finish() {
            Ok(messages) => {
                for m in messages {
                    if tx.send(m).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                let _ = failed_tx.send((encoding_failed(&name, e), tx));
            }
        }
    });
    // The deadline comes from the template request.
    let (metadata, extensions, ()) = template.into_parts();
    let req = tonic::Request::from_parts(metadata, extensions, ReceiverStream::new(rx));
    let err = |s: tonic::Status| ClientError::from_status(participant, "ImportAcs", s);
    let mut call = Box::pin(repair.import_acs(req));
    let outcome = tokio::select! {
        r = &mut call => r.map(|_| ()).map_err(err),
        failed = failed_rx => match failed {
            Ok((e, sender)) => {
                // Dropping the call resets the HTTP/2 stream (a cancel). The sender is
                // kept alive a little longer so the body can never end cleanly first.
                drop(call);
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    drop(sender);
                });
                Err(e)
            }
            // The producer finished normally; wait for the server's answer.
            Err(_) => call.await.map(|_| ()).map_err(err),
        },
    };
    producer.abort();
    outcome
}

/// Contracts written in Canton's ACS snapshot format, chunk by chunk.
#[derive(Debug, Default)]
pub struct SnapshotWriter(AcsEncoder);

impl SnapshotWriter {
    pub fn new() -> SnapshotWriter {
        SnapshotWriter(AcsEncoder::new())
    }

    pub fn push(&mut self, contract: &Contract) -> std::result::Result<(), AcsError> {
        self.0.push(contract.wire())
    }

    /// A full chunk, when one is ready.
    pub fn take_chunk(&mut self) -> Option<Bytes> {
        self.0.take_chunk()
    }

    /// The remaining chunks.
    pub fn finish(self) -> std::result::Result<Vec<Bytes>, AcsError> {
        self.0.finish()
    }
}

/// An ACS snapshot read chunk by chunk into contracts.
#[derive(Debug, Default)]
pub struct SnapshotReader(AcsDecoder);

impl SnapshotReader {
    pub fn new() -> SnapshotReader {
        SnapshotReader(AcsDecoder::new())
    }

    /// The contracts completed by `chunk`.
    pub fn feed(&mut self, chunk: &[u8]) -> std::result::Result<Vec<Contract>, AcsError> {
        Ok(self.0.feed(chunk)?.into_iter().map(Contract::from_wire).collect())
    }

    /// Checks that the snapshot ended where a record ends; the number of records.
    pub fn finish(self) -> std::result::Result<u64, AcsError> {
        self.0.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ledger::CreatedEvent;
    use prost::Message;

    fn digest(parts: &[&[u8]]) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for p in parts {
            h.update(p);
        }
        hex::encode(h.finalize())
    }

    /// A contract whose payload does not compress: what makes a snapshot large on the wire.
    fn noisy(i: usize) -> ActiveContract {
        let noise: String = (0..16).map(|k| digest(&[&i.to_be_bytes(), &[k as u8]])).collect();
        ActiveContract {
            created_event: Some(CreatedEvent {
                contract_id: format!("00{}", digest(&[&i.to_be_bytes()])),
                created_event_blob: noise.into_bytes(),
                ..Default::default()
            }),
            synchronizer_id: "lostDomain::1220ab".into(),
            reassignment_counter: 0,
        }
    }

    #[test]
    fn every_import_message_carries_the_whole_context_and_stays_small() {
        let mut frames = ImportFrames::new("lostDomain::1220ab", ImportMode::Validation);
        let mut messages = Vec::new();
        let n = 3_000;
        for i in 0..n {
            messages.extend(frames.push(&noisy(i)).expect("encode"));
        }
        messages.extend(frames.finish().expect("finish"));
        assert!(
            messages.len() >= 2,
            "a snapshot over 1 MiB compressed: {} messages",
            messages.len()
        );
        let first = &messages[0];
        let prefix = first.workflow_id_prefix.clone().expect("prefix");
        assert!(prefix.starts_with("recovery-deck-"));
        for (i, m) in messages.iter().enumerate() {
            assert_eq!(
                m.workflow_id_prefix.as_deref(),
                Some(prefix.as_str()),
                "message {i}: prefix"
            );
            assert_eq!(
                m.contract_import_mode,
                Some(ContractImportMode::Validation as i32),
                "message {i}: mode"
            );
            assert_eq!(
                m.synchronizer_id.as_deref(),
                Some("lostDomain::1220ab"),
                "message {i}: synchronizer"
            );
            // Canton's default inbound limit is 10 MiB and tonic's 4 MiB: a chunk plus its
            // context stays near the chunk size.
            assert!(
                m.encoded_len() <= IMPORT_CHUNK + 256,
                "message {i}: {} bytes",
                m.encoded_len()
            );
            assert!(!m.acs_snapshot.is_empty());
        }
        // The chunks are one snapshot, in order.
        let mut decoder = AcsDecoder::new();
        let mut back = Vec::new();
        for m in &messages {
            back.extend(decoder.feed(&m.acs_snapshot).expect("decode"));
        }
        decoder.finish().expect("complete");
        assert_eq!(back.len(), n);
        assert_eq!(back[n - 1], noisy(n - 1));
    }

    #[test]
    fn each_import_has_its_own_prefix() {
        let a = ImportFrames::new("s", ImportMode::Accept);
        let b = ImportFrames::new("s", ImportMode::Accept);
        assert_ne!(a.context.prefix, b.context.prefix);
        assert_eq!(
            a.context.message(b"x").contract_import_mode,
            Some(ContractImportMode::Accept as i32)
        );
    }
}
