//! Shortening ids and payloads for narrow columns.

use serde_json::Value;

/// Truncates to `width` characters, marking the cut with `…`.
pub fn fit(s: &str, width: usize) -> String {
    let count = s.chars().count();
    if count <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// A party id without its namespace (`Alice::1220ab…` → `Alice`).
pub fn party_hint(p: &str) -> &str {
    p.split("::").next().unwrap_or(p)
}

/// A Daml decimal without trailing zeros (`100.0000000000` → `100`).
fn decimal(s: &str) -> Option<String> {
    let (int, frac) = s.split_once('.')?;
    if int.is_empty()
        || !int.trim_start_matches('-').chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    Some(if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    })
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if s.contains("::") => Some(party_hint(s).to_string()),
        Value::String(s) => Some(decimal(s).unwrap_or_else(|| s.clone())),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => Some("null".into()),
        _ => None,
    }
}

/// A one-line summary of a payload: `payer=Alice owner=Bob amount=100 USD`. Records of
/// scalars are shown as their values; lists as their length when not empty.
pub fn payload_summary(v: &Value) -> String {
    let Value::Object(map) = v else {
        return scalar(v).unwrap_or_default();
    };
    let mut parts = Vec::new();
    // Parties first: they say whose contract it is.
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by_key(|k| {
        (
            !matches!(&map[*k], Value::String(s) if s.contains("::")),
            k.as_str().to_string(),
        )
    });
    for k in keys {
        let value = &map[k];
        let shown = match value {
            Value::Object(inner) => {
                let vals: Vec<String> = inner.values().filter_map(scalar).collect();
                // `amount = {currency, value}` reads better as "100 USD".
                let mut vals = vals;
                vals.reverse();
                vals.join(" ")
            }
            Value::Array(items) if items.is_empty() => continue,
            Value::Array(items) => format!("[{}]", items.len()),
            other => scalar(other).unwrap_or_default(),
        };
        parts.push(format!("{k}={shown}"));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ious_read_naturally() {
        let v = serde_json::json!({
            "payer": "Alice::1220ab", "owner": "Bob::1220cd",
            "amount": {"value": "100.0000000000", "currency": "USD"}, "viewers": []
        });
        assert_eq!(payload_summary(&v), "owner=Bob payer=Alice amount=100 USD");
    }

    #[test]
    fn fitting_marks_the_cut() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(decimal("7.2500000000").as_deref(), Some("7.25"));
        assert_eq!(decimal("x.1"), None);
    }
}
