//! `status`: what an operator checks first — is every participant reachable, what is it
//! connected to, which parties does it host, does it have transactions in flight.

use super::{Fail, Outcome, clients, is_json, print_json, short};
use crate::cli::Format;
use crate::config::IncidentConfig;
use crate::survey::status::{ParticipantReport, SynchronizerStatus, report};
use std::process::ExitCode;

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
    let all_reachable = reports
        .iter()
        .all(|r| r.reachable && r.error.is_none() && r.unsupported.is_none());
    if is_json(format) {
        print_json(&reports)?;
    } else {
        outln!(
            "incident {}: lost {} -> target {}",
            cfg.incident.name,
            cfg.incident.lost,
            cfg.incident.target
        );
        for r in &reports {
            outln!();
            match (&r.uid, r.reachable) {
                (_, true) if r.unsupported.is_some() => {
                    outln!(
                        "{}  UNSUPPORTED  {}",
                        r.participant,
                        r.unsupported.as_deref().unwrap_or("")
                    );
                    continue;
                }
                (Some(uid), true) => outln!(
                    "{}  reachable  {}  {}",
                    r.participant,
                    short(uid, 40),
                    r.version.as_deref().unwrap_or("")
                ),
                _ => outln!("{}  UNREACHABLE", r.participant),
            }
            if let Some(e) = &r.error {
                outln!("  error: {e}");
            }
            if !r.parties.is_empty() {
                let parties: Vec<String> = r.parties.iter().map(|p| short(p, 24)).collect();
                outln!("  parties: {}", parties.join(", "));
            }
            for s in &r.synchronizers {
                let role = if s.alias == cfg.incident.lost {
                    " (lost)"
                } else if s.alias == cfg.incident.target {
                    " (target)"
                } else {
                    ""
                };
                outln!("  {:<14} {}", format!("{}{role}", s.alias), describe(s));
            }
        }
    }
    Ok(if all_reachable {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
