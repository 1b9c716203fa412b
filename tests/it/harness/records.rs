//! The small values every provider test builds: an address, an RRset, a record key, no hints.
//! One place, so the provider tests differ only in what they test.

use std::net::IpAddr;

use ddnsd::provider::ProviderHints;
use ddnsd::record::{RecordKey, RecordType, RrSet, Ttl};

/// An address literal.
pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The RRset `name` `rtype` with `ttl` and these addresses.
pub fn rrset(name: &str, rtype: RecordType, ttl: u32, addrs: &[&str]) -> RrSet {
    RrSet {
        name: name.parse().unwrap(),
        rtype,
        ttl: Ttl(ttl),
        addrs: addrs.iter().map(|a| ip(a)).collect(),
    }
}

/// The key of `name` `rtype`.
pub fn key(name: &str, rtype: RecordType) -> RecordKey {
    RecordKey {
        name: name.parse().unwrap(),
        rtype,
    }
}

/// No hints: a record ddnsd has not written before.
pub fn none() -> ProviderHints {
    ProviderHints::default()
}
