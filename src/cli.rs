//! The command-line contract of DESIGN §4.

use crate::lab::dialect::Dialect;
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
