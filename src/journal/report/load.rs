//! Reading what a report is made from: the journal, checked line by line, every file it
//! pins, checked against its digest, and the records of the plan the report is about.
//! The only part of the report that touches files; [`super::render`] is pure.

use super::{APPENDIX_ROWS, Focus, Integrity, PinStatus, ReportInput, SurveyView, focus};
use crate::journal::snapshot::SnapshotReader;
use crate::journal::{self, EventData, Journal, JournalError, Pinned, pins};
use crate::plan::LoadedRunbook;
use std::path::Path;

/// A journal and its records, checked, ready to render.
pub struct Loaded {
    pub journal: Journal,
    pub name: String,
    pub integrity: Integrity,
    pub focus: Focus,
    pub survey: Option<SurveyView>,
    pub plan: Option<LoadedRunbook>,
}

impl Loaded {
    pub fn input<'a>(&'a self, renderer: &'a str) -> ReportInput<'a> {
        ReportInput {
            journal: &self.journal,
            name: &self.name,
            integrity: &self.integrity,
            focus: &self.focus,
            survey: self.survey.as_ref(),
            plan: self.plan.as_ref(),
            renderer,
        }
    }
}

/// The files an event pins.
pub fn pinned_by(body: &EventData) -> Vec<&Pinned> {
    match body {
        EventData::Surveyed(s) => s.snapshot.iter().collect(),
        EventData::PlanProposed(p) => p.runbook.iter().chain(&p.sidecar).collect(),
        EventData::RunStarted(r) => r.runbook.iter().chain(&r.sidecar).collect(),
        _ => Vec::new(),
    }
}

/// Checks the journal at `path` and its pinned files and reads the records the report
/// needs. Fails only when nothing can be trusted (no readable header); every other
/// problem is in [`Loaded::integrity`], for the caller to refuse or to render under a
/// warning.
pub fn load(path: &Path) -> Result<Loaded, JournalError> {
    let checked = journal::check(path)?;
    let journal = checked.journal;
    let mut integrity = Integrity {
        lines: checked.lines,
        broken: checked.broken.map(|e| e.to_string()),
        pins: Vec::new(),
    };
    // A file pinned by several events (the same runbook proposed and run) is read once.
    let mut checked: std::collections::HashMap<Pinned, Option<String>> = std::collections::HashMap::new();
    for (i, e) in journal.events.iter().enumerate() {
        let Some(body) = &e.body else { continue };
        for pin in pinned_by(body) {
            let problem = checked
                .entry(pin.clone())
                .or_insert_with(|| pins::verify(path, pin).err().map(|e| e.to_string()))
                .clone();
            integrity.pins.push(PinStatus {
                line: journal.line_of(i),
                pinned: pin.clone(),
                problem,
            });
        }
    }
    let focus = focus(&journal);
    let trusted = |pin: &Pinned| integrity.pins.iter().any(|p| &p.pinned == pin && p.problem.is_none());
    let mut problems: Vec<PinStatus> = Vec::new();
    let survey = match focus
        .survey
        .and_then(|i| Some((i, journal.events.get(i)?.body.as_ref()?)))
    {
        Some((i, EventData::Surveyed(s))) => match &s.snapshot {
            Some(pin) if trusted(pin) => match read_survey(path, pin) {
                Ok(view) => Some(view),
                Err(message) => {
                    problems.push(PinStatus {
                        line: journal.line_of(i),
                        pinned: pin.clone(),
                        problem: Some(message),
                    });
                    None
                }
            },
            Some(_) => None,
            None => Some(SurveyView::from_event(s)),
        },
        _ => None,
    };
    let plan = match &focus.runbook {
        Some((i, runbook, sidecar)) if trusted(runbook) && sidecar.as_ref().is_none_or(trusted) => {
            match read_plan(path, runbook, sidecar.as_ref()) {
                Ok(plan) => Some(plan),
                Err(message) => {
                    problems.push(PinStatus {
                        line: journal.line_of(*i),
                        pinned: runbook.clone(),
                        problem: Some(message),
                    });
                    None
                }
            }
        }
        _ => None,
    };
    integrity.pins.extend(problems);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Ok(Loaded {
        journal,
        name,
        integrity,
        focus,
        survey,
        plan,
    })
}

fn read_survey(journal: &Path, pin: &Pinned) -> Result<SurveyView, String> {
    let path = pins::resolve(journal, pin).map_err(|e| e.to_string())?;
    let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", pin.file))?;
    let reader = SnapshotReader::open(file).map_err(|e| format!("{}: {e}", pin.file))?;
    let header = reader.header().clone();
    SurveyView::gather(&header, reader, APPENDIX_ROWS).map_err(|e| format!("{}: {e}", pin.file))
}

/// The plan of a pinned runbook (and sidecar), each file checked against its digest.
pub fn read_plan(journal: &Path, runbook: &Pinned, sidecar: Option<&Pinned>) -> Result<LoadedRunbook, String> {
    let text = |pin: &Pinned| {
        let bytes = pins::read_verified(journal, pin).map_err(|e| e.to_string())?;
        String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", pin.file))
    };
    let toml = text(runbook)?;
    let side = sidecar.map(text).transpose()?;
    crate::plan::load_runbook(&toml, side.as_deref()).map_err(|e| format!("{}: {e}", runbook.file))
}
