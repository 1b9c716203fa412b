//! Fixture for `hetzner` over the Hetzner Cloud API emulator (`harness/hetzner_emu.rs`): the
//! project token checked on every call, calls counted per action, faults served by the
//! emulator (5xx with an HTML body, a silent connection, 429 `rate_limit_exceeded` with the
//! `RateLimit-*` headers and no Retry-After, HTML and half bodies). The zone is not
//! configured: the provider lists the project's zones (`example.org` is there too). An
//! RRset is one object: creating it is a create, `set_records` and `change_ttl` replace,
//! deleting it is a delete; the refused name's writes get `invalid_input`.

use std::sync::Arc;

use ddnsd::provider::hetzner::HetznerSettings;
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER, TTL};
use crate::harness::emu_http::Target;
use crate::harness::hetzner_emu::{self, HetznerEmu};

/// The emulator seeded with the battery's records.
pub struct Hetzner {
    emu: HetznerEmu,
}

fn token() -> String {
    format!("{MARKER}-hcloud-token")
}

/// Starts the emulator and seeds it.
pub fn start(seed: &Seed) -> Hetzner {
    let emu = HetznerEmu::start();
    {
        let mut st = emu.state();
        st.tokens.push(token());
        st.add_zone("example.org");
        st.add_zone(seed.zone);
        for r in &seed.records {
            for v in r.values {
                st.add_value(seed.zone, r.name, r.rtype, v, Some(u64::from(TTL)), "");
            }
        }
        st.refused.push(seed.refused.to_owned());
    }
    Hetzner { emu }
}

impl Fixture for Hetzner {
    fn label(&self) -> String {
        "hetzner/emulator".into()
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        let token = match creds {
            Creds::Good => token(),
            Creds::Bad => format!("{}-wrong", token()),
        };
        Arc::new(HetznerSettings {
            api_token: Secret::new(token),
            zone: None,
            endpoint: self.emu.endpoint(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["api_token", "Read & Write"]
    }

    fn secrets(&self) -> Vec<String> {
        vec![token(), format!("Bearer {}", token())]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu.state().values(super::ZONE, name, rtype)
    }

    fn tally(&self) -> Tally {
        tally_of(&self.emu.state().calls, |action| {
            Some(match action {
                "ListZones" | "ListRRSets" | "GetAction" => Kind::Read,
                "CreateRRSet" => Kind::Create,
                "SetRecords" | "ChangeTTL" => Kind::Replace,
                "DeleteRRSet" => Kind::Delete,
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
            Fault::ServerError => hetzner_emu::Fault::Status(503),
            Fault::Timeout => hetzner_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => {
                hetzner_emu::Fault::RateLimit(retry_after.as_secs())
            }
            Fault::Malformed => hetzner_emu::Fault::Malformed,
            Fault::Truncated => hetzner_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject_on(target.clone(), fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.emu.state().faulted.clone()
    }
}
