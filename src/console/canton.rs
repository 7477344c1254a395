//! Where each console command the scripts use is defined in Canton's source. Every emitted
//! command carries one of these as a comment, so a reviewer can open the file on the branch
//! and check the name, the parameter names and the types the script relies on.
//!
//! Branches: `release-line-3.5` (identical in `main` for everything cited here),
//! `release-line-3.4` where 3.4 differs, `release-line-2.10` for the 2.x (domain) console.

use super::Dialect;

/// A console command (or type) and the Canton source file that defines it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Cite {
    pub what: &'static str,
    pub branch: &'static str,
    pub path: &'static str,
}

impl Cite {
    pub fn comment(&self) -> String {
        format!("// {} — {}:{}", self.what, self.branch, self.path)
    }
}

const B35: &str = "release-line-3.5";
const B34: &str = "release-line-3.4";
const B210: &str = "release-line-2.10";

const CONSOLE: &str = "community/app-base/src/main/scala/com/digitalasset/canton/console";
const PARTICIPANT_ADMIN: &str =
    "community/app-base/src/main/scala/com/digitalasset/canton/console/commands/ParticipantAdministration.scala";
const REPAIR_ADMIN: &str =
    "community/app-base/src/main/scala/com/digitalasset/canton/console/commands/ParticipantRepairAdministration.scala";
const PARTIES_ADMIN: &str =
    "community/app-base/src/main/scala/com/digitalasset/canton/console/commands/PartiesAdministration.scala";
const LEDGER_API_ADMIN: &str =
    "community/app-base/src/main/scala/com/digitalasset/canton/console/commands/LedgerApiAdministration.scala";
const CONSOLE_MACROS: &str = "community/app-base/src/main/scala/com/digitalasset/canton/console/ConsoleMacros.scala";
const REPAIR_MACROS: &str = "community/app-base/src/main/scala/com/digitalasset/canton/console/RepairMacros.scala";
const TOPOLOGY_DATA: &str =
    "community/app-base/src/main/scala/com/digitalasset/canton/admin/api/client/data/Topology.scala";
const MEMBER: &str = "community/base/src/main/scala/com/digitalasset/canton/topology/Member.scala";
const TAGS: &str = "community/base/src/main/scala/com/digitalasset/canton/Tags.scala";
const PROTOCOL_PACKAGE: &str = "community/base/src/main/scala/com/digitalasset/canton/protocol/package.scala";
const DURATION: &str = "community/base/src/main/scala/com/digitalasset/canton/config/RefinedNonNegativeDuration.scala";
const CLI: &str = "community/app/src/main/scala/com/digitalasset/canton/cli/Cli.scala";

/// The commands and types the scripts use, by what they do in the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cmd {
    /// How a script is run: `canton run FILE` / `--bootstrap FILE`.
    Run,
    /// Canton's own repair procedure the stages follow.
    Procedure,
    Alias,
    ContractId,
    Duration,
    RetryUntilTrue,
    ListConnected,
    Disconnect,
    DisconnectAll,
    Modify,
    ManualConnect,
    Validation,
    Reconnect,
    IdOf,
    PartiesList,
    ParticipantOfParty,
    FilterString,
    Ping,
    Purge,
    LedgerEnd,
    ExportAcs,
    ReadSnapshot,
    ProtocolVersion,
    WriteSnapshot,
    ImportAcs,
    /// Active contracts with their synchronizer (3.x: Ledger API ACS; 2.x: pcs_search).
    Active,
    ActiveEntry,
    Move,
    /// 2.x only: the contract record that travels in the hand-off file.
    ContractProto,
    /// 2.x only: wrapping a contract for `repair.add`.
    WithWitnesses,
}

impl Cmd {
    pub fn cite(self, dialect: Dialect) -> Cite {
        match dialect {
            Dialect::Canton3 => v35(self),
            Dialect::Canton34 => v34(self),
            Dialect::Canton2 => v210(self),
        }
    }
}

const fn c(what: &'static str, branch: &'static str, path: &'static str) -> Cite {
    Cite { what, branch, path }
}

fn v35(cmd: Cmd) -> Cite {
    match cmd {
        Cmd::Run => c("canton run FILE / --bootstrap FILE", B35, CLI),
        Cmd::Procedure => c(
            "user-manual entries ConsiderSynchronizerBroken, InitializeIdentityStateAndDisconnect, ChangeContractsSynchronizer, VerifyNewSynchronizerWorks",
            B35,
            "community/app/src/test/scala/com/digitalasset/canton/integration/tests/repair/SynchronizerRepairIntegrationTest.scala",
        ),
        Cmd::Alias => c("SynchronizerAlias.tryCreate", B35, TAGS),
        Cmd::ContractId => c(
            "LfContractId (= Value.ContractId) .assertFromString",
            B35,
            "community/daml-lf/transaction/src/main/scala/com/digitalasset/daml/lf/value/Value.scala",
        ),
        Cmd::Duration => c("NonNegativeDuration.ofMinutes", B35, DURATION),
        Cmd::RetryUntilTrue => c(
            "utils.retry_until_true(timeout)(condition, failure)",
            B35,
            CONSOLE_MACROS,
        ),
        Cmd::ListConnected => c(
            "synchronizers.list_connected(): Seq[ListConnectedSynchronizersResult] (.synchronizerAlias)",
            B35,
            PARTICIPANT_ADMIN,
        ),
        Cmd::Disconnect => c("synchronizers.disconnect(synchronizerAlias)", B35, PARTICIPANT_ADMIN),
        Cmd::DisconnectAll => c("synchronizers.disconnect_all()", B35, PARTICIPANT_ADMIN),
        Cmd::Modify => c(
            "synchronizers.modify(synchronizerAlias, modifier, validation)",
            B35,
            PARTICIPANT_ADMIN,
        ),
        Cmd::ManualConnect => c(
            "SynchronizerConnectionConfig.manualConnect",
            B35,
            "community/app-base/src/main/scala/com/digitalasset/canton/admin/api/client/data/SynchronizerConnectionConfig.scala",
        ),
        Cmd::Validation => c(
            "SequencerConnectionValidation.Disabled / .All",
            B35,
            "community/app-base/src/main/scala/com/digitalasset/canton/admin/api/client/data/SequencerConnections.scala",
        ),
        Cmd::Reconnect => c(
            "synchronizers.reconnect(synchronizerAlias, retry): Boolean",
            B35,
            PARTICIPANT_ADMIN,
        ),
        Cmd::IdOf => c(
            "synchronizers.id_of(synchronizerAlias) (from the stored config; no connection needed)",
            B35,
            PARTICIPANT_ADMIN,
        ),
        Cmd::PartiesList => c(
            "parties.list(filterParticipant, synchronizerIds): Seq[ListPartiesResult]",
            B35,
            PARTIES_ADMIN,
        ),
        Cmd::ParticipantOfParty => c("ListPartiesResult.participants(_).participant", B35, TOPOLOGY_DATA),
        Cmd::FilterString => c("Member.filterString (= uid.toProtoPrimitive)", B35, MEMBER),
        Cmd::Ping => c(
            "health.ping(participantId, timeout, synchronizerId)",
            B35,
            PARTICIPANT_ADMIN,
        ),
        Cmd::Purge => c(
            "repair.purge(synchronizerAlias, contractIds, ignoreAlreadyPurged)",
            B35,
            REPAIR_ADMIN,
        ),
        Cmd::LedgerEnd => c("ledger_api.state.end(): Long", B35, LEDGER_API_ADMIN),
        Cmd::ExportAcs => c(
            "repair.export_acs(parties, ledgerOffset: Long, exportFilePath, synchronizerId)",
            B35,
            REPAIR_ADMIN,
        ),
        Cmd::ReadSnapshot => c(
            "repair.acs.read_from_file(source): Seq[ActiveContract] (.getCreatedEvent.contractId)",
            B35,
            REPAIR_MACROS,
        ),
        Cmd::ProtocolVersion => c(
            "synchronizers.physical_id_of(alias).protocolVersion (PhysicalSynchronizerId in topology/Member.scala)",
            B35,
            PARTICIPANT_ADMIN,
        ),
        Cmd::WriteSnapshot => c(
            "repair.write_contracts_to_file(contracts, protocolVersion, exportFilePath)",
            B35,
            REPAIR_ADMIN,
        ),
        Cmd::ImportAcs => c(
            "repair.import_acs(synchronizerId, importFilePath, workflowIdPrefix)",
            B35,
            REPAIR_ADMIN,
        ),
        Cmd::Active => c(
            "ledger_api.state.acs.of_all(limit, verbose, resultFilter): Seq[WrappedContractEntry]",
            B35,
            LEDGER_API_ADMIN,
        ),
        Cmd::ActiveEntry => c(
            "WrappedContractEntry.contractId / .synchronizerId",
            B35,
            "community/app-base/src/main/scala/com/digitalasset/canton/admin/api/client/commands/LedgerApiTypeWrappers.scala",
        ),
        Cmd::Move => c(
            "repair.change_assignation(contractsIds, sourceSynchronizerAlias, targetSynchronizerAlias, skipInactive)",
            B35,
            REPAIR_ADMIN,
        ),
        Cmd::ContractProto | Cmd::WithWitnesses => unreachable_3x(cmd),
    }
}

/// 3.4 differs from 3.5 in the hand-off commands and where `SequencerConnectionValidation`
/// and `SynchronizerConnectionConfig` live; everything else is cited from 3.4 the same way.
fn v34(cmd: Cmd) -> Cite {
    let same = |cite: Cite| Cite { branch: B34, ..cite };
    match cmd {
        Cmd::ManualConnect => c(
            "SynchronizerConnectionConfig.manualConnect",
            B34,
            "community/participant/src/main/scala/com/digitalasset/canton/participant/synchronizer/SynchronizerConnectionConfig.scala",
        ),
        Cmd::Validation => c(
            "SequencerConnectionValidation.Disabled / .All",
            B34,
            "community/base/src/main/scala/com/digitalasset/canton/sequencing/SequencerConnections.scala",
        ),
        Cmd::ContractId => c(
            "LfContractId.assertFromString (as Canton's own tests call it)",
            B34,
            "community/app/src/test/scala/com/digitalasset/canton/integration/tests/TickRequestIntegrationTest.scala",
        ),
        Cmd::ExportAcs => c(
            "repair.export_acs(parties, ledgerOffset: NonNegativeLong, exportFilePath, synchronizerId)",
            B34,
            REPAIR_ADMIN,
        ),
        Cmd::LedgerEnd => c(
            "ledger_api.state.end(): Long; NonNegativeLong.tryCreate in config/RequireTypes.scala",
            B34,
            LEDGER_API_ADMIN,
        ),
        Cmd::WriteSnapshot => c(
            "repair.write_contracts_to_file(contracts, exportFilePath)",
            B34,
            REPAIR_ADMIN,
        ),
        Cmd::ImportAcs => c("repair.import_acs(importFilePath, workflowIdPrefix)", B34, REPAIR_ADMIN),
        Cmd::ProtocolVersion => unreachable_3x(cmd),
        other => same(v35(other)),
    }
}

fn v210(cmd: Cmd) -> Cite {
    match cmd {
        Cmd::Run => c("canton run FILE / --bootstrap FILE", B210, CLI),
        Cmd::Procedure => c(
            "the lost-domain repair example (features, participants, bootstrap)",
            B210,
            "community/app/src/pack/examples/07-repair/README.md",
        ),
        Cmd::Alias => c("DomainAlias.tryCreate", B210, TAGS),
        Cmd::ContractId => c(
            "LfContractId (= Value.ContractId) .assertFromString, as Canton itself calls it",
            B210,
            "community/base/src/main/scala/com/digitalasset/canton/protocol/CantonContractIdVersion.scala",
        ),
        Cmd::Duration => c("NonNegativeDuration.ofMinutes", B210, DURATION),
        Cmd::RetryUntilTrue => c(
            "utils.retry_until_true(timeout)(condition, failure)",
            B210,
            CONSOLE_MACROS,
        ),
        Cmd::ListConnected => c(
            "domains.list_connected(): Seq[ListConnectedDomainsResult] (.domainAlias)",
            B210,
            PARTICIPANT_ADMIN,
        ),
        Cmd::Disconnect => c("domains.disconnect(domainAlias)", B210, PARTICIPANT_ADMIN),
        Cmd::DisconnectAll => c("domains.disconnect_all()", B210, PARTICIPANT_ADMIN),
        Cmd::Modify => c(
            "domains.modify(domain, modifier) (2.x has no sequencer-validation option)",
            B210,
            PARTICIPANT_ADMIN,
        ),
        Cmd::ManualConnect => c(
            "DomainConnectionConfig.manualConnect",
            B210,
            "community/participant/src/main/scala/com/digitalasset/canton/participant/domain/DomainConnectionConfig.scala",
        ),
        Cmd::Validation => unreachable_2x(cmd),
        Cmd::Reconnect => c(
            "domains.reconnect(domainAlias, retry): Boolean",
            B210,
            PARTICIPANT_ADMIN,
        ),
        Cmd::IdOf => unreachable_2x(cmd),
        Cmd::PartiesList => c(
            "parties.list(filterParticipant): Seq[ListPartiesResult]",
            B210,
            PARTIES_ADMIN,
        ),
        Cmd::ParticipantOfParty => c("ListPartiesResult.participants(_).participant", B210, TOPOLOGY_DATA),
        Cmd::FilterString => c("Member.filterString (= uid.toProtoPrimitive)", B210, MEMBER),
        Cmd::Ping => c(
            "health.ping(participantId, timeout) (2.x picks the domain: only the target is connected)",
            B210,
            PARTICIPANT_ADMIN,
        ),
        Cmd::Purge => c(
            "repair.purge(domain, contractIds, offboardedParties, ignoreAlreadyPurged)",
            B210,
            REPAIR_ADMIN,
        ),
        Cmd::Active | Cmd::ExportAcs => c(
            "testing.pcs_search(domainAlias, activeSet, limit): List[(Boolean, SerializableContract)] (local participant, testing commands)",
            B210,
            PARTICIPANT_ADMIN,
        ),
        Cmd::ActiveEntry => c(
            "SerializableContract.contractId (.coid)",
            B210,
            "community/base/src/main/scala/com/digitalasset/canton/protocol/SerializableContract.scala",
        ),
        Cmd::ReadSnapshot => c("utils.read_all_messages_from_file[A](fileName)", B210, CONSOLE_MACROS),
        Cmd::WriteSnapshot => c(
            "utils.write_to_file(data: Seq[GeneratedMessage], fileName)",
            B210,
            CONSOLE_MACROS,
        ),
        Cmd::ContractProto => c(
            "SerializableContract.toProtoV2 / SerializableContract.fromProtoV2 (protocol/v2/common.proto)",
            B210,
            "community/base/src/main/scala/com/digitalasset/canton/protocol/SerializableContract.scala",
        ),
        Cmd::WithWitnesses => c(
            "SerializableContractWithWitnesses(contract, witnesses)",
            B210,
            "community/base/src/main/scala/com/digitalasset/canton/protocol/SerializableContractWithWitnesses.scala",
        ),
        Cmd::ImportAcs => c(
            "repair.add(domain, contractsToAdd, ignoreAlreadyAdded) (LocalParticipantRepairAdministration)",
            B210,
            REPAIR_ADMIN,
        ),
        Cmd::Move => c(
            "repair.change_domain(contractIds, sourceDomain, targetDomain, skipInactive) (LocalParticipantRepairAdministration)",
            B210,
            REPAIR_ADMIN,
        ),
        Cmd::LedgerEnd | Cmd::ProtocolVersion => unreachable_2x(cmd),
    }
}

/// What a dialect does not use: the 2.x hand-off needs no 3.x snapshot commands and vice
/// versa. A test checks that no script ever shows this.
pub(super) const NOT_USED: &str = "(not used in this dialect)";

fn unreachable_3x(_cmd: Cmd) -> Cite {
    c(NOT_USED, B35, CONSOLE)
}

fn unreachable_2x(_cmd: Cmd) -> Cite {
    c(NOT_USED, B210, CONSOLE)
}

/// The imports the console predefines; the scripts still import what they use explicitly.
pub(super) fn predef(dialect: Dialect) -> Cite {
    let branch = match dialect {
        Dialect::Canton3 => B35,
        Dialect::Canton34 => B34,
        Dialect::Canton2 => B210,
    };
    c(
        "console predef (implicit ConsoleEnvironment, ConsoleMacros._ incl. utils and repair)",
        branch,
        "community/app-base/src/main/scala/com/digitalasset/canton/console/ConsoleEnvironmentBinding.scala",
    )
}

/// `LfContractId` itself, the alias the console commands take.
pub(super) fn contract_id_type(dialect: Dialect) -> Cite {
    let branch = match dialect {
        Dialect::Canton3 => B35,
        Dialect::Canton34 => B34,
        Dialect::Canton2 => B210,
    };
    c("type LfContractId / val LfContractId", branch, PROTOCOL_PACKAGE)
}
