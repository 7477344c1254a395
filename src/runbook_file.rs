//! A runbook on disk: its TOML and the sidecar it names, read together and loaded (which
//! checks the plan hash and the sidecar's digest). What `run`, `session propose` and the
//! lead's screen read, so that all three find the sidecar and refuse an edited plan alike.

use crate::plan::{self, LoadedRunbook, RunbookError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RunbookFileError {
    #[error("reading runbook {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("reading sidecar {}: {source}", path.display())]
    Sidecar { path: PathBuf, source: std::io::Error },
    #[error("writing {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Runbook(#[from] RunbookError),
}

/// A runbook as read from disk, with the plan it loads to.
pub struct RunbookFile {
    pub toml: String,
    pub sidecar: Option<String>,
    pub loaded: LoadedRunbook,
}

/// Where the sidecar `file_name` of the runbook at `runbook` lives: beside it.
pub fn sidecar_path(runbook: &Path, file_name: &str) -> PathBuf {
    runbook.parent().unwrap_or(Path::new(".")).join(file_name)
}

/// Loads the runbook at `path` with its sidecar read line by line (never held whole: a
/// million ids), and says where that sidecar is.
pub fn load(path: &Path) -> Result<(LoadedRunbook, Option<PathBuf>), RunbookFileError> {
    let toml = std::fs::read_to_string(path).map_err(|source| RunbookFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let sidecar = plan::runbook_sidecar(&toml)?.map(|name| sidecar_path(path, &name));
    let loaded = load_streamed(&toml, sidecar.as_deref())?;
    Ok((loaded, sidecar))
}

/// Loads the runbook a journal pinned, from the pinned copies.
pub fn load_pinned(journal: &Path, pinned: &crate::journal::PinnedRunbook) -> Result<LoadedRunbook, RunbookFileError> {
    let resolve = |pin| {
        crate::journal::pins::resolve(journal, pin).map_err(|e| RunbookFileError::Read {
            path: journal.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })
    };
    let path = resolve(&pinned.runbook)?;
    let toml = std::fs::read_to_string(&path).map_err(|source| RunbookFileError::Read { path, source })?;
    let sidecar = pinned.sidecar.as_ref().map(resolve).transpose()?;
    load_streamed(&toml, sidecar.as_deref())
}

fn load_streamed(toml: &str, sidecar: Option<&Path>) -> Result<LoadedRunbook, RunbookFileError> {
    let mut reader = match sidecar {
        Some(p) => {
            let file = std::fs::File::open(p).map_err(|source| RunbookFileError::Sidecar {
                path: p.to_path_buf(),
                source,
            })?;
            Some(std::io::BufReader::with_capacity(1 << 16, file))
        }
        None => None,
    };
    Ok(plan::load_runbook_from(
        toml,
        reader.as_mut().map(|r| r as &mut dyn std::io::BufRead),
    )?)
}

pub fn read(path: &Path) -> Result<RunbookFile, RunbookFileError> {
    let toml = std::fs::read_to_string(path).map_err(|source| RunbookFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let sidecar = match plan::runbook_sidecar(&toml)? {
        Some(name) => {
            let p = sidecar_path(path, &name);
            Some(std::fs::read_to_string(&p).map_err(|source| RunbookFileError::Sidecar { path: p, source })?)
        }
        None => None,
    };
    let loaded = plan::load_runbook(&toml, sidecar.as_deref())?;
    Ok(RunbookFile { toml, sidecar, loaded })
}

/// Writes `plan` as a runbook at `path` (and its sidecar beside it, when the id lists are
/// long), each file atomically and private (mode 0600): they list the incident's
/// contracts. The sidecar goes first, so a runbook on disk never names a missing one.
/// Returns where the sidecar went, if there is one. `plan --out` and the screen's `:save`
/// write through here.
pub fn write(path: &Path, plan: &plan::Plan, meta: &plan::RunbookMeta) -> Result<Option<PathBuf>, RunbookFileError> {
    // Streamed: a runbook of a million ids is never held whole in memory.
    let mut writer = plan::RunbookWriter::new(plan, meta)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private_file::create_dir_all(dir).map_err(|source| RunbookFileError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let mut sidecar = None;
    if let Some(name) = writer.sidecar_file_name() {
        let p = sidecar_path(path, name);
        streamed(&p, &mut |w| writer.write_sidecar(w))?;
        sidecar = Some(p);
    }
    streamed(path, &mut |w| writer.write_runbook(w))?;
    Ok(sidecar)
}

/// Writes one file of a runbook atomically and private, from the runbook writer.
fn streamed(
    path: &Path,
    write: &mut dyn FnMut(&mut dyn std::io::Write) -> Result<(), plan::RunbookError>,
) -> Result<(), RunbookFileError> {
    crate::private_file::write_atomically_with(path, |w| write(w).map_err(Streamed::Runbook)).map_err(|e| match e {
        Streamed::Runbook(e) => RunbookFileError::from(e),
        Streamed::Io(source) => RunbookFileError::Write {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// A streamed write's failure: the runbook writer's, or the file's.
enum Streamed {
    Runbook(plan::RunbookError),
    Io(std::io::Error),
}

impl From<std::io::Error> for Streamed {
    fn from(e: std::io::Error) -> Streamed {
        Streamed::Io(e)
    }
}

/// Writes a runbook already rendered by [`plan::to_runbook`], as [`write`] does; for a
/// caller that also keeps the texts (`plan` pins them beside its journal).
pub fn write_texts(
    path: &Path,
    toml: &str,
    sidecar: Option<&plan::Sidecar>,
) -> Result<Option<PathBuf>, RunbookFileError> {
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RunbookFileError::Write { path, source }
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private_file::create_dir_all(dir).map_err(failed(dir))?;
    }
    let mut sidecar_file = None;
    if let Some(side) = sidecar {
        let p = sidecar_path(path, &side.file_name);
        crate::private_file::write_atomically(&p, side.text.as_bytes()).map_err(failed(&p))?;
        sidecar_file = Some(p);
    }
    crate::private_file::write_atomically(path, toml.as_bytes()).map_err(failed(path))?;
    Ok(sidecar_file)
}
