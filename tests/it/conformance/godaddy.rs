//! Fixture for `godaddy` over the GoDaddy Domains API emulator (`harness/godaddy_emu.rs`):
//! the `sso-key` pair checked on every call, calls counted per action, faults served by the
//! emulator (5xx with an HTML body, a silent connection, 429 with `retryAfterSec` in the body
//! and no Retry-After header, HTML and half bodies). The zone is not configured: the
//! provider lists the account's domains (`example.org` is there too). A (type, name) set is
//! replaced whole by one PUT (a replace); the refused name's writes get 422.

use std::sync::Arc;

use ddnsd::provider::godaddy::GodaddySettings;
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER, TTL};
use crate::harness::emu_http::Target;
use crate::harness::godaddy_emu::{self, GodaddyEmu};

/// The emulator seeded with the battery's records.
pub struct Godaddy {
    emu: GodaddyEmu,
}

fn key() -> String {
    format!("{MARKER}-key")
}

fn secret() -> String {
    format!("{MARKER}-secret")
}

/// Starts the emulator and seeds it.
pub fn start(seed: &Seed) -> Godaddy {
    let emu = GodaddyEmu::start();
    {
        let mut st = emu.state();
        st.keys.push((key(), secret()));
        st.add_domain("example.org");
        st.add_domain(seed.zone);
        for r in &seed.records {
            for v in r.values {
                st.add_record(seed.zone, r.rtype, r.name, v, u64::from(TTL));
            }
        }
        st.refused.push(seed.refused.to_owned());
    }
    Godaddy { emu }
}

impl Fixture for Godaddy {
    fn label(&self) -> String {
        "godaddy/emulator".into()
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        let secret = match creds {
            Creds::Good => secret(),
            Creds::Bad => format!("{}-wrong", secret()),
        };
        Arc::new(GodaddySettings {
            api_key: Secret::new(key()),
            api_secret: Secret::new(secret),
            zone: None,
            endpoint: self.emu.endpoint(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["api_key", "api_secret", "developer.godaddy.com/keys"]
    }

    fn secrets(&self) -> Vec<String> {
        vec![key(), secret(), format!("sso-key {}:{}", key(), secret())]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu.state().values(super::ZONE, rtype, name)
    }

    fn tally(&self) -> Tally {
        tally_of(&self.emu.state().calls, |action| {
            Some(match action {
                "ListDomains" | "GetRecords" => Kind::Read,
                "ReplaceRecords" => Kind::Replace,
                "DeleteRecords" => Kind::Delete,
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
            Fault::ServerError => godaddy_emu::Fault::Status(503),
            Fault::Timeout => godaddy_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => {
                godaddy_emu::Fault::RateLimit(retry_after.as_secs())
            }
            Fault::Malformed => godaddy_emu::Fault::Malformed,
            Fault::Truncated => godaddy_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject_on(target.clone(), fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.emu.state().faulted.clone()
    }
}
