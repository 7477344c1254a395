//! `report JOURNAL [--out FILE] [--force]`: the incident report of a session.

use super::{Fail, Outcome, emit};
use crate::cli::ReportArgs;
use crate::journal::{Seal, report};
use std::process::ExitCode;

pub fn run(args: &ReportArgs) -> Outcome {
    let loaded = report::load(&args.journal)?;
    let problems = loaded.integrity.problems();
    if let Some(first) = problems.first() {
        if !args.force {
            let more = match problems.len() {
                1 => String::new(),
                n => format!(" ({} more problem(s))", n - 1),
            };
            return Err(Fail(format!(
                "refusing to report: {first}{more}. Pass --force to render what verified under a warning"
            )));
        }
        for p in &problems {
            eprintln!("warning: {p}");
        }
    }
    if loaded.journal.seal() == Seal::Unsealed && loaded.integrity.broken.is_none() {
        eprintln!(
            "note: {} is not sealed: the session did not end cleanly (a crash, or it is still running), or the file was cut at a line boundary",
            args.journal.display()
        );
    }
    let text = report::render(&loaded.input(env!("CARGO_PKG_VERSION")));
    match &args.out {
        Some(path) => {
            crate::private_file::write_atomically(path, text.as_bytes())
                .map_err(|e| Fail(format!("writing {}: {e}", path.display())))?;
            eprintln!("report: {}", path.display());
        }
        None => emit(text.trim_end_matches('\n')),
    }
    Ok(ExitCode::SUCCESS)
}
