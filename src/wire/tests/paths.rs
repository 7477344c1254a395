use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::codegen::{Service, http};
use tonic::{Code, Status};

use super::super::{admin, lab, ledger, ledger_admin};

const REFUSAL: &str = "recorded";

/// Records the path of every request and refuses it, so that the client code
/// runs exactly as far as the wire.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Service<http::Request<Body>> for Recorder {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        assert_eq!(req.method(), http::Method::POST);
        self.0.lock().expect("recorder lock").push(req.uri().path().to_owned());
        ready(Ok(Status::unimplemented(REFUSAL).into_http()))
    }
}

impl Recorder {
    #[track_caller]
    fn assert_paths(&self, expected: &[&str]) {
        assert_eq!(*self.0.lock().expect("recorder lock"), expected);
    }
}

/// The call must have reached the recorder and come back with its refusal.
#[track_caller]
fn refused<T: std::fmt::Debug>(result: Result<T, Status>) {
    let status = result.expect_err("the recorder refuses every call");
    assert_eq!(status.code(), Code::Unimplemented);
    assert_eq!(status.message(), REFUSAL);
}

#[tokio::test]
async fn synchronizer_connectivity_service() {
    use admin::synchronizer_connectivity_service_client::SynchronizerConnectivityServiceClient;
    let rec = Recorder::default();
    let mut c = SynchronizerConnectivityServiceClient::new(rec.clone());
    refused(
        c.list_registered_synchronizers(admin::ListRegisteredSynchronizersRequest::default())
            .await,
    );
    refused(
        c.list_connected_synchronizers(admin::ListConnectedSynchronizersRequest::default())
            .await,
    );
    refused(
        c.register_synchronizer(admin::RegisterSynchronizerRequest::default())
            .await,
    );
    refused(
        c.connect_synchronizer(admin::ConnectSynchronizerRequest::default())
            .await,
    );
    refused(
        c.reconnect_synchronizer(admin::ReconnectSynchronizerRequest::default())
            .await,
    );
    refused(
        c.disconnect_synchronizer(admin::DisconnectSynchronizerRequest::default())
            .await,
    );
    refused(
        c.disconnect_all_synchronizers(admin::DisconnectAllSynchronizersRequest::default())
            .await,
    );
    refused(c.modify_synchronizer(admin::ModifySynchronizerRequest::default()).await);
    refused(c.get_synchronizer_id(admin::GetSynchronizerIdRequest::default()).await);
    rec.assert_paths(&[
        "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/ListRegisteredSynchronizers",
        "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/ListConnectedSynchronizers",
        "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/RegisterSynchronizer",
        "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/ConnectSynchronizer",
        "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/ReconnectSynchronizer",
        "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/DisconnectSynchronizer",
        "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/DisconnectAllSynchronizers",
        "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/ModifySynchronizer",
        "/com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService/GetSynchronizerId",
    ]);
    assert_eq!(
        admin::synchronizer_connectivity_service_server::SERVICE_NAME,
        "com.digitalasset.canton.admin.participant.v30.SynchronizerConnectivityService"
    );
}

#[tokio::test]
async fn participant_repair_service() {
    use admin::participant_repair_service_client::ParticipantRepairServiceClient;
    let rec = Recorder::default();
    let mut c = ParticipantRepairServiceClient::new(rec.clone());
    refused(c.export_acs(admin::ExportAcsRequest::default()).await);
    let chunks = futures::stream::iter([admin::ImportAcsRequest::default()]);
    refused(c.import_acs(chunks).await);
    refused(c.change_assignation(admin::ChangeAssignationRequest::default()).await);
    refused(c.purge_contracts(admin::PurgeContractsRequest::default()).await);
    rec.assert_paths(&[
        "/com.digitalasset.canton.admin.participant.v30.ParticipantRepairService/ExportAcs",
        "/com.digitalasset.canton.admin.participant.v30.ParticipantRepairService/ImportAcs",
        "/com.digitalasset.canton.admin.participant.v30.ParticipantRepairService/ChangeAssignation",
        "/com.digitalasset.canton.admin.participant.v30.ParticipantRepairService/PurgeContracts",
    ]);
    assert_eq!(
        admin::participant_repair_service_server::SERVICE_NAME,
        "com.digitalasset.canton.admin.participant.v30.ParticipantRepairService"
    );
}

#[tokio::test]
async fn participant_inspection_service() {
    use admin::participant_inspection_service_client::ParticipantInspectionServiceClient;
    let rec = Recorder::default();
    let mut c = ParticipantInspectionServiceClient::new(rec.clone());
    refused(
        c.inspect_commitment_contracts(admin::InspectCommitmentContractsRequest::default())
            .await,
    );
    refused(c.count_in_flight(admin::CountInFlightRequest::default()).await);
    rec.assert_paths(&[
        "/com.digitalasset.canton.admin.participant.v30.ParticipantInspectionService/InspectCommitmentContracts",
        "/com.digitalasset.canton.admin.participant.v30.ParticipantInspectionService/CountInFlight",
    ]);
    assert_eq!(
        admin::participant_inspection_service_server::SERVICE_NAME,
        "com.digitalasset.canton.admin.participant.v30.ParticipantInspectionService"
    );
}

#[tokio::test]
async fn participant_status_service() {
    use admin::participant_status_service_client::ParticipantStatusServiceClient;
    let rec = Recorder::default();
    let mut c = ParticipantStatusServiceClient::new(rec.clone());
    refused(c.participant_status(admin::ParticipantStatusRequest::default()).await);
    rec.assert_paths(&["/com.digitalasset.canton.admin.participant.v30.ParticipantStatusService/ParticipantStatus"]);
    assert_eq!(
        admin::participant_status_service_server::SERVICE_NAME,
        "com.digitalasset.canton.admin.participant.v30.ParticipantStatusService"
    );
}

#[tokio::test]
async fn ping_service() {
    use admin::ping_service_client::PingServiceClient;
    let rec = Recorder::default();
    let mut c = PingServiceClient::new(rec.clone());
    refused(c.ping(admin::PingRequest::default()).await);
    rec.assert_paths(&["/com.digitalasset.canton.admin.participant.v30.PingService/Ping"]);
    assert_eq!(
        admin::ping_service_server::SERVICE_NAME,
        "com.digitalasset.canton.admin.participant.v30.PingService"
    );
}

#[tokio::test]
async fn pruning_service() {
    use crate::wire::pruning;
    use admin::pruning_service_client::PruningServiceClient;
    let rec = Recorder::default();
    let mut c = PruningServiceClient::new(rec.clone());
    refused(c.set_schedule(pruning::SetScheduleRequest::default()).await);
    refused(
        c.set_participant_schedule(pruning::SetParticipantScheduleRequest::default())
            .await,
    );
    refused(c.clear_schedule(pruning::ClearScheduleRequest::default()).await);
    refused(c.get_schedule(pruning::GetScheduleRequest::default()).await);
    refused(
        c.get_participant_schedule(pruning::GetParticipantScheduleRequest::default())
            .await,
    );
    rec.assert_paths(&[
        "/com.digitalasset.canton.admin.participant.v30.PruningService/SetSchedule",
        "/com.digitalasset.canton.admin.participant.v30.PruningService/SetParticipantSchedule",
        "/com.digitalasset.canton.admin.participant.v30.PruningService/ClearSchedule",
        "/com.digitalasset.canton.admin.participant.v30.PruningService/GetSchedule",
        "/com.digitalasset.canton.admin.participant.v30.PruningService/GetParticipantSchedule",
    ]);
    assert_eq!(
        admin::pruning_service_server::SERVICE_NAME,
        "com.digitalasset.canton.admin.participant.v30.PruningService"
    );
}

#[tokio::test]
async fn package_service() {
    use admin::package_service_client::PackageServiceClient;
    let rec = Recorder::default();
    let mut c = PackageServiceClient::new(rec.clone());
    refused(c.vet_dar(admin::VetDarRequest::default()).await);
    refused(c.unvet_dar(admin::UnvetDarRequest::default()).await);
    rec.assert_paths(&[
        "/com.digitalasset.canton.admin.participant.v30.PackageService/VetDar",
        "/com.digitalasset.canton.admin.participant.v30.PackageService/UnvetDar",
    ]);
    assert_eq!(
        admin::package_service_server::SERVICE_NAME,
        "com.digitalasset.canton.admin.participant.v30.PackageService"
    );
}

#[tokio::test]
async fn topology_manager_read_service() {
    use crate::wire::topology_admin::{
        self as ta, topology_manager_read_service_client::TopologyManagerReadServiceClient,
    };
    let rec = Recorder::default();
    let mut c = TopologyManagerReadServiceClient::new(rec.clone());
    refused(c.list_vetted_packages(ta::ListVettedPackagesRequest::default()).await);
    rec.assert_paths(&["/com.digitalasset.canton.topology.admin.v30.TopologyManagerReadService/ListVettedPackages"]);
    assert_eq!(
        ta::topology_manager_read_service_server::SERVICE_NAME,
        "com.digitalasset.canton.topology.admin.v30.TopologyManagerReadService"
    );
}

#[tokio::test]
async fn state_service() {
    use ledger::state_service_client::StateServiceClient;
    let rec = Recorder::default();
    let mut c = StateServiceClient::new(rec.clone());
    refused(c.get_ledger_end(ledger::GetLedgerEndRequest::default()).await);
    refused(
        c.get_active_contracts(ledger::GetActiveContractsRequest::default())
            .await,
    );
    rec.assert_paths(&[
        "/com.daml.ledger.api.v2.StateService/GetLedgerEnd",
        "/com.daml.ledger.api.v2.StateService/GetActiveContracts",
    ]);
    assert_eq!(
        ledger::state_service_server::SERVICE_NAME,
        "com.daml.ledger.api.v2.StateService"
    );
}

#[tokio::test]
async fn command_service() {
    use ledger::command_service_client::CommandServiceClient;
    let rec = Recorder::default();
    let mut c = CommandServiceClient::new(rec.clone());
    refused(c.submit_and_wait(ledger::SubmitAndWaitRequest::default()).await);
    rec.assert_paths(&["/com.daml.ledger.api.v2.CommandService/SubmitAndWait"]);
    assert_eq!(
        ledger::command_service_server::SERVICE_NAME,
        "com.daml.ledger.api.v2.CommandService"
    );
}

#[tokio::test]
async fn party_management_service() {
    use ledger_admin::party_management_service_client::PartyManagementServiceClient;
    let rec = Recorder::default();
    let mut c = PartyManagementServiceClient::new(rec.clone());
    refused(
        c.list_known_parties(ledger_admin::ListKnownPartiesRequest::default())
            .await,
    );
    rec.assert_paths(&["/com.daml.ledger.api.v2.admin.PartyManagementService/ListKnownParties"]);
    assert_eq!(
        ledger_admin::party_management_service_server::SERVICE_NAME,
        "com.daml.ledger.api.v2.admin.PartyManagementService"
    );
}

#[tokio::test]
async fn lab_sequencer() {
    use lab::sequencer_client::SequencerClient;
    let rec = Recorder::default();
    let mut c = SequencerClient::new(rec.clone());
    refused(c.handshake(lab::HandshakeRequest::default()).await);
    refused(c.subscribe(lab::SubscribeRequest::default()).await);
    refused(c.submit(lab::SubmitRequest::default()).await);
    refused(c.confirm(lab::ConfirmRequest::default()).await);
    rec.assert_paths(&[
        "/recoverydeck.lab.v1.Sequencer/Handshake",
        "/recoverydeck.lab.v1.Sequencer/Subscribe",
        "/recoverydeck.lab.v1.Sequencer/Submit",
        "/recoverydeck.lab.v1.Sequencer/Confirm",
    ]);
    assert_eq!(lab::sequencer_server::SERVICE_NAME, "recoverydeck.lab.v1.Sequencer");
}

#[tokio::test]
async fn lab_synchronizer_control() {
    use lab::synchronizer_control_client::SynchronizerControlClient;
    let rec = Recorder::default();
    let mut c = SynchronizerControlClient::new(rec.clone());
    refused(c.arm_partial_delivery(lab::ArmPartialDeliveryRequest::default()).await);
    refused(c.synchronizer_state(lab::SynchronizerStateRequest::default()).await);
    rec.assert_paths(&[
        "/recoverydeck.lab.v1.SynchronizerControl/ArmPartialDelivery",
        "/recoverydeck.lab.v1.SynchronizerControl/SynchronizerState",
    ]);
    assert_eq!(
        lab::synchronizer_control_server::SERVICE_NAME,
        "recoverydeck.lab.v1.SynchronizerControl"
    );
}

#[tokio::test]
async fn lab_participant_control() {
    use lab::participant_control_client::ParticipantControlClient;
    let rec = Recorder::default();
    let mut c = ParticipantControlClient::new(rec.clone());
    refused(c.counters(lab::CountersRequest::default()).await);
    refused(c.arm_crash(lab::ArmCrashRequest::default()).await);
    rec.assert_paths(&[
        "/recoverydeck.lab.v1.ParticipantControl/Counters",
        "/recoverydeck.lab.v1.ParticipantControl/ArmCrash",
    ]);
    assert_eq!(
        lab::participant_control_server::SERVICE_NAME,
        "recoverydeck.lab.v1.ParticipantControl"
    );
}
