//! Contracts and their activeness per synchronizer, as Canton's contract store and
//! active contract store: the contract store is global, activeness is per
//! (contract, synchronizer), and every change is also logged — with its kind, ledger
//! offset and record time — so the ACS can be read as of an earlier offset and the whole
//! history of a contract on each synchronizer can be reported, as Canton's
//! `ActiveContractStore` keeps it (`ActivenessChangeDetail`: create, add, archive, purge,
//! assign, unassign).

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

/// One change of a contract's activeness on one synchronizer: Canton's
/// `ActivenessChangeDetail` (participant/store/ActiveContractStore.scala). `Add` is a
/// repair import and `Purge` a repair purge; they differ from `Create` and `Archive` in
/// what InspectCommitmentContracts reports as "active on the expected synchronizer".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Create,
    Add,
    Archive,
    Purge,
    /// Assigned here, from `source`.
    Assign {
        source: String,
    },
    /// Unassigned from here, to `target`.
    Unassign {
        target: String,
    },
}

impl Change {
    pub fn name(&self) -> &'static str {
        match self {
            Change::Create => "create",
            Change::Add => "add",
            Change::Archive => "archive",
            Change::Purge => "purge",
            Change::Assign { .. } => "assign",
            Change::Unassign { .. } => "unassign",
        }
    }

    pub fn status(&self) -> Status {
        match self {
            Change::Create | Change::Add | Change::Assign { .. } => Status::Active,
            Change::Archive => Status::Archived,
            Change::Purge => Status::Purged,
            Change::Unassign { .. } => Status::Unassigned,
        }
    }

    fn remote(&self) -> Option<&str> {
        match self {
            Change::Assign { source } => Some(source),
            Change::Unassign { target } => Some(target),
            _ => None,
        }
    }

    fn parse(name: &str, remote: Option<String>) -> Result<Change> {
        let remote = || remote.clone().unwrap_or_default();
        Ok(match name {
            "create" => Change::Create,
            "add" => Change::Add,
            "archive" => Change::Archive,
            "purge" => Change::Purge,
            "assign" => Change::Assign { source: remote() },
            "unassign" => Change::Unassign { target: remote() },
            other => return Err(StoreError::Corrupt(format!("activeness change {other:?}"))),
        })
    }
}

/// A logged change, as the history of a contract on a synchronizer reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub change: Change,
    pub reassignment_counter: i64,
    pub record_time: i64,
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
    contract_stakeholders_json(conn, contract_id)?
        .map(|j| parse_stakeholders(contract_id, &j))
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

/// The contract's state on two synchronizers, read together: one index descent finds
/// both, as (contract, synchronizer) is the key.
pub fn activeness_on_both(
    conn: &Connection,
    contract_id: &str,
    first: &str,
    second: &str,
) -> Result<(Option<Activeness>, Option<Activeness>)> {
    let mut stmt = conn.prepare_cached(
        "SELECT synchronizer_id, status, reassignment_counter, target_synchronizer_id FROM activeness
          WHERE contract_id = ?1 AND synchronizer_id IN (?2, ?3)",
    )?;
    let mut rows = stmt.query([contract_id, first, second])?;
    let mut out = (None, None);
    while let Some(r) = rows.next()? {
        let sync: String = r.get(0)?;
        let state = Activeness {
            status: Status::parse(&r.get::<_, String>(1)?)?,
            reassignment_counter: r.get(2)?,
            target: r.get(3)?,
        };
        if sync == first {
            out.0 = Some(state);
        } else {
            out.1 = Some(state);
        }
    }
    Ok(out)
}

/// The stakeholders of a stored contract as stored (a JSON array), for callers that check
/// many contracts against the same few sets of parties.
pub fn contract_stakeholders_json(conn: &Connection, contract_id: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT stakeholders FROM contracts WHERE contract_id = ?1")?
        .query_row([contract_id], |r| r.get(0))
        .optional()?)
}

pub fn parse_stakeholders(contract_id: &str, json: &str) -> Result<Vec<String>> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("stakeholders of {contract_id}: {e}")))
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

/// Records a change of the contract's activeness on a synchronizer (inside the caller's
/// transaction): the current state and the history.
pub fn set_state(
    conn: &Connection,
    contract_id: &str,
    synchronizer_id: &str,
    change: &Change,
    reassignment_counter: i64,
    offset: i64,
    record_time: i64,
) -> Result<()> {
    let status = change.status();
    let target = match change {
        Change::Unassign { target } => Some(target.as_str()),
        _ => None,
    };
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
        status.as_str(),
        reassignment_counter,
        target,
        offset
    ])?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO acs_log (ledger_offset, contract_id, synchronizer_id, status, reassignment_counter, record_time, change, remote_synchronizer_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        offset,
        contract_id,
        synchronizer_id,
        status.as_str(),
        reassignment_counter,
        record_time,
        change.name(),
        change.remote()
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

/// Every logged change of the contract, per synchronizer (unpruned: the lab never prunes),
/// in log order.
pub fn history(conn: &Connection, contract_id: &str) -> Result<Vec<(String, Logged)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT synchronizer_id, change, remote_synchronizer_id, reassignment_counter, record_time
           FROM acs_log WHERE contract_id = ?1 ORDER BY synchronizer_id, ledger_offset",
    )?;
    let rows = stmt.query_map([contract_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (sync, change, remote, counter, record_time) = row?;
        out.push((
            sync,
            Logged {
                change: Change::parse(&change, remote)?,
                reassignment_counter: counter,
                record_time,
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
