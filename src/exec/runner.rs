//! Running a plan: journal, preflight, phases with barriers, one task per participant.

mod options;

pub use options::{Approval, GateError, PhaseGate, PhaseOutcome, RunError, RunOptions};

use super::Participants;
use super::lock::{self, Holder, LockError, RunLock, Stale};
use super::preflight::{PreflightProblem, preflight};
use super::progress::{Control, Progress, RunReport, StepReport};
use super::record::SharedJournal;
use super::retry::RetryPolicy;
use super::state::DoneBy;
use super::steps::{self, Ctx, StepError};
use crate::client::ImportMode;
use crate::failure::{Failure, FailureKind};
use crate::journal::{
    self, EventData, Header, JournalError, JournalWriter, ParticipantRef, PinnedRunbook, PlanApproved, PreflightResult,
    RunEnded, RunStarted,
};
use crate::plan::{PhaseKind, Plan, Step};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

pub struct Runner {
    plan: Arc<Plan>,
    participants: Participants,
    options: RunOptions,
    progress: Option<mpsc::UnboundedSender<Progress>>,
    control: Option<watch::Receiver<Control>>,
    /// A journal already open in this process (the recovery screen's session journal).
    shared_journal: Option<Arc<Mutex<JournalWriter>>>,
    gate: Option<Arc<dyn PhaseGate>>,
}

/// Phases the journal at `path` records as done for this plan (none for a new file).
fn done_phases(plan: &Plan, path: &std::path::Path) -> Result<BTreeSet<PhaseKind>, RunError> {
    if !path.exists() {
        return Ok(BTreeSet::new());
    }
    let existing = journal::read(path)?;
    if existing.header.incident != plan.incident() {
        return Err(RunError::ForeignJournal {
            path: path.display().to_string(),
            found: format!("incident {}", existing.header.incident),
            expected: format!("incident {}", plan.incident()),
        });
    }
    // The journal may hold earlier plans of the same incident; only this plan's phase
    // completions count.
    Ok(existing
        .bodies()
        .filter_map(|e| match e {
            EventData::PhaseDone { plan_hash, phase } if plan_hash == plan.hash() => Some(*phase),
            _ => None,
        })
        .collect())
}

/// Opens the journal for a run: a new file, or the continuation of an existing one.
fn open_journal(plan: &Plan, options: &RunOptions) -> Result<(JournalWriter, BTreeSet<PhaseKind>), RunError> {
    let path = &options.journal;
    let done = done_phases(plan, path)?;
    if path.exists() {
        return Ok((JournalWriter::append_to(path)?, done));
    }
    let participants = plan
        .participants()
        .iter()
        .map(|n| ParticipantRef {
            name: n.clone(),
            endpoint: options.endpoints.get(n).cloned().unwrap_or_default(),
        })
        .collect();
    let header = Header::new(plan.incident(), &options.operator, participants);
    Ok((JournalWriter::create(path, &header)?, done))
}

impl Runner {
    pub fn new(plan: Plan, participants: Participants, options: RunOptions) -> Result<Runner, RunError> {
        if let Some(only) = &options.only {
            if !plan.participants().contains(only) {
                return Err(RunError::NotInPlan(only.clone()));
            }
            if !participants.contains_key(only) {
                return Err(RunError::MissingParticipant(only.clone()));
            }
        } else if let Some(missing) = plan.participants().iter().find(|p| !participants.contains_key(*p)) {
            return Err(RunError::MissingParticipant(missing.clone()));
        }
        Ok(Runner {
            plan: Arc::new(plan),
            participants,
            options,
            progress: None,
            control: None,
            shared_journal: None,
            gate: None,
        })
    }

    /// Waits at `gate` before and after every phase (see [`PhaseGate`]).
    pub fn with_gate(mut self, gate: Arc<dyn PhaseGate>) -> Runner {
        self.gate = Some(gate);
        self
    }

    /// Whether this run executes `participant`'s steps.
    fn executes(&self, participant: &str) -> bool {
        self.options.only.as_deref().is_none_or(|o| o == participant)
    }

    /// Records into a journal this process already writes (its path is read first to find
    /// the phases a previous run of this plan completed).
    pub fn with_journal(mut self, writer: Arc<Mutex<JournalWriter>>) -> Runner {
        self.shared_journal = Some(writer);
        self
    }

    pub fn with_progress(mut self, tx: mpsc::UnboundedSender<Progress>) -> Runner {
        self.progress = Some(tx);
        self
    }

    pub fn with_control(mut self, rx: watch::Receiver<Control>) -> Runner {
        self.control = Some(rx);
        self
    }

    /// Takes the run's lock on each participant it executes (see `lock`), before the
    /// journal is opened: two runs appending to one journal would break its chain. A dry
    /// run changes nothing and takes none.
    fn lock(&self) -> Result<(Option<RunLock>, Vec<Stale>), RunError> {
        if self.options.dry_run {
            return Ok((None, Vec::new()));
        }
        let journal = match &self.shared_journal {
            Some(w) => w.lock().unwrap_or_else(|p| p.into_inner()).path().to_path_buf(),
            None => self.options.journal.clone(),
        };
        let dir = match journal.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let executed: Vec<String> = self
            .plan
            .participants()
            .iter()
            .filter(|p| self.executes(p))
            .cloned()
            .collect();
        let me = Holder::me(self.options.runbook_path.as_deref(), &journal, &self.options.operator);
        let (held, stale) = lock::acquire(&dir, self.plan.incident(), &executed, &me)?;
        Ok((Some(held), stale))
    }

    pub async fn run(self) -> Result<RunReport, RunError> {
        let (_lock, stale) = self.lock()?;
        let (writer, done) = match &self.shared_journal {
            Some(w) => {
                let path = w.lock().unwrap_or_else(|p| p.into_inner()).path().to_path_buf();
                (w.clone(), done_phases(&self.plan, &path)?)
            }
            None => {
                let (w, done) = open_journal(&self.plan, &self.options)?;
                (Arc::new(Mutex::new(w)), done)
            }
        };
        let resumed = !done.is_empty();
        let journal = SharedJournal {
            writer,
            operator: self.options.operator.clone(),
            progress: self.progress.clone(),
        };
        let plan = self.plan.clone();
        if let Some(approval) = self.options.approval.as_ref().filter(|_| !self.options.dry_run) {
            let (typed, unattended) = match approval {
                Approval::Typed(t) => (t.clone(), false),
                Approval::Unattended => (String::new(), true),
            };
            journal.record(
                None,
                EventData::PlanApproved(PlanApproved {
                    plan_hash: plan.hash().to_string(),
                    confirmed_by_typing: typed,
                    unattended,
                }),
            )?;
        }
        let pinned = self.options.runbook.clone();
        journal.record(
            None,
            EventData::RunStarted(RunStarted {
                plan_hash: plan.hash().to_string(),
                incident: plan.incident().to_string(),
                lost: plan.lost().to_string(),
                target: plan.target().to_string(),
                strategy: plan.strategy().kind(),
                dry_run: self.options.dry_run,
                resumed,
                done_phases: done.iter().copied().collect(),
                runbook: pinned.as_ref().map(|p| p.runbook.clone()),
                sidecar: pinned.and_then(|p| p.sidecar),
            }),
        )?;
        let outcome = self.execute(&journal, &done, stale).await;
        let mut report = match &outcome {
            Ok(r) => r.clone(),
            Err(e) => RunReport {
                ok: false,
                error: Some(e.to_string()),
                ..RunReport::default()
            },
        };
        report.journal = self.options.journal.display().to_string();
        report.dry_run = self.options.dry_run;
        journal.record(
            None,
            EventData::RunEnded(RunEnded {
                plan_hash: plan.hash().to_string(),
                ok: report.ok,
                moved: report.moved.clone(),
                added: report.added.clone(),
                skipped: report.skipped.clone(),
                error: report.error.clone(),
            }),
        )?;
        // A journal this run opened itself ends with it; one shared with the screen is
        // sealed when the screen closes.
        if self.shared_journal.is_none() {
            let actor = journal::Actor {
                op: self.options.operator.clone(),
                node: None,
            };
            journal
                .writer
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .seal(actor, "run")?;
        }
        journal.progress(Progress::Finished(report.clone()));
        outcome.map(|_| report)
    }

    async fn execute(
        &self,
        journal: &SharedJournal,
        journal_done: &BTreeSet<PhaseKind>,
        stale_locks: Vec<Stale>,
    ) -> Result<RunReport, RunError> {
        let plan = &self.plan;
        let checked: Participants = self
            .participants
            .iter()
            .filter(|(name, _)| self.executes(name))
            .map(|(name, api)| (name.clone(), api.clone()))
            .collect();
        let assumed: BTreeSet<PhaseKind> = journal_done.union(&self.options.done_elsewhere()).copied().collect();
        let mut checks = preflight(plan, &checked, &assumed, self.options.force).await;
        checks
            .warnings
            .extend(stale_locks.into_iter().map(|s| PreflightProblem {
                participant: s.participant,
                check: "lock",
                message: s.message,
                drift: Vec::new(),
            }));
        let text = |list: &[PreflightProblem]| list.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        journal.record(
            None,
            EventData::Preflight(PreflightResult {
                plan_hash: plan.hash().to_string(),
                ok: checks.problems.is_empty(),
                problems: text(&checks.problems),
                warnings: text(&checks.warnings),
                done_by_state: checks
                    .done
                    .iter()
                    .filter(|(_, by)| **by == DoneBy::State)
                    .map(|(p, _)| *p)
                    .collect(),
            }),
        )?;
        journal.progress(Progress::Preflight {
            problems: text(&checks.problems),
            warnings: text(&checks.warnings),
        });
        if !checks.problems.is_empty() {
            return Err(RunError::Preflight(checks.problems));
        }
        let done = &checks.done;
        let ctx = Arc::new(Ctx {
            plan: plan.clone(),
            participants: self.participants.clone(),
            journal: journal.clone(),
            dry_run: self.options.dry_run,
            retry: RetryPolicy {
                max_attempts: self.options.max_attempts.max(1),
                base_delay: self.options.retry_delay,
            },
            import_mode: self.options.import_mode,
            vetting_after_connect: checks.vetting_after_connect.clone(),
            moved: Default::default(),
        });
        let mut report = RunReport {
            ok: true,
            ..RunReport::default()
        };
        for name in plan.participants().iter().filter(|n| self.executes(n)) {
            report.moved.insert(name.clone(), 0);
            report.added.insert(name.clone(), 0);
            report.skipped.insert(name.clone(), 0);
        }
        let mut control = self.control.clone();
        // Set when the operator asked for one phase only: wait at the next boundary.
        let mut stepping = false;
        for phase in plan.phases() {
            if let Some(by) = done.get(&phase.kind) {
                journal.record(
                    None,
                    EventData::PhaseSkipped {
                        plan_hash: plan.hash().to_string(),
                        phase: phase.kind,
                        reason: by.reason().into(),
                    },
                )?;
                journal.progress(Progress::PhaseSkipped {
                    phase: phase.kind,
                    reason: by.reason().to_string(),
                });
                let mut found_done = 0;
                for (participant, found) in &checks.already {
                    let n = found.get(&phase.kind).copied().unwrap_or_default();
                    if n > 0 {
                        *report.skipped.entry(participant.clone()).or_default() += n;
                        found_done += n;
                    }
                }
                if let Some(gate) = &self.gate {
                    let outcome = PhaseOutcome {
                        already_done: true,
                        skipped: found_done,
                        ..PhaseOutcome::default()
                    };
                    gate.done(phase.kind, outcome).await.map_err(|error| RunError::Gate {
                        phase: phase.kind,
                        error,
                    })?;
                }
                continue;
            }
            if !self.options.runs(phase.kind) {
                journal.record(
                    None,
                    EventData::PhaseSkipped {
                        plan_hash: plan.hash().to_string(),
                        phase: phase.kind,
                        reason: "not among the phases asked for (--phases)".into(),
                    },
                )?;
                journal.progress(Progress::PhaseSkipped {
                    phase: phase.kind,
                    reason: "not among --phases".into(),
                });
                continue;
            }
            if let Some(rx) = control.as_mut() {
                stepping = wait_for_go(rx, plan.hash(), phase.kind, journal, stepping).await?;
            }
            if let Some(gate) = &self.gate {
                gate.enter(phase.kind).await.map_err(|error| RunError::Gate {
                    phase: phase.kind,
                    error,
                })?;
            }
            let mut by_participant = group(&phase.steps);
            by_participant.retain(|p, _| self.executes(p));
            journal.record(
                None,
                EventData::PhaseStarted {
                    plan_hash: plan.hash().to_string(),
                    phase: phase.kind,
                    participants: by_participant.keys().cloned().collect(),
                },
            )?;
            journal.progress(Progress::PhaseStarted {
                phase: phase.kind,
                participants: by_participant.keys().cloned().collect(),
            });
            let stop = CancellationToken::new();
            let tasks: Vec<_> = by_participant
                .into_iter()
                .map(|(participant, steps)| {
                    let ctx = ctx.clone();
                    let stop = stop.clone();
                    let kind = phase.kind;
                    tokio::spawn(async move {
                        let mut reports = Vec::new();
                        let total = steps.iter().map(steps::units).sum();
                        let mut base = 0;
                        for step in steps {
                            if stop.is_cancelled() {
                                break;
                            }
                            let track = steps::Track { base, total };
                            base += steps::units(&step);
                            match steps::execute(&ctx, kind, &step, track).await {
                                Ok(r) => reports.push(r),
                                Err(e) => {
                                    stop.cancel();
                                    return (participant, Err(e));
                                }
                            }
                        }
                        (participant, Ok(reports))
                    })
                })
                .collect();
            let mut failure: Option<(String, StepError)> = None;
            let mut outcome = PhaseOutcome::default();
            for task in tasks {
                let (participant, result) = match task.await {
                    Ok(r) => r,
                    Err(e) => (
                        "executor".to_string(),
                        Err(StepError::Internal(format!("participant task died: {e}"))),
                    ),
                };
                match result {
                    Ok(reports) => {
                        outcome.applied += reports.iter().map(|r| r.applied).sum::<usize>();
                        outcome.skipped += reports.iter().map(|r| r.skipped).sum::<usize>();
                        tally(&mut report, phase.kind, &reports)
                    }
                    Err(e) => {
                        failure.get_or_insert((participant, e));
                    }
                }
            }
            if let Some((participant, e)) = failure {
                let failure = e.failure(&participant);
                journal.record(
                    Some(&participant),
                    EventData::PhaseFailed {
                        plan_hash: plan.hash().to_string(),
                        phase: phase.kind,
                        error: failure.message.clone(),
                        code: failure.code().map(str::to_string),
                    },
                )?;
                journal.progress(Progress::StepFailed {
                    phase: phase.kind,
                    participant: participant.clone(),
                    failure: failure.clone(),
                });
                return Err(RunError::Step {
                    phase: phase.kind,
                    participant,
                    failure,
                });
            }
            if !self.options.dry_run {
                journal.record(
                    None,
                    EventData::PhaseDone {
                        plan_hash: plan.hash().to_string(),
                        phase: phase.kind,
                    },
                )?;
            }
            journal.progress(Progress::PhaseDone { phase: phase.kind });
            if let Some(gate) = &self.gate {
                gate.done(phase.kind, outcome).await.map_err(|error| RunError::Gate {
                    phase: phase.kind,
                    error,
                })?;
            }
        }
        Ok(report)
    }
}

/// Steps of a phase per participant, in plan order.
fn group(steps: &[Step]) -> BTreeMap<String, Vec<Step>> {
    let mut out: BTreeMap<String, Vec<Step>> = BTreeMap::new();
    for s in steps {
        out.entry(s.participant.clone()).or_default().push(s.clone());
    }
    out
}

fn tally(report: &mut RunReport, phase: PhaseKind, steps: &[StepReport]) {
    for s in steps {
        let bucket = match phase {
            PhaseKind::Move => Some(&mut report.moved),
            PhaseKind::Import => Some(&mut report.added),
            _ => None,
        };
        if let Some(b) = bucket {
            *b.entry(s.participant.clone()).or_default() += s.applied;
        }
        *report.skipped.entry(s.participant.clone()).or_default() += s.skipped;
    }
}

/// Holds the run at a phase boundary while the operator has paused it. Returns whether
/// the operator asked for this one phase only (`Control::Step`). After a step, the run
/// waits here for the operator's next word before reading it.
async fn wait_for_go(
    rx: &mut watch::Receiver<Control>,
    plan_hash: &str,
    next: PhaseKind,
    journal: &SharedJournal,
    after_step: bool,
) -> Result<bool, RunError> {
    let announce = || async {
        journal.record(
            None,
            EventData::PhasePaused {
                plan_hash: plan_hash.to_string(),
                before: next,
            },
        )?;
        journal.progress(Progress::Paused { before: next });
        Ok::<(), RunError>(())
    };
    let mut announced = false;
    if after_step {
        announce().await?;
        announced = true;
        if rx.changed().await.is_err() {
            return Ok(false);
        }
    }
    loop {
        let current = *rx.borrow_and_update();
        match current {
            Control::Run => return Ok(false),
            Control::Step => return Ok(true),
            Control::Abort => {
                journal.record(
                    None,
                    EventData::PhaseAborted {
                        plan_hash: plan_hash.to_string(),
                        before: next,
                    },
                )?;
                return Err(RunError::Aborted(next));
            }
            Control::Pause => {
                if !announced {
                    announce().await?;
                    announced = true;
                }
                if rx.changed().await.is_err() {
                    return Ok(false);
                }
            }
        }
    }
}
