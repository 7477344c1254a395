//! `serve`: the multi-operator coordinator. It orders and persists the session's log and
//! relays between decks; it holds no participant credential.

use super::{Fail, Outcome, is_json};
use crate::cli::{Format, ServeArgs};
use crate::collab::access::Access;
use crate::collab::coordinator::{self, Coordinator, CoordinatorOptions};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

fn read(path: &std::path::Path, what: &str) -> Result<Vec<u8>, Fail> {
    std::fs::read(path).map_err(|e| Fail(format!("{what} {}: {e}", path.display())))
}

async fn stopped() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending::<()>().await,
    }
}

pub async fn run(args: &ServeArgs, format: Format) -> Outcome {
    let access = Arc::new(Access::load(&args.operators)?);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(&args.listen)
        .await
        .map_err(|e| Fail(format!("--listen {}: {e}", args.listen)))?
        .collect();
    let addr = *addrs
        .first()
        .ok_or_else(|| Fail(format!("--listen {} resolves to no address", args.listen)))?;
    let tls = args.tls_cert.is_some();
    for a in &addrs {
        coordinator::check_listen(a, tls).map_err(Fail)?;
    }
    if access.uses_client_certs() && args.client_ca.is_none() {
        return Err(Fail(
            "the access file identifies operators by client certificate (cert_sha256): pass --client-ca with the CA that signs them".into(),
        ));
    }
    let mut options = CoordinatorOptions::new(args.session.clone());
    options.presence_timeout = Duration::from_secs(args.presence_timeout.max(1));
    let coordinator = Coordinator::open(access.clone(), options)?;
    let mut server = Server::builder();
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let mut config = ServerTlsConfig::new().identity(Identity::from_pem(
            read(cert, "TLS certificate")?,
            read(key, "TLS key")?,
        ));
        if let Some(ca) = &args.client_ca {
            config = config.client_ca_root(Certificate::from_pem(read(ca, "client CA")?));
        }
        server = server.tls_config(config).map_err(|e| {
            Fail(format!(
                "TLS with --tls-cert {} and --tls-key {}: {}",
                cert.display(),
                key.display(),
                crate::error_chain::chain(&e)
            ))
        })?;
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Fail(format!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr()?;
    let roster = access.roster();
    if is_json(format) {
        outln!(
            "{}",
            serde_json::json!({
                "listening": local.to_string(),
                "session": args.session,
                "incident": roster.incident,
                "participants": roster.participants(),
                "tls": tls,
                "client_certificates": args.client_ca.is_some(),
            })
        );
    } else {
        outln!(
            "coordinator for incident {} listening on {local}{}; session log {}",
            roster.incident,
            if tls { " (TLS)" } else { "" },
            args.session.display()
        );
    }
    let sweeper = coordinator.spawn_sweeper();
    let served = server
        .add_service(coordinator.service())
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), stopped())
        .await;
    sweeper.abort();
    served.map_err(|e| Fail(format!("the coordinator stopped: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
