//! Plan -> runbook TOML (+ contract table), written to streams the caller opens.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufWriter, Write};

use sha2::{Digest as _, Sha256};

use crate::reconcile::{ContractId, Decision, Strategy};

use super::dto::*;
use super::rows::{NoRows, Sets, everything, merge};
use super::table::{self, TableOut};
use super::{INLINE_MAX, RUNBOOK_FORMAT, RUNBOOK_VERSION, RunbookError, RunbookMeta, SIDECAR_THRESHOLD, Sidecar};
use crate::plan::PayloadTag;
use crate::plan::hash::{PREFIX, render};
use crate::plan::model::{Action, PhaseKind, Plan};

const BANNER: &str = "# recovery-deck runbook. Any edit changes the plan hash and the file will be refused;\n# regenerate the plan instead.\n\n";

/// Writes a plan's runbook and, for a large plan, its sidecar: first
/// [`write_sidecar`](Self::write_sidecar) (when [`sidecar_file_name`](Self::sidecar_file_name)
/// names one), then [`write_runbook`](Self::write_runbook), which pins the sidecar's digest.
pub struct RunbookWriter<'p> {
    doc: RunbookDoc,
    table: Option<TableParts<'p>>,
}

struct TableParts<'p> {
    file_name: String,
    plan_hash: &'p str,
    participants: &'p [String],
    sets: Sets<'p>,
    /// Each participant's expected holding, as a set.
    held: Vec<SetRef>,
    tags: Vec<Option<PayloadTag>>,
    others: Vec<(u32, u32, PayloadTag)>,
}

impl<'p> RunbookWriter<'p> {
    pub fn new(plan: &'p Plan, meta: &RunbookMeta) -> Result<Self, RunbookError> {
        if plan.expected_snapshots().values().any(|e| e.payloads.is_none()) {
            return Err(RunbookError::Render(
                "this plan was read from a version 1 runbook and has no per-row payloads to write; make the plan again"
                    .into(),
            ));
        }
        if id_count(plan) <= SIDECAR_THRESHOLD {
            return Self::with(plan, meta, None).map_err(Fail::into_error);
        }
        // The holdings cover every row of the comparison a plan is made from, so they make
        // the table; a plan whose lists hold another id gets a table of all its ids.
        let held = holdings(plan);
        let (ids, rows) = merge(&held).map_err(|e| e.error("an expected holding"))?;
        match Self::with(plan, meta, Some(table_parts(plan, Sets::new(ids), rows)?)) {
            Err(Fail::Missing) => {
                let mut lists = held.clone();
                lists.extend(all_lists(plan));
                let sets = Sets::new(everything(&lists));
                let rows = held
                    .iter()
                    .map(|h| sets.rows([*h]).map_err(|e| e.error("an expected holding")))
                    .collect::<Result<Vec<_>, _>>()?;
                Self::with(plan, meta, Some(table_parts(plan, sets, rows)?)).map_err(Fail::into_error)
            }
            other => other.map_err(Fail::into_error),
        }
    }

    fn with(plan: &'p Plan, meta: &RunbookMeta, mut table: Option<TableParts<'p>>) -> Result<Self, Fail> {
        let mut lists = match table.as_mut() {
            Some(t) => Lists {
                sets: Some(&mut t.sets),
                held: t.held.clone(),
            },
            None => Lists {
                sets: None,
                held: Vec::new(),
            },
        };
        let selection = selection(plan, &mut lists)?;
        let participants = participants(plan, &lists);
        let moves = moves(plan, &mut lists)?;
        let phases = phases(plan, &mut lists, moves)?;
        let doc = RunbookDoc {
            runbook: Header {
                format: RUNBOOK_FORMAT.to_owned(),
                version: RUNBOOK_VERSION,
                incident: plan.incident().to_owned(),
                plan_hash: plan.hash().to_owned(),
                created: meta.created.clone(),
                proposed_by: meta.proposed_by.clone(),
                sidecar: None,
            },
            synchronizers: Synchronizers {
                lost: plan.lost().to_owned(),
                target: plan.target().to_owned(),
            },
            selection,
            participants,
            phases,
        };
        Ok(Self { doc, table })
    }

    /// The sidecar's file name, to be written next to the runbook; `None` for a plan whose
    /// ids all fit in the runbook.
    pub fn sidecar_file_name(&self) -> Option<&str> {
        self.table.as_ref().map(|t| t.file_name.as_str())
    }

    /// Writes the sidecar and remembers its digest for the runbook.
    pub fn write_sidecar(&mut self, out: &mut dyn Write) -> Result<(), RunbookError> {
        let Some(t) = &self.table else {
            return Err(RunbookError::Render("this plan has no sidecar".into()));
        };
        let mut w = BufWriter::with_capacity(
            1 << 16,
            Hashing {
                inner: out,
                hasher: Sha256::new(),
            },
        );
        table::write(
            &TableOut {
                plan_hash: t.plan_hash,
                participants: t.participants,
                ids: &t.sets.ids,
                tags: &t.tags,
                others: &t.others,
                sets: &t.sets.sets,
            },
            &mut w,
        )?;
        let hashing = w.into_inner().map_err(|e| RunbookError::Io(e.error().to_string()))?;
        self.doc.runbook.sidecar = Some(SidecarRef {
            file: t.file_name.clone(),
            digest: render(hashing.hasher),
        });
        Ok(())
    }

    pub fn write_runbook(&self, out: &mut dyn Write) -> Result<(), RunbookError> {
        if self.table.is_some() && self.doc.runbook.sidecar.is_none() {
            return Err(RunbookError::Render("the sidecar must be written first".into()));
        }
        let body = toml::to_string_pretty(&self.doc).map_err(|e| RunbookError::Render(e.to_string()))?;
        out.write_all(BANNER.as_bytes())?;
        out.write_all(body.as_bytes())?;
        out.flush()?;
        Ok(())
    }
}

/// Renders the runbook and, for a large plan, its sidecar in memory (for tests and for the
/// multi-operator session, which sends both as messages).
pub fn to_runbook(plan: &Plan, meta: &RunbookMeta) -> Result<(String, Option<Sidecar>), RunbookError> {
    let utf8 = |bytes: Vec<u8>| String::from_utf8(bytes).map_err(|e| RunbookError::Render(e.to_string()));
    let mut w = RunbookWriter::new(plan, meta)?;
    let sidecar = match w.sidecar_file_name().map(str::to_owned) {
        Some(file_name) => {
            let mut text = Vec::new();
            w.write_sidecar(&mut text)?;
            Some(Sidecar {
                file_name,
                text: utf8(text)?,
            })
        }
        None => None,
    };
    let mut text = Vec::new();
    w.write_runbook(&mut text)?;
    Ok((utf8(text)?, sidecar))
}

struct Hashing<'o> {
    inner: &'o mut dyn Write,
    hasher: Sha256,
}

impl Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Why the runbook could not be built as tried.
enum Fail {
    /// A list holds an id outside the table: try again with a table of every id.
    Missing,
    Runbook(RunbookError),
}

impl Fail {
    fn into_error(self) -> RunbookError {
        match self {
            Fail::Missing => NoRows::Missing.error("a list"),
            Fail::Runbook(e) => e,
        }
    }

    fn of(e: NoRows, what: &str) -> Fail {
        match e {
            NoRows::Missing => Fail::Missing,
            unsorted => Fail::Runbook(unsorted.error(what)),
        }
    }
}

impl From<RunbookError> for Fail {
    fn from(e: RunbookError) -> Self {
        Fail::Runbook(e)
    }
}

/// Each participant's expected holding, in the plan's participant order.
fn holdings(plan: &Plan) -> Vec<&[ContractId]> {
    plan.participants()
        .iter()
        .map(|p| plan.expected(p).map(|e| e.active.as_slice()).unwrap_or_default())
        .collect()
}

/// The table: its ids, each participant's held rows (`rows`, in the plan's participant
/// order) as a set, and their payload tags (a tag per row, and the exceptions of a later
/// holder whose payload differs).
fn table_parts<'p>(plan: &'p Plan, mut sets: Sets<'p>, rows: Vec<Vec<u32>>) -> Result<TableParts<'p>, RunbookError> {
    let mut tags: Vec<Option<PayloadTag>> = vec![None; sets.ids.len()];
    let mut others = Vec::new();
    let mut held = Vec::new();
    for (k, (p, rows)) in plan.participants().iter().zip(rows).enumerate() {
        let payloads = plan.expected(p).and_then(|e| e.payloads.as_deref()).unwrap_or_default();
        if payloads.len() != rows.len() {
            return Err(RunbookError::Render(format!("{p}: one payload tag per held contract")));
        }
        for (&r, &tag) in rows.iter().zip(payloads) {
            match tags[r as usize] {
                None => tags[r as usize] = Some(tag),
                Some(first) if first != tag => others.push((r, k as u32, tag)),
                Some(_) => {}
            }
        }
        held.push(sets.add(&format!("held.{k}"), rows));
    }
    others.sort_unstable();
    Ok(TableParts {
        file_name: sidecar_name(plan),
        plan_hash: plan.hash(),
        participants: plan.participants(),
        sets,
        held,
        tags,
        others,
    })
}

/// Every id list of the plan apart from the expected holdings.
fn all_lists(plan: &Plan) -> Vec<&[ContractId]> {
    let mut lists: Vec<&[ContractId]> = plan
        .phases()
        .iter()
        .flat_map(|p| &p.steps)
        .map(|s| s.action.contract_ids())
        .collect();
    lists.extend(plan.excluded().iter().map(|r| std::slice::from_ref(&r.contract_id)));
    lists.extend(plan.decisions().keys().map(std::slice::from_ref));
    lists.extend(plan.exclusions().iter().map(std::slice::from_ref));
    if let Strategy::Manual { include } = plan.strategy() {
        lists.extend(include.iter().map(std::slice::from_ref));
    }
    lists
}

fn id_count(plan: &Plan) -> usize {
    let include = match plan.strategy() {
        Strategy::Manual { include } => include.len(),
        _ => 0,
    };
    let steps: usize = plan
        .phases()
        .iter()
        .flat_map(|p| &p.steps)
        .map(|s| s.action.contract_ids().len())
        .sum();
    let expected: usize = plan.expected_snapshots().values().map(|e| e.active.len()).sum();
    include + plan.exclusions().len() + plan.decisions().len() + plan.excluded().len() + expected + steps
}

/// Id lists as the runbook writes them: inline for a small plan or a short list, else a
/// set of the contract table.
struct Lists<'a, 'p> {
    sets: Option<&'a mut Sets<'p>>,
    /// With a table: each participant's expected holding.
    held: Vec<SetRef>,
}

impl Lists<'_, '_> {
    fn list(&mut self, name: &str, ids: &[ContractId]) -> Result<IdList, Fail> {
        match &mut self.sets {
            Some(sets) if ids.len() > INLINE_MAX => {
                let rows = sets.rows([ids]).map_err(|e| Fail::of(e, name))?;
                Ok(IdList::Set(sets.add(name, rows)))
            }
            _ => Ok(inline(ids)),
        }
    }
}

fn inline(ids: &[ContractId]) -> IdList {
    IdList::Inline(ids.iter().map(|i| i.to_string()).collect())
}

fn selection(plan: &Plan, lists: &mut Lists<'_, '_>) -> Result<SelectionDto, Fail> {
    let include = match plan.strategy() {
        Strategy::Manual { include } => {
            let ids: Vec<ContractId> = include.iter().cloned().collect();
            Some(lists.list("include", &ids)?)
        }
        _ => None,
    };
    let exclusions: Vec<ContractId> = plan.exclusions().iter().cloned().collect();
    let mut by_decision: BTreeMap<&Decision, Vec<ContractId>> = BTreeMap::new();
    for (id, d) in plan.decisions() {
        by_decision.entry(d).or_default().push(id.clone());
    }
    let mut by_reason = BTreeMap::new();
    for row in plan.excluded() {
        by_reason
            .entry((row.class, row.reason))
            .or_insert_with(Vec::new)
            .push(row.contract_id.clone());
    }
    let mut decisions = Vec::new();
    for (i, (d, ids)) in by_decision.into_iter().enumerate() {
        decisions.push(DecisionDto {
            decision: d.name().to_owned(),
            participant: None,
            contract_ids: lists.list(&format!("decisions.{i}"), &ids)?,
        });
    }
    let mut excluded = Vec::new();
    for (i, ((class, reason), ids)) in by_reason.into_iter().enumerate() {
        excluded.push(ExcludedDto {
            class: class.as_str().to_owned(),
            reason: reason.as_str().to_owned(),
            contract_ids: lists.list(&format!("excluded.{i}"), &ids)?,
        });
    }
    Ok(SelectionDto {
        strategy: plan.strategy().name().to_owned(),
        batch_size: plan.batch_size(),
        include,
        exclusions: lists.list("exclusions", &exclusions)?,
        decisions,
        excluded,
    })
}

fn participants(plan: &Plan, lists: &Lists<'_, '_>) -> Vec<ParticipantDto> {
    let mut out = Vec::new();
    for (k, name) in plan.participants().iter().enumerate() {
        let expected = plan.expected(name);
        let active = expected.map(|e| e.active.as_slice()).unwrap_or_default();
        let payloads = expected.and_then(|e| e.payloads.as_deref()).unwrap_or_default();
        // With a table, the holding is a set and the payloads are in the table.
        let (expected_active, expected_payloads) = match lists.held.get(k) {
            Some(set) => (IdList::Set(set.clone()), None),
            None => (
                inline(active),
                Some(payloads.iter().map(PayloadTag::to_string).collect()),
            ),
        };
        let flight = plan.in_flight().get(name).copied().unwrap_or_default();
        out.push(ParticipantDto {
            name: name.clone(),
            in_flight: InFlightDto {
                pending_submissions: flight.pending_submissions,
                pending_transactions: flight.pending_transactions,
            },
            expected_digest: expected.map(|e| e.digest.clone()).unwrap_or_default(),
            expected_payloads,
            expected_active,
        });
    }
    out
}

/// With a table, each participant's move batches, when they ascend one after the other
/// (as [`crate::plan::build_plan`] makes them), are runs of one set `move.K`, which its
/// verification names too when it checks exactly those contracts.
#[derive(Default)]
struct Moves<'p> {
    /// Move phase step index -> its run of the set.
    batches: HashMap<usize, IdList>,
    /// Participant -> the whole set, and the batches' id lists.
    whole: HashMap<&'p str, (SetRef, Vec<&'p [ContractId]>)>,
}

fn moves<'p>(plan: &'p Plan, lists: &mut Lists<'_, '_>) -> Result<Moves<'p>, Fail> {
    let mut moves = Moves::default();
    let (Some(sets), Some(phase)) = (&mut lists.sets, plan.phase(PhaseKind::Move)) else {
        return Ok(moves);
    };
    for (k, p) in plan.participants().iter().enumerate() {
        let steps: Vec<(usize, &'p [ContractId])> = phase
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| &s.participant == p && matches!(s.action, Action::ChangeAssignation { .. }))
            .map(|(i, s)| (i, s.action.contract_ids()))
            .collect();
        let total: usize = steps.iter().map(|(_, ids)| ids.len()).sum();
        if total <= INLINE_MAX {
            continue;
        }
        let rows = match sets.rows(steps.iter().map(|(_, ids)| *ids)) {
            Ok(rows) => rows,
            Err(NoRows::Missing) => return Err(Fail::Missing),
            // Not one ascending run: each batch becomes a set of its own.
            Err(NoRows::Unsorted) => continue,
        };
        let whole = sets.add(&format!("move.{k}"), rows);
        let mut from = 0u64;
        for (i, ids) in &steps {
            let count = ids.len() as u64;
            let run = SetRef {
                set: whole.set.clone(),
                from,
                count,
            };
            moves.batches.insert(*i, IdList::Set(run));
            from += count;
        }
        let batches = steps.into_iter().map(|(_, ids)| ids).collect();
        moves.whole.insert(p.as_str(), (whole, batches));
    }
    Ok(moves)
}

fn phases(plan: &Plan, lists: &mut Lists<'_, '_>, mut moves: Moves<'_>) -> Result<Vec<PhaseDto>, Fail> {
    let mut out = Vec::new();
    for (p, phase) in plan.phases().iter().enumerate() {
        let mut steps = Vec::new();
        for (s, step) in phase.steps.iter().enumerate() {
            let name = format!("phases.{p}.steps.{s}");
            let ids = step.action.contract_ids();
            let batch = (phase.kind == PhaseKind::Move)
                .then(|| moves.batches.remove(&s))
                .flatten();
            // Compared by address first: the same `Arc`s, so no string is read.
            let all_moves = matches!(step.action, Action::Verify { .. })
                .then(|| moves.whole.get(step.participant.as_str()))
                .flatten()
                .filter(|(_, batches)| ids.iter().eq(batches.iter().flat_map(|b| b.iter())));
            let list = match (batch, all_moves) {
                (Some(list), _) => list,
                (None, Some((whole, _))) => IdList::Set(whole.clone()),
                (None, None) => lists.list(&name, ids)?,
            };
            steps.push(StepDto {
                participant: step.participant.clone(),
                action: action(&step.action, list),
            });
        }
        out.push(PhaseDto {
            name: phase.kind.as_str().to_owned(),
            steps,
        });
    }
    Ok(out)
}

fn action(a: &Action, contract_ids: IdList) -> ActionDto {
    match a {
        Action::DisconnectSynchronizer { synchronizer } => ActionDto::DisconnectSynchronizer {
            synchronizer: synchronizer.clone(),
        },
        Action::ModifySynchronizer {
            synchronizer,
            manual_connect,
            validation,
        } => ActionDto::ModifySynchronizer {
            synchronizer: synchronizer.clone(),
            manual_connect: *manual_connect,
            validation: validation.as_str().to_owned(),
        },
        Action::ReconnectSynchronizer { synchronizer, retry } => ActionDto::ReconnectSynchronizer {
            synchronizer: synchronizer.clone(),
            retry: *retry,
        },
        Action::DisconnectAllSynchronizers => ActionDto::DisconnectAllSynchronizers,
        Action::Ping { synchronizer } => ActionDto::Ping {
            synchronizer: synchronizer.clone(),
        },
        Action::PurgeContracts {
            synchronizer,
            ignore_already_purged,
            ..
        } => ActionDto::PurgeContracts {
            synchronizer: synchronizer.clone(),
            ignore_already_purged: *ignore_already_purged,
            contract_ids,
        },
        Action::ImportAcs {
            synchronizer,
            source_participant,
            ..
        } => ActionDto::ImportAcs {
            synchronizer: synchronizer.clone(),
            source_participant: source_participant.clone(),
            contract_ids,
        },
        Action::ChangeAssignation {
            source_synchronizer,
            target_synchronizer,
            skip_inactive,
            ..
        } => ActionDto::ChangeAssignation {
            source_synchronizer: source_synchronizer.clone(),
            target_synchronizer: target_synchronizer.clone(),
            skip_inactive: *skip_inactive,
            contract_ids,
        },
        Action::Verify { synchronizer, ping, .. } => ActionDto::Verify {
            synchronizer: synchronizer.clone(),
            ping: ping.clone(),
            contract_ids,
        },
    }
}

/// `<incident>.contracts-<first 16 hex digits of the plan hash>.txt`, safe as a file name.
fn sidecar_name(plan: &Plan) -> String {
    let slug: String = plan
        .incident()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let hex = plan.hash().strip_prefix(PREFIX).unwrap_or(plan.hash());
    format!("{slug}.contracts-{}.txt", hex.get(..16).unwrap_or(hex))
}
