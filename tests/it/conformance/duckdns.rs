//! Fixture for `duckdns` over the DuckDNS emulator (`harness/duckdns_emu.rs`), with the
//! battery's zone standing in for `duckdns.org` (the provider's `zone`): every seeded name is
//! a name of the account, the refused name is not (DuckDNS answers it `KO`, which ddnsd charges
//! to that name once another name's `OK` has shown the token works).
//!
//! Write-only ([`Fixture::reads`] is false): DuckDNS has no read call; every request sets one
//! family of one name. No record ids. The emulator keeps the seeded TXT and NS records the
//! update URL cannot reach, so the foreign-record checks read them from the backend.

use std::sync::Arc;

use ddnsd::provider::duckdns::DuckdnsSettings;
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{Creds, Fault, Fixture, Op, Scenario, Seed, Tally, MARKER};
use crate::harness::duckdns_emu::{self, DuckdnsEmu};

/// The emulator seeded with the battery's records.
pub struct Duckdns {
    emu: DuckdnsEmu,
}

fn token(creds: Creds) -> String {
    match creds {
        Creds::Good => format!("{MARKER}-duck"),
        Creds::Bad => format!("{MARKER}-wrong"),
    }
}

/// Starts the emulator and seeds it.
pub fn start(seed: &Seed) -> Duckdns {
    let emu = DuckdnsEmu::start(&token(Creds::Good));
    {
        let mut st = emu.state();
        st.names
            .entry("@".into())
            .or_default()
            .other
            .insert("NS".into(), vec![format!("ns1.{}.", seed.zone)]);
        for r in &seed.records {
            let n = st.names.entry(r.name.to_owned()).or_default();
            let values: Vec<String> = r.values.iter().map(|v| (*v).to_owned()).collect();
            match r.rtype {
                "A" => n.a = values,
                "AAAA" => n.aaaa = values,
                other => {
                    n.other.insert(other.to_owned(), values);
                }
            }
        }
        for name in super::WRITTEN {
            if *name != seed.refused && *name != "@" {
                st.names.entry((*name).to_owned()).or_default();
            }
        }
    }
    Duckdns { emu }
}

impl Fixture for Duckdns {
    fn label(&self) -> String {
        "duckdns/emulator".into()
    }

    fn skips(&self) -> Vec<(Scenario, &'static str)> {
        let one = "DuckDNS holds one address per family and name";
        vec![
            (Scenario::TwoValuesUp, one),
            (Scenario::TwoValuesDown, one),
            (
                Scenario::Apex,
                "DuckDNS names are NAME.duckdns.org; the domain's apex is no account's name",
            ),
        ]
    }

    fn reads(&self) -> bool {
        false
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        Arc::new(DuckdnsSettings {
            token: Secret::new(token(creds)),
            zone: super::ZONE.parse().unwrap(),
            endpoint: self.emu.endpoint(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["token", "duckdns.org"]
    }

    fn secrets(&self) -> Vec<String> {
        vec![token(Creds::Good), MARKER.to_owned()]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        let n = self.emu.state().get(name);
        match rtype {
            "A" => n.a,
            "AAAA" => n.aaaa,
            other => n.other.get(other).cloned().unwrap_or_default(),
        }
    }

    fn tally(&self) -> Tally {
        // Every request sets one family of a name: a whole-RRset replacement.
        Tally {
            replaces: self.emu.state().calls,
            ..Tally::default()
        }
    }

    fn reset(&self) {
        let mut st = self.emu.state();
        st.calls = 0;
        st.received.clear();
        st.faults.clear();
        st.faulted = 0;
    }

    fn inject(&self, fault: Fault, op: Op, times: u32) {
        // The update URL is the only request: a fault on reads never fires.
        if op == Op::Read {
            return;
        }
        let fault = match fault {
            Fault::ServerError => duckdns_emu::Fault::Status(502),
            Fault::Timeout => duckdns_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => duckdns_emu::Fault::Throttle(retry_after.as_secs()),
            Fault::Malformed => duckdns_emu::Fault::Malformed,
            Fault::Truncated => duckdns_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject(fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        // The provider names the service (host:port) in its errors.
        let n = self.emu.state().faulted as usize;
        vec![self.emu.host_port(); n]
    }
}
