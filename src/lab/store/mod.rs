//! A lab participant's durable state in one SQLite file (WAL, synchronous=FULL): a
//! change is acknowledged only after its transaction committed, so `kill -9` at any
//! moment loses nothing that was acknowledged.

pub mod acs;
pub mod pending;
pub mod reassignment;
pub mod sync;
pub mod vetting;

pub use acs::{Activeness, Change, Status};
pub use pending::PendingRequest;
pub use sync::RegisteredSync;

use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("participant store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("participant store holds an undecodable record: {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parties (party_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS synchronizers (
    alias TEXT PRIMARY KEY,
    config BLOB NOT NULL,
    synchronizer_id TEXT,
    physical_id TEXT,
    last_seq INTEGER NOT NULL DEFAULT 0,
    -- Record time (micros) of the last event processed: Canton's clean synchronizer index.
    clean_record_time INTEGER NOT NULL DEFAULT 0,
    topology_initialised INTEGER NOT NULL DEFAULT 0,
    registered_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS topology (
    synchronizer_id TEXT NOT NULL,
    party TEXT NOT NULL,
    participant TEXT NOT NULL,
    -- Sequencing time (micros) of the topology event that enabled the hosting.
    effective_micros INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (synchronizer_id, party, participant)
);
-- Contracts are keyed by an integer in the order they were stored, so that states and
-- log rows refer to a small key and a new contract appends to every table but the id index.
CREATE TABLE IF NOT EXISTS contracts (
    id INTEGER PRIMARY KEY,
    contract_id TEXT NOT NULL UNIQUE,
    blob BLOB NOT NULL,
    template TEXT NOT NULL,
    stakeholders TEXT NOT NULL,
    digest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_keys (id INTEGER PRIMARY KEY, synchronizer_id TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS activeness (
    cid INTEGER NOT NULL,
    sync INTEGER NOT NULL,
    status TEXT NOT NULL,
    reassignment_counter INTEGER NOT NULL,
    target_synchronizer_id TEXT,
    changed_offset INTEGER NOT NULL,
    PRIMARY KEY (cid, sync)
) WITHOUT ROWID;
-- The log is keyed by offset: every change appends to it.
CREATE TABLE IF NOT EXISTS acs_log (
    ledger_offset INTEGER NOT NULL,
    cid INTEGER NOT NULL,
    sync INTEGER NOT NULL,
    status TEXT NOT NULL,
    reassignment_counter INTEGER NOT NULL,
    record_time INTEGER NOT NULL,
    change TEXT NOT NULL,
    remote_synchronizer_id TEXT,
    PRIMARY KEY (ledger_offset, cid, sync)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS acs_log_by_contract ON acs_log (cid, sync, ledger_offset);
CREATE TABLE IF NOT EXISTS pending_requests (
    request_id TEXT PRIMARY KEY,
    synchronizer_id TEXT NOT NULL,
    request BLOB NOT NULL,
    locked TEXT NOT NULL,
    approved INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS vetted_packages (
    synchronizer_id TEXT NOT NULL,
    package_id TEXT NOT NULL,
    PRIMARY KEY (synchronizer_id, package_id)
);
CREATE TABLE IF NOT EXISTS vetting_serials (synchronizer_id TEXT PRIMARY KEY, serial INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pending_submissions (
    submission_id TEXT PRIMARY KEY,
    synchronizer_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reassignments (
    reassignment_id TEXT PRIMARY KEY,
    contract_id TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    reassignment_counter INTEGER NOT NULL,
    submitter TEXT NOT NULL,
    unassigned_offset INTEGER,
    assigned_offset INTEGER
);
"#;

/// The layout of the tables; a store of another layout is refused rather than misread.
const STORE_VERSION: i64 = 2;

pub struct Store {
    conn: Connection,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        // WAL keeps readers off the writer's back; FULL makes each commit durable on disk
        // before we acknowledge, which is the promise the lab makes for kill -9 drills.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A repair batch touches index pages all over the store (contract ids are random), so
        // the default 2 MB cache re-reads most of them from the file on every batch.
        conn.pragma_update(None, "cache_size", -65536)?;
        // Each ChangeAssignation batch dirties thousands of pages. With the default checkpoint
        // every 1000 WAL pages, nearly every commit also copied its pages back into the
        // database file; checkpointing less often copies a page once for many commits.
        // Durability is unchanged: each commit still syncs the WAL before it is acknowledged.
        conn.pragma_update(None, "wal_autocheckpoint", 16384)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let empty: bool = conn.query_row("SELECT COUNT(*) = 0 FROM sqlite_master", [], |r| r.get(0))?;
        if !empty && version != STORE_VERSION {
            return Err(StoreError::Corrupt(format!(
                "{} was written by another version of the lab (store version {version}, this one reads {STORE_VERSION}): start a new lab",
                path.display()
            )));
        }
        conn.execute_batch(SCHEMA)?;
        if empty {
            conn.pragma_update(None, "user_version", STORE_VERSION)?;
        }
        Ok(Store { conn })
    }

    pub fn conn(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub fn conn_ref(&self) -> &Connection {
        &self.conn
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    pub fn ledger_end(&self) -> Result<i64> {
        ledger_end(&self.conn)
    }

    pub fn add_party(&self, party: &str) -> Result<()> {
        self.conn
            .execute("INSERT OR IGNORE INTO parties (party_id) VALUES (?1)", [party])?;
        Ok(())
    }

    pub fn hosted_parties(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT party_id FROM parties ORDER BY party_id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}

pub fn ledger_end(conn: &Connection) -> Result<i64> {
    let v: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'ledger_end'", [], |r| r.get(0))
        .optional()?;
    match v {
        None => Ok(0),
        Some(s) => s
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("ledger_end = {s:?}"))),
    }
}

/// Allocates the next ledger offset inside the caller's transaction.
pub fn next_offset(conn: &Connection) -> Result<i64> {
    let next = ledger_end(conn)? + 1;
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('ledger_end', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [next.to_string()],
    )?;
    Ok(next)
}

pub fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

#[cfg(test)]
pub(crate) mod tests;
