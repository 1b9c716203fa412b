//! Fixture for `dynv6` (`mode = "records"`, the REST API) over the dynv6 emulator
//! (`harness/dynv6_emu.rs`): the Bearer token checked on every call, calls counted per action,
//! faults served by the emulator (502 with an HTML body, a silent connection, 429 with
//! `Retry-After`, HTML and half JSON bodies). The zone is not configured, so the provider finds
//! it among the token's zones (`example.org` is there too). The zone's own AAAA (the apex
//! scenario) is the zone's `ipv6prefix` field; every other name is records with ids. The
//! refused name is refused with 403. dynv6 has no TTL: the battery's TTL is what ddnsd
//! remembers asking for. `mode = "prefix"` (the update API) is covered in `tests/it/dynv6.rs`.

use std::sync::Arc;

use ddnsd::provider::dynv6::{Dynv6Settings, Mode};
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER};
use crate::harness::dynv6_emu::{self, Dynv6Emu};
use crate::harness::emu_http::Target;

/// The emulator seeded with the battery's records.
pub struct Dynv6 {
    emu: Dynv6Emu,
}

fn token(creds: Creds) -> String {
    match creds {
        Creds::Good => format!("{MARKER}-dynv6"),
        Creds::Bad => format!("{MARKER}-wrong"),
    }
}

/// Starts the emulator and seeds it.
pub fn start(seed: &Seed) -> Dynv6 {
    let emu = Dynv6Emu::start();
    {
        let mut st = emu.state();
        st.tokens.insert(token(Creds::Good), None);
        st.add_zone("example.org");
        st.add_zone(seed.zone);
        for r in &seed.records {
            for v in r.values {
                st.add_record(seed.zone, r.name, r.rtype, v);
            }
        }
        st.refused.insert(format!("{}.{}", seed.refused, seed.zone));
    }
    Dynv6 { emu }
}

impl Fixture for Dynv6 {
    fn label(&self) -> String {
        "dynv6/emulator".into()
    }

    fn has_ids(&self) -> bool {
        true
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        Arc::new(Dynv6Settings {
            token: Secret::new(token(creds)),
            zone: None,
            mode: Mode::Records,
            prefix_length: 64,
            endpoint: self.emu.endpoint(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["token", "dynv6.com/keys"]
    }

    fn secrets(&self) -> Vec<String> {
        vec![token(Creds::Good), MARKER.to_owned()]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu.state().values(super::ZONE, name, rtype)
    }

    fn ids(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu
            .state()
            .rrset(super::ZONE, name, rtype)
            .into_iter()
            .map(|r| r.id.to_string())
            .collect()
    }

    fn tally(&self) -> Tally {
        tally_of(&self.emu.state().calls, |action| {
            Some(match action {
                "list zones" | "get zone" | "list records" | "get record" => Kind::Read,
                "add record" => Kind::Create,
                "update record" => Kind::Modify,
                "delete record" => Kind::Delete,
                "update zone" | "update" => Kind::Replace,
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
            Fault::ServerError => dynv6_emu::Fault::Status(502),
            Fault::Timeout => dynv6_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => dynv6_emu::Fault::Throttle(retry_after.as_secs()),
            Fault::Malformed => dynv6_emu::Fault::Malformed,
            Fault::Truncated => dynv6_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject(target.clone(), fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.emu.state().faulted.clone()
    }
}
