//! The top line: what incident, who, from where to where, which strategy, read-only.

use super::super::app::App;
use super::super::theme::{Role, Theme};
use crate::reconcile::StrategyName;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let ctx = &app.ctx;
    let sep = Span::styled(" │ ", theme.style(Role::Muted));
    let strategy = app.choice.strategy().map(StrategyName::as_str).unwrap_or("no strategy");
    if let Some(j) = &app.joined {
        // Who this screen is comes first, so a shared terminal cut at 80 columns shows it.
        let who = match &j.participant {
            Some(p) => format!(" {} · {} · {p} ", j.operator, j.role_text()),
            None => format!(" {} · {} ", j.operator, j.role_text()),
        };
        let mut spans = vec![Span::styled(who, theme.style(Role::Title))];
        if ctx.read_only {
            spans.push(Span::styled("[RO] ", theme.style(Role::ReadOnly)));
        }
        spans.extend([
            sep.clone(),
            Span::styled(ctx.incident.clone(), theme.style(Role::Header)),
            sep.clone(),
            Span::styled(format!("{} → {}", ctx.lost, ctx.target), theme.style(Role::Accent)),
        ]);
        if j.role == crate::collab::event::Role::Lead {
            spans.push(sep.clone());
            spans.push(Span::styled(format!("strategy: {strategy}"), theme.style(Role::Header)));
        }
        spans.push(sep);
        spans.push(Span::styled(app.crumbs().join(" › "), theme.style(Role::Muted)));
        frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.style(Role::Base)), area);
        return;
    }
    let mut spans = vec![
        Span::styled(" recovery-deck ", theme.style(Role::Title)),
        sep.clone(),
        Span::styled(ctx.incident.clone(), theme.style(Role::Header)),
        sep.clone(),
        Span::styled(format!("{} → {}", ctx.lost, ctx.target), theme.style(Role::Accent)),
        sep.clone(),
        Span::styled(format!("strategy: {strategy}"), theme.style(Role::Header)),
        sep.clone(),
        Span::styled(format!("op {}", ctx.operator), theme.style(Role::Muted)),
    ];
    if ctx.read_only {
        spans.push(sep.clone());
        spans.push(Span::styled("[RO]", theme.style(Role::ReadOnly)));
    }
    spans.push(sep);
    spans.push(Span::styled(app.crumbs().join(" › "), theme.style(Role::Muted)));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.style(Role::Base)), area);
}
