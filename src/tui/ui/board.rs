//! The session pane of a joined screen: the plan and its run, one line per participant
//! (who acts for it and whether they are here, which plan hash it approved, what it is
//! doing), the other operators, and whose turn it is. Every state is a word or a marker
//! in brackets, so it reads the same without colour on a shared terminal.

use super::super::app::App;
use super::super::theme::{Role, Theme};
use super::text::{fit, short_hash};
use crate::collab::board::{Board, ParticipantLine};
use crate::collab::event::Role as SessionRole;
use crate::collab::state::RunState;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// Lines the pane takes (borders included): the plan, the participants, the others and
/// the turn, within two fifths of the screen.
pub fn height(app: &App, screen_height: u16) -> u16 {
    let participants = app.ctx.participants.len() as u16;
    (participants + 5).min(screen_height * 2 / 5).max(4)
}

fn role_word(r: SessionRole) -> &'static str {
    match r {
        SessionRole::Lead => "lead",
        SessionRole::NodeOperator => "node operator",
        SessionRole::Observer => "observer",
    }
}

fn here(present: bool) -> &'static str {
    if present { "here" } else { "AWAY" }
}

/// The run as a word in capitals, and its style.
fn run_word(run: &RunState) -> (String, Role) {
    match run {
        RunState::Idle => ("not started".into(), Role::Muted),
        RunState::Running => ("RUNNING".into(), Role::Accent),
        RunState::Paused { reason } => (format!("PAUSED ({reason})"), Role::Warn),
        RunState::Aborted { reason } => (format!("ABORTED ({reason})"), Role::Danger),
        RunState::Finished => ("FINISHED".into(), Role::Ok),
    }
}

fn plan_line<'a>(b: &Board, theme: &Theme) -> Line<'a> {
    let Some(p) = &b.proposal else {
        let mut spans = vec![Span::styled("no plan proposed yet", theme.style(Role::Muted))];
        if let Some(v) = &b.voided {
            spans.push(Span::styled(
                format!(" · plan {} voided", short_hash(&v.plan_hash)),
                theme.style(Role::Muted),
            ));
        }
        return Line::from(spans);
    };
    let approved = p
        .participants
        .iter()
        .filter(|n| b.participant(n).is_some_and(|l| l.approval.is_some()))
        .count();
    let (run, run_role) = run_word(&b.run);
    let mut spans = vec![
        Span::styled(format!("plan {}", short_hash(&p.plan_hash)), theme.style(Role::Header)),
        Span::styled(format!(" {} by {}", p.strategy, p.proposed_by), theme.style(Role::Base)),
        Span::styled(
            format!(" · {approved}/{} approved · ", p.participants.len()),
            theme.style(if approved == p.participants.len() {
                Role::Ok
            } else {
                Role::Warn
            }),
        ),
    ];
    if let Some(phase) = b
        .open_phase
        .filter(|_| matches!(b.run, RunState::Running | RunState::Paused { .. }))
    {
        spans.push(Span::styled(format!("{phase} "), theme.style(Role::Accent)));
    }
    spans.push(Span::styled(run, theme.style(run_role)));
    if p.plan.is_none() {
        spans.push(Span::styled(
            " · its runbook does not load here",
            theme.style(Role::Danger),
        ));
    }
    if let Some(v) = b.voided.as_ref().filter(|v| !v.approvals.is_empty()) {
        spans.push(Span::styled(
            format!(" · voided {} ({})", short_hash(&v.plan_hash), v.approvals.join(", ")),
            theme.style(Role::Muted),
        ));
    }
    Line::from(spans)
}

fn participant_line<'a>(app: &App, b: &Board, l: &ParticipantLine, theme: &Theme) -> Line<'a> {
    let joined = app.joined.as_ref();
    let mine = joined.and_then(|j| j.participant.as_deref()) == Some(l.name.as_str());
    let turn = l.operators.iter().any(|(o, _)| b.waits_for(o));
    let width = b
        .participants
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, 20);
    let mut spans = vec![
        Span::styled(if turn { "» " } else { "  " }, theme.style(Role::Warn)),
        Span::styled(
            format!("{:<width$} ", fit(&l.name, width)),
            theme.style(if mine { Role::Title } else { Role::Header }),
        ),
    ];
    let approval = match (&l.approval, l.in_plan) {
        // Once the run started every participant approved the plan the line above names.
        (Some(_), _) if b.run != RunState::Idle => Span::styled("[APPROVED] ", theme.style(Role::Ok)),
        (Some(a), _) => Span::styled(
            format!("[APPROVED {} by {}] ", short_hash(&a.plan_hash), a.operator),
            theme.style(Role::Ok),
        ),
        (None, true) => Span::styled("[NOT APPROVED] ", theme.style(Role::Warn)),
        (None, false) => Span::styled("", theme.style(Role::Muted)),
    };
    spans.push(approval);
    let operators: Vec<String> = if l.operators.is_empty() {
        vec!["no operator".into()]
    } else {
        l.operators.iter().map(|(o, p)| format!("{o} {}", here(*p))).collect()
    };
    let away = l.operators.iter().all(|(_, p)| !p);
    spans.push(Span::styled(
        format!("{} ", operators.join(", ")),
        theme.style(if away { Role::Warn } else { Role::Base }),
    ));
    let mut doing = vec![l.doing.clone()];
    if l.phases_done > 0 {
        let total = b.plan().map(|p| p.phases().len()).unwrap_or(0);
        doing.push(format!("{}/{total} phases", l.phases_done));
    }
    if l.applied + l.skipped > 0 {
        doing.push(format!("{} applied, {} skipped", l.applied, l.skipped));
    }
    if let Some(c) = l.contracts.filter(|_| b.proposal.is_none()) {
        doing.push(format!("{c} contracts"));
    }
    let role = if l.failed.is_some() {
        Role::Danger
    } else if l.doing == "finished" {
        Role::Ok
    } else {
        Role::Muted
    };
    spans.push(Span::styled(format!("│ {}", doing.join(" · ")), theme.style(role)));
    Line::from(spans)
}

fn others_line<'a>(b: &Board, theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::styled("  also: ", theme.style(Role::Muted))];
    if b.others.is_empty() {
        spans.push(Span::styled("nobody", theme.style(Role::Muted)));
    }
    for (i, o) in b.others.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.style(Role::Muted)));
        }
        spans.push(Span::styled(
            format!("{} ({}) {}", o.name, role_word(o.role), here(o.present)),
            theme.style(if o.present { Role::Base } else { Role::Muted }),
        ));
    }
    Line::from(spans)
}

fn turn_line<'a>(app: &App, b: &Board, theme: &Theme) -> Line<'a> {
    let me = app.joined.as_ref().map(|j| j.operator.as_str()).unwrap_or("");
    let mut what = b.turn.what.clone();
    // Hashes in full do not fit a shared 80-column terminal; the short form names them.
    for h in b.proposal.iter().map(|p| p.plan_hash.as_str()) {
        what = what.replace(h, &short_hash(h));
    }
    if b.waits_for(me) {
        return Line::from(vec![
            Span::styled("» YOUR TURN: ", theme.style(Role::Warn)),
            Span::styled(what, theme.style(Role::Warn)),
        ]);
    }
    let who = if b.turn.who.is_empty() {
        String::new()
    } else {
        format!("{} — ", b.turn.who.join(", "))
    };
    Line::from(vec![
        Span::styled("» turn: ", theme.style(Role::Header)),
        Span::styled(format!("{who}{what}"), theme.style(Role::Base)),
    ])
}

/// The pane's title: the log's position and whether the stream to the coordinator is up.
fn title(app: &App, b: Option<&Board>) -> (String, Role) {
    let Some(b) = b else {
        let at = app.joined.as_ref().map(|j| j.coordinator.as_str()).unwrap_or("");
        return (format!(" session · connecting to {at} "), Role::Muted);
    };
    let (link, role) = match (&b.fatal, b.connected, b.synced) {
        (Some(_), _, _) => ("FEED STOPPED", Role::Danger),
        (None, false, _) => ("COORDINATOR UNREACHABLE, retrying", Role::Danger),
        (None, true, false) => ("catching up", Role::Muted),
        (None, true, true) => ("live", Role::Title),
    };
    let sending = match app.joined.as_ref().map(|j| j.sending) {
        Some(n) if n > 0 => " · sending…",
        _ => "",
    };
    (
        format!(
            " session · seq {} · head {} · {link}{sending} ",
            b.head_seq,
            short_hash(&b.head_hash)
        ),
        role,
    )
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let board = app.board();
    let (title, title_role) = title(app, board);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.style(title_role)))
        .border_style(theme.style(Role::Border));
    let mut lines: Vec<Line> = Vec::new();
    match board {
        None => lines.push(Line::from(Span::styled(
            "reading the session's log…",
            theme.style(Role::Muted),
        ))),
        Some(b) => {
            if let Some(f) = &b.fatal {
                lines.push(Line::from(Span::styled(
                    format!("the feed stopped: {f}"),
                    theme.style(Role::Danger),
                )));
            }
            lines.push(plan_line(b, theme));
            for l in &b.participants {
                lines.push(participant_line(app, b, l, theme));
            }
            lines.push(others_line(b, theme));
            lines.push(turn_line(app, b, theme));
        }
    }
    // The turn is what a viewer must not miss: when the pane is short, it stays.
    let room = area.height.saturating_sub(2) as usize;
    if lines.len() > room && room > 0 {
        let turn = lines.pop();
        lines.truncate(room - 1);
        lines.extend(turn);
    }
    frame.render_widget(Paragraph::new(lines).block(block).style(theme.style(Role::Base)), area);
}
