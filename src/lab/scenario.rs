//! The scenarios a lab reproduces, driven over gRPC through the client library exactly
//! as an operator's tooling would:
//! - `seed`: participant1 hosts Alice, participant2 Bob; on lostDomain three Ious each
//!   way (payer Alice 100/120/140 USD, payer Bob 110/130/150 USD); newDomain registered
//!   but never connected; lostDomain lost.
//! - `diverged`: seed, plus one transaction from participant1 (Alice calls the 110 Iou,
//!   transfers the 130 Iou to Charlie, creates a 160 Iou for Bob) whose verdict reaches
//!   only participant1 before lostDomain dies, so participant2 still holds what
//!   participant1 archived and lacks what participant1 created; then participant2's
//!   operator, repairing by hand, adds a copy of the new 160 Iou with an edited amount
//!   (an ACCEPT import), so one row differs in payload.
//! - `reassigning`: seed, with newDomain connected as well (a migration under way) and
//!   two reassignments the loss cuts short: Alice unassigns the 100 Iou from lostDomain
//!   to newDomain and nobody assigns it; Alice creates a 170 Iou for Bob on newDomain,
//!   unassigns it to lostDomain and assigns it there, a verdict lostDomain delivers to
//!   participant1 only before it dies. participant1 holds the 170 Iou on lostDomain with
//!   reassignment counter 1; participant2 sees it unassigned from newDomain and never
//!   assigned. Both disconnect newDomain again (manual_connect).
//! - `large`: K participants (default 3) hosting two parties each, N Ious (default
//!   100,000) across the party pairs on lostDomain, created in bulk transactions, a
//!   fraction F of them (default 0) diverged as in `diverged` ([`large`]); newDomain
//!   registered; lostDomain lost. The scale and fault-drill workload.
//!
//! With `keep_lost` ([`LabOptions`]) lostDomain is not lost: it keeps running with the
//! participants connected, the state in which a recovery must be refused (it would fork
//! the ledger) unless forced. With `unvetted`, the named participants do not vet the
//! lab's DAR on newDomain when they first connect there.

use crate::client::{
    AcsEntry, Contract, DamlValue, GrpcParticipant, ImportMode, LedgerCommand, ParticipantApi, Submission,
    SynchronizerConfig,
};
use crate::config::{Incident, IncidentConfig, ParticipantConfig};
use crate::lab::dialect::Dialect;
use crate::lab::ids;
use crate::lab::node::NodeKind;
use crate::lab::supervisor::{Lab, LabError, Launcher, Layout, NodeSpec};
use crate::lab::templates;
use crate::value;
use crate::wire::lab::{
    ArmPartialDeliveryRequest, ContractBlob, synchronizer_control_client::SynchronizerControlClient,
};
use futures::StreamExt;
use prost::Message;
use std::path::Path;
use std::time::{Duration, Instant};

pub mod large;
mod reassigning;

pub use large::Shape;
pub use reassigning::{assign, unassign};

pub const LOST: &str = "lostDomain";
pub const TARGET: &str = "newDomain";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    Seed,
    Diverged,
    Reassigning,
    Large,
}

/// Default size of the `large` scenario.
pub const LARGE_DEFAULT: usize = 100_000;

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Seed => "seed",
            Scenario::Diverged => "diverged",
            Scenario::Reassigning => "reassigning",
            Scenario::Large => "large",
        }
    }

    /// The nodes of the scenario; `participants` counts those of `large` only.
    fn layout(self, participants: usize) -> Layout {
        let participant = |name: &str, parties: &[&str]| NodeSpec {
            name: name.into(),
            kind: NodeKind::Participant,
            parties: parties.iter().map(|p| p.to_string()).collect(),
            port: 0,
            ledger_port: 0,
            lost: false,
            unvetted_on: Vec::new(),
        };
        let synchronizer = |name: &str| NodeSpec {
            name: name.into(),
            kind: NodeKind::Synchronizer,
            parties: Vec::new(),
            port: 0,
            ledger_port: 0,
            lost: false,
            unvetted_on: Vec::new(),
        };
        let participants = match self {
            Scenario::Seed | Scenario::Reassigning => vec![
                participant("participant1", &["Alice"]),
                participant("participant2", &["Bob"]),
            ],
            Scenario::Diverged => vec![
                participant("participant1", &["Alice", "Charlie"]),
                participant("participant2", &["Bob"]),
            ],
            Scenario::Large => large::participants(participants)
                .iter()
                .map(|(name, parties)| {
                    let parties: Vec<&str> = parties.iter().map(String::as_str).collect();
                    participant(name, &parties)
                })
                .collect(),
        };
        let mut nodes = vec![synchronizer(LOST), synchronizer(TARGET)];
        nodes.extend(participants);
        Layout {
            scenario: self.name().into(),
            canton: Dialect::default(),
            enable_all_reassignments: false,
            nodes,
        }
    }
}

pub(crate) fn step(what: &str) -> impl Fn(crate::client::ClientError) -> LabError + '_ {
    move |e| LabError::Scenario(format!("{what}: {e}"))
}

/// The incident config pointing at a lab's participants.
pub fn incident_config(lab: &Lab) -> Result<IncidentConfig, LabError> {
    let mut participants = Vec::new();
    for n in lab.layout.nodes.iter().filter(|n| n.kind == NodeKind::Participant) {
        participants.push(ParticipantConfig {
            name: n.name.clone(),
            admin: lab.endpoint(&n.name)?,
            ledger: lab.ledger_endpoint(&n.name)?,
            tls_ca: None,
            tls_domain: None,
            token_file: None,
            token_env: None,
            operator: None,
            timeout_secs: None,
            repair_timeout_secs: None,
            stream_idle_secs: None,
            enable_all_ledger_api_reassignments: lab.layout.enable_all_reassignments,
        });
    }
    Ok(IncidentConfig {
        incident: Incident {
            name: format!("lab-{}", lab.layout.scenario),
            lost: LOST.into(),
            target: TARGET.into(),
        },
        participants,
    })
}

pub fn client(lab: &Lab, name: &str) -> Result<GrpcParticipant, LabError> {
    let cfg = incident_config(lab)?;
    let p = cfg
        .participant(name)
        .ok_or_else(|| LabError::Refused(format!("{name} is not a participant of this lab")))?;
    GrpcParticipant::from_config(p).map_err(|e| LabError::Scenario(e.to_string()))
}

/// How a lab is set up beyond its scenario.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// Size of the `large` scenario.
    pub contracts: usize,
    /// Participants of the `large` scenario (at least 2).
    pub participants: usize,
    /// Fraction of the `large` scenario's rows diverged, 0 ≤ F ≤ 1.
    pub divergence: f64,
    pub canton: Dialect,
    pub enable_all_reassignments: bool,
    /// lostDomain is not lost: it keeps running and the participants stay connected to it
    /// (a rehearsal of the refusal to recover from a synchronizer that still answers).
    pub keep_lost: bool,
    /// Participants that do not vet the lab's DAR on newDomain when they first connect to
    /// it (a package vetting drill: preflight must refuse what they would move there).
    pub unvetted: Vec<String>,
    /// Told the number of contracts each bulk transaction of the `large` scenario created.
    pub staged: Option<tokio::sync::mpsc::UnboundedSender<usize>>,
    /// `diverged`: this many more Ious (Alice pays Bob) created by the transaction whose
    /// verdict reaches participant1 only, each with a payload that does not compress —
    /// so that a union must import a snapshot larger than one ImportAcs message.
    pub diverged_extra: usize,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            contracts: LARGE_DEFAULT,
            participants: large::DEFAULT_PARTICIPANTS,
            divergence: 0.0,
            canton: Dialect::default(),
            enable_all_reassignments: false,
            keep_lost: false,
            unvetted: Vec::new(),
            staged: None,
            diverged_extra: 0,
        }
    }
}

/// Starts every node of `scenario` in `dir`, stages the scenario and writes
/// `incident.toml`. Returns the running lab.
pub async fn up(dir: &Path, scenario: Scenario, launcher: Launcher) -> Result<Lab, LabError> {
    up_with(dir, scenario, &LabOptions::default(), launcher).await
}

/// [`up`] for a `large` lab of `contracts` contracts.
pub async fn up_sized(dir: &Path, scenario: Scenario, contracts: usize, launcher: Launcher) -> Result<Lab, LabError> {
    let options = LabOptions {
        contracts,
        ..LabOptions::default()
    };
    up_with(dir, scenario, &options, launcher).await
}

pub async fn up_with(
    dir: &Path,
    scenario: Scenario,
    options: &LabOptions,
    launcher: Launcher,
) -> Result<Lab, LabError> {
    let dir = dir.to_path_buf();
    let shape = Shape {
        contracts: options.contracts,
        participants: options.participants,
        divergence: options.divergence,
    };
    if scenario == Scenario::Large {
        shape.validate().map_err(LabError::Refused)?;
        if options.keep_lost && shape.divergence > 0.0 {
            return Err(LabError::Refused(
                "--divergence needs lostDomain lost: it cannot go with --keep-lost".into(),
            ));
        }
    }
    let mut layout = scenario.layout(shape.participants);
    layout.canton = options.canton;
    layout.enable_all_reassignments = options.enable_all_reassignments;
    for name in &options.unvetted {
        let node = layout
            .nodes
            .iter_mut()
            .find(|n| &n.name == name && n.kind == NodeKind::Participant)
            .ok_or_else(|| {
                LabError::Refused(format!(
                    "--unvetted {name}: the {} scenario has no such participant",
                    scenario.name()
                ))
            })?;
        node.unvetted_on.push(TARGET.to_string());
    }
    let staged_to = options.staged.clone();
    let mut lab = tokio::task::spawn_blocking(move || -> Result<Lab, LabError> {
        let mut lab = Lab::create(&dir, layout, launcher)?;
        let names: Vec<String> = lab.layout.nodes.iter().map(|n| n.name.clone()).collect();
        for name in names {
            if let Err(e) = lab.start(&name) {
                let _ = lab.down();
                return Err(e);
            }
        }
        Ok(lab)
    })
    .await
    .map_err(|e| LabError::Io(e.to_string()))??;
    let staged = match scenario {
        Scenario::Large => large::stage(&mut lab, &shape, options.keep_lost, staged_to).await,
        _ => stage(&mut lab, scenario, options.diverged_extra, options.keep_lost).await,
    };
    if let Err(e) = staged {
        let _ = lab.down();
        return Err(e);
    }
    let cfg = incident_config(&lab)?;
    crate::private_file::write_atomically(&lab.incident_path(), cfg.to_toml().as_bytes())
        .map_err(|e| LabError::Io(format!("writing incident.toml: {e}")))?;
    Ok(lab)
}

async fn stage(lab: &mut Lab, scenario: Scenario, diverged_extra: usize, keep_lost: bool) -> Result<(), LabError> {
    let p1 = client(lab, "participant1")?;
    let p2 = client(lab, "participant2")?;
    // newDomain is registered ahead of the incident, kept from connecting until the recovery.
    connect_all(lab, &[&p1, &p2]).await?;
    let alice = ids::party_id("Alice", "participant1");
    let bob = ids::party_id("Bob", "participant2");
    for amount in ["100", "120", "140"] {
        submit(
            &p1,
            &alice,
            vec![templates::create_iou_command(&alice, &bob, amount, "USD")],
        )
        .await?;
    }
    for amount in ["110", "130", "150"] {
        submit(
            &p2,
            &bob,
            vec![templates::create_iou_command(&bob, &alice, amount, "USD")],
        )
        .await?;
    }
    let lost_id = ids::synchronizer_id(LOST);
    for p in [&p1, &p2] {
        wait_for_contracts(p, &lost_id, 6).await?;
    }
    if scenario == Scenario::Diverged {
        diverge(lab, &p1, &alice, &bob, diverged_extra).await?;
    }
    if scenario == Scenario::Reassigning {
        reassigning::cut_short(lab, &p1, &p2).await?;
    }
    if keep_lost {
        return Ok(());
    }
    let lab_ref = &mut *lab;
    lab_ref.lose(LOST)?;
    for p in [&p1, &p2] {
        wait_unhealthy(p, LOST).await?;
    }
    if scenario == Scenario::Diverged {
        hand_edited_copy(&p1, &p2).await?;
    }
    Ok(())
}

/// participant2's operator, repairing by hand after the loss, added a copy of the 160 Iou
/// it was missing — with an edited amount, through an ACCEPT-mode import (which checks no
/// contract id). The two participants now hold different payloads under one id. Left
/// disconnected from lostDomain, as that operator did.
async fn hand_edited_copy(p1: &GrpcParticipant, p2: &GrpcParticipant) -> Result<(), LabError> {
    let lost_id = ids::synchronizer_id(LOST);
    let iou160 = iou_with_amount(p1, &lost_id, "160").await?;
    let mut export = crate::client::export_at_ledger_end(p1, Some(&lost_id))
        .await
        .map_err(step("exporting from participant1"))?;
    let mut copy = None;
    while let Some(c) = export.next().await {
        let c = c.map_err(step("exporting from participant1"))?;
        if c.contract_id() == Some(iou160.as_str()) {
            copy = Some(c.into_wire());
        }
    }
    let mut copy = copy.ok_or_else(|| LabError::Scenario("participant1 exported no 160 Iou".into()))?;
    let event = copy
        .created_event
        .as_mut()
        .ok_or_else(|| LabError::Scenario("the 160 Iou has no created event".into()))?;
    let mut blob = ContractBlob::decode(event.created_event_blob.as_slice())
        .map_err(|e| LabError::Scenario(format!("the 160 Iou's blob: {e}")))?;
    let edited = templates::iou_arguments(&blob, "1600")
        .ok_or_else(|| LabError::Scenario("the 160 Iou has no amount".into()))?;
    blob.create_arguments = Some(edited.clone());
    event.create_arguments = Some(edited);
    event.created_event_blob = blob.encode_to_vec();
    p2.disconnect(LOST).await.map_err(step("participant2 disconnecting"))?;
    let one = futures::stream::iter([Ok(Contract::from_wire(copy))]).boxed();
    p2.import_acs(&lost_id, ImportMode::Accept, one)
        .await
        .map_err(step("participant2's hand-made import"))
}

/// Connects every participant to lostDomain and registers newDomain (manual_connect).
async fn connect_all(lab: &Lab, participants: &[&GrpcParticipant]) -> Result<(), LabError> {
    let lost_url = lab.endpoint(LOST)?;
    let target_url = lab.endpoint(TARGET)?;
    for p in participants {
        let ok = p
            .connect(SynchronizerConfig::new(LOST, &lost_url, false))
            .await
            .map_err(step("connecting to lostDomain"))?;
        if !ok {
            return Err(LabError::Scenario(format!("{} could not connect to {LOST}", p.name())));
        }
        p.register(SynchronizerConfig::new(TARGET, &target_url, true), false)
            .await
            .map_err(step("registering newDomain"))?;
    }
    Ok(())
}

async fn submit(p: &GrpcParticipant, act_as: &str, commands: Vec<LedgerCommand>) -> Result<(), LabError> {
    p.submit_and_wait(Submission {
        act_as: vec![act_as.to_string()],
        synchronizer_id: None,
        commands,
    })
    .await
    .map_err(step("submitting"))?;
    Ok(())
}

/// Ious on `synchronizer_id` whose amount is `amount`.
pub(crate) async fn iou_with_amount(
    p: &GrpcParticipant,
    synchronizer_id: &str,
    amount: &str,
) -> Result<String, LabError> {
    let end = p.ledger_end().await.map_err(step("ledger end"))?;
    let mut stream = p.active_contracts(end, false).await.map_err(step("reading the ACS"))?;
    let wanted = value::normalize_decimal(amount).unwrap_or_default();
    while let Some(c) = stream.next().await {
        let Some(c) = c.map_err(step("reading the ACS"))?.into_active() else {
            continue;
        };
        let c = c.into_wire();
        let Some(ev) = c.created_event else { continue };
        let is_iou = ev.template_id.as_ref().is_some_and(|t| t.entity_name == "Iou");
        let value = ev
            .create_arguments
            .as_ref()
            .and_then(|r| value::field(r, "amount"))
            .and_then(value::as_record)
            .and_then(|a| value::field(a, "value"))
            .and_then(value::as_numeric);
        if c.synchronizer_id == synchronizer_id && is_iou && value == Some(wanted.as_str()) {
            return Ok(ev.contract_id);
        }
    }
    Err(LabError::Scenario(format!("{} holds no {amount} Iou", p.name())))
}

/// A currency text that no compressor can shrink: 1 KiB of hash output, distinct per `i`.
fn noise(i: usize) -> String {
    (0..16u8)
        .map(|k| ids::sha256_hex(&[b"diverged-extra", &i.to_be_bytes(), &[k]]))
        .collect()
}

async fn diverge(lab: &Lab, p1: &GrpcParticipant, alice: &str, bob: &str, extra: usize) -> Result<(), LabError> {
    let lost_id = ids::synchronizer_id(LOST);
    let iou110 = iou_with_amount(p1, &lost_id, "110").await?;
    let iou130 = iou_with_amount(p1, &lost_id, "130").await?;
    let charlie = ids::party_id("Charlie", "participant1");
    let mut control = SynchronizerControlClient::connect(lab.endpoint(LOST)?)
        .await
        .map_err(|e| LabError::Scenario(format!("reaching lostDomain's control service: {e}")))?;
    control
        .arm_partial_delivery(ArmPartialDeliveryRequest {
            deliver_to: vec![ids::participant_member("participant1")],
            ..ArmPartialDeliveryRequest::default()
        })
        .await
        .map_err(|e| LabError::Scenario(format!("arming lostDomain: {}", e.message())))?;
    let new_owner = DamlValue::Record(vec![("newOwner".into(), DamlValue::Party(charlie))]);
    let mut commands = vec![
        templates::exercise_iou_command(&iou110, "Call", DamlValue::Unit),
        templates::exercise_iou_command(&iou130, "Transfer", new_owner),
        templates::create_iou_command(alice, bob, "160", "USD"),
    ];
    commands.extend((0..extra).map(|i| templates::create_iou_command(alice, bob, "1", &noise(i))));
    submit(p1, alice, commands).await
}

pub(crate) async fn wait_for_contracts(p: &GrpcParticipant, synchronizer_id: &str, n: usize) -> Result<(), LabError> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let end = p.ledger_end().await.map_err(step("ledger end"))?;
        let stream = p.active_contracts(end, false).await.map_err(step("reading the ACS"))?;
        let count = stream
            .filter(|c| {
                futures::future::ready(
                    c.as_ref()
                        .is_ok_and(|c| matches!(c, AcsEntry::Active(c) if c.synchronizer_id() == synchronizer_id)),
                )
            })
            .count()
            .await;
        if count >= n {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(LabError::Scenario(format!(
                "{} sees {count} contracts on {synchronizer_id}, expected {n}",
                p.name()
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_unhealthy(p: &GrpcParticipant, alias: &str) -> Result<(), LabError> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let connected = p.list_connected().await.map_err(step("listing connections"))?;
        if connected.iter().all(|c| c.alias != alias || !c.healthy) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(LabError::Scenario(format!(
                "{} still reports {alias} healthy",
                p.name()
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
