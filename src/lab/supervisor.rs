//! Starts, stops, crashes and loses lab nodes. Each node is its own OS process in its
//! own process group, logging to `DIR/<node>/node.log`; the layout (which nodes, which
//! ports, which synchronizers are lost) is kept in `DIR/lab.toml` so that later
//! commands (`lab down`, `lab kill`, `lab start`) act on the same lab.

use crate::lab::dialect::Dialect;
use crate::lab::node::{self, NodeInfo, NodeKind};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const LAYOUT_FILE: &str = "lab.toml";
const READY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NodeSpec {
    pub name: String,
    pub kind: NodeKind,
    /// Party hints hosted by a participant.
    #[serde(default)]
    pub parties: Vec<String>,
    /// 0 until the first start picked a port; later starts reuse it so that endpoints
    /// in incident.toml stay valid.
    #[serde(default)]
    pub port: u16,
    #[serde(default)]
    pub ledger_port: u16,
    #[serde(default)]
    pub lost: bool,
    /// Participant only: synchronizer aliases on which it does not vet its DAR when it
    /// first connects (a package vetting drill).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unvetted_on: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Layout {
    pub scenario: String,
    /// The Canton release line the participants follow.
    #[serde(default)]
    pub canton: Dialect,
    /// Participants accept imports of contracts with non-zero reassignment counters.
    #[serde(default)]
    pub enable_all_reassignments: bool,
    pub nodes: Vec<NodeSpec>,
}

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{0}")]
    Io(String),
    #[error("lab layout {path}: {message}")]
    Layout { path: PathBuf, message: String },
    #[error("node {name} did not come up: {message}")]
    NotReady { name: String, message: String },
    #[error("{0}")]
    Refused(String),
    #[error("scenario step failed: {0}")]
    Scenario(String),
}

fn io(context: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> LabError {
    move |e| LabError::Io(format!("{context}: {e}"))
}

/// How nodes are launched.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// The recovery-deck binary (the current executable, or Cargo's path in tests).
    pub binary: PathBuf,
    /// Nodes exit when this process dies (foreground labs, demo, tests).
    pub tie_to_parent: bool,
    pub confirmation_timeout_ms: u64,
}

impl Launcher {
    pub fn current(tie_to_parent: bool) -> Result<Launcher, LabError> {
        Ok(Launcher {
            binary: std::env::current_exe().map_err(io("locating the recovery-deck binary"))?,
            tie_to_parent,
            confirmation_timeout_ms: 5_000,
        })
    }
}

pub struct Lab {
    pub dir: PathBuf,
    pub layout: Layout,
    launcher: Launcher,
}

fn pid_alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if kill(Pid::from_raw(raw), None).is_err() {
        return false;
    }
    // A zombie still answers kill(0); treat it as gone. Also guard against pid reuse:
    // the process must be one of our lab nodes.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) if stat.split_whitespace().nth(2) == Some("Z") => false,
        Ok(_) => std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains("node"))
            .unwrap_or(true),
        Err(_) => false,
    }
}

fn signal(pid: u32, sig: Signal) {
    if let Ok(raw) = i32::try_from(pid) {
        let _ = kill(Pid::from_raw(raw), sig);
    }
}

fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !pid_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    !pid_alive(pid)
}

impl Lab {
    pub fn node_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn incident_path(&self) -> PathBuf {
        self.dir.join("incident.toml")
    }

    pub fn spec(&self, name: &str) -> Result<&NodeSpec, LabError> {
        self.layout.nodes.iter().find(|n| n.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.layout.nodes.iter().map(|n| n.name.as_str()).collect();
            LabError::Refused(format!(
                "no node named {name} in this lab (nodes: {})",
                names.join(", ")
            ))
        })
    }

    /// Opens an existing lab directory.
    pub fn open(dir: &Path, launcher: Launcher) -> Result<Lab, LabError> {
        let path = dir.join(LAYOUT_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| LabError::Layout {
            path: path.clone(),
            message: format!("{e} (is {} a lab directory? `lab up --dir` creates one)", dir.display()),
        })?;
        let layout: Layout = toml::from_str(&text).map_err(|e| LabError::Layout {
            path,
            message: e.to_string(),
        })?;
        Ok(Lab {
            dir: dir.to_path_buf(),
            layout,
            launcher,
        })
    }

    /// A new lab in `dir` with the given nodes; nothing is started yet.
    pub fn create(dir: &Path, layout: Layout, launcher: Launcher) -> Result<Lab, LabError> {
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        if dir.join(LAYOUT_FILE).exists() {
            let existing = Lab::open(dir, launcher.clone())?;
            let running: Vec<String> = existing.running().into_iter().map(|i| i.name).collect();
            if !running.is_empty() {
                return Err(LabError::Refused(format!(
                    "a lab is already running in {} (nodes {}); run `lab down --dir {}` first",
                    dir.display(),
                    running.join(", "),
                    dir.display()
                )));
            }
        }
        let lab = Lab {
            dir: dir.to_path_buf(),
            layout,
            launcher,
        };
        lab.save()?;
        Ok(lab)
    }

    fn save(&self) -> Result<(), LabError> {
        let text = toml::to_string_pretty(&self.layout).map_err(|e| LabError::Io(e.to_string()))?;
        let tmp = self.dir.join(format!("{LAYOUT_FILE}.tmp"));
        std::fs::write(&tmp, text).map_err(io("writing the lab layout"))?;
        std::fs::rename(&tmp, self.dir.join(LAYOUT_FILE)).map_err(io("writing the lab layout"))
    }

    /// Nodes whose process is alive.
    pub fn running(&self) -> Vec<NodeInfo> {
        self.layout
            .nodes
            .iter()
            .filter_map(|n| node::read_info(&self.node_dir(&n.name)))
            .filter(|i| pid_alive(i.pid))
            .collect()
    }

    pub fn info(&self, name: &str) -> Option<NodeInfo> {
        node::read_info(&self.node_dir(name)).filter(|i| pid_alive(i.pid))
    }

    /// Starts a node and waits until it accepts connections.
    pub fn start(&mut self, name: &str) -> Result<NodeInfo, LabError> {
        let spec = self.spec(name)?.clone();
        if spec.lost {
            return Err(LabError::Refused(format!("{name} was lost for good; its data is gone")));
        }
        if let Some(info) = self.info(name) {
            return Err(LabError::Refused(format!(
                "{name} is already running (pid {})",
                info.pid
            )));
        }
        let dir = self.node_dir(name);
        std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
        let _ = std::fs::remove_file(dir.join(node::INFO_FILE));
        let log = crate::private_file::open(
            &dir.join("node.log"),
            std::fs::OpenOptions::new().create(true).append(true),
        )
        .map_err(io("opening the node log"))?;
        let log_err = log.try_clone().map_err(io("opening the node log"))?;
        let mut cmd = Command::new(&self.launcher.binary);
        cmd.arg("lab").arg("node");
        match spec.kind {
            NodeKind::Participant => {
                cmd.arg("participant")
                    .arg("--admin-port")
                    .arg(spec.port.to_string())
                    .arg("--ledger-port")
                    .arg(spec.ledger_port.to_string());
                for p in &spec.parties {
                    cmd.arg("--party").arg(p);
                }
                cmd.arg("--canton").arg(self.layout.canton.name());
                for alias in &spec.unvetted_on {
                    cmd.arg("--unvetted-on").arg(alias);
                }
                if self.layout.enable_all_reassignments {
                    cmd.arg("--enable-all-reassignments");
                }
            }
            NodeKind::Synchronizer => {
                cmd.arg("synchronizer")
                    .arg("--port")
                    .arg(spec.port.to_string())
                    .arg("--confirmation-timeout-ms")
                    .arg(self.launcher.confirmation_timeout_ms.to_string());
            }
        }
        cmd.arg("--name").arg(name).arg("--dir").arg(&dir);
        if self.launcher.tie_to_parent {
            cmd.arg("--exit-with-parent").arg(std::process::id().to_string());
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .env(
                "RUST_LOG",
                std::env::var("RECOVERY_DECK_LAB_LOG").unwrap_or_else(|_| "info".into()),
            )
            // Own process group: a Ctrl-C meant for the supervisor does not reach nodes
            // directly; the supervisor stops them in order.
            .process_group(0);
        let mut child = cmd.spawn().map_err(io(format!("starting {name}")))?;
        let deadline = Instant::now() + READY_TIMEOUT;
        let info = loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(LabError::NotReady {
                    name: name.into(),
                    message: format!(
                        "exited with {status}; last log lines:\n{}",
                        tail(&dir.join("node.log"), 15)
                    ),
                });
            }
            if let Some(info) = node::read_info(&dir).filter(|i| i.pid == child.id()) {
                break info;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(LabError::NotReady {
                    name: name.into(),
                    message: format!(
                        "no answer within {READY_TIMEOUT:?}; last log lines:\n{}",
                        tail(&dir.join("node.log"), 15)
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // Reap the child when it exits so that it never lingers as a zombie; a detached
        // lab simply outlives this thread.
        std::thread::spawn(move || {
            let _ = child.wait();
        });
        if let Some(spec) = self.layout.nodes.iter_mut().find(|n| n.name == name) {
            spec.port = info.port;
            spec.ledger_port = info.ledger_port.unwrap_or(0);
        }
        self.save()?;
        Ok(info)
    }

    /// Crashes a node: SIGKILL, no chance to clean up.
    pub fn kill(&self, name: &str) -> Result<(), LabError> {
        self.spec(name)?;
        let info = self
            .info(name)
            .ok_or_else(|| LabError::Refused(format!("{name} is not running")))?;
        signal(info.pid, Signal::SIGKILL);
        if !wait_gone(info.pid, Duration::from_secs(5)) {
            return Err(LabError::Io(format!("{name} (pid {}) survived SIGKILL", info.pid)));
        }
        Ok(())
    }

    /// Stops a node gracefully (SIGTERM, then SIGKILL after a grace period).
    pub fn stop(&self, name: &str) -> Result<(), LabError> {
        if let Some(info) = self.info(name) {
            signal(info.pid, Signal::SIGTERM);
            if !wait_gone(info.pid, Duration::from_secs(5)) {
                signal(info.pid, Signal::SIGKILL);
                if !wait_gone(info.pid, Duration::from_secs(5)) {
                    return Err(LabError::Io(format!("{name} (pid {}) does not stop", info.pid)));
                }
            }
        }
        let _ = std::fs::remove_file(self.node_dir(name).join(node::INFO_FILE));
        Ok(())
    }

    /// Stops every node; participants first so they do not log a storm of reconnects.
    pub fn down(&self) -> Result<(), LabError> {
        let mut order: Vec<&NodeSpec> = self.layout.nodes.iter().collect();
        order.sort_by_key(|n| n.kind != NodeKind::Participant);
        let mut errors = Vec::new();
        for n in order {
            if let Err(e) = self.stop(&n.name) {
                errors.push(e.to_string());
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(LabError::Io(errors.join("; ")))
        }
    }

    /// Loses a synchronizer for good: the process is killed and its data deleted.
    pub fn lose(&mut self, name: &str) -> Result<(), LabError> {
        let spec = self.spec(name)?;
        if spec.kind != NodeKind::Synchronizer {
            return Err(LabError::Refused(format!(
                "{name} is a participant; only synchronizers can be lost"
            )));
        }
        if let Some(info) = self.info(name) {
            signal(info.pid, Signal::SIGKILL);
            wait_gone(info.pid, Duration::from_secs(5));
        }
        let dir = self.node_dir(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io(format!("deleting {}", dir.display())))?;
        }
        if let Some(spec) = self.layout.nodes.iter_mut().find(|n| n.name == name) {
            spec.lost = true;
        }
        self.save()
    }

    pub fn endpoint(&self, name: &str) -> Result<String, LabError> {
        let spec = self.spec(name)?;
        if spec.port == 0 {
            return Err(LabError::Refused(format!("{name} has never been started")));
        }
        Ok(format!("http://127.0.0.1:{}", spec.port))
    }

    pub fn ledger_endpoint(&self, name: &str) -> Result<String, LabError> {
        let spec = self.spec(name)?;
        if spec.ledger_port == 0 {
            return Err(LabError::Refused(format!("{name} has no Ledger API")));
        }
        Ok(format!("http://127.0.0.1:{}", spec.ledger_port))
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
