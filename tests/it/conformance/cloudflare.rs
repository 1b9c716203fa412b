//! Fixture for `cloudflare` over the Cloudflare API v4 emulator (`harness/cloudflare_emu.rs`):
//! Bearer token checked, calls counted per action, faults served by the emulator. The zone
//! is not configured: the provider finds it by name (`example.org` is in the account too). A
//! batch call (two or more writes in one transaction) counts as one replace.

use std::sync::Arc;

use ddnsd::provider::cloudflare::CloudflareSettings;
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER, TTL};
use crate::harness::cloudflare_emu::{self, CloudflareEmu, Target};

/// The emulator seeded with the battery's records.
pub struct Cloudflare {
    emu: CloudflareEmu,
}

/// Starts the emulator with the seed (and the apex NS records Cloudflare lists).
pub fn start(seed: &Seed) -> Cloudflare {
    let emu = CloudflareEmu::start();
    {
        let mut st = emu.state();
        st.tokens.push(MARKER.into());
        st.add_zone("example.org");
        st.add_zone(seed.zone);
        let fqdn = |rel: &str| {
            if rel == "@" {
                seed.zone.to_owned()
            } else {
                format!("{rel}.{}", seed.zone)
            }
        };
        for ns in ["bob.ns.cloudflare.com", "lola.ns.cloudflare.com"] {
            st.add_record(seed.zone, seed.zone, "NS", ns, 86400, false, None);
        }
        for r in &seed.records {
            for v in r.values {
                st.add_record(
                    seed.zone,
                    &fqdn(r.name),
                    r.rtype,
                    v,
                    u64::from(TTL),
                    false,
                    None,
                );
            }
        }
        st.refused.push(fqdn(seed.refused));
    }
    Cloudflare { emu }
}

impl Cloudflare {
    fn fqdn(&self, rel: &str) -> String {
        if rel == "@" {
            super::ZONE.to_owned()
        } else {
            format!("{rel}.{}", super::ZONE)
        }
    }
}

impl Fixture for Cloudflare {
    fn label(&self) -> String {
        "cloudflare/emulator".into()
    }

    fn has_ids(&self) -> bool {
        true
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        let token = match creds {
            Creds::Good => MARKER.to_owned(),
            Creds::Bad => format!("{MARKER}-wrong"),
        };
        Arc::new(CloudflareSettings {
            api_token: Secret::new(token),
            zone: None,
            zone_id: None,
            proxied: None,
            comment: None,
            endpoint: self.emu.endpoint(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["api_token", "Zone:DNS:Edit"]
    }

    fn secrets(&self) -> Vec<String> {
        vec![MARKER.to_owned(), format!("Bearer {MARKER}")]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu
            .state()
            .rrset(&self.fqdn(name), rtype)
            .into_iter()
            .map(|r| r.content)
            .collect()
    }

    fn ids(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu
            .state()
            .rrset(&self.fqdn(name), rtype)
            .into_iter()
            .map(|r| r.id)
            .collect()
    }

    fn tally(&self) -> Tally {
        tally_of(&self.emu.state().calls, |action| {
            Some(match action {
                "ListZones" | "ListDnsRecords" | "GetZone" | "GetDnsRecord" | "VerifyToken" => {
                    Kind::Read
                }
                "CreateDnsRecord" => Kind::Create,
                "PatchDnsRecord" | "PutDnsRecord" => Kind::Modify,
                "DeleteDnsRecord" => Kind::Delete,
                "BatchDnsRecords" => Kind::Replace,
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
            Fault::ServerError => cloudflare_emu::Fault::Status(503),
            Fault::Timeout => cloudflare_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => {
                cloudflare_emu::Fault::RateLimit(retry_after.as_secs())
            }
            Fault::Malformed => cloudflare_emu::Fault::Malformed,
            Fault::Truncated => cloudflare_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject_on(target.clone(), fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.emu.state().faulted.clone()
    }
}
