//! Carries out the app's effects over the engine and feeds the results back as messages.
//! The terminal runtime and the test harness both drive the app through this one core,
//! so what tests exercise is what operators run.

use super::app::App;
use super::msg::{Effect, Msg, PlanProblem, SurveyData};
use crate::client::ParticipantApi;
use crate::exec::survey::{self, Payloads};
use crate::exec::{Control, Incident, Participants, ProposeError, RunOptions, Runner};
use crate::inventory::SearchFilter;
use crate::journal::{Actor, JournalWriter};
use crate::reconcile::SelectionError;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
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
}

pub struct Core {
    pub app: App,
    services: Arc<Services>,
    tx: mpsc::UnboundedSender<Msg>,
    rx: mpsc::UnboundedReceiver<Msg>,
    /// Requests whose answer has not come back yet.
    in_flight: usize,
    control: Option<watch::Sender<Control>>,
    /// Something changed since the last frame.
    pub dirty: bool,
}

impl Core {
    pub fn new(app: App, services: Services) -> Core {
        let (tx, rx) = mpsc::unbounded_channel();
        Core {
            app,
            services: Arc::new(services),
            tx,
            rx,
            in_flight: 0,
            control: None,
            dirty: true,
        }
    }

    pub fn start(&mut self) {
        let effects = self.app.start();
        self.record("session.open", serde_json::json!({"read_only": self.app.ctx.read_only}));
        for e in effects {
            self.dispatch(e);
        }
    }

    /// No request is outstanding and no message is waiting.
    pub fn idle(&self) -> bool {
        self.in_flight == 0 && self.rx.is_empty()
    }

    pub fn handle(&mut self, msg: Msg) {
        if matches!(
            msg,
            Msg::Status { .. } | Msg::Survey { .. } | Msg::Plan { .. } | Msg::ExecDone(_)
        ) {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        if !matches!(msg, Msg::Tick) || self.app.flash.is_some() {
            self.dirty = true;
        }
        let effects = self.app.update(msg);
        for e in effects {
            self.dispatch(e);
        }
    }

    /// Waits for the next message from a running effect.
    pub async fn next(&mut self) -> Option<Msg> {
        self.rx.recv().await
    }

    /// Handles messages already waiting, without blocking.
    pub fn drain(&mut self) {
        while let Ok(msg) = self.rx.try_recv() {
            self.handle(msg);
        }
    }

    /// Handles messages until every outstanding request has answered (tests wait for
    /// this instead of sleeping).
    pub async fn settle(&mut self) {
        loop {
            self.drain();
            if self.in_flight == 0 {
                return;
            }
            match self.rx.recv().await {
                Some(msg) => self.handle(msg),
                None => return,
            }
        }
    }

    fn record(&mut self, kind: &str, data: serde_json::Value) {
        let actor = Actor {
            op: self.services.operator.clone(),
            node: None,
        };
        let result = self
            .services
            .journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .append(kind, actor, data);
        match result {
            Ok(event) => {
                self.app.update(Msg::Recorded(event));
            }
            Err(e) => tracing::error!("journal: {e}"),
        }
    }

    fn dispatch(&mut self, effect: Effect) {
        match effect {
            Effect::Quit => {}
            Effect::Record { kind, data } => self.record(kind, data),
            Effect::Control(c) => {
                if let Some(ctl) = &self.control {
                    let _ = ctl.send(c);
                }
            }
            Effect::LoadStatus { generation } => {
                for api in self.services.apis.clone() {
                    self.in_flight += 1;
                    let tx = self.tx.clone();
                    tokio::spawn(async move {
                        let report = crate::status::report(api.as_ref()).await;
                        let _ = tx.send(Msg::Status { generation, report });
                    });
                }
            }
            Effect::Survey {
                generation,
                synchronizer,
            } => {
                self.in_flight += 1;
                let (tx, services) = (self.tx.clone(), self.services.clone());
                tokio::spawn(async move {
                    let result = run_survey(&services, &synchronizer, generation, &tx).await;
                    let _ = tx.send(Msg::Survey { generation, result });
                });
            }
            Effect::BuildPlan { generation, request } => {
                let Some(data) = self.app.data.clone() else { return };
                self.in_flight += 1;
                let (tx, services) = (self.tx.clone(), self.services.clone());
                tokio::task::spawn_blocking(move || {
                    let incident = Incident {
                        name: &services.incident,
                        lost: &services.lost,
                        target: &services.target,
                    };
                    let result = crate::exec::plan_from_parts(
                        &data.comparison,
                        &data.in_flight,
                        &incident,
                        &request,
                        services.batch_size,
                    )
                    .map(Arc::new)
                    .map_err(|e| match e {
                        ProposeError::Selection(SelectionError::Undecided(rows)) => PlanProblem::Undecided(
                            rows.into_iter()
                                .map(|r| (r.contract_id.to_string(), r.class.as_str().to_string()))
                                .collect(),
                        ),
                        other => PlanProblem::Other(other.to_string()),
                    });
                    let _ = tx.send(Msg::Plan { generation, result });
                });
            }
            Effect::Execute { plan } => {
                self.in_flight += 1;
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
                let tx = self.tx.clone();
                let (ptx, mut prx) = mpsc::unbounded_channel();
                tokio::spawn(async move {
                    let runner = match Runner::new((*plan).clone(), participants, options) {
                        Ok(r) => r
                            .with_progress(ptx)
                            .with_control(ctl_rx)
                            .with_journal(services.journal.clone()),
                        Err(e) => {
                            let _ = tx.send(Msg::ExecDone(Err(e.to_string())));
                            return;
                        }
                    };
                    let run = tokio::spawn(runner.run());
                    // Progress first, then the outcome: the channel closes once the run is over.
                    while let Some(p) = prx.recv().await {
                        let _ = tx.send(Msg::Exec(p));
                    }
                    let result = match run.await {
                        Ok(r) => r.map_err(|e| e.to_string()),
                        Err(e) => Err(format!("the run stopped unexpectedly: {e}")),
                    };
                    let _ = tx.send(Msg::ExecDone(result));
                });
            }
        }
    }
}

async fn run_survey(
    services: &Services,
    synchronizer: &str,
    generation: u64,
    tx: &mpsc::UnboundedSender<Msg>,
) -> Result<SurveyData, String> {
    let (otx, mut orx) = mpsc::unbounded_channel();
    let forward = {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some((participant, contracts)) = orx.recv().await {
                let _ = tx.send(Msg::SurveyProgress {
                    generation,
                    participant,
                    contracts,
                });
            }
        })
    };
    let result = survey::survey_observed(&services.apis, synchronizer, &SearchFilter::default(), true, Some(otx)).await;
    let _ = forward.await;
    let s = result.map_err(|e| e.to_string())?;
    // Payloads in the comparison's participant order (it sorts participants by name).
    let mut by_name: HashMap<String, Payloads> = s
        .holdings
        .into_iter()
        .map(|h| (h.snapshot.participant, h.payloads.unwrap_or_default()))
        .collect();
    let payloads: Vec<Payloads> = s
        .comparison
        .participants()
        .iter()
        .map(|n| by_name.remove(n).unwrap_or_default())
        .collect();
    Ok(SurveyData {
        comparison: Arc::new(s.comparison),
        payloads: Arc::new(payloads),
        in_flight: s.in_flight,
    })
}
