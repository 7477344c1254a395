//! Shortening ids and payloads for narrow columns, and wrapping text with a hanging
//! indent.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
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

/// A hash (`sha256:…`) as the screen shows it: its first 12 hex digits, enough to tell
/// plans apart and to read out on a call.
pub fn short_hash(hash: &str) -> String {
    hash.strip_prefix("sha256:").unwrap_or(hash).chars().take(12).collect()
}

/// Greedy word wrap into lines of at most `width` characters; a word longer than a line
/// is cut across lines.
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        if used > 0 && used + 1 + word.len() <= width {
            line.push(' ');
            used += 1;
        } else if used > 0 {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        while word.len() > width - used {
            let rest = word.split_off(width - used);
            line.extend(word);
            lines.push(std::mem::take(&mut line));
            used = 0;
            word = rest;
        }
        used += word.len();
        line.extend(word);
    }
    if used > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// `lead` followed by `text` wrapped into the columns after it; continuation lines are
/// indented to the same column (a hanging indent). Too wide a lead leaves the text at least
/// a third of the width.
pub fn hanging<'a>(lead: Vec<Span<'a>>, text: &str, style: Style, width: usize) -> Vec<Line<'a>> {
    let lead_width: usize = lead.iter().map(|s| s.content.chars().count()).sum();
    let indent = lead_width.min(width.saturating_sub(width / 3));
    let mut out = Vec::new();
    let mut first = Some(lead);
    for (i, part) in wrap_words(text, width.saturating_sub(indent)).into_iter().enumerate() {
        let mut spans = match first.take() {
            Some(lead) => lead,
            None => vec![Span::raw(" ".repeat(indent))],
        };
        if i == 0 && lead_width > indent {
            // The lead took more than its column: the text starts on the next line.
            out.push(Line::from(spans));
            spans = vec![Span::raw(" ".repeat(indent))];
        }
        spans.push(Span::styled(part, style));
        out.push(Line::from(spans));
    }
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
    fn wrapping_keeps_words_and_cuts_only_what_cannot_fit() {
        assert_eq!(wrap_words("one two three four", 9), ["one two", "three", "four"]);
        assert_eq!(wrap_words("abcdefghij xy", 4), ["abcd", "efgh", "ij", "xy"]);
        assert_eq!(wrap_words("", 5), [""]);
        let lines = hanging(vec![Span::raw("  keys  ")], "a b c d e f", Style::default(), 12);
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(text, ["  keys  a b", "        c d", "        e f"]);
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
