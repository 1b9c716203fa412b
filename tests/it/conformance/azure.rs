//! Fixture for `azure` over the Entra ID token endpoint + Azure Resource Manager DNS emulator
//! (`harness/azure_emu.rs`, two servers): the client credentials checked by the token
//! endpoint, every management call's bearer token and api-version checked, calls counted per
//! operation (the token exchange is a read), faults served by the emulator itself (5xx with
//! an HTML body, a silent connection, 429 `SubscriptionRequestsThrottled` with
//! `Retry-After`, HTML and half JSON bodies). The zone is not configured, so the provider
//! finds it by listing the resource group's zones (`example.org` is there too). A record set
//! is one object and a PUT replaces it (`replace`). The refused name is refused with 403
//! `AuthorizationFailed` (a role assignment scoped to other record sets).

use std::sync::Arc;

use ddnsd::provider::azure::AzureSettings;
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER};
use crate::harness::azure_emu::{self, AzureEmu};
use crate::harness::emu_http::Target;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SUBSCRIPTION: &str = "00000000-1111-2222-3333-444444444444";
const GROUP: &str = "conformance-rg";

/// The emulator seeded with the battery's records.
pub struct Azure {
    emu: AzureEmu,
}

/// Starts the emulator and seeds it (one record set per seeded name and type).
pub fn start(seed: &Seed) -> Azure {
    let emu = AzureEmu::start(SUBSCRIPTION, GROUP);
    emu.add_app(TENANT, CLIENT, MARKER);
    {
        let mut st = emu.state();
        st.token_prefix = format!("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.{MARKER}-");
        st.add_zone("example.org");
        st.add_zone(seed.zone);
        for r in &seed.records {
            st.add_set(
                seed.zone,
                r.name,
                r.rtype,
                u64::from(super::TTL),
                r.values,
                None,
            );
        }
    }
    let refused = format!("{}.{}", seed.refused, seed.zone);
    emu.refuse(&refused);
    Azure { emu }
}

impl Fixture for Azure {
    fn label(&self) -> String {
        "azure/emulator".into()
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        let secret = match creds {
            Creds::Good => MARKER.to_owned(),
            Creds::Bad => format!("{MARKER}-wrong"),
        };
        Arc::new(AzureSettings {
            tenant_id: TENANT.into(),
            client_id: CLIENT.into(),
            client_secret: Secret::new(secret),
            subscription_id: SUBSCRIPTION.into(),
            resource_group: GROUP.into(),
            zone: None,
            endpoint: self.emu.endpoint(),
            authority: self.emu.authority(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["client_secret", "DNS Zone Contributor"]
    }

    fn secrets(&self) -> Vec<String> {
        vec![MARKER.to_owned()]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu.state().values(super::ZONE, name, rtype)
    }

    fn tally(&self) -> Tally {
        tally_of(&self.emu.state().calls, |op| {
            Some(match op {
                "token" | "DnsZones_ListByResourceGroup" | "RecordSets_Get" => Kind::Read,
                // A PUT replaces the whole record set.
                "RecordSets_CreateOrUpdate" => Kind::Replace,
                "RecordSets_Delete" => Kind::Delete,
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
            Fault::ServerError => azure_emu::Fault::Status(503),
            Fault::Timeout => azure_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => {
                azure_emu::Fault::RateLimit(Some(retry_after.as_secs()))
            }
            Fault::Malformed => azure_emu::Fault::Malformed,
            Fault::Truncated => azure_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject_on(target.clone(), fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.emu.state().faulted.clone()
    }
}
