//! The report's opening: the facts under the title, the summary and the impact.

use super::how_approved;
use crate::journal::Seal;
use crate::journal::report::facts::{self, PhaseOutcome, Run};
use crate::journal::report::{Ctx, cell, md_line, seconds, short_hash, split_ts};
use crate::plan::PlanSummary;
use crate::reconcile::RowClass;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The facts under the title: incident, date, status, operators, tool, journal, hash.
pub(in crate::journal::report) fn facts_table(out: &mut String, c: &Ctx<'_>) {
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

pub(in crate::journal::report) fn summary(out: &mut String, c: &Ctx<'_>) {
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

pub(in crate::journal::report) fn impact(out: &mut String, c: &Ctx<'_>) {
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
