//! `search`: the pcs_search equivalent for one participant and synchronizer.

use super::{Fail, Outcome, is_json, print_json, short};
use crate::cli::{Format, SearchArgs};
use crate::client::GrpcParticipant;
use crate::config::IncidentConfig;
use crate::meter::Meter;
use crate::survey::{SearchFilter, search};
use std::process::ExitCode;

pub async fn run(cfg: &IncidentConfig, args: &SearchArgs, format: Format) -> Outcome {
    let p = cfg.participant(&args.participant).ok_or_else(|| {
        let names: Vec<&str> = cfg.participants.iter().map(|p| p.name.as_str()).collect();
        Fail(format!(
            "no participant {:?} in the incident config (known: {})",
            args.participant,
            names.join(", ")
        ))
    })?;
    let api = GrpcParticipant::from_config(p)?;
    let filter = SearchFilter {
        template_prefix: args.template.clone(),
        party: args.party.clone(),
    };
    let mut meter = Meter::start(format!("search {}", args.participant), "contracts", None);
    let hits = search::search_observed(&api, &args.synchronizer, &filter, &mut |n| meter.set(n)).await?;
    meter.finish();
    if is_json(format) {
        print_json(&hits)?;
    } else {
        outln!(
            "{} on {}: {} active contract(s)",
            args.participant,
            args.synchronizer,
            hits.len()
        );
        for h in &hits {
            outln!(
                "{}  {:<12}  {}",
                short(&h.contract_id, 18),
                h.template_id,
                serde_json::to_string(&h.payload)?
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
