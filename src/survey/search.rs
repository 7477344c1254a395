//! What a participant holds on a synchronizer: the remote equivalent of the console's
//! `testing.pcs_search` (which has no gRPC form), built on the Ledger API's active
//! contracts, each of which names its synchronizer.

use crate::client::{Contract, ParticipantApi, Result, logical_id};
use futures::StreamExt;
use serde::Serialize;

/// pcs_search-style filters.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// Prefix of `Module:Entity` (a leading `^`, as in pcs_search's `"^Iou"`, is accepted).
    pub template_prefix: Option<String>,
    /// Matches contracts with a stakeholder whose id starts with this (so `Alice` finds
    /// `Alice::1220…`).
    pub party: Option<String>,
}

impl SearchFilter {
    pub fn matches<'a>(&self, template: &str, mut stakeholders: impl Iterator<Item = &'a str>) -> bool {
        let template_ok = self
            .template_prefix
            .as_deref()
            .map(|p| p.strip_prefix('^').unwrap_or(p))
            .is_none_or(|p| template.starts_with(p));
        let party_ok = self
            .party
            .as_deref()
            .is_none_or(|p| stakeholders.any(|s| s.starts_with(p)));
        template_ok && party_ok
    }
}

/// One contract as `search --format json` prints it (DESIGN §4).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SearchHit {
    pub contract_id: String,
    pub template_id: String,
    pub synchronizer: String,
    pub signatories: Vec<String>,
    pub observers: Vec<String>,
    pub stakeholders: Vec<String>,
    pub payload: serde_json::Value,
}

impl SearchHit {
    pub fn from_contract(c: &Contract, synchronizer: &str) -> Option<SearchHit> {
        let ev = c.created()?;
        let mut stakeholders: Vec<String> = ev.signatories().iter().chain(ev.observers()).cloned().collect();
        stakeholders.sort();
        stakeholders.dedup();
        Some(SearchHit {
            contract_id: ev.contract_id().to_string(),
            template_id: ev.template(),
            synchronizer: synchronizer.to_string(),
            signatories: ev.signatories().to_vec(),
            observers: ev.observers().to_vec(),
            stakeholders,
            payload: ev.payload(),
        })
    }
}

/// Active contracts of `api` on the synchronizer with `alias`, sorted by contract id.
pub async fn search(api: &dyn ParticipantApi, alias: &str, filter: &SearchFilter) -> Result<Vec<SearchHit>> {
    let mut hits = Vec::new();
    search_each(api, alias, filter, &mut |_| {}, &mut |h| hits.push(h)).await?;
    hits.sort_by(|a, b| a.contract_id.cmp(&b.contract_id));
    Ok(hits)
}

/// Hands each active contract of `api` on the synchronizer with `alias` to `each` as the
/// participant streams it, in the participant's order, holding none of them: at a million
/// contracts the collected payloads would take gigabytes. `read` is told how many
/// contracts of the stream were read so far.
pub async fn search_each(
    api: &dyn ParticipantApi,
    alias: &str,
    filter: &SearchFilter,
    read: &mut (dyn FnMut(u64) + Send),
    each: &mut (dyn FnMut(SearchHit) + Send),
) -> Result<()> {
    // An unsupported release is refused before its answers are misread (see `served`).
    api.canton_line().await?;
    let ids = api.synchronizer_id(alias).await?;
    let end = api.ledger_end().await?;
    if end > 0 {
        let mut stream = api.active_contracts(end, false).await?;
        let mut n = 0u64;
        while let Some(c) = stream.next().await {
            n += 1;
            read(n);
            // pcs_search lists active contracts only; the survey counts the ones in between.
            let Some(c) = c?.into_active() else { continue };
            if logical_id(c.synchronizer_id()) != ids.logical {
                continue;
            }
            if let Some(hit) = SearchHit::from_contract(&c, alias)
                && filter.matches(&hit.template_id, hit.stakeholders.iter().map(String::as_str))
            {
                each(hit);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_prefix_follows_pcs_search() {
        let f = SearchFilter {
            template_prefix: Some("^Iou".into()),
            party: None,
        };
        assert!(f.matches("Iou:Iou", std::iter::empty()));
        assert!(f.matches("Iou:GetCash", std::iter::empty()));
        assert!(!f.matches("LockIou:LockedIou", std::iter::empty()));
        assert!(!f.matches("Paint:PaintHouse", std::iter::empty()));
        let exact = SearchFilter {
            template_prefix: Some("Iou:GetCash".into()),
            party: None,
        };
        assert!(!exact.matches("Iou:Iou", std::iter::empty()));
    }

    #[test]
    fn party_filter_matches_a_stakeholder_prefix() {
        let f = SearchFilter {
            template_prefix: None,
            party: Some("Alice".into()),
        };
        assert!(f.matches("Iou:Iou", ["Alice::1220ab", "Bob::1220cd"].into_iter()));
        assert!(!f.matches("Iou:Iou", ["Bob::1220cd"].into_iter()));
    }
}
