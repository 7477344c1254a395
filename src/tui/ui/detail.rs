//! The selected row in full under the aligned view: its id, class and decision in the
//! title, and each distinct payload with the participants that hold it, wrapped, so what
//! a narrow payload column cuts off can still be read (once read: the survey keeps
//! digests, and a row's payloads are read when its diff is opened).

use super::super::app::{App, Compared};
use super::super::theme::{Role, Theme};
use super::marks::class_role;
use super::text::{fit, hanging, payload_summary};
use crate::reconcile::Digest;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// Lines the pane takes (borders included) on a screen `screen_height` rows high, or 0
/// when no row is selected.
pub fn height(app: &App, screen_height: u16) -> u16 {
    if app.table.current().is_none() || app.data.is_none() {
        return 0;
    }
    if screen_height >= 40 { 6 } else { 4 }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let (Some(data), Some(index)) = (&app.data, app.table.current()) else {
        return;
    };
    let Some(row) = data.comparison.rows().get(index) else {
        return;
    };
    let width = area.width.saturating_sub(2) as usize;
    let names = data.comparison.participants();
    // Distinct payloads in participant order, each with who holds it.
    let mut versions: Vec<(&Digest, Vec<&str>, Vec<usize>)> = Vec::new();
    for (i, state) in row.states().iter().enumerate() {
        let Some(digest) = state.digest() else { continue };
        match versions.iter_mut().find(|(d, _, _)| *d == digest) {
            Some((_, holders, at)) => {
                holders.push(&names[i]);
                at.push(i);
            }
            None => versions.push((digest, vec![&names[i]], vec![i])),
        }
    }
    let mut lines: Vec<Line> = Vec::new();
    for (_, holders, at) in &versions {
        // In a session only some payloads are here: the local participant's and the shared.
        let payload = at
            .iter()
            .find_map(|i| app.payload_of(*i, row.contract_id()))
            .map(payload_summary)
            .unwrap_or_else(|| match &app.joined {
                // The local participant's own: read like the main screen's, when asked.
                Some(j)
                    if at
                        .iter()
                        .any(|i| j.participant.as_deref() == names.get(*i).map(String::as_str)) =>
                {
                    "(not read yet: enter reads it for the diff)".into()
                }
                Some(_) => "(not shared: its holder's operator shares it on request)".into(),
                // The survey keeps digests only: a payload is read when the diff asks for it.
                None if app.payloads_on_demand => "(not read yet: enter reads it for the diff)".into(),
                None => String::new(),
            });
        let lead = vec![Span::styled(
            format!("{}: ", holders.join(", ")),
            theme.style(Role::Header),
        )];
        lines.extend(hanging(lead, &payload, theme.style(Role::Base), width));
    }
    if versions.is_empty() {
        lines.push(Line::from(Span::styled(
            "no participant holds it active: there is no payload to show",
            theme.style(Role::Muted),
        )));
    }
    // On the target there is nothing to decide: the lost synchronizer's decisions do not apply.
    let decision = (app.compared == Compared::Lost)
        .then(|| app.choice.decision(row.contract_id()))
        .flatten()
        .map(|d| format!(" · decided: {d}"))
        .unwrap_or_default();
    let tail = format!(" · {} · {}{decision} ", row.template_id(), row.class());
    let id = fit(
        row.contract_id(),
        width.saturating_sub(tail.chars().count() + 2).max(12),
    );
    let tail = fit(&tail, width.saturating_sub(id.chars().count() + 2));
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(vec![
            Span::styled(format!(" {id}"), theme.style(Role::Title)),
            Span::styled(tail, theme.style(class_role(row.class()))),
        ]))
        .border_style(theme.style(Role::Border));
    frame.render_widget(Paragraph::new(lines).block(block).style(theme.style(Role::Base)), area);
}
