//! Which Canton release line a lab stands in for. The lab's nodes follow that line's rules
//! where the lines differ on what recovery touches. Every difference canton-semantics.md
//! lists between 3.4, 3.5 and main, and what the lab does with it (each rule cites the
//! Canton file it comes from):
//! - the version `ParticipantStatus` reports — enforced ([`Dialect::version`]);
//! - ImportAcs: 3.4 re-validates the import context (mode, workflow prefix, exclusions) on
//!   every streamed message and reads no `synchronizer_id` (each contract goes to its own
//!   synchronizer); 3.5 and main read the context from the first message only and import
//!   only the contracts of the requested synchronizer — enforced;
//! - reassignment counters: 3.4 refuses any imported contract whose counter is not 0; 3.5
//!   and main do so unless the participant runs with `enableAllLedgerApiReassignments` —
//!   enforced;
//! - fields a line does not know are neither sent nor kept: 3.4 has no registered-synchronizer
//!   `status` / `synchronizer_predecessor`; 3.4 and 3.5 have no
//!   `SequencerConnections.subscription_liveness_limits`, so a config carrying it is stored
//!   without it — enforced ([`Dialect::knows_registration_status`],
//!   [`Dialect::known_config_fields`]);
//! - fields only a newer line sends, which the lab never fills on any line, so nothing
//!   differs on the wire: `GetLedgerEndResponse.synchronizer_times` (main),
//!   `CreatedEvent.contract_key_hash` and `InterfaceView.implementation_package_id` (3.5+;
//!   the lab's templates have no keys and no interfaces), `GetActiveContractsResponse
//!   .stream_continuation_token` (3.5+);
//! - not modelled: 3.4's `RECOMPUTATION` import mode (refused like an unset mode), 3.5+'s
//!   `ListRegisteredSynchronizersRequest.all_statuses` (every lab config is active, so the
//!   filter changes nothing), `GetActiveContracts` continuation tokens (3.5+), main's 2-hour
//!   bound on an ExportAcs stream.

use crate::wire::admin::SynchronizerConnectionConfig;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
pub enum Dialect {
    /// Canton 3.4 (release-line-3.4, 3.4.12).
    #[value(name = "3.4")]
    #[serde(rename = "3.4")]
    V3_4,
    /// Canton 3.5 (release-line-3.5, 3.5.10).
    #[default]
    #[value(name = "3.5")]
    #[serde(rename = "3.5")]
    V3_5,
    /// Canton main (3.6.0-SNAPSHOT).
    #[value(name = "main")]
    #[serde(rename = "main")]
    Main,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::V3_4 => "3.4",
            Dialect::V3_5 => "3.5",
            Dialect::Main => "main",
        }
    }

    /// What `ParticipantStatus.common_status.version` says: the `VERSION` file of the
    /// branch heads canton-semantics.md was read from (release-line-3.4, release-line-3.5,
    /// main), which Canton's build turns into `BuildInfo.version`.
    pub fn version(self) -> &'static str {
        match self {
            Dialect::V3_4 => "3.4.12",
            Dialect::V3_5 => "3.5.10",
            Dialect::Main => "3.6.0-SNAPSHOT",
        }
    }

    /// participant/admin/grpc/GrpcParticipantRepairService.scala (importAcs),
    /// release-line-3.4: `setOrCheck` on every `onNext`; release-line-3.5:
    /// `streamGzippedChunksFromClient(contextFromFirstRequest)`.
    pub fn import_context_on_every_message(self) -> bool {
        self == Dialect::V3_4
    }

    /// Whether ImportAcs takes `synchronizer_id` from the request (3.5+,
    /// RepairServiceContractsImporter.scala) or places each contract on its own
    /// synchronizer (release-line-3.4's participant_repair_service.proto has no such field).
    pub fn import_reads_synchronizer_id(self) -> bool {
        self != Dialect::V3_4
    }

    /// The refusal of an import holding a contract with a non-zero reassignment counter,
    /// or `None` when this participant accepts it.
    /// 3.4: participant/admin/grpc/ParticipantCommon.scala (importAcsNewSnapshot, always);
    /// 3.5/main: participant/admin/repair/RepairServiceContractsImporter.scala (unless
    /// `enableAllLedgerApiReassignments`, participant/config/ParticipantNodeConfig.scala).
    pub fn refuses_nonzero_counters(self, enable_all_reassignments: bool, offenders: &str) -> Option<String> {
        match self {
            Dialect::V3_4 => Some(
                "Found at least one contract with a non-zero reassignment counter. ACS import does not yet support it."
                    .to_string(),
            ),
            _ if enable_all_reassignments => None,
            _ => Some(format!(
                "Contracts with a non-zero reassignment counter found with disabled multi-synchronizer support: {offenders}"
            )),
        }
    }

    /// ListRegisteredSynchronizersResponse.Result `status` (4) and
    /// `synchronizer_predecessor` (5) exist from 3.5 on
    /// (admin/participant/v30/synchronizer_connectivity_service.proto, release-line-3.5;
    /// absent from release-line-3.4's synchronizer_connectivity.proto).
    pub fn knows_registration_status(self) -> bool {
        self != Dialect::V3_4
    }

    /// A connection config as this line stores it: Canton parses the request into its own
    /// model (SynchronizerConnectionConfig.fromProtoV30), so a field the line does not know
    /// is dropped, and ListRegisteredSynchronizers never returns it.
    /// `SequencerConnections.subscription_liveness_limits` (6) exists on main only
    /// (admin/sequencer/v30/sequencer_connection.proto).
    pub fn known_config_fields(self, mut config: SynchronizerConnectionConfig) -> SynchronizerConnectionConfig {
        if self != Dialect::Main
            && let Some(c) = config.sequencer_connections.as_mut()
        {
            c.subscription_liveness_limits = None;
        }
        config
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::sequencer::SubscriptionLivenessLimits;

    #[test]
    fn each_line_keeps_only_the_config_fields_it_knows() {
        let mut config = crate::client::sync_config::default_config("newDomain", "http://127.0.0.1:1", true);
        if let Some(c) = config.sequencer_connections.as_mut() {
            c.subscription_liveness_limits = Some(SubscriptionLivenessLimits::default());
        }
        let kept = |d: Dialect| {
            d.known_config_fields(config.clone())
                .sequencer_connections
                .and_then(|c| c.subscription_liveness_limits)
                .is_some()
        };
        assert!(!kept(Dialect::V3_4));
        assert!(!kept(Dialect::V3_5));
        assert!(kept(Dialect::Main));
        assert!(!Dialect::V3_4.knows_registration_status());
        assert!(Dialect::V3_5.knows_registration_status() && Dialect::Main.knows_registration_status());
    }
}
