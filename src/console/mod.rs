//! Canton console scripts generated from a plan: for each participant, the Scala script an
//! operator runs in a Canton console to carry out that participant's part of the plan, plus
//! the contract-id files it reads. Pure: a plan in, texts out; the caller writes the files.
//!
//! A script runs in four stages, with a barrier between each (every participant finishes a
//! stage before anyone starts the next), selected by `RECOVERY_DECK_STAGE`:
//!
//! 1. isolate and connect — the plan's `isolate` phase and the first half of `init_target`
//!    (connect the target once), then a ping to every other participant over the target, as
//!    Canton's own repair procedure does so that the topology the repairs use is current;
//! 2. disconnect, purge, export — the rest of `init_target`, the `purge` phase, and the
//!    import hand-off: a participant that is the source of another's import exports exactly
//!    the planned contracts to a snapshot file named by the plan;
//! 3. import and move — the `import` phase from the hand-off files, the `move` phase in the
//!    plan's batches, and a count check on the target;
//! 4. reconnect and verify — the `reconnect` and `verify` phases.
//!
//! Contract ids never appear in the script itself: they are in data files beside it (one id
//! per line), each pinned in the script by its SHA-256 and count. A console script with
//! thousands of ids as Scala literals does not work: the console compiles the script into
//! one JVM method per block, and a method is limited to 64 KB of bytecode, which a few
//! thousand string constants exceed; reading a file keeps the script the same size for 10
//! contracts and for a million.

mod canton;
mod script;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::plan::{Action, PhaseKind, Plan, text_digest};
use crate::reconcile::ContractId;

/// Which Canton console the script is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Canton 3.5 and main: `synchronizers.*`, `repair.change_assignation`, `repair.export_acs`
    /// / `repair.import_acs(synchronizerId, …)`.
    Canton3,
    /// Canton 3.4: as 3.5, with 3.4's `export_acs`, `write_contracts_to_file` and
    /// `import_acs` signatures.
    Canton34,
    /// Canton 2.x (2.10): `domains.*`, `repair.change_domain` and `repair.add`, which exist only
    /// on a participant running in the console's own process.
    Canton2,
}

impl Dialect {
    pub const ALL: [Dialect; 3] = [Dialect::Canton3, Dialect::Canton34, Dialect::Canton2];

    /// The value of `--dialect`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Canton3 => "3",
            Dialect::Canton34 => "3.4",
            Dialect::Canton2 => "2",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Dialect::Canton3 => "Canton 3.x console, checked against release-line-3.5 (the same in main)",
            Dialect::Canton34 => "Canton 3.4 console, checked against release-line-3.4",
            Dialect::Canton2 => "Canton 2.x console (domains), checked against release-line-2.10",
        }
    }

    fn is_2x(self) -> bool {
        self == Dialect::Canton2
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dialect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown console dialect {s:?}: use 3 (Canton 3.5 and main), 3.4 or 2"))
    }
}

/// One file to write: a script or a data file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleFile {
    pub name: String,
    pub text: String,
}

/// What one participant's operator gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParticipantConsole {
    pub participant: String,
    /// `<participant>.canton`.
    pub script: ConsoleFile,
    /// The contract-id files the script reads (a hand-off id file is listed for both sides).
    pub data: Vec<ConsoleFile>,
    /// Hand-off snapshots this participant's stage 2 writes, for other participants.
    pub handoff_writes: Vec<String>,
    /// Hand-off snapshots this participant's stage 3 reads, from other participants.
    pub handoff_reads: Vec<String>,
}

/// Every participant's script for one plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleExport {
    pub plan_hash: String,
    pub dialect: Dialect,
    pub participants: Vec<ParticipantConsole>,
    /// Participants of the plan with nothing to do (no step, no hand-off): no script.
    pub idle: Vec<String>,
}

impl ConsoleExport {
    /// Every file to write, each once.
    pub fn files(&self) -> Vec<&ConsoleFile> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for p in &self.participants {
            for f in std::iter::once(&p.script).chain(&p.data) {
                if seen.insert(f.name.as_str()) {
                    out.push(f);
                }
            }
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConsoleError {
    #[error(
        "{what} {name:?} cannot name a console script file: use letters, digits, '.', '_' and '-' (not starting with '.')"
    )]
    UnsafeName { what: &'static str, name: String },
    #[error("participant {0:?} is not part of this plan")]
    UnknownParticipant(String),
    #[error(
        "the plan has a {action} step in its {phase} phase for {participant}, which no console script stage carries"
    )]
    UnexpectedStep {
        participant: String,
        phase: PhaseKind,
        action: &'static str,
    },
    #[error("the plan's {what} steps for {participant} are not in the shape the script expects: {problem}")]
    UnexpectedShape {
        participant: String,
        what: &'static str,
        problem: String,
    },
}

/// The scripts for every participant of the plan that has something to do.
pub fn export(plan: &Plan, dialect: Dialect) -> Result<ConsoleExport, ConsoleError> {
    let mut participants = Vec::new();
    let mut idle = Vec::new();
    for name in plan.participants() {
        let part = Part::of(plan, name)?;
        if part.is_idle() {
            idle.push(name.clone());
        } else {
            participants.push(render(plan, dialect, &part)?);
        }
    }
    Ok(ConsoleExport {
        plan_hash: plan.hash().to_string(),
        dialect,
        participants,
        idle,
    })
}

/// The script of one participant.
pub fn participant_script(
    plan: &Plan,
    dialect: Dialect,
    participant: &str,
) -> Result<ParticipantConsole, ConsoleError> {
    if !plan.participants().iter().any(|p| p == participant) {
        return Err(ConsoleError::UnknownParticipant(participant.to_string()));
    }
    render(plan, dialect, &Part::of(plan, participant)?)
}

fn render(plan: &Plan, dialect: Dialect, part: &Part<'_>) -> Result<ParticipantConsole, ConsoleError> {
    check_name("participant", part.name)?;
    let files = Files::of(plan, dialect, part)?;
    let text = script::render(plan, dialect, part, &files);
    Ok(ParticipantConsole {
        participant: part.name.to_string(),
        script: ConsoleFile {
            name: format!("{}.canton", part.name),
            text,
        },
        data: files.data.iter().map(|d| d.file.clone()).collect(),
        handoff_writes: part.exports.iter().map(|h| files.snapshot(h)).collect(),
        handoff_reads: part.imports.iter().map(|h| files.snapshot(h)).collect(),
    })
}

/// Letters, digits, `.`, `_` and `-`: safe in a file name on every system and in a shell
/// command line, and not a path.
fn check_name(what: &'static str, name: &str) -> Result<(), ConsoleError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ConsoleError::UnsafeName {
            what,
            name: name.to_string(),
        })
    }
}

/// An import hand-off: `receiver` imports `ids` that `source` exports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Handoff<'a> {
    pub source: &'a str,
    pub receiver: &'a str,
    pub synchronizer: &'a str,
    pub ids: &'a [ContractId],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Purge<'a> {
    pub synchronizer: &'a str,
    pub ids: Vec<ContractId>,
    pub ignore_already_purged: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Moves<'a> {
    pub source: &'a str,
    pub target: &'a str,
    pub ids: Vec<ContractId>,
    pub batches: usize,
    pub skip_inactive: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Verify<'a> {
    pub synchronizer: &'a str,
    pub ids: &'a [ContractId],
    pub ping: &'a [String],
}

/// One participant's steps of the plan, arranged by script stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Part<'a> {
    pub name: &'a str,
    /// Stage 1: the `isolate` phase, then `init_target` up to its disconnect-all.
    pub connect: Vec<&'a Action>,
    /// Other participants to ping over the target in stage 1 (those that connect to it too).
    pub init_ping: Vec<&'a str>,
    /// Stage 2: the rest of `init_target`.
    pub prepare: Vec<&'a Action>,
    pub purge: Option<Purge<'a>>,
    /// Stage 2: hand-offs this participant is the source of.
    pub exports: Vec<Handoff<'a>>,
    /// Stage 3.
    pub imports: Vec<Handoff<'a>>,
    pub moves: Option<Moves<'a>>,
    /// Stage 4.
    pub reconnect: Vec<&'a Action>,
    pub verify: Option<Verify<'a>>,
}

fn is_connectivity(a: &Action) -> bool {
    matches!(
        a,
        Action::DisconnectSynchronizer { .. }
            | Action::ModifySynchronizer { .. }
            | Action::ReconnectSynchronizer { .. }
            | Action::DisconnectAllSynchronizers
    )
}

impl<'a> Part<'a> {
    pub fn of(plan: &'a Plan, name: &'a str) -> Result<Part<'a>, ConsoleError> {
        let mut part = Part {
            name,
            connect: Vec::new(),
            init_ping: Vec::new(),
            prepare: Vec::new(),
            purge: None,
            exports: Vec::new(),
            imports: Vec::new(),
            moves: None,
            reconnect: Vec::new(),
            verify: None,
        };
        let mut moves: Vec<(&str, &str, &[ContractId], bool)> = Vec::new();
        let mut self_ping = false;
        for phase in plan.phases() {
            let mut disconnected = false;
            for step in &phase.steps {
                if let Action::ImportAcs {
                    synchronizer,
                    source_participant,
                    contract_ids,
                } = &step.action
                    && phase.kind == PhaseKind::Import
                    && source_participant == name
                {
                    part.exports.push(Handoff {
                        source: name,
                        receiver: &step.participant,
                        synchronizer,
                        ids: contract_ids,
                    });
                }
                if step.participant != name {
                    continue;
                }
                let unexpected = || ConsoleError::UnexpectedStep {
                    participant: name.to_string(),
                    phase: phase.kind,
                    action: step.action.kind(),
                };
                let action = &step.action;
                match (phase.kind, action) {
                    (PhaseKind::Isolate, a) if is_connectivity(a) => part.connect.push(a),
                    (PhaseKind::InitTarget, a @ Action::DisconnectAllSynchronizers) => {
                        disconnected = true;
                        part.prepare.push(a);
                    }
                    (PhaseKind::InitTarget, a) if is_connectivity(a) && !disconnected => part.connect.push(a),
                    // The plan's own ping of its admin party over the target.
                    (PhaseKind::InitTarget, Action::Ping { .. }) if !disconnected => self_ping = true,
                    (PhaseKind::InitTarget, a) if is_connectivity(a) => part.prepare.push(a),
                    (PhaseKind::Reconnect, a) if is_connectivity(a) => part.reconnect.push(a),
                    (
                        PhaseKind::Purge,
                        Action::PurgeContracts {
                            synchronizer,
                            contract_ids,
                            ignore_already_purged,
                        },
                    ) => part.add_purge(synchronizer, contract_ids, *ignore_already_purged)?,
                    (
                        PhaseKind::Import,
                        Action::ImportAcs {
                            synchronizer,
                            source_participant,
                            contract_ids,
                        },
                    ) => part.imports.push(Handoff {
                        source: source_participant,
                        receiver: name,
                        synchronizer,
                        ids: contract_ids,
                    }),
                    (
                        PhaseKind::Move,
                        Action::ChangeAssignation {
                            source_synchronizer,
                            target_synchronizer,
                            contract_ids,
                            skip_inactive,
                        },
                    ) => moves.push((source_synchronizer, target_synchronizer, contract_ids, *skip_inactive)),
                    (
                        PhaseKind::Verify,
                        Action::Verify {
                            synchronizer,
                            contract_ids,
                            ping,
                        },
                    ) if part.verify.is_none() => {
                        part.verify = Some(Verify {
                            synchronizer,
                            ids: contract_ids,
                            ping,
                        })
                    }
                    _ => return Err(unexpected()),
                }
            }
        }
        part.moves = Moves::of(name, &moves, plan.batch_size())?;
        part.check_handoffs()?;
        let connecting: BTreeSet<&str> = plan
            .phases()
            .iter()
            .filter(|p| p.kind == PhaseKind::InitTarget)
            .flat_map(|p| &p.steps)
            .filter(|s| matches!(s.action, Action::ReconnectSynchronizer { .. }))
            .map(|s| s.participant.as_str())
            .collect();
        if part
            .connect
            .iter()
            .any(|a| matches!(a, Action::ReconnectSynchronizer { .. }))
        {
            part.init_ping = connecting.into_iter().filter(|p| *p != name).collect();
        }
        if self_ping {
            part.init_ping.insert(0, name);
        }
        Ok(part)
    }

    fn add_purge(&mut self, synchronizer: &'a str, ids: &[ContractId], ignore: bool) -> Result<(), ConsoleError> {
        match &mut self.purge {
            None => {
                self.purge = Some(Purge {
                    synchronizer,
                    ids: ids.to_vec(),
                    ignore_already_purged: ignore,
                })
            }
            Some(p) if p.synchronizer == synchronizer && p.ignore_already_purged == ignore => {
                p.ids.extend_from_slice(ids)
            }
            Some(_) => {
                return Err(ConsoleError::UnexpectedShape {
                    participant: self.name.to_string(),
                    what: "purge",
                    problem: "purge steps on different synchronizers or with different ignore_already_purged".into(),
                });
            }
        }
        Ok(())
    }

    /// One hand-off per (source, receiver) pair: the file names are made from the pair.
    fn check_handoffs(&self) -> Result<(), ConsoleError> {
        for (what, list) in [("import", &self.imports), ("export", &self.exports)] {
            let mut pairs = BTreeSet::new();
            for h in list.iter() {
                if h.source == h.receiver {
                    return Err(self.shape(what, format!("{} imports from itself", h.receiver)));
                }
                if !pairs.insert((h.source, h.receiver)) {
                    return Err(self.shape(what, format!("two imports from {} into {}", h.source, h.receiver)));
                }
            }
        }
        Ok(())
    }

    fn shape(&self, what: &'static str, problem: String) -> ConsoleError {
        ConsoleError::UnexpectedShape {
            participant: self.name.to_string(),
            what,
            problem,
        }
    }

    pub fn is_idle(&self) -> bool {
        self.connect.is_empty()
            && self.prepare.is_empty()
            && self.purge.is_none()
            && self.exports.is_empty()
            && self.imports.is_empty()
            && self.moves.is_none()
            && self.reconnect.is_empty()
            && self.verify.is_none()
    }
}

impl<'a> Moves<'a> {
    /// The script re-creates the plan's batches by cutting the one id list at the plan's batch
    /// size; this checks that doing so gives exactly the plan's ChangeAssignation steps.
    fn of(
        participant: &str,
        steps: &[(&'a str, &'a str, &'a [ContractId], bool)],
        batch_size: u32,
    ) -> Result<Option<Moves<'a>>, ConsoleError> {
        let Some(&(source, target, _, skip_inactive)) = steps.first() else {
            return Ok(None);
        };
        let shape = |problem: String| ConsoleError::UnexpectedShape {
            participant: participant.to_string(),
            what: "move",
            problem,
        };
        if steps.iter().any(|s| (s.0, s.1, s.3) != (source, target, skip_inactive)) {
            return Err(shape(
                "batches with different synchronizers or skip_inactive flags".into(),
            ));
        }
        let ids: Vec<ContractId> = steps.iter().flat_map(|s| s.2.iter().cloned()).collect();
        let batch = batch_size.max(1) as usize;
        let cut: Vec<&[ContractId]> = crate::batch::id_batches(&ids, batch).collect();
        let planned: Vec<&[ContractId]> = steps.iter().map(|s| s.2).collect();
        if cut != planned {
            return Err(shape(format!(
                "the batches are not the id list cut every {batch} ids (or {} bytes)",
                crate::batch::REQUEST_BYTES
            )));
        }
        Ok(Some(Moves {
            source,
            target,
            batches: cut.len(),
            ids,
            skip_inactive,
        }))
    }
}

/// A data file and the ids it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct DataFile {
    pub file: ConsoleFile,
    pub count: usize,
    pub digest: String,
}

impl DataFile {
    fn new(name: String, ids: &[ContractId]) -> DataFile {
        let mut text = String::with_capacity(ids.iter().map(|i| i.len() + 1).sum());
        for id in ids {
            text.push_str(id);
            text.push('\n');
        }
        DataFile {
            digest: text_digest(&text),
            count: ids.len(),
            file: ConsoleFile { name, text },
        }
    }
}

/// The names (and for data files, the contents) of everything a script refers to.
pub(super) struct Files {
    pub data: Vec<DataFile>,
    pub purge: Option<usize>,
    pub moves: Option<usize>,
    /// Index into `data` of the verify list (the move list when they are the same).
    pub verify: Option<usize>,
    /// (source, receiver) → index into `data`.
    pub handoff: BTreeMap<(String, String), usize>,
    /// `<incident>-<hash prefix>`, the stem of hand-off snapshot names.
    snapshot_stem: String,
    snapshot_ext: &'static str,
}

impl Files {
    fn of(plan: &Plan, dialect: Dialect, part: &Part<'_>) -> Result<Files, ConsoleError> {
        let p = part.name;
        let mut files = Files {
            data: Vec::new(),
            purge: None,
            moves: None,
            verify: None,
            handoff: BTreeMap::new(),
            snapshot_stem: format!("{}-{}", slug(plan.incident()), hash_prefix(plan.hash())),
            snapshot_ext: if dialect.is_2x() { "contracts.bin" } else { "acs.gz" },
        };
        let add = |files: &mut Files, name: String, ids: &[ContractId]| {
            files.data.push(DataFile::new(name, ids));
            files.data.len() - 1
        };
        if let Some(purge) = &part.purge {
            files.purge = Some(add(&mut files, format!("{p}.purge.ids"), &purge.ids));
        }
        for h in part.exports.iter().chain(&part.imports) {
            check_name("participant", h.source)?;
            check_name("participant", h.receiver)?;
            let i = add(&mut files, format!("{}-to-{}.handoff.ids", h.source, h.receiver), h.ids);
            files.handoff.insert((h.source.to_string(), h.receiver.to_string()), i);
        }
        if let Some(m) = &part.moves {
            files.moves = Some(add(&mut files, format!("{p}.move.ids"), &m.ids));
        }
        if let Some(v) = &part.verify {
            let same = part.moves.as_ref().is_some_and(|m| m.ids == v.ids);
            files.verify = if same {
                files.moves
            } else {
                Some(add(&mut files, format!("{p}.verify.ids"), v.ids))
            };
        }
        Ok(files)
    }

    pub fn handoff_ids(&self, h: &Handoff<'_>) -> &DataFile {
        let i = self.handoff[&(h.source.to_string(), h.receiver.to_string())];
        &self.data[i]
    }

    /// The hand-off snapshot file, named by the plan (incident and hash) and the pair.
    pub fn snapshot(&self, h: &Handoff<'_>) -> String {
        format!(
            "{}.{}-to-{}.{}",
            self.snapshot_stem, h.source, h.receiver, self.snapshot_ext
        )
    }
}

/// The first 12 hex digits of a `sha256:…` hash.
pub(super) fn hash_prefix(hash: &str) -> &str {
    let hex = hash.strip_prefix("sha256:").unwrap_or(hash);
    hex.get(..12).unwrap_or(hex)
}

/// An incident name made safe for a file name.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-');
    if s.is_empty() { "incident".into() } else { s.into() }
}

#[cfg(test)]
mod tests;
