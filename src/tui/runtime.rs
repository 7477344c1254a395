//! The terminal loop: keys, effect results and a slow tick, one owner of the state, a
//! redraw only when something changed.

use super::core::Core;
use super::msg::Msg;
use super::term::TerminalGuard;
use super::theme::Theme;
use super::ui;
use futures::StreamExt;
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};
use std::time::Duration;

const TICK: Duration = Duration::from_millis(250);

pub async fn run(mut core: Core, theme: &Theme) -> std::io::Result<()> {
    let mut guard = TerminalGuard::enter()?;
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    core.start();
    loop {
        if core.dirty {
            ui::render(&mut guard.terminal, &mut core.app, theme)?;
            core.dirty = false;
        }
        if core.app.quit {
            break;
        }
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind == KeyEventKind::Press || k.kind == KeyEventKind::Repeat => core.handle(Msg::Key(k)),
                Some(Ok(Event::Resize(_, _))) => core.handle(Msg::Resize),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => break,
            },
            more = core.next() => {
                if !more {
                    break;
                }
                // Handle what else is waiting before drawing once.
                core.drain();
            },
            _ = tick.tick() => core.handle(Msg::Tick),
        }
    }
    core.close();
    Ok(())
}
