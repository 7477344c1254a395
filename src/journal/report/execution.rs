//! The report's execution and verification sections.

use super::facts::{PhaseOutcome, Run};
use super::{Ctx, cell, md_line, seconds, short_hash, split_ts};
use crate::journal::EventData;
use std::fmt::Write as _;

/// Missing or unexpected ids the verification lists at most per participant.
const LISTED_IDS: usize = 20;

pub(super) fn execution(out: &mut String, c: &Ctx<'_>) {
    out.push_str("## Execution\n\n");
    if c.runs.is_empty() {
        out.push_str("Nothing was executed.\n\n");
        return;
    }
    let (mut runs, mut dry) = (0, 0);
    for run in &c.runs {
        if run.started.dry_run {
            dry += 1;
            dry_run(out, c, run, dry);
        } else {
            runs += 1;
            real_run(out, c, run, runs);
        }
    }
}

fn heading(c: &Ctx<'_>, run: &Run) -> String {
    let j = c.input.journal;
    let start = &j.events[run.start];
    let end = match &run.ended {
        Some((i, _)) => split_ts(&j.events[*i].ts).1,
        None => "(no end recorded)".into(),
    };
    format!(
        "{} – {}, by {}, plan `{}`",
        split_ts(&start.ts).1,
        end,
        run.operator,
        short_hash(&run.started.plan_hash)
    )
}

fn dry_run(out: &mut String, c: &Ctx<'_>, run: &Run, n: usize) {
    let _ = writeln!(
        out,
        "### Dry run {n}: {}\n\n{} call(s) described, none sent.\n",
        heading(c, run),
        run.described
    );
}

fn real_run(out: &mut String, c: &Ctx<'_>, run: &Run, n: usize) {
    let outcome = match &run.ended {
        Some((_, e)) if e.ok => "ended well".to_string(),
        Some((_, e)) => format!(
            "stopped: {}",
            md_line(e.error.as_deref().unwrap_or("no cause recorded"))
        ),
        None => format!("did not finish ({})", c.end_of_record()),
    };
    let _ = writeln!(out, "### Run {n}: {}\n", heading(c, run));
    let mut facts = vec![format!("Outcome: {outcome}.")];
    if run.started.resumed {
        let done: Vec<&str> = run.started.done_phases.iter().map(|p| p.as_str()).collect();
        facts.push(format!(
            "A rerun: the journal recorded {} as done before.",
            done.join(", ")
        ));
    }
    match &run.preflight {
        Some((true, _)) => facts.push("Preflight passed.".into()),
        Some((false, problems)) => facts.push(format!("Preflight refused: {}.", md_line(&problems.join("; ")))),
        None => {}
    }
    for (i, before) in &run.paused {
        facts.push(format!(
            "Paused before {before} at {}.",
            split_ts(&c.input.journal.events[*i].ts).1
        ));
    }
    let _ = writeln!(out, "{}\n", facts.join(" "));
    if !run.phases.is_empty() {
        out.push_str(
            "| phase | took | participant | result | calls | retries | participant time | contracts | Canton codes |\n|---|---:|---|---|---:|---:|---:|---:|---|\n",
        );
        for phase in &run.phases {
            let took = phase.seconds.map(seconds).unwrap_or_else(|| "—".into());
            if phase.cells.is_empty() {
                let _ = writeln!(
                    out,
                    "| {} | {took} | — | {} | | | | | |",
                    phase.phase,
                    phase.outcome.as_str()
                );
                continue;
            }
            for (participant, cellv) in &phase.cells {
                let result = match (&cellv.failed, phase.outcome) {
                    (Some(f), _) => format!("FAILED: {}", cell(f)),
                    (None, PhaseOutcome::Failed) => "stopped with the phase".into(),
                    (None, o) => o.as_str().into(),
                };
                let mut result = result;
                if cellv.skipped > 0 {
                    let _ = write!(result, "; {} already done, not sent again", cellv.skipped);
                }
                let codes: Vec<String> = cellv.codes.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
                let _ = writeln!(
                    out,
                    "| {} | {took} | {participant} | {result} | {} | {} | {} ms | {} | {} |",
                    phase.phase,
                    cellv.calls,
                    cellv.retries,
                    cellv.call_ms,
                    cellv.contracts,
                    codes.join(", ")
                );
            }
        }
        out.push('\n');
    }
    if let Some((_, end)) = &run.ended {
        let names: std::collections::BTreeSet<&String> = end
            .moved
            .keys()
            .chain(end.added.keys())
            .chain(end.skipped.keys())
            .collect();
        if !names.is_empty() {
            out.push_str("| participant | moved | added | already done |\n|---|---:|---:|---:|\n");
            for p in names {
                let n = |m: &std::collections::BTreeMap<String, usize>| m.get(p).copied().unwrap_or(0);
                let _ = writeln!(
                    out,
                    "| {p} | {} | {} | {} |",
                    n(&end.moved),
                    n(&end.added),
                    n(&end.skipped)
                );
            }
            out.push('\n');
        }
    }
}

pub(super) fn verification(out: &mut String, c: &Ctx<'_>) {
    out.push_str("## Verification\n\n");
    let Some(run) = c.verifying() else {
        out.push_str("No verification was recorded.\n\n");
        return;
    };
    let j = c.input.journal;
    let _ = writeln!(
        out,
        "From the run started at {}:\n",
        split_ts(&j.events[run.start].ts).1
    );
    out.push_str(
        "| participant | result | planned | held on the target | missing | unexpected | pings |\n|---|---|---:|---:|---:|---:|---|\n",
    );
    for v in run.verified.values() {
        let pings: Vec<String> = v
            .pings
            .iter()
            .map(|p| match (p.ok, p.millis) {
                (true, Some(ms)) => format!("{} ok ({ms} ms)", p.to),
                (true, None) => format!("{} ok", p.to),
                (false, _) => format!("{} FAILED ({})", p.to, cell(p.reason.as_deref().unwrap_or("no answer"))),
            })
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            v.participant,
            if v.ok { "ok" } else { "FAILED" },
            v.expected,
            v.held,
            v.missing.len(),
            v.unexpected.len(),
            pings.join(", ")
        );
    }
    for v in run.verified.values() {
        for (what, ids) in [("missing on", &v.missing), ("unexpected on", &v.unexpected)] {
            if ids.is_empty() {
                continue;
            }
            let listed: Vec<String> = ids.iter().take(LISTED_IDS).map(|i| format!("`{i}`")).collect();
            let more = ids.len().saturating_sub(LISTED_IDS);
            let _ = writeln!(
                out,
                "\n{} contract(s) {what} {}: {}{}",
                ids.len(),
                v.participant,
                listed.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
    }
    // What the screen showed on the target after the run, if the operators looked.
    let after = j.events[run.start..].iter().rev().find_map(|e| match &e.body {
        Some(EventData::Surveyed(s)) if Some(&s.synchronizer) == c.target.as_ref() => Some((e, s)),
        _ => None,
    });
    if let Some((e, s)) = after {
        let classes: Vec<String> = s
            .classes
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "\nThe comparison on `{}` at {}: {} row(s) ({}).",
            s.synchronizer,
            split_ts(&e.ts).1,
            s.classes.values().sum::<usize>(),
            classes.join(", ")
        );
    }
    out.push('\n');
}
