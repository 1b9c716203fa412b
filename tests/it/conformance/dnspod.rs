//! Fixtures for `tencentcloud` (API 3.0) and `dnspod` (legacy token API) over the DNSPod
//! emulator (`harness/dnspod_emu.rs`): signatures and tokens verified, calls counted per
//! action, faults served by the emulator itself. The zone is not configured, so every
//! provider finds it among the account's domains (`example.org` is there too).

use std::sync::Arc;

use ddnsd::provider::dnspod::DnspodLegacySettings;
use ddnsd::provider::tencentcloud::TencentCloudSettings;
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER};
use crate::harness::dnspod_emu::{self, DnspodEmu, Target};

const SECRET_ID: &str = "AKIDconformance000000000000000000000";
const TOKEN_ID: &str = "420042";

/// Which of the two APIs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    V3,
    Legacy,
}

/// The DNSPod emulator seeded with the battery's records.
pub struct Dnspod {
    api: Api,
    emu: DnspodEmu,
}

/// `kind = "tencentcloud"`.
pub fn tencentcloud(seed: &Seed) -> Dnspod {
    start(Api::V3, seed)
}

/// `kind = "dnspod"`.
pub fn legacy(seed: &Seed) -> Dnspod {
    start(Api::Legacy, seed)
}

fn start(api: Api, seed: &Seed) -> Dnspod {
    let emu = DnspodEmu::start();
    {
        let mut st = emu.state();
        st.keys.insert(SECRET_ID.into(), MARKER.into());
        st.login_tokens.push(format!("{TOKEN_ID},{MARKER}"));
        st.add_domain("example.org");
        st.add_domain(seed.zone);
        for r in &seed.records {
            for v in r.values {
                st.add_record(seed.zone, r.name, r.rtype, v, u64::from(super::TTL));
            }
        }
        st.refused.push(seed.refused.to_owned());
    }
    Dnspod { api, emu }
}

impl Fixture for Dnspod {
    fn label(&self) -> String {
        match self.api {
            Api::V3 => "tencentcloud/emulator".into(),
            Api::Legacy => "dnspod/emulator".into(),
        }
    }

    fn has_ids(&self) -> bool {
        true
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        let secret = match creds {
            Creds::Good => MARKER.to_owned(),
            Creds::Bad => format!("{MARKER}-wrong"),
        };
        match self.api {
            Api::V3 => Arc::new(TencentCloudSettings {
                secret_id: SECRET_ID.into(),
                secret_key: Secret::new(secret),
                zone: None,
                record_line: None,
                endpoint: self.emu.endpoint(),
                region: None,
            }),
            Api::Legacy => Arc::new(DnspodLegacySettings {
                login_token: Secret::new(format!("{TOKEN_ID},{secret}")),
                zone: None,
                record_line: None,
                endpoint: self.emu.endpoint(),
            }),
        }
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        match self.api {
            Api::V3 => &["secret_id", "secret_key", "DNSPod write permission"],
            Api::Legacy => &["token_id", "token", "owns the domain"],
        }
    }

    fn secrets(&self) -> Vec<String> {
        vec![MARKER.to_owned(), format!("{TOKEN_ID},{MARKER}")]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        let st = self.emu.state();
        st.rrset(super::ZONE, name, rtype)
            .into_iter()
            .map(|r| r.value)
            .collect()
    }

    fn ids(&self, name: &str, rtype: &str) -> Vec<String> {
        let st = self.emu.state();
        st.rrset(super::ZONE, name, rtype)
            .into_iter()
            .map(|r| r.id.to_string())
            .collect()
    }

    fn tally(&self) -> Tally {
        tally_of(&self.emu.state().calls, |action| {
            Some(match action {
                a if dnspod_emu::is_read(a) => Kind::Read,
                "CreateRecord" | "Record.Create" => Kind::Create,
                "ModifyRecord" | "Record.Modify" => Kind::Modify,
                "DeleteRecord" | "Record.Remove" => Kind::Delete,
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
            Fault::ServerError => dnspod_emu::Fault::Status(503),
            Fault::Timeout => dnspod_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => {
                dnspod_emu::Fault::TooManyRequests(retry_after.as_secs())
            }
            Fault::Malformed => dnspod_emu::Fault::Malformed,
            Fault::Truncated => dnspod_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject_on(target.clone(), fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.emu.state().faulted.clone()
    }
}
