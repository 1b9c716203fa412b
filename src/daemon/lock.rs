//! The run lock for `run --once` (cron, timers): an advisory `flock` on `STATE.lock` next to
//! the state file, so overlapping runs never race on the state file or the provider.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// A held lock; released when dropped (or when the process exits).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// The outcome of trying to lock.
#[derive(Debug)]
pub enum Acquired {
    /// This process holds the lock.
    Held(RunLock),
    /// Another process holds it.
    Busy(PathBuf),
}

/// The lock file that belongs to `state_file`: `STATE.lock`.
pub fn path_for(state_file: &Path) -> PathBuf {
    let mut p = state_file.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// Tries to take the lock that belongs to `state_file` without waiting.
pub fn try_lock(state_file: &Path) -> io::Result<Acquired> {
    let path = path_for(state_file);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(Acquired::Held(RunLock { _file: file })),
        Err(TryLockError::WouldBlock) => Ok(Acquired::Busy(path)),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_busy_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let first = try_lock(&state).unwrap();
        assert!(matches!(first, Acquired::Held(_)));
        match try_lock(&state).unwrap() {
            Acquired::Busy(p) => assert_eq!(p, dir.path().join("state.json.lock")),
            Acquired::Held(_) => panic!("locked twice"),
        }
        drop(first);
        assert!(matches!(try_lock(&state).unwrap(), Acquired::Held(_)));
    }
}
