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

/// Says where the recording is, if the screen was recorded.
pub fn recorded(args: &ScreenArgs) {
    if let Some(path) = &args.record {
        eprintln!("recording: {} (asciinema play {})", path.display(), path.display());
    }
}

/// A name as it may appear in a file name.
pub(super) fn safe(name: &str) -> String {
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

pub(super) fn config_dir(config: &Path) -> &Path {
    config
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Where a journal goes unless `--journal` says otherwise: the incident's own directory,
/// `<base>/<incident>/<file>`, so that an incident's journals stay together and apart
/// from another incident's. A journal an older release left at `<base>/<incident>.<file>`
/// is continued there instead of starting a second one.
pub fn default_journal(base: &Path, incident: &str, file: &str) -> PathBuf {
    let current = base.join(safe(incident)).join(file);
    let legacy = base.join(format!("{}.{file}", safe(incident)));
    if !current.exists() && legacy.exists() {
        legacy
    } else {
        current
    }
}

/// Creates a journal's directory private to the operator (mode 0700) before the journal
/// is opened in it.
pub(super) fn journal_dir(journal: &Path) -> Result<(), Fail> {
    match journal.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        Some(dir) => {
            crate::private_file::create_dir_all(dir).map_err(|e| Fail(format!("creating {}: {e}", dir.display())))
        }
        None => Ok(()),
    }
}

pub async fn run(config: &Path, cfg: &IncidentConfig, args: &TuiArgs) -> Outcome {
    let journal = args
        .journal
        .clone()
        .unwrap_or_else(|| default_journal(config_dir(config), &cfg.incident.name, "journal.jsonl"));
    journal_dir(&journal)?;
    let opts = options(&args.screen, args.join.operator.as_deref(), journal.clone())?;
    launch::run(cfg, opts, args.screen.record.as_deref()).await?;
    eprintln!("journal: {}", journal.display());
    recorded(&args.screen);
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
        Some(d) => default_journal(
            config_dir(config),
            &hello.incident,
            &format!("{}.journal.jsonl", safe(&d.participant)),
        ),
        None => default_journal(
            Path::new("."),
            &hello.incident,
            &format!("{}.screen.journal.jsonl", safe(&hello.operator)),
        ),
    });
    journal_dir(&journal)?;
    let opts = options(&args.screen, Some(&hello.operator), journal.clone())?;
    let core = launch::joined_core(client, hello, deck, &opts)?;
    launch::run_core(core, &opts.theme, args.screen.record.as_deref()).await?;
    eprintln!("journal: {}", journal.display());
    recorded(&args.screen);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journals_go_to_the_incident_directory_unless_an_older_one_is_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path();
        assert_eq!(
            default_journal(base, "drill 7/a", "journal.jsonl"),
            base.join("drill_7_a").join("journal.jsonl"),
            "one directory per incident, its name safe for the file system"
        );
        assert_eq!(
            default_journal(base, "drill", "participant1.journal.jsonl"),
            base.join("drill").join("participant1.journal.jsonl")
        );
        // An incident begun with an older release keeps its journal where it is.
        std::fs::write(base.join("drill.journal.jsonl"), "{}\n").expect("legacy journal");
        assert_eq!(
            default_journal(base, "drill", "journal.jsonl"),
            base.join("drill.journal.jsonl")
        );
        // Once the incident directory holds it, that one is used.
        std::fs::create_dir(base.join("drill")).expect("dir");
        std::fs::write(base.join("drill").join("journal.jsonl"), "{}\n").expect("journal");
        assert_eq!(
            default_journal(base, "drill", "journal.jsonl"),
            base.join("drill").join("journal.jsonl")
        );
    }

    #[test]
    fn the_incident_directory_is_private() {
        use std::os::unix::fs::MetadataExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = default_journal(dir.path(), "drill", "journal.jsonl");
        journal_dir(&journal).expect("created");
        let mode = std::fs::metadata(dir.path().join("drill")).expect("dir").mode() & 0o777;
        assert_eq!(mode, 0o700);
        journal_dir(&journal).expect("an existing directory is fine");
    }
}
