//! What the markers and labels of the comparison mean and how they look: one place for
//! the table, the status bar, the detail pane and the help legend.

use super::super::choice::Fate;
use super::super::theme::Role;
use crate::reconcile::{ParticipantState, RowClass};

pub fn class_role(c: RowClass) -> Role {
    match c {
        RowClass::Agreed => Role::Agreed,
        RowClass::Missing => Role::Missing,
        RowClass::ArchivedSomewhere => Role::Archived,
        RowClass::PayloadMismatch => Role::Differs,
        RowClass::LocalOnly => Role::LocalOnly,
    }
}

/// Marker and word for a participant's state; the marker (the state's own, see
/// [`ParticipantState::marker`]) alone carries the meaning without colour. Static text,
/// since every visible cell asks for it every frame.
pub fn state_cell(s: &ParticipantState) -> (&'static str, Role) {
    match s {
        ParticipantState::Active { .. } => ("✓ active", Role::Agreed),
        ParticipantState::Differs { .. } => ("~ differs", Role::Differs),
        ParticipantState::Archived => ("× archived", Role::Archived),
        ParticipantState::Moved { .. } => ("× moved", Role::Archived),
        ParticipantState::Unknown => ("+ missing", Role::Missing),
        ParticipantState::NotHosted => ("· ", Role::NotHosted),
    }
}

/// What a state's marker means, for the legend.
fn state_meaning(s: &ParticipantState) -> &'static str {
    match s {
        ParticipantState::Active { .. } => "active",
        ParticipantState::Differs { .. } => "payload differs",
        ParticipantState::Archived | ParticipantState::Moved { .. } => "archived/moved here",
        ParticipantState::Unknown => "missing here",
        ParticipantState::NotHosted => "not hosted",
    }
}

pub fn fate_role(f: Fate) -> Role {
    match f {
        Fate::Undecided => Role::Muted,
        Fate::Moved => Role::Ok,
        Fate::LeftBehind => Role::Muted,
        Fate::Purged => Role::Warn,
        Fate::NeedsDecision => Role::Danger,
    }
}

/// The legend of the state and fate markers, as one line of text.
pub fn legend() -> String {
    let states = [
        ParticipantState::Active { digest: [0; 32] },
        ParticipantState::Unknown,
        ParticipantState::Archived,
        ParticipantState::Differs { digest: [0; 32] },
        ParticipantState::NotHosted,
    ]
    .map(|s| format!("{} {}", s.marker(), state_meaning(&s)))
    .join(", ");
    let fates: Vec<String> = Fate::ALL
        .into_iter()
        .filter(|f| *f != Fate::Undecided)
        .map(|f| format!("{} {}", f.marker(), f.meaning()))
        .collect();
    format!("{states}; {}", fates.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_start_with_the_states_own_marker() {
        for s in [
            ParticipantState::Active { digest: [0; 32] },
            ParticipantState::Differs { digest: [0; 32] },
            ParticipantState::Archived,
            ParticipantState::Moved { to: "elsewhere".into() },
            ParticipantState::Unknown,
            ParticipantState::NotHosted,
        ] {
            assert!(state_cell(&s).0.starts_with(s.marker()), "{s:?}");
        }
    }
}
