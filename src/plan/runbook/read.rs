//! Runbook TOML (+ sidecar) -> plan, refusing anything that does not hash to the recorded
//! plan hash. Reads versions 1 and 2.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;

use crate::batch::{REQUEST_BYTES, fits_one_request};
use crate::reconcile::{ContractId, Decision, ExcludedRow, ExclusionReason, RowClass, Strategy, is_valid_contract_id};

use super::dto::*;
use super::lines::verified;
use super::table::Table;
use super::{LoadedRunbook, RUNBOOK_FORMAT, RUNBOOK_VERSIONS_READ, RunbookError, RunbookMeta, sidecar_v1, table};
use crate::plan::PayloadTag;
use crate::plan::hash::plan_hash;
use crate::plan::model::{Action, ConnectionValidation, ExpectedSnapshot, InFlight, Phase, PhaseKind, Plan, Step};

fn invalid(at: impl Into<String>, problem: impl Into<String>) -> RunbookError {
    RunbookError::Invalid {
        at: at.into(),
        problem: problem.into(),
    }
}

/// The sidecar file a runbook refers to, so the caller knows what to read before loading.
pub fn runbook_sidecar(text: &str) -> Result<Option<String>, RunbookError> {
    Ok(parse_doc(text)?.0.runbook.sidecar.map(|s| s.file))
}

/// Loads the plan, refusing a recorded plan hash that its content does not reproduce.
/// `sidecar` is the text of the file [`runbook_sidecar`] names; it is ignored when the
/// runbook names none.
pub fn from_runbook(text: &str, sidecar: Option<&str>) -> Result<Plan, RunbookError> {
    load_runbook(text, sidecar).map(|r| r.plan)
}

/// Like [`from_runbook`], also returning who proposed the plan and when.
pub fn load_runbook(text: &str, sidecar_text: Option<&str>) -> Result<LoadedRunbook, RunbookError> {
    let mut bytes = sidecar_text.map(str::as_bytes);
    load_runbook_from(text, bytes.as_mut().map(|b| b as &mut dyn BufRead))
}

/// Like [`load_runbook`], reading the sidecar from a stream, line by line.
pub fn load_runbook_from(text: &str, sidecar: Option<&mut dyn BufRead>) -> Result<LoadedRunbook, RunbookError> {
    let (doc, version) = parse_doc(text)?;
    let source = match &doc.runbook.sidecar {
        None => Source::Inline,
        Some(r) => {
            let reader = sidecar.ok_or_else(|| RunbookError::MissingSidecar { file: r.file.clone() })?;
            if version == 1 {
                Source::Sections(verified(&r.file, &r.digest, reader, sidecar_v1::parse)?)
            } else {
                Source::Table(verified(&r.file, &r.digest, reader, table::read)?)
            }
        }
    };
    let mut ids = Ids { source };
    let plan = build(&doc, &mut ids)?;
    if plan.hash != doc.runbook.plan_hash {
        return Err(RunbookError::HashMismatch {
            recorded: doc.runbook.plan_hash.clone(),
            computed: plan.hash,
        });
    }
    check_structure(&plan)?;
    Ok(LoadedRunbook {
        plan,
        meta: RunbookMeta {
            created: doc.runbook.created,
            proposed_by: doc.runbook.proposed_by,
        },
    })
}

/// Checks format and version before the full shape, so an old or foreign file gets a clear
/// message instead of a missing-field error.
fn parse_doc(text: &str) -> Result<(RunbookDoc, i64), RunbookError> {
    let table: toml::Table =
        toml::from_str(text).map_err(|e| RunbookError::Toml(crate::config::toml_error(text, &e)))?;
    let header = table.get("runbook").and_then(|v| v.as_table());
    let format = header.and_then(|h| h.get("format")).and_then(|v| v.as_str());
    if format != Some(RUNBOOK_FORMAT) {
        return Err(RunbookError::UnknownFormat(format.unwrap_or("<missing>").to_owned()));
    }
    let version = header.and_then(|h| h.get("version")).and_then(|v| v.as_integer());
    let Some(version) = version.filter(|v| RUNBOOK_VERSIONS_READ.contains(v)) else {
        return Err(RunbookError::UnsupportedVersion(version.unwrap_or(0)));
    };
    let doc: RunbookDoc = toml::from_str(text).map_err(|e| RunbookError::Toml(crate::config::toml_error(text, &e)))?;
    if let Some(sidecar) = &doc.runbook.sidecar
        && !is_plain_file_name(&sidecar.file)
    {
        // The caller reads the sidecar next to the runbook: never anywhere else.
        return Err(invalid(
            "runbook.sidecar.file",
            format!("{:?} must be a plain file name, next to the runbook", sidecar.file),
        ));
    }
    Ok((doc, version))
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// Where the lists' ids are: all inline, or also in a version 1 sidecar's sections, or in a
/// version 2 contract table.
enum Source {
    Inline,
    Sections(HashMap<String, Vec<String>>),
    Table(Table),
}

struct Ids {
    source: Source,
}

impl Ids {
    fn get(&mut self, list: &IdList, at: &str) -> Result<Vec<ContractId>, RunbookError> {
        let raw: Vec<String> = match (list, &mut self.source) {
            (IdList::Inline(ids), _) => ids.clone(),
            (IdList::Section(r), Source::Sections(sections)) => {
                let section_error = |problem: String| RunbookError::SidecarSection {
                    section: r.sidecar.clone(),
                    problem,
                };
                let ids = sections
                    .remove(&r.sidecar)
                    .ok_or_else(|| section_error("missing from the sidecar file (or used twice)".into()))?;
                if ids.len() as u64 != r.count {
                    return Err(section_error(format!(
                        "runbook expects {} ids, the sidecar has {}",
                        r.count,
                        ids.len()
                    )));
                }
                ids
            }
            (IdList::Set(r), Source::Table(table)) => {
                let rows = rows(table, r)?;
                return Ok(rows.iter().map(|&row| table.ids[row as usize].clone()).collect());
            }
            (IdList::Section(_), _) => {
                return Err(invalid(
                    at,
                    "refers to a version 1 sidecar section, but the runbook has none",
                ));
            }
            (IdList::Set(_), _) => {
                return Err(invalid(
                    at,
                    "refers to a set of the contract table, but the runbook has none",
                ));
            }
        };
        if let Some(bad) = raw.iter().find(|id| !is_valid_contract_id(id)) {
            return Err(invalid(at, format!("{bad:?} is not a valid contract id")));
        }
        Ok(raw.into_iter().map(ContractId::from).collect())
    }

    /// Lists that stand for sets must be strictly ascending; a duplicate could otherwise
    /// smuggle a second, conflicting entry past the hash.
    fn set(&mut self, list: &IdList, at: &str) -> Result<Vec<ContractId>, RunbookError> {
        let ids = self.get(list, at)?;
        // A run of a set of the table ascends by construction: its rows ascend, and so
        // do the table's ids.
        let checked = matches!(list, IdList::Set(_));
        if !checked && ids.windows(2).any(|w| w[0] >= w[1]) {
            return Err(invalid(at, "contract ids must be sorted and unique"));
        }
        Ok(ids)
    }
}

/// The rows a reference names: `count` rows of the set from its `from`th.
fn rows<'t>(table: &'t Table, r: &SetRef) -> Result<&'t [u32], RunbookError> {
    let section_error = |problem: String| RunbookError::SidecarSection {
        section: r.set.clone(),
        problem,
    };
    let set = table
        .sets
        .get(&r.set)
        .ok_or_else(|| section_error("no such set in the sidecar file".into()))?;
    let end = r
        .from
        .checked_add(r.count)
        .filter(|&e| e <= set.len() as u64)
        .ok_or_else(|| {
            section_error(format!(
                "the runbook takes {} rows from row {} of a set of {}",
                r.count,
                r.from,
                set.len()
            ))
        })?;
    Ok(&set[r.from as usize..end as usize])
}

/// Each participant's expected holding and its payload tags: in the runbook (version 2,
/// inline), in the contract table (version 2, sidecar), or not kept (version 1).
fn expected(doc: &RunbookDoc, ids: &mut Ids) -> Result<Vec<ExpectedSnapshot>, RunbookError> {
    let version = doc.runbook.version;
    let mut out = Vec::with_capacity(doc.participants.len());
    let mut in_table = Vec::new();
    for (i, p) in doc.participants.iter().enumerate() {
        let at = format!("participants[{i}]");
        let active = ids.set(&p.expected_active, &format!("{at}.expected_active"))?;
        let payloads = match (version, &p.expected_payloads, &p.expected_active) {
            (1, None, _) => None,
            (2.., Some(tags), IdList::Inline(_)) => {
                let tags = tags
                    .iter()
                    .map(|t| t.parse::<PayloadTag>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| invalid(format!("{at}.expected_payloads"), e))?;
                if tags.len() != active.len() {
                    return Err(invalid(
                        at,
                        "expected_payloads must have one tag per expected_active id",
                    ));
                }
                Some(tags)
            }
            (2.., None, IdList::Set(r)) => {
                in_table.push((out.len(), r));
                Some(Vec::new())
            }
            _ => {
                return Err(invalid(
                    at,
                    "expected_payloads goes with an inline expected_active list (version 2), and only there",
                ));
            }
        };
        out.push(ExpectedSnapshot {
            active,
            payloads,
            digest: p.expected_digest.clone(),
        });
    }
    if let Source::Table(table) = &ids.source {
        if in_table.len() != out.len() {
            return Err(invalid(
                "participants",
                "with a contract table, every expected_active is a set of it",
            ));
        }
        let held = in_table
            .iter()
            .map(|(_, r)| rows(table, r))
            .collect::<Result<Vec<_>, _>>()?;
        let tags = table.payloads(&held).map_err(|problem| RunbookError::SidecarSection {
            section: "@ids".into(),
            problem,
        })?;
        for ((k, _), tags) in in_table.iter().zip(tags) {
            out[*k].payloads = Some(tags);
        }
    }
    Ok(out)
}

fn build(doc: &RunbookDoc, ids: &mut Ids) -> Result<Plan, RunbookError> {
    let sel = &doc.selection;
    let strategy = match (sel.strategy.as_str(), &sel.include) {
        ("intersection", None) => Strategy::Intersection,
        ("union", None) => Strategy::Union,
        ("manual", Some(list)) => Strategy::Manual {
            include: ids.set(list, "selection.include")?.into_iter().collect(),
        },
        (other, _) => {
            return Err(invalid(
                "selection.strategy",
                format!(
                    "{other:?} with{} an include list is not a strategy",
                    if sel.include.is_some() { "" } else { "out" }
                ),
            ));
        }
    };
    let exclusions: BTreeSet<ContractId> = ids.set(&sel.exclusions, "selection.exclusions")?.into_iter().collect();
    let mut decisions = BTreeMap::new();
    for (i, d) in sel.decisions.iter().enumerate() {
        let at = format!("selection.decisions[{i}]");
        let decision = match (d.decision.as_str(), &d.participant) {
            ("exclude", None) => Decision::Exclude,
            ("purge", None) => Decision::Purge,
            ("adopt", _) => return Err(invalid(at, crate::reconcile::NO_ADOPT.to_string())),
            (other, _) => {
                return Err(invalid(
                    at,
                    format!("{other:?} is not a decision (or its participant is wrong)"),
                ));
            }
        };
        for id in ids.set(&d.contract_ids, &at)? {
            if decisions.insert(id.clone(), decision.clone()).is_some() {
                return Err(invalid(at, format!("contract {id} has more than one decision")));
            }
        }
    }
    let mut excluded = Vec::new();
    for (i, e) in sel.excluded.iter().enumerate() {
        let at = format!("selection.excluded[{i}]");
        let class: RowClass = e
            .class
            .parse()
            .map_err(|err: crate::reconcile::UnknownRowClass| invalid(&at, err.to_string()))?;
        let reason: ExclusionReason = e.reason.parse().map_err(|err: String| invalid(&at, err))?;
        for contract_id in ids.set(&e.contract_ids, &at)? {
            excluded.push(ExcludedRow {
                contract_id,
                class,
                reason,
            });
        }
    }
    excluded.sort();
    if let Some(w) = excluded.windows(2).find(|w| w[0].contract_id == w[1].contract_id) {
        return Err(invalid(
            "selection.excluded",
            format!("contract {} is listed twice", w[0].contract_id),
        ));
    }

    let mut expected = BTreeMap::new();
    let mut in_flight = BTreeMap::new();
    for (i, (p, snapshot)) in doc.participants.iter().zip(self::expected(doc, ids)?).enumerate() {
        let at = format!("participants[{i}]");
        if expected.insert(p.name.clone(), snapshot).is_some() {
            return Err(invalid(at, format!("participant {} is listed twice", p.name)));
        }
        let flight = InFlight {
            pending_submissions: p.in_flight.pending_submissions,
            pending_transactions: p.in_flight.pending_transactions,
        };
        in_flight.insert(p.name.clone(), flight);
    }

    let mut phases = Vec::with_capacity(doc.phases.len());
    for (p, phase) in doc.phases.iter().enumerate() {
        let kind: PhaseKind = phase
            .name
            .parse()
            .map_err(|e: String| invalid(format!("phases[{p}]"), e))?;
        let mut steps = Vec::with_capacity(phase.steps.len());
        for (s, step) in phase.steps.iter().enumerate() {
            let at = format!("phases[{p}].steps[{s}]");
            steps.push(Step {
                participant: step.participant.clone(),
                action: action(&step.action, &at, ids)?,
            });
        }
        phases.push(Phase { kind, steps });
    }

    let mut plan = Plan {
        incident: doc.runbook.incident.clone(),
        lost: doc.synchronizers.lost.clone(),
        target: doc.synchronizers.target.clone(),
        participants: doc.participants.iter().map(|p| p.name.clone()).collect(),
        strategy,
        decisions,
        exclusions,
        batch_size: sel.batch_size,
        excluded,
        expected,
        in_flight,
        phases,
        hash: String::new(),
    };
    plan.hash = plan_hash(&plan);
    Ok(plan)
}

fn action(a: &ActionDto, at: &str, ids: &mut Ids) -> Result<Action, RunbookError> {
    let list_at = format!("{at}.contract_ids");
    Ok(match a {
        ActionDto::DisconnectSynchronizer { synchronizer } => Action::DisconnectSynchronizer {
            synchronizer: synchronizer.clone(),
        },
        ActionDto::ModifySynchronizer {
            synchronizer,
            manual_connect,
            validation,
        } => {
            let validation = match validation.as_str() {
                "disabled" => ConnectionValidation::Disabled,
                "all" => ConnectionValidation::All,
                other => return Err(invalid(at, format!("unknown validation {other:?}"))),
            };
            Action::ModifySynchronizer {
                synchronizer: synchronizer.clone(),
                manual_connect: *manual_connect,
                validation,
            }
        }
        ActionDto::ReconnectSynchronizer { synchronizer, retry } => Action::ReconnectSynchronizer {
            synchronizer: synchronizer.clone(),
            retry: *retry,
        },
        ActionDto::DisconnectAllSynchronizers => Action::DisconnectAllSynchronizers,
        ActionDto::Ping { synchronizer } => Action::Ping {
            synchronizer: synchronizer.clone(),
        },
        ActionDto::PurgeContracts {
            synchronizer,
            ignore_already_purged,
            contract_ids,
        } => Action::PurgeContracts {
            synchronizer: synchronizer.clone(),
            contract_ids: ids.set(contract_ids, &list_at)?,
            ignore_already_purged: *ignore_already_purged,
        },
        ActionDto::ImportAcs {
            synchronizer,
            source_participant,
            contract_ids,
        } => Action::ImportAcs {
            synchronizer: synchronizer.clone(),
            source_participant: source_participant.clone(),
            contract_ids: ids.set(contract_ids, &list_at)?,
        },
        ActionDto::ChangeAssignation {
            source_synchronizer,
            target_synchronizer,
            skip_inactive,
            contract_ids,
        } => Action::ChangeAssignation {
            source_synchronizer: source_synchronizer.clone(),
            target_synchronizer: target_synchronizer.clone(),
            contract_ids: ids.set(contract_ids, &list_at)?,
            skip_inactive: *skip_inactive,
        },
        ActionDto::Verify {
            synchronizer,
            ping,
            contract_ids,
        } => Action::Verify {
            synchronizer: synchronizer.clone(),
            contract_ids: ids.set(contract_ids, &list_at)?,
            ping: ping.clone(),
        },
    })
}

/// Runs after the hash check: a runbook that hashes correctly but was assembled by hand
/// must still describe something the executor can run safely.
fn check_structure(plan: &Plan) -> Result<(), RunbookError> {
    let kinds: Vec<PhaseKind> = plan.phases.iter().map(|p| p.kind).collect();
    if kinds != PhaseKind::ALL {
        return Err(invalid(
            "phases",
            "must be isolate, init_target, purge, import, move, reconnect, verify in this order",
        ));
    }
    if plan.participants.windows(2).any(|w| w[0] >= w[1]) {
        return Err(invalid("participants", "must be sorted by name and unique"));
    }
    if plan.batch_size == 0 {
        return Err(invalid("selection.batch_size", "must be at least 1"));
    }
    for phase in &plan.phases {
        for (s, step) in phase.steps.iter().enumerate() {
            let at = format!("phase {} step {}", phase.kind, s + 1);
            if plan.participants.binary_search(&step.participant).is_err() {
                return Err(invalid(
                    at,
                    format!("participant {} is not part of the plan", step.participant),
                ));
            }
            let ids = step.action.contract_ids();
            // The rule `build_plan` cuts the moves by (`crate::batch`).
            if phase.kind == PhaseKind::Move && !fits_one_request(ids, plan.batch_size as usize) {
                return Err(invalid(
                    at,
                    format!(
                        "{} ids do not fit one request (at most the batch size {} and {REQUEST_BYTES} bytes of ids)",
                        ids.len(),
                        plan.batch_size
                    ),
                ));
            }
        }
    }
    Ok(())
}
