//! The engine work behind the core's effects that is more than a call: reading a runbook
//! for `:load` with its drift, the payloads of disagreeing rows, and a survey with its
//! progress.

use super::Services;
use super::reply::ProgressTx;
use crate::failure::Failure;
use crate::journal::Recorded;
use crate::survey::{self, Payloads, SearchFilter};
use crate::tui::msg::{Msg, SurveyData};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Reads a runbook for `:load`: refused if it is for another incident or other
/// synchronizers; otherwise its plan with the participants that drifted since.
pub(super) async fn load_checked(
    services: &Services,
    path: &std::path::Path,
) -> Result<(Arc<crate::plan::Plan>, Vec<survey::ParticipantDrift>), String> {
    let owned = path.to_path_buf();
    let file = tokio::task::spawn_blocking(move || crate::runbook_file::read(&owned))
        .await
        .map_err(|e| format!("reading stopped unexpectedly: {e}"))?
        .map_err(|e| e.to_string())?;
    let plan = file.loaded.plan;
    let (theirs, ours) = (
        (plan.incident(), plan.lost(), plan.target()),
        (
            services.incident.as_str(),
            services.lost.as_str(),
            services.target.as_str(),
        ),
    );
    if theirs != ours {
        return Err(format!(
            "it is a runbook for incident {} ({} → {}), this screen recovers incident {} ({} → {})",
            theirs.0, theirs.1, theirs.2, ours.0, ours.1, ours.2
        ));
    }
    let drift = survey::drift(&services.apis, &plan).await.map_err(|e| e.to_string())?;
    Ok((Arc::new(plan), drift))
}

/// The payloads of the rows whose holders disagree, read again from those holders.
pub(super) async fn read_differing(
    apis: &[Arc<dyn crate::client::ParticipantApi>],
    comparison: &crate::reconcile::Comparison,
) -> Result<BTreeMap<String, Payloads>, survey::SurveyError> {
    let wanted = survey::differing(comparison);
    if wanted.is_empty() {
        return Ok(BTreeMap::new());
    }
    let id = survey::synchronizer_id(apis, comparison.synchronizer()).await?;
    Ok(survey::payloads_of(apis, &id, &wanted).await?)
}

pub(super) async fn run_survey(
    services: &Services,
    synchronizer: &str,
    generation: u64,
    progress: ProgressTx,
) -> Result<SurveyData, Failure> {
    let (otx, mut orx) = mpsc::unbounded_channel();
    let forward = {
        tokio::spawn(async move {
            while let Some((participant, contracts)) = orx.recv().await {
                progress.send(Msg::SurveyProgress {
                    generation,
                    participant,
                    contracts,
                });
            }
        })
    };
    let result =
        survey::survey_observed(&services.apis, synchronizer, &SearchFilter::default(), false, Some(otx)).await;
    let _ = forward.await;
    let s = result.map_err(|e| e.failure())?;
    let hosted: BTreeMap<String, std::collections::BTreeSet<String>> = s
        .holdings
        .iter()
        .map(|h| (h.snapshot.participant.clone(), h.snapshot.hosted_parties.clone()))
        .collect();
    let incomplete = s.incomplete();
    // The survey keeps digests: payloads are read when the comparison file or a diff needs them.
    let payloads = vec![Payloads::new(); s.comparison.participants().len()];
    Ok(SurveyData {
        comparison: Arc::new(s.comparison),
        payloads: Arc::new(payloads),
        in_flight: s.in_flight,
        hosted: Arc::new(hosted),
        snapshot: Recorded::Nothing,
        incomplete,
    })
}
