//! Drift (issue 10): a runbook made on the diverged lab, then a participant's holdings
//! changed by hand the way an operator could (a contract purged on one participant, a
//! missing one imported on another, both while disconnected); `run --dry-run` lists exactly
//! those rows, as a table and as JSON, and fails. Without a change it succeeds.

mod common;

use common::TestLab;
use common::binary::{last_json, run};
use futures::StreamExt;
use recovery_deck::client::{ImportMode, ParticipantApi};
use recovery_deck::lab::ids;
use recovery_deck::lab::scenario::{LOST, Scenario};
use serde_json::Value;
use std::collections::BTreeSet;

/// `(participant, contract, change)` of every drift row in a report.
fn drift_rows(report: &Value) -> BTreeSet<(String, String, String)> {
    report["drift"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                    (s("participant"), s("contract_id"), s("change"))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_lists_exactly_the_rows_that_changed_and_fails() {
    let lab = TestLab::up(Scenario::Diverged).await;
    let config = lab.lab.incident_path().to_string_lossy().to_string();
    let runbook = lab.dir.path().join("drill.runbook.toml").to_string_lossy().to_string();

    let cmp = run(&["compare", "--config", &config, "--format", "json"]);
    assert!(cmp.status.success(), "{}", String::from_utf8_lossy(&cmp.stderr));
    let cmp: Value = serde_json::from_slice(&cmp.stdout).expect("compare JSON");
    let rows = cmp["rows"].as_array().expect("rows");
    let agreed = rows
        .iter()
        .find(|r| r["class"] == "agreed")
        .and_then(|r| r["contract_id"].as_str())
        .expect("an agreed row")
        .to_string();
    // A row one participant holds and another, relevant to it, never saw.
    let (missing, holder, lacking) = rows
        .iter()
        .filter(|r| r["class"] == "missing")
        .find_map(|r| {
            let states = r["per_participant"].as_object()?;
            let holder = states.iter().find(|(_, s)| *s == "active")?.0.clone();
            let lacking = states.iter().find(|(_, s)| *s == "unknown")?.0.clone();
            Some((r["contract_id"].as_str()?.to_string(), holder, lacking))
        })
        .expect("a missing row");

    let plan = run(&[
        "plan",
        "--config",
        &config,
        "--strategy",
        "intersection",
        "--out",
        &runbook,
    ]);
    assert!(plan.status.success(), "{}", String::from_utf8_lossy(&plan.stderr));

    // Nothing changed: the dry run passes and lists no drift.
    let dry = run(&["run", "--config", &config, &runbook, "--dry-run", "--format", "json"]);
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    let report = last_json(&dry);
    assert_eq!(report["ok"], true);
    assert!(report.get("drift").is_none(), "{report}");

    // participant1 purges the agreed row; the participant lacking the missing row imports it.
    let lost = ids::synchronizer_id(LOST);
    let p1 = lab.client("participant1");
    p1.disconnect_all().await.expect("disconnect");
    p1.purge(LOST, std::slice::from_ref(&agreed), false)
        .await
        .expect("purge");
    let source = lab.client(&holder);
    let end = source.ledger_end().await.expect("ledger end");
    let wanted = missing.clone();
    let only_missing = source
        .export_acs(Some(&lost), end)
        .await
        .expect("export")
        .filter(move |c| {
            let keep = c.as_ref().map_or(true, |c| c.contract_id() == Some(wanted.as_str()));
            futures::future::ready(keep)
        })
        .boxed();
    let receiver = lab.client(&lacking);
    receiver.disconnect_all().await.expect("disconnect");
    receiver
        .import_acs(&lost, ImportMode::Validation, only_missing)
        .await
        .expect("import");

    let expected: BTreeSet<(String, String, String)> = [
        ("participant1".to_string(), agreed.clone(), "disappeared".to_string()),
        (lacking.clone(), missing.clone(), "appeared".to_string()),
    ]
    .into();

    let dry = run(&["run", "--config", &config, &runbook, "--dry-run", "--format", "json"]);
    assert!(!dry.status.success(), "drift fails the dry run");
    let report = last_json(&dry);
    assert_eq!(report["ok"], false);
    assert_eq!(drift_rows(&report), expected, "{report}");
    let gone = report["drift"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["contract_id"] == agreed.as_str()))
        .expect("the purged row");
    assert_eq!(gone["expected"], "active");
    assert!(
        gone["expected_payload"].as_str().is_some_and(|t| t.len() == 16),
        "{gone}"
    );
    assert_eq!(gone["found"], "absent");
    assert!(gone["found_payload"].is_null());
    let came = report["drift"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["contract_id"] == missing.as_str()))
        .expect("the imported row");
    assert_eq!(
        (&came["expected"], &came["found"]),
        (&"absent".into(), &"active".into())
    );

    // The same as a table on a terminal's worth of text: one line per changed row.
    let dry = run(&["run", "--config", &config, &runbook, "--dry-run"]);
    assert!(!dry.status.success());
    let text = String::from_utf8_lossy(&dry.stdout);
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("2 row(s) changed since the plan was made"))
        .skip(1)
        .take_while(|l| !l.starts_with('{'))
        .collect();
    assert!(
        table[0].starts_with("participant") && table[0].contains("expected"),
        "{text}"
    );
    let listed: BTreeSet<(String, String, String)> = table[1..]
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[0].to_string(),
                f.last().copied().unwrap_or_default().to_string(),
                f[1].to_string(),
            )
        })
        .collect();
    assert_eq!(listed, expected, "{text}");
    let purged_line = table.iter().find(|l| l.contains(&agreed)).expect("purged row line");
    assert!(
        purged_line.contains("active ") && purged_line.contains("absent"),
        "{purged_line}"
    );
    assert!(String::from_utf8_lossy(&dry.stderr).contains("changed on lostDomain since the plan was made"));
}
