//! A participant killed with SIGKILL in the middle of ChangeAssignation batches loses
//! nothing it acknowledged, and every contract is on exactly one synchronizer after the
//! restart; running the remaining batches again finishes the move.

mod common;

use common::{holdings, launcher};
use recovery_deck::client::{ParticipantApi, Submission, SynchronizerConfig, set_manual_connect};
use recovery_deck::lab::ids;
use recovery_deck::lab::node::NodeKind;
use recovery_deck::lab::scenario;
use recovery_deck::lab::supervisor::{Lab, Layout, NodeSpec};
use recovery_deck::lab::templates;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CONTRACTS: usize = 3_000;
const BATCH: usize = 100;

fn node(name: &str, kind: NodeKind, parties: &[&str]) -> NodeSpec {
    NodeSpec {
        name: name.into(),
        kind,
        parties: parties.iter().map(|p| p.to_string()).collect(),
        port: 0,
        ledger_port: 0,
        lost: false,
    }
}

struct Down(Lab);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = self.0.down();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_change_assignation_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = Layout {
        scenario: "crash".into(),
        canton: Default::default(),
        enable_all_reassignments: false,
        nodes: vec![
            node("alpha", NodeKind::Synchronizer, &[]),
            node("beta", NodeKind::Synchronizer, &[]),
            node("p1", NodeKind::Participant, &["Alice", "Bob"]),
        ],
    };
    let mut lab = Lab::create(dir.path(), layout, launcher()).expect("lab");
    for n in ["alpha", "beta", "p1"] {
        lab.start(n).expect("start");
    }
    let lab = Arc::new(Mutex::new(Down(lab)));
    let (alpha_url, beta_url) = {
        let l = lab.lock().expect("lock");
        (
            l.0.endpoint("alpha").expect("alpha"),
            l.0.endpoint("beta").expect("beta"),
        )
    };
    let p1 = scenario::client(&lab.lock().expect("lock").0, "p1").expect("client");
    assert!(
        p1.connect(SynchronizerConfig::new("alpha", &alpha_url, false))
            .await
            .expect("connect alpha")
    );
    let (alice, bob) = (ids::party_id("Alice", "p1"), ids::party_id("Bob", "p1"));
    for chunk in 0..CONTRACTS / 200 {
        let commands = (0..200)
            .map(|i| templates::create_iou_command(&alice, &bob, &format!("{}", chunk * 200 + i), "EUR"))
            .collect();
        p1.submit_and_wait(Submission {
            act_as: vec![alice.clone()],
            synchronizer_id: None,
            commands,
        })
        .await
        .expect("bulk create");
    }
    assert!(
        p1.connect(SynchronizerConfig::new("beta", &beta_url, true))
            .await
            .expect("connect beta once")
    );
    // Canton's procedure: a transaction on the new synchronizer before the repairs.
    let admin = p1.admin_party().await.expect("admin party");
    let pinged = p1
        .ping(
            &[admin],
            &ids::synchronizer_id("beta"),
            std::time::Duration::from_secs(10),
        )
        .await
        .expect("ping");
    assert!(
        matches!(pinged, recovery_deck::client::PingOutcome::Success { .. }),
        "{pinged:?}"
    );
    p1.disconnect_all().await.expect("disconnect");
    // manual_connect on both, so that the restart below cannot reconnect mid-repair.
    set_manual_connect(&p1, "alpha", true).await.expect("manual alpha");
    let (alpha, beta) = (ids::synchronizer_id("alpha"), ids::synchronizer_id("beta"));
    let all: Vec<String> = holdings(&p1)
        .await
        .expect("export")
        .remove(&alpha)
        .expect("on alpha")
        .into_iter()
        .collect();
    assert_eq!(all.len(), CONTRACTS);
    let batches: Vec<Vec<String>> = all.chunks(BATCH).map(<[String]>::to_vec).collect();

    // Move batch after batch while the participant is killed at an arbitrary moment.
    let acknowledged = Arc::new(Mutex::new(Vec::<usize>::new()));
    let mover = {
        let acknowledged = acknowledged.clone();
        let batches = batches.clone();
        let p1 = scenario::client(&lab.lock().expect("lock").0, "p1").expect("client");
        tokio::spawn(async move {
            for (i, b) in batches.iter().enumerate() {
                if p1.change_assignation("alpha", "beta", b, true).await.is_err() {
                    return;
                }
                acknowledged.lock().expect("lock").push(i);
            }
        })
    };
    let delay = 20 + (std::process::id() as u64 * 7919) % 150;
    tokio::time::sleep(Duration::from_millis(delay)).await;
    lab.lock().expect("lock").0.kill("p1").expect("kill -9");
    mover.await.expect("mover");
    let acked: Vec<usize> = acknowledged.lock().expect("lock").clone();
    assert!(
        acked.len() < batches.len(),
        "the kill must land before the last batch (after {delay} ms)"
    );

    lab.lock().expect("lock").0.start("p1").expect("restart");
    let p1 = scenario::client(&lab.lock().expect("lock").0, "p1").expect("client");
    let after = holdings(&p1).await.expect("export after restart");
    let on_alpha = after.get(&alpha).cloned().unwrap_or_default();
    let on_beta = after.get(&beta).cloned().unwrap_or_default();
    assert!(
        on_alpha.is_disjoint(&on_beta),
        "no contract is active on both synchronizers"
    );
    let union: BTreeSet<String> = on_alpha.union(&on_beta).cloned().collect();
    assert_eq!(union, all.iter().cloned().collect::<BTreeSet<_>>(), "no contract lost");
    for i in &acked {
        assert!(
            batches[*i].iter().all(|id| on_beta.contains(id)),
            "acknowledged batch {i} is durable"
        );
    }
    assert_eq!(on_beta.len() % BATCH, 0, "batches apply atomically");

    // Running every batch again (skip_inactive) finishes the move without touching the done ones.
    assert!(
        p1.list_connected().await.expect("connected").is_empty(),
        "manual_connect kept the restart offline"
    );
    for b in &batches {
        p1.change_assignation("alpha", "beta", b, true).await.expect("re-run");
    }
    let done = holdings(&p1).await.expect("export");
    assert!(done.get(&alpha).is_none_or(BTreeSet::is_empty));
    assert_eq!(done.get(&beta).map(BTreeSet::len), Some(CONTRACTS));
}
