//! Generated protobuf and gRPC code, nested as the protobuf packages are (prost refers
//! across packages with `super::` paths), with short aliases for the rest of the crate.

#![allow(clippy::all, missing_docs, rustdoc::all)]

pub mod com {
    pub mod digitalasset {
        pub mod canton {
            pub mod admin {
                pub mod participant {
                    pub mod v30 {
                        tonic::include_proto!("com.digitalasset.canton.admin.participant.v30");
                    }
                }
                pub mod sequencer {
                    pub mod v30 {
                        tonic::include_proto!("com.digitalasset.canton.admin.sequencer.v30");
                    }
                }
                pub mod time {
                    pub mod v30 {
                        tonic::include_proto!("com.digitalasset.canton.admin.time.v30");
                    }
                }
                pub mod topology {
                    pub mod v30 {
                        tonic::include_proto!("com.digitalasset.canton.admin.topology.v30");
                    }
                }
                pub mod pruning {
                    pub mod v30 {
                        tonic::include_proto!("com.digitalasset.canton.admin.pruning.v30");
                    }
                }
                pub mod health {
                    pub mod v30 {
                        tonic::include_proto!("com.digitalasset.canton.admin.health.v30");
                    }
                }
            }
            pub mod version {
                pub mod v1 {
                    tonic::include_proto!("com.digitalasset.canton.version.v1");
                }
            }
            pub mod protocol {
                pub mod v30 {
                    tonic::include_proto!("com.digitalasset.canton.protocol.v30");
                }
            }
            pub mod topology {
                pub mod admin {
                    pub mod v30 {
                        tonic::include_proto!("com.digitalasset.canton.topology.admin.v30");
                    }
                }
            }
        }
    }
    pub mod daml {
        pub mod ledger {
            pub mod api {
                pub mod v2 {
                    tonic::include_proto!("com.daml.ledger.api.v2");
                    pub mod admin {
                        tonic::include_proto!("com.daml.ledger.api.v2.admin");
                    }
                }
            }
        }
    }
}

pub mod google {
    pub mod rpc {
        tonic::include_proto!("google.rpc");
    }
}

pub mod recoverydeck {
    pub mod lab {
        pub mod v1 {
            tonic::include_proto!("recoverydeck.lab.v1");
        }
    }
    pub mod collab {
        pub mod v1 {
            tonic::include_proto!("recoverydeck.collab.v1");
        }
    }
}

/// Ledger API v2.
pub use com::daml::ledger::api::v2 as ledger;
/// Ledger API v2 admin services.
pub use com::daml::ledger::api::v2::admin as ledger_admin;
/// Canton participant status messages.
pub use com::digitalasset::canton::admin::health::v30 as health;
/// Canton participant admin API v30.
pub use com::digitalasset::canton::admin::participant::v30 as admin;
/// Canton's automatic pruning schedule messages.
pub use com::digitalasset::canton::admin::pruning::v30 as pruning;
/// Sequencer connection messages used in synchronizer configs.
pub use com::digitalasset::canton::admin::sequencer::v30 as sequencer;
/// Time tracker messages used in synchronizer configs.
pub use com::digitalasset::canton::admin::time::v30 as time;
/// Canton's topology mappings (vetted packages).
pub use com::digitalasset::canton::protocol::v30 as protocol;
/// Canton's topology read service (vetted packages) and its store ids.
pub use com::digitalasset::canton::topology::admin::v30 as topology_admin;
/// `UntypedVersionedMessage`, the envelope of ACS snapshots.
pub use com::digitalasset::canton::version::v1 as version;
/// The multi-operator session coordinator's protocol.
pub use recoverydeck::collab::v1 as collab;
/// The lab's own protocol (synchronizer, fault injection, counters).
pub use recoverydeck::lab::v1 as lab;

#[cfg(test)]
mod tests;
