//! The report's opening sections: title and facts, summary, impact, timeline, what each
//! participant held, and the decision.

use super::facts::{self, PhaseOutcome, Run};
use super::{Ctx, LISTED_ROWS, cell, md_line, seconds, short_hash, short_id, split_ts};
use crate::journal::{Event, EventData, Seal};
use crate::plan::PlanSummary;
use crate::reconcile::{ExclusionReason, RowClass};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The facts under the title: incident, date, status, operators, tool, journal, hash.
pub(super) fn facts_table(out: &mut String, c: &Ctx<'_>) {
    let j = c.input.journal;
    let h = &j.header;
    let seal = match (&c.input.integrity.broken, j.seal()) {
        (Some(_), _) => "**failed verification**".to_string(),
        (None, Seal::Sealed) => "sealed".to_string(),
        (None, Seal::Unsealed) => "**not sealed**".to_string(),
        (None, Seal::BeforeSeals(_)) => "written before seals".to_string(),
    };
    let rows = [
        ("Incident", format!("`{}`", cell(&h.incident))),
        ("Date (UTC)", split_ts(&h.started).0),
        ("Status", status(c)),
        ("Operators", facts::operators(j).join(", ")),
        ("Host", cell(&h.host)),
        (
            "Tool",
            format!(
                "{} {} wrote the journal; recovery-deck {} rendered this report",
                cell(&h.tool.name),
                cell(&h.tool.version),
                c.input.renderer
            ),
        ),
        (
            "Journal",
            format!(
                "`{}`: format version {}, {} lines, {seal}",
                cell(c.input.name),
                h.version,
                c.input.integrity.lines
            ),
        ),
        ("Final hash", format!("`{}`", j.final_hash())),
    ];
    out.push_str("| | |\n|---|---|\n");
    for (k, v) in rows {
        let _ = writeln!(out, "| {k} | {v} |");
    }
    out.push('\n');
}

/// One phrase for where the recovery stands.
fn status(c: &Ctx<'_>) -> String {
    if let Some(run) = c.executed() {
        return match (&run.ended, c.failed_verification()) {
            (Some((_, end)), Some(failed)) if end.ok && failed.is_empty() => "Recovered and verified".into(),
            (Some((_, end)), Some(failed)) if end.ok => {
                format!("Run finished; verification failed on {}", failed.join(", "))
            }
            (Some((_, end)), None) if end.ok => "Run finished; no verification recorded".into(),
            (Some((_, end)), _) => format!(
                "Not recovered: the run stopped ({})",
                cell(end.error.as_deref().unwrap_or("no cause recorded"))
            ),
            (None, _) => format!("Not recovered: the run did not finish ({})", c.end_of_record()),
        };
    }
    if c.runs.iter().any(|r| r.started.dry_run) {
        return "Planned and dry-run; not executed".into();
    }
    if c.input.focus.plan_hash.is_some() {
        return "Planned; not executed".into();
    }
    if c.input.survey.is_some() {
        return "Surveyed; nothing planned".into();
    }
    "Nothing recorded".into()
}

pub(super) fn summary(out: &mut String, c: &Ctx<'_>) {
    let j = c.input.journal;
    let mut s = format!(
        "On {}, {} worked on incident `{}`",
        split_ts(&j.header.started).0,
        and_list(&facts::operators(j)),
        md_line(&j.header.incident)
    );
    match &c.lost {
        Some(lost) => {
            let _ = write!(s, " after synchronizer `{lost}` was lost.");
        }
        None => s.push('.'),
    }
    if let Some(v) = c.input.survey {
        let names: Vec<String> = v.participants.iter().map(|p| format!("`{}`", p.name)).collect();
        let classes: Vec<String> = v
            .classes
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(class, n)| format!("{n} {}", class_words(*class)))
            .collect();
        let _ = write!(
            s,
            " {} participant(s) ({}) held {} contract(s) on it: {}.",
            names.len(),
            names.join(", "),
            v.rows(),
            classes.join(", ")
        );
    }
    if let Some(rb) = c.input.plan {
        let plan = &rb.plan;
        let summary = PlanSummary::of(plan);
        let _ = write!(
            s,
            " They chose the {} strategy: plan `{}` moves {} contract(s) to `{}` and leaves {} on `{}`.",
            plan.strategy(),
            short_hash(plan.hash()),
            summary.moved,
            plan.target(),
            plan.excluded().len(),
            plan.lost()
        );
    } else if let Some(hash) = &c.input.focus.plan_hash {
        let _ = write!(s, " They made plan `{}`.", short_hash(hash));
    }
    if let Some((e, a)) = facts::approvals(j, c.input.focus).first() {
        let _ = write!(
            s,
            " {} approved it at {} {}.",
            e.actor.op,
            split_ts(&e.ts).1,
            how_approved(a)
        );
    }
    let runs: Vec<&Run> = c
        .runs
        .iter()
        .filter(|r| !r.started.dry_run && Some(&r.started.plan_hash) == c.input.focus.plan_hash.as_ref())
        .collect();
    for (n, run) in runs.iter().enumerate() {
        let start = &j.events[run.start];
        let which = match runs.len() {
            1 => "The run".to_string(),
            _ => format!("Run {} of {}", n + 1, runs.len()),
        };
        let _ = write!(s, " {which} started at {}", split_ts(&start.ts).1);
        let failed = run.phases.iter().find(|p| p.outcome == PhaseOutcome::Failed);
        match (&run.ended, failed) {
            (Some((i, end)), _) if end.ok => {
                let _ = write!(
                    s,
                    " and ended well at {} ({}).",
                    split_ts(&j.events[*i].ts).1,
                    seconds(j.events[*i].t - start.t)
                );
            }
            (Some((i, _)), Some(phase)) => {
                let on: Vec<&str> = phase
                    .cells
                    .iter()
                    .filter(|(_, cell)| cell.failed.is_some())
                    .map(|(p, _)| p.as_str())
                    .collect();
                let _ = write!(
                    s,
                    " and stopped at {} in phase {} on {}.",
                    split_ts(&j.events[*i].ts).1,
                    phase.phase,
                    on.join(", ")
                );
            }
            (Some((i, end)), None) => {
                let _ = write!(
                    s,
                    " and stopped at {}: {}.",
                    split_ts(&j.events[*i].ts).1,
                    md_line(end.error.as_deref().unwrap_or("no cause recorded"))
                );
            }
            (None, _) => {
                let _ = write!(s, " and did not finish: {}.", c.end_of_record());
            }
        }
    }
    if let (Some(run), Some(failed)) = (c.verifying(), c.failed_verification()) {
        if failed.is_empty() {
            let _ = write!(
                s,
                " Verification: each of the {} participant(s) holds exactly its planned contracts on the target and reached the others by ping.",
                run.verified.len()
            );
        } else {
            let _ = write!(s, " Verification failed on {}.", failed.join(", "));
        }
    }
    let _ = writeln!(out, "## Summary\n\n{s}\n");
}

fn how_approved(a: &crate::journal::PlanApproved) -> String {
    if a.unattended {
        "with `--yes` (no typed confirmation)".into()
    } else {
        format!("by typing `{}`", md_line(&a.confirmed_by_typing))
    }
}

fn and_list(items: &[String]) -> String {
    match items {
        [] => "the operators".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn class_words(class: RowClass) -> &'static str {
    match class {
        RowClass::Agreed => "agreed by every participant",
        RowClass::Missing => "missing on some participant",
        RowClass::ArchivedSomewhere => "archived on some participant",
        RowClass::PayloadMismatch => "with differing payloads",
        RowClass::LocalOnly => "relevant to one participant only",
    }
}

pub(super) fn impact(out: &mut String, c: &Ctx<'_>) {
    out.push_str("## Impact\n\n");
    if let (Some(lost), Some(target)) = (&c.lost, &c.target) {
        let _ = writeln!(out, "- Lost synchronizer: `{lost}`; replacement: `{target}`.");
    }
    let parts = &c.input.journal.header.participants;
    let list: Vec<String> = parts
        .iter()
        .map(|p| format!("`{}` ({})", p.name, md_line(&p.endpoint)))
        .collect();
    let _ = writeln!(out, "- Participants: {} — {}.", parts.len(), list.join(", "));
    if let Some((start, secs)) = facts::repair_window(c.input.journal, c.input.focus) {
        let _ = writeln!(
            out,
            "- Repair window: isolation began at {}; the participants were reconnected to the target {} later.",
            split_ts(&c.input.journal.events[start].ts).1,
            seconds(secs)
        );
    }
    if let Some(v) = c.input.survey {
        let _ = writeln!(
            out,
            "- Contracts on `{}` when the plan was made: {}.\n",
            v.synchronizer,
            v.rows()
        );
        let excluded: BTreeMap<RowClass, usize> = c.input.plan.map_or_else(BTreeMap::new, |rb| {
            let mut m = BTreeMap::new();
            for row in rb.plan.excluded() {
                *m.entry(row.class).or_default() += 1;
            }
            m
        });
        out.push_str("| class | rows | moved | left on the lost synchronizer |\n|---|---:|---:|---:|\n");
        for (class, n) in &v.classes {
            let (moved, left) = match c.input.plan {
                Some(_) => {
                    let left = excluded.get(class).copied().unwrap_or(0);
                    (n.saturating_sub(left).to_string(), left.to_string())
                }
                None => ("—".into(), "—".into()),
            };
            let _ = writeln!(out, "| {} | {n} | {moved} | {left} |", class.as_str());
        }
    }
    out.push('\n');
}

pub(super) fn timeline(out: &mut String, c: &Ctx<'_>) {
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

pub(super) fn held(out: &mut String, c: &Ctx<'_>) {
    out.push_str("## What each participant held\n\n");
    let Some(v) = c.input.survey else {
        out.push_str("The journal records no survey.\n\n");
        return;
    };
    let j = c.input.journal;
    let when = c
        .input
        .focus
        .survey
        .and_then(|i| j.events.get(i))
        .map(|e| format!(", surveyed at {}", split_ts(&e.ts).1))
        .unwrap_or_default();
    let _ = writeln!(out, "On `{}`{when}:\n", v.synchronizer);
    if v.detailed {
        out.push_str("| participant | held |");
        for class in RowClass::ALL {
            let _ = write!(out, " {} |", class.as_str());
        }
        out.push_str("\n|---|---:|");
        out.push_str(&"---:|".repeat(RowClass::ALL.len()));
        out.push('\n');
        for p in &v.participants {
            let _ = write!(out, "| {} | {} |", p.name, p.total);
            for class in RowClass::ALL {
                let _ = write!(out, " {} |", p.by_class.get(&class).copied().unwrap_or(0));
            }
            out.push('\n');
        }
    } else {
        out.push_str("| participant | held |\n|---|---:|\n");
        for p in &v.participants {
            let _ = writeln!(out, "| {} | {} |", p.name, p.total);
        }
        out.push_str("\n_Per-class counts per participant need the pinned comparison (journal format 3)._\n");
    }
    let all: Vec<String> = v.classes.iter().map(|(k, n)| format!("{} {n}", k.as_str())).collect();
    let _ = writeln!(out, "\nAll {} rows: {}.\n", v.rows(), all.join(", "));
}

pub(super) fn decision(out: &mut String, c: &Ctx<'_>) {
    out.push_str("## Decision\n\n");
    let j = c.input.journal;
    let Some(hash) = &c.input.focus.plan_hash else {
        out.push_str("No plan was made.\n\n");
        return;
    };
    let proposed = c.input.focus.proposed.and_then(|i| j.events.get(i));
    if let Some(rb) = c.input.plan {
        let plan = &rb.plan;
        let _ = writeln!(
            out,
            "- Strategy: **{}**; batch size {}.",
            plan.strategy(),
            plan.batch_size()
        );
        let _ = writeln!(out, "- Plan hash: `{}`", plan.hash());
        let _ = writeln!(
            out,
            "- Proposed by {} at {}.",
            rb.meta.proposed_by,
            proposed.map_or_else(|| rb.meta.created.clone(), |e| split_ts(&e.ts).1)
        );
    } else {
        let _ = writeln!(out, "- Plan hash: `{hash}`");
        if let Some(e) = proposed
            && let Some(EventData::PlanProposed(p)) = &e.body
        {
            let _ = writeln!(
                out,
                "- Strategy: **{}**; proposed by {} at {}: {} contract(s) move, {} stay.",
                p.strategy,
                e.actor.op,
                split_ts(&e.ts).1,
                p.moved,
                p.excluded
            );
        }
        out.push_str("- The journal pins no runbook for this plan (journal format before 3): the rows below come from the events.\n");
    }
    let approvals = facts::approvals(j, c.input.focus);
    if approvals.is_empty() {
        out.push_str("- Not confirmed in this journal.\n");
    }
    for (n, (e, a)) in approvals.iter().enumerate() {
        let again = if n == 0 { "Confirmed" } else { "Confirmed again" };
        let _ = writeln!(
            out,
            "- {again} by **{}** at {} {}.",
            e.actor.op,
            split_ts(&e.ts).1,
            how_approved(a)
        );
    }
    out.push('\n');
    let Some(rb) = c.input.plan else {
        decided_from_events(out, c);
        return;
    };
    let plan = &rb.plan;
    let summary = PlanSummary::of(plan);
    out.push_str("What the plan does, per phase and participant:\n\n| phase |");
    for p in &summary.participants {
        let _ = write!(out, " {p} |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(summary.participants.len()));
    out.push('\n');
    for phase in &summary.phases {
        let _ = write!(out, "| {} |", phase.phase);
        for i in 0..summary.participants.len() {
            let _ = write!(out, " {} |", phase.cell_text(i));
        }
        out.push('\n');
    }
    let flights: Vec<String> = plan
        .in_flight()
        .iter()
        .filter(|(_, f)| f.pending_submissions + f.pending_transactions > 0)
        .map(|(p, f)| {
            format!(
                "{p}: {} submission(s), {} transaction(s)",
                f.pending_submissions, f.pending_transactions
            )
        })
        .collect();
    if !flights.is_empty() {
        let _ = writeln!(
            out,
            "\nIn flight on the lost synchronizer when the plan was made, abandoned by approving it: {}.",
            flights.join("; ")
        );
    }
    let class_of: BTreeMap<&str, RowClass> = plan.excluded().iter().map(|r| (&*r.contract_id, r.class)).collect();
    let _ = writeln!(out, "\n### Decided rows ({})\n", plan.decisions().len());
    if plan.decisions().is_empty() {
        out.push_str("No row needed a decision.\n");
    } else {
        out.push_str("| contract | class | decision |\n|---|---|---|\n");
        for (id, d) in plan.decisions() {
            let class = class_of.get(&**id).map_or("—", |c| c.as_str());
            let _ = writeln!(out, "| `{id}` | {class} | {} |", d.name());
        }
    }
    let _ = writeln!(
        out,
        "\n### Rows left on the lost synchronizer ({})\n",
        plan.excluded().len()
    );
    if plan.excluded().is_empty() {
        out.push_str("None.\n\n");
        return;
    }
    let mut by_reason: BTreeMap<ExclusionReason, usize> = BTreeMap::new();
    for r in plan.excluded() {
        *by_reason.entry(r.reason).or_default() += 1;
    }
    out.push_str("| reason | rows |\n|---|---:|\n");
    for (reason, n) in &by_reason {
        let _ = writeln!(out, "| {} | {n} |", cell(reason.describe()));
    }
    out.push_str("\n| contract | class | reason |\n|---|---|---|\n");
    for r in plan.excluded().iter().take(LISTED_ROWS) {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            r.contract_id,
            r.class.as_str(),
            r.reason.as_str()
        );
    }
    if plan.excluded().len() > LISTED_ROWS {
        let file = c
            .input
            .focus
            .runbook
            .as_ref()
            .map(|r| r.1.file.clone())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "\n{} more are listed in the pinned runbook `{file}`.",
            plan.excluded().len() - LISTED_ROWS
        );
    }
    out.push('\n');
}

/// Without a pinned runbook, the decisions the screen journaled, the last per row.
fn decided_from_events(out: &mut String, c: &Ctx<'_>) {
    let mut last: BTreeMap<&str, &str> = BTreeMap::new();
    for b in c.input.journal.bodies() {
        if let EventData::Decided {
            contract_id, decision, ..
        } = b
        {
            last.insert(contract_id, decision.as_str());
        }
    }
    let _ = writeln!(out, "### Decisions taken on the screen ({})\n", last.len());
    if last.is_empty() {
        out.push_str("None recorded.\n\n");
        return;
    }
    out.push_str("| contract | decision |\n|---|---|\n");
    for (id, d) in last {
        let _ = writeln!(out, "| `{id}` | {d} |");
    }
    out.push('\n');
}
