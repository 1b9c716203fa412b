//! Why the status server cannot start, or `ddnsd status` cannot ask it. Apart from the server
//! so that a build without the `status` feature (no hyper) still names what is missing.

use std::io;
use std::path::PathBuf;

/// Why the status server cannot start (or `ddnsd status` cannot ask it).
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The TCP address cannot be bound.
    #[error("cannot listen on {addr} for the status server: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The OS error.
        source: io::Error,
    },
    /// The Unix socket cannot be created.
    #[error("cannot create the status socket {}: {source}", path.display())]
    Socket {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Another process serves on that socket.
    #[error("another process already serves the status socket {}", path.display())]
    SocketBusy {
        /// The path.
        path: PathBuf,
    },
    /// `ddnsd status` with a config that has no `[status]`.
    #[error("the config ({config}) has no [status] table, so the daemon serves no status")]
    NotConfigured {
        /// The config's origin.
        config: String,
    },
    /// `ddnsd status` in a build without the status server.
    #[error("ddnsd was built without the status feature: there is no status server to ask")]
    NotBuilt,
    /// `ddnsd status` could not get the document.
    #[error("cannot get the status from {endpoint}: {reason}")]
    Fetch {
        /// Where it asked.
        endpoint: String,
        /// What went wrong.
        reason: String,
        /// The daemon could not be reached at all.
        unreachable: bool,
    },
}

impl StatusError {
    /// What to do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            StatusError::Listen { .. } => Some(
                "another program uses that address, or it is not this machine's; change [status] listen".to_owned(),
            ),
            StatusError::Socket { .. } => Some(
                "the directory must exist and be writable by ddnsd (systemd: RuntimeDirectory=ddnsd)".to_owned(),
            ),
            StatusError::SocketBusy { .. } => {
                Some("stop the other daemon, or give this one its own [status] socket".to_owned())
            }
            StatusError::NotConfigured { .. } => Some(
                "add [status] with socket = \"/run/ddnsd/status.sock\" (or listen = \"127.0.0.1:9753\") and restart the daemon".to_owned(),
            ),
            StatusError::Fetch { unreachable: true, .. } => Some(
                "is the daemon running with this config? [status] is read when it starts (`systemctl status ddnsd`)".to_owned(),
            ),
            StatusError::Fetch { .. } => None,
            StatusError::NotBuilt => Some(
                "use a build with the default features (cargo feature `status`)".to_owned(),
            ),
        }
    }

    /// 2 when the config lacks `[status]`, else 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            StatusError::NotConfigured { .. } | StatusError::NotBuilt => 2,
            _ => 1,
        }
    }
}
