//! Per-row classification.
//!
//! Precedence when several classes describe a row (first match wins):
//! 1. `local_only`: exactly one participant is relevant, so there is nobody to disagree with.
//! 2. `archived_somewhere`: some relevant participant saw it archived or moved away. This
//!    outranks everything because importing it there is impossible ("archived contracts
//!    cannot become active") and moving it elsewhere would resurrect a consumed contract.
//! 3. `payload_mismatch`: holders disagree on the payload; copying either version blindly
//!    could overwrite the right one.
//! 4. `missing`: some relevant participant never saw it; ImportAcs can fix that.
//! 5. `agreed`.
//!
//! Majority rule: among holders, the payload digest held by the most participants is the
//! reference; the others are marked `Differs`. On a tie, the digest held by the participant
//! whose name sorts first wins. Participants are sorted by name before this runs, so the
//! rule depends only on names, never on input order.

use super::comparison::{ParticipantState, RowClass};
use super::model::Digest;

/// Turns provisional states (every holder `Active`) into final ones and classifies the row.
/// Returns the class and the index of the first participant holding the reference payload.
pub(super) fn classify(states: &mut [ParticipantState]) -> (RowClass, Option<usize>) {
    let reference = majority(states);
    if let Some((digest, _)) = reference {
        for s in states.iter_mut() {
            if let ParticipantState::Active { digest: d } = s
                && *d != digest
            {
                *s = ParticipantState::Differs { digest: *d };
            }
        }
    }
    (class_of(states), reference.map(|(_, i)| i))
}

/// O(k²) over the participants without allocating: k is small and this runs once per row.
fn majority(states: &[ParticipantState]) -> Option<(Digest, usize)> {
    let mut best: Option<(Digest, usize, usize)> = None;
    for (i, d) in states.iter().enumerate().filter_map(|(i, s)| Some((i, s.digest()?))) {
        if best.is_some_and(|(b, _, _)| b == *d) {
            continue;
        }
        let holders = states.iter().filter(|s| s.digest() == Some(d)).count();
        // Strictly more: on a tie the earlier participant (by name) keeps the lead.
        if best.is_none_or(|(_, n, _)| holders > n) {
            best = Some((*d, holders, i));
        }
    }
    best.map(|(d, _, first)| (d, first))
}

fn class_of(states: &[ParticipantState]) -> RowClass {
    let relevant = states.iter().filter(|s| s.is_relevant()).count();
    if relevant <= 1 {
        return RowClass::LocalOnly;
    }
    let any = |f: fn(&ParticipantState) -> bool| states.iter().any(f);
    if any(|s| matches!(s, ParticipantState::Archived | ParticipantState::Moved { .. })) {
        RowClass::ArchivedSomewhere
    } else if any(|s| matches!(s, ParticipantState::Differs { .. })) {
        RowClass::PayloadMismatch
    } else if any(|s| matches!(s, ParticipantState::Unknown)) {
        RowClass::Missing
    } else {
        RowClass::Agreed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ParticipantState::*;

    fn act(b: u8) -> ParticipantState {
        Active { digest: [b; 32] }
    }

    fn run(mut states: Vec<ParticipantState>) -> (RowClass, Vec<ParticipantState>) {
        let (class, _) = classify(&mut states);
        (class, states)
    }

    #[test]
    fn agreed_when_all_relevant_hold_the_same_payload() {
        let (c, s) = run(vec![act(1), act(1), NotHosted]);
        assert_eq!(c, RowClass::Agreed);
        assert_eq!(s, vec![act(1), act(1), NotHosted]);
    }

    #[test]
    fn local_only_when_one_participant_is_relevant() {
        assert_eq!(run(vec![NotHosted, act(1)]).0, RowClass::LocalOnly);
        assert_eq!(run(vec![act(1)]).0, RowClass::LocalOnly);
    }

    #[test]
    fn missing_when_a_relevant_participant_never_saw_it() {
        assert_eq!(run(vec![act(1), Unknown, act(1)]).0, RowClass::Missing);
    }

    #[test]
    fn archived_or_moved_outranks_mismatch_and_missing() {
        assert_eq!(
            run(vec![act(1), act(2), Unknown, Archived]).0,
            RowClass::ArchivedSomewhere
        );
        let moved = Moved { to: "other".into() };
        assert_eq!(run(vec![act(1), moved]).0, RowClass::ArchivedSomewhere);
    }

    #[test]
    fn mismatch_outranks_missing_and_marks_the_minority() {
        let (c, s) = run(vec![act(2), act(1), act(1), Unknown]);
        assert_eq!(c, RowClass::PayloadMismatch);
        assert_eq!(s[0], Differs { digest: [2; 32] });
        assert_eq!(s[1], act(1));
    }

    #[test]
    fn tie_goes_to_the_first_participant_by_name() {
        let (_, s) = run(vec![act(9), act(1)]);
        assert_eq!(s, vec![act(9), Differs { digest: [1; 32] }]);
        let (_, s) = run(vec![act(1), act(9)]);
        assert_eq!(s, vec![act(1), Differs { digest: [9; 32] }]);
    }

    #[test]
    fn reference_index_is_first_majority_holder() {
        let mut states = vec![act(2), act(1), act(1)];
        assert_eq!(classify(&mut states).1, Some(1));
    }
}
