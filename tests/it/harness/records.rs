//! The small values every provider test builds: an address, an RRset, a record key, no hints,
//! and the provider's dependencies with test-sized timeouts. One place, so the provider tests
//! differ only in what they test.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ddnsd::clock::SystemClock;
use ddnsd::http::{Backoff, HttpClient, HttpSettings};
use ddnsd::provider::{ProviderDeps, ProviderHints};
use ddnsd::record::{RecordKey, RecordType, RrSet, Ttl};

/// A provider's dependencies: HTTP connect and total timeouts of `http`, retries (3 attempts,
/// from 20 ms up to `backoff_max`) and a per-call `timeout`.
pub fn deps_with(http: Duration, backoff_max: Duration, timeout: Duration) -> ProviderDeps {
    let settings = HttpSettings {
        connect_timeout: http,
        total_timeout: http,
        ..HttpSettings::default()
    };
    ProviderDeps {
        clock: Arc::new(SystemClock),
        http: HttpClient::new(&settings),
        backoff: Backoff {
            attempts: 3,
            base: Duration::from_millis(20),
            max: backoff_max,
        },
        timeout,
    }
}

/// [`deps_with`] 2 s HTTP timeouts, backoff up to 1 s, 2 s per call: what most emulator tests
/// use.
pub fn deps() -> ProviderDeps {
    deps_with(
        Duration::from_secs(2),
        Duration::from_secs(1),
        Duration::from_secs(2),
    )
}

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
