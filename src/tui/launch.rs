//! Opening the recovery screen on an incident config.

use super::app::{App, Context};
use super::core::{Core, Services};
use super::keymap::Keymap;
use super::theme::Theme;
use crate::client::{GrpcParticipant, ParticipantApi};
use crate::config::IncidentConfig;
use crate::journal::{Header, JournalWriter, ParticipantRef};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Why the screen could not open or run.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Client(#[from] crate::client::ClientError),
    #[error(transparent)]
    Journal(#[from] crate::journal::JournalError),
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
}

pub struct TuiOptions {
    pub read_only: bool,
    pub theme: Theme,
    pub keymap: Keymap,
    pub journal: PathBuf,
    pub operator: String,
    pub batch_size: u32,
}

/// Opens (or continues) the incident's journal.
pub fn open_journal(
    cfg: &IncidentConfig,
    path: &std::path::Path,
    operator: &str,
) -> Result<JournalWriter, crate::journal::JournalError> {
    if path.exists() {
        return JournalWriter::append_to(path);
    }
    let participants = cfg
        .participants
        .iter()
        .map(|p| ParticipantRef {
            name: p.name.clone(),
            endpoint: p.admin.clone(),
        })
        .collect();
    JournalWriter::create(path, &Header::new(&cfg.incident.name, operator, participants))
}

/// Builds the core the terminal runtime (or a test) drives.
pub fn core(cfg: &IncidentConfig, opts: &TuiOptions) -> Result<Core, LaunchError> {
    let journal = open_journal(cfg, &opts.journal, &opts.operator)?;
    core_with(cfg, opts, journal)
}

/// [`core`] over a journal the caller opened (`opts.journal` is not read).
pub fn core_with(cfg: &IncidentConfig, opts: &TuiOptions, journal: JournalWriter) -> Result<Core, LaunchError> {
    let apis: Vec<Arc<dyn ParticipantApi>> = cfg
        .participants
        .iter()
        .map(|p| GrpcParticipant::from_config(p).map(|c| Arc::new(c) as Arc<dyn ParticipantApi>))
        .collect::<Result<_, _>>()?;
    let mut names: Vec<String> = cfg.participants.iter().map(|p| p.name.clone()).collect();
    names.sort();
    let ctx = Context {
        incident: cfg.incident.name.clone(),
        lost: cfg.incident.lost.clone(),
        target: cfg.incident.target.clone(),
        operator: opts.operator.clone(),
        participants: names,
        read_only: opts.read_only,
        theme: opts.theme.name().to_string(),
    };
    let keymap = if opts.read_only {
        opts.keymap.clone().read_only()
    } else {
        opts.keymap.clone()
    };
    let app = App::new(ctx, keymap);
    let services = Services {
        apis,
        incident: cfg.incident.name.clone(),
        lost: cfg.incident.lost.clone(),
        target: cfg.incident.target.clone(),
        operator: opts.operator.clone(),
        endpoints: cfg
            .participants
            .iter()
            .map(|p| (p.name.clone(), p.admin.clone()))
            .collect(),
        journal: Arc::new(Mutex::new(journal)),
        batch_size: opts.batch_size,
    };
    Ok(Core::new(app, services))
}

/// Runs the recovery screen until the operator quits.
pub async fn run(cfg: &IncidentConfig, opts: TuiOptions) -> Result<(), LaunchError> {
    let core = core(cfg, &opts)?;
    Ok(super::runtime::run(core, &opts.theme).await?)
}
