//! The help overlay, generated from the keymap so it cannot drift from the bindings.

use super::super::app::App;
use super::super::keymap::Layer;
use super::super::theme::{Role, Theme};
use super::panel::{Accent, text_panel};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Clear;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    frame.render_widget(Clear, area);
    let layers = [Layer::Table, Layer::Diff, Layer::Plan, Layer::Execution, Layer::Global];
    let mut lines: Vec<Line> = Vec::new();
    let mut last = None;
    for entry in app.keymap.help(&layers) {
        if last != Some(entry.layer) {
            if last.is_some() {
                lines.push(Line::from(""));
            }
            lines.push(Line::from(Span::styled(
                format!("{:?}", entry.layer),
                theme.style(Role::Header),
            )));
            last = Some(entry.layer);
        }
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<18}", entry.keys.join(" ")), theme.style(Role::KeyHint)),
            Span::styled(entry.description, theme.style(Role::Base)),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "markers: ✓ active  + missing here  × archived/moved here  ~ payload differs  · not hosted   ● moved  ○ left behind  P purged  ? needs a decision",
        theme.style(Role::Muted),
    )));
    lines.push(Line::from(Span::styled(
        "commands: :filter TEXT  :class NAME|all  :goto ID  :plan  :refresh  :journal  :q",
        theme.style(Role::Muted),
    )));
    if app.ctx.read_only {
        lines.push(Line::from(Span::styled(
            "[RO] read-only: strategy, selection and execute keys are not bound.",
            theme.style(Role::ReadOnly),
        )));
    }
    let title = (" help (? or esc closes) ", Accent::of(Role::Title, Role::FocusBorder));
    text_panel(frame, area, theme, title, app.scroll, lines);
}
