//! From the participants' current state to a plan: survey, select, build. Shared by the
//! `plan` command, the TUI and tests.

use super::holdings::{self as survey, Survey, SurveyError};
use super::search::SearchFilter;
use crate::client::ParticipantApi;
use crate::plan::{self, InFlight, Plan, PlanError, PlanInput};
use crate::reconcile::Comparison;
use crate::reconcile::{self, SelectionError, SelectionRequest};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ProposeError {
    #[error(transparent)]
    Survey(#[from] SurveyError),
    #[error("{0}")]
    Selection(#[from] SelectionError),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// What a plan is made for.
pub struct Incident<'a> {
    pub name: &'a str,
    pub lost: &'a str,
    pub target: &'a str,
}

/// Builds a plan from a comparison already surveyed.
pub fn plan_from(
    survey: &Survey,
    incident: &Incident<'_>,
    request: &SelectionRequest,
    batch_size: u32,
) -> Result<Plan, ProposeError> {
    plan_from_parts(&survey.comparison, &survey.in_flight, incident, request, batch_size)
}

/// Builds a plan from a comparison and the in-flight counts observed with it.
pub fn plan_from_parts(
    comparison: &Comparison,
    in_flight: &BTreeMap<String, InFlight>,
    incident: &Incident<'_>,
    request: &SelectionRequest,
    batch_size: u32,
) -> Result<Plan, ProposeError> {
    let selection = reconcile::select(comparison, request)?;
    let participants: Vec<String> = comparison.participants().to_vec();
    Ok(plan::build_plan(&PlanInput {
        incident: incident.name,
        lost: incident.lost,
        target: incident.target,
        participants: &participants,
        comparison,
        selection: &selection,
        request,
        batch_size,
        in_flight,
    })?)
}

/// Surveys the participants now and builds the plan for `request`. The survey comes back
/// with its comparison, its snapshots' contract lists emptied.
pub async fn propose(
    apis: &[Arc<dyn ParticipantApi>],
    incident: &Incident<'_>,
    request: &SelectionRequest,
    batch_size: u32,
) -> Result<(Plan, Survey), ProposeError> {
    propose_observed(apis, incident, request, batch_size, None).await
}

/// [`propose`], reporting the survey's progress to `observer`.
pub async fn propose_observed(
    apis: &[Arc<dyn ParticipantApi>],
    incident: &Incident<'_>,
    request: &SelectionRequest,
    batch_size: u32,
    observer: Option<survey::Observer>,
) -> Result<(Plan, Survey), ProposeError> {
    let mut s = survey::survey_observed(apis, incident.lost, &SearchFilter::default(), false, observer).await?;
    // The comparison holds all the plan is built from: the snapshots' lists go before the
    // plan is built beside it (at a million contracts, some 80 bytes a contract and
    // participant).
    for h in &mut s.holdings {
        h.snapshot.contracts = Vec::new();
    }
    let plan = plan_from(&s, incident, request, batch_size)?;
    Ok((plan, s))
}
