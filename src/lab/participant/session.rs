//! The task behind a connection: one subscription at a time to the synchronizer's
//! sequencer, resumed from the last processed event after every break, until the
//! connection is cancelled.

use super::connectivity::{handshake, sequencer_client};
use super::{Conn, Node, lock, protocol};
use crate::wire::lab::SubscribeRequest;
use futures::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub(super) fn spawn_runner(
    node: &Arc<Node>,
    alias: &str,
    url: &str,
    synchronizer_id: Option<String>,
    physical_id: Option<String>,
) -> Arc<AtomicBool> {
    let cancel = CancellationToken::new();
    let healthy = Arc::new(AtomicBool::new(false));
    let established = Arc::new(AtomicBool::new(false));
    let runner = Runner {
        node: node.clone(),
        alias: alias.to_string(),
        url: url.to_string(),
        synchronizer_id: synchronizer_id.clone(),
        cancel: cancel.clone(),
        healthy: healthy.clone(),
        established: established.clone(),
    };
    // Registered before the task starts so that the task's first lookup finds it.
    let mut conns = lock(&node.conns);
    let task = tokio::spawn(runner.run());
    conns.insert(
        alias.to_string(),
        Conn {
            cancel,
            healthy,
            established: established.clone(),
            synchronizer_id: synchronizer_id.unwrap_or_default(),
            physical_id: physical_id.unwrap_or_default(),
            task,
        },
    );
    established
}

struct Runner {
    node: Arc<Node>,
    alias: String,
    url: String,
    synchronizer_id: Option<String>,
    cancel: CancellationToken,
    healthy: Arc<AtomicBool>,
    established: Arc<AtomicBool>,
}

impl Runner {
    async fn run(mut self) {
        let mut backoff = Duration::from_millis(100);
        while !self.cancel.is_cancelled() {
            match self.session().await {
                Ok(()) => backoff = Duration::from_millis(100),
                Err(e) => tracing::debug!("{}: {e}", self.alias),
            }
            self.healthy.store(false, Ordering::SeqCst);
            tokio::select! {
                _ = self.cancel.cancelled() => break,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    /// One subscription, from the last processed event until the stream breaks.
    async fn session(&mut self) -> Result<(), String> {
        let node = self.node.clone();
        let sync_id = match &self.synchronizer_id {
            Some(id) => id.clone(),
            None => {
                let hs = handshake(&self.url, &node.member).await?;
                let (a, id, phys) = (
                    self.alias.clone(),
                    hs.synchronizer_id.clone(),
                    hs.physical_synchronizer_id.clone(),
                );
                node.db(move |s| s.set_sync_ids(&a, &id, &phys))
                    .await
                    .map_err(|e| e.message().to_string())?;
                if let Some(c) = lock(&node.conns).get_mut(&self.alias) {
                    c.synchronizer_id = hs.synchronizer_id.clone();
                    c.physical_id = hs.physical_synchronizer_id.clone();
                }
                self.synchronizer_id = Some(hs.synchronizer_id.clone());
                hs.synchronizer_id
            }
        };
        let alias = self.alias.clone();
        let (after_seq, parties) = node
            .db(move |s| Ok((s.sync(&alias)?.map(|s| s.last_seq).unwrap_or(0), s.hosted_parties()?)))
            .await
            .map_err(|e| e.message().to_string())?;
        let mut client = sequencer_client(&self.url).await?;
        let mut stream = client
            .subscribe(SubscribeRequest {
                member: node.member.clone(),
                parties,
                after_seq,
            })
            .await
            .map_err(|e| format!("subscribe: {}", e.message()))?
            .into_inner();
        {
            // Wait for a running repair to finish before counting as connected.
            let _turn = node.repair_lock.lock().await;
            if self.cancel.is_cancelled() {
                return Ok(());
            }
            self.established.store(true, Ordering::SeqCst);
            self.healthy.store(true, Ordering::SeqCst);
        }
        protocol::resend_confirmations(&node, &sync_id, &mut client).await;
        loop {
            let next = tokio::select! {
                _ = self.cancel.cancelled() => return Ok(()),
                next = stream.next() => next,
            };
            match next {
                None => return Err("subscription ended".into()),
                Some(Err(e)) => return Err(format!("subscription broke: {}", e.message())),
                Some(Ok(event)) => {
                    protocol::process_event(&node, &self.alias, &sync_id, event, &mut client)
                        .await
                        .map_err(|e| format!("processing event: {}", e.message()))?;
                }
            }
        }
    }
}
