//! How much one request to a participant carries. One rule for every call that sends many
//! contracts at once: the plan's ChangeAssignation steps, the executor's PurgeContracts and
//! InspectCommitmentContracts calls, the console scripts' batches and the ImportAcs chunks.
//! A request holds at most the count the operators chose and at most [`REQUEST_BYTES`] of
//! contract data, whatever the contract ids' lengths.

/// Canton's default maximum inbound message size on the admin API (and the Ledger API):
/// `ServerConfig.defaultMaxInboundMessageSize = NonNegativeInt.tryCreate(10 * 1024 * 1024)`,
/// the default of `AdminServerConfig.maxInboundMessageSize`
/// (`community/base/src/main/scala/com/digitalasset/canton/config/ServerConfig.scala`, the same
/// in release-line-3.4, release-line-3.5 and main). A larger request is refused with
/// RESOURCE_EXHAUSTED before the service sees it.
pub const CANTON_MAX_INBOUND_MESSAGE: usize = 10 * 1024 * 1024;

/// The contract data one request carries at most: a tenth of Canton's default limit, which
/// leaves room for the fields around it and for a participant configured with a lower limit.
pub const REQUEST_BYTES: usize = 1024 * 1024;

/// Ids per InspectCommitmentContracts call (fewer when they are long).
pub const INSPECT_BATCH: usize = 1000;

/// What a contract id adds to a request: one entry of a protobuf `repeated string` (its tag
/// byte, its length as a varint, its bytes).
pub fn id_wire_bytes(id: &str) -> usize {
    let len = id.len();
    let varint = (usize::BITS - (len | 1).leading_zeros()).div_ceil(7) as usize;
    1 + varint + len
}

/// Splits `ids`, in order, into consecutive batches of at most `max_count` ids and at most
/// [`REQUEST_BYTES`] of [`id_wire_bytes`]. An id larger than that on its own forms a batch
/// of one: it cannot be split, and refusing it is the participant's call.
pub fn id_batches<T: AsRef<str>>(ids: &[T], max_count: usize) -> IdBatches<'_, T> {
    IdBatches {
        rest: ids,
        max_count: max_count.max(1),
    }
}

/// Whether `ids` go in one request under the rule of [`id_batches`]: exactly the batches it
/// makes pass, and nothing larger.
pub fn fits_one_request<T: AsRef<str>>(ids: &[T], max_count: usize) -> bool {
    ids.len() <= 1 || (ids.len() <= max_count && wire_bytes(ids) <= REQUEST_BYTES)
}

fn wire_bytes<T: AsRef<str>>(ids: &[T]) -> usize {
    ids.iter().map(|id| id_wire_bytes(id.as_ref())).sum()
}

pub struct IdBatches<'a, T> {
    rest: &'a [T],
    max_count: usize,
}

impl<'a, T: AsRef<str>> Iterator for IdBatches<'a, T> {
    type Item = &'a [T];

    fn next(&mut self) -> Option<&'a [T]> {
        if self.rest.is_empty() {
            return None;
        }
        let mut bytes = 0;
        let mut take = 0;
        for id in self.rest.iter().take(self.max_count) {
            bytes += id_wire_bytes(id.as_ref());
            if take > 0 && bytes > REQUEST_BYTES {
                break;
            }
            take += 1;
        }
        let (batch, rest) = self.rest.split_at(take.max(1));
        self.rest = rest;
        Some(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wire_bytes_follow_protobuf_varints() {
        assert_eq!(id_wire_bytes(""), 2);
        assert_eq!(id_wire_bytes(&"a".repeat(127)), 1 + 1 + 127);
        assert_eq!(id_wire_bytes(&"a".repeat(128)), 1 + 2 + 128);
        assert_eq!(id_wire_bytes(&"a".repeat(16_384)), 1 + 3 + 16_384);
    }

    #[test]
    fn canton_shaped_ids_are_cut_by_count() {
        let ids: Vec<String> = (0..1234).map(|i| format!("00{i:064x}ca10{i:064x}")).collect();
        let sizes: Vec<usize> = id_batches(&ids, 500).map(<[String]>::len).collect();
        assert_eq!(sizes, [500, 500, 234]);
    }

    #[test]
    fn very_long_ids_are_cut_by_bytes() {
        // 300 KiB each: three fit in 1 MiB, a fourth would not.
        let ids: Vec<String> = (0..10).map(|i| format!("{i}{}", "f".repeat(300 * 1024))).collect();
        let batches: Vec<&[String]> = id_batches(&ids, 500).collect();
        assert_eq!(batches.iter().map(|b| b.len()).collect::<Vec<_>>(), [3, 3, 3, 1]);
        for b in &batches {
            assert!(wire_bytes(b) <= REQUEST_BYTES);
            assert!(fits_one_request(b, 500));
        }
        assert!(!fits_one_request(&ids[..4], 500), "four are over the budget");
        // Larger than a request on its own: alone, never dropped.
        let huge = vec!["x".repeat(REQUEST_BYTES + 1), "y".into(), "z".into()];
        let batches: Vec<&[String]> = id_batches(&huge, 500).collect();
        assert_eq!(batches, [&huge[..1], &huge[1..]]);
        assert!(fits_one_request(&huge[..1], 500));
        assert!(!fits_one_request(&huge[..2], 500));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Batches cover the ids in order, each fits one request, and none could have taken
        /// the next id too (so reader and builder agree on what a batch is).
        #[test]
        fn batches_are_maximal_and_fit(
            lens in proptest::collection::vec(1usize..300_000, 0..16),
            max_count in 1usize..8,
        ) {
            let ids: Vec<String> = lens.iter().enumerate().map(|(i, n)| format!("{i:04}{}", "a".repeat(*n))).collect();
            let batches: Vec<&[String]> = id_batches(&ids, max_count).collect();
            prop_assert_eq!(batches.concat(), ids.clone());
            let mut at = 0;
            for b in &batches {
                prop_assert!(!b.is_empty());
                prop_assert!(fits_one_request(b, max_count));
                at += b.len();
                if at < ids.len() {
                    prop_assert!(!fits_one_request(&ids[at - b.len()..=at], max_count));
                }
            }
        }
    }
}
