//! Whether the participants still hold what a plan was made from: the check `run`'s
//! preflight makes before its first call ([`ExpectedSnapshot::check`] against a fresh
//! read of each participant on the lost synchronizer), for a front end that loads a
//! runbook and wants to show the operator what changed since.

use super::holdings::{SurveyError, holding, synchronizer_id};
use super::search::SearchFilter;
use crate::client::ParticipantApi;
use crate::plan::{Drift, DriftKind, Plan};
use std::sync::Arc;

/// What changed on one participant since the plan was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantDrift {
    pub participant: String,
    pub drift: Drift,
}

impl ParticipantDrift {
    /// One line for the operator: how many contracts appeared and disappeared (the first
    /// few ids), and whether a payload changed.
    pub fn describe(&self) -> String {
        let ids = |ids: &[crate::reconcile::ContractId]| {
            let mut v: Vec<String> = ids.iter().take(3).map(|i| i.chars().take(16).collect()).collect();
            if ids.len() > 3 {
                v.push(format!("and {} more", ids.len() - 3));
            }
            v.join(", ")
        };
        let of_kind = |kind: DriftKind| -> Vec<crate::reconcile::ContractId> {
            self.drift
                .rows
                .iter()
                .filter(|r| r.kind() == kind)
                .map(|r| r.contract_id.clone())
                .collect()
        };
        let mut parts = Vec::new();
        for (kind, what) in [
            (DriftKind::Appeared, "appeared"),
            (DriftKind::Disappeared, "gone"),
            (DriftKind::PayloadChanged, "with another payload"),
        ] {
            let rows = of_kind(kind);
            if !rows.is_empty() {
                parts.push(format!("{} {what} ({})", rows.len(), ids(&rows)));
            }
        }
        if self.drift.unnamed_payload_change {
            parts.push("the same contracts, but a payload changed".into());
        }
        format!("{}: {}", self.participant, parts.join("; "))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error(transparent)]
    Survey(#[from] SurveyError),
    #[error(transparent)]
    Client(#[from] crate::client::ClientError),
    #[error("the plan names participant {0}, which is not among the participants reached here")]
    Unknown(String),
    #[error("the plan holds no expected holdings for participant {0}")]
    NoExpectation(String),
}

/// The participants of `plan` whose holdings on its lost synchronizer drifted; empty when
/// every one still holds what the plan expects.
pub async fn drift(apis: &[Arc<dyn ParticipantApi>], plan: &Plan) -> Result<Vec<ParticipantDrift>, DriftError> {
    let mut involved = Vec::new();
    for name in plan.participants() {
        let api = apis
            .iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| DriftError::Unknown(name.clone()))?;
        involved.push(api.clone());
    }
    let lost = synchronizer_id(&involved, plan.lost()).await?;
    let every = SearchFilter::default();
    let reads = futures::future::join_all(involved.iter().map(|api| holding(api.as_ref(), &lost, &every, false))).await;
    let mut drifted = Vec::new();
    for (api, read) in involved.iter().zip(reads) {
        let name = api.name().to_string();
        let expected = plan
            .expected(&name)
            .ok_or_else(|| DriftError::NoExpectation(name.clone()))?;
        let drift = expected.check(&read?.snapshot);
        if !drift.is_none() {
            drifted.push(ParticipantDrift {
                participant: name,
                drift,
            });
        }
    }
    Ok(drifted)
}
