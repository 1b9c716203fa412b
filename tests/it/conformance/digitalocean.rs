//! Fixture for `digitalocean` over the DigitalOcean Domains API emulator
//! (`harness/digitalocean_emu.rs`): the Bearer token checked on every call, calls counted per
//! action, faults served by the emulator (5xx with an HTML body, a silent connection, the
//! burst 429 with `retry-after`, HTML and half bodies). The zone is not configured: the
//! provider lists the account's domains (`example.org` is there too). One record per value
//! with integer ids, so the battery checks that updates keep them; the refused name's writes
//! get 422.

use std::sync::Arc;

use ddnsd::provider::digitalocean::DigitalOceanSettings;
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER, TTL};
use crate::harness::digitalocean_emu::{self, DigitalOceanEmu};
use crate::harness::emu_http::Target;

/// The emulator seeded with the battery's records.
pub struct DigitalOcean {
    emu: DigitalOceanEmu,
}

fn token() -> String {
    format!("dop_v1_{MARKER}")
}

/// Starts the emulator and seeds it.
pub fn start(seed: &Seed) -> DigitalOcean {
    let emu = DigitalOceanEmu::start();
    {
        let mut st = emu.state();
        st.tokens.push(token());
        st.add_domain("example.org");
        st.add_domain(seed.zone);
        for r in &seed.records {
            for v in r.values {
                st.add_record(seed.zone, r.rtype, r.name, v, u64::from(TTL));
            }
        }
        st.refused.push(seed.refused.to_owned());
    }
    DigitalOcean { emu }
}

impl Fixture for DigitalOcean {
    fn label(&self) -> String {
        "digitalocean/emulator".into()
    }

    fn has_ids(&self) -> bool {
        true
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        let token = match creds {
            Creds::Good => token(),
            Creds::Bad => format!("{}-wrong", token()),
        };
        Arc::new(DigitalOceanSettings {
            token: Secret::new(token),
            zone: None,
            endpoint: self.emu.endpoint(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["token", "personal access token"]
    }

    fn secrets(&self) -> Vec<String> {
        vec![token(), format!("Bearer {}", token())]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu.state().values(super::ZONE, rtype, name)
    }

    fn ids(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu
            .state()
            .rrset(super::ZONE, rtype, name)
            .into_iter()
            .map(|r| r.id.to_string())
            .collect()
    }

    fn tally(&self) -> Tally {
        tally_of(&self.emu.state().calls, |action| {
            Some(match action {
                "ListDomains" | "ListRecords" => Kind::Read,
                "CreateRecord" => Kind::Create,
                "PatchRecord" | "PutRecord" => Kind::Modify,
                "DeleteRecord" => Kind::Delete,
                _ => return None,
            })
        })
    }

    fn reset(&self) {
        let mut st = self.emu.state();
        st.calls.clear();
        st.faults.clear();
        st.faulted.clear();
    }

    fn inject(&self, fault: Fault, op: Op, times: u32) {
        let target = match op {
            Op::Read => Target::Reads,
            Op::Write => Target::Writes,
        };
        let fault = match fault {
            Fault::ServerError => digitalocean_emu::Fault::Status(503),
            Fault::Timeout => digitalocean_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => {
                digitalocean_emu::Fault::RateLimit(retry_after.as_secs())
            }
            Fault::Malformed => digitalocean_emu::Fault::Malformed,
            Fault::Truncated => digitalocean_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject_on(target.clone(), fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.emu.state().faulted.clone()
    }
}
