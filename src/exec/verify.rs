//! Verification after the reconnect: every participant holds on the target exactly the
//! plan's contracts for it, and can ping every other participant over the target.

use super::Participants;
use crate::client::logical_id;
use crate::client::{ClientError, ParticipantApi, PingOutcome};
pub use crate::journal::{PingResult, VerifyReport};
use futures::StreamExt;
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

const PING_TIMEOUT: Duration = Duration::from_secs(15);
const PING_ATTEMPTS: u32 = 5;

/// Pings `party` over the target, a few times if needed: right after a reconnect a
/// participant may still be catching up with the synchronizer's topology (Canton's
/// console waits for topology to settle after a reconnect for the same reason).
async fn ping_until_settled(
    api: &dyn ParticipantApi,
    party: &str,
    target: &str,
    to: &str,
) -> Result<PingResult, ClientError> {
    let mut reason = String::new();
    for attempt in 0..PING_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500) * attempt).await;
        }
        match api.ping(&[party.to_string()], target, PING_TIMEOUT).await? {
            PingOutcome::Success { millis, .. } => {
                return Ok(PingResult {
                    to: to.to_string(),
                    ok: true,
                    millis: Some(millis),
                    reason: None,
                });
            }
            PingOutcome::Failure { reason: r } => reason = r,
        }
    }
    Ok(PingResult {
        to: to.to_string(),
        ok: false,
        millis: None,
        reason: Some(format!("{reason} (after {PING_ATTEMPTS} attempts)")),
    })
}

pub async fn verify(
    api: &dyn ParticipantApi,
    participants: &Participants,
    target_alias: &str,
    expected: &[String],
    ping: &[String],
    universe: &HashSet<String>,
) -> Result<VerifyReport, ClientError> {
    let target = api.synchronizer_id(target_alias).await?.logical;
    let mut stream = crate::client::export_at_ledger_end(api, Some(&target)).await?;
    let mut on_target: BTreeSet<String> = BTreeSet::new();
    while let Some(c) = stream.next().await {
        let c = c?;
        if logical_id(&c.synchronizer_id) != target {
            continue;
        }
        if let Some(e) = c.created_event
            && universe.contains(&e.contract_id)
        {
            on_target.insert(e.contract_id);
        }
    }
    let want: BTreeSet<String> = expected.iter().cloned().collect();
    let missing: Vec<String> = want.difference(&on_target).cloned().collect();
    let unexpected: Vec<String> = on_target.difference(&want).cloned().collect();
    let mut pings = Vec::new();
    for other in ping {
        let party = match participants.get(other) {
            Some(o) => Some(o.admin_party().await?),
            None => None,
        };
        let result = match party {
            None => PingResult {
                to: other.clone(),
                ok: false,
                millis: None,
                reason: Some(format!("{other} is not in the incident config")),
            },
            Some(party) => ping_until_settled(api, &party, &target, other).await?,
        };
        pings.push(result);
    }
    let ok = missing.is_empty() && unexpected.is_empty() && pings.iter().all(|p| p.ok);
    Ok(VerifyReport {
        participant: api.name().to_string(),
        ok,
        expected: want.len(),
        held: want.len() - missing.len(),
        missing,
        unexpected,
        pings,
    })
}
