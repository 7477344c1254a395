//! `search`: the pcs_search equivalent for one participant and synchronizer.

use super::{Fail, Outcome, emit, is_json, short};
use crate::cli::{Format, SearchArgs};
use crate::client::GrpcParticipant;
use crate::config::IncidentConfig;
use crate::meter::Meter;
use crate::survey::{SearchFilter, search};
use std::process::ExitCode;

pub async fn run(cfg: &IncidentConfig, args: &SearchArgs, format: Format) -> Outcome {
    let p = cfg.participant(&args.participant).ok_or_else(|| {
        let names: Vec<&str> = cfg.participants.iter().map(|p| p.name.as_str()).collect();
        Fail(format!(
            "no participant {:?} in the incident config (known: {})",
            args.participant,
            names.join(", ")
        ))
    })?;
    let api = GrpcParticipant::from_config(p)?;
    let filter = SearchFilter {
        template_prefix: args.template.clone(),
        party: args.party.clone(),
    };
    let mut meter = Meter::start(format!("search {}", args.participant), "contracts", None);
    if is_json(format) {
        // Each contract is printed as it arrives: a participant's whole ACS, parsed, would
        // not fit in memory at a million contracts.
        let mut out = JsonArray::new(emit);
        let mut failed = None;
        let mut each = |hit: search::SearchHit| {
            if failed.is_none()
                && let Err(e) = out.push(&hit)
            {
                failed = Some(e);
            }
        };
        search::search_each(&api, &args.synchronizer, &filter, &mut |n| meter.set(n), &mut each).await?;
        meter.finish();
        if let Some(e) = failed {
            return Err(e.into());
        }
        out.finish();
    } else {
        // The table is sorted by id; only its printed lines are kept, not the parsed contracts.
        let mut lines: Vec<(String, String)> = Vec::new();
        let mut failed = None;
        let mut each = |h: search::SearchHit| match serde_json::to_string(&h.payload) {
            Ok(payload) => {
                let line = format!("{}  {:<12}  {payload}", short(&h.contract_id, 18), h.template_id);
                lines.push((h.contract_id, line));
            }
            Err(e) => failed = Some(e),
        };
        search::search_each(&api, &args.synchronizer, &filter, &mut |n| meter.set(n), &mut each).await?;
        meter.finish();
        if let Some(e) = failed {
            return Err(e.into());
        }
        lines.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        outln!(
            "{} on {}: {} active contract(s)",
            args.participant,
            args.synchronizer,
            lines.len()
        );
        for (_, line) in &lines {
            outln!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A JSON array written one element at a time, byte for byte what
/// `serde_json::to_string_pretty` makes of the whole array, handed to `line` a line (or a
/// few) at a time. The last element is held back until the next one shows whether it
/// needs a comma.
struct JsonArray<F: FnMut(&str)> {
    line: F,
    pending: Option<String>,
    started: bool,
}

impl<F: FnMut(&str)> JsonArray<F> {
    fn new(line: F) -> Self {
        Self {
            line,
            pending: None,
            started: false,
        }
    }

    fn push(&mut self, value: &impl serde::Serialize) -> Result<(), serde_json::Error> {
        let text = serde_json::to_string_pretty(value)?;
        // A JSON string never holds a raw newline, so every line break is the printer's
        // and indenting each line nests the element one level deeper.
        let mut indented = String::with_capacity(text.len() + text.len() / 8 + 2);
        for (i, l) in text.lines().enumerate() {
            if i > 0 {
                indented.push('\n');
            }
            indented.push_str("  ");
            indented.push_str(l);
        }
        if !self.started {
            (self.line)("[");
            self.started = true;
        }
        if let Some(mut previous) = self.pending.replace(indented) {
            previous.push(',');
            (self.line)(&previous);
        }
        Ok(())
    }

    fn finish(mut self) {
        match self.pending.take() {
            Some(last) => {
                (self.line)(&last);
                (self.line)("]");
            }
            None => (self.line)("[]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::SearchHit;

    fn hit(id: &str, payload: serde_json::Value) -> SearchHit {
        SearchHit {
            contract_id: id.into(),
            template_id: "Iou:Iou".into(),
            synchronizer: "lostDomain".into(),
            signatories: vec!["Alice::1220".into()],
            observers: vec!["Bob::1220".into()],
            stakeholders: vec!["Alice::1220".into(), "Bob::1220".into()],
            payload,
        }
    }

    fn streamed(hits: &[SearchHit]) -> String {
        let mut text = String::new();
        let mut out = JsonArray::new(|l: &str| {
            text.push_str(l);
            text.push('\n');
        });
        for h in hits {
            out.push(h).expect("serializable");
        }
        out.finish();
        text
    }

    #[test]
    fn the_streamed_array_is_the_collected_one_byte_for_byte() {
        let nested = serde_json::json!({
            "owner": "Bob::1220",
            "amount": {"value": "100.0", "currency": "USD"},
            "observers": ["a", "b"],
            "empty": [],
            "none": {},
            "text": "two\nlines, \"quoted\" and  spaced",
        });
        for hits in [
            vec![],
            vec![hit("00aa", nested.clone())],
            vec![
                hit("00aa", nested.clone()),
                hit("00bb", serde_json::Value::Null),
                hit("00cc", serde_json::json!([1, [2, {"x": []}]])),
            ],
        ] {
            let collected = serde_json::to_string_pretty(&hits).expect("serializable");
            let text = streamed(&hits);
            assert_eq!(text, format!("{collected}\n"), "{} hits", hits.len());
            let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
            assert_eq!(back.as_array().map(Vec::len), Some(hits.len()));
        }
    }
}
