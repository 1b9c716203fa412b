//! Shared value types: [`Fqdn`], [`RecordType`], [`Family`], [`Ttl`], [`AddrSet`], [`RrSet`],
//! and the neighbour sightings the state file keeps ([`NeighborHistory`]).
//!
//! Pure. Depends on nothing else in the crate.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A fully qualified domain name, stored lower-case without the trailing dot.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fqdn(String);

/// Why a string is not a usable domain name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FqdnError {
    /// The name is empty.
    #[error("the name is empty")]
    Empty,
    /// The name has a single label; DNS records here are always inside a zone.
    #[error("{0:?} is not fully qualified (it needs at least one dot, e.g. \"host.example.com\")")]
    NotQualified(String),
    /// A label is empty, too long, or holds a character outside letters, digits, '-' and '_'.
    #[error("{name:?} has an invalid label {label:?} (labels are 1-63 letters, digits, '-' or '_', not starting or ending with '-')")]
    BadLabel {
        /// The whole name.
        name: String,
        /// The offending label.
        label: String,
    },
    /// The name is longer than 253 characters.
    #[error("{0:?} is longer than 253 characters")]
    TooLong(String),
}

impl Fqdn {
    /// The name without the trailing dot, lower-case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name with a trailing dot, as DNS wire tools write it.
    pub fn dotted(&self) -> String {
        format!("{}.", self.0)
    }

    /// True if `self` equals `zone` or lies below it.
    pub fn is_within(&self, zone: &Fqdn) -> bool {
        self.0 == zone.0
            || (self.0.len() > zone.0.len()
                && self.0.ends_with(&zone.0)
                && self.0.as_bytes()[self.0.len() - zone.0.len() - 1] == b'.')
    }

    /// The part of the name left of `zone` (`@` for the apex), or `None` when the name is not
    /// inside the zone.
    pub fn relative_to(&self, zone: &Fqdn) -> Option<String> {
        if self.0 == zone.0 {
            Some("@".to_owned())
        } else if self.is_within(zone) {
            Some(self.0[..self.0.len() - zone.0.len() - 1].to_owned())
        } else {
            None
        }
    }

    /// The parent names from the closest to the top-level domain (exclusive of self), e.g.
    /// `a.b.example.com` → `b.example.com`, `example.com`, `com`.
    pub fn ancestors(&self) -> impl Iterator<Item = Fqdn> + '_ {
        self.0
            .match_indices('.')
            .map(move |(i, _)| Fqdn(self.0[i + 1..].to_owned()))
    }

    /// Parses a name given by a user or a server, with or without the trailing dot; allows a
    /// single label (zone apexes such as `test` when a server reports them).
    pub fn parse_relaxed(s: &str) -> Result<Fqdn, FqdnError> {
        let t = s.strip_suffix('.').unwrap_or(s).to_ascii_lowercase();
        if t.is_empty() {
            return Err(FqdnError::Empty);
        }
        if t.len() > 253 {
            return Err(FqdnError::TooLong(s.to_owned()));
        }
        for label in t.split('.') {
            let ok = !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'*');
            if !ok {
                return Err(FqdnError::BadLabel {
                    name: s.to_owned(),
                    label: label.to_owned(),
                });
            }
        }
        Ok(Fqdn(t))
    }
}

impl FromStr for Fqdn {
    type Err = FqdnError;

    /// Parses a user-written record name: at least two labels.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let f = Fqdn::parse_relaxed(s)?;
        if !f.0.contains('.') {
            return Err(FqdnError::NotQualified(s.to_owned()));
        }
        Ok(f)
    }
}

impl TryFrom<String> for Fqdn {
    type Error = FqdnError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Fqdn::parse_relaxed(&s)
    }
}

impl From<Fqdn> for String {
    fn from(f: Fqdn) -> String {
        f.0
    }
}

impl fmt::Display for Fqdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4, published as A records.
    Ipv4,
    /// IPv6, published as AAAA records.
    Ipv6,
}

impl Family {
    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }

    /// The record type that carries addresses of this family.
    pub fn record_type(self) -> RecordType {
        match self {
            Family::Ipv4 => RecordType::A,
            Family::Ipv6 => RecordType::Aaaa,
        }
    }

    /// The config spelling: `ipv4` / `ipv6`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The address record types ddnsd manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RecordType {
    /// IPv4 address record.
    A,
    /// IPv6 address record.
    #[serde(rename = "AAAA")]
    Aaaa,
}

impl RecordType {
    /// `A` or `AAAA`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
        }
    }

    /// The address family this type carries.
    pub fn family(self) -> Family {
        match self {
            RecordType::A => Family::Ipv4,
            RecordType::Aaaa => Family::Ipv6,
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record TTL in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ttl(pub u32);

impl Ttl {
    /// The TTL used when a record does not say: 300 s, short enough for a prefix change.
    pub const DEFAULT: Ttl = Ttl(300);
}

impl fmt::Display for Ttl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A sorted, de-duplicated set of addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AddrSet(BTreeSet<IpAddr>);

impl AddrSet {
    /// The empty set.
    pub fn new() -> AddrSet {
        AddrSet(BTreeSet::new())
    }

    /// Adds an address.
    pub fn insert(&mut self, addr: IpAddr) {
        self.0.insert(addr);
    }

    /// True if the set holds no address.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of addresses.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if `addr` is in the set.
    pub fn contains(&self, addr: &IpAddr) -> bool {
        self.0.contains(addr)
    }

    /// The addresses in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = &IpAddr> {
        self.0.iter()
    }

    /// Only the addresses of one family.
    pub fn of_family(&self, family: Family) -> AddrSet {
        self.0
            .iter()
            .filter(|a| Family::of(a) == family)
            .copied()
            .collect()
    }
}

impl FromIterator<IpAddr> for AddrSet {
    fn from_iter<I: IntoIterator<Item = IpAddr>>(iter: I) -> Self {
        AddrSet(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a AddrSet {
    type Item = &'a IpAddr;
    type IntoIter = std::collections::btree_set::Iter<'a, IpAddr>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for AddrSet {
    /// Comma-separated, or `-` for the empty set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("-");
        }
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

/// The complete set of address records of one (name, type).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RrSet {
    /// Owner name.
    pub name: Fqdn,
    /// A or AAAA.
    pub rtype: RecordType,
    /// TTL for every record of the set.
    pub ttl: Ttl,
    /// The addresses.
    pub addrs: AddrSet,
}

/// The identity of a managed RRset: (name, type).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecordKey {
    /// Owner name.
    pub name: Fqdn,
    /// A or AAAA.
    pub rtype: RecordType,
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.rtype)
    }
}

impl RrSet {
    /// The (name, type) key of this set.
    pub fn key(&self) -> RecordKey {
        RecordKey {
            name: self.name.clone(),
            rtype: self.rtype,
        }
    }
}

/// One `[[records]]` entry: a name kept pointing at the addresses of some sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSpec {
    /// The record's name.
    pub name: Fqdn,
    /// The provider's name.
    pub provider: String,
    /// The sources' names; IPv6 sources feed AAAA, IPv4 sources feed A.
    pub sources: Vec<String>,
    /// The TTL to publish (with `ttl_auto`, the most it may be).
    pub ttl: Ttl,
    /// `ttl = "auto"`: the TTL is capped at the published addresses' remaining preferred
    /// lifetime (issue 12).
    pub ttl_auto: bool,
    /// What happens when the sources find no address for the host.
    pub on_gone: OnGone,
}

/// What a record does when its sources work but find no address (issue 12).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnGone {
    /// Leave the record as it is (the default: ddnsd never blanks a record on its own).
    #[default]
    Keep,
    /// Withdraw the record once the host has had no address for `grace`.
    Delete {
        /// How long the host may be without an address first.
        grace: Duration,
    },
}

/// Neighbour sightings kept between runs (issue 12): per MAC (`aa:bb:cc:dd:ee:ff`), the IPv6
/// addresses seen, with when each was first and last seen (Unix milliseconds: a host's
/// addresses often show up within the same second). A `neighbors` source chooses the
/// address seen first among those still in use, so this must survive a restart. Bounded:
/// [`NeighborHistory::MAX_HOSTS`] hosts, [`NeighborHistory::MAX_PER_HOST`] addresses each,
/// nothing older than [`NeighborHistory::RETENTION`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeighborHistory {
    /// The section's own format version (a newer one is dropped, not misread).
    #[serde(default)]
    pub version: u32,
    /// Sightings per MAC.
    #[serde(default)]
    pub hosts: BTreeMap<String, Vec<Sighting>>,
}

/// One address of one host, as seen in the neighbour table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sighting {
    /// The address.
    pub addr: Ipv6Addr,
    /// When it was first seen (Unix milliseconds).
    pub first_seen_ms: u64,
    /// When it was last seen, to [`NeighborHistory::RESOLUTION`] (Unix milliseconds).
    pub last_seen_ms: u64,
}

impl NeighborHistory {
    /// The format version this ddnsd writes.
    pub const VERSION: u32 = 1;
    /// At most this many hosts are remembered (the least recently seen go first).
    pub const MAX_HOSTS: usize = 1024;
    /// At most this many addresses per host (the least recently seen go first).
    pub const MAX_PER_HOST: usize = 16;
    /// Sightings not repeated for this long are forgotten (milliseconds: 30 days).
    pub const RETENTION: u64 = 30 * 86_400_000;
    /// `last_seen_ms` moves only in steps of this many milliseconds (an hour), so a steady
    /// LAN does not rewrite the state file on every pass.
    pub const RESOLUTION: u64 = 3_600_000;

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// When `addr` of `mac` was first seen (Unix milliseconds), if ever.
    pub fn first_seen(&self, mac: &str, addr: &Ipv6Addr) -> Option<u64> {
        self.hosts
            .get(mac)?
            .iter()
            .find(|s| &s.addr == addr)
            .map(|s| s.first_seen_ms)
    }

    /// The sightings of one host.
    pub fn of(&self, mac: &str) -> &[Sighting] {
        self.hosts.get(mac).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Records that `addr` of `mac` is seen at `now` (Unix milliseconds); true if anything
    /// changed.
    pub fn saw(&mut self, mac: &str, addr: Ipv6Addr, now: u64) -> bool {
        let list = self.hosts.entry(mac.to_owned()).or_default();
        match list.iter_mut().find(|s| s.addr == addr) {
            Some(s) if now >= s.last_seen_ms + Self::RESOLUTION => {
                s.last_seen_ms = now;
                true
            }
            Some(_) => false,
            None => {
                list.push(Sighting {
                    addr,
                    first_seen_ms: now,
                    last_seen_ms: now,
                });
                self.bound(now);
                true
            }
        }
    }

    /// Takes in `other` (earliest first sight, latest last sight win); true if anything
    /// changed.
    pub fn merge(&mut self, other: &NeighborHistory) -> bool {
        let before = self.clone();
        for (mac, list) in &other.hosts {
            let mine = self.hosts.entry(mac.clone()).or_default();
            for s in list {
                match mine.iter_mut().find(|m| m.addr == s.addr) {
                    Some(m) => {
                        m.first_seen_ms = m.first_seen_ms.min(s.first_seen_ms);
                        m.last_seen_ms = m.last_seen_ms.max(s.last_seen_ms);
                    }
                    None => mine.push(s.clone()),
                }
            }
        }
        let now = self
            .hosts
            .values()
            .flatten()
            .map(|s| s.last_seen_ms)
            .max()
            .unwrap_or(0);
        self.bound(now);
        *self != before
    }

    /// Applies the bounds: retention, then the per-host and host caps.
    pub fn bound(&mut self, now: u64) {
        self.version = Self::VERSION;
        for list in self.hosts.values_mut() {
            list.retain(|s| s.last_seen_ms + Self::RETENTION > now);
            list.sort_by(|a, b| {
                b.last_seen_ms
                    .cmp(&a.last_seen_ms)
                    .then(a.addr.cmp(&b.addr))
            });
            list.truncate(Self::MAX_PER_HOST);
            list.sort_by(|a, b| {
                a.first_seen_ms
                    .cmp(&b.first_seen_ms)
                    .then(a.addr.cmp(&b.addr))
            });
        }
        self.hosts.retain(|_, l| !l.is_empty());
        if self.hosts.len() > Self::MAX_HOSTS {
            let mut by_age: Vec<(u64, String)> = self
                .hosts
                .iter()
                .map(|(m, l)| {
                    (
                        l.iter().map(|s| s.last_seen_ms).max().unwrap_or(0),
                        m.clone(),
                    )
                })
                .collect();
            by_age.sort();
            for (_, mac) in by_age.iter().take(self.hosts.len() - Self::MAX_HOSTS) {
                self.hosts.remove(mac);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqdn_parsing_table() {
        let cases: &[(&str, Result<&str, ()>)] = &[
            ("Host.Example.TEST.", Ok("host.example.test")),
            ("host.example.test", Ok("host.example.test")),
            ("_acme.example.test", Ok("_acme.example.test")),
            ("host", Err(())),
            ("", Err(())),
            ("a..b", Err(())),
            ("-a.b", Err(())),
            ("a b.c", Err(())),
        ];
        for (input, want) in cases {
            let got = input.parse::<Fqdn>();
            match want {
                Ok(s) => assert_eq!(got.as_ref().map(Fqdn::as_str), Ok(*s), "{input}"),
                Err(()) => assert!(got.is_err(), "{input} should fail"),
            }
        }
    }

    #[test]
    fn relative_names() {
        let zone: Fqdn = "example.test".parse().unwrap();
        let apex: Fqdn = "example.test".parse().unwrap();
        let sub: Fqdn = "a.b.example.test".parse().unwrap();
        let other: Fqdn = "aexample.test".parse().unwrap();
        assert_eq!(apex.relative_to(&zone).as_deref(), Some("@"));
        assert_eq!(sub.relative_to(&zone).as_deref(), Some("a.b"));
        assert_eq!(other.relative_to(&zone), None);
        let anc: Vec<String> = sub.ancestors().map(|f| f.to_string()).collect();
        assert_eq!(anc, ["b.example.test", "example.test", "test"]);
    }

    #[test]
    fn neighbor_history_is_bounded_and_merges() {
        let mut h = NeighborHistory::default();
        let a: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8::2".parse().unwrap();
        assert!(h.saw("m", a, 1000));
        assert!(
            !h.saw("m", a, 1000 + NeighborHistory::RESOLUTION - 1),
            "within resolution"
        );
        assert!(h.saw("m", a, 1000 + NeighborHistory::RESOLUTION));
        assert!(h.saw("m", b, 5000));
        assert_eq!(h.first_seen("m", &a), Some(1000));
        // Merging an older sighting keeps the earliest first sight.
        let mut old = NeighborHistory::default();
        old.saw("m", b, 10);
        assert!(h.merge(&old));
        assert_eq!(h.first_seen("m", &b), Some(10));
        assert!(!h.merge(&old), "idempotent");
        // Per-host cap: the least recently seen go.
        for i in 0..40u64 {
            h.saw(
                "n",
                format!("2001:db8:1::{i:x}").parse().unwrap(),
                100_000 + i,
            );
        }
        assert_eq!(h.of("n").len(), NeighborHistory::MAX_PER_HOST);
        assert!(h.of("n").iter().all(|s| s.first_seen_ms >= 100_000 + 24));
        // Retention: a host not seen for 30 days is forgotten.
        h.bound(2 * NeighborHistory::RESOLUTION + NeighborHistory::RETENTION);
        assert!(h.of("m").is_empty());
        // Host cap.
        let mut many = NeighborHistory::default();
        for i in 0..(NeighborHistory::MAX_HOSTS as u64 + 10) {
            many.saw(&format!("{i}"), a, 1_000_000 + i);
        }
        assert_eq!(many.hosts.len(), NeighborHistory::MAX_HOSTS);
        assert!(many.of("0").is_empty() && !many.of("1033").is_empty());
    }

    #[test]
    fn addrset_sorted_deduped_display() {
        let s: AddrSet = ["2001:db8::2", "2001:db8::1", "2001:db8::2", "192.0.2.1"]
            .iter()
            .map(|a| a.parse::<IpAddr>().unwrap())
            .collect();
        assert_eq!(s.to_string(), "192.0.2.1,2001:db8::1,2001:db8::2");
        assert_eq!(s.of_family(Family::Ipv6).len(), 2);
        assert_eq!(AddrSet::new().to_string(), "-");
    }
}
