//! Carries out the app's effects over the engine and feeds the results back as messages.
//! The terminal runtime and the test harness both drive the app through this one core,
//! so what tests exercise is what operators run.
//!
//! Every effect that answers gets a [`Ticket`] when it starts; its task holds a `Reply`
//! that carries the ticket back with the answer. The core keeps the outstanding tickets,
//! so idle is simply "none outstanding", and an effect that never answers is named by
//! [`Core::settle`] instead of hanging it.

mod reply;
mod session;
mod work;

use reply::{Envelope, Reply};
pub use reply::{Ticket, Unsettled};
pub use session::SessionLink;
use work::{load_checked, read_differing, run_survey};

use super::app::App;
use super::msg::{Effect, Msg, PlanProblem};
use crate::client::ParticipantApi;
use crate::exec::{Control, Participants, RunOptions, Runner};
use crate::failure::{Failure, FailureKind};
use crate::journal::{Actor, EventData, JournalWriter, Recorded};
use crate::survey;
use crate::survey::Incident;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// What the effects need: the participants and the session journal.
pub struct Services {
    pub apis: Vec<Arc<dyn ParticipantApi>>,
    pub incident: String,
    pub lost: String,
    pub target: String,
    pub operator: String,
    pub endpoints: BTreeMap<String, String>,
    pub journal: Arc<Mutex<JournalWriter>>,
    pub batch_size: u32,
    /// Joined to a multi-operator session.
    pub session: Option<Arc<SessionLink>>,
}

/// How long [`Core::settle`] waits without any message before it gives up on the
/// effects still outstanding.
pub const QUIET_LIMIT: Duration = Duration::from_secs(60);

pub struct Core {
    pub app: App,
    services: Arc<Services>,
    tx: mpsc::UnboundedSender<Envelope>,
    rx: mpsc::UnboundedReceiver<Envelope>,
    /// Effects whose answer has not come back yet, with what each is (for messages).
    outstanding: BTreeMap<Ticket, String>,
    next_ticket: u64,
    /// Effects that ended without answering since the last `settle`.
    unanswered: Vec<String>,
    control: Option<watch::Sender<Control>>,
    /// Set once the latest survey's comparison is on the record: a plan made from that
    /// survey waits for it, so the journal has the survey before the plan.
    survey_recorded: watch::Receiver<bool>,
    /// Something changed since the last frame.
    pub dirty: bool,
    /// Markers for a recording of the screen, one per decision, until the runtime takes
    /// them (`None`: nothing records).
    marks: Option<Vec<String>>,
}

impl Core {
    pub fn new(app: App, services: Services) -> Core {
        let (tx, rx) = mpsc::unbounded_channel();
        Core {
            app,
            services: Arc::new(services),
            tx,
            rx,
            outstanding: BTreeMap::new(),
            next_ticket: 0,
            unanswered: Vec::new(),
            control: None,
            survey_recorded: watch::channel(true).1,
            dirty: true,
            marks: None,
        }
    }

    /// Collects a marker for each decision from now on (see [`crate::tui::cast`]).
    pub fn mark_decisions(&mut self) {
        self.marks.get_or_insert_with(Vec::new);
    }

    /// The markers collected since the last call, oldest first.
    pub fn take_marks(&mut self) -> Vec<String> {
        self.marks.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn mark(&mut self, body: Option<&EventData>) {
        if let (Some(marks), Some(label)) = (self.marks.as_mut(), body.and_then(super::cast::marker_for)) {
            marks.push(label);
        }
    }

    pub fn start(&mut self) {
        let effects = self.app.start();
        let read_only = self.app.ctx.read_only;
        self.record(EventData::ScreenOpened { read_only });
        for e in effects {
            self.dispatch(e);
        }
        self.follow_session();
    }

    /// No effect is outstanding and no message is waiting.
    pub fn idle(&self) -> bool {
        self.outstanding.is_empty() && self.rx.is_empty()
    }

    /// What the outstanding effects are, oldest first.
    pub fn outstanding(&self) -> Vec<String> {
        self.outstanding.values().cloned().collect()
    }

    /// Handles a message from outside: keys, resizes, ticks.
    pub fn handle(&mut self, msg: Msg) {
        let popup = self.app.popup.is_some();
        if !matches!(msg, Msg::Tick) || self.app.flash.is_some() {
            self.dirty = true;
        }
        if let Msg::Exec(crate::exec::Progress::Journal(event)) = &msg {
            self.mark(event.body.as_ref());
        }
        let effects = self.app.update(msg);
        // A tick may open a question (a payload request that waited for the screen).
        self.dirty |= self.app.popup.is_some() != popup;
        for e in effects {
            self.dispatch(e);
        }
    }

    fn receive(&mut self, envelope: Envelope) {
        match envelope {
            Envelope::Progress(msg) => self.handle(msg),
            Envelope::Answer(ticket, msg) => {
                self.outstanding.remove(&ticket);
                self.handle(msg);
            }
            Envelope::Unanswered(ticket) => {
                if let Some(what) = self.outstanding.remove(&ticket) {
                    tracing::error!("{what} ended without answering");
                    self.unanswered.push(what);
                }
            }
        }
    }

    /// Waits for the next message from a running effect and handles it; `false` once none
    /// can come.
    pub async fn next(&mut self) -> bool {
        match self.rx.recv().await {
            Some(envelope) => {
                self.receive(envelope);
                true
            }
            None => false,
        }
    }

    /// Handles messages already waiting, without blocking.
    pub fn drain(&mut self) {
        while let Ok(envelope) = self.rx.try_recv() {
            self.receive(envelope);
        }
    }

    /// Handles messages until every outstanding effect has answered (tests wait for this
    /// instead of sleeping). Fails, naming them, if an effect ends without answering or
    /// nothing arrives for [`QUIET_LIMIT`].
    pub async fn settle(&mut self) -> Result<(), Unsettled> {
        self.settle_within(QUIET_LIMIT).await
    }

    /// [`settle`](Core::settle) with another limit on silence.
    pub async fn settle_within(&mut self, quiet: Duration) -> Result<(), Unsettled> {
        loop {
            self.drain();
            if !self.unanswered.is_empty() {
                return Err(Unsettled::Unanswered(std::mem::take(&mut self.unanswered)));
            }
            if self.outstanding.is_empty() {
                return Ok(());
            }
            match tokio::time::timeout(quiet, self.rx.recv()).await {
                Ok(Some(envelope)) => self.receive(envelope),
                // The core holds a sender itself, so the channel never closes.
                Ok(None) => return Ok(()),
                Err(_) => {
                    return Err(Unsettled::Silent {
                        waited: quiet,
                        outstanding: self.outstanding(),
                    });
                }
            }
        }
    }

    /// A ticket for an effect about to start, and the reply its task answers with.
    fn issue(&mut self, what: String) -> Reply {
        self.next_ticket += 1;
        let ticket = Ticket(self.next_ticket);
        self.outstanding.insert(ticket, format!("{what} (ticket {})", ticket.0));
        Reply::new(ticket, self.tx.clone())
    }

    /// Starts an effect as a task that answers through its reply.
    fn spawn<F, Fut>(&mut self, what: String, task: F)
    where
        F: FnOnce(Reply) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let reply = self.issue(what);
        tokio::spawn(task(reply));
    }

    /// Seals the journal as the screen closes: the session ended cleanly. Not while a run
    /// is still going — quitting leaves it unfinished, and the journal says so by staying
    /// unsealed.
    pub fn close(&mut self) {
        if self.app.running() {
            tracing::warn!("the screen closes during a run; the journal stays unsealed");
            return;
        }
        let actor = Actor {
            op: self.services.operator.clone(),
            node: None,
        };
        let mut journal = self.services.journal.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = journal.seal(actor, "screen") {
            tracing::error!("journal: {e}");
        }
    }

    fn journal_path(&self) -> std::path::PathBuf {
        self.services
            .journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .path()
            .to_path_buf()
    }

    fn record(&mut self, body: EventData) {
        let actor = Actor {
            op: self.services.operator.clone(),
            node: None,
        };
        let result = self
            .services
            .journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .append(actor, body);
        match result {
            Ok(event) => {
                self.mark(event.body.as_ref());
                self.app.update(Msg::Recorded(Box::new(event)));
            }
            Err(e) => tracing::error!("journal: {e}"),
        }
    }

    fn dispatch(&mut self, effect: Effect) {
        match effect {
            Effect::Quit => {}
            Effect::Record(body) => self.record(body),
            Effect::Session(_) | Effect::ServeDeck => self.dispatch_session(effect),
            Effect::Control(c) => {
                if let Some(ctl) = &self.control {
                    let _ = ctl.send(c);
                }
            }
            Effect::LoadStatus { generation } => {
                for api in self.services.apis.clone() {
                    self.spawn(format!("status of {}", api.name()), move |reply| async move {
                        let report = crate::survey::status::report(api.as_ref()).await;
                        reply.answer(Msg::Status { generation, report });
                    });
                }
            }
            Effect::Survey {
                generation,
                synchronizer,
            } => {
                let services = self.services.clone();
                self.spawn(format!("survey of {synchronizer}"), move |reply| async move {
                    let result = run_survey(&services, &synchronizer, generation, reply.progress()).await;
                    reply.answer(Msg::Survey { generation, result });
                });
            }
            Effect::RecordSurvey { generation, record } => {
                let reply = self.issue("record of the survey".to_string());
                let Some(data) = self.app.data.clone() else {
                    return reply.answer(Msg::SurveyRecorded { generation, record });
                };
                let (done_tx, done_rx) = watch::channel(false);
                self.survey_recorded = done_rx;
                let journal = self.journal_path();
                let apis = self.services.apis.clone();
                // At a million rows this is a second read of the disagreeing holders and
                // seconds of compression: the view does not wait for it, only a plan made
                // from this survey does.
                tokio::spawn(async move {
                    let read = read_differing(&apis, &data.comparison).await;
                    let read = match read {
                        Ok(read) => read,
                        Err(e) => {
                            tracing::error!("reading the payloads of the disagreeing rows: {e}");
                            BTreeMap::new()
                        }
                    };
                    let read = Arc::new(read);
                    let shown = read.clone();
                    let pinned = tokio::task::spawn_blocking(move || {
                        let names = data.comparison.participants();
                        let payload = |i: usize, id: &str| {
                            data.payloads
                                .get(i)
                                .and_then(|m| m.get(id))
                                .or_else(|| names.get(i).and_then(|n| read.get(n)).and_then(|m| m.get(id)))
                                .cloned()
                        };
                        crate::journal::snapshot::pin(&journal, &data.comparison, &data.hosted, &payload)
                    })
                    .await
                    .unwrap_or_else(|e| Err(format!("writing the comparison file: {e}")));
                    if let Err(e) = &pinned {
                        tracing::error!("{e}");
                    }
                    // The diff shows the disagreeing rows without reading them again.
                    let open = None;
                    let result = Ok(Arc::unwrap_or_clone(shown));
                    reply.progress().send(Msg::Payloads {
                        generation,
                        open,
                        result,
                    });
                    let record = crate::journal::Surveyed {
                        snapshot: pinned.ok(),
                        ..record
                    };
                    reply.answer(Msg::SurveyRecorded { generation, record });
                    let _ = done_tx.send(true);
                });
            }
            Effect::FetchPayloads {
                generation,
                synchronizer,
                wanted,
                open,
            } => {
                let apis = self.services.apis.clone();
                self.spawn(format!("payloads on {synchronizer}"), move |reply| async move {
                    let result = async {
                        let id = survey::synchronizer_id(&apis, &synchronizer).await?;
                        Ok(survey::payloads_of(&apis, &id, &wanted).await?)
                    }
                    .await
                    .map_err(|e: survey::SurveyError| e.failure());
                    reply.answer(Msg::Payloads {
                        generation,
                        open,
                        result,
                    });
                });
            }
            Effect::BuildPlan { generation, request } => {
                let reply = self.issue("plan".to_string());
                let Some(data) = self.app.data.clone() else {
                    let result = Err(PlanProblem::NotCompared);
                    return reply.answer(Msg::Plan {
                        generation,
                        result,
                        record: Recorded::Nothing,
                    });
                };
                let services = self.services.clone();
                let journal = self.journal_path();
                let created = self
                    .services
                    .journal
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .time()
                    .to_string();
                let mut recorded = self.survey_recorded.clone();
                tokio::spawn(async move {
                    // The dropped sender (a record that ended early) counts as done.
                    let _ = recorded.wait_for(|done| *done).await;
                    let _ = tokio::task::spawn_blocking(move || {
                        let incident = Incident {
                            name: &services.incident,
                            lost: &services.lost,
                            target: &services.target,
                        };
                        let result = crate::survey::plan_from_parts(
                            &data.comparison,
                            &data.in_flight,
                            &incident,
                            &request,
                            services.batch_size,
                        )
                        .map(Arc::new)
                        .map_err(PlanProblem::from);
                        // The plan on the record before the screen offers to approve it.
                        let record = match &result {
                            Ok(plan) => {
                                let meta = crate::plan::RunbookMeta {
                                    created,
                                    proposed_by: services.operator.clone(),
                                };
                                crate::journal::pins::pin_plan(&journal, plan, &meta).into()
                            }
                            Err(_) => Recorded::Nothing,
                        };
                        reply.answer(Msg::Plan {
                            generation,
                            result,
                            record,
                        });
                    })
                    .await;
                });
            }
            Effect::SaveRunbook { plan, path } => {
                let reply = self.issue(format!("saving {}", path.display()));
                let meta = crate::plan::RunbookMeta {
                    created: jiff::Timestamp::now().to_string(),
                    proposed_by: self.services.operator.clone(),
                };
                tokio::task::spawn_blocking(move || {
                    let result = crate::runbook_file::write(&path, &plan, &meta).map_err(|e| e.to_string());
                    reply.answer(Msg::Saved { path, result });
                });
            }
            Effect::LoadRunbook { generation, path } => {
                let services = self.services.clone();
                self.spawn(format!("loading {}", path.display()), move |reply| async move {
                    let result = load_checked(&services, &path).await;
                    reply.answer(Msg::Loaded {
                        generation,
                        path,
                        result,
                    });
                });
            }
            Effect::Execute { plan } => {
                let (ctl_tx, ctl_rx) = watch::channel(Control::Run);
                self.control = Some(ctl_tx);
                let services = self.services.clone();
                let participants: Participants = services
                    .apis
                    .iter()
                    .map(|a| (a.name().to_string(), a.clone()))
                    .collect();
                let mut options = RunOptions::new(
                    services
                        .journal
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .path()
                        .to_path_buf(),
                    &services.operator,
                );
                options.endpoints = services.endpoints.clone();
                let (ptx, mut prx) = mpsc::unbounded_channel();
                self.spawn(format!("execution of {}", plan.hash()), move |reply| async move {
                    let runner = match Runner::new((*plan).clone(), participants, options) {
                        Ok(r) => r
                            .with_progress(ptx)
                            .with_control(ctl_rx)
                            .with_journal(services.journal.clone()),
                        Err(e) => return reply.answer(Msg::ExecDone(Err(e.failure()))),
                    };
                    let run = tokio::spawn(runner.run());
                    // Progress first, then the outcome: the channel closes once the run is over.
                    let progress = reply.progress();
                    while let Some(p) = prx.recv().await {
                        progress.send(Msg::Exec(p));
                    }
                    let result = match run.await {
                        Ok(r) => r.map_err(|e| e.failure()),
                        Err(e) => Err(Failure::new(
                            FailureKind::Internal,
                            None,
                            format!("the run stopped unexpectedly: {e}"),
                        )),
                    };
                    reply.answer(Msg::ExecDone(result));
                });
            }
        }
    }
}

#[cfg(test)]
mod tests;
