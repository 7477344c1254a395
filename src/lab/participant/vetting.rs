//! Package vetting as a Canton 3.4+ participant exposes it: TopologyManagerReadService.
//! ListVettedPackages reads a synchronizer's topology store (GrpcTopologyManagerReadService
//! and GrpcTopologyServiceUtil.collectActiveStores, community/common, release-line-3.5),
//! and PackageService.VetDar / UnvetDar change it on a connected synchronizer
//! (GrpcPackageService.findSynchronizerId, community/participant). See
//! `store::vetting` for what the lab keeps.

use super::{Node, lock};
use crate::canton_error::{self, codes};
use crate::lab::ids;
use crate::lab::store::vetting;
use crate::lab::templates;
use crate::wire::admin::package_service_server::PackageService as Packages;
use crate::wire::admin::{UnvetDarRequest, UnvetDarResponse, VetDarRequest, VetDarResponse};
use crate::wire::protocol::{VettedPackages, enums::TopologyChangeOp, vetted_packages::VettedPackage};
use crate::wire::topology_admin::topology_manager_read_service_server::TopologyManagerReadService as TopologyRead;
use crate::wire::topology_admin::{
    BaseResult, ListVettedPackagesRequest, ListVettedPackagesResponse, StoreId, Synchronizer,
    list_vetted_packages_response, store_id, synchronizer,
};
use std::sync::Arc;
use tonic::{Request, Response, Status};

#[derive(Clone)]
pub struct TopologyReadService(pub Arc<Node>);

#[derive(Clone)]
pub struct PackageService(pub Arc<Node>);

/// The logical synchronizer id a store names; `None` for the authorized or a temporary
/// store, which hold no vetting in 3.4+ (vetting goes to a synchronizer's store).
fn synchronizer_of(store: &StoreId) -> Option<String> {
    match &store.store {
        Some(store_id::Store::Synchronizer(Synchronizer { kind: Some(kind) })) => Some(
            match kind {
                synchronizer::Kind::Id(id) | synchronizer::Kind::PhysicalId(id) => ids::logical_of(id),
            }
            .to_string(),
        ),
        _ => None,
    }
}

fn store_of(synchronizer_id: &str) -> StoreId {
    StoreId {
        store: Some(store_id::Store::Synchronizer(Synchronizer {
            kind: Some(synchronizer::Kind::Id(synchronizer_id.to_string())),
        })),
    }
}

#[tonic::async_trait]
impl TopologyRead for TopologyReadService {
    async fn list_vetted_packages(
        &self,
        req: Request<ListVettedPackagesRequest>,
    ) -> Result<Response<ListVettedPackagesResponse>, Status> {
        let node = self.0.clone();
        let req = req.into_inner();
        let query = req.base_query.unwrap_or_default();
        // Without a store, Canton reads every local store and every active synchronizer
        // store; asked for a synchronizer store it does not have, it says so.
        let stores: Vec<String> = match &query.store {
            None => {
                node.db(|s| Ok(s.syncs()?.into_iter().filter_map(|s| s.synchronizer_id).collect()))
                    .await?
            }
            Some(store) => synchronizer_of(store).into_iter().collect(),
        };
        let mut results = Vec::new();
        for sync_id in stores {
            let id = sync_id.clone();
            let Some(vetting) = node.db(move |s| vetting::vetting(s.conn_ref(), &id)).await? else {
                if query.store.is_some() {
                    return Err(canton_error::status(
                        codes::TOPOLOGY_STORE_NOT_FOUND,
                        format!("Topology store 'Synchronizer({sync_id})' is not known."),
                    ));
                }
                continue;
            };
            // Canton's filter matches the participant's uid by prefix.
            if query.proposals
                || !node.uid.starts_with(&req.filter_participant)
                || query.operation == TopologyChangeOp::Remove as i32
            {
                continue;
            }
            results.push(list_vetted_packages_response::Result {
                context: Some(BaseResult {
                    store: Some(store_of(&sync_id)),
                    operation: TopologyChangeOp::AddReplace as i32,
                    serial: i32::try_from(vetting.serial).unwrap_or(i32::MAX),
                    ..BaseResult::default()
                }),
                item: Some(VettedPackages {
                    participant_uid: node.uid.clone(),
                    packages: vetting
                        .packages
                        .into_iter()
                        .map(|package_id| VettedPackage {
                            package_id,
                            valid_from_inclusive: None,
                            valid_until_exclusive: None,
                        })
                        .collect(),
                    ..VettedPackages::default()
                }),
            });
        }
        Ok(Response::new(ListVettedPackagesResponse { results }))
    }
}

impl PackageService {
    /// The synchronizer a vetting change goes to: the one named, which must be connected,
    /// or the only connected one (GrpcPackageService.findSynchronizerId).
    fn target(&self, requested: Option<String>) -> Result<String, Status> {
        let connected: Vec<String> = lock(&self.0.conns)
            .values()
            .map(|c| c.synchronizer_id.clone())
            .collect();
        match requested {
            Some(id) => {
                let id = ids::logical_of(&id).to_string();
                if connected.contains(&id) {
                    Ok(id)
                } else {
                    Err(canton_error::status(
                        codes::PACKAGE_SERVICE_NOT_CONNECTED_TO_SYNCHRONIZER,
                        format!("Cannot upload a dar because the participant is not connected to synchronizer '{id}'."),
                    ))
                }
            }
            None => match connected.as_slice() {
                [only] => Ok(only.clone()),
                [] => Err(canton_error::status(
                    codes::PACKAGE_SERVICE_CANNOT_AUTODETECT_SYNCHRONIZER,
                    "Cannot autodetect synchronizer: no synchronizers currently connected",
                )),
                many => Err(canton_error::status(
                    codes::PACKAGE_SERVICE_CANNOT_AUTODETECT_SYNCHRONIZER,
                    format!(
                        "Cannot autodetect synchronizer: currently connected synchronizers {}",
                        many.join(", ")
                    ),
                )),
            },
        }
    }

    async fn change(
        &self,
        operation: &str,
        main_package_id: String,
        synchronizer_id: Option<String>,
        vetted: bool,
    ) -> Result<(), Status> {
        // The lab holds one DAR, whose main package is the lab's package.
        if main_package_id != templates::package_id() {
            return Err(canton_error::status(
                codes::DAR_NOT_FOUND,
                format!(
                    "{operation} operation failed due to non-existent DAR archive with main package-id {main_package_id}"
                ),
            ));
        }
        let sync_id = self.target(synchronizer_id)?;
        self.0
            .db(move |s| vetting::set_vetted(s.conn_ref(), &sync_id, &main_package_id, vetted))
            .await
    }
}

#[tonic::async_trait]
impl Packages for PackageService {
    async fn vet_dar(&self, req: Request<VetDarRequest>) -> Result<Response<VetDarResponse>, Status> {
        let req = req.into_inner();
        self.change("Vet DAR", req.main_package_id, req.synchronizer_id, true)
            .await?;
        Ok(Response::new(VetDarResponse {}))
    }

    async fn unvet_dar(&self, req: Request<UnvetDarRequest>) -> Result<Response<UnvetDarResponse>, Status> {
        let req = req.into_inner();
        self.change("Unvet DAR", req.main_package_id, req.synchronizer_id, false)
            .await?;
        Ok(Response::new(UnvetDarResponse {}))
    }
}
