//! The plan preview: phases × participants with exact counts, what is left behind, and
//! the decisions still open.

use super::super::action::Action;
use super::super::app::{App, PlanState, Screen};
use super::super::msg::PlanProblem;
use super::super::scroll::Viewport;
use super::super::theme::{Role, Theme};
use super::panel::{Accent, text_panel};
use super::text::fit;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// Undecided rows listed in the preview.
const LISTED: usize = 200;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) -> Viewport {
    let mut lines: Vec<Line> = Vec::new();
    let title;
    match &app.plan {
        PlanState::None | PlanState::Building => {
            title = " plan ".to_string();
            lines.push(Line::from(Span::styled(
                "computing the plan…",
                theme.style(Role::Muted),
            )));
        }
        PlanState::Blocked(PlanProblem::Undecided(rows)) => {
            title = " plan — decisions still open ".to_string();
            lines.push(Line::from(Span::styled(
                format!("{} row(s) need a decision before a plan can be made:", rows.len()),
                theme.style(Role::Danger),
            )));
            // The list scrolls, but a frame never builds more than a bounded number of lines.
            for row in rows.iter().take(LISTED) {
                lines.push(Line::from(vec![
                    Span::styled("  ? ", theme.style(Role::Danger)),
                    Span::styled(fit(&row.contract_id, 40), theme.style(Role::Base)),
                    Span::styled(format!("  {}", row.class), theme.style(Role::Archived)),
                ]));
            }
            if rows.len() > LISTED {
                lines.push(Line::from(Span::styled(
                    format!(
                        "  … and {} more (the class filter on the comparison shows them all)",
                        rows.len() - LISTED
                    ),
                    theme.style(Role::Muted),
                )));
            }
            lines.push(Line::from(""));
            let key = |a| app.screen_key(Screen::Main, a);
            lines.push(Line::from(Span::styled(
                format!(
                    "{} back to the comparison, select each row and press {} (purge where still active) or {} (leave it on the lost synchronizer); then {} again.",
                    app.screen_key(Screen::Plan, Action::Clear),
                    key(Action::DecidePurge),
                    key(Action::DecideExclude),
                    key(Action::PlanPreview),
                ),
                theme.style(Role::Muted),
            )));
        }
        PlanState::Blocked(problem) => {
            title = " plan — refused ".to_string();
            lines.push(Line::from(Span::styled(problem.to_string(), theme.style(Role::Danger))));
        }
        PlanState::Ready { plan, summary } => {
            title = format!(" plan {} ", fit(plan.hash(), 24));
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{} → {}", summary.lost, summary.target),
                    theme.style(Role::Accent),
                ),
                Span::styled(
                    format!(
                        "  strategy {} · batch {} · {} contract(s) move",
                        summary.strategy, summary.batch_size, summary.moved
                    ),
                    theme.style(Role::Base),
                ),
            ]));
            if let Some(loaded) = &app.loaded {
                lines.push(Line::from(Span::styled(
                    format!("loaded from {}", loaded.path.display()),
                    theme.style(Role::Muted),
                )));
                if !loaded.drift.is_empty() {
                    lines.push(Line::from(Span::styled(
                        "drifted since the plan was made (a run refuses it; make a new plan):",
                        theme.style(Role::Danger),
                    )));
                    for d in &loaded.drift {
                        lines.push(Line::from(Span::styled(
                            format!("  ! {}", d.describe()),
                            theme.style(Role::Danger),
                        )));
                    }
                }
            }
            let name_width = 12usize;
            let cell_width =
                ((area.width as usize).saturating_sub(name_width + 4) / summary.participants.len().max(1)).clamp(8, 30);
            let mut head = vec![Span::styled(
                format!("{:<name_width$}", "phase"),
                theme.style(Role::Header),
            )];
            for p in &summary.participants {
                head.push(Span::styled(
                    format!("│{:<cell_width$}", fit(p, cell_width)),
                    theme.style(Role::Header),
                ));
            }
            lines.push(Line::from(head));
            for phase in &summary.phases {
                let mut spans = vec![Span::styled(
                    format!("{:<name_width$}", phase.phase.as_str()),
                    theme.style(Role::Base),
                )];
                for i in 0..summary.participants.len() {
                    let text = phase.cell_text(i);
                    let role = if text == "-" { Role::Muted } else { Role::Base };
                    spans.push(Span::styled(
                        format!("│{:<cell_width$}", fit(&text, cell_width)),
                        theme.style(role),
                    ));
                }
                lines.push(Line::from(spans));
            }
            let excluded: Vec<String> = summary
                .excluded
                .iter()
                .map(|(r, n)| format!("{n} {}", r.as_str()))
                .collect();
            lines.push(Line::from(vec![
                Span::styled("not moved: ", theme.style(Role::Header)),
                Span::styled(
                    if excluded.is_empty() {
                        "none".to_string()
                    } else {
                        excluded.join(", ")
                    },
                    theme.style(Role::Muted),
                ),
            ]));
            let abandoned: Vec<String> = plan
                .in_flight()
                .iter()
                .filter(|(_, f)| f.pending_submissions + f.pending_transactions > 0)
                .map(|(p, f)| format!("{p} {}", f.pending_submissions + f.pending_transactions))
                .collect();
            if !abandoned.is_empty() {
                lines.push(Line::from(vec![
                    Span::styled(
                        "in flight on the lost synchronizer (abandoned): ",
                        theme.style(Role::Warn),
                    ),
                    Span::styled(abandoned.join(", "), theme.style(Role::Warn)),
                ]));
            }
            let between: Vec<String> = app
                .data
                .iter()
                .flat_map(|d| d.incomplete_outside_rows())
                .map(|(p, n)| format!("{p} {n}"))
                .collect();
            if !between.is_empty() {
                lines.push(Line::from(vec![
                    Span::styled(
                        "between synchronizers, in no plan (finish their reassignments in Canton): ",
                        theme.style(Role::Warn),
                    ),
                    Span::styled(between.join(", "), theme.style(Role::Warn)),
                ]));
            }
            lines.push(Line::from(""));
            let key = |a| app.screen_key(Screen::Plan, a);
            let session = app.board().and_then(|b| b.plan_hash()) == Some(plan.hash());
            let next = if let Some(j) = &app.joined {
                use crate::collab::event::Role as R;
                match j.role {
                    R::Lead if session => format!(
                        "the session's plan · {} go (asks you to type the target's alias) · {} back",
                        key(Action::Go),
                        key(Action::Clear)
                    ),
                    R::Lead => format!(
                        "previewed here, not proposed · {} propose it to the session (voids every approval) · {} back",
                        key(Action::Propose),
                        key(Action::Clear)
                    ),
                    R::NodeOperator => format!(
                        "the session's plan, proposed by {} · {} approve it for your participant · {} back",
                        app.board()
                            .and_then(|b| b.proposal.as_ref())
                            .map(|p| p.proposed_by.as_str())
                            .unwrap_or("the lead"),
                        key(Action::Approve),
                        key(Action::Clear)
                    ),
                    R::Observer => "the session's plan: observers review it only".to_string(),
                }
            } else if app.ctx.read_only {
                "read-only: this plan can be reviewed, not executed".to_string()
            } else {
                format!(
                    "{} execute (asks you to type the target's alias) · {} back to the comparison",
                    app.screen_key(Screen::Plan, Action::Execute),
                    app.screen_key(Screen::Plan, Action::Clear)
                )
            };
            lines.push(Line::from(Span::styled(next, theme.style(Role::KeyHint))));
        }
    }
    let accent = Accent::of(Role::Title, Role::FocusBorder);
    text_panel(frame, area, theme, (&title, accent), &app.plan_view, lines)
}
