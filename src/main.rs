use clap::Parser;
use recovery_deck::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Behave like other Unix tools when the reader of our output goes away
    // (`search … | head`): die quietly instead of panicking on a broken pipe.
    // SAFETY: called first thing, before any other thread exists.
    unsafe {
        let _ = nix::sys::signal::signal(nix::sys::signal::Signal::SIGPIPE, nix::sys::signal::SigHandler::SigDfl);
    }
    let cli = Cli::parse();
    // Diagnostics go to stderr and stay quiet unless asked for; lab nodes log to their
    // node.log through the same subscriber.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
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
