//! The sidecar file for large plans: named sections of sorted contract ids, one per line.
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

use crate::reconcile::{ContractId, is_valid_contract_id};

use super::RunbookError;

pub(super) const MAGIC: &str = "# recovery-deck contract-id sidecar v1";
const SECTION: &str = "@section ";

pub(super) struct SidecarWriter {
    text: String,
}

impl SidecarWriter {
    pub fn new(plan_hash: &str) -> Self {
        Self {
            text: format!("{MAGIC}\n# plan {plan_hash}\n"),
        }
    }

    pub fn section(&mut self, name: &str, ids: &[ContractId]) {
        self.text
            .reserve(ids.iter().map(|i| i.len() + 1).sum::<usize>() + name.len() + 10);
        self.text.push_str(SECTION);
        self.text.push_str(name);
        self.text.push('\n');
        for id in ids {
            self.text.push_str(id);
            self.text.push('\n');
        }
    }

    pub fn finish(self) -> String {
        self.text
    }
}

pub(super) fn parse(file: &str, text: &str) -> Result<HashMap<String, Vec<String>>, RunbookError> {
    let syntax = |line: usize, problem: String| RunbookError::SidecarSyntax {
        file: file.to_owned(),
        line,
        problem,
    };
    let mut lines = text.lines().enumerate();
    if lines.next().map(|(_, l)| l) != Some(MAGIC) {
        return Err(syntax(1, format!("the first line must be {MAGIC:?}")));
    }
    let mut sections: HashMap<String, Vec<String>> = HashMap::new();
    let mut current: Option<String> = None;
    for (n, line) in lines {
        if line.is_empty() || line.starts_with("# ") {
            continue;
        }
        if let Some(name) = line.strip_prefix(SECTION) {
            if sections.contains_key(name) {
                return Err(syntax(n + 1, format!("section {name:?} appears twice")));
            }
            sections.insert(name.to_owned(), Vec::new());
            current = Some(name.to_owned());
            continue;
        }
        if !is_valid_contract_id(line) {
            return Err(syntax(
                n + 1,
                format!("{line:?} is neither a contract id nor a section header"),
            ));
        }
        match current.as_ref().and_then(|c| sections.get_mut(c)) {
            Some(ids) => ids.push(line.to_owned()),
            None => return Err(syntax(n + 1, "contract id before the first section".into())),
        }
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_sections_parse_back() {
        let mut w = SidecarWriter::new("sha256:00");
        w.section("a.0", &["c1".into(), "c2".into()]);
        w.section("b", &[]);
        let text = w.finish();
        assert!(text.starts_with(MAGIC));
        let s = parse("f", &text).unwrap();
        assert_eq!(s["a.0"], ["c1", "c2"]);
        assert!(s["b"].is_empty());
    }

    #[test]
    fn malformed_sidecars_are_refused_with_the_line() {
        let err = parse("f.txt", "hello\n").unwrap_err();
        assert!(err.to_string().contains("f.txt line 1"), "{err}");
        let err = parse("f", &format!("{MAGIC}\nc1\n")).unwrap_err();
        assert!(err.to_string().contains("before the first section"), "{err}");
        let err = parse("f", &format!("{MAGIC}\n@section a\n@section a\n")).unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
        let err = parse("f", &format!("{MAGIC}\n@section a\nbad id\n")).unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
    }
}
