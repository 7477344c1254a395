//! The payload diff: which participants' payloads of a row can be compared, and the
//! side-by-side lines of one pair. A payload is whatever this screen holds: the survey's
//! payloads, and in a session the local participant's own and those another operator
//! shared.

use super::{App, DiffView, Popup};
use crate::reconcile::{ParticipantState, diff};
use crate::tui::scroll::Scroll;
use serde_json::Value;

impl App {
    /// The payload of `contract_id` held by the comparison's participant `index`, if this
    /// screen has it.
    pub fn payload_of(&self, index: usize, contract_id: &str) -> Option<&Value> {
        let d = self.data.as_ref()?;
        if let Some(p) = d.payloads.get(index).and_then(|m| m.get(contract_id)) {
            return Some(p);
        }
        let name = d.comparison.participants().get(index)?;
        self.joined.as_ref()?.payload(name, contract_id)
    }

    pub(super) fn open_diff(&mut self) -> Option<Popup> {
        let d = self.data.as_ref()?;
        let row_index = self.table.current()?;
        let row = d.comparison.rows().get(row_index)?;
        let id = row.contract_id();
        // Holders whose payload is here: in a session, a payload travels only when its
        // holder's operator shares it.
        let holders: Vec<usize> = row
            .states()
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s, ParticipantState::Active { .. } | ParticipantState::Differs { .. }))
            .map(|(i, _)| i)
            .filter(|i| self.payload_of(*i, id).is_some())
            .collect();
        let mut pairs = Vec::new();
        for (a, i) in holders.iter().enumerate() {
            for j in &holders[a + 1..] {
                pairs.push((*i, *j));
            }
        }
        if pairs.is_empty() {
            pairs.push((*holders.first()?, *holders.first()?));
        }
        // Show a differing pair first when there is one.
        if let Some(p) = pairs
            .iter()
            .position(|(i, j)| row.states()[*i].digest() != row.states()[*j].digest())
        {
            pairs.swap(0, p);
        }
        let mut view = DiffView {
            row: row_index,
            pairs,
            pair: 0,
            lines: Vec::new(),
            scroll: Scroll::default(),
        };
        self.compute_diff(&mut view);
        Some(Popup::Diff(view))
    }

    pub(super) fn compute_diff(&self, view: &mut DiffView) {
        let Some(d) = self.data.as_ref() else { return };
        let Some(row) = d.comparison.rows().get(view.row) else {
            return;
        };
        let Some((i, j)) = view.pairs.get(view.pair).copied() else {
            return;
        };
        let payload = |p: usize| self.payload_of(p, row.contract_id()).cloned().unwrap_or_default();
        view.lines = diff::side_by_side(&payload(i), &payload(j));
        view.scroll = Scroll::default();
    }
}
