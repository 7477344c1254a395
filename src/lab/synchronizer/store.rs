//! The synchronizer's durable state: the sequenced event log with its recipients, the
//! members and the party-to-participant topology.

use crate::wire::lab::{PartyHosting, SequencedEvent};
use prost::Message;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, event BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS recipients (member TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (member, seq));
CREATE TABLE IF NOT EXISTS members (member TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS hostings (party TEXT NOT NULL, participant TEXT NOT NULL, PRIMARY KEY (party, participant));
"#;

pub struct SyncStore {
    conn: Connection,
}

pub type Result<T> = std::result::Result<T, rusqlite::Error>;

impl SyncStore {
    pub fn open(path: &Path) -> Result<SyncStore> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(SyncStore { conn })
    }

    pub fn last_seq(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))
    }

    pub fn halted(&self) -> Result<bool> {
        let v: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'halted'", [], |r| r.get(0))
            .optional()?;
        Ok(v.as_deref() == Some("1"))
    }

    pub fn set_halted(&self) -> Result<()> {
        self.conn
            .execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('halted', '1')", [])?;
        Ok(())
    }

    /// Appends an event for `recipients` and returns its sequence number.
    pub fn append(&mut self, mut event: SequencedEvent, recipients: &[String]) -> Result<SequencedEvent> {
        let tx = self.conn.transaction()?;
        let seq: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM events", [], |r| r.get(0))?;
        event.seq = seq;
        tx.execute(
            "INSERT INTO events (seq, event) VALUES (?1, ?2)",
            params![seq, event.encode_to_vec()],
        )?;
        for m in recipients {
            tx.execute(
                "INSERT OR IGNORE INTO recipients (member, seq) VALUES (?1, ?2)",
                params![m, seq],
            )?;
        }
        tx.commit()?;
        Ok(event)
    }

    /// Events for `member` after `after_seq`, at most `limit`.
    pub fn events_for(&self, member: &str, after_seq: i64, limit: i64) -> Result<Vec<SequencedEvent>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.event FROM recipients r JOIN events e ON e.seq = r.seq
              WHERE r.member = ?1 AND r.seq > ?2 ORDER BY r.seq LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![member, after_seq, limit], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for row in rows {
            let bytes = row?;
            match SequencedEvent::decode(bytes.as_slice()) {
                Ok(ev) => out.push(ev),
                Err(e) => {
                    return Err(rusqlite::Error::FromSqlConversionFailure(
                        0,
                        rusqlite::types::Type::Blob,
                        Box::new(e),
                    ));
                }
            }
        }
        Ok(out)
    }

    pub fn members(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT member FROM members ORDER BY member")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect()
    }

    /// Adds the member and its parties; returns true when the topology changed.
    pub fn onboard(&mut self, member: &str, parties: &[String]) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let mut changed = tx.execute("INSERT OR IGNORE INTO members (member) VALUES (?1)", [member])? > 0;
        for p in parties {
            changed |= tx.execute(
                "INSERT OR IGNORE INTO hostings (party, participant) VALUES (?1, ?2)",
                params![p, member],
            )? > 0;
        }
        tx.commit()?;
        Ok(changed)
    }

    pub fn hostings(&self) -> Result<Vec<PartyHosting>> {
        let mut stmt = self
            .conn
            .prepare("SELECT party, participant FROM hostings ORDER BY party, participant")?;
        let rows = stmt.query_map([], |r| {
            Ok(PartyHosting {
                party: r.get(0)?,
                participant: r.get(1)?,
            })
        })?;
        rows.collect()
    }
}
