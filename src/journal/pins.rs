//! Files a journal pins by digest: what the screen showed and proposed, too large for a
//! journal line (a comparison of a million rows, a runbook with its sidecar). Each is
//! written once, content-addressed, into a directory beside the journal named after it
//! (`union.journal.jsonl` → `union.journal.pins/`), private to its owner; the event that
//! refers to one records its path relative to the journal's directory, its sha256 and its
//! size. A reader checks the digest before it trusts a byte of it.

use crate::private_file;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

/// A file the journal refers to by its digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pinned {
    /// Relative to the journal's directory, e.g. `union.journal.pins/runbook-<hex>.toml`.
    pub file: String,
    /// `sha256:<hex>` of the file's bytes.
    pub sha256: String,
    pub bytes: u64,
}

/// Why a pinned file cannot be trusted.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("pinned file {file} is missing")]
    Missing { file: String },
    #[error("pinned file {file} was changed: the journal pins {recorded}, the file hashes to {actual}")]
    Changed {
        file: String,
        recorded: String,
        actual: String,
    },
    #[error("pinned file {file:?} lies outside the journal's directory")]
    Outside { file: String },
    #[error("pinned file {file}: {source}")]
    Io { file: String, source: io::Error },
}

/// The directory the pinned files of the journal at `journal` go to.
pub fn pins_dir(journal: &Path) -> PathBuf {
    journal.with_file_name(format!("{}.pins", pins_stem(journal)))
}

fn pins_stem(journal: &Path) -> String {
    let name = journal
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "journal".into());
    name.strip_suffix(".jsonl").map(str::to_string).unwrap_or(name)
}

fn journal_dir(journal: &Path) -> &Path {
    match journal.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Where a pinned file is, refusing a path that would leave the journal's directory (a
/// journal from elsewhere must not make a reader open arbitrary files).
pub fn resolve(journal: &Path, pin: &Pinned) -> Result<PathBuf, PinError> {
    let rel = Path::new(&pin.file);
    if pin.file.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(PinError::Outside { file: pin.file.clone() });
    }
    Ok(journal_dir(journal).join(rel))
}

/// Writes a pinned file beside `journal`, named `<kind>-<hex>.<ext>`. A file of that name
/// already there holds the same bytes (the name is their digest); it is replaced by them.
pub fn pin_bytes(journal: &Path, kind: &str, ext: &str, bytes: &[u8]) -> io::Result<Pinned> {
    let mut w = PinWriter::create(journal, kind, ext)?;
    w.write_all(bytes)?;
    w.finish()
}

/// Streams a pinned file to disk while hashing it, for files too large to build in memory.
pub struct PinWriter {
    journal: PathBuf,
    kind: String,
    ext: String,
    out: BufWriter<tempfile::NamedTempFile>,
    hasher: Sha256,
    bytes: u64,
}

impl PinWriter {
    pub fn create(journal: &Path, kind: &str, ext: &str) -> io::Result<PinWriter> {
        let dir = pins_dir(journal);
        create_private_dir(&dir)?;
        let tmp = private_file::temp_in(&dir, &format!(".{kind}."))?;
        Ok(PinWriter {
            journal: journal.to_path_buf(),
            kind: kind.to_string(),
            ext: ext.to_string(),
            out: BufWriter::new(tmp),
            hasher: Sha256::new(),
            bytes: 0,
        })
    }

    /// Syncs the file and gives it its digest's name.
    pub fn finish(self) -> io::Result<Pinned> {
        let tmp = self.out.into_inner().map_err(|e| e.into_error())?;
        tmp.as_file().sync_all()?;
        let hex = hex::encode(self.hasher.finalize());
        let dir_name = format!("{}.pins", pins_stem(&self.journal));
        let name = format!("{}-{hex}.{}", self.kind, self.ext);
        let path = pins_dir(&self.journal).join(&name);
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(Pinned {
            file: format!("{dir_name}/{name}"),
            sha256: format!("sha256:{hex}"),
            bytes: self.bytes,
        })
    }
}

impl Write for PinWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// A runbook as the runbook writer made it, and its sidecar, pinned beside a journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedRunbook {
    pub runbook: Pinned,
    pub sidecar: Option<Pinned>,
}

/// Pins the runbook of `plan` beside `journal`, written by the runbook writer.
pub fn pin_plan(
    journal: &Path,
    plan: &crate::plan::Plan,
    meta: &crate::plan::RunbookMeta,
) -> Result<PinnedRunbook, String> {
    let (toml, sidecar) = crate::plan::to_runbook(plan, meta).map_err(|e| e.to_string())?;
    pin_runbook(journal, &toml, sidecar.as_ref().map(|s| s.text.as_str())).map_err(|e| e.to_string())
}

/// Pins a runbook's text and its sidecar's, as they are.
pub fn pin_runbook(journal: &Path, toml: &str, sidecar: Option<&str>) -> io::Result<PinnedRunbook> {
    Ok(PinnedRunbook {
        runbook: pin_bytes(journal, "runbook", "toml", toml.as_bytes())?,
        sidecar: sidecar
            .map(|s| pin_bytes(journal, "sidecar", "txt", s.as_bytes()))
            .transpose()?,
    })
}

/// [`pin_runbook`] of a runbook's files as written, copied in pieces: the sidecar of a
/// million ids is never held whole in memory.
pub fn pin_runbook_files(journal: &Path, runbook: &Path, sidecar: Option<&Path>) -> io::Result<PinnedRunbook> {
    Ok(PinnedRunbook {
        runbook: pin_file(journal, "runbook", "toml", runbook)?,
        sidecar: sidecar.map(|s| pin_file(journal, "sidecar", "txt", s)).transpose()?,
    })
}

fn pin_file(journal: &Path, kind: &str, ext: &str, path: &Path) -> io::Result<Pinned> {
    let mut w = PinWriter::create(journal, kind, ext)?;
    io::copy(&mut File::open(path)?, &mut w)?;
    w.finish()
}

/// Whether something was recorded beside the journal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Recorded<T> {
    /// Nothing to record, or not asked to.
    #[default]
    Nothing,
    Pinned(T),
    /// Writing it failed; the session goes on, and the journal lacks it.
    Failed(String),
}

impl<T> Recorded<T> {
    pub fn pinned(&self) -> Option<&T> {
        match self {
            Recorded::Pinned(t) => Some(t),
            _ => None,
        }
    }

    pub fn failure(&self) -> Option<&str> {
        match self {
            Recorded::Failed(e) => Some(e),
            _ => None,
        }
    }
}

impl<T> From<Result<T, String>> for Recorded<T> {
    fn from(r: Result<T, String>) -> Self {
        match r {
            Ok(t) => Recorded::Pinned(t),
            Err(e) => Recorded::Failed(e),
        }
    }
}

/// Checks that the pinned file is there and hashes to what the journal records.
pub fn verify(journal: &Path, pin: &Pinned) -> Result<PathBuf, PinError> {
    let path = resolve(journal, pin)?;
    let io_err = |source: io::Error| PinError::Io {
        file: pin.file.clone(),
        source,
    };
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(PinError::Missing { file: pin.file.clone() }),
        Err(e) => return Err(io_err(e)),
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(io_err)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
    if actual != pin.sha256 {
        return Err(PinError::Changed {
            file: pin.file.clone(),
            recorded: pin.sha256.clone(),
            actual,
        });
    }
    Ok(path)
}

/// The bytes of a pinned file, once they hash to what the journal records.
pub fn read_verified(journal: &Path, pin: &Pinned) -> Result<Vec<u8>, PinError> {
    let path = resolve(journal, pin)?;
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(PinError::Missing { file: pin.file.clone() }),
        Err(source) => {
            return Err(PinError::Io {
                file: pin.file.clone(),
                source,
            });
        }
    };
    let actual = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    if actual != pin.sha256 {
        return Err(PinError::Changed {
            file: pin.file.clone(),
            recorded: pin.sha256.clone(),
            actual,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn pinned_files_are_named_by_digest_beside_the_journal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = dir.path().join("union.journal.jsonl");
        let pin = pin_bytes(&journal, "runbook", "toml", b"plan = 1\n").expect("pin");
        let hex = hex::encode(Sha256::digest(b"plan = 1\n"));
        assert_eq!(pin.file, format!("union.journal.pins/runbook-{hex}.toml"));
        assert_eq!(pin.sha256, format!("sha256:{hex}"));
        assert_eq!(pin.bytes, 9);
        let path = verify(&journal, &pin).expect("verifies");
        assert_eq!(path, dir.path().join(&pin.file));
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&pins_dir(&journal)), 0o700);
        // The same bytes again: the same file, kept.
        assert_eq!(
            pin_bytes(&journal, "runbook", "toml", b"plan = 1\n").expect("again"),
            pin
        );
        assert_eq!(read_verified(&journal, &pin).expect("read"), b"plan = 1\n");
    }

    #[test]
    fn a_changed_missing_or_escaping_pin_is_refused_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = dir.path().join("j.jsonl");
        let pin = pin_bytes(&journal, "comparison", "jsonl.gz", b"abc").expect("pin");
        std::fs::write(dir.path().join(&pin.file), b"abd").expect("tamper");
        let err = verify(&journal, &pin).expect_err("changed");
        assert!(
            matches!(err, PinError::Changed { .. }) && err.to_string().contains(&pin.file),
            "{err}"
        );
        assert!(read_verified(&journal, &pin).is_err());
        std::fs::remove_file(dir.path().join(&pin.file)).expect("remove");
        assert!(matches!(verify(&journal, &pin), Err(PinError::Missing { .. })));
        for file in ["../etc/passwd", "/etc/passwd", "", "a/../../b"] {
            let hostile = Pinned {
                file: file.into(),
                ..pin.clone()
            };
            assert!(
                matches!(verify(&journal, &hostile), Err(PinError::Outside { .. })),
                "{file}"
            );
        }
    }
}
