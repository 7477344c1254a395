//! `lab pruning-schedule`: a lab participant's pruning schedule set or cleared through
//! Canton's PruningService, as an operator's console would.

/// Sets (or with `None`, clears) a lab participant's pruning schedule over Canton's RPC.
pub async fn set_schedule(
    endpoint: String,
    node: &str,
    cron: Option<String>,
    retention: i64,
    max_duration: i64,
) -> Result<(), String> {
    use crate::wire::admin::pruning_service_client::PruningServiceClient;
    use crate::wire::pruning::{
        ClearScheduleRequest, ParticipantPruningSchedule, PruningSchedule, SetParticipantScheduleRequest,
    };
    let refused =
        |rpc: &'static str| move |s: tonic::Status| crate::client::ClientError::from_status(node, rpc, s).to_string();
    let mut client = PruningServiceClient::connect(endpoint)
        .await
        .map_err(|e| format!("{node}: {}", crate::error_chain::chain(&e)))?;
    match cron {
        None => {
            client
                .clear_schedule(ClearScheduleRequest {})
                .await
                .map_err(refused("ClearSchedule"))?;
        }
        Some(cron) => {
            let seconds = |seconds| Some(prost_types::Duration { seconds, nanos: 0 });
            let request = SetParticipantScheduleRequest {
                schedule: Some(ParticipantPruningSchedule {
                    schedule: Some(PruningSchedule {
                        cron,
                        max_duration: seconds(max_duration),
                        retention: seconds(retention),
                    }),
                    prune_internally_only: false,
                }),
            };
            client
                .set_participant_schedule(request)
                .await
                .map_err(refused("SetParticipantSchedule"))?;
        }
    }
    Ok(())
}
