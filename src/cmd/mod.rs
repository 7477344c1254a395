//! Command implementations behind the CLI. Each returns an exit code or a one-line
//! error; output goes to stdout, diagnostics to stderr.

/// Prints a line of output. When the reader went away (`search … | head`) the command ends
/// quietly, as Unix tools do. SIGPIPE itself stays ignored (Rust's default): the same
/// process writes to sockets, and a peer that resets a connection must be an error the
/// code handles, not a signal that kills a lab node or a running recovery.
macro_rules! outln {
    () => {
        $crate::cmd::emit("")
    };
    ($($arg:tt)*) => {
        $crate::cmd::emit(&format!($($arg)*))
    };
}

mod console;
mod demo;
mod engine;
mod lab;
mod record;
mod replay;
mod report;
mod screen;
mod search;
mod serve;
mod session;
mod status;

use crate::cli::{Cli, Command, Format};
use crate::client::{GrpcParticipant, ParticipantApi};
use crate::config::IncidentConfig;
use std::process::ExitCode;
use std::sync::Arc;

/// An error that ends the command: printed as one line, exit code 1. Converted from any
/// error at the process edge, keeping its cause chain ("what failed: why: why").
#[derive(Debug)]
pub struct Fail(pub String);

impl<E: std::error::Error> From<E> for Fail {
    fn from(e: E) -> Self {
        Fail(chain(&e))
    }
}

use crate::error_chain::chain;

pub type Outcome = Result<ExitCode, Fail>;

pub async fn run(cli: Cli) -> Outcome {
    crate::meter::set_mode(cli.progress);
    match cli.command {
        Command::Demo {
            scenario,
            screen,
            operator,
        } => demo::run(scenario, &screen, operator.as_deref()).await,
        Command::Tui(args) if args.join.join.is_some() => screen::join(&cli.config, &args).await,
        Command::Tui(args) => screen::run(&cli.config, &load(&cli.config)?, &args).await,
        Command::Lab(cmd) => lab::run(cmd, cli.format).await,
        Command::Status => status::run(&load(&cli.config)?, cli.format).await,
        Command::Search(args) => search::run(&load(&cli.config)?, &args, cli.format).await,
        Command::Compare(args) => engine::compare(&load(&cli.config)?, &args, cli.format).await,
        Command::Plan(args) => engine::plan(&load(&cli.config)?, &args, cli.format).await,
        Command::Run(args) => engine::run(&load(&cli.config)?, &args, cli.format).await,
        Command::ExportConsole(args) => console::run(&args, cli.format),
        Command::Report(args) => report::run(&args),
        Command::Replay(args) => replay::run(&args).await,
        Command::Serve(args) => serve::run(&args, cli.format).await,
        Command::Session(args) => session::run(&cli.config, &args, cli.format).await,
    }
}

fn load(path: &std::path::Path) -> Result<IncidentConfig, Fail> {
    Ok(IncidentConfig::load(path)?)
}

/// Writes one line to stdout; exits quietly on a broken pipe.
pub fn emit(line: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let written = out.write_all(line.as_bytes()).and_then(|()| out.write_all(b"\n"));
    if let Err(e) = written
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// The operator's name for journals and runbooks.
pub fn operator(given: Option<&str>) -> String {
    given
        .map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "operator".to_string())
}

/// One client per participant of the config, in config order.
pub fn clients(cfg: &IncidentConfig) -> Result<Vec<Arc<dyn ParticipantApi>>, Fail> {
    cfg.participants
        .iter()
        .map(|p| Ok(Arc::new(GrpcParticipant::from_config(p)?) as Arc<dyn ParticipantApi>))
        .collect()
}

/// Prints `value` as pretty JSON, written to stdout as it is serialized: a comparison of a
/// million rows is never held as one string. Exits quietly on a broken pipe, as [`emit`].
pub fn print_json(value: &impl serde::Serialize) -> Result<(), Fail> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Fail(format!("writing JSON to stdout: {e}"))),
        Ok(()) => Ok(()),
    }
}

pub fn is_json(f: Format) -> bool {
    f == Format::Json
}

/// A contract or party id shortened for a terminal column, keeping its start: the screen's
/// own rule, so the command line and the screen cut ids alike.
pub use crate::tui::ui::text::fit as short;
