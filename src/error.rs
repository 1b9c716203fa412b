//! The top-level [`Error`]: an enum over the modules' errors, with the exit code and hint of
//! each. Prints nothing.

use crate::addr::SourceError;
use crate::config;
use crate::state::StateError;

/// Anything that stops a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config cannot be used.
    #[error(transparent)]
    Config(#[from] config::Error),
    /// The state file cannot be used.
    #[error(transparent)]
    State(#[from] StateError),
    /// A source failed where nothing else could be shown (detect).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// The HTTP client for the providers could not be set up.
    #[error(transparent)]
    Http(#[from] crate::http::HttpError),
    /// The status server cannot start, or `ddnsd status` cannot ask it.
    #[error(transparent)]
    Status(#[from] crate::status::StatusError),
    /// Another `run --once` holds the lock.
    #[error("{0}")]
    Daemon(String),
}

impl Error {
    /// 2 for usage/config problems, 1 for runtime failures.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) => 2,
            Error::Status(e) => e.exit_code(),
            _ => 1,
        }
    }

    /// What to do next, if there is something useful to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Config(e) => e.hint(),
            Error::State(e) => e.hint(),
            Error::Source(e) => e.hint().map(str::to_owned),
            Error::Status(e) => e.hint(),
            Error::Runtime(_) | Error::Daemon(_) | Error::Http(_) => None,
        }
    }
}
