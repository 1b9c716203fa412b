//! The state file: what ddnsd last published per (name, type). (De)serialisation is pure; saving
//! is atomic (temp file in the same directory, fsync, rename, fsync of the directory). May not
//! decide what to publish.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::provider::ProviderHints;
use crate::record::{AddrSet, RecordKey, Ttl};

/// The current state file format version.
pub const STATE_VERSION: u32 = 1;

/// Everything ddnsd remembers between runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Format version.
    pub version: u32,
    /// One entry per published (name, type), keyed `name/TYPE`.
    pub records: BTreeMap<String, Entry>,
}

/// What was published for one (name, type).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The provider it was published to.
    pub provider: String,
    /// The addresses published.
    pub addrs: AddrSet,
    /// The TTL published.
    pub ttl: Ttl,
    /// Provider facts worth keeping (zone and record ids). Never a secret.
    #[serde(default, skip_serializing_if = "is_empty_hints")]
    pub hints: ProviderHints,
    /// When it was last written (Unix seconds).
    pub published_at: u64,
    /// When the live record was last read and found right (Unix seconds), if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<u64>,
}

fn is_empty_hints(h: &ProviderHints) -> bool {
    h.0.is_empty()
}

impl State {
    /// The state map key of (name, type).
    pub fn key(k: &RecordKey) -> String {
        format!("{}/{}", k.name, k.rtype)
    }

    /// The entry of (name, type), if any.
    pub fn get(&self, k: &RecordKey) -> Option<&Entry> {
        self.records.get(&State::key(k))
    }

    /// Sets the entry of (name, type).
    pub fn set(&mut self, k: &RecordKey, e: Entry) {
        self.records.insert(State::key(k), e);
    }

    /// Parses a state file's contents.
    pub fn from_json(text: &str) -> Result<State, serde_json::Error> {
        let mut s: State = serde_json::from_str(text)?;
        s.version = STATE_VERSION;
        Ok(s)
    }

    /// Serialises the state (pretty, newline-terminated).
    pub fn to_json(&self) -> String {
        let mut v = self.clone();
        v.version = STATE_VERSION;
        // invariant: State holds only strings, integers and maps with string keys, which
        // serde_json always serialises.
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The file could not be read or written.
    #[error("state file {path}: {source}")]
    Io {
        /// The state file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid state JSON; it was moved aside.
    #[error(
        "state file {path} is not valid ({detail}); moved it to {moved_to} and starting afresh"
    )]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// The parser's message.
        detail: String,
        /// Where the bad file now is.
        moved_to: PathBuf,
    },
}

impl StateError {
    /// What the user can do.
    pub fn hint(&self) -> Option<String> {
        match self {
            StateError::Io { path, .. } => Some(format!(
                "make sure the directory of {} exists and is writable by ddnsd, or set daemon.state_file",
                path.display()
            )),
            StateError::Corrupt { .. } => None,
        }
    }
}

/// Where state lives.
pub trait StateStore: Send + Sync {
    /// Reads the state (empty if none was saved yet).
    fn load(&self) -> Result<State, StateError>;
    /// Replaces the saved state.
    fn save(&self, state: &State) -> Result<(), StateError>;
}

/// A JSON file, replaced atomically.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// A store at `path`.
    pub fn new(path: PathBuf) -> FileStore {
        FileStore { path }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> StateError {
        StateError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

impl StateStore for FileStore {
    fn load(&self) -> Result<State, StateError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
            Err(e) => return Err(self.io(e)),
        };
        match State::from_json(&text) {
            Ok(s) => Ok(s),
            Err(e) => {
                // Keep the bad file for the user to look at rather than overwrite it; a fresh
                // state only costs one write per record.
                let moved_to = self.path.with_extension("json.corrupt");
                std::fs::rename(&self.path, &moved_to).map_err(|e| self.io(e))?;
                Err(StateError::Corrupt {
                    path: self.path.clone(),
                    detail: e.to_string(),
                    moved_to,
                })
            }
        }
    }

    fn save(&self, state: &State) -> Result<(), StateError> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| self.io(e))?;
        let file_name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "state.json".to_owned());
        let tmp = dir.join(format!(".{file_name}.tmp.{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            f.write_all(state.to_json().as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            // Make the rename itself durable.
            std::fs::File::open(&dir)?.sync_all()
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            self.io(e)
        })
    }
}

/// State kept in memory only (the embedded default, and tests).
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl StateStore for MemoryStore {
    fn load(&self) -> Result<State, StateError> {
        Ok(self.state.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }
    fn save(&self, state: &State) -> Result<(), StateError> {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = state.clone();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordType;

    fn sample() -> State {
        let mut s = State::default();
        let key = RecordKey {
            name: "h.example.test".parse().unwrap(),
            rtype: RecordType::Aaaa,
        };
        let mut hints = ProviderHints::default();
        hints.0.insert("record_id".into(), "42".into());
        s.set(
            &key,
            Entry {
                provider: "home".into(),
                addrs: ["2001:db8::1".parse().unwrap()].into_iter().collect(),
                ttl: Ttl(300),
                hints,
                published_at: 1_700_000_000,
                verified_at: None,
            },
        );
        s
    }

    #[test]
    fn round_trip_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("sub/state.json"));
        assert_eq!(store.load().unwrap(), State::default());
        let s = sample();
        store.save(&s).unwrap();
        let mut want = s.clone();
        want.version = STATE_VERSION;
        assert_eq!(store.load().unwrap(), want);
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("\"h.example.test/AAAA\""), "{text}");
        // no temp file left behind
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub")).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn corrupt_file_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{not json").unwrap();
        let store = FileStore::new(path.clone());
        match store.load() {
            Err(StateError::Corrupt { moved_to, .. }) => {
                assert!(moved_to.exists());
                assert!(!path.exists());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(store.load().unwrap(), State::default());
    }
}
