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

    /// Every (party, participant) hosting known for the synchronizer.
    pub fn topology(&self, synchronizer_id: &str) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT party, participant FROM topology WHERE synchronizer_id = ?1 ORDER BY party, participant",
        )?;
        let rows = stmt.query_map([synchronizer_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}

/// Parties hosted on `participant` in the synchronizer's topology as of `record_time`.
/// Canton takes a topology snapshot strictly before the time asked for, and a topology
/// change becomes effective only after it was sequenced; so a hosting enabled by the
/// last processed event is not yet visible at that event's own record time
/// (participant/admin/repair/ChangeAssignation.scala, filterContractsAtTarget, which asks
/// the target's topology client at the clean record time).
pub fn parties_on_at(
    conn: &Connection,
    synchronizer_id: &str,
    participant: &str,
    record_time: i64,
) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT party FROM topology WHERE synchronizer_id = ?1 AND participant = ?2 AND effective_micros < ?3 ORDER BY party",
    )?;
    let rows = stmt.query_map(params![synchronizer_id, participant, record_time], |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The record time up to which every event of the synchronizer was processed
/// (Canton: the clean synchronizer index's record time,
/// participant/sync/SyncEphemeralStateFactory.scala, currentRecordTime), 0 if none ever was.
pub fn clean_record_time(conn: &Connection, alias: &str) -> Result<i64> {
    Ok(conn
        .query_row(
            "SELECT clean_record_time FROM synchronizers WHERE alias = ?1",
            [alias],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// Replaces the topology of a synchronizer with the hostings of a topology event sequenced
/// at `effective_micros` (inside the caller's transaction): hostings already known keep
/// the time they became effective, new ones get this event's. Marks the synchronizer
/// initialised once it hosts one of our parties.
pub fn replace_topology(
    conn: &Connection,
    alias: &str,
    synchronizer_id: &str,
    hostings: &[(String, String)],
    own_participant: &str,
    effective_micros: i64,
) -> Result<()> {
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS topology_next (party TEXT NOT NULL, participant TEXT NOT NULL, PRIMARY KEY (party, participant))",
        [],
    )?;
    conn.execute("DELETE FROM topology_next", [])?;
    let mut next = conn.prepare_cached("INSERT OR IGNORE INTO topology_next (party, participant) VALUES (?1, ?2)")?;
    let mut hosts_us = false;
    for (party, participant) in hostings {
        next.execute(params![party, participant])?;
        hosts_us |= participant == own_participant;
    }
    conn.execute(
        "DELETE FROM topology WHERE synchronizer_id = ?1
           AND NOT EXISTS (SELECT 1 FROM topology_next n WHERE n.party = topology.party AND n.participant = topology.participant)",
        [synchronizer_id],
    )?;
    conn.execute(
        "INSERT OR IGNORE INTO topology (synchronizer_id, party, participant, effective_micros)
         SELECT ?1, party, participant, ?2 FROM topology_next",
        params![synchronizer_id, effective_micros],
    )?;
    if hosts_us {
        conn.execute(
            "UPDATE synchronizers SET topology_initialised = 1 WHERE alias = ?1",
            [alias],
        )?;
    }
    Ok(())
}

/// Records that every event up to `seq`, sequenced at `record_time`, was processed.
pub fn set_cursor(conn: &Connection, alias: &str, seq: i64, record_time: i64) -> Result<()> {
    conn.execute(
        "UPDATE synchronizers SET last_seq = ?2, clean_record_time = MAX(clean_record_time, ?3) WHERE alias = ?1",
        params![alias, seq, record_time],
    )?;
    Ok(())
}
