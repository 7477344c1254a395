//! Every package of every contract a participant moves to the target (imports included)
//! must be vetted there by that participant. Canton's repairs do not check it, and
//! give no error for it: ImportAcs only requires the package to be *known* (uploaded),
//! refusing otherwise with IMPORT_ACS_ERROR "Failed to locate package"
//! (RepairServiceContractsImporter.addContractsCheck/packageKnown, participant/admin/repair,
//! release-line-3.5; RepairService.packageKnown in release-line-3.4), and ChangeAssignation
//! takes the contract's creation package as it is and only checks that a stakeholder is
//! hosted on the target (ChangeAssignation.readContracts, release-line-3.5). So a contract
//! moved onto an unvetted package lands, and then every transaction on it is rejected
//! with PACKAGE_NOT_VETTED_BY_RECIPIENTS (TransactionProcessor.scala,
//! TransactionProcessingSteps.scala, participant/protocol). Operators met it as
//! "DAR missing, discovered only after disconnecting" (canton-landscape §2, #4 and #15),
//! so the check runs in preflight, before anything is disconnected.
//!
//! Vetting lives in the topology store of each synchronizer since Canton 3.4 (VetDar
//! takes a synchronizer): a participant that never connected to the target has no store
//! for it and nothing vetted there yet. Its check waits until the target's first
//! connection (the ping of init_target), and stops the run there — still connected to
//! the target, where vetting can be done — before any repair.

use crate::client::{ClientError, ParticipantApi};
use crate::reconcile::ContractId;
use std::collections::BTreeMap;

/// Contracts by package.
pub(super) type ByPackage = BTreeMap<String, Vec<ContractId>>;

/// The packages of `to_move`, as `package_of` (the holdings) says; contracts whose package
/// no holding shows (an import from a participant this run does not read) are left out.
pub(super) fn by_package<'a>(to_move: &[ContractId], package_of: &dyn Fn(&str) -> Option<&'a str>) -> ByPackage {
    let mut out = ByPackage::new();
    for id in to_move {
        if let Some(package) = package_of(id) {
            out.entry(package.to_string()).or_default().push(id.clone());
        }
    }
    out
}

/// What an operator reads about one unvetted package, after the participant's name.
pub(super) fn unvetted_text(target: &str, package: &str, ids: &[ContractId]) -> String {
    let shown: Vec<String> = ids
        .iter()
        .take(5)
        .map(|i| i.chars().take(20).collect::<String>() + "…")
        .chain((ids.len() > 5).then(|| format!("and {} more", ids.len() - 5)))
        .collect();
    format!(
        "has not vetted package {package} on {target}, and {} contract(s) it must hold there use it: {}. Moved there, they could not be used (Canton rejects every transaction on them with PACKAGE_NOT_VETTED_BY_RECIPIENTS). Vet the DAR holding it on {target} (console, while connected to {target}: dars.vetting.enable(<main package id>, synchronizerId = <{target}'s id>)), then run again",
        ids.len(),
        shown.join(", ")
    )
}

/// The packages of `needed` that `api` has not vetted on `target_id`; `None` when it has
/// no topology store for the target yet.
pub(super) async fn unvetted(
    api: &dyn ParticipantApi,
    target_id: &str,
    needed: &ByPackage,
) -> Result<Option<ByPackage>, ClientError> {
    let Some(vetted) = api.vetted_packages(target_id).await? else {
        return Ok(None);
    };
    Ok(Some(
        needed
            .iter()
            .filter(|(package, _)| !vetted.contains(*package))
            .map(|(p, ids)| (p.clone(), ids.clone()))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_come_from_any_holding_and_unknown_ones_are_left_out() {
        let mine: ByPackage = [("pkgA".to_string(), vec![ContractId::from("a"), ContractId::from("b")])].into();
        let source: ByPackage = [("pkgB".to_string(), vec![ContractId::from("i")])].into();
        let to_move = [ContractId::from("a"), ContractId::from("i"), ContractId::from("x")];
        let package_of = |id: &str| {
            [&mine, &source].into_iter().find_map(|held| {
                held.iter()
                    .find(|(_, ids)| ids.iter().any(|i| &**i == id))
                    .map(|(p, _)| p.as_str())
            })
        };
        let got = by_package(&to_move, &package_of);
        assert_eq!(
            got,
            [
                ("pkgA".to_string(), vec![ContractId::from("a")]),
                ("pkgB".to_string(), vec![ContractId::from("i")])
            ]
            .into()
        );
        let text = unvetted_text("newDomain", "pkgA", &got["pkgA"]);
        assert!(
            text.starts_with(
                "has not vetted package pkgA on newDomain, and 1 contract(s) it must hold there use it: a…."
            ),
            "{text}"
        );
    }
}
