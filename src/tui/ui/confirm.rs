//! The typed confirmation: what will happen on each participant, Cancel by default, and
//! the target synchronizer's alias to type before anything runs.

use super::super::action::Action;
use super::super::app::{App, Ask, Button, ConfirmView, PlanState, Purpose};
use super::super::keymap::Layer;
use super::super::scroll::Scroll;
use super::super::theme::{Role, Theme};
use super::panel::{Accent, text_panel};
use super::text::short_hash;
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
    if view.purpose != Purpose::Execute {
        return draw_session(frame, area, app, view, theme);
    }
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
    lines.extend(type_to_confirm(app, view, theme, "execute", "Execute"));
    let title = (" DESTRUCTIVE: confirm the recovery ", Accent::all(Role::Danger));
    text_panel(frame, area, theme, title, &Scroll::default(), lines);
}

/// The typed confirmation of a session's approval (node operator) or go (lead): the
/// session's plan, what it does, and the target's alias to type.
fn draw_session(frame: &mut Frame, area: Rect, app: &App, view: &ConfirmView, theme: &Theme) {
    let Some(plan) = app.board().and_then(|b| b.plan()) else {
        return;
    };
    let confirming = match &view.purpose {
        Purpose::Approve { plan_hash } | Purpose::Go { plan_hash } => plan_hash.as_str(),
        Purpose::Execute => plan.hash(),
    };
    if app.board().and_then(|b| b.plan_hash()) != Some(confirming) {
        // Another proposal came while the operator typed: what they would confirm is gone.
        let lines = vec![
            Line::from(Span::styled(
                format!(
                    "Plan {} was replaced by plan {} while you confirmed.",
                    short_hash(confirming),
                    short_hash(plan.hash())
                ),
                theme.style(Role::Warn),
            )),
            Line::from(Span::styled(
                format!(
                    "{} closes this; review the new plan first.",
                    app.key(&[Layer::Confirm], Action::Clear)
                ),
                theme.style(Role::Base),
            )),
        ];
        let title = (" the plan changed ", Accent::all(Role::Warn));
        text_panel(frame, area, theme, title, &Scroll::default(), lines);
        return;
    }
    let me = app.joined.as_ref().and_then(|j| j.participant.clone());
    let (title, head, verb, button): (&str, String, &str, &str) = match &view.purpose {
        Purpose::Approve { .. } => (
            " DESTRUCTIVE: approve the plan for your participant ",
            format!(
                "You approve plan {} for {}. Your deck re-surveys {} first and refuses if it drifted; once approved, the lead's go runs this on it. Repairs cannot be undone.",
                short_hash(plan.hash()),
                me.as_deref().unwrap_or("?"),
                me.as_deref().unwrap_or("?")
            ),
            "approve",
            "Approve",
        ),
        _ => (
            " DESTRUCTIVE: go for the session's plan ",
            format!(
                "Go starts plan {} on {} participant(s), each deck on its own, phase by phase behind the barriers. Repairs cannot be undone.",
                short_hash(plan.hash()),
                plan.participants().len()
            ),
            "say go",
            "Go",
        ),
    };
    let mut lines = vec![
        Line::from(Span::styled(head, theme.style(Role::Danger))),
        Line::from(Span::styled(format!("plan {}", plan.hash()), theme.style(Role::Muted))),
        Line::from(""),
    ];
    for p in plan.participants() {
        if matches!(view.purpose, Purpose::Approve { .. }) && me.as_deref() != Some(p.as_str()) {
            continue;
        }
        lines.push(Line::from(vec![
            Span::styled(format!("{p}: "), theme.style(Role::Header)),
            Span::styled(what_happens(plan, p), theme.style(Role::Base)),
        ]));
    }
    lines.push(Line::from(""));
    lines.extend(type_to_confirm(app, view, theme, verb, button));
    text_panel(
        frame,
        area,
        theme,
        (title, Accent::all(Role::Danger)),
        &Scroll::default(),
        lines,
    );
}

/// A session question: abort the run, or share a payload another operator asked for.
pub fn draw_ask(frame: &mut Frame, area: Rect, app: &App, ask: &Ask, focus: Button, theme: &Theme) {
    frame.render_widget(Clear, area);
    let (title, mut lines, no, yes) = match ask {
        Ask::Abort { plan_hash } => (
            " abort the run? ",
            vec![
                Line::from(Span::styled(
                    format!("Abort the session's run of plan {}?", short_hash(plan_hash)),
                    theme.style(Role::Warn),
                )),
                Line::from(Span::styled(
                    "Every deck stops at its next barrier; what is done stays done. A new proposal (and new approvals) starts again.",
                    theme.style(Role::Base),
                )),
            ],
            "Keep the run",
            "Abort",
        ),
        Ask::Share { request_seq } => {
            let request = app
                .board()
                .and_then(|b| b.payload_requests.iter().find(|r| r.seq == *request_seq));
            let (by, id, holder, reason) = request
                .map(|r| {
                    (
                        r.by.as_str(),
                        r.contract_id.as_str(),
                        r.holder.as_str(),
                        r.reason.as_str(),
                    )
                })
                .unwrap_or_default();
            let mut lines = vec![
                Line::from(Span::styled(
                    format!("{by} asks for {holder}'s payload of this contract (request {request_seq}):"),
                    theme.style(Role::Warn),
                )),
                Line::from(Span::styled(id.to_string(), theme.style(Role::Header))),
            ];
            if !reason.is_empty() {
                lines.push(Line::from(Span::styled(
                    format!("reason: {reason}"),
                    theme.style(Role::Muted),
                )));
            }
            lines.push(Line::from(Span::styled(
                format!(
                    "Share: its create arguments go into the session's log, readable by every operator and the coordinator. Refuse: nothing leaves {holder}."
                ),
                theme.style(Role::Base),
            )));
            (" share a payload? ", lines, "Refuse", "Share")
        }
    };
    lines.push(Line::from(""));
    lines.extend(buttons(
        app,
        theme,
        focus,
        (no, Role::Base, Role::Selection),
        (yes, Role::Base, Role::Selection),
    ));
    text_panel(
        frame,
        area,
        theme,
        (title, Accent::all(Role::Warn)),
        &Scroll::default(),
        lines,
    );
}

/// A button's label, its role, and its role while focused.
type Look<'a> = (&'a str, Role, Role);

/// The two buttons, the focused one highlighted, and a line with the keys that work them.
/// The prompt to type the target's alias, what was typed, and the two buttons; the proceed
/// button stays muted until the alias matches.
fn type_to_confirm<'a>(app: &App, view: &ConfirmView, theme: &Theme, verb: &str, button: &'a str) -> Vec<Line<'a>> {
    let prompt = Line::from(vec![
        Span::styled(
            format!("Type {} to {verb}: ", app.ctx.target),
            theme.style(Role::Header),
        ),
        Span::styled(view.typed.clone(), theme.style(Role::Base)),
        Span::styled("▏", theme.style(Role::Cursor)),
    ]);
    let idle = if view.typed == app.ctx.target {
        Role::Base
    } else {
        Role::Muted
    };
    let mut lines = vec![prompt];
    lines.extend(buttons(
        app,
        theme,
        view.focus,
        ("Cancel", Role::Base, Role::Selection),
        (button, idle, Role::Danger),
    ));
    lines
}

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
    let text = if app.joined.is_some() {
        "Your deck is running your participant's part. Quitting leaves the session: the run pauses at the next barrier until your deck is back and the lead says go; your deck then resumes from your participant's state."
    } else {
        "Stop and quit stops after the current phase; running the plan again resumes it."
    };
    let mut lines = vec![
        Line::from(Span::styled("A recovery run is active.", theme.style(Role::Warn))),
        Line::from(Span::styled(text, theme.style(Role::Base))),
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
