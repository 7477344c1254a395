//! `session …`: a multi-operator session from the command line. The lead compares,
//! plans, proposes and says go; each node operator approves and runs their own
//! participant's part with an incident config that holds only that participant's
//! credentials.

use super::engine::{print_comparison, selection_request};
use super::{Fail, Outcome, is_json, print_json};
use crate::cli::{Format, JoinArgs, SessionArgs, SessionCommand, SessionPlanArgs};
use crate::client::{GrpcParticipant, ParticipantApi};
use crate::collab::client::{Connect, Hello, SessionClient};
use crate::collab::deck::{Deck, DeckOptions};
use crate::collab::feed::Feed;
use crate::collab::manifest::{self, ManifestError};
use crate::collab::state::SessionState;
use crate::config::IncidentConfig;
use crate::exec;
use crate::plan::{PlanSummary, RunbookMeta};
use crate::survey::{Incident, ProposeError, plan_from_parts};
use crate::wire::collab::{Ack, ControlAction};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const TOKEN_ENV: &str = "RECOVERY_DECK_SESSION_TOKEN";

pub(super) fn token(join: &JoinArgs) -> Result<Option<String>, Fail> {
    if let Some(f) = &join.token_file {
        let t = std::fs::read_to_string(f).map_err(|e| Fail(format!("token file {}: {e}", f.display())))?;
        return Ok(Some(t.trim().to_string()));
    }
    Ok(std::env::var(TOKEN_ENV).ok().filter(|t| !t.trim().is_empty()))
}

pub(super) fn connect(join: &JoinArgs, patience: Duration) -> Result<SessionClient, Fail> {
    let url = join
        .join
        .as_deref()
        .ok_or_else(|| Fail("--join ADDR is required (or set RECOVERY_DECK_JOIN)".into()))?;
    let url = if url.contains("://") {
        url.to_string()
    } else if join.ca.is_some() || join.cert.is_some() {
        format!("https://{url}")
    } else {
        format!("http://{url}")
    };
    let c = Connect {
        url,
        token: token(join)?,
        ca: join.ca.clone(),
        cert: join.cert.clone(),
        key: join.key.clone(),
        domain: join.tls_domain.clone(),
        patience,
    };
    Ok(SessionClient::connect(&c)?)
}

/// The name given with --operator must be who the credentials say.
pub(super) fn check_operator(hello: &Hello, join: &JoinArgs) -> Result<(), Fail> {
    match &join.operator {
        Some(name) if *name != hello.operator => Err(Fail(format!(
            "these credentials belong to {}, not to {name}",
            hello.operator
        ))),
        _ => Ok(()),
    }
}

fn check_incident(hello: &Hello, cfg: &IncidentConfig) -> Result<(), Fail> {
    let i = &cfg.incident;
    if i.name != hello.incident || i.lost != hello.lost || i.target != hello.target {
        return Err(Fail(format!(
            "the incident config is for {} ({} -> {}), the session for {} ({} -> {})",
            i.name, i.lost, i.target, hello.incident, hello.lost, hello.target
        )));
    }
    Ok(())
}

fn ack_json(ack: &Ack) -> serde_json::Value {
    json!({"seq": ack.seq, "duplicate": ack.duplicate, "plan_hash": ack.plan_hash})
}

pub async fn run(config: &Path, args: &SessionArgs, format: Format) -> Outcome {
    let join = &args.join;
    match &args.command {
        SessionCommand::Status => status(&connect(join, short())?, join, format).await,
        SessionCommand::Compare => compare(&connect(join, short())?, join, format).await,
        SessionCommand::Plan(p) => plan_from_session(&connect(join, short())?, join, p, format).await,
        SessionCommand::Propose { runbook } => propose(&connect(join, short())?, join, runbook, format).await,
        SessionCommand::Go => control(&connect(join, short())?, join, ControlAction::Go, "", format).await,
        SessionCommand::Pause { reason } => {
            control(&connect(join, short())?, join, ControlAction::Pause, reason, format).await
        }
        SessionCommand::Abort { reason } => {
            control(&connect(join, short())?, join, ControlAction::Abort, reason, format).await
        }
        SessionCommand::Approve { participant, comment } => {
            let deck = deck(config, join, participant.as_deref(), short()).await?.0;
            let (_, state, _) = deck.client.log().await?;
            let (ack, digest) = deck.approve(&state, comment).await?;
            let out = json!({
                "approved": state.plan_hash(), "participant": deck.participant,
                "holdings_digest": digest, "ack": ack_json(&ack),
            });
            emit(format, &out, || {
                format!(
                    "{} approved plan {} for {} (holdings {digest})",
                    deck.hello.operator,
                    state.plan_hash().unwrap_or_default(),
                    deck.participant
                )
            })
        }
        SessionCommand::Run { participant, journal } => {
            let (deck, cfg) = deck(config, join, Some(participant), Duration::from_secs(600)).await?;
            // The same journal as the participant's joined screen, so that each resumes the other.
            let journal = journal.clone().unwrap_or_else(|| {
                super::screen::default_journal(
                    super::screen::config_dir(config),
                    &cfg.incident.name,
                    &format!("{}.journal.jsonl", super::screen::safe(participant)),
                )
            });
            super::screen::journal_dir(&journal)?;
            run_part(&deck, journal).await
        }
        SessionCommand::RequestPayload { contract, from, reason } => {
            let client = connect(join, short())?;
            let hello = client.hello(None).await?;
            check_operator(&hello, join)?;
            let ack = client.request_payload(contract, from, reason).await?;
            emit(format, &ack_json(&ack), || {
                format!("asked {from} for the payload of {contract} (request seq {})", ack.seq)
            })
        }
        SessionCommand::Share {
            request,
            refuse,
            reason,
        } => {
            let deck = deck(config, join, None, short()).await?.0;
            let (_, state, _) = deck.client.log().await?;
            let ack = deck.share(&state, *request, !refuse, reason).await?;
            emit(format, &ack_json(&ack), || {
                if *refuse {
                    format!("declined payload request {request}")
                } else {
                    format!("shared the payload asked for in request {request}")
                }
            })
        }
    }
}

fn short() -> Duration {
    Duration::from_secs(20)
}

fn emit(format: Format, value: &serde_json::Value, text: impl FnOnce() -> String) -> Outcome {
    if is_json(format) {
        print_json(value)?;
    } else {
        outln!("{}", text());
    }
    Ok(ExitCode::SUCCESS)
}

/// A node operator's deck: the coordinator first confirms the caller acts for the
/// participant, then the participant's own credentials come from the incident config.
pub(super) async fn deck(
    config: &Path,
    join: &JoinArgs,
    participant: Option<&str>,
    patience: Duration,
) -> Result<(Deck, IncidentConfig), Fail> {
    let client = connect(join, patience)?;
    let hello = client.hello(participant).await?;
    check_operator(&hello, join)?;
    let participant = participant
        .map(str::to_string)
        .or_else(|| hello.participant.clone())
        .ok_or_else(|| Fail(format!("{} acts for no participant in this session", hello.operator)))?;
    let cfg = IncidentConfig::load(config)?;
    check_incident(&hello, &cfg)?;
    let p = cfg.participant(&participant).ok_or_else(|| {
        Fail(format!(
            "the incident config {} has no participant {participant}: a deck holds its own participant's endpoints and credentials",
            config.display()
        ))
    })?;
    let api: Arc<dyn ParticipantApi> = Arc::new(GrpcParticipant::from_config(p)?);
    let deck = Deck::join(client, &participant, api, &p.admin).await?;
    Ok((deck, cfg))
}

async fn status(client: &SessionClient, join: &JoinArgs, format: Format) -> Outcome {
    let (hello, state, _) = client.log().await?;
    check_operator(&hello, join)?;
    let doing: BTreeMap<String, String> = state
        .plan_participants()
        .iter()
        .map(|p| (p.clone(), state.doing(p)))
        .collect();
    if is_json(format) {
        print_json(&json!({
            "you": {"operator": hello.operator, "role": hello.role, "participant": hello.participant},
            "session": state,
            "turn": state.turn(),
            "doing": doing,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    print_status(&hello, &state, &doing);
    Ok(ExitCode::SUCCESS)
}

fn print_status(hello: &Hello, state: &SessionState, doing: &BTreeMap<String, String>) {
    outln!(
        "incident {} ({} -> {}), log at seq {}; you are {} ({})",
        state.incident,
        state.lost,
        state.target,
        state.head_seq,
        hello.operator,
        hello.role
    );
    // The organisations compare this hash to know they follow the same log.
    outln!("head hash {}", state.head_hash);
    outln!("operators:");
    for o in state.operators.values() {
        outln!(
            "  {:<12} {:<14} {:<14} {}",
            o.name,
            o.role.as_str(),
            o.participant.as_deref().unwrap_or("-"),
            if o.present { "present" } else { "absent" }
        );
    }
    for (p, m) in &state.manifests {
        outln!("manifest {p}: {} contracts ({})", m.contracts.len(), m.holdings_digest);
    }
    match &state.proposal {
        Some(p) => {
            outln!("plan {} ({}, by {})", p.plan_hash, p.strategy, p.proposed_by);
            for name in &p.participants {
                let a = state
                    .approvals
                    .get(name)
                    .map(|a| format!("approved by {} at seq {}", a.operator, a.seq))
                    .unwrap_or_else(|| "not approved".into());
                outln!(
                    "  {name:<14} {a}; {}",
                    doing.get(name).map(String::as_str).unwrap_or("")
                );
            }
        }
        None => outln!("no plan proposed"),
    }
    for r in &state.payload_requests {
        let answer = match &r.answer {
            None => "open".to_string(),
            Some(a) if a.accepted => "shared".to_string(),
            Some(_) => "declined".to_string(),
        };
        outln!(
            "payload request seq {}: {} asked {} for {} ({answer})",
            r.seq,
            r.by,
            r.holder,
            r.contract_id
        );
    }
    let turn = state.turn();
    if turn.who.is_empty() {
        outln!("turn: {}", turn.what);
    } else {
        outln!("turn: {} — {}", turn.who.join(", "), turn.what);
    }
}

async fn compare(client: &SessionClient, join: &JoinArgs, format: Format) -> Outcome {
    let (hello, state, _) = client.log().await?;
    check_operator(&hello, join)?;
    let f = manifest::federated_comparison(&state.lost, &state.participants, &state.manifests, &state.answers)?;
    if is_json(format) {
        print_json(&f.comparison)?;
    } else {
        print_comparison(&f.comparison);
    }
    Ok(ExitCode::SUCCESS)
}

async fn plan_from_session(client: &SessionClient, join: &JoinArgs, args: &SessionPlanArgs, format: Format) -> Outcome {
    let hello = client.hello(None).await?;
    check_operator(&hello, join)?;
    let request = selection_request(&args.selection)?;
    let feed = Feed::start(client.clone(), &hello, None, false, Duration::from_secs(5));
    let build = |s: &SessionState| manifest::federated_comparison(&s.lost, &s.participants, &s.manifests, &s.answers);
    let waited = tokio::time::timeout(
        Duration::from_secs(args.wait),
        feed.until(|s| match build(s) {
            Err(ManifestError::Missing(_) | ManifestError::InspectionPending { .. }) => None,
            other => Some(other),
        }),
    )
    .await;
    let f = match waited {
        Ok(built) => built??,
        Err(_) => {
            let why = feed
                .until(|s| Some(build(s).err().map(|e| e.to_string())))
                .await?
                .unwrap_or_default();
            return Err(Fail(format!("after {}s the survey is incomplete: {why}", args.wait)));
        }
    };
    let incident = Incident {
        name: &hello.incident,
        lost: &hello.lost,
        target: &hello.target,
    };
    let plan =
        plan_from_parts(&f.comparison, &f.in_flight, &incident, &request, args.batch_size).map_err(|e| match e {
            ProposeError::Selection(e) => Fail(format!(
                "{e}\nDecide each listed row with --decide <ID>=exclude or --decide <ID>=purge, then plan again."
            )),
            other => Fail(other.to_string()),
        })?;
    let meta = RunbookMeta {
        created: jiff::Timestamp::now().to_string(),
        proposed_by: hello.operator.clone(),
    };
    let sidecar_file = crate::runbook_file::write(&args.out, &plan, &meta)?;
    let summary = PlanSummary::of(&plan);
    let out = json!({
        "plan_hash": plan.hash(),
        "runbook": args.out,
        "sidecar": sidecar_file,
        "strategy": summary.strategy,
        "moved": summary.moved,
        "excluded": plan.excluded().len(),
    });
    emit(format, &out, || {
        format!("{summary}\nrunbook {} ({})", args.out.display(), plan.hash())
    })
}

async fn propose(client: &SessionClient, join: &JoinArgs, runbook: &Path, format: Format) -> Outcome {
    let hello = client.hello(None).await?;
    check_operator(&hello, join)?;
    // Loading checks the hash (and the sidecar's digest) before anything is sent.
    let file = crate::runbook_file::read(runbook)?;
    let (toml, sidecar, loaded) = (file.toml, file.sidecar, file.loaded);
    let ack = client.propose(&toml, sidecar.as_deref()).await?;
    let out = json!({"proposed": loaded.plan.hash(), "ack": ack_json(&ack)});
    emit(format, &out, || {
        format!("proposed plan {} (seq {})", loaded.plan.hash(), ack.seq)
    })
}

async fn control(
    client: &SessionClient,
    join: &JoinArgs,
    action: ControlAction,
    reason: &str,
    format: Format,
) -> Outcome {
    let (hello, state, _) = client.log().await?;
    check_operator(&hello, join)?;
    let hash = state
        .plan_hash()
        .ok_or_else(|| Fail("no plan has been proposed in this session".into()))?;
    let ack = client.control(action, hash, reason).await?;
    let word = match action {
        ControlAction::Go => "go",
        ControlAction::Pause => "pause",
        _ => "abort",
    };
    let out = json!({"control": word, "plan_hash": hash, "ack": ack_json(&ack)});
    emit(format, &out, || format!("{word} for plan {hash} (seq {})", ack.seq))
}

fn describe(p: &exec::Progress) -> Option<String> {
    use exec::Progress as P;
    Some(match p {
        P::Preflight { problems, warnings } => super::engine::preflight_text(problems, warnings),
        P::PhaseStarted { phase, .. } => format!("phase {phase}: started"),
        P::PhaseDone { phase } => format!("phase {phase}: done"),
        P::PhaseSkipped { phase, reason } => format!("phase {phase}: {reason}"),
        P::StepFailed {
            phase,
            participant,
            failure: error,
        } => format!("phase {phase}: {participant} FAILED: {error}"),
        _ => return None,
    })
}

async fn run_part(deck: &Deck, journal: PathBuf) -> Outcome {
    let options = DeckOptions {
        journal: journal.clone(),
        heartbeat: Duration::from_secs(2),
        retry_delay: Duration::from_millis(250),
        shared_journal: None,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let me = deck.participant.clone();
    let printer = tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            if let Some(line) = describe(&p) {
                eprintln!("{me}: {line}");
            }
        }
    });
    eprintln!(
        "{} serving {} in session {} (journal {})",
        deck.hello.operator,
        deck.participant,
        deck.hello.incident,
        journal.display()
    );
    let served = deck.serve(&options, Some(tx)).await;
    printer.abort();
    match served {
        Ok(report) => {
            outln!("{}", serde_json::to_string(&report)?);
            Ok(if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Err(e) => {
            let report = exec::RunReport {
                ok: false,
                error: Some(e.to_string()),
                journal: journal.display().to_string(),
                ..Default::default()
            };
            outln!("{}", serde_json::to_string(&report)?);
            Err(Fail(e.to_string()))
        }
    }
}
