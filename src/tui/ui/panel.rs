//! The bordered, wrapped text panel that overlays and report panes are drawn in, so they
//! share one look and one place to change it.

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

/// Draws `text` wrapped inside a titled border, scrolled down by `scroll` lines.
pub fn text_panel<'a>(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    (title, accent): (&'a str, Accent),
    scroll: usize,
    text: impl Into<Text<'a>>,
) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.style(accent.title)))
        .border_style(theme.style(accent.border));
    let para = Paragraph::new(text)
        .block(block)
        .wrap(Wrap { trim: false })
        .scroll((scroll.min(u16::MAX as usize) as u16, 0))
        .style(theme.style(Role::Base));
    frame.render_widget(para, area);
}
