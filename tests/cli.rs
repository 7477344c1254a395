//! The command-line contract, driven through the real binary: a detached lab, `status`
//! and `search` with their JSON shapes, fault drills, and a `lab down` that leaves no
//! process behind.

mod common;

use common::binary::{ok_json, run};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn pids(dir: &Path) -> Vec<u32> {
    ["lostDomain", "newDomain", "participant1", "participant2"]
        .iter()
        .filter_map(|n| recovery_deck::lab::node::read_info(&dir.join(n)))
        .map(|i| i.pid)
        .collect()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.split_whitespace().nth(2) != Some("Z"))
}

/// `(template, payer hint, owner hint, amount)` of every contract a search returned.
fn summarise(hits: &Value) -> BTreeSet<(String, String, String, String)> {
    let hint = |p: &Value| p.as_str().unwrap_or("").split("::").next().unwrap_or("").to_string();
    hits.as_array()
        .expect("array")
        .iter()
        .map(|h| {
            (
                h["template_id"].as_str().unwrap_or("").to_string(),
                hint(&h["payload"]["payer"]),
                hint(&h["payload"]["owner"]),
                h["payload"]["amount"]["value"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// A detached lab in a temporary directory, taken down when the test ends however it ends.
struct LabDir {
    tmp: tempfile::TempDir,
    dir: String,
    config: String,
}

impl LabDir {
    /// Starts `scenario` detached; returns the lab and what `lab up --format json` printed.
    fn up(scenario: &str) -> (Self, Value) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_string_lossy().to_string();
        let config = format!("{dir}/incident.toml");
        let lab = LabDir { tmp, dir, config };
        let up = ok_json(&[
            "lab",
            "up",
            "--dir",
            &lab.dir,
            "--scenario",
            scenario,
            "--detach",
            "--format",
            "json",
        ]);
        (lab, up)
    }
}

impl Drop for LabDir {
    fn drop(&mut self) {
        let _ = run(&["lab", "down", "--dir", &self.dir]);
    }
}

#[test]
fn seed_lab_status_search_and_teardown() {
    let (lab, up) = LabDir::up("seed");
    let (dir, config) = (lab.dir.clone(), lab.config.clone());
    assert_eq!(up["scenario"], "seed");

    let status = ok_json(&["status", "--config", &config, "--format", "json"]);
    for p in status.as_array().expect("array") {
        assert_eq!(p["reachable"], true);
        let syncs = p["synchronizers"].as_array().expect("synchronizers");
        let by = |alias: &str| syncs.iter().find(|s| s["alias"] == alias).cloned().expect("registered");
        let lost = by("lostDomain");
        assert_eq!(
            (lost["connected"].clone(), lost["healthy"].clone()),
            (Value::Bool(true), Value::Bool(false)),
            "lostDomain unreachable"
        );
        let new = by("newDomain");
        assert_eq!(
            (new["connected"].clone(), new["ever_connected"].clone()),
            (Value::Bool(false), Value::Bool(false))
        );
    }

    let expected: BTreeSet<(String, String, String, String)> = [
        ("Alice", "Bob", "100"),
        ("Alice", "Bob", "120"),
        ("Alice", "Bob", "140"),
        ("Bob", "Alice", "110"),
        ("Bob", "Alice", "130"),
        ("Bob", "Alice", "150"),
    ]
    .iter()
    .map(|(payer, owner, amount)| {
        (
            "Iou:Iou".to_string(),
            payer.to_string(),
            owner.to_string(),
            format!("{amount}.0000000000"),
        )
    })
    .collect();
    let mut ids = Vec::new();
    for p in ["participant1", "participant2"] {
        let hits = ok_json(&[
            "search",
            "--config",
            &config,
            "--participant",
            p,
            "--synchronizer",
            "lostDomain",
            "--format",
            "json",
        ]);
        assert_eq!(summarise(&hits), expected, "{p}");
        assert!(
            hits.as_array()
                .expect("array")
                .iter()
                .all(|h| h["synchronizer"] == "lostDomain")
        );
        ids.push(
            hits.as_array()
                .expect("array")
                .iter()
                .map(|h| h["contract_id"].clone())
                .collect::<Vec<_>>(),
        );
        let only_alice_paid = ok_json(&[
            "search",
            "--config",
            &config,
            "--participant",
            p,
            "--synchronizer",
            "lostDomain",
            "--template",
            "^Iou",
            "--party",
            "Alice",
            "--format",
            "json",
        ]);
        assert_eq!(
            only_alice_paid.as_array().map(Vec::len),
            Some(6),
            "every Iou has Alice as a stakeholder"
        );
    }
    assert_eq!(ids[0], ids[1], "both participants list the same contract ids");

    // Errors are one line and the exit code is non-zero.
    let out = run(&[
        "search",
        "--config",
        &config,
        "--participant",
        "nobody",
        "--synchronizer",
        "lostDomain",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: no participant \"nobody\""), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    // The business check fails before the recovery.
    let wf = run(&["lab", "workflow", "--dir", &dir]);
    assert!(
        !wf.status.success(),
        "workflow must fail while the contracts are on a lost synchronizer"
    );

    // Fault drill: crash and restart a participant; it comes back with its contracts.
    let before = pids(lab.tmp.path());
    assert!(
        run(&["lab", "kill", "--dir", &dir, "--node", "participant2"])
            .status
            .success()
    );
    assert!(
        run(&["lab", "start", "--dir", &dir, "--node", "participant2"])
            .status
            .success()
    );
    let hits = ok_json(&[
        "search",
        "--config",
        &config,
        "--participant",
        "participant2",
        "--synchronizer",
        "lostDomain",
        "--format",
        "json",
    ]);
    assert_eq!(summarise(&hits), expected);
    let refused = run(&["lab", "start", "--dir", &dir, "--node", "lostDomain"]);
    assert!(!refused.status.success(), "a lost synchronizer cannot be started again");

    let after = pids(lab.tmp.path());
    assert!(run(&["lab", "down", "--dir", &dir]).status.success());
    for pid in before.iter().chain(&after) {
        assert!(!alive(*pid), "process {pid} outlived lab down");
    }
}

#[test]
fn diverged_lab_shows_differences() {
    let (lab, _) = LabDir::up("diverged");
    let config = lab.config.clone();
    let search = |p: &str| {
        let hits = ok_json(&[
            "search",
            "--config",
            &config,
            "--participant",
            p,
            "--synchronizer",
            "lostDomain",
            "--format",
            "json",
        ]);
        hits.as_array()
            .expect("array")
            .iter()
            .map(|h| {
                (
                    h["contract_id"].as_str().unwrap_or("").to_string(),
                    h["template_id"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect::<BTreeSet<_>>()
    };
    let (p1, p2) = (search("participant1"), search("participant2"));
    let only1: Vec<_> = p1.difference(&p2).collect();
    let only2: Vec<_> = p2.difference(&p1).collect();
    assert_eq!(
        only1.len(),
        2,
        "participant1 alone holds the GetCash and the transferred Iou (participant2 holds an edited copy of the new one): {only1:?}"
    );
    assert!(only1.iter().any(|(_, t)| t == "Iou:GetCash"));
    assert_eq!(
        only2.len(),
        2,
        "participant2 still holds the Ious participant1 archived: {only2:?}"
    );
    assert_eq!(p1.intersection(&p2).count(), 5, "four agreed Ious and the new Iou's id");
    let status = ok_json(&["status", "--config", &config, "--format", "json"]);
    let in_flight = |i: usize| status[i]["synchronizers"][0]["in_flight"]["pending_transactions"].as_u64();
    assert_eq!(
        (in_flight(0), in_flight(1)),
        (Some(0), Some(1)),
        "participant2 never saw the verdict"
    );
}

#[test]
fn compare_plan_and_run_through_the_command_line() {
    let (lab, _) = LabDir::up("diverged");
    let (dir, config) = (lab.dir.clone(), lab.config.clone());

    let cmp = ok_json(&["compare", "--config", &config, "--format", "json"]);
    assert_eq!(cmp["synchronizer"], "lostDomain");
    // Off a terminal, progress is plain lines on stderr (stdout held only the JSON above).
    let out = run(&["compare", "--config", &config, "--format", "json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines()
            .any(|l| l.starts_with("compare: survey: ") && l.contains(" contracts in ")),
        "{err}"
    );
    let quiet = run(&["compare", "--config", &config, "--progress", "off"]);
    assert!(quiet.status.success());
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("survey"));
    assert_eq!(cmp["participants"], serde_json::json!(["participant1", "participant2"]));
    assert_eq!(cmp["summary"]["agreed"], 4);
    assert_eq!(cmp["summary"]["missing"], 2);
    assert_eq!(cmp["summary"]["archived_somewhere"], 2);
    assert_eq!(cmp["summary"]["payload_mismatch"], 1);
    let rows = cmp["rows"].as_array().expect("rows");
    let archived: Vec<String> = rows
        .iter()
        .filter(|r| r["class"] == "archived_somewhere")
        .map(|r| r["contract_id"].as_str().unwrap_or("").to_string())
        .collect();
    let mismatch = rows
        .iter()
        .find(|r| r["class"] == "payload_mismatch")
        .and_then(|r| r["contract_id"].as_str())
        .expect("mismatch row")
        .to_string();
    let row = rows.iter().find(|r| r["class"] == "archived_somewhere").expect("row");
    assert_eq!(row["per_participant"]["participant1"], "archived");
    assert_eq!(row["per_participant"]["participant2"], "active");
    assert!(row["stakeholders"].as_array().is_some_and(|s| s.len() == 2));

    // Union is blocked until the operator decides the archived rows; the error names them.
    let runbook = format!("{dir}/union.runbook.toml");
    let out = run(&["plan", "--config", &config, "--strategy", "union", "--out", &runbook]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for id in archived.iter().chain([&mismatch]) {
        assert!(err.contains(id.as_str()), "the refusal names {id}: {err}");
    }
    assert!(err.contains("--decide"), "{err}");
    assert!(
        !Path::new(&runbook).exists(),
        "no runbook is written for an undecided plan"
    );

    // Adopting one version of the differing row is impossible on Canton (its contract
    // store never replaces a stored contract): refused with the reason.
    let adopt = format!("{mismatch}=adopt:participant1");
    let out = run(&[
        "plan",
        "--config",
        &config,
        "--strategy",
        "union",
        "--decide",
        &adopt,
        "--out",
        &runbook,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Stored contracts are immutable") && err.contains("exclude"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");

    let d1 = format!("{}=purge", archived[0]);
    let d2 = format!("{}=exclude", archived[1]);
    let d3 = format!("{mismatch}=exclude");
    let planned = ok_json(&[
        "plan",
        "--config",
        &config,
        "--strategy",
        "union",
        "--decide",
        &d1,
        "--decide",
        &d2,
        "--decide",
        &d3,
        "--out",
        &runbook,
        "--format",
        "json",
    ]);
    assert_eq!(planned["moved"], 6);
    let hash = planned["plan_hash"].as_str().expect("hash").to_string();
    assert!(std::fs::read_to_string(&runbook).expect("runbook").contains(&hash));

    // A dry run prints the calls it would make and changes nothing.
    let dry = run(&["run", "--config", &config, &runbook, "--dry-run"]);
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    let text = String::from_utf8_lossy(&dry.stdout);
    for rpc in [
        "DisconnectSynchronizer",
        "ModifySynchronizer",
        "PurgeContracts",
        "ImportAcs",
        "ChangeAssignation",
        "ReconnectSynchronizer",
    ] {
        assert!(text.contains(rpc), "dry run lists {rpc}:\n{text}");
    }
    let cmp_after = ok_json(&["compare", "--config", &config, "--format", "json"]);
    assert_eq!(cmp_after["summary"], cmp["summary"], "the dry run changed nothing");

    // Without --yes and without a terminal, run refuses.
    let refused = run(&["run", "--config", &config, &runbook]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));

    let done = run(&["run", "--config", &config, &runbook, "--yes"]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let stdout = String::from_utf8_lossy(&done.stdout);
    let last: Value = serde_json::from_str(stdout.lines().last().expect("final line")).expect("JSON final line");
    assert_eq!(last["ok"], true);
    assert_eq!(last["moved"]["participant2"], 6);
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(
        err.lines()
            .any(|l| l.starts_with("run move: ") && l.contains(" contracts in ")),
        "each phase ends with its progress line: {err}"
    );
    assert_eq!(last["added"]["participant2"], 2);
    assert!(
        last["journal"]
            .as_str()
            .is_some_and(|j| j.ends_with("union.journal.jsonl"))
    );

    // Running the finished runbook again is harmless: everything is skipped.
    let again = run(&["run", "--config", &config, &runbook, "--yes"]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));

    // The journal `plan` began and `run` continued reports the whole incident: the
    // decisions, the unattended confirmation, both runs, and the diff of the row whose
    // payloads differ (read again from the participants for the record).
    let journal = format!("{dir}/union.journal.jsonl");
    let report = run(&["report", &journal]);
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(text.contains("| Status | Recovered and verified |"), "{text}");
    assert!(text.contains("sealed |"), "{text}");
    assert!(text.contains(&format!("Plan hash: `{hash}`")), "{text}");
    assert!(text.contains("with `--yes` (no typed confirmation)"), "{text}");
    assert!(text.contains("chose the union strategy**"), "{text}");
    for id in archived.iter().chain([&mismatch]) {
        assert!(
            text.contains(&format!("| `{id}` |")),
            "the decided row {id} is listed: {text}"
        );
    }
    assert!(text.contains("### Run 2:"), "the rerun: {text}");
    let appendix = text.split("## Appendix A").nth(1).expect("appendix");
    assert!(
        appendix.contains(&format!("### `{mismatch}`")) && appendix.contains("```diff\n---"),
        "{appendix}"
    );
    let wf = run(&["lab", "workflow", "--dir", &dir]);
    assert!(wf.status.success(), "{}", String::from_utf8_lossy(&wf.stdout));

    // A tampered runbook is refused.
    let text = std::fs::read_to_string(&runbook)
        .expect("runbook")
        .replace("batch_size = 500", "batch_size = 501");
    std::fs::write(&runbook, text).expect("write");
    let tampered = run(&["run", "--config", &config, &runbook, "--dry-run"]);
    assert!(!tampered.status.success());
    assert!(String::from_utf8_lossy(&tampered.stderr).contains("plan hash mismatch"));
}

#[test]
fn export_console_writes_each_participants_script_and_refuses_bad_input() {
    use std::os::unix::fs::PermissionsExt as _;
    let (lab, _) = LabDir::up("diverged");
    let (dir, config) = (lab.dir.clone(), lab.config.clone());
    let runbook = format!("{dir}/intersection.runbook.toml");
    let planned = ok_json(&[
        "plan",
        "--config",
        &config,
        "--strategy",
        "intersection",
        "--out",
        &runbook,
        "--format",
        "json",
    ]);
    let hash = planned["plan_hash"].as_str().expect("hash").to_string();
    let moved = planned["moved"].as_u64().expect("moved");
    assert!(moved > 0);

    for dialect in ["3", "2"] {
        let out = format!("{dir}/console-{dialect}");
        let written = ok_json(&[
            "export-console",
            &runbook,
            "--out",
            &out,
            "--dialect",
            dialect,
            "--format",
            "json",
        ]);
        assert_eq!(written["plan_hash"], hash.as_str());
        assert_eq!(written["dialect"], dialect);
        let scripts: Vec<&str> = written["participants"]
            .as_array()
            .expect("participants")
            .iter()
            .filter_map(|p| p["participant"].as_str())
            .collect();
        assert_eq!(scripts, ["participant1", "participant2"]);
        for p in ["participant1", "participant2"] {
            let script = Path::new(&out).join(format!("{p}.canton"));
            let text = std::fs::read_to_string(&script).expect("script");
            assert!(
                text.contains(&format!("// plan         {hash}")),
                "{dialect} {p}: plan hash in the header"
            );
            assert!(text.contains(&format!("// participant  {p}")), "{dialect} {p}");
            assert!(text.contains(&format!("// dialect      {dialect} ")), "{dialect} {p}");
            let call = if dialect == "2" {
                "repair.change_domain("
            } else {
                "repair.change_assignation("
            };
            assert!(text.contains(call), "{dialect} {p}: {call}");
            let mode = std::fs::metadata(&script).expect("metadata").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{dialect} {p}: owner-only");
            let moves = std::fs::read_to_string(Path::new(&out).join(format!("{p}.move.ids"))).expect("move ids");
            assert_eq!(
                moves.lines().count() as u64,
                moved,
                "{dialect} {p}: every agreed contract moves"
            );
            assert!(
                !text.contains(moves.lines().next().expect("an id")),
                "ids stay in the data file"
            );
        }
    }

    // One line, non-zero: a missing runbook, a tampered one, an --out that cannot be a directory.
    let fails = |args: &[&str], needle: &str| {
        let out = run(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    };
    let console_dir = format!("{dir}/console-x");
    fails(
        &["export-console", &format!("{dir}/nope.toml"), "--out", &console_dir],
        "reading runbook",
    );
    fails(
        &["export-console", &runbook, "--out", &format!("{runbook}/scripts")],
        "cannot write the console scripts to",
    );
    let tampered = format!("{dir}/tampered.runbook.toml");
    let text = std::fs::read_to_string(&runbook)
        .expect("runbook")
        .replace("batch_size = 500", "batch_size = 501");
    std::fs::write(&tampered, text).expect("write");
    fails(
        &["export-console", &tampered, "--out", &console_dir],
        "plan hash mismatch",
    );
    assert!(
        !Path::new(&console_dir).exists(),
        "nothing is written for a refused runbook"
    );
}
