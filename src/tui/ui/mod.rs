//! Rendering: pure functions of the app state and the theme. Nothing here changes state;
//! what a frame measured (rows that fit, lines each view has) is returned as [`Measures`]
//! and handed back to the app by [`render`].

mod board;
mod confirm;
mod detail;
mod diff;
mod exec;
mod header;
mod help;
mod marks;
mod panel;
mod plan;
mod status;
mod strip;
mod table;
pub mod text;

use super::app::{App, Popup, Screen};
use super::scroll::Measures;
use super::theme::Theme;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::{Frame, Terminal, backend::Backend};

/// Draws a frame and gives the app what it measured: the one way the terminal runtime,
/// the tests and the benchmarks draw.
pub fn render<B: Backend>(terminal: &mut Terminal<B>, app: &mut App, theme: &Theme) -> Result<(), B::Error> {
    let mut measures = Measures::default();
    terminal.draw(|f| measures = draw(f, app, theme))?;
    app.measured(&measures);
    Ok(())
}

/// Draws the whole screen; returns what it measured.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) -> Measures {
    let area = frame.area();
    let mut m = Measures::default();
    // Joined to a session, its pane takes the strip's place on every screen: who is
    // there and whose turn it is must stay in sight.
    let strip_height = match app.screen {
        _ if app.joined.is_some() => board::height(app, area.height),
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
    if app.joined.is_some() {
        board::draw(frame, strip_area, app, theme);
    } else if strip_height > 0 {
        m.strip = Some(strip::draw(frame, strip_area, app, theme));
    }
    match app.screen {
        Screen::Main => {
            let journal = if app.show_journal { 8 } else { 0 };
            let [t, d, j] = Layout::vertical([
                Constraint::Min(5),
                Constraint::Length(detail::height(app, area.height)),
                Constraint::Length(journal),
            ])
            .areas(body);
            m.table = Some(table::draw(frame, t, app, theme));
            if d.height > 0 {
                detail::draw(frame, d, app, theme);
            }
            if j.height > 0 {
                m.session = Some(exec::draw_session(frame, j, app, theme));
            }
        }
        Screen::Plan => m.plan = Some(plan::draw(frame, body, app, theme)),
        Screen::Execution => m.exec_journal = exec::draw(frame, body, app, theme),
    }
    status::draw(frame, bottom, app, theme);
    match &app.popup {
        Some(Popup::Diff(view)) => m.diff = Some(diff::draw(frame, popup_area(area, 94, 86), app, view, theme)),
        Some(Popup::Help(scroll)) => m.help = Some(help::draw(frame, popup_area(area, 90, 90), app, scroll, theme)),
        Some(Popup::Confirm(view)) => confirm::draw(frame, popup_area(area, 84, 80), app, view, theme),
        Some(Popup::QuitWhileRunning(focus)) => {
            // Joined, it also says what leaving the session does.
            let height = if app.joined.is_some() { 60 } else { 40 };
            confirm::draw_quit(frame, popup_area(area, 70, height), app, *focus, theme)
        }
        Some(Popup::Ask(ask, focus)) => confirm::draw_ask(frame, popup_area(area, 84, 80), app, ask, *focus, theme),
        None => {}
    }
    m
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
