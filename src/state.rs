//! The state file: what ddnsd last published per (name, type). (De)serialisation is pure; saving
//! is atomic (temp file in the same directory, fsync, rename, fsync of the directory). May not
//! decide what to publish.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::limits::{Capped, MAX_STATE};
use crate::provider::ProviderHints;
use crate::record::{AddrSet, NeighborHistory, RecordKey, Ttl};

/// The current state file format version.
pub const STATE_VERSION: u32 = 1;

/// Everything ddnsd remembers between runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Format version.
    pub version: u32,
    /// One entry per published (name, type), keyed `name/TYPE`.
    pub records: BTreeMap<String, Entry>,
    /// What `neighbors` sources have seen (issue 12); a section with its own version, so a
    /// newer one is dropped rather than misread while the records stay.
    #[serde(default, skip_serializing_if = "NeighborHistory::is_empty")]
    pub neighbors: NeighborHistory,
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
    /// A write of this (name, type) may have happened without being confirmed: the next pass
    /// reads the live record before deciding anything.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unconfirmed: bool,
    /// Since when the sources have found no address for this record (Unix seconds), while
    /// `on_gone = "delete"` waits out its grace period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_since: Option<u64>,
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

    /// Forgets the entry of (name, type) (a withdrawn record).
    pub fn remove(&mut self, k: &RecordKey) {
        self.records.remove(&State::key(k));
    }

    /// Parses a state file's contents. A file written by a newer ddnsd is refused rather than
    /// misread (and later overwritten without the fields this version does not know).
    pub fn from_json(text: &str) -> Result<State, ParseError> {
        #[derive(Deserialize)]
        struct Version {
            #[serde(default)]
            version: u32,
        }
        let v: Version = serde_json::from_str(text).map_err(ParseError::Json)?;
        if v.version > STATE_VERSION {
            return Err(ParseError::Newer(v.version));
        }
        let mut s: State = serde_json::from_str(text).map_err(ParseError::Json)?;
        s.version = STATE_VERSION;
        if s.neighbors.version > NeighborHistory::VERSION {
            s.neighbors = NeighborHistory::default();
        }
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

/// Why a state file's text is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not the JSON of a state file.
    #[error("{0}")]
    Json(serde_json::Error),
    /// Written by a newer ddnsd (format `version`).
    #[error("written by a newer ddnsd (format version {0}, this one reads up to {STATE_VERSION})")]
    Newer(u32),
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
    /// The file is not valid state JSON; it was moved aside (or, in a dry run, left alone).
    #[error(
        "state file {path} is not valid ({detail}); {}",
        match moved_to {
            Some(m) => format!("moved it to {} and starting afresh", m.display()),
            None => "left it as it is (dry run)".to_owned(),
        }
    )]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// The parser's message.
        detail: String,
        /// Where the bad file now is; `None` when it was left in place.
        moved_to: Option<PathBuf>,
    },
    /// The file was written by a newer ddnsd; it is neither used nor overwritten.
    #[error("state file {path} was written by a newer ddnsd (format version {found}; this one reads up to {STATE_VERSION}); not touching it")]
    Newer {
        /// The state file.
        path: PathBuf,
        /// The file's format version.
        found: u32,
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
            StateError::Newer { path, .. } => Some(format!(
                "run the newer ddnsd again, or move {} aside to start afresh (every record is then written once)",
                path.display()
            )),
        }
    }
}

/// Where state lives.
pub trait StateStore: Send + Sync {
    /// Reads the state (empty if none was saved yet). A corrupt file is moved aside.
    fn load(&self) -> Result<State, StateError>;
    /// Reads the state without changing anything on disk (dry runs): a corrupt file is
    /// reported and left where it is.
    fn peek(&self) -> Result<State, StateError> {
        self.load()
    }
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

    /// Reads and parses the file (at most [`MAX_STATE`] bytes); `move_corrupt` moves an
    /// unparsable file aside so the next save starts afresh.
    fn read(&self, move_corrupt: bool) -> Result<State, StateError> {
        let bytes = match std::fs::File::open(&self.path) {
            Ok(f) => {
                let mut buf = Capped::new(MAX_STATE);
                let mut chunk = [0u8; 8192];
                let mut f = f;
                loop {
                    let n = f.read(&mut chunk).map_err(|e| self.io(e))?;
                    if n == 0 {
                        break Ok(buf.into_inner());
                    }
                    if let Err(e) = buf.extend(&chunk[..n]) {
                        break Err(e.to_string());
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
            Err(e) => return Err(self.io(e)),
        };
        let parsed = match bytes {
            Ok(b) => match std::str::from_utf8(&b) {
                Ok(text) => State::from_json(text),
                Err(e) => Err(ParseError::Json(serde_json::Error::io(
                    std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                ))),
            },
            Err(too_large) => Err(ParseError::Json(serde_json::Error::io(
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("the file is {too_large}"),
                ),
            ))),
        };
        match parsed {
            Ok(s) => Ok(s),
            Err(ParseError::Newer(found)) => Err(StateError::Newer {
                path: self.path.clone(),
                found,
            }),
            Err(ParseError::Json(e)) => {
                // Keep the bad file for the user to look at rather than overwrite it; a fresh
                // state only costs one write per record.
                let moved_to = if move_corrupt {
                    let to = self.path.with_extension("json.corrupt");
                    std::fs::rename(&self.path, &to).map_err(|e| self.io(e))?;
                    Some(to)
                } else {
                    None
                };
                Err(StateError::Corrupt {
                    path: self.path.clone(),
                    detail: e.to_string(),
                    moved_to,
                })
            }
        }
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
        self.read(true)
    }

    fn peek(&self) -> Result<State, StateError> {
        self.read(false)
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
                unconfirmed: false,
                gone_since: None,
            },
        );
        s.neighbors.saw(
            "06:cd:ba:11:05:35",
            "2001:db8::4cd:baff:fe11:535".parse().unwrap(),
            1_700_000_000,
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
        match store.peek() {
            Err(StateError::Corrupt { moved_to: None, .. }) => assert!(path.exists()),
            other => panic!("{other:?}"),
        }
        match store.load() {
            Err(StateError::Corrupt { moved_to, .. }) => {
                assert!(moved_to.unwrap().exists());
                assert!(!path.exists());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(store.load().unwrap(), State::default());
    }

    /// See: issue 12. A neighbour history section from a newer ddnsd is dropped; the
    /// records stay; a file without the section reads as an empty history.
    #[test]
    fn neighbor_history_section_is_versioned() {
        let text = sample().to_json();
        assert!(text.contains("\"neighbors\""), "{text}");
        let mut want = sample();
        want.version = STATE_VERSION;
        assert_eq!(State::from_json(&text).unwrap(), want);
        let newer = text.replace(
            "\"version\": 1,\n    \"hosts\"",
            "\"version\": 9,\n    \"hosts\"",
        );
        assert_ne!(newer, text);
        let s = State::from_json(&newer).unwrap();
        assert!(s.neighbors.is_empty());
        assert_eq!(s.records, sample().records);
        let old = "{\"version\": 1, \"records\": {}}";
        assert!(State::from_json(old).unwrap().neighbors.is_empty());
    }

    /// See: issue 8 (bounded input). A newer file is neither read nor overwritten.
    #[test]
    fn newer_version_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let text = "{\"version\": 2, \"records\": {}, \"future\": true}";
        std::fs::write(&path, text).unwrap();
        let store = FileStore::new(path.clone());
        match store.load() {
            Err(e @ StateError::Newer { found: 2, .. }) => {
                assert!(e.to_string().ends_with("not touching it"), "{e}");
                assert!(e.hint().unwrap().starts_with("run the newer ddnsd again"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
}
