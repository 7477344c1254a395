//! Contracts and their activeness per synchronizer, as Canton's contract store and
//! active contract store: the contract store is global, activeness is per
//! (contract, synchronizer), and every change is also logged with its ledger offset and
//! record time so the ACS can be read as of an earlier offset or time.

use super::{Result, StoreError};
use crate::lab::ids;
use crate::wire::lab::ContractBlob;
use prost::Message;
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Archived,
    /// Reassigned away to another synchronizer (Canton: "unassigned", 2.x "transferred away").
    Unassigned,
    Purged,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Archived => "archived",
            Status::Unassigned => "unassigned",
            Status::Purged => "purged",
        }
    }

    fn parse(s: &str) -> Result<Status> {
        match s {
            "active" => Ok(Status::Active),
            "archived" => Ok(Status::Archived),
            "unassigned" => Ok(Status::Unassigned),
            "purged" => Ok(Status::Purged),
            other => Err(StoreError::Corrupt(format!("activeness status {other:?}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activeness {
    pub status: Status,
    pub reassignment_counter: i64,
    pub target: Option<String>,
}

pub fn stakeholders(blob: &ContractBlob) -> Vec<String> {
    let mut all: Vec<String> = blob.signatories.iter().chain(&blob.observers).cloned().collect();
    all.sort();
    all.dedup();
    all
}

fn template_name(blob: &ContractBlob) -> String {
    blob.template_id
        .as_ref()
        .map(crate::value::qualified_name)
        .unwrap_or_default()
}

#[derive(Debug, PartialEq, Eq)]
pub enum ContractInsert {
    New,
    Same,
    /// The store already holds a different payload under this id.
    Conflict,
}

/// Stores the contract's payload unless the same payload is already stored.
pub fn upsert_contract(conn: &Connection, blob: &ContractBlob) -> Result<ContractInsert> {
    let digest = ids::payload_digest(blob);
    let existing: Option<String> = conn
        .prepare_cached("SELECT digest FROM contracts WHERE contract_id = ?1")?
        .query_row([&blob.contract_id], |r| r.get(0))
        .optional()?;
    match existing {
        Some(d) if d == digest => Ok(ContractInsert::Same),
        Some(_) => Ok(ContractInsert::Conflict),
        None => {
            let holders = serde_json::to_string(&stakeholders(blob)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            conn.prepare_cached(
                "INSERT INTO contracts (contract_id, blob, template, stakeholders, digest) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                blob.contract_id,
                blob.encode_to_vec(),
                template_name(blob),
                holders,
                digest
            ])?;
            Ok(ContractInsert::New)
        }
    }
}

pub fn contract(conn: &Connection, contract_id: &str) -> Result<Option<ContractBlob>> {
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT blob FROM contracts WHERE contract_id = ?1")?
        .query_row([contract_id], |r| r.get(0))
        .optional()?;
    bytes.map(|b| decode_blob(&b, contract_id)).transpose()
}

pub fn decode_blob(bytes: &[u8], contract_id: &str) -> Result<ContractBlob> {
    ContractBlob::decode(bytes).map_err(|e| StoreError::Corrupt(format!("contract {contract_id}: {e}")))
}

pub fn contract_stakeholders(conn: &Connection, contract_id: &str) -> Result<Option<Vec<String>>> {
    let json: Option<String> = conn
        .prepare_cached("SELECT stakeholders FROM contracts WHERE contract_id = ?1")?
        .query_row([contract_id], |r| r.get(0))
        .optional()?;
    json.map(|j| {
        serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(format!("stakeholders of {contract_id}: {e}")))
    })
    .transpose()
}

pub fn contract_digest(conn: &Connection, contract_id: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT digest FROM contracts WHERE contract_id = ?1")?
        .query_row([contract_id], |r| r.get(0))
        .optional()?)
}

pub fn activeness(conn: &Connection, contract_id: &str, synchronizer_id: &str) -> Result<Option<Activeness>> {
    let row: Option<(String, i64, Option<String>)> = conn
        .prepare_cached(
            "SELECT status, reassignment_counter, target_synchronizer_id FROM activeness WHERE contract_id = ?1 AND synchronizer_id = ?2",
        )?
        .query_row([contract_id, synchronizer_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    row.map(|(s, c, t)| {
        Ok(Activeness {
            status: Status::parse(&s)?,
            reassignment_counter: c,
            target: t,
        })
    })
    .transpose()
}

/// Every synchronizer the contract has a state on.
pub fn all_states(conn: &Connection, contract_id: &str) -> Result<Vec<(String, Activeness)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT synchronizer_id, status, reassignment_counter, target_synchronizer_id FROM activeness WHERE contract_id = ?1 ORDER BY synchronizer_id",
    )?;
    let rows = stmt.query_map([contract_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (sync, s, c, t) = row?;
        out.push((
            sync,
            Activeness {
                status: Status::parse(&s)?,
                reassignment_counter: c,
                target: t,
            },
        ));
    }
    Ok(out)
}

/// Records a state change (inside the caller's transaction).
pub fn set_state(
    conn: &Connection,
    contract_id: &str,
    synchronizer_id: &str,
    state: &Activeness,
    offset: i64,
    record_time: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO activeness (contract_id, synchronizer_id, status, reassignment_counter, target_synchronizer_id, changed_offset)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(contract_id, synchronizer_id) DO UPDATE SET status = excluded.status,
           reassignment_counter = excluded.reassignment_counter,
           target_synchronizer_id = excluded.target_synchronizer_id, changed_offset = excluded.changed_offset",
    )?
    .execute(params![
        contract_id,
        synchronizer_id,
        state.status.as_str(),
        state.reassignment_counter,
        state.target,
        offset
    ])?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO acs_log (ledger_offset, contract_id, synchronizer_id, status, reassignment_counter, record_time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        offset,
        contract_id,
        synchronizer_id,
        state.status.as_str(),
        state.reassignment_counter,
        record_time
    ])?;
    Ok(())
}

/// One active contract as of some offset.
pub struct ActiveEntry {
    pub blob: ContractBlob,
    pub synchronizer_id: String,
    pub reassignment_counter: i64,
}

/// Visits the active contracts as of `offset` (the ledger end reads the current state; an
/// earlier offset replays the log), optionally only those on one synchronizer, in
/// contract id order.
pub fn for_each_active(
    conn: &Connection,
    offset: i64,
    synchronizer_id: Option<&str>,
    mut visit: impl FnMut(ActiveEntry) -> Result<bool>,
) -> Result<()> {
    let at_end = offset >= super::ledger_end(conn)?;
    let sql = if at_end {
        "SELECT c.contract_id, c.blob, a.synchronizer_id, a.reassignment_counter
           FROM activeness a JOIN contracts c ON c.contract_id = a.contract_id
          WHERE a.status = 'active' AND (?1 IS NULL OR a.synchronizer_id = ?1)
          ORDER BY c.contract_id, a.synchronizer_id"
    } else {
        "SELECT c.contract_id, c.blob, l.synchronizer_id, l.reassignment_counter
           FROM acs_log l JOIN contracts c ON c.contract_id = l.contract_id
          WHERE (?1 IS NULL OR l.synchronizer_id = ?1)
            AND l.ledger_offset = (SELECT MAX(x.ledger_offset) FROM acs_log x
                                    WHERE x.contract_id = l.contract_id AND x.synchronizer_id = l.synchronizer_id
                                      AND x.ledger_offset <= ?2)
            AND l.status = 'active'
          ORDER BY c.contract_id, l.synchronizer_id"
    };
    let mut stmt = conn.prepare(sql)?;
    let mut rows = if at_end {
        stmt.query(params![synchronizer_id])?
    } else {
        stmt.query(params![synchronizer_id, offset])?
    };
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let bytes: Vec<u8> = r.get(1)?;
        let entry = ActiveEntry {
            blob: decode_blob(&bytes, &id)?,
            synchronizer_id: r.get(2)?,
            reassignment_counter: r.get(3)?,
        };
        if !visit(entry)? {
            break;
        }
    }
    Ok(())
}

/// The contract's state on every synchronizer as of `record_time` (micros).
pub fn states_at_time(conn: &Connection, contract_id: &str, record_time: i64) -> Result<Vec<(String, Activeness)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.synchronizer_id, l.status, l.reassignment_counter, a.target_synchronizer_id
           FROM acs_log l LEFT JOIN activeness a ON a.contract_id = l.contract_id AND a.synchronizer_id = l.synchronizer_id
          WHERE l.contract_id = ?1
            AND l.ledger_offset = (SELECT MAX(x.ledger_offset) FROM acs_log x
                                    WHERE x.contract_id = l.contract_id AND x.synchronizer_id = l.synchronizer_id
                                      AND x.record_time <= ?2)
          ORDER BY l.synchronizer_id",
    )?;
    let rows = stmt.query_map(params![contract_id, record_time], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (sync, s, c, t) = row?;
        let status = Status::parse(&s)?;
        out.push((
            sync,
            Activeness {
                status,
                reassignment_counter: c,
                target: if status == Status::Unassigned { t } else { None },
            },
        ));
    }
    Ok(out)
}

/// Active contract ids on a synchronizer (for tests and drills).
pub fn active_ids(conn: &Connection, synchronizer_id: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT contract_id FROM activeness WHERE synchronizer_id = ?1 AND status = 'active' ORDER BY contract_id",
    )?;
    let rows = stmt.query_map([synchronizer_id], |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}
