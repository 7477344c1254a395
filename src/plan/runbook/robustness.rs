//! Hostile runbooks and sidecars: arbitrary text, and valid files with lines removed,
//! duplicated, swapped or edited. Loading returns an error, never panics, and whatever
//! it accepts is the plan that was written: the plan hash and the sidecar digest leave
//! no edit that changes the plan unnoticed. `fuzz/` runs the reader under libFuzzer.

use std::sync::LazyLock;

use proptest::collection::vec;
use proptest::prelude::{ProptestConfig, TestCaseError, any, prop, prop_assert, prop_assert_eq, prop_oneof, proptest};
use proptest::sample::Index;
use proptest::strategy::Strategy as _;

use super::*;
use crate::plan::testkit::*;
use crate::reconcile::testkit::{hold, snapshot};
use crate::reconcile::{Inspection, Interner, SelectionRequest, Strategy, compare};

struct Written {
    plan: Plan,
    text: String,
    sidecar: Option<String>,
}

fn written(plan: Plan) -> Written {
    let meta = RunbookMeta {
        created: "2026-11-03T09:20:11Z".into(),
        proposed_by: "alice".into(),
    };
    let (text, sidecar) = to_runbook(&plan, &meta).expect("render");
    Written {
        plan,
        text,
        sidecar: sidecar.map(|s| s.text),
    }
}

/// Inline lists, every phase, decisions and exclusions.
static SMALL: LazyLock<Written> =
    LazyLock::new(|| written(plan_for(&comparison(), &union_request(), 2).expect("plan")));

/// Above the sidecar threshold.
static LARGE: LazyLock<Written> = LazyLock::new(|| {
    let mut i = Interner::new();
    let mut s = vec![snapshot("p1", &["Alice"]), snapshot("p2", &["Bob"])];
    for k in 0..600 {
        let holders: &[&str] = if k % 15 == 0 { &["p1"] } else { &["p1", "p2"] };
        hold(&mut s, &mut i, holders, &format!("00{k:05x}"), &["Alice", "Bob"], 1);
    }
    let cmp = compare("lost", &s, &Inspection::new()).expect("compare");
    let w = written(plan_for(&cmp, &SelectionRequest::new(Strategy::Union), 250).expect("plan"));
    assert!(w.sidecar.is_some());
    w
});

/// A version 1 runbook with its sidecar, as the previous release wrote it.
static V1: LazyLock<Written> = LazyLock::new(|| {
    let text = include_str!("fixtures/v1-large.runbook.toml").to_owned();
    let sidecar = include_str!("fixtures/drill.contracts-62ddf908d7eebeca.txt").to_owned();
    let plan = from_runbook(&text, Some(&sidecar)).expect("version 1 fixture");
    Written {
        plan,
        text,
        sidecar: Some(sidecar),
    }
});

fn pick(which: u8) -> &'static Written {
    match which % 3 {
        0 => &SMALL,
        1 => &LARGE,
        _ => &V1,
    }
}

#[derive(Debug, Clone)]
enum Edit {
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    /// Inserts text at a character of a line.
    Insert(Index, Index, &'static str),
    /// Removes one character of a line.
    DeleteChar(Index, Index),
    Truncate(Index),
}

fn arb_edit() -> impl proptest::strategy::Strategy<Value = Edit> {
    let piece = prop::sample::select(vec![
        "\"",
        "'",
        "=",
        "[",
        "]",
        "[[",
        "{",
        "}",
        ",",
        "#",
        "\n",
        "\\",
        "0",
        "1",
        "-1",
        "a",
        "é",
        "😀",
        " ",
        ".",
        "@section ",
        "@set ",
        "@ids ",
        " bits",
        " list",
        ":",
        "-",
        "# ",
        "true",
        "1e9",
        "99999999999999999999",
    ]);
    prop_oneof![
        any::<Index>().prop_map(Edit::DeleteLine),
        any::<Index>().prop_map(Edit::DuplicateLine),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        (any::<Index>(), any::<Index>(), piece).prop_map(|(l, c, p)| Edit::Insert(l, c, p)),
        (any::<Index>(), any::<Index>()).prop_map(|(l, c)| Edit::DeleteChar(l, c)),
        any::<Index>().prop_map(Edit::Truncate),
    ]
}

/// Applies edits line by line, always at character boundaries (the reader takes `&str`;
/// a file that is not UTF-8 is refused when it is read).
fn edited(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    for edit in edits {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match edit {
            Edit::DeleteLine(i) => {
                lines.remove(i.index(n));
            }
            Edit::DuplicateLine(i) => {
                let k = i.index(n);
                lines.insert(k, lines[k].clone());
            }
            Edit::SwapLines(a, b) => lines.swap(a.index(n), b.index(n)),
            Edit::Insert(l, c, piece) => {
                let line = &mut lines[l.index(n)];
                let at = char_offset(line, c);
                line.insert_str(at, piece);
            }
            Edit::DeleteChar(l, c) => {
                let line = &mut lines[l.index(n)];
                if !line.is_empty() {
                    let at = char_offset(line, c).min(line.len() - 1);
                    let at = (0..=at).rev().find(|&k| line.is_char_boundary(k)).unwrap_or(0);
                    line.remove(at);
                }
            }
            Edit::Truncate(i) => lines.truncate(i.index(n)),
        }
    }
    lines.concat()
}

fn char_offset(line: &str, c: &Index) -> usize {
    let count = line.chars().count();
    if count == 0 {
        return 0;
    }
    line.char_indices().nth(c.index(count)).map_or(line.len(), |(k, _)| k)
}

/// Loading either fails or returns exactly the plan that was written.
fn check(original: &Written, text: &str, sidecar: Option<&str>) -> Result<(), TestCaseError> {
    let _ = runbook_sidecar(text);
    match load_runbook(text, sidecar) {
        Ok(loaded) => prop_assert_eq!(&loaded.plan, &original.plan, "an edited runbook loads another plan"),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_is_refused_without_panicking(
        text in prop_oneof![
            any::<String>(),
            "(\\[runbook\\]\n)?(format = \"recovery-deck-runbook\"\n)?(version = (1|-1|2|3)\n)?[ -~\n]{0,200}",
        ],
        sidecar in proptest::option::of(any::<String>()),
    ) {
        let _ = runbook_sidecar(&text);
        prop_assert!(load_runbook(&text, sidecar.as_deref()).is_err());
    }

    #[test]
    fn an_edited_runbook_loads_the_written_plan_or_nothing(
        which in any::<u8>(),
        edits in vec(arb_edit(), 1..4),
    ) {
        let original = pick(which);
        let text = edited(&original.text, &edits);
        check(original, &text, original.sidecar.as_deref())?;
    }

    #[test]
    fn an_edited_sidecar_is_refused(v1 in any::<bool>(), edits in vec(arb_edit(), 1..4)) {
        let original: &Written = if v1 { &V1 } else { &LARGE };
        let sidecar = edited(original.sidecar.as_deref().expect("sidecar"), &edits);
        check(original, &original.text, Some(&sidecar))?;
        if sidecar != original.sidecar.as_deref().unwrap_or_default() {
            prop_assert!(load_runbook(&original.text, Some(&sidecar)).is_err());
        }
    }

    /// A forged runbook that re-pins an edited sidecar still fails on the plan hash, and
    /// the sidecar parser itself takes any text.
    #[test]
    fn a_repinned_sidecar_is_refused(v1 in any::<bool>(), edits in vec(arb_edit(), 1..4), text in any::<String>()) {
        let original: &Written = if v1 { &V1 } else { &LARGE };
        let pinned = original.sidecar.as_deref().expect("sidecar");
        let sidecar = edited(pinned, &edits);
        let forged = original
            .text
            .replace(&crate::plan::text_digest(pinned), &crate::plan::text_digest(&sidecar));
        check(original, &forged, Some(&sidecar))?;
        let read = |text: &str| {
            let _ = table::read(&mut lines::HashedLines::new("f", &mut text.as_bytes()));
            let _ = sidecar_v1::parse(&mut lines::HashedLines::new("f", &mut text.as_bytes()));
        };
        read(&text);
        read(&format!("{}\n{text}", table::MAGIC));
        read(&format!("{}\n@ids 2\n{text}", table::MAGIC));
        read(&format!("{}\n{text}", sidecar_v1::MAGIC));
    }
}
