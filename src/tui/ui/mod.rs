//! Rendering: pure functions of the app state and the theme. Nothing here changes state
//! except the number of table rows that fit, which the app needs for paging.

mod confirm;
mod diff;
mod exec;
mod header;
mod help;
mod panel;
mod plan;
mod status;
mod strip;
mod table;
pub mod text;

use super::app::{App, Popup, Screen};
use super::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

/// Draws the whole screen; returns how many table rows fit (for paging).
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) -> usize {
    let area = frame.area();
    let strip_height = match app.screen {
        Screen::Main | Screen::Plan => strip::height(app, area.height),
        Screen::Execution => 0,
    };
    let [head, strip_area, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(strip_height),
        Constraint::Min(3),
        Constraint::Length(2),
    ])
    .areas(area);
    header::draw(frame, head, app, theme);
    if strip_height > 0 {
        strip::draw(frame, strip_area, app, theme);
    }
    let mut page = app.page;
    match app.screen {
        Screen::Main if app.show_journal => {
            let [t, j] = Layout::vertical([Constraint::Min(5), Constraint::Length(8)]).areas(body);
            page = table::draw(frame, t, app, theme);
            exec::draw_session(frame, j, app, theme);
        }
        Screen::Main => page = table::draw(frame, body, app, theme),
        Screen::Plan => plan::draw(frame, body, app, theme),
        Screen::Execution => exec::draw(frame, body, app, theme),
    }
    status::draw(frame, bottom, app, theme);
    match &app.popup {
        Some(Popup::Diff(view)) => diff::draw(frame, popup_area(area, 94, 86), app, view, theme),
        Some(Popup::Help) => help::draw(frame, popup_area(area, 90, 90), app, theme),
        Some(Popup::Confirm(view)) => confirm::draw(frame, popup_area(area, 84, 80), app, view, theme),
        Some(Popup::QuitWhileRunning) => confirm::draw_quit(frame, popup_area(area, 70, 40), theme),
        None => {}
    }
    page
}

/// A centred rectangle taking the given percentages of `area`.
fn popup_area(area: Rect, width_pct: u16, height_pct: u16) -> Rect {
    let w = (area.width as u32 * width_pct as u32 / 100) as u16;
    let h = (area.height as u32 * height_pct as u32 / 100) as u16;
    Rect {
        x: area.x + (area.width.saturating_sub(w)) / 2,
        y: area.y + (area.height.saturating_sub(h)) / 2,
        width: w.max(1),
        height: h.max(1),
    }
}
