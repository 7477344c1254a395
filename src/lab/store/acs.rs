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

/// Stores the contract's payload unless the same payload is already stored. A new
/// contract costs one insert: the id is looked up only when it is already taken.
pub fn upsert_contract(conn: &Connection, blob: &ContractBlob) -> Result<ContractInsert> {
    let digest = ids::payload_digest(blob);
    let holders = serde_json::to_string(&stakeholders(blob)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let inserted = conn
        .prepare_cached(
            "INSERT INTO contracts (contract_id, blob, template, stakeholders, digest) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(contract_id) DO NOTHING",
        )?
        .execute(params![
            blob.contract_id,
            blob.encode_to_vec(),
            template_name(blob),
            holders,
            digest
        ])?;
    if inserted == 1 {
        return Ok(ContractInsert::New);
    }
    match contract_digest(conn, &blob.contract_id)? {
        Some(d) if d == digest => Ok(ContractInsert::Same),
        _ => Ok(ContractInsert::Conflict),
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

/// The store's integer key of a contract (its row in the contract store), which every
/// state and log row refers to instead of the 134-character id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractKey(i64);

/// The store's integer key of a synchronizer id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncKey(i64);

pub fn contract_key(conn: &Connection, contract_id: &str) -> Result<Option<ContractKey>> {
    Ok(conn
        .prepare_cached("SELECT id FROM contracts WHERE contract_id = ?1")?
        .query_row([contract_id], |r| r.get(0))
        .optional()?
        .map(ContractKey))
}

/// The key of a synchronizer id, if any state was ever recorded on it.
pub fn sync_key(conn: &Connection, synchronizer_id: &str) -> Result<Option<SyncKey>> {
    Ok(conn
        .prepare_cached("SELECT id FROM sync_keys WHERE synchronizer_id = ?1")?
        .query_row([synchronizer_id], |r| r.get(0))
        .optional()?
        .map(SyncKey))
}

/// The key of a synchronizer id, allocated on first use (inside the caller's transaction).
pub fn sync_key_or_new(conn: &Connection, synchronizer_id: &str) -> Result<SyncKey> {
    if let Some(k) = sync_key(conn, synchronizer_id)? {
        return Ok(k);
    }
    conn.prepare_cached("INSERT INTO sync_keys (synchronizer_id) VALUES (?1)")?
        .execute([synchronizer_id])?;
    Ok(SyncKey(conn.last_insert_rowid()))
}

/// Every synchronizer id by its key.
fn sync_names(conn: &Connection) -> Result<std::collections::HashMap<i64, String>> {
    let mut stmt = conn.prepare_cached("SELECT id, synchronizer_id FROM sync_keys")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

fn sync_name(names: &std::collections::HashMap<i64, String>, key: i64) -> Result<String> {
    names
        .get(&key)
        .cloned()
        .ok_or_else(|| StoreError::Corrupt(format!("synchronizer key {key} has no id")))
}

fn activeness_row(status: &str, counter: i64, target: Option<String>) -> Result<Activeness> {
    Ok(Activeness {
        status: Status::parse(status)?,
        reassignment_counter: counter,
        target,
    })
}

pub fn activeness(conn: &Connection, contract_id: &str, synchronizer_id: &str) -> Result<Option<Activeness>> {
    // Statements on one table each: this SQLite prepared the join again on every execution
    // (see `find_on_both`), and repairs ask this per contract.
    let (Some(key), Some(sync)) = (contract_key(conn, contract_id)?, sync_key(conn, synchronizer_id)?) else {
        return Ok(None);
    };
    Ok(states_of(conn, key)?
        .into_iter()
        .find_map(|(k, state)| (k == sync.0).then_some(state)))
}

/// Every state of a contract, by synchronizer key.
fn states_of(conn: &Connection, key: ContractKey) -> Result<Vec<(i64, Activeness)>> {
    let mut stmt = conn.prepare_cached(STATES_OF)?;
    let mut rows = stmt.query([key.0])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push((
            r.get(0)?,
            activeness_row(&r.get::<_, String>(1)?, r.get(2)?, r.get(3)?)?,
        ));
    }
    Ok(out)
}

pub(crate) const STATES_OF: &str =
    "SELECT sync, status, reassignment_counter, target_synchronizer_id FROM activeness WHERE cid = ?1";

pub(crate) const FIND_CONTRACT: &str = "SELECT id, stakeholders FROM contracts WHERE contract_id = ?1";

/// A stored contract as a repair finds it: its key, its stakeholders (as stored, a JSON
/// array) and its state on two synchronizers.
pub struct Found {
    pub key: ContractKey,
    pub stakeholders_json: String,
    pub on_first: Option<Activeness>,
    pub on_second: Option<Activeness>,
}

/// The contract and its state on `first` and `second`; `None` when the store does not
/// hold it.
pub fn find_on_both(conn: &Connection, contract_id: &str, first: SyncKey, second: SyncKey) -> Result<Option<Found>> {
    // Two single-table statements, not one join: the bundled SQLite prepared the join again
    // on every execution (as it does a statement with an ORDER BY here), which was most of a
    // ChangeAssignation's CPU. `lookups_are_planned_once` counts the re-prepares.
    let found: Option<(i64, String)> = conn
        .prepare_cached(FIND_CONTRACT)?
        .query_row([contract_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((key, stakeholders_json)) = found else {
        return Ok(None);
    };
    let mut found = Found {
        key: ContractKey(key),
        stakeholders_json,
        on_first: None,
        on_second: None,
    };
    for (sync, state) in states_of(conn, found.key)? {
        if sync == first.0 {
            found.on_first = Some(state);
        } else if sync == second.0 {
            found.on_second = Some(state);
        }
    }
    Ok(Some(found))
}

/// The contract's state on two synchronizers, read together.
pub fn activeness_on_both(
    conn: &Connection,
    contract_id: &str,
    first: &str,
    second: &str,
) -> Result<(Option<Activeness>, Option<Activeness>)> {
    let (Some(a), Some(b)) = (sync_key(conn, first)?, sync_key(conn, second)?) else {
        return Ok((
            activeness(conn, contract_id, first)?,
            activeness(conn, contract_id, second)?,
        ));
    };
    Ok(find_on_both(conn, contract_id, a, b)?
        .map(|f| (f.on_first, f.on_second))
        .unwrap_or((None, None)))
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
        "SELECT s.synchronizer_id, a.status, a.reassignment_counter, a.target_synchronizer_id
           FROM contracts c JOIN activeness a ON a.cid = c.id JOIN sync_keys s ON s.id = a.sync
          WHERE c.contract_id = ?1 ORDER BY s.synchronizer_id",
    )?;
    let rows = stmt.query_map([contract_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (sync, s, c, t) = row?;
        out.push((sync, activeness_row(&s, c, t)?));
    }
    Ok(out)
}

/// Records a change of the contract's activeness on a synchronizer (inside the caller's
/// transaction): the current state and the history. The contract must be stored.
pub fn set_state(
    conn: &Connection,
    contract_id: &str,
    synchronizer_id: &str,
    change: &Change,
    reassignment_counter: i64,
    offset: i64,
    record_time: i64,
) -> Result<()> {
    let key = contract_key(conn, contract_id)?
        .ok_or_else(|| StoreError::Corrupt(format!("a state change for {contract_id}, which is not stored")))?;
    let sync = sync_key_or_new(conn, synchronizer_id)?;
    set_state_by_key(conn, key, sync, change, reassignment_counter, offset, record_time)
}

/// [`set_state`] by keys. The log is keyed by offset, so a change appends to it; the
/// history of one contract is found through a small index of integers.
pub fn set_state_by_key(
    conn: &Connection,
    key: ContractKey,
    sync: SyncKey,
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
        "INSERT INTO activeness (cid, sync, status, reassignment_counter, target_synchronizer_id, changed_offset)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(cid, sync) DO UPDATE SET status = excluded.status,
           reassignment_counter = excluded.reassignment_counter,
           target_synchronizer_id = excluded.target_synchronizer_id, changed_offset = excluded.changed_offset",
    )?
    .execute(params![
        key.0,
        sync.0,
        status.as_str(),
        reassignment_counter,
        target,
        offset
    ])?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO acs_log (ledger_offset, cid, sync, status, reassignment_counter, record_time, change, remote_synchronizer_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        offset,
        key.0,
        sync.0,
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
    let names = sync_names(conn)?;
    let only = match synchronizer_id {
        None => None,
        Some(id) => match names.iter().find(|(_, n)| n.as_str() == id) {
            Some((k, _)) => Some(*k),
            None => return Ok(()),
        },
    };
    // CROSS JOIN keeps the contracts as the outer loop, read in contract id order through
    // their id index, so no sort is needed whatever the size.
    let sql = if at_end {
        "SELECT c.contract_id, c.blob, a.sync, a.reassignment_counter
           FROM contracts c CROSS JOIN activeness a ON a.cid = c.id
          WHERE a.status = 'active' AND (?1 IS NULL OR a.sync = ?1)
          ORDER BY c.contract_id, a.sync"
    } else {
        "SELECT c.contract_id, c.blob, l.sync, l.reassignment_counter
           FROM contracts c CROSS JOIN acs_log l ON l.cid = c.id
          WHERE (?1 IS NULL OR l.sync = ?1)
            AND l.ledger_offset = (SELECT MAX(x.ledger_offset) FROM acs_log x
                                    WHERE x.cid = l.cid AND x.sync = l.sync AND x.ledger_offset <= ?2)
            AND l.status = 'active'
          ORDER BY c.contract_id, l.sync"
    };
    let mut stmt = conn.prepare(sql)?;
    let mut rows = if at_end {
        stmt.query(params![only])?
    } else {
        stmt.query(params![only, offset])?
    };
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let bytes: Vec<u8> = r.get(1)?;
        let entry = ActiveEntry {
            blob: decode_blob(&bytes, &id)?,
            synchronizer_id: sync_name(&names, r.get(2)?)?,
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
    // Single-table statements sorted here, as in `find_on_both`: the join (and an ORDER BY)
    // was prepared again on every execution, and InspectCommitmentContracts asks this for
    // every id it is given.
    let Some(key) = contract_key(conn, contract_id)? else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(HISTORY)?;
    let rows = stmt.query_map([key.0], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    let mut names: Option<std::collections::HashMap<i64, String>> = None;
    for row in rows {
        let (sync, change, remote, counter, record_time, offset) = row?;
        let names = match &mut names {
            Some(n) => n,
            None => names.insert(sync_names(conn)?),
        };
        let logged = Logged {
            change: Change::parse(&change, remote)?,
            reassignment_counter: counter,
            record_time,
        };
        out.push((sync_name(names, sync)?, offset, logged));
    }
    // By synchronizer id, each in log order.
    out.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    Ok(out.into_iter().map(|(sync, _, logged)| (sync, logged)).collect())
}

/// No ORDER BY: with one, this SQLite planned the statement again on every execution too.
pub(crate) const HISTORY: &str =
    "SELECT sync, change, remote_synchronizer_id, reassignment_counter, record_time, ledger_offset
   FROM acs_log WHERE cid = ?1";

/// Active contract ids on a synchronizer (for tests and drills).
pub fn active_ids(conn: &Connection, synchronizer_id: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.contract_id FROM activeness a JOIN contracts c ON c.id = a.cid
          WHERE a.sync = (SELECT id FROM sync_keys WHERE synchronizer_id = ?1) AND a.status = 'active'
          ORDER BY c.contract_id",
    )?;
    let rows = stmt.query_map([synchronizer_id], |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}
