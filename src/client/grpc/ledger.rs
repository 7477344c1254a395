//! The Ledger API v2 half of [`GrpcParticipant`]: the ledger end, the active contracts
//! (streamed under the idle deadline), the known parties and a submission.

use super::{GrpcParticipant, USER_ID};
use crate::client::idle::{Patience, idle_deadline};
use crate::client::snapshot::broke_off;
use crate::client::{AcsStream, ClientError, Contract, Result, Submission, types::*};
use crate::wire::ledger::{
    self, EventFormat, Filters, GetActiveContractsRequest, GetLedgerEndRequest, SubmitAndWaitRequest,
    command_service_client::CommandServiceClient, cumulative_filter::IdentifierFilter,
    get_active_contracts_response::ContractEntry, state_service_client::StateServiceClient,
};
use crate::wire::ledger_admin::{
    ListKnownPartiesRequest, party_management_service_client::PartyManagementServiceClient,
};
use futures::StreamExt;
use prost::Message;

impl GrpcParticipant {
    pub(super) async fn read_ledger_end(&self) -> Result<i64> {
        let resp = StateServiceClient::new(self.ledger.clone())
            .get_ledger_end(self.req(GetLedgerEndRequest {}, self.timeout))
            .await
            .map_err(self.err("GetLedgerEnd"))?;
        Ok(resp.into_inner().offset)
    }

    pub(super) async fn read_active_contracts(&self, offset: i64, include_blob: bool) -> Result<AcsStream> {
        let wildcard = ledger::CumulativeFilter {
            identifier_filter: Some(IdentifierFilter::WildcardFilter(ledger::WildcardFilter {
                include_created_event_blob: include_blob,
            })),
        };
        let req = GetActiveContractsRequest {
            active_at_offset: offset,
            event_format: Some(EventFormat {
                filters_by_party: Default::default(),
                filters_for_any_party: Some(Filters {
                    cumulative: vec![wildcard],
                }),
                verbose: true,
            }),
            stream_continuation_token: None,
        };
        let name = self.name.clone();
        let answer = StateServiceClient::new(self.ledger.clone())
            .max_decoding_message_size(64 << 20)
            .get_active_contracts(self.stream_req(req))
            .await
            .map_err(self.err("GetActiveContracts"))?
            .into_inner();
        let mut read = 0u64;
        let stream = idle_deadline(answer, Patience::even(self.stream_idle)).filter_map(move |r| {
            let out = match r {
                Ok(resp) => {
                    read += 1;
                    match resp.contract_entry {
                        Some(ContractEntry::ActiveContract(c)) => Some(Ok(AcsEntry::Active(Contract::from_wire(c)))),
                        Some(ContractEntry::IncompleteUnassigned(u)) => Some(incomplete_unassigned(&name, u)),
                        Some(ContractEntry::IncompleteAssigned(a)) => Some(incomplete_assigned(&name, a)),
                        None => None,
                    }
                }
                Err(s) => {
                    let e = ClientError::from_status(&name, "GetActiveContracts", s);
                    Some(Err(broke_off(e, read > 0, read)))
                }
            };
            futures::future::ready(out)
        });
        Ok(stream.boxed())
    }

    pub(super) async fn list_known_parties(&self) -> Result<Vec<KnownParty>> {
        let mut out = Vec::new();
        let mut page_token = String::new();
        loop {
            let req = ListKnownPartiesRequest {
                identity_provider_id: String::new(),
                page_token: page_token.clone(),
                page_size: 0,
                filter_party: String::new(),
            };
            let resp = PartyManagementServiceClient::new(self.ledger.clone())
                .list_known_parties(self.req(req, self.timeout))
                .await
                .map_err(self.err("ListKnownParties"))?
                .into_inner();
            out.extend(resp.party_details.into_iter().map(|p| KnownParty {
                party: p.party,
                is_local: p.is_local,
            }));
            if resp.next_page_token.is_empty() || resp.next_page_token == page_token {
                return Ok(out);
            }
            page_token = resp.next_page_token;
        }
    }

    pub(super) async fn submit_on_ledger(&self, submission: Submission) -> Result<SubmitOutcome> {
        let commands = submission.to_wire(USER_ID, uuid::Uuid::new_v4().to_string());
        let resp = CommandServiceClient::new(self.ledger.clone())
            .submit_and_wait(self.req(
                SubmitAndWaitRequest {
                    commands: Some(commands),
                },
                self.timeout,
            ))
            .await
            .map_err(self.err("SubmitAndWait"))?
            .into_inner();
        Ok(SubmitOutcome {
            update_id: resp.update_id,
            completion_offset: resp.completion_offset,
        })
    }
}

fn undecodable(participant: &str, what: &str, e: prost::DecodeError) -> ClientError {
    ClientError::Protocol {
        participant: participant.to_string(),
        rpc: "GetActiveContracts",
        message: format!("undecodable {what}: {e}"),
    }
}

fn incomplete_unassigned(participant: &str, u: ledger::IncompleteUnassigned) -> Result<AcsEntry> {
    let event = ledger::UnassignedEvent::decode(u.unassigned_event.as_slice())
        .map_err(|e| undecodable(participant, "incomplete_unassigned", e))?;
    let contract_id = match u.created_event {
        Some(c) if !c.contract_id.is_empty() => c.contract_id,
        _ => event.contract_id,
    };
    Ok(AcsEntry::Incomplete(IncompleteReassignment {
        contract_id,
        kind: IncompleteKind::Unassigned,
        source: super::logical_id(&event.source).to_string(),
        target: super::logical_id(&event.target).to_string(),
    }))
}

fn incomplete_assigned(participant: &str, a: ledger::IncompleteAssigned) -> Result<AcsEntry> {
    let event = ledger::AssignedEvent::decode(a.assigned_event.as_slice())
        .map_err(|e| undecodable(participant, "incomplete_assigned", e))?;
    Ok(AcsEntry::Incomplete(IncompleteReassignment {
        contract_id: event.created_event.map(|c| c.contract_id).unwrap_or_default(),
        kind: IncompleteKind::Assigned,
        source: super::logical_id(&event.source).to_string(),
        target: super::logical_id(&event.target).to_string(),
    }))
}
