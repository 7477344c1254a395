//! Daml values as the Ledger API carries them: small builders and accessors, and the
//! conversion to Daml's JSON encoding that `search` prints (DESIGN §4): record → object
//! keyed by label, Numeric and Int64 → string, Party/Text/ContractId → string,
//! List → array, Optional → value or null.

use crate::wire::ledger::{self, Identifier, Record, RecordField, Value, value::Sum};
use serde_json::{Map, Value as Json};

pub fn record(fields: Vec<(&str, Value)>) -> Record {
    Record {
        record_id: None,
        fields: fields
            .into_iter()
            .map(|(label, value)| RecordField {
                label: label.to_string(),
                value: Some(value),
            })
            .collect(),
    }
}

fn of(sum: Sum) -> Value {
    Value { sum: Some(sum) }
}

pub fn party(p: &str) -> Value {
    of(Sum::Party(p.to_string()))
}

pub fn text(t: &str) -> Value {
    of(Sum::Text(t.to_string()))
}

pub fn numeric(n: &str) -> Value {
    of(Sum::Numeric(n.to_string()))
}

pub fn list(elements: Vec<Value>) -> Value {
    of(Sum::List(ledger::List { elements }))
}

pub fn nested(r: Record) -> Value {
    of(Sum::Record(r))
}

pub fn unit() -> Value {
    of(Sum::Unit(()))
}

/// The value of the field labelled `label`.
pub fn field<'a>(r: &'a Record, label: &str) -> Option<&'a Value> {
    r.fields
        .iter()
        .find(|f| f.label == label)
        .and_then(|f| f.value.as_ref())
}

pub fn as_party(v: &Value) -> Option<&str> {
    match &v.sum {
        Some(Sum::Party(p)) => Some(p),
        _ => None,
    }
}

pub fn as_text(v: &Value) -> Option<&str> {
    match &v.sum {
        Some(Sum::Text(t)) => Some(t),
        _ => None,
    }
}

pub fn as_numeric(v: &Value) -> Option<&str> {
    match &v.sum {
        Some(Sum::Numeric(n)) => Some(n),
        _ => None,
    }
}

pub fn as_record(v: &Value) -> Option<&Record> {
    match &v.sum {
        Some(Sum::Record(r)) => Some(r),
        _ => None,
    }
}

pub fn as_list(v: &Value) -> Option<&[Value]> {
    match &v.sum {
        Some(Sum::List(l)) => Some(&l.elements),
        _ => None,
    }
}

/// `Module:Entity`, the qualified name pcs_search filters on.
pub fn qualified_name(id: &Identifier) -> String {
    format!("{}:{}", id.module_name, id.entity_name)
}

/// Daml `Decimal` is `Numeric 10`; the Ledger API prints it with all ten decimals. Returns
/// `None` for anything that is not a plain decimal number within Numeric's 38 digits.
pub fn normalize_decimal(input: &str) -> Option<String> {
    const SCALE: usize = 10;
    let s = input.trim();
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, f),
        None => (digits, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.chars().all(|c| c.is_ascii_digit()) || !frac_part.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let frac_trimmed = frac_part.trim_end_matches('0');
    if frac_trimmed.len() > SCALE {
        return None;
    }
    let int_norm = int_part.trim_start_matches('0');
    let int_norm = if int_norm.is_empty() { "0" } else { int_norm };
    if int_norm.len() + SCALE > 38 {
        return None;
    }
    let frac = format!("{frac_trimmed:0<SCALE$}");
    let is_zero = int_norm == "0" && frac.chars().all(|c| c == '0');
    let sign = if negative && !is_zero { "-" } else { "" };
    Some(format!("{sign}{int_norm}.{frac}"))
}

/// Daml JSON encoding of a record (labels are required; unlabelled fields get `_N`).
pub fn record_to_json(r: &Record) -> Json {
    let mut map = Map::new();
    for (i, f) in r.fields.iter().enumerate() {
        let key = if f.label.is_empty() {
            format!("_{}", i + 1)
        } else {
            f.label.clone()
        };
        let v = f.value.as_ref().map(value_to_json).unwrap_or(Json::Null);
        map.insert(key, v);
    }
    Json::Object(map)
}

pub fn value_to_json(v: &Value) -> Json {
    match &v.sum {
        None => Json::Null,
        Some(Sum::Unit(())) => Json::Object(Map::new()),
        Some(Sum::Bool(b)) => Json::Bool(*b),
        Some(Sum::Int64(i)) => Json::String(i.to_string()),
        Some(Sum::Date(d)) => Json::String(date_string(*d)),
        Some(Sum::Timestamp(t)) => Json::String(timestamp_string(*t)),
        Some(Sum::Numeric(n)) | Some(Sum::Party(n)) | Some(Sum::Text(n)) | Some(Sum::ContractId(n)) => {
            Json::String(n.clone())
        }
        Some(Sum::Optional(o)) => o.value.as_deref().map(value_to_json).unwrap_or(Json::Null),
        Some(Sum::List(l)) => Json::Array(l.elements.iter().map(value_to_json).collect()),
        Some(Sum::TextMap(m)) => Json::Object(
            m.entries
                .iter()
                .map(|e| {
                    let v = e.value.as_ref().map(value_to_json).unwrap_or(Json::Null);
                    (e.key.clone(), v)
                })
                .collect(),
        ),
        Some(Sum::GenMap(m)) => Json::Array(
            m.entries
                .iter()
                .map(|e| {
                    let k = e.key.as_ref().map(value_to_json).unwrap_or(Json::Null);
                    let v = e.value.as_ref().map(value_to_json).unwrap_or(Json::Null);
                    Json::Array(vec![k, v])
                })
                .collect(),
        ),
        Some(Sum::Record(r)) => record_to_json(r),
        Some(Sum::Variant(var)) => {
            let mut m = Map::new();
            m.insert("tag".into(), Json::String(var.constructor.clone()));
            let inner = var.value.as_deref().map(value_to_json).unwrap_or(Json::Null);
            m.insert("value".into(), inner);
            Json::Object(m)
        }
        Some(Sum::Enum(e)) => Json::String(e.constructor.clone()),
    }
}

/// A record in Daml's JSON encoding, written straight to a serializer: the same text as
/// `record_to_json(r).to_string()` (object keys in byte order, a repeated key keeps its
/// last value, as the map does) without building the `serde_json::Value` tree. The
/// survey hashes a million of these; the tree was most of its cost.
#[derive(Debug, Clone, Copy)]
pub struct RecordJson<'a>(pub &'a Record);

impl serde::Serialize for RecordJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let keyed = self.0.fields.iter().enumerate().map(|(i, f)| {
            let key = if f.label.is_empty() {
                std::borrow::Cow::Owned(format!("_{}", i + 1))
            } else {
                std::borrow::Cow::Borrowed(f.label.as_str())
            };
            (key, f.value.as_ref())
        });
        object(s, keyed.collect())
    }
}

/// A value in Daml's JSON encoding (see [`RecordJson`]).
#[derive(Debug, Clone, Copy)]
struct ValueJson<'a>(Option<&'a Value>);

impl serde::Serialize for ValueJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let Some(sum) = self.0.and_then(|v| v.sum.as_ref()) else {
            return s.serialize_unit();
        };
        match sum {
            Sum::Unit(()) => object(s, Vec::new()),
            Sum::Bool(b) => s.serialize_bool(*b),
            Sum::Int64(i) => s.collect_str(i),
            Sum::Date(d) => s.serialize_str(&date_string(*d)),
            Sum::Timestamp(t) => s.serialize_str(&timestamp_string(*t)),
            Sum::Numeric(n) | Sum::Party(n) | Sum::Text(n) | Sum::ContractId(n) => s.serialize_str(n),
            Sum::Optional(o) => ValueJson(o.value.as_deref()).serialize(s),
            Sum::List(l) => s.collect_seq(l.elements.iter().map(|e| ValueJson(Some(e)))),
            Sum::TextMap(m) => object(
                s,
                m.entries
                    .iter()
                    .map(|e| (std::borrow::Cow::Borrowed(e.key.as_str()), e.value.as_ref()))
                    .collect(),
            ),
            Sum::GenMap(m) => {
                let mut seq = s.serialize_seq(Some(m.entries.len()))?;
                for e in &m.entries {
                    seq.serialize_element(&[ValueJson(e.key.as_ref()), ValueJson(e.value.as_ref())])?;
                }
                seq.end()
            }
            Sum::Record(r) => RecordJson(r).serialize(s),
            Sum::Variant(var) => {
                let tag = Value {
                    sum: Some(Sum::Text(var.constructor.clone())),
                };
                object(
                    s,
                    vec![
                        (std::borrow::Cow::Borrowed("tag"), Some(&tag)),
                        (std::borrow::Cow::Borrowed("value"), var.value.as_deref()),
                    ],
                )
            }
            Sum::Enum(e) => s.serialize_str(&e.constructor),
        }
    }
}

/// An object as `serde_json::Map` writes it: keys in byte order, the last of equal keys.
fn object<S: serde::Serializer>(
    s: S,
    mut entries: Vec<(std::borrow::Cow<'_, str>, Option<&Value>)>,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    // Stable, so equal keys stay in field order and the last one is the one kept.
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut map = s.serialize_map(Some(entries.len()))?;
    for (i, (key, value)) in entries.iter().enumerate() {
        if entries.get(i + 1).is_some_and(|next| next.0 == *key) {
            continue;
        }
        map.serialize_entry(key.as_ref(), &ValueJson(*value))?;
    }
    map.end()
}

/// A date outside jiff's range (a participant may send any `i32`) is written as its day
/// count rather than panicking the reader (`Span::days` panics beyond its range).
fn date_string(days: i32) -> String {
    jiff::Span::new()
        .try_days(i64::from(days))
        .and_then(|span| jiff::civil::date(1970, 1, 1).checked_add(span))
        .map(|d| d.to_string())
        .unwrap_or_else(|_| days.to_string())
}

fn timestamp_string(micros: i64) -> String {
    match jiff::Timestamp::from_microsecond(micros) {
        Ok(t) => t.to_string(),
        Err(_) => micros.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_normalise_to_numeric_10() {
        assert_eq!(normalize_decimal("100").as_deref(), Some("100.0000000000"));
        assert_eq!(normalize_decimal("100.5").as_deref(), Some("100.5000000000"));
        assert_eq!(normalize_decimal("007.25").as_deref(), Some("7.2500000000"));
        assert_eq!(normalize_decimal("-0.0").as_deref(), Some("0.0000000000"));
        assert_eq!(normalize_decimal("-3").as_deref(), Some("-3.0000000000"));
        assert_eq!(normalize_decimal(".5").as_deref(), Some("0.5000000000"));
        assert_eq!(normalize_decimal("1.00000000001"), None);
        assert_eq!(normalize_decimal("abc"), None);
        assert_eq!(normalize_decimal("1e5"), None);
        assert_eq!(normalize_decimal(""), None);
        assert_eq!(normalize_decimal("."), None);
        assert_eq!(normalize_decimal(&"9".repeat(29)), None);
    }

    #[test]
    fn iou_payload_renders_as_daml_json() {
        let r = record(vec![
            ("payer", party("Alice::1220ab")),
            ("owner", party("Bob::1220cd")),
            (
                "amount",
                nested(record(vec![
                    ("value", numeric("100.0000000000")),
                    ("currency", text("USD")),
                ])),
            ),
            ("viewers", list(vec![])),
        ]);
        let json = record_to_json(&r);
        assert_eq!(
            json,
            serde_json::json!({
                "payer": "Alice::1220ab",
                "owner": "Bob::1220cd",
                "amount": {"value": "100.0000000000", "currency": "USD"},
                "viewers": []
            })
        );
        assert_eq!(field(&r, "owner").and_then(as_party), Some("Bob::1220cd"));
        assert_eq!(field(&r, "missing"), None);
    }

    #[test]
    fn scalars_follow_the_daml_json_encoding() {
        let v = |s| Value { sum: Some(s) };
        assert_eq!(value_to_json(&v(Sum::Int64(-5))), Json::String("-5".into()));
        assert_eq!(value_to_json(&v(Sum::Date(0))), Json::String("1970-01-01".into()));
        assert_eq!(
            value_to_json(&v(Sum::Timestamp(1_000_000))),
            Json::String("1970-01-01T00:00:01Z".into())
        );
        assert_eq!(
            value_to_json(&v(Sum::Optional(Box::new(ledger::Optional { value: None })))),
            Json::Null
        );
        assert_eq!(value_to_json(&unit()), serde_json::json!({}));
        assert_eq!(
            value_to_json(&v(Sum::Date(i32::MAX))),
            Json::String(i32::MAX.to_string())
        );
    }

    /// Any Daml value the Ledger API can carry: labels drawn from a few short ones (so
    /// records repeat a label and leave some empty), text with quotes, escapes, control
    /// characters and non-ASCII, every scalar and container.
    fn any_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let text = prop_oneof![
            Just(String::new()),
            "[a-c\"\\\n\t\u{1}\u{7f}é€😀 ]{0,6}",
            "[a-z]{1,8}::1220[0-9a-f]{4}",
        ];
        let v = |s| Value { sum: Some(s) };
        let leaf = prop_oneof![
            Just(Value { sum: None }),
            Just(v(Sum::Unit(()))),
            any::<bool>().prop_map(move |b| v(Sum::Bool(b))),
            any::<i64>().prop_map(move |i| v(Sum::Int64(i))),
            any::<i32>().prop_map(move |d| v(Sum::Date(d))),
            any::<i64>().prop_map(move |t| v(Sum::Timestamp(t))),
            text.clone().prop_map(move |t| v(Sum::Text(t))),
            text.clone().prop_map(move |t| v(Sum::Party(t))),
            "-?[0-9]{1,5}\\.[0-9]{10}".prop_map(move |n| v(Sum::Numeric(n))),
            "00[0-9a-f]{8}".prop_map(move |c| v(Sum::ContractId(c))),
            text.clone().prop_map(move |c| v(Sum::Enum(ledger::Enum {
                enum_id: None,
                constructor: c
            }))),
        ];
        let label = prop_oneof![Just(String::new()), "[a-d]{1,2}", Just("_1".to_string())];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            let v = |s| Value { sum: Some(s) };
            prop_oneof![
                prop::collection::vec((label.clone(), proptest::option::of(inner.clone())), 0..6).prop_map(
                    move |fields| v(Sum::Record(Record {
                        record_id: None,
                        fields: fields
                            .into_iter()
                            .map(|(label, value)| RecordField { label, value })
                            .collect(),
                    }))
                ),
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(move |elements| v(Sum::List(ledger::List { elements }))),
                proptest::option::of(inner.clone())
                    .prop_map(move |o| v(Sum::Optional(Box::new(ledger::Optional { value: o.map(Box::new) })))),
                prop::collection::vec((label.clone(), proptest::option::of(inner.clone())), 0..4).prop_map(
                    move |entries| v(Sum::TextMap(ledger::TextMap {
                        entries: entries
                            .into_iter()
                            .map(|(key, value)| ledger::text_map::Entry { key, value })
                            .collect(),
                    }))
                ),
                prop::collection::vec(
                    (proptest::option::of(inner.clone()), proptest::option::of(inner.clone())),
                    0..3
                )
                .prop_map(move |entries| v(Sum::GenMap(ledger::GenMap {
                    entries: entries
                        .into_iter()
                        .map(|(key, value)| ledger::gen_map::Entry { key, value })
                        .collect(),
                }))),
                (label.clone(), proptest::option::of(inner)).prop_map(move |(constructor, value)| v(Sum::Variant(
                    Box::new(ledger::Variant {
                        variant_id: None,
                        constructor,
                        value: value.map(Box::new),
                    })
                ))),
            ]
        })
    }

    proptest::proptest! {
        /// The survey's digests hash what `RecordJson` writes, and journals pin digests
        /// made from `record_to_json`'s text: the two must be the same bytes, always.
        #[test]
        fn record_json_writes_the_text_of_record_to_json(fields in proptest::collection::vec(
            (proptest::prop_oneof![proptest::strategy::Just(String::new()), "[a-d]{1,2}"],
             proptest::option::of(any_value())),
            0..8,
        )) {
            let r = Record {
                record_id: None,
                fields: fields.into_iter().map(|(label, value)| RecordField { label, value }).collect(),
            };
            let streamed = serde_json::to_string(&RecordJson(&r)).expect("serializes");
            proptest::prop_assert_eq!(streamed, record_to_json(&r).to_string());
        }
    }

    #[test]
    fn record_json_keys_as_the_map_does() {
        // Labels out of order, an unlabelled field (`_2`) and a repeated label: sorted, and
        // the last of the repeated ones kept.
        let r = record(vec![
            ("b", text("1")),
            ("", text("2")),
            ("a", text("3")),
            ("b", text("4")),
        ]);
        let streamed = serde_json::to_string(&RecordJson(&r)).expect("serializes");
        assert_eq!(streamed, r#"{"_2":"2","a":"3","b":"4"}"#);
        assert_eq!(streamed, record_to_json(&r).to_string());
    }
}
