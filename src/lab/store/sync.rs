//! Registered synchronizer configs and what this participant learned of each
//! synchronizer's topology.

use super::{Result, Store, StoreError, now_micros};
use crate::wire::admin::SynchronizerConnectionConfig;
use prost::Message;
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, Clone)]
pub struct RegisteredSync {
    pub alias: String,
    pub config: SynchronizerConnectionConfig,
    /// Known once a handshake succeeded.
    pub synchronizer_id: Option<String>,
    pub physical_id: Option<String>,
    pub last_seq: i64,
    pub topology_initialised: bool,
}

fn decode_config(bytes: &[u8], alias: &str) -> Result<SynchronizerConnectionConfig> {
    SynchronizerConnectionConfig::decode(bytes).map_err(|e| StoreError::Corrupt(format!("config of {alias}: {e}")))
}

/// A row of `synchronizers` before its config is decoded.
struct RawSync {
    alias: String,
    config: Vec<u8>,
    synchronizer_id: Option<String>,
    physical_id: Option<String>,
    last_seq: i64,
    topology_initialised: bool,
}

fn row_to_sync(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawSync> {
    Ok(RawSync {
        alias: r.get(0)?,
        config: r.get(1)?,
        synchronizer_id: r.get(2)?,
        physical_id: r.get(3)?,
        last_seq: r.get(4)?,
        topology_initialised: r.get::<_, i64>(5)? != 0,
    })
}

impl RawSync {
    fn decode(self) -> Result<RegisteredSync> {
        Ok(RegisteredSync {
            config: decode_config(&self.config, &self.alias)?,
            alias: self.alias,
            synchronizer_id: self.synchronizer_id,
            physical_id: self.physical_id,
            last_seq: self.last_seq,
            topology_initialised: self.topology_initialised,
        })
    }
}

const SELECT: &str =
    "SELECT alias, config, synchronizer_id, physical_id, last_seq, topology_initialised FROM synchronizers";

impl Store {
    /// Returns false when the alias is already registered.
    pub fn register_sync(&self, config: &SynchronizerConnectionConfig) -> Result<bool> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO synchronizers (alias, config, registered_at) VALUES (?1, ?2, ?3)",
            params![config.synchronizer_alias, config.encode_to_vec(), now_micros()],
        )?;
        Ok(n == 1)
    }

    pub fn replace_sync_config(&self, config: &SynchronizerConnectionConfig) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE synchronizers SET config = ?2 WHERE alias = ?1",
            params![config.synchronizer_alias, config.encode_to_vec()],
        )?;
        Ok(n == 1)
    }

    pub fn sync(&self, alias: &str) -> Result<Option<RegisteredSync>> {
        let row = self
            .conn
            .query_row(&format!("{SELECT} WHERE alias = ?1"), [alias], row_to_sync)
            .optional()?;
        row.map(RawSync::decode).transpose()
    }

    pub fn syncs(&self) -> Result<Vec<RegisteredSync>> {
        let mut stmt = self.conn.prepare(&format!("{SELECT} ORDER BY registered_at, alias"))?;
        let rows = stmt.query_map([], row_to_sync)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?.decode()?);
        }
        Ok(out)
    }

    /// The alias registered for a logical or physical synchronizer id.
    pub fn alias_of(&self, synchronizer_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT alias FROM synchronizers WHERE synchronizer_id = ?1 OR physical_id = ?1",
                [synchronizer_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn set_sync_ids(&self, alias: &str, id: &str, physical: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE synchronizers SET synchronizer_id = ?2, physical_id = ?3 WHERE alias = ?1",
            params![alias, id, physical],
        )?;
        Ok(())
    }

    /// Parties hosted on `participant` according to the synchronizer's topology.
    pub fn parties_on(&self, synchronizer_id: &str, participant: &str) -> Result<Vec<String>> {
        parties_on(&self.conn, synchronizer_id, participant)
    }

    /// Every (party, participant) hosting known for the synchronizer.
    pub fn topology(&self, synchronizer_id: &str) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT party, participant FROM topology WHERE synchronizer_id = ?1 ORDER BY party, participant",
        )?;
        let rows = stmt.query_map([synchronizer_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}

pub fn parties_on(conn: &Connection, synchronizer_id: &str, participant: &str) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT party FROM topology WHERE synchronizer_id = ?1 AND participant = ?2 ORDER BY party")?;
    let rows = stmt.query_map([synchronizer_id, participant], |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Replaces the topology of a synchronizer (inside the caller's transaction) and marks it
/// initialised once it hosts one of our parties.
pub fn replace_topology(
    conn: &Connection,
    alias: &str,
    synchronizer_id: &str,
    hostings: &[(String, String)],
    own_participant: &str,
) -> Result<()> {
    conn.execute("DELETE FROM topology WHERE synchronizer_id = ?1", [synchronizer_id])?;
    let mut stmt = conn
        .prepare_cached("INSERT OR IGNORE INTO topology (synchronizer_id, party, participant) VALUES (?1, ?2, ?3)")?;
    let mut hosts_us = false;
    for (party, participant) in hostings {
        stmt.execute(params![synchronizer_id, party, participant])?;
        hosts_us |= participant == own_participant;
    }
    if hosts_us {
        conn.execute(
            "UPDATE synchronizers SET topology_initialised = 1 WHERE alias = ?1",
            [alias],
        )?;
    }
    Ok(())
}

pub fn set_last_seq(conn: &Connection, alias: &str, seq: i64) -> Result<()> {
    conn.execute(
        "UPDATE synchronizers SET last_seq = ?2 WHERE alias = ?1",
        params![alias, seq],
    )?;
    Ok(())
}
