//! Package vetting per synchronizer, as a Canton 3.4+ participant keeps it: in the
//! topology store of each synchronizer (PackageOps.vetPackages takes a physical
//! synchronizer id), so a synchronizer the participant never connected to has no store
//! and no vetting. The lab's one DAR is vetted on a synchronizer when the participant's
//! topology there is first initialised — as if its operator had uploaded the DAR with
//! `vet_all_packages` while connected — unless the node was told not to (`unvetted_on`).
//! Only the participant's own vetting is kept: the lab does not distribute vetting
//! through its synchronizers.

use super::{Result, Store};
use rusqlite::{Connection, OptionalExtension, params};

/// Meta key: JSON list of synchronizer aliases on which this node does not vet its DAR
/// when it first connects.
const UNVETTED_ON: &str = "unvetted_on";

/// The vetting of a synchronizer's topology store: its serial (one per change, as the
/// topology transaction's) and the vetted package ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vetting {
    pub serial: i64,
    pub packages: Vec<String>,
}

/// The topology store of `synchronizer_id` (logical) exists: the participant's topology
/// there was initialised.
fn store_exists(conn: &Connection, synchronizer_id: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM synchronizers WHERE synchronizer_id = ?1 AND topology_initialised = 1",
            [synchronizer_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The participant's vetting on `synchronizer_id`; `None` when it has no topology store
/// for it.
pub fn vetting(conn: &Connection, synchronizer_id: &str) -> Result<Option<Vetting>> {
    if !store_exists(conn, synchronizer_id)? {
        return Ok(None);
    }
    let serial = conn
        .query_row(
            "SELECT serial FROM vetting_serials WHERE synchronizer_id = ?1",
            [synchronizer_id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let mut stmt =
        conn.prepare_cached("SELECT package_id FROM vetted_packages WHERE synchronizer_id = ?1 ORDER BY package_id")?;
    let packages = stmt
        .query_map([synchronizer_id], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    Ok(Some(Vetting { serial, packages }))
}

pub fn is_vetted(conn: &Connection, synchronizer_id: &str, package_id: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM vetted_packages WHERE synchronizer_id = ?1 AND package_id = ?2",
            params![synchronizer_id, package_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Vets (or unvets) `package_id` on `synchronizer_id`; a change bumps the serial.
pub fn set_vetted(conn: &Connection, synchronizer_id: &str, package_id: &str, vetted: bool) -> Result<()> {
    let changed = if vetted {
        conn.execute(
            "INSERT OR IGNORE INTO vetted_packages (synchronizer_id, package_id) VALUES (?1, ?2)",
            params![synchronizer_id, package_id],
        )?
    } else {
        conn.execute(
            "DELETE FROM vetted_packages WHERE synchronizer_id = ?1 AND package_id = ?2",
            params![synchronizer_id, package_id],
        )?
    };
    if changed > 0 {
        conn.execute(
            "INSERT INTO vetting_serials (synchronizer_id, serial) VALUES (?1, 1)
             ON CONFLICT(synchronizer_id) DO UPDATE SET serial = serial + 1",
            [synchronizer_id],
        )?;
    }
    Ok(())
}

/// Called when the participant's topology on `alias` is first initialised.
pub(super) fn on_first_topology(conn: &Connection, alias: &str, synchronizer_id: &str) -> Result<()> {
    let unvetted: Vec<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [UNVETTED_ON], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default();
    if unvetted.iter().any(|a| a == alias) {
        return Ok(());
    }
    set_vetted(conn, synchronizer_id, &crate::lab::templates::package_id(), true)
}

impl Store {
    /// Records the aliases on which this node does not vet its DAR at first connection.
    pub fn set_unvetted_on(&self, aliases: &[String]) -> Result<()> {
        let value = serde_json::to_string(aliases).map_err(|e| super::StoreError::Corrupt(e.to_string()))?;
        self.set_meta(UNVETTED_ON, &value)
    }
}
