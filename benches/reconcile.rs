//! The pure pipeline at scale: 2 participants × N contracts, from snapshots to a runbook and
//! back, plus the memory the aligned view adds (DESIGN §7, "Compare").
//!
//! `cargo bench --bench reconcile` (sizes: `BENCH_SIZES=1000,100000,1000000`, the default).

mod support;

use recovery_deck::lab::ids;
use recovery_deck::plan::{self, InFlight, Plan, PlanInput, RunbookMeta};
use recovery_deck::reconcile::{
    self, Comparison, ContractSummary, Decision, Digest, Inspection, InspectionResult, Interner, ParticipantSnapshot,
    SelectionRequest, Strategy,
};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use support::{Report, Reps};

const LOST: &str = "lostDomain";
const P1: &str = "participant1";
const P2: &str = "participant2";
/// What one real Iou's payload weighs in an export (create arguments, parties, template id).
const IOU_PAYLOAD_BYTES: u64 = 300;
/// One row in this many differs, in each of the four non-agreed ways in turn (1% in all).
const ODD_EVERY: usize = 100;

/// The synthetic incident and the ids of the rows that need operator decisions.
struct Incident {
    snapshots: Vec<ParticipantSnapshot>,
    archived: BTreeSet<String>,
    mismatched: Vec<String>,
}

/// Canton-shaped id: `00` + 64 hex discriminator + `ca10` + 64 hex suffix (134 characters).
fn contract_id(seed: &[u8; 32]) -> (String, Digest) {
    let suffix: Digest = Sha256::digest(seed).into();
    (format!("00{}ca10{}", hex::encode(seed), hex::encode(suffix)), suffix)
}

/// Rows in random id order (as a Ledger API stream may deliver them); every fourth odd row
/// is missing on one side, archived on one side, of different payload, or local to p1.
fn incident(n: usize) -> Incident {
    let mut interner = Interner::new();
    let party = |hint: &str, p: &str| ids::party_id(hint, p);
    let (alice, dave) = (party("Alice", P1), party("Dave", P1));
    let (bob, erin) = (party("Bob", P2), party("Erin", P2));
    let pairs = [
        interner.stakeholders([&alice, &bob]),
        interner.stakeholders([&dave, &erin]),
        interner.stakeholders([&bob, &dave]),
        interner.stakeholders([&erin, &alice]),
    ];
    let local = interner.stakeholders([&alice, &dave]);
    let templates = [
        interner.name("Iou:Iou"),
        interner.name("Iou:GetCash"),
        interner.name("Shop:Order"),
    ];
    let mut s1 = ParticipantSnapshot {
        participant: P1.into(),
        hosted_parties: [alice.clone(), dave.clone()].into(),
        contracts: Vec::with_capacity(n),
    };
    let mut s2 = ParticipantSnapshot {
        participant: P2.into(),
        hosted_parties: [bob.clone(), erin.clone()].into(),
        contracts: Vec::with_capacity(n),
    };
    let mut archived = BTreeSet::new();
    let mut mismatched = Vec::new();
    for i in 0..n {
        let seed: [u8; 32] = Sha256::digest((i as u64).to_le_bytes()).into();
        let (id, digest) = contract_id(&seed);
        let template = templates[i % 7 % templates.len()].clone();
        let c = |stakeholders, digest| ContractSummary::new(id.as_str(), template.clone(), stakeholders, digest);
        let shared = pairs[i % pairs.len()].clone();
        let odd = (i % ODD_EVERY == ODD_EVERY - 1).then_some(i / ODD_EVERY % 4);
        match odd {
            // Missing: only one side ever saw it.
            Some(0) if i % 2 == 0 => s1.contracts.push(c(shared, digest)),
            Some(0) => s2.contracts.push(c(shared, digest)),
            // Archived on p2, still active on p1.
            Some(1) => {
                s1.contracts.push(c(shared, digest));
                archived.insert(id.clone());
            }
            Some(2) => {
                let mut other = digest;
                other[0] ^= 0xff;
                s1.contracts.push(c(shared.clone(), digest));
                s2.contracts.push(c(shared, other));
                mismatched.push(id.clone());
            }
            Some(_) => s1.contracts.push(c(local.clone(), digest)),
            None => {
                s1.contracts.push(c(shared.clone(), digest));
                s2.contracts.push(c(shared, digest));
            }
        }
    }
    Incident {
        snapshots: vec![s1, s2],
        archived,
        mismatched,
    }
}

/// What the survey would record from InspectCommitmentContracts for these requests.
fn inspection(requests: &BTreeMap<String, Vec<reconcile::ContractId>>, archived: &BTreeSet<String>) -> Inspection {
    let mut ins = Inspection::new();
    for (participant, ids) in requests {
        for id in ids {
            let result = if archived.contains(&**id) {
                InspectionResult::Archived
            } else {
                InspectionResult::Unknown
            };
            ins.record(participant, id.clone(), result);
        }
    }
    ins
}

fn union_request(inc: &Incident) -> SelectionRequest {
    let mut req = SelectionRequest::new(Strategy::Union);
    for (k, id) in inc.archived.iter().enumerate() {
        let d = if k % 2 == 0 { Decision::Purge } else { Decision::Exclude };
        req = req.decide(id, d);
    }
    for id in &inc.mismatched {
        req = req.decide(id, Decision::Exclude);
    }
    req
}

fn build(cmp: &Comparison, req: &SelectionRequest, selection: &reconcile::Selection) -> Plan {
    let in_flight: BTreeMap<String, InFlight> = cmp
        .participants()
        .iter()
        .map(|p| (p.clone(), InFlight::default()))
        .collect();
    plan::build_plan(&PlanInput {
        incident: "bench",
        lost: LOST,
        target: "newDomain",
        participants: cmp.participants(),
        comparison: cmp,
        selection,
        request: req,
        batch_size: plan::DEFAULT_BATCH_SIZE,
        in_flight: &in_flight,
    })
    .expect("plan")
}

fn mib(bytes: u64) -> f64 {
    (bytes as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0
}

/// Resident memory of the snapshots and of the aligned view, measured on a fresh heap
/// before any timing loop has grown and cached it.
fn memory(report: &mut Report, n: usize) {
    let before = support::resident_bytes();
    let inc = incident(n);
    let with_snapshots = support::resident_bytes();
    let requests = reconcile::inspection_requests(&inc.snapshots).expect("requests");
    let ins = inspection(&requests, &inc.archived);
    let with_inspection = support::resident_bytes();
    let cmp = reconcile::compare(LOST, &inc.snapshots, &ins).expect("compare");
    let with_comparison = support::resident_bytes();
    let rows = cmp.len() as u64;
    let held: u64 = inc.snapshots.iter().map(|s| s.contracts.len() as u64).sum();
    let snapshots = with_snapshots.saturating_sub(before);
    let comparison = with_comparison.saturating_sub(with_inspection);
    let per_row = |b: u64| (b as f64 / rows as f64).round();
    // The exports of both participants carry one payload per held contract.
    let raw_payload = held * IOU_PAYLOAD_BYTES;
    let resident = snapshots + comparison;
    report.figure(
        "memory",
        json!({
            "n": n,
            "rows": rows,
            "held_contracts": held,
            "snapshots_bytes": snapshots,
            "snapshots_bytes_per_row": per_row(snapshots),
            "comparison_bytes": comparison,
            "comparison_bytes_per_row": per_row(comparison),
            "snapshots_plus_comparison_bytes_per_row": per_row(resident),
            "iou_payload_bytes_per_contract": IOU_PAYLOAD_BYTES,
            "raw_payload_bytes": raw_payload,
            "resident_over_raw_payload": (resident as f64 / raw_payload as f64 * 1000.0).round() / 1000.0,
            "target_max_ratio": 2.0,
        }),
    );
    eprintln!(
        "memory at {n}: snapshots {} MiB, comparison {} MiB ({} B/row); raw payload of both exports {} MiB",
        mib(snapshots),
        mib(comparison),
        per_row(comparison),
        mib(raw_payload)
    );
    drop((cmp, ins, requests, inc));
}

fn bench_size(report: &mut Report, n: usize, reps: Reps, smoke: bool) {
    eprintln!("--- {n} contracts per participant");
    let inc = incident(n);
    let rows_in = n as u64;
    let requests = report.time(&format!("inspection_requests/{n}"), rows_in, "rows", reps, || {
        reconcile::inspection_requests(&inc.snapshots).expect("requests")
    });
    let ins = inspection(&requests, &inc.archived);
    let cmp = report.time(&format!("compare/{n}"), rows_in, "rows", reps, || {
        reconcile::compare(LOST, &inc.snapshots, &ins).expect("compare")
    });
    let rows = cmp.len() as u64;
    let counts: BTreeMap<&str, usize> = cmp.counts().iter().map(|(c, k)| (c.as_str(), k)).collect();
    report.figure("classes", json!({"n": n, "rows": rows, "counts": counts}));

    // The comparison file a journal pins for the screen's survey (gzip JSON lines), and
    // reading it back into the same comparison (what a playback does).
    let hosted: BTreeMap<String, BTreeSet<String>> = inc
        .snapshots
        .iter()
        .map(|s| (s.participant.clone(), s.hosted_parties.clone()))
        .collect();
    let payload = |i: usize, id: &str| {
        Some(json!({"payer": "Alice", "id": id, "amount": {"value": format!("{i}00.0"), "currency": "USD"}}))
    };
    let file = report.time(&format!("comparison_file_write/{n}"), rows, "rows", reps, || {
        let mut out = Vec::new();
        recovery_deck::journal::snapshot::write(&cmp, &hosted, &payload, &mut out).expect("write");
        out
    });
    report.figure(
        "comparison_file_size",
        json!({"n": n, "rows": rows, "bytes": file.len(), "bytes_per_row": file.len() as f64 / rows as f64}),
    );
    let back = report.time(&format!("comparison_file_read/{n}"), rows, "rows", reps, || {
        let reader = recovery_deck::journal::snapshot::SnapshotReader::open(file.as_slice()).expect("open");
        recovery_deck::journal::snapshot::to_comparison(reader).expect("read")
    });
    assert!(back == cmp, "the comparison file rebuilds the comparison");
    drop((back, file));

    let inter = SelectionRequest::new(Strategy::Intersection);
    let sel_inter = report.time(&format!("select_intersection/{n}"), rows, "rows", reps, || {
        reconcile::select(&cmp, &inter).expect("select")
    });
    let union = union_request(&inc);
    let sel_union = report.time(&format!("select_union_decided/{n}"), rows, "rows", reps, || {
        reconcile::select(&cmp, &union).expect("select")
    });
    report.time(&format!("build_plan_intersection+hash/{n}"), rows, "rows", reps, || {
        build(&cmp, &inter, &sel_inter)
    });
    let plan = report.time(&format!("build_plan_union+hash/{n}"), rows, "rows", reps, || {
        build(&cmp, &union, &sel_union)
    });
    let meta = RunbookMeta {
        created: "2026-01-01T00:00:00Z".into(),
        proposed_by: "bench".into(),
    };
    // Unique ids, one per line: what the runbook and its sidecar are measured against.
    let id_list_bytes: usize = cmp.rows().iter().map(|r| r.contract_id().len() + 1).sum();
    let sizes = |plan: &Plan| {
        let (runbook, sidecar) = write_runbook(plan, &meta);
        (runbook.len(), sidecar.map_or(0, |s| s.len()))
    };
    let (runbook, sidecar) = report.time(&format!("write_runbook_union/{n}"), rows, "rows", reps, || {
        write_runbook(&plan, &meta)
    });
    let text = String::from_utf8(runbook).expect("UTF-8 runbook");
    let inter_plan = build(&cmp, &inter, &sel_inter);
    let (inter_toml, inter_sidecar) = sizes(&inter_plan);
    let sidecar_bytes = sidecar.as_ref().map_or(0, Vec::len);
    let ratio = |a: usize, b: usize| ((a + b) as f64 / id_list_bytes as f64 * 1000.0).round() / 1000.0;
    report.figure(
        "runbook_size",
        json!({
            "n": n,
            "ids": rows,
            "id_list_bytes": id_list_bytes,
            "union_toml_bytes": text.len(),
            "union_sidecar_bytes": sidecar_bytes,
            "union_over_id_list": ratio(text.len(), sidecar_bytes),
            "intersection_toml_bytes": inter_toml,
            "intersection_sidecar_bytes": inter_sidecar,
            "intersection_over_id_list": ratio(inter_toml, inter_sidecar),
            "target_max_ratio": 1.2,
        }),
    );
    eprintln!(
        "runbook at {n}: ids {} MiB; union runbook {} MiB + sidecar {} MiB = {}x",
        mib(id_list_bytes as u64),
        mib(text.len() as u64),
        mib(sidecar_bytes as u64),
        ratio(text.len(), sidecar_bytes)
    );
    let loaded = report.time(&format!("read_runbook_union/{n}"), rows, "rows", reps, || {
        let mut reader = sidecar
            .as_deref()
            .map(|s| std::io::BufReader::with_capacity(1 << 16, s));
        plan::load_runbook_from(&text, reader.as_mut().map(|r| r as &mut dyn std::io::BufRead)).expect("load")
    });
    assert_eq!(loaded.plan.hash(), plan.hash(), "the runbook round-trips");
    if smoke {
        assert!(sidecar.is_some(), "a plan this size uses the sidecar");
    }
}

/// The runbook and its sidecar written as `plan` writes them, into memory.
fn write_runbook(plan: &Plan, meta: &RunbookMeta) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut w = plan::RunbookWriter::new(plan, meta).expect("writer");
    let sidecar = w.sidecar_file_name().is_some().then(|| {
        let mut out = Vec::new();
        w.write_sidecar(&mut out).expect("sidecar");
        out
    });
    let mut runbook = Vec::new();
    w.write_runbook(&mut runbook).expect("runbook");
    (runbook, sidecar)
}

fn main() {
    let bench = support::is_bench_run();
    let sizes = if bench {
        support::env_sizes("BENCH_SIZES", &[1_000, 100_000, 1_000_000])
    } else {
        vec![1_000]
    };
    let mut report = Report::new("reconcile");
    // First, on a heap nothing has touched yet.
    if let Some(&largest) = sizes.iter().max() {
        memory(&mut report, largest);
    }
    for &n in &sizes {
        let reps = match (bench, n) {
            (false, _) => Reps::once(),
            (true, ..=10_000) => Reps::new(3, 10, 200, 2),
            (true, ..=200_000) => Reps::new(1, 5, 30, 5),
            (true, _) => Reps::new(1, 3, 5, 10),
        };
        bench_size(&mut report, n, reps, !bench);
    }
    report.print();
}
