//! ACS snapshots over the wire: export chunks decoded into a stream of contracts, and a
//! stream of contracts encoded into an ImportAcs call that is cancelled — never
//! half-closed — when the source fails, so the participant applies nothing.

use super::{ClientError, ContractStream, ImportMode, Result};
use crate::acs::{AcsDecoder, AcsEncoder};
use crate::wire::admin::{
    ContractImportMode, ImportAcsRequest, participant_repair_service_client::ParticipantRepairServiceClient,
};
use crate::wire::ledger::ActiveContract;
use futures::StreamExt;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

/// ImportAcs chunk size: the snapshot bytes one message carries, by the rule every
/// request follows (`crate::batch`), with the context beside them.
const IMPORT_CHUNK: usize = crate::batch::REQUEST_BYTES;

fn encoding_failed(participant: &str, e: crate::acs::AcsError) -> ClientError {
    ClientError::Protocol {
        participant: participant.to_string(),
        rpc: "ImportAcs",
        message: format!("encoding the snapshot: {e}"),
    }
}

/// Turns a stream of ACS snapshot chunks into a stream of contracts.
pub(super) fn decode_chunks<S>(participant: String, rpc: &'static str, mut chunks: S) -> ContractStream
where
    S: futures::Stream<Item = std::result::Result<Vec<u8>, tonic::Status>> + Send + Unpin + 'static,
{
    let (tx, rx) = mpsc::channel::<Result<ActiveContract>>(256);
    tokio::spawn(async move {
        let mut decoder = AcsDecoder::new();
        let fail = |m: String| ClientError::Protocol {
            participant: participant.clone(),
            rpc,
            message: m,
        };
        while let Some(chunk) = chunks.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(s) => {
                    let _ = tx.send(Err(ClientError::from_status(&participant, rpc, s))).await;
                    return;
                }
            };
            match decoder.feed(&chunk) {
                Ok(contracts) => {
                    for c in contracts {
                        if tx.send(Ok(c)).await.is_err() {
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
        match decoder.finish() {
            Ok(_) => {}
            Err(e) => {
                let _ = tx.send(Err(fail(format!("invalid ACS snapshot: {e}")))).await;
            }
        }
    });
    ReceiverStream::new(rx).boxed()
}

/// Sends `contracts` as one ImportAcs snapshot; `template` carries the deadline and the
/// token for the call.
pub(super) async fn import(
    participant: &str,
    mut repair: ParticipantRepairServiceClient<Channel>,
    template: tonic::Request<()>,
    synchronizer_id: &str,
    mode: ImportMode,
    mut contracts: ContractStream,
) -> Result<()> {
    let mode = match mode {
        ImportMode::Validation => ContractImportMode::Validation,
        ImportMode::Accept => ContractImportMode::Accept,
    };
    let (tx, rx) = mpsc::channel::<ImportAcsRequest>(4);
    let (failed_tx, failed_rx) = oneshot::channel::<(ClientError, mpsc::Sender<ImportAcsRequest>)>();
    let sync_id = synchronizer_id.to_string();
    let name = participant.to_string();
    // The producer hands its sender back on failure instead of dropping it: dropping
    // it would half-close the request stream, which Canton reads as "snapshot
    // complete" and would import a partial snapshot.
    let producer = tokio::spawn(async move {
        let mut encoder = AcsEncoder::with_chunk_size(IMPORT_CHUNK);
        // Canton 3.4 checks the whole import context on every message (the workflow
        // prefix must not change, the mode must be set); 3.5+ reads it from the first.
        // Sending the same context on every message serves both.
        let prefix = format!("recovery-deck-{}", uuid::Uuid::new_v4().simple());
        let message = |chunk: Vec<u8>| ImportAcsRequest {
            acs_snapshot: chunk,
            workflow_id_prefix: Some(prefix.clone()),
            contract_import_mode: Some(mode as i32),
            excluded_stakeholder_ids: Vec::new(),
            representative_package_id_override: None,
            synchronizer_id: Some(sync_id.clone()),
        };
        while let Some(item) = contracts.next().await {
            let contract = match item {
                Ok(c) => c,
                Err(e) => {
                    let _ = failed_tx.send((e, tx));
                    return;
                }
            };
            match encoder.push(&contract) {
                Ok(()) => {
                    while let Some(chunk) = encoder.take_chunk() {
                        if tx.send(message(chunk.to_vec())).await.is_err() {
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
        match encoder.finish() {
            Ok(chunks) => {
                for chunk in chunks {
                    if tx.send(message(chunk.to_vec())).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                let _ = failed_tx.send((encoding_failed(&name, e), tx));
            }
        }
    });
    // The deadline and the token come from the template request.
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
