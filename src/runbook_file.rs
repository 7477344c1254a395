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
