//! Side-by-side payload diff for two versions of one contract, as plain data for the TUI and
//! as unified text for reports.
//!
//! Both payloads are rendered as canonical pretty JSON (keys sorted at every level), so the
//! same payload always renders to the same text whichever participant it came from.

use std::time::Duration;

use serde_json::{Map, Value};
use similar::{Algorithm, ChangeTag, DiffOp, DiffTag as OpTag, InlineChangeMode, InlineChangeOptions, TextDiff};

/// Bounds the work per diff: a pathological payload degrades to a coarser diff, never a hang.
const LINE_TIMEOUT: Duration = Duration::from_millis(200);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffTag {
    Equal,
    /// Only on the left.
    Delete,
    /// Only on the right.
    Insert,
    /// Changed: the left and right versions share the row.
    Replace,
}

impl DiffTag {
    /// Gutter symbol; keeps the diff readable without colour.
    pub fn symbol(self) -> char {
        match self {
            DiffTag::Equal => ' ',
            DiffTag::Delete => '-',
            DiffTag::Insert => '+',
            DiffTag::Replace => '~',
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// Part of what changed within the line.
    pub emphasised: bool,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffLine {
    /// 1-based line number in that side's rendering.
    pub number: usize,
    pub fragments: Vec<Fragment>,
}

impl DiffLine {
    pub fn text(&self) -> String {
        self.fragments.iter().map(|f| f.text.as_str()).collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffRow {
    pub left: Option<DiffLine>,
    pub right: Option<DiffLine>,
    pub tag: DiffTag,
}

/// Pretty JSON with keys sorted at every level, whatever serde_json's map type is.
pub fn canonical_json(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(&sorted(value)).unwrap_or_default();
    text.push('\n');
    text
}

/// Rebuilds maps in key order: with serde_json's `preserve_order` feature enabled anywhere in
/// the build, maps keep insertion order, and two equal payloads could render differently.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&map[k]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn line_diff<'a>(left: &'a str, right: &'a str) -> TextDiff<'a, 'a, str> {
    TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .timeout(LINE_TIMEOUT)
        .diff_lines(left, right)
}

/// Rows for a two-column view. Replaced lines are paired row by row so a changed field
/// shows once with both versions, the changed characters emphasised.
pub fn side_by_side(left: &Value, right: &Value) -> Vec<DiffRow> {
    let (l, r) = (canonical_json(left), canonical_json(right));
    let diff = line_diff(&l, &r);
    let mut rows = Vec::new();
    for op in diff.ops() {
        match op.tag() {
            OpTag::Equal | OpTag::Delete | OpTag::Insert => plain_rows(&diff, op, &mut rows),
            OpTag::Replace => replace_rows(&diff, op, &mut rows),
        }
    }
    rows
}

fn plain_rows(diff: &TextDiff<'_, '_, str>, op: &DiffOp, rows: &mut Vec<DiffRow>) {
    for change in diff.iter_changes(op) {
        let line = |index: Option<usize>| {
            index.map(|i| DiffLine {
                number: i + 1,
                fragments: vec![Fragment {
                    emphasised: false,
                    text: strip_newline(change.value()).to_owned(),
                }],
            })
        };
        let (left, right, tag) = match change.tag() {
            ChangeTag::Equal => (line(change.old_index()), line(change.new_index()), DiffTag::Equal),
            ChangeTag::Delete => (line(change.old_index()), None, DiffTag::Delete),
            ChangeTag::Insert => (None, line(change.new_index()), DiffTag::Insert),
        };
        rows.push(DiffRow { left, right, tag });
    }
}

fn replace_rows(diff: &TextDiff<'_, '_, str>, op: &DiffOp, rows: &mut Vec<DiffRow>) {
    let mut options = InlineChangeOptions::new();
    options.mode(InlineChangeMode::Chars);
    let (mut olds, mut news) = (Vec::new(), Vec::new());
    for change in diff.iter_inline_changes_with_options(op, options) {
        let (index, side) = match change.tag() {
            ChangeTag::Delete => (change.old_index(), &mut olds),
            ChangeTag::Insert => (change.new_index(), &mut news),
            ChangeTag::Equal => continue,
        };
        let fragments = change
            .iter_strings_lossy()
            .map(|(emphasised, text)| Fragment {
                emphasised,
                text: strip_newline(&text).to_owned(),
            })
            .filter(|f| !f.text.is_empty())
            .collect();
        if let Some(i) = index {
            side.push(DiffLine {
                number: i + 1,
                fragments,
            });
        }
    }
    let n = olds.len().max(news.len());
    let (mut olds, mut news) = (olds.into_iter(), news.into_iter());
    for _ in 0..n {
        let (left, right) = (olds.next(), news.next());
        let tag = match (&left, &right) {
            (Some(_), Some(_)) => DiffTag::Replace,
            (Some(_), None) => DiffTag::Delete,
            _ => DiffTag::Insert,
        };
        rows.push(DiffRow { left, right, tag });
    }
}

fn strip_newline(s: &str) -> &str {
    s.strip_suffix('\n').unwrap_or(s)
}

/// Unified diff text (3 lines of context) for the incident report's appendix.
pub fn unified_diff(left: &Value, right: &Value, left_label: &str, right_label: &str) -> String {
    let (l, r) = (canonical_json(left), canonical_json(right));
    line_diff(&l, &r)
        .unified_diff()
        .context_radius(3)
        .header(left_label, right_label)
        .to_string()
}

/// Share of identical lines, 0.0–1.0, for a "% same" badge.
pub fn similarity(left: &Value, right: &Value) -> f32 {
    let (l, r) = (canonical_json(left), canonical_json(right));
    line_diff(&l, &r).ratio()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn iou(amount: &str) -> Value {
        json!({
            "payer": "Alice::1220",
            "owner": "Bob::1220",
            "amount": {"value": amount, "currency": "USD"},
            "viewers": [],
        })
    }

    #[test]
    fn canonical_rendering_sorts_keys_at_every_level() {
        let text = canonical_json(&json!({"b": 1, "a": {"z": 1, "y": 2}}));
        assert_eq!(
            text,
            "{\n  \"a\": {\n    \"y\": 2,\n    \"z\": 1\n  },\n  \"b\": 1\n}\n"
        );
    }

    #[test]
    fn identical_payloads_give_only_equal_rows() {
        let rows = side_by_side(&iou("100.0"), &iou("100.0"));
        assert!(rows.iter().all(|r| r.tag == DiffTag::Equal));
        assert_eq!(rows.len(), canonical_json(&iou("100.0")).lines().count());
        assert_eq!(similarity(&iou("1"), &iou("1")), 1.0);
    }

    #[test]
    fn a_changed_amount_is_one_row_with_only_the_digit_emphasised() {
        let rows = side_by_side(&iou("100.0"), &iou("100.5"));
        let changed: Vec<&DiffRow> = rows.iter().filter(|r| r.tag != DiffTag::Equal).collect();
        assert_eq!(changed.len(), 1, "{rows:#?}");
        let row = changed[0];
        assert_eq!(row.tag, DiffTag::Replace);
        let (left, right) = (row.left.as_ref().unwrap(), row.right.as_ref().unwrap());
        assert_eq!(left.text(), "    \"value\": \"100.0\"");
        assert_eq!(right.text(), "    \"value\": \"100.5\"");
        assert_eq!(left.number, right.number);
        let emphasised: Vec<&str> = right
            .fragments
            .iter()
            .filter(|f| f.emphasised)
            .map(|f| f.text.as_str())
            .collect();
        assert_eq!(emphasised, ["5"]);
        assert!(left.fragments.iter().any(|f| f.emphasised && f.text == "0"));
    }

    #[test]
    fn added_and_removed_fields_have_one_empty_side() {
        let mut right = iou("100.0");
        right["observer"] = json!("Carol::1220");
        let rows = side_by_side(&iou("100.0"), &right);
        let insert = rows.iter().find(|r| r.tag == DiffTag::Insert).unwrap();
        assert!(insert.left.is_none());
        assert!(insert.right.as_ref().unwrap().text().contains("Carol"));
        let rows = side_by_side(&right, &iou("100.0"));
        let delete = rows.iter().find(|r| r.tag == DiffTag::Delete).unwrap();
        assert!(delete.right.is_none());
        assert_eq!(DiffTag::Delete.symbol(), '-');
    }

    #[test]
    fn uneven_replacements_are_padded() {
        let rows = side_by_side(&json!({"a": [1, 2, 3]}), &json!({"a": [4]}));
        let lefts = rows.iter().filter(|r| r.left.is_some()).count();
        let rights = rows.iter().filter(|r| r.right.is_some()).count();
        assert_eq!(lefts, canonical_json(&json!({"a": [1, 2, 3]})).lines().count());
        assert_eq!(rights, canonical_json(&json!({"a": [4]})).lines().count());
        assert!(rows.iter().any(|r| r.tag == DiffTag::Delete && r.right.is_none()));
    }

    #[test]
    fn unified_diff_names_both_sides_and_the_change() {
        let text = unified_diff(&iou("100.0"), &iou("100.5"), "participant1", "participant2");
        assert!(text.starts_with("--- participant1\n+++ participant2\n"), "{text}");
        assert!(text.contains("-    \"value\": \"100.0\"\n"), "{text}");
        assert!(text.contains("+    \"value\": \"100.5\"\n"), "{text}");
        assert!(unified_diff(&iou("1"), &iou("1"), "a", "b").is_empty());
    }

    fn payload() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let scalar = prop_oneof![
            any::<u8>().prop_map(|n| json!(n)),
            "[a-c0-9.]{0,6}".prop_map(|t| json!(t)),
        ];
        let field = (scalar.clone(), prop::collection::vec(scalar, 0..3))
            .prop_map(|(v, list)| if list.is_empty() { v } else { json!(list) });
        prop::collection::btree_map("[a-e]", field, 0..6).prop_map(|m| Value::Object(m.into_iter().collect()))
    }

    proptest::proptest! {
        #[test]
        fn rows_rebuild_both_sides_in_order(l in payload(), r in payload()) {
            let rows = side_by_side(&l, &r);
            let side = |pick: fn(&DiffRow) -> Option<&DiffLine>| -> (String, Vec<usize>) {
                let lines: Vec<&DiffLine> = rows.iter().filter_map(pick).collect();
                let text = lines.iter().map(|l| l.text() + "\n").collect();
                (text, lines.iter().map(|l| l.number).collect())
            };
            let (left, left_numbers) = side(|r| r.left.as_ref());
            let (right, right_numbers) = side(|r| r.right.as_ref());
            proptest::prop_assert_eq!(left, canonical_json(&l));
            proptest::prop_assert_eq!(right, canonical_json(&r));
            let counting = |n: &[usize]| n.iter().enumerate().all(|(i, &x)| x == i + 1);
            proptest::prop_assert!(counting(&left_numbers) && counting(&right_numbers));
            for row in &rows {
                let both = row.left.is_some() && row.right.is_some();
                proptest::prop_assert_eq!(both, matches!(row.tag, DiffTag::Equal | DiffTag::Replace));
            }
        }
    }
}
