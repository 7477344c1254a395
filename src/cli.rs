//! The command-line contract of DESIGN §4.

use crate::lab::scenario::Scenario;
use crate::reconcile::StrategyName;
use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "recovery-deck",
    version,
    about = "Recover Canton participants from a permanently lost synchronizer",
    long_about = "Recover Canton participants from a permanently lost synchronizer: compare what each \
participant holds on the lost synchronizer, agree on one set of contracts, move it to the \
replacement synchronizer and verify — from one screen or headless, on the record.\n\n\
Start with `recovery-deck demo` to see it on a local lab.",
    after_help = "Every command except `demo`, `lab` and `report` reads the incident config given by --config \
(default: ./incident.toml; `lab up` writes one)."
)]
pub struct Cli {
    /// Incident config (TOML): participants, endpoints, TLS, tokens, lost and target synchronizers.
    #[arg(long, global = true, env = "RECOVERY_DECK_CONFIG", default_value = "incident.toml")]
    pub config: PathBuf,
    /// Output format for machine-readable results.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a lab in a temporary directory and open the recovery screen on it.
    Demo {
        /// Which incident the lab reproduces.
        #[arg(long, value_enum, default_value_t = Scenario::Diverged)]
        scenario: Scenario,
        #[command(flatten)]
        screen: ScreenArgs,
    },
    /// The recovery screen against the participants of an incident config.
    Tui(TuiArgs),
    /// Run and break local lab nodes that speak Canton's wire API.
    #[command(subcommand)]
    Lab(LabCommand),
    /// Per participant: reachability, registered and connected synchronizers, parties, in-flight counts.
    Status,
    /// Active contracts of one participant on one synchronizer (the pcs_search equivalent).
    Search(SearchArgs),
    /// Aligned comparison of every participant's contracts on a synchronizer.
    Compare(CompareArgs),
    /// Turn a strategy into a recovery plan and write it as a runbook (TOML).
    Plan(PlanArgs),
    /// Execute (or with --dry-run, describe) a runbook; running it again resumes it.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Synchronizer alias (default: the incident's lost synchronizer).
    #[arg(long)]
    pub synchronizer: Option<String>,
    /// Prefix of `Module:Entity`, as pcs_search's "^Iou".
    #[arg(long)]
    pub template: Option<String>,
}

/// `--strategy` takes the engine's own strategy names; this is the one place they meet clap.
impl ValueEnum for StrategyName {
    fn value_variants<'a>() -> &'a [Self] {
        &StrategyName::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            StrategyName::Intersection => {
                "Move what every relevant participant agrees on; leave the rest on the lost synchronizer"
            }
            StrategyName::Union => "Also give every participant the contracts it is missing; differences need --decide",
            StrategyName::Manual => "Move only the contracts given with --include",
        };
        Some(PossibleValue::new(self.as_str()).help(help))
    }
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The lost synchronizer (default: from the incident config).
    #[arg(long)]
    pub from: Option<String>,
    /// The replacement synchronizer (default: from the incident config).
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long, value_enum)]
    pub strategy: StrategyName,
    /// Contract to include (manual strategy; repeatable).
    #[arg(long = "include", value_name = "ID")]
    pub include: Vec<String>,
    /// Contract to leave on the lost synchronizer whatever the strategy says (repeatable).
    #[arg(long = "exclude", value_name = "ID")]
    pub exclude: Vec<String>,
    /// Decision for a row that needs one: ID=exclude, ID=purge or ID=adopt:PARTICIPANT (repeatable).
    #[arg(long = "decide", value_name = "ID=DECISION")]
    pub decide: Vec<String>,
    /// Contracts per ChangeAssignation / PurgeContracts call.
    #[arg(long, default_value_t = 500)]
    pub batch_size: u32,
    /// Where to write the runbook (a sidecar with long id lists may be written next to it).
    #[arg(long)]
    pub out: std::path::PathBuf,
    /// Who proposes the plan (default: $USER).
    #[arg(long, env = "RECOVERY_DECK_OPERATOR")]
    pub operator: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The runbook written by `plan`.
    pub runbook: std::path::PathBuf,
    /// Print every call that would change state and send none.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for the typed confirmation (for scripted runs).
    #[arg(long)]
    pub yes: bool,
    /// Journal file (default: next to the runbook, `<name>.journal.jsonl`).
    #[arg(long)]
    pub journal: Option<std::path::PathBuf>,
    /// Who runs it (default: $USER).
    #[arg(long, env = "RECOVERY_DECK_OPERATOR")]
    pub operator: Option<String>,
}

#[derive(Debug, Args)]
pub struct ScreenArgs {
    /// Leave every key that changes anything unbound (shown as [RO]).
    #[arg(long)]
    pub read_only: bool,
    /// Theme: dark, light, high-contrast, mono, or a theme TOML file (NO_COLOR selects mono).
    #[arg(long, env = "RECOVERY_DECK_THEME")]
    pub theme: Option<String>,
    /// Key bindings TOML overriding the defaults.
    #[arg(long)]
    pub keys: Option<PathBuf>,
    /// Who operates (default: $USER).
    #[arg(long, env = "RECOVERY_DECK_OPERATOR")]
    pub operator: Option<String>,
}

#[derive(Debug, Args)]
pub struct TuiArgs {
    #[command(flatten)]
    pub screen: ScreenArgs,
    /// Session journal (default: `<incident>.journal.jsonl` next to the config).
    #[arg(long)]
    pub journal: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Participant name from the incident config.
    #[arg(long)]
    pub participant: String,
    /// Synchronizer alias, e.g. the lost one.
    #[arg(long)]
    pub synchronizer: String,
    /// Prefix of `Module:Entity`, as pcs_search's "^Iou".
    #[arg(long)]
    pub template: Option<String>,
    /// Only contracts with a stakeholder whose id starts with this.
    #[arg(long)]
    pub party: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Start the lab nodes, stage a scenario and write DIR/incident.toml.
    Up {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = Scenario::Seed)]
        scenario: Scenario,
        /// Number of contracts of the `large` scenario.
        #[arg(long, default_value_t = crate::lab::scenario::LARGE_DEFAULT)]
        contracts: usize,
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_the_documented_commands() {
        let cli = Cli::try_parse_from([
            "recovery-deck",
            "search",
            "--participant",
            "participant1",
            "--synchronizer",
            "lostDomain",
            "--template",
            "^Iou",
            "--format",
            "json",
        ])
        .expect("parse");
        assert_eq!(cli.format, Format::Json);
        assert!(
            matches!(cli.command, Command::Search(SearchArgs { ref template, .. }) if template.as_deref() == Some("^Iou"))
        );
        let cli = Cli::try_parse_from([
            "recovery-deck",
            "lab",
            "up",
            "--dir",
            "/tmp/x",
            "--scenario",
            "diverged",
            "--detach",
        ])
        .expect("parse");
        assert!(matches!(
            cli.command,
            Command::Lab(LabCommand::Up {
                detach: true,
                scenario: Scenario::Diverged,
                ..
            })
        ));
        assert!(
            Cli::try_parse_from(["recovery-deck", "lab", "up"]).is_err(),
            "--dir is required"
        );
    }
}
