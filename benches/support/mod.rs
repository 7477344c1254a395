//! A small benchmark harness shared by the bench targets: warm-up, repeated runs, median /
//! min / max and throughput, printed as a table and as one JSON line per measurement.
//!
//! Written here rather than pulled in (criterion) because the lab bench measures async work
//! against child processes whose state changes between runs, which does not fit a
//! closure-per-iteration API, and because the numbers are meant to be pasted into notes.

// Each bench target uses part of this module.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// How often to run a measurement.
#[derive(Clone, Copy, Debug)]
pub struct Reps {
    pub warmup: u32,
    /// Runs at least this many times...
    pub min_runs: u32,
    /// ...and keeps going up to `max_runs` while the measurement has used less than `budget`.
    pub max_runs: u32,
    pub budget: Duration,
}

impl Reps {
    pub const fn new(warmup: u32, min_runs: u32, max_runs: u32, budget_secs: u64) -> Reps {
        Reps {
            warmup,
            min_runs,
            max_runs,
            budget: Duration::from_secs(budget_secs),
        }
    }

    /// Exactly one run, no warm-up (for work that changes state or takes minutes).
    pub const fn once() -> Reps {
        Reps::new(0, 1, 1, 0)
    }
}

/// Timings of one measurement.
#[derive(Clone, Debug, Default)]
pub struct Samples(Vec<Duration>);

impl Samples {
    pub fn new() -> Samples {
        Samples::default()
    }

    pub fn push(&mut self, d: Duration) {
        self.0.push(d);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    fn sorted(&self) -> Vec<Duration> {
        let mut v = self.0.clone();
        v.sort_unstable();
        v
    }

    pub fn median(&self) -> Duration {
        let v = self.sorted();
        match v.len() {
            0 => Duration::ZERO,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2,
        }
    }

    pub fn min(&self) -> Duration {
        self.0.iter().copied().min().unwrap_or_default()
    }

    pub fn max(&self) -> Duration {
        self.0.iter().copied().max().unwrap_or_default()
    }

    pub fn total(&self) -> Duration {
        self.0.iter().sum()
    }
}

/// Times `f` according to `reps`; returns the samples and the last result.
pub fn run<T>(reps: Reps, mut f: impl FnMut() -> T) -> (Samples, T) {
    for _ in 0..reps.warmup {
        std::hint::black_box(f());
    }
    let mut samples = Samples::new();
    let mut last;
    loop {
        let start = Instant::now();
        last = std::hint::black_box(f());
        samples.push(start.elapsed());
        let n = samples.len() as u32;
        if n >= reps.max_runs || (n >= reps.min_runs && samples.total() >= reps.budget) {
            break;
        }
        drop(last);
    }
    (samples, last)
}

/// [`run`] for async work.
pub async fn run_async<T, F, Fut>(reps: Reps, mut f: F) -> (Samples, T)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    for _ in 0..reps.warmup {
        std::hint::black_box(f().await);
    }
    let mut samples = Samples::new();
    loop {
        let start = Instant::now();
        let last = std::hint::black_box(f().await);
        samples.push(start.elapsed());
        let n = samples.len() as u32;
        if n >= reps.max_runs || (n >= reps.min_runs && samples.total() >= reps.budget) {
            return (samples, last);
        }
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

struct Line {
    name: String,
    n: u64,
    samples: Samples,
    /// What one item is (rows, contracts); throughput is items per second of the median.
    unit: &'static str,
    extra: Value,
}

/// Collects measurements; prints each as it arrives (stderr) and all at the end (stdout).
pub struct Report {
    bench: &'static str,
    lines: Vec<Line>,
    values: Vec<Value>,
}

impl Report {
    pub fn new(bench: &'static str) -> Report {
        Report {
            bench,
            lines: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Records a timing of `n` items (throughput = n / median).
    pub fn add(&mut self, name: &str, n: u64, unit: &'static str, samples: Samples, extra: Value) {
        let line = Line {
            name: name.to_string(),
            n,
            samples,
            unit,
            extra,
        };
        let json = self.timing_json(&line);
        eprintln!("  {json}");
        self.values.push(json);
        self.lines.push(line);
    }

    /// Times `f` and records it.
    pub fn time<T>(&mut self, name: &str, n: u64, unit: &'static str, reps: Reps, f: impl FnMut() -> T) -> T {
        let (samples, last) = run(reps, f);
        self.add(name, n, unit, samples, Value::Null);
        last
    }

    /// Records a figure that is not a timing (memory, a ratio): printed as JSON with the rest.
    pub fn figure(&mut self, name: &str, fields: Value) {
        let mut v = json!({"bench": self.bench, "name": name});
        if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), fields) {
            obj.extend(more);
        }
        eprintln!("  {v}");
        self.values.push(v);
    }

    fn timing_json(&self, l: &Line) -> Value {
        let median = l.samples.median();
        let per_sec = if median.is_zero() {
            0.0
        } else {
            (l.n as f64 / median.as_secs_f64()).round()
        };
        let mut v = json!({
            "bench": self.bench,
            "name": l.name,
            "n": l.n,
            "unit": l.unit,
            "runs": l.samples.len(),
            "median_ms": ms(median),
            "min_ms": ms(l.samples.min()),
            "max_ms": ms(l.samples.max()),
            "per_sec": per_sec,
        });
        if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), &l.extra) {
            obj.extend(more.clone());
        }
        v
    }

    /// The table of timings, then every measurement as one JSON line.
    pub fn print(&self) {
        let width = self.lines.iter().map(|l| l.name.len()).max().unwrap_or(4).max(4);
        println!();
        println!(
            "{:<width$} {:>9} {:>4} {:>11} {:>11} {:>11} {:>14}",
            "name", "n", "runs", "median ms", "min ms", "max ms", "per second"
        );
        for l in &self.lines {
            let median = l.samples.median();
            let rate = if median.is_zero() {
                String::from("-")
            } else {
                format!("{:.0} {}", l.n as f64 / median.as_secs_f64(), l.unit)
            };
            println!(
                "{:<width$} {:>9} {:>4} {:>11.3} {:>11.3} {:>11.3} {:>14}",
                l.name,
                l.n,
                l.samples.len(),
                ms(median),
                ms(l.samples.min()),
                ms(l.samples.max()),
                rate
            );
        }
        println!();
        for v in &self.values {
            println!("{v}");
        }
    }
}

/// Resident set size of this process in bytes (`VmRSS` of `/proc/self/status`, which is
/// `/proc/self/statm`'s resident pages already multiplied by the page size).
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// `cargo bench` passes `--bench`; without it (`cargo test --benches`) the targets only
/// check that they still run, on tiny inputs.
pub fn is_bench_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// A `usize` from the environment, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// A comma-separated list of sizes from the environment, or `default`.
pub fn env_sizes(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|s| s.trim().replace('_', "").parse().ok())
                .collect::<Vec<usize>>()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_vec())
}
