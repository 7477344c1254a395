//! The lab's admin API takes requests up to Canton's default inbound limit (10 MiB) and
//! refuses larger ones before the service sees them, as Canton does; the batches
//! recovery-deck sends stay far below it whatever the ids' lengths.

mod common;

use common::TestLab;
use recovery_deck::batch::{CANTON_MAX_INBOUND_MESSAGE, REQUEST_BYTES, fits_one_request, id_batches};
use recovery_deck::client::ParticipantApi;
use recovery_deck::lab::scenario::{LOST, Scenario, TARGET};

/// `n` ids of `len` characters each, all different.
fn ids(n: usize, len: usize) -> Vec<String> {
    (0..n).map(|i| format!("{i:08x}{}", "a".repeat(len - 8))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_canton_s_limit_are_refused_and_batches_stay_under_it() {
    let lab = TestLab::up(Scenario::Seed).await;
    let p1 = lab.client("participant1");
    p1.disconnect_all().await.expect("disconnect");

    // 38 ids of 300 KiB, 11.1 MiB in one call: refused for its size.
    let over = ids(38, 300 * 1024);
    let err = p1
        .change_assignation(LOST, TARGET, &over, true)
        .await
        .expect_err("over the limit");
    assert!(err.to_string().contains("message length too large"), "{err}");

    // 30 of them, 8.8 MiB, reach the service, which answers on the repair itself.
    let under = ids(30, 300 * 1024);
    let err = p1
        .change_assignation(LOST, TARGET, &under, true)
        .await
        .expect_err("the target was never connected");
    assert!(!err.to_string().contains("message length too large"), "{err}");
    assert!(under.iter().map(|i| i.len()).sum::<usize>() < CANTON_MAX_INBOUND_MESSAGE);

    // The same ids as recovery-deck sends them: batches of at most 1 MiB, three ids each.
    let batches: Vec<&[String]> = id_batches(&over, 500).collect();
    assert_eq!(batches.len(), 13);
    for batch in batches {
        assert!(fits_one_request(batch, 500));
        assert!(batch.len() == 1 || batch.iter().map(|i| i.len() + 4).sum::<usize>() <= REQUEST_BYTES);
        let err = p1
            .change_assignation(LOST, TARGET, batch, true)
            .await
            .expect_err("the target was never connected");
        assert!(!err.to_string().contains("message length too large"), "{err}");
    }
}
