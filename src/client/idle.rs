//! A deadline between the messages of a streamed read (ExportAcs, GetActiveContracts):
//! such a stream has no deadline of its own, since its length depends on the data, so a
//! participant that neither sends nor ends it would keep the client waiting forever.

use futures::StreamExt;
use futures::stream::BoxStream;
use std::time::Duration;

/// How long a streamed read may go without a message when the participant's config does
/// not say (`stream_idle_secs`): Canton sends an export as it reads it, so a minute without
/// a message is a participant that stalled, not one that is busy.
pub(super) const DEFAULT_STREAM_IDLE: Duration = Duration::from_secs(60);

/// `stream`, ended by a DEADLINE_EXCEEDED status once `idle` passes without a message.
/// Only the wait for the participant counts, not the time the reader takes with what it
/// got. Dropping the inner stream cancels the call, so the participant stops sending too.
pub(super) fn idle_deadline<S, T>(stream: S, idle: Duration) -> BoxStream<'static, Result<T, tonic::Status>>
where
    S: futures::Stream<Item = Result<T, tonic::Status>> + Send + Unpin + 'static,
    T: Send + 'static,
{
    futures::stream::unfold(Some((stream, false)), move |state| async move {
        let (mut stream, seen) = state?;
        match tokio::time::timeout(idle, stream.next()).await {
            Ok(Some(item)) => Some((item, Some((stream, true)))),
            Ok(None) => None,
            Err(_) => Some((Err(stalled(idle, seen)), None)),
        }
    })
    .boxed()
}

fn stalled(idle: Duration, seen: bool) -> tonic::Status {
    tonic::Status::deadline_exceeded(format!(
        "the participant sent {} for {} s (the participant's stream_idle_secs)",
        if seen { "nothing more" } else { "nothing" },
        idle.as_secs_f64()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: u32) -> impl futures::Stream<Item = Result<u32, tonic::Status>> + Send + Unpin + 'static {
        futures::stream::iter((0..n).map(Ok))
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_that_stalls_ends_with_a_deadline_naming_the_wait() {
        let stalls = items(2).chain(futures::stream::pending());
        let got: Vec<_> = idle_deadline(stalls, Duration::from_secs(7)).collect().await;
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[1].as_ref().ok(), Some(&1));
        let end = got[2].as_ref().expect_err("the stall ends it");
        assert_eq!(end.code(), tonic::Code::DeadlineExceeded);
        assert_eq!(
            end.message(),
            "the participant sent nothing more for 7 s (the participant's stream_idle_secs)"
        );

        let silent = futures::stream::pending::<Result<u32, tonic::Status>>();
        let got: Vec<_> = idle_deadline(silent, Duration::from_millis(1500)).collect().await;
        let end = got[0].as_ref().expect_err("the stall ends it");
        assert!(
            end.message().starts_with("the participant sent nothing for 1.5 s"),
            "{end:?}"
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
        let got: Vec<_> = idle_deadline(Box::pin(slow), Duration::from_secs(6)).collect().await;
        assert_eq!(
            got.into_iter().map(|r| r.expect("no stall")).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
    }
}
