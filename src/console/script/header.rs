//! The script's header: what it is for, how to run each stage, the files it reads and
//! writes, and what each stage does, all in comments.

use super::W;
use super::scala::comment_text;
use crate::console::canton::Cmd;
use crate::console::{Files, Part};
use crate::plan::{Action, ConnectionValidation, Plan};

pub(super) fn plural(n: usize, one: &str) -> String {
    match (n, one) {
        (1, _) => format!("1 {one}"),
        (_, "batch") => format!("{n} batches"),
        _ => format!("{n} {one}s"),
    }
}

pub(super) fn header(w: &mut W, plan: &Plan, part: &Part<'_>, files: &Files) {
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

pub(super) fn describe_action(a: &Action, v2: bool) -> String {
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
