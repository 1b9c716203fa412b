//! `kind = "neighbors"`: a LAN host's global IPv6 addresses as the router's kernel neighbour
//! table knows them (issue 12), kept to the router's current prefix(es) from another source
//! (`from`, like `prefix`). The host is named by `mac`, or by `hostname` looked up in a DHCP
//! lease file. The choice among several addresses is pure ([`select::judge`]); the sightings
//! it rests on are kept in the state file through [`Source::history`].
//!
//! When a prefix appears that a host has not been seen on, the sources of one interface
//! (sharing one [`Lan`]) probe the LAN once ([`super::probe`]) and wait up to
//! [`PROBE_WAIT`] for the table to fill; neighbour events then bring in whoever answers later.

pub mod select;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;

use super::leases::{self, LeaseFormat};
use super::neigh::{self, NeighFacts};
use super::policy::{PolicyOptions, Select};
use super::prefix::eui64;
use super::{Detection, Source, SourceError};
use crate::record::{Family, NeighborHistory};
use select::{Prefix, Rules};

/// How long a pass waits for hosts to answer the all-nodes echo before it publishes what it
/// has.
pub const PROBE_WAIT: Duration = Duration::from_millis(1500);
/// How long after a new prefix appears the all-nodes echo starts. A host answers from the
/// address it prefers as a source, but only among those that finished duplicate address
/// detection (RFC 4862 §5.4: Linux waits a random part of `rtr_solicit_delay`, 1 s, then
/// `retrans_time`, 1 s, for each new address, its temporary one included): asked earlier, a
/// host answers from its old address, or from whichever new one happened to finish first.
pub const DAD_ALLOWANCE: Duration = Duration::from_millis(2100);
/// While waiting, the probe is sent again this often (hosts still forming their addresses
/// do not answer the first).
pub const PROBE_AGAIN: Duration = Duration::from_millis(250);
/// A host still missing from a probed prefix is probed again at most this often.
pub const PROBE_REPEAT: Duration = Duration::from_secs(60);
/// How often the table is re-read while waiting.
const POLL: Duration = Duration::from_millis(25);

/// Which host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NeighborHost {
    /// `mac = "aa:bb:cc:dd:ee:ff"`.
    Mac([u8; 6]),
    /// `hostname = "nas"`, matched to MACs through a lease file.
    Hostname {
        /// The hostname (case-insensitive).
        name: String,
        /// The lease file.
        leases: PathBuf,
        /// Who wrote it.
        format: LeaseFormat,
    },
}

/// Settings of a neighbors source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeighborsSettings {
    /// The LAN interface (`br-lan`).
    pub interface: String,
    /// The source whose selected IPv6 addresses give the current prefix(es).
    pub from: String,
    /// How many leading bits of those addresses are the prefix.
    pub prefix_length: u8,
    /// Which host.
    pub host: NeighborHost,
    /// `best` or `all`.
    pub select: Select,
    /// ULA.
    pub policy: PolicyOptions,
    /// Probe the LAN when a prefix appears.
    pub probe: bool,
}

/// What the sources of one LAN interface share: the sightings and the probe bookkeeping.
#[derive(Debug)]
pub struct Lan {
    interface: String,
    history: Mutex<NeighborHistory>,
    probes: tokio::sync::Mutex<Probes>,
    /// When the all-nodes echo last went out: every waiting source repeats its own unicast
    /// probes, but the multicast one goes out once per [`PROBE_AGAIN`] for the interface.
    last_multicast: Mutex<Option<tokio::time::Instant>>,
    /// The prefixes seen first (at start-up): not new, the hosts have settled addresses on
    /// them; any other prefix is new.
    first_prefixes: Mutex<Option<BTreeSet<(Ipv6Addr, u8)>>>,
}

/// One prefix a source waits on.
struct Round {
    prefix: Prefix,
    /// The router's address in it (the probes' source).
    source: Ipv6Addr,
    /// When the all-nodes echo may start.
    multicast_from: tokio::time::Instant,
    /// The all-nodes echo went out at least once.
    echoed: bool,
}

#[derive(Debug, Default)]
struct Probes {
    /// The current prefixes probed, and when their all-nodes echo starts.
    done: BTreeMap<(Ipv6Addr, u8), tokio::time::Instant>,
    /// When each host's expected addresses were last solicited.
    macs: BTreeMap<[u8; 6], tokio::time::Instant>,
}

impl Lan {
    /// The shared state of interface `interface`.
    pub fn new(interface: String) -> Lan {
        Lan {
            interface,
            history: Mutex::new(NeighborHistory::default()),
            probes: tokio::sync::Mutex::new(Probes::default()),
            last_multicast: Mutex::new(None),
            first_prefixes: Mutex::new(None),
        }
    }

    /// The entries of `macs`, after probing when one of `prefixes` is new to them (or
    /// still missing them after [`PROBE_REPEAT`]).
    async fn entries(
        &self,
        ifindex: u32,
        prefixes: &[Prefix],
        own: &[Ipv6Addr],
        macs: &[[u8; 6]],
        probe: bool,
    ) -> Result<Vec<NeighFacts>, SourceError> {
        let mine = |all: Vec<NeighFacts>| -> Vec<NeighFacts> {
            all.into_iter()
                .filter(|f| f.mac.is_some_and(|m| macs.contains(&m)))
                .collect()
        };
        if !prefixes.is_empty() {
            let mut first = self
                .first_prefixes
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            first.get_or_insert_with(|| prefixes.iter().map(|p| (p.net, p.len)).collect());
        }
        let found = mine(neigh::dump(ifindex).await?);
        let missing = |found: &[NeighFacts]| -> Vec<Prefix> {
            prefixes
                .iter()
                .filter(|p| !found.iter().any(|f| f.counted() && p.contains(&f.addr)))
                .copied()
                .collect()
        };
        let gaps = missing(&found);
        if !probe || gaps.is_empty() || macs.is_empty() {
            return Ok(found);
        }
        // A new prefix starts a probe round for the interface (the all-nodes echo, which the
        // sources waiting on it share); a host missing from a prefix that is not new (its
        // entry was garbage-collected, or it was off) has its expected addresses solicited,
        // at most once per PROBE_REPEAT so an absent host does not slow every pass.
        let now = tokio::time::Instant::now();
        let mut probes = self.probes.lock().await;
        probes
            .done
            .retain(|k, _| prefixes.iter().any(|p| (p.net, p.len) == *k));
        let unicast_due = macs.iter().any(|m| {
            probes
                .macs
                .get(m)
                .is_none_or(|at| now.duration_since(*at) >= PROBE_REPEAT)
        });
        let mut deadline: Option<tokio::time::Instant> = None;
        let mut rounds: Vec<Round> = Vec::new();
        for p in &gaps {
            let key = (p.net, p.len);
            let Some(source) = own.iter().find(|a| p.contains(a)) else {
                continue;
            };
            let multicast_from = match probes.done.get(&key) {
                Some(at) => *at,
                None => {
                    // A prefix that appears while ddnsd runs was just advertised: hosts are
                    // still checking their new addresses for duplicates, and one that
                    // answered now would answer from its old address and remember the
                    // router's new one without ever soliciting it from the new address. The
                    // expected addresses are solicited at once (the kernel retries until the
                    // host answers); the all-nodes echo waits for duplicate detection.
                    let at = if self.initial(p) {
                        now
                    } else {
                        now + DAD_ALLOWANCE
                    };
                    probes.done.insert(key, at);
                    at
                }
            };
            let round_open = now < multicast_from + PROBE_WAIT;
            if round_open || unicast_due {
                let until = if round_open {
                    multicast_from + PROBE_WAIT
                } else {
                    now + PROBE_WAIT
                };
                deadline = deadline.max(Some(until));
                rounds.push(Round {
                    prefix: *p,
                    source: *source,
                    multicast_from,
                    echoed: false,
                });
            }
        }
        if deadline.is_some() {
            for m in macs {
                probes.macs.insert(*m, now);
            }
        }
        drop(probes);
        let Some(deadline) = deadline else {
            return Ok(found);
        };
        let mut found = found;
        let mut again = now;
        while tokio::time::Instant::now() < deadline && !missing(&found).is_empty() {
            let now = tokio::time::Instant::now();
            let gaps = missing(&found);
            let tick = now >= again;
            if tick {
                again = now + PROBE_AGAIN;
            }
            for r in rounds.iter_mut().filter(|r| gaps.contains(&r.prefix)) {
                let window = now >= r.multicast_from && now < r.multicast_from + PROBE_WAIT;
                // Every PROBE_AGAIN, and at once when the all-nodes echo's window opens.
                if tick || (window && !r.echoed) {
                    r.echoed |= window;
                    self.probe(ifindex, &r.prefix, r.source, macs, window);
                }
            }
            tokio::time::sleep(POLL).await;
            found = mine(neigh::dump(ifindex).await?);
        }
        Ok(found)
    }

    /// True for a prefix seen at start-up (`first_prefixes`).
    fn initial(&self, p: &Prefix) -> bool {
        self.first_prefixes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|f| f.contains(&(p.net, p.len)))
    }

    fn probe(&self, ifindex: u32, p: &Prefix, source: Ipv6Addr, macs: &[[u8; 6]], all: bool) {
        let targets = self.expected(p, macs);
        let multicast = all && {
            let mut last = self
                .last_multicast
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let now = tokio::time::Instant::now();
            let due = last.is_none_or(|t| now.duration_since(t) >= PROBE_AGAIN);
            if due {
                *last = Some(now);
            }
            due
        };
        match super::probe::send(ifindex, source, multicast, &targets) {
            Ok(method) => tracing::debug!(
                interface = %self.interface, prefix = %format!("{}/{}", p.net, p.len),
                targets = targets.len(), ?method, "probed the lan"
            ),
            Err(e) => tracing::debug!(interface = %self.interface, error = %e, "probe not sent"),
        }
    }

    /// The addresses the hosts are expected to have on `p`: each MAC's EUI-64, and the
    /// interface IDs each had before (static suffixes keep theirs across a renumbering).
    fn expected(&self, p: &Prefix, macs: &[[u8; 6]]) -> Vec<Ipv6Addr> {
        let history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = BTreeSet::new();
        for m in macs {
            out.insert(p.with_host_of(&Ipv6Addr::from(u128::from(eui64(m)))));
            for s in history.of(&leases::mac_str(m)) {
                out.insert(p.with_host_of(&s.addr));
            }
        }
        out.into_iter().collect()
    }
}

/// A LAN host's addresses from the neighbour table.
pub struct NeighborsSource {
    name: String,
    settings: NeighborsSettings,
    from: Option<Arc<dyn Source>>,
    lan: Arc<Lan>,
}

impl NeighborsSource {
    /// A neighbors source named `name` reading `from` (`None`: it could not be built),
    /// sharing `lan` with the other sources of its interface.
    pub fn new(
        name: String,
        settings: NeighborsSettings,
        from: Option<Arc<dyn Source>>,
        lan: Arc<Lan>,
    ) -> NeighborsSource {
        NeighborsSource {
            name,
            settings,
            from,
            lan,
        }
    }

    fn failed(&self) -> SourceError {
        SourceError::InputFailed {
            from: self.settings.from.clone(),
        }
    }

    async fn detect_from(&self, from: &Detection) -> Result<Detection, SourceError> {
        let s = &self.settings;
        let own: Vec<Ipv6Addr> = from
            .candidates
            .iter()
            .filter(|c| c.verdict == super::Verdict::Selected)
            .filter_map(|c| match c.addr {
                IpAddr::V6(a) => Some(a),
                IpAddr::V4(_) => None,
            })
            .collect();
        let mut prefixes: Vec<Prefix> = Vec::new();
        for c in &from.candidates {
            if let (IpAddr::V6(a), super::Verdict::Selected) = (c.addr, c.verdict) {
                let p = Prefix::of(a, s.prefix_length, c.lifetime);
                if !prefixes.iter().any(|q| q.net == p.net) {
                    prefixes.push(p);
                }
            }
        }
        let macs = match &s.host {
            NeighborHost::Mac(m) => vec![*m],
            NeighborHost::Hostname {
                name,
                leases: file,
                format,
            } => leases::read(file, *format)?.macs_of(name),
        };
        let ifindex = neigh::link_index(&s.interface).await?;
        let entries = self
            .lan
            .entries(ifindex, &prefixes, &own, &macs, s.probe)
            .await?;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let rules = Rules {
            select: s.select,
            policy: s.policy,
        };
        let candidates = {
            let mut history = self.lan.history.lock().unwrap_or_else(|e| e.into_inner());
            select::judge(&entries, &prefixes, &mut history, rules, now)
        };
        Ok(Detection {
            source: self.name.clone(),
            candidates: candidates
                .into_iter()
                .map(|mut c| {
                    c.origin = s.interface.clone();
                    c
                })
                .collect(),
        })
    }
}

impl Source for NeighborsSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn families(&self) -> Vec<Family> {
        vec![Family::Ipv6]
    }

    fn watched_interfaces(&self) -> Option<Vec<String>> {
        self.from.as_ref().and_then(|f| f.watched_interfaces())
    }

    fn watched_neighbors(&self) -> Vec<String> {
        vec![self.settings.interface.clone()]
    }

    fn watched_files(&self) -> Vec<PathBuf> {
        match &self.settings.host {
            NeighborHost::Hostname { leases, .. } => vec![leases.clone()],
            NeighborHost::Mac(_) => Vec::new(),
        }
    }

    fn inputs(&self) -> Vec<String> {
        vec![self.settings.from.clone()]
    }

    fn load_history(&self, history: &NeighborHistory) {
        self.lan
            .history
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .merge(history);
    }

    fn history(&self) -> Option<NeighborHistory> {
        Some(
            self.lan
                .history
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }

    /// Standalone: detects the `from` source itself (a pass uses [`Source::detect_with`]).
    fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>> {
        Box::pin(async move {
            let from = self.from.as_ref().ok_or_else(|| self.failed())?;
            let d = from.detect().await.map_err(|_| self.failed())?;
            self.detect_from(&d).await
        })
    }

    fn detect_with<'a>(
        &'a self,
        inputs: &'a BTreeMap<String, Detection>,
    ) -> BoxFuture<'a, Result<Detection, SourceError>> {
        Box::pin(async move {
            let from = inputs
                .get(&self.settings.from)
                .ok_or_else(|| self.failed())?;
            self.detect_from(from).await
        })
    }
}
