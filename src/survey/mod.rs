//! The read paths the screen, the command line and the session decks share: what one
//! participant holds on a synchronizer (`search`, the console's `pcs_search`), each
//! participant at a glance (`status`), the survey behind a comparison (`holdings`) and the
//! plan proposed from it (`propose`). Nothing here changes a participant.

pub mod drift;
mod holdings;
mod propose;
pub mod search;
pub mod status;

pub use drift::{DriftError, ParticipantDrift, drift};
pub use holdings::{
    Holding, Observer, Payloads, Survey, SurveyError, differing, digest_of, each_active, holding, holding_observed,
    in_no_row, inspect, payload_digest, payload_held, payloads_of, served, survey, survey_observed, synchronizer_id,
};
pub use propose::{Incident, ProposeError, plan_from, plan_from_parts, propose, propose_observed};
pub use search::{SearchFilter, SearchHit};
