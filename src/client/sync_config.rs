//! Synchronizer connection configs as the Canton console builds them: the server
//! requires every duration of the time tracker and the connection pool, so a config
//! with only an alias and a URL is filled with the console's defaults.

use crate::wire::admin::SynchronizerConnectionConfig;
use crate::wire::sequencer::{
    SequencerConnection, SequencerConnectionPoolDelays, SequencerConnections, SubmissionRequestAmplification,
    sequencer_connection,
};
use crate::wire::time::{SynchronizerTimeTrackerConfig, TimeProofRequestConfig};
use prost_types::Duration;

fn secs(s: i64) -> Option<Duration> {
    Some(Duration { seconds: s, nanos: 0 })
}

fn millis(ms: i32) -> Option<Duration> {
    Some(Duration {
        seconds: 0,
        nanos: ms * 1_000_000,
    })
}

/// A config for one sequencer at `url`, with Canton's console defaults.
pub fn default_config(alias: &str, url: &str, manual_connect: bool) -> SynchronizerConnectionConfig {
    SynchronizerConnectionConfig {
        synchronizer_alias: alias.to_string(),
        sequencer_connections: Some(SequencerConnections {
            sequencer_connections: vec![SequencerConnection {
                r#type: Some(sequencer_connection::Type::Grpc(sequencer_connection::Grpc {
                    connections: vec![url.to_string()],
                    transport_security: url.starts_with("https://"),
                    custom_trust_certificates: None,
                })),
                alias: "DefaultSequencer".to_string(),
                sequencer_id: None,
            }],
            sequencer_trust_threshold: 1,
            submission_request_amplification: Some(SubmissionRequestAmplification {
                factor: 1,
                patience: secs(10),
                confirmation_response_factor: None,
                confirmation_response_patience: None,
            }),
            sequencer_liveness_margin: 0,
            sequencer_connection_pool_delays: Some(SequencerConnectionPoolDelays {
                min_restart_delay: millis(10),
                max_restart_delay: secs(10),
                subscription_request_delay: secs(1),
                warn_validation_delay: secs(20),
            }),
            subscription_liveness_limits: None,
        }),
        manual_connect,
        physical_synchronizer_id: String::new(),
        priority: 0,
        initial_retry_delay: None,
        max_retry_delay: None,
        time_tracker: Some(SynchronizerTimeTrackerConfig {
            observation_latency: millis(250),
            patience_duration: millis(500),
            min_observation_duration: secs(30),
            time_proof_request: Some(TimeProofRequestConfig {
                initial_retry_delay: millis(200),
                max_retry_delay: secs(5),
                max_sequencing_delay: secs(10),
            }),
        }),
        initialize_from_trusted_synchronizer: false,
    }
}

/// The sequencer endpoints of a config.
pub fn endpoints(c: &SynchronizerConnectionConfig) -> Vec<String> {
    c.sequencer_connections
        .iter()
        .flat_map(|s| &s.sequencer_connections)
        .filter_map(|sc| {
            sc.r#type.as_ref().map(|t| match t {
                sequencer_connection::Type::Grpc(g) => g.connections.clone(),
            })
        })
        .flatten()
        .collect()
}
