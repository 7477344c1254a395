//! The bordered, wrapped text panel that overlays and report panes are drawn in, so they
//! share one look and one place to change it.

use super::super::scroll::{Scroll, Viewport};
use super::super::theme::{Role, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Span, Text};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

/// How a panel's frame is coloured: the title's role and the border's role.
#[derive(Clone, Copy)]
pub struct Accent {
    pub title: Role,
    pub border: Role,
}

impl Accent {
    pub const fn of(title: Role, border: Role) -> Self {
        Self { title, border }
    }

    /// A warning or a danger colours the whole frame.
    pub const fn all(role: Role) -> Self {
        Self::of(role, role)
    }
}

fn wrapped<'a>(text: impl Into<Text<'a>>, theme: &Theme) -> Paragraph<'a> {
    Paragraph::new(text)
        .wrap(Wrap { trim: false })
        .style(theme.style(Role::Base))
}

/// Lines `text` takes once wrapped inside a panel as wide as `width` (borders included).
pub fn wrapped_height<'a>(text: impl Into<Text<'a>>, width: u16, theme: &Theme) -> usize {
    wrapped(text, theme).line_count(width.saturating_sub(2))
}

/// Draws `text` wrapped inside a titled border, from the line `scroll` puts first; returns
/// what it measured, for the view's next move.
pub fn text_panel<'a>(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    (title, accent): (&'a str, Accent),
    scroll: &Scroll,
    text: impl Into<Text<'a>>,
) -> Viewport {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.style(accent.title)))
        .border_style(theme.style(accent.border));
    let inner = block.inner(area);
    let para = wrapped(text, theme);
    let viewport = Viewport {
        lines: para.line_count(inner.width),
        height: inner.height as usize,
    };
    let first = scroll.first_line(viewport);
    frame.render_widget(para.block(block).scroll((first.min(u16::MAX as usize) as u16, 0)), area);
    viewport
}
