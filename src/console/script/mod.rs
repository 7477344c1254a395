//! The Scala text of one participant's console script. Every console command is emitted with
//! the Canton source file it was checked against ([`Cmd::cite`]) in a comment above it.
//!
//! Plan-derived strings (names, aliases, hashes, file names) enter the Scala code only as
//! escaped string literals bound to `val`s; the fixed text refers to those vals, so no name can
//! change the meaning of the code. Comments get names with control characters replaced.

//!
//! The script is written in the order it reads: [`header`] (how to run it, what each stage
//! does), [`prelude`] (the vals and helper functions the stages call), [`stages`] (the four
//! stages and the dispatch on `RECOVERY_DECK_STAGE`); [`scala`] makes plan-derived text
//! safe in Scala code and comments.

mod header;
mod prelude;
mod scala;
mod stages;

use crate::plan::{Action, Plan};

use super::canton::Cmd;
use super::{Dialect, Files, Part};
use header::header;
use prelude::prelude;
use stages::{dispatch, stage1, stage2, stage3, stage4};

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

#[cfg(test)]
pub(super) mod tests_support {
    pub fn ident(name: &str) -> String {
        super::scala::scala_ident(name)
    }

    pub fn lit(s: &str) -> String {
        super::scala::lit(s)
    }
}
