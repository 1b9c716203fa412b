//! Fixtures for `rfc2136` against real servers — BIND, Knot and PowerDNS — each behind a DNS
//! front (`harness/dnsproxy.rs`) that counts queries and UPDATEs and serves the faults. The
//! test key's secret contains the marker; the refused name is refused by the server itself
//! (BIND: an update-policy `deny` rule; Knot: an ACL allowing only the other names; PowerDNS:
//! a CNAME at the name, which it answers with REFUSED).

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use ddnsd::provider::rfc2136::Rfc2136Settings;
use ddnsd::provider::sign::tsig::{TsigAlgorithm, TsigKey};
use ddnsd::provider::Configured;
use ddnsd::record::Fqdn;
use ddnsd::secret::Secret;
use hickory_proto::rr::RecordType;

use super::{
    AuthFailure, Creds, Fault, Fixture, Op, Scenario, Seed, Tally, DNS_TIMEOUT, MARKER, TTL,
};
use crate::harness::dns::{query_values, BindServer, DnsServer, KnotServer, TestKey, TestZone};
use crate::harness::dnsproxy::{DnsProxy, FrontFault, Target};
use crate::harness::pdns::PdnsServer;

const KEY_NAME: &str = "ddnsd-conformance";
const SECRET: &[u8] = b"MARKER-c0nf0rm-SECRET-tsig-32byte";

enum Server {
    Dns(DnsServer),
    Pdns(PdnsServer),
}

/// A DNS server behind a front.
pub struct Dns {
    label: &'static str,
    server: Server,
    front: DnsProxy,
}

fn test_key() -> TestKey {
    TestKey {
        name: KEY_NAME.to_owned(),
        algorithm: "hmac-sha256".to_owned(),
        secret_b64: b64(SECRET),
    }
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn tsig_key(secret: &[u8]) -> TsigKey {
    TsigKey {
        name: Fqdn::parse_relaxed(KEY_NAME).unwrap(),
        algorithm: TsigAlgorithm::HmacSha256,
        secret: Secret::new(secret.to_vec()),
    }
}

fn zone_file(seed: &Seed) -> TestZone {
    let mut extra = String::new();
    for r in &seed.records {
        for v in r.values {
            let v = if r.rtype == "TXT" {
                format!("\"{v}\"")
            } else {
                (*v).to_owned()
            };
            extra.push_str(&format!("{} {TTL} IN {} {v}\n", r.name, r.rtype));
        }
    }
    TestZone {
        apex: seed.zone.to_owned(),
        extra,
        deny_update: vec![seed.refused.to_owned()],
        allow_update: Vec::new(),
    }
}

fn fronted(label: &'static str, server: Server) -> Dns {
    let addr = match &server {
        Server::Dns(s) => s.addr(),
        Server::Pdns(p) => p.dns(),
    };
    let front = DnsProxy::start(addr, Some(tsig_key(SECRET)));
    Dns {
        label,
        server,
        front,
    }
}

/// BIND 9.
pub fn bind(seed: &Seed) -> Dns {
    fronted(
        "rfc2136/bind",
        Server::Dns(BindServer::start(&zone_file(seed), &test_key())),
    )
}

/// Knot DNS. The key may update the names the battery writes except the refused one (an
/// allow-list: Knot 3.2's deny rule on an owner lets through an UPDATE that also names an
/// allowed owner).
pub fn knot(seed: &Seed) -> Dns {
    let mut zone = zone_file(seed);
    zone.deny_update.clear();
    zone.allow_update = super::WRITTEN
        .iter()
        .filter(|n| **n != seed.refused)
        .map(|n| (*n).to_owned())
        .collect();
    fronted(
        "rfc2136/knot",
        Server::Dns(KnotServer::start(&zone, &test_key())),
    )
}

/// PowerDNS Authoritative (gsqlite3) with DNS UPDATE on.
pub fn powerdns(seed: &Seed) -> Dns {
    fronted(
        "rfc2136/powerdns",
        Server::Pdns(PdnsServer::start(&super::powerdns::pdns_config(
            seed,
            format!("{MARKER}-unused-api-key"),
            Some(test_key()),
        ))),
    )
}

impl Dns {
    fn server_addr(&self) -> SocketAddr {
        match &self.server {
            Server::Dns(s) => s.addr(),
            Server::Pdns(p) => p.dns(),
        }
    }
}

impl Fixture for Dns {
    fn label(&self) -> String {
        self.label.to_owned()
    }

    fn skips(&self) -> Vec<(Scenario, &'static str)> {
        let mut v = vec![(
            Scenario::RateLimit,
            "DNS UPDATE has no rate-limit answer (no 429, no Retry-After)",
        )];
        if matches!(self.server, Server::Pdns(_)) {
            v.push((
                Scenario::Auth,
                "PowerDNS answers a TSIG signature it cannot verify with a plain unsigned REFUSED (no NOTAUTH/BADSIG), the same answer as a name it refuses, so no reply can say the secret is wrong",
            ));
        }
        v
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        let secret: Vec<u8> = match creds {
            Creds::Good => SECRET.to_vec(),
            Creds::Bad => [SECRET, b"-wrong"].concat(),
        };
        Arc::new(Rfc2136Settings {
            server: self.front.addr(),
            zone: Some(Fqdn::parse_relaxed(super::ZONE).unwrap()),
            tsig: Some(tsig_key(&secret)),
            timeout: DNS_TIMEOUT,
            batch: true,
            sign_queries: false,
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["tsig_secret", KEY_NAME]
    }

    fn auth_failure(&self) -> AuthFailure {
        AuthFailure::Unverifiable
    }

    fn secrets(&self) -> Vec<String> {
        let bad = [SECRET, b"-wrong"].concat();
        vec![
            String::from_utf8_lossy(SECRET).into_owned(),
            b64(SECRET),
            b64(&bad),
        ]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        let fqdn = if name == "@" {
            super::ZONE.to_owned()
        } else {
            format!("{name}.{}", super::ZONE)
        };
        let t = match rtype {
            "A" => RecordType::A,
            "AAAA" => RecordType::AAAA,
            "TXT" => RecordType::TXT,
            "NS" => RecordType::NS,
            other => panic!("no such type {other}"),
        };
        query_values(self.server_addr(), &fqdn, t)
    }

    fn tally(&self) -> Tally {
        let st = self.front.state();
        Tally {
            reads: st.queries,
            replaces: st.updates,
            ..Tally::default()
        }
    }

    fn reset(&self) {
        self.front.reset();
    }

    fn inject(&self, fault: Fault, op: Op, times: u32) {
        let target = match op {
            Op::Read => Target::Queries,
            Op::Write => Target::Updates,
        };
        let fault = match fault {
            Fault::ServerError => FrontFault::ServFail,
            Fault::Timeout => FrontFault::Drop,
            Fault::Malformed => FrontFault::Corrupt,
            Fault::Truncated => FrontFault::Truncate,
            Fault::RateLimit { .. } => unreachable!("skipped: DNS has no rate-limit answer"),
        };
        for _ in 0..times {
            self.front.inject(target, fault);
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.front.state().faulted.clone()
    }
}
