//! `kind = "hetzner"`: Hetzner DNS through the Hetzner Cloud API (`api.hetzner.cloud/v1`,
//! zones and RRsets), with a project API token (`Authorization: Bearer`).
//!
//! Owns the wire format of the calls ddnsd makes — list the project's zones (`GET /zones`,
//! paged by `meta.pagination.next_page`), read one RRset (`GET /zones/{zone}/rrsets` filtered
//! by `name` and `type`), create it (`POST /zones/{zone}/rrsets`), replace its values (`POST
//! …/rrsets/{name}/{type}/actions/set_records`), change its TTL (`…/actions/change_ttl`),
//! delete it, and follow the asynchronous action a write returns — and the meaning of the
//! API's error codes ([`meaning`], the one table). Reference: `shared/providers/hosting-dns.md`
//! §1.1 (read from hcloud-go's `zone_rrset.go` and `schema/`).
//!
//! Why the Cloud API and not the DNS Console API (`dns.hetzner.com/api/v1`, `Auth-API-Token`):
//! Hetzner moved DNS into the Hetzner Console; new zones can only be created there, old zones
//! must be migrated, and a migrated zone no longer answers the old API, which is being shut
//! down. The README says how to migrate.
//!
//! An RRset is one object: other names and types are never touched. A value's comment is
//! Hetzner's own field: values that stay keep their comments (set_records is sent with them),
//! and the RRset's labels and protection are never sent, so they stay too.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};

use super::kit::api;
use super::kit::rows;
use super::kit::zones::ZoneCache;
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints,
};
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{Backoff, HttpClient, HttpResponse, Method, Request};
use crate::record::{AddrSet, Family, Fqdn, RecordKey, RecordType, RrSet, Ttl};
use crate::secret::Secret;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "hetzner",
    about: "Hetzner DNS via the Hetzner Cloud API (project API token, zones and RRsets)",
    example: r#"[providers.hetzner]
kind = "hetzner"
api_token_env = "HCLOUD_TOKEN"          # or api_token / api_token_file: a Read & Write API token
                                        # of the Hetzner Console project that holds the zone
# zone = "example.com"                  # omit to find it among the project's zones
# endpoint = "https://api.hetzner.cloud/v1"
"#,
    configure,
};

/// The Hetzner Cloud API.
pub const DEFAULT_ENDPOINT: &str = "https://api.hetzner.cloud/v1";

/// Items per page of a list (the API's default is 25, its maximum 50).
const PER_PAGE: u32 = 50;
/// Pages read at most.
const MAX_PAGES: u32 = 100;
/// How often a write's action is asked about while it runs, and how long to wait before
/// each ask (the change is accepted either way; this only tells a failed one early).
const ACTION_POLLS: [Duration; 3] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
];
const SERVICE: &str = "Hetzner Console";
const AUTH_HINT: &str = "check api_token: it must be an API token of the Hetzner Console project that holds the zone (Security → API tokens), with Read & Write permission";
const PROTECTED_HINT: &str =
    "the RRset is protected against changes: remove the protection in the Hetzner Console";
const ZONE_HINT: &str = "check zone: it must be a zone of the token's project in the Hetzner Console (a zone still in the old DNS Console must be migrated first)";

const HINT_ZONE: &str = "zone";
const HINT_RRSET: &str = "rrset";

/// Settings of a Hetzner provider.
#[derive(Clone, Debug)]
pub struct HetznerSettings {
    /// The project's API token.
    pub api_token: Secret<String>,
    /// The zone; `None` = the longest of the project's zones that contains the name.
    pub zone: Option<Fqdn>,
    /// API base URL, default `https://api.hetzner.cloud/v1`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "hetzner"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    api_token: Option<Text>,
    api_token_file: Option<Text>,
    api_token_env: Option<Text>,
    zone: Option<Text>,
    endpoint: Option<Text>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let api_token = f.secret(SecretFields {
        name: "api_token",
        inline: &r.api_token,
        file: &r.api_token_file,
        env: &r.api_token_env,
    });
    let zone = fields::zone(f, &r.zone);
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(HetznerSettings {
        api_token: api_token?,
        zone: zone?,
        endpoint: endpoint?,
    }))
}

impl Configured for HetznerSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Hetzner::new(name.to_owned(), self.clone(), deps))
    }
}

/// A Hetzner provider.
pub struct Hetzner {
    name: String,
    settings: HetznerSettings,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    zones: ZoneCache,
}

impl Provider for Hetzner {
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

mod codes;
mod rrsets;
#[cfg(test)]
mod tests;

use codes::*;
#[cfg(test)]
use rrsets::*;
