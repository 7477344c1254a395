//! The bottom two lines: counts, filters and flash messages; then the prompt or the key
//! hints of the active layer.

use super::super::app::commands;
use super::super::app::{App, Level, PromptKind, Screen, SurveyState};
use super::super::keymap::Layer;
use super::super::table::class_label;
use super::super::theme::{Role, Theme};
use super::marks::class_role;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// The key hints of `layers` (the first is what has focus), as spans; joined to a
/// session, the role's own keys come first.
pub fn hint_spans(app: &App, layers: &[Layer], theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let role = app.role_layer().filter(|l| layers.contains(l));
    let role_hints = role.map(|l| app.keymap.hints_of(l, layers)).unwrap_or_default();
    let mut hints = role_hints.clone();
    hints.extend(
        app.keymap
            .hints(layers)
            .into_iter()
            .filter(|h| !role_hints.iter().any(|r| r.action == h.action)),
    );
    for hint in hints {
        spans.push(Span::styled(format!(" {}", hint.key), theme.style(Role::KeyHint)));
        spans.push(Span::styled(format!(" {} ", hint.label), theme.style(Role::Muted)));
    }
    spans
}

/// What the command prompt offers for what is typed: the command's usage and description
/// once the verb names one, else the commands it could still become.
fn command_hint(text: &str) -> String {
    let verb = text.split(' ').next().unwrap_or_default();
    if let Some(c) = commands::find(verb)
        && (text.contains(' ') || commands::completions(verb).count() == 1)
    {
        return format!("{}  {}", c.usage(), c.description());
    }
    commands::completions(verb)
        .map(|c| c.usage())
        .collect::<Vec<_>>()
        .join("  ")
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let [first, second] = [
        Rect { height: 1, ..area },
        Rect {
            y: area.y + 1,
            height: 1,
            ..area
        },
    ];
    let mut spans: Vec<Span> = Vec::new();
    if let Some(flash) = &app.flash {
        let role = match flash.level {
            Level::Info => Role::Flash,
            Level::Warn => Role::Warn,
            Level::Error => Role::Danger,
        };
        spans.push(Span::styled(format!(" {} ", flash.text), theme.style(role)));
    } else {
        let waiting = app.joined.as_ref().and_then(|j| j.waiting.as_ref());
        match (&app.survey, &app.data) {
            (SurveyState::Loading, _) if waiting.is_some() => spans.push(Span::styled(
                format!(" waiting: {}", waiting.map(String::as_str).unwrap_or_default()),
                theme.style(Role::Muted),
            )),
            (SurveyState::Loading, _) if app.joined.is_some() => spans.push(Span::styled(
                " waiting for the session's manifests…",
                theme.style(Role::Muted),
            )),
            (SurveyState::Loading, _) => {
                spans.push(Span::styled(" reading the participants…", theme.style(Role::Muted)))
            }
            (SurveyState::Failed(e), _) => {
                spans.push(Span::styled(format!(" survey failed: {e}"), theme.style(Role::Danger)))
            }
            (SurveyState::Ready, Some(d)) => {
                let counts = d.comparison.counts();
                spans.push(Span::styled(
                    format!(" {} rows: ", d.comparison.len()),
                    theme.style(Role::Base),
                ));
                for (i, (class, n)) in counts.iter().enumerate() {
                    if i > 0 {
                        spans.push(Span::styled(" · ", theme.style(Role::Muted)));
                    }
                    spans.push(Span::styled(
                        format!("{} {n}", class_label(class)),
                        theme.style(class_role(class)),
                    ));
                }
                if app.screen == Screen::Main && (app.table.class.is_some() || !app.table.text.is_empty()) {
                    let class = app.table.class.map(class_label).unwrap_or("all");
                    let text = if app.table.text.is_empty() {
                        String::new()
                    } else {
                        format!(", /{}", app.table.text)
                    };
                    spans.push(Span::styled(
                        format!("  │ showing {} ({class}{text})", app.table.rows.len()),
                        theme.style(Role::Accent),
                    ));
                }
            }
            _ => {}
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.style(Role::Base)), first);

    let layers = app.layers();
    let line = match &app.prompt {
        Some(p) => {
            let (lead, hint) = match p.kind {
                PromptKind::Filter => ("/", "filter by contract id, template or party prefix".to_string()),
                PromptKind::Command => (":", command_hint(&p.text)),
            };
            let mut spans = vec![
                Span::styled(format!("{lead}{}", p.text), theme.style(Role::Base)),
                Span::styled("▏", theme.style(Role::Cursor)),
                Span::styled(format!("  {hint} ·"), theme.style(Role::Muted)),
            ];
            spans.extend(hint_spans(app, &layers, theme));
            Line::from(spans)
        }
        None => Line::from(hint_spans(app, &layers, theme)),
    };
    frame.render_widget(Paragraph::new(line).style(theme.style(Role::Base)), second);
}
