//! After an operator carried out a plan by hand — the console scripts of `export-console`,
//! here played by calling the participants' admin API directly, the same calls in the
//! same order, with no journal of ours — the remote verification still works:
//! `run RUNBOOK --phases verify` checks the target against the plan and `compare` on the
//! target shows the plan's contracts there. Before the repair, the same verification fails.

mod common;

use common::{TestLab, participants};
use futures::StreamExt;
use recovery_deck::client::{ParticipantApi, PingOutcome, Validation};
use recovery_deck::config::IncidentConfig;
use recovery_deck::plan::{Action, ConnectionValidation, PhaseKind, Plan, RunbookMeta};
use recovery_deck::reconcile::{Decision, SelectionError, SelectionRequest, Strategy};
use recovery_deck::survey::{Incident, ProposeError};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

fn run(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_recovery-deck"))
        .args(args)
        .output()
        .expect("run the binary")
}

/// A union plan with every row that needs a decision left on the lost synchronizer.
async fn union_plan(lab: &TestLab, incident: &str) -> Plan {
    let apis: Vec<Arc<dyn ParticipantApi>> = participants(&lab.lab).into_values().collect();
    let incident = Incident {
        name: incident,
        lost: recovery_deck::lab::scenario::LOST,
        target: recovery_deck::lab::scenario::TARGET,
    };
    let mut request = SelectionRequest::new(Strategy::Union);
    match recovery_deck::survey::propose(&apis, &incident, &request, 500).await {
        Err(ProposeError::Selection(SelectionError::Undecided(rows))) => {
            for row in rows {
                request = request.decide(&row.contract_id, Decision::Exclude);
            }
        }
        Err(other) => panic!("the diverged union needs decisions, not: {other}"),
        Ok(_) => panic!("the diverged union needs decisions"),
    }
    recovery_deck::survey::propose(&apis, &incident, &request, 500)
        .await
        .expect("plan")
        .0
}

/// Every step of the plan's phases before verification, as a console script does it:
/// the participant's own admin API, called directly.
async fn repair_by_hand(lab: &TestLab, plan: &Plan) {
    let apis = participants(&lab.lab);
    for phase in plan.phases().iter().filter(|p| p.kind != PhaseKind::Verify) {
        for step in &phase.steps {
            let api = apis[&step.participant].as_ref();
            let ids =
                |ids: &[recovery_deck::reconcile::ContractId]| ids.iter().map(|c| c.to_string()).collect::<Vec<_>>();
            match &step.action {
                Action::DisconnectSynchronizer { synchronizer } => {
                    api.disconnect(synchronizer).await.expect("disconnect")
                }
                Action::DisconnectAllSynchronizers => api.disconnect_all().await.expect("disconnect all"),
                Action::ModifySynchronizer {
                    synchronizer,
                    manual_connect,
                    validation,
                } => {
                    let configs = api.registered_configs().await.expect("configs");
                    let changed = recovery_deck::client::manual_connect_change(
                        &step.participant,
                        configs,
                        synchronizer,
                        *manual_connect,
                    )
                    .expect("config");
                    if let Some(config) = changed {
                        let validation = match validation {
                            ConnectionValidation::Disabled => Validation::Disabled,
                            ConnectionValidation::All => Validation::All,
                        };
                        api.modify(config, validation).await.expect("modify");
                    }
                }
                Action::ReconnectSynchronizer { synchronizer, retry } => {
                    assert!(api.reconnect(synchronizer, *retry).await.expect("reconnect"));
                }
                Action::Ping { synchronizer } => {
                    let party = api.admin_party().await.expect("admin party");
                    let id = api.synchronizer_id(synchronizer).await.expect("id").logical;
                    let mut pinged = false;
                    for _ in 0..20 {
                        let outcome = api
                            .ping(std::slice::from_ref(&party), &id, Duration::from_secs(15))
                            .await
                            .expect("ping");
                        if matches!(outcome, PingOutcome::Success { .. }) {
                            pinged = true;
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                    assert!(pinged, "{} pings itself over {synchronizer}", step.participant);
                }
                Action::PurgeContracts {
                    synchronizer,
                    contract_ids,
                    ignore_already_purged,
                } => api
                    .purge(synchronizer, &ids(contract_ids), *ignore_already_purged)
                    .await
                    .expect("purge"),
                Action::ImportAcs {
                    synchronizer,
                    source_participant,
                    contract_ids,
                } => {
                    let source = apis[source_participant].as_ref();
                    let lost = source.synchronizer_id(synchronizer).await.expect("id").logical;
                    let wanted: BTreeSet<String> = ids(contract_ids).into_iter().collect();
                    let export = recovery_deck::client::export_at_ledger_end(source, Some(&lost))
                        .await
                        .expect("export");
                    let only = export
                        .filter(move |c| {
                            let keep = match c {
                                Ok(c) => c.contract_id().is_some_and(|id| wanted.contains(id)),
                                Err(_) => true,
                            };
                            std::future::ready(keep)
                        })
                        .boxed();
                    api.import_acs(&lost, recovery_deck::client::ImportMode::Validation, only)
                        .await
                        .expect("import");
                }
                Action::ChangeAssignation {
                    source_synchronizer,
                    target_synchronizer,
                    contract_ids,
                    skip_inactive,
                } => {
                    for chunk in ids(contract_ids).chunks(plan.batch_size() as usize) {
                        api.change_assignation(source_synchronizer, target_synchronizer, chunk, *skip_inactive)
                            .await
                            .expect("change assignation");
                    }
                }
                Action::Verify { .. } => unreachable!("verification is left to recovery-deck"),
            }
        }
    }
}

fn verify_run(config: &str, runbook: &Path, journal: &Path) -> (Output, Option<Value>) {
    let out = run(&[
        "run",
        "--config",
        config,
        &runbook.display().to_string(),
        "--phases",
        "verify",
        "--journal",
        &journal.display().to_string(),
    ]);
    let last = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok());
    (out, last)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_alone_checks_a_plan_carried_out_by_hand() {
    let lab = TestLab::up(recovery_deck::lab::scenario::Scenario::Diverged).await;
    let config = lab.lab.incident_path().display().to_string();
    let cfg = IncidentConfig::load(&lab.lab.incident_path()).expect("config");
    let plan = union_plan(&lab, &cfg.incident.name).await;
    let runbook = lab.dir.path().join("union.runbook.toml");
    let meta = RunbookMeta {
        created: "2026-12-07T00:00:00Z".into(),
        proposed_by: "tester".into(),
    };
    recovery_deck::runbook_file::write(&runbook, &plan, &meta).expect("runbook");
    let planned: BTreeSet<String> = plan
        .participants()
        .iter()
        .flat_map(|p| plan.moved_by(p).into_iter().map(|c| c.to_string()))
        .collect();
    assert!(!planned.is_empty());

    // Nothing repaired yet: verification alone fails, and changes nothing.
    let before = lab.dir.path().join("before.journal.jsonl");
    let (out, last) = verify_run(&config, &runbook, &before);
    assert!(!out.status.success(), "verification of an unrepaired lab fails");
    assert_eq!(
        last.as_ref().map(|l| l["ok"].clone()),
        Some(Value::Bool(false)),
        "{last:?}"
    );
    let j = recovery_deck::journal::read(&before).expect("journal");
    assert_eq!(j.of_kind("exec.request").count(), 0, "verification sends no repair");

    repair_by_hand(&lab, &plan).await;

    let after = lab.dir.path().join("after.journal.jsonl");
    let (out, last) = verify_run(&config, &runbook, &after);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        last.as_ref().map(|l| l["ok"].clone()),
        Some(Value::Bool(true)),
        "{last:?}"
    );
    // The repairs done by hand are read from the participants' state.
    assert!(
        stderr.contains("phase move skipped (done according to the participants' state)"),
        "{stderr}"
    );
    let j = recovery_deck::journal::read(&after).expect("journal");
    assert_eq!(j.of_kind("exec.request").count(), 0, "verification sends no repair");
    let verified: Vec<&recovery_deck::journal::Event> = j.of_kind("verify.result").collect();
    assert_eq!(verified.len(), plan.participants().len());
    for v in verified {
        let name = v.data["participant"].as_str().expect("participant");
        assert_eq!(v.data["ok"], true, "{name}: {}", v.data);
        assert_eq!(
            v.data["expected"].as_u64(),
            Some(plan.moved_by(name).len() as u64),
            "{name} is checked against the plan's contracts for it"
        );
    }
    let done: Vec<&Value> = j.of_kind("phase.done").map(|e| &e.data["phase"]).collect();
    assert_eq!(done, [&Value::from("verify")], "only verification is recorded as done");

    // The comparison on the target holds exactly the plan's contracts, agreed everywhere.
    let cmp = run(&[
        "compare",
        "--config",
        &config,
        "--synchronizer",
        recovery_deck::lab::scenario::TARGET,
        "--format",
        "json",
    ]);
    assert!(cmp.status.success(), "{}", String::from_utf8_lossy(&cmp.stderr));
    let cmp: Value = serde_json::from_slice(&cmp.stdout).expect("JSON");
    let rows = cmp["rows"].as_array().expect("rows");
    let on_target: BTreeSet<String> = rows
        .iter()
        .map(|r| r["contract_id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(on_target, planned, "the target holds the plan's contracts");
    assert!(rows.iter().all(|r| r["class"] == "agreed"), "{cmp}");
}
