//! Package vetting messages: TopologyManagerReadService.ListVettedPackages
//! (topology/admin/v30, community/base) with the VettedPackages mapping
//! (protocol/v30/topology.proto), and PackageService.VetDar / UnvetDar
//! (admin/participant/v30/package_service.proto), release-line-3.5 and 3.4.

use super::*;
use crate::wire::protocol::{self, vetted_packages::VettedPackage};
use crate::wire::topology_admin::{self as ta, base_query::TimeQuery, store_id, synchronizer};

#[test]
fn list_vetted_packages_request() {
    let store_b = pb(&[(2, M(pb(&[(1, S("newDomain::1220bb"))])))]);
    let bytes = pb(&[
        (1, M(pb(&[(1, M(store_b)), (3, U(1)), (6, M(vec![])), (8, S(""))]))),
        (2, S("participant2::1220cc")),
    ]);
    let decoded = ta::ListVettedPackagesRequest::decode(bytes.as_slice()).expect("decodes");
    assert_eq!(
        decoded,
        ta::ListVettedPackagesRequest {
            base_query: Some(ta::BaseQuery {
                store: Some(ta::StoreId {
                    store: Some(store_id::Store::Synchronizer(ta::Synchronizer {
                        kind: Some(synchronizer::Kind::Id("newDomain::1220bb".into())),
                    })),
                }),
                proposals: false,
                operation: protocol::enums::TopologyChangeOp::AddReplace as i32,
                time_query: Some(TimeQuery::HeadState(())),
                filter_signed_key: String::new(),
                protocol_version: None,
            }),
            filter_participant: "participant2::1220cc".into(),
        }
    );
    // proto3 leaves the empty filter_signed_key out when writing.
    let without_empty = pb(&[
        (
            1,
            M(pb(&[
                (1, M(pb(&[(2, M(pb(&[(1, S("newDomain::1220bb"))])))]))),
                (3, U(1)),
                (6, M(vec![])),
            ])),
        ),
        (2, S("participant2::1220cc")),
    ]);
    assert_eq!(decoded.encode_to_vec(), without_empty);
    let (ts_b, ts) = timestamp(1_750_000_000, 0);
    roundtrip(
        &pb(&[(1, M(pb(&[(1, M(vec![]))]))), (5, M(ts_b)), (9, I(34))]),
        ta::BaseQuery {
            store: Some(ta::StoreId {
                store: Some(store_id::Store::Authorized(store_id::Authorized {})),
            }),
            time_query: Some(TimeQuery::Snapshot(ts)),
            protocol_version: Some(34),
            ..ta::BaseQuery::default()
        },
    );
}

#[test]
fn list_vetted_packages_response() {
    let (until_b, until) = timestamp(1_900_000_000, 0);
    let item = pb(&[
        (1, S("participant2::1220cc")),
        (2, S("old")),
        (4, M(pb(&[(1, S("pkgA"))]))),
        (4, M(pb(&[(1, S("pkgB")), (3, M(until_b))]))),
    ]);
    let context = pb(&[(5, U(1)), (7, U(3))]);
    #[allow(deprecated)]
    let expected = ta::ListVettedPackagesResponse {
        results: vec![ta::list_vetted_packages_response::Result {
            context: Some(ta::BaseResult {
                operation: protocol::enums::TopologyChangeOp::AddReplace as i32,
                serial: 3,
                ..ta::BaseResult::default()
            }),
            item: Some(protocol::VettedPackages {
                participant_uid: "participant2::1220cc".into(),
                package_ids: vec!["old".into()],
                packages: vec![
                    VettedPackage {
                        package_id: "pkgA".into(),
                        valid_from_inclusive: None,
                        valid_until_exclusive: None,
                    },
                    VettedPackage {
                        package_id: "pkgB".into(),
                        valid_from_inclusive: None,
                        valid_until_exclusive: Some(until),
                    },
                ],
            }),
        }],
    };
    roundtrip(&pb(&[(1, M(pb(&[(1, M(context)), (2, M(item))])))]), expected);
}

#[test]
fn vet_and_unvet_dar() {
    roundtrip(
        &pb(&[(1, S("1220main")), (2, U(1)), (3, S("newDomain::1220bb"))]),
        admin::VetDarRequest {
            main_package_id: "1220main".into(),
            synchronize: true,
            synchronizer_id: Some("newDomain::1220bb".into()),
        },
    );
    roundtrip(
        &pb(&[(1, S("1220main")), (2, S(""))]),
        admin::UnvetDarRequest {
            main_package_id: "1220main".into(),
            synchronizer_id: Some(String::new()),
        },
    );
}
