//! Verification after the reconnect: every participant holds on the target exactly the
//! plan's contracts for it, and can ping every other participant over the target.

use super::Participants;
use super::retry::{Settle, Settled};
use crate::client::logical_id;
use crate::client::{ClientError, ParticipantApi};
pub use crate::journal::{PingResult, VerifyReport};
use futures::StreamExt;
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

const PING_TIMEOUT: Duration = Duration::from_secs(15);
const PING_SETTLE: Settle = Settle {
    rounds: 5,
    step: Duration::from_millis(500),
};

/// Pings `party` over the target, a few times if needed (see [`Settle`]).
async fn ping_until_settled(
    api: &dyn ParticipantApi,
    party: &str,
    target: &str,
    to: &str,
) -> Result<PingResult, ClientError> {
    let parties = [party.to_string()];
    let settled = PING_SETTLE
        .ping(|_| async { api.ping(&parties, target, PING_TIMEOUT).await.map(Some) })
        .await?;
    let (ok, millis, reason) = match settled {
        Settled::Pinged(millis) => (true, millis, None),
        Settled::Failed(reason) => (
            false,
            None,
            Some(format!("{reason} (after {} attempts)", PING_SETTLE.rounds)),
        ),
    };
    Ok(PingResult {
        to: to.to_string(),
        ok,
        millis,
        reason,
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
        if logical_id(c.synchronizer_id()) != target {
            continue;
        }
        if let Some(id) = c.contract_id()
            && universe.contains(id)
        {
            on_target.insert(id.to_string());
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
