//! Why a selection cannot be made, worded for the operator who has to fix it.

use std::fmt;

use super::comparison::RowClass;
use super::model::ContractId;

/// Long lists are cut here in messages; the error value itself keeps every entry.
const SHOWN: usize = 20;

/// Where an id the comparison does not know came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdSource {
    Decision,
    ExcludeList,
    ManualSelection,
}

impl fmt::Display for IdSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdSource::Decision => "a decision",
            IdSource::ExcludeList => "the exclude list",
            IdSource::ManualSelection => "the manual selection",
        })
    }
}

/// A decision, exclusion or manual pick that makes no sense for the comparison at hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelectionProblem {
    UnknownContract { contract_id: ContractId, source: IdSource },
    DecisionNotNeeded { contract_id: ContractId, class: RowClass },
    DecisionUnused { contract_id: ContractId, why: &'static str },
}

impl fmt::Display for SelectionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownContract { contract_id, source } => write!(
                f,
                "contract {contract_id} in {source} is not on the lost synchronizer on any participant; check the id or re-run compare"
            ),
            Self::DecisionNotNeeded { contract_id, class } => write!(
                f,
                "contract {contract_id} is {class} and needs no decision; drop the decision (use the exclude list to keep it back)"
            ),
            Self::DecisionUnused { contract_id, why } => {
                write!(f, "contract {contract_id}: the decision would be ignored because {why}")
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UndecidedRow {
    pub contract_id: ContractId,
    pub class: RowClass,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error("the selection has {} problem(s):\n{}", .0.len(), bullet_list(.0))]
    Invalid(Vec<SelectionProblem>),
    #[error(
        "{} row(s) need an operator decision before a plan can be made \
         (exclude: leave it on the lost synchronizer; purge: remove it everywhere):\n{}",
        .0.len(),
        bullet_list(&.0.iter().map(|r| format!("{} ({})", r.contract_id, r.class)).collect::<Vec<_>>())
    )]
    Undecided(Vec<UndecidedRow>),
}

fn bullet_list<T: fmt::Display>(items: &[T]) -> String {
    let mut out: Vec<String> = items.iter().take(SHOWN).map(|i| format!("  - {i}")).collect();
    if items.len() > SHOWN {
        out.push(format!("  … and {} more", items.len() - SHOWN));
    }
    out.join("\n")
}
