//! Fixture for `alidns` over the Alibaba Cloud DNS emulator (`harness/alidns_emu.rs`): every
//! ACS3 signature verified, calls counted per action, faults served by the emulator itself
//! (5xx with an HTML body, a silent connection, `Throttling.User` with `Retry-After`, HTML
//! and half JSON bodies). The zone is not configured, so the provider finds it with
//! DescribeDomains (`example.org` is in the account too). The refused name is refused with
//! `Forbidden.RAM`, as a RAM policy scoped to other names would.

use std::sync::Arc;

use ddnsd::provider::alidns::AlidnsSettings;
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER};
use crate::harness::alidns_emu::{self, AlidnsEmu};
use crate::harness::emu_http::Target;

const KEY_ID: &str = "LTAI5tConformance00000000";

/// The emulator seeded with the battery's records.
pub struct Alidns {
    emu: AlidnsEmu,
}

/// Starts the emulator and seeds it.
pub fn start(seed: &Seed) -> Alidns {
    let emu = AlidnsEmu::start();
    {
        let mut st = emu.state();
        st.keys.insert(KEY_ID.into(), MARKER.into());
        st.add_domain("example.org");
        st.add_domain(seed.zone);
        for r in &seed.records {
            for v in r.values {
                st.add_record(seed.zone, r.name, r.rtype, v, u64::from(super::TTL));
            }
        }
    }
    emu.refuse(&format!("{}.{}", seed.refused, seed.zone), "Forbidden.RAM");
    Alidns { emu }
}

impl Fixture for Alidns {
    fn label(&self) -> String {
        "alidns/emulator".into()
    }

    fn has_ids(&self) -> bool {
        true
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        let secret = match creds {
            Creds::Good => MARKER.to_owned(),
            Creds::Bad => format!("{MARKER}-wrong"),
        };
        Arc::new(AlidnsSettings {
            access_key_id: KEY_ID.into(),
            access_key_secret: Secret::new(secret),
            zone: None,
            endpoint: self.emu.endpoint(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["access_key_id", "access_key_secret", "AliyunDNSFullAccess"]
    }

    fn secrets(&self) -> Vec<String> {
        vec![MARKER.to_owned()]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu
            .state()
            .rrset(super::ZONE, name, rtype)
            .into_iter()
            .map(|r| r.value)
            .collect()
    }

    fn ids(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu
            .state()
            .rrset(super::ZONE, name, rtype)
            .into_iter()
            .map(|r| r.id)
            .collect()
    }

    fn tally(&self) -> Tally {
        tally_of(&self.emu.state().calls, |action| {
            Some(match action {
                a if alidns_emu::is_read(a) => Kind::Read,
                "AddDomainRecord" => Kind::Create,
                "UpdateDomainRecord" => Kind::Modify,
                "DeleteDomainRecord" => Kind::Delete,
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
            Fault::ServerError => alidns_emu::Fault::Status(503),
            Fault::Timeout => alidns_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => {
                alidns_emu::Fault::Throttle(Some(retry_after.as_secs()))
            }
            Fault::Malformed => alidns_emu::Fault::Malformed,
            Fault::Truncated => alidns_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject_on(target.clone(), fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.emu.state().faulted.clone()
    }
}
