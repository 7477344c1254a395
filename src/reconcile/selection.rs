//! What the operators asked for (strategy, decisions, exclusions) and what it means for
//! each participant (purge, import, move).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use super::comparison::RowClass;
use super::model::ContractId;

/// Which rows to move to the new synchronizer (DESIGN §5).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Strategy {
    /// Only rows every relevant participant already agrees on.
    #[default]
    Intersection,
    /// Also rows some participant lacks (imported there first); rows archived somewhere or
    /// with diverging payloads need a decision each.
    Union,
    /// Only the rows the operator picked, each treated as under `Union`.
    Manual { include: BTreeSet<ContractId> },
}

/// The strategies by name, as the command line, the screen and runbooks call them. The one
/// name type for all of them; [`StrategyName::with_picks`] makes the [`Strategy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StrategyName {
    Intersection,
    Union,
    Manual,
}

impl StrategyName {
    pub const ALL: [StrategyName; 3] = [StrategyName::Intersection, StrategyName::Union, StrategyName::Manual];

    pub fn as_str(self) -> &'static str {
        match self {
            StrategyName::Intersection => "intersection",
            StrategyName::Union => "union",
            StrategyName::Manual => "manual",
        }
    }

    /// The strategy of this name. `picks` is the manual selection; the other strategies
    /// take every row they apply to and ignore it.
    pub fn with_picks(self, picks: BTreeSet<ContractId>) -> Strategy {
        match self {
            StrategyName::Intersection => Strategy::Intersection,
            StrategyName::Union => Strategy::Union,
            StrategyName::Manual => Strategy::Manual { include: picks },
        }
    }
}

impl fmt::Display for StrategyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StrategyName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|n| n.as_str() == s)
            .ok_or_else(|| format!("unknown strategy {s:?}; strategies are intersection, union, manual"))
    }
}

/// How far a strategy reaches for one row: the one rule behind both what [`select`] does
/// with a row and which decisions it consults.
///
/// [`select`]: super::select
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reach {
    /// Only rows every relevant participant agrees on (intersection).
    Agreement,
    /// Rows beyond agreement too, with decisions where the participants disagree.
    Beyond,
    /// A row a manual selection did not pick.
    NotPicked,
}

impl Strategy {
    pub fn kind(&self) -> StrategyName {
        match self {
            Strategy::Intersection => StrategyName::Intersection,
            Strategy::Union => StrategyName::Union,
            Strategy::Manual { .. } => StrategyName::Manual,
        }
    }

    pub fn name(&self) -> &'static str {
        self.kind().as_str()
    }

    pub(super) fn reach(&self, id: &ContractId) -> Reach {
        match self {
            Strategy::Intersection => Reach::Agreement,
            Strategy::Union => Reach::Beyond,
            Strategy::Manual { include } if include.contains(id) => Reach::Beyond,
            Strategy::Manual { .. } => Reach::NotPicked,
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Manual { include } => write!(f, "manual ({} rows)", include.len()),
            other => f.write_str(other.name()),
        }
    }
}

/// An operator's ruling on a row the participants disagree about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Decision {
    /// Leave it on the lost synchronizer everywhere.
    Exclude,
    /// Purge it wherever it is still active, so every participant agrees it is gone.
    Purge,
}

/// Why no decision can make one participant's version of a payload_mismatch row replace
/// the others: each of those others already stores its own payload under the contract id,
/// and Canton never replaces a stored contract — a purged contract can be added back only
/// with the payload stored before (`DbContractStore.analyzeFoundData`: "Stored contracts
/// are immutable"). Said to the operator who asks for it.
pub const NO_ADOPT: &str = "adopting one participant's version is not possible on Canton: the other participants already store another payload under that contract id, and Canton never replaces a stored contract (\"Stored contracts are immutable\"); decide exclude (leave the row on the lost synchronizer for a manual repair) or purge (remove it everywhere)";

impl Decision {
    pub fn name(&self) -> &'static str {
        match self {
            Decision::Exclude => "exclude",
            Decision::Purge => "purge",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything the operators chose; together with the comparison it determines the selection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectionRequest {
    pub strategy: Strategy,
    pub decisions: BTreeMap<ContractId, Decision>,
    /// Applied last: an excluded row is left on the lost synchronizer whatever else says.
    pub exclusions: BTreeSet<ContractId>,
}

impl SelectionRequest {
    pub fn new(strategy: Strategy) -> Self {
        Self {
            strategy,
            ..Self::default()
        }
    }

    pub fn decide(mut self, contract_id: &str, decision: Decision) -> Self {
        self.decisions.insert(contract_id.into(), decision);
        self
    }

    pub fn exclude(mut self, contract_id: &str) -> Self {
        self.exclusions.insert(contract_id.into());
        self
    }

    /// Whether [`select`](super::select) consults the decision for this row. It refuses a
    /// request with decisions it would ignore, so a front end that keeps decisions while
    /// the operator tries strategies sends only the ones that count.
    pub fn consults_decision(&self, contract_id: &ContractId) -> bool {
        !self.exclusions.contains(contract_id) && self.strategy.reach(contract_id) == Reach::Beyond
    }

    /// This request without the decisions [`select`](super::select) would ignore.
    pub fn without_ignored_decisions(mut self) -> Self {
        let decisions = std::mem::take(&mut self.decisions);
        self.decisions = decisions
            .into_iter()
            .filter(|(id, _)| self.consults_decision(id))
            .collect();
        self
    }
}

/// Why a row does not move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExclusionReason {
    /// The strategy leaves rows of this class on the lost synchronizer.
    NotInStrategy,
    DecidedExclude,
    /// Purged where it was active, on the operator's decision.
    DecidedPurge,
    /// Not picked in a manual selection.
    NotSelected,
    ExcludeList,
}

impl ExclusionReason {
    pub const ALL: [ExclusionReason; 5] = [
        ExclusionReason::NotInStrategy,
        ExclusionReason::DecidedExclude,
        ExclusionReason::DecidedPurge,
        ExclusionReason::NotSelected,
        ExclusionReason::ExcludeList,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExclusionReason::NotInStrategy => "not_in_strategy",
            ExclusionReason::DecidedExclude => "decision_exclude",
            ExclusionReason::DecidedPurge => "decision_purge",
            ExclusionReason::NotSelected => "not_selected",
            ExclusionReason::ExcludeList => "exclude_list",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ExclusionReason::NotInStrategy => "the strategy leaves this class on the lost synchronizer",
            ExclusionReason::DecidedExclude => "excluded by operator decision",
            ExclusionReason::DecidedPurge => "purged where active by operator decision",
            ExclusionReason::NotSelected => "excluded by operator",
            ExclusionReason::ExcludeList => "on the exclude list",
        }
    }
}

impl fmt::Display for ExclusionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExclusionReason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown exclusion reason {s:?}"))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExcludedRow {
    pub contract_id: ContractId,
    pub class: RowClass,
    pub reason: ExclusionReason,
}

/// The repair work one participant must do. Every list is sorted and free of duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParticipantWork {
    pub purge: Vec<ContractId>,
    /// Source participant -> ids to import from its export.
    pub import: BTreeMap<String, Vec<ContractId>>,
    pub moves: Vec<ContractId>,
}

impl ParticipantWork {
    pub fn import_count(&self) -> usize {
        self.import.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.purge.is_empty() && self.import.is_empty() && self.moves.is_empty()
    }
}

/// The outcome of a strategy applied to a comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    pub(super) participants: Vec<String>,
    /// Indexed like `participants`.
    pub(super) work: Vec<ParticipantWork>,
    /// Sorted by contract id.
    pub(super) excluded: Vec<ExcludedRow>,
}

impl Selection {
    pub fn participants(&self) -> &[String] {
        &self.participants
    }

    pub fn work(&self, participant: &str) -> Option<&ParticipantWork> {
        let i = self.participants.iter().position(|p| p == participant)?;
        self.work.get(i)
    }

    /// (participant, work) in participant name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParticipantWork)> {
        self.participants.iter().map(String::as_str).zip(&self.work)
    }

    pub fn excluded(&self) -> &[ExcludedRow] {
        &self.excluded
    }

    /// Every id moved by at least one participant.
    pub fn moved_ids(&self) -> BTreeSet<ContractId> {
        self.work.iter().flat_map(|w| w.moves.iter().cloned()).collect()
    }

    pub fn moved_count(&self) -> usize {
        self.moved_ids().len()
    }
}
