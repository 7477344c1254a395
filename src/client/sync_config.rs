//! Synchronizer connection configs. [`SynchronizerConfig`] is what the rest of the crate
//! sees: the alias, the sequencers and `manual_connect`, over the config Canton stored,
//! kept whole so that a read-modify-write writes back every field it sent. A new config is
//! built as the Canton console builds one: the server requires every duration of the time
//! tracker and the connection pool, so a config with only an alias and a URL is filled
//! with the console's defaults.

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

/// A synchronizer connection config.
#[derive(Debug, Clone, PartialEq)]
pub struct SynchronizerConfig {
    wire: SynchronizerConnectionConfig,
    unknown_fields: bool,
}

impl SynchronizerConfig {
    /// A config for one sequencer at `url`, with Canton's console defaults.
    pub fn new(alias: &str, url: &str, manual_connect: bool) -> SynchronizerConfig {
        SynchronizerConfig::from_wire(default_config(alias, url, manual_connect), false)
    }

    /// A config as the participant sent it; `unknown_fields` when it carried fields our
    /// schema does not know (a newer Canton), which writing it back would reset.
    pub(super) fn from_wire(wire: SynchronizerConnectionConfig, unknown_fields: bool) -> SynchronizerConfig {
        SynchronizerConfig { wire, unknown_fields }
    }

    /// The whole config, to send.
    pub(super) fn into_wire(self) -> SynchronizerConnectionConfig {
        self.wire
    }

    pub fn alias(&self) -> &str {
        &self.wire.synchronizer_alias
    }

    pub fn manual_connect(&self) -> bool {
        self.wire.manual_connect
    }

    pub fn priority(&self) -> i32 {
        self.wire.priority
    }

    /// The sequencer endpoints.
    pub fn sequencers(&self) -> Vec<String> {
        endpoints(&self.wire)
    }

    /// The participant sent fields this version does not know: writing the config back
    /// would silently reset them.
    pub fn has_unknown_fields(&self) -> bool {
        self.unknown_fields
    }

    /// The same config with `manual_connect` flipped; every other field as it came.
    pub(super) fn with_manual_connect(mut self, manual: bool) -> SynchronizerConfig {
        self.wire.manual_connect = manual;
        self
    }
}

/// A config for one sequencer at `url`, with Canton's console defaults (the lab stores
/// configs in this wire shape).
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
pub(super) fn endpoints(c: &SynchronizerConnectionConfig) -> Vec<String> {
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
