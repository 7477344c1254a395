//! The Scala text of one participant's console script. Every console command is emitted with
//! the Canton source file it was checked against ([`Cmd::cite`]) in a comment above it.
//!
//! Plan-derived strings (names, aliases, hashes, file names) enter the Scala code only as
//! escaped string literals bound to `val`s; the fixed text refers to those vals, so no name can
//! change the meaning of the code. Comments get names with control characters replaced.

use std::fmt::Write as _;

use crate::plan::{Action, ConnectionValidation, Plan};

use super::canton::{self, Cmd};
use super::{Dialect, Files, Part, hash_prefix};

/// How long a script waits for a peer, a connection or the Ledger API to catch up.
const PATIENCE_MINUTES: u32 = 10;

pub(super) fn render(plan: &Plan, dialect: Dialect, part: &Part<'_>, files: &Files) -> String {
    let mut w = W {
        out: String::new(),
        d: dialect,
        aliases: aliases(plan, part),
    };
    header(&mut w, plan, part, files);
    prelude(&mut w, plan, part);
    stage1(&mut w, part);
    stage2(&mut w, part, files);
    stage3(&mut w, part, files);
    stage4(&mut w, part, files);
    dispatch(&mut w);
    w.out
}

struct W {
    out: String,
    d: Dialect,
    /// Synchronizer alias → the Scala val holding it: `lost`, `target`, `synchronizer1`, …
    aliases: Vec<(String, String)>,
}

impl W {
    fn line(&mut self, indent: usize, text: &str) {
        for _ in 0..indent {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn blank(&mut self) {
        self.out.push('\n');
    }

    fn cite(&mut self, indent: usize, cmd: Cmd) {
        let c = cmd.cite(self.d).comment();
        self.line(indent, &c);
    }

    fn v2(&self) -> bool {
        self.d == Dialect::Canton2
    }

    /// `synchronizers` or, in 2.x, `domains`.
    fn group(&self) -> &'static str {
        if self.v2() { "domains" } else { "synchronizers" }
    }

    /// The Scala val holding a synchronizer alias.
    fn alias(&self, name: &str) -> String {
        self.aliases
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "lost".into())
    }

    fn alias_type(&self) -> &'static str {
        if self.v2() { "DomainAlias" } else { "SynchronizerAlias" }
    }
}

/// Every synchronizer alias the participant's steps name, the lost and target first.
fn aliases(plan: &Plan, part: &Part<'_>) -> Vec<(String, String)> {
    let mut out = vec![
        (plan.lost().to_string(), "lost".to_string()),
        (plan.target().to_string(), "target".to_string()),
    ];
    let mut named: Vec<&str> = Vec::new();
    for a in part.connect.iter().chain(&part.prepare).chain(&part.reconnect) {
        match a {
            Action::DisconnectSynchronizer { synchronizer }
            | Action::ModifySynchronizer { synchronizer, .. }
            | Action::ReconnectSynchronizer { synchronizer, .. } => named.push(synchronizer),
            _ => {}
        }
    }
    named.extend(part.purge.iter().map(|p| p.synchronizer));
    named.extend(part.moves.iter().flat_map(|m| [m.source, m.target]));
    named.extend(part.verify.iter().map(|v| v.synchronizer));
    named.extend(part.exports.iter().chain(&part.imports).map(|h| h.synchronizer));
    for name in named {
        if !out.iter().any(|(n, _)| n == name) {
            let val = format!("synchronizer{}", out.len() - 1);
            out.push((name.to_string(), val));
        }
    }
    out
}

/// A Scala string literal.
fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || !c.is_ascii() => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text safe inside a `//` comment: control characters (a newline would end the comment)
/// shown escaped.
fn comment_text(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<char>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// The console's reference to the participant: the name itself when it is a plain Scala
/// identifier, otherwise quoted in backticks.
fn scala_ident(name: &str) -> String {
    const KEYWORDS: [&str; 40] = [
        "abstract",
        "case",
        "catch",
        "class",
        "def",
        "do",
        "else",
        "extends",
        "false",
        "final",
        "finally",
        "for",
        "forSome",
        "if",
        "implicit",
        "import",
        "lazy",
        "macro",
        "match",
        "new",
        "null",
        "object",
        "override",
        "package",
        "private",
        "protected",
        "return",
        "sealed",
        "super",
        "this",
        "throw",
        "trait",
        "try",
        "true",
        "type",
        "val",
        "var",
        "while",
        "with",
        "yield",
    ];
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name);
    if plain { name.to_string() } else { format!("`{name}`") }
}

fn plural(n: usize, one: &str) -> String {
    match (n, one) {
        (1, _) => format!("1 {one}"),
        (_, "batch") => format!("{n} batches"),
        _ => format!("{n} {one}s"),
    }
}

fn header(w: &mut W, plan: &Plan, part: &Part<'_>, files: &Files) {
    let p = comment_text(part.name);
    let rule = "// ".to_string() + &"=".repeat(94);
    w.line(0, &rule);
    w.line(
        0,
        &format!("// recovery-deck · Canton console script for participant {p}"),
    );
    w.line(0, &rule);
    w.line(0, &format!("// incident     {}", comment_text(plan.incident())));
    w.line(0, &format!("// plan         {}", plan.hash()));
    w.line(0, &format!("// participant  {p}"));
    w.line(0, &format!("// dialect      {} — {}", w.d, w.d.describe()));
    w.line(
        0,
        &format!(
            "// recovery     {} -> {}, strategy {}, batch size {}",
            comment_text(plan.lost()),
            comment_text(plan.target()),
            plan.strategy().name(),
            plan.batch_size()
        ),
    );
    w.line(0, "//");
    w.line(0, "// HOW TO RUN");
    w.line(
        0,
        "//   Put this script and the files listed below in one directory and run each stage from it",
    );
    w.line(
        0,
        "//   (or point RECOVERY_DECK_DIR at it). The stage is chosen by RECOVERY_DECK_STAGE:",
    );
    if w.v2() {
        w.line(
            0,
            &format!("//     RECOVERY_DECK_STAGE=1 bin/canton -c <{p}'s own config> --bootstrap {p}.canton"),
        );
        w.line(
            0,
            "//   repair.change_domain and repair.add exist only for a participant running in the console's own",
        );
        w.line(
            0,
            "//   process: stop the participant's daemon and start it with this console instead. The console stays",
        );
        w.line(
            0,
            "//   open after a stage, so the participant keeps running for the others' pings; leave it with exit",
        );
        w.line(
            0,
            "//   before the next stage. The config must set canton.features.enable-repair-commands = true and",
        );
        w.line(
            0,
            "//   canton.features.enable-testing-commands = true (testing.pcs_search), and name the participant",
        );
        w.line(0, &format!("//   {p} (otherwise change `val participant` below)."));
    } else {
        w.line(
            0,
            &format!("//     RECOVERY_DECK_STAGE=1 bin/canton run {p}.canton -c <console config>"),
        );
        w.line(
            0,
            &format!(
                "//   `canton run` stops the console's local nodes when the script ends; if {p} runs in that console"
            ),
        );
        w.line(
            0,
            &format!(
                "//   itself, use `bin/canton -c <config> --bootstrap {p}.canton` instead. The console config must"
            ),
        );
        w.line(
            0,
            &format!("//   know this participant as {p} (participants or remote-participants; otherwise change"),
        );
        w.line(
            0,
            "//   `val participant` below) and set canton.features.enable-repair-commands = true.",
        );
    }
    w.cite(0, Cmd::Run);
    w.line(
        0,
        "//   Stages are barriers: every participant finishes stage N before anyone starts stage N+1.",
    );
    w.line(
        0,
        "//   A stage that failed can be run again once the cause is fixed: what is done is skipped",
    );
    w.line(
        0,
        "//   (ignoreAlreadyPurged, skipInactive, imports of contracts already held are left out).",
    );
    w.line(0, "//");
    w.line(
        0,
        "// STAGES (Canton's own repair procedure, split at the points where participants must wait)",
    );
    w.cite(0, Cmd::Procedure);
    let v2 = w.v2();
    for (n, text) in stage_summaries(plan, v2, part, files) {
        let mut first = true;
        for chunk in wrap(&text, 88) {
            if first {
                w.line(0, &format!("//   {n}  {chunk}"));
                first = false;
            } else {
                w.line(0, &format!("//      {chunk}"));
            }
        }
    }
    w.line(0, "//");
    w.line(
        0,
        "// DATA FILES (one contract id per line; the script refuses a file whose SHA-256 or count differs)",
    );
    if files.data.is_empty() {
        w.line(0, "//   none: this participant's part of the plan names no contract");
    }
    let width = files.data.iter().map(|d| d.file.name.len()).max().unwrap_or(0);
    for d in &files.data {
        w.line(
            0,
            &format!(
                "//   {:<width$}  {:>9}  {}",
                d.file.name,
                plural(d.count, "id"),
                d.digest
            ),
        );
    }
    w.line(0, "//");
    w.line(
        0,
        "// IMPORT HAND-OFF (a snapshot with exactly the planned contracts, carried between operators)",
    );
    if part.exports.is_empty() && part.imports.is_empty() {
        w.line(
            0,
            "//   none: this participant neither imports nor is the source of an import",
        );
    }
    for h in &part.exports {
        w.line(0, &format!("//   stage 2 writes {}", files.snapshot(h)));
        w.line(
            0,
            &format!(
                "//     {} for {}: give it to {}'s operator before stage 3 (it holds nothing else of {})",
                plural(h.ids.len(), "contract"),
                comment_text(h.receiver),
                comment_text(h.receiver),
                p
            ),
        );
    }
    for h in &part.imports {
        w.line(0, &format!("//   stage 3 reads  {}", files.snapshot(h)));
        w.line(
            0,
            &format!(
                "//     {} from {}, written by {}'s stage 2; checked against {} before the import",
                plural(h.ids.len(), "contract"),
                comment_text(h.source),
                comment_text(h.source),
                files.handoff_ids(h).file.name
            ),
        );
    }
    w.line(0, "//");
    w.line(
        0,
        "// REVIEW: the plan hash is the approved one; each console command below names, in the comment",
    );
    w.line(
        0,
        "// above it, the Canton source file (branch:path) its name and parameters were checked against.",
    );
    w.line(0, &rule);
    w.blank();
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        if !cur.is_empty() && cur.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

fn describe_action(a: &Action, v2: bool) -> String {
    let name = |s: &str| comment_text(s);
    match a {
        Action::DisconnectSynchronizer { synchronizer } => format!("disconnect {}", name(synchronizer)),
        Action::ModifySynchronizer {
            synchronizer,
            manual_connect,
            validation,
        } => format!(
            "set manualConnect = {manual_connect} on {}{}",
            name(synchronizer),
            match (*validation == ConnectionValidation::Disabled, v2) {
                (false, _) => "",
                (true, false) => " (sequencer validation disabled)",
                (true, true) => " (2.x stores it without contacting the sequencers)",
            }
        ),
        Action::ReconnectSynchronizer { synchronizer, retry } => {
            format!("connect {}{}", name(synchronizer), if *retry { "" } else { " once" })
        }
        Action::DisconnectAllSynchronizers => "disconnect all".into(),
        other => other.kind().to_string(),
    }
}

fn stage_summaries(plan: &Plan, v2: bool, part: &Part<'_>, files: &Files) -> Vec<(u8, String)> {
    let mut out = Vec::new();
    let mut s1: Vec<String> = part.connect.iter().map(|a| describe_action(a, v2)).collect();
    if !part.init_ping.is_empty() {
        s1.push(format!(
            "ping {} over {}",
            part.init_ping
                .iter()
                .map(|p| comment_text(p))
                .collect::<Vec<_>>()
                .join(", "),
            comment_text(plan.target())
        ));
    }
    out.push((1, stage_text("isolate and connect", s1)));
    let mut s2: Vec<String> = part.prepare.iter().map(|a| describe_action(a, v2)).collect();
    if let Some(p) = &part.purge {
        s2.push(format!(
            "purge {} from {}",
            plural(p.ids.len(), "contract"),
            comment_text(p.synchronizer)
        ));
    }
    for h in &part.exports {
        s2.push(format!(
            "export {} for {} to {}",
            plural(h.ids.len(), "contract"),
            comment_text(h.receiver),
            files.snapshot(h)
        ));
    }
    out.push((2, stage_text("disconnect, purge, export", s2)));
    let mut s3: Vec<String> = part
        .imports
        .iter()
        .map(|h| {
            format!(
                "import {} from {}",
                plural(h.ids.len(), "contract"),
                comment_text(h.source)
            )
        })
        .collect();
    if let Some(m) = &part.moves {
        s3.push(format!(
            "move {} from {} to {} in {} of up to {}, then check they are active on {}",
            plural(m.ids.len(), "contract"),
            comment_text(m.source),
            comment_text(m.target),
            plural(m.batches, "batch"),
            plan.batch_size(),
            comment_text(m.target)
        ));
    }
    out.push((3, stage_text("import and move", s3)));
    let mut s4: Vec<String> = part.reconnect.iter().map(|a| describe_action(a, v2)).collect();
    if let Some(v) = &part.verify {
        s4.push(format!(
            "verify that the {} planned for {} are active on {}",
            plural(v.ids.len(), "contract"),
            comment_text(part.name),
            comment_text(v.synchronizer)
        ));
        if !v.ping.is_empty() {
            s4.push(format!(
                "ping {} over it",
                v.ping.iter().map(|p| comment_text(p)).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    out.push((4, stage_text("reconnect and verify", s4)));
    out
}

fn stage_text(title: &str, parts: Vec<String>) -> String {
    if parts.is_empty() {
        format!("{title}: nothing to do")
    } else {
        format!("{title}: {}", parts.join("; "))
    }
}

fn prelude(w: &mut W, plan: &Plan, part: &Part<'_>) {
    let d = w.d;
    w.line(
        0,
        "// ---- setup -------------------------------------------------------------------------------",
    );
    w.line(0, &canton::predef(d).comment());
    if w.v2() {
        w.line(0, "import com.digitalasset.canton.DomainAlias");
    } else {
        w.line(0, "import com.digitalasset.canton.SynchronizerAlias");
    }
    match d {
        Dialect::Canton3 => w.line(
            0,
            "import com.digitalasset.canton.admin.api.client.data.SequencerConnectionValidation",
        ),
        Dialect::Canton34 => w.line(
            0,
            "import com.digitalasset.canton.sequencing.SequencerConnectionValidation",
        ),
        Dialect::Canton2 => {}
    }
    w.line(0, "import com.digitalasset.canton.config.NonNegativeDuration");
    if d == Dialect::Canton34 {
        w.line(
            0,
            "import com.digitalasset.canton.config.RequireTypes.{NonNegativeLong, PositiveInt}",
        );
    } else {
        w.line(0, "import com.digitalasset.canton.config.RequireTypes.PositiveInt");
    }
    w.line(0, &canton::contract_id_type(d).comment());
    if w.v2() {
        w.line(
            0,
            "import com.digitalasset.canton.protocol.{LfContractId, SerializableContract, SerializableContractWithWitnesses}",
        );
        w.line(0, "import com.digitalasset.canton.topology.ParticipantId");
    } else {
        w.line(0, "import com.digitalasset.canton.protocol.LfContractId");
        w.line(
            0,
            "import com.digitalasset.canton.topology.{ParticipantId, SynchronizerId}",
        );
    }
    w.line(0, "import java.nio.file.{Files, Paths}");
    w.line(0, "import java.security.MessageDigest");
    w.blank();
    w.line(
        0,
        &format!(
            "// The console's name for {}; change it here if your console calls the participant otherwise.",
            comment_text(part.name)
        ),
    );
    w.line(0, &format!("val participant = {}", scala_ident(part.name)));
    w.line(0, &format!("val me = {}", lit(part.name)));
    w.line(0, &format!("val planHash = {}", lit(plan.hash())));
    w.cite(0, Cmd::Alias);
    let ty = w.alias_type();
    for (name, val) in w.aliases.clone() {
        w.line(0, &format!("val {val} = {ty}.tryCreate({})", lit(&name)));
    }
    w.line(0, &format!("val batchSize = {}", plan.batch_size().max(1)));
    w.line(
        0,
        &format!(
            "val workflowPrefix = {}",
            lit(&format!("recovery-deck-{}", hash_prefix(plan.hash())))
        ),
    );
    w.line(0, "val dataDir = sys.env.getOrElse(\"RECOVERY_DECK_DIR\", \".\")");
    w.cite(0, Cmd::Duration);
    w.line(
        0,
        &format!("val patience = NonNegativeDuration.ofMinutes({PATIENCE_MINUTES})"),
    );
    w.blank();
    w.line(0, "def stop(message: String): Nothing = sys.error(s\"$me: $message\")");
    w.blank();
    w.line(
        0,
        "def dataFile(name: String): String = Paths.get(dataDir, name).toString",
    );
    w.blank();
    w.line(
        0,
        "// Reads a file written by recovery-deck export-console; refuses it unless its SHA-256 and its",
    );
    w.line(0, "// number of ids are the ones pinned in this script.");
    w.line(
        0,
        "def readIds(name: String, count: Int, digest: String): Vector[String] = {",
    );
    w.line(1, "val bytes = Files.readAllBytes(Paths.get(dataFile(name)))");
    w.line(
        1,
        "val actual = \"sha256:\" + MessageDigest.getInstance(\"SHA-256\").digest(bytes).map(b => \"%02x\".format(b & 0xff)).mkString",
    );
    w.line(
        1,
        "if (actual != digest) stop(s\"$name hashes to $actual but the plan pins $digest: it was changed after export-console wrote it; do not go on\")",
    );
    w.line(
        1,
        "val ids = new String(bytes, \"UTF-8\").split('\\n').toVector.filter(_.nonEmpty)",
    );
    w.line(
        1,
        "if (ids.size != count) stop(s\"$name holds ${ids.size} ids, the plan has $count\")",
    );
    w.line(1, "ids");
    w.line(0, "}");
    w.blank();
    w.cite(0, Cmd::ContractId);
    w.line(
        0,
        "def toCids(ids: Seq[String]): Seq[LfContractId] = ids.map(LfContractId.assertFromString)",
    );
    w.blank();
    batches_helper(w);
    if w.v2() {
        w.line(
            0,
            "// The contracts of `ids` this participant holds active on `domain`.",
        );
        w.cite(0, Cmd::Active);
        w.cite(0, Cmd::ActiveEntry);
        w.line(0, "def activeOn(domain: DomainAlias, ids: Set[String]): Set[String] =");
        w.line(1, "if (ids.isEmpty) Set.empty");
        w.line(
            1,
            "else participant.testing.pcs_search(domain, activeSet = true, limit = PositiveInt.tryCreate(Int.MaxValue)).map(_._2.contractId.coid).filter(ids.contains).toSet",
        );
    } else {
        w.line(
            0,
            "// The contracts of `ids` this participant holds active, each with its synchronizer.",
        );
        w.cite(0, Cmd::Active);
        w.cite(0, Cmd::ActiveEntry);
        w.line(
            0,
            "def activeOf(ids: Set[String]): Map[String, Option[SynchronizerId]] =",
        );
        w.line(1, "if (ids.isEmpty) Map.empty");
        w.line(1, "else participant.ledger_api.state.acs.of_all(");
        w.line(2, "limit = PositiveInt.tryCreate(ids.size),");
        w.line(2, "verbose = false,");
        w.line(
            2,
            "resultFilter = r => r.contractEntry.activeContract.exists(c => ids.contains(c.getCreatedEvent.contractId))",
        );
        w.line(1, ").map(e => e.contractId -> e.synchronizerId).toMap");
        w.blank();
        w.line(
            0,
            "def activeOn(synchronizer: SynchronizerId, ids: Set[String]): Set[String] =",
        );
        w.line(
            1,
            "activeOf(ids).collect { case (id, Some(s)) if s == synchronizer => id }.toSet",
        );
    }
    w.blank();
    w.cite(0, Cmd::ListConnected);
    if w.v2() {
        w.line(0, "def connectedTo(alias: DomainAlias): Boolean =");
        w.line(1, "participant.domains.list_connected().exists(_.domainAlias == alias)");
    } else {
        w.line(0, "def connectedTo(alias: SynchronizerAlias): Boolean =");
        w.line(
            1,
            "participant.synchronizers.list_connected().exists(_.synchronizerAlias == alias)",
        );
    }
    w.blank();
    w.line(
        0,
        "// Another participant of the plan, found in the topology by its name: the plan's participant names",
    );
    w.line(
        0,
        "// must be the participants' identifiers (the part of the id before ::).",
    );
    w.cite(0, Cmd::PartiesList);
    w.cite(0, Cmd::ParticipantOfParty);
    w.cite(0, Cmd::FilterString);
    w.line(0, "def peerId(name: String): ParticipantId = {");
    w.line(
        1,
        "val found = participant.parties.list(filterParticipant = name).flatMap(_.participants.map(_.participant)).distinct.filter(_.filterString.startsWith(name + \"::\"))",
    );
    w.line(1, "found match {");
    w.line(2, "case Seq(one) => one");
    w.line(
        2,
        "case Seq() => stop(s\"no participant called $name in the topology; is the plan's name the participant's identifier?\")",
    );
    w.line(
        2,
        "case many => stop(s\"several participants are called $name: ${many.mkString(\", \")}\")",
    );
    w.line(1, "}");
    w.line(0, "}");
    w.blank();
    w.line(
        0,
        "// Pings `name` until it answers: the peer may still be on its way to the target.",
    );
    w.cite(0, Cmd::Ping);
    w.cite(0, Cmd::RetryUntilTrue);
    if w.v2() {
        w.line(0, "def pingUntilOk(name: String): Unit = {");
        w.line(1, "val id = peerId(name)");
        w.line(1, "utils.retry_until_true(patience)(");
        w.line(2, "scala.util.Try(participant.health.ping(id)).isSuccess,");
    } else {
        w.line(0, "def pingUntilOk(name: String, over: SynchronizerId): Unit = {");
        w.line(1, "val id = peerId(name)");
        w.line(1, "utils.retry_until_true(patience)(");
        w.line(
            2,
            "scala.util.Try(participant.health.ping(id, synchronizerId = Some(over))).isSuccess,",
        );
    }
    w.line(
        2,
        "s\"$me could not ping $name over $target within $patience: is $name connected to $target?\"",
    );
    w.line(1, ")");
    w.line(1, "println(s\"$me pinged $name over $target\")");
    w.line(0, "}");
    w.blank();
    if !part.exports.is_empty() {
        export_fn(w);
    }
    if !part.imports.is_empty() {
        import_fn(w);
    }
}

fn export_fn(w: &mut W) {
    w.line(
        0,
        "// Import hand-off, source side: writes exactly the planned contracts for `receiver` to `handoff`.",
    );
    let ty = w.alias_type();
    w.line(
        0,
        &format!("def exportFor(receiver: String, from: {ty}, idsFile: String, count: Int, digest: String, handoff: String): Unit = {{"),
    );
    w.line(1, "val wanted = readIds(idsFile, count, digest).toSet");
    if w.v2() {
        w.cite(1, Cmd::ExportAcs);
        w.line(
            1,
            "val contracts = participant.testing.pcs_search(from, activeSet = true, limit = PositiveInt.tryCreate(Int.MaxValue)).map(_._2).filter(c => wanted.contains(c.contractId.coid))",
        );
        w.line(1, "val missing = wanted -- contracts.map(_.contractId.coid)");
    } else {
        w.line(
            1,
            "// export_acs exports by party: everything of this participant on the lost synchronizer goes to a",
        );
        w.line(
            1,
            "// temporary file here, and only the planned contracts are written to the hand-off file.",
        );
        w.line(1, "val everything = dataFile(handoff + \".everything.tmp\")");
        w.cite(1, Cmd::IdOf);
        w.cite(1, Cmd::LedgerEnd);
        w.cite(1, Cmd::ExportAcs);
        let offset = if w.d == Dialect::Canton34 {
            "NonNegativeLong.tryCreate(participant.ledger_api.state.end())"
        } else {
            "participant.ledger_api.state.end()"
        };
        w.line(
            1,
            &format!(
                "participant.repair.export_acs(parties = Set.empty, ledgerOffset = {offset}, exportFilePath = everything, synchronizerId = Some(participant.synchronizers.id_of(from)))"
            ),
        );
        w.cite(1, Cmd::ReadSnapshot);
        w.line(
            1,
            "val contracts = try repair.acs.read_from_file(everything).filter(c => wanted.contains(c.getCreatedEvent.contractId)) finally Files.deleteIfExists(Paths.get(everything))",
        );
        w.line(1, "val missing = wanted -- contracts.map(_.getCreatedEvent.contractId)");
    }
    w.line(
        1,
        "if (missing.nonEmpty) stop(s\"cannot hand $receiver ${missing.size} of the planned contracts: $me no longer holds them active on $from (${missing.take(3).mkString(\", \")})\")",
    );
    match w.d {
        Dialect::Canton2 => {
            w.cite(1, Cmd::ContractProto);
            w.cite(1, Cmd::WriteSnapshot);
            w.line(1, "utils.write_to_file(contracts.map(_.toProtoV2), dataFile(handoff))");
        }
        Dialect::Canton3 => {
            w.cite(1, Cmd::ProtocolVersion);
            w.cite(1, Cmd::WriteSnapshot);
            w.line(
                1,
                "participant.repair.write_contracts_to_file(contracts, participant.synchronizers.physical_id_of(from).protocolVersion, dataFile(handoff))",
            );
        }
        Dialect::Canton34 => {
            w.cite(1, Cmd::WriteSnapshot);
            w.line(
                1,
                "participant.repair.write_contracts_to_file(contracts, dataFile(handoff))",
            );
        }
    }
    w.line(
        1,
        "println(s\"$me wrote $handoff with ${contracts.size} contracts for $receiver: give it to $receiver's operator before stage 3\")",
    );
    w.line(0, "}");
    w.blank();
}

fn import_fn(w: &mut W) {
    w.line(
        0,
        "// Import hand-off, receiving side: imports `handoff` once it holds exactly the planned contracts.",
    );
    let ty = w.alias_type();
    w.line(
        0,
        &format!("def importFrom(source: String, into: {ty}, idsFile: String, count: Int, digest: String, handoff: String): Unit = {{"),
    );
    w.line(1, "val wanted = readIds(idsFile, count, digest).toSet");
    if w.v2() {
        w.line(
            1,
            "def held: Set[String] = activeOn(into, wanted) ++ activeOn(target, wanted)",
        );
    } else {
        w.line(1, "def held: Set[String] = activeOf(wanted).keySet");
    }
    w.line(1, "val already = held");
    w.line(
        1,
        "if (already == wanted) println(s\"$me already holds the ${wanted.size} contracts from $source: nothing to import\")",
    );
    w.line(1, "else {");
    w.line(
        2,
        "if (already.nonEmpty) stop(s\"$me already holds ${already.size} of the ${wanted.size} contracts to import from $source; an import is all or nothing, so this is not a state the plan leads to: stop and investigate\")",
    );
    w.line(
        2,
        "if (!Files.exists(Paths.get(dataFile(handoff)))) stop(s\"$handoff is missing: $source's operator writes it in stage 2 and gives it to you; put it in $dataDir\")",
    );
    if w.v2() {
        w.cite(2, Cmd::ReadSnapshot);
        w.cite(2, Cmd::ContractProto);
        w.line(
            2,
            "val contracts = utils.read_all_messages_from_file[com.digitalasset.canton.protocol.v2.SerializableContract](dataFile(handoff)).map { proto =>",
        );
        w.line(3, "SerializableContract.fromProtoV2(proto) match {");
        w.line(4, "case Right(contract) => contract");
        w.line(
            4,
            "case Left(error) => stop(s\"$handoff is not a hand-off file: $error\")",
        );
        w.line(3, "}");
        w.line(2, "}");
        w.line(2, "val got = contracts.map(_.contractId.coid)");
    } else {
        w.cite(2, Cmd::ReadSnapshot);
        w.line(
            2,
            "val got = repair.acs.read_from_file(dataFile(handoff)).map(_.getCreatedEvent.contractId)",
        );
    }
    w.line(
        2,
        "if (got.size != wanted.size || got.toSet != wanted) stop(s\"$handoff does not hold exactly the planned contracts from $source (${got.size} contracts, ${(got.toSet -- wanted).size} not planned, ${(wanted -- got).size} missing): do not import it\")",
    );
    match w.d {
        Dialect::Canton2 => {
            w.cite(2, Cmd::WithWitnesses);
            w.cite(2, Cmd::ImportAcs);
            w.line(
                2,
                "participant.repair.add(into, contracts.map(c => SerializableContractWithWitnesses(c, Set.empty)), ignoreAlreadyAdded = true)",
            );
        }
        Dialect::Canton3 => {
            w.cite(2, Cmd::IdOf);
            w.cite(2, Cmd::ImportAcs);
            w.line(
                2,
                "participant.repair.import_acs(participant.synchronizers.id_of(into), dataFile(handoff), workflowIdPrefix = workflowPrefix)",
            );
        }
        Dialect::Canton34 => {
            w.cite(2, Cmd::ImportAcs);
            w.line(
                2,
                "participant.repair.import_acs(dataFile(handoff), workflowIdPrefix = workflowPrefix)",
            );
        }
    }
    w.cite(2, Cmd::RetryUntilTrue);
    w.line(
        2,
        "utils.retry_until_true(patience)(held == wanted, s\"$me: ${held.size} of the ${wanted.size} contracts imported from $source are active after $patience\")",
    );
    w.line(2, "println(s\"$me imported ${wanted.size} contracts from $source\")");
    w.line(1, "}");
    w.line(0, "}");
    w.blank();
}

/// A plan step that only talks to the synchronizer connectivity service.
fn connectivity(w: &mut W, a: &Action) {
    let g = w.group();
    match a {
        Action::DisconnectSynchronizer { synchronizer } => {
            let s = w.alias(synchronizer);
            w.line(1, &format!("// {}", describe_action(a, w.v2())));
            w.cite(1, Cmd::ListConnected);
            w.cite(1, Cmd::Disconnect);
            w.line(1, &format!("if (connectedTo({s})) participant.{g}.disconnect({s})"));
        }
        Action::ModifySynchronizer {
            synchronizer,
            manual_connect,
            validation,
        } => {
            let s = w.alias(synchronizer);
            w.line(1, &format!("// {}", describe_action(a, w.v2())));
            w.cite(1, Cmd::Modify);
            w.cite(1, Cmd::ManualConnect);
            if w.v2() {
                w.line(
                    1,
                    &format!("participant.domains.modify({s}, _.copy(manualConnect = {manual_connect}))"),
                );
            } else {
                w.cite(1, Cmd::Validation);
                let v = match validation {
                    ConnectionValidation::Disabled => "Disabled",
                    ConnectionValidation::All => "All",
                };
                w.line(
                    1,
                    &format!(
                        "participant.synchronizers.modify({s}, _.copy(manualConnect = {manual_connect}), validation = SequencerConnectionValidation.{v})"
                    ),
                );
            }
        }
        Action::ReconnectSynchronizer { synchronizer, retry } => {
            let s = w.alias(synchronizer);
            w.line(1, &format!("// {}", describe_action(a, w.v2())));
            w.cite(1, Cmd::Reconnect);
            if *retry {
                w.line(1, &format!("participant.{g}.reconnect({s}, retry = true)"));
                w.cite(1, Cmd::RetryUntilTrue);
                w.line(
                    1,
                    &format!(
                        "utils.retry_until_true(patience)(connectedTo({s}), s\"$me is not connected to ${{{s}}} after $patience: check that its sequencers are reachable\")"
                    ),
                );
            } else {
                w.line(
                    1,
                    &format!(
                        "if (!participant.{g}.reconnect({s}, retry = false)) stop(s\"could not connect to ${{{s}}}: check that its sequencers are reachable from the participant\")"
                    ),
                );
            }
        }
        Action::DisconnectAllSynchronizers => {
            w.line(1, "// disconnect all");
            w.cite(1, Cmd::DisconnectAll);
            w.line(1, &format!("participant.{g}.disconnect_all()"));
            w.line(
                1,
                &format!(
                    "if (participant.{g}.list_connected().nonEmpty) stop(\"still connected after disconnect_all\")"
                ),
            );
        }
        // Part::of puts only connectivity actions here.
        other => w.line(1, &format!("// (not a connectivity step: {})", other.kind())),
    }
}

fn stage_open(w: &mut W, n: u8, title: &str) {
    w.line(
        0,
        &format!(
            "// ---- stage {n}: {title} {}",
            "-".repeat(80usize.saturating_sub(title.len()))
        ),
    );
    w.line(0, &format!("def stage{n}(): Unit = {{"));
}

fn stage1(w: &mut W, part: &Part<'_>) {
    stage_open(w, 1, "isolate and connect");
    for a in &part.connect {
        connectivity(w, a);
    }
    if !part.init_ping.is_empty() {
        w.line(
            1,
            "// Canton's procedure: transactions over the target so that the topology the repairs use is current",
        );
        let peers = seq(&part.init_ping);
        if w.v2() {
            w.line(1, &format!("{peers}.foreach(pingUntilOk)"));
        } else {
            w.cite(1, Cmd::IdOf);
            w.line(1, "val targetId = participant.synchronizers.id_of(target)");
            w.line(1, &format!("{peers}.foreach(pingUntilOk(_, targetId))"));
        }
    }
    w.line(0, "}");
    w.blank();
}

fn seq<S: AsRef<str>>(names: &[S]) -> String {
    let items: Vec<String> = names.iter().map(|n| lit(n.as_ref())).collect();
    format!("Seq({})", items.join(", "))
}

/// `inBatches`: the ids cut the way recovery-deck cuts every request (`crate::batch`), so
/// the script's batches are the plan's: at most `batchSize` ids and at most
/// `maxBatchBytes` of them as protobuf strings, whatever their lengths.
fn batches_helper(w: &mut W) {
    w.line(
        0,
        &format!(
            "// At most batchSize ids and {} bytes of ids per call: Canton's admin API refuses messages over 10 MiB by default.",
            crate::batch::REQUEST_BYTES
        ),
    );
    w.line(0, &format!("val maxBatchBytes = {}L", crate::batch::REQUEST_BYTES));
    w.line(0, "def inBatches(ids: Vector[String]): Vector[Vector[String]] = {");
    w.line(1, "val out = Vector.newBuilder[Vector[String]]");
    w.line(1, "var batch = Vector.empty[String]");
    w.line(1, "var bytes = 0L");
    w.line(1, "ids.foreach { id =>");
    w.line(2, "val n = id.getBytes(\"UTF-8\").length.toLong");
    w.line(2, "var varint = 1L");
    w.line(2, "while ((n >> (7 * varint)) > 0) varint += 1");
    w.line(2, "val size = 1L + varint + n");
    w.line(
        2,
        "if (batch.nonEmpty && (batch.size >= batchSize || bytes + size > maxBatchBytes)) { out += batch; batch = Vector.empty; bytes = 0L }",
    );
    w.line(2, "batch = batch :+ id");
    w.line(2, "bytes += size");
    w.line(1, "}");
    w.line(1, "if (batch.nonEmpty) out += batch");
    w.line(1, "out.result()");
    w.line(0, "}");
    w.blank();
}

fn stage2(w: &mut W, part: &Part<'_>, files: &Files) {
    stage_open(w, 2, "disconnect, purge, export");
    for a in &part.prepare {
        connectivity(w, a);
    }
    if let (Some(p), Some(i)) = (&part.purge, files.purge) {
        let f = &files.data[i];
        let s = w.alias(p.synchronizer);
        w.line(
            1,
            &format!("// purge {} in batches of batchSize", plural(p.ids.len(), "contract")),
        );
        w.line(
            1,
            &format!(
                "val purge = readIds({}, {}, {})",
                lit(&f.file.name),
                f.count,
                lit(&f.digest)
            ),
        );
        w.cite(1, Cmd::Purge);
        let extra = if w.v2() { "offboardedParties = Set.empty, " } else { "" };
        w.line(
            1,
            &format!(
                "inBatches(purge).foreach(batch => participant.repair.purge({s}, toCids(batch), {extra}ignoreAlreadyPurged = {}))",
                p.ignore_already_purged
            ),
        );
        w.cite(1, Cmd::RetryUntilTrue);
        let still = if w.v2() {
            format!("activeOn({s}, purge.toSet)")
        } else {
            format!("activeOn(participant.synchronizers.id_of({s}), purge.toSet)")
        };
        w.line(
            1,
            &format!(
                "utils.retry_until_true(patience)({still}.isEmpty, s\"$me: purged contracts are still active on ${{{s}}} after $patience\")"
            ),
        );
        w.line(1, "println(s\"$me purged ${purge.size} contracts\")");
    }
    for h in &part.exports {
        let f = files.handoff_ids(h);
        w.line(
            1,
            &format!(
                "// import hand-off: {} for {}",
                plural(h.ids.len(), "contract"),
                comment_text(h.receiver)
            ),
        );
        w.line(
            1,
            &format!(
                "exportFor({}, {}, {}, {}, {}, {})",
                lit(h.receiver),
                w.alias(h.synchronizer),
                lit(&f.file.name),
                f.count,
                lit(&f.digest),
                lit(&files.snapshot(h))
            ),
        );
    }
    w.line(0, "}");
    w.blank();
}

fn stage3(w: &mut W, part: &Part<'_>, files: &Files) {
    stage_open(w, 3, "import and move");
    let g = w.group();
    w.cite(1, Cmd::ListConnected);
    w.line(
        1,
        &format!(
            "if (participant.{g}.list_connected().nonEmpty) stop(\"the repairs need every synchronizer disconnected: run stage 2 first\")"
        ),
    );
    for h in &part.imports {
        let f = files.handoff_ids(h);
        w.line(
            1,
            &format!(
                "// import {} from {}",
                plural(h.ids.len(), "contract"),
                comment_text(h.source)
            ),
        );
        w.line(
            1,
            &format!(
                "importFrom({}, {}, {}, {}, {}, {})",
                lit(h.source),
                w.alias(h.synchronizer),
                lit(&f.file.name),
                f.count,
                lit(&f.digest),
                lit(&files.snapshot(h))
            ),
        );
    }
    if let (Some(m), Some(i)) = (&part.moves, files.moves) {
        let f = &files.data[i];
        let (src, dst) = (w.alias(m.source), w.alias(m.target));
        w.line(
            1,
            &format!(
                "// move {} in {} of batchSize",
                plural(m.ids.len(), "contract"),
                plural(m.batches, "batch")
            ),
        );
        w.line(
            1,
            &format!(
                "val moves = readIds({}, {}, {})",
                lit(&f.file.name),
                f.count,
                lit(&f.digest)
            ),
        );
        w.line(1, "val batches = inBatches(moves)");
        w.line(1, "batches.zipWithIndex.foreach { case (batch, i) =>");
        w.cite(2, Cmd::Move);
        let call = if w.v2() { "change_domain" } else { "change_assignation" };
        w.line(
            2,
            &format!(
                "participant.repair.{call}(toCids(batch), {src}, {dst}, skipInactive = {})",
                m.skip_inactive
            ),
        );
        w.line(
            2,
            &format!(
                "println(s\"$me moved batch ${{i + 1}} of ${{batches.size}} (${{batch.size}} contracts) to ${{{dst}}}\")"
            ),
        );
        w.line(1, "}");
        on_target_check(w, &dst, m.target, "moves", "after the moves");
    }
    w.line(0, "}");
    w.blank();
}

/// Waits until every id of the Scala value `ids` is active on the synchronizer `alias`.
fn on_target_check(w: &mut W, alias: &str, shown: &str, ids: &str, when: &str) {
    w.line(
        1,
        &format!(
            "// the number of the plan's contracts active on {} must be the plan's",
            comment_text(shown)
        ),
    );
    w.cite(1, Cmd::RetryUntilTrue);
    let on = if w.v2() {
        format!("activeOn({alias}, {ids}.toSet)")
    } else {
        w.cite(1, Cmd::IdOf);
        w.line(1, &format!("val onId = participant.synchronizers.id_of({alias})"));
        format!("activeOn(onId, {ids}.toSet)")
    };
    w.line(
        1,
        &format!(
            "utils.retry_until_true(patience)({on}.size == {ids}.size, s\"$me: {when}, ${{{on}.size}} of the ${{{ids}.size}} planned contracts are active on ${{{alias}}}\")"
        ),
    );
    w.line(
        1,
        &format!("println(s\"$me holds all ${{{ids}.size}} planned contracts on ${{{alias}}}\")"),
    );
}

fn stage4(w: &mut W, part: &Part<'_>, files: &Files) {
    stage_open(w, 4, "reconnect and verify");
    for a in &part.reconnect {
        connectivity(w, a);
    }
    if let (Some(v), Some(i)) = (&part.verify, files.verify) {
        let f = &files.data[i];
        let s = w.alias(v.synchronizer);
        w.line(
            1,
            &format!(
                "// verify: the {} planned for {} are active on the target",
                plural(v.ids.len(), "contract"),
                comment_text(part.name)
            ),
        );
        w.line(
            1,
            &format!(
                "val expected = readIds({}, {}, {})",
                lit(&f.file.name),
                f.count,
                lit(&f.digest)
            ),
        );
        on_target_check(w, &s, v.synchronizer, "expected", "after the reconnect");
        if !v.ping.is_empty() {
            w.line(1, "// verify: every other participant answers a ping over the target");
            let peers = seq(v.ping);
            if w.v2() {
                w.line(1, &format!("{peers}.foreach(pingUntilOk)"));
            } else {
                w.line(1, &format!("{peers}.foreach(pingUntilOk(_, onId))"));
            }
        }
    }
    w.line(0, "}");
    w.blank();
}

fn dispatch(w: &mut W) {
    w.line(
        0,
        "// ---- run the stage RECOVERY_DECK_STAGE names ------------------------------------------------",
    );
    w.line(0, "def finished(n: Int): Unit =");
    w.line(
        1,
        "println(if (n < 4) s\"$me finished stage $n of 4. When every participant has finished stage $n, run stage ${n + 1}.\" else s\"$me finished stage 4 of 4: its part of plan $planHash is done and verified.\")",
    );
    w.blank();
    w.line(0, "println(s\"recovery-deck console script for $me, plan $planHash\")");
    w.line(0, "sys.env.get(\"RECOVERY_DECK_STAGE\") match {");
    for n in 1..=4 {
        w.line(1, &format!("case Some(\"{n}\") => stage{n}(); finished({n})"));
    }
    w.line(
        1,
        "case other => stop(s\"set RECOVERY_DECK_STAGE to 1, 2, 3 or 4 (see the header of this script); it is ${other.getOrElse(\"not set\")}\")",
    );
    w.line(0, "}");
}

#[cfg(test)]
pub(super) mod tests_support {
    pub fn ident(name: &str) -> String {
        super::scala_ident(name)
    }

    pub fn lit(s: &str) -> String {
        super::lit(s)
    }
}
