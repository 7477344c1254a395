//! A participant at a glance: reachable, what it is connected to, which parties it hosts,
//! what it has in flight. Shared by `status` and the recovery screen.

use crate::client::version::{Line, line_of};
use crate::client::{InFlight, ParticipantApi};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct SynchronizerStatus {
    pub alias: String,
    pub connected: bool,
    /// None when not connected.
    pub healthy: Option<bool>,
    pub manual_connect: bool,
    /// False while the participant has never shaken hands with it.
    pub ever_connected: bool,
    pub synchronizer_id: Option<String>,
    pub in_flight: Option<InFlight>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ParticipantReport {
    pub participant: String,
    pub reachable: bool,
    pub error: Option<String>,
    pub uid: Option<String>,
    pub version: Option<String>,
    /// The Canton release line, when it is one recovery-deck serves.
    pub canton: Option<Line>,
    /// Set when the participant runs a Canton release recovery-deck cannot serve: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<String>,
    pub parties: Vec<String>,
    pub synchronizers: Vec<SynchronizerStatus>,
}

pub async fn report(api: &dyn ParticipantApi) -> ParticipantReport {
    let mut r = ParticipantReport {
        participant: api.name().to_string(),
        reachable: false,
        error: None,
        uid: None,
        version: None,
        canton: None,
        unsupported: None,
        parties: Vec::new(),
        synchronizers: Vec::new(),
    };
    let gathered = async {
        let status = api.status().await?;
        r.reachable = true;
        r.uid = Some(status.uid);
        match line_of(&status.version) {
            Ok(line) => r.canton = Some(line),
            Err(why) => {
                // Nothing else is asked: an older Canton answers the next calls with
                // messages laid out differently.
                r.version = Some(status.version);
                r.unsupported = Some(why);
                return Ok(());
            }
        }
        r.version = Some(status.version);
        let registered = api.list_registered().await?;
        let connected = api.list_connected().await?;
        for s in registered {
            let conn = connected.iter().find(|c| c.alias == s.alias);
            let id = match conn {
                Some(c) => Some(c.synchronizer_id.clone()),
                None if s.physical_id.is_some() => api.synchronizer_id(&s.alias).await.ok().map(|i| i.logical),
                None => None,
            };
            let in_flight = match &id {
                Some(id) => api.count_in_flight(id).await.ok(),
                None => None,
            };
            r.synchronizers.push(SynchronizerStatus {
                connected: conn.is_some(),
                healthy: conn.map(|c| c.healthy),
                manual_connect: s.manual_connect,
                ever_connected: s.physical_id.is_some(),
                synchronizer_id: id,
                in_flight,
                alias: s.alias,
            });
        }
        r.parties = api.hosted_parties().await?.into_iter().collect();
        Ok::<(), crate::client::ClientError>(())
    }
    .await;
    if let Err(e) = gathered {
        r.error = Some(e.to_string());
    }
    r
}
