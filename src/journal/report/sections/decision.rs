//! What each participant held when the plan was made, and the decision: the strategy, the
//! plan and who confirmed it, the rows decided and excluded.

use super::how_approved;
use crate::journal::EventData;
use crate::journal::report::facts;
use crate::journal::report::{Ctx, LISTED_ROWS, cell, split_ts};
use crate::plan::PlanSummary;
use crate::reconcile::{ExclusionReason, RowClass};
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub(in crate::journal::report) fn held(out: &mut String, c: &Ctx<'_>) {
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

pub(in crate::journal::report) fn decision(out: &mut String, c: &Ctx<'_>) {
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
