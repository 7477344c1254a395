//! The `compare --format json` shape (DESIGN §4), streamed straight from the comparison so a
//! million rows never exist twice in memory. Keys come in alphabetical order, the order
//! the command printed them in when it went through a `serde_json::Value`, so scripts that
//! diff two outputs see no change.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, SerializeStruct, Serializer};

use super::comparison::{ClassCounts, Comparison, Row};

impl Serialize for Comparison {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        WithIncomplete::<()> {
            comparison: self,
            incomplete: None,
        }
        .serialize(s)
    }
}

/// The comparison with the contracts caught between synchronizers beside it
/// (`incomplete_reassignments`, only when there are some), as `compare` prints it.
pub struct WithIncomplete<'a, T: Serialize> {
    pub comparison: &'a Comparison,
    pub incomplete: Option<&'a T>,
}

impl<T: Serialize> Serialize for WithIncomplete<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.comparison;
        let mut out = s.serialize_struct("Comparison", 5)?;
        match self.incomplete {
            Some(i) => out.serialize_field("incomplete_reassignments", i)?,
            None => out.skip_field("incomplete_reassignments")?,
        }
        out.serialize_field("participants", &c.participants)?;
        out.serialize_field("rows", &Rows(c))?;
        out.serialize_field("summary", &c.counts)?;
        out.serialize_field("synchronizer", &c.synchronizer)?;
        out.end()
    }
}

struct Rows<'a>(&'a Comparison);

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.rows.len()))?;
        for row in &self.0.rows {
            seq.serialize_element(&RowJson {
                names: &self.0.participants,
                row,
            })?;
        }
        seq.end()
    }
}

struct RowJson<'a> {
    names: &'a [String],
    row: &'a Row,
}

impl Serialize for RowJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let stakeholders: Vec<&str> = self.row.stakeholders.iter().map(|p| &**p).collect();
        let mut out = s.serialize_struct("Row", 5)?;
        out.serialize_field("class", self.row.class.as_str())?;
        out.serialize_field("contract_id", &*self.row.contract_id)?;
        out.serialize_field("per_participant", &PerParticipant(self))?;
        out.serialize_field("stakeholders", &stakeholders)?;
        out.serialize_field("template_id", &*self.row.template_id)?;
        out.end()
    }
}

struct PerParticipant<'a>(&'a RowJson<'a>);

impl Serialize for PerParticipant<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.names.len()))?;
        for (name, state) in self.0.names.iter().zip(self.0.row.states.iter()) {
            map.serialize_entry(name, state.json_name())?;
        }
        map.end()
    }
}

/// Every class is listed, zeros included, so scripts can index the summary without checks.
impl Serialize for ClassCounts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut counts: Vec<(&str, usize)> = self.iter().map(|(c, n)| (c.as_str(), n)).collect();
        counts.sort_unstable();
        let mut map = s.serialize_map(Some(counts.len()))?;
        for (class, n) in counts {
            map.serialize_entry(class, &n)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use crate::reconcile::testkit::*;
    use crate::reconcile::*;
    use serde_json::json;

    #[test]
    fn compare_json_has_the_documented_shape() {
        let mut i = Interner::new();
        let mut snaps = vec![snapshot("p1", &["Alice"]), snapshot("p2", &["Bob"])];
        hold(&mut snaps, &mut i, &["p1", "p2"], "c1", &["Alice", "Bob"], 1);
        hold(&mut snaps, &mut i, &["p1"], "c2", &["Alice", "Bob"], 1);
        hold(&mut snaps, &mut i, &["p2"], "c3", &["Bob"], 1);
        let mut ins = Inspection::new();
        ins.record("p2", "c2", InspectionResult::Moved { to: "x".into() });
        let cmp = compare("lostDomain", &snaps, &ins).unwrap();
        let v = serde_json::to_value(&cmp).unwrap();
        assert_eq!(
            v,
            json!({
                "synchronizer": "lostDomain",
                "participants": ["p1", "p2"],
                "rows": [
                    {"contract_id": "c1", "template_id": "Iou:Iou", "stakeholders": ["Alice", "Bob"],
                     "class": "agreed", "per_participant": {"p1": "active", "p2": "active"}},
                    {"contract_id": "c2", "template_id": "Iou:Iou", "stakeholders": ["Alice", "Bob"],
                     "class": "archived_somewhere", "per_participant": {"p1": "active", "p2": "archived"}},
                    {"contract_id": "c3", "template_id": "Iou:Iou", "stakeholders": ["Bob"],
                     "class": "local_only", "per_participant": {"p1": "not_hosted", "p2": "active"}},
                ],
                "summary": {"agreed": 1, "missing": 0, "archived_somewhere": 1,
                            "payload_mismatch": 0, "local_only": 1}
            })
        );
    }

    #[test]
    fn differs_is_reported_for_the_minority_payload() {
        let mut i = Interner::new();
        let mut snaps = vec![snapshot("p1", &["A"]), snapshot("p2", &["B"]), snapshot("p3", &["C"])];
        hold(&mut snaps, &mut i, &["p1", "p3"], "c1", &["A", "B", "C"], 1);
        hold(&mut snaps, &mut i, &["p2"], "c1", &["A", "B", "C"], 2);
        let cmp = compare("lost", &snaps, &Inspection::new()).unwrap();
        let v = serde_json::to_value(&cmp).unwrap();
        assert_eq!(v["rows"][0]["per_participant"]["p2"], "differs");
        assert_eq!(v["rows"][0]["per_participant"]["p1"], "active");
        assert_eq!(v["rows"][0]["class"], "payload_mismatch");
    }

    /// `compare --format json` printed `serde_json::to_value(&comparison)` (keys sorted) with
    /// the incomplete reassignments inserted; the streamed output must be those same bytes.
    #[test]
    fn the_streamed_output_is_the_value_output_byte_for_byte() {
        let mut i = Interner::new();
        let mut snaps = vec![snapshot("p1", &["A"]), snapshot("p2", &["B"]), snapshot("p3", &["C"])];
        hold(&mut snaps, &mut i, &["p1", "p3"], "c1", &["A", "B", "C"], 1);
        hold(&mut snaps, &mut i, &["p2"], "c1", &["A", "B", "C"], 2);
        hold(&mut snaps, &mut i, &["p1"], "c2", &["A", "B"], 1);
        let cmp = compare("lost", &snaps, &Inspection::new()).unwrap();
        let before = |extra: Option<&serde_json::Value>| {
            let mut v = serde_json::to_value(&cmp).unwrap();
            if let (Some(e), Some(o)) = (extra, v.as_object_mut()) {
                o.insert("incomplete_reassignments".into(), e.clone());
            }
            serde_json::to_string_pretty(&v).unwrap()
        };
        let incomplete = json!({"p1": [{"contract_id": "c9", "kind": "unassigned", "source": "a", "target": "b"}]});
        for extra in [None, Some(&incomplete)] {
            let streamed = serde_json::to_string_pretty(&WithIncomplete {
                comparison: &cmp,
                incomplete: extra,
            })
            .unwrap();
            assert_eq!(streamed, before(extra));
        }
        assert_eq!(serde_json::to_string_pretty(&cmp).unwrap(), before(None));
    }
}
