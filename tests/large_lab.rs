//! `lab up --scenario large --contracts N --participants K --divergence F`, driven through
//! the real binary and checked through `compare --format json`, which reads every
//! participant over gRPC: the participants, the rows and the diverged classes are what
//! was asked, within the documented rounding (`round(F × N)` rows, split evenly into
//! archived, missing and differing, the remainder to the first).

mod common;

use common::binary::{ok_json, run};
use serde_json::Value;
use std::collections::BTreeMap;

/// A detached lab, stopped when dropped.
struct LabDir {
    _tmp: tempfile::TempDir,
    dir: String,
}

impl Drop for LabDir {
    fn drop(&mut self) {
        let _ = run(&["lab", "down", "--dir", &self.dir]);
    }
}

#[test]
fn a_large_lab_has_the_participants_rows_and_diverged_classes_asked_for() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_string_lossy().to_string();
    let lab = LabDir { _tmp: tmp, dir };
    let out = run(&[
        "lab",
        "up",
        "--dir",
        &lab.dir,
        "--scenario",
        "large",
        "--contracts",
        "2000",
        "--participants",
        "4",
        "--divergence",
        "0.05",
        "--detach",
        "--format",
        "json",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "lab up failed: {err}");
    // Off a terminal, staging reports plain progress lines and a last line with the rate.
    assert!(
        err.lines()
            .any(|l| l.starts_with("lab up: staging: 2,000 contracts in ") && l.ends_with("/s)")),
        "{err}"
    );
    let up: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let nodes = up["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.iter().filter(|n| n["kind"] == "participant").count(), 4);

    let config = format!("{}/incident.toml", lab.dir);
    let cmp = ok_json(&["compare", "--config", &config, "--format", "json", "--progress", "off"]);
    assert_eq!(
        cmp["participants"],
        serde_json::json!(["participant1", "participant2", "participant3", "participant4"])
    );
    let rows = cmp["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2000, "N rows, diverged ones included");
    // round(0.05 × 2000) = 100 rows: 34 archived, 33 missing, 33 differing.
    let summary = &cmp["summary"];
    assert_eq!(summary["archived_somewhere"], 34, "{summary}");
    assert_eq!(summary["missing"], 33, "{summary}");
    assert_eq!(summary["payload_mismatch"], 33, "{summary}");
    assert_eq!(summary["agreed"], 1900, "{summary}");
    assert_eq!(summary["local_only"], 0, "{summary}");

    // Each diverged row is diverged the way `diverged` is: between the two participants of
    // its pair, the payer's participant ahead of the owner's.
    for row in rows {
        let states: BTreeMap<&str, &str> = row["per_participant"]
            .as_object()
            .expect("per participant")
            .iter()
            .map(|(p, s)| (p.as_str(), s.as_str().unwrap_or("")))
            .filter(|(_, s)| *s != "not_hosted")
            .collect();
        assert_eq!(states.len(), 2, "every row spans one pair: {row}");
        let mut seen: Vec<&str> = states.values().copied().collect();
        seen.sort();
        let expected: &[&str] = match row["class"].as_str() {
            Some("agreed") => &["active", "active"],
            Some("archived_somewhere") => &["active", "archived"],
            Some("missing") => &["active", "unknown"],
            Some("payload_mismatch") => &["active", "differs"],
            other => panic!("unexpected class {other:?}: {row}"),
        };
        assert_eq!(seen, expected, "{row}");
    }
    // Every participant pays and is paid: each holds contracts.
    for p in ["participant1", "participant2", "participant3", "participant4"] {
        assert!(
            rows.iter().any(|r| r["per_participant"][p] == "active"),
            "{p} holds contracts"
        );
    }
}

#[test]
fn a_large_lab_of_a_bad_shape_is_refused_in_one_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_string_lossy().to_string();
    for (flags, says) in [
        (vec!["--participants", "1"], "--participants must be between 2 and"),
        (vec!["--divergence", "1.5"], "--divergence must be between 0 and 1"),
        (vec!["--divergence=-0.5"], "--divergence must be between 0 and 1"),
        (vec!["--contracts", "0"], "--contracts must be at least 1"),
    ] {
        let mut args = vec!["lab", "up", "--dir", &dir, "--scenario", "large", "--detach"];
        args.extend(&flags);
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{flags:?} was accepted");
        assert_eq!(err.trim().lines().count(), 1, "{flags:?}: {err}");
        assert!(err.contains(says), "{flags:?}: {err}");
        assert!(
            !std::path::Path::new(&dir).join("lostDomain").exists(),
            "{flags:?} started nodes"
        );
    }
    let out = run(&[
        "lab",
        "up",
        "--dir",
        &dir,
        "--scenario",
        "seed",
        "--participants",
        "4",
        "--detach",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("large scenario only"), "{err}");
    let out = run(&[
        "lab",
        "up",
        "--dir",
        &dir,
        "--scenario",
        "large",
        "--divergence",
        "0.1",
        "--keep-lost",
        "--detach",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("cannot go with --keep-lost"), "{err}");
}
