//! The help overlay, generated from the keymap, the `:` command table and the marker
//! legend, so it cannot drift from what the keys and commands do. Long entries wrap with a
//! hanging indent under their description.

use super::super::action::Action;
use super::super::app::App;
use super::super::app::commands::COMMANDS;
use super::super::keymap::Layer;
use super::super::scroll::{Scroll, Viewport};
use super::super::theme::{Role, Theme};
use super::marks::legend;
use super::panel::{Accent, text_panel};
use super::text::hanging;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Clear;

/// Width of the key column, indent included.
const KEYS: usize = 20;

fn entry<'a>(keys: &str, description: &str, width: usize, theme: &Theme) -> Vec<Line<'a>> {
    let lead = vec![Span::styled(
        format!("  {keys:<w$}", w = KEYS - 2),
        theme.style(Role::KeyHint),
    )];
    hanging(lead, description, theme.style(Role::Base), width)
}

fn heading<'a>(lines: &mut Vec<Line<'a>>, text: &str, theme: &Theme) {
    if !lines.is_empty() {
        lines.push(Line::from(""));
    }
    lines.push(Line::from(Span::styled(text.to_string(), theme.style(Role::Header))));
}

/// The help text for a panel `width` columns wide (borders included).
pub fn lines(app: &App, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let width = width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    // Each layer with what is below it when it is active, listing only its own keys: the
    // keys of Global that it shadows are not listed under Global's section for it.
    let mut layers = Layer::ALL;
    layers.sort_by_key(|l| l.help_rank());
    for layer in layers.into_iter().filter(|l| app.uses_layer(*l)) {
        let stack: &[Layer] = if layer.captures_input() || layer == Layer::Global {
            &[layer]
        } else {
            &[layer, Layer::Global]
        };
        let entries: Vec<_> = app
            .keymap
            .help(stack)
            .into_iter()
            .filter(|e| e.layer == layer)
            .collect();
        if entries.is_empty() {
            continue;
        }
        heading(&mut lines, layer.title(), theme);
        for e in entries {
            lines.extend(entry(&e.keys.join(" "), e.description, width, theme));
        }
    }
    heading(&mut lines, "Commands (type : first)", theme);
    for c in COMMANDS.iter().filter(|c| app.joined.is_some() || !c.session_only()) {
        lines.extend(entry(&c.usage(), c.description(), width, theme));
    }
    heading(&mut lines, "Markers", theme);
    lines.extend(hanging(
        vec![Span::raw("  ")],
        &legend(),
        theme.style(Role::Muted),
        width,
    ));
    if app.ctx.read_only {
        lines.push(Line::from(""));
        lines.extend(hanging(
            vec![Span::styled("[RO] ", theme.style(Role::ReadOnly))],
            "read-only: strategy, selection, decision and execute keys are not bound.",
            theme.style(Role::ReadOnly),
            width,
        ));
    }
    lines
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, scroll: &Scroll, theme: &Theme) -> Viewport {
    frame.render_widget(Clear, area);
    let layers = [Layer::Help, Layer::Global];
    let title = format!(
        " help ({} or {} closes) ",
        app.key(&layers, Action::Help),
        app.key(&layers, Action::Clear)
    );
    let accent = Accent::of(Role::Title, Role::FocusBorder);
    text_panel(
        frame,
        area,
        theme,
        (&title, accent),
        scroll,
        lines(app, area.width, theme),
    )
}
