//! A sidecar read line by line, never whole, with every byte hashed on the way: the digest
//! the runbook pins is checked against exactly the bytes that were parsed.

use std::io::BufRead;

use sha2::{Digest as _, Sha256};

use super::RunbookError;
use crate::plan::hash::render;

pub(super) struct HashedLines<'r> {
    file: String,
    reader: &'r mut dyn BufRead,
    hasher: Sha256,
    buf: Vec<u8>,
    line: usize,
}

impl<'r> HashedLines<'r> {
    pub fn new(file: &str, reader: &'r mut dyn BufRead) -> Self {
        Self {
            file: file.to_owned(),
            reader,
            hasher: Sha256::new(),
            buf: Vec::with_capacity(256),
            line: 0,
        }
    }

    /// The next line without its `\n`, or `None` at the end of the file.
    pub fn next_line(&mut self) -> Result<Option<&str>, RunbookError> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| RunbookError::Io(format!("reading {}: {e}", self.file)))?;
        if n == 0 {
            return Ok(None);
        }
        self.hasher.update(&self.buf);
        self.line += 1;
        let bytes = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Some(text)),
            Err(_) => Err(RunbookError::SidecarSyntax {
                file: self.file.clone(),
                line: self.line,
                problem: "not UTF-8 text".into(),
            }),
        }
    }

    /// A syntax error at the line read last.
    pub fn error(&self, problem: impl Into<String>) -> RunbookError {
        RunbookError::SidecarSyntax {
            file: self.file.clone(),
            line: self.line.max(1),
            problem: problem.into(),
        }
    }

    /// Reads what is left and returns `sha256:<hex>` of the whole file.
    fn finish(mut self) -> Result<String, RunbookError> {
        let mut rest = [0u8; 64 * 1024];
        loop {
            let n = self
                .reader
                .read(&mut rest)
                .map_err(|e| RunbookError::Io(format!("reading {}: {e}", self.file)))?;
            if n == 0 {
                return Ok(render(self.hasher));
            }
            self.hasher.update(&rest[..n]);
        }
    }
}

/// Parses the sidecar `file` with `parse` and checks its digest against `pinned`. A file that
/// does not hash to the pinned digest is refused as changed, whatever else is wrong with it:
/// that is what the operator needs to hear first.
pub(super) fn verified<T>(
    file: &str,
    pinned: &str,
    reader: &mut dyn BufRead,
    parse: impl FnOnce(&mut HashedLines<'_>) -> Result<T, RunbookError>,
) -> Result<T, RunbookError> {
    let mut lines = HashedLines::new(file, reader);
    let parsed = parse(&mut lines);
    let actual = lines.finish()?;
    if actual != pinned {
        return Err(RunbookError::SidecarDigestMismatch {
            file: file.to_owned(),
            recorded: pinned.to_owned(),
            actual,
        });
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::text_digest;

    #[test]
    fn lines_are_hashed_whole_and_the_rest_is_drained() {
        let text = "a\nb\r\nc";
        let got = verified("f", &text_digest(text), &mut text.as_bytes(), |l| {
            let first = l.next_line()?.map(str::to_owned);
            Ok(first)
        });
        assert_eq!(got.unwrap().as_deref(), Some("a"));
        let err = verified("f", &text_digest("other"), &mut text.as_bytes(), |_| Ok(())).unwrap_err();
        assert!(matches!(err, RunbookError::SidecarDigestMismatch { .. }), "{err}");
    }

    #[test]
    fn a_changed_file_is_reported_as_changed_before_its_syntax() {
        let text = "ok\n\u{0}bad\n";
        let err = verified("f", &text_digest("ok\n"), &mut text.as_bytes(), |l| {
            l.next_line()?;
            l.next_line()?;
            Err::<(), _>(l.error("bad line"))
        })
        .unwrap_err();
        assert!(matches!(err, RunbookError::SidecarDigestMismatch { .. }), "{err}");
        let err = verified("f", &text_digest(text), &mut text.as_bytes(), |l| {
            l.next_line()?;
            l.next_line()?;
            Err::<(), _>(l.error("bad line"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "sidecar f line 2: bad line");
        let mut bytes: &[u8] = b"\xff\n";
        let err = HashedLines::new("f", &mut bytes).next_line().unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }
}
