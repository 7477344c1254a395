//! What the report shows of a survey: counts per class and per participant, and the rows
//! whose holders disagree on the payload, gathered in one pass over a comparison file (or,
//! for journals before pinned comparisons, from the counts the event kept).

use crate::journal::Surveyed;
use crate::journal::snapshot::{SnapshotError, SnapshotHeader, SnapshotRow};
use crate::reconcile::RowClass;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct SurveyView {
    pub synchronizer: String,
    /// Rows per class, every class listed.
    pub classes: BTreeMap<RowClass, usize>,
    pub participants: Vec<Held>,
    /// Rows whose holders disagree on the payload, in contract-id order, at most the cap.
    pub differing: Vec<SnapshotRow>,
    /// All such rows, shown or not.
    pub differing_total: usize,
    /// The counts come from the pinned comparison file (per participant and class), not
    /// only from the event's totals.
    pub detailed: bool,
}

/// What one participant held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub name: String,
    pub total: usize,
    /// Rows it holds, per class (empty when not `detailed`).
    pub by_class: BTreeMap<RowClass, usize>,
}

impl SurveyView {
    pub fn rows(&self) -> usize {
        self.classes.values().sum()
    }

    /// Reads the rows of a comparison file, keeping up to `cap` differing rows.
    pub fn gather(
        header: &SnapshotHeader,
        rows: impl Iterator<Item = Result<SnapshotRow, SnapshotError>>,
        cap: usize,
    ) -> Result<SurveyView, SnapshotError> {
        let mut view = SurveyView {
            synchronizer: header.synchronizer.clone(),
            classes: RowClass::ALL.into_iter().map(|c| (c, 0)).collect(),
            participants: header
                .participants
                .iter()
                .map(|p| Held {
                    name: p.name.clone(),
                    total: 0,
                    by_class: RowClass::ALL.into_iter().map(|c| (c, 0)).collect(),
                })
                .collect(),
            differing: Vec::new(),
            differing_total: 0,
            detailed: true,
        };
        for row in rows {
            let row = row?;
            *view.classes.entry(row.class).or_default() += 1;
            for (held, state) in view.participants.iter_mut().zip(&row.states) {
                if state.is_held() {
                    held.total += 1;
                    *held.by_class.entry(row.class).or_default() += 1;
                }
            }
            let versions: std::collections::BTreeSet<&str> =
                (0..row.states.len()).filter_map(|i| row.digest_of(i)).collect();
            if versions.len() > 1 {
                view.differing_total += 1;
                if view.differing.len() < cap {
                    view.differing.push(row);
                }
            }
        }
        Ok(view)
    }

    /// The counts a `search.result` event carries by itself.
    pub fn from_event(s: &Surveyed) -> SurveyView {
        SurveyView {
            synchronizer: s.synchronizer.clone(),
            classes: RowClass::ALL
                .into_iter()
                .map(|c| (c, s.classes.get(c.as_str()).copied().unwrap_or(0)))
                .collect(),
            participants: s
                .contracts
                .iter()
                .map(|(name, n)| Held {
                    name: name.clone(),
                    total: *n,
                    by_class: BTreeMap::new(),
                })
                .collect(),
            differing: Vec::new(),
            differing_total: 0,
            detailed: false,
        }
    }
}
