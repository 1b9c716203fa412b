//! Fixture for `huaweicloud` over the Huawei Cloud DNS emulator (`harness/huawei_emu.rs`):
//! every SDK-HMAC-SHA256 signature verified, calls counted per operation, faults served by the
//! emulator itself (5xx with an HTML body, a silent connection, the gateway's 429 `APIGW.0308`
//! with `Retry-After`, HTML and half JSON bodies). The zone is not configured, so the provider
//! finds it by listing the public zones (`example.org` is in the account too). A record set
//! holds a whole RRset, so an update is one PUT of the set by its id (kept: `has_ids`). The
//! refused name is refused with `DNS.0013` (no permission for the operation).

use std::sync::Arc;

use ddnsd::provider::huaweicloud::HuaweiCloudSettings;
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER};
use crate::harness::emu_http::Target;
use crate::harness::huawei_emu::{self, HuaweiEmu};

const AK: &str = "HPUACONFORMANCE00000";

/// The emulator seeded with the battery's records.
pub struct HuaweiCloud {
    emu: HuaweiEmu,
}

fn fqdn(name: &str) -> String {
    if name == "@" {
        super::ZONE.to_owned()
    } else {
        format!("{name}.{}", super::ZONE)
    }
}

/// Starts the emulator and seeds it (one record set per seeded name and type).
pub fn start(seed: &Seed) -> HuaweiCloud {
    let emu = HuaweiEmu::start();
    {
        let mut st = emu.state();
        st.keys.insert(AK.into(), MARKER.into());
        st.add_zone("example.org");
        st.add_zone(seed.zone);
        for r in &seed.records {
            st.add_set(
                seed.zone,
                &fqdn(r.name),
                r.rtype,
                u64::from(super::TTL),
                r.values,
            );
        }
    }
    emu.refuse(&fqdn(seed.refused), "DNS.0013");
    HuaweiCloud { emu }
}

impl Fixture for HuaweiCloud {
    fn label(&self) -> String {
        "huaweicloud/emulator".into()
    }

    fn has_ids(&self) -> bool {
        true
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        let secret = match creds {
            Creds::Good => MARKER.to_owned(),
            Creds::Bad => format!("{MARKER}-wrong"),
        };
        Arc::new(HuaweiCloudSettings {
            access_key: AK.into(),
            secret_key: Secret::new(secret),
            region: "cn-north-4".into(),
            zone: None,
            endpoint: self.emu.endpoint(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["access_key", "secret_key", "DNS FullAccess"]
    }

    fn secrets(&self) -> Vec<String> {
        vec![MARKER.to_owned()]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu.state().values(super::ZONE, &fqdn(name), rtype)
    }

    fn ids(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu
            .state()
            .set(super::ZONE, &fqdn(name), rtype)
            .map(|s| s.id)
            .into_iter()
            .collect()
    }

    fn tally(&self) -> Tally {
        tally_of(&self.emu.state().calls, |op| {
            Some(match op {
                "ListPublicZones" | "ListRecordSetsByZone" | "ShowRecordSet" => Kind::Read,
                "CreateRecordSet" => Kind::Create,
                // A PUT replaces the whole RRset, keeping the set's id.
                "UpdateRecordSet" => Kind::Replace,
                "DeleteRecordSet" => Kind::Delete,
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
            Fault::ServerError => huawei_emu::Fault::Status(503),
            Fault::Timeout => huawei_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => {
                huawei_emu::Fault::RateLimit(Some(retry_after.as_secs()))
            }
            Fault::Malformed => huawei_emu::Fault::Malformed,
            Fault::Truncated => huawei_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject_on(target.clone(), fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.emu.state().faulted.clone()
    }
}
