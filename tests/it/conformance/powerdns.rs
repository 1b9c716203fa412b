//! Fixture for `powerdns`: a real PowerDNS Authoritative server (`harness/pdns.rs`) with its
//! HTTP API behind an HTTP front (`harness/httpfront.rs`) that counts requests and serves the
//! faults (5xx, 429 + Retry-After as a proxy in front of the API would, lost replies, HTML
//! and half bodies). The zone is not configured: the provider finds it by listing the
//! server's zones. The refused name holds a CNAME, so PowerDNS refuses an AAAA there (422).

use std::collections::BTreeMap;
use std::sync::Arc;

use ddnsd::provider::powerdns::PowerDnsSettings;
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;
use hickory_proto::rr::RecordType;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER, TTL};
use crate::harness::dns::{query_values, TestKey};
use crate::harness::httpfront::{HttpFault, HttpFront, Target};
use crate::harness::pdns::{PdnsConfig, PdnsServer};

/// The PowerDNS server and the front before its API.
pub struct PowerDns {
    server: PdnsServer,
    front: HttpFront,
    api_key: String,
}

/// The server's configuration for `seed` (shared with the rfc2136/powerdns fixture).
pub fn pdns_config(seed: &Seed, api_key: String, update_key: Option<TestKey>) -> PdnsConfig {
    let mut records = Vec::new();
    for r in &seed.records {
        for v in r.values {
            let content = if r.rtype == "TXT" {
                format!("\"{v}\"")
            } else {
                (*v).to_owned()
            };
            records.push((r.name.to_owned(), r.rtype.to_owned(), TTL, content));
        }
    }
    // PowerDNS refuses any other type next to a CNAME (API: 422; DNS UPDATE: REFUSED).
    records.push((
        seed.refused.to_owned(),
        "CNAME".to_owned(),
        TTL,
        format!("other.{}.", seed.zone),
    ));
    PdnsConfig {
        zone: seed.zone.to_owned(),
        records,
        api_key,
        update_key,
    }
}

/// Starts the server and its front.
pub fn start(seed: &Seed) -> PowerDns {
    let api_key = format!("{MARKER}-api-key");
    let server = PdnsServer::start(&pdns_config(seed, api_key.clone(), None));
    let front = HttpFront::start(server.api());
    PowerDns {
        server,
        front,
        api_key,
    }
}

impl Fixture for PowerDns {
    fn label(&self) -> String {
        "powerdns/pdns_server".into()
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        let key = match creds {
            Creds::Good => self.api_key.clone(),
            Creds::Bad => format!("{}-wrong", self.api_key),
        };
        Arc::new(PowerDnsSettings {
            endpoint: self.front.url(),
            api_key: Secret::new(key),
            server_id: "localhost".into(),
            zone: None,
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["api_key", "api-key"]
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.api_key.clone()]
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
        query_values(self.server.dns(), &fqdn, t)
    }

    fn tally(&self) -> Tally {
        let mut calls = BTreeMap::new();
        for r in &self.front.state().requests {
            *calls.entry(r.clone()).or_insert(0) += 1;
        }
        tally_of(&calls, |r| match r.split_once(' ') {
            Some(("GET", _)) => Some(Kind::Read),
            Some(("PATCH", _)) => Some(Kind::Replace),
            _ => None,
        })
    }

    fn reset(&self) {
        self.front.reset();
    }

    fn inject(&self, fault: Fault, op: Op, times: u32) {
        let target = match op {
            Op::Read => Target::Reads,
            Op::Write => Target::Writes,
        };
        let fault = match fault {
            Fault::ServerError => HttpFault::Status(503),
            Fault::Timeout => HttpFault::LoseReply,
            Fault::RateLimit { retry_after } => HttpFault::TooManyRequests(retry_after.as_secs()),
            Fault::Malformed => HttpFault::Html,
            Fault::Truncated => HttpFault::HalfBody,
        };
        for _ in 0..times {
            self.front.inject(target.clone(), fault);
        }
    }

    fn faulted(&self) -> Vec<String> {
        // As the provider names its calls in errors.
        self.front
            .state()
            .faulted
            .iter()
            .map(|r| match r.split_once(' ') {
                Some(("GET", p)) if p.ends_with("/zones") => "list zones".to_owned(),
                Some(("GET", p)) => format!("get zone {}", zone_of(p)),
                Some((_, p)) => format!("patch zone {}", zone_of(p)),
                None => r.clone(),
            })
            .collect()
    }
}

fn zone_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or("").trim_end_matches('.')
}
