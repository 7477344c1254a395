//! Per-participant TLS with a custom CA and bearer tokens, as real Canton deployments
//! use them: a lab participant serving TLS and requiring a token, reached by the client
//! built from an incident config.

mod common;

use futures::StreamExt;
use recovery_deck::client::{ClientError, GrpcParticipant, ImportMode, ParticipantApi};
use recovery_deck::config::ParticipantConfig;
use recovery_deck::lab::node;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_participant(dir: &Path, cert: &Path, key: &Path, token_file: &Path) -> (Kill, node::NodeInfo) {
    let child = Command::new(env!("CARGO_BIN_EXE_recovery-deck"))
        .args([
            "lab",
            "node",
            "participant",
            "--name",
            "secure",
            "--party",
            "Alice",
            "--dir",
        ])
        .arg(dir.join("secure"))
        .arg("--tls-cert")
        .arg(cert)
        .arg("--tls-key")
        .arg(key)
        .arg("--token-file")
        .arg(token_file)
        .arg("--exit-with-parent")
        .arg(std::process::id().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let guard = Kill(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(info) = node::read_info(&dir.join("secure")) {
            assert!(info.tls);
            return (guard, info);
        }
        assert!(Instant::now() < deadline, "participant did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn config(info: &node::NodeInfo, ca: Option<&Path>, token_file: Option<&Path>) -> ParticipantConfig {
    ParticipantConfig {
        name: "secure".into(),
        admin: format!("https://127.0.0.1:{}", info.port),
        ledger: format!("https://127.0.0.1:{}", info.ledger_port.expect("ledger port")),
        tls_ca: ca.map(Path::to_path_buf),
        tls_domain: Some("participant.lab.test".into()),
        token_file: token_file.map(Path::to_path_buf),
        token_env: None,
        operator: None,
        timeout_secs: Some(5),
        repair_timeout_secs: None,
        stream_idle_secs: None,
        enable_all_ledger_api_reassignments: false,
    }
}

fn unauthenticated(e: &ClientError) -> bool {
    e.grpc_code() == Some(tonic::Code::Unauthenticated)
}

/// For each shape of call the client makes — unary, unary on raw bytes, server streaming
/// on either API, client streaming — whether the participant refused it as
/// unauthenticated.
async fn refused_as_unauthenticated(api: &GrpcParticipant) -> Vec<(&'static str, bool)> {
    let stream_refused =
        |first: Option<Result<(), ClientError>>| first.is_some_and(|r| r.is_err_and(|e| unauthenticated(&e)));
    let mut out = vec![
        (
            "ParticipantStatus",
            api.status().await.is_err_and(|e| unauthenticated(&e)),
        ),
        (
            "ListRegisteredSynchronizers (raw)",
            api.registered_configs().await.is_err_and(|e| unauthenticated(&e)),
        ),
        (
            "GetLedgerEnd",
            api.ledger_end().await.is_err_and(|e| unauthenticated(&e)),
        ),
    ];
    let export = match api.export_acs(None, 1).await {
        Ok(mut s) => stream_refused(s.next().await.map(|r| r.map(|_| ()))),
        Err(e) => unauthenticated(&e),
    };
    out.push(("ExportAcs", export));
    let active = match api.active_contracts(1, false).await {
        Ok(mut s) => stream_refused(s.next().await.map(|r| r.map(|_| ()))),
        Err(e) => unauthenticated(&e),
    };
    out.push(("GetActiveContracts", active));
    let import = api
        .import_acs("nowhere::1220", ImportMode::Accept, futures::stream::empty().boxed())
        .await;
    out.push(("ImportAcs", import.is_err_and(|e| unauthenticated(&e))));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_custom_ca_and_a_bearer_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, cert, key) = common::ca_and_server(dir.path());
    let token = dir.path().join("p.token");
    std::fs::write(&token, "s3cret-token\n").expect("token");
    let (_node, info) = start_participant(dir.path(), &cert, &key, &token);

    let good = GrpcParticipant::from_config(&config(&info, Some(&ca), Some(&token))).expect("client");
    let status = good.status().await.expect("status over TLS with token");
    assert!(status.uid.starts_with("secure::"));
    let parties = good.known_parties().await.expect("ledger API over TLS");
    assert_eq!(parties.len(), 2, "the admin party and one user party: {parties:?}");

    let no_token = GrpcParticipant::from_config(&config(&info, Some(&ca), None)).expect("client");
    match no_token.status().await {
        Err(e @ ClientError::Canton { .. }) => {
            // Canton redacts this category: no code, no cause, only a correlation id.
            assert!(e.is_redacted(), "{e}");
            assert_eq!(
                e.category(),
                Some(recovery_deck::canton_error::Category::AuthInterceptorInvalidAuthenticationCredentials)
            );
            assert_eq!(e.grpc_code(), Some(tonic::Code::Unauthenticated));
        }
        other => panic!("expected UNAUTHENTICATED, got {other:?}"),
    }
    // Every shape of call carries the token: the participant refuses each one without it,
    // and none with it.
    for (rpc, refused) in refused_as_unauthenticated(&no_token).await {
        assert!(refused, "{rpc} without a token was not refused as unauthenticated");
    }
    for (rpc, refused) in refused_as_unauthenticated(&good).await {
        assert!(!refused, "{rpc} was sent without the token");
    }

    let other_dir = tempfile::tempdir().expect("tempdir");
    let (other_ca, _, _) = common::ca_and_server(other_dir.path());
    let wrong_ca = GrpcParticipant::from_config(&config(&info, Some(&other_ca), Some(&token))).expect("client");
    let err = wrong_ca
        .status()
        .await
        .expect_err("a certificate from another CA is refused");
    assert_eq!(err.canton_code(), None, "{err}");

    let missing = config(&info, Some(&dir.path().join("nope.pem")), Some(&token));
    let err = GrpcParticipant::from_config(&missing).err().expect("missing CA file");
    assert!(err.to_string().contains("nope.pem"), "{err}");
}

#[tokio::test]
async fn a_token_from_the_environment_is_sent() {
    let cfg = ParticipantConfig {
        name: "p".into(),
        admin: "http://127.0.0.1:1".into(),
        ledger: "http://127.0.0.1:1".into(),
        tls_ca: None,
        tls_domain: None,
        token_file: None,
        token_env: Some("RECOVERY_DECK_TEST_TOKEN_UNSET".into()),
        operator: None,
        timeout_secs: None,
        repair_timeout_secs: None,
        stream_idle_secs: None,
        enable_all_ledger_api_reassignments: false,
    };
    let err = GrpcParticipant::from_config(&cfg).err().expect("unset variable");
    assert!(err.to_string().contains("RECOVERY_DECK_TEST_TOKEN_UNSET"), "{err}");
}

/// An incident config for the `secure` participant of `info`, trusting `ca` and sending
/// the token in `token_file`; returns its path.
fn incident_toml(dir: &Path, name: &str, info: &node::NodeInfo, ca: &Path, token_file: &Path) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "[incident]\nname = \"tls\"\nlost = \"lostDomain\"\ntarget = \"newDomain\"\n\n\
             [[participants]]\nname = \"secure\"\nadmin = \"https://127.0.0.1:{}\"\n\
             ledger = \"https://127.0.0.1:{}\"\ntls_ca = {:?}\ntls_domain = \"participant.lab.test\"\n\
             token_file = {:?}\ntimeout_secs = 5\n",
            info.port,
            info.ledger_port.expect("ledger port"),
            ca.display().to_string(),
            token_file.display().to_string(),
        ),
    )
    .expect("write config");
    path.display().to_string()
}

/// The binary's one `error:` line for `args`, which must fail without a panic.
fn refused_line(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_recovery-deck"))
        .args(args)
        .output()
        .expect("run the binary");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{args:?} must fail: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr.trim().to_string()
}

/// Through the binary: a participant whose certificate another CA signed, a token that is
/// not the participant's, and a JWT that expired while the operator worked (the
/// participant refuses it as Canton does, as it refuses a wrong one; the client says it
/// expired) are each refused in one line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ca_a_wrong_token_and_an_expired_token_are_refused_by_the_binary_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, cert, key) = common::ca_and_server(dir.path());
    let expires = jiff::Timestamp::now().as_second() + 3;
    let token = dir.path().join("p.token");
    let jwt = recovery_deck::client::jwt::unsigned(&serde_json::json!({"sub": "operator", "exp": expires}));
    std::fs::write(&token, format!("{jwt}\n")).expect("token");
    let (_node, info) = start_participant(dir.path(), &cert, &key, &token);
    let good = incident_toml(dir.path(), "good.toml", &info, &ca, &token);

    let other_dir = tempfile::tempdir().expect("tempdir");
    let (other_ca, _, _) = common::ca_and_server(other_dir.path());
    let wrong = incident_toml(dir.path(), "wrong-ca.toml", &info, &other_ca, &token);
    let line = refused_line(&["compare", "--config", &wrong]);
    // rustls names the cause by what it found (BadSignature: both test CAs have the same
    // empty name, so the certificate names the other CA as its issuer).
    for part in [
        "secure: ParticipantStatus failed (Unavailable)",
        "invalid peer certificate",
    ] {
        assert!(line.contains(part), "a wrong CA should say {part:?}: {line}");
    }
    eprintln!("wrong CA: {line}");

    // Another token: Canton's redacted UNAUTHENTICATED, with nothing said of expiry.
    let other_token = dir.path().join("other.token");
    std::fs::write(&other_token, "not-the-token\n").expect("token");
    let wrong_token = incident_toml(dir.path(), "wrong-token.toml", &info, &ca, &other_token);
    let line = refused_line(&["compare", "--config", &wrong_token]);
    assert!(
        line.contains("secure: ParticipantStatus failed: unauthenticated: the token is missing, invalid or expired"),
        "{line}"
    );
    assert!(
        !line.contains("expired at") && !line.contains("not-the-token"),
        "{line}"
    );
    eprintln!("wrong token: {line}");

    // While the token is valid the participant answers; once it expired, it refuses.
    let status = Command::new(env!("CARGO_BIN_EXE_recovery-deck"))
        .args(["status", "--config", &good])
        .output()
        .expect("status");
    assert!(
        status.status.success(),
        "the token is valid for a few seconds: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    while jiff::Timestamp::now().as_second() <= expires {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line = refused_line(&["compare", "--config", &good]);
    for part in [
        "secure: ParticipantStatus failed",
        "the bearer token expired at",
        "ago): get a new one",
    ] {
        assert!(line.contains(part), "an expired token should say {part:?}: {line}");
    }
    assert!(!line.contains(&jwt), "the token is never quoted: {line}");
    eprintln!("expired token: {line}");
}
