//! PruningService, the automatic pruning schedule only: the lab prunes nothing, but keeps
//! the schedule an operator sets, as Canton does, so that a client that must notice it
//! can be tested (GrpcPruningService and GrpcPruningScheduler, release-line-3.5).

use super::Node;
use crate::canton_error::{self, codes};
use crate::wire::admin::pruning_service_server::PruningService as Pruning;
use crate::wire::pruning::{
    ClearScheduleRequest, ClearScheduleResponse, GetParticipantScheduleRequest, GetParticipantScheduleResponse,
    GetScheduleRequest, GetScheduleResponse, ParticipantPruningSchedule, PruningSchedule,
    SetParticipantScheduleRequest, SetParticipantScheduleResponse, SetScheduleRequest, SetScheduleResponse,
};
use prost::Message;
use std::sync::Arc;
use tonic::{Request, Response, Status};

const KEY: &str = "pruning_schedule";

#[derive(Clone)]
pub struct PruningService(pub Arc<Node>);

/// Canton's checks on a schedule (`PruningSchedule.fromProtoV30` and `Cron.create` in
/// scheduler/Schedule.scala): a cron expression in log4j's `CronExpression` form (six or
/// seven fields, seconds first), and positive durations. Any failure is a
/// `ProtoDeserializationFailure`, whose cause on the wire does not carry the reason
/// (ProtoDeserializationError.scala).
fn validated(schedule: Option<PruningSchedule>) -> Result<PruningSchedule, Status> {
    let refused = || {
        canton_error::status(
            codes::PROTO_DESERIALIZATION_FAILURE,
            "Deserialization of protobuf message failed",
        )
    };
    let schedule = schedule.ok_or_else(refused)?;
    let fields = schedule.cron.split_whitespace().count();
    let positive = |d: &Option<prost_types::Duration>| d.as_ref().is_some_and(|d| d.seconds > 0);
    if !(6..=7).contains(&fields)
        || schedule.cron.len() > 300
        || !positive(&schedule.max_duration)
        || !positive(&schedule.retention)
    {
        return Err(refused());
    }
    Ok(schedule)
}

impl PruningService {
    async fn stored(&self) -> Result<Option<ParticipantPruningSchedule>, Status> {
        let hex = self.0.db(|s| s.meta(KEY)).await?;
        let Some(hex) = hex.filter(|h| !h.is_empty()) else {
            return Ok(None);
        };
        let bytes = hex::decode(hex).map_err(|e| Status::internal(format!("stored schedule: {e}")))?;
        ParticipantPruningSchedule::decode(bytes.as_slice())
            .map(Some)
            .map_err(|e| Status::internal(format!("stored schedule: {e}")))
    }

    async fn store(&self, schedule: Option<ParticipantPruningSchedule>) -> Result<(), Status> {
        let hex = schedule.map(|s| hex::encode(s.encode_to_vec())).unwrap_or_default();
        self.0.db(move |s| s.set_meta(KEY, &hex)).await
    }
}

#[tonic::async_trait]
impl Pruning for PruningService {
    async fn set_schedule(&self, req: Request<SetScheduleRequest>) -> Result<Response<SetScheduleResponse>, Status> {
        let schedule = validated(req.into_inner().schedule)?;
        self.store(Some(ParticipantPruningSchedule {
            schedule: Some(schedule),
            prune_internally_only: false,
        }))
        .await?;
        Ok(Response::new(SetScheduleResponse {}))
    }

    async fn set_participant_schedule(
        &self,
        req: Request<SetParticipantScheduleRequest>,
    ) -> Result<Response<SetParticipantScheduleResponse>, Status> {
        let participant = req.into_inner().schedule.ok_or_else(|| {
            canton_error::status(
                codes::PROTO_DESERIALIZATION_FAILURE,
                "Deserialization of protobuf message failed",
            )
        })?;
        let schedule = validated(participant.schedule)?;
        self.store(Some(ParticipantPruningSchedule {
            schedule: Some(schedule),
            prune_internally_only: participant.prune_internally_only,
        }))
        .await?;
        Ok(Response::new(SetParticipantScheduleResponse {}))
    }

    async fn clear_schedule(
        &self,
        _: Request<ClearScheduleRequest>,
    ) -> Result<Response<ClearScheduleResponse>, Status> {
        self.store(None).await?;
        Ok(Response::new(ClearScheduleResponse {}))
    }

    async fn get_schedule(&self, _: Request<GetScheduleRequest>) -> Result<Response<GetScheduleResponse>, Status> {
        let schedule = self.stored().await?.and_then(|s| s.schedule);
        Ok(Response::new(GetScheduleResponse { schedule }))
    }

    async fn get_participant_schedule(
        &self,
        _: Request<GetParticipantScheduleRequest>,
    ) -> Result<Response<GetParticipantScheduleResponse>, Status> {
        Ok(Response::new(GetParticipantScheduleResponse {
            schedule: self.stored().await?,
        }))
    }
}
