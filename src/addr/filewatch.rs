//! Lease files → change events, through inotify (issue 12). Watches each file's directory,
//! not the file: odhcpd replaces its files by rename, dnsmasq rewrites its file in place, and a
//! file that does not exist yet is created later; a directory watch sees all three. No
//! debounce and no timers: the daemon owns those.
//!
//! inotify comes from `nix` (already a dependency), so this costs no extra crate; polling the
//! files' mtimes would cost a timer wake-up per period and a period's latency. Reads block:
//! the daemon gives the watch a thread of its own (registering the descriptor with tokio
//! would take `unsafe`, which this crate denies).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

/// Watches a set of files.
pub struct FileWatch {
    inotify: Inotify,
    /// Per directory watch: the file names watched in it, with their full paths.
    dirs: BTreeMap<WatchDescriptor, BTreeMap<OsString, PathBuf>>,
}

impl FileWatch {
    /// Watches `files` (their directories must exist).
    pub fn open(files: &BTreeSet<PathBuf>) -> io::Result<FileWatch> {
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC)?;
        let mut by_dir: BTreeMap<PathBuf, BTreeMap<OsString, PathBuf>> = BTreeMap::new();
        for f in files {
            let (Some(dir), Some(name)) = (f.parent(), f.file_name()) else {
                continue;
            };
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            by_dir
                .entry(dir.to_path_buf())
                .or_default()
                .insert(name.to_owned(), f.clone());
        }
        let mut dirs = BTreeMap::new();
        let mut last_error = None;
        for (dir, names) in by_dir {
            let added = inotify.add_watch(
                &dir,
                AddWatchFlags::IN_CLOSE_WRITE
                    | AddWatchFlags::IN_MODIFY
                    | AddWatchFlags::IN_MOVED_TO
                    | AddWatchFlags::IN_CREATE
                    | AddWatchFlags::IN_DELETE,
            );
            // One missing directory (a DHCP server not started yet) does not stop the
            // watch of the others; its files are re-read on the interval timer.
            match added {
                Ok(wd) => {
                    dirs.insert(wd, names);
                }
                Err(e) => last_error = Some(e),
            }
        }
        match (dirs.is_empty(), last_error) {
            (true, Some(e)) => Err(e.into()),
            _ => Ok(FileWatch { inotify, dirs }),
        }
    }

    /// Blocks until watched files change; returns them (each once).
    pub fn wait(&mut self) -> io::Result<BTreeSet<PathBuf>> {
        loop {
            match self.inotify.read_events() {
                Ok(events) => {
                    let changed: BTreeSet<PathBuf> = events
                        .iter()
                        .filter_map(|e| self.dirs.get(&e.wd)?.get(e.name.as_ref()?).cloned())
                        .collect();
                    if !changed.is_empty() {
                        return Ok(changed);
                    }
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_writes_renames_and_creation_of_watched_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let leases = dir.path().join("odhcpd");
        let other = dir.path().join("other");
        let mut w = FileWatch::open(&BTreeSet::from([leases.clone()])).unwrap();
        std::fs::write(&other, "x").unwrap();
        // Created (does not exist yet when the watch starts).
        std::fs::write(&leases, "a").unwrap();
        assert_eq!(w.wait().unwrap(), BTreeSet::from([leases.clone()]));
        // Replaced by rename, as odhcpd does; a temp file's own events are not reported.
        let tmp = dir.path().join(".odhcpd");
        std::fs::write(&tmp, "b").unwrap();
        std::fs::rename(&tmp, &leases).unwrap();
        assert_eq!(w.wait().unwrap(), BTreeSet::from([leases]));
    }
}
