//! Fixture for `porkbun` over the Porkbun emulator (`harness/porkbun_emu.rs`): both keys
//! checked in every body, calls counted per action, faults served by the emulator (502 with an
//! HTML body, a silent connection, 503 with `Retry-After` as Porkbun throttles, HTML and half
//! JSON bodies). The zone is not configured, so the provider finds it by asking for the name
//! and its parents (`example.org` is in the account too). Writes to the refused name get Porkbun's unspecific
//! "Create error", which ddnsd cannot tell from a passing failure (transient, this record
//! only). One record id per value: updates must keep them.

use std::sync::Arc;

use ddnsd::provider::porkbun::PorkbunSettings;
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER};
use crate::harness::emu_http::Target;
use crate::harness::porkbun_emu::{self, PorkbunEmu};

const API_KEY: &str = "pk1_5299b57125c8f3cdf347d2fe0e713311ee3a1e11f11a14942b26472593e35368";

/// The emulator seeded with the battery's records.
pub struct Porkbun {
    emu: PorkbunEmu,
}

fn secret(creds: Creds) -> String {
    match creds {
        Creds::Good => format!("sk1_{MARKER}"),
        Creds::Bad => format!("sk1_{MARKER}-wrong"),
    }
}

/// Starts the emulator and seeds it.
pub fn start(seed: &Seed) -> Porkbun {
    let emu = PorkbunEmu::start();
    {
        let mut st = emu.state();
        st.keys.insert(API_KEY.into(), secret(Creds::Good));
        st.add_domain("example.org");
        st.add_domain(seed.zone);
        for ns in ["curitiba.porkbun.com", "fortaleza.porkbun.com"] {
            st.add(seed.zone, "@", "NS", ns, 86_400);
        }
        for r in &seed.records {
            for v in r.values {
                st.add(seed.zone, r.name, r.rtype, v, u64::from(super::TTL));
            }
        }
        st.refused.insert(format!("{}.{}", seed.refused, seed.zone));
    }
    Porkbun { emu }
}

impl Fixture for Porkbun {
    fn label(&self) -> String {
        "porkbun/emulator".into()
    }

    fn has_ids(&self) -> bool {
        true
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        Arc::new(PorkbunSettings {
            api_key: Secret::new(API_KEY.into()),
            secret_api_key: Secret::new(secret(creds)),
            zone: None,
            endpoint: self.emu.endpoint(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["api_key", "secret_api_key"]
    }

    fn secrets(&self) -> Vec<String> {
        vec![secret(Creds::Good), MARKER.to_owned(), API_KEY.to_owned()]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu
            .state()
            .rrset(super::ZONE, name, rtype)
            .into_iter()
            .map(|r| r.content)
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
                a if porkbun_emu::is_read(a) => Kind::Read,
                "create" => Kind::Create,
                "edit" => Kind::Modify,
                "delete" => Kind::Delete,
                "editByNameType" | "deleteByNameType" => Kind::Replace,
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
            Fault::ServerError => porkbun_emu::Fault::Status(502),
            Fault::Timeout => porkbun_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => porkbun_emu::Fault::Throttle(retry_after.as_secs()),
            Fault::Malformed => porkbun_emu::Fault::Malformed,
            Fault::Truncated => porkbun_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject(target.clone(), fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.emu.state().faulted.clone()
    }
}
