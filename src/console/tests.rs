use std::collections::{BTreeMap, BTreeSet};

use crate::plan::testkit::{comparison, plan_for, union_request};
use crate::plan::{Action, PhaseKind, Plan};
use crate::reconcile::testkit::{hold, snapshot};
use crate::reconcile::{Inspection, Interner, SelectionRequest, Strategy, compare};

use super::canton::NOT_USED;
use super::files::slug;
use super::*;

/// The plan tests' union fixture with batches of 2: p1 purges d1 and x1 and imports d1 from
/// p2; p2 imports m1 from p1; p3 imports d1 from p2; everyone moves, p1 in three batches.
fn fixture() -> Plan {
    plan_for(&comparison(), &union_request(), 2).expect("plan")
}

fn snap(name: &str, text: &str) {
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, text);
    });
}

/// A script with its data files, as an operator would receive them.
fn bundle(c: &ParticipantConsole) -> String {
    let mut out = c.script.text.clone();
    for d in &c.data {
        out.push_str(&format!("\n==== {} ====\n{}", d.name, d.text));
    }
    out
}

#[test]
fn scripts_for_every_dialect_are_stable() {
    let plan = fixture();
    for (dialect, tag) in [(Dialect::Canton3, "v3"), (Dialect::Canton2, "v2")] {
        let export = export(&plan, dialect).expect("export");
        let names: Vec<&str> = export.participants.iter().map(|p| p.participant.as_str()).collect();
        assert_eq!(names, ["p1", "p2", "p3"]);
        assert!(export.idle.is_empty());
        for p in &export.participants {
            snap(&format!("console_{tag}_{}", p.participant), &bundle(p));
        }
    }
}

#[test]
fn the_3_4_dialect_differs_from_3_5_only_in_the_hand_off_commands() {
    let plan = fixture();
    let v35 = participant_script(&plan, Dialect::Canton3, "p1").expect("3.5");
    let v34 = participant_script(&plan, Dialect::Canton34, "p1").expect("3.4");
    // Code only: the citations differ in their branch on every line.
    let code = |t: &str| -> String {
        t.lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let (a, b) = (code(&v35.script.text), code(&v34.script.text));
    let diff = similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(0)
        .header("3", "3.4")
        .to_string();
    snap("console_v34_vs_v3_p1", &diff);
    assert_eq!(v35.data, v34.data, "the same data files");
}

/// `name("arg", 12, …)` calls in `text`: the literal arguments of each, in order.
fn calls(text: &str, name: &str) -> Vec<Vec<String>> {
    let pattern = format!("{name}(");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(&pattern) {
        let before = &rest[..at];
        rest = &rest[at + pattern.len()..];
        if before.ends_with("def ") || before.chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(end) = rest.find(')') else { break };
        let args = rest[..end]
            .split(", ")
            .map(|a| a.trim().trim_matches('"').to_string())
            .collect();
        out.push(args);
    }
    out
}

/// The ids a script reads through `call`, resolved through its data files and checked
/// against the count and digest the script pins.
fn read_back(c: &ParticipantConsole, file: &str, count: &str, digest: &str) -> Vec<String> {
    let data = c
        .data
        .iter()
        .find(|d| d.name == file)
        .unwrap_or_else(|| panic!("{file} is shipped"));
    assert_eq!(crate::plan::text_digest(&data.text), digest, "{file} digest");
    let ids: Vec<String> = data.text.lines().map(str::to_string).collect();
    assert_eq!(ids.len().to_string(), count, "{file} count");
    ids
}

fn plan_ids(plan: &Plan, kind: PhaseKind, keep: impl Fn(&str, &Action) -> bool) -> Vec<Vec<String>> {
    plan.phase(kind)
        .expect("phase")
        .steps
        .iter()
        .filter(|s| keep(&s.participant, &s.action))
        .map(|s| s.action.contract_ids().iter().map(|c| c.to_string()).collect())
        .collect()
}

fn set(lists: &[Vec<String>]) -> BTreeSet<String> {
    lists.iter().flatten().cloned().collect()
}

#[test]
fn every_script_carries_exactly_its_participants_ids_per_action() {
    let plan = fixture();
    for dialect in Dialect::ALL {
        let export = export(&plan, dialect).expect("export");
        for c in &export.participants {
            let p = c.participant.as_str();
            let text = &c.script.text;
            let reads: BTreeMap<String, Vec<String>> = text
                .lines()
                .filter_map(|l| {
                    let (var, call) = l.trim().strip_prefix("val ")?.split_once(" = readIds(\"")?;
                    let call = format!("\"{call}");
                    let args: Vec<String> = call
                        .trim_end_matches(')')
                        .split(", ")
                        .map(|a| a.trim_matches('"').to_string())
                        .collect();
                    Some((var.to_string(), read_back(c, &args[0], &args[1], &args[2])))
                })
                .collect();

            let purge = plan_ids(&plan, PhaseKind::Purge, |q, _| q == p);
            assert_eq!(
                reads
                    .get("purge")
                    .map(|ids| ids.iter().cloned().collect::<BTreeSet<_>>()),
                (!purge.is_empty()).then(|| set(&purge)),
                "{dialect} {p} purge"
            );

            let batch: usize = text
                .lines()
                .find_map(|l| l.strip_prefix("val batchSize = "))
                .and_then(|n| n.parse().ok())
                .expect("batch size");
            let moves = plan_ids(&plan, PhaseKind::Move, |q, _| q == p);
            let scripted: Vec<Vec<String>> = reads
                .get("moves")
                .map(|ids| crate::batch::id_batches(ids, batch).map(<[String]>::to_vec).collect())
                .unwrap_or_default();
            assert_eq!(scripted, moves, "{dialect} {p} move batches");

            let verify = plan_ids(&plan, PhaseKind::Verify, |q, _| q == p);
            assert_eq!(reads.get("expected"), verify.first(), "{dialect} {p} verify");

            let imports: BTreeMap<String, BTreeSet<String>> = calls(text, "importFrom")
                .into_iter()
                .map(|a| (a[0].clone(), read_back(c, &a[2], &a[3], &a[4]).into_iter().collect()))
                .collect();
            let planned: BTreeMap<String, BTreeSet<String>> = plan
                .phase(PhaseKind::Import)
                .expect("import")
                .steps
                .iter()
                .filter(|s| s.participant == p)
                .map(|s| match &s.action {
                    Action::ImportAcs {
                        source_participant,
                        contract_ids,
                        ..
                    } => (
                        source_participant.clone(),
                        contract_ids.iter().map(|c| c.to_string()).collect(),
                    ),
                    other => panic!("{other:?}"),
                })
                .collect();
            assert_eq!(imports, planned, "{dialect} {p} imports");

            let exports: BTreeMap<String, BTreeSet<String>> = calls(text, "exportFor")
                .into_iter()
                .map(|a| (a[0].clone(), read_back(c, &a[2], &a[3], &a[4]).into_iter().collect()))
                .collect();
            let planned: BTreeMap<String, BTreeSet<String>> = plan
                .phase(PhaseKind::Import)
                .expect("import")
                .steps
                .iter()
                .filter_map(|s| match &s.action {
                    Action::ImportAcs {
                        source_participant,
                        contract_ids,
                        ..
                    } if source_participant == p => Some((
                        s.participant.clone(),
                        contract_ids.iter().map(|c| c.to_string()).collect(),
                    )),
                    _ => None,
                })
                .collect();
            assert_eq!(exports, planned, "{dialect} {p} exports");

            // No id is written into the script itself, and nothing else is shipped.
            for id in plan.expected_snapshots().values().flat_map(|e| &e.active) {
                assert!(!text.contains(&format!("\"{id}\"")), "{dialect} {p}: {id} inline");
            }
            let used: BTreeSet<String> = text
                .lines()
                .flat_map(|l| {
                    l.split('"')
                        .skip(1)
                        .step_by(2)
                        .filter(|s| s.ends_with(".ids"))
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .collect();
            let shipped: BTreeSet<String> = c.data.iter().map(|d| d.name.clone()).collect();
            assert_eq!(used, shipped, "{dialect} {p} data files");
        }
    }
}

#[test]
fn the_hand_off_names_the_same_file_on_both_sides() {
    let plan = fixture();
    for dialect in Dialect::ALL {
        let export = export(&plan, dialect).expect("export");
        let by: BTreeMap<&str, &ParticipantConsole> = export
            .participants
            .iter()
            .map(|c| (c.participant.as_str(), c))
            .collect();
        let stem = format!("drill-{}", hash_prefix(plan.hash()));
        let ext = if dialect == Dialect::Canton2 {
            "contracts.bin"
        } else {
            "acs.gz"
        };
        assert_eq!(by["p2"].handoff_writes, [format!("{stem}.p2-to-p1.{ext}")]);
        assert_eq!(by["p1"].handoff_writes, [format!("{stem}.p1-to-p2.{ext}")]);
        let written: BTreeSet<&String> = export.participants.iter().flat_map(|c| &c.handoff_writes).collect();
        let read: BTreeSet<&String> = export.participants.iter().flat_map(|c| &c.handoff_reads).collect();
        assert_eq!(written, read, "every snapshot written is read, and only those");
        for c in &export.participants {
            for f in c.handoff_writes.iter().chain(&c.handoff_reads) {
                assert!(c.script.text.contains(f.as_str()), "{} names {f}", c.participant);
            }
        }
        // The shared id list is one file with one content.
        let files = export.files();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        let unique: BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(names.len(), unique.len());
        assert!(unique.contains("p2-to-p1.handoff.ids"));
    }
}

#[test]
fn every_console_command_is_cited() {
    let plan = fixture();
    for dialect in Dialect::ALL {
        for c in export(&plan, dialect).expect("export").participants {
            let text = &c.script.text;
            assert!(
                !text.contains(NOT_USED),
                "{dialect} {}: a citation is missing",
                c.participant
            );
            let citations: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with("// ") && l.contains(" — release-line-"))
                .collect();
            for line in text.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
                for prefix in ["participant.", "utils.", "repair.acs."] {
                    let mut rest = line;
                    while let Some(at) = rest.find(prefix) {
                        let call = &rest[at..];
                        rest = &rest[at + prefix.len()..];
                        let Some(open) = call.find('(') else { continue };
                        let path = &call[..open];
                        if path.contains(' ') {
                            continue;
                        }
                        let path = path.split('[').next().unwrap_or(path);
                        let method = path.rsplit('.').next().unwrap_or(path);
                        assert!(
                            citations.iter().any(|c| c.contains(&format!("{method}("))
                                || c.contains(&format!(".{method}"))
                                || c.contains(&format!(" {method} "))),
                            "{dialect} {}: {path} has no citation",
                            c.participant
                        );
                    }
                }
            }
            // The header: incident, plan hash, participant, dialect and how to run it.
            for needle in [
                "// incident     drill".to_string(),
                format!("// plan         {}", plan.hash()),
                format!("// participant  {}", c.participant),
                format!("// dialect      {dialect} — "),
                "RECOVERY_DECK_STAGE=1 bin/canton".to_string(),
            ] {
                assert!(
                    text.contains(&needle),
                    "{dialect} {}: header lacks {needle:?}",
                    c.participant
                );
            }
        }
    }
}

#[test]
fn scripts_are_balanced() {
    let plan = fixture();
    for dialect in Dialect::ALL {
        for c in export(&plan, dialect).expect("export").participants {
            let mut depth: Vec<char> = Vec::new();
            let mut in_string = false;
            for line in c.script.text.lines() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                let mut prev = ' ';
                for ch in code.chars() {
                    if in_string {
                        if ch == '"' && prev != '\\' {
                            in_string = false;
                        }
                    } else {
                        match ch {
                            '"' => in_string = true,
                            '(' | '{' | '[' => depth.push(ch),
                            ')' | '}' | ']' => {
                                let open = depth.pop();
                                let want = match ch {
                                    ')' => '(',
                                    '}' => '{',
                                    _ => '[',
                                };
                                assert_eq!(open, Some(want), "{dialect} {}: {line}", c.participant);
                            }
                            _ => {}
                        }
                    }
                    prev = ch;
                }
                assert!(!in_string, "{dialect} {}: unterminated string in {line}", c.participant);
            }
            assert!(depth.is_empty(), "{dialect} {}: unclosed {depth:?}", c.participant);
        }
    }
}

#[test]
fn long_id_lists_stay_in_the_data_files() {
    let mut i = Interner::new();
    let mut s = vec![snapshot("p1", &["Alice"]), snapshot("p2", &["Bob"])];
    let ids: Vec<String> = (0..5000).map(|n| format!("{n:064x}")).collect();
    for id in &ids {
        hold(&mut s, &mut i, &["p1", "p2"], id, &["Alice", "Bob"], 1);
    }
    let cmp = compare("lost", &s, &Inspection::new()).expect("compare");
    let plan = plan_for(&cmp, &SelectionRequest::new(Strategy::Intersection), 500).expect("plan");
    let small = fixture();
    for dialect in Dialect::ALL {
        let big = participant_script(&plan, dialect, "p1").expect("script");
        let lines = big.script.text.lines().count();
        assert!(
            lines
                < participant_script(&small, dialect, "p1")
                    .expect("small")
                    .script
                    .text
                    .lines()
                    .count(),
            "{dialect}: {lines} lines for 5000 ids"
        );
        assert!(
            big.script
                .text
                .contains("// move 5000 contracts in 10 batches of batchSize")
        );
        let moves = big.data.iter().find(|d| d.name == "p1.move.ids").expect("move file");
        assert_eq!(moves.text.lines().count(), 5000);
    }
}

#[test]
fn names_that_could_break_a_file_name_or_the_script_are_refused_or_quoted() {
    assert!(check_name("participant", "participant-1.b_2").is_ok());
    for bad in ["", ".hidden", "a/b", "a b", "p1\n", "ü"] {
        assert!(check_name("participant", bad).is_err(), "{bad:?}");
    }
    let plan = fixture();
    assert_eq!(
        participant_script(&plan, Dialect::Canton3, "p9"),
        Err(ConsoleError::UnknownParticipant("p9".into()))
    );
    assert_eq!(super::script::tests_support::ident("participant1"), "participant1");
    assert_eq!(super::script::tests_support::ident("p-1"), "`p-1`");
    assert_eq!(super::script::tests_support::ident("val"), "`val`");
    assert_eq!(super::script::tests_support::lit("a\"b\\c\n"), r#""a\"b\\c\u000a""#);
    assert_eq!(slug("lost domain/drill"), "lost-domain-drill");
    assert_eq!(hash_prefix("sha256:0123456789abcdef"), "0123456789ab");
}

#[test]
fn dialects_parse_from_their_flag_values() {
    for d in Dialect::ALL {
        assert_eq!(d.as_str().parse::<Dialect>(), Ok(d));
    }
    let err = "3.3".parse::<Dialect>().unwrap_err();
    assert!(err.contains("use 3 (Canton 3.5 and main), 3.4 or 2"), "{err}");
}
