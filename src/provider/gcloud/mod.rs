//! `kind = "gcloud"`: Google Cloud DNS (API v1) with a service account's JSON key.
//!
//! Owns reading the key file (`credentials` / `credentials_file` / `credentials_env`), the
//! OAuth 2.0 token exchange (a JWT signed with the key, `sign/google_jwt.rs`, traded at the
//! key's `token_uri` for an access token that is cached until shortly before it expires),
//! the wire format of `managedZones.list`, `resourceRecordSets.list` and `changes.create`,
//! and the mapping of Google's errors to [`ProviderError`]s (`meaning`, the one code table).
//! A Cloud DNS RRset is one object and a change is atomic: an update is ONE `changes.create`
//! whose deletion is the live RRset exactly as read (else `412 conditionNotMet`) and whose
//! addition is the desired one. Touches only the RRset of the managed (name, type).
//! Reference: `shared/providers/hyperscalers.md` §1.
//!
//! Split by job: `settings` (the key file and `[providers.NAME]`), `token` (the OAuth
//! exchange; the cache is `kit::token`), `call` (one API call with retries, and paging),
//! `records` (zones, reading and changing the RRset), `codes` (the error-code table).

mod call;
mod codes;
mod records;
mod settings;
#[cfg(test)]
mod tests;
mod token;

pub use settings::{GcloudSettings, ServiceAccount};

use settings::configure;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;

use super::kit::token::TokenCache;
use super::{Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderHints};
use crate::clock::Clock;
use crate::http::{Backoff, HttpClient};
use crate::record::{Fqdn, RecordKey, RrSet};

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "gcloud",
    about: "Google Cloud DNS (service-account JSON key, OAuth 2.0 JWT bearer)",
    example: r#"[providers.google]
kind = "gcloud"
credentials_file = "/etc/ddnsd/gcloud-key.json"   # the service account's JSON key (or credentials / credentials_env); role DNS Administrator
# project = "my-project"                # default: the key file's project_id
# managed_zone = "example-com"          # default: the public zone whose DNS name holds the record
# endpoint = "https://dns.googleapis.com"
# token_uri = "https://oauth2.googleapis.com/token"   # default: the key file's token_uri
"#,
    configure,
};

/// The default API endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://dns.googleapis.com";
/// Where tokens come from when the key file does not say.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// A token is renewed this long before it expires.
const TOKEN_MARGIN_SECS: u64 = 60;
/// `maxResults` of the list calls.
const PAGE: u32 = 500;
const HINT_ZONE: &str = "zone";
const HINT_MANAGED_ZONE: &str = "managed_zone";
const HINT_RRDATAS: &str = "rrdatas";
const HINT_TTL: &str = "ttl";
const AUTH_HINT: &str = "check credentials: the service account's key must be valid and not deleted; the account needs the DNS Administrator role (roles/dns.admin)";
const FORBIDDEN_HINT: &str = "grant the service account the DNS Administrator role (roles/dns.admin) on the project, and enable the Cloud DNS API";

/// A Google Cloud DNS provider.
pub struct Gcloud {
    name: String,
    settings: GcloudSettings,
    clock: Arc<dyn Clock>,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    token: TokenCache,
    /// Public managed zones: (DNS name, zone name), listed at most once unless a name misses.
    zones: Mutex<Option<Vec<(Fqdn, String)>>>,
}

impl Gcloud {
    /// A provider named `name`.
    pub fn new(name: String, settings: GcloudSettings, deps: &ProviderDeps) -> Gcloud {
        Gcloud {
            name,
            settings,
            clock: deps.clock.clone(),
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            token: TokenCache::new(TOKEN_MARGIN_SECS),
            zones: Mutex::new(None),
        }
    }
}

impl Provider for Gcloud {
    fn name(&self) -> &str {
        &self.name
    }

    fn read_rrset<'a>(
        &'a self,
        key: &'a RecordKey,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        Box::pin(self.read(key, hints))
    }

    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        Box::pin(self.apply(desired, hints))
    }
}
