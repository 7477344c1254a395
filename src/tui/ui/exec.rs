//! The execution screen: a gauge per phase and participant, the live journal, the
//! failure with its Canton code and what to do next, and the verification results.

use super::super::action::Action;
use super::super::app::{App, Screen};
use super::super::exec_view::{CellState, ExecView};
use super::super::scroll::{Scroll, Viewport};
use super::super::theme::{Role, Theme};
use super::panel::{Accent, text_panel, wrapped_height};
use super::text::fit;
use crate::journal::{Event, EventData};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, LineGauge, Paragraph};

/// One journal event as a line: sequence, kind, participant, the gist of its data.
pub fn journal_line(e: &Event) -> String {
    let node = e.actor.node.as_deref().unwrap_or("");
    let gist = match &e.body {
        Some(EventData::CallSent(c)) => match c.call.ids() {
            0 => c.call.rpc().to_string(),
            n => format!("{} {n} ids", c.call.rpc()),
        },
        Some(EventData::CallAnswered(a)) if a.ok => format!("{} ok", a.rpc),
        Some(EventData::CallAnswered(a)) => format!(
            "{} FAILED {}",
            a.rpc,
            a.code.as_deref().or(a.grpc.as_deref()).unwrap_or("")
        ),
        Some(EventData::Skipped(s)) => format!("{} skipped (already done)", s.rpc),
        Some(
            EventData::PhaseStarted { phase, .. }
            | EventData::PhaseDone { phase, .. }
            | EventData::PhaseSkipped { phase, .. }
            | EventData::PhaseFailed { phase, .. },
        ) => phase.to_string(),
        Some(EventData::PhasePaused { before, .. } | EventData::PhaseAborted { before, .. }) => before.to_string(),
        Some(EventData::Verified(v)) => format!("ok={} {}/{}", v.ok, v.held, v.expected),
        Some(EventData::Preflight(p)) => format!("ok={}", p.ok),
        Some(EventData::RunStarted(r)) => format!("plan {}", fit(&r.plan_hash, 20)),
        Some(EventData::RunEnded(r)) => format!("ok={}", r.ok),
        Some(EventData::StrategyChosen { strategy }) => strategy.to_string(),
        Some(EventData::Decided {
            contract_id, decision, ..
        }) => format!("{decision} {}", fit(contract_id, 18)),
        Some(EventData::PlanProposed(p)) => fit(&p.plan_hash, 24),
        Some(EventData::PlanApproved(p)) => fit(&p.plan_hash, 24),
        Some(EventData::Surveyed(s)) => serde_json::to_string(&s.classes).unwrap_or_default(),
        Some(EventData::DiffViewed { contract_id }) => fit(contract_id, 24),
        Some(EventData::SessionClosed(s)) => s.front_end.clone(),
        Some(EventData::ScreenOpened { .. } | EventData::CallDescribed(_)) | None => String::new(),
    };
    format!("#{:<4} {:<16} {:<13} {}", e.seq, e.kind, node, gist)
}

fn grid(frame: &mut Frame, area: Rect, app: &App, view: &ExecView, theme: &Theme) {
    let title = match (view.current, view.paused_before, view.finished) {
        (_, _, true) if view.failure.is_some() => " execution — STOPPED (see the failure below) ".to_string(),
        (_, _, true) => " execution — finished ".to_string(),
        (_, Some(next), false) => format!(
            " execution — PAUSED before {next} ({} resumes) ",
            app.screen_key(Screen::Execution, Action::Pause)
        ),
        (Some(p), None, false) => format!(" execution — phase {p} "),
        (None, None, false) => " execution — preflight ".to_string(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.style(Role::Title)))
        .border_style(theme.style(Role::FocusBorder));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let name_w = 14u16;
    let n = view.participants.len().max(1) as u16;
    let cell_w = (inner.width.saturating_sub(name_w) / n).max(6);
    let header = Rect { height: 1, ..inner };
    let mut spans = vec![Span::styled(
        format!("{:<w$}", "phase", w = name_w as usize),
        theme.style(Role::Header),
    )];
    for p in &view.participants {
        spans.push(Span::styled(
            format!("{:<w$}", fit(p, cell_w as usize - 1), w = cell_w as usize),
            theme.style(Role::Header),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), header);
    for (row, phase) in view.phases.iter().enumerate() {
        let y = inner.y + 1 + row as u16;
        if y >= inner.y + inner.height {
            break;
        }
        let marker = if view.current == Some(*phase) && !view.finished {
            "▶ "
        } else {
            "  "
        };
        frame.render_widget(
            Paragraph::new(Span::styled(
                format!("{marker}{}", phase.as_str()),
                theme.style(Role::Base),
            )),
            Rect {
                x: inner.x,
                y,
                width: name_w,
                height: 1,
            },
        );
        for (col, p) in view.participants.iter().enumerate() {
            let area = Rect {
                x: inner.x + name_w + col as u16 * cell_w,
                y,
                width: cell_w.saturating_sub(1),
                height: 1,
            };
            let Some(cell) = view.cell(*phase, p) else {
                frame.render_widget(Paragraph::new(Span::styled("—", theme.style(Role::Muted))), area);
                continue;
            };
            let (label, role) = match cell.state {
                CellState::Idle => ("waiting".to_string(), Role::Muted),
                CellState::Running => (format!("{}/{}", cell.done, cell.total), Role::Gauge),
                CellState::Done => (format!("done {}", cell.total), Role::GaugeDone),
                CellState::Skipped => ("skipped (done)".to_string(), Role::Muted),
                CellState::Failed => (format!("FAILED {}/{}", cell.done, cell.total), Role::Danger),
            };
            let ratio = if cell.total == 0 {
                0.0
            } else {
                (cell.done as f64 / cell.total as f64).clamp(0.0, 1.0)
            };
            let ratio = if matches!(cell.state, CellState::Done | CellState::Skipped) {
                1.0
            } else {
                ratio
            };
            let gauge = LineGauge::default()
                .ratio(ratio)
                .label(Span::styled(label, theme.style(role)))
                .filled_style(theme.style(role))
                .unfilled_style(theme.style(Role::Muted));
            frame.render_widget(gauge, area);
        }
    }
}

fn outcome_lines(app: &App, view: &ExecView, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(problems) = &view.preflight
        && !problems.is_empty()
    {
        lines.push(Line::from(Span::styled(
            "preflight refused to start:",
            theme.style(Role::Danger),
        )));
        for p in problems {
            lines.push(Line::from(Span::styled(format!("  {p}"), theme.style(Role::Danger))));
        }
    }
    for w in &view.warnings {
        lines.push(Line::from(Span::styled(
            format!("warning: {w}"),
            theme.style(Role::Warn),
        )));
    }
    if let Some(f) = &view.failure {
        let code = f.failure.code().unwrap_or("no Canton code");
        lines.push(Line::from(Span::styled(
            format!("✗ {} failed on {} [{code}]", f.phase, f.participant),
            theme.style(Role::Danger),
        )));
        lines.push(Line::from(Span::styled(
            f.failure.message.clone(),
            theme.style(Role::Base),
        )));
        lines.push(Line::from(Span::styled(
            format!("next: {}", f.advice()),
            theme.style(Role::Warn),
        )));
    }
    for (name, v) in &view.verify {
        let ok = v.ok;
        let pings: Vec<String> = v
            .pings
            .iter()
            .map(|p| format!("{} {}", p.to, if p.ok { "ok" } else { "FAILED" }))
            .collect();
        lines.push(Line::from(vec![
            Span::styled(
                if ok { "✓ verified " } else { "✗ NOT verified " },
                theme.style(if ok { Role::Ok } else { Role::Danger }),
            ),
            Span::styled(
                format!("{name}: {}/{} on target, ping {}", v.held, v.expected, pings.join(", ")),
                theme.style(Role::Base),
            ),
        ]));
    }
    if view.finished && view.verified() {
        lines.push(Line::from(Span::styled(
            "VERIFIED: every participant holds exactly the plan's contracts on the target and answers pings.",
            theme.style(Role::Ok),
        )));
    }
    if let Some(r) = &view.report {
        let moved: usize = r.moved.values().sum();
        let added: usize = r.added.values().sum();
        let skipped: usize = r.skipped.values().sum();
        lines.push(Line::from(Span::styled(
            format!(
                "moved {moved} · imported {added} · already done {skipped} · journal {}",
                r.journal
            ),
            theme.style(Role::Muted),
        )));
    }
    if view.finished && view.failure.is_none() && view.report.as_ref().is_some_and(|r| r.ok) {
        // What comes next, with the keys of the screen once the run has ended (a failure
        // says its own next step above).
        let key = |action| app.screen_key(Screen::Execution, action);
        lines.push(Line::from(Span::styled(
            format!(
                "next: {} compare on {} · {} journal · {} quit",
                key(Action::CompareTarget),
                app.ctx.target,
                key(Action::Journal),
                key(Action::Quit)
            ),
            theme.style(Role::KeyHint),
        )));
    }
    lines
}

/// A journal as a bordered list of lines, from the line `scroll` puts first.
fn journal_pane<'a>(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    (title, border): (String, Role),
    scroll: &Scroll,
    events: impl ExactSizeIterator<Item = &'a Event>,
    role: impl Fn(&Event) -> Role,
) -> Viewport {
    let viewport = Viewport {
        lines: events.len(),
        height: area.height.saturating_sub(2) as usize,
    };
    let lines: Vec<Line> = events
        .skip(scroll.first_line(viewport))
        .take(viewport.height)
        .map(|e| Line::from(Span::styled(journal_line(e), theme.style(role(e)))))
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.style(Role::Title)))
        .border_style(theme.style(border));
    frame.render_widget(Paragraph::new(lines).block(block).style(theme.style(Role::Base)), area);
    viewport
}

/// The session journal pane under the comparison.
pub fn draw_session(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) -> Viewport {
    let focused = app.focus == super::super::app::Focus::Journal;
    journal_pane(
        frame,
        area,
        theme,
        (
            format!(" session journal ({} events) ", app.session.len()),
            if focused { Role::FocusBorder } else { Role::Border },
        ),
        &app.session_view,
        app.session.iter(),
        |_| Role::Muted,
    )
}

/// Draws the execution screen; returns the journal pane's viewport.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) -> Option<Viewport> {
    let view = app.exec.as_ref()?;
    let title = format!(" journal ({} events) ", view.journal.len());
    let role = |e: &Event| match &e.body {
        Some(EventData::CallAnswered(a)) if !a.ok => Role::Danger,
        Some(EventData::PhaseFailed { .. }) => Role::Danger,
        Some(
            EventData::PhaseStarted { .. }
            | EventData::PhaseDone { .. }
            | EventData::PhaseSkipped { .. }
            | EventData::PhasePaused { .. }
            | EventData::PhaseAborted { .. }
            | EventData::RunStarted(_)
            | EventData::RunEnded(_)
            | EventData::ScreenOpened { .. },
        ) => Role::Accent,
        _ => Role::Muted,
    };
    let journal = |frame: &mut Frame, area: Rect| {
        journal_pane(
            frame,
            area,
            theme,
            (title, Role::Border),
            &view.journal_view,
            view.journal.iter(),
            role,
        )
    };
    if view.journal_full {
        return Some(journal(frame, area));
    }
    let grid_height = view.phases.len() as u16 + 3;
    let outcome = outcome_lines(app, view, theme);
    // The outcome gets what it needs once wrapped; the journal keeps at least one line.
    let room = area.height.saturating_sub(grid_height + 3);
    // Under a session's pane on a small terminal, an empty outcome gives its lines to
    // the grid.
    let outcome_height = if outcome.is_empty() && room < 3 {
        0
    } else {
        (wrapped_height(outcome.clone(), area.width, theme) as u16 + 2)
            .min(room)
            .max(3)
    };
    let [g, o, j] = Layout::vertical([
        Constraint::Length(grid_height),
        Constraint::Length(outcome_height),
        Constraint::Min(3),
    ])
    .areas(area);
    grid(frame, g, app, view, theme);
    if o.height > 0 {
        text_panel(
            frame,
            o,
            theme,
            (" outcome ", Accent::of(Role::Title, Role::Border)),
            &Scroll::default(),
            outcome,
        );
    }
    Some(journal(frame, j))
}
