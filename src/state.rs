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
        // A newer section is dropped, not misread; an empty one reads as none (it is not
        // written), so what parses survives a save and a load unchanged.
        if s.neighbors.version > NeighborHistory::VERSION || s.neighbors.is_empty() {
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
        let prefix = format!(".{file_name}.tmp.");
        let tmp = dir.join(format!("{prefix}{}", std::process::id()));
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
        })?;
        sweep_stale_temps(&dir, &prefix);
        Ok(())
    }
}

/// Removes the temp files of earlier saves whose writer is gone (killed between creating its
/// temp file and renaming it): they are never read as state, but would pile up, one per
/// killed save. Only one process writes at a time (the writer's lock), so a temp file whose
/// process is dead is abandoned. Best effort: a file that cannot be removed stays.
fn sweep_stale_temps(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|p| p.parse::<i32>().ok())
            .filter(|&p| p > 0)
        else {
            continue;
        };
        if u32::try_from(pid).ok() != Some(std::process::id()) && !process_exists(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// True if a process `pid` exists (`kill(pid, 0)`: only ESRCH says it does not).
fn process_exists(pid: i32) -> bool {
    !matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(nix::errno::Errno::ESRCH)
    )
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

    /// See: issue 8 (fault matrix). A save killed between writing its temp file and renaming
    /// it leaves the temp file behind; the next save removes it, and only it: a temp file of
    /// a live process (another writer mid-save) and unrelated files stay.
    #[test]
    fn a_save_removes_temp_files_of_dead_writers() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("state.json"));
        // A pid that exists (this test's parent) and one that cannot (above pid_max).
        let alive = std::os::unix::process::parent_id();
        let names = [
            ".state.json.tmp.2147483647".to_owned(),
            format!(".state.json.tmp.{alive}"),
            ".state.json.tmp.x".to_owned(),
            ".other.json.tmp.2147483647".to_owned(),
        ];
        for n in &names {
            std::fs::write(dir.path().join(n), "{\"version\": 1, \"rec").unwrap();
        }
        store.save(&sample()).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut want = vec![
            names[1].clone(),
            names[2].clone(),
            names[3].clone(),
            "state.json".to_owned(),
        ];
        want.sort();
        assert_eq!(left, want);
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

    /// See: issue 8 (bounded input). A file past the cap is corrupt, read no further.
    #[test]
    fn a_file_past_the_cap_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, vec![b' '; MAX_STATE + 1]).unwrap();
        match FileStore::new(path).load() {
            Err(StateError::Corrupt {
                detail,
                moved_to: Some(_),
                ..
            }) => assert_eq!(detail, "the file is longer than 16 MiB"),
            other => panic!("{other:?}"),
        }
    }

    // Property tests (issue 8, fuzzing): the state file is read from disk, where a crash, a
    // full disk, a hand edit or another program can leave anything.

    use proptest::prelude::*;

    use crate::testing::{apply, cases, edit};

    /// Pieces of a state file, for edits.
    const TOKENS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "\n",
        "null",
        "true",
        "false",
        "0",
        "-1",
        "1e400",
        "18446744073709551616",
        "\"version\"",
        "\"records\"",
        "\"provider\"",
        "\"addrs\"",
        "\"ttl\"",
        "\"hints\"",
        "\"published_at\"",
        "\"verified_at\"",
        "\"unconfirmed\"",
        "\"2001:db8::1\"",
        "\"203.0.113.7\"",
        "\"nope\"",
        "\"h.example.test/AAAA\"",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "2",
        "99",
        "[[[[[[[[[[[[[[[[",
        "\u{feff}",
    ];

    /// A state with several entries and every optional field.
    fn rich() -> String {
        let mut s = sample();
        let key = RecordKey {
            name: "v4.example.test".parse().unwrap(),
            rtype: RecordType::A,
        };
        s.set(
            &key,
            Entry {
                provider: "tencent".into(),
                addrs: [
                    "203.0.113.7".parse().unwrap(),
                    "198.51.100.1".parse().unwrap(),
                ]
                .into_iter()
                .collect(),
                ttl: Ttl(600),
                hints: ProviderHints::default(),
                published_at: 1,
                verified_at: Some(2),
                unconfirmed: true,
                gone_since: Some(3),
            },
        );
        s.to_json()
    }

    /// Parsing never panics, and what parses survives a save and a load unchanged.
    fn check_text(text: &str) -> Result<(), TestCaseError> {
        if let Ok(s) = State::from_json(text) {
            prop_assert_eq!(s.version, STATE_VERSION);
            let again = State::from_json(&s.to_json());
            prop_assert!(again.as_ref().is_ok_and(|a| a == &s), "{:?}", again);
        }
        Ok(())
    }

    /// Writes `bytes` as the state file and reads it back the way a dry run and a real run
    /// do: a dry run never changes the disk; a real run keeps a good or newer file as it is
    /// and moves a bad one aside exactly once, keeping its bytes.
    fn check_file(bytes: &[u8]) -> Result<(), TestCaseError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let aside = path.with_extension("json.corrupt");
        std::fs::write(&path, bytes).unwrap();
        let store = FileStore::new(path.clone());
        let peeked = store.peek();
        prop_assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "peek changed the file"
        );
        prop_assert!(!aside.exists());
        match store.load() {
            Ok(s) => {
                prop_assert!(peeked.is_ok_and(|p| p == s));
                prop_assert_eq!(std::fs::read(&path).unwrap(), bytes);
            }
            Err(StateError::Newer { .. }) => {
                let newer = matches!(peeked, Err(StateError::Newer { .. }));
                prop_assert!(newer, "peek saw it differently: {:?}", peeked);
                prop_assert_eq!(std::fs::read(&path).unwrap(), bytes);
            }
            Err(StateError::Corrupt { moved_to, .. }) => {
                let left = matches!(peeked, Err(StateError::Corrupt { moved_to: None, .. }));
                prop_assert!(left, "peek saw it differently: {:?}", peeked);
                prop_assert_eq!(moved_to.as_deref(), Some(aside.as_path()));
                prop_assert!(!path.exists());
                prop_assert_eq!(std::fs::read(&aside).unwrap(), bytes);
                // Moved once: the next load starts afresh and leaves the bad file alone.
                prop_assert_eq!(store.load().unwrap(), State::default());
                prop_assert_eq!(std::fs::read(&aside).unwrap(), bytes);
            }
            Err(e @ StateError::Io { .. }) => {
                return Err(TestCaseError::fail(format!("a readable file: {e}")));
            }
        }
        Ok(())
    }

    #[test]
    fn the_seed_parses() {
        assert!(State::from_json(&rich()).unwrap().records.len() == 2);
    }

    proptest! {
        #![proptest_config(cases(1000))]

        #[test]
        fn arbitrary_text_parses_or_fails_cleanly(text in any::<String>()) {
            check_text(&text)?;
        }

        #[test]
        fn edited_state_files_parse_or_fail_cleanly(
            edits in prop::collection::vec(edit(TOKENS), 1..6),
        ) {
            check_text(&apply(&rich(), &edits))?;
        }
    }

    proptest! {
        // Each case writes, reads and moves files.
        #![proptest_config(cases(300))]

        #[test]
        fn arbitrary_bytes_on_disk(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            check_file(&bytes)?;
        }

        #[test]
        fn edited_files_on_disk(edits in prop::collection::vec(edit(TOKENS), 1..4)) {
            check_file(apply(&rich(), &edits).as_bytes())?;
        }
    }
}
