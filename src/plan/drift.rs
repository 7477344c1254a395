//! Drift: which rows of a participant's holdings changed since the plan was made.
//!
//! Pure: the plan's expectation and a fresh snapshot in, the changed rows out. The plan keeps,
//! for every contract a participant held, a 64-bit tag of its payload digest: enough to name
//! each row whose payload changed, at 16 hex characters per row in the runbook, where a full
//! digest per row and participant would cost more than the ids themselves. Two different
//! payloads share a tag with probability 2^-64; the participant's full snapshot digest, kept
//! too, still tells that something changed in that case (see [`Drift::unnamed_payload_change`]).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::reconcile::{ContractId, Digest, ParticipantSnapshot};

use super::hash::snapshot_digest_sorted;
use super::model::ExpectedSnapshot;

/// The first 64 bits of a payload digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PayloadTag(pub u64);

impl From<&Digest> for PayloadTag {
    fn from(d: &Digest) -> Self {
        let mut first = [0u8; 8];
        first.copy_from_slice(&d[..8]);
        PayloadTag(u64::from_be_bytes(first))
    }
}

/// 16 lowercase hex digits: the first 8 bytes of the digest, as `sha256:` shows them.
impl fmt::Display for PayloadTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for PayloadTag {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 16 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(format!("{s:?} is not a payload tag (16 lowercase hex digits)"));
        }
        u64::from_str_radix(s, 16).map(PayloadTag).map_err(|e| e.to_string())
    }
}

impl Serialize for PayloadTag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One participant's view of one row on the lost synchronizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    /// Not active there: never seen, archived, moved away or purged.
    Absent,
    /// Active, with this payload (`None`: a plan from a version 1 runbook, which kept no
    /// per-row payloads).
    Active(Option<PayloadTag>),
}

impl Held {
    pub fn state(&self) -> &'static str {
        match self {
            Held::Absent => "absent",
            Held::Active(_) => "active",
        }
    }
    pub fn payload(&self) -> Option<PayloadTag> {
        match self {
            Held::Active(tag) => *tag,
            Held::Absent => None,
        }
    }
}

impl fmt::Display for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.payload() {
            Some(tag) => write!(f, "{} {tag}", self.state()),
            None => f.write_str(self.state()),
        }
    }
}

/// How a row changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DriftKind {
    /// Active now, not when the plan was made.
    Appeared,
    /// Active when the plan was made, not now.
    Disappeared,
    /// Active then and now, with another payload.
    PayloadChanged,
}

impl DriftKind {
    /// The snake_case name in JSON and in the drift table.
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::Appeared => "appeared",
            DriftKind::Disappeared => "disappeared",
            DriftKind::PayloadChanged => "payload_changed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriftRow {
    pub contract_id: ContractId,
    pub expected: Held,
    pub found: Held,
}

impl DriftRow {
    pub fn kind(&self) -> DriftKind {
        match (self.expected, self.found) {
            (Held::Absent, _) => DriftKind::Appeared,
            (_, Held::Absent) => DriftKind::Disappeared,
            _ => DriftKind::PayloadChanged,
        }
    }
}

impl Serialize for DriftRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("DriftRow", 6)?;
        st.serialize_field("contract_id", &*self.contract_id)?;
        st.serialize_field("change", self.kind().as_str())?;
        st.serialize_field("expected", self.expected.state())?;
        st.serialize_field("expected_payload", &self.expected.payload())?;
        st.serialize_field("found", self.found.state())?;
        st.serialize_field("found_payload", &self.found.payload())?;
        st.end()
    }
}

/// What changed in one participant's holdings, by row, sorted by contract id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drift {
    pub rows: Vec<DriftRow>,
    /// No row differs, yet the digest over all (id, payload digest) pairs does: a payload
    /// changed that the plan cannot name (a version 1 runbook, or a 2^-64 tag collision).
    pub unnamed_payload_change: bool,
}

impl Drift {
    pub fn is_none(&self) -> bool {
        self.rows.is_empty() && !self.unnamed_payload_change
    }
    pub fn count(&self, kind: DriftKind) -> usize {
        self.rows.iter().filter(|r| r.kind() == kind).count()
    }
}

impl ExpectedSnapshot {
    /// Compares a fresh snapshot of the participant with what the plan expects.
    pub fn check(&self, found: &ParticipantSnapshot) -> Drift {
        let mut now: Vec<(&str, &Digest)> = found
            .contracts
            .iter()
            .map(|c| (&*c.contract_id, &c.payload_digest))
            .collect();
        now.sort_unstable_by(|a, b| a.0.cmp(b.0));
        now.dedup_by(|a, b| a.0 == b.0);
        self.check_sorted(|| now.iter().copied())
    }

    /// [`ExpectedSnapshot::check`] over (id, payload digest) pairs sorted by id, without
    /// duplicates, that `now` yields afresh on each call (at most twice): a holding kept
    /// in any compact form is checked without first being copied into a list.
    pub fn check_sorted<'a, I>(&self, now: impl Fn() -> I) -> Drift
    where
        I: Iterator<Item = (&'a str, &'a Digest)>,
    {
        let tag = |k: usize| self.payloads.as_ref().and_then(|p| p.get(k)).copied();
        let mut rows = Vec::new();
        let mut i = 0;
        let mut here = now().peekable();
        while i < self.active.len() || here.peek().is_some() {
            let then = self.active.get(i).map(|id| &**id);
            match (then, here.peek().copied()) {
                (Some(t), Some((n, d))) if t == n => {
                    let was = tag(i);
                    let is = PayloadTag::from(d);
                    if was.is_some_and(|w| w != is) {
                        rows.push(DriftRow {
                            contract_id: self.active[i].clone(),
                            expected: Held::Active(was),
                            found: Held::Active(Some(is)),
                        });
                    }
                    i += 1;
                    here.next();
                }
                (Some(t), n) if n.is_none_or(|(n, _)| t < n) => {
                    rows.push(DriftRow {
                        contract_id: self.active[i].clone(),
                        expected: Held::Active(tag(i)),
                        found: Held::Absent,
                    });
                    i += 1;
                }
                (_, Some((n, d))) => {
                    rows.push(DriftRow {
                        contract_id: ContractId::from(n),
                        expected: Held::Absent,
                        found: Held::Active(Some(PayloadTag::from(d))),
                    });
                    here.next();
                }
                (_, None) => break,
            }
        }
        let unnamed_payload_change = rows.is_empty() && snapshot_digest_sorted(now()) != self.digest;
        Drift {
            rows,
            unnamed_payload_change,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::snapshot_digest;
    use crate::reconcile::{ContractSummary, Interner};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn snapshot(rows: &BTreeMap<String, u8>) -> ParticipantSnapshot {
        let mut i = Interner::new();
        let (t, s) = (i.name("M:T"), i.stakeholders(["A"]));
        ParticipantSnapshot {
            participant: "p".into(),
            hosted_parties: Default::default(),
            // Reversed: the check must not rely on the export's order.
            contracts: rows
                .iter()
                .rev()
                .map(|(id, p)| ContractSummary::new(id.as_str(), t.clone(), s.clone(), [*p; 32]))
                .collect(),
        }
    }

    fn expected(rows: &BTreeMap<String, u8>) -> ExpectedSnapshot {
        let s = snapshot(rows);
        ExpectedSnapshot {
            active: rows.keys().map(|k| ContractId::from(k.as_str())).collect(),
            payloads: Some(rows.values().map(|p| PayloadTag::from(&[*p; 32])).collect()),
            digest: snapshot_digest(&s.contracts),
        }
    }

    #[test]
    fn tags_are_the_digest_s_first_bytes_in_hex() {
        let mut d = [0u8; 32];
        d[..8].copy_from_slice(&[0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81]);
        let tag = PayloadTag::from(&d);
        assert_eq!(tag.to_string(), "1a2b3c4d5e6f7081");
        assert_eq!("1a2b3c4d5e6f7081".parse(), Ok(tag));
        for bad in ["1A2B3C4D5E6F7081", "1a2b", "1a2b3c4d5e6f70810", "+a2b3c4d5e6f7081", ""] {
            assert!(bad.parse::<PayloadTag>().is_err(), "{bad}");
        }
    }

    #[test]
    fn each_kind_of_change_is_named() {
        let then: BTreeMap<String, u8> = [("a", 1), ("b", 2), ("c", 3)].map(|(k, v)| (k.to_string(), v)).into();
        let e = expected(&then);
        assert!(e.check(&snapshot(&then)).is_none());
        let mut now = then.clone();
        now.remove("a");
        now.insert("b".into(), 9);
        now.insert("d".into(), 4);
        let drift = e.check(&snapshot(&now));
        let rows: Vec<(&str, String, String)> = drift
            .rows
            .iter()
            .map(|r| (&*r.contract_id, r.expected.to_string(), r.found.to_string()))
            .collect();
        let tag = |p: u8| PayloadTag::from(&[p; 32]).to_string();
        assert_eq!(
            rows,
            [
                ("a", format!("active {}", tag(1)), "absent".to_string()),
                ("b", format!("active {}", tag(2)), format!("active {}", tag(9))),
                ("d", "absent".to_string(), format!("active {}", tag(4))),
            ]
        );
        assert_eq!(drift.count(DriftKind::Appeared), 1);
        assert_eq!(drift.count(DriftKind::Disappeared), 1);
        assert_eq!(drift.count(DriftKind::PayloadChanged), 1);
        assert!(!drift.unnamed_payload_change);
        let json = serde_json::to_value(&drift.rows[1]).unwrap();
        assert_eq!(json["change"], "payload_changed");
        assert_eq!(json["expected_payload"], tag(2));
        assert_eq!(
            serde_json::to_value(&drift.rows[0]).unwrap()["found_payload"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn without_per_row_payloads_a_change_is_caught_but_unnamed() {
        let then: BTreeMap<String, u8> = [("a", 1), ("b", 2)].map(|(k, v)| (k.to_string(), v)).into();
        let e = ExpectedSnapshot {
            payloads: None,
            ..expected(&then)
        };
        assert!(e.check(&snapshot(&then)).is_none());
        let mut now = then.clone();
        now.insert("b".into(), 3);
        let drift = e.check(&snapshot(&now));
        assert!(drift.rows.is_empty() && drift.unnamed_payload_change && !drift.is_none());
        now.remove("a");
        let drift = e.check(&snapshot(&now));
        assert_eq!(drift.rows.len(), 1);
        assert_eq!(drift.rows[0].expected, Held::Active(None));
        assert_eq!(drift.rows[0].expected.to_string(), "active");
    }

    proptest! {
        /// Exactly the rows that differ between the two maps are listed, once each.
        #[test]
        fn drift_lists_exactly_the_changed_rows(
            then in proptest::collection::btree_map("[a-f]{1,3}", 0u8..4, 0..30),
            now in proptest::collection::btree_map("[a-f]{1,3}", 0u8..4, 0..30),
        ) {
            let drift = expected(&then).check(&snapshot(&now));
            let mut want = Vec::new();
            for id in then.keys().chain(now.keys()).collect::<std::collections::BTreeSet<_>>() {
                if then.get(id) != now.get(id) {
                    want.push(id.clone());
                }
            }
            let got: Vec<String> = drift.rows.iter().map(|r| r.contract_id.to_string()).collect();
            prop_assert_eq!(got, want);
            prop_assert!(!drift.unnamed_payload_change);
            prop_assert_eq!(drift.is_none(), then == now);
        }
    }
}
