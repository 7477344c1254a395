//! The typed confirmation: what will happen on each participant, Cancel by default, and
//! the target synchronizer's alias to type before anything runs.

use super::super::action::Action;
use super::super::app::{App, Button, ConfirmView, PlanState};
use super::super::keymap::Layer;
use super::super::scroll::Scroll;
use super::super::theme::{Role, Theme};
use super::panel::{Accent, text_panel};
use crate::plan::PhaseKind;
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
                .filter(|s| {
                    s.participant == participant && matches!(s.action, crate::plan::Action::ChangeAssignation { .. })
                })
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
    let idle = if matches { Role::Base } else { Role::Muted };
    lines.extend(buttons(
        app,
        theme,
        view.focus,
        ("Cancel", Role::Base, Role::Selection),
        ("Execute", idle, Role::Danger),
    ));
    let title = (" DESTRUCTIVE: confirm the recovery ", Accent::all(Role::Danger));
    text_panel(frame, area, theme, title, &Scroll::default(), lines);
}

/// A button's label, its role, and its role while focused.
type Look<'a> = (&'a str, Role, Role);

/// The two buttons, the focused one highlighted, and a line with the keys that work them.
fn buttons<'a>(app: &App, theme: &Theme, focus: Button, cancel: Look<'a>, proceed: Look<'a>) -> [Line<'a>; 2] {
    let button = |b: Button, (label, idle, focused): Look<'a>| {
        let role = if b == focus { focused } else { idle };
        Span::styled(format!(" [ {label} ] "), theme.style(role))
    };
    let key = |action| app.key(&[Layer::Confirm], action);
    [
        Line::from(vec![
            button(Button::Cancel, cancel),
            Span::raw("   "),
            button(Button::Proceed, proceed),
        ]),
        Line::from(Span::styled(
            format!(
                " {} chooses · {} switches · {} cancels",
                key(Action::Submit),
                key(Action::FocusNext),
                key(Action::Clear)
            ),
            theme.style(Role::Muted),
        )),
    ]
}

pub fn draw_quit(frame: &mut Frame, area: Rect, app: &App, focus: Button, theme: &Theme) {
    frame.render_widget(Clear, area);
    let mut lines = vec![
        Line::from(Span::styled("A recovery run is active.", theme.style(Role::Warn))),
        Line::from(Span::styled(
            "Stop and quit stops after the current phase; running the plan again resumes it.",
            theme.style(Role::Base),
        )),
        Line::from(""),
    ];
    lines.extend(buttons(
        app,
        theme,
        focus,
        ("Keep running", Role::Base, Role::Selection),
        ("Stop and quit", Role::Base, Role::Selection),
    ));
    text_panel(
        frame,
        area,
        theme,
        (" quit? ", Accent::all(Role::Warn)),
        &Scroll::default(),
        lines,
    );
}
