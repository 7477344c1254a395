//! `:save FILE` and `:load FILE`: the plan on screen written as a runbook, and a runbook's
//! plan put on screen after the check `run` makes before it starts (the participants
//! still hold what the plan was made from), with what drifted shown.

use super::{App, Level, PlanState, Screen};
use crate::plan::Plan;
use crate::survey::ParticipantDrift;
use crate::tui::action::Action;
use crate::tui::msg::Effect;
use crate::tui::scroll::Scroll;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the plan on screen came from, and the participants that drifted since it was made.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub drift: Vec<ParticipantDrift>,
}

fn short(hash: &str) -> String {
    hash.trim_start_matches("sha256:").chars().take(12).collect()
}

impl App {
    pub(super) fn save_runbook(&mut self, path: &str) -> Vec<Effect> {
        let PlanState::Ready { plan, .. } = &self.plan else {
            let key = self.screen_key(Screen::Main, Action::PlanPreview);
            self.flash(Level::Warn, format!("no plan to save: preview one first ({key})"));
            return Vec::new();
        };
        vec![Effect::SaveRunbook {
            plan: plan.clone(),
            path: path.into(),
        }]
    }

    pub(super) fn on_saved(&mut self, path: &Path, result: Result<Option<PathBuf>, String>) -> Vec<Effect> {
        match result {
            Ok(sidecar) => {
                let hash = match &self.plan {
                    PlanState::Ready { plan, .. } => format!("plan {} ", short(plan.hash())),
                    _ => String::new(),
                };
                let side = sidecar
                    .map(|s| format!(" (contract ids in {})", s.display()))
                    .unwrap_or_default();
                self.flash(Level::Info, format!("{hash}saved to {}{side}", path.display()));
            }
            Err(e) => self.flash(Level::Error, format!("not saved: {e}")),
        }
        Vec::new()
    }

    pub(super) fn load_runbook(&mut self, path: &str) -> Vec<Effect> {
        if self.joined.is_some() {
            let text = "in a session the plan is the session's: the lead proposes a runbook with :propose FILE";
            self.flash(Level::Warn, text);
            return Vec::new();
        }
        if self.running() {
            self.flash(Level::Warn, "a run is active; load a runbook after it ends");
            return Vec::new();
        }
        self.flash(
            Level::Info,
            format!("loading {path} and checking it against the participants…"),
        );
        vec![Effect::LoadRunbook {
            generation: self.generation,
            path: path.into(),
        }]
    }

    pub(super) fn on_loaded(
        &mut self,
        generation: u64,
        path: PathBuf,
        result: Result<(Arc<Plan>, Vec<ParticipantDrift>), String>,
    ) -> Vec<Effect> {
        if generation != self.generation || self.running() {
            return Vec::new();
        }
        let (plan, drift) = match result {
            Ok(loaded) => loaded,
            Err(e) => {
                self.flash(Level::Error, format!("{} not loaded: {e}", path.display()));
                return Vec::new();
            }
        };
        let text = if drift.is_empty() {
            format!(
                "plan {} loaded from {}: the participants still hold what it was made from",
                short(plan.hash()),
                path.display()
            )
        } else {
            format!(
                "plan {} loaded from {}: {} participant(s) drifted since it was made, so a run would refuse it",
                short(plan.hash()),
                path.display(),
                drift.len()
            )
        };
        let level = if drift.is_empty() { Level::Info } else { Level::Warn };
        let record = self.show_plan(plan, None);
        self.loaded = Some(Loaded { path, drift });
        self.screen = Screen::Plan;
        self.plan_view = Scroll::default();
        self.flash(level, text);
        vec![record]
    }
}
