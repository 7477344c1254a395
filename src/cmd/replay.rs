//! `replay JOURNAL [--speed X] [--paused] [--force]`: the recovery screen played back from
//! a journal, read-only.

use super::report::trust;
use super::screen::{keymap, theme};
use super::{Fail, Outcome};
use crate::cli::ReplayArgs;
use crate::replay::player::SPEEDS;
use crate::replay::{self, Timeline};
use crate::tui::replay::{Replay, context};
use crate::tui::term::TerminalGuard;
use futures::StreamExt;
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const FRAME: Duration = Duration::from_millis(100);

pub async fn run(args: &ReplayArgs) -> Outcome {
    if !SPEEDS.contains(&args.speed) {
        return Err(Fail(format!(
            "--speed {} is not one of {}",
            args.speed,
            SPEEDS.map(|s| s.to_string()).join(", ")
        )));
    }
    let recording = replay::load(&args.journal)?;
    let mut problems = recording.loaded.integrity.problems();
    problems.extend(recording.unreadable.iter().cloned());
    trust(&problems, args.force, "replay", "play")?;
    if !std::io::stdout().is_terminal() {
        return Err(Fail("replay needs a terminal (standard output is not one)".into()));
    }
    let theme = theme(args.theme.as_deref())?;
    let timeline = Timeline::build(&recording.loaded.journal, &recording.records);
    let ctx = context(&recording.loaded.journal, &timeline, theme.name());
    let warning = problems.first().cloned();
    let mut replay = Replay::new(ctx, keymap(None)?, timeline, warning);
    replay.player.set_speed(args.speed);
    if args.paused {
        replay.player.toggle_pause();
    }
    replay.tick(0.0);
    play(&mut replay, &theme)
        .await
        .map_err(|e| Fail(format!("terminal: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

async fn play(replay: &mut Replay, theme: &crate::tui::theme::Theme) -> std::io::Result<()> {
    let mut guard = TerminalGuard::enter()?;
    let mut events = EventStream::new();
    let mut frame = tokio::time::interval(FRAME);
    let mut last = Instant::now();
    loop {
        guard.terminal.draw(|f| replay.draw(f, theme))?;
        if replay.quit {
            return Ok(());
        }
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind == KeyEventKind::Press || k.kind == KeyEventKind::Repeat => replay.key(k),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            },
            _ = frame.tick() => {
                let now = Instant::now();
                replay.tick(now.duration_since(last).as_secs_f64());
                last = now;
            }
        }
    }
}
