//! `tui` and the options shared with `demo`: theme, keys, read-only.

use super::{Fail, Outcome, operator, session};
use crate::cli::{ScreenArgs, TuiArgs};
use crate::collab::event::Role;
use crate::config::IncidentConfig;
use crate::tui::keymap::Keymap;
use crate::tui::launch::{self, TuiOptions};
use crate::tui::theme::Theme;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// An explicit `--theme` wins; otherwise `NO_COLOR` selects mono (no-color.org).
pub fn theme(arg: Option<&str>) -> Result<Theme, Fail> {
    match arg {
        Some(name) if Path::new(name).is_file() => Ok(Theme::load(Path::new(name))?),
        Some(name) => Ok(Theme::preset(name)?),
        None => Ok(Theme::from_env_or("dark")?),
    }
}

pub fn keymap(path: Option<&Path>) -> Result<Keymap, Fail> {
    match path {
        Some(p) => Ok(Keymap::load(p)?),
        None => Ok(Keymap::defaults()),
    }
}

pub fn options(args: &ScreenArgs, operator_name: Option<&str>, journal: PathBuf) -> Result<TuiOptions, Fail> {
    Ok(TuiOptions {
        read_only: args.read_only,
        theme: theme(args.theme.as_deref())?,
        keymap: keymap(args.keys.as_deref())?,
        journal,
        operator: operator(operator_name),
        batch_size: crate::plan::DEFAULT_BATCH_SIZE,
    })
}

/// A name as it may appear in a file name.
fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn config_dir(config: &Path) -> &Path {
    config
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

pub fn default_journal(config: &Path, cfg: &IncidentConfig) -> PathBuf {
    config_dir(config).join(format!("{}.journal.jsonl", safe(&cfg.incident.name)))
}

pub async fn run(config: &Path, cfg: &IncidentConfig, args: &TuiArgs) -> Outcome {
    let journal = args.journal.clone().unwrap_or_else(|| default_journal(config, cfg));
    let opts = options(&args.screen, args.join.operator.as_deref(), journal.clone())?;
    launch::run(cfg, opts).await?;
    eprintln!("journal: {}", journal.display());
    Ok(ExitCode::SUCCESS)
}

/// `tui --join`: the screen in a multi-operator session, acting for one operator only.
/// A node operator's screen is their participant's deck: it needs the incident config
/// with that participant's endpoints and credentials; the lead and observers need none.
pub async fn join(config: &Path, args: &TuiArgs) -> Outcome {
    // A wrong address or credentials fail within seconds; once in, calls ride out a
    // coordinator's restart for longer.
    let hello = session::connect(&args.join, Duration::from_secs(20))?
        .hello(None)
        .await?;
    session::check_operator(&hello, &args.join)?;
    let patience = Duration::from_secs(120);
    let client = session::connect(&args.join, patience)?;
    let deck = if hello.role == Role::NodeOperator {
        Some(
            session::deck(config, &args.join, args.participant.as_deref(), patience)
                .await?
                .0,
        )
    } else if let Some(p) = &args.participant {
        return Err(Fail(format!(
            "{} is a {} in this session and acts for no participant, not for {p}",
            hello.operator, hello.role
        )));
    } else {
        None
    };
    // A node operator's screen keeps the deck's journal, so that `session run` and the
    // screen resume each other's part; the others keep a journal of what they saw.
    let journal = args.journal.clone().unwrap_or_else(|| match &deck {
        Some(d) => config_dir(config).join(format!(
            "{}.{}.journal.jsonl",
            safe(&hello.incident),
            safe(&d.participant)
        )),
        None => PathBuf::from(format!(
            "{}.{}.screen.journal.jsonl",
            safe(&hello.incident),
            safe(&hello.operator)
        )),
    });
    let opts = options(&args.screen, Some(&hello.operator), journal.clone())?;
    let core = launch::joined_core(client, hello, deck, &opts)?;
    launch::run_core(core, &opts.theme).await?;
    eprintln!("journal: {}", journal.display());
    Ok(ExitCode::SUCCESS)
}
