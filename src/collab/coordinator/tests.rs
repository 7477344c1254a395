use super::*;
use crate::collab::client::{Connect, SessionClient};
use crate::collab::event::Role;
use crate::collab::manifest::{EntryState, InspectedEntry};
use crate::wire::collab::watch_response::Item;
use sha2::{Digest as _, Sha256};
use std::path::Path;

const ALICE: &str = "alice-secret-0123456789";

fn access() -> Arc<Access> {
    let hash = |t: &str| hex::encode(Sha256::digest(t.as_bytes()));
    let text = format!(
        "incident = \"drill\"\nlost = \"lost\"\ntarget = \"new\"\n\
         [[operators]]\nname = \"carol\"\nrole = \"lead\"\ntoken_sha256 = \"{}\"\n\
         [[operators]]\nname = \"alice\"\nrole = \"node_operator\"\nparticipant = \"p1\"\ntoken_sha256 = \"{}\"\n",
        hash("carol-secret-0123456789"),
        hash(ALICE)
    );
    let file = toml::from_str(&text).expect("access toml");
    Arc::new(Access::from_file(file, Path::new(".")).expect("access"))
}

fn alice() -> Caller {
    Caller {
        operator: "alice".into(),
        role: Role::NodeOperator,
        participant: Some("p1".into()),
    }
}

fn answer(id: &str) -> Command {
    Command::PublishInspection {
        participant: "p1".into(),
        contracts: vec![InspectedEntry {
            contract_id: id.into(),
            state: EntryState::Unknown,
        }],
    }
}

#[test]
fn a_request_id_is_answered_once_even_across_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let options = CoordinatorOptions::new(dir.path().join("s.jsonl"));
    let c = Coordinator::open(access(), options.clone()).expect("open");
    let first = c.command(&alice(), "r1", answer("c1")).expect("first");
    assert!(!first.duplicate);
    let again = c.command(&alice(), "r1", answer("c2")).expect("again");
    assert_eq!((again.seq, again.duplicate), (first.seq, true), "same id, same answer");
    assert!(c.command(&alice(), "", answer("c3")).is_err(), "an id is required");
    drop(c);
    let c = Coordinator::open(access(), options).expect("reopen");
    let after = c.command(&alice(), "r1", answer("c4")).expect("after restart");
    assert_eq!((after.seq, after.duplicate), (first.seq, true));
    let next = c.command(&alice(), "r2", answer("c5")).expect("new id");
    let j = journal::read(&dir.path().join("s.jsonl")).expect("the chain continues");
    let kinds: Vec<&str> = j.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            "session.opened",
            "session.inspected",
            "session.restarted",
            "session.inspected"
        ]
    );
    assert_eq!(next.seq, 4);
    assert_eq!(c.state().answers["p1"].len(), 2, "c1 and c5, nothing of the repeats");
}

#[test]
fn presence_ends_without_heartbeats_and_after_a_restart_without_a_return() {
    let dir = tempfile::tempdir().expect("dir");
    let mut options = CoordinatorOptions::new(dir.path().join("s.jsonl"));
    options.presence_timeout = Duration::from_millis(600);
    let c = Coordinator::open(access(), options.clone()).expect("open");
    c.connect(&alice(), true).expect("join");
    assert!(c.state().present_for("p1"));
    let twin = c.connect(&alice(), true).expect_err("one deck per participant");
    assert_eq!(twin.code(), tonic::Code::FailedPrecondition);
    c.heartbeat(&alice());
    c.sweep();
    assert!(c.state().present_for("p1"), "the heartbeat keeps alice in");
    std::thread::sleep(Duration::from_millis(700));
    c.sweep();
    assert!(!c.state().present_for("p1"), "no heartbeat: alice left");
    c.heartbeat(&alice());
    assert!(c.state().present_for("p1"), "heartbeats again on her open stream: back");
    drop(c);

    // Restarted while alice was present: she has one timeout to come back.
    let c = Coordinator::open(access(), options).expect("reopen");
    assert!(c.state().present_for("p1"));
    std::thread::sleep(Duration::from_millis(700));
    c.sweep();
    assert!(!c.state().present_for("p1"));
    let j = journal::read(&dir.path().join("s.jsonl")).expect("log");
    let reasons: Vec<String> = j
        .of_kind("session.left")
        .map(|e| e.data["reason"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].contains("no heartbeat"), "{reasons:?}");
    assert!(reasons[1].contains("coordinator's restart"), "{reasons:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_that_falls_behind_re_reads_the_log_and_misses_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let mut options = CoordinatorOptions::new(dir.path().join("s.jsonl"));
    options.live_capacity = 2;
    let c = Coordinator::open(access(), options).expect("open");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tonic::transport::Server::builder()
        .add_service(c.service())
        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener));
    let server = tokio::spawn(server);
    let mut connect = Connect::new(&format!("http://{addr}"));
    connect.token = Some(ALICE.into());
    let client = SessionClient::connect(&connect).expect("client");
    let hello = client.hello(Some("p1")).await.expect("hello");
    assert_eq!(hello.operator, "alice");
    assert!(client.hello(Some("p2")).await.is_err(), "alice does not act for p2");
    let mut stream = client
        .open_watch(pb::WatchRequest {
            from_seq: 1,
            follow: true,
            participant: String::new(),
            presence: false,
        })
        .await
        .expect("watch");
    // Far more events than the live buffer and the stream's queue hold, unread.
    let total = 2 * REPLAY_BATCH as u64 + 40;
    for i in 0..total {
        c.command(&alice(), &format!("r{i}"), answer(&format!("c{i}")))
            .expect("append");
    }
    let mut chain = crate::collab::feed::Chain::new(&hello.header);
    while chain.next_seq() <= total + 1 {
        match stream.message().await.expect("stream").and_then(|m| m.item) {
            Some(Item::Event(e)) => {
                chain.accept(&e).expect("in order, no gap");
            }
            Some(Item::Tick(_)) | None => {}
        }
    }
    assert_eq!(chain.next_seq(), total + 2);
    server.abort();
}

#[test]
fn only_loopback_may_listen_without_tls() {
    let lo: SocketAddr = "127.0.0.1:7000".parse().expect("addr");
    let lo6: SocketAddr = "[::1]:7000".parse().expect("addr");
    let any: SocketAddr = "0.0.0.0:7000".parse().expect("addr");
    assert!(check_listen(&lo, false).is_ok());
    assert!(check_listen(&lo6, false).is_ok());
    let e = check_listen(&any, false).expect_err("refused");
    assert!(e.contains("not loopback") && e.contains("--tls-cert"), "{e}");
    assert!(check_listen(&any, true).is_ok());
}
