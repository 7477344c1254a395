//! The payload diff: which participants' payloads of a row can be compared, and the
//! side-by-side lines of one pair. A payload is whatever this screen holds: those read
//! from the participants (the survey keeps digests only, so a row's payloads are read when
//! its diff is first asked for, and the disagreeing rows' when the comparison is
//! recorded), and in a session the local participant's own (read the same way, when its
//! diff is asked for) and those another operator shared.

use super::{App, DiffView, Level, Popup};
use crate::failure::Failure;
use crate::journal::EventData;
use crate::reconcile::{ContractId, Digest, ParticipantState, diff};
use crate::survey::Payloads;
use crate::tui::msg::Effect;
use crate::tui::scroll::Scroll;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

impl App {
    /// The read of the current row's payloads this screen lacks, or `None` when every
    /// holder's payload is here (or cannot be read from here: a session screen reads its
    /// own participant's alone, the others' come when shared; a replay has what was
    /// recorded).
    pub(super) fn payloads_to_fetch(&self) -> Option<Effect> {
        if !self.payloads_on_demand {
            return None;
        }
        let readable = |name: &str| match &self.joined {
            Some(j) => j.participant.as_deref() == Some(name),
            None => true,
        };
        let d = self.data.as_ref()?;
        let row = d.comparison.rows().get(self.table.current()?)?;
        let id = row.contract_id();
        let mut wanted: BTreeMap<String, HashMap<ContractId, Digest>> = BTreeMap::new();
        for (i, (name, state)) in d.comparison.participants().iter().zip(row.states()).enumerate() {
            if let Some(digest) = state.digest()
                && readable(name)
                && self.payload_of(i, id).is_none()
            {
                wanted.entry(name.clone()).or_default().insert(id.clone(), *digest);
            }
        }
        (!wanted.is_empty()).then(|| Effect::FetchPayloads {
            generation: self.generation,
            synchronizer: d.comparison.synchronizer().to_string(),
            wanted,
            open: Some(id.clone()),
        })
    }

    /// Opens the diff of the current row, reading its payloads first when they are not
    /// here yet.
    pub(super) fn diff_or_fetch(&mut self) -> Vec<Effect> {
        if let Some(fetch) = self.payloads_to_fetch() {
            if let Effect::FetchPayloads { wanted, .. } = &fetch {
                let from: Vec<&str> = wanted.keys().map(String::as_str).collect();
                self.flash(
                    Level::Info,
                    format!("reading the row's payloads from {}…", from.join(", ")),
                );
            }
            return vec![fetch];
        }
        self.show_diff()
    }

    fn show_diff(&mut self) -> Vec<Effect> {
        if let Some(p) = self.open_diff() {
            let id = self
                .selected_row()
                .map(|r| r.contract_id().to_string())
                .unwrap_or_default();
            self.popup = Some(p);
            return vec![Effect::Record(EventData::DiffViewed { contract_id: id })];
        }
        self.flash(Level::Warn, "no participant holds a payload for this row");
        Vec::new()
    }

    /// Payloads read from the participants join those already here; the diff that asked
    /// for them opens if its row is still the current one and nothing else is open.
    pub(super) fn on_payloads(
        &mut self,
        generation: u64,
        open: Option<ContractId>,
        result: Result<BTreeMap<String, Payloads>, Failure>,
    ) -> Vec<Effect> {
        if generation != self.generation {
            return Vec::new();
        }
        let read = match result {
            Ok(read) => read,
            Err(e) => {
                self.flash(Level::Error, format!("reading the payloads failed: {e}"));
                return Vec::new();
            }
        };
        let Some(d) = self.data.as_mut() else {
            return Vec::new();
        };
        let names = d.comparison.participants().to_vec();
        let held = Arc::make_mut(&mut d.payloads);
        held.resize_with(names.len(), Payloads::new);
        for (i, name) in names.iter().enumerate() {
            if let Some(p) = read.get(name) {
                held[i].extend(p.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        let current = self.selected_row().map(|r| r.contract_id().clone());
        match open {
            Some(id) if current.as_ref() == Some(&id) && self.popup.is_none() => {
                if self.payloads_to_fetch().is_some() {
                    // Read, but not with the digest surveyed: the participant changed it since.
                    self.flash(
                        Level::Warn,
                        "a holder's payload changed since the survey: compare again to see it",
                    );
                }
                self.show_diff()
            }
            _ => Vec::new(),
        }
    }

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
