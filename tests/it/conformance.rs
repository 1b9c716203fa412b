//! The conformance battery: ONE scenario list run against EVERY provider kind, each through a
//! small [`Fixture`] that starts the provider's backend (a real DNS server, a real PowerDNS, a
//! local API emulator), seeds it with [`seed`], counts its calls and injects faults.
//!
//! See: issue 9 item 1. The battery drives record changes through `ddnsd::reconcile::run_pass`
//! with a `MemoryStore`, so the plan decides what is written (as in the daemon); properties of
//! one provider call (retries, malformed replies, timeouts) go through the provider directly.
//! After EVERY scenario the foreign records (other names and types, seeded in every backend)
//! must be exactly as seeded.
//!
//! Families: the scenarios are written with IPv6 documentation addresses and run in the family
//! the provider publishes. A provider that publishes one family only (namecheap: IPv4, its
//! `Configured::families`) is declared so on its `fixtures!` line (checked against
//! `Configured::families`); every scenario then uses its record type and [`in_family`]'s
//! fixed, collision-checked mapping of each address into 198.51.100.0/24 and 203.0.113.0/24.
//! The `life` scenarios (create, update, unchanged, verify) publish both families when the
//! provider publishes both, else its one (the other is printed as skipped there, and seeded at
//! `life` as a foreign record instead); the other family next to every managed name is always
//! seeded as foreign, so "another type at a managed name is never touched" holds either way.
//!
//! A fixture declares the scenarios that cannot apply to its API ([`Fixture::skips`], with the
//! reason), and whether its API can read at all ([`Fixture::reads`]: write-only kinds such as
//! dyndns2 and webhook get the write halves of the fault scenarios, and their verify must cost
//! no call); the battery prints each skip and one summary line per provider:
//! `conformance rfc2136/bind: 16 scenarios, 1 skipped, reads=…, writes=…`.
//!
//! How it runs: the test `conformance::battery` re-executes this test binary for the fixtures
//! (`conformance::each::*`, ignored in a normal run), with a process-wide trace-level
//! subscriber writing to a file, and then fails if the marker secret appears in any output
//! (tracing's callsite interest is per process, so trace capture needs a process of its own).
//! One fixture alone: `cargo test --test it -- --ignored conformance::each::NAME --nocapture`.
//!
//! Adding a provider: write `conformance/KIND.rs` with a struct implementing [`Fixture`]
//! (about 30–60 lines over its emulator) and a `pub fn start(seed: &Seed) -> impl Fixture`,
//! then add one line to the `fixtures!` list below (`KIND => KIND::start [Ipv4]` when the
//! provider publishes IPv4 only).

mod alidns;
mod azure;
mod baiducloud;
mod cloudflare;
mod desec;
mod digitalocean;
mod dnspod;
mod duckdns;
mod dyndns2;
mod dynv6;
mod gandi;
mod gcloud;
mod godaddy;
mod hetzner;
mod huaweicloud;
mod namecheap;
mod porkbun;
mod powerdns;
mod rfc2136;
mod route53;
mod volcengine;
mod webhook;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ddnsd::addr::fixed::{StaticSettings, StaticSource};
use ddnsd::addr::Source;
use ddnsd::backoff::ThreadJitter;
use ddnsd::clock::SystemClock;
use ddnsd::http::{Backoff, HttpClient, HttpSettings};
use ddnsd::provider::{Configured, Provider, ProviderDeps, ProviderErrorKind, Scope};
use ddnsd::reconcile::{run_pass, Holds, Pass, RunReport, Status};
use ddnsd::record::{Family, Fqdn, RecordKey, RecordSpec, RecordType, RrSet, Ttl};
use ddnsd::state::{MemoryStore, StateStore};

// ---------------------------------------------------------------------------------------------
// The registry of fixtures: one line per provider backend.

/// Declares the fixtures: `name => module::start`, or `name => module::start [Ipv4]` for a
/// provider that publishes fewer families than both (the list is its `Configured::families`,
/// which the battery checks; it is declared here because the seed depends on it and is made
/// before the fixture starts). Each becomes the ignored test `conformance::each::name`, run by
/// [`battery`] in a child process.
macro_rules! fixtures {
    ($($name:ident => $module:ident :: $start:ident $([$($family:ident),+])?),* $(,)?) => {
        /// Every fixture's test name, in the order the battery runs them.
        pub const FIXTURES: &[&str] = &[$(stringify!($name)),*];

        /// One ignored test per fixture (run through [`battery`]).
        mod each {
            $(
                #[test]
                #[ignore = "run by conformance::battery in a child process with trace capture"]
                fn $name() {
                    // Empty: both families.
                    let families: &[super::Family] = &[$($(super::Family::$family),+)?];
                    super::run_fixture(families, |seed| Box::new(super::$module::$start(seed)));
                }
            )*
        }
    };
}

fixtures! {
    rfc2136_bind => rfc2136::bind,
    rfc2136_knot => rfc2136::knot,
    rfc2136_powerdns => rfc2136::powerdns,
    powerdns => powerdns::start,
    tencentcloud => dnspod::tencentcloud,
    dnspod => dnspod::legacy,
    alidns => alidns::start,
    huaweicloud => huaweicloud::start,
    cloudflare => cloudflare::start,
    route53 => route53::start,
    dyndns2_desec => dyndns2::desec,
    dyndns2_noip => dyndns2::noip,
    webhook => webhook::start,
    gcloud => gcloud::start,
    azure => azure::start,
    baiducloud => baiducloud::start,
    volcengine => volcengine::start,
    godaddy => godaddy::start,
    gandi => gandi::start,
    hetzner => hetzner::start,
    digitalocean => digitalocean::start,
    duckdns => duckdns::start,
    namecheap => namecheap::start [Ipv4],
    desec => desec::start,
    porkbun => porkbun::start,
    dynv6 => dynv6::start,
}

// ---------------------------------------------------------------------------------------------
// What a fixture is.

/// The zone every backend serves.
pub const ZONE: &str = "example.test";

/// The secret every fixture's credentials contain (TSIG secrets: its bytes). The battery fails
/// when it, or any form a fixture lists in [`Fixture::secrets`], appears in any output.
pub const MARKER: &str = "MARKER-c0nf0rm-SECRET";

/// The TTL of every record the battery writes or seeds.
pub const TTL: u32 = 600;

/// How long an rfc2136 fixture lets one exchange take (`Rfc2136Settings::timeout`).
pub const DNS_TIMEOUT: Duration = Duration::from_millis(1500);

/// The relative name whose writes the backend must refuse (its update policy, ACL, a
/// conflicting record…: the fixture decides how). Nothing else is seeded at this name.
pub const REFUSED: &str = "refused";

/// Every relative name a scenario writes (a backend that allows updates by name must allow
/// these, and refuse [`REFUSED`]).
pub const WRITTEN: &[&str] = &[
    "life", "stale", "pair", "pair2", "@", "auth", "srv", "slow", "rate", "accepted", REFUSED,
];

/// One record a fixture creates in its backend before the battery starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedRecord {
    /// The name relative to [`ZONE`] (`@` = the apex).
    pub name: &'static str,
    /// `A`, `AAAA` or `TXT`.
    pub rtype: &'static str,
    /// Addresses, or TXT texts (no quotes, no spaces).
    pub values: &'static [&'static str],
    /// True for records no scenario may change (checked after every scenario).
    pub foreign: bool,
}

/// What every backend holds before the first scenario.
#[derive(Clone, Debug)]
pub struct Seed {
    /// The zone ([`ZONE`]).
    pub zone: &'static str,
    /// The records, all with [`TTL`].
    pub records: Vec<SeedRecord>,
    /// The name whose writes must be refused ([`REFUSED`]).
    pub refused: &'static str,
}

/// The battery's seed for a provider publishing `families` (IPv6 first; the first is the
/// family of the single-family scenarios, see [`run`]): foreign records at other names, the
/// other family and TXT at every managed name (whatever a scenario does not publish there),
/// and the stale RRset the `stale-values` scenario starts from.
pub fn seed(families: &[Family]) -> Seed {
    let primary = families[0];
    let f = |name, rtype, values| SeedRecord {
        name,
        rtype,
        values,
        foreign: true,
    };
    let mut records = vec![
        f("other", "A", &["192.0.2.50"][..]),
        f("other", "AAAA", &["2001:db8:ffff::50"]),
        f("other", "TXT", &["foreign-other"]),
        f("@", "TXT", &["foreign-apex"]),
        f("life", "TXT", &["foreign-life"]),
        SeedRecord {
            name: "stale",
            rtype: primary.record_type().as_str(),
            values: stale_seed(primary),
            foreign: false,
        },
    ];
    // Every family a scenario does not publish at a managed name is foreign there: the other
    // family next to each single-family name, and next to `life` when the provider publishes
    // one family only.
    for (name, a, aaaa) in [
        ("life", &["192.0.2.201"][..], &["2001:db8:ffff::201"][..]),
        ("stale", &["192.0.2.205"], &["2001:db8:ffff::205"]),
        ("pair", &["192.0.2.206"], &["2001:db8:ffff::206"]),
        ("auth", &["192.0.2.209"], &["2001:db8:ffff::209"]),
        ("srv", &["192.0.2.210"], &["2001:db8:ffff::210"]),
        ("slow", &["192.0.2.211"], &["2001:db8:ffff::211"]),
        ("rate", &["192.0.2.212"], &["2001:db8:ffff::212"]),
        ("accepted", &["192.0.2.215"], &["2001:db8:ffff::215"]),
    ] {
        let published: &[Family] = if name == "life" { families } else { &[primary] };
        for (family, values) in [(Family::Ipv4, a), (Family::Ipv6, aaaa)] {
            if !published.contains(&family) {
                records.push(f(name, family.record_type().as_str(), values));
            }
        }
        if name != "life" {
            records.push(f(name, "TXT", &["foreign-same-name"]));
        }
    }
    Seed {
        zone: ZONE,
        records,
        refused: REFUSED,
    }
}

/// The stale RRset's values, as the battery writes them for IPv6.
const STALE: &[&str] = &["2001:db8:5::1", "2001:db8:5::beef", "2001:db8:5::dead"];

/// The stale RRset seeded for `family` ([`STALE`] through [`in_family`]).
fn stale_seed(family: Family) -> &'static [&'static str] {
    static V4: OnceLock<Vec<&'static str>> = OnceLock::new();
    match family {
        Family::Ipv6 => STALE,
        Family::Ipv4 => {
            V4.get_or_init(|| STALE.iter().map(|v| in_family(Family::Ipv4, v)).collect())
        }
    }
}

/// One of the battery's IPv6 documentation addresses, `2001:db8:S::H` (S < 0x20), in
/// `family`: itself for IPv6; for IPv4 the address `(S % 16) * 16 + H % 16` of 198.51.100.0/24
/// (S < 0x10) or 203.0.113.0/24 (192.0.2.0/24 holds the seeded and `life` A values). A fixed
/// rule, so a failure names the same address every run. Distinct addresses must stay
/// distinct: every call checks the mapping against the earlier ones, in either family (a
/// clash panics naming both, for every provider).
pub fn in_family(family: Family, v6: &'static str) -> &'static str {
    static MAPPED: OnceLock<Mutex<BTreeMap<Ipv6Addr, &'static str>>> = OnceLock::new();
    let a: Ipv6Addr = v6
        .parse()
        .unwrap_or_else(|_| panic!("battery address {v6:?} is not IPv6"));
    let [p, d, s, 0, 0, 0, 0, h] = a.segments() else {
        panic!("battery address {v6} is not of the form 2001:db8:S::H");
    };
    assert!(
        (p, d) == (0x2001, 0xdb8) && s < 0x20,
        "battery address {v6} is outside 2001:db8:0-1f::/48"
    );
    let mut mapped = MAPPED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let v4 = match mapped.get(&a) {
        Some(v4) => *v4,
        None => {
            let net: [u8; 3] = if s < 0x10 {
                [198, 51, 100]
            } else {
                [203, 0, 113]
            };
            let host = u8::try_from((s % 16) * 16 + h % 16).unwrap();
            let v4 = Ipv4Addr::new(net[0], net[1], net[2], host).to_string();
            if let Some((other, _)) = mapped.iter().find(|(_, m)| **m == v4) {
                panic!("battery addresses {other} and {a} both map to {v4}: pick another");
            }
            // Once per distinct address: a handful per process.
            let v4: &'static str = Box::leak(v4.into_boxed_str());
            mapped.insert(a, v4);
            v4
        }
    };
    match family {
        Family::Ipv6 => v6,
        Family::Ipv4 => v4,
    }
}

/// The mapping is fixed, leaves IPv6 as it is, and refuses to merge two addresses.
#[test]
fn in_family_maps_each_address_to_its_own_ipv4_documentation_address() {
    for (v6, v4) in [
        ("2001:db8:5::1", "198.51.100.81"),
        ("2001:db8:5::beef", "198.51.100.95"),
        ("2001:db8:5::dead", "198.51.100.93"),
        ("2001:db8:a::1", "198.51.100.161"),
        ("2001:db8:15::2", "203.0.113.82"),
    ] {
        assert_eq!(in_family(Family::Ipv4, v6), v4);
        assert_eq!(in_family(Family::Ipv6, v6), v6);
    }
    // 1f::3 and 1f::13 differ only above the host's low nibble: both would be 203.0.113.243.
    in_family(Family::Ipv4, "2001:db8:1f::3");
    let clash = std::panic::catch_unwind(|| in_family(Family::Ipv6, "2001:db8:1f::13"));
    assert!(clash.is_err(), "a clash is caught in either family");
    for outside in [
        "2001:db8:20::1",
        "2001:db9:1::1",
        "2001:db8:1:1::1",
        "192.0.2.1",
    ] {
        assert!(
            std::panic::catch_unwind(|| in_family(Family::Ipv4, outside)).is_err(),
            "{outside}"
        );
    }
}

/// Which credentials a provider gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Creds {
    /// The backend's credentials (containing [`MARKER`]).
    Good,
    /// Well-formed credentials the backend rejects (a wrong secret).
    Bad,
}

/// Which requests a fault hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Requests that only read (list, get, DNS query).
    Read,
    /// Requests that change something (create, modify, delete, replace, DNS UPDATE).
    Write,
}

/// A fault a fixture's backend (or the front before it) serves instead of the real answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 5xx; DNS SERVFAIL (signed like the server would sign it).
    ServerError,
    /// No answer at all (HTTP: the connection stays silent; DNS: the reply is dropped).
    Timeout,
    /// The API's throttling answer carrying `Retry-After` (HTTP 429 + header, or the API's own
    /// throttling error with the header).
    RateLimit {
        /// The delay the answer asks for.
        retry_after: Duration,
    },
    /// A success status with a body that is not the API's format (HTML instead of JSON, DNS
    /// bytes that are not a message).
    Malformed,
    /// A success status with the API's format cut short (half a JSON document; a DNS reply cut
    /// after its header).
    Truncated,
}

/// What a provider makes of rejected credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// The rejection is authenticated (it comes over TLS, or signed): an Auth error after
    /// exactly one call, never retried.
    Final,
    /// The rejection cannot be authenticated — a TSIG BADSIG/BADKEY reply cannot be signed
    /// (RFC 8945 §5.3.2) and so could be forged — and ddnsd does not let an untrusted reply
    /// park the provider (issue 8 item 3): a Transient error that still names the credential,
    /// after a bounded number of sends of the one request (its retransmissions), nothing
    /// written.
    Unverifiable,
}

/// Calls a backend received since the last [`Fixture::reset`], by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Reads (list, get, query).
    pub reads: u32,
    /// Row creations (id-based APIs).
    pub creates: u32,
    /// Row modifications (id-based APIs).
    pub modifies: u32,
    /// Row deletions (id-based APIs).
    pub deletes: u32,
    /// Whole-RRset replacements (DNS UPDATE, PowerDNS PATCH REPLACE…).
    pub replaces: u32,
}

impl Tally {
    /// Every write.
    pub fn writes(&self) -> u32 {
        self.creates + self.modifies + self.deletes + self.replaces
    }

    /// Every call.
    pub fn total(&self) -> u32 {
        self.reads + self.writes()
    }

    fn add(&mut self, o: Tally) {
        self.reads += o.reads;
        self.creates += o.creates;
        self.modifies += o.modifies;
        self.deletes += o.deletes;
        self.replaces += o.replaces;
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "reads={} writes={} (create={} modify={} delete={} replace={})",
            self.reads,
            self.writes(),
            self.creates,
            self.modifies,
            self.deletes,
            self.replaces
        )
    }
}

/// Classifies a count of calls per action into a [`Tally`] (for backends that count by
/// action name).
pub fn tally_of(calls: &BTreeMap<String, u32>, class: impl Fn(&str) -> Option<Kind>) -> Tally {
    let mut t = Tally::default();
    for (action, n) in calls {
        match class(action) {
            Some(Kind::Read) => t.reads += n,
            Some(Kind::Create) => t.creates += n,
            Some(Kind::Modify) => t.modifies += n,
            Some(Kind::Delete) => t.deletes += n,
            Some(Kind::Replace) => t.replaces += n,
            None => panic!("the fixture does not classify action {action:?}"),
        }
    }
    t
}

/// What one API action does (for [`tally_of`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Reads.
    Read,
    /// Creates a row.
    Create,
    /// Modifies a row in place (keeps its id).
    Modify,
    /// Deletes a row.
    Delete,
    /// Replaces a whole RRset.
    Replace,
}

/// The battery's scenarios, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scenario {
    /// A new AAAA and A RRset are created (at most one write each, no delete).
    Create,
    /// A changed address is at most one write per RRset, reusing record ids, never delete +
    /// create.
    Update,
    /// Unchanged addresses: zero calls between verifies.
    Unchanged,
    /// A verify pass reads, finds nothing to do, writes nothing.
    Verify,
    /// Extra stale values of the same name and type are replaced.
    StaleValues,
    /// One value becomes two.
    TwoValuesUp,
    /// Two values become one.
    TwoValuesDown,
    /// A record at the zone apex; the apex's NS and other types stay.
    Apex,
    /// Rejected credentials: exactly one call, an Auth error, a hint naming what to fix.
    Auth,
    /// A server error is retried (bounded) and the record ends published.
    ServerError,
    /// A lost reply is retried (bounded); a lost write reply is "could not confirm", never a
    /// plain failure or success.
    Timeout,
    /// A rate-limit answer is retried no sooner than its Retry-After.
    RateLimit,
    /// A malformed reply is never trusted: a Protocol error naming the action.
    Malformed,
    /// A truncated reply likewise.
    Truncated,
    /// A refused record fails alone; another record of the same provider in the same pass is
    /// published.
    RefusedRecord,
    /// No secret in any output at trace level (checked over everything the fixture logged).
    Secrets,
}

/// Every scenario, in order.
pub const SCENARIOS: &[Scenario] = &[
    Scenario::Create,
    Scenario::Update,
    Scenario::Unchanged,
    Scenario::Verify,
    Scenario::StaleValues,
    Scenario::TwoValuesUp,
    Scenario::TwoValuesDown,
    Scenario::Apex,
    Scenario::Auth,
    Scenario::ServerError,
    Scenario::Timeout,
    Scenario::RateLimit,
    Scenario::Malformed,
    Scenario::Truncated,
    Scenario::RefusedRecord,
    Scenario::Secrets,
];

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scenario::Create => "create",
            Scenario::Update => "update",
            Scenario::Unchanged => "unchanged",
            Scenario::Verify => "verify",
            Scenario::StaleValues => "stale-values",
            Scenario::TwoValuesUp => "two-values-up",
            Scenario::TwoValuesDown => "two-values-down",
            Scenario::Apex => "apex",
            Scenario::Auth => "auth",
            Scenario::ServerError => "server-error",
            Scenario::Timeout => "timeout",
            Scenario::RateLimit => "rate-limit",
            Scenario::Malformed => "malformed",
            Scenario::Truncated => "truncated",
            Scenario::RefusedRecord => "refused-record",
            Scenario::Secrets => "secrets",
        })
    }
}

/// One provider backend, started and seeded with [`seed`] by its `start(&Seed)` function.
pub trait Fixture: Send + Sync {
    /// `kind/backend`, e.g. `rfc2136/bind`.
    fn label(&self) -> String;

    /// The scenarios that cannot apply to this API, each with the reason (printed). Only what
    /// the API cannot express may be skipped (a DNS server has no HTTP 429).
    fn skips(&self) -> Vec<(Scenario, &'static str)> {
        Vec::new()
    }

    /// False for write-only kinds (dyndns2, webhook): their API has no read call, so
    /// `read_rrset` sends nothing and reports the set last acknowledged (from the hints). The
    /// battery then checks that a verify costs no call, and puts the read-side faults
    /// (timeout, server error, malformed and truncated replies) on writes instead.
    fn reads(&self) -> bool {
        true
    }

    /// True when the API keeps an id per record row ([`Fixture::ids`] must then return them):
    /// the battery checks that updates keep them.
    fn has_ids(&self) -> bool {
        false
    }

    /// The provider's settings for `creds`, pointed at the backend (or its front). Secrets
    /// must contain [`MARKER`].
    fn settings(&self, creds: Creds) -> Arc<dyn Configured>;

    /// Words the hint of the [`Creds::Bad`] error must contain: the setting to fix and the
    /// permission the key needs.
    fn auth_hint(&self) -> &'static [&'static str];

    /// How far the API's rejection of credentials can be trusted (default: fully).
    fn auth_failure(&self) -> AuthFailure {
        AuthFailure::Final
    }

    /// Every form in which this fixture's secrets could leak (raw, base64, joined…).
    fn secrets(&self) -> Vec<String>;

    /// The live values of (`name` relative to the zone, `rtype` = A|AAAA|TXT|NS), read from
    /// the backend itself, not through the provider or the front. Addresses and texts as
    /// written in [`SeedRecord`]; any order.
    fn live(&self, name: &str, rtype: &str) -> Vec<String>;

    /// The backend's record ids of (name, type), any order (only when [`Fixture::has_ids`]).
    fn ids(&self, _name: &str, _rtype: &str) -> Vec<String> {
        Vec::new()
    }

    /// Calls received since the last [`Fixture::reset`].
    fn tally(&self) -> Tally;

    /// Forgets the counts, the pending faults and the faulted actions.
    fn reset(&self);

    /// Serves `fault` to the next `times` requests of kind `op`.
    fn inject(&self, fault: Fault, op: Op, times: u32);

    /// The action of every request that got a fault since the last reset (as the provider
    /// names it in its errors: `DescribeRecordList`, `update`, `GET zone`…).
    fn faulted(&self) -> Vec<String>;
}

// ---------------------------------------------------------------------------------------------
// The parent test.

/// Runs every fixture in a child process with trace capture, prints the battery's lines, and
/// fails if a marker secret appears anywhere.
#[test]
fn battery() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.log");
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "conformance::each::",
            "--include-ignored",
            "--nocapture",
            "--test-threads=3",
        ])
        .env(TRACE_ENV, &trace)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let trace_text = std::fs::read_to_string(&trace).unwrap_or_default();
    let mut lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("conformance "))
        .collect();
    // The fixtures ran in parallel: group each provider's lines (skips, then its summary).
    lines.sort_by_key(|l| l.split(':').next().unwrap_or(""));
    for l in &lines {
        println!("{l}");
    }
    let summary = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/conformance.txt");
    let _ = std::fs::write(&summary, lines.join("\n") + "\n");
    assert!(
        out.status.success(),
        "the battery failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("{} passed", FIXTURES.len())),
        "{stdout}"
    );
    for name in FIXTURES {
        assert!(
            stdout.contains(&format!("conformance::each::{name} ... ok")),
            "fixture {name} did not run:\n{stdout}"
        );
    }
    assert_eq!(
        lines.iter().filter(|l| l.contains(" scenarios, ")).count(),
        FIXTURES.len(),
        "one summary line per fixture:\n{stdout}"
    );
    assert!(
        trace_text.contains("TRACE"),
        "trace-level output was captured"
    );
    for (what, text) in [
        ("stdout", &stdout),
        ("stderr", &stderr),
        ("trace", &trace_text),
    ] {
        assert!(
            !text.contains(MARKER),
            "the marker secret leaked into {what}"
        );
    }
}

/// The variable naming the file the child's trace-level subscriber writes to.
const TRACE_ENV: &str = "DDNSD_CONFORMANCE_TRACE";

/// The trace file of this process (installed once).
fn trace_file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = std::env::var_os(TRACE_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                std::env::temp_dir().join(format!("ddnsd-conformance-{}.log", std::process::id()))
            });
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        let file = Arc::new(Mutex::new(file));
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || TraceWriter(file.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        path
    })
}

struct TraceWriter(Arc<Mutex<std::fs::File>>);

impl std::io::Write for TraceWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap().flush()
    }
}

/// Starts one fixture, whose provider publishes `families` (empty: both), and runs the
/// battery over it (one ignored test per fixture).
fn run_fixture(families: &[Family], start: fn(&Seed) -> Box<dyn Fixture>) {
    let trace = trace_file();
    // IPv6 first: it is the family of the single-family scenarios whenever it is published.
    let families: Vec<Family> = [Family::Ipv6, Family::Ipv4]
        .into_iter()
        .filter(|f| families.is_empty() || families.contains(f))
        .collect();
    let fixture = start(&seed(&families));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let line = rt.block_on(run(fixture.as_ref(), &families, trace));
    println!("{line}");
}

// ---------------------------------------------------------------------------------------------
// The battery.

/// What the battery hands every provider: short timeouts and a quick backoff, so faults cost
/// seconds, not minutes.
fn deps() -> ProviderDeps {
    let settings = HttpSettings {
        connect_timeout: Duration::from_secs(1),
        total_timeout: Duration::from_secs(1),
        ..HttpSettings::default()
    };
    ProviderDeps {
        clock: Arc::new(SystemClock),
        http: HttpClient::new(&settings),
        backoff: Backoff {
            attempts: 3,
            base: Duration::from_millis(50),
            max: Duration::from_secs(3),
        },
        timeout: Duration::from_secs(1),
    }
}

/// The provider's name in every pass.
const PROVIDER: &str = "conformance";

/// One fixture under test.
struct Bench<'a> {
    fx: &'a dyn Fixture,
    label: String,
    deps: ProviderDeps,
    /// Foreign (name, type) → values as seeded (and the apex NS as found at start).
    foreign: Vec<(String, String, Vec<String>)>,
    /// Calls of every scenario, summed.
    totals: Tally,
    /// How each retrying scenario ended up retrying (printed).
    notes: Vec<String>,
    /// The families the provider publishes, IPv6 first: `life` gets each of them; every other
    /// scenario publishes the first alone.
    families: Vec<Family>,
}

/// One record of a pass: relative name and the addresses its source yields.
struct Rec<'a>(&'a str, &'a [&'a str]);

impl Bench<'_> {
    /// The family of the single-family scenarios.
    fn family(&self) -> Family {
        self.families[0]
    }

    /// Its record type.
    fn rtype(&self) -> RecordType {
        self.family().record_type()
    }

    /// Its record type as [`Fixture::live`] takes it.
    fn rt(&self) -> &'static str {
        self.rtype().as_str()
    }

    /// A scenario's IPv6 documentation address in [`Bench::family`] (see [`in_family`]).
    fn addr(&self, v6: &'static str) -> &'static str {
        in_family(self.family(), v6)
    }

    fn fqdn(&self, rel: &str) -> Fqdn {
        if rel == "@" {
            Fqdn::parse_relaxed(ZONE).unwrap()
        } else {
            Fqdn::parse_relaxed(&format!("{rel}.{ZONE}")).unwrap()
        }
    }

    fn provider(&self, creds: Creds) -> Arc<dyn Provider> {
        let settings = self.fx.settings(creds);
        // Logged at debug so the secret check covers the settings' Debug form.
        tracing::debug!(fixture = %self.label, ?creds, ?settings, "provider settings");
        settings.build(PROVIDER, &self.deps)
    }

    /// One pass over `records` (each fed by a static source), with a fresh provider as a new
    /// `run --once` process would have, remembering in `store`.
    async fn pass(
        &self,
        store: &MemoryStore,
        records: &[Rec<'_>],
        creds: Creds,
        verify: bool,
    ) -> RunReport {
        let mut sources: BTreeMap<String, Arc<dyn Source>> = BTreeMap::new();
        let mut specs = Vec::new();
        for (i, Rec(name, addrs)) in records.iter().enumerate() {
            let src = format!("src{i}");
            let addresses: Vec<IpAddr> = addrs.iter().map(|a| a.parse().unwrap()).collect();
            sources.insert(
                src.clone(),
                Arc::new(StaticSource::new(src.clone(), StaticSettings { addresses })),
            );
            specs.push(RecordSpec {
                name: self.fqdn(name),
                provider: PROVIDER.to_owned(),
                sources: vec![src],
                ttl: Ttl(TTL),
                ttl_auto: false,
                on_gone: Default::default(),
            });
        }
        let mut providers: BTreeMap<String, Arc<dyn Provider>> = BTreeMap::new();
        providers.insert(PROVIDER.to_owned(), self.provider(creds));
        // Fresh holds too: each pass is a new `run --once` process.
        run_pass(
            &Pass {
                sources: &sources,
                providers: &providers,
                records: &specs,
                store,
                clock: &SystemClock,
                dry_run: false,
                verify,
                only_sources: None,
            },
            &mut Holds::default(),
            &mut ThreadJitter,
        )
        .await
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        let mut v = self.fx.live(name, rtype);
        v.sort();
        v
    }

    fn ids(&self, name: &str, rtype: &str) -> Vec<String> {
        let mut v = self.fx.ids(name, rtype);
        v.sort();
        v
    }

    /// Asserts the backend holds exactly `want` at (name, type).
    fn expect_live(&self, s: Scenario, name: &str, rtype: &str, want: &[&str]) {
        let mut want: Vec<String> = want.iter().map(|v| norm(v)).collect();
        want.sort();
        assert_eq!(
            self.live(name, rtype),
            want,
            "{} {s}: live {name} {rtype}",
            self.label
        );
    }

    fn check_foreign(&self, s: Scenario) {
        for (name, rtype, want) in &self.foreign {
            assert_eq!(
                &self.live(name, rtype),
                want,
                "{} {s}: foreign record {name} {rtype} was changed",
                self.label
            );
        }
    }
}

/// The canonical text of a seeded value (addresses re-printed, texts as they are).
fn norm(v: &str) -> String {
    v.parse::<IpAddr>()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| v.to_owned())
}

/// Runs every scenario over `fx`, whose provider publishes `families` (IPv6 first); returns
/// the summary line.
async fn run(fx: &dyn Fixture, families: &[Family], trace: &Path) -> String {
    let label = fx.label();
    let mut publishes = fx.settings(Creds::Good).families().to_vec();
    publishes.sort();
    let mut declared = families.to_vec();
    declared.sort();
    assert_eq!(
        declared, publishes,
        "{label}: the fixtures! line declares {declared:?}, the provider's Configured::families is {publishes:?}"
    );
    let skips: BTreeMap<Scenario, &str> = fx.skips().into_iter().collect();
    let seed = seed(families);
    let mut foreign: Vec<(String, String, Vec<String>)> = seed
        .records
        .iter()
        .filter(|r| r.foreign)
        .map(|r| {
            let mut v: Vec<String> = r.values.iter().map(|v| norm(v)).collect();
            v.sort();
            (r.name.to_owned(), r.rtype.to_owned(), v)
        })
        .collect();
    let mut ns = fx.live("@", "NS");
    ns.sort();
    assert!(!ns.is_empty(), "{label}: the apex has NS records");
    foreign.push(("@".into(), "NS".into(), ns));
    let mut b = Bench {
        fx,
        label: label.clone(),
        deps: deps(),
        foreign,
        totals: Tally::default(),
        notes: Vec::new(),
        families: families.to_vec(),
    };
    // The seed is in place before anything runs.
    b.check_foreign(Scenario::Create);
    b.expect_live(
        Scenario::StaleValues,
        "stale",
        b.rt(),
        stale_seed(b.family()),
    );
    // A one-family provider cannot be given the other family at `life`: those scenarios
    // publish its family alone, and the other one is seeded there as foreign instead.
    let both = [
        Scenario::Create,
        Scenario::Update,
        Scenario::Unchanged,
        Scenario::Verify,
    ];
    let halved: Vec<String> = both
        .iter()
        .filter(|s| !skips.contains_key(s))
        .map(ToString::to_string)
        .collect();
    if let ([only], false) = (families, halved.is_empty()) {
        let other = match only {
            Family::Ipv4 => Family::Ipv6,
            Family::Ipv6 => Family::Ipv4,
        };
        println!(
            "conformance {label}: skipped {} in {}: the provider publishes {only} only (Configured::families); a foreign {} record sits at life instead",
            other.record_type().as_str(),
            halved.join(", "),
            other.record_type().as_str(),
        );
    }

    let life = MemoryStore::default();
    let mut ran = 0;
    for &s in SCENARIOS {
        if let Some(why) = skips.get(&s) {
            println!("conformance {label}: skipped {s}: {why}");
            continue;
        }
        fx.reset();
        let started = Instant::now();
        tracing::info!(fixture = %label, scenario = %s, "scenario");
        match s {
            Scenario::Create => create(&b, &life).await,
            Scenario::Update => update(&b, &life).await,
            Scenario::Unchanged => unchanged(&b, &life).await,
            Scenario::Verify => verify(&b, &life).await,
            Scenario::StaleValues => stale_values(&b).await,
            Scenario::TwoValuesUp | Scenario::TwoValuesDown => {
                two_values(&b, s == Scenario::TwoValuesUp).await
            }
            Scenario::Apex => apex(&b).await,
            Scenario::Auth => auth(&mut b).await,
            Scenario::ServerError => server_error(&mut b).await,
            Scenario::Timeout => timeout(&mut b).await,
            Scenario::RateLimit => rate_limit(&b).await,
            Scenario::Malformed => malformed(&mut b, Fault::Malformed).await,
            Scenario::Truncated => malformed(&mut b, Fault::Truncated).await,
            Scenario::RefusedRecord => refused_record(&mut b).await,
            Scenario::Secrets => secrets(&b, trace),
        }
        b.check_foreign(s);
        let t = fx.tally();
        tracing::info!(fixture = %label, scenario = %s, calls = %t, elapsed = ?started.elapsed(), "scenario done");
        b.totals.add(t);
        ran += 1;
    }
    let mut line = format!(
        "conformance {label}: {ran} scenarios, {} skipped, {}",
        skips.len(),
        b.totals
    );
    if !b.notes.is_empty() {
        line.push_str("; ");
        line.push_str(&b.notes.join(", "));
    }
    line
}

/// The status of (name, type) in a report.
fn status<'r>(b: &Bench<'_>, r: &'r RunReport, name: &str, rtype: RecordType) -> &'r Status {
    let key = RecordKey {
        name: b.fqdn(name),
        rtype,
    };
    &r.records
        .iter()
        .find(|o| o.key == key)
        .unwrap_or_else(|| panic!("{}: no outcome for {key} in {:?}", b.label, r.records))
        .status
}

fn assert_status(
    b: &Bench<'_>,
    s: Scenario,
    r: &RunReport,
    name: &str,
    rtype: RecordType,
    want: &str,
) {
    let got = status(b, r, name, rtype);
    let ok = matches!(
        (want, got),
        ("created", Status::Created)
            | ("unchanged", Status::Unchanged)
            | ("updated", Status::Updated { .. })
    );
    assert!(
        ok,
        "{} {s}: {name} {rtype:?} is {got:?}, want {want}",
        b.label
    );
}

const LIFE_V6: &str = "2001:db8:1::1";
const LIFE_V4: &str = "192.0.2.1";
const LIFE_V6_NEW: &str = "2001:db8:1::2";
const LIFE_V4_NEW: &str = "192.0.2.2";

/// `life`'s address in `family`, before (`new` false) or after the update.
fn life(family: Family, new: bool) -> &'static str {
    match (family, new) {
        (Family::Ipv6, false) => LIFE_V6,
        (Family::Ipv6, true) => LIFE_V6_NEW,
        (Family::Ipv4, false) => LIFE_V4,
        (Family::Ipv4, true) => LIFE_V4_NEW,
    }
}

/// `life`'s addresses in every family the provider publishes.
fn life_addrs(b: &Bench<'_>, new: bool) -> Vec<&'static str> {
    b.families.iter().map(|f| life(*f, new)).collect()
}

async fn create(b: &Bench<'_>, store: &MemoryStore) {
    let s = Scenario::Create;
    let r = b
        .pass(
            store,
            &[Rec("life", &life_addrs(b, false))],
            Creds::Good,
            false,
        )
        .await;
    for f in &b.families {
        assert_status(b, s, &r, "life", f.record_type(), "created");
    }
    for f in &b.families {
        b.expect_live(s, "life", f.record_type().as_str(), &[life(*f, false)]);
    }
    let t = b.fx.tally();
    // One write per RRset at most (an API that batches may send both in one).
    assert!(
        (1..=b.families.len() as u32).contains(&t.writes()),
        "{} {s}: at most one write per RRset: {t}",
        b.label
    );
    assert_eq!(t.deletes, 0, "{} {s}: {t}", b.label);
    if b.fx.has_ids() {
        assert_eq!(b.ids("life", b.rt()).len(), 1, "{} {s}", b.label);
    }
}

async fn update(b: &Bench<'_>, store: &MemoryStore) {
    let s = Scenario::Update;
    let ids = || -> Vec<Vec<String>> {
        b.families
            .iter()
            .map(|f| b.ids("life", f.record_type().as_str()))
            .collect()
    };
    let before = ids();
    b.fx.reset();
    let r = b
        .pass(
            store,
            &[Rec("life", &life_addrs(b, true))],
            Creds::Good,
            false,
        )
        .await;
    for f in &b.families {
        assert_status(b, s, &r, "life", f.record_type(), "updated");
    }
    for f in &b.families {
        b.expect_live(s, "life", f.record_type().as_str(), &[life(*f, true)]);
    }
    let t = b.fx.tally();
    assert!(
        (1..=b.families.len() as u32).contains(&t.writes()),
        "{} {s}: at most one write per RRset: {t}",
        b.label
    );
    assert_eq!(
        (t.creates, t.deletes),
        (0, 0),
        "{} {s}: never delete-then-create: {t}",
        b.label
    );
    if b.fx.has_ids() {
        assert_eq!(ids(), before, "{} {s}: record ids reused", b.label);
    }
}

async fn unchanged(b: &Bench<'_>, store: &MemoryStore) {
    let s = Scenario::Unchanged;
    let r = b
        .pass(
            store,
            &[Rec("life", &life_addrs(b, true))],
            Creds::Good,
            false,
        )
        .await;
    for f in &b.families {
        assert_status(b, s, &r, "life", f.record_type(), "unchanged");
    }
    let t = b.fx.tally();
    assert_eq!(
        t.total(),
        0,
        "{} {s}: zero calls between verifies: {t}",
        b.label
    );
}

async fn verify(b: &Bench<'_>, store: &MemoryStore) {
    let s = Scenario::Verify;
    let r = b
        .pass(
            store,
            &[Rec("life", &life_addrs(b, true))],
            Creds::Good,
            true,
        )
        .await;
    for f in &b.families {
        assert_status(b, s, &r, "life", f.record_type(), "unchanged");
    }
    let t = b.fx.tally();
    assert_eq!(t.writes(), 0, "{} {s}: {t}", b.label);
    if b.fx.reads() {
        assert!(
            t.reads >= 1,
            "{} {s}: the verify read the live records: {t}",
            b.label
        );
    } else {
        assert_eq!(
            t.total(),
            0,
            "{} {s}: a write-only kind sends nothing to verify: {t}",
            b.label
        );
    }
    let state = store.load().unwrap();
    for f in &b.families {
        let key = RecordKey {
            name: b.fqdn("life"),
            rtype: f.record_type(),
        };
        // Only what was read can be called verified: a write-only kind is never stamped.
        assert_eq!(
            state.get(&key).and_then(|e| e.verified_at).is_some(),
            b.fx.reads(),
            "{} {s}: verified_at stamped for {key} exactly when it was read",
            b.label
        );
    }
}

async fn stale_values(b: &Bench<'_>) {
    let s = Scenario::StaleValues;
    let kept = b.addr(STALE[0]);
    let id_before = b.fx.has_ids().then(|| b.ids("stale", b.rt()));
    b.fx.reset();
    let r = b
        .pass(
            &MemoryStore::default(),
            &[Rec("stale", &[kept])],
            Creds::Good,
            false,
        )
        .await;
    assert_status(b, s, &r, "stale", b.rtype(), "created");
    b.expect_live(s, "stale", b.rt(), &[kept]);
    let t = b.fx.tally();
    assert_eq!(
        t.creates, 0,
        "{} {s}: the kept value is not re-created: {t}",
        b.label
    );
    if let Some(before) = id_before {
        let after = b.ids("stale", b.rt());
        assert_eq!(after.len(), 1, "{} {s}", b.label);
        assert!(
            before.contains(&after[0]),
            "{} {s}: the row holding the kept value survives",
            b.label
        );
    }
}

const PAIR_1: &str = "2001:db8:6::1";
const PAIR_2: &str = "2001:db8:6::2";

async fn two_values(b: &Bench<'_>, up: bool) {
    let s = if up {
        Scenario::TwoValuesUp
    } else {
        Scenario::TwoValuesDown
    };
    let store = MemoryStore::default();
    // Start from one value (up) or two (down), written by ddnsd itself.
    let (one, two) = (b.addr(PAIR_1), b.addr(PAIR_2));
    let start: &[&str] = if up { &[one] } else { &[one, two] };
    let end: &[&str] = if up { &[one, two] } else { &[two] };
    let name = if up { "pair" } else { "pair2" };
    let r = b
        .pass(&store, &[Rec(name, start)], Creds::Good, false)
        .await;
    assert_status(b, s, &r, name, b.rtype(), "created");
    b.expect_live(s, name, b.rt(), start);
    let kept_id = b.fx.has_ids().then(|| b.ids(name, b.rt()));
    b.fx.reset();
    let r = b.pass(&store, &[Rec(name, end)], Creds::Good, false).await;
    assert_status(b, s, &r, name, b.rtype(), "updated");
    b.expect_live(s, name, b.rt(), end);
    let t = b.fx.tally();
    assert!(t.writes() >= 1, "{} {s}: {t}", b.label);
    if let Some(before) = kept_id {
        let after = b.ids(name, b.rt());
        if up {
            assert_eq!(t.deletes, 0, "{} {s}: {t}", b.label);
            assert!(
                after.iter().any(|id| before.contains(id)),
                "{} {s}: the existing row is kept",
                b.label
            );
        } else {
            assert_eq!(t.creates, 0, "{} {s}: {t}", b.label);
            assert!(
                before.contains(&after[0]),
                "{} {s}: a surviving row is reused",
                b.label
            );
        }
    }
}

async fn apex(b: &Bench<'_>) {
    let s = Scenario::Apex;
    let v = b.addr("2001:db8:a::1");
    let r = b
        .pass(
            &MemoryStore::default(),
            &[Rec("@", &[v])],
            Creds::Good,
            false,
        )
        .await;
    assert_status(b, s, &r, "@", b.rtype(), "created");
    b.expect_live(s, "@", b.rt(), &[v]);
}

async fn auth(b: &mut Bench<'_>) {
    let s = Scenario::Auth;
    let r = b
        .pass(
            &MemoryStore::default(),
            &[Rec("auth", &[b.addr("2001:db8:9::1")])],
            Creds::Bad,
            false,
        )
        .await;
    let Status::Failed(e) = status(b, &r, "auth", b.rtype()) else {
        panic!("{} {s}: not failed: {:?}", b.label, r.records);
    };
    let t = b.fx.tally();
    match b.fx.auth_failure() {
        AuthFailure::Final => {
            assert_eq!(e.kind, ProviderErrorKind::Auth, "{} {s}: {e:?}", b.label);
            assert_eq!(
                t.total(),
                1,
                "{} {s}: exactly one call, no retry: {t}",
                b.label
            );
        }
        AuthFailure::Unverifiable => {
            assert_eq!(
                e.kind,
                ProviderErrorKind::Transient,
                "{} {s}: {e:?}",
                b.label
            );
            assert!(
                t.reads == 0 && (1..=3).contains(&t.writes()),
                "{} {s}: one request, sent a bounded number of times: {t}",
                b.label
            );
            b.notes
                .push("auth rejection unverifiable: transient".to_owned());
        }
    }
    let hint = e.hint().unwrap_or_default();
    for w in b.fx.auth_hint() {
        assert!(
            hint.contains(w),
            "{} {s}: hint {hint:?} lacks {w:?}",
            b.label
        );
    }
    b.expect_live(s, "auth", b.rt(), &[]);
}

/// Publishes `name` after a fault on the first write; returns how it was retried.
async fn publish_through(b: &Bench<'_>, s: Scenario, name: &str, value: &str) -> &'static str {
    let store = MemoryStore::default();
    let r = b
        .pass(&store, &[Rec(name, &[value])], Creds::Good, false)
        .await;
    let how = match status(b, &r, name, b.rtype()) {
        Status::Created => {
            let t = b.fx.tally();
            // Bounded: a slow server may see a third send before its first answer arrives.
            assert!(
                (2..=3).contains(&t.writes()),
                "{} {s}: retried within the call, bounded: {t}",
                b.label
            );
            "in-call"
        }
        Status::Failed(e) => {
            let allowed = match s {
                Scenario::Timeout => ProviderErrorKind::Unconfirmed,
                _ => ProviderErrorKind::Transient,
            };
            assert_eq!(e.kind, allowed, "{} {s}: {e:?}", b.label);
            if s == Scenario::Timeout {
                assert!(
                    e.message.contains("could not confirm"),
                    "{} {s}: {e:?}",
                    b.label
                );
            }
            let r = b
                .pass(&store, &[Rec(name, &[value])], Creds::Good, false)
                .await;
            match status(b, &r, name, b.rtype()) {
                Status::Created => "next-pass",
                // The unconfirmed write had happened: the next pass read the live record
                // (issue 8 item 7) and found it current.
                Status::Unchanged if s == Scenario::Timeout => "confirmed by a read next pass",
                other => panic!("{} {s}: the next pass: {other:?}", b.label),
            }
        }
        other => panic!("{} {s}: {other:?}", b.label),
    };
    b.expect_live(s, name, b.rt(), &[value]);
    how
}

async fn server_error(b: &mut Bench<'_>) {
    let s = Scenario::ServerError;
    b.fx.inject(Fault::ServerError, Op::Write, 1);
    let how = publish_through(b, s, "srv", b.addr("2001:db8:10::1")).await;
    b.notes.push(format!("server-error retried {how}"));
    if !b.fx.reads() {
        return;
    }
    // Bounded: a server that keeps failing ends the call with a transient error.
    b.fx.reset();
    b.fx.inject(Fault::ServerError, Op::Read, 20);
    let p = b.provider(Creds::Good);
    let key = RecordKey {
        name: b.fqdn("srv"),
        rtype: b.rtype(),
    };
    let e = p
        .read_rrset(&key, &Default::default())
        .await
        .expect_err("a read against a failing server fails");
    assert_eq!(
        e.kind,
        ProviderErrorKind::Transient,
        "{} {s}: {e:?}",
        b.label
    );
    let t = b.fx.tally();
    assert!(
        (1..=3).contains(&t.reads),
        "{} {s}: bounded retries: {t}",
        b.label
    );
}

async fn timeout(b: &mut Bench<'_>) {
    let s = Scenario::Timeout;
    let key = RecordKey {
        name: b.fqdn("life"),
        rtype: b.rtype(),
    };
    if b.fx.reads() {
        // One lost reply to a read: retried within the call.
        let clean = b
            .provider(Creds::Good)
            .read_rrset(&key, &Default::default())
            .await
            .unwrap_or_else(|e| panic!("{} {s}: {e:?}", b.label));
        let reads = b.fx.tally().reads;
        b.fx.inject(Fault::Timeout, Op::Read, 1);
        let live = b
            .provider(Creds::Good)
            .read_rrset(&key, &Default::default())
            .await
            .unwrap_or_else(|e| panic!("{} {s}: a lost reply is retried: {e:?}", b.label));
        assert_eq!(live.addrs, clean.addrs, "{} {s}", b.label);
        let t = b.fx.tally();
        assert!(
            (2 * reads + 1..=2 * reads + 2).contains(&t.reads),
            "{} {s}: retried, bounded: {t}",
            b.label
        );
    }
    // A lost reply to a write: retried, or honestly unconfirmed and repaired next pass.
    b.fx.reset();
    b.fx.inject(Fault::Timeout, Op::Write, 1);
    let how = publish_through(b, s, "slow", b.addr("2001:db8:11::1")).await;
    b.notes.push(format!("lost write reply {how}"));
    if !b.fx.reads() {
        return;
    }
    // Bounded: a server that never answers ends the call.
    b.fx.reset();
    b.fx.inject(Fault::Timeout, Op::Read, 20);
    let started = Instant::now();
    let e = b
        .provider(Creds::Good)
        .read_rrset(&key, &Default::default())
        .await
        .expect_err("a read against a silent server fails");
    assert!(
        matches!(
            e.kind,
            ProviderErrorKind::Transient | ProviderErrorKind::Unreachable
        ),
        "{} {s}: {e:?}",
        b.label
    );
    let t = b.fx.tally();
    assert!((1..=3).contains(&t.reads), "{} {s}: bounded: {t}", b.label);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{} {s}: the call ended",
        b.label
    );
}

async fn rate_limit(b: &Bench<'_>) {
    let s = Scenario::RateLimit;
    let retry_after = Duration::from_secs(1);
    b.fx.inject(Fault::RateLimit { retry_after }, Op::Write, 1);
    let started = Instant::now();
    let r = b
        .pass(
            &MemoryStore::default(),
            &[Rec("rate", &[b.addr("2001:db8:12::1")])],
            Creds::Good,
            false,
        )
        .await;
    let elapsed = started.elapsed();
    assert_status(b, s, &r, "rate", b.rtype(), "created");
    b.expect_live(s, "rate", b.rt(), &[b.addr("2001:db8:12::1")]);
    let t = b.fx.tally();
    assert_eq!(t.writes(), 2, "{} {s}: retried once: {t}", b.label);
    assert!(
        elapsed >= retry_after,
        "{} {s}: retried after {elapsed:?}, before Retry-After {retry_after:?}",
        b.label
    );
}

async fn malformed(b: &mut Bench<'_>, fault: Fault) {
    let s = if fault == Fault::Malformed {
        Scenario::Malformed
    } else {
        Scenario::Truncated
    };
    let key = RecordKey {
        name: b.fqdn("life"),
        rtype: b.rtype(),
    };
    if !b.fx.reads() {
        // A write-only kind: the bad reply answers a write, and is not trusted either.
        b.fx.inject(fault, Op::Write, 1);
        let desired = RrSet {
            name: key.name.clone(),
            rtype: b.rtype(),
            ttl: Ttl(TTL),
            addrs: [life(b.family(), true).parse::<IpAddr>().unwrap()]
                .into_iter()
                .collect(),
        };
        let e = b
            .provider(Creds::Good)
            .apply_rrset(&desired, &Default::default())
            .await
            .expect_err("a bad reply to a write is not a success");
        assert_eq!(
            e.kind,
            ProviderErrorKind::Protocol,
            "{} {s}: {e:?}",
            b.label
        );
        let faulted = b.fx.faulted();
        let action = faulted.last().expect("the fault was served");
        assert!(
            e.message.contains(action.as_str()),
            "{} {s}: {:?} does not name the action {action:?}",
            b.label,
            e.message
        );
        let t = b.fx.tally();
        assert_eq!(t.writes(), 1, "{} {s}: not retried: {t}", b.label);
        return;
    }
    b.fx.inject(fault, Op::Read, 1);
    let result = b
        .provider(Creds::Good)
        .read_rrset(&key, &Default::default())
        .await;
    let t = b.fx.tally();
    match result {
        Err(e) => {
            assert_eq!(
                e.kind,
                ProviderErrorKind::Protocol,
                "{} {s}: {e:?}",
                b.label
            );
            let faulted = b.fx.faulted();
            let action = faulted.last().expect("the fault was served");
            assert!(
                e.message.contains(action.as_str()),
                "{} {s}: {:?} does not name the action {action:?}",
                b.label,
                e.message
            );
            assert_eq!(t.reads, 1, "{} {s}: not retried: {t}", b.label);
        }
        // A reply that fails authentication may be discarded while the real one is awaited
        // (TSIG, RFC 8945 §5.3): then it was asked again and the right answer came.
        Ok(live) => {
            assert!(
                t.reads >= 2,
                "{} {s}: a bad reply was trusted: {t}",
                b.label
            );
            let want: ddnsd::record::AddrSet = [life(b.family(), true).parse::<IpAddr>().unwrap()]
                .into_iter()
                .collect();
            assert_eq!(live.addrs, want, "{} {s}", b.label);
            b.notes.push(format!("{s} reply discarded and asked again"));
        }
    }
}

async fn refused_record(b: &mut Bench<'_>) {
    let s = Scenario::RefusedRecord;
    let r = b
        .pass(
            &MemoryStore::default(),
            // The refused record first: a provider that stopped after it would skip the other.
            &[
                Rec(REFUSED, &[b.addr("2001:db8:15::1")]),
                Rec("accepted", &[b.addr("2001:db8:15::2")]),
            ],
            Creds::Good,
            false,
        )
        .await;
    let Status::Failed(e) = status(b, &r, REFUSED, b.rtype()) else {
        panic!(
            "{} {s}: the refused record did not fail: {:?}",
            b.label, r.records
        );
    };
    // Charged to the record alone. Its kind is the API's to say: a signed or TLS refusal is
    // permanent (Forbidden / Rejected), an unsigned one (Knot's NOTAUTH/BADKEY for a denied
    // name) cannot be trusted and stays transient.
    assert_eq!(e.scope(), Scope::Record, "{} {s}: {e:?}", b.label);
    b.notes
        .push(format!("refused record {}", kind_name(&e.kind)));
    assert_status(b, s, &r, "accepted", b.rtype(), "created");
    b.expect_live(s, "accepted", b.rt(), &[b.addr("2001:db8:15::2")]);
    b.expect_live(s, REFUSED, b.rt(), &[]);
}

/// A kind's name for the summary line.
fn kind_name(k: &ProviderErrorKind) -> &'static str {
    match k {
        ProviderErrorKind::Auth => "auth",
        ProviderErrorKind::Forbidden => "forbidden",
        ProviderErrorKind::ClockSkew { .. } => "clock-skew",
        ProviderErrorKind::ZoneNotFound => "zone-not-found",
        ProviderErrorKind::RateLimited { .. } => "rate-limited",
        ProviderErrorKind::Unreachable => "unreachable",
        ProviderErrorKind::Transient => "transient",
        ProviderErrorKind::Unconfirmed => "unconfirmed",
        ProviderErrorKind::Protocol => "protocol",
        ProviderErrorKind::Rejected => "rejected",
    }
}

fn secrets(b: &Bench<'_>, trace: &Path) {
    let s = Scenario::Secrets;
    let forms = b.fx.secrets();
    assert!(
        !forms.is_empty(),
        "{} {s}: the fixture lists its secrets",
        b.label
    );
    assert!(
        forms.iter().any(|f| f.contains(MARKER)),
        "{} {s}: the secrets contain the marker",
        b.label
    );
    let text = std::fs::read_to_string(trace).unwrap_or_default();
    assert!(
        text.contains(&format!("fixture={}", b.label)),
        "{} {s}: the trace captured this fixture",
        b.label
    );
    for f in &forms {
        assert!(
            !text.contains(f.as_str()),
            "{} {s}: a secret leaked into the trace",
            b.label
        );
    }
}
