//! Requests this participant has seen but whose verdict has not arrived, and its own
//! submissions awaiting completion: Canton's "in-flight" state, persisted so that it
//! survives restarts (a request on a lost synchronizer stays in flight forever), as
//! CountInFlight reports it (participant/admin/inspection/SyncStateInspection.scala,
//! countInFlight; participant/store/InFlightSubmissionStore.scala).

use super::{Result, Store, StoreError};
use crate::wire::lab::ConfirmationRequest;
use prost::Message;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
pub struct PendingRequest {
    pub request: ConfirmationRequest,
    pub synchronizer_id: String,
    pub approved: bool,
}

pub fn insert_request(
    conn: &Connection,
    synchronizer_id: &str,
    request: &ConfirmationRequest,
    locked: &[String],
    approved: bool,
) -> Result<()> {
    let locked = serde_json::to_string(locked).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    conn.execute(
        "INSERT OR REPLACE INTO pending_requests (request_id, synchronizer_id, request, locked, approved) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![request.request_id, synchronizer_id, request.encode_to_vec(), locked, approved],
    )?;
    Ok(())
}

pub fn take_request(conn: &Connection, request_id: &str) -> Result<Option<PendingRequest>> {
    let row: Option<(String, Vec<u8>, bool)> = conn
        .query_row(
            "SELECT synchronizer_id, request, approved FROM pending_requests WHERE request_id = ?1",
            [request_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((synchronizer_id, bytes, approved)) = row else {
        return Ok(None);
    };
    conn.execute("DELETE FROM pending_requests WHERE request_id = ?1", [request_id])?;
    let request = ConfirmationRequest::decode(bytes.as_slice())
        .map_err(|e| StoreError::Corrupt(format!("pending request {request_id}: {e}")))?;
    Ok(Some(PendingRequest {
        request,
        synchronizer_id,
        approved,
    }))
}

/// Contracts consumed by requests still awaiting their verdict.
pub fn locked_contracts(conn: &Connection) -> Result<BTreeSet<String>> {
    let mut stmt = conn.prepare_cached("SELECT locked FROM pending_requests")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = BTreeSet::new();
    for row in rows {
        let ids: Vec<String> = serde_json::from_str(&row?).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        out.extend(ids);
    }
    Ok(out)
}

pub fn remove_submission(conn: &Connection, submission_id: &str) -> Result<bool> {
    Ok(conn.execute(
        "DELETE FROM pending_submissions WHERE submission_id = ?1",
        [submission_id],
    )? == 1)
}

impl Store {
    pub fn add_submission(&self, submission_id: &str, synchronizer_id: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO pending_submissions (submission_id, synchronizer_id) VALUES (?1, ?2)",
            params![submission_id, synchronizer_id],
        )?;
        Ok(())
    }

    pub fn drop_submission(&self, submission_id: &str) -> Result<()> {
        remove_submission(&self.conn, submission_id)?;
        Ok(())
    }

    /// (pending submissions, pending transactions) on a logical synchronizer id.
    pub fn in_flight(&self, logical_id: &str) -> Result<(u32, u32)> {
        let count = |table: &str| -> Result<u32> {
            let n: i64 = self.conn.query_row(
                &format!("SELECT COUNT(*) FROM {table} WHERE synchronizer_id = ?1"),
                [logical_id],
                |r| r.get(0),
            )?;
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        };
        Ok((count("pending_submissions")?, count("pending_requests")?))
    }

    /// Requests on a synchronizer that we approved and whose verdict is outstanding;
    /// after a reconnect their confirmations are sent again.
    pub fn pending_on(&self, synchronizer_id: &str) -> Result<Vec<PendingRequest>> {
        let mut stmt = self
            .conn
            .prepare("SELECT request_id, request, approved FROM pending_requests WHERE synchronizer_id = ?1")?;
        let rows = stmt.query_map([synchronizer_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, bool>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, bytes, approved) = row?;
            let request = ConfirmationRequest::decode(bytes.as_slice())
                .map_err(|e| StoreError::Corrupt(format!("pending request {id}: {e}")))?;
            out.push(PendingRequest {
                request,
                synchronizer_id: synchronizer_id.to_string(),
                approved,
            });
        }
        Ok(out)
    }
}
