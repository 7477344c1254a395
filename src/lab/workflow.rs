//! The post-recovery business check (`lab workflow`): on the replacement synchronizer
//! each participant creates a new Iou for the other side and calls an Iou it owns that
//! was moved there. Any failure means the recovery did not give the parties a working
//! ledger back.

use crate::client::{ClientError, DamlValue, GrpcParticipant, ParticipantApi, Submission};
use crate::config::IncidentConfig;
use crate::lab::templates;
use crate::value;
use futures::StreamExt;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct WorkflowStep {
    pub participant: String,
    pub step: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkflowReport {
    pub ok: bool,
    pub synchronizer: String,
    pub steps: Vec<WorkflowStep>,
}

struct Holder {
    api: GrpcParticipant,
    parties: Vec<String>,
}

/// Ious on the target that a hosted party owns (and so may `Call`).
async fn owned_ious(h: &Holder, target_id: &str) -> Result<Vec<(String, String)>, ClientError> {
    let end = h.api.ledger_end().await?;
    let mut stream = h.api.active_contracts(end, false).await?;
    let mut out = Vec::new();
    while let Some(c) = stream.next().await {
        let Some(c) = c?.into_active() else { continue };
        let c = c.into_wire();
        let Some(ev) = c.created_event else { continue };
        if c.synchronizer_id != target_id || ev.template_id.as_ref().is_none_or(|t| t.entity_name != "Iou") {
            continue;
        }
        let owner = ev
            .create_arguments
            .as_ref()
            .and_then(|r| value::field(r, "owner"))
            .and_then(value::as_party);
        if let Some(owner) = owner.filter(|o| h.parties.iter().any(|p| p == o)) {
            out.push((ev.contract_id.clone(), owner.to_string()));
        }
    }
    Ok(out)
}

pub async fn run(cfg: &IncidentConfig) -> Result<WorkflowReport, ClientError> {
    let mut holders = Vec::new();
    for p in &cfg.participants {
        let api = GrpcParticipant::from_config(p)?;
        let parties = api
            .known_parties()
            .await?
            .into_iter()
            .filter(|k| k.is_local)
            .map(|k| k.party)
            .collect();
        holders.push(Holder { api, parties });
    }
    let target_id = match holders.first() {
        Some(h) => h.api.synchronizer_id(&cfg.incident.target).await?.logical,
        None => String::new(),
    };
    let mut steps = Vec::new();
    let mut record = |participant: &str, step: String, r: Result<String, String>| {
        steps.push(WorkflowStep {
            participant: participant.to_string(),
            step,
            ok: r.is_ok(),
            detail: r.unwrap_or_else(|e| e),
        });
    };
    // Calls first, so that they exercise Ious that were moved, not the ones created here.
    for h in &holders {
        let name = h.api.name().to_string();
        match owned_ious(h, &target_id).await {
            Ok(ious) => match ious.first() {
                Some((id, owner)) => {
                    let res = h
                        .api
                        .submit_and_wait(Submission {
                            act_as: vec![owner.clone()],
                            synchronizer_id: None,
                            commands: vec![templates::exercise_iou_command(id, "Call", DamlValue::Unit)],
                        })
                        .await;
                    record(
                        &name,
                        format!("Call on moved Iou {}", &id[..id.len().min(16)]),
                        res.map(|o| format!("update {}", o.update_id))
                            .map_err(|e| e.to_string()),
                    );
                }
                None => record(
                    &name,
                    "Call on a moved Iou".into(),
                    Err(format!("no Iou owned here is on {}", cfg.incident.target)),
                ),
            },
            Err(e) => record(&name, "list Ious on the target".into(), Err(e.to_string())),
        }
    }
    for (i, h) in holders.iter().enumerate() {
        let name = h.api.name().to_string();
        let Some(payer) = h.parties.first() else {
            record(
                &name,
                "find a local party".into(),
                Err("the participant hosts no party".into()),
            );
            continue;
        };
        // The counterparty is a party of the next participant (the lab pairs them up).
        let other = holders
            .get((i + 1) % holders.len())
            .and_then(|o| o.parties.first())
            .cloned();
        if let Some(owner) = other.filter(|o| o != payer) {
            let amount = format!("{}", 1 + i);
            let res = h
                .api
                .submit_and_wait(Submission {
                    act_as: vec![payer.clone()],
                    synchronizer_id: Some(target_id.clone()),
                    commands: vec![templates::create_iou_command(payer, &owner, &amount, "USD")],
                })
                .await;
            record(
                &name,
                format!("create a new Iou {payer} -> {owner}"),
                res.map(|o| format!("update {}", o.update_id))
                    .map_err(|e| e.to_string()),
            );
        }
    }
    let ok = !steps.is_empty() && steps.iter().all(|s| s.ok);
    Ok(WorkflowReport {
        ok,
        synchronizer: cfg.incident.target.clone(),
        steps,
    })
}
