//! `run --daemonize --pid-file PATH` for systemd `Type=forking` and SysV-style supervisors:
//! fork, start a new session, write the PID file, and tell the waiting parent whether start-up
//! worked. The only module allowed `unsafe` (fork and file-descriptor plumbing), each block
//! with a `SAFETY:` note.
//!
//! Must be called before the tokio runtime (or any other thread) starts: after `fork` only
//! the calling thread exists in the child.
#![allow(unsafe_code)]

use std::fs::{self, File};
use std::io::{self, PipeReader, PipeWriter, Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Which side of the fork this is.
pub enum Forked {
    /// Exit now: the original process with the child's start-up result, or a child whose
    /// start-up failed and was already reported to the parent.
    Exit {
        /// 0 when the child is running and wrote its PID file.
        code: i32,
        /// The child's start-up error, for standard error.
        message: Option<String>,
    },
    /// The daemon: must call [`Child::started`] or [`Child::failed`].
    Child(Child),
}

/// Why the process could not fork.
#[derive(Debug, thiserror::Error)]
pub enum ForkError {
    /// `pipe` or `fork` failed.
    #[error("cannot fork into the background: {0}")]
    Fork(io::Error),
    /// The PID file could not be written.
    #[error("cannot write the pid file {}: {source}", path.display())]
    PidFile {
        /// The PID file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// The forked daemon, still connected to the waiting parent.
pub struct Child {
    report: PipeWriter,
    pid_file: PidFile,
}

impl Child {
    /// Start-up succeeded: releases the parent (exit 0). Keep the returned guard alive for the
    /// daemon's lifetime; dropping it removes the PID file.
    pub fn started(mut self) -> PidFile {
        // A parent that died meanwhile cannot be told; the daemon runs on regardless.
        let _ = self.report.write_all(b"ready\n");
        self.pid_file
    }

    /// Start-up failed: the parent prints `message` and exits with `code`. Removes the PID
    /// file.
    pub fn failed(mut self, code: i32, message: &str) {
        let _ = write!(self.report, "fail {code}\n{message}");
    }
}

/// Removes the PID file when dropped (if it still names this process).
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let mine = fs::read_to_string(&self.path)
            .map(|s| s.trim() == std::process::id().to_string())
            .unwrap_or(false);
        if mine {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Forks. The parent blocks until the child reports; the child starts a new session, points
/// standard input and output at /dev/null and writes `pid_file`.
pub fn daemonize(pid_file: &Path) -> Result<Forked, ForkError> {
    let (reader, writer) = io::pipe().map_err(ForkError::Fork)?;
    // SAFETY: the process is single-threaded here (the caller starts no runtime or thread
    // before this call), so the child may run arbitrary code after fork.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(ForkError::Fork(io::Error::last_os_error())),
        0 => {
            drop(reader);
            child_setup(pid_file, writer)
        }
        _ => {
            drop(writer);
            Ok(parent_wait(reader))
        }
    }
}

fn parent_wait(mut reader: PipeReader) -> Forked {
    let mut text = String::new();
    // EOF arrives when the child reported (and dropped its end) or died.
    if reader.read_to_string(&mut text).is_err() || text.is_empty() {
        return Forked::Exit {
            code: 1,
            message: Some("error: the daemon exited during start-up\n".to_owned()),
        };
    }
    if text.starts_with("ready") {
        return Forked::Exit {
            code: 0,
            message: None,
        };
    }
    let (head, message) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    let code = head
        .strip_prefix("fail ")
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(1);
    Forked::Exit {
        code,
        message: Some(message.to_owned()),
    }
}

fn child_setup(pid_file: &Path, mut report: PipeWriter) -> Result<Forked, ForkError> {
    // SAFETY: setsid has no memory-safety preconditions; it fails only if this process is
    // already a group leader, which a freshly forked child is not.
    unsafe {
        libc::setsid();
    }
    if let Ok(null) = File::open("/dev/null") {
        // Standard output too: the daemon prints nothing there (logs go to standard error),
        // and a caller reading the parent's output to EOF must not wait for the daemon.
        // SAFETY: all descriptors are open (null is owned by `null`, 0 and 1 are standard
        // input and output); dup2 replaces them atomically and `null` stays valid until dropped.
        unsafe {
            libc::dup2(null.as_raw_fd(), 0);
            libc::dup2(null.as_raw_fd(), 1);
        }
    }
    let path = pid_file.to_path_buf();
    if let Err(source) = write_pid_file(&path) {
        let e = ForkError::PidFile { path, source };
        let _ = write!(report, "fail 1\nerror: {e}\n");
        return Ok(Forked::Exit {
            code: 1,
            message: None,
        });
    }
    Ok(Forked::Child(Child {
        report,
        pid_file: PidFile { path },
    }))
}

/// Writes our PID atomically (temp file + rename), so a reader never sees a partial file.
fn write_pid_file(path: &Path) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, format!("{}\n", std::process::id()))?;
    fs::rename(&tmp, path)
}
