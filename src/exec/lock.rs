//! One run at a time per incident and participant: a run holds an OS advisory lock
//! (`flock`) on `.<incident>.<participant>.run.lock` in its journal's directory, for each
//! participant whose steps it executes, from before it opens the journal until it ends.
//! The file names the holder (pid, host, start, runbook, journal, operator) so that a
//! refused run can say who is at work.
//!
//! The OS drops the lock when its holder dies, however it dies, so a lock file that still
//! names a holder while nobody holds the lock is stale: a run killed before it could clear
//! its record. On the same host that is certain, and the lock is taken over with a
//! warning. A record from another host (a directory shared between machines) proves
//! nothing either way — flock need not reach across — so the run is refused and the
//! operator removes the file once sure.
//!
//! The lock guards a directory, not the participants: two runs from different
//! directories or machines are not stopped by it, and then the participants' state
//! (`state`) is what keeps a second run from redoing the first one's work.

use crate::private_file;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Who holds a lock, as its file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    /// RFC 3339.
    pub since: String,
    #[serde(default)]
    pub runbook: Option<String>,
    pub journal: String,
    #[serde(default)]
    pub operator: String,
}

impl Holder {
    /// This process, now.
    pub fn me(runbook: Option<&Path>, journal: &Path, operator: &str) -> Holder {
        Holder {
            pid: std::process::id(),
            host: crate::journal::host_name(),
            since: jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .unwrap_or_else(|_| jiff::Timestamp::now())
                .to_string(),
            runbook: runbook.map(|p| p.display().to_string()),
            journal: journal.display().to_string(),
            operator: operator.to_string(),
        }
    }

    fn describe(&self) -> String {
        let runbook = self
            .runbook
            .as_deref()
            .map(|r| format!("runbook {r}, "))
            .unwrap_or_default();
        let by = if self.operator.is_empty() {
            String::new()
        } else {
            format!(" by {}", self.operator)
        };
        format!(
            "pid {} on host {} since {}{by} ({runbook}journal {})",
            self.pid, self.host, self.since, self.journal
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another run of incident {incident} is at work on {participant}: {holder}. Wait for it to end (or stop it), then run again"
    )]
    Held {
        incident: String,
        participant: String,
        holder: String,
    },
    #[error(
        "{path} names a run from another host: {holder}. recovery-deck cannot tell from here whether it still runs; once you are sure it does not, remove that file and run again"
    )]
    OtherHost { path: String, holder: String },
    #[error("lock file {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// A stale lock taken over: whose participant, and a sentence saying whose lock it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    pub participant: String,
    pub message: String,
}

/// The locks of one run, released (and their records cleared) when dropped.
#[derive(Debug)]
pub struct RunLock {
    files: Vec<(PathBuf, File)>,
}

impl Drop for RunLock {
    fn drop(&mut self) {
        for (path, file) in &mut self.files {
            // An empty file is a free lock; the file itself stays, since removing a
            // locked file would let a third run lock a fresh one beside a waiting second.
            if let Err(e) = file.set_len(0) {
                tracing::warn!("clearing lock {}: {e}", path.display());
            }
            let _ = file.unlock();
        }
    }
}

/// Characters safe in a file name; anything else becomes `_`.
fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub fn lock_path(dir: &Path, incident: &str, participant: &str) -> PathBuf {
    dir.join(format!(".{}.{}.run.lock", safe(incident), safe(participant)))
}

/// Takes the lock of every participant in `participants` (in sorted order, so that two
/// runs cannot each hold half), or none. Returns the locks and the stale ones taken over.
pub fn acquire(
    dir: &Path,
    incident: &str,
    participants: &[String],
    me: &Holder,
) -> Result<(RunLock, Vec<Stale>), LockError> {
    let mut sorted: Vec<&String> = participants.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut lock = RunLock { files: Vec::new() };
    let mut stale = Vec::new();
    for participant in sorted {
        let path = lock_path(dir, incident, participant);
        let io = |source| LockError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut file = private_file::open(&path, OpenOptions::new().read(true).write(true).create(true)).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = read_holder(&mut file)
                    .map(|h| h.describe())
                    .unwrap_or_else(|| "a run that has not written its name yet".into());
                return Err(LockError::Held {
                    incident: incident.to_string(),
                    participant: participant.clone(),
                    holder,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        if let Some(previous) = read_holder(&mut file) {
            if previous.host != me.host {
                let _ = file.unlock();
                return Err(LockError::OtherHost {
                    path: path.display().to_string(),
                    holder: previous.describe(),
                });
            }
            stale.push(Stale {
                participant: participant.clone(),
                message: format!(
                    "stale lock from {}: that run ended without releasing it (killed?); it is taken over",
                    previous.describe()
                ),
            });
        }
        let record = serde_json::to_vec(me).map_err(|e| io(std::io::Error::other(e)))?;
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(&record).map_err(io)?;
        file.sync_all().map_err(io)?;
        lock.files.push((path, file));
    }
    Ok((lock, stale))
}

/// The record in a lock file; `None` for an empty (free) or unreadable one.
fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    if text.trim().is_empty() {
        return None;
    }
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me(journal: &str) -> Holder {
        Holder::me(Some(Path::new("rb.toml")), Path::new(journal), "alice")
    }

    #[test]
    fn a_second_holder_is_refused_naming_the_first_and_the_lock_is_free_after_drop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ps = vec!["p2".to_string(), "p1".to_string()];
        let (first, stale) = acquire(dir.path(), "inc/1", &ps, &me("a.jsonl")).expect("free");
        assert!(stale.is_empty());
        // A lock is per open file description: a second open in this process is refused
        // just as another process would be.
        let err = acquire(dir.path(), "inc/1", &["p1".to_string()], &me("b.jsonl")).expect_err("held");
        let text = err.to_string();
        assert!(
            text.starts_with("another run of incident inc/1 is at work on p1: pid ")
                && text.contains("by alice (runbook rb.toml, journal a.jsonl)"),
            "{text}"
        );
        // Another incident, or another participant, is not held.
        acquire(dir.path(), "inc2", &ps, &me("c.jsonl")).expect("other incident");
        acquire(dir.path(), "inc/1", &["p3".to_string()], &me("c.jsonl")).expect("other participant");
        drop(first);
        let path = lock_path(dir.path(), "inc/1", "p1");
        assert_eq!(std::fs::read_to_string(&path).expect("file"), "", "cleared on release");
        let (_again, stale) = acquire(dir.path(), "inc/1", &ps, &me("d.jsonl")).expect("free again");
        assert!(stale.is_empty(), "a released lock is not stale");
    }

    #[test]
    fn a_record_nobody_holds_is_stale_here_and_refused_from_another_host() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = lock_path(dir.path(), "inc", "p1");
        let mut dead = me("old.jsonl");
        dead.pid = 4_000_000;
        std::fs::write(&path, serde_json::to_vec(&dead).expect("json")).expect("write");
        let (_held, stale) = acquire(dir.path(), "inc", &["p1".to_string()], &me("new.jsonl")).expect("taken over");
        assert_eq!(stale.len(), 1);
        assert!(
            stale[0].message.starts_with("stale lock from pid 4000000 on host ")
                && stale[0].message.ends_with("it is taken over"),
            "{}",
            stale[0].message
        );
        drop(_held);
        dead.host = "elsewhere".into();
        std::fs::write(&path, serde_json::to_vec(&dead).expect("json")).expect("write");
        let err = acquire(dir.path(), "inc", &["p1".to_string()], &me("new.jsonl")).expect_err("other host");
        assert!(
            err.to_string()
                .contains("names a run from another host: pid 4000000 on host elsewhere"),
            "{err}"
        );
    }
}
