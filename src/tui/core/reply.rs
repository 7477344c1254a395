//! How a running effect answers the core: a [`Ticket`] names it from dispatch until its
//! answer is handled, its `Reply` carries progress and the one answer back, and a reply
//! dropped without answering says so, so that [`super::Core::settle`] names the effect
//! instead of hanging.

use super::super::msg::Msg;
use std::time::Duration;
use tokio::sync::mpsc;

/// Names one effect the core started, from dispatch until its answer is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticket(pub(super) u64);

/// What a running effect sends back.
pub(super) enum Envelope {
    /// Something to show while it runs (survey counts, execution progress).
    Progress(Msg),
    /// Its answer, which settles the ticket.
    Answer(Ticket, Msg),
    /// It ended without answering (a task that returned early or panicked).
    Unanswered(Ticket),
}

/// The sending half a running effect holds: progress any number of times, its answer
/// once. Dropped without an answer it reports the effect as unanswered, so a forgotten
/// answer fails [`Core::settle`] instead of leaving everyone waiting.
pub(super) struct Reply {
    ticket: Ticket,
    tx: mpsc::UnboundedSender<Envelope>,
    answered: bool,
}

impl Reply {
    pub(super) fn new(ticket: Ticket, tx: mpsc::UnboundedSender<Envelope>) -> Reply {
        Reply {
            ticket,
            tx,
            answered: false,
        }
    }

    pub(super) fn progress(&self) -> ProgressTx {
        ProgressTx(self.tx.clone())
    }

    pub(super) fn answer(mut self, msg: Msg) {
        self.answered = true;
        let _ = self.tx.send(Envelope::Answer(self.ticket, msg));
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if !self.answered {
            let _ = self.tx.send(Envelope::Unanswered(self.ticket));
        }
    }
}

/// Progress messages of a running effect, from any task it spawns.
#[derive(Clone)]
pub(super) struct ProgressTx(mpsc::UnboundedSender<Envelope>);

impl ProgressTx {
    pub(super) fn send(&self, msg: Msg) {
        let _ = self.0.send(Envelope::Progress(msg));
    }
}

/// Why [`Core::settle`] gave up.
#[derive(Debug, thiserror::Error)]
pub enum Unsettled {
    #[error("effects ended without answering: {}", .0.join(", "))]
    Unanswered(Vec<String>),
    #[error("no message for {} s while waiting for: {}", .waited.as_secs_f64(), .outstanding.join(", "))]
    Silent { waited: Duration, outstanding: Vec<String> },
}
