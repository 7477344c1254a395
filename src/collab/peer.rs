//! Another organisation's participant as this deck sees it: the few reads the executor
//! makes about a participant it does not run (the lost synchronizer's id, the parties to
//! ping, the ACS snapshot to import from it) answered from that participant's manifest
//! and from what its deck relayed through the coordinator. Every call that would change
//! or read the participant itself is refused: this deck holds no credentials for it.

use super::manifest::Manifest;
use super::relay::Relay;
use crate::client::{
    AcsStream, ClientError, ConnectedSynchronizer, ContractInspection, ContractStream, ImportMode, InFlight,
    KnownParty, ParticipantApi, ParticipantStatus, PingOutcome, RegisteredSynchronizer, Result, Submission,
    SubmitOutcome, SynchronizerConfig, SynchronizerIds, Validation,
};
use async_trait::async_trait;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;

pub(super) struct PeerParticipant {
    name: String,
    lost_alias: String,
    manifest: Manifest,
    relay: Arc<Relay>,
}

impl PeerParticipant {
    pub(super) fn new(name: &str, lost_alias: &str, manifest: Manifest, relay: Arc<Relay>) -> PeerParticipant {
        PeerParticipant {
            name: name.to_string(),
            lost_alias: lost_alias.to_string(),
            manifest,
            relay,
        }
    }

    fn refuse<T>(&self, rpc: &'static str) -> Result<T> {
        Err(ClientError::Protocol {
            participant: self.name.clone(),
            rpc,
            message: format!(
                "this deck holds no credentials for {}: only its own operator's deck acts on it",
                self.name
            ),
        })
    }
}

#[async_trait]
impl ParticipantApi for PeerParticipant {
    fn name(&self) -> &str {
        &self.name
    }

    async fn list_registered(&self) -> Result<Vec<RegisteredSynchronizer>> {
        self.refuse("ListRegisteredSynchronizers")
    }
    async fn registered_configs(&self) -> Result<Vec<SynchronizerConfig>> {
        self.refuse("ListRegisteredSynchronizers")
    }
    async fn list_connected(&self) -> Result<Vec<ConnectedSynchronizer>> {
        self.refuse("ListConnectedSynchronizers")
    }
    async fn register(&self, _: SynchronizerConfig, _: bool) -> Result<()> {
        self.refuse("RegisterSynchronizer")
    }
    async fn connect(&self, _: SynchronizerConfig) -> Result<bool> {
        self.refuse("ConnectSynchronizer")
    }
    async fn reconnect(&self, _: &str, _: bool) -> Result<bool> {
        self.refuse("ReconnectSynchronizer")
    }
    async fn disconnect(&self, _: &str) -> Result<()> {
        self.refuse("DisconnectSynchronizer")
    }
    async fn disconnect_all(&self) -> Result<()> {
        self.refuse("DisconnectAllSynchronizers")
    }
    async fn modify(&self, _: SynchronizerConfig, _: Validation) -> Result<()> {
        self.refuse("ModifySynchronizer")
    }

    /// The lost synchronizer's id, as the participant's manifest names it.
    async fn synchronizer_id(&self, alias: &str) -> Result<SynchronizerIds> {
        if alias != self.lost_alias {
            return self.refuse("GetSynchronizerId");
        }
        Ok(SynchronizerIds {
            logical: self.manifest.synchronizer_id.clone(),
            physical: self.manifest.synchronizer_id.clone(),
        })
    }

    /// The snapshot the participant's deck exported for this deck and relayed through the
    /// coordinator, checked against the participant's manifest.
    async fn export_acs(&self, _: Option<&str>, _: i64) -> Result<ContractStream> {
        let contracts = self
            .relay
            .snapshot_from(&self.name, &self.manifest)
            .await
            .map_err(|message| ClientError::Protocol {
                participant: self.name.clone(),
                rpc: "ExportAcs",
                message,
            })?;
        Ok(futures::stream::iter(contracts.into_iter().map(Ok)).boxed())
    }

    async fn import_acs(&self, _: &str, _: ImportMode, _: ContractStream) -> Result<()> {
        self.refuse("ImportAcs")
    }
    async fn change_assignation(&self, _: &str, _: &str, _: &[String], _: bool) -> Result<()> {
        self.refuse("ChangeAssignation")
    }
    async fn purge(&self, _: &str, _: &[String], _: bool) -> Result<()> {
        self.refuse("PurgeContracts")
    }
    async fn inspect_contracts(&self, _: &str, _: &[String]) -> Result<Vec<ContractInspection>> {
        self.refuse("InspectCommitmentContracts")
    }
    async fn count_in_flight(&self, _: &str) -> Result<InFlight> {
        self.refuse("CountInFlight")
    }
    async fn status(&self) -> Result<ParticipantStatus> {
        self.refuse("ParticipantStatus")
    }
    async fn ping(&self, _: &[String], _: &str, _: Duration) -> Result<PingOutcome> {
        self.refuse("Ping")
    }

    /// Nothing is read at an offset of this participant; any positive offset will do.
    async fn ledger_end(&self) -> Result<i64> {
        Ok(1)
    }
    async fn active_contracts(&self, _: i64, _: bool) -> Result<AcsStream> {
        self.refuse("GetActiveContracts")
    }

    /// The admin party from the participant's manifest: verification pings it.
    async fn admin_party(&self) -> Result<String> {
        if self.manifest.admin_party.is_empty() {
            return self.refuse("ParticipantStatus");
        }
        Ok(self.manifest.admin_party.clone())
    }

    /// The parties the participant hosts, from its manifest.
    async fn known_parties(&self) -> Result<Vec<KnownParty>> {
        Ok(self
            .manifest
            .hosted_parties
            .iter()
            .map(|p| KnownParty {
                party: p.clone(),
                is_local: true,
            })
            .collect())
    }
    async fn submit_and_wait(&self, _: Submission) -> Result<SubmitOutcome> {
        self.refuse("SubmitAndWait")
    }
}
