//! Lab nodes survive their peers going away: a synchronizer keeps serving after a
//! subscriber's connection is torn down while events are still being pushed to it.

mod common;

use futures::StreamExt;
use recovery_deck::lab::node::NodeKind;
use recovery_deck::lab::supervisor::{Lab, Layout, NodeSpec};
use recovery_deck::wire::lab::{HandshakeRequest, SubscribeRequest, sequencer_client::SequencerClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synchronizer_outlives_subscribers_that_vanish() {
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = Layout {
        scenario: "nodes".into(),
        canton: Default::default(),
        enable_all_reassignments: false,
        nodes: vec![NodeSpec {
            name: "sync".into(),
            kind: NodeKind::Synchronizer,
            parties: Vec::new(),
            port: 0,
            ledger_port: 0,
            lost: false,
            unvetted_on: Vec::new(),
        }],
    };
    let mut lab = Lab::create(dir.path(), layout, common::launcher()).expect("lab");
    lab.start("sync").expect("start");
    let url = lab.endpoint("sync").expect("endpoint");
    // One member, then many more: each newcomer's topology event (the full party list,
    // so growing) is addressed to the first member too, which thus has megabytes queued.
    let mut client = SequencerClient::connect(url.clone()).await.expect("connect");
    let first = |member: &str| SubscribeRequest {
        member: member.into(),
        parties: vec![format!("{member}-party::1220{}", "ab".repeat(32))],
        after_seq: 0,
    };
    drop(client.subscribe(first("heavy")).await.expect("subscribe"));
    for i in 0..300 {
        drop(
            client
                .subscribe(first(&format!("member-{i}")))
                .await
                .expect("subscribe"),
        );
    }
    drop(client);
    for _ in 0..5 {
        // Read a little of the backlog, then vanish with the connection while the
        // synchronizer is still writing the rest to it.
        let mut client = SequencerClient::connect(url.clone()).await.expect("connect");
        let mut stream = client.subscribe(first("heavy")).await.expect("subscribe").into_inner();
        let _ = stream.next().await;
        drop(stream);
        drop(client);
    }
    // Each new member was announced to all earlier ones, whose connections are gone.
    let mut client = SequencerClient::connect(url)
        .await
        .expect("the synchronizer still accepts connections");
    client
        .handshake(HandshakeRequest { member: "probe".into() })
        .await
        .expect("and still answers");
    assert!(lab.info("sync").is_some(), "the process is alive");
    lab.down().expect("down");
}
