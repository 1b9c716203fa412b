//! Fixture for `gcloud` over the Google token endpoint + Cloud DNS emulator
//! (`harness/gcloud_emu.rs`): every JWT assertion verified under the service account's public
//! key, every API call's bearer token checked, calls counted per operation (the token
//! exchange is a read), faults served by the emulator itself (5xx with an HTML body, a
//! silent connection, 429 `rateLimitExceeded` with `Retry-After`, HTML and half JSON
//! bodies). The managed zone is not configured, so the provider finds it by listing the
//! project's zones (`example.org` is in the project too). An RRset is one object and a change
//! replaces it (`replace`); there are no record ids. The refused name is refused with 403
//! `forbidden`. Wrong credentials are a key the account does not have (`other-key.pem`).

use std::sync::Arc;

use ddnsd::provider::gcloud::{GcloudSettings, ServiceAccount};
use ddnsd::provider::Configured;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER};
use crate::harness::emu_http::Target;
use crate::harness::gcloud_emu::{self, GcloudEmu};

const EMAIL: &str = "ddnsd@conformance.iam.gserviceaccount.com";
const KEY_ID: &str = "0123456789abcdef0123456789abcdef01234567";
const PROJECT: &str = "conformance";
const GOOD_PEM: &str = include_str!("../../fixtures/gcloud/test-key.pem");
const BAD_PEM: &str = include_str!("../../fixtures/gcloud/other-key.pem");

/// The emulator seeded with the battery's records.
pub struct Gcloud {
    emu: GcloudEmu,
}

fn fqdn(name: &str) -> String {
    if name == "@" {
        super::ZONE.to_owned()
    } else {
        format!("{name}.{}", super::ZONE)
    }
}

/// Starts the emulator and seeds it (one RRset per seeded name and type).
pub fn start(seed: &Seed) -> Gcloud {
    let emu = GcloudEmu::start(PROJECT);
    emu.add_account(EMAIL, KEY_ID, GOOD_PEM);
    {
        let mut st = emu.state();
        // Access tokens are secrets too: a leaked one shows the marker.
        st.token_prefix = format!("ya29.{MARKER}-");
        st.add_zone("example.org");
        st.add_zone(seed.zone);
        for r in &seed.records {
            st.add_rrset(
                seed.zone,
                &fqdn(r.name),
                r.rtype,
                u64::from(super::TTL),
                r.values,
            );
        }
    }
    emu.refuse(&fqdn(seed.refused));
    Gcloud { emu }
}

/// The service account's key file, as Google issues it.
pub fn key_file(pem: &str, token_uri: &str) -> String {
    serde_json::json!({"type": "service_account", "project_id": PROJECT,
        "private_key_id": KEY_ID, "private_key": pem, "client_email": EMAIL,
        "client_id": "100000000000000000000", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri})
    .to_string()
}

impl Fixture for Gcloud {
    fn label(&self) -> String {
        "gcloud/emulator".into()
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        let pem = match creds {
            Creds::Good => GOOD_PEM,
            Creds::Bad => BAD_PEM,
        };
        let account = ServiceAccount::from_json(&key_file(pem, &self.emu.token_uri())).unwrap();
        Arc::new(GcloudSettings {
            token_uri: account.token_uri.clone().unwrap(),
            account,
            project: PROJECT.into(),
            managed_zone: None,
            endpoint: self.emu.endpoint(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["credentials", "roles/dns.admin"]
    }

    fn secrets(&self) -> Vec<String> {
        // The marker (in every access token) and the private keys' base64 body lines.
        let mut out = vec![MARKER.to_owned()];
        for pem in [GOOD_PEM, BAD_PEM] {
            out.extend(
                pem.lines()
                    .filter(|l| !l.starts_with("-----") && l.len() > 40)
                    .take(3)
                    .map(str::to_owned),
            );
        }
        out
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        self.emu.state().values(super::ZONE, &fqdn(name), rtype)
    }

    fn tally(&self) -> Tally {
        tally_of(&self.emu.state().calls, |op| {
            Some(match op {
                "token" | "managedZones.list" | "rrsets.list" => Kind::Read,
                // A change replaces the whole RRset atomically.
                "changes.create" => Kind::Replace,
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
            Fault::ServerError => gcloud_emu::Fault::Status(503),
            Fault::Timeout => gcloud_emu::Fault::Timeout,
            Fault::RateLimit { retry_after } => {
                gcloud_emu::Fault::RateLimit(Some(retry_after.as_secs()))
            }
            Fault::Malformed => gcloud_emu::Fault::Malformed,
            Fault::Truncated => gcloud_emu::Fault::Truncated,
        };
        for _ in 0..times {
            self.emu.inject_on(target.clone(), fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.emu.state().faulted.clone()
    }
}
