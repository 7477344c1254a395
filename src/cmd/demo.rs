//! `demo`: the embedded default. Starts a lab in a temporary directory, opens the
//! recovery screen on it, and stops the lab when the screen closes, whatever happens.

use super::{Fail, Outcome, screen};
use crate::cli::ScreenArgs;
use crate::config::IncidentConfig;
use crate::lab::scenario::{self, Scenario};
use crate::lab::supervisor::{Lab, Launcher};
use crate::tui::launch;
use std::process::ExitCode;

/// Stops the lab even when the screen fails or the process is interrupted half-way.
struct Teardown(Option<Lab>);

impl Drop for Teardown {
    fn drop(&mut self) {
        if let Some(lab) = self.0.take()
            && let Err(e) = lab.down()
        {
            eprintln!("stopping the demo lab: {e}");
        }
    }
}

pub async fn run(scenario: Scenario, args: &ScreenArgs, operator: Option<&str>) -> Outcome {
    let tmp = tempfile::Builder::new().prefix("recovery-deck-demo-").tempdir()?;
    eprintln!("starting a {} lab in {} …", scenario.name(), tmp.path().display());
    let lab = scenario::up(tmp.path(), scenario, Launcher::current(true)?).await?;
    let guard = Teardown(Some(lab));
    let incident = guard.0.as_ref().map(|l| l.incident_path()).unwrap_or_default();
    let cfg = IncidentConfig::load(&incident)?;
    let journal = screen::default_journal(tmp.path(), &cfg.incident.name, "journal.jsonl");
    screen::journal_dir(&journal)?;
    let opts = screen::options(args, operator, journal)?;
    let outcome = launch::run(&cfg, opts, args.record.as_deref())
        .await
        .map_err(Fail::from);
    drop(guard);
    outcome?;
    eprintln!("demo lab stopped");
    screen::recorded(args);
    Ok(ExitCode::SUCCESS)
}
