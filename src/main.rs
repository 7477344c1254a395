use clap::Parser;
use recovery_deck::cli::{Cli, Command};
use std::os::unix::fs::OpenOptionsExt as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(matches!(cli.command, Command::Demo { .. } | Command::Tui(_)));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(recovery_deck::cmd::run(cli)) {
        Ok(code) => code,
        Err(fail) => {
            eprintln!("error: {}", fail.0);
            ExitCode::FAILURE
        }
    }
}

/// Diagnostics go to stderr and stay quiet unless asked for (lab nodes log to their
/// node.log this way). The recovery screen owns the terminal, so it logs to a file.
fn init_logging(screen: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(if screen { "info" } else { "warn" }));
    if screen {
        let path = std::env::temp_dir().join("recovery-deck.log");
        // Private (0600, incident data), and never through a symlink planted in a shared
        // temporary directory.
        let options = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .clone();
        match recovery_deck::private_file::open(&path, &options) {
            Ok(file) => {
                eprintln!("logs: {}", path.display());
                tracing_subscriber::fmt()
                    .with_env_filter(filter)
                    .with_writer(std::sync::Mutex::new(file))
                    .with_ansi(false)
                    .init();
            }
            // Someone else's file, or a symlink: log nowhere rather than into the screen.
            Err(e) => {
                eprintln!("logs: off ({}: {e})", path.display());
                tracing_subscriber::fmt()
                    .with_env_filter(filter)
                    .with_writer(std::io::sink)
                    .init();
            }
        }
        return;
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
