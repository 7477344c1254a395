//! The deck's side of the protocol: an authenticated client for the coordinator, and its
//! commands with client request ids (a retry after a lost answer or a coordinator restart
//! is answered once). Following the log is [`super::feed`]'s.

use super::coordinator::MAX_MESSAGE;
use super::event::Role;
use super::feed::{Chain, fold};
use super::manifest::{EntryState, InspectedEntry, Manifest};
use super::state::SessionState;
use crate::exec::Backoff;
use crate::journal::{self, Header};
use crate::wire::collab::{
    self as pb, Ack, ControlAction, FetchAcsRequest, HeartbeatRequest, HelloRequest, ReportPhaseRequest, UploadHeader,
    WatchRequest, coordinator_client::CoordinatorClient, upload_acs_request::Part, watch_response::Item,
};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Request, Status};

const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Waits between calls to a coordinator that is unreachable (restarting, or the network).
fn reconnect_backoff() -> Backoff {
    Backoff::new(Duration::from_millis(200), Duration::from_secs(2))
}

/// How to reach the coordinator and who to be there.
#[derive(Debug, Clone)]
pub struct Connect {
    /// `http://host:port` (loopback) or `https://host:port`.
    pub url: String,
    /// The operator's bearer token.
    pub token: Option<String>,
    /// PEM of the CA that signed the coordinator's certificate (default: system roots).
    pub ca: Option<PathBuf>,
    /// The operator's TLS client certificate and key (PEM), for mTLS.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Server name to verify when it differs from the URL's host.
    pub domain: Option<String>,
    /// How long calls keep retrying while the coordinator is unreachable.
    pub patience: Duration,
}

impl Connect {
    pub fn new(url: &str) -> Connect {
        Connect {
            url: url.to_string(),
            token: None,
            ca: None,
            cert: None,
            key: None,
            domain: None,
            patience: Duration::from_secs(120),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("coordinator {url}: {message}")]
    Setup { url: String, message: String },
    #[error("the coordinator refused {rpc}: {message}")]
    Refused {
        rpc: &'static str,
        code: Code,
        message: String,
    },
    #[error("the coordinator's log does not verify at seq {seq}: {message}")]
    Chain { seq: u64, message: String },
    #[error("{0}")]
    Other(String),
}

impl SessionError {
    pub fn code(&self) -> Option<Code> {
        match self {
            SessionError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub(super) fn refused(rpc: &'static str, status: Status) -> SessionError {
        let message = if status.message().is_empty() {
            format!("{:?}", status.code())
        } else {
            format!("{:?}: {}", status.code(), status.message())
        };
        SessionError::Refused {
            rpc,
            code: status.code(),
            message,
        }
    }
}

/// Who the coordinator says we are, and the session's facts.
#[derive(Debug, Clone)]
pub struct Hello {
    pub operator: String,
    pub role: Role,
    pub participant: Option<String>,
    pub incident: String,
    pub lost: String,
    pub target: String,
    pub participants: Vec<String>,
    pub header: Header,
    pub head_seq: u64,
}

#[derive(Clone)]
pub struct SessionClient {
    client: CoordinatorClient<Channel>,
    token: Option<MetadataValue<Ascii>>,
    url: String,
    patience: Duration,
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Whether `url` names this machine.
fn loopback(url: &str) -> bool {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let host = rest.split('/').next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host),
    };
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl SessionClient {
    /// A client; the connection is made (and remade) lazily.
    pub fn connect(c: &Connect) -> Result<SessionClient, SessionError> {
        let setup = |message: String| SessionError::Setup {
            url: c.url.clone(),
            message,
        };
        let tls = c.url.starts_with("https://");
        if !tls && !loopback(&c.url) {
            return Err(setup(
                "refusing to send credentials to a coordinator that is not on loopback without TLS: use https://"
                    .into(),
            ));
        }
        let mut endpoint = Endpoint::from_shared(c.url.clone())
            .map_err(|e| setup(format!("invalid address: {e}")))?
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(10))
            .keep_alive_while_idle(true);
        if tls {
            let mut config = ClientTlsConfig::new();
            config = match &c.ca {
                Some(ca) => {
                    let pem = std::fs::read(ca).map_err(|e| setup(format!("CA {}: {e}", ca.display())))?;
                    config.ca_certificate(Certificate::from_pem(pem))
                }
                None => config.with_native_roots(),
            };
            match (&c.cert, &c.key) {
                (Some(cert), Some(key)) => {
                    let cert =
                        std::fs::read(cert).map_err(|e| setup(format!("certificate {}: {e}", cert.display())))?;
                    let key = std::fs::read(key).map_err(|e| setup(format!("key {}: {e}", key.display())))?;
                    config = config.identity(Identity::from_pem(cert, key));
                }
                (None, None) => {}
                _ => return Err(setup("a client certificate needs both --cert and --key".into())),
            }
            if let Some(d) = &c.domain {
                config = config.domain_name(d.clone());
            }
            endpoint = endpoint.tls_config(config).map_err(|e| setup(format!("TLS: {e}")))?;
        } else if c.cert.is_some() || c.ca.is_some() {
            return Err(setup("--ca, --cert and --key need an https:// address".into()));
        }
        let token = c
            .token
            .as_deref()
            .map(|t| {
                format!("Bearer {}", t.trim())
                    .parse()
                    .map_err(|_| setup("the token contains characters not allowed in a header".into()))
            })
            .transpose()?;
        let client = CoordinatorClient::new(endpoint.connect_lazy())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        Ok(SessionClient {
            client,
            token,
            url: c.url.clone(),
            patience: c.patience,
        })
    }

    fn request<T>(&self, msg: T, timeout: Option<Duration>) -> Request<T> {
        let mut r = Request::new(msg);
        if let Some(t) = timeout {
            r.set_timeout(t);
        }
        if let Some(t) = &self.token {
            r.metadata_mut().insert("authorization", t.clone());
        }
        r
    }

    /// A unary call, retried with the same message (and so the same request id) while the
    /// coordinator is unreachable.
    async fn unary<T, R, F, Fut>(&self, rpc: &'static str, msg: T, call: F) -> Result<R, SessionError>
    where
        T: Clone,
        F: Fn(CoordinatorClient<Channel>, Request<T>) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<R>, Status>>,
    {
        let started = Instant::now();
        let mut backoff = reconnect_backoff();
        loop {
            match call(self.client.clone(), self.request(msg.clone(), Some(CALL_TIMEOUT))).await {
                Ok(r) => return Ok(r.into_inner()),
                Err(s) if s.code() == Code::Unavailable && started.elapsed() < self.patience => {
                    tokio::time::sleep(backoff.next_delay()).await;
                }
                Err(s) => return Err(SessionError::refused(rpc, s)),
            }
        }
    }

    pub async fn hello(&self, participant: Option<&str>) -> Result<Hello, SessionError> {
        let msg = HelloRequest {
            participant: participant.unwrap_or_default().to_string(),
        };
        let h = self
            .unary("Hello", msg, |mut c, r| async move { c.hello(r).await })
            .await?;
        let header: Header = serde_json::from_str(&h.header_json)
            .map_err(|e| SessionError::Other(format!("the coordinator's log header is not valid: {e}")))?;
        Ok(Hello {
            operator: h.operator,
            role: h.role.parse().map_err(SessionError::Other)?,
            participant: (!h.participant.is_empty()).then_some(h.participant),
            incident: h.incident,
            lost: h.lost,
            target: h.target,
            participants: h.participants,
            header,
            head_seq: h.head_seq,
        })
    }

    /// Opens a watch stream.
    pub async fn open_watch(&self, req: WatchRequest) -> Result<tonic::Streaming<pb::WatchResponse>, Status> {
        let mut c = self.client.clone();
        Ok(c.watch(self.request(req, None)).await?.into_inner())
    }

    /// The whole log, verified, and the state folded from it.
    pub async fn log(&self) -> Result<(Hello, SessionState, Vec<journal::Event>), SessionError> {
        let hello = self.hello(None).await?;
        let mut chain = Chain::new(&hello.header);
        let mut state = SessionState::default();
        let mut events = Vec::new();
        let req = WatchRequest {
            from_seq: 1,
            follow: false,
            participant: String::new(),
            presence: false,
        };
        let mut stream = self
            .open_watch(req)
            .await
            .map_err(|s| SessionError::refused("Watch", s))?;
        while let Some(m) = stream.message().await.map_err(|s| SessionError::refused("Watch", s))? {
            if let Some(Item::Event(e)) = m.item
                && let Some(event) = chain.accept(&e)?
            {
                fold(&mut state, &event)?;
                events.push(event);
            }
        }
        Ok((hello, state, events))
    }

    pub async fn heartbeat(&self) -> Result<u64, SessionError> {
        let mut c = self.client.clone();
        c.heartbeat(self.request(HeartbeatRequest {}, Some(Duration::from_secs(5))))
            .await
            .map(|r| r.into_inner().head_seq)
            .map_err(|s| SessionError::refused("Heartbeat", s))
    }

    pub async fn publish_manifest(&self, m: &Manifest) -> Result<Ack, SessionError> {
        let msg = pb::PublishManifestRequest {
            request_id: request_id(),
            participant: m.participant.clone(),
            synchronizer_id: m.synchronizer_id.clone(),
            hosted_parties: m.hosted_parties.clone(),
            contracts: m
                .contracts
                .iter()
                .map(|c| pb::ManifestContract {
                    contract_id: c.contract_id.clone(),
                    template_id: c.template_id.clone(),
                    stakeholders: c.stakeholders.clone(),
                    payload_digest: c.payload_digest.clone(),
                })
                .collect(),
            pending_submissions: m.pending_submissions,
            pending_transactions: m.pending_transactions,
            admin_party: m.admin_party.clone(),
        };
        self.unary(
            "PublishManifest",
            msg,
            |mut c, r| async move { c.publish_manifest(r).await },
        )
        .await
    }

    pub async fn publish_inspection(&self, participant: &str, entries: &[InspectedEntry]) -> Result<Ack, SessionError> {
        let contracts = entries
            .iter()
            .map(|e| {
                let (state, moved_to) = match &e.state {
                    EntryState::Archived => ("archived", String::new()),
                    EntryState::Moved { to } => ("moved", to.clone()),
                    EntryState::Unknown | EntryState::Active => ("unknown", String::new()),
                };
                pb::InspectedContract {
                    contract_id: e.contract_id.clone(),
                    state: state.into(),
                    moved_to,
                }
            })
            .collect();
        let msg = pb::PublishInspectionRequest {
            request_id: request_id(),
            participant: participant.into(),
            contracts,
        };
        self.unary("PublishInspection", msg, |mut c, r| async move {
            c.publish_inspection(r).await
        })
        .await
    }

    pub async fn propose(&self, runbook: &str, sidecar: Option<&str>) -> Result<Ack, SessionError> {
        let msg = pb::ProposeRequest {
            request_id: request_id(),
            runbook_toml: runbook.into(),
            sidecar_text: sidecar.unwrap_or_default().into(),
        };
        self.unary("Propose", msg, |mut c, r| async move { c.propose(r).await })
            .await
    }

    pub async fn approve(
        &self,
        participant: &str,
        plan_hash: &str,
        holdings_digest: &str,
        comment: &str,
    ) -> Result<Ack, SessionError> {
        let msg = pb::ApproveRequest {
            request_id: request_id(),
            participant: participant.into(),
            plan_hash: plan_hash.into(),
            holdings_digest: holdings_digest.into(),
            comment: comment.into(),
        };
        self.unary("Approve", msg, |mut c, r| async move { c.approve(r).await })
            .await
    }

    pub async fn control(&self, action: ControlAction, plan_hash: &str, reason: &str) -> Result<Ack, SessionError> {
        let msg = pb::ControlRequest {
            request_id: request_id(),
            action: action as i32,
            plan_hash: plan_hash.into(),
            reason: reason.into(),
        };
        self.unary("Control", msg, |mut c, r| async move { c.control(r).await })
            .await
    }

    /// Reports a phase (fill everything but the request id).
    pub async fn report(&self, mut msg: ReportPhaseRequest) -> Result<Ack, SessionError> {
        msg.request_id = request_id();
        self.unary("ReportPhase", msg, |mut c, r| async move { c.report_phase(r).await })
            .await
    }

    pub async fn request_payload(&self, contract_id: &str, holder: &str, reason: &str) -> Result<Ack, SessionError> {
        let msg = pb::RequestPayloadRequest {
            request_id: request_id(),
            contract_id: contract_id.into(),
            holder: holder.into(),
            reason: reason.into(),
        };
        self.unary(
            "RequestPayload",
            msg,
            |mut c, r| async move { c.request_payload(r).await },
        )
        .await
    }

    pub async fn answer_payload(
        &self,
        request_seq: u64,
        payload: Option<&serde_json::Value>,
        reason: &str,
    ) -> Result<Ack, SessionError> {
        let msg = pb::AnswerPayloadRequest {
            request_id: request_id(),
            request_seq,
            accept: payload.is_some(),
            payload_json: payload.map(|p| p.to_string()).unwrap_or_default(),
            reason: reason.into(),
        };
        self.unary(
            "AnswerPayload",
            msg,
            |mut c, r| async move { c.answer_payload(r).await },
        )
        .await
    }

    /// Uploads an ACS snapshot (whole, again with the same request id while the
    /// coordinator is unreachable).
    pub async fn upload(
        &self,
        plan_hash: &str,
        source: &str,
        receiver: &str,
        contracts: u64,
        chunks: Vec<bytes::Bytes>,
    ) -> Result<Ack, SessionError> {
        let header = UploadHeader {
            request_id: request_id(),
            plan_hash: plan_hash.into(),
            source: source.into(),
            receiver: receiver.into(),
            contracts,
        };
        let started = Instant::now();
        let mut backoff = reconnect_backoff();
        loop {
            let mut messages = vec![pb::UploadAcsRequest {
                part: Some(Part::Header(header.clone())),
            }];
            messages.extend(chunks.iter().map(|c| pb::UploadAcsRequest {
                part: Some(Part::Chunk(c.to_vec())),
            }));
            let mut c = self.client.clone();
            match c.upload_acs(self.request(futures::stream::iter(messages), None)).await {
                Ok(r) => return Ok(r.into_inner()),
                Err(s) if s.code() == Code::Unavailable && started.elapsed() < self.patience => {
                    tokio::time::sleep(backoff.next_delay()).await;
                }
                Err(s) => return Err(SessionError::refused("UploadAcs", s)),
            }
        }
    }

    /// Downloads the snapshot `source` uploaded for `receiver`.
    pub async fn fetch(&self, plan_hash: &str, source: &str, receiver: &str) -> Result<Vec<u8>, SessionError> {
        let msg = FetchAcsRequest {
            plan_hash: plan_hash.into(),
            source: source.into(),
            receiver: receiver.into(),
        };
        let started = Instant::now();
        let mut backoff = reconnect_backoff();
        loop {
            let mut c = self.client.clone();
            let attempt = async {
                let mut stream = c.fetch_acs(self.request(msg.clone(), None)).await?.into_inner();
                let mut out = Vec::new();
                while let Some(chunk) = stream.message().await? {
                    out.extend_from_slice(&chunk.chunk);
                }
                Ok::<_, Status>(out)
            };
            match attempt.await {
                Ok(bytes) => return Ok(bytes),
                Err(s) if s.code() == Code::Unavailable && started.elapsed() < self.patience => {
                    tokio::time::sleep(backoff.next_delay()).await;
                }
                Err(s) => return Err(SessionError::refused("FetchAcs", s)),
            }
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_go_to_loopback_or_over_tls_only() {
        assert!(loopback("http://127.0.0.1:7000"));
        assert!(loopback("http://localhost:7000"));
        assert!(loopback("http://[::1]:7000"));
        assert!(!loopback("http://10.0.0.5:7000"));
        assert!(!loopback("http://coordinator.example:7000"));
        let e = SessionClient::connect(&Connect::new("http://10.0.0.5:7000"))
            .err()
            .expect("refused");
        assert!(e.to_string().contains("without TLS"), "{e}");
    }
}
