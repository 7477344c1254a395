//! Verification after the reconnect: every participant holds on the target exactly the
//! plan's contracts for it (or held them there until a later workflow archived them), and
//! can ping every other participant over the target.

use super::Participants;
use super::retry::{Settle, Settled};
use crate::client::logical_id;
use crate::client::{ClientError, ParticipantApi, SyncState, merge_inspections};
pub use crate::journal::{PingResult, VerifyReport};
use crate::reconcile::ContractId;
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

/// `expected` are the plan's contracts for this participant; `universe` every contract the
/// plan moves (on any participant), so a contract on the target that the plan never
/// touched is not reported as unexpected. Both are the plan's own ids: at a million
/// contracts a copy of each per participant would cost more than the plan itself.
pub async fn verify(
    api: &dyn ParticipantApi,
    participants: &Participants,
    target_alias: &str,
    expected: &[ContractId],
    ping: &[String],
    universe: &HashSet<ContractId>,
) -> Result<VerifyReport, ClientError> {
    let target = api.synchronizer_id(target_alias).await?.logical;
    let mut stream = crate::client::export_at_ledger_end(api, Some(&target)).await?;
    let mut on_target: HashSet<&str> = HashSet::new();
    while let Some(c) = stream.next().await {
        let c = c?;
        if logical_id(c.synchronizer_id()) != target {
            continue;
        }
        if let Some(known) = c.contract_id().and_then(|id| universe.get(id)) {
            on_target.insert(known);
        }
    }
    let want: HashSet<&str> = expected.iter().map(|c| &**c).collect();
    let mut absent: Vec<String> = want
        .iter()
        .filter(|id| !on_target.contains(*id))
        .map(|id| id.to_string())
        .collect();
    absent.sort_unstable();
    let archived_since = archived_on(api, &target, &absent).await?;
    let missing: Vec<String> = absent.into_iter().filter(|id| !archived_since.contains(id)).collect();
    let mut unexpected: Vec<String> = on_target
        .iter()
        .filter(|id| !want.contains(*id))
        .map(|id| id.to_string())
        .collect();
    unexpected.sort_unstable();
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
        archived_since: archived_since.into_iter().collect(),
    })
}

/// Of `ids`, those the participant held on the target and that were archived there since
/// (a workflow after the recovery used them), read from InspectCommitmentContracts the
/// way `client::history` reads it.
async fn archived_on(api: &dyn ParticipantApi, target: &str, ids: &[String]) -> Result<BTreeSet<String>, ClientError> {
    let mut out = BTreeSet::new();
    for chunk in ids.chunks(1000) {
        for (id, h) in merge_inspections(api.inspect_contracts(target, chunk).await?) {
            if h.ever_on(target) && h.on(target) == SyncState::Archived {
                out.insert(id);
            }
        }
    }
    Ok(out)
}
