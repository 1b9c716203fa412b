//! `kind = "dynv6"`: dynv6.com, with an HTTP token (`Authorization: Bearer …` for the REST API,
//! `token=` for the update API), in one of two modes.
//!
//! - `mode = "records"` (default): the REST API (`/api/v2`, spec `dynv6/api-spec` 0.2.0). A
//!   name inside the zone is one record per address (`GET/POST /zones/{id}/records`,
//!   `PATCH/DELETE …/records/{id}`), reconciled by the shared row plan (`kit::rows::plan_rows`:
//!   ids re-pointed, never delete-then-create). The zone's own name is not a record: its A and
//!   AAAA are the zone's `ipv4address` and `ipv6prefix` fields (`PATCH /zones/{id}`), one
//!   address each; a prefix length already there is kept.
//! - `mode = "prefix"`: the update API (`GET /api/update?zone=…&token=…&ipv6prefix=…`). Only the
//!   zone's IPv6 prefix is published (the AAAA record's address cut to `prefix_length` bits);
//!   every record of the zone written as a partial address or a MAC address follows it. The
//!   zone's A goes in `ipv4=`. The update API has no read call, so this mode is write-only
//!   ([`Provider::reads_live`] is false) and the prefix is sent only when it changes.
//!
//! Owns both wire formats and the meaning of their answers (the REST statuses and the dynv6
//! error envelope `{"error": {"name", "message", "fields"}}` in [`status_error`], the one
//! table). Reference: `shared/providers/dynv6-duckdns-desec.md` §1 and dynv6.com/docs/apis.
//!
//! dynv6 has no TTL field: it picks the TTL. ddnsd reports the TTL it last asked for (kept in
//! the hints), so a verify does not see drift it could not repair.

mod prefix;
mod records;
mod settings;
#[cfg(test)]
mod tests;
mod wire;

use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;

use super::kit::api;
use super::{
    Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind, ProviderHints,
};
use crate::http::{Backoff, HttpClient, Method, Request};
use crate::record::{Fqdn, RecordKey, RrSet};

use prefix::acknowledged;
use settings::configure;
pub use settings::{Dynv6Settings, Mode};
pub use wire::{prefix_of, status_error, Failure};

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "dynv6",
    about: "dynv6.com (HTTP token): each name's records (REST API), or only the zone's IPv6 prefix (mode = \"prefix\")",
    example: r#"[providers.dynv6]
kind = "dynv6"
token_env = "DYNV6_TOKEN"     # or token / token_file: an HTTP token from dynv6.com/keys
# zone = "home.dynv6.net"     # omit to find the record's zone among the token's zones
# mode = "records"            # records: every record name gets its addresses (REST API);
                              # prefix: only the zone's IPv6 prefix is published (update
                              # API), every host of the zone written as ::suffix or MAC follows
# prefix_length = 64          # mode = "prefix": the length of the published prefix
# endpoint = "https://dynv6.com"
"#,
    configure,
};

/// The default base URL (REST API at `/api/v2`, update API at `/api/update`).
pub const DEFAULT_ENDPOINT: &str = "https://dynv6.com";

const HINT_ZONE: &str = "zone";
const HINT_ZONE_ID: &str = "zone_id";
const HINT_TTL: &str = "ttl";
const HINT_PUBLISHED: &str = "published";
const HINT_PREFIX: &str = "prefix";

/// A dynv6 provider.
pub struct Dynv6 {
    name: String,
    settings: Dynv6Settings,
    /// `host[:port]` of the endpoint, for messages.
    service: String,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    /// Zones of the token seen in this process: (name, id).
    zones: Mutex<Vec<(Fqdn, u64)>>,
}

/// A zone: name and id.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Zone {
    name: Fqdn,
    id: u64,
}

impl Dynv6 {
    /// A provider named `name`.
    pub fn new(name: String, settings: Dynv6Settings, deps: &ProviderDeps) -> Dynv6 {
        let service = reqwest::Url::parse(&settings.endpoint)
            .ok()
            .and_then(|u| {
                let host = u.host_str()?.to_owned();
                Some(match u.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host,
                })
            })
            .unwrap_or_else(|| "dynv6".to_owned());
        Dynv6 {
            name,
            settings,
            service,
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            zones: Mutex::new(Vec::new()),
        }
    }

    fn api(&self, path: &str) -> String {
        format!("{}/api/v2{path}", self.settings.endpoint)
    }

    /// Calls the REST API, retrying transient failures and rate limits; the reply's JSON
    /// (`Null` for a 204).
    async fn call(
        &self,
        action: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let url = self.api(path);
        let body = body.map(Value::to_string).unwrap_or_default().into_bytes();
        api::with_retries(
            &self.backoff,
            &self.name,
            action,
            |f: &Failure| match f {
                Failure::Provider(p) => Some(p),
                Failure::NotFound(_) => None,
            },
            || async {
                let mut headers = vec![
                    (
                        "Authorization",
                        format!("Bearer {}", self.settings.token.expose()),
                    ),
                    ("Accept", "application/json".to_owned()),
                ];
                if !body.is_empty() {
                    headers.push(("Content-Type", "application/json".to_owned()));
                }
                let resp = self
                    .http
                    .send(Request {
                        method,
                        url: &url,
                        headers: &headers,
                        body: body.clone(),
                        timeout: self.timeout,
                    })
                    .await
                    .map_err(|e| api::http_error(action, &e, method != Method::Get))?;
                tracing::debug!(provider = %self.name, action, status = resp.status, "reply");
                if !(200..300).contains(&resp.status) {
                    return Err(status_error(action, &resp));
                }
                if resp.status == 204 {
                    return Ok(Value::Null);
                }
                serde_json::from_slice(&resp.body).map_err(|e| {
                    Failure::Provider(ProviderError::new(
                        ProviderErrorKind::Protocol,
                        format!("{action}: the reply is not valid json ({e})"),
                    ))
                })
            },
        )
        .await
    }
}

impl Provider for Dynv6 {
    fn name(&self) -> &str {
        &self.name
    }

    /// The update API (prefix mode) has no read call.
    fn reads_live(&self) -> bool {
        self.settings.mode == Mode::Records
    }

    fn read_rrset<'a>(
        &'a self,
        key: &'a RecordKey,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        Box::pin(async move {
            match self.settings.mode {
                Mode::Records => self.read(key, hints).await,
                Mode::Prefix => Ok(acknowledged(hints, key)),
            }
        })
    }

    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        Box::pin(async move {
            match self.settings.mode {
                Mode::Records => self.apply(desired, hints).await,
                Mode::Prefix => self.update(desired, hints).await,
            }
        })
    }
}
