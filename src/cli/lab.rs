//! `lab …`: the lab's nodes, scenarios and fault drills, and the hidden `lab node`
//! commands the supervisor starts each node with.

use crate::lab::dialect::Dialect;
use crate::lab::scenario::Scenario;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Start the lab nodes, stage a scenario and write DIR/incident.toml.
    Up {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = Scenario::Seed)]
        scenario: Scenario,
        /// Number of contracts of the `large` scenario (rows of its comparison).
        #[arg(long, default_value_t = crate::lab::scenario::LARGE_DEFAULT)]
        contracts: usize,
        /// Participants of the `large` scenario (2 to 16; default 3), two parties each.
        #[arg(long)]
        participants: Option<usize>,
        /// Fraction of the `large` scenario's rows diverged as in `diverged` (0 to 1; default
        /// 0): a third archived on one side, a third missing on one side, a third with
        /// payloads that differ.
        #[arg(long)]
        divergence: Option<f64>,
        /// Which Canton release line the participants follow (ImportAcs validation,
        /// reassignment counters, the version they report).
        #[arg(long, value_enum, default_value_t = Dialect::V3_5)]
        canton: Dialect,
        /// Participants run with Canton's `enable-all-ledger-api-reassignments` (3.5 and
        /// main): they accept imports of contracts with non-zero reassignment counters.
        #[arg(long)]
        enable_all_reassignments: bool,
        /// Do not lose lostDomain: it keeps running and the participants stay connected to
        /// it, so `run` refuses the plan (it would fork the ledger) unless --force.
        #[arg(long)]
        keep_lost: bool,
        /// This participant does not vet the lab's DAR on newDomain when it first connects
        /// there (repeatable): `run` refuses to move its contracts to an unvetted package.
        #[arg(long, value_name = "PARTICIPANT")]
        unvetted: Vec<String>,
        /// Return once every node answers and leave the lab running (stop it with `lab down`).
        #[arg(long)]
        detach: bool,
    },
    /// Stop every node of the lab in DIR.
    Down {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Lose a synchronizer for good: kill it and delete its data.
    Lose {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        synchronizer: String,
    },
    /// Crash one node with SIGKILL (fault drill).
    Kill {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        node: String,
    },
    /// Start one node again after a crash.
    Start {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        node: String,
    },
    /// Set (or --clear) a participant's automatic pruning schedule, through Canton's
    /// PruningService.SetParticipantSchedule: `run` warns about it in preflight.
    PruningSchedule {
        #[arg(long)]
        dir: PathBuf,
        /// The participant.
        #[arg(long)]
        node: String,
        /// Cron expression, seconds first (Canton's form), e.g. "0 0 2 * * ?".
        #[arg(long, required_unless_present = "clear")]
        cron: Option<String>,
        /// How much history pruning keeps, in seconds.
        #[arg(long, default_value_t = 30 * 86_400)]
        retention: i64,
        /// How long one pruning round may run, in seconds.
        #[arg(long, default_value_t = 3_600)]
        max_duration: i64,
        /// Remove the schedule instead.
        #[arg(long, conflicts_with = "cron")]
        clear: bool,
    },
    /// Post-recovery business check on the target synchronizer: Call on moved Ious, new Ious both ways.
    Workflow {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Run one lab node in the foreground (used by `lab up`).
    #[command(hide = true, subcommand)]
    Node(NodeCommand),
}

#[derive(Debug, Args)]
pub struct NodeCommon {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub dir: PathBuf,
    /// PEM certificate to serve TLS with.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require `authorization: Bearer <token>` with the token in this file.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Exit when this process is gone.
    #[arg(long)]
    pub exit_with_parent: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    Participant {
        #[command(flatten)]
        common: NodeCommon,
        #[arg(long, default_value_t = 0)]
        admin_port: u16,
        #[arg(long, default_value_t = 0)]
        ledger_port: u16,
        /// Party hint to host (repeatable).
        #[arg(long = "party")]
        parties: Vec<String>,
        #[arg(long, value_enum, default_value_t = Dialect::V3_5)]
        canton: Dialect,
        #[arg(long)]
        enable_all_reassignments: bool,
        /// Do not vet the DAR on this synchronizer alias at the first connection (repeatable).
        #[arg(long = "unvetted-on")]
        unvetted_on: Vec<String>,
    },
    Synchronizer {
        #[command(flatten)]
        common: NodeCommon,
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// How long the mediator waits for confirmations before rejecting.
        #[arg(long, default_value_t = 5000)]
        confirmation_timeout_ms: u64,
    },
}
