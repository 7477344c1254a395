use super::*;
use crate::journal::Header;
use crate::tui::app::Context;
use crate::tui::keymap::Keymap;

/// A core over no participants, journaling into a temporary file.
fn core(dir: &tempfile::TempDir) -> Core {
    let ctx = Context {
        incident: "test".into(),
        lost: "lost".into(),
        target: "target".into(),
        operator: "op".into(),
        participants: Vec::new(),
        read_only: false,
        theme: "dark".into(),
    };
    let path = dir.path().join("test.journal.jsonl");
    let journal = JournalWriter::create(&path, &Header::new("test", "op", Vec::new())).expect("journal");
    let services = Services {
        apis: Vec::new(),
        incident: "test".into(),
        lost: "lost".into(),
        target: "target".into(),
        operator: "op".into(),
        endpoints: BTreeMap::new(),
        journal: Arc::new(Mutex::new(journal)),
        batch_size: 500,
        session: None,
    };
    Core::new(App::new(ctx, Keymap::defaults()), services)
}

#[tokio::test]
async fn answers_settle_their_tickets_and_progress_does_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut core = core(&dir);
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    core.spawn("slow".into(), |reply| async move {
        reply.progress().send(Msg::Tick);
        let _ = go_rx.await;
        reply.answer(Msg::Tick);
    });
    assert!(core.next().await, "the progress message arrives");
    assert_eq!(core.outstanding(), ["slow (ticket 1)"], "progress settles nothing");
    assert!(!core.idle());
    let _ = go_tx.send(());
    core.settle().await.expect("answered");
    assert!(core.idle());
}

#[tokio::test]
async fn a_forgotten_answer_fails_settle_naming_the_effect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut core = core(&dir);
    core.spawn("forgetful".into(), |reply| async move { drop(reply) });
    let err = core.settle().await.expect_err("an unanswered effect is an error");
    assert!(matches!(err, Unsettled::Unanswered(_)), "{err}");
    assert!(err.to_string().contains("forgetful (ticket 1)"), "{err}");
    assert!(core.idle(), "its ticket is gone, so nothing waits for it any more");
    core.settle().await.expect("reported once");
}

#[tokio::test]
async fn an_effect_that_never_answers_fails_settle_within_its_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut core = core(&dir);
    core.spawn("stuck".into(), |reply| async move {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        reply.answer(Msg::Tick);
    });
    let err = core
        .settle_within(Duration::from_millis(50))
        .await
        .expect_err("silence is an error");
    assert!(matches!(err, Unsettled::Silent { .. }), "{err}");
    assert!(err.to_string().contains("stuck (ticket 1)"), "{err}");
}

#[tokio::test]
async fn a_plan_asked_for_without_a_comparison_is_answered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut core = core(&dir);
    core.dispatch(Effect::BuildPlan {
        generation: 0,
        request: crate::reconcile::SelectionRequest::default(),
    });
    core.settle().await.expect("answered at once, not left outstanding");
}
