//! The command-line contract of DESIGN §4.

use crate::lab::scenario::Scenario;
use crate::reconcile::StrategyName;
use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

mod lab;
mod session;

pub use lab::{LabCommand, NodeCommand, NodeCommon};
pub use session::{JoinArgs, ServeArgs, SessionArgs, SessionCommand, SessionPlanArgs};

#[derive(Debug, Parser)]
#[command(
    name = "recovery-deck",
    version,
    about = "Recover Canton participants from a permanently lost synchronizer",
    long_about = "Recover Canton participants from a permanently lost synchronizer: compare what each \
participant holds on the lost synchronizer, agree on one set of contracts, move it to the \
replacement synchronizer and verify — from one screen or headless, on the record.\n\n\
Start with `recovery-deck demo` to see it on a local lab.",
    after_help = "Every command except `demo`, `lab`, `report`, `replay`, `export-console`, `serve` and the lead's \
`session` commands reads the incident config given by --config (default: ./incident.toml; `lab up` writes one).\n\n\
After an incident: `recovery-deck report JOURNAL --out incident.md` writes the Markdown incident report \
from the session's journal (`plan` and `run` journal to <runbook>.journal.jsonl, the screen to \
<incident>.journal.jsonl next to the config)."
)]
pub struct Cli {
    /// Incident config (TOML): participants, endpoints, TLS, tokens, lost and target synchronizers.
    #[arg(long, global = true, env = "RECOVERY_DECK_CONFIG", default_value = "incident.toml")]
    pub config: PathBuf,
    /// Output format for machine-readable results.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Progress of long work on stderr (`lab up`, `search`, `compare`, `plan`, `run`): a bar with
    /// count, rate and ETA on a terminal, plain lines otherwise (auto), or none.
    #[arg(long, global = true, value_enum, default_value_t = crate::meter::Mode::Auto)]
    pub progress: crate::meter::Mode,
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
        /// Who operates (default: $USER).
        #[arg(long, env = "RECOVERY_DECK_OPERATOR")]
        operator: Option<String>,
    },
    /// The recovery screen against the participants of an incident config, or joined to a
    /// multi-operator session (--join).
    #[command(
        after_help = "Joined to a session (--join ADDR), the screen acts for one operator only:
  lead: recovery-deck tui --join 127.0.0.1:7700 --token-file carol.token
  node operator: recovery-deck tui --join 127.0.0.1:7700 --token-file alice.token --participant participant1 --config p1.toml
The incident config of a node operator holds their own participant's endpoints and credentials; the lead and observers need none."
    )]
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
    /// Markdown incident report from a journal; refuses a journal whose hash chain breaks, naming the line.
    #[command(
        long_about = "Write the Markdown incident report of a session from its journal: title and facts, \
summary, impact, a UTC timeline with the decisions in bold, what each participant held, the decision \
(strategy, decided and excluded rows, plan hash, who confirmed), the execution phase by participant \
(durations, results, retries, Canton codes), the verification, empty follow-up sections, and an \
appendix with the payload diffs of the rows held in different versions. It ends with the journal's \
final hash.\n\n\
The journal's hash chain and the files it pins (the comparison and the runbook, in \
<journal>.pins/ next to it) are checked first: a line that was edited, removed, reordered or cut \
off, or a pinned file that is missing or changed, refuses the report, naming the line. A journal \
whose session did not end cleanly (a crash, or still running) is not sealed: the report says so \
and is written. Does not read the incident config.",
        after_help = "Examples:\n  recovery-deck report union.journal.jsonl --out incident.md\n  \
recovery-deck report union.journal.jsonl --force   # a broken journal, under a warning banner"
    )]
    Report(ReportArgs),
    /// The recovery screen played back from a journal, read-only: each pane as it was.
    #[command(
        long_about = "Play a session back on the recovery screen, read-only: the comparison each survey \
showed, the strategy and decisions as they were made, the plan proposed, the execution grid and \
journal as the run reported them, moment by moment at the journal's own pace (waits over 2 s are \
cut to 2 s). The bottom lines show where the playback is (event, journal line, time, what happened; \
decisions highlighted) and the keys: space pause, + and - speed, n one step, d (or tab) the next \
decision, r from the start, arrows move in the table, q quit. Nothing is sent to any participant \
and nothing is written.\n\n\
The journal and the files it pins are checked as `report` checks them: a broken chain or a changed \
pinned file refuses the replay, naming the line; --force plays what verified under a warning line.",
        after_help = "Examples:\n  recovery-deck replay union.journal.jsonl\n  \
recovery-deck replay incident.journal.jsonl --speed 8 --paused"
    )]
    Replay(ReplayArgs),
    /// Write, per participant, the Canton console script that carries out its part of a runbook.
    #[command(
        long_about = "Write, per participant of the runbook's plan, the Canton console script (Scala, for \
`bin/canton run FILE` or `--bootstrap FILE`) that carries out that participant's part of the plan, \
with the contract-id files it reads. For operators who must run the repair from Canton's own \
console — in Canton 2.x `repair.change_domain` exists only there.\n\n\
Each script runs in four stages chosen by RECOVERY_DECK_STAGE=1..4 (every participant finishes a \
stage before anyone starts the next): isolate and connect the target (with pings), disconnect and \
purge and export the import hand-off, import and move in the plan's batches, reconnect and verify. \
An import between participants travels as a snapshot file named by the plan: the source's stage 2 \
writes exactly the planned contracts, the receiver's stage 3 checks and imports it. Every console \
command carries the Canton source file it was checked against. Does not read the incident config.",
        after_help = "Example:\n  recovery-deck export-console union.runbook.toml --out console/ --dialect 3\n  \
RECOVERY_DECK_STAGE=1 bin/canton run console/participant1.canton -c console.conf"
    )]
    ExportConsole(ExportConsoleArgs),
    /// Multi-operator coordinator: the session's ordered, persisted log; holds no participant credential.
    Serve(ServeArgs),
    /// A multi-operator session, headless: each operator acts from their own deck.
    Session(SessionArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    /// Canton 3.5 and main: synchronizers.*, repair.change_assignation, export_acs / import_acs.
    #[value(name = "3")]
    V3,
    /// Canton 3.4: as 3, with 3.4's export_acs, write_contracts_to_file and import_acs signatures.
    #[value(name = "3.4")]
    V34,
    /// Canton 2.x (2.10): domains.*, repair.change_domain and repair.add (local participant only).
    #[value(name = "2")]
    V2,
}

impl DialectArg {
    pub fn dialect(self) -> crate::console::Dialect {
        match self {
            DialectArg::V3 => crate::console::Dialect::Canton3,
            DialectArg::V34 => crate::console::Dialect::Canton34,
            DialectArg::V2 => crate::console::Dialect::Canton2,
        }
    }
}

#[derive(Debug, Args)]
pub struct ExportConsoleArgs {
    /// The runbook written by `plan` (its sidecar, if it has one, next to it).
    pub runbook: PathBuf,
    /// Directory for the scripts and their data files (created if missing; files are mode 0600).
    #[arg(long)]
    pub out: PathBuf,
    /// Which Canton console the scripts are written for.
    #[arg(long, value_enum, default_value_t = DialectArg::V3)]
    pub dialect: DialectArg,
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

/// What to move: the strategy and the operator's rows and decisions (`plan` and
/// `session plan` take the same).
#[derive(Debug, Args)]
pub struct SelectionArgs {
    #[arg(long, value_enum)]
    pub strategy: StrategyName,
    /// Contract to include (manual strategy; repeatable).
    #[arg(long = "include", value_name = "ID")]
    pub include: Vec<String>,
    /// Contract to leave on the lost synchronizer whatever the strategy says (repeatable).
    #[arg(long = "exclude", value_name = "ID")]
    pub exclude: Vec<String>,
    /// Decision for a row that needs one (repeatable): ID=exclude leaves it on the lost
    /// synchronizer, ID=purge removes it wherever it is still active.
    #[arg(long = "decide", value_name = "ID=DECISION")]
    pub decide: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The lost synchronizer (default: from the incident config).
    #[arg(long)]
    pub from: Option<String>,
    /// The replacement synchronizer (default: from the incident config).
    #[arg(long)]
    pub to: Option<String>,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Contracts per ChangeAssignation / PurgeContracts call.
    #[arg(long, default_value_t = 500)]
    pub batch_size: u32,
    /// Where to write the runbook (a sidecar with long id lists may be written next to it).
    #[arg(long)]
    pub out: std::path::PathBuf,
    /// Journal recording the survey, the choices and the plan (default: next to the
    /// runbook, `<name>.journal.jsonl`, which `run` continues).
    #[arg(long)]
    pub journal: Option<std::path::PathBuf>,
    /// Who proposes the plan (default: $USER).
    #[arg(long, env = "RECOVERY_DECK_OPERATOR")]
    pub operator: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The journal: a screen session's, or the one `plan` and `run` write next to the runbook.
    pub journal: PathBuf,
    /// Write the report to this file (mode 0600) instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Render what verified even if the journal or a pinned file is broken, under a warning banner.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The journal of a screen session, or the one `plan` and `run` write next to the runbook.
    pub journal: PathBuf,
    /// Playback speed: 0.25, 0.5, 1, 2, 4, 8, 16, 32 or 64.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Start paused on the first event.
    #[arg(long)]
    pub paused: bool,
    /// Play what verified even if the journal or a pinned file is broken, under a warning line.
    #[arg(long)]
    pub force: bool,
    /// Theme: dark, light, high-contrast, mono, or a theme TOML file (NO_COLOR selects mono).
    #[arg(long, env = "RECOVERY_DECK_THEME")]
    pub theme: Option<String>,
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
    /// Run only these phases, comma-separated, of isolate, init_target, purge, import,
    /// move, reconnect, verify. The phases before the first one named are taken as done
    /// elsewhere: `--phases verify` checks, after the console scripts did the repair by
    /// hand, that every participant holds on the target exactly the plan's contracts and
    /// pings the others there, and changes nothing.
    #[arg(long, value_delimiter = ',', value_name = "PHASE,…")]
    pub phases: Vec<crate::plan::PhaseKind>,
    /// Run although a participant is still connected to the lost synchronizer and it
    /// answers, or has transactions in flight there that the plan did not acknowledge.
    /// Canton: "Forcing the migration may lead to a ledger fork!" — only for a
    /// synchronizer that cannot be recovered any more.
    #[arg(long)]
    pub force: bool,
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
    /// Also record the screen to this file: asciicast v2 (`asciinema play FILE.cast`),
    /// with a marker at each decision. Keys typed are not recorded; the file is mode 0600.
    #[arg(long, value_name = "FILE.cast")]
    pub record: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TuiArgs {
    #[command(flatten)]
    pub screen: ScreenArgs,
    /// The coordinator, the credentials and the operator (default: $USER) when joining.
    #[command(flatten)]
    pub join: JoinArgs,
    /// Joined as a node operator: the participant you act for (default: the one the
    /// coordinator says); the incident config (--config) holds its endpoints and credentials.
    #[arg(long, requires = "join")]
    pub participant: Option<String>,
    /// Journal (default: the incident's directory next to the config, `<incident>/journal.jsonl`;
    /// joined: `<incident>/<participant>.journal.jsonl` for a node operator, the deck's own,
    /// or `<incident>/<operator>.screen.journal.jsonl` under the working directory). A journal
    /// an older release left at `<incident>.journal.jsonl` is continued there.
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
        let cli = Cli::try_parse_from([
            "recovery-deck",
            "export-console",
            "r.toml",
            "--out",
            "dir",
            "--dialect",
            "2",
        ])
        .expect("parse");
        assert!(matches!(
            cli.command,
            Command::ExportConsole(ExportConsoleArgs {
                dialect: DialectArg::V2,
                ..
            })
        ));
        let cli = Cli::try_parse_from(["recovery-deck", "run", "r.toml", "--phases", "move,verify"]).expect("parse");
        assert!(matches!(
            cli.command,
            Command::Run(RunArgs { ref phases, .. })
                if phases == &[crate::plan::PhaseKind::Move, crate::plan::PhaseKind::Verify]
        ));
        assert!(
            Cli::try_parse_from(["recovery-deck", "run", "r.toml", "--phases", "verfy"]).is_err(),
            "an unknown phase is refused"
        );
        let cli = Cli::try_parse_from(["recovery-deck", "tui", "--record", "s.cast"]).expect("parse");
        assert!(matches!(
            cli.command,
            Command::Tui(TuiArgs { ref screen, .. }) if screen.record.as_deref() == Some(std::path::Path::new("s.cast"))
        ));
        let cli = Cli::try_parse_from(["recovery-deck", "export-console", "r.toml", "--out", "d"]).expect("parse");
        assert!(matches!(
            cli.command,
            Command::ExportConsole(ExportConsoleArgs {
                dialect: DialectArg::V3,
                ..
            })
        ));
        assert!(
            Cli::try_parse_from([
                "recovery-deck",
                "export-console",
                "r.toml",
                "--out",
                "d",
                "--dialect",
                "3.3"
            ])
            .is_err()
        );
    }
}
