//! The four stages, one Scala function each, and the dispatch on `RECOVERY_DECK_STAGE`
//! that runs one of them.

use super::W;
use super::header::{describe_action, plural};
use super::scala::{comment_text, lit, seq};
use crate::console::canton::Cmd;
use crate::console::{Files, Part};
use crate::plan::{Action, ConnectionValidation};

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

pub(super) fn stage1(w: &mut W, part: &Part<'_>) {
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

pub(super) fn stage2(w: &mut W, part: &Part<'_>, files: &Files) {
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

pub(super) fn stage3(w: &mut W, part: &Part<'_>, files: &Files) {
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

pub(super) fn stage4(w: &mut W, part: &Part<'_>, files: &Files) {
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

pub(super) fn dispatch(w: &mut W) {
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
