//! Fixtures for `dyndns2` over the local dyndns2 server (`harness/dyndns2_server.rs`), in two
//! dialects: deSEC (`myipv4`/`myipv6` with `preserve`, comma-separated lists, errors as HTTP
//! statuses) and No-IP (either family in `myip`, one address per update, `badauth` with 200).
//! The account owns the zone (every name below it is a host), except the refused name, which
//! is no host of the account (`nohost` / 404).
//!
//! Write-only ([`Fixture::reads`] is false): the protocol has no read call, so every request
//! is a whole-RRset replacement and faults can only hit writes. No record ids. The server keeps
//! the seeded TXT and NS records the protocol cannot reach, so the battery's foreign-record
//! checks read them from the backend like any other.

use std::sync::Arc;

use base64::Engine as _;
use ddnsd::provider::dyndns2::{Dyndns2Settings, Preset};
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{Creds, Fault, Fixture, Op, Scenario, Seed, Tally, MARKER};
use crate::harness::dyndns2_server::{Dialect, Dyndns2Server};
use crate::harness::emu_http::Outcome;

const USER: &str = "ddnsd@example.test";

/// The server, in one preset's dialect.
pub struct Dyndns2 {
    preset: Preset,
    srv: Dyndns2Server,
}

/// The deSEC dialect.
pub fn desec(seed: &Seed) -> Dyndns2 {
    start(Preset::Desec, Dialect::desec(), seed)
}

/// The No-IP dialect.
pub fn noip(seed: &Seed) -> Dyndns2 {
    start(Preset::NoIp, Dialect::myip_either(), seed)
}

fn fqdn(name: &str, zone: &str) -> String {
    if name == "@" {
        zone.to_owned()
    } else {
        format!("{name}.{zone}")
    }
}

fn start(preset: Preset, dialect: Dialect, seed: &Seed) -> Dyndns2 {
    let srv = Dyndns2Server::start(dialect);
    {
        let mut st = srv.state();
        st.account(USER, &password(Creds::Good));
        st.domains.insert(seed.zone.to_owned(), USER.to_owned());
        st.not_hosts.insert(fqdn(seed.refused, seed.zone));
        st.host(seed.zone, USER);
        st.hosts
            .get_mut(seed.zone)
            .unwrap()
            .other
            .insert("NS".into(), vec![format!("ns1.{}.", seed.zone)]);
        for r in &seed.records {
            let name = fqdn(r.name, seed.zone);
            if !st.hosts.contains_key(&name) {
                st.host(&name, USER);
            }
            let h = st.hosts.get_mut(&name).unwrap();
            match r.rtype {
                "A" => h.a = r.values.iter().map(|v| v.parse().unwrap()).collect(),
                "AAAA" => h.aaaa = r.values.iter().map(|v| v.parse().unwrap()).collect(),
                other => {
                    h.other.insert(
                        other.to_owned(),
                        r.values.iter().map(|v| (*v).to_owned()).collect(),
                    );
                }
            }
        }
    }
    Dyndns2 { preset, srv }
}

fn password(creds: Creds) -> String {
    match creds {
        Creds::Good => format!("{MARKER}-token"),
        Creds::Bad => format!("{MARKER}-wrong"),
    }
}

impl Fixture for Dyndns2 {
    fn label(&self) -> String {
        format!("dyndns2/{}-dialect", self.preset.name())
    }

    fn skips(&self) -> Vec<(Scenario, &'static str)> {
        match self.preset {
            Preset::NoIp => vec![
                (
                    Scenario::TwoValuesUp,
                    "No-IP takes one address per family and update",
                ),
                (
                    Scenario::TwoValuesDown,
                    "No-IP takes one address per family and update",
                ),
            ],
            _ => Vec::new(),
        }
    }

    fn reads(&self) -> bool {
        false
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        Arc::new(Dyndns2Settings {
            server: self.srv.update_url(),
            username: USER.into(),
            password: Secret::new(password(creds)),
            hostname: None,
            zone: Some(super::ZONE.parse().unwrap()),
            dialect: self.preset.dialect(),
            preset: Some(self.preset),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["username", "password"]
    }

    fn secrets(&self) -> Vec<String> {
        let p = password(Creds::Good);
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{p}"));
        vec![p, basic, MARKER.to_owned()]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        let h = self.srv.state().get(&fqdn(name, super::ZONE));
        match rtype {
            "A" => h.a.iter().map(ToString::to_string).collect(),
            "AAAA" => h.aaaa.iter().map(ToString::to_string).collect(),
            other => h.other.get(other).cloned().unwrap_or_default(),
        }
    }

    fn tally(&self) -> Tally {
        // Every request replaces one RRset: the protocol has nothing else.
        Tally {
            replaces: u32::try_from(self.srv.calls()).unwrap(),
            ..Tally::default()
        }
    }

    fn reset(&self) {
        let mut st = self.srv.state();
        st.received.clear();
        st.forced.clear();
        st.forced_served = 0;
    }

    fn inject(&self, fault: Fault, op: Op, times: u32) {
        // The protocol has no read request: a fault on reads never fires.
        if op == Op::Read {
            return;
        }
        let answer = match fault {
            Fault::ServerError => {
                Outcome::text(503, "<html><body>Service Unavailable</body></html>")
            }
            Fault::Timeout => Outcome::Hang,
            Fault::RateLimit { retry_after } => Outcome::with_header(
                429,
                "Too Many Requests",
                "Retry-After",
                &retry_after.as_secs().to_string(),
            ),
            Fault::Malformed => Outcome::text(200, "<html><body>maintenance</body></html>"),
            // "good 2001:db8::1" cut after three bytes.
            Fault::Truncated => Outcome::text(200, "goo"),
        };
        for _ in 0..times {
            self.srv.force_answer(answer.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        // The provider names the service (host:port) in its errors.
        vec![self.srv.host_port(); self.srv.state().forced_served]
    }
}
