//! The ONLY reader of the config file, `$DDNSD_CONFIG` and `*_env` / `*_file` secrets.
//! May not open sockets, call providers or sources, or print.

pub mod build;
pub mod default;
pub mod diag;
pub mod duration;
#[cfg(test)]
mod fuzz;
pub mod raw;
pub mod secret;
// Heartbeats, webhooks, ntfy and Telegram are the `http` feature's, e-mail the `email`
// feature's, the status server the `status` feature's.
#[cfg(all(test, feature = "http", feature = "email", feature = "status"))]
mod status_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::addr::SourceSettings;
use crate::provider::ProviderSettings;
use crate::record::RecordSpec;

/// The path used when neither `-c` nor `$DDNSD_CONFIG` names one.
pub const DEFAULT_PATH: &str = "/etc/ddnsd/ddnsd.toml";
/// The state file used when the config does not name one and systemd gives no
/// `$STATE_DIRECTORY`.
pub const DEFAULT_STATE_FILE: &str = "/var/lib/ddnsd/state.json";

/// A checked, ready configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where it came from.
    pub origin: Origin,
    /// `[daemon]`.
    pub daemon: DaemonSettings,
    /// `[sources.*]` by name.
    pub sources: BTreeMap<String, SourceSettings>,
    /// `[providers.*]` by name.
    pub providers: BTreeMap<String, ProviderSettings>,
    /// `[[records]]`.
    pub records: Vec<RecordSpec>,
    /// `[status]`: the status server, if asked for.
    pub status: Option<crate::status::StatusSettings>,
    /// `[heartbeat]`, if asked for.
    pub heartbeat: Option<crate::notify::heartbeat::HeartbeatSettings>,
    /// `[[notify]]`, in config order.
    pub notify: Vec<crate::notify::NotifySettings>,
    /// Problems that do not make the config unusable (shown by `check`).
    pub warnings: Vec<Problem>,
    /// The environment variables secrets were read from (`X_env`): the caller removes them
    /// from the process environment once the config is loaded.
    pub secret_env: Vec<String>,
}

/// What the config is loaded for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// `run` and `detect`: every secret must be there.
    Run,
    /// `check`: a secret only the service's environment has is a warning (issue 8).
    Check,
}

/// Where a config came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file.
    File(PathBuf),
    /// The embedded default (no file named and none at the default path).
    Embedded,
}

/// `[daemon]`, with defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaemonSettings {
    /// Re-detect period for sources that cannot push events.
    pub interval: Duration,
    /// How often live records are re-read to repair drift.
    pub verify_interval: Duration,
    /// Quiet time after an address event before a pass.
    pub debounce: Duration,
    /// Where state is kept; `None` = memory only (the embedded default).
    pub state_file: Option<PathBuf>,
}

/// How the config path was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Located {
    /// Named by `-c` or `$DDNSD_CONFIG`: must exist.
    Named(PathBuf),
    /// The default path, which exists.
    Default(PathBuf),
    /// Nothing named and no file at the default path: use the embedded default.
    Embedded,
}

/// Picks the config: `-c PATH`, else `$DDNSD_CONFIG`, else the default path if it exists,
/// else the embedded default.
pub fn locate(cli: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Located {
    if let Some(p) = cli {
        return Located::Named(p.to_path_buf());
    }
    if let Some(p) = env("DDNSD_CONFIG").filter(|p| !p.is_empty()) {
        return Located::Named(PathBuf::from(p));
    }
    let default = PathBuf::from(DEFAULT_PATH);
    if default.exists() {
        Located::Default(default)
    } else {
        Located::Embedded
    }
}

/// Loads and checks the config chosen by [`locate`].
pub fn load(
    located: &Located,
    env: &dyn Fn(&str) -> Option<String>,
    purpose: Purpose,
) -> Result<Config, Error> {
    match located {
        Located::Embedded => {
            let text = default::embedded(&default::hostname());
            build::build(&text, Origin::Embedded, env, purpose).map_err(|problems| Error::Invalid {
                path: PathBuf::from("<embedded default>"),
                problems: render_problems(&text, problems),
            })
        }
        Located::Named(path) | Located::Default(path) => {
            let bytes = crate::limits::read_file(path, crate::limits::MAX_CONFIG)
                .map_err(|source| {
                    if source.kind() == std::io::ErrorKind::NotFound {
                        Error::NotFound { path: path.clone() }
                    } else {
                        Error::Read {
                            path: path.clone(),
                            source,
                        }
                    }
                })?
                .map_err(|too| Error::TooLarge {
                    path: path.clone(),
                    cap: too.cap,
                })?;
            let text = String::from_utf8(bytes).map_err(|_| Error::Read {
                path: path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                ),
            })?;
            from_text_for(&text, path, env, purpose)
        }
    }
}

/// Checks config text read from `path` for running.
pub fn from_text(
    text: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Error> {
    from_text_for(text, path, env, Purpose::Run)
}

/// Checks config text read from `path` for `purpose`.
pub fn from_text_for(
    text: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    purpose: Purpose,
) -> Result<Config, Error> {
    build::build(text, Origin::File(path.to_path_buf()), env, purpose).map_err(|problems| {
        Error::Invalid {
            path: path.to_path_buf(),
            problems: render_problems(text, problems),
        }
    })
}

/// One problem in a config file, placed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub col: usize,
    /// What is wrong.
    pub message: String,
    /// What to do, if there is something to say.
    pub hint: Option<String>,
}

pub(crate) fn render_problems(text: &str, diags: Vec<diag::Diag>) -> Vec<Problem> {
    let mut out: Vec<Problem> = diags
        .into_iter()
        .map(|d| {
            let (line, col) = line_col(text, d.span.map_or(0, |s| s.start));
            Problem {
                line,
                col,
                message: d.message,
                hint: d.hint,
            }
        })
        .collect();
    out.sort_by_key(|p| (p.line, p.col));
    out
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Why the config cannot be used. Always exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config named by `-c` or `$DDNSD_CONFIG` does not exist.
    #[error("config file {} does not exist", path.display())]
    NotFound {
        /// The path.
        path: PathBuf,
    },
    /// The file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is longer than any config ([`crate::limits::MAX_CONFIG`]): read no further.
    #[error("config file {} is longer than {}", path.display(), crate::limits::human_size(*cap))]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// The cap, in bytes.
        cap: usize,
    },
    /// The file has problems; every one is listed.
    #[error("{}", render_invalid(path, problems))]
    Invalid {
        /// The path.
        path: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
    /// `ddnsd init --provider` named a kind the registry does not have.
    #[error("unknown provider kind {kind:?}")]
    UnknownKind {
        /// The kind as given.
        kind: String,
    },
    /// `ddnsd init --provider` named a kind this build left out (see `provider::LEFT_OUT`).
    #[error(
        "provider kind {kind:?} is not available: ddnsd was built without the {feature} feature"
    )]
    KindLeftOut {
        /// The kind as given.
        kind: String,
        /// The cargo feature that has it.
        feature: &'static str,
    },
}

impl Error {
    /// What the user can do (for errors that are not already a list of placed problems).
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::NotFound { .. } => {
                Some("`ddnsd init > FILE` writes a commented example to start from".to_owned())
            }
            Error::Read { .. } => Some("check the file's permissions".to_owned()),
            Error::TooLarge { .. } => Some(
                "check the path given with -c or $DDNSD_CONFIG: it names something that is not a config file"
                    .to_owned(),
            ),
            Error::Invalid { .. } => None,
            Error::KindLeftOut { feature, .. } => Some(format!(
                "use a build with the default features (cargo feature `{feature}`)"
            )),
            Error::UnknownKind { kind } => {
                let known = crate::provider::registry::names();
                Some(diag::suggest(
                    kind,
                    &known,
                    diag::Quote::Value,
                    format!("known kinds: {}", known.join(", ")),
                ))
            }
        }
    }
}

fn render_invalid(path: &Path, problems: &[Problem]) -> String {
    let mut s = String::new();
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        s.push_str(&format!(
            "{}:{}:{}: {}",
            path.display(),
            p.line,
            p.col,
            p.message
        ));
        if let Some(h) = &p.hint {
            s.push_str(&format!("\n  hint: {h}"));
        }
    }
    s
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(p) => write!(f, "{}", p.display()),
            Origin::Embedded => f.write_str("the embedded default"),
        }
    }
}

/// Looks a variable up in this process's environment (the lookup [`load`] is given outside
/// tests).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
