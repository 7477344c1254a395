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

fn date_string(days: i32) -> String {
    match jiff::civil::date(1970, 1, 1).checked_add(jiff::Span::new().days(i64::from(days))) {
        Ok(d) => d.to_string(),
        Err(_) => days.to_string(),
    }
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
    }
}
