//! The aligned view's cursor, scroll and filters. Only the filtered index list is kept
//! (four bytes a row); rendering touches only the visible slice of it, so a million rows
//! cost nothing per frame.

use super::scroll::Motion;
use crate::reconcile::{Comparison, RowClass, RowFilter};

#[derive(Debug, Clone)]
pub struct TableView {
    /// Indices into the comparison's rows that pass the filters, in order.
    pub rows: Vec<u32>,
    /// Position of the cursor in `rows`.
    pub selected: usize,
    /// First visible position in `rows`.
    pub offset: usize,
    /// Data rows that fit, as the last frame measured.
    pub page: usize,
    /// First participant column shown (horizontal scroll).
    pub first_column: usize,
    pub text: String,
    pub class: Option<RowClass>,
}

impl Default for TableView {
    fn default() -> TableView {
        TableView {
            rows: Vec::new(),
            selected: 0,
            offset: 0,
            page: 10,
            first_column: 0,
            text: String::new(),
            class: None,
        }
    }
}

/// The short name of a class in the table's class column and the status bar.
pub fn class_label(c: RowClass) -> &'static str {
    match c {
        RowClass::Agreed => "agreed",
        RowClass::Missing => "missing",
        RowClass::ArchivedSomewhere => "archived",
        RowClass::PayloadMismatch => "mismatch",
        RowClass::LocalOnly => "local",
    }
}

/// The class filter's cycle: all, then each class.
pub fn class_cycle() -> impl Iterator<Item = Option<RowClass>> {
    std::iter::once(None).chain(RowClass::ALL.map(Some))
}

/// A class filter by name: `all`, a class's full name or its short label.
pub fn parse_class_filter(name: &str) -> Option<Option<RowClass>> {
    match name {
        "all" => Some(None),
        _ => RowClass::ALL
            .into_iter()
            .find(|c| c.as_str() == name || class_label(*c) == name)
            .map(Some),
    }
}

/// The names [`parse_class_filter`] takes, for messages.
pub fn class_filter_names() -> String {
    let mut names: Vec<&str> = RowClass::ALL.into_iter().map(RowClass::as_str).collect();
    names.push("all");
    names.join(", ")
}

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
        let mut cycle = class_cycle().skip_while(|c| *c != self.class).skip(1);
        self.class = cycle.next().flatten();
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

    /// The first row to show in a window of `height` rows: the current offset, moved just
    /// enough to keep the cursor in view.
    pub fn first_visible(&self, height: usize) -> usize {
        let height = height.max(1);
        let offset = self.offset.min(self.selected);
        if self.selected >= offset + height {
            self.selected + 1 - height
        } else {
            offset
        }
    }

    /// Scrolls so that the cursor is visible in the last measured page.
    pub fn follow(&mut self) {
        self.offset = self.first_visible(self.page);
    }

    /// Moves the cursor (pages are the last measured page) and keeps it in view.
    pub fn apply(&mut self, motion: Motion) {
        match motion {
            Motion::By(n) => self.move_by(n),
            Motion::Pages(n) => self.move_by(n.saturating_mul(self.page.max(1) as isize)),
            Motion::Top => self.top(),
            Motion::Bottom => self.bottom(),
        }
        self.follow();
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
