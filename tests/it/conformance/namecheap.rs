//! Fixture for `namecheap` over the Namecheap dynamic-DNS emulator (`harness/namecheap_emu.rs`).
//!
//! Namecheap's dynamic DNS sets A records only (`Configured::families` is IPv4, declared on its
//! `fixtures!` line), so the battery runs its scenarios with A records and IPv4 documentation
//! addresses, and seeds the AAAA records next to the managed names as foreign. Every written
//! name is an "A + Dynamic DNS" host of the domain, except the refused one (no such record:
//! `A record not Found`, rejected for that name alone).
//!
//! Write-only ([`Fixture::reads`] is false): there is no read call; every request sets the one
//! address of one host. No record ids. The emulator keeps the seeded AAAA, TXT and NS records
//! the update cannot reach, so the foreign-record checks read them from the backend.
//!
//! Skipped: two values either way (the update takes one `ip`; the provider refuses more before
//! sending anything). `tests/it/namecheap.rs` keeps what the battery does not check: the query
//! sent, exact error texts and hints, `check` refusing an IPv6 source, `run --once`.

use std::sync::Arc;

use ddnsd::provider::namecheap::NamecheapSettings;
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{Creds, Fault, Fixture, Op, Scenario, Seed, Tally, MARKER};
use crate::harness::namecheap_emu::{self, NamecheapEmu};

/// The emulator seeded with the battery's records.
pub struct Namecheap {
    emu: NamecheapEmu,
}

fn password(creds: Creds) -> String {
    match creds {
        Creds::Good => format!("{MARKER}-ddns"),
        Creds::Bad => format!("{MARKER}-wrong"),
    }
}

/// Starts the emulator and seeds it: every written name is a dynamic host, except the refused
/// one.
pub fn start(seed: &Seed) -> Namecheap {
    let emu = NamecheapEmu::start();
    {
        let mut st = emu.state();
        st.add_domain(seed.zone, &password(Creds::Good));
        st.host(seed.zone, "@").other.insert(
            "NS".into(),
            vec![format!("dns1.registrar-servers.{}.", seed.zone)],
        );
        for name in super::WRITTEN {
            if *name != seed.refused {
                st.host(seed.zone, name).dynamic = true;
            }
        }
        for r in &seed.records {
            let values: Vec<String> = r.values.iter().map(|v| (*v).to_owned()).collect();
            let h = st.host(seed.zone, r.name);
            match r.rtype {
                "A" => h.a = values,
                other => {
                    h.other.insert(other.to_owned(), values);
                }
            }
        }
    }
    Namecheap { emu }
}

impl Fixture for Namecheap {
    fn label(&self) -> String {
        "namecheap/emulator".into()
    }

    fn skips(&self) -> Vec<(Scenario, &'static str)> {
        let one = "Namecheap's dynamic DNS sets one address per host (one ip per update)";
        vec![(Scenario::TwoValuesUp, one), (Scenario::TwoValuesDown, one)]
    }

    fn reads(&self) -> bool {
        false
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        Arc::new(NamecheapSettings {
            domain: super::ZONE.parse().unwrap(),
            password: Secret::new(password(creds)),
            endpoint: self.emu.endpoint(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["password", "Dynamic DNS"]
    }

    fn secrets(&self) -> Vec<String> {
        vec![password(Creds::Good), MARKER.to_owned()]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu.state().values(super::ZONE, name, rtype)
    }

    fn tally(&self) -> Tally {
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
            Fault::ServerError => namecheap_emu::Fault::Status(503),
            Fault::Timeout => namecheap_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => {
                namecheap_emu::Fault::Throttle(retry_after.as_secs())
            }
            Fault::Malformed => namecheap_emu::Fault::Malformed,
            Fault::Truncated => namecheap_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject(fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        let n = self.emu.state().faulted as usize;
        vec![self.emu.host_port(); n]
    }
}
