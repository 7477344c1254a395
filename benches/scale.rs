//! The headless commands an operator runs, on the `large` lab at 10^4, 10^5 and 10^6
//! contracts: wall time and peak resident memory of each, the runbook's size next to the
//! id list, and how each grows (issue "Scale", DESIGN §7).
//!
//! `cargo bench --bench scale` (10,000 and 100,000 contracts);
//! `BENCH_SIZES=10000,100000,1000000 cargo bench --bench scale` for the README's table.
//! `BENCH_DIVERGENCE=F` passes `--divergence F` to `lab up` (a `diverged`-style lab).
//!
//! Every command is the release binary run as a child process, exactly as an operator runs it
//! (`--progress off`, output to a file), under GNU `time` for its peak RSS (`%M`); without
//! `/usr/bin/time` the memory column stays empty.

mod support;

use serde_json::{Value, json};
use std::collections::HashSet;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Report, Samples};

const BIN: &str = env!("CARGO_BIN_EXE_recovery-deck");
const GNU_TIME: &str = "/usr/bin/time";

/// One command's cost.
struct Cost {
    wall: Duration,
    /// Peak resident set size in bytes, when GNU time could tell.
    peak_rss: Option<u64>,
}

/// A lab started by `lab up --detach`, stopped by `lab down` however the bench ends.
struct DetachedLab {
    dir: tempfile::TempDir,
}

impl Drop for DetachedLab {
    fn drop(&mut self) {
        let down = Command::new(BIN)
            .args(["lab", "down", "--dir"])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .status();
        if !matches!(down, Ok(s) if s.success()) {
            eprintln!("stopping the lab in {} failed: {down:?}", self.dir.path().display());
        }
    }
}

/// Runs `recovery-deck ARGS` in `cwd` with stdout to `out`, timed, under GNU time if present.
fn measure(cwd: &Path, args: &[&str], out: &Path) -> Cost {
    let rss_file = cwd.join(".peak-rss");
    let with_time = Path::new(GNU_TIME).exists();
    let mut cmd = if with_time {
        let mut c = Command::new(GNU_TIME);
        c.args(["-f", "%M", "-o"]).arg(&rss_file).arg(BIN);
        c
    } else {
        Command::new(BIN)
    };
    cmd.args(args)
        .args(["--progress", "off"])
        .current_dir(cwd)
        .stdout(File::create(out).expect("output file"))
        .stderr(Stdio::piped());
    let start = Instant::now();
    let done = cmd.output().expect("start recovery-deck");
    let wall = start.elapsed();
    assert!(
        done.status.success(),
        "recovery-deck {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&done.stderr)
    );
    let peak_rss = with_time
        .then(|| std::fs::read_to_string(&rss_file).ok())
        .flatten()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse::<u64>().ok()))
        .map(|kb| kb * 1024);
    Cost { wall, peak_rss }
}

fn mb(bytes: Option<u64>) -> Value {
    bytes.map_or(Value::Null, |b| json!((b as f64 / 1e6).round()))
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Contract ids of a `search --format json` output (one JSON array of contracts).
fn search_ids(path: &Path) -> Vec<String> {
    let reader = BufReader::new(File::open(path).expect("search output"));
    let v: Value = serde_json::from_reader(reader).expect("search output is JSON");
    let items = v
        .as_array()
        .cloned()
        .or_else(|| v.get("contracts").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    items
        .iter()
        .filter_map(|c| c.get("contract_id").or_else(|| c.get("id")).and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// Bytes of the id list a runbook stands against: every contract id of the comparison once,
/// one per line.
fn id_list_bytes(ids: &HashSet<String>) -> u64 {
    ids.iter().map(|id| id.len() as u64 + 1).sum()
}

/// Bytes of the runbook and of the sidecar `plan` names in its JSON output.
fn runbook_bytes(dir: &Path, runbook: &Path, plan_out: &Path) -> u64 {
    let planned: Value = std::fs::read(plan_out)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let sidecar = planned
        .get("sidecar")
        .and_then(Value::as_str)
        .map_or(0, |s| file_len(&dir.join(s)));
    file_len(runbook) + sidecar
}

fn participants(dir: &Path) -> Vec<String> {
    let config = std::fs::read_to_string(dir.join("incident.toml")).expect("incident.toml");
    let v: toml::Value = toml::from_str(&config).expect("incident.toml parses");
    v.get("participants")
        .and_then(|p| p.as_array())
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p.get("name").and_then(|n| n.as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn add(report: &mut Report, name: &str, n: usize, cost: &Cost, extra: Value) {
    let mut s = Samples::new();
    s.push(cost.wall);
    let mut fields = json!({"peak_rss_mb": mb(cost.peak_rss)});
    if let (Some(obj), Value::Object(more)) = (fields.as_object_mut(), extra) {
        obj.extend(more);
    }
    report.add(name, n as u64, "contracts", s, fields);
}

fn at_size(report: &mut Report, n: usize, divergence: Option<&str>, rows: &mut Vec<Value>) {
    let lab = DetachedLab {
        dir: tempfile::Builder::new()
            .prefix("bench-scale-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("lab directory"),
    };
    let dir = lab.dir.path().to_path_buf();
    let n_arg = n.to_string();
    let mut up: Vec<&str> = vec![
        "lab",
        "up",
        "--scenario",
        "large",
        "--contracts",
        &n_arg,
        "--detach",
        "--dir",
    ];
    let dir_arg = dir.to_string_lossy().to_string();
    up.push(&dir_arg);
    if let Some(f) = divergence {
        up.extend(["--divergence", f]);
    }
    eprintln!("--- lab up with {n} contracts");
    let staged = measure(&dir, &up, &dir.join("lab-up.out"));
    add(report, &format!("lab_up/{n}"), n, &staged, json!({}));

    let mut ids = HashSet::new();
    let mut search_cost = Vec::new();
    for p in participants(&dir) {
        let out = dir.join(format!("search-{p}.json"));
        let cost = measure(
            &dir,
            &[
                "--format",
                "json",
                "search",
                "--participant",
                &p,
                "--synchronizer",
                "lostDomain",
            ],
            &out,
        );
        let found = search_ids(&out);
        add(
            report,
            &format!("search/{p}/{n}"),
            found.len(),
            &cost,
            json!({"output_bytes": file_len(&out)}),
        );
        search_cost.push((found.len(), cost));
        ids.extend(found);
    }
    let compare_out = dir.join("compare.json");
    let compared = measure(&dir, &["--format", "json", "compare"], &compare_out);
    add(
        report,
        &format!("compare/{n}"),
        ids.len(),
        &compared,
        json!({"rows": ids.len()}),
    );

    let runbook = dir.join("scale.runbook.toml");
    let rb = runbook.to_string_lossy().to_string();
    let plan_out = dir.join("plan.json");
    let planned = measure(
        &dir,
        &["--format", "json", "plan", "--strategy", "intersection", "--out", &rb],
        &plan_out,
    );
    let (rb_bytes, id_bytes) = (runbook_bytes(&dir, &runbook, &plan_out), id_list_bytes(&ids));
    let over = (rb_bytes as f64 / id_bytes.max(1) as f64 * 1000.0).round() / 1000.0;
    add(
        report,
        &format!("plan_intersection/{n}"),
        ids.len(),
        &planned,
        json!({"runbook_bytes": rb_bytes, "id_list_bytes": id_bytes, "runbook_over_id_list": over}),
    );

    let journal = dir.join("scale.run.journal.jsonl");
    let ran = measure(
        &dir,
        &["run", &rb, "--yes", "--journal", &journal.to_string_lossy()],
        &dir.join("run.out"),
    );
    add(report, &format!("run_yes/{n}"), ids.len(), &ran, json!({}));

    let (search_n, search) = search_cost
        .iter()
        .max_by_key(|(found, _)| *found)
        .map(|(found, c)| (*found, Some(c)))
        .unwrap_or((0, None));
    rows.push(json!({
        "contracts": n,
        "rows": ids.len(),
        "lab_up_s": secs(staged.wall),
        "search_largest_participant": {"contracts": search_n, "s": search.map(|c| secs(c.wall)), "peak_rss_mb": mb(search.and_then(|c| c.peak_rss))},
        "compare": {"s": secs(compared.wall), "peak_rss_mb": mb(compared.peak_rss)},
        "plan": {"s": secs(planned.wall), "peak_rss_mb": mb(planned.peak_rss), "runbook_over_id_list": over},
        "run": {"s": secs(ran.wall), "peak_rss_mb": mb(ran.peak_rss)},
    }));
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 10.0).round() / 10.0
}

fn main() {
    let smoke = !support::is_bench_run();
    let sizes = if smoke {
        vec![600]
    } else {
        support::env_sizes("BENCH_SIZES", &[10_000, 100_000])
    };
    let divergence = std::env::var("BENCH_DIVERGENCE").ok();
    let mut report = Report::new("scale");
    let mut rows = Vec::new();
    for n in sizes {
        at_size(&mut report, n, divergence.as_deref(), &mut rows);
    }
    report.print();
    // How each figure grows from one size to the next (1.0 = linear in the contracts).
    for pair in rows.windows(2) {
        let growth = |key: &str| {
            let at = |r: &Value| r.get(key).and_then(|v| v.get("s").or(Some(v))).and_then(Value::as_f64);
            let (a, b) = (at(&pair[0])?, at(&pair[1])?);
            let (na, nb) = (pair[0]["contracts"].as_f64()?, pair[1]["contracts"].as_f64()?);
            Some(((b / a) / (nb / na) * 100.0).round() / 100.0)
        };
        println!(
            "{}",
            json!({"bench": "scale", "name": "growth_over_linear", "from": pair[0]["contracts"], "to": pair[1]["contracts"],
                "lab_up": growth("lab_up_s"), "compare": growth("compare"), "plan": growth("plan"), "run": growth("run")})
        );
    }
    for r in rows {
        println!("{}", json!({"bench": "scale", "name": "table_row", "row": r}));
    }
}
