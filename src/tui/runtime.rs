//! The terminal loop: keys, effect results and a slow tick, one owner of the state, a
//! redraw only when something changed.

use super::cast::{Cast, SharedCast, Tee};
use super::core::Core;
use super::msg::Msg;
use super::term::TerminalGuard;
use super::theme::Theme;
use super::ui;
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};
use std::path::Path;
use std::time::Duration;

const TICK: Duration = Duration::from_millis(250);

pub async fn run(core: Core, theme: &Theme) -> std::io::Result<()> {
    run_recorded(core, theme, None).await
}

/// Runs the screen; with `record`, also writes an asciicast recording of it there (see
/// [`super::cast`]).
pub async fn run_recorded(mut core: Core, theme: &Theme, record: Option<&Path>) -> std::io::Result<()> {
    let mut guard = TerminalGuard::enter()?;
    let Some(path) = record else {
        return drive(core, theme, &mut guard.terminal, None).await;
    };
    let size = guard.terminal.size()?;
    let title = format!("recovery-deck {}", core.app.ctx.incident);
    let cast = Cast::create(path, size.width, size.height, &title)
        .map_err(|e| std::io::Error::new(e.kind(), format!("recording to {}: {e}", path.display())))?
        .shared();
    // The guard keeps raw mode and the alternate screen; this terminal draws through
    // the recording.
    let mut terminal = Terminal::new(CrosstermBackend::new(Tee::new(std::io::stdout(), cast.clone())))?;
    core.mark_decisions();
    drive(core, theme, &mut terminal, Some(cast)).await
}

fn recorded(result: std::io::Result<()>) {
    // A recording that cannot be written must not stop the recovery on screen.
    if let Err(e) = result {
        tracing::error!("recording: {e}");
    }
}

async fn drive<B: Backend>(
    mut core: Core,
    theme: &Theme,
    terminal: &mut Terminal<B>,
    cast: Option<SharedCast>,
) -> std::io::Result<()>
where
    B::Error: Into<std::io::Error>,
{
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    core.start();
    loop {
        if let Some(cast) = &cast {
            for label in core.take_marks() {
                recorded(cast.lock().unwrap_or_else(|p| p.into_inner()).marker(&label));
            }
        }
        if core.dirty {
            ui::render(terminal, &mut core.app, theme).map_err(Into::into)?;
            core.dirty = false;
        }
        if core.app.quit {
            break;
        }
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind == KeyEventKind::Press || k.kind == KeyEventKind::Repeat => core.handle(Msg::Key(k)),
                Some(Ok(Event::Resize(w, h))) => {
                    if let Some(cast) = &cast {
                        recorded(cast.lock().unwrap_or_else(|p| p.into_inner()).resize(w, h));
                    }
                    core.handle(Msg::Resize)
                }
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
