//! What can open over a screen: the payload diff, help, the typed confirmation (of an
//! execution, an approval or a go), the question before quitting a run, and a session's
//! questions (abort, share a payload).

use crate::tui::scroll::Scroll;

#[derive(Debug, Clone)]
pub struct DiffView {
    /// Index of the row in the comparison.
    pub row: usize,
    /// Participant index pairs to compare (holders of the row).
    pub pairs: Vec<(usize, usize)>,
    pub pair: usize,
    pub lines: Vec<crate::reconcile::diff::DiffRow>,
    pub scroll: Scroll,
}

/// The two buttons of a confirmation popup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    /// Focused when the popup opens: `enter` on it changes nothing.
    Cancel,
    /// The popup's action (execute, stop and quit).
    Proceed,
}

impl Button {
    pub fn toggled(self) -> Button {
        match self {
            Button::Cancel => Button::Proceed,
            Button::Proceed => Button::Cancel,
        }
    }
}

/// What a typed confirmation consents to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// Executing the plan previewed on this screen.
    Execute,
    /// Joined as a node operator: approving the session's plan (this hash) for the
    /// participant.
    Approve { plan_hash: String },
    /// Joined as the lead: go for the session's plan (this hash).
    Go { plan_hash: String },
}

/// The typed confirmation before execution, an approval or a go.
#[derive(Debug, Clone)]
pub struct ConfirmView {
    pub typed: String,
    /// Moves to Execute when the typed text is the target's alias, back when it is not.
    pub focus: Button,
    pub purpose: Purpose,
}

impl ConfirmView {
    pub fn new(purpose: Purpose) -> ConfirmView {
        ConfirmView {
            typed: String::new(),
            focus: Button::Cancel,
            purpose,
        }
    }
}

/// A question with two buttons that sends something to the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// The lead: abort the session's run of this plan?
    Abort { plan_hash: String },
    /// The holder's operator: share the payload asked for in the request at this seq?
    Share { request_seq: u64 },
}

#[derive(Debug, Clone)]
pub enum Popup {
    Diff(DiffView),
    Help(Scroll),
    Confirm(ConfirmView),
    /// `q` while a run is active: keep running or stop and quit.
    QuitWhileRunning(Button),
    /// Joined: a question for the session (abort, share a payload).
    Ask(Ask, Button),
}
