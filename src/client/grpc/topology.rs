//! Which packages the participant has vetted on a synchronizer, read from its topology.

use super::GrpcParticipant;
use crate::client::{ParticipantApi, Result};

impl GrpcParticipant {
    pub(super) async fn read_vetted_packages(
        &self,
        synchronizer_id: &str,
    ) -> Result<Option<std::collections::BTreeSet<String>>> {
        use crate::wire::protocol::enums::TopologyChangeOp;
        use crate::wire::topology_admin::{
            BaseQuery, ListVettedPackagesRequest, StoreId, Synchronizer, base_query::TimeQuery, store_id, synchronizer,
            topology_manager_read_service_client::TopologyManagerReadServiceClient,
        };
        const RPC: &str = "ListVettedPackages";
        let uid = self.status().await?.uid;
        let request = ListVettedPackagesRequest {
            base_query: Some(BaseQuery {
                store: Some(StoreId {
                    store: Some(store_id::Store::Synchronizer(Synchronizer {
                        kind: Some(synchronizer::Kind::Id(synchronizer_id.to_string())),
                    })),
                }),
                proposals: false,
                operation: TopologyChangeOp::AddReplace as i32,
                time_query: Some(TimeQuery::HeadState(())),
                filter_signed_key: String::new(),
                protocol_version: None,
            }),
            filter_participant: uid.clone(),
        };
        let answer = TopologyManagerReadServiceClient::new(self.admin.clone())
            .list_vetted_packages(self.req(request, self.timeout))
            .await
            .map_err(self.err(RPC));
        let results = match answer {
            Ok(r) => r.into_inner().results,
            // Canton's answer for a synchronizer store the participant does not have
            // (GrpcTopologyServiceUtil.collectActiveStores, release-line-3.5).
            Err(e) if e.canton_code() == Some("TOPOLOGY_STORE_NOT_FOUND") => return Ok(None),
            Err(e) => return Err(e),
        };
        let now = std::time::SystemTime::now();
        let in_force = |from: &Option<prost_types::Timestamp>, until: &Option<prost_types::Timestamp>| {
            let at = |t: &prost_types::Timestamp| std::time::SystemTime::try_from(*t).ok();
            from.as_ref().and_then(at).is_none_or(|f| f <= now) && until.as_ref().and_then(at).is_none_or(|u| now < u)
        };
        let mut vetted = std::collections::BTreeSet::new();
        for item in results.into_iter().filter_map(|r| r.item) {
            // The filter matches uids by prefix: keep this participant's own mapping.
            if item.participant_uid != uid {
                continue;
            }
            #[allow(deprecated)]
            vetted.extend(item.package_ids);
            vetted.extend(
                item.packages
                    .into_iter()
                    .filter(|p| in_force(&p.valid_from_inclusive, &p.valid_until_exclusive))
                    .map(|p| p.package_id),
            );
        }
        Ok(Some(vetted))
    }
}
