//! Fixture for `desec` over the deSEC emulator (`harness/desec_emu.rs`): the token checked on
//! every call, calls counted per action, faults served by the emulator (502 with an HTML body,
//! a silent connection, 429 with `Retry-After` and DRF's throttling text, HTML and half JSON
//! bodies). The zone is not configured, so the provider finds it with `owns_qname`
//! (`example.org` is in the account too). The refused name is refused with the 403 of a token
//! scoping policy. The domain's `minimum_ttl` is deSEC's default 3600, so the battery's TTL
//! (600) is published as 3600 (`effective_ttl`). No record ids: one object per RRset.

use std::sync::Arc;

use ddnsd::provider::desec::{DesecSettings, DEFAULT_MIN_TTL};
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER};
use crate::harness::desec_emu::{self, DesecEmu};
use crate::harness::emu_http::Target;

/// The emulator seeded with the battery's records.
pub struct Desec {
    emu: DesecEmu,
}

fn token(creds: Creds) -> String {
    match creds {
        Creds::Good => format!("{MARKER}-desec"),
        Creds::Bad => format!("{MARKER}-wrong"),
    }
}

/// Starts the emulator and seeds it.
pub fn start(seed: &Seed) -> Desec {
    let emu = DesecEmu::start(&token(Creds::Good));
    {
        let mut st = emu.state();
        st.add_domain("example.org", 3600);
        st.add_domain(seed.zone, u64::from(DEFAULT_MIN_TTL));
        for r in &seed.records {
            st.set(seed.zone, r.name, r.rtype, u64::from(super::TTL), r.values);
        }
        st.refused.insert(format!("{}.{}", seed.refused, seed.zone));
    }
    Desec { emu }
}

impl Fixture for Desec {
    fn label(&self) -> String {
        "desec/emulator".into()
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        Arc::new(DesecSettings {
            token: Secret::new(token(creds)),
            zone: None,
            min_ttl: DEFAULT_MIN_TTL,
            endpoint: self.emu.endpoint(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["token", "deSEC API token"]
    }

    fn secrets(&self) -> Vec<String> {
        vec![token(Creds::Good), MARKER.to_owned()]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu
            .state()
            .get(super::ZONE, name, rtype)
            .map(|r| r.records)
            .unwrap_or_default()
    }

    fn tally(&self) -> Tally {
        tally_of(&self.emu.state().calls, |action| {
            Some(match action {
                "find domain" | "get domain" | "read rrset" | "get rrset" => Kind::Read,
                "create rrset" => Kind::Create,
                "modify rrset" | "replace rrset" | "bulk rrsets" => Kind::Replace,
                "delete rrset" => Kind::Delete,
                _ => return None,
            })
        })
    }

    fn reset(&self) {
        let mut st = self.emu.state();
        st.calls.clear();
        st.faults.clear();
        st.faulted.clear();
        st.bodies.clear();
    }

    fn inject(&self, fault: Fault, op: Op, times: u32) {
        let target = match op {
            Op::Read => Target::Reads,
            Op::Write => Target::Writes,
        };
        let fault = match fault {
            Fault::ServerError => desec_emu::Fault::Status(502),
            Fault::Timeout => desec_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => desec_emu::Fault::Throttle(retry_after.as_secs()),
            Fault::Malformed => desec_emu::Fault::Malformed,
            Fault::Truncated => desec_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject(target.clone(), fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.emu.state().faulted.clone()
    }
}
