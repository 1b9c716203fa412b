//! Address detection: the [`Source`] trait, candidates with verdicts, and one module per source
//! kind. Knows nothing about providers, records or state.

pub mod fixed;
pub mod netlink;
pub mod watch;
pub mod policy;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Serialize;

use crate::record::{AddrSet, Family};

pub use policy::{SkipReason, Verdict};

/// One address a source found, with the verdict of the selection policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// The address.
    pub addr: IpAddr,
    /// Where it came from: an interface name, `static`, a URL, a command.
    pub origin: String,
    /// Selected for publishing, or skipped and why.
    pub verdict: Verdict,
    /// Facts behind the verdict as a short text (kernel flags, lifetimes), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What one source found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Detection {
    /// The source's name from the config.
    pub source: String,
    /// Every candidate, selected or skipped.
    pub candidates: Vec<Candidate>,
}

impl Detection {
    /// The selected addresses of one family.
    pub fn selected(&self, family: Family) -> AddrSet {
        self.candidates
            .iter()
            .filter(|c| c.verdict == Verdict::Selected && Family::of(&c.addr) == family)
            .map(|c| c.addr)
            .collect()
    }
}

/// A source of addresses (an interface, a static list, an echo service…).
pub trait Source: Send + Sync {
    /// The source's name from the config.
    fn name(&self) -> &str;
    /// The address families this source yields (and so the record types it feeds).
    fn families(&self) -> Vec<Family>;
    /// The interfaces whose address changes should trigger a new detection (`Some(vec![])` for
    /// all interfaces), or `None` if the kernel cannot announce changes for this source.
    fn watched_interfaces(&self) -> Option<Vec<String>> {
        None
    }
    /// Finds the candidate addresses and judges them.
    fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>>;
}

/// Why a source could not produce candidates.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The kernel's address list could not be read.
    #[error("could not read interface addresses from the kernel: {0}")]
    Netlink(String),
    /// The named interface does not exist.
    #[error("no interface named {0:?} on this machine")]
    NoSuchInterface(String),
}

impl SourceError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            SourceError::Netlink(_) => Some(
                "ddnsd needs AF_NETLINK sockets (containers: run with --network host; systemd: keep AF_NETLINK in RestrictAddressFamilies)",
            ),
            SourceError::NoSuchInterface(_) => {
                Some("check `interface` in the source; `ip -br link` lists this machine's interfaces")
            }
        }
    }
}

/// A source that failed, as reported.
#[derive(Debug)]
pub struct SourceFailure {
    /// The source's name.
    pub source: String,
    /// What went wrong.
    pub error: SourceError,
}

impl fmt::Display for SourceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "source {}: {}", self.source, self.error)
    }
}

/// The settings of one source, as built from the config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceSettings {
    /// `kind = "interface"`.
    Interface(netlink::InterfaceSettings),
    /// `kind = "static"`.
    Static(fixed::StaticSettings),
}

impl SourceSettings {
    /// The config spelling of the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceSettings::Interface(_) => "interface",
            SourceSettings::Static(_) => "static",
        }
    }

    /// The families the source yields.
    pub fn families(&self) -> Vec<Family> {
        match self {
            SourceSettings::Interface(s) => vec![s.family],
            SourceSettings::Static(s) => {
                let mut f: Vec<Family> = s.addresses.iter().map(Family::of).collect();
                f.sort();
                f.dedup();
                f
            }
        }
    }
}

/// Builds a source from its settings.
pub fn build(name: &str, settings: &SourceSettings) -> Arc<dyn Source> {
    match settings {
        SourceSettings::Interface(s) => Arc::new(netlink::InterfaceSource::new(name.to_owned(), s.clone())),
        SourceSettings::Static(s) => Arc::new(fixed::StaticSource::new(name.to_owned(), s.clone())),
    }
}
