//! Progress of long work, on stderr so that stdout stays the command's output: a bar with
//! the count, rate and ETA on a terminal (indicatif), plain lines otherwise (a log, a pipe,
//! CI), at most one a second and one at the end. `lab up`, `search`, `compare`, `plan` and
//! `run` meter their work through this one type.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown; `--progress` on the command line, `auto` by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// A bar on a terminal, lines otherwise.
    Auto,
    Bar,
    Lines,
    Off,
}

static MODE: OnceLock<Mode> = OnceLock::new();

/// Sets the process's mode, once, before any meter starts.
pub fn set_mode(mode: Mode) {
    let _ = MODE.set(mode);
}

fn mode() -> Mode {
    match MODE.get().copied().unwrap_or(Mode::Auto) {
        Mode::Auto if std::io::stderr().is_terminal() => Mode::Bar,
        Mode::Auto => Mode::Lines,
        m => m,
    }
}

/// Plain lines are printed at most this often.
const LINE_EVERY: Duration = Duration::from_secs(1);

/// One piece of long work: `done` of `total` (when known) `unit`s.
pub struct Meter {
    label: String,
    unit: &'static str,
    total: Option<u64>,
    done: u64,
    start: Instant,
    out: Out,
}

enum Out {
    Bar(ProgressBar),
    Lines {
        sink: Box<dyn Write + Send>,
        every: Duration,
        last: Instant,
    },
    Off,
}

impl Meter {
    /// Starts a meter on stderr in the process's mode.
    pub fn start(label: impl Into<String>, unit: &'static str, total: Option<u64>) -> Meter {
        let out = match mode() {
            Mode::Bar => Out::Bar(bar(total)),
            Mode::Lines | Mode::Auto => Out::Lines {
                sink: Box::new(std::io::stderr()),
                every: LINE_EVERY,
                last: Instant::now(),
            },
            Mode::Off => Out::Off,
        };
        Meter::with(label.into(), unit, total, out)
    }

    /// A meter writing plain lines to `sink`, at most one per `every`.
    pub fn lines(
        label: impl Into<String>,
        unit: &'static str,
        total: Option<u64>,
        sink: Box<dyn Write + Send>,
        every: Duration,
    ) -> Meter {
        let out = Out::Lines {
            sink,
            every,
            last: Instant::now(),
        };
        Meter::with(label.into(), unit, total, out)
    }

    fn with(label: String, unit: &'static str, total: Option<u64>, out: Out) -> Meter {
        if let Out::Bar(b) = &out {
            b.set_prefix(label.clone());
            b.set_message(unit);
        }
        Meter {
            label,
            unit,
            total,
            done: 0,
            start: Instant::now(),
            out,
        }
    }

    pub fn set_total(&mut self, total: u64) {
        if self.total == Some(total) {
            return;
        }
        self.total = Some(total);
        if let Out::Bar(b) = &self.out {
            b.set_length(total);
            b.set_style(style(Some(total)));
        }
    }

    pub fn inc(&mut self, n: u64) {
        self.set(self.done.saturating_add(n));
    }

    pub fn set(&mut self, done: u64) {
        self.done = done;
        let line = match &mut self.out {
            Out::Bar(b) => {
                b.set_position(done);
                return;
            }
            Out::Lines { every, last, .. } if last.elapsed() >= *every => {
                *last = Instant::now();
                line(&self.label, self.unit, done, self.total, self.start.elapsed())
            }
            _ => return,
        };
        self.write(&line);
    }

    /// Ends the meter without a last line, for work that failed: its error is what the
    /// operator reads, alone.
    pub fn abandon(self) {
        if let Out::Bar(b) = &self.out {
            b.finish_and_clear();
        }
    }

    /// Ends the meter with a last line: what was done, in how long, at what rate.
    pub fn finish(mut self) {
        let elapsed = self.start.elapsed();
        match &self.out {
            Out::Bar(b) => b.finish_and_clear(),
            Out::Off => return,
            Out::Lines { .. } => {}
        }
        let text = done_line(&self.label, self.unit, self.done, elapsed);
        match &self.out {
            Out::Bar(_) => eprintln!("{text}"),
            _ => self.write(&text),
        }
    }

    fn write(&mut self, text: &str) {
        if let Out::Lines { sink, .. } = &mut self.out {
            // Progress is a courtesy: a closed stderr must not end the work.
            let _ = writeln!(sink, "{text}");
            let _ = sink.flush();
        }
    }
}

fn style(total: Option<u64>) -> ProgressStyle {
    let template = match total {
        Some(_) => "{prefix} [{bar:30}] {human_pos}/{human_len} {msg} ({per_sec}, ETA {eta})",
        None => "{spinner} {prefix} {human_pos} {msg} ({per_sec}, {elapsed})",
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn bar(total: Option<u64>) -> ProgressBar {
    let b = match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::no_length(),
    };
    b.set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
    b.set_style(style(total));
    b.enable_steady_tick(Duration::from_millis(250));
    b
}

fn rate(done: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { done as f64 / secs } else { 0.0 }
}

/// `label: done/total unit (P%), R/s, ETA S s` (without a total: `label: done unit, R/s`).
pub fn line(label: &str, unit: &str, done: u64, total: Option<u64>, elapsed: Duration) -> String {
    let per_sec = rate(done, elapsed);
    match total {
        Some(total) if total > 0 => {
            let pct = done.saturating_mul(100) / total;
            let eta = if per_sec > 0.0 {
                format!("{:.0} s", total.saturating_sub(done) as f64 / per_sec)
            } else {
                "?".to_string()
            };
            format!(
                "{label}: {}/{} {unit} ({pct}%), {}/s, ETA {eta}",
                count(done),
                count(total),
                count(per_sec as u64)
            )
        }
        _ => format!("{label}: {} {unit}, {}/s", count(done), count(per_sec as u64)),
    }
}

/// `label: done unit in S s (R/s)`.
pub fn done_line(label: &str, unit: &str, done: u64, elapsed: Duration) -> String {
    format!(
        "{label}: {} {unit} in {:.1} s ({}/s)",
        count(done),
        elapsed.as_secs_f64(),
        count(rate(done, elapsed) as u64)
    )
}

/// 1234567 -> `1,234,567`.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A sink the test reads back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("sink").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().expect("sink").clone()).expect("utf-8")
        }
    }

    #[test]
    fn lines_say_count_rate_and_eta() {
        let s = Duration::from_secs;
        assert_eq!(
            line("run move", "contracts", 250_000, Some(1_000_000), s(10)),
            "run move: 250,000/1,000,000 contracts (25%), 25,000/s, ETA 30 s"
        );
        assert_eq!(
            line("search participant1", "contracts", 12_345, None, s(2)),
            "search participant1: 12,345 contracts, 6,172/s"
        );
        assert_eq!(line("x", "ids", 0, Some(10), s(0)), "x: 0/10 ids (0%), 0/s, ETA ?");
        assert_eq!(
            done_line("compare", "contracts", 1_500, Duration::from_millis(500)),
            "compare: 1,500 contracts in 0.5 s (3,000/s)"
        );
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
    }

    #[test]
    fn plain_mode_prints_as_it_goes_and_a_last_line() {
        let sink = Shared::default();
        let mut m = Meter::lines("stage", "contracts", None, Box::new(sink.clone()), Duration::ZERO);
        m.inc(100);
        m.set_total(400);
        m.inc(100);
        m.finish();
        let text = sink.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("stage: 100 contracts, "), "{text}");
        assert!(lines[1].starts_with("stage: 200/400 contracts (50%), "), "{text}");
        assert!(lines[1].contains("ETA"), "{text}");
        assert!(lines[2].starts_with("stage: 200 contracts in "), "{text}");
    }

    #[test]
    fn plain_mode_prints_at_most_once_per_interval() {
        let sink = Shared::default();
        let mut m = Meter::lines(
            "survey",
            "contracts",
            None,
            Box::new(sink.clone()),
            Duration::from_secs(3600),
        );
        for _ in 0..1000 {
            m.inc(1);
        }
        m.finish();
        let text = sink.text();
        assert_eq!(text.lines().count(), 1, "only the last line: {text}");
        assert!(text.starts_with("survey: 1,000 contracts in "), "{text}");
    }
}
