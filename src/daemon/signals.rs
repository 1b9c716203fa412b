//! Unix signals → what the daemon should do: SIGTERM/SIGINT shut down, SIGHUP reloads the
//! config, SIGUSR1 runs a pass now. Owns no other behaviour.

use std::io;

use tokio::signal::unix::{signal, Signal, SignalKind};

/// What a signal asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// SIGTERM or SIGINT: finish (or abandon) the pass in flight and exit.
    Shutdown,
    /// SIGHUP: re-read the config.
    Reload,
    /// SIGUSR1: run a full pass now.
    PassNow,
}

/// The installed handlers. Installing them replaces the default actions (which would kill the
/// process on SIGHUP or SIGUSR1), so install them before anything else happens.
pub struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
    usr1: Signal,
}

impl Signals {
    /// Installs the handlers; needs a tokio runtime.
    pub fn install() -> io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
            usr1: signal(SignalKind::user_defined1())?,
        })
    }

    /// Waits for the next signal.
    pub async fn next(&mut self) -> Request {
        tokio::select! {
            _ = self.term.recv() => Request::Shutdown,
            _ = self.int.recv() => Request::Shutdown,
            _ = self.hup.recv() => Request::Reload,
            _ = self.usr1.recv() => Request::PassNow,
        }
    }
}
