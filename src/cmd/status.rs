//! `status`: what an operator checks first — is every participant reachable, what is it
//! connected to, which parties does it host, does it have transactions in flight.

use super::{Fail, Outcome, clients, is_json, print_json, short};
use crate::cli::Format;
use crate::client::{InFlight, ParticipantApi};
use crate::config::IncidentConfig;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Debug, Serialize)]
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

#[derive(Debug, Serialize)]
pub struct ParticipantReport {
    pub participant: String,
    pub reachable: bool,
    pub error: Option<String>,
    pub uid: Option<String>,
    pub version: Option<String>,
    pub parties: Vec<String>,
    pub synchronizers: Vec<SynchronizerStatus>,
}

async fn report(api: &dyn ParticipantApi) -> ParticipantReport {
    let mut r = ParticipantReport {
        participant: api.name().to_string(),
        reachable: false,
        error: None,
        uid: None,
        version: None,
        parties: Vec::new(),
        synchronizers: Vec::new(),
    };
    let gathered = async {
        let status = api.status().await?;
        r.reachable = true;
        r.uid = Some(status.uid);
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
        r.parties = api
            .known_parties()
            .await?
            .into_iter()
            .filter(|p| p.is_local)
            .map(|p| p.party)
            .collect();
        Ok::<(), crate::client::ClientError>(())
    }
    .await;
    if let Err(e) = gathered {
        r.error = Some(e.to_string());
    }
    r
}

pub async fn gather(cfg: &IncidentConfig) -> Result<Vec<ParticipantReport>, Fail> {
    let apis = clients(cfg)?;
    Ok(futures::future::join_all(apis.iter().map(|a| report(a.as_ref()))).await)
}

fn describe(s: &SynchronizerStatus) -> String {
    let state = match (s.connected, s.healthy, s.ever_connected) {
        (true, Some(true), _) => "connected, healthy".to_string(),
        (true, _, _) => "connected, UNHEALTHY (synchronizer unreachable)".to_string(),
        (false, _, true) => "registered, disconnected".to_string(),
        (false, _, false) => "registered, never connected".to_string(),
    };
    let mode = if s.manual_connect {
        "manual-connect"
    } else {
        "auto-connect"
    };
    let flight = s
        .in_flight
        .map(|f| {
            format!(
                "in-flight {} submissions / {} transactions",
                f.pending_submissions, f.pending_transactions
            )
        })
        .unwrap_or_else(|| "in-flight unknown".into());
    format!("{state}; {mode}; {flight}")
}

pub async fn run(cfg: &IncidentConfig, format: Format) -> Outcome {
    let reports = gather(cfg).await?;
    let all_reachable = reports.iter().all(|r| r.reachable && r.error.is_none());
    if is_json(format) {
        print_json(&reports)?;
    } else {
        println!(
            "incident {}: lost {} -> target {}",
            cfg.incident.name, cfg.incident.lost, cfg.incident.target
        );
        for r in &reports {
            println!();
            match (&r.uid, r.reachable) {
                (Some(uid), true) => println!(
                    "{}  reachable  {}  {}",
                    r.participant,
                    short(uid, 40),
                    r.version.as_deref().unwrap_or("")
                ),
                _ => println!("{}  UNREACHABLE", r.participant),
            }
            if let Some(e) = &r.error {
                println!("  error: {e}");
            }
            if !r.parties.is_empty() {
                let parties: Vec<String> = r.parties.iter().map(|p| short(p, 24)).collect();
                println!("  parties: {}", parties.join(", "));
            }
            for s in &r.synchronizers {
                let role = if s.alias == cfg.incident.lost {
                    " (lost)"
                } else if s.alias == cfg.incident.target {
                    " (target)"
                } else {
                    ""
                };
                println!("  {:<14} {}", format!("{}{role}", s.alias), describe(s));
            }
        }
    }
    Ok(if all_reachable {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
