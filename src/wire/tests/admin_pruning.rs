//! PruningService's schedule messages (admin/pruning/v30/pruning.proto, release-line-3.5
//! and 3.4): field numbers and wire types as Canton declares them.

use super::*;
use crate::wire::pruning;

#[test]
fn participant_pruning_schedule() {
    let (max_b, max) = duration(3_600, 0);
    let (ret_b, ret) = duration(2_592_000, 0);
    let schedule_b = pb(&[(1, S("0 0 2 * * ?")), (2, M(max_b)), (3, M(ret_b))]);
    let schedule = pruning::PruningSchedule {
        cron: "0 0 2 * * ?".into(),
        max_duration: Some(max),
        retention: Some(ret),
    };
    let participant_b = pb(&[(1, M(schedule_b.clone())), (2, U(1))]);
    let participant = pruning::ParticipantPruningSchedule {
        schedule: Some(schedule.clone()),
        prune_internally_only: true,
    };
    roundtrip(&schedule_b, schedule.clone());
    roundtrip(&participant_b, participant.clone());
    roundtrip(
        &pb(&[(1, M(participant_b.clone()))]),
        pruning::GetParticipantScheduleResponse {
            schedule: Some(participant.clone()),
        },
    );
    roundtrip(
        &pb(&[(1, M(participant_b))]),
        pruning::SetParticipantScheduleRequest {
            schedule: Some(participant),
        },
    );
    roundtrip(
        &pb(&[(1, M(schedule_b))]),
        pruning::GetScheduleResponse {
            schedule: Some(schedule),
        },
    );
    // No schedule set: the answer is empty.
    roundtrip(&[], pruning::GetParticipantScheduleResponse { schedule: None });
}
