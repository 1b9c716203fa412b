//! Fixture for `gandi` over the Gandi LiveDNS emulator (`harness/gandi_emu.rs`): the personal
//! access token checked on every call, calls counted per action, faults served by the
//! emulator (5xx with an HTML body, a silent connection, 429 with Retry-After, HTML and half
//! bodies). The zone is not configured: the provider lists the LiveDNS domains
//! (`example.org` is there too). An RRset is replaced whole by one PUT (a replace); the
//! refused name's writes get 409 (a conflicting record).

use std::sync::Arc;

use ddnsd::provider::gandi::{GandiCredential, GandiSettings};
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER, TTL};
use crate::harness::emu_http::Target;
use crate::harness::gandi_emu::{self, GandiEmu};

/// The emulator seeded with the battery's records.
pub struct Gandi {
    emu: GandiEmu,
}

fn token() -> String {
    format!("pat_{MARKER}")
}

/// Starts the emulator and seeds it.
pub fn start(seed: &Seed) -> Gandi {
    let emu = GandiEmu::start();
    {
        let mut st = emu.state();
        st.tokens.push((token(), Vec::new()));
        st.add_domain("example.org");
        st.add_domain(seed.zone);
        for r in &seed.records {
            for v in r.values {
                st.add_value(seed.zone, r.name, r.rtype, v, u64::from(TTL));
            }
        }
        st.refused.push(seed.refused.to_owned());
    }
    Gandi { emu }
}

impl Fixture for Gandi {
    fn label(&self) -> String {
        "gandi/emulator".into()
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        let token = match creds {
            Creds::Good => token(),
            Creds::Bad => format!("{}-wrong", token()),
        };
        Arc::new(GandiSettings {
            credential: GandiCredential::Token(Secret::new(token)),
            zone: None,
            endpoint: self.emu.endpoint(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["token", "Manage domain name technical configurations"]
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
                "ListDomains" | "GetRRset" => Kind::Read,
                "PutRRset" => Kind::Replace,
                "DeleteRRset" => Kind::Delete,
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
            Fault::ServerError => gandi_emu::Fault::Status(503),
            Fault::Timeout => gandi_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => gandi_emu::Fault::RateLimit(retry_after.as_secs()),
            Fault::Malformed => gandi_emu::Fault::Malformed,
            Fault::Truncated => gandi_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject_on(target.clone(), fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.emu.state().faulted.clone()
    }
}
