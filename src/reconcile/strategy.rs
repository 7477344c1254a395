//! Applying a strategy, decisions and exclusions to a comparison.

use std::collections::BTreeSet;

use super::comparison::{Comparison, ParticipantState, Row, RowClass};
use super::model::ContractId;
use super::select_error::{IdSource, SelectionError, SelectionProblem, UndecidedRow};
use super::selection::{
    Decision, ExcludedRow, ExclusionReason, ParticipantWork, Reach, Selection, SelectionRequest, Strategy,
};

/// What happens to one row under a request. [`select`] applies [`row_fate`] to every row;
/// a front end that shows the rows one by one asks the same function, so its markers
/// cannot disagree with the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowFate {
    /// Moved wherever relevant (agreed and local-only rows).
    Move,
    /// Imported where it is unknown, then moved (a missing row the strategy reaches).
    FillAndMove,
    /// Purged wherever it is still active, and so left behind (decision).
    Purge,
    /// Left on the lost synchronizer.
    Exclude(ExclusionReason),
    /// Needs an operator decision before a plan can be made.
    Undecided,
}

impl RowFate {
    /// Whether the row ends up on the new synchronizer.
    pub fn moves(&self) -> bool {
        matches!(self, RowFate::Move | RowFate::FillAndMove)
    }
}

/// The fate of `row` under `req` (see [`RowFate`]). Does not validate the request: a
/// decision that cannot apply (see [`decision_fits`]) is only reported by [`select`].
pub fn row_fate(row: &Row, req: &SelectionRequest) -> RowFate {
    let id = row.contract_id();
    if req.exclusions.contains(id) {
        return RowFate::Exclude(ExclusionReason::ExcludeList);
    }
    let beyond_agreement = match req.strategy.reach(id) {
        Reach::Agreement => false,
        Reach::Beyond => true,
        Reach::NotPicked => return RowFate::Exclude(ExclusionReason::NotSelected),
    };
    match row.class() {
        RowClass::Agreed | RowClass::LocalOnly => RowFate::Move,
        _ if !beyond_agreement => RowFate::Exclude(ExclusionReason::NotInStrategy),
        RowClass::Missing => RowFate::FillAndMove,
        RowClass::ArchivedSomewhere | RowClass::PayloadMismatch => match req.decisions.get(id) {
            None => RowFate::Undecided,
            Some(Decision::Exclude) => RowFate::Exclude(ExclusionReason::DecidedExclude),
            Some(Decision::Purge) => RowFate::Purge,
        },
    }
}

/// Computes what every participant must purge, import and move.
///
/// Problems with the request (unknown ids, decisions that do not fit) are reported first,
/// all at once; then every row still lacking a decision.
pub fn select(cmp: &Comparison, req: &SelectionRequest) -> Result<Selection, SelectionError> {
    let problems = validate(cmp, req);
    if !problems.is_empty() {
        return Err(SelectionError::Invalid(problems));
    }
    let mut b = Builder {
        cmp,
        work: vec![ParticipantWork::default(); cmp.participants().len()],
        excluded: Vec::new(),
    };
    let mut undecided = Vec::new();
    for row in cmp.rows() {
        match row_fate(row, req) {
            RowFate::Move => b.move_everywhere(row),
            RowFate::FillAndMove => b.fill_and_move(row),
            RowFate::Purge => b.purge_everywhere(row),
            RowFate::Exclude(reason) => b.exclude(row, reason),
            RowFate::Undecided => undecided.push(UndecidedRow {
                contract_id: row.contract_id().clone(),
                class: row.class(),
            }),
        }
    }
    if !undecided.is_empty() {
        return Err(SelectionError::Undecided(undecided));
    }
    Ok(Selection {
        participants: cmp.participants().to_vec(),
        work: b.work,
        excluded: b.excluded,
    })
}

fn validate(cmp: &Comparison, req: &SelectionRequest) -> Vec<SelectionProblem> {
    let unknown = |ids: &BTreeSet<ContractId>, source| {
        ids.iter()
            .filter(|id| cmp.row(id).is_none())
            .map(move |id| SelectionProblem::UnknownContract {
                contract_id: id.clone(),
                source,
            })
            .collect::<Vec<_>>()
    };
    let mut problems = unknown(&req.exclusions, IdSource::ExcludeList);
    if let Strategy::Manual { include } = &req.strategy {
        problems.extend(unknown(include, IdSource::ManualSelection));
    }
    for (id, decision) in &req.decisions {
        problems.extend(check_decision(cmp, req, id, decision));
    }
    problems
}

fn check_decision(
    cmp: &Comparison,
    req: &SelectionRequest,
    id: &ContractId,
    decision: &Decision,
) -> Option<SelectionProblem> {
    let Some(row) = cmp.row(id) else {
        return Some(SelectionProblem::UnknownContract {
            contract_id: id.clone(),
            source: IdSource::Decision,
        });
    };
    let unused = |why| {
        Some(SelectionProblem::DecisionUnused {
            contract_id: id.clone(),
            why,
        })
    };
    if req.exclusions.contains(id) {
        return unused("the row is also on the exclude list; remove one of the two");
    }
    match req.strategy.reach(id) {
        Reach::Agreement => {
            return unused("intersection never imports or purges; switch to union or manual, or drop it");
        }
        Reach::NotPicked => {
            return unused("the row is not in the manual selection; pick the row or drop the decision");
        }
        Reach::Beyond => {}
    }
    decision_fits(cmp, row, decision).err()
}

/// Whether `decision` can apply to `row` of `cmp` whatever the strategy: the row must need a
/// decision.
pub fn decision_fits(_cmp: &Comparison, row: &Row, _decision: &Decision) -> Result<(), SelectionProblem> {
    if row.class().needs_decision() {
        Ok(())
    } else {
        Err(SelectionProblem::DecisionNotNeeded {
            contract_id: row.contract_id().clone(),
            class: row.class(),
        })
    }
}

/// Rows are visited in id order, so pushing keeps every list sorted without a final sort.
struct Builder<'a> {
    cmp: &'a Comparison,
    work: Vec<ParticipantWork>,
    excluded: Vec<ExcludedRow>,
}

impl Builder<'_> {
    fn exclude(&mut self, row: &Row, reason: ExclusionReason) {
        self.excluded.push(ExcludedRow {
            contract_id: row.contract_id().clone(),
            class: row.class(),
            reason,
        });
    }

    fn move_everywhere(&mut self, row: &Row) {
        for i in row.relevant() {
            self.work[i].moves.push(row.contract_id().clone());
        }
    }

    fn import(&mut self, into: usize, from: usize, row: &Row) {
        let source = self.cmp.participants()[from].clone();
        self.work[into]
            .import
            .entry(source)
            .or_default()
            .push(row.contract_id().clone());
    }

    /// Missing rows: every holder has the same payload, so the source is simply the first
    /// holder by participant name, which keeps the plan independent of input order.
    fn fill_and_move(&mut self, row: &Row) {
        let Some(source) = row.states().iter().position(ParticipantState::is_held) else {
            return;
        };
        let lacking: Vec<usize> = row
            .relevant()
            .filter(|&i| matches!(row.states()[i], ParticipantState::Unknown))
            .collect();
        for i in lacking {
            self.import(i, source, row);
        }
        self.move_everywhere(row);
    }

    fn purge_everywhere(&mut self, row: &Row) {
        for (i, s) in row.states().iter().enumerate() {
            if s.is_held() {
                self.work[i].purge.push(row.contract_id().clone());
            }
        }
        self.exclude(row, ExclusionReason::DecidedPurge);
    }
}
