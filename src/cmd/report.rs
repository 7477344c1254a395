//! `report JOURNAL [--out FILE] [--force]`: the incident report of a session.

use super::{Fail, Outcome, emit};
use crate::cli::ReportArgs;
use crate::journal::{Seal, report};
use std::process::ExitCode;

pub fn run(args: &ReportArgs) -> Outcome {
    let loaded = report::load(&args.journal)?;
    trust(&loaded.integrity.problems(), args.force, "report", "render")?;
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

/// Refuses a recording with problems (the first named, with its line) unless forced; forced,
/// says each on standard error.
pub(super) fn trust(problems: &[String], force: bool, verb: &str, what: &str) -> Result<(), Fail> {
    let Some(first) = problems.first() else {
        return Ok(());
    };
    if !force {
        let more = match problems.len() {
            1 => String::new(),
            n => format!(" ({} more problem(s))", n - 1),
        };
        return Err(Fail(format!(
            "refusing to {verb}: {first}{more}. Pass --force to {what} what verified under a warning"
        )));
    }
    for p in problems {
        eprintln!("warning: {p}");
    }
    Ok(())
}
