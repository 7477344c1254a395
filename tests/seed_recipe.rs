//! The lost-synchronizer recipe of Canton's SynchronizerRepairIntegrationTest, run over
//! gRPC against lab nodes: disconnect, stop auto-reconnect, initialise the new
//! synchronizer's topology, export, change assignation, reconnect, transact again.

mod common;

use common::{TestLab, code_of, ids_on};
use futures::StreamExt;
use recovery_deck::client::{
    Contract, ContractStream, DamlValue, ImportMode, ParticipantApi, PingOutcome, Submission, set_manual_connect,
};
use recovery_deck::lab::ids;
use recovery_deck::lab::scenario::{LOST, Scenario, TARGET};
use recovery_deck::lab::templates;
use recovery_deck::value;
// The recipe forges and edits contracts, so it reads the Ledger API messages themselves.
use recovery_deck::wire::ledger::ActiveContract;
use std::time::Duration;

fn alice() -> String {
    ids::party_id("Alice", "participant1")
}

fn bob() -> String {
    ids::party_id("Bob", "participant2")
}

/// Steps 1–2 of the recipe on one participant: isolate the lost synchronizer and
/// initialise the new one's topology, leaving everything disconnected.
async fn prepare(p: &dyn ParticipantApi) {
    p.disconnect(LOST).await.expect("disconnect lost");
    assert!(
        set_manual_connect(p, LOST, true).await.expect("modify"),
        "manual_connect was false before"
    );
    assert!(
        p.reconnect(TARGET, false).await.expect("connect new once"),
        "new synchronizer reachable"
    );
    // Canton's InitializeIdentityStateAndDisconnect: a transaction on the new synchronizer
    // makes the topology the repairs will see the current one.
    self_ping(p).await;
    p.disconnect_all().await.expect("disconnect all");
    let regs = p.list_registered().await.expect("registered");
    assert_eq!(regs.len(), 2, "both synchronizers stay registered");
    assert!(regs.iter().all(|r| !r.connected), "nothing connected: {regs:?}");
    assert!(regs.iter().find(|r| r.alias == LOST).is_some_and(|r| r.manual_connect));
}

/// Pings the participant's own admin party over the new synchronizer.
async fn self_ping(p: &dyn ParticipantApi) {
    let admin = p.admin_party().await.expect("admin party");
    let target = ids::synchronizer_id(TARGET);
    match p.ping(&[admin], &target, Duration::from_secs(10)).await.expect("ping") {
        PingOutcome::Success { .. } => {}
        PingOutcome::Failure { reason } => panic!("self-ping over {TARGET} failed: {reason}"),
    }
}

fn stream_of(contracts: Vec<ActiveContract>) -> ContractStream {
    futures::stream::iter(contracts.into_iter().map(|c| Ok(Contract::from_wire(c)))).boxed()
}

async fn export(p: &dyn ParticipantApi, synchronizer_id: &str) -> Vec<ActiveContract> {
    let stream = recovery_deck::client::export_at_ledger_end(p, Some(synchronizer_id))
        .await
        .expect("export");
    stream.map(|c| c.expect("contract").into_wire()).collect().await
}

async fn iou_owned_by(p: &dyn ParticipantApi, synchronizer_id: &str, owner: &str) -> String {
    let contracts = export(p, synchronizer_id).await;
    contracts
        .into_iter()
        .filter_map(|c| c.created_event)
        .find(|e| {
            e.template_id.as_ref().is_some_and(|t| t.entity_name == "Iou")
                && e.create_arguments
                    .as_ref()
                    .and_then(|r| value::field(r, "owner"))
                    .and_then(value::as_party)
                    == Some(owner)
        })
        .map(|e| e.contract_id)
        .expect("an Iou owned by the party")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_recipe_recovers_both_participants() {
    let lab = TestLab::up(Scenario::Seed).await;
    let (p1, p2) = (lab.client("participant1"), lab.client("participant2"));
    let lost = ids::synchronizer_id(LOST);
    let new = ids::synchronizer_id(TARGET);

    for p in [&p1, &p2] {
        prepare(p).await;
    }
    let shared1 = ids_on(&p1, &lost).await;
    let shared2 = ids_on(&p2, &lost).await;
    assert_eq!(shared1.len(), 6);
    assert_eq!(shared1, shared2, "seed participants agree");

    let ids: Vec<String> = shared1.iter().cloned().collect();
    // As in the Canton test: participant1 with skip_inactive, participant2 without.
    p1.change_assignation(LOST, TARGET, &ids, true).await.expect("move p1");
    p2.change_assignation(LOST, TARGET, &ids, false).await.expect("move p2");
    assert!(ids_on(&p1, &lost).await.is_empty());
    assert_eq!(ids_on(&p1, &new).await, shared1);
    assert_eq!(ids_on(&p2, &new).await, shared1);

    // Re-running without skip_inactive is not idempotent: Canton refuses.
    let (code, cause) = code_of(p2.change_assignation(LOST, TARGET, &ids, false).await);
    assert_eq!(code, "CONTRACT_ASSIGNATION_CHANGE_ERROR");
    assert!(cause.contains("has been reassigned to"), "{cause}");
    // With skip_inactive it is a no-op.
    p1.change_assignation(LOST, TARGET, &ids, true)
        .await
        .expect("idempotent re-run");

    for p in [&p1, &p2] {
        set_manual_connect(p, TARGET, false)
            .await
            .expect("clear manual_connect");
        assert!(p.reconnect(TARGET, false).await.expect("reconnect"));
    }
    let connected = p1.list_connected().await.expect("connected");
    assert_eq!(
        connected.iter().map(|c| c.alias.as_str()).collect::<Vec<_>>(),
        vec![TARGET]
    );

    // Workflows run again: Call on a moved Iou and new Ious both ways.
    let moved_for_alice = iou_owned_by(&p1, &new, &alice()).await;
    let moved_for_bob = iou_owned_by(&p2, &new, &bob()).await;
    let snapshot_before_call: Vec<ActiveContract> = export(&p1, &new)
        .await
        .into_iter()
        .filter(|c| {
            c.created_event
                .as_ref()
                .is_some_and(|e| e.contract_id == moved_for_alice)
        })
        .collect();
    assert_eq!(snapshot_before_call.len(), 1);
    for (p, party, iou) in [(&p1, alice(), &moved_for_alice), (&p2, bob(), &moved_for_bob)] {
        p.submit_and_wait(Submission {
            act_as: vec![party],
            synchronizer_id: None,
            commands: vec![templates::exercise_iou_command(iou, "Call", DamlValue::Unit)],
        })
        .await
        .expect("Call on a moved Iou");
    }
    for (p, payer, owner) in [(&p1, alice(), bob()), (&p2, bob(), alice())] {
        p.submit_and_wait(Submission {
            act_as: vec![payer.clone()],
            synchronizer_id: None,
            commands: vec![templates::create_iou_command(&payer, &owner, "7", "USD")],
        })
        .await
        .expect("new Iou");
    }
    // Each participant applies a verdict when its own subscription delivers it: the other
    // side may be a moment behind the submitter.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let (after1, after2) = loop {
        let (a, b) = (ids_on(&p1, &new).await, ids_on(&p2, &new).await);
        if a == b || std::time::Instant::now() > deadline {
            break (a, b);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(
        after1, after2,
        "both participants see the same contracts on the new synchronizer"
    );
    assert_eq!(
        after1.len(),
        6 - 2 + 2 + 2,
        "two Ious called into GetCash, two new Ious"
    );
    assert!(!after1.contains(&moved_for_alice) && !after1.contains(&moved_for_bob));

    // Adding back a contract that was archived is refused (repair.add of an archived contract).
    // The moved contract carries reassignment counter 1, which Canton 3.5 refuses first
    // (multi-synchronizer support is off by default).
    p1.disconnect_all().await.expect("disconnect");
    assert_eq!(
        snapshot_before_call[0].reassignment_counter, 1,
        "ChangeAssignation counts"
    );
    let (code, cause) = code_of(
        p1.import_acs(&new, ImportMode::Validation, stream_of(snapshot_before_call.clone()))
            .await,
    );
    assert_eq!(code, "IMPORT_ACS_ERROR");
    assert!(cause.contains("non-zero reassignment counter"), "{cause}");
    let mut at_genesis = snapshot_before_call;
    at_genesis[0].reassignment_counter = 0;
    let (code, cause) = code_of(p1.import_acs(&new, ImportMode::Validation, stream_of(at_genesis)).await);
    assert_eq!(code, "IMPORT_ACS_ERROR");
    assert!(cause.contains("Cannot add previously archived contract"), "{cause}");
    assert_eq!(ids_on(&p1, &new).await, after1, "a refused import changes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repairs_refuse_while_any_synchronizer_is_connected() {
    let lab = TestLab::up(Scenario::Seed).await;
    let p1 = lab.client("participant1");
    let lost = ids::synchronizer_id(LOST);
    let ids: Vec<String> = ids_on(&p1, &lost).await.into_iter().collect();
    let snapshot = export(&p1, &lost).await;
    // lostDomain is dead but still connected (unhealthy): repairs must wait.
    let (code, cause) = code_of(p1.change_assignation(LOST, TARGET, &ids, true).await);
    assert_eq!(code, "CONTRACT_ASSIGNATION_CHANGE_ERROR");
    assert_eq!(
        cause,
        "There are still synchronizers connected. Please disconnect all synchronizers."
    );
    let (code, _) = code_of(p1.purge(LOST, &ids, true).await);
    assert_eq!(code, "CONTRACT_PURGE_ERROR");
    let (code, _) = code_of(p1.import_acs(&lost, ImportMode::Validation, stream_of(snapshot)).await);
    assert_eq!(code, "IMPORT_ACS_ERROR");

    // Disconnected, but the new synchronizer was never connected: its topology is unknown.
    p1.disconnect_all().await.expect("disconnect");
    let (code, cause) = code_of(p1.change_assignation(LOST, TARGET, &ids, true).await);
    assert_eq!(code, "CONTRACT_ASSIGNATION_CHANGE_ERROR");
    assert!(cause.contains("Unable to resolve newDomain"), "{cause}");
    assert!(cause.contains("Reconnect to the synchronizer to initialize"), "{cause}");
    let (code, _) = code_of(p1.change_assignation(LOST, "nowhere", &ids, true).await);
    assert_eq!(code, "INVALID_ARGUMENT_REPAIR");
    let (code, _) = code_of(p1.change_assignation(LOST, LOST, &ids, true).await);
    assert_eq!(code, "INVALID_ARGUMENT_REPAIR");
    let (code, cause) = code_of(p1.purge(LOST, &[], true).await);
    assert_eq!(
        (code.as_str(), cause.as_str()),
        ("INVALID_ARGUMENT_REPAIR", "Missing contract ids to purge")
    );
    assert_eq!(ids_on(&p1, &lost).await.len(), 6, "nothing moved");

    // Unknown alias for connectivity calls.
    let (code, _) = code_of(p1.reconnect("nowhere", false).await);
    assert_eq!(code, "SYNC_SERVICE_UNKNOWN_SYNCHRONIZER");
    // The lost synchronizer cannot be reached: reconnect reports failure, not an error.
    assert!(!p1.reconnect(LOST, false).await.expect("reconnect lost"));
}

/// Canton checks a stakeholder is hosted on the target at the target's clean record time
/// (ChangeAssignation.filterContractsAtTarget): the topology event that enabled the
/// participant's parties is not effective at its own time, so connecting and
/// disconnecting is not enough — a transaction must be sequenced after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_assignation_waits_for_a_transaction_on_the_target() {
    let lab = TestLab::up(Scenario::Seed).await;
    let p1 = lab.client("participant1");
    let lost = ids::synchronizer_id(LOST);
    let ids: Vec<String> = ids_on(&p1, &lost).await.into_iter().collect();
    p1.disconnect(LOST).await.expect("disconnect lost");
    set_manual_connect(&p1, LOST, true).await.expect("modify");
    assert!(p1.reconnect(TARGET, false).await.expect("connect new once"));
    p1.disconnect_all().await.expect("disconnect all");
    let (code, cause) = code_of(p1.change_assignation(LOST, TARGET, &ids, true).await);
    assert_eq!(code, "CONTRACT_ASSIGNATION_CHANGE_ERROR");
    assert!(
        cause.contains("without at least one stakeholder of")
            && cause.contains("existing locally on the target synchronizer"),
        "{cause}"
    );
    assert_eq!(ids_on(&p1, &lost).await.len(), 6, "nothing moved");
    // The ping of Canton's procedure makes it current.
    assert!(p1.reconnect(TARGET, false).await.expect("connect again"));
    self_ping(&p1).await;
    p1.disconnect_all().await.expect("disconnect all");
    p1.change_assignation(LOST, TARGET, &ids, true).await.expect("moved");
    assert_eq!(ids_on(&p1, &ids::synchronizer_id(TARGET)).await.len(), 6);
}

/// Canton's ping responder answers only pings to the participant's admin party; a ping
/// to one of its user parties is never answered and fails at the initiator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_admin_party_answers_a_ping() {
    let lab = TestLab::up(Scenario::Seed).await;
    let (p1, p2) = (lab.client("participant1"), lab.client("participant2"));
    let status = p2.status().await.expect("status");
    assert_eq!(status.uid, ids::participant_uid("participant2"));
    let admin = p2.admin_party().await.expect("admin party");
    assert_eq!(admin, status.uid);
    let parties = p2.hosted_parties().await.expect("parties");
    assert!(parties.contains(&admin), "the admin party is hosted: {parties:?}");
    assert!(
        parties.first().is_some_and(|first| first != &admin),
        "a user party sorts first, which is what a client taking the first local party gets"
    );
    for p in [&p1, &p2] {
        p.disconnect(LOST).await.expect("disconnect lost");
        assert!(p.reconnect(TARGET, true).await.expect("connect new"));
    }
    let target = ids::synchronizer_id(TARGET);
    let ping = |to: String, secs| {
        let p1 = &p1;
        let target = &target;
        async move { p1.ping(&[to], target, Duration::from_secs(secs)).await.expect("ping") }
    };
    let mut answered = false;
    for _ in 0..10 {
        if matches!(ping(admin.clone(), 10).await, PingOutcome::Success { .. }) {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(answered, "the admin party answers");
    assert!(
        matches!(ping(bob(), 2).await, PingOutcome::Failure { .. }),
        "a user party never answers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contract_already_active_on_the_target_is_refused() {
    let lab = TestLab::up(Scenario::Seed).await;
    let p2 = lab.client("participant2");
    let (lost, new) = (ids::synchronizer_id(LOST), ids::synchronizer_id(TARGET));
    prepare(&p2).await;
    let mut snapshot = export(&p2, &lost).await;
    snapshot.truncate(1);
    let id = snapshot[0]
        .created_event
        .as_ref()
        .map(|e| e.contract_id.clone())
        .expect("id");
    // repair.add of the same contract onto the new synchronizer, as an operator might by mistake.
    snapshot[0].synchronizer_id.clone_from(&new);
    p2.import_acs(&new, ImportMode::Validation, stream_of(snapshot.clone()))
        .await
        .expect("import onto the target");
    let (code, cause) = code_of(
        p2.change_assignation(LOST, TARGET, std::slice::from_ref(&id), false)
            .await,
    );
    assert_eq!(code, "CONTRACT_ASSIGNATION_CHANGE_ERROR");
    assert!(cause.contains("exists in target synchronizer"), "{cause}");
    assert!(cause.contains("Use 'repair.add' or 'repair.purge' instead."), "{cause}");
    // The same import again is idempotent.
    p2.import_acs(&new, ImportMode::Validation, stream_of(snapshot))
        .await
        .expect("idempotent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_are_all_or_nothing_and_check_payloads() {
    let lab = TestLab::up(Scenario::Diverged).await;
    let (p1, p2) = (lab.client("participant1"), lab.client("participant2"));
    let lost = ids::synchronizer_id(LOST);
    for p in [&p1, &p2] {
        prepare(p).await;
    }
    let have1 = ids_on(&p1, &lost).await;
    let have2 = ids_on(&p2, &lost).await;
    let from2 = export(&p2, &lost).await;
    let from1 = export(&p1, &lost).await;
    let id_of = |c: &ActiveContract| {
        c.created_event
            .as_ref()
            .map(|e| e.contract_id.clone())
            .unwrap_or_default()
    };

    // participant2 still has what participant1 archived: adding it to participant1 is refused.
    let archived_on_1: Vec<ActiveContract> = from2.iter().filter(|c| !have1.contains(&id_of(c))).cloned().collect();
    assert_eq!(archived_on_1.len(), 2, "the called and the transferred Iou");
    let (code, cause) = code_of(
        p1.import_acs(&lost, ImportMode::Validation, stream_of(archived_on_1))
            .await,
    );
    assert_eq!(code, "IMPORT_ACS_ERROR");
    assert!(cause.contains("archived contracts cannot become active"), "{cause}");

    // A contract with a changed payload under its id: VALIDATION catches the forgery...
    let mut forged = from1
        .iter()
        .find(|c| !have2.contains(&id_of(c)))
        .cloned()
        .expect("missing on p2");
    let mut blob = <recovery_deck::wire::lab::ContractBlob as prost::Message>::decode(
        forged
            .created_event
            .as_ref()
            .map(|e| e.created_event_blob.as_slice())
            .unwrap_or_default(),
    )
    .expect("blob");
    blob.observers.push(ids::party_id("Mallory", "participant9"));
    if let Some(e) = forged.created_event.as_mut() {
        e.created_event_blob = prost::Message::encode_to_vec(&blob);
    }
    let (code, cause) = code_of(
        p2.import_acs(&lost, ImportMode::Validation, stream_of(vec![forged.clone()]))
            .await,
    );
    assert_eq!(code, "IMPORT_ACS_ERROR");
    assert!(cause.contains("Failed to authenticate contract"), "{cause}");
    // ...ACCEPT lets it in; afterwards the genuine one no longer matches.
    p2.import_acs(&lost, ImportMode::Accept, stream_of(vec![forged.clone()]))
        .await
        .expect("accept");
    let genuine = from1
        .iter()
        .find(|c| id_of(c) == id_of(&forged))
        .cloned()
        .expect("genuine");
    let (code, cause) = code_of(p2.import_acs(&lost, ImportMode::Accept, stream_of(vec![genuine])).await);
    assert_eq!(code, "IMPORT_ACS_ERROR");
    assert!(cause.contains("does not match with contract being added"), "{cause}");

    // A snapshot whose source fails half-way is cancelled: nothing is applied.
    let before = ids_on(&p2, &lost).await;
    let missing: Vec<ActiveContract> = from1.iter().filter(|c| !before.contains(&id_of(c))).cloned().collect();
    assert!(!missing.is_empty());
    let failing: ContractStream = futures::stream::iter(missing.into_iter().map(|c| Ok(Contract::from_wire(c))))
        .chain(futures::stream::once(async {
            Err(recovery_deck::client::ClientError::Setup {
                participant: "source".into(),
                message: "source export broke".into(),
            })
        }))
        .boxed();
    let err = p2
        .import_acs(&lost, ImportMode::Validation, failing)
        .await
        .expect_err("must fail");
    assert!(err.to_string().contains("source export broke"), "{err}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(ids_on(&p2, &lost).await, before, "a cancelled import applies nothing");
}
