//! Deadlines on the messages of a streamed read (ExportAcs, GetActiveContracts): such a
//! stream has no deadline of its own, since its length depends on the data, so a
//! participant that neither sends nor ends it would keep the client waiting forever.

use futures::StreamExt;
use futures::stream::BoxStream;
use std::time::Duration;

/// How long a streamed read may go without its next message when the participant's config
/// does not say (`stream_idle_secs`).
pub(super) const DEFAULT_STREAM_IDLE: Duration = Duration::from_secs(60);

/// How long a streamed read waits for each message.
#[derive(Debug, Clone, Copy)]
pub(super) struct Patience {
    /// For the first message, and the setting that says so (for the error).
    pub first: Duration,
    pub first_from: &'static str,
    /// For each message after it (`stream_idle_secs`).
    pub next: Duration,
}

impl Patience {
    /// The same wait for every message.
    pub fn even(idle: Duration) -> Patience {
        Patience {
            first: idle,
            first_from: "stream_idle_secs",
            next: idle,
        }
    }
}

/// `stream`, ended by a DEADLINE_EXCEEDED status once a message is awaited longer than
/// `patience` allows. Only the wait for the participant counts, not the time the reader
/// takes with what it got. Dropping the inner stream cancels the call, so the participant
/// stops sending too.
pub(super) fn idle_deadline<S, T>(stream: S, patience: Patience) -> BoxStream<'static, Result<T, tonic::Status>>
where
    S: futures::Stream<Item = Result<T, tonic::Status>> + Send + Unpin + 'static,
    T: Send + 'static,
{
    futures::stream::unfold(Some((stream, false)), move |state| async move {
        let (mut stream, seen) = state?;
        let wait = if seen { patience.next } else { patience.first };
        match tokio::time::timeout(wait, stream.next()).await {
            Ok(Some(item)) => Some((item, Some((stream, true)))),
            Ok(None) => None,
            Err(_) => Some((Err(stalled(patience, seen)), None)),
        }
    })
    .boxed()
}

fn stalled(patience: Patience, seen: bool) -> tonic::Status {
    let (what, wait, from) = if seen {
        ("nothing more", patience.next, "stream_idle_secs")
    } else {
        ("nothing", patience.first, patience.first_from)
    };
    tonic::Status::deadline_exceeded(format!(
        "the participant sent {what} for {} s (the participant's {from})",
        wait.as_secs_f64()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: u32) -> impl futures::Stream<Item = Result<u32, tonic::Status>> + Send + Unpin + 'static {
        futures::stream::iter((0..n).map(Ok))
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_that_stalls_ends_with_a_deadline_naming_the_wait_and_its_setting() {
        let stalls = items(2).chain(futures::stream::pending());
        let got: Vec<_> = idle_deadline(stalls, Patience::even(Duration::from_secs(7)))
            .collect()
            .await;
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[1].as_ref().ok(), Some(&1));
        let end = got[2].as_ref().expect_err("the stall ends it");
        assert_eq!(end.code(), tonic::Code::DeadlineExceeded);
        assert_eq!(
            end.message(),
            "the participant sent nothing more for 7 s (the participant's stream_idle_secs)"
        );

        let silent = futures::stream::pending::<Result<u32, tonic::Status>>();
        let patience = Patience {
            first: Duration::from_millis(1500),
            first_from: "repair_timeout_secs",
            next: Duration::from_secs(1),
        };
        let got: Vec<_> = idle_deadline(silent, patience).collect().await;
        let end = got[0].as_ref().expect_err("the stall ends it");
        assert_eq!(
            end.message(),
            "the participant sent nothing for 1.5 s (the participant's repair_timeout_secs)"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_message_may_take_longer_than_the_next() {
        // ExportAcs: Canton prepares the whole snapshot before its first message.
        let late = futures::stream::once(async {
            tokio::time::sleep(Duration::from_secs(50)).await;
            Ok::<u32, tonic::Status>(0)
        })
        .chain(items(2));
        let patience = Patience {
            first: Duration::from_secs(60),
            first_from: "repair_timeout_secs",
            next: Duration::from_secs(5),
        };
        let got: Vec<_> = idle_deadline(Box::pin(late), patience).collect().await;
        assert_eq!(
            got.into_iter().map(|r| r.expect("no stall")).collect::<Vec<_>>(),
            [0, 0, 1]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn slow_messages_within_the_deadline_and_the_stream_end_pass_unchanged() {
        // Each message arrives just inside the deadline: the deadline is per message, not
        // for the whole stream.
        let slow = items(4).then(|i| async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            i
        });
        let got: Vec<_> = idle_deadline(Box::pin(slow), Patience::even(Duration::from_secs(6)))
            .collect()
            .await;
        assert_eq!(
            got.into_iter().map(|r| r.expect("no stall")).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
    }
}
