//! A participant that answers ExportAcs with garbage: a loopback gRPC server in front of a
//! lab participant's admin API (or its Ledger API, for a stalled GetActiveContracts) that
//! forwards every call unchanged, except ExportAcs, which
//! it answers — while a [`Garbage`] is set — with the participant's own snapshot spoilt
//! (or stalled) the way a broken participant or a broken network would spoil it.

use bytes::Bytes;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use http_body::Frame;
use prost::Message;
use recovery_deck::wire::admin::participant_repair_service_client::ParticipantRepairServiceClient;
use recovery_deck::wire::admin::participant_repair_service_server::{
    ParticipantRepairService, ParticipantRepairServiceServer,
};
use recovery_deck::wire::admin::{
    ChangeAssignationRequest, ChangeAssignationResponse, ExportAcsRequest, ExportAcsResponse, ImportAcsRequest,
    ImportAcsResponse, PurgeContractsRequest, PurgeContractsResponse,
};
use recovery_deck::wire::version::UntypedVersionedMessage;
use std::future::Future as _;
use std::io::{Read as _, Write as _};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tonic::transport::Channel;

const EXPORT_ACS: &str = "/com.digitalasset.canton.admin.participant.v30.ParticipantRepairService/ExportAcs";
const GET_ACTIVE_CONTRACTS: &str = "/com.daml.ledger.api.v2.StateService/GetActiveContracts";

/// How ExportAcs answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Garbage {
    /// The participant's own answer, forwarded.
    None,
    /// The gzip stream cut in the middle of its compressed data, the call ending cleanly.
    TruncatedGzip,
    /// Every record in a versioned envelope of version 31 (Canton writes 30).
    WrongVersion,
    /// The records, then a record whose length prefix announces 1 GiB.
    OversizedRecord,
    /// A gRPC message whose length prefix announces 100 MiB (the client accepts 64).
    OversizedMessage,
    /// The first half of the snapshot, then the HTTP/2 stream reset: the answer stops
    /// in the middle of a record.
    StopsMidRecord,
    /// The first half of the snapshot, then nothing: the stream neither sends nor ends,
    /// as a participant that hangs mid-export would keep it. In front of a Ledger API,
    /// GetActiveContracts stalls alike: its first data frame, then nothing.
    Stalls,
}

pub struct MisbehavingParticipant {
    pub url: String,
    garbage: Arc<Mutex<Garbage>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl MisbehavingParticipant {
    pub fn answer_with(&self, garbage: Garbage) {
        *self.garbage.lock().expect("lock") = garbage;
    }
}

impl Drop for MisbehavingParticipant {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves a [`MisbehavingParticipant`] in front of the admin API at `upstream` until dropped.
pub async fn misbehaving_participant(upstream: &str) -> MisbehavingParticipant {
    let channel = Channel::from_shared(upstream.to_string())
        .expect("upstream url")
        .connect_lazy();
    let garbage = Arc::new(Mutex::new(Garbage::None));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let layer = Intercept {
        upstream: channel.clone(),
        garbage: garbage.clone(),
    };
    // Every request is answered by the layer; the router below it is never reached.
    let unused = ParticipantRepairServiceServer::new(Spoiler {
        upstream: channel,
        garbage: garbage.clone(),
    });
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(layer)
            .add_service(unused)
            .serve_with_incoming_shutdown(tonic::transport::server::TcpIncoming::from(listener), async {
                let _ = stopped.await;
            }),
    );
    MisbehavingParticipant {
        url,
        garbage,
        stop: Some(stop),
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Answer = Pin<Box<dyn std::future::Future<Output = Result<http::Response<tonic::body::Body>, BoxError>> + Send>>;

#[derive(Clone)]
struct Intercept {
    upstream: Channel,
    garbage: Arc<Mutex<Garbage>>,
}

impl<S> tower::Layer<S> for Intercept {
    type Service = Forward;
    fn layer(&self, _inner: S) -> Forward {
        Forward {
            upstream: self.upstream.clone(),
            garbage: self.garbage.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Forward {
    upstream: Channel,
    garbage: Arc<Mutex<Garbage>>,
}

impl tower::Service<http::Request<tonic::body::Body>> for Forward {
    type Response = http::Response<tonic::body::Body>;
    type Error = BoxError;
    type Future = Answer;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Answer {
        let garbage = *self.garbage.lock().expect("lock");
        let mut upstream = self.upstream.clone();
        if req.uri().path() == GET_ACTIVE_CONTRACTS && garbage == Garbage::Stalls {
            return Box::pin(async move {
                futures::future::poll_fn(|cx| tower::Service::poll_ready(&mut upstream, cx)).await?;
                let answer = tower::Service::call(&mut upstream, req).await?;
                Ok(answer.map(|b| tonic::body::Body::new(Stall(b, false))))
            });
        }
        if req.uri().path() != EXPORT_ACS || garbage == Garbage::None {
            return Box::pin(async move {
                futures::future::poll_fn(|cx| tower::Service::poll_ready(&mut upstream, cx)).await?;
                Ok(tower::Service::call(&mut upstream, req).await?)
            });
        }
        if garbage == Garbage::OversizedMessage {
            let mut frame = vec![0u8];
            frame.extend_from_slice(&(100u32 << 20).to_be_bytes());
            let answer = http::Response::builder()
                .header("content-type", "application/grpc")
                .body(tonic::body::Body::new(Frames(vec![Bytes::from(frame)])))
                .expect("response");
            return Box::pin(async move { Ok(answer) });
        }
        let mut spoiler = ParticipantRepairServiceServer::new(Spoiler {
            upstream,
            garbage: self.garbage.clone(),
        });
        Box::pin(async move {
            let answer = tower::Service::call(&mut spoiler, req).await?;
            Ok(if garbage == Garbage::StopsMidRecord {
                answer.map(|b| tonic::body::Body::new(BreakOff(b, None)))
            } else {
                answer
            })
        })
    }
}

/// ExportAcs: the upstream participant's snapshot, spoilt.
struct Spoiler {
    upstream: Channel,
    garbage: Arc<Mutex<Garbage>>,
}

#[tonic::async_trait]
impl ParticipantRepairService for Spoiler {
    type ExportAcsStream = futures::stream::BoxStream<'static, Result<ExportAcsResponse, tonic::Status>>;

    async fn export_acs(
        &self,
        request: tonic::Request<ExportAcsRequest>,
    ) -> Result<tonic::Response<Self::ExportAcsStream>, tonic::Status> {
        use futures::StreamExt;
        let garbage = *self.garbage.lock().expect("lock");
        let mut honest = ParticipantRepairServiceClient::new(self.upstream.clone())
            .max_decoding_message_size(64 << 20)
            .export_acs(request.into_inner())
            .await?
            .into_inner();
        let mut snapshot = Vec::new();
        while let Some(c) = honest.message().await? {
            snapshot.extend(c.chunk);
        }
        assert!(
            snapshot.len() > 40,
            "a snapshot worth spoiling: {} bytes",
            snapshot.len()
        );
        let spoilt = match garbage {
            Garbage::TruncatedGzip | Garbage::StopsMidRecord | Garbage::Stalls => {
                snapshot[..snapshot.len() / 2].to_vec()
            }
            Garbage::WrongVersion => gzip(&with_version(&gunzip(&snapshot), 31)),
            Garbage::OversizedRecord => {
                let mut records = gunzip(&snapshot);
                prost::encoding::encode_varint(1 << 30, &mut records);
                records.extend_from_slice(b"and not a byte more");
                gzip(&records)
            }
            Garbage::None | Garbage::OversizedMessage => snapshot,
        };
        // Several messages, so that a reader sees the garbage arrive as it would.
        let chunks: Vec<Result<ExportAcsResponse, tonic::Status>> = spoilt
            .chunks(spoilt.len().div_ceil(3))
            .map(|c| Ok(ExportAcsResponse { chunk: c.to_vec() }))
            .collect();
        let answer = futures::stream::iter(chunks);
        Ok(tonic::Response::new(if garbage == Garbage::Stalls {
            answer.chain(futures::stream::pending()).boxed()
        } else {
            answer.boxed()
        }))
    }

    async fn import_acs(
        &self,
        _request: tonic::Request<tonic::Streaming<ImportAcsRequest>>,
    ) -> Result<tonic::Response<ImportAcsResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("forwarded, never served here"))
    }

    async fn change_assignation(
        &self,
        _request: tonic::Request<ChangeAssignationRequest>,
    ) -> Result<tonic::Response<ChangeAssignationResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("forwarded, never served here"))
    }

    async fn purge_contracts(
        &self,
        _request: tonic::Request<PurgeContractsRequest>,
    ) -> Result<tonic::Response<PurgeContractsResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("forwarded, never served here"))
    }
}

fn gunzip(snapshot: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(snapshot).read_to_end(&mut out).expect("a gzip snapshot");
    out
}

fn gzip(records: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(records).expect("gzip");
    gz.finish().expect("gzip")
}

/// The length-delimited versioned records of `records`, each with `version`.
fn with_version(mut records: &[u8], version: i32) -> Vec<u8> {
    let mut out = Vec::new();
    while !records.is_empty() {
        let mut record = UntypedVersionedMessage::decode_length_delimited(&mut records).expect("a record");
        record.version = version;
        record.encode_length_delimited(&mut out).expect("encode");
    }
    out
}

/// A body of these data frames and no trailers.
struct Frames(Vec<Bytes>);

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        Poll::Ready((!self.0.is_empty()).then(|| Ok(Frame::data(self.0.remove(0)))))
    }
}

/// The data frames of a body, then an error in place of its trailers: the server resets
/// the HTTP/2 stream, as a participant that dies or loses its network mid-answer would.
/// The reset waits a moment, so that the client has read the data before it (h2 drops
/// what a reset stream still buffers).
struct BreakOff(tonic::body::Body, Option<Pin<Box<tokio::time::Sleep>>>);

impl http_body::Body for BreakOff {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        if let Some(pause) = self.1.as_mut() {
            return pause
                .as_mut()
                .poll(cx)
                .map(|()| Some(Err(tonic::Status::internal("the participant broke off"))));
        }
        match Pin::new(&mut self.0).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) if frame.is_data() => Poll::Ready(Some(Ok(frame))),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(_) => {
                self.1 = Some(Box::pin(tokio::time::sleep(std::time::Duration::from_millis(300))));
                self.poll_frame(cx)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The first data frame of a body, then nothing: neither more data nor the trailers that
/// end a gRPC answer, as a participant that hangs mid-answer keeps its stream. Never woken
/// again: the client gives up, and its reset drops the body.
struct Stall(tonic::body::Body, bool);

impl http_body::Body for Stall {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        if self.1 {
            return Poll::Pending;
        }
        match Pin::new(&mut self.0).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) if frame.is_data() => {
                self.1 = true;
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(_) => {
                self.1 = true;
                Poll::Pending
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
