//! The typed confirmation: what will happen on each participant, Cancel by default, and
//! the target synchronizer's alias to type before anything runs.

use super::super::app::{App, ConfirmView, PlanState};
use super::super::theme::{Role, Theme};
use super::panel::{Accent, text_panel};
use crate::plan::{Action, PhaseKind};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Clear;

fn what_happens(plan: &crate::plan::Plan, participant: &str) -> String {
    let count = |kind: PhaseKind| -> usize {
        plan.phase(kind)
            .map(|p| {
                p.steps
                    .iter()
                    .filter(|s| s.participant == participant)
                    .map(|s| s.action.contract_ids().len())
                    .sum()
            })
            .unwrap_or(0)
    };
    let mut parts = vec![format!("disconnect {} (manual connect)", plan.lost())];
    parts.push(format!("connect {} once", plan.target()));
    let purge = count(PhaseKind::Purge);
    if purge > 0 {
        parts.push(format!("purge {purge}"));
    }
    let import = count(PhaseKind::Import);
    if import > 0 {
        parts.push(format!("import {import}"));
    }
    let moved: usize = plan
        .phase(PhaseKind::Move)
        .map(|p| {
            p.steps
                .iter()
                .filter(|s| s.participant == participant && matches!(s.action, Action::ChangeAssignation { .. }))
                .map(|s| s.action.contract_ids().len())
                .sum()
        })
        .unwrap_or(0);
    parts.push(format!("move {moved} to {}", plan.target()));
    parts.push(format!("reconnect {}, verify", plan.target()));
    parts.join(", ")
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, view: &ConfirmView, theme: &Theme) {
    frame.render_widget(Clear, area);
    let PlanState::Ready { plan, summary } = &app.plan else {
        return;
    };
    let mut lines = vec![
        Line::from(Span::styled(
            format!(
                "This changes {} participant(s). Repairs cannot be undone.",
                plan.participants().len()
            ),
            theme.style(Role::Danger),
        )),
        Line::from(Span::styled(format!("plan {}", plan.hash()), theme.style(Role::Muted))),
        Line::from(""),
    ];
    for p in plan.participants() {
        lines.push(Line::from(vec![
            Span::styled(format!("{p}: "), theme.style(Role::Header)),
            Span::styled(what_happens(plan, p), theme.style(Role::Base)),
        ]));
    }
    let purged: usize = summary
        .excluded
        .iter()
        .filter(|(r, _)| matches!(r, crate::reconcile::ExclusionReason::DecidedPurge))
        .map(|(_, n)| n)
        .sum();
    let left = summary.excluded.values().sum::<usize>() - purged;
    if left > 0 {
        lines.push(Line::from(Span::styled(
            format!("{left} contract(s) stay on {} (excluded).", plan.lost()),
            theme.style(Role::Muted),
        )));
    }
    if purged > 0 {
        lines.push(Line::from(Span::styled(
            format!("{purged} contract(s) are purged where still active (decision)."),
            theme.style(Role::Warn),
        )));
    }
    let abandoned: u32 = plan
        .in_flight()
        .values()
        .map(|f| f.pending_submissions + f.pending_transactions)
        .sum();
    if abandoned > 0 {
        lines.push(Line::from(Span::styled(
            format!(
                "{abandoned} transaction(s) in flight on {} will be abandoned.",
                plan.lost()
            ),
            theme.style(Role::Warn),
        )));
    }
    lines.push(Line::from(""));
    let matches = view.typed == app.ctx.target;
    lines.push(Line::from(vec![
        Span::styled(
            format!("Type {} to execute: ", app.ctx.target),
            theme.style(Role::Header),
        ),
        Span::styled(view.typed.clone(), theme.style(Role::Base)),
        Span::styled("▏", theme.style(Role::Cursor)),
    ]));
    lines.push(Line::from(""));
    let execute_role = if matches { Role::Danger } else { Role::Muted };
    let cancel_role = if matches { Role::Base } else { Role::Selection };
    lines.push(Line::from(vec![
        Span::styled(" [ Cancel ] ", theme.style(cancel_role)),
        Span::raw("   "),
        Span::styled(" [ Execute ] ", theme.style(execute_role)),
        Span::styled(
            if matches {
                "   Enter executes"
            } else {
                "   Enter or Esc cancels"
            },
            theme.style(Role::Muted),
        ),
    ]));
    let title = (" DESTRUCTIVE: confirm the recovery ", Accent::all(Role::Danger));
    text_panel(frame, area, theme, title, 0, lines);
}

pub fn draw_quit(frame: &mut Frame, area: Rect, theme: &Theme) {
    frame.render_widget(Clear, area);
    let lines = vec![
        Line::from(Span::styled("A recovery run is active.", theme.style(Role::Warn))),
        Line::from(""),
        Line::from(Span::styled(
            "q / y: stop after the current phase and quit (running the plan again resumes it)",
            theme.style(Role::Base),
        )),
        Line::from(Span::styled("any other key: keep running", theme.style(Role::Base))),
    ];
    text_panel(frame, area, theme, (" quit? ", Accent::all(Role::Warn)), 0, lines);
}
