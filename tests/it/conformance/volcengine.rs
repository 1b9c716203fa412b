//! Fixture for `volcengine` over the Volcengine DNS emulator (`harness/volc_emu.rs`): every
//! HMAC-SHA256 V4 signature (and its body hash) verified, calls counted per operation, faults served by the emulator
//! itself (5xx with an HTML body, a silent connection, 429 `FlowLimitExceeded` with `Retry-After`, HTML and half
//! JSON bodies). The zone is not configured, so the provider finds it by listing the
//! account's zones with ListZones (`example.org` is in the account too). One record per value, ids kept
//! (`has_ids`). The refused name is refused with 403 `AccessDenied` (an IAM policy scoped to other names).

use std::sync::Arc;

use ddnsd::provider::volcengine::VolcengineSettings;
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER};
use crate::harness::emu_http::Target;
use crate::harness::volc_emu::{self, VolcEmu};

const AK: &str = "AKLTCONFORMANCE00000000000";

/// The emulator seeded with the battery's records.
pub struct Volcengine {
    emu: VolcEmu,
}

fn fqdn(name: &str) -> String {
    if name == "@" {
        super::ZONE.to_owned()
    } else {
        format!("{name}.{}", super::ZONE)
    }
}

/// Starts the emulator and seeds it (one record per seeded value).
pub fn start(seed: &Seed) -> Volcengine {
    let emu = VolcEmu::start();
    {
        let mut st = emu.state();
        st.keys.insert(AK.into(), MARKER.into());
        st.add_zone("example.org");
        st.add_zone(seed.zone);
        for r in &seed.records {
            for v in r.values {
                st.add_record(seed.zone, r.name, r.rtype, v, u64::from(super::TTL));
            }
        }
    }
    emu.refuse(&fqdn(seed.refused));
    Volcengine { emu }
}

impl Fixture for Volcengine {
    fn label(&self) -> String {
        "volcengine/emulator".into()
    }

    fn has_ids(&self) -> bool {
        true
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        let secret = match creds {
            Creds::Good => MARKER.to_owned(),
            Creds::Bad => format!("{MARKER}-wrong"),
        };
        Arc::new(VolcengineSettings {
            access_key_id: AK.into(),
            secret_access_key: Secret::new(secret),
            region: "cn-north-1".into(),
            zone: None,
            endpoint: self.emu.endpoint(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &[
            "access_key_id",
            "secret_access_key",
            "TrafficRouteDNSFullAccess",
        ]
    }

    fn secrets(&self) -> Vec<String> {
        vec![MARKER.to_owned()]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu.state().values(super::ZONE, name, rtype)
    }

    fn ids(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu
            .state()
            .records(super::ZONE, name, rtype)
            .into_iter()
            .map(|r| r.id)
            .collect()
    }

    fn tally(&self) -> Tally {
        tally_of(&self.emu.state().calls, |op| {
            Some(match op {
                "ListZones" | "ListRecords" => Kind::Read,
                "CreateRecord" => Kind::Create,
                "UpdateRecord" => Kind::Modify,
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
            Fault::ServerError => volc_emu::Fault::Status(503),
            Fault::Timeout => volc_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => {
                volc_emu::Fault::RateLimit(Some(retry_after.as_secs()))
            }
            Fault::Malformed => volc_emu::Fault::Malformed,
            Fault::Truncated => volc_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject_on(target.clone(), fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.emu.state().faulted.clone()
    }
}
