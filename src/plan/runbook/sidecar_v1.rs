//! The sidecar of a version 1 runbook, read only (version 2 writes a contract table, see
//! `table`): named sections of sorted contract ids, one per line.
//!
//! ```text
//! # recovery-deck contract-id sidecar v1
//! # plan sha256:…
//! @section phases.4.steps.0
//! 00a1…
//! 00b7…
//! ```
//!
//! Contract ids never contain whitespace, so any line with a space is structure: `@section
//! NAME` starts a section, `# …` is a comment. Every other non-empty line is an id of the
//! current section. The runbook pins the whole file by its SHA-256 and each section's count.

use std::collections::HashMap;

use crate::reconcile::is_valid_contract_id;

use super::RunbookError;
use super::lines::HashedLines;

pub(super) const MAGIC: &str = "# recovery-deck contract-id sidecar v1";
const SECTION: &str = "@section ";

pub(super) fn parse(lines: &mut HashedLines<'_>) -> Result<HashMap<String, Vec<String>>, RunbookError> {
    if lines.next_line()? != Some(MAGIC) {
        return Err(lines.error(format!("the first line must be {MAGIC:?}")));
    }
    let mut sections: HashMap<String, Vec<String>> = HashMap::new();
    let mut current: Option<String> = None;
    while let Some(line) = lines.next_line()? {
        if line.is_empty() || line.starts_with("# ") {
            continue;
        }
        if let Some(name) = line.strip_prefix(SECTION) {
            if sections.contains_key(name) {
                let problem = format!("section {name:?} appears twice");
                return Err(lines.error(problem));
            }
            sections.insert(name.to_owned(), Vec::new());
            current = Some(name.to_owned());
            continue;
        }
        if !is_valid_contract_id(line) {
            let problem = format!("{line:?} is neither a contract id nor a section header");
            return Err(lines.error(problem));
        }
        let id = line.to_owned();
        match current.as_ref().and_then(|c| sections.get_mut(c)) {
            Some(ids) => ids.push(id),
            None => return Err(lines.error("contract id before the first section")),
        }
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<HashMap<String, Vec<String>>, RunbookError> {
        parse(&mut HashedLines::new("f.txt", &mut text.as_bytes()))
    }

    #[test]
    fn sections_parse() {
        let s = parse_text(&format!("{MAGIC}\n# plan x\n@section a.0\nc1\nc2\n\n@section b\n")).unwrap();
        assert_eq!(s["a.0"], ["c1", "c2"]);
        assert!(s["b"].is_empty());
    }

    #[test]
    fn malformed_sidecars_are_refused_with_the_line() {
        let err = parse_text("hello\n").unwrap_err();
        assert!(err.to_string().contains("f.txt line 1"), "{err}");
        let err = parse_text(&format!("{MAGIC}\nc1\n")).unwrap_err();
        assert!(err.to_string().contains("before the first section"), "{err}");
        let err = parse_text(&format!("{MAGIC}\n@section a\n@section a\n")).unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
        let err = parse_text(&format!("{MAGIC}\n@section a\nbad id\n")).unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
    }
}
