//! `lab …`: run, break and inspect local lab nodes.

use super::{Fail, Outcome, is_json, print_json};
use crate::cli::{Format, LabCommand, NodeCommand, NodeCommon};
use crate::config::IncidentConfig;
use crate::lab::node::{self, ParticipantArgs, ServeOptions, SynchronizerArgs};
use crate::lab::scenario;
use crate::lab::supervisor::{Lab, Launcher};
use crate::lab::workflow;
use crate::meter::Meter;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

fn open(dir: &Path) -> Result<Lab, Fail> {
    Ok(Lab::open(dir, Launcher::current(false)?)?)
}

fn summary(lab: &Lab) -> serde_json::Value {
    let nodes: Vec<serde_json::Value> = lab
        .layout
        .nodes
        .iter()
        .map(|n| {
            let info = lab.info(&n.name);
            json!({
                "name": n.name,
                "kind": n.kind,
                "running": info.is_some(),
                "pid": info.as_ref().map(|i| i.pid),
                "port": n.port,
                "ledger_port": (n.ledger_port != 0).then_some(n.ledger_port),
                "lost": n.lost,
            })
        })
        .collect();
    json!({
        "dir": lab.dir,
        "scenario": lab.layout.scenario,
        "incident": lab.incident_path(),
        "nodes": nodes,
    })
}

fn print_summary(lab: &Lab, format: Format) -> Result<(), Fail> {
    if is_json(format) {
        return print_json(&summary(lab));
    }
    outln!(
        "lab {} ({}): incident config {}",
        lab.dir.display(),
        lab.layout.scenario,
        lab.incident_path().display()
    );
    for n in &lab.layout.nodes {
        let state = if n.lost {
            "lost".to_string()
        } else {
            match lab.info(&n.name) {
                Some(i) => format!("running, pid {}", i.pid),
                None => "stopped".to_string(),
            }
        };
        let ports = if n.ledger_port != 0 {
            format!("admin 127.0.0.1:{}  ledger 127.0.0.1:{}", n.port, n.ledger_port)
        } else {
            format!("sequencer 127.0.0.1:{}", n.port)
        };
        outln!(
            "  {:<14} {:<13} {:<44} {state}",
            n.name,
            format!("{:?}", n.kind).to_lowercase(),
            ports
        );
    }
    Ok(())
}

pub async fn run(cmd: LabCommand, format: Format) -> Outcome {
    match cmd {
        LabCommand::Up {
            dir,
            scenario,
            contracts,
            participants,
            divergence,
            canton,
            enable_all_reassignments,
            keep_lost,
            unvetted,
            detach,
        } => {
            if scenario != scenario::Scenario::Large && (participants.is_some() || divergence.is_some()) {
                return Err(Fail(
                    "--participants and --divergence shape the large scenario only (--scenario large)".into(),
                ));
            }
            let (staged, mut created) = tokio::sync::mpsc::unbounded_channel::<usize>();
            let options = scenario::LabOptions {
                contracts,
                participants: participants.unwrap_or(scenario::large::DEFAULT_PARTICIPANTS),
                divergence: divergence.unwrap_or(0.0),
                canton,
                enable_all_reassignments,
                staged: (scenario == scenario::Scenario::Large).then_some(staged),
                keep_lost,
                unvetted,
                ..scenario::LabOptions::default()
            };
            let metered = tokio::spawn(async move {
                let mut meter: Option<Meter> = None;
                while let Some(n) = created.recv().await {
                    meter
                        .get_or_insert_with(|| Meter::start("lab up: staging", "contracts", Some(contracts as u64)))
                        .inc(n as u64);
                }
                if let Some(m) = meter {
                    m.finish();
                }
            });
            let up = scenario::up_with(&dir, scenario, &options, Launcher::current(!detach)?).await;
            drop(options);
            let _ = metered.await;
            let lab = up?;
            print_summary(&lab, format)?;
            if detach {
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!("lab running; press Ctrl-C to stop it");
            let _ = tokio::signal::ctrl_c().await;
            lab.down()?;
            eprintln!("lab stopped");
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Down { dir } => {
            let lab = open(&dir)?;
            lab.down()?;
            if !is_json(format) {
                outln!("lab {} stopped", dir.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Lose { dir, synchronizer } => {
            let mut lab = open(&dir)?;
            lab.lose(&synchronizer)?;
            print_summary(&lab, format)?;
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Kill { dir, node } => {
            let lab = open(&dir)?;
            lab.kill(&node)?;
            print_summary(&lab, format)?;
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Start { dir, node } => {
            let mut lab = open(&dir)?;
            lab.start(&node)?;
            print_summary(&lab, format)?;
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::PruningSchedule {
            dir,
            node,
            cron,
            retention,
            max_duration,
            clear,
        } => {
            let lab = open(&dir)?;
            set_pruning(&lab, &node, cron.filter(|_| !clear), retention, max_duration).await?;
            if !is_json(format) {
                outln!("{node}: pruning schedule {}", if clear { "cleared" } else { "set" });
            }
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Workflow { dir } => {
            let cfg = IncidentConfig::load(&dir.join("incident.toml"))?;
            let report = workflow::run(&cfg).await?;
            if is_json(format) || format == Format::Text {
                print_json(&report)?;
            }
            Ok(if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        LabCommand::Node(node) => run_node(node).await,
    }
}

/// Sets (or with `None`, clears) a lab participant's pruning schedule over Canton's RPC.
async fn set_pruning(
    lab: &Lab,
    node: &str,
    cron: Option<String>,
    retention: i64,
    max_duration: i64,
) -> Result<(), Fail> {
    crate::lab::pruning_drill::set_schedule(lab.endpoint(node)?, node, cron, retention, max_duration)
        .await
        .map_err(Fail)
}

fn serve_options(common: &NodeCommon) -> Result<ServeOptions, Fail> {
    let token = match &common.token_file {
        Some(f) => Some(
            std::fs::read_to_string(f)
                .map_err(|e| Fail(format!("token file {}: {e}", f.display())))?
                .trim()
                .to_string(),
        ),
        None => None,
    };
    Ok(ServeOptions {
        tls_cert: common.tls_cert.clone(),
        tls_key: common.tls_key.clone(),
        token,
        exit_with_parent: common.exit_with_parent,
    })
}

async fn run_node(cmd: NodeCommand) -> Outcome {
    let result = match cmd {
        NodeCommand::Participant {
            common,
            admin_port,
            ledger_port,
            parties,
            canton,
            enable_all_reassignments,
            unvetted_on,
        } => {
            let opts = serve_options(&common)?;
            node::run_participant(
                ParticipantArgs {
                    name: common.name,
                    dir: common.dir,
                    admin_port,
                    ledger_port,
                    parties,
                    dialect: canton,
                    enable_all_reassignments,
                    unvetted_on,
                },
                opts,
            )
            .await
        }
        NodeCommand::Synchronizer {
            common,
            port,
            confirmation_timeout_ms,
        } => {
            let opts = serve_options(&common)?;
            node::run_synchronizer(
                SynchronizerArgs {
                    name: common.name,
                    dir: common.dir,
                    port,
                    confirmation_timeout: Duration::from_millis(confirmation_timeout_ms),
                },
                opts,
            )
            .await
        }
    };
    result.map_err(|e| Fail(e.to_string()))?;
    Ok(ExitCode::SUCCESS)
}
