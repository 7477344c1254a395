//! Talking to participants: the `ParticipantApi` trait covers every RPC recovery needs
//! (DESIGN §2), `GrpcParticipant` implements it over tonic with per-participant TLS,
//! bearer token and deadlines, and errors carry Canton's parsed code.

mod command;
mod contract;
mod error;
mod grpc;
mod history;
mod idle;
pub mod jwt;
mod raw;
mod snapshot;
pub mod sync_config;
mod transport;
mod types;
pub mod version;

pub use command::{DamlValue, LedgerCommand, Submission, TemplateId};
pub use contract::{Contract, Created};
pub use error::{ClientError, Result};
pub use grpc::GrpcParticipant;
pub use history::{ContractHistory, SyncState, merge as merge_inspections};
pub use snapshot::{SnapshotReader, SnapshotWriter};
pub use sync_config::SynchronizerConfig;
pub use types::*;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use std::time::Duration;

/// A stream of contracts decoded from an ACS snapshot.
pub type ContractStream = BoxStream<'static, Result<Contract>>;
/// The Ledger API's active contract stream, contracts between synchronizers included.
pub type AcsStream = BoxStream<'static, Result<AcsEntry>>;

#[async_trait]
pub trait ParticipantApi: Send + Sync {
    /// The participant's name in the incident config.
    fn name(&self) -> &str;

    /// What the incident config declares about the participant's Canton settings: it runs
    /// with `enable-all-ledger-api-reassignments`.
    fn enables_all_reassignments(&self) -> bool {
        false
    }

    /// The Canton release line the participant runs, or why it cannot be served.
    async fn canton_line(&self) -> Result<version::Line> {
        let status = self.status().await?;
        version::line_of(&status.version).map_err(|message| ClientError::Unsupported {
            participant: self.name().to_string(),
            message,
        })
    }

    async fn list_registered(&self) -> Result<Vec<RegisteredSynchronizer>>;
    /// The full stored configs, for read-modify-write.
    async fn registered_configs(&self) -> Result<Vec<SynchronizerConfig>>;
    async fn list_connected(&self) -> Result<Vec<ConnectedSynchronizer>>;
    /// Registers a synchronizer; with `handshake` the participant contacts its sequencers
    /// (and validates the active ones) before it stores the config.
    async fn register(&self, config: SynchronizerConfig, handshake: bool) -> Result<()>;
    async fn connect(&self, config: SynchronizerConfig) -> Result<bool>;
    async fn reconnect(&self, alias: &str, retry: bool) -> Result<bool>;
    async fn disconnect(&self, alias: &str) -> Result<()>;
    async fn disconnect_all(&self) -> Result<()>;
    /// Replaces the stored config of `config.alias()` with `config`, whole.
    async fn modify(&self, config: SynchronizerConfig, validation: Validation) -> Result<()>;
    async fn synchronizer_id(&self, alias: &str) -> Result<SynchronizerIds>;

    /// Streams the ACS snapshot at `ledger_offset` (a synchronizer id filters it).
    async fn export_acs(&self, synchronizer_id: Option<&str>, ledger_offset: i64) -> Result<ContractStream>;
    /// Sends `contracts` as one ImportAcs snapshot. If the stream yields an error the RPC
    /// is cancelled, never half-closed, so the participant applies nothing.
    async fn import_acs(&self, synchronizer_id: &str, mode: ImportMode, contracts: ContractStream) -> Result<()>;
    async fn change_assignation(
        &self,
        source_alias: &str,
        target_alias: &str,
        contract_ids: &[String],
        skip_inactive: bool,
    ) -> Result<()>;
    async fn purge(&self, alias: &str, contract_ids: &[String], ignore_already_purged: bool) -> Result<()>;

    async fn inspect_contracts(
        &self,
        synchronizer_id: &str,
        contract_ids: &[String],
    ) -> Result<Vec<ContractInspection>>;
    async fn count_in_flight(&self, synchronizer_id: &str) -> Result<InFlight>;
    async fn status(&self) -> Result<ParticipantStatus>;
    async fn ping(&self, parties: &[String], synchronizer_id: &str, timeout: Duration) -> Result<PingOutcome>;

    async fn ledger_end(&self) -> Result<i64>;
    /// Active contracts at `offset` for every party the participant hosts, with the
    /// contracts it sees between synchronizers.
    async fn active_contracts(&self, offset: i64, include_blob: bool) -> Result<AcsStream>;
    async fn known_parties(&self) -> Result<Vec<KnownParty>>;
    /// The parties this participant hosts itself, sorted: the ones whose contracts it must
    /// hold, as opposed to parties it only knows of through topology.
    async fn hosted_parties(&self) -> Result<std::collections::BTreeSet<String>> {
        Ok(self
            .known_parties()
            .await?
            .into_iter()
            .filter(|p| p.is_local)
            .map(|p| p.party)
            .collect())
    }
    async fn submit_and_wait(&self, submission: Submission) -> Result<SubmitOutcome>;
    /// The participant's admin party: the only party Canton's ping responder answers for.
    /// Its id is the participant's uid (`Member.adminParty = PartyId(uid)`).
    async fn admin_party(&self) -> Result<String> {
        Ok(self.status().await?.uid)
    }

    /// The participant's automatic pruning schedule (`PruningService.GetParticipantSchedule`),
    /// `None` when none is set.
    async fn pruning_schedule(&self) -> Result<Option<PruningSchedule>>;

    /// The packages this participant has vetted on `synchronizer_id` (logical), now
    /// (`TopologyManagerReadService.ListVettedPackages` on that synchronizer's topology
    /// store, head state). `None` when the participant has no topology store for it yet:
    /// it never connected there, so nothing can be vetted there yet.
    async fn vetted_packages(&self, synchronizer_id: &str) -> Result<Option<std::collections::BTreeSet<String>>>;
}

/// The config to write back to flip `manual_connect` of `alias` — the console's
/// `synchronizers.modify`, a read-modify-write of the whole config — or `None` when it is
/// already so. Every other field goes back as the participant sent it; refused when the
/// config holds fields this version does not know, which writing it back would reset.
pub fn manual_connect_change(
    participant: &str,
    configs: Vec<SynchronizerConfig>,
    alias: &str,
    manual: bool,
) -> Result<Option<SynchronizerConfig>> {
    let refuse = |message: String| ClientError::Protocol {
        participant: participant.to_string(),
        rpc: "ModifySynchronizer",
        message,
    };
    let stored = configs
        .into_iter()
        .find(|c| c.alias() == alias)
        .ok_or_else(|| refuse(format!("no synchronizer with alias {alias} is registered")))?;
    if stored.manual_connect() == manual {
        return Ok(None);
    }
    if stored.has_unknown_fields() {
        return Err(refuse(format!(
            "the stored config of {alias} holds fields this recovery-deck does not know (a newer Canton?); writing it back would reset them. Set manualConnect = {manual} in the Canton console (synchronizers.modify) and run again"
        )));
    }
    Ok(Some(stored.with_manual_connect(manual)))
}

/// The offset to export a participant's ACS at, given its ledger end: the end itself, or
/// `None` while it is 0. Canton's ExportAcs refuses offset 0 (`Offset.fromLong` needs a
/// positive offset, GrpcParticipantRepairService.exportAcs, release-line-3.5) — and a
/// participant at offset 0 holds no contract, so there is nothing to export.
pub fn export_offset(ledger_end: i64) -> Option<i64> {
    (ledger_end > 0).then_some(ledger_end)
}

/// The participant's ACS now (optionally only what is assigned to one synchronizer): an
/// ExportAcs at its ledger end, or an empty stream while that end is 0. Every export
/// goes through here, so no caller can ask for offset 0.
pub async fn export_at_ledger_end(api: &dyn ParticipantApi, synchronizer_id: Option<&str>) -> Result<ContractStream> {
    match export_offset(api.ledger_end().await?) {
        Some(end) => api.export_acs(synchronizer_id, end).await,
        None => Ok(futures::stream::empty().boxed()),
    }
}

/// [`manual_connect_change`], written. Validation is DISABLED because the lost
/// synchronizer's sequencers cannot be reached (and UNSPECIFIED is rejected).
pub async fn set_manual_connect(api: &dyn ParticipantApi, alias: &str, manual: bool) -> Result<bool> {
    match manual_connect_change(api.name(), api.registered_configs().await?, alias, manual)? {
        None => Ok(false),
        Some(config) => {
            api.modify(config, Validation::Disabled).await?;
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::sync_config::default_config;

    fn stored(alias: &str, manual: bool, unknown_fields: bool) -> SynchronizerConfig {
        let mut config = default_config(alias, "http://127.0.0.1:1", manual);
        config.priority = 7;
        SynchronizerConfig::from_wire(config, unknown_fields)
    }

    #[test]
    fn no_export_at_offset_zero() {
        assert_eq!(export_offset(0), None);
        assert_eq!(export_offset(-1), None);
        assert_eq!(export_offset(1), Some(1));
        assert_eq!(export_offset(42), Some(42));
    }

    #[test]
    fn a_config_with_unknown_fields_is_never_written_back() {
        let change = |configs, manual| manual_connect_change("participant1", configs, "lostDomain", manual);
        let written = change(
            vec![stored("new", false, true), stored("lostDomain", false, false)],
            true,
        )
        .expect("known fields only")
        .expect("a change");
        assert_eq!(
            written.into_wire(),
            stored("lostDomain", true, false).into_wire(),
            "the whole config goes back, manual_connect flipped"
        );
        assert!(
            change(vec![stored("lostDomain", true, true)], true)
                .expect("nothing to write")
                .is_none()
        );
        let refused = change(vec![stored("lostDomain", false, true)], true).expect_err("would reset fields");
        assert!(refused.to_string().contains("synchronizers.modify"), "{refused}");
        assert!(change(vec![], true).is_err(), "unknown alias");
    }
}
