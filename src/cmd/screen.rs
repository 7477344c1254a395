//! `tui` and the options shared with `demo`: theme, keys, read-only.

use super::{Fail, Outcome, operator};
use crate::cli::{ScreenArgs, TuiArgs};
use crate::config::IncidentConfig;
use crate::tui::keymap::Keymap;
use crate::tui::launch::{self, TuiOptions};
use crate::tui::theme::Theme;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

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

pub fn options(args: &ScreenArgs, journal: PathBuf) -> Result<TuiOptions, Fail> {
    Ok(TuiOptions {
        read_only: args.read_only,
        theme: theme(args.theme.as_deref())?,
        keymap: keymap(args.keys.as_deref())?,
        journal,
        operator: operator(args.operator.as_deref()),
        batch_size: crate::plan::DEFAULT_BATCH_SIZE,
    })
}

pub fn default_journal(config: &Path, cfg: &IncidentConfig) -> PathBuf {
    let dir = config
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let safe: String = cfg
        .incident
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{safe}.journal.jsonl"))
}

pub async fn run(config: &Path, cfg: &IncidentConfig, args: &TuiArgs) -> Outcome {
    let journal = args.journal.clone().unwrap_or_else(|| default_journal(config, cfg));
    let opts = options(&args.screen, journal.clone())?;
    launch::run(cfg, opts).await?;
    eprintln!("journal: {}", journal.display());
    Ok(ExitCode::SUCCESS)
}
