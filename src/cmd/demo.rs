//! `demo`: the embedded default. Starts a lab in a temporary directory and shows the
//! incident on it; the lab is torn down on the way out, whatever happens.

use super::{Outcome, short, status};
use crate::client::GrpcParticipant;
use crate::config::IncidentConfig;
use crate::inventory::{self, SearchFilter};
use crate::lab::scenario::{self, Scenario};
use crate::lab::supervisor::{Lab, Launcher};
use std::collections::BTreeMap;
use std::process::ExitCode;

/// Stops the lab even when the demo fails half-way.
struct Teardown(Option<Lab>);

impl Drop for Teardown {
    fn drop(&mut self) {
        if let Some(lab) = self.0.take()
            && let Err(e) = lab.down()
        {
            eprintln!("stopping the demo lab: {e}");
        }
    }
}

pub async fn run(scenario: Scenario) -> Outcome {
    let tmp = tempfile::Builder::new().prefix("recovery-deck-demo-").tempdir()?;
    eprintln!("starting a {} lab in {} …", scenario.name(), tmp.path().display());
    let lab = scenario::up(tmp.path(), scenario, Launcher::current(true)?).await?;
    let guard = Teardown(Some(lab));
    let cfg = IncidentConfig::load(&guard.0.as_ref().map(|l| l.incident_path()).unwrap_or_default())?;
    for r in status::gather(&cfg).await? {
        let syncs: Vec<String> = r
            .synchronizers
            .iter()
            .map(|s| {
                format!(
                    "{}={}",
                    s.alias,
                    if s.connected {
                        if s.healthy == Some(true) { "up" } else { "unreachable" }
                    } else {
                        "disconnected"
                    }
                )
            })
            .collect();
        println!("{:<14} {}", r.participant, syncs.join("  "));
    }
    let mut rows: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let names: Vec<String> = cfg.participants.iter().map(|p| p.name.clone()).collect();
    for (i, p) in cfg.participants.iter().enumerate() {
        let api = GrpcParticipant::from_config(p)?;
        for hit in inventory::search(&api, &cfg.incident.lost, &SearchFilter::default()).await? {
            let label = format!(
                "{} {}",
                hit.template_id,
                hit.payload["amount"]["value"].as_str().unwrap_or("")
            );
            let row = rows
                .entry(hit.contract_id.clone())
                .or_insert_with(|| vec![String::new(); names.len() + 1]);
            row[0] = label;
            row[i + 1] = "active".into();
        }
    }
    println!("\ncontracts on {} (aligned by contract id):", cfg.incident.lost);
    println!("{:<18} {:<24} {}", "contract", "template / amount", names.join("  "));
    for (id, row) in &rows {
        let cells: Vec<String> = row[1..]
            .iter()
            .map(|c| if c.is_empty() { "—".to_string() } else { c.clone() })
            .collect();
        println!("{:<18} {:<24} {}", short(id, 18), short(&row[0], 24), cells.join("  "));
    }
    println!("\nThe interactive recovery screen is not there yet; this demo shows the incident it will resolve.");
    drop(guard);
    Ok(ExitCode::SUCCESS)
}
