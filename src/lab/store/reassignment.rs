//! Reassignments as a participant's reassignment store keeps them: an unassignment
//! processed here, an assignment processed here, or both. One that has only one of the
//! two as of a ledger offset is *incomplete* there, and the Ledger API's active contract
//! stream reports it as `incomplete_unassigned` or `incomplete_assigned`
//! (participant/store/ReassignmentStore.scala, findIncomplete; an assignment can be
//! processed before its unassignment, `addAssignmentDataIfAbsent`;
//! platform/store/dao/events/ACSReader.scala in ledger-api-core, release-line-3.5).

use super::Result;
use rusqlite::{Connection, OptionalExtension, params};

/// One reassignment of one contract, as far as this participant has seen it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassignment {
    pub reassignment_id: String,
    pub contract_id: String,
    /// Logical synchronizer ids.
    pub source: String,
    pub target: String,
    /// The contract's counter after the reassignment.
    pub reassignment_counter: i64,
    pub submitter: String,
    pub unassigned_offset: Option<i64>,
    pub assigned_offset: Option<i64>,
}

/// Which half of a reassignment a participant has seen as of an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    /// The unassignment, not the assignment.
    Unassigned,
    /// The assignment, not the unassignment.
    Assigned,
}

impl Reassignment {
    /// The half seen as of `offset`, when only one is.
    pub fn incomplete_at(&self, offset: i64) -> Option<Half> {
        let seen = |o: Option<i64>| o.is_some_and(|o| o <= offset);
        match (seen(self.unassigned_offset), seen(self.assigned_offset)) {
            (true, false) => Some(Half::Unassigned),
            (false, true) => Some(Half::Assigned),
            _ => None,
        }
    }
}

/// Records that the participant processed one half of `r` at `offset` (inside the
/// caller's transaction).
pub fn record(conn: &Connection, r: &Reassignment, half: Half, offset: i64) -> Result<()> {
    let (unassigned, assigned) = match half {
        Half::Unassigned => (Some(offset), None),
        Half::Assigned => (None, Some(offset)),
    };
    conn.prepare_cached(
        "INSERT INTO reassignments (reassignment_id, contract_id, source, target, reassignment_counter, submitter, unassigned_offset, assigned_offset)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(reassignment_id) DO UPDATE SET
           unassigned_offset = COALESCE(reassignments.unassigned_offset, excluded.unassigned_offset),
           assigned_offset = COALESCE(reassignments.assigned_offset, excluded.assigned_offset)",
    )?
    .execute(params![
        r.reassignment_id,
        r.contract_id,
        r.source,
        r.target,
        r.reassignment_counter,
        r.submitter,
        unassigned,
        assigned
    ])?;
    Ok(())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Reassignment> {
    Ok(Reassignment {
        reassignment_id: r.get(0)?,
        contract_id: r.get(1)?,
        source: r.get(2)?,
        target: r.get(3)?,
        reassignment_counter: r.get(4)?,
        submitter: r.get(5)?,
        unassigned_offset: r.get(6)?,
        assigned_offset: r.get(7)?,
    })
}

const COLUMNS: &str =
    "reassignment_id, contract_id, source, target, reassignment_counter, submitter, unassigned_offset, assigned_offset";

pub fn find(conn: &Connection, reassignment_id: &str) -> Result<Option<Reassignment>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM reassignments WHERE reassignment_id = ?1"
        ))?
        .query_row([reassignment_id], row)
        .optional()?)
}

/// The reassignments incomplete as of `offset`, in the order they became so.
pub fn incomplete_at(conn: &Connection, offset: i64) -> Result<Vec<(Reassignment, Half)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM reassignments
          WHERE (unassigned_offset IS NULL OR assigned_offset IS NULL OR unassigned_offset > ?1 OR assigned_offset > ?1)
          ORDER BY MIN(COALESCE(unassigned_offset, assigned_offset), COALESCE(assigned_offset, unassigned_offset)), reassignment_id"
    ))?;
    let rows = stmt.query_map([offset], row)?;
    let mut out = Vec::new();
    for r in rows {
        let r = r?;
        if let Some(half) = r.incomplete_at(offset) {
            out.push((r, half));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::store::Store;

    fn reassignment(id: &str) -> Reassignment {
        Reassignment {
            reassignment_id: id.into(),
            contract_id: format!("00{id}"),
            source: "lost::1220".into(),
            target: "new::1220".into(),
            reassignment_counter: 1,
            submitter: "Alice::1220".into(),
            unassigned_offset: None,
            assigned_offset: None,
        }
    }

    #[test]
    fn a_reassignment_is_incomplete_while_one_half_is_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("p.db")).expect("store");
        let conn = store.conn();
        // Unassigned at 3, assigned at 7: incomplete in between.
        record(conn, &reassignment("a"), Half::Unassigned, 3).expect("unassign");
        record(conn, &reassignment("a"), Half::Assigned, 7).expect("assign");
        // Assigned here before its unassignment was seen (assignment first).
        record(conn, &reassignment("b"), Half::Assigned, 5).expect("assign first");
        // Unassigned and never assigned.
        record(conn, &reassignment("c"), Half::Unassigned, 6).expect("unassign");
        let at = |o: i64| -> Vec<(String, Half)> {
            incomplete_at(conn, o)
                .expect("read")
                .into_iter()
                .map(|(r, h)| (r.reassignment_id, h))
                .collect()
        };
        assert_eq!(at(2), vec![]);
        assert_eq!(at(3), vec![("a".into(), Half::Unassigned)]);
        assert_eq!(
            at(6),
            vec![
                ("a".into(), Half::Unassigned),
                ("b".into(), Half::Assigned),
                ("c".into(), Half::Unassigned)
            ]
        );
        assert_eq!(
            at(9),
            vec![("b".into(), Half::Assigned), ("c".into(), Half::Unassigned)]
        );
        // Recording a half again keeps the first offset.
        record(conn, &reassignment("c"), Half::Unassigned, 8).expect("again");
        assert_eq!(
            find(conn, "c").expect("find").and_then(|r| r.unassigned_offset),
            Some(6)
        );
    }
}
