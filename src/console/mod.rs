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
mod files;
mod part;
mod script;

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::plan::{PhaseKind, Plan};
use files::{Files, hash_prefix};
use part::Part;

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

#[cfg(test)]
mod tests;
