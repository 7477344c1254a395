//! The report's opening sections: title and facts, summary, impact, timeline, what each
//! participant held, and the decision.

mod decision;
mod overview;
mod timeline;

pub(super) use decision::{decision, held};
pub(super) use overview::{facts_table, impact, summary};
pub use timeline::entry;
pub(super) use timeline::timeline;

use super::md_line;

fn how_approved(a: &crate::journal::PlanApproved) -> String {
    if a.unattended {
        "with `--yes` (no typed confirmation)".into()
    } else {
        format!("by typing `{}`", md_line(&a.confirmed_by_typing))
    }
}
