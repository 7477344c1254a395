//! The TOML shape of a runbook. Kept apart from the plan model so the file format can stay
//! stable while the in-memory types evolve. Unknown fields are refused: the plan hash
//! covers only what the reader knows, so a field it skipped would be an edit nobody
//! checked (a newer format says so by its version).

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RunbookDoc {
    pub runbook: Header,
    pub synchronizers: Synchronizers,
    pub selection: SelectionDto,
    pub participants: Vec<ParticipantDto>,
    pub phases: Vec<PhaseDto>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Header {
    pub format: String,
    pub version: i64,
    pub incident: String,
    pub plan_hash: String,
    pub created: String,
    pub proposed_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<SidecarRef>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SidecarRef {
    pub file: String,
    pub digest: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Synchronizers {
    pub lost: String,
    pub target: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SelectionDto {
    pub strategy: String,
    pub batch_size: u32,
    /// Manual strategy only: the rows the operator picked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<IdList>,
    pub exclusions: IdList,
    #[serde(default)]
    pub decisions: Vec<DecisionDto>,
    #[serde(default)]
    pub excluded: Vec<ExcludedDto>,
}

/// One decision applied to a group of rows.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DecisionDto {
    pub decision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    pub contract_ids: IdList,
}

/// Rows left out of the move, grouped by class and reason.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExcludedDto {
    pub class: String,
    pub reason: String,
    pub contract_ids: IdList,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ParticipantDto {
    pub name: String,
    pub in_flight: InFlightDto,
    pub expected_digest: String,
    /// Version 2 with the ids inline: the payload tag of each id of `expected_active`. With
    /// a contract table the tags are in the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_payloads: Option<Vec<String>>,
    pub expected_active: IdList,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InFlightDto {
    pub pending_submissions: u32,
    pub pending_transactions: u32,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PhaseDto {
    pub name: String,
    #[serde(default)]
    pub steps: Vec<StepDto>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct StepDto {
    pub participant: String,
    #[serde(flatten)]
    pub action: ActionDto,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum ActionDto {
    DisconnectSynchronizer {
        synchronizer: String,
    },
    ModifySynchronizer {
        synchronizer: String,
        manual_connect: bool,
        validation: String,
    },
    ReconnectSynchronizer {
        synchronizer: String,
        retry: bool,
    },
    DisconnectAllSynchronizers,
    Ping {
        synchronizer: String,
    },
    PurgeContracts {
        synchronizer: String,
        ignore_already_purged: bool,
        contract_ids: IdList,
    },
    ImportAcs {
        synchronizer: String,
        source_participant: String,
        contract_ids: IdList,
    },
    ChangeAssignation {
        source_synchronizer: String,
        target_synchronizer: String,
        skip_inactive: bool,
        contract_ids: IdList,
    },
    Verify {
        synchronizer: String,
        ping: Vec<String>,
        contract_ids: IdList,
    },
}

/// A sorted id list: written inline, or a reference into the sidecar file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub(super) enum IdList {
    Inline(Vec<String>),
    /// Version 1: a whole section of the sidecar.
    Section(SectionRef),
    /// Version 2: a run of a set of the contract table.
    Set(SetRef),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SectionRef {
    pub sidecar: String,
    pub count: u64,
}

/// `count` rows of the set `set`, starting at its `from`th (a move batch); the whole set
/// when `from` is 0 and `count` its size.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SetRef {
    pub set: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub from: u64,
    pub count: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_steps_and_id_list_references_survive_toml() {
        let phase = PhaseDto {
            name: "move".into(),
            steps: vec![
                StepDto {
                    participant: "p1".into(),
                    action: ActionDto::DisconnectAllSynchronizers,
                },
                StepDto {
                    participant: "p1".into(),
                    action: ActionDto::ChangeAssignation {
                        source_synchronizer: "a".into(),
                        target_synchronizer: "b".into(),
                        skip_inactive: true,
                        contract_ids: IdList::Set(SetRef {
                            set: "move.0".into(),
                            from: 500,
                            count: 3,
                        }),
                    },
                },
                StepDto {
                    participant: "p2".into(),
                    action: ActionDto::Verify {
                        synchronizer: "b".into(),
                        ping: vec!["p1".into()],
                        contract_ids: IdList::Inline(vec!["c1".into()]),
                    },
                },
            ],
        };
        #[derive(Serialize, Deserialize)]
        struct Doc {
            phases: Vec<PhaseDto>,
        }
        let text = toml::to_string(&Doc { phases: vec![phase] }).unwrap();
        let back: Doc = toml::from_str(&text).unwrap();
        let v1 = "[[phases]]\nname = \"move\"\n[[phases.steps]]\nparticipant = \"p\"\naction = \"verify\"\nsynchronizer = \"b\"\nping = []\ncontract_ids = { sidecar = \"s\", count = 2 }\n";
        let old: Doc = toml::from_str(v1).unwrap();
        assert!(matches!(
            &old.phases[0].steps[0].action,
            ActionDto::Verify {
                contract_ids: IdList::Section(SectionRef { count: 2, .. }),
                ..
            }
        ));
        let mixed = v1.replace("count = 2", "count = 2, set = \"x\"");
        assert!(
            toml::from_str::<Doc>(&mixed).is_err(),
            "a reference is one kind or the other"
        );
        let steps = &back.phases[0].steps;
        assert!(matches!(steps[0].action, ActionDto::DisconnectAllSynchronizers));
        assert!(matches!(
            &steps[1].action,
            ActionDto::ChangeAssignation {
                contract_ids: IdList::Set(SetRef {
                    from: 500,
                    count: 3,
                    ..
                }),
                ..
            }
        ));
        assert!(matches!(
            &steps[2].action,
            ActionDto::Verify { contract_ids: IdList::Inline(ids), .. } if ids == &["c1"]
        ));
    }
}
