//! The incident report: Markdown rendered from a journal and the files it pins, in the
//! shape of an SRE postmortem — title and facts, summary, impact, a UTC timeline with the
//! decisions in bold, what each participant held, the decision, the execution phase by
//! participant, the verification, follow-up sections for people to fill, an appendix with
//! the payload diffs of the rows whose versions differ, and the journal's final hash.
//!
//! Pure: [`render`] takes what the `report` command read and checked ([`ReportInput`]) and
//! returns the text. Whatever made the journal untrustworthy (a break in the chain, a
//! changed pinned file) or incomplete (no seal) is said at the top.

mod appendix;
mod execution;
pub mod facts;
mod load;
mod sections;
pub mod survey_view;

pub use facts::{Focus, focus};
pub use load::{Loaded, load, pinned_by, read_plan};
pub use sections::entry as timeline_entry;
pub use survey_view::SurveyView;

use crate::journal::{Journal, Pinned, Seal};
use crate::plan::LoadedRunbook;
use std::fmt::Write as _;

/// Differing rows the appendix shows at most; the rest are counted.
pub const APPENDIX_ROWS: usize = 25;
/// Excluded rows the decision section lists at most; the rest are counted.
pub const LISTED_ROWS: usize = 50;

/// What checking the journal and its pinned files found.
#[derive(Debug, Clone, Default)]
pub struct Integrity {
    /// Lines in the journal file.
    pub lines: usize,
    /// Where the file stopped verifying, naming the line; the journal given to the report
    /// holds only what verified before it.
    pub broken: Option<String>,
    pub pins: Vec<PinStatus>,
}

/// One file the journal pins, and whether it is there unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinStatus {
    /// The journal line of the event that pins it.
    pub line: usize,
    pub pinned: Pinned,
    pub problem: Option<String>,
}

impl Integrity {
    /// Reasons not to trust the journal, one per line of text.
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self.broken.iter().cloned().collect();
        out.extend(
            self.pins
                .iter()
                .filter_map(|p| p.problem.as_ref().map(|m| format!("line {}: {m}", p.line))),
        );
        out
    }
}

/// Everything the report is made from.
pub struct ReportInput<'a> {
    /// The events that verified (all of them, for a whole journal).
    pub journal: &'a Journal,
    /// The journal file's name, as the report refers to it.
    pub name: &'a str,
    pub integrity: &'a Integrity,
    pub focus: &'a Focus,
    /// The survey the plan was made from, if the journal recorded one.
    pub survey: Option<&'a SurveyView>,
    /// The plan itself, from the runbook the journal pins.
    pub plan: Option<&'a LoadedRunbook>,
    /// The recovery-deck version that renders the report.
    pub renderer: &'a str,
}

/// The report, as Markdown.
pub fn render(input: &ReportInput<'_>) -> String {
    let c = Ctx::new(input);
    let mut out = String::new();
    let _ = writeln!(out, "# Incident report: {}\n", md_line(&input.journal.header.incident));
    banners(&mut out, input);
    sections::facts_table(&mut out, &c);
    sections::summary(&mut out, &c);
    sections::impact(&mut out, &c);
    sections::timeline(&mut out, &c);
    sections::held(&mut out, &c);
    sections::decision(&mut out, &c);
    execution::execution(&mut out, &c);
    execution::verification(&mut out, &c);
    follow_ups(&mut out);
    appendix::diffs(&mut out, &c);
    appendix::records(&mut out, &c);
    closing(&mut out, input);
    out
}

/// The input with what the sections share worked out once.
struct Ctx<'a> {
    input: &'a ReportInput<'a>,
    runs: Vec<facts::Run>,
    /// The last run of the focused plan that was not a dry run (index into `runs`).
    executed: Option<usize>,
    /// The last verification of the focused plan (a rerun that found everything done
    /// verifies nothing new), and the run it came from.
    verified: Option<usize>,
    lost: Option<String>,
    target: Option<String>,
}

impl<'a> Ctx<'a> {
    fn new(input: &'a ReportInput<'a>) -> Ctx<'a> {
        let runs = facts::runs(input.journal);
        let hash = input.focus.plan_hash.as_deref();
        let executed = runs
            .iter()
            .rposition(|r| !r.started.dry_run && Some(r.started.plan_hash.as_str()) == hash);
        let verified = runs
            .iter()
            .rposition(|r| !r.started.dry_run && Some(r.started.plan_hash.as_str()) == hash && !r.verified.is_empty());
        let run_of_plan = runs.iter().rev().find(|r| Some(r.started.plan_hash.as_str()) == hash);
        let (lost, target) = match (input.plan, run_of_plan) {
            (Some(rb), _) => (Some(rb.plan.lost().to_string()), Some(rb.plan.target().to_string())),
            (None, Some(r)) => (Some(r.started.lost.clone()), Some(r.started.target.clone())),
            (None, None) => (input.survey.map(|s| s.synchronizer.clone()), None),
        };
        Ctx {
            input,
            runs,
            executed,
            verified,
            lost,
            target,
        }
    }

    fn executed(&self) -> Option<&facts::Run> {
        self.runs.get(self.executed?)
    }

    /// The run whose verification is the plan's last.
    fn verifying(&self) -> Option<&facts::Run> {
        self.runs.get(self.verified?)
    }

    /// Participants whose last verification failed; `None` when none was recorded.
    fn failed_verification(&self) -> Option<Vec<&str>> {
        let run = self.verifying()?;
        Some(
            run.verified
                .values()
                .filter(|v| !v.ok)
                .map(|v| v.participant.as_str())
                .collect(),
        )
    }

    /// Where the events stop: the journal's end, or where it stopped verifying.
    fn end_of_record(&self) -> &'static str {
        if self.input.integrity.broken.is_some() {
            "the verified part of the journal ends inside it"
        } else {
            "the journal ends inside it"
        }
    }
}

fn banners(out: &mut String, input: &ReportInput<'_>) {
    let problems = input.integrity.problems();
    if !problems.is_empty() {
        let _ = writeln!(
            out,
            "> **WARNING: this journal failed verification; the report was rendered anyway (`--force`).**"
        );
        for p in &problems {
            let _ = writeln!(out, "> - {}", md_line(p));
        }
        if input.integrity.broken.is_some() {
            let last = input.journal.events.len() + 1;
            let _ = writeln!(
                out,
                "> \n> Only lines 1–{last} of {} verified, and only they are reported. What follows is not a complete or trustworthy record of the session.",
                input.integrity.lines
            );
        } else {
            let _ = writeln!(
                out,
                "> \n> The records named above cannot be trusted; sections drawn from them are left out or may be wrong."
            );
        }
        out.push('\n');
    }
    match input.journal.seal() {
        Seal::Sealed => {}
        Seal::Unsealed if input.integrity.broken.is_none() => {
            let _ = writeln!(
                out,
                "> **Note: the journal is not sealed.** Its last event is not `session.close`: the session did not end cleanly (a crash, or it is still running), or the file was cut at a line boundary — the journal cannot tell which. Everything up to its last line verified.\n"
            );
        }
        Seal::Unsealed => {}
        Seal::BeforeSeals(v) => {
            let _ = writeln!(
                out,
                "> **Note:** this journal is of format version {v}, which did not seal journals: whether it is complete cannot be told. Everything in it verified.\n"
            );
        }
    }
}

fn follow_ups(out: &mut String) {
    out.push_str("## Follow-ups\n\n_For the people reviewing the incident to fill in._\n\n");
    for heading in ["What went well", "What went wrong", "Where we got lucky"] {
        let _ = writeln!(out, "### {heading}\n\n- \n");
    }
    out.push_str("### Action items\n\n| action | owner | due |\n|---|---|---|\n|  |  |  |\n\n");
}

fn closing(out: &mut String, input: &ReportInput<'_>) {
    let j = input.journal;
    let seal = match j.seal() {
        Seal::Sealed => "sealed".to_string(),
        Seal::Unsealed => "not sealed".to_string(),
        Seal::BeforeSeals(v) => format!("format version {v}, before seals"),
    };
    out.push_str("---\n\n");
    let scope = if input.integrity.broken.is_some() {
        format!(" (of the part that verified, lines 1–{})", j.events.len() + 1)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "Journal `{}`: {} lines, {} events, {seal}. Final hash{scope}: `{}`",
        input.name,
        input.integrity.lines,
        j.events.len(),
        if j.final_hash().is_empty() {
            "(no events)"
        } else {
            j.final_hash()
        }
    );
}

/// `2026-11-03T09:00:01.250Z` → (`2026-11-03`, `09:00:01.250`).
fn split_ts(ts: &str) -> (String, String) {
    match ts.parse::<jiff::Timestamp>() {
        Ok(t) => (
            t.strftime("%Y-%m-%d").to_string(),
            t.strftime("%H:%M:%S%.3f").to_string(),
        ),
        Err(_) => (String::new(), ts.to_string()),
    }
}

/// The first 12 hex digits of a `sha256:` hash, for tables and the timeline.
fn short_hash(hash: &str) -> String {
    let hex = hash.strip_prefix("sha256:").unwrap_or(hash);
    format!("{}…", &hex[..hex.len().min(12)])
}

/// An id shortened for the timeline (the decision section lists them whole).
fn short_id(id: &str) -> String {
    if id.chars().count() <= 16 {
        id.to_string()
    } else {
        format!("{}…", id.chars().take(16).collect::<String>())
    }
}

/// Text for one Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Text for one line of a Markdown list or quote.
fn md_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

fn seconds(s: f64) -> String {
    format!("{s:.3} s")
}

#[cfg(test)]
mod tests;
