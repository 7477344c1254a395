//! What the headless commands put on the record. `plan` journals the survey it made the
//! plan from (a pinned comparison file, with the payloads of the rows whose holders
//! disagree), the operator's choices and the plan itself (the runbook it wrote, pinned), and
//! seals the journal; `run` then continues the same journal. The screen records the same
//! things through its own effects (`tui::core`).

use super::Fail;
use crate::cli::SelectionArgs;
use crate::client::ParticipantApi;
use crate::config::IncidentConfig;
use crate::journal::{self, Actor, EventData, JournalWriter, PinnedRunbook, PlanProposed, Surveyed};
use crate::plan::{Plan, PlanSummary};
use crate::survey::{self, Survey};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

/// What `plan` decided and wrote, for the journal.
pub(super) struct PlanMade<'a> {
    pub plan: &'a Plan,
    pub survey: &'a Survey,
    pub selection: &'a SelectionArgs,
    /// The runbook and sidecar files as written (`--out`, and the sidecar beside it).
    pub runbook: &'a Path,
    pub sidecar: Option<&'a Path>,
}

/// Opens (or continues) the journal of `cfg`'s incident at `path`, refusing one that
/// belongs to another incident.
pub(super) fn open(cfg: &IncidentConfig, path: &Path, operator: &str) -> Result<JournalWriter, Fail> {
    let writer = crate::tui::launch::open_journal(cfg, path, operator)?;
    let incident = journal::read(path)?.header.incident;
    if incident != cfg.incident.name {
        return Err(Fail(format!(
            "journal {} belongs to incident {incident}, not to {}; pass another --journal",
            path.display(),
            cfg.incident.name
        )));
    }
    Ok(writer)
}

/// Journals the survey, the choices and the plan `plan` made, and seals the journal.
pub(super) async fn plan_made(
    cfg: &IncidentConfig,
    apis: &[Arc<dyn ParticipantApi>],
    path: &Path,
    operator: &str,
    made: &PlanMade<'_>,
) -> Result<(), Fail> {
    let mut writer = open(cfg, path, operator)?;
    let actor = || Actor {
        op: operator.to_string(),
        node: None,
    };
    let comparison = &made.survey.comparison;
    let payloads = survey::payloads_of(apis, &made.survey.synchronizer_id, &survey::differing(comparison)).await?;
    let participants = comparison.participants();
    let payload = |i: usize, id: &str| {
        participants
            .get(i)
            .and_then(|name| payloads.get(name))
            .and_then(|m| m.get(id))
            .cloned()
    };
    let hosted: BTreeMap<String, BTreeSet<String>> = made
        .survey
        .holdings
        .iter()
        .map(|h| (h.snapshot.participant.clone(), h.snapshot.hosted_parties.clone()))
        .collect();
    let snapshot = journal::snapshot::pin(path, comparison, &hosted, &payload).map_err(Fail)?;
    let survey_digest = snapshot.sha256.clone();
    writer.append(
        actor(),
        EventData::Surveyed(Surveyed {
            synchronizer: comparison.synchronizer().to_string(),
            classes: comparison
                .counts()
                .iter()
                .map(|(c, n)| (c.as_str().to_string(), n))
                .collect(),
            contracts: comparison.held_counts().collect(),
            snapshot: Some(snapshot),
        }),
    )?;
    writer.append(
        actor(),
        EventData::StrategyChosen {
            strategy: made.selection.strategy,
        },
    )?;
    for (id, decision) in made.plan.decisions() {
        writer.append(
            actor(),
            EventData::Decided {
                contract_id: id.to_string(),
                decision: decision.into(),
                participant: None,
            },
        )?;
    }
    let pinned = pin_runbook_files(path, made.runbook, made.sidecar)?;
    let summary = PlanSummary::of(made.plan);
    writer.append(
        actor(),
        EventData::PlanProposed(PlanProposed {
            plan_hash: made.plan.hash().to_string(),
            strategy: made.plan.strategy().kind(),
            moved: summary.moved,
            excluded: made.plan.excluded().len(),
            runbook: Some(pinned.runbook),
            sidecar: pinned.sidecar,
            survey: Some(survey_digest),
        }),
    )?;
    writer.seal(actor(), "plan")?;
    Ok(())
}

/// Pins a runbook's files (as written on disk) beside the journal at `path`.
pub(super) fn pin_runbook_files(path: &Path, runbook: &Path, sidecar: Option<&Path>) -> Result<PinnedRunbook, Fail> {
    journal::pins::pin_runbook_files(path, runbook, sidecar)
        .map_err(|e| Fail(format!("pinning the runbook beside {}: {e}", path.display())))
}
