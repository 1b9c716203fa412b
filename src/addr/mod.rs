//! Address detection: the [`Source`] trait, candidates with verdicts, and one module per source
//! kind. Knows nothing about providers, records or state.

pub mod command;
pub mod dns;
pub mod filewatch;
pub mod fixed;
#[cfg(feature = "http")]
pub mod http;
pub mod ifa;
pub mod leases;
pub mod neigh;
pub mod neighbors;
pub mod netlink;
pub mod policy;
pub mod prefix;
pub mod probe;
pub mod rtnl;
pub mod watch;

use std::collections::{BTreeMap, BTreeSet};
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
    /// Remaining preferred lifetime in seconds, when the source knows it (`None`: forever or
    /// unknown). `ttl = "auto"` caps a record's TTL with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<u32>,
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
    /// The interfaces whose neighbour table changes should trigger a new detection
    /// (`neighbors` sources).
    fn watched_neighbors(&self) -> Vec<String> {
        Vec::new()
    }
    /// The files whose changes should trigger a new detection (lease files).
    fn watched_files(&self) -> Vec<std::path::PathBuf> {
        Vec::new()
    }
    /// Takes in what earlier runs remembered of the neighbour table (before a detection).
    fn load_history(&self, history: &crate::record::NeighborHistory) {
        let _ = history;
    }
    /// What this source learnt of the neighbour table, to be remembered (after a detection).
    fn history(&self) -> Option<crate::record::NeighborHistory> {
        None
    }
    /// Finds the candidate addresses and judges them.
    fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>>;
    /// The sources this one derives its addresses from (a `prefix` source's `from`). They are
    /// detected first, once per pass, by [`detect_many`].
    fn inputs(&self) -> Vec<String> {
        Vec::new()
    }
    /// Finds the candidates given the detections of [`Source::inputs`] made in this pass (an
    /// input that failed is absent). The default ignores `inputs` and calls [`Source::detect`].
    fn detect_with<'a>(
        &'a self,
        inputs: &'a BTreeMap<String, Detection>,
    ) -> BoxFuture<'a, Result<Detection, SourceError>> {
        let _ = inputs;
        self.detect()
    }
}

/// Detects the sources named in `names` and, before them, every source they derive from,
/// each exactly once; returns the results in name order (unknown names are ignored).
///
/// Why here and not a cache: many `prefix` sources (one per LAN host) share one `from`
/// source. Resolving the dependencies in one place makes "once per pass" exact and
/// deterministic — no time window, no stale answer, no reliance on concurrent polling — and
/// `run` and `detect` share it. Sources without inputs run concurrently in the first round,
/// derived sources in later rounds (chains are allowed; config rejects cycles).
///
/// `published` holds, per source, the addresses the records it feeds currently publish: a
/// source choosing one address (`select = "best"`) keeps that one while it stays eligible
/// ([`policy::keep_published`]), so the record does not flip between equally good addresses.
pub async fn detect_many(
    sources: &BTreeMap<String, Arc<dyn Source>>,
    names: &BTreeSet<String>,
    published: &BTreeMap<String, AddrSet>,
) -> Vec<Result<Detection, SourceFailure>> {
    let mut needed = BTreeSet::new();
    let mut stack: Vec<String> = names.iter().cloned().collect();
    while let Some(n) = stack.pop() {
        if let Some(src) = sources.get(&n) {
            if needed.insert(n) {
                stack.extend(src.inputs());
            }
        }
    }
    let mut done: BTreeMap<String, Result<Detection, SourceFailure>> = BTreeMap::new();
    loop {
        let ready: Vec<(&String, &Arc<dyn Source>)> = needed
            .iter()
            .filter(|n| !done.contains_key(*n))
            .filter_map(|n| sources.get(n).map(|s| (n, s)))
            .filter(|(_, s)| {
                s.inputs()
                    .iter()
                    .all(|i| done.contains_key(i) || !sources.contains_key(i))
            })
            .collect();
        if ready.is_empty() {
            break;
        }
        let ok: BTreeMap<String, Detection> = done
            .iter()
            .filter_map(|(k, v)| v.as_ref().ok().map(|d| (k.clone(), d.clone())))
            .collect();
        let results = futures::future::join_all(ready.iter().map(|(name, src)| {
            let ok = &ok;
            async move {
                src.detect_with(ok).await.map_err(|error| SourceFailure {
                    source: (*name).clone(),
                    error,
                })
            }
        }))
        .await;
        for ((name, _), mut r) in ready.into_iter().zip(results) {
            if let (Ok(d), Some(p)) = (&mut r, published.get(name)) {
                policy::keep_published(&mut d.candidates, p);
            }
            done.insert(name.clone(), r);
        }
    }
    // Whatever is left waits on itself (a cycle, which config rejects): report, never hang.
    for n in &needed {
        if !done.contains_key(n) {
            let from = sources
                .get(n)
                .map(|s| s.inputs().join(", "))
                .unwrap_or_default();
            done.insert(
                n.clone(),
                Err(SourceFailure {
                    source: n.clone(),
                    error: SourceError::InputFailed { from },
                }),
            );
        }
    }
    done.into_values().collect()
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
    /// The HTTP client for echo services could not be set up.
    #[cfg(feature = "http")]
    #[error("could not set up the http client: {0}")]
    HttpSetup(crate::http::HttpError),
    /// Every echo service URL failed (tried in order).
    #[cfg(feature = "http")]
    #[error("every echo service failed: {}", http::list(.attempts))]
    EchoFailed {
        /// Each URL with why it failed, in the order tried.
        attempts: Vec<http::EchoFailure>,
    },
    /// Fewer than `needed` echo services agreed on one address.
    #[cfg(feature = "http")]
    #[error("no {needed} echo services agreed: {}", http::disagreement(.answers, .failures))]
    NoConsensus {
        /// The `consensus` setting.
        needed: usize,
        /// Every answer: (URL, address).
        answers: Vec<(String, IpAddr)>,
        /// The URLs that gave no answer.
        failures: Vec<http::EchoFailure>,
    },
    /// The DNS query failed.
    #[error("{origin}: {failure}")]
    Dns {
        /// Resolver and query.
        origin: String,
        /// What went wrong.
        failure: dns::DnsFailure,
    },
    /// The command failed.
    #[error("command {command}: {failure}")]
    Command {
        /// The command line as configured.
        command: String,
        /// What went wrong.
        failure: command::CommandFailure,
    },
    /// The lease file could not be read.
    #[error("could not read lease file {path}: {reason}")]
    LeaseFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The source this one derives from failed (or could not be built).
    #[error("the source it takes its prefix from ({from}) failed")]
    InputFailed {
        /// The `from` source's name.
        from: String,
    },
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
            #[cfg(feature = "http")]
            SourceError::HttpSetup(_) => Some("check that the system's CA certificates are installed"),
            #[cfg(feature = "http")]
            SourceError::EchoFailed { .. } => Some(
                "each url must answer with just the address over the source's family (try `curl -6 URL` or `curl -4 URL`); `urls` replaces the built-in list",
            ),
            #[cfg(feature = "http")]
            SourceError::NoConsensus { .. } => Some(
                "the services see different addresses (a proxy, or several uplinks?); list services that take the same path, or lower `consensus`",
            ),
            SourceError::Dns { .. } => Some(
                "check that the resolver answers this query over the source's family (e.g. `dig -6 @RESOLVER NAME TYPE`)",
            ),
            SourceError::Command { .. } => Some(
                "run the command by hand as the user ddnsd runs as; it must exit 0 and print one address per line",
            ),
            SourceError::LeaseFile { .. } => Some(
                "check `file` and `format`: OpenWrt's odhcpd writes /tmp/hosts/odhcpd (or the file named by its `leasefile` option), dnsmasq its dhcp-leasefile (often /var/lib/misc/dnsmasq.leases)",
            ),
            SourceError::InputFailed { .. } => Some("fix the source named in `from` (its own error is shown above)"),
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
    /// `kind = "http"`.
    #[cfg(feature = "http")]
    Http(http::HttpSourceSettings),
    /// `kind = "dns"`.
    Dns(dns::DnsSourceSettings),
    /// `kind = "command"`.
    Command(command::CommandSettings),
    /// `kind = "prefix"`.
    Prefix(prefix::PrefixSettings),
    /// `kind = "leases"`.
    Leases(leases::LeasesSettings),
    /// `kind = "neighbors"`.
    Neighbors(neighbors::NeighborsSettings),
}

impl SourceSettings {
    /// The config spelling of the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceSettings::Interface(_) => "interface",
            SourceSettings::Static(_) => "static",
            #[cfg(feature = "http")]
            SourceSettings::Http(_) => "http",
            SourceSettings::Dns(_) => "dns",
            SourceSettings::Command(_) => "command",
            SourceSettings::Prefix(_) => "prefix",
            SourceSettings::Leases(_) => "leases",
            SourceSettings::Neighbors(_) => "neighbors",
        }
    }

    /// The families the source yields.
    pub fn families(&self) -> Vec<Family> {
        match self {
            SourceSettings::Interface(s) => vec![s.family],
            SourceSettings::Static(s) => s.families(),
            #[cfg(feature = "http")]
            SourceSettings::Http(s) => vec![s.family],
            SourceSettings::Dns(s) => vec![s.family],
            SourceSettings::Command(s) => vec![s.family],
            SourceSettings::Prefix(_) | SourceSettings::Neighbors(_) => vec![Family::Ipv6],
            SourceSettings::Leases(s) => vec![s.family],
        }
    }
}

/// Builds every source, each `prefix` and `neighbors` source after (and holding) the source
/// it derives from; the `neighbors` sources of one interface share one [`neighbors::Lan`].
pub fn build_all(settings: &BTreeMap<String, SourceSettings>) -> BTreeMap<String, Arc<dyn Source>> {
    let mut built: BTreeMap<String, Arc<dyn Source>> = BTreeMap::new();
    let mut lans: BTreeMap<String, Arc<neighbors::Lan>> = BTreeMap::new();
    let mut lan = |i: &str| {
        lans.entry(i.to_owned())
            .or_insert_with(|| Arc::new(neighbors::Lan::new(i.to_owned())))
            .clone()
    };
    loop {
        let mut progress = false;
        for (name, s) in settings {
            if built.contains_key(name) {
                continue;
            }
            let src: Arc<dyn Source> = match s {
                SourceSettings::Interface(s) => {
                    Arc::new(netlink::InterfaceSource::new(name.clone(), s.clone()))
                }
                SourceSettings::Static(s) => {
                    Arc::new(fixed::StaticSource::new(name.clone(), s.clone()))
                }
                #[cfg(feature = "http")]
                SourceSettings::Http(s) => Arc::new(http::HttpSource::new(name.clone(), s.clone())),
                SourceSettings::Dns(s) => Arc::new(dns::DnsSource::new(name.clone(), s.clone())),
                SourceSettings::Command(s) => {
                    Arc::new(command::CommandSource::new(name.clone(), s.clone()))
                }
                SourceSettings::Prefix(p) => match built.get(&p.from) {
                    Some(from) => Arc::new(prefix::PrefixSource::new(
                        name.clone(),
                        p.clone(),
                        Some(from.clone()),
                    )),
                    None if settings.contains_key(&p.from) => continue,
                    None => Arc::new(prefix::PrefixSource::new(name.clone(), p.clone(), None)),
                },
                SourceSettings::Leases(s) => {
                    Arc::new(leases::LeasesSource::new(name.clone(), s.clone()))
                }
                SourceSettings::Neighbors(n) => match built.get(&n.from) {
                    Some(from) => Arc::new(neighbors::NeighborsSource::new(
                        name.clone(),
                        n.clone(),
                        Some(from.clone()),
                        lan(&n.interface),
                    )),
                    None if settings.contains_key(&n.from) => continue,
                    None => Arc::new(neighbors::NeighborsSource::new(
                        name.clone(),
                        n.clone(),
                        None,
                        lan(&n.interface),
                    )),
                },
            };
            built.insert(name.clone(), src);
            progress = true;
        }
        if !progress {
            break;
        }
    }
    // A cycle (rejected by config) leaves derived sources unbuilt: they fail at detect time.
    for (name, s) in settings {
        match (built.contains_key(name), s) {
            (false, SourceSettings::Prefix(p)) => {
                built.insert(
                    name.clone(),
                    Arc::new(prefix::PrefixSource::new(name.clone(), p.clone(), None)),
                );
            }
            (false, SourceSettings::Neighbors(n)) => {
                built.insert(
                    name.clone(),
                    Arc::new(neighbors::NeighborsSource::new(
                        name.clone(),
                        n.clone(),
                        None,
                        lan(&n.interface),
                    )),
                );
            }
            _ => {}
        }
    }
    built
}
