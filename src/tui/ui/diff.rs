//! The diff popup: two participants' payloads of one contract side by side, changed
//! fragments emphasised, a gutter marker on every changed line.

use super::super::app::{App, DiffView};
use super::super::keymap::Layer;
use super::super::scroll::Viewport;
use super::super::theme::{Role, Theme};
use super::status::hint_spans;
use crate::reconcile::diff::{DiffLine, DiffRow, DiffTag};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

fn side(line: Option<&DiffLine>, tag: DiffTag, left: bool, theme: &Theme) -> Line<'static> {
    let Some(line) = line else {
        return Line::from(Span::styled("", theme.style(Role::Muted)));
    };
    let (base, strong) = match (tag, left) {
        (DiffTag::Equal, _) => (Role::Base, Role::Base),
        (DiffTag::Delete, _) | (DiffTag::Replace, true) => (Role::Removed, Role::Danger),
        (DiffTag::Insert, _) | (DiffTag::Replace, false) => (Role::Added, Role::Ok),
    };
    let mut spans = vec![Span::styled(format!("{:>3} ", line.number), theme.style(Role::Muted))];
    for f in &line.fragments {
        let role = if f.emphasised { strong } else { base };
        let mut style = theme.style(role);
        if f.emphasised {
            style = style.add_modifier(ratatui::style::Modifier::REVERSED | ratatui::style::Modifier::BOLD);
        }
        spans.push(Span::styled(f.text.trim_end_matches('\n').to_string(), style));
    }
    Line::from(spans)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, view: &DiffView, theme: &Theme) -> Viewport {
    frame.render_widget(Clear, area);
    let Some(data) = &app.data else {
        return Viewport::default();
    };
    let names = data.comparison.participants();
    let row = data.comparison.rows().get(view.row);
    let (i, j) = view.pairs.get(view.pair).copied().unwrap_or((0, 0));
    let id = row.map(|r| r.contract_id().to_string()).unwrap_or_default();
    let changed = view.lines.iter().filter(|l| l.tag != DiffTag::Equal).count();
    let title = if i == j {
        format!(" payload of {} held only by {} ", super::text::fit(&id, 24), names[i])
    } else {
        format!(
            " payload diff {}  {} ↔ {}  pair {}/{}  {} changed line(s) ",
            super::text::fit(&id, 20),
            names.get(i).map(String::as_str).unwrap_or("?"),
            names.get(j).map(String::as_str).unwrap_or("?"),
            view.pair + 1,
            view.pairs.len(),
            changed
        )
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.style(Role::Title)))
        .title_bottom(Line::from(hint_spans(app, &[Layer::Diff, Layer::Global], theme)))
        .border_style(theme.style(Role::FocusBorder));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [left, gutter, right] = Layout::horizontal([
        Constraint::Percentage(50),
        Constraint::Length(2),
        Constraint::Percentage(50),
    ])
    .areas(inner);
    let viewport = Viewport {
        lines: view.lines.len(),
        height: inner.height as usize,
    };
    let first = view.scroll.first_line(viewport);
    let rows: Vec<&DiffRow> = view.lines.iter().skip(first).take(viewport.height).collect();
    let l: Vec<Line> = rows.iter().map(|r| side(r.left.as_ref(), r.tag, true, theme)).collect();
    let g: Vec<Line> = rows
        .iter()
        .map(|r| {
            let role = if r.tag == DiffTag::Equal {
                Role::Muted
            } else {
                Role::Changed
            };
            Line::from(Span::styled(format!("{} ", r.tag.symbol()), theme.style(role)))
        })
        .collect();
    let r: Vec<Line> = rows
        .iter()
        .map(|r| side(r.right.as_ref(), r.tag, false, theme))
        .collect();
    frame.render_widget(Paragraph::new(l).style(theme.style(Role::Base)), left);
    frame.render_widget(Paragraph::new(g).style(theme.style(Role::Base)), gutter);
    frame.render_widget(Paragraph::new(r).style(theme.style(Role::Base)), right);
    viewport
}
