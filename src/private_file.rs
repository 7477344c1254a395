//! Files that can hold incident data — journals, runbooks and their sidecars, incident
//! configs, logs, reports, session files — are private to their owner: mode 0600,
//! whatever the process's umask. Every such file is created through this module.
//!
//! The mode is given to `open(2)` (no window in which another user could open the file)
//! and then set exactly with `fchmod`, so that a restrictive umask cannot leave the owner
//! without write access and an existing file written by an older release is narrowed too.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

/// Read and write for the owner, nothing for anyone else.
pub const MODE: u32 = 0o600;

/// Opens `path` as `options` say (create, create_new, append, truncate…), creating it with
/// mode 0600; an existing file is narrowed to 0600. Fails if the mode cannot be set (a
/// file owned by someone else).
pub fn open(path: &Path, options: &OpenOptions) -> io::Result<File> {
    let file = options.clone().mode(MODE).open(path)?;
    restrict(&file)?;
    Ok(file)
}

/// Replaces `path` with `contents` atomically: a private temporary file in the same
/// directory, written and fsynced, then renamed over `path`. A crash leaves either the
/// old file or the new one, never a torn one.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_atomically_with(path, |w| w.write_all(contents))
}

/// Like [`write_atomically`], with the contents written by `write` through a buffer, for
/// files too large to build in memory first. Nothing replaces `path` unless `write`
/// succeeds.
pub fn write_atomically_with<T, E: From<io::Error>>(
    path: &Path,
    write: impl FnOnce(&mut dyn io::Write) -> Result<T, E>,
) -> Result<T, E> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("{} names no file", path.display())))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = temp_in(dir, &format!(".{}.", name.to_string_lossy()))?;
    let mut buffered = io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
    let done = write(&mut buffered)?;
    buffered.flush()?;
    drop(buffered);
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(done)
}

/// A private (0600) temporary file in `dir`, for a file written in pieces and then renamed
/// into place with [`tempfile::NamedTempFile::persist`].
pub fn temp_in(dir: &Path, prefix: &str) -> io::Result<tempfile::NamedTempFile> {
    let tmp = tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".tmp")
        .permissions(Permissions::from_mode(MODE))
        .tempfile_in(dir)?;
    restrict(tmp.as_file())?;
    Ok(tmp)
}

/// Owner only, for the directories this module creates.
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` and its missing parents with mode 0700 (set exactly, whatever the
/// umask, so that the owner can always write into them); directories that exist already
/// are the user's and left as they are.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => std::fs::set_permissions(dir, Permissions::from_mode(DIR_MODE)),
        // Created meanwhile by another process: it is no longer ours to narrow.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

fn restrict(file: &File) -> io::Result<()> {
    if file.metadata()?.permissions().mode() & 0o7777 != MODE {
        file.set_permissions(Permissions::from_mode(MODE))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt as _;

    // The umask is process-wide and other tests create files concurrently, so these run
    // under the test process's umask; tests/secrets.rs runs the binary under umask 000
    // and 277.

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("metadata").mode() & 0o7777
    }

    #[test]
    fn new_files_are_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let created = dir.path().join("created");
        let mut f = open(&created, OpenOptions::new().create_new(true).append(true)).expect("create");
        f.write_all(b"x").expect("write");
        assert_eq!(mode(&created), MODE);
        let atomic = dir.path().join("atomic");
        write_atomically(&atomic, b"y").expect("write");
        assert_eq!(mode(&atomic), MODE);
        assert_eq!(std::fs::read(&atomic).expect("read"), b"y");
    }

    #[test]
    fn existing_files_are_narrowed_and_replaced_privately() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.log");
        std::fs::write(&path, "old\n").expect("write");
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).expect("chmod");
        let mut f = open(&path, OpenOptions::new().append(true)).expect("open");
        f.write_all(b"new\n").expect("append");
        assert_eq!(mode(&path), MODE);
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "old\nnew\n");

        std::fs::set_permissions(&path, Permissions::from_mode(0o666)).expect("chmod");
        write_atomically(&path, b"replaced").expect("replace");
        assert_eq!(mode(&path), MODE);
        assert_eq!(std::fs::read(&path).expect("read"), b"replaced");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["old.log"], "no temporary file is left behind");
    }

    #[test]
    fn new_directories_are_0700_and_existing_ones_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::set_permissions(dir.path(), Permissions::from_mode(0o755)).expect("chmod");
        let deep = dir.path().join("a").join("b");
        create_dir_all(&deep).expect("create");
        assert_eq!(mode(&dir.path().join("a")), DIR_MODE);
        assert_eq!(mode(&deep), DIR_MODE);
        assert_eq!(mode(dir.path()), 0o755, "an existing directory is the user's");
        create_dir_all(&deep).expect("again");
        create_dir_all(Path::new("")).expect("the current directory");
    }

    #[test]
    fn a_path_without_a_file_name_is_refused() {
        for path in ["", "/", "dir/.."] {
            let err = write_atomically(Path::new(path), b"").expect_err(path);
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{path:?}");
        }
    }
}
