//! The aligned view: one row per contract id, one state per participant.

use std::fmt;
use std::str::FromStr;

use super::model::{ContractId, Digest, Name, Stakeholders};

/// How the participants' views of one contract relate.
///
/// Precedence when several classes describe a row (first match wins):
/// 1. `local_only`: exactly one participant is relevant, so nobody can disagree.
/// 2. `archived_somewhere`: a relevant participant saw it archived or moved away. Importing
///    it there is impossible and moving it elsewhere would resurrect a consumed contract.
/// 3. `payload_mismatch`: holders disagree on the payload.
/// 4. `missing`: a relevant participant never saw it; ImportAcs can fix that.
/// 5. `agreed`.
///
/// The "majority" payload is the one held by the most participants; on a tie, the version
/// of the participant whose name sorts first. The others are [`ParticipantState::Differs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowClass {
    Agreed,
    Missing,
    ArchivedSomewhere,
    PayloadMismatch,
    LocalOnly,
}

impl RowClass {
    pub const ALL: [RowClass; 5] = [
        RowClass::Agreed,
        RowClass::Missing,
        RowClass::ArchivedSomewhere,
        RowClass::PayloadMismatch,
        RowClass::LocalOnly,
    ];

    /// The snake_case name used in JSON, runbooks and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            RowClass::Agreed => "agreed",
            RowClass::Missing => "missing",
            RowClass::ArchivedSomewhere => "archived_somewhere",
            RowClass::PayloadMismatch => "payload_mismatch",
            RowClass::LocalOnly => "local_only",
        }
    }

    /// Whether the union and manual strategies need an operator decision for this class.
    pub fn needs_decision(self) -> bool {
        matches!(self, RowClass::ArchivedSomewhere | RowClass::PayloadMismatch)
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for RowClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown row class {0:?}; expected agreed, missing, archived_somewhere, payload_mismatch or local_only")]
pub struct UnknownRowClass(pub String);

impl FromStr for RowClass {
    type Err = UnknownRowClass;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RowClass::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownRowClass(s.to_owned()))
    }
}

/// What one participant knows about one contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParticipantState {
    /// None of the contract's stakeholders is hosted here and the participant does not hold it.
    NotHosted,
    /// Held, with the majority payload.
    Active {
        digest: Digest,
    },
    /// Held, but with a payload that differs from the majority.
    Differs {
        digest: Digest,
    },
    Archived,
    Unknown,
    /// Unassigned to another synchronizer before the loss.
    Moved {
        to: Name,
    },
}

impl ParticipantState {
    /// Active on the lost synchronizer (whatever the payload).
    pub fn is_held(&self) -> bool {
        matches!(self, Self::Active { .. } | Self::Differs { .. })
    }

    pub fn is_relevant(&self) -> bool {
        !matches!(self, Self::NotHosted)
    }

    pub fn digest(&self) -> Option<&Digest> {
        match self {
            Self::Active { digest } | Self::Differs { digest } => Some(digest),
            _ => None,
        }
    }

    /// The one-character marker the command line and the screen show for this state,
    /// readable without colour.
    pub fn marker(&self) -> &'static str {
        match self {
            Self::Active { .. } => "✓",
            Self::Differs { .. } => "~",
            Self::Archived | Self::Moved { .. } => "×",
            Self::Unknown => "+",
            Self::NotHosted => "·",
        }
    }

    /// The `compare` JSON vocabulary. It has no word for a move, and for the purpose of that
    /// output a contract unassigned elsewhere is gone from the lost synchronizer like an archived one.
    pub fn json_name(&self) -> &'static str {
        match self {
            Self::NotHosted => "not_hosted",
            Self::Active { .. } => "active",
            Self::Differs { .. } => "differs",
            Self::Archived | Self::Moved { .. } => "archived",
            Self::Unknown => "unknown",
        }
    }
}

/// One contract across all participants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub(super) contract_id: ContractId,
    pub(super) template_id: Name,
    pub(super) stakeholders: Stakeholders,
    pub(super) class: RowClass,
    /// Indexed like [`Comparison::participants`].
    pub(super) states: Box<[ParticipantState]>,
}

impl Row {
    pub fn contract_id(&self) -> &ContractId {
        &self.contract_id
    }
    pub fn template_id(&self) -> &str {
        &self.template_id
    }
    pub fn stakeholders(&self) -> &[Name] {
        &self.stakeholders
    }
    pub fn class(&self) -> RowClass {
        self.class
    }
    pub fn states(&self) -> &[ParticipantState] {
        &self.states
    }
    pub fn state(&self, participant_index: usize) -> Option<&ParticipantState> {
        self.states.get(participant_index)
    }
    /// Indices of the participants this contract matters to.
    pub fn relevant(&self) -> impl Iterator<Item = usize> + '_ {
        self.states
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_relevant())
            .map(|(i, _)| i)
    }
}

/// Rows per class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClassCounts([usize; 5]);

impl ClassCounts {
    pub fn get(&self, class: RowClass) -> usize {
        self.0[class.index()]
    }
    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }
    pub fn iter(&self) -> impl Iterator<Item = (RowClass, usize)> + '_ {
        RowClass::ALL.into_iter().map(|c| (c, self.get(c)))
    }
    pub(super) fn add(&mut self, class: RowClass) {
        self.0[class.index()] += 1;
    }
}

/// What the TUI list and `compare --template` show: a class and/or a free-text prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowFilter {
    pub class: Option<RowClass>,
    /// Matches, ignoring ASCII case, the start of the contract id, the template id or any
    /// stakeholder. Empty matches everything.
    pub text: String,
}

impl RowFilter {
    pub fn class(class: RowClass) -> Self {
        Self {
            class: Some(class),
            text: String::new(),
        }
    }

    pub fn text(text: impl Into<String>) -> Self {
        Self {
            class: None,
            text: text.into(),
        }
    }

    pub fn matches(&self, row: &Row) -> bool {
        if self.class.is_some_and(|c| c != row.class) {
            return false;
        }
        let t = self.text.trim();
        t.is_empty()
            || starts_with_ignore_case(&row.contract_id, t)
            || starts_with_ignore_case(&row.template_id, t)
            || row.stakeholders.iter().any(|p| starts_with_ignore_case(p, t))
    }
}

fn starts_with_ignore_case(haystack: &str, prefix: &str) -> bool {
    haystack
        .as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// The aligned comparison of every participant's view of the lost synchronizer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    pub(super) synchronizer: String,
    /// Sorted by name, so the result does not depend on the order snapshots arrive in.
    pub(super) participants: Vec<String>,
    /// Sorted by contract id.
    pub(super) rows: Vec<Row>,
    pub(super) counts: ClassCounts,
}

impl Comparison {
    /// Per participant, how many contracts it holds active (the rows it has a payload in).
    pub fn held_counts(&self) -> impl Iterator<Item = (String, usize)> + '_ {
        self.participants.iter().enumerate().map(|(i, name)| {
            let held = self
                .rows
                .iter()
                .filter(|r| r.states.get(i).is_some_and(ParticipantState::is_held))
                .count();
            (name.clone(), held)
        })
    }

    pub fn synchronizer(&self) -> &str {
        &self.synchronizer
    }
    pub fn participants(&self) -> &[String] {
        &self.participants
    }
    pub fn participant_index(&self, name: &str) -> Option<usize> {
        self.participants.binary_search_by(|p| p.as_str().cmp(name)).ok()
    }
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    pub fn counts(&self) -> ClassCounts {
        self.counts
    }

    /// Position of a contract id in [`Self::rows`].
    pub fn position(&self, contract_id: &str) -> Option<usize> {
        self.rows.binary_search_by(|r| (*r.contract_id).cmp(contract_id)).ok()
    }

    pub fn row(&self, contract_id: &str) -> Option<&Row> {
        self.position(contract_id).map(|i| &self.rows[i])
    }

    /// Rows that pass the filter, with their positions (the TUI keeps positions, not copies).
    pub fn filtered<'a>(&'a self, filter: &'a RowFilter) -> impl Iterator<Item = (usize, &'a Row)> + 'a {
        self.rows.iter().enumerate().filter(move |(_, r)| filter.matches(r))
    }

    pub fn of_class(&self, class: RowClass) -> impl Iterator<Item = &Row> + '_ {
        self.rows.iter().filter(move |r| r.class == class)
    }

    /// Counts of the rows that pass the filter.
    pub fn filtered_counts(&self, filter: &RowFilter) -> ClassCounts {
        let mut counts = ClassCounts::default();
        for (_, r) in self.filtered(filter) {
            counts.add(r.class);
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::testkit::*;
    use crate::reconcile::{Inspection, Interner, compare};

    fn sample() -> Comparison {
        let mut i = Interner::new();
        let mut snaps = vec![snapshot("p1", &["Alice::1220"]), snapshot("p2", &["Bob::1220"])];
        let both = ["Alice::1220", "Bob::1220"];
        hold(&mut snaps, &mut i, &["p1", "p2"], "00aa", &both, 1);
        hold(&mut snaps, &mut i, &["p1"], "00ab", &both, 1);
        hold(&mut snaps, &mut i, &["p2"], "01cc", &["Bob::1220"], 1);
        compare("lost", &snaps, &Inspection::new()).unwrap()
    }

    #[test]
    fn lookup_by_id_and_participant() {
        let cmp = sample();
        assert_eq!(cmp.position("00ab"), Some(1));
        assert!(cmp.row("zz").is_none());
        assert_eq!(cmp.participant_index("p2"), Some(1));
        assert_eq!(cmp.participant_index("p9"), None);
        assert_eq!(cmp.row("01cc").unwrap().relevant().collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn counts_per_class() {
        let c = sample().counts();
        assert_eq!(c.get(RowClass::Agreed), 1);
        assert_eq!(c.get(RowClass::Missing), 1);
        assert_eq!(c.get(RowClass::LocalOnly), 1);
        assert_eq!(c.total(), 3);
    }

    #[test]
    fn text_filter_matches_id_template_or_party_prefix() {
        let cmp = sample();
        let ids =
            |f: RowFilter| -> Vec<String> { cmp.filtered(&f).map(|(_, r)| r.contract_id().to_string()).collect() };
        assert_eq!(ids(RowFilter::text("00a")), ["00aa", "00ab"]);
        assert_eq!(ids(RowFilter::text("iou:")).len(), 3);
        assert_eq!(ids(RowFilter::text("alice")), ["00aa", "00ab"]);
        assert_eq!(ids(RowFilter::text("Carol")), Vec::<String>::new());
        assert_eq!(ids(RowFilter::text("")).len(), 3);
        assert_eq!(ids(RowFilter::class(RowClass::Missing)), ["00ab"]);
        let both = RowFilter {
            class: Some(RowClass::Agreed),
            text: "bob".into(),
        };
        assert_eq!(ids(both), ["00aa"]);
        assert_eq!(cmp.filtered_counts(&RowFilter::text("01")).total(), 1);
        assert_eq!(cmp.of_class(RowClass::LocalOnly).count(), 1);
    }

    #[test]
    fn class_names_round_trip() {
        for c in RowClass::ALL {
            assert_eq!(c.as_str().parse::<RowClass>(), Ok(c));
        }
        assert!("agreeed".parse::<RowClass>().is_err());
    }
}
