//! `compare`, `plan` and `run`: the headless recovery engine.

use super::{Fail, Outcome, clients, is_json, operator, print_json, record, short};
use crate::cli::{CompareArgs, Format, PlanArgs, RunArgs, SelectionArgs};
use crate::config::IncidentConfig;
use crate::exec::{self, Approval, Participants, Progress, RunOptions, Runner};
use crate::meter::Meter;
use crate::plan::{self, PhaseKind, PlanSummary, RunbookMeta};
use crate::reconcile::{self, Comparison, Decision, SelectionRequest, StrategyName};
use crate::survey::SearchFilter;
use crate::survey::{self, Incident, ProposeError, propose_observed};
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub(super) fn print_comparison(cmp: &Comparison) {
    use std::fmt::Write as _;
    let names = cmp.participants();
    let mut line = format!("{:<20} {:<14} {:<19}", "contract", "template", "class");
    for n in names {
        let _ = write!(line, " {:>12}", short(n, 12));
    }
    outln!("{line}");
    for row in cmp.rows() {
        let mut line = format!(
            "{:<20} {:<14} {:<19}",
            short(row.contract_id(), 20),
            short(row.template_id(), 14),
            row.class().as_str()
        );
        for s in row.states() {
            let _ = write!(line, " {:>12}", s.marker());
        }
        outln!("{line}");
    }
    let counts: Vec<String> = cmp
        .counts()
        .iter()
        .map(|(c, n)| format!("{} {n}", c.as_str()))
        .collect();
    outln!("\n{} rows: {}", cmp.len(), counts.join(", "));
    outln!("✓ active  + missing here  × archived/moved here  ~ payload differs  · not hosted here");
}

pub async fn compare(cfg: &IncidentConfig, args: &CompareArgs, format: Format) -> Outcome {
    let apis = clients(cfg)?;
    let alias = args.synchronizer.clone().unwrap_or_else(|| cfg.incident.lost.clone());
    let filter = SearchFilter {
        template_prefix: args.template.clone(),
        party: None,
    };
    let (observer, metered) = survey_meter("compare: survey");
    let s = survey::survey_observed(&apis, &alias, &filter, false, Some(observer)).await;
    end_meter(metered, s.is_ok()).await;
    let s = s?;
    if is_json(format) {
        // Streamed from the comparison, rows never copied; the few contracts between
        // synchronizers go through a `Value` so their keys keep the alphabetical order
        // the whole output has.
        let incomplete = s.incomplete();
        let incomplete = (!incomplete.is_empty())
            .then(|| serde_json::to_value(&incomplete))
            .transpose()
            .map_err(|e| Fail(e.to_string()))?;
        print_json(&reconcile::WithIncomplete {
            comparison: &s.comparison,
            incomplete: incomplete.as_ref(),
        })?;
    } else {
        outln!("{alias}: {} participants", s.comparison.participants().len());
        print_comparison(&s.comparison);
        print_incomplete(&s, &alias);
    }
    Ok(ExitCode::SUCCESS)
}

/// A meter of the contracts a survey has read, over every participant; the task hands the
/// meter back when the survey drops its observer, for [`end_meter`].
fn survey_meter(label: &str) -> (survey::Observer, tokio::task::JoinHandle<Meter>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, usize)>();
    let mut meter = Meter::start(label, "contracts", None);
    let task = tokio::spawn(async move {
        let mut read: BTreeMap<String, usize> = BTreeMap::new();
        while let Some((participant, n)) = rx.recv().await {
            read.insert(participant, n);
            meter.set(read.values().sum::<usize>() as u64);
        }
        meter
    });
    (tx, task)
}

/// A last progress line only for a survey that succeeded: a refusal stays one line.
async fn end_meter(metered: tokio::task::JoinHandle<Meter>, ok: bool) {
    if let Ok(meter) = metered.await {
        if ok { meter.finish() } else { meter.abandon() }
    }
}

/// Contracts between the lost synchronizer and another one (a reassignment cut short):
/// say so, and which of them no row — so no plan — covers.
fn print_incomplete(s: &survey::Survey, alias: &str) {
    let listed = |entries: &[&crate::client::IncompleteReassignment]| {
        let mut ids: Vec<String> = entries.iter().take(5).map(|e| short(&e.contract_id, 20)).collect();
        if entries.len() > 5 {
            ids.push(format!("and {} more", entries.len() - 5));
        }
        ids.join(", ")
    };
    for (participant, entries) in s.incomplete() {
        let outside = survey::in_no_row(&s.comparison, &entries);
        let inside: Vec<&crate::client::IncompleteReassignment> = entries
            .iter()
            .filter(|e| !outside.iter().any(|o| o.contract_id == e.contract_id))
            .collect();
        let mut line = format!(
            "! {participant}: {} contract(s) between {alias} and another synchronizer (reassignments cut short)",
            entries.len()
        );
        if !outside.is_empty() {
            line.push_str(&format!(
                "; {} in no row, so in no plan (finish their reassignments in Canton): {}",
                outside.len(),
                listed(&outside)
            ));
        }
        if !inside.is_empty() {
            line.push_str(&format!(
                "; {} also in a row, which decides them: {}",
                inside.len(),
                listed(&inside)
            ));
        }
        outln!("{line}");
    }
}

/// The engine's request for the strategy, rows and decisions given on the command line.
pub(super) fn selection_request(args: &SelectionArgs) -> Result<SelectionRequest, Fail> {
    if args.strategy != StrategyName::Manual && !args.include.is_empty() {
        return Err(Fail("--include only applies to --strategy manual".into()));
    }
    let picks = args
        .include
        .iter()
        .map(|i| reconcile::ContractId::from(i.as_str()))
        .collect();
    let mut request = SelectionRequest::new(args.strategy.with_picks(picks));
    for d in &args.decide {
        let (id, decision) = parse_decision(d)?;
        request = request.decide(&id, decision);
    }
    for id in &args.exclude {
        request = request.exclude(id);
    }
    Ok(request)
}

fn parse_decision(text: &str) -> Result<(String, Decision), Fail> {
    let (id, what) = text
        .split_once('=')
        .ok_or_else(|| Fail(format!("--decide {text:?}: expected ID=exclude or ID=purge")))?;
    let decision = match what {
        "exclude" => Decision::Exclude,
        "purge" => Decision::Purge,
        other if other.starts_with("adopt") => {
            return Err(Fail(format!("--decide {text:?}: {}", reconcile::NO_ADOPT)));
        }
        _ => {
            return Err(Fail(format!(
                "--decide {text:?}: the decision must be exclude or purge"
            )));
        }
    };
    Ok((id.to_string(), decision))
}

pub async fn plan(cfg: &IncidentConfig, args: &PlanArgs, format: Format) -> Outcome {
    let lost = args.from.clone().unwrap_or_else(|| cfg.incident.lost.clone());
    let target = args.to.clone().unwrap_or_else(|| cfg.incident.target.clone());
    if lost == target {
        return Err(Fail(format!("--from and --to are both {lost}")));
    }
    let apis = clients(cfg)?;
    let request = selection_request(&args.selection)?;
    let incident = Incident {
        name: &cfg.incident.name,
        lost: &lost,
        target: &target,
    };
    let (observer, metered) = survey_meter("plan: survey");
    let proposed = propose_observed(&apis, &incident, &request, args.batch_size, Some(observer)).await;
    end_meter(metered, proposed.is_ok()).await;
    let (plan, surveyed) = proposed.map_err(|e| match e {
        ProposeError::Selection(e) => Fail(format!(
            "{e}\nDecide each listed row with --decide <ID>=exclude (leave it on {lost}) or --decide <ID>=purge (remove it where it is still active), then plan again."
        )),
        other => Fail(other.to_string()),
    })?;
    let who = operator(args.operator.as_deref());
    let meta = RunbookMeta {
        created: jiff::Timestamp::now().to_string(),
        proposed_by: who.clone(),
    };
    let ids = plan.expected_snapshots().values().map(|e| e.active.len() as u64).sum();
    let mut meter = Meter::start("plan: runbook", "held contract ids", Some(ids));
    // Streamed to the files, then pinned from them: the texts are never held whole.
    let sidecar_file = crate::runbook_file::write(&args.out, &plan, &meta)?;
    meter.set(ids);
    meter.finish();
    let journal = args
        .journal
        .clone()
        .unwrap_or_else(|| default_journal(&args.out, false));
    let made = record::PlanMade {
        plan: &plan,
        survey: &surveyed,
        selection: &args.selection,
        runbook: &args.out,
        sidecar: sidecar_file.as_deref(),
    };
    record::plan_made(cfg, &apis, &journal, &who, &made)
        .await
        .map_err(|e| {
            Fail(format!(
                "the runbook {} is written, but the journal {} could not record it: {}",
                args.out.display(),
                journal.display(),
                e.0
            ))
        })?;
    let summary = PlanSummary::of(&plan);
    if is_json(format) {
        print_json(&serde_json::json!({
            "plan_hash": plan.hash(),
            "runbook": args.out,
            "sidecar": sidecar_file,
            "journal": journal,
            "strategy": summary.strategy,
            "moved": summary.moved,
            "excluded": plan.excluded().len(),
            "in_flight": plan.in_flight().iter().map(|(p, f)| (p.clone(), f.pending_submissions + f.pending_transactions)).collect::<std::collections::BTreeMap<_, _>>(),
        }))?;
    } else {
        outln!("{summary}");
        print_incomplete(&surveyed, &lost);
        outln!("runbook {} ({})", args.out.display(), plan.hash());
        if let Some(p) = &sidecar_file {
            outln!("contract ids in {}", p.display());
        }
        outln!("journal {}", journal.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a runbook and its sidecar (if it names one), the sidecar line by line.
pub fn load_runbook(path: &Path) -> Result<plan::LoadedRunbook, Fail> {
    Ok(crate::runbook_file::load(path)?.0)
}

pub fn default_journal(runbook: &Path, dry_run: bool) -> PathBuf {
    let name = runbook.file_name().and_then(|n| n.to_str()).unwrap_or("recovery");
    let stem = name
        .strip_suffix(".runbook.toml")
        .or_else(|| name.strip_suffix(".toml"))
        .unwrap_or(name);
    let suffix = if dry_run {
        "dry-run.journal.jsonl"
    } else {
        "journal.jsonl"
    };
    runbook.with_file_name(format!("{stem}.{suffix}"))
}

/// Asks for the typed confirmation; refuses when nobody can answer.
fn confirm(plan: &plan::Plan) -> Result<(), Fail> {
    if !std::io::stdin().is_terminal() {
        return Err(Fail(
            "refusing to run without --yes: stdin is not a terminal, so nobody can confirm. Review the plan with --dry-run, then pass --yes".into(),
        ));
    }
    eprintln!("{}", PlanSummary::of(plan));
    eprint!(
        "This changes the participants listed above. Type the target synchronizer's alias ({}) to proceed: ",
        plan.target()
    );
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    if line.trim() == plan.target() {
        Ok(())
    } else {
        Err(Fail("not confirmed; nothing was changed".into()))
    }
}

/// Preflight's outcome as the command line shows it: refused with the problems, or ok,
/// with the warnings either way.
pub(super) fn preflight_text(problems: &[String], warnings: &[String]) -> String {
    let mut text = if problems.is_empty() {
        "preflight ok".to_string()
    } else {
        format!("preflight refused:\n  {}", problems.join("\n  "))
    };
    for w in warnings {
        text.push_str(&format!("\nwarning: {w}"));
    }
    text
}

fn describe(p: &Progress) -> Option<String> {
    Some(match p {
        Progress::Preflight { problems, warnings } => preflight_text(problems, warnings),
        Progress::PhaseStarted { phase, participants } if participants.is_empty() => {
            format!("phase {phase}: nothing to do")
        }
        Progress::PhaseStarted { phase, participants } => format!("phase {phase}: {}", participants.join(", ")),
        Progress::StepFailed {
            phase,
            participant,
            failure: error,
        } => format!("  {phase} {participant} FAILED: {error}"),
        Progress::PhaseDone { phase } => format!("phase {phase} done"),
        Progress::PhaseSkipped { phase, reason } => format!("phase {phase} skipped ({reason})"),
        Progress::WouldSend {
            participant,
            rpc,
            detail,
        } => format!("would send  {participant:<14} {rpc:<26} {detail}"),
        _ => return None,
    })
}

/// A meter per phase of a run: the contracts (or steps) done over every participant, from
/// the executor's `Advance` reports.
#[derive(Default)]
struct PhaseMeter {
    meter: Option<Meter>,
    /// Per participant: done, total.
    counts: BTreeMap<String, (usize, usize)>,
}

impl PhaseMeter {
    fn see(&mut self, p: &Progress) {
        match p {
            Progress::PhaseStarted { phase, participants } if !participants.is_empty() => {
                self.end();
                let unit = match phase {
                    PhaseKind::Purge | PhaseKind::Import | PhaseKind::Move | PhaseKind::Verify => "contracts",
                    _ => "steps",
                };
                self.meter = Some(Meter::start(format!("run {phase}"), unit, None));
            }
            Progress::Advance {
                participant,
                done,
                total,
                ..
            } => {
                self.counts.insert(participant.clone(), (*done, *total));
                if let Some(m) = &mut self.meter {
                    let (done, total) = self.counts.values().fold((0, 0), |(d, t), (dd, tt)| (d + dd, t + tt));
                    m.set_total(total as u64);
                    m.set(done as u64);
                }
            }
            Progress::PhaseDone { .. } | Progress::StepFailed { .. } | Progress::Paused { .. } => self.end(),
            _ => {}
        }
    }

    fn end(&mut self) {
        if let Some(m) = self.meter.take() {
            m.finish();
        }
        self.counts.clear();
    }
}

/// The rows preflight found changed since the plan was made, per participant.
fn drifted(e: &exec::RunError) -> Vec<exec::DriftEntry> {
    let exec::RunError::Preflight(problems) = e else {
        return Vec::new();
    };
    problems
        .iter()
        .flat_map(|p| {
            p.drift.iter().map(|row| exec::DriftEntry {
                participant: p.participant.clone(),
                row: row.clone(),
            })
        })
        .collect()
}

/// The drift table: per participant and row, what the plan expected and what is there now.
/// The contract id comes last and whole, to be copied.
fn print_drift(drift: &[exec::DriftEntry]) {
    let width = drift.iter().map(|d| d.participant.len()).max().unwrap_or(0).max(11);
    outln!("{} row(s) changed since the plan was made:", drift.len());
    outln!(
        "{:<width$}  {:<15}  {:<23}  {:<23}  contract",
        "participant",
        "change",
        "expected",
        "found"
    );
    for d in drift {
        outln!(
            "{:<width$}  {:<15}  {:<23}  {:<23}  {}",
            d.participant,
            d.row.kind().as_str(),
            d.row.expected.to_string(),
            d.row.found.to_string(),
            d.row.contract_id
        );
    }
}

pub async fn run(cfg: &IncidentConfig, args: &RunArgs, format: Format) -> Outcome {
    let (loaded, sidecar) = crate::runbook_file::load(&args.runbook)?;
    let plan = loaded.plan;
    if plan.incident() != cfg.incident.name {
        eprintln!(
            "note: the runbook is for incident {:?}, the config names {:?}",
            plan.incident(),
            cfg.incident.name
        );
    }
    // Verification alone changes nothing, so there is nothing to confirm.
    let verify_only = !args.phases.is_empty() && args.phases.iter().all(|p| *p == plan::PhaseKind::Verify);
    if !args.dry_run && !args.yes && !verify_only {
        confirm(&plan)?;
    }
    let apis = clients(cfg)?;
    let participants: Participants = apis.iter().map(|a| (a.name().to_string(), a.clone())).collect();
    let journal = args
        .journal
        .clone()
        .unwrap_or_else(|| default_journal(&args.runbook, args.dry_run));
    let mut options = RunOptions::new(journal.clone(), &operator(args.operator.as_deref()));
    options.dry_run = args.dry_run;
    options.runbook_path = Some(args.runbook.clone());
    options.force = args.force;
    if !args.phases.is_empty() {
        options.phases = Some(args.phases.iter().copied().collect());
    }
    // The journal keeps the runbook as it was run, and how the run was confirmed. The files
    // are pinned as they are now and the plan that runs is loaded again from the pinned
    // copies, so a runbook edited since it was read cannot run under another's pin; neither
    // load holds the sidecar whole.
    let pinned = record::pin_runbook_files(&journal, &args.runbook, sidecar.as_deref())?;
    let hash = plan.hash().to_string();
    drop(plan);
    let plan = crate::runbook_file::load_pinned(&journal, &pinned)?.plan;
    if plan.hash() != hash {
        return Err(Fail(format!(
            "{} changed while it was being read (plan {hash}, now {}); nothing was changed, run again",
            args.runbook.display(),
            plan.hash()
        )));
    }
    options.runbook = Some(pinned);
    options.approval = Some(if args.yes {
        Approval::Unattended
    } else {
        Approval::Typed(plan.target().to_string())
    });
    options.endpoints = cfg
        .participants
        .iter()
        .map(|p| (p.name.clone(), p.admin.clone()))
        .collect();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let printer = tokio::spawn(async move {
        let mut skipped = std::collections::BTreeSet::new();
        let mut phase_meter = PhaseMeter::default();
        while let Some(p) = rx.recv().await {
            phase_meter.see(&p);
            if let Progress::PhaseSkipped { phase, .. } = &p {
                skipped.insert(*phase);
            }
            if let Some(line) = describe(&p) {
                if matches!(p, Progress::WouldSend { .. }) {
                    outln!("{line}");
                } else {
                    eprintln!("{line}");
                }
            }
        }
        phase_meter.end();
        skipped
    });
    let outcome = Runner::new(plan, participants, options)?.with_progress(tx).run().await;
    let skipped = printer.await.unwrap_or_default();
    let before_verify = &PhaseKind::ALL[..PhaseKind::ALL.len() - 1];
    if outcome.as_ref().is_ok_and(|r| r.ok) && before_verify.iter().all(|p| skipped.contains(p)) {
        let verified = if skipped.contains(&PhaseKind::Verify) {
            ""
        } else {
            ", and the participants verified again"
        };
        eprintln!("the runbook was already complete: no change was sent{verified}");
    }
    let report = match outcome {
        Ok(r) => r,
        Err(e) => {
            let drift = drifted(&e);
            if !drift.is_empty() && !is_json(format) {
                print_drift(&drift);
            }
            let report = exec::RunReport {
                ok: false,
                error: Some(e.to_string()),
                journal: journal.display().to_string(),
                dry_run: args.dry_run,
                drift,
                ..Default::default()
            };
            outln!("{}", serde_json::to_string(&report)?);
            return Err(Fail(e.to_string()));
        }
    };
    outln!("{}", serde_json::to_string(&report)?);
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
