//! Tools of the fault drills (tests/fault_drills.rs): a seeded generator, the lab's crash
//! switch, and a loopback TCP proxy that loses the network on demand.

use recovery_deck::wire::lab::{ArmCrashRequest, CrashPoint, participant_control_client::ParticipantControlClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// SplitMix64: a few lines of seeded, portable randomness, so that a drill's seed names
/// the same points on every machine.
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: u64) -> Seeded {
        Seeded(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `k` distinct indices of `0..n`, in drawing order.
    pub fn pick(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k.min(n) {
            let j = i + self.below(n - i);
            all.swap(i, j);
        }
        all.truncate(k.min(n));
        all
    }
}

/// The seed of a drill: `RECOVERY_DECK_DRILL_SEED` when set (to replay a failure), else
/// `default`.
pub fn seed(default: u64) -> u64 {
    std::env::var("RECOVERY_DECK_DRILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The long matrix runs only with `RECOVERY_DECK_DRILLS=full`.
pub fn full_matrix() -> bool {
    std::env::var("RECOVERY_DECK_DRILLS").is_ok_and(|v| v == "full")
}

/// Arms the lab participant whose admin endpoint is `url` to SIGKILL itself at `point`
/// of the `nth` next call of `method` (see `recovery_deck::lab::crash`).
pub async fn arm_crash(url: String, method: &str, nth: u64, point: CrashPoint, frames: u32) {
    let mut control = ParticipantControlClient::connect(url).await.expect("control");
    control
        .arm_crash(ArmCrashRequest {
            method: method.into(),
            nth,
            point: point as i32,
            frames,
        })
        .await
        .expect("arm crash");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Link {
    up: bool,
    /// Bumped when the network comes back: connections of an earlier generation were cut
    /// by the outage and are closed then, as TCP flows that timed out would be.
    generation: u64,
}

/// A loopback TCP proxy in front of one endpoint. While the link is down it accepts
/// connections and forwards nothing, in either direction: calls through it hang until
/// their deadline, as over a lost network. When the link comes back, the connections of
/// the outage are closed and new ones forward again.
pub struct Proxy {
    pub url: String,
    link: watch::Sender<Link>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// A proxy to `upstream` (`http://host:port`).
    pub async fn to(upstream: &str) -> Proxy {
        let target = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (link, _) = watch::channel(Link {
            up: true,
            generation: 0,
        });
        let links = link.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let target = target.clone();
                let state = links.subscribe();
                tokio::spawn(async move {
                    let born = state.borrow().generation;
                    let Ok(server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    let up = tokio::spawn(pump(cr, sw, state.clone(), born));
                    pump(sr, cw, state, born).await;
                    up.abort();
                });
            }
        });
        Proxy { url, link, task }
    }

    /// The network to the endpoint is lost.
    pub fn cut(&self) {
        self.link.send_modify(|l| l.up = false);
    }

    /// The network is back; the connections open during the outage are closed.
    pub fn restore(&self) {
        self.link.send_modify(|l| {
            l.up = true;
            l.generation += 1;
        });
    }
}

/// Copies bytes from `from` to `to` while the link is up and of generation `born`.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut state: watch::Receiver<Link>,
    born: u64,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if !wait_up(&mut state, born).await {
            return;
        }
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            changed = state.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
        };
        // Bytes read as the link went down are held until it is back, then dropped with
        // their connection.
        if !wait_up(&mut state, born).await || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Waits until the link is up; false when this connection's generation is over.
async fn wait_up(state: &mut watch::Receiver<Link>, born: u64) -> bool {
    loop {
        let link = *state.borrow_and_update();
        if link.generation != born {
            return false;
        }
        if link.up {
            return true;
        }
        if state.changed().await.is_err() {
            return false;
        }
    }
}
