//! The writer's lock: an advisory `flock` on `STATE.lock` next to the state file, held by the
//! daemon for its whole life and by `run --once` for its pass, so only one process ever
//! writes the state file and calls the providers (issue 8). The holder writes `PID ROLE` into
//! the file so the one that finds it busy can say who does the work.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A held lock; released when dropped (or when the process exits).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// Who holds a busy lock, as its holder wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// The lock file.
    pub path: PathBuf,
    /// The holder's process id, if it wrote one.
    pub pid: Option<u32>,
    /// `daemon` or `run --once`, if written.
    pub role: Option<String>,
}

/// The outcome of trying to lock.
#[derive(Debug)]
pub enum Acquired {
    /// This process holds the lock.
    Held(RunLock),
    /// Another process holds it.
    Busy(Holder),
}

/// The lock file that belongs to `state_file`: `STATE.lock`.
pub fn path_for(state_file: &Path) -> PathBuf {
    let mut p = state_file.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// Tries to take the lock that belongs to `state_file` without waiting, creating its
/// directory if missing; `role` (`daemon`, `run --once`) is written with this process's id.
pub fn try_lock(state_file: &Path, role: &str) -> io::Result<Acquired> {
    let path = path_for(state_file);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => {
            // Only the holder writes, and only while holding: the content is always whole.
            file.set_len(0)?;
            file.seek(SeekFrom::Start(0))?;
            writeln!(file, "{} {role}", std::process::id())?;
            Ok(Acquired::Held(RunLock { _file: file }))
        }
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            // A holder that wrote nothing (an older ddnsd) leaves pid and role unknown.
            let _ = file.take(128).read_to_string(&mut text);
            let mut parts = text.split_whitespace();
            let pid = parts.next().and_then(|p| p.parse().ok());
            let role = {
                let rest: Vec<&str> = parts.collect();
                (!rest.is_empty()).then(|| rest.join(" "))
            };
            Ok(Acquired::Busy(Holder { path, pid, role }))
        }
        Err(TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_busy_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("missing/dir/state.json");
        let first = try_lock(&state, "daemon").unwrap();
        assert!(matches!(first, Acquired::Held(_)));
        match try_lock(&state, "run --once").unwrap() {
            Acquired::Busy(h) => {
                assert_eq!(h.path, dir.path().join("missing/dir/state.json.lock"));
                assert_eq!(h.pid, Some(std::process::id()));
                assert_eq!(h.role.as_deref(), Some("daemon"));
            }
            Acquired::Held(_) => panic!("locked twice"),
        }
        drop(first);
        assert!(matches!(
            try_lock(&state, "daemon").unwrap(),
            Acquired::Held(_)
        ));
    }
}
