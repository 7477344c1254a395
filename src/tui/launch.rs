//! Opening the recovery screen on an incident config.

use super::app::{App, Context, Joined};
use super::core::{Core, Services, SessionLink};
use super::keymap::Keymap;
use super::theme::Theme;
use crate::client::{GrpcParticipant, ParticipantApi};
use crate::collab::client::{Hello, SessionClient};
use crate::collab::deck::{Deck, DeckOptions};
use crate::collab::event::Role;
use crate::collab::feed::Feed;
use crate::config::IncidentConfig;
use crate::journal::{Header, JournalWriter, ParticipantRef};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
        session: None,
    };
    Ok(Core::new(app, services))
}

/// Runs the recovery screen until the operator quits; with `record`, also writes an
/// asciicast recording of it there.
pub async fn run(cfg: &IncidentConfig, opts: TuiOptions, record: Option<&Path>) -> Result<(), LaunchError> {
    let core = core(cfg, &opts)?;
    Ok(super::runtime::run_recorded(core, &opts.theme, record).await?)
}

/// How often a joined screen says it is still there.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// Builds the core of a screen joined to a session: `hello` says who the coordinator
/// takes the caller for; a node operator comes with the deck over their own participant.
/// The screen's stream (the deck's, for a node operator) is the operator's presence.
pub fn joined_core(
    client: SessionClient,
    hello: Hello,
    deck: Option<Deck>,
    opts: &TuiOptions,
) -> Result<Core, LaunchError> {
    let refs: Vec<ParticipantRef> = deck
        .iter()
        .map(|d| ParticipantRef {
            name: d.participant.clone(),
            endpoint: d.endpoint.clone(),
        })
        .collect();
    let journal = if opts.journal.exists() {
        JournalWriter::append_to(&opts.journal)?
    } else {
        JournalWriter::create(&opts.journal, &Header::new(&hello.incident, &hello.operator, refs))?
    };
    let journal = Arc::new(Mutex::new(journal));
    let mut participants = hello.participants.clone();
    participants.sort();
    let ctx = Context {
        incident: hello.incident.clone(),
        lost: hello.lost.clone(),
        target: hello.target.clone(),
        operator: hello.operator.clone(),
        participants,
        read_only: opts.read_only || hello.role == Role::Observer,
        theme: opts.theme.name().to_string(),
    };
    let mut keymap = opts.keymap.clone().for_session(hello.role);
    if opts.read_only {
        keymap = keymap.read_only();
    }
    let participant = deck.as_ref().map(|d| d.participant.clone());
    let joined = Joined::new(hello.role, &hello.operator, participant, client.url());
    let app = App::joined(ctx, keymap, joined);
    let feed = match &deck {
        Some(d) => d.feed(HEARTBEAT),
        None => Feed::start(client.clone(), &hello, None, true, HEARTBEAT),
    };
    let deck_options = DeckOptions {
        journal: opts.journal.clone(),
        heartbeat: HEARTBEAT,
        retry_delay: Duration::from_millis(250),
        shared_journal: Some(journal.clone()),
    };
    let services = Services {
        apis: deck.iter().map(|d| d.api.clone()).collect(),
        incident: hello.incident.clone(),
        lost: hello.lost.clone(),
        target: hello.target.clone(),
        operator: hello.operator.clone(),
        endpoints: deck
            .iter()
            .map(|d| (d.participant.clone(), d.endpoint.clone()))
            .collect(),
        journal,
        batch_size: opts.batch_size,
        session: Some(Arc::new(SessionLink {
            client,
            hello,
            feed: Arc::new(feed),
            deck: deck.map(Arc::new),
            deck_options,
        })),
    };
    Ok(Core::new(app, services))
}

/// Runs a core (joined or not) until the operator quits, recording it to `record` if given.
pub async fn run_core(core: Core, theme: &Theme, record: Option<&Path>) -> Result<(), LaunchError> {
    Ok(super::runtime::run_recorded(core, theme, record).await?)
}
