//! Channels to a participant: TLS with the participant's own CA (or the system roots),
//! connected lazily, and the bearer token (from a file or the environment) added to every
//! call by one interceptor on the channel, whatever the call's shape.

use super::{ClientError, Result};
use crate::config::ParticipantConfig;
use std::time::Duration;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

/// A channel that sends the participant's bearer token with every call.
pub(super) type AuthChannel = InterceptedService<Channel, Bearer>;

/// Adds `authorization: Bearer <token>` to a call, when the participant has a token.
#[derive(Clone)]
pub(super) struct Bearer(Option<MetadataValue<Ascii>>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> std::result::Result<tonic::Request<()>, tonic::Status> {
        if let Some(token) = &self.0 {
            request.metadata_mut().insert("authorization", token.clone());
        }
        Ok(request)
    }
}

/// The participant's channel to `url`, carrying `token` (see [`token_of`]).
pub(super) fn authenticated(
    name: &str,
    url: &str,
    cfg: &ParticipantConfig,
    token: Option<&Token>,
) -> Result<AuthChannel> {
    Ok(InterceptedService::new(
        channel(name, url, cfg)?,
        Bearer(token.map(|t| t.header.clone())),
    ))
}

/// A participant's bearer token: the header every call carries, and when the token says
/// it expires.
pub(super) struct Token {
    header: MetadataValue<Ascii>,
    pub(super) expiry: Option<jiff::Timestamp>,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

fn channel(name: &str, url: &str, cfg: &ParticipantConfig) -> Result<Channel> {
    let setup = |message: String| ClientError::Setup {
        participant: name.to_string(),
        message,
    };
    let mut endpoint = Endpoint::from_shared(url.to_string())
        .map_err(|e| setup(format!("invalid endpoint {url}: {e}")))?
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(20))
        .keep_alive_while_idle(true);
    if url.starts_with("https://") {
        let mut tls = ClientTlsConfig::new();
        match cfg.tls_ca.as_ref() {
            Some(ca) => {
                let pem = std::fs::read(ca).map_err(|e| setup(format!("TLS CA {}: {e}", ca.display())))?;
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            None => tls = tls.with_native_roots(),
        }
        if let Some(domain) = cfg.tls_domain.as_ref() {
            tls = tls.domain_name(domain.clone());
        }
        endpoint = endpoint
            .tls_config(tls)
            .map_err(|e| setup(format!("TLS for {url}: {e}")))?;
    }
    Ok(endpoint.connect_lazy())
}

pub(super) fn token_of(cfg: &ParticipantConfig) -> Result<Option<Token>> {
    let setup = |message: String| ClientError::Setup {
        participant: cfg.name.clone(),
        message,
    };
    let raw = match (&cfg.token_file, &cfg.token_env) {
        (Some(file), _) => {
            Some(std::fs::read_to_string(file).map_err(|e| setup(format!("token file {}: {e}", file.display())))?)
        }
        (None, Some(var)) => {
            Some(std::env::var(var).map_err(|_| setup(format!("environment variable {var} (token_env) is not set")))?)
        }
        (None, None) => None,
    };
    // Error messages never quote the token; the header value is marked sensitive so that
    // no Debug output of a request (tonic, hyper, h2) shows it either.
    raw.map(|t| {
        let mut value: MetadataValue<Ascii> = format!("Bearer {}", t.trim())
            .parse()
            .map_err(|_| setup("the bearer token contains characters not allowed in a header".into()))?;
        value.set_sensitive(true);
        Ok(Token {
            header: value,
            expiry: super::jwt::expiry(&t),
        })
    })
    .transpose()
}
