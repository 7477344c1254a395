//! The participants strip: one line per participant with reachability, synchronizers,
//! parties and in-flight counts.

use super::super::app::{App, Focus, Screen};
use super::super::scroll::Viewport;
use super::super::theme::{Role, Theme};
use super::text::{fit, party_hint};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// Lines the strip takes (with its border), leaving the table room on small screens.
pub fn height(app: &App, screen_height: u16) -> u16 {
    let wanted = app.participants.len() as u16 + 2;
    wanted.min(screen_height / 3).max(3)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) -> Viewport {
    let focused = app.screen == Screen::Main && app.focus == Focus::Participants;
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(" participants ", theme.style(Role::Title)))
        .border_style(theme.style(if focused { Role::FocusBorder } else { Role::Border }));
    let width = area.width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    for p in &app.participants {
        let mut spans = vec![
            Span::styled(fit(&p.name, 14), theme.style(Role::Header)),
            Span::raw(" "),
        ];
        match &p.report {
            None => spans.push(Span::styled(
                p.recorded.as_deref().unwrap_or("… contacting").to_string(),
                theme.style(Role::Muted),
            )),
            Some(r) if !r.reachable => {
                spans.push(Span::styled("✗ UNREACHABLE", theme.style(Role::Danger)));
                if let Some(e) = &r.error {
                    spans.push(Span::styled(format!(" {}", fit(e, 60)), theme.style(Role::Muted)));
                }
            }
            Some(r) => {
                spans.push(Span::styled("● up", theme.style(Role::Ok)));
                // Contracts this participant sees between the compared synchronizer and
                // another: in no row, so counted here, early enough never to be cut off.
                let between = app
                    .data
                    .as_ref()
                    .and_then(|d| d.incomplete.get(&p.name))
                    .map_or(0, Vec::len);
                if between > 0 {
                    spans.push(Span::styled(format!(" ⇄ {between}"), theme.style(Role::Warn)));
                }
                for s in &r.synchronizers {
                    let (mark, state, role) = match (s.connected, s.healthy, s.ever_connected) {
                        (true, Some(true), _) => ("▲", "connected", Role::Ok),
                        (true, _, _) => ("✗", "unreachable", Role::Danger),
                        (false, _, true) => ("▽", "disconnected", Role::Muted),
                        (false, _, false) => ("○", "never connected", Role::Muted),
                    };
                    spans.push(Span::raw("  "));
                    spans.push(Span::styled(format!("{mark} {} {state}", s.alias), theme.style(role)));
                    if let Some(f) = s.in_flight.filter(|f| f.total() > 0) {
                        spans.push(Span::styled(
                            format!(" (in flight {})", f.total()),
                            theme.style(Role::Warn),
                        ));
                    }
                }
                // The party list comes last and is shortened to what is left of the line:
                // ratatui would clip it anyway, but a cut list reads worse than a marked one.
                let parties: Vec<&str> = r.parties.iter().map(|p| party_hint(p)).collect();
                let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
                let room = width.saturating_sub(used);
                if room > 10 {
                    spans.push(Span::styled(
                        fit(&format!("  parties {}", parties.join(",")), room),
                        theme.style(Role::Muted),
                    ));
                }
            }
        }
        if let Some(n) = p.reading {
            spans.push(Span::styled(format!("  reading {n}…"), theme.style(Role::Accent)));
        }
        lines.push(Line::from(spans));
    }
    let viewport = Viewport {
        lines: lines.len(),
        height: area.height.saturating_sub(2) as usize,
    };
    let first = app.strip_view.first_line(viewport);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((first.min(u16::MAX as usize) as u16, 0))
            .style(theme.style(Role::Base)),
        area,
    );
    viewport
}
