//! The aligned view's cursor, scroll and filters. Only the filtered index list is kept
//! (four bytes a row); rendering touches only the visible slice of it, so a million rows
//! cost nothing per frame.

use crate::reconcile::{Comparison, RowClass, RowFilter};

#[derive(Debug, Clone, Default)]
pub struct TableView {
    /// Indices into the comparison's rows that pass the filters, in order.
    pub rows: Vec<u32>,
    /// Position of the cursor in `rows`.
    pub selected: usize,
    /// First visible position in `rows`.
    pub offset: usize,
    /// First participant column shown (horizontal scroll).
    pub first_column: usize,
    pub text: String,
    pub class: Option<RowClass>,
}

/// The class filter's cycle: all, then each class.
pub const CLASS_CYCLE: [Option<RowClass>; 6] = [
    None,
    Some(RowClass::Agreed),
    Some(RowClass::Missing),
    Some(RowClass::ArchivedSomewhere),
    Some(RowClass::PayloadMismatch),
    Some(RowClass::LocalOnly),
];

impl TableView {
    pub fn filter(&self) -> RowFilter {
        RowFilter {
            class: self.class,
            text: self.text.clone(),
        }
    }

    /// Recomputes the visible rows, keeping the cursor on the same contract if it passes.
    pub fn refilter(&mut self, cmp: &Comparison) {
        let keep = self.rows.get(self.selected).copied();
        let filter = self.filter();
        self.rows = cmp
            .filtered(&filter)
            .map(|(i, _)| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        self.selected = keep
            .and_then(|k| self.rows.binary_search(&k).ok())
            .unwrap_or(0)
            .min(self.rows.len().saturating_sub(1));
        self.offset = self.offset.min(self.selected);
    }

    pub fn cycle_class(&mut self, cmp: &Comparison) {
        let at = CLASS_CYCLE.iter().position(|c| *c == self.class).unwrap_or(0);
        self.class = CLASS_CYCLE[(at + 1) % CLASS_CYCLE.len()];
        self.refilter(cmp);
    }

    /// The comparison row under the cursor.
    pub fn current(&self) -> Option<usize> {
        self.rows.get(self.selected).map(|i| *i as usize)
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.rows.is_empty() {
            self.selected = 0;
            return;
        }
        let last = self.rows.len() - 1;
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    pub fn top(&mut self) {
        self.selected = 0;
    }

    pub fn bottom(&mut self) {
        self.selected = self.rows.len().saturating_sub(1);
    }

    /// Scrolls so that the cursor is visible in a window of `height` rows.
    pub fn follow(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
    }

    /// Puts the cursor on the first row whose id starts with `prefix`.
    pub fn goto(&mut self, cmp: &Comparison, prefix: &str) -> bool {
        let rows = cmp.rows();
        match self
            .rows
            .iter()
            .position(|i| rows[*i as usize].contract_id().starts_with(prefix))
        {
            Some(p) => {
                self.selected = p;
                true
            }
            None => false,
        }
    }
}
