//! A lab participant node: serves the Canton v30 admin subset and the Ledger API v2
//! subset over gRPC, keeps its state in SQLite, talks to lab synchronizers, and
//! behaves as Canton does where recovery depends on it (preconditions, per-contract
//! repair rules, error codes).

mod connectivity;
mod inspection;
mod ledger;
mod protocol;
mod pruning;
mod reassign;
mod repair;
mod session;
mod vetting;

pub use connectivity::ConnectivityService;
pub use inspection::{InspectionService, PingService, StatusService};
pub use ledger::{CommandService, PartyService, StateService};
pub use pruning::PruningService;
pub use repair::RepairService;
pub use vetting::{PackageService, TopologyReadService};

use crate::canton_error::{self, codes};
use crate::lab::dialect::Dialect;
use crate::lab::ids;
use crate::lab::store::{Store, StoreError};
use crate::wire::lab::{
    ArmCrashRequest, ArmCrashResponse, CountersRequest, CountersResponse, participant_control_server,
};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

/// The outcome of one of our own submissions, delivered when its verdict is processed.
#[derive(Debug, Clone)]
pub struct Completion {
    pub update_id: String,
    pub offset: i64,
    pub rejection: Option<String>,
}

/// A live connection to a synchronizer (the task that holds the subscription).
struct Conn {
    cancel: CancellationToken,
    /// The subscription is currently established.
    healthy: Arc<AtomicBool>,
    /// The subscription was established at least once since this connect.
    established: Arc<AtomicBool>,
    synchronizer_id: String,
    physical_id: String,
    task: tokio::task::JoinHandle<()>,
}

pub struct Node {
    pub name: String,
    /// Canton's `UniqueIdentifier` of the participant, also its admin party's id.
    pub uid: String,
    /// The sequencer member id (`PAR::uid`): what the synchronizer knows us by.
    pub member: String,
    /// The Canton release line whose rules this node follows.
    pub dialect: Dialect,
    /// Canton's `enableAllLedgerApiReassignments` participant setting.
    pub enable_all_reassignments: bool,
    db_path: PathBuf,
    store: Mutex<Store>,
    conns: Mutex<HashMap<String, Conn>>,
    waiters: Mutex<HashMap<String, oneshot::Sender<Completion>>>,
    counters: Mutex<BTreeMap<String, u64>>,
    /// Drills arm it to crash the node at a chosen call (`crate::lab::crash`).
    pub crash: crate::lab::crash::CrashSwitch,
    /// Repairs and connection establishment take turns, as on Canton's shared queue (the
    /// `SimpleExecutionQueue` of participant/sync/SynchronizerConnectionsManager.scala, handed
    /// to participant/admin/repair/RepairService.scala as its `executionQueue`).
    repair_lock: tokio::sync::Mutex<()>,
    started: Instant,
    ports: Mutex<BTreeMap<String, i32>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// An internal failure as Canton reports one: category 4 (SystemInternalAssumptionViolated)
/// redacts its details, so the caller gets "An error occurred…" with a correlation id and
/// the cause goes to the node's log only (SerializableErrorComponents.scala,
/// SecuritySensitiveErrorCodeComponents, base/errors, release-line-3.5).
pub(crate) fn internal(what: impl std::fmt::Display) -> Status {
    let status = canton_error::status(codes::SERVICE_INTERNAL_ERROR, what.to_string());
    tracing::error!("internal error ({}): {what}", status.message());
    status
}

/// A store failure, as Canton reports an internal error.
pub(crate) fn store_error(e: StoreError) -> Status {
    internal(format_args!("participant store: {e}"))
}

impl Node {
    /// Opens (or creates) the participant's store and allocates `parties` (hints).
    pub fn open(
        name: &str,
        dir: &Path,
        parties: &[String],
        dialect: Dialect,
        enable_all_reassignments: bool,
    ) -> Result<Arc<Node>, StoreError> {
        let db_path = dir.join("participant.db");
        let store = Store::open(&db_path)?;
        store.set_meta("name", name)?;
        // Canton allocates the admin party with the participant (topology/Member.scala,
        // adminParty); pings are addressed to it (participant/admin/PingService.scala).
        store.add_party(&ids::participant_uid(name))?;
        for hint in parties {
            store.add_party(&ids::party_id(hint, name))?;
        }
        Ok(Arc::new(Node {
            name: name.to_string(),
            uid: ids::participant_uid(name),
            member: ids::participant_member(name),
            dialect,
            enable_all_reassignments,
            db_path,
            store: Mutex::new(store),
            conns: Mutex::new(HashMap::new()),
            waiters: Mutex::new(HashMap::new()),
            counters: Mutex::new(BTreeMap::new()),
            crash: Default::default(),
            repair_lock: tokio::sync::Mutex::new(()),
            started: Instant::now(),
            ports: Mutex::new(BTreeMap::new()),
        }))
    }

    /// The synchronizer aliases on which this node does not vet its DAR when it first
    /// connects (see `store::vetting`).
    pub fn set_unvetted_on(&self, aliases: &[String]) -> Result<(), StoreError> {
        lock(&self.store).set_unvetted_on(aliases)
    }

    pub fn set_ports(&self, ports: BTreeMap<String, i32>) {
        *lock(&self.ports) = ports;
    }

    /// Runs `f` on the store off the async runtime's threads.
    pub(crate) async fn db<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Status> {
        let node = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = lock(&node.store);
            f(&mut store)
        })
        .await
        .map_err(|e| internal(format_args!("store task failed: {e}")))?
        .map_err(store_error)
    }

    /// A separate read connection for long scans (exports), so they do not hold up
    /// writers; WAL gives it a consistent snapshot.
    pub(crate) fn reader(&self) -> Result<Store, Status> {
        Store::open(&self.db_path).map_err(store_error)
    }

    pub fn count_call(&self, path: &str) {
        *lock(&self.counters).entry(path.to_string()).or_default() += 1;
    }

    pub fn counters(&self) -> BTreeMap<String, u64> {
        lock(&self.counters).clone()
    }

    /// Canton refuses repairs unless every synchronizer is disconnected
    /// (participant/admin/repair/RepairServiceHelpers.scala, withRepairIndexer:
    /// `connectedSynchronizersLookup.isConnectedToAny`). Only connections that were
    /// established count: a synchronizer still being retried in the background (a
    /// restart's reconnect to an unreachable one) is not in Canton's connected lookup.
    pub(crate) fn ensure_all_disconnected(&self, code: canton_error::Code) -> Result<(), Status> {
        let connected = lock(&self.conns)
            .values()
            .any(|c| c.established.load(std::sync::atomic::Ordering::SeqCst));
        if !connected {
            Ok(())
        } else {
            Err(canton_error::status(
                code,
                "There are still synchronizers connected. Please disconnect all synchronizers.",
            ))
        }
    }

    fn complete(&self, submission_id: &str, completion: Completion) {
        if let Some(tx) = lock(&self.waiters).remove(submission_id) {
            let _ = tx.send(completion);
        }
    }

    /// Connects every registered synchronizer without `manual_connect`, as a restarting
    /// Canton participant does (participant/sync/SynchronizerConnectionsManager.scala:
    /// active configs, `manualConnect` unset); unreachable ones are retried in the background.
    pub async fn auto_reconnect(self: &Arc<Self>) {
        let syncs = match self.db(|s| s.syncs()).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("cannot read registered synchronizers: {e}");
                return;
            }
        };
        for s in syncs.into_iter().filter(|s| !s.config.manual_connect) {
            if let Err(e) = connectivity::connect_alias(self, &s.alias, true).await {
                tracing::warn!("auto-reconnect to {}: {}", s.alias, e.message());
            }
        }
    }

    pub fn uptime(&self) -> std::time::Duration {
        self.started.elapsed()
    }
}

#[derive(Clone)]
pub struct ControlService(pub Arc<Node>);

#[tonic::async_trait]
impl participant_control_server::ParticipantControl for ControlService {
    async fn counters(&self, _req: Request<CountersRequest>) -> Result<Response<CountersResponse>, Status> {
        Ok(Response::new(CountersResponse {
            calls: self.0.counters().into_iter().collect(),
        }))
    }

    async fn arm_crash(&self, req: Request<ArmCrashRequest>) -> Result<Response<ArmCrashResponse>, Status> {
        self.0.crash.arm(req.get_ref()).map_err(Status::invalid_argument)?;
        Ok(Response::new(ArmCrashResponse {}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_failures_are_redacted_as_canton_redacts_them() {
        let st = internal("the disk is full at /var/lib/secret");
        assert_eq!(st.code(), tonic::Code::Internal);
        assert!(
            !st.message().contains("disk"),
            "the cause stays in the log: {}",
            st.message()
        );
        let e = canton_error::from_status(&st).expect("Canton's redacted form");
        assert!(e.redacted);
        assert_eq!(e.correlation.len(), 8, "a correlation id to ask the operator about");
        assert!(st.message().contains(&e.correlation));
        let store = store_error(StoreError::Corrupt("row 7".into()));
        assert!(canton_error::from_status(&store).is_some_and(|e| e.redacted));
    }
}
