//! The multi-operator session's commands: `serve` (the coordinator), and `session …` with
//! how a deck reaches the coordinator and as whom.

use super::SelectionArgs;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:7000 (port 0 picks one). Anything but loopback needs TLS.
    #[arg(long)]
    pub listen: String,
    /// The session log (journal format); reopened and continued after a restart.
    #[arg(long)]
    pub session: PathBuf,
    /// Access file: incident, operators with their roles, participants and credentials.
    #[arg(long)]
    pub operators: PathBuf,
    /// PEM certificate to serve TLS with.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA that signs operators' client certificates: asks every client for one (mTLS).
    #[arg(long, requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,
    /// Seconds without heartbeat after which an operator has left the session.
    #[arg(long, default_value_t = 10)]
    pub presence_timeout: u64,
}

/// How a deck reaches the coordinator, and as whom.
#[derive(Debug, Args)]
pub struct JoinArgs {
    /// The coordinator: http://127.0.0.1:PORT, or https://HOST:PORT.
    #[arg(long, global = true, env = "RECOVERY_DECK_JOIN", value_name = "ADDR")]
    pub join: Option<String>,
    /// Who you are: in a session, checked against what the coordinator makes of your
    /// credentials; on a screen of your own, the name in its journal (default: $USER).
    #[arg(long, global = true, env = "RECOVERY_DECK_OPERATOR", value_name = "NAME")]
    pub operator: Option<String>,
    /// File holding your bearer token for the coordinator (or set RECOVERY_DECK_SESSION_TOKEN).
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM CA of the coordinator's TLS certificate (default: system roots).
    #[arg(long, global = true, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Your TLS client certificate (PEM), with --key.
    #[arg(long, global = true, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// The key of your TLS client certificate (PEM).
    #[arg(long, global = true, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Server name to verify when it differs from the address's host.
    #[arg(long, global = true, value_name = "NAME")]
    pub tls_domain: Option<String>,
}

#[derive(Debug, Args)]
pub struct SessionArgs {
    #[command(flatten)]
    pub join: JoinArgs,
    #[command(subcommand)]
    pub command: SessionCommand,
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Who is present, who approved which plan hash, whose turn it is, what each participant does.
    Status,
    /// The comparison built from every participant's manifest (the `compare` JSON shape).
    Compare,
    /// Lead: turn the manifests and a strategy into a runbook.
    Plan(SessionPlanArgs),
    /// Lead: put a runbook to the session (voids every approval).
    Propose { runbook: PathBuf },
    /// Node operator: re-survey your participant and approve the session's plan for it.
    Approve {
        /// Your participant (default: the one the coordinator says you act for).
        #[arg(long)]
        participant: Option<String>,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Lead: start (or, after a pause, continue) the run.
    Go,
    /// Lead: stop at the next barrier.
    Pause {
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Lead: end the run (what is done stays done; a new proposal starts again).
    Abort {
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Node operator: serve your participant's part (manifest, answers, execution) until the run ends.
    Run {
        /// Your participant; the incident config (--config) holds only its endpoints and credentials.
        #[arg(long)]
        participant: String,
        /// Your deck's journal (default: `<incident>/<participant>.journal.jsonl` next to the
        /// config, the incident's directory).
        #[arg(long)]
        journal: Option<PathBuf>,
    },
    /// Ask a participant's operator to share a contract's payload for a diff.
    RequestPayload {
        #[arg(long = "contract", value_name = "ID")]
        contract: String,
        /// The participant holding it.
        #[arg(long = "from", value_name = "PARTICIPANT")]
        from: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Node operator: answer a payload request addressed to your participant.
    Share {
        /// seq of the request in the session log (see `session status`).
        #[arg(long)]
        request: u64,
        /// Decline instead of sharing.
        #[arg(long)]
        refuse: bool,
        #[arg(long, default_value = "")]
        reason: String,
    },
}

#[derive(Debug, Args)]
pub struct SessionPlanArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Contracts per ChangeAssignation / PurgeContracts call.
    #[arg(long, default_value_t = 500)]
    pub batch_size: u32,
    /// Where to write the runbook.
    #[arg(long)]
    pub out: PathBuf,
    /// Seconds to wait for every manifest and answer to arrive.
    #[arg(long, default_value_t = 30)]
    pub wait: u64,
}
