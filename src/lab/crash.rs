//! Fault injection for drills: a lab participant armed through `ParticipantControl.ArmCrash`
//! kills itself with SIGKILL at a chosen moment of the n-th call of one method — as the
//! call arrives, after its effects are committed but before the answer leaves, or part
//! way through a streamed request or response. A drill counts calls rather than time,
//! so the same seed always crashes the node at the same point of a run.

use crate::wire::lab::{ArmCrashRequest, CrashPoint};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long a cut stream waits before dying, so that the frames it already handed to the
/// connection reach the peer (HTTP/2 writes them from its own buffer).
const FLUSH: Duration = Duration::from_millis(200);

/// What the armed call does, once it is the one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fatal {
    OnArrival,
    BeforeReply,
    MidRequest(u32),
    MidResponse(u32),
}

#[derive(Debug)]
struct Armed {
    method: String,
    /// Calls of `method` still to let through before the fatal one.
    skip: u64,
    fatal: Fatal,
}

/// The node's crash switch: disarmed until a drill arms it, disarmed again once fired.
#[derive(Debug, Default)]
pub struct CrashSwitch(Mutex<Option<Armed>>);

impl CrashSwitch {
    /// Arms the switch (replacing an earlier arming); refuses a request that could never
    /// fire.
    pub fn arm(&self, req: &ArmCrashRequest) -> Result<(), String> {
        if req.method.is_empty() || req.method.contains('/') {
            return Err(format!(
                "method must be a gRPC method name such as ImportAcs, not {:?}",
                req.method
            ));
        }
        if req.nth == 0 {
            return Err("nth counts from 1 (the next call)".into());
        }
        let frames = req.frames.max(1);
        let fatal = match CrashPoint::try_from(req.point) {
            Ok(CrashPoint::OnArrival) => Fatal::OnArrival,
            Ok(CrashPoint::BeforeReply) => Fatal::BeforeReply,
            Ok(CrashPoint::MidRequest) => Fatal::MidRequest(frames),
            Ok(CrashPoint::MidResponse) => Fatal::MidResponse(frames),
            Err(_) => return Err(format!("unknown crash point {}", req.point)),
        };
        tracing::warn!("crash drill armed: call {} of {}, {fatal:?}", req.nth, req.method);
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(Armed {
            method: req.method.clone(),
            skip: req.nth - 1,
            fatal,
        });
        Ok(())
    }

    /// Called as each call arrives, with its gRPC path: the fatal moment when this call is
    /// the armed one (the switch is then disarmed).
    pub fn on_call(&self, path: &str) -> Option<Fatal> {
        let mut armed = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let a = armed.as_mut()?;
        if path.rsplit('/').next() != Some(a.method.as_str()) {
            return None;
        }
        if a.skip > 0 {
            a.skip -= 1;
            return None;
        }
        armed.take().map(|a| a.fatal)
    }
}

/// Dies at once, as `kill -9` would: no destructor runs, no buffer is flushed, the store
/// keeps what it committed.
pub fn die(why: &str) -> ! {
    tracing::warn!("crash drill: SIGKILL {why}");
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    // SIGKILL cannot be caught; should raising it fail, end just as abruptly.
    std::process::abort()
}

/// Lets `work` finish (a handler commits its effects), then dies before its result
/// leaves the node.
pub async fn die_once_done<T>(work: impl std::future::Future<Output = T>, why: String) -> T {
    let _done = work.await;
    die(&why)
}

/// A body that lets `frames` data frames through and then dies: after reading them (a
/// request), or once the peer had a moment to receive them (a response). A stream that
/// ends first dies at its end, before the trailers that carry a response's status: the
/// call never completes.
pub struct CutAfter<B> {
    inner: B,
    left: u32,
    what: &'static str,
    wait_for_flush: bool,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<B> CutAfter<B> {
    /// Dies right after the last of `frames` frames was read.
    pub fn request(inner: B, frames: u32) -> Self {
        Self {
            inner,
            left: frames.max(1),
            what: "part way through the request stream",
            wait_for_flush: false,
            sleep: None,
        }
    }

    /// Dies shortly after the last of `frames` frames was handed to the connection.
    pub fn response(inner: B, frames: u32) -> Self {
        Self {
            inner,
            left: frames.max(1),
            what: "part way through the response stream",
            wait_for_flush: true,
            sleep: None,
        }
    }
}

impl<B> Body for CutAfter<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if this.left == 0 {
            let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(FLUSH)));
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            die(this.what);
        }
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        let cut = match &polled {
            Poll::Ready(Some(Ok(frame))) if frame.is_data() => {
                this.left -= 1;
                this.left == 0
            }
            // The end, or the trailers that carry the status, came before the cut: the
            // stream is cut there instead, so the call never completes.
            Poll::Ready(None) | Poll::Ready(Some(Ok(_))) => {
                this.left = 0;
                if this.wait_for_flush {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                true
            }
            _ => false,
        };
        if cut && !this.wait_for_flush {
            die(this.what);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        // Never let the connection conclude the stream is over before the cut.
        false
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(switch: &CrashSwitch, method: &str, nth: u64, point: CrashPoint) -> Result<(), String> {
        switch.arm(&ArmCrashRequest {
            method: method.into(),
            nth,
            point: point as i32,
            frames: 2,
        })
    }

    #[test]
    fn fires_on_the_nth_call_of_the_method_only_and_once() {
        let s = CrashSwitch::default();
        arm(&s, "ImportAcs", 2, CrashPoint::MidRequest).expect("armed");
        let path = "/com.digitalasset.canton.admin.participant.v30.ParticipantRepairService/ImportAcs";
        assert_eq!(s.on_call("/x.Y/ExportAcs"), None);
        assert_eq!(s.on_call(path), None, "the first call passes");
        assert_eq!(s.on_call("/x.Y/ImportAcsV2"), None, "another method");
        assert_eq!(s.on_call(path), Some(Fatal::MidRequest(2)));
        assert_eq!(s.on_call(path), None, "disarmed once fired");
    }

    #[test]
    fn refuses_an_arming_that_could_never_fire() {
        let s = CrashSwitch::default();
        assert!(arm(&s, "ImportAcs", 0, CrashPoint::OnArrival).is_err());
        assert!(arm(&s, "", 1, CrashPoint::OnArrival).is_err());
        assert!(arm(&s, "/a.B/ImportAcs", 1, CrashPoint::OnArrival).is_err());
        let bad_point = s.arm(&ArmCrashRequest {
            method: "Ping".into(),
            nth: 1,
            point: 99,
            frames: 0,
        });
        assert!(bad_point.is_err());
        arm(&s, "Ping", 1, CrashPoint::BeforeReply).expect("armed");
        arm(&s, "Ping", 3, CrashPoint::OnArrival).expect("re-armed");
        assert_eq!(s.on_call("/a.B/Ping"), None, "the later arming replaced the first");
    }
}
