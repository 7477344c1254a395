//! The aligned view: one row per contract id, one column group per participant. Only the
//! rows in view are built each frame.

use super::super::action::Action;
use super::super::app::{App, Focus, Screen, SurveyState};
use super::super::table::class_label;
use super::super::theme::{Role, Theme};
use super::marks::{class_role, fate_role, state_cell};
use super::text::{fit, payload_summary};
use crate::reconcile::ParticipantState;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

const ID_WIDTH: u16 = 16;
const TEMPLATE_WIDTH: u16 = 12;
const CLASS_WIDTH: u16 = 9;

fn message(frame: &mut Frame, area: Rect, block: Block, text: &str, role: Role, theme: &Theme) {
    frame.render_widget(
        Paragraph::new(Span::styled(text.to_string(), theme.style(role)))
            .block(block)
            .style(theme.style(Role::Base)),
        area,
    );
}

/// Draws the table; returns the number of data rows that fit.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) -> usize {
    let focused = app.focus == Focus::Table;
    let title = format!(" contracts on {} ", app.compared_alias());
    // Contracts between the compared synchronizer and another are in no row: the table
    // says so where its rows are counted.
    let (between, outside) = app.data.as_ref().map_or((0, 0), |d| d.incomplete_count());
    let mut title_spans = vec![Span::styled(title, theme.style(Role::Title))];
    if between > 0 {
        title_spans.push(Span::styled(
            format!("⇄ {between} contract(s) between synchronizers, {outside} in no row "),
            theme.style(Role::Warn),
        ));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(ratatui::text::Line::from(title_spans))
        .border_style(theme.style(if focused { Role::FocusBorder } else { Role::Border }));
    let page = area.height.saturating_sub(3) as usize;
    let data = match (&app.survey, &app.data) {
        (SurveyState::Failed(e), _) => {
            message(
                frame,
                area,
                block,
                &format!(
                    "could not compare: {e}  ({} retries)",
                    app.screen_key(Screen::Main, Action::Refresh)
                ),
                Role::Danger,
                theme,
            );
            return page;
        }
        (_, None) => {
            let text = match &app.joined {
                Some(_) => "waiting for every participant's manifest (the session pane says whose)",
                None => "reading what each participant holds…",
            };
            message(frame, area, block, text, Role::Muted, theme);
            return page;
        }
        (_, Some(d)) => d,
    };
    let cmp = &data.comparison;
    if app.table.rows.is_empty() {
        let text = if cmp.is_empty() {
            format!("no participant holds a contract on {}", app.compared_alias())
        } else {
            format!(
                "no row matches the filter ({} clears it)",
                app.screen_key(Screen::Main, Action::Clear)
            )
        };
        message(frame, area, block, &text, Role::Muted, theme);
        return page;
    }
    let names = cmp.participants();
    let inner_width = area.width.saturating_sub(2);
    let fixed = 2 + ID_WIDTH + 1 + TEMPLATE_WIDTH + 1 + CLASS_WIDTH + 1;
    let col_width: Vec<u16> = names.iter().map(|n| (n.chars().count() as u16).clamp(10, 14)).collect();
    // Participant columns from the horizontal scroll position, as many as fit with room
    // left for at least a short payload summary on wide screens.
    let mut shown = Vec::new();
    let mut used = fixed;
    for (i, w) in col_width.iter().enumerate().skip(app.table.first_column) {
        if used + w + 1 > inner_width {
            break;
        }
        used += w + 1;
        shown.push(i);
    }
    let hidden_left = app.table.first_column.min(names.len());
    let hidden_right = names.len().saturating_sub(hidden_left + shown.len());
    let payload_width = inner_width.saturating_sub(used);

    let mut header = vec![
        Cell::from(Span::raw(" ")),
        Cell::from(Span::raw("contract")),
        Cell::from(Span::raw("template")),
        Cell::from(Span::raw("class")),
    ];
    for (k, i) in shown.iter().enumerate() {
        let mut label = names[*i].clone();
        if k == 0 && hidden_left > 0 {
            label = format!("◀{label}");
        }
        if k + 1 == shown.len() && hidden_right > 0 {
            label = format!("{label}▶");
        }
        header.push(Cell::from(fit(&label, col_width[*i] as usize)));
    }
    header.push(Cell::from("payload"));

    let selected = app.table.selected;
    let offset = app.table.first_visible(page);
    let rows = cmp.rows();
    let visible = app.table.rows.iter().enumerate().skip(offset).take(page);
    let mut out = Vec::with_capacity(page);
    for (pos, idx) in visible {
        let row = &rows[*idx as usize];
        let fate = app.fate(row);
        let mut cells = vec![
            Cell::from(Span::styled(fate.marker(), theme.style(fate_role(fate)))),
            Cell::from(fit(row.contract_id(), ID_WIDTH as usize)),
            Cell::from(fit(row.template_id(), TEMPLATE_WIDTH as usize)),
            Cell::from(Span::styled(
                class_label(row.class()),
                theme.style(class_role(row.class())),
            )),
        ];
        for i in &shown {
            let (text, role) = row.state(*i).map(state_cell).unwrap_or(("", Role::Muted));
            cells.push(Cell::from(Span::styled(text, theme.style(role))));
        }
        let summary = if payload_width > 4 {
            // The first holder whose payload this screen has (in a session, only some).
            row.states()
                .iter()
                .enumerate()
                .filter(|(_, s)| matches!(s, ParticipantState::Active { .. } | ParticipantState::Differs { .. }))
                .find_map(|(h, _)| app.payload_of(h, row.contract_id()))
                .map(payload_summary)
                .unwrap_or_default()
        } else {
            String::new()
        };
        cells.push(Cell::from(Span::styled(
            fit(&summary, payload_width as usize),
            theme.style(Role::Muted),
        )));
        let style = if pos == selected {
            theme.style(Role::Selection)
        } else {
            theme.style(Role::Base)
        };
        out.push(Row::new(cells).style(style));
    }
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(ID_WIDTH),
        Constraint::Length(TEMPLATE_WIDTH),
        Constraint::Length(CLASS_WIDTH),
    ];
    widths.extend(shown.iter().map(|i| Constraint::Length(col_width[*i])));
    widths.push(Constraint::Min(0));
    let position = format!(" {}/{} ", selected + 1, app.table.rows.len());
    let block = block.title_bottom(Line::from(Span::styled(position, theme.style(Role::Muted))).right_aligned());
    let table = Table::new(out, widths)
        .header(Row::new(header).style(theme.style(Role::Header)))
        .block(block)
        .column_spacing(1)
        .style(theme.style(Role::Base));
    frame.render_widget(table, area);
    page
}
