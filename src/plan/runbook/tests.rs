use std::collections::BTreeSet;

use crate::plan::testkit::*;
use crate::plan::{PhaseKind, Plan};
use crate::reconcile::testkit::{hold, snapshot};
use crate::reconcile::*;

use super::*;

fn meta() -> RunbookMeta {
    RunbookMeta {
        created: "2026-11-03T09:20:11Z".into(),
        proposed_by: "alice".into(),
    }
}

fn small() -> Plan {
    plan_for(&comparison(), &union_request(), 2).unwrap()
}

/// 700 agreed rows and 50 missing ones over two participants: well above the threshold.
fn large() -> Plan {
    let mut i = Interner::new();
    let mut s = vec![snapshot("p1", &["Alice"]), snapshot("p2", &["Bob"])];
    for k in 0..750 {
        let holders: &[&str] = if k % 15 == 0 { &["p1"] } else { &["p1", "p2"] };
        hold(&mut s, &mut i, holders, &format!("00{k:05x}"), &["Alice", "Bob"], 1);
    }
    let cmp = compare("lost", &s, &Inspection::new()).unwrap();
    plan_for(&cmp, &SelectionRequest::new(Strategy::Union).exclude("0000010"), 500).unwrap()
}

#[test]
fn small_plans_round_trip_inline() {
    let plan = small();
    let (text, sidecar) = to_runbook(&plan, &meta()).unwrap();
    assert!(sidecar.is_none());
    assert!(text.contains("format = \"recovery-deck-runbook\""), "{text}");
    assert!(text.contains(&format!("plan_hash = \"{}\"", plan.hash())), "{text}");
    assert!(
        text.contains("[synchronizers]") && text.contains("[[phases.steps]]"),
        "{text}"
    );
    assert_eq!(runbook_sidecar(&text).unwrap(), None);
    let loaded = load_runbook(&text, None).unwrap();
    assert_eq!(loaded.plan, plan);
    assert_eq!(loaded.meta, meta());
}

#[test]
fn manual_plans_with_exclusions_round_trip() {
    let include = ["a1", "d1", "m1"].into_iter().map(ContractId::from).collect();
    let req = SelectionRequest::new(Strategy::Manual { include })
        .decide("d1", Decision::Purge)
        .exclude("a1");
    let plan = plan_for(&comparison(), &req, 500).unwrap();
    let (text, _) = to_runbook(&plan, &meta()).unwrap();
    assert_eq!(from_runbook(&text, None).unwrap(), plan);
}

#[test]
fn large_plans_put_long_lists_in_one_sidecar() {
    let plan = large();
    let (text, sidecar) = to_runbook(&plan, &meta()).unwrap();
    let sidecar = sidecar.expect("a sidecar for a large plan");
    assert!(
        sidecar.file_name.starts_with("drill.contracts-"),
        "{}",
        sidecar.file_name
    );
    assert_eq!(runbook_sidecar(&text).unwrap(), Some(sidecar.file_name.clone()));
    assert!(text.len() < 20_000, "ids stayed inline: {} bytes", text.len());
    assert!(text.contains("count = 500"), "{text}");
    assert!(
        text.contains("exclusions = [\"0000010\"]"),
        "short lists stay inline: {text}"
    );
    assert_eq!(from_runbook(&text, Some(&sidecar.text)).unwrap(), plan);
    assert!(plan.phase(PhaseKind::Import).unwrap().steps.len() == 1);
}

#[test]
fn an_edited_id_fails_the_hash_check() {
    let plan = small();
    let (text, _) = to_runbook(&plan, &meta()).unwrap();
    let at = text.find("action = \"change_assignation\"").unwrap();
    let tampered = format!("{}{}", &text[..at], text[at..].replacen("\"a1\"", "\"a0\"", 1));
    assert_ne!(tampered, text);
    let err = from_runbook(&tampered, None).unwrap_err();
    let RunbookError::HashMismatch { recorded, computed } = &err else {
        panic!("{err}")
    };
    assert_eq!(recorded, plan.hash());
    assert_ne!(computed, plan.hash());
    let msg = err.to_string();
    assert!(
        msg.contains(recorded.as_str()) && msg.contains(computed.as_str()),
        "{msg}"
    );
}

#[test]
fn an_edited_batch_size_fails_the_hash_check() {
    let (text, _) = to_runbook(&small(), &meta()).unwrap();
    let tampered = text.replace("batch_size = 2\n", "batch_size = 3\n");
    assert_ne!(tampered, text);
    assert!(matches!(
        from_runbook(&tampered, None),
        Err(RunbookError::HashMismatch { .. })
    ));
}

#[test]
fn an_edited_sidecar_is_refused() {
    let (text, sidecar) = to_runbook(&large(), &meta()).unwrap();
    let sidecar = sidecar.unwrap();
    let tampered = sidecar.text.replacen("0000001\n", "0000001x\n", 1);
    assert_ne!(tampered, sidecar.text);
    let err = from_runbook(&text, Some(&tampered)).unwrap_err();
    assert!(matches!(err, RunbookError::SidecarDigestMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&sidecar.file_name), "{err}");

    // Re-pinning the edited sidecar in the runbook still fails: the plan hash covers the ids.
    let repinned = text.replace(
        &crate::plan::text_digest(&sidecar.text),
        &crate::plan::text_digest(&tampered),
    );
    let err = from_runbook(&repinned, Some(&tampered)).unwrap_err();
    assert!(matches!(err, RunbookError::HashMismatch { .. }), "{err}");
}

#[test]
fn a_sidecar_elsewhere_than_next_to_the_runbook_is_refused() {
    let (text, sidecar) = to_runbook(&large(), &meta()).unwrap();
    let file = sidecar.unwrap().file_name;
    for elsewhere in ["../x.txt", "/etc/passwd", "sub/x.txt", "..", "", "a\\b"] {
        let moved = text.replace(&format!("file = \"{file}\""), &format!("file = {elsewhere:?}"));
        assert_ne!(moved, text);
        for err in [
            runbook_sidecar(&moved).unwrap_err(),
            from_runbook(&moved, Some("")).unwrap_err(),
        ] {
            assert!(
                err.to_string().contains("must be a plain file name"),
                "{elsewhere}: {err}"
            );
        }
    }
}

#[test]
fn a_missing_sidecar_is_refused() {
    let (text, sidecar) = to_runbook(&large(), &meta()).unwrap();
    let file = sidecar.unwrap().file_name;
    assert_eq!(from_runbook(&text, None), Err(RunbookError::MissingSidecar { file }));
}

#[test]
fn foreign_or_future_files_are_refused() {
    let (text, _) = to_runbook(&small(), &meta()).unwrap();
    let other = text.replace(
        "format = \"recovery-deck-runbook\"",
        "format = \"ledger-rescue-runbook\"",
    );
    assert_eq!(
        from_runbook(&other, None),
        Err(RunbookError::UnknownFormat("ledger-rescue-runbook".into()))
    );
    let newer = text.replace("version = 1\n", "version = 2\n");
    assert_eq!(from_runbook(&newer, None), Err(RunbookError::UnsupportedVersion(2)));
    assert!(matches!(from_runbook("not = [toml", None), Err(RunbookError::Toml(_))));
    assert!(matches!(
        from_runbook("[x]\n", None),
        Err(RunbookError::UnknownFormat(_))
    ));
}

#[test]
fn a_second_decision_for_one_row_is_refused() {
    let (text, _) = to_runbook(&small(), &meta()).unwrap();
    let smuggled = text.replacen(
        "[[selection.decisions]]",
        "[[selection.decisions]]\ndecision = \"exclude\"\ncontract_ids = [\"x1\"]\n\n[[selection.decisions]]",
        1,
    );
    let err = from_runbook(&smuggled, None).unwrap_err();
    assert!(err.to_string().contains("more than one decision"), "{err}");
}

#[test]
fn every_list_in_the_plan_survives() {
    let plan = large();
    let (text, sidecar) = to_runbook(&plan, &meta()).unwrap();
    let back = from_runbook(&text, sidecar.as_ref().map(|s| s.text.as_str())).unwrap();
    let moved: BTreeSet<ContractId> = plan.moved_by("p2").into_iter().collect();
    assert_eq!(back.moved_by("p2").into_iter().collect::<BTreeSet<_>>(), moved);
    assert_eq!(moved.len(), 749, "union imports the 50 missing rows, one is excluded");
    assert_eq!(back.expected("p1"), plan.expected("p1"));
    assert_eq!(back.hash(), plan.hash());
}

#[test]
fn unknown_fields_anywhere_are_refused() {
    let (text, _) = to_runbook(&small(), &meta()).unwrap();
    assert!(from_runbook(&text, None).is_ok());
    let step = text.find("participant = ").expect("a step");
    for (at, tampered) in [
        ("top level", format!("colour = \"red\"\n{text}")),
        (
            "header",
            text.replacen("[runbook]\n", "[runbook]\ncolour = \"red\"\n", 1),
        ),
        (
            "selection",
            text.replacen("batch_size = 2\n", "batch_size = 2\ncolour = \"red\"\n", 1),
        ),
        ("step", format!("{}colour = \"red\"\n{}", &text[..step], &text[step..])),
    ] {
        assert_ne!(tampered, text, "{at}");
        let err = from_runbook(&tampered, None).expect_err(at).to_string();
        assert!(err.contains("unknown field `colour`"), "{at}: {err}");
        assert!(
            !err.contains('\n') && !err.contains("\"red\""),
            "one line, the line not quoted: {err}"
        );
    }
}
