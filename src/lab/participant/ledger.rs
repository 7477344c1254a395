//! The Ledger API v2 subset: ledger end, active contracts (with their synchronizer),
//! known parties, and SubmitAndWait for the lab's Iou templates.

use super::{Node, lock, protocol, repair::active_contract};
use crate::canton_error::{self, codes};
use crate::lab::ids;
use crate::lab::store::{Status as AcsStatus, acs};
use crate::lab::templates;
use crate::wire::lab::{ContractBlob, InputContract, LabTransaction};
use crate::wire::ledger::{
    self, GetActiveContractsRequest, GetActiveContractsResponse, GetLedgerEndRequest, GetLedgerEndResponse,
    SubmitAndWaitForReassignmentRequest, SubmitAndWaitForReassignmentResponse, SubmitAndWaitRequest,
    SubmitAndWaitResponse, cumulative_filter::IdentifierFilter, get_active_contracts_response::ContractEntry,
};
use crate::wire::ledger_admin::{self, ListKnownPartiesRequest, ListKnownPartiesResponse, PartyDetails};
use std::collections::{BTreeMap, BTreeSet};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

fn missing(field: &str) -> Status {
    canton_error::status(
        codes::MISSING_FIELD,
        format!("The submitted command is missing a mandatory field: {field}"),
    )
}

type AcsStream = Pin<Box<dyn futures::Stream<Item = Result<GetActiveContractsResponse, Status>> + Send>>;

/// What a GetActiveContracts filter selects.
struct Selection {
    /// None: every party hosted here.
    parties: Option<BTreeSet<String>>,
    /// None: every template.
    templates: Option<BTreeSet<(String, String)>>,
    include_blob: bool,
}

fn selection(format: &ledger::EventFormat) -> Selection {
    let mut filters: Vec<&ledger::Filters> = format.filters_by_party.values().collect();
    if let Some(any) = &format.filters_for_any_party {
        filters.push(any);
    }
    let mut templates: Option<BTreeSet<(String, String)>> = Some(BTreeSet::new());
    let mut include_blob = false;
    for f in &filters {
        if f.cumulative.is_empty() {
            templates = None;
        }
        for c in &f.cumulative {
            match &c.identifier_filter {
                Some(IdentifierFilter::TemplateFilter(t)) => {
                    include_blob |= t.include_created_event_blob;
                    if let (Some(set), Some(id)) = (templates.as_mut(), &t.template_id) {
                        set.insert((id.module_name.clone(), id.entity_name.clone()));
                    }
                }
                Some(IdentifierFilter::WildcardFilter(w)) => {
                    include_blob |= w.include_created_event_blob;
                    templates = None;
                }
                Some(IdentifierFilter::InterfaceFilter(i)) => include_blob |= i.include_created_event_blob,
                None => templates = None,
            }
        }
    }
    let parties = if format.filters_for_any_party.is_some() {
        None
    } else {
        Some(format.filters_by_party.keys().cloned().collect())
    };
    Selection {
        parties,
        templates,
        include_blob,
    }
}

#[derive(Clone)]
pub struct StateService(pub Arc<Node>);

#[tonic::async_trait]
impl ledger::state_service_server::StateService for StateService {
    type GetActiveContractsStream = AcsStream;

    async fn get_active_contracts(
        &self,
        req: Request<GetActiveContractsRequest>,
    ) -> Result<Response<AcsStream>, Status> {
        let node = self.0.clone();
        let req = req.into_inner();
        let format = req.event_format.ok_or_else(|| missing("event_format"))?;
        if format.filters_by_party.is_empty() && format.filters_for_any_party.is_none() {
            return Err(canton_error::status(
                codes::INVALID_ARGUMENT,
                "event_format must select at least one party or any party",
            ));
        }
        let end = node.db(|s| s.ledger_end()).await?;
        if req.active_at_offset < 0 {
            return Err(canton_error::status(
                codes::INVALID_ARGUMENT,
                "active_at_offset must not be negative",
            ));
        }
        if req.active_at_offset > end {
            return Err(canton_error::status(
                codes::OFFSET_AFTER_LEDGER_END,
                format!(
                    "Requested offset {} is after the ledger end {end}",
                    req.active_at_offset
                ),
            ));
        }
        let sel = selection(&format);
        let hosted: BTreeSet<String> = node.db(|s| s.hosted_parties()).await?.into_iter().collect();
        let offset = req.active_at_offset;
        let reader = node.reader()?;
        let (tx, rx) = mpsc::channel(256);
        tokio::task::spawn_blocking(move || {
            if offset == 0 {
                return;
            }
            let mut reader = reader;
            let parties = sel.parties.clone().unwrap_or_else(|| hosted.clone());
            let selected = |blob: &ContractBlob| {
                acs::stakeholders(blob).iter().any(|p| parties.contains(p))
                    && match (&sel.templates, &blob.template_id) {
                        (Some(set), Some(t)) => set.contains(&(t.module_name.clone(), t.entity_name.clone())),
                        _ => true,
                    }
            };
            let send = |entry: ContractEntry| {
                let item = GetActiveContractsResponse {
                    workflow_id: String::new(),
                    contract_entry: Some(entry),
                    stream_continuation_token: Vec::new(),
                };
                tx.blocking_send(Ok(item)).is_ok()
            };
            let mut open = true;
            let result = acs::for_each_active(reader.conn(), offset, None, |entry| {
                if !selected(&entry.blob) {
                    return Ok(true);
                }
                let contract = active_contract(entry, &parties, sel.include_blob, None);
                open = send(ContractEntry::ActiveContract(contract));
                Ok(open)
            })
            // After the active contracts, those between synchronizers, as Canton's ACS
            // stream appends them (ACSReader.scala: activeContracts.concatLazy(incomplete…)).
            .and_then(|()| {
                if !open {
                    return Ok(());
                }
                for entry in super::reassign::incomplete(reader.conn_ref(), offset, &parties, sel.include_blob)? {
                    if !selected(&entry.0) {
                        continue;
                    }
                    if !send(entry.1) {
                        break;
                    }
                }
                Ok(())
            });
            if let Err(e) = result {
                let _ = tx.blocking_send(Err(super::store_error(e)));
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn get_ledger_end(
        &self,
        _req: Request<GetLedgerEndRequest>,
    ) -> Result<Response<GetLedgerEndResponse>, Status> {
        let offset = self.0.db(|s| s.ledger_end()).await?;
        Ok(Response::new(GetLedgerEndResponse {
            offset,
            synchronizer_times: Vec::new(),
        }))
    }
}

#[derive(Clone)]
pub struct PartyService(pub Arc<Node>);

const MAX_PAGE: i32 = 10_000;

#[tonic::async_trait]
impl ledger_admin::party_management_service_server::PartyManagementService for PartyService {
    async fn list_known_parties(
        &self,
        req: Request<ListKnownPartiesRequest>,
    ) -> Result<Response<ListKnownPartiesResponse>, Status> {
        let req = req.into_inner();
        if req.page_size < 0 || req.page_size > MAX_PAGE {
            return Err(canton_error::status(
                codes::INVALID_ARGUMENT,
                format!("page_size must be between 0 and {MAX_PAGE}"),
            ));
        }
        let page = if req.page_size == 0 {
            1000
        } else {
            req.page_size as usize
        };
        let known = self
            .0
            .db(|s| {
                let mut all: BTreeMap<String, bool> = s.hosted_parties()?.into_iter().map(|p| (p, true)).collect();
                for sync in s.syncs()? {
                    if let Some(id) = sync.synchronizer_id {
                        for (party, _) in s.topology(&id)? {
                            all.entry(party).or_insert(false);
                        }
                    }
                }
                Ok(all)
            })
            .await?;
        let mut details: Vec<PartyDetails> = known
            .into_iter()
            .filter(|(p, _)| p.starts_with(&req.filter_party))
            .filter(|(p, _)| req.page_token.is_empty() || p.as_str() > req.page_token.as_str())
            .take(page + 1)
            .map(|(party, is_local)| PartyDetails {
                party,
                is_local,
                local_metadata: Some(ledger_admin::ObjectMeta::default()),
                identity_provider_id: String::new(),
            })
            .collect();
        let next_page_token = if details.len() > page {
            details.truncate(page);
            details.last().map(|d| d.party.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(ListKnownPartiesResponse {
            party_details: details,
            next_page_token,
        }))
    }
}

#[derive(Clone)]
pub struct CommandService(pub Arc<Node>);

/// The synchronizer a transaction runs on: the one its inputs are assigned to, or for
/// pure creates a connected one that hosts every stakeholder.
async fn choose_synchronizer(
    node: &Arc<Node>,
    inputs: &[ContractBlob],
    informees: &BTreeSet<String>,
    requested: &str,
) -> Result<(String, String), Status> {
    let no_sync = |cause: String| canton_error::status(codes::NO_SYNCHRONIZER_FOR_SUBMISSION, cause);
    let healthy: Vec<(String, String, i32)> = {
        let conns = lock(&node.conns);
        conns
            .iter()
            .filter(|(_, c)| c.healthy.load(Ordering::SeqCst))
            .map(|(a, c)| (a.clone(), c.synchronizer_id.clone(), 0))
            .collect()
    };
    let ids: Vec<String> = inputs.iter().map(|b| b.contract_id.clone()).collect();
    let input_syncs: BTreeSet<String> = node
        .db(move |s| {
            let mut out = BTreeSet::new();
            for id in &ids {
                for (sync, a) in acs::all_states(s.conn(), id)? {
                    if a.status == AcsStatus::Active {
                        out.insert(sync);
                    }
                }
            }
            Ok(out)
        })
        .await?;
    if input_syncs.len() > 1 {
        return Err(no_sync(format!(
            "The inputs are assigned to different synchronizers: {input_syncs:?}"
        )));
    }
    let priorities: BTreeMap<String, i32> = node
        .db(|s| Ok(s.syncs()?.into_iter().map(|s| (s.alias, s.config.priority)).collect()))
        .await?;
    let mut candidates = Vec::new();
    for (alias, id, _) in healthy {
        if !requested.is_empty() && ids::logical_of(requested) != id {
            continue;
        }
        if let Some(required) = input_syncs.first()
            && required != &id
        {
            continue;
        }
        let (sync_id, wanted) = (id.clone(), informees.clone());
        let all_hosted = node
            .db(move |s| {
                let hosted: BTreeSet<String> = s.topology(&sync_id)?.into_iter().map(|(p, _)| p).collect();
                Ok(wanted.iter().all(|p| hosted.contains(p)))
            })
            .await?;
        if all_hosted {
            let prio = priorities.get(&alias).copied().unwrap_or(0);
            candidates.push((std::cmp::Reverse(prio), alias, id));
        }
    }
    candidates.sort();
    candidates
        .into_iter()
        .next()
        .map(|(_, alias, id)| (alias, id))
        .ok_or_else(|| match input_syncs.first() {
            Some(s) => no_sync(format!(
                "Not connected to synchronizer {s}, to which the inputs are assigned"
            )),
            None => no_sync(format!(
                "No connected synchronizer hosts all informees {:?}",
                informees.iter().collect::<Vec<_>>()
            )),
        })
}

#[tonic::async_trait]
impl ledger::command_service_server::CommandService for CommandService {
    async fn submit_and_wait(
        &self,
        req: Request<SubmitAndWaitRequest>,
    ) -> Result<Response<SubmitAndWaitResponse>, Status> {
        let node = self.0.clone();
        let cmds = req.into_inner().commands.ok_or_else(|| missing("commands"))?;
        if cmds.command_id.is_empty() {
            return Err(missing("command_id"));
        }
        if cmds.user_id.is_empty() {
            return Err(missing("user_id"));
        }
        if cmds.act_as.is_empty() {
            return Err(missing("act_as"));
        }
        let hosted: BTreeSet<String> = node.db(|s| s.hosted_parties()).await?.into_iter().collect();
        if let Some(p) = cmds.act_as.iter().find(|p| !hosted.contains(*p)) {
            return Err(canton_error::status(
                codes::NO_SYNCHRONIZER_FOR_SUBMISSION,
                format!("This participant cannot submit as {p}: the party is not hosted here"),
            ));
        }
        let act_as: BTreeSet<String> = cmds.act_as.iter().cloned().collect();
        // Interpretation reads the ACS; take a snapshot of the contracts the commands name.
        let named: Vec<String> = cmds
            .commands
            .iter()
            .filter_map(|c| match &c.command {
                Some(ledger::command::Command::Exercise(e)) => Some(e.contract_id.clone()),
                _ => None,
            })
            .collect();
        let known: BTreeMap<String, ContractBlob> = node
            .db(move |s| {
                let mut out = BTreeMap::new();
                for id in named {
                    let active = acs::all_states(s.conn(), &id)?
                        .iter()
                        .any(|(_, a)| a.status == AcsStatus::Active);
                    if active && let Some(b) = acs::contract(s.conn(), &id)? {
                        out.insert(id, b);
                    }
                }
                Ok(out)
            })
            .await?;
        let effects = templates::interpret(&cmds.commands, &act_as, |id| known.get(id).cloned())
            .map_err(|r| canton_error::status(r.code, r.cause))?;
        let mut informees: BTreeSet<String> = BTreeSet::new();
        for b in &effects.consumed {
            informees.extend(acs::stakeholders(b));
        }
        for c in &effects.created {
            informees.extend(c.signatories.iter().chain(&c.observers).cloned());
        }
        let (alias, sync_id) = choose_synchronizer(&node, &effects.consumed, &informees, &cmds.synchronizer_id).await?;
        let update_id = format!("1220{}", ids::sha256_hex(&[uuid::Uuid::new_v4().as_bytes()]));
        let now = crate::lab::store::now_micros();
        let created: Vec<ContractBlob> = effects
            .created
            .into_iter()
            .enumerate()
            .map(|(i, nc)| {
                let mut blob = nc.into_blob(now);
                blob.contract_id = ids::contract_id(&[update_id.as_bytes(), &(i as u32).to_be_bytes()], &blob);
                blob
            })
            .collect();
        let inputs: Vec<InputContract> = effects
            .consumed
            .iter()
            .map(|b| InputContract {
                contract_id: b.contract_id.clone(),
                payload_digest: ids::payload_digest(b),
                consumed: true,
                stakeholders: acs::stakeholders(b),
            })
            .collect();
        let tx = LabTransaction {
            update_id: update_id.clone(),
            workflow_id: cmds.workflow_id.clone(),
            command_id: cmds.command_id.clone(),
            act_as: cmds.act_as.clone(),
            inputs,
            created,
            ping_parties: Vec::new(),
            reassignments: Vec::new(),
        };
        let submission_id = if cmds.submission_id.is_empty() {
            uuid::Uuid::new_v4().to_string()
        } else {
            cmds.submission_id.clone()
        };
        let completion =
            protocol::submit(&node, &alias, &sync_id, tx, submission_id, protocol::SUBMISSION_TIMEOUT).await?;
        match completion.rejection {
            None => Ok(Response::new(SubmitAndWaitResponse {
                update_id: completion.update_id,
                completion_offset: completion.offset,
            })),
            Some(reason) => Err(rejected(&alias, &reason)),
        }
    }

    async fn submit_and_wait_for_reassignment(
        &self,
        req: Request<SubmitAndWaitForReassignmentRequest>,
    ) -> Result<Response<SubmitAndWaitForReassignmentResponse>, Status> {
        let reassignment = super::reassign::submit(&self.0, req.into_inner()).await?;
        Ok(Response::new(SubmitAndWaitForReassignmentResponse {
            reassignment: Some(reassignment),
        }))
    }
}

/// The error of a submission the synchronizer's verdict rejected.
pub(super) fn rejected(alias: &str, reason: &str) -> Status {
    let code = if reason.contains("locked") {
        codes::LOCAL_VERDICT_LOCKED_CONTRACTS
    } else if reason.contains("timeout") {
        codes::REQUEST_TIME_OUT
    } else {
        codes::LOCAL_VERDICT_INACTIVE_CONTRACTS
    };
    canton_error::status(code, format!("Rejected by the synchronizer {alias}: {reason}"))
}
