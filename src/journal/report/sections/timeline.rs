//! The timeline (UTC): one line per event that says what happened, decisions in bold.

use super::how_approved;
use crate::journal::report::{Ctx, md_line, short_hash, short_id, split_ts};
use crate::journal::{Event, EventData};
use std::fmt::Write as _;

pub(in crate::journal::report) fn timeline(out: &mut String, c: &Ctx<'_>) {
    let j = c.input.journal;
    let days: std::collections::BTreeSet<String> = j.events.iter().map(|e| split_ts(&e.ts).0).collect();
    let one_day = days.len() <= 1;
    out.push_str("## Timeline (UTC)\n\n");
    if one_day && let Some(d) = days.first() {
        let _ = writeln!(
            out,
            "All times on {d}. Decisions are in bold; calls are counted under Execution.\n"
        );
    }
    let mut calls = 0usize;
    for e in &j.events {
        let Some((text, decision)) = entry(e) else {
            if matches!(
                e.body,
                Some(EventData::CallSent(_) | EventData::CallAnswered(_) | EventData::CallDescribed(_))
            ) {
                calls += 1;
            }
            continue;
        };
        let (day, time) = split_ts(&e.ts);
        let when = if one_day { time } else { format!("{day} {time}") };
        if decision {
            let _ = writeln!(out, "- `{when}` **{}**", md_line(&text));
        } else {
            let _ = writeln!(out, "- `{when}` {}", md_line(&text));
        }
    }
    if j.events.is_empty() {
        out.push_str("- (no events)\n");
    }
    let _ = writeln!(out, "\n{calls} call record(s) are left out of the timeline.\n");
}

/// The timeline's text for an event, and whether it is a decision; `None` for what the
/// timeline leaves out. A replay names its moments and finds its decisions by it too.
pub fn entry(e: &Event) -> Option<(String, bool)> {
    let op = &e.actor.op;
    let node = e.actor.node.as_deref().unwrap_or("");
    Some(match e.body.as_ref()? {
        EventData::ScreenOpened { read_only } => (
            format!(
                "{op} opened the recovery screen{}",
                if *read_only { " (read-only)" } else { "" }
            ),
            false,
        ),
        EventData::Surveyed(s) => {
            let classes: Vec<String> = s
                .classes
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let held: Vec<String> = s.contracts.iter().map(|(p, n)| format!("{p} {n}")).collect();
            (
                format!(
                    "survey of `{}`: {} row(s) ({}); held: {}",
                    s.synchronizer,
                    s.classes.values().sum::<usize>(),
                    classes.join(", "),
                    held.join(", ")
                ),
                false,
            )
        }
        EventData::StrategyChosen { strategy } => (format!("{op} chose the {strategy} strategy"), true),
        EventData::Decided {
            contract_id, decision, ..
        } => (format!("{op} decided {decision} for `{}`", short_id(contract_id)), true),
        EventData::DiffViewed { contract_id } => (
            format!("{op} looked at the payload diff of `{}`", short_id(contract_id)),
            false,
        ),
        EventData::PlanProposed(p) => (
            format!(
                "{op} proposed plan `{}` ({}): {} contract(s) move, {} stay",
                short_hash(&p.plan_hash),
                p.strategy,
                p.moved,
                p.excluded
            ),
            true,
        ),
        EventData::PlanApproved(a) => (
            format!("{op} approved plan `{}` {}", short_hash(&a.plan_hash), how_approved(a)),
            true,
        ),
        EventData::RunStarted(r) => {
            let what = match (r.dry_run, r.resumed) {
                (true, _) => "a dry run of",
                (false, true) => "a rerun (resuming) of",
                (false, false) => "the run of",
            };
            (
                format!("{op} started {what} plan `{}`", short_hash(&r.plan_hash)),
                false,
            )
        }
        EventData::Preflight(p) if p.ok => ("preflight passed".into(), false),
        EventData::Preflight(p) => (format!("preflight refused: {}", p.problems.join("; ")), false),
        EventData::PhaseStarted {
            phase, participants, ..
        } => (format!("phase {phase} started on {}", participants.join(", ")), false),
        EventData::PhaseDone { phase, .. } => (format!("phase {phase} done"), false),
        EventData::PhaseSkipped { phase, reason, .. } => (format!("phase {phase} skipped: {reason}"), false),
        EventData::PhaseFailed { phase, error, code, .. } => (
            format!(
                "phase {phase} FAILED on {node}: {}{error}",
                code.as_ref().map(|c| format!("{c}: ")).unwrap_or_default()
            ),
            false,
        ),
        EventData::PhasePaused { before, .. } => (format!("{op} paused the run before phase {before}"), true),
        EventData::PhaseAborted { before, .. } => (format!("{op} stopped the run before phase {before}"), true),
        EventData::Verified(v) => {
            let failed: Vec<&str> = v.pings.iter().filter(|p| !p.ok).map(|p| p.to.as_str()).collect();
            let pings = match failed.as_slice() {
                [] => "pings ok".to_string(),
                f => format!("pings FAILED to {}", f.join(", ")),
            };
            (
                format!(
                    "verification on {}: {} — {} of {} planned contracts on the target, {} missing, {} unexpected; {pings}",
                    v.participant,
                    if v.ok { "ok" } else { "FAILED" },
                    v.held,
                    v.expected,
                    v.missing.len(),
                    v.unexpected.len()
                ),
                false,
            )
        }
        EventData::RunEnded(r) if r.ok => ("the run ended well".into(), false),
        EventData::RunEnded(r) => (
            format!("the run ended: {}", r.error.as_deref().unwrap_or("failed")),
            false,
        ),
        EventData::SessionClosed(s) => (
            format!("the {} closed the journal cleanly (sealed)", s.front_end),
            false,
        ),
        EventData::CallSent(_) | EventData::CallAnswered(_) | EventData::CallDescribed(_) | EventData::Skipped(_) => {
            return None;
        }
    })
}
