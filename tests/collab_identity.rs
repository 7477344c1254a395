//! Who may talk to a session coordinator: TLS is required off loopback, operators are
//! recognised by client certificate (mTLS) and/or bearer token, and every credential an
//! operator's entry names must be presented.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_recovery-deck");
const DOMAIN: &str = "coordinator.lab.test";

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Writes `name.pem` and `name.key` for a certificate signed by `ca`; returns the sha256
/// of its DER.
fn issue(dir: &Path, ca: &Issuer<'_, KeyPair>, name: &str, client: bool) -> String {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec![name.to_string()]).expect("params");
    if client {
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    }
    let cert = params.signed_by(&key, ca).expect("cert");
    std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).expect("write");
    std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).expect("write");
    hex::encode(Sha256::digest(cert.der()))
}

fn ca(dir: &Path, file: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("ca key")).expect("ca");
    std::fs::write(dir.join(file), ca.pem()).expect("write");
    ca
}

fn serve(dir: &Path, args: &[&str]) -> Child {
    Command::new(BIN)
        .args(["serve", "--session"])
        .arg(dir.join("session.jsonl"))
        .arg("--operators")
        .arg(dir.join("operators.toml"))
        .args(args)
        .args(["--format", "json"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve")
}

fn listening(child: &mut Child) -> String {
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = std::io::BufReader::new(out).read_line(&mut line);
    }
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("serve printed {line:?}: {e}"));
    v["listening"].as_str().expect("listening").to_string()
}

fn status(dir: &Path, url: &str, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["session", "status", "--join", url, "--format", "json"])
        .args(extra)
        .current_dir(dir)
        .output()
        .expect("status")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn mtls_identifies_operators_and_tls_is_required_off_loopback() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir: PathBuf = tmp.path().to_path_buf();
    let server_ca = ca(&dir, "server-ca.pem");
    issue(&dir, &server_ca, DOMAIN, false);
    let clients = ca(&dir, "clients-ca.pem");
    let carol = issue(&dir, &clients, "carol", true);
    let alice = issue(&dir, &clients, "alice", true);
    issue(&dir, &clients, "mallory", true);
    std::fs::write(dir.join("alice.token"), "alice-secret-0123456789").expect("token");
    std::fs::write(
        dir.join("operators.toml"),
        format!(
            r#"incident = "drill"
lost = "lostDomain"
target = "newDomain"

[[operators]]
name = "carol"
role = "lead"
cert_sha256 = "{carol}"

[[operators]]
name = "alice"
role = "node_operator"
participant = "participant1"
token_file = "alice.token"
cert_sha256 = "{alice}"
"#
        ),
    )
    .expect("access");
    let server_cert = format!("{DOMAIN}.pem");
    let server_key = format!("{DOMAIN}.key");

    // Off loopback without TLS: refused with the way out in the message.
    let out = serve(&dir, &["--listen", "0.0.0.0:0"])
        .wait_with_output()
        .expect("serve");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not loopback") && stderr(&out).contains("--tls-cert"),
        "{}",
        stderr(&out)
    );
    // Operators known by certificate need the CA that signs client certificates.
    let out = serve(
        &dir,
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            &server_cert,
            "--tls-key",
            &server_key,
        ],
    )
    .wait_with_output()
    .expect("serve");
    assert!(stderr(&out).contains("--client-ca"), "{}", stderr(&out));

    let mut child = serve(
        &dir,
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            &server_cert,
            "--tls-key",
            &server_key,
            "--client-ca",
            "clients-ca.pem",
        ],
    );
    let port = listening(&mut child).rsplit(':').next().expect("port").to_string();
    let _server = Proc(child);
    let url = format!("https://127.0.0.1:{port}");
    let tls = ["--ca", "server-ca.pem", "--tls-domain", DOMAIN];
    let with = |who: &str, extra: &[&str]| {
        let mut args: Vec<&str> = tls.to_vec();
        let (cert, key) = (format!("{who}.pem"), format!("{who}.key"));
        args.extend(["--cert", &cert, "--key", &key]);
        args.extend(extra);
        status(&dir, &url, &args)
    };

    let out = with("carol", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["you"]["operator"], "carol", "the certificate says who it is");
    assert_eq!(v["you"]["role"], "lead");

    let out = with("mallory", &[]);
    assert!(stderr(&out).contains("certificate is not known"), "{}", stderr(&out));
    let out = with("alice", &[]);
    assert!(
        stderr(&out).contains("must also send their bearer token"),
        "{}",
        stderr(&out)
    );
    let out = with("alice", &["--token-file", "alice.token", "--operator", "alice"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = with("carol", &["--token-file", "alice.token"]);
    assert!(stderr(&out).contains("different operators"), "{}", stderr(&out));

    // No client certificate: the TLS handshake itself fails.
    let out = status(&dir, &url, &tls);
    assert!(!out.status.success());
    // Plain text to the TLS port gets nowhere.
    let out = status(
        &dir,
        &format!("http://127.0.0.1:{port}"),
        &["--token-file", "alice.token"],
    );
    assert!(!out.status.success());
}
