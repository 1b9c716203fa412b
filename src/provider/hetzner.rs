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

/// What an error code of the Cloud API means to ddnsd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// The token is unknown or revoked (`unauthorized`), or may only read (`token_readonly`).
    Auth,
    /// The token may not do this (`forbidden`), or the RRset is protected (`protected`).
    Forbidden,
    /// The RRset is protected against changes.
    Protected,
    /// No such zone or RRset (`not_found`).
    NotFound,
    /// The RRset exists already (`uniqueness_error`): read again.
    Exists,
    /// The request is wrong and will stay wrong.
    Rejected,
    /// `rate_limit_exceeded`.
    RateLimited,
    /// Anything else, the server's own failures and `locked` / `conflict` included: may
    /// pass.
    Transient,
}

/// The Cloud API's error codes (`{"error": {"code", "message", "details"}}`) → what they
/// mean: the one table of this adapter. Codes from hcloud-go's `error.go`; only the ones
/// that stay wrong stop retries — `locked` ("another action is running"), `conflict` ("the
/// resource has changed during the request, please retry"), `maintenance`,
/// `resource_unavailable`, `server_error`, `service_error`, `timeout`, `bad_gateway`,
/// `unknown_error` and every code not listed are transient.
pub fn meaning(code: &str) -> Meaning {
    match code {
        "unauthorized" | "token_readonly" => Meaning::Auth,
        "forbidden" => Meaning::Forbidden,
        "protected" => Meaning::Protected,
        "not_found" => Meaning::NotFound,
        "uniqueness_error" => Meaning::Exists,
        "invalid_input"
        | "json_error"
        | "resource_limit_exceeded"
        | "unsupported_error"
        | "deprecated_api_endpoint" => Meaning::Rejected,
        "rate_limit_exceeded" => Meaning::RateLimited,
        _ => Meaning::Transient,
    }
}

/// A failed call: the API's answer, or a provider error already.
#[derive(Debug)]
enum Failure {
    Api {
        meaning: Meaning,
        error: ProviderError,
    },
    Provider(ProviderError),
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Failure {
        Failure::Provider(e)
    }
}

impl From<Failure> for ProviderError {
    fn from(f: Failure) -> ProviderError {
        match f {
            Failure::Api { error, .. } | Failure::Provider(error) => error,
        }
    }
}

/// One value of an RRset, with Hetzner's comment.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Value1 {
    addr: IpAddr,
    comment: String,
}

/// What is known of the live RRset.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Live {
    Absent,
    /// The RRset, its TTL (`None` = the zone's default) and values.
    Present {
        ttl: Option<u32>,
        values: Vec<Value1>,
    },
}

impl Hetzner {
    /// A provider named `name`.
    pub fn new(name: String, settings: HetznerSettings, deps: &ProviderDeps) -> Hetzner {
        Hetzner {
            name,
            settings,
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            zones: ZoneCache::default(),
        }
    }

    /// Sends one request, retrying transient failures and rate limits; returns the JSON body.
    async fn call(
        &self,
        action: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let url = format!("{}{path}", self.settings.endpoint);
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let mut headers = vec![(
            "Authorization",
            format!("Bearer {}", self.settings.api_token.expose()),
        )];
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        let write = method != Method::Get;
        api::with_retries(
            &self.backoff,
            &self.name,
            action,
            |f| match f {
                Failure::Provider(e) | Failure::Api { error: e, .. } => Some(e),
            },
            || async {
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
                    .map_err(|e| api::http_error(action, &e, write))?;
                tracing::debug!(provider = %self.name, action, status = resp.status, "reply");
                interpret(action, &resp)
            },
        )
        .await
    }

    /// Every page of a list: `path` (which has a query already) with `page`/`per_page`,
    /// the items under `key`.
    async fn all_pages(
        &self,
        action: &'static str,
        path: &str,
        key: &str,
    ) -> Result<Vec<Value>, Failure> {
        let mut out = Vec::new();
        let mut page = 1;
        for _ in 0..MAX_PAGES {
            let reply = self
                .call(
                    action,
                    Method::Get,
                    &format!("{path}&per_page={PER_PAGE}&page={page}"),
                    None,
                )
                .await?;
            let items = reply
                .get(key)
                .and_then(Value::as_array)
                .ok_or_else(|| api::protocol(action, &format!("no {key:?} list")))?;
            out.extend(items.iter().cloned());
            let next = reply
                .get("meta")
                .and_then(|m| m.get("pagination"))
                .and_then(|p| p.get("next_page"))
                .and_then(Value::as_u64);
            match next {
                Some(n) if !items.is_empty() && n > page => page = n,
                _ => return Ok(out),
            }
        }
        Err(api::protocol(action, &format!("more than {MAX_PAGES} pages")).into())
    }

    /// The project's zones.
    async fn list_zones(&self) -> Result<Vec<Fqdn>, ProviderError> {
        let action = "ListZones";
        let zones = self.all_pages(action, "/zones?sort=name", "zones").await?;
        zones
            .iter()
            .map(|z| {
                let name = z
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| api::protocol(action, "a zone without a name"))?;
                Fqdn::parse_relaxed(name)
                    .map_err(|_| api::protocol(action, &format!("a zone named {name:?}")))
            })
            .collect()
    }

    async fn zone_of(&self, name: &Fqdn, hints: &ProviderHints) -> Result<Fqdn, ProviderError> {
        self.zones
            .zone_of(name, self.settings.zone.as_ref(), hints, SERVICE, || {
                self.list_zones()
            })
            .await
    }

    /// The live RRset of (`sub`, `rtype`) in `zone`.
    async fn fetch(
        &self,
        zone: &Fqdn,
        sub: &str,
        rtype: RecordType,
    ) -> Result<Live, ProviderError> {
        let action = "ListRRSets";
        let path = format!(
            "/zones/{}/rrsets?name={}&type={}",
            path_encode(zone.as_str()),
            query_encode(sub),
            rtype.as_str()
        );
        let sets = match self.all_pages(action, &path, "rrsets").await {
            Ok(s) => s,
            Err(Failure::Api {
                meaning: Meaning::NotFound,
                error,
            }) => {
                return Err(
                    ProviderError::new(ProviderErrorKind::ZoneNotFound, error.message)
                        .with_hint(ZONE_HINT),
                )
            }
            Err(e) => return Err(e.into()),
        };
        // The filters are exact; a lenient server must not hand over other RRsets.
        let Some(set) = sets.iter().find(|s| {
            s.get("name").and_then(Value::as_str) == Some(sub)
                && s.get("type").and_then(Value::as_str) == Some(rtype.as_str())
        }) else {
            return Ok(Live::Absent);
        };
        let ttl = match set.get("ttl") {
            None | Some(Value::Null) => None,
            Some(t) => Some(
                t.as_u64()
                    .and_then(|t| u32::try_from(t).ok())
                    .ok_or_else(|| api::protocol(action, "an rrset with an invalid ttl"))?,
            ),
        };
        let records = set
            .get("records")
            .and_then(Value::as_array)
            .ok_or_else(|| api::protocol(action, "an rrset without records"))?;
        let mut values = Vec::new();
        for r in records {
            let text = r
                .get("value")
                .and_then(Value::as_str)
                .ok_or_else(|| api::protocol(action, "a record without a value"))?;
            let addr = text
                .parse::<IpAddr>()
                .ok()
                .filter(|a| Family::of(a).record_type() == rtype)
                .ok_or_else(|| api::protocol(action, &format!("a {rtype} value {text:?}")))?;
            let comment = r
                .get("comment")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            values.push(Value1 { addr, comment });
        }
        Ok(Live::Present { ttl, values })
    }

    async fn read(
        &self,
        key: &RecordKey,
        hints: &ProviderHints,
    ) -> Result<LiveRrSet, ProviderError> {
        let zone = self.zone_of(&key.name, hints).await?;
        let sub = rows::sub_domain(&key.name, &zone)?;
        let live = self.fetch(&zone, &sub, key.rtype).await?;
        let (addrs, ttl) = match &live {
            Live::Absent => (AddrSet::new(), None),
            Live::Present { ttl, values } => (
                values.iter().map(|v| v.addr).collect::<AddrSet>(),
                ttl.map(Ttl),
            ),
        };
        Ok(LiveRrSet {
            ttl: if addrs.is_empty() { None } else { ttl },
            addrs,
            hints: self.hints(&zone, &live),
        })
    }

    /// Makes the live RRset equal `desired`: from the remembered state when it can be
    /// trusted (no comments to keep), else from a read; a remembered state that turns out
    /// wrong (the RRset vanished, or exists already) is read once more.
    async fn apply(
        &self,
        desired: &RrSet,
        hints: &ProviderHints,
    ) -> Result<ProviderHints, ProviderError> {
        let zone = self.zone_of(&desired.name, hints).await?;
        let sub = rows::sub_domain(&desired.name, &zone)?;
        let mut live = match remembered(hints, &zone) {
            Some(l) => l,
            None => self.fetch(&zone, &sub, desired.rtype).await?,
        };
        let mut reread = false;
        loop {
            match self.write(&zone, &sub, desired, &live).await {
                Ok(after) => return Ok(self.hints(&zone, &after)),
                Err(Failure::Api {
                    meaning: Meaning::NotFound | Meaning::Exists,
                    error,
                }) if !reread => {
                    tracing::info!(provider = %self.name, record = %desired.key(), error = %error, "the rrset changed under ddnsd; reading it again");
                    reread = true;
                    live = self.fetch(&zone, &sub, desired.rtype).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The writes that make `live` equal `desired`; returns the RRset as it is afterwards.
    async fn write(
        &self,
        zone: &Fqdn,
        sub: &str,
        desired: &RrSet,
        live: &Live,
    ) -> Result<Live, Failure> {
        let zone_path = format!("/zones/{}/rrsets", path_encode(zone.as_str()));
        let set_path = format!(
            "{zone_path}/{}/{}",
            path_encode(sub),
            desired.rtype.as_str()
        );
        let ttl = desired.ttl.0;
        match live {
            Live::Absent if desired.addrs.is_empty() => Ok(Live::Absent),
            Live::Absent => {
                let records: Vec<Value> = desired
                    .addrs
                    .iter()
                    .map(|a| json!({"value": a.to_string()}))
                    .collect();
                let body = json!({"name": sub, "type": desired.rtype.as_str(), "ttl": ttl, "records": records});
                let reply = self
                    .call("CreateRRSet", Method::Post, &zone_path, Some(&body))
                    .await?;
                self.follow("CreateRRSet", &reply).await?;
                Ok(Live::Present {
                    ttl: Some(ttl),
                    values: desired
                        .addrs
                        .iter()
                        .map(|a| Value1 {
                            addr: *a,
                            comment: String::new(),
                        })
                        .collect(),
                })
            }
            Live::Present { .. } if desired.addrs.is_empty() => {
                match self
                    .call("DeleteRRSet", Method::Delete, &set_path, None)
                    .await
                {
                    Ok(reply) => self.follow("DeleteRRSet", &reply).await?,
                    // Already gone: what was wanted.
                    Err(Failure::Api {
                        meaning: Meaning::NotFound,
                        ..
                    }) => {}
                    Err(e) => return Err(e),
                }
                Ok(Live::Absent)
            }
            Live::Present {
                ttl: live_ttl,
                values,
            } => {
                let live_addrs: AddrSet = values.iter().map(|v| v.addr).collect();
                let mut after = values.clone();
                if live_addrs != desired.addrs || values.len() != desired.addrs.len() {
                    // Values that stay keep their comments.
                    after = desired
                        .addrs
                        .iter()
                        .map(|a| Value1 {
                            addr: *a,
                            comment: values
                                .iter()
                                .find(|v| v.addr == *a)
                                .map(|v| v.comment.clone())
                                .unwrap_or_default(),
                        })
                        .collect();
                    let records: Vec<Value> = after
                        .iter()
                        .map(|v| {
                            if v.comment.is_empty() {
                                json!({"value": v.addr.to_string()})
                            } else {
                                json!({"value": v.addr.to_string(), "comment": v.comment})
                            }
                        })
                        .collect();
                    let reply = self
                        .call(
                            "SetRecords",
                            Method::Post,
                            &format!("{set_path}/actions/set_records"),
                            Some(&json!({ "records": records })),
                        )
                        .await?;
                    self.follow("SetRecords", &reply).await?;
                }
                if *live_ttl != Some(ttl) {
                    let reply = self
                        .call(
                            "ChangeTTL",
                            Method::Post,
                            &format!("{set_path}/actions/change_ttl"),
                            Some(&json!({ "ttl": ttl })),
                        )
                        .await?;
                    self.follow("ChangeTTL", &reply).await?;
                }
                Ok(Live::Present {
                    ttl: Some(ttl),
                    values: after,
                })
            }
        }
    }

    /// Follows the action a write returned: an action that failed is the write's error; one
    /// still running after a few asks is taken as accepted (the next verify reads the RRset).
    async fn follow(&self, write: &'static str, reply: &Value) -> Result<(), Failure> {
        let mut action = reply.get("action").cloned().unwrap_or(Value::Null);
        for delay in ACTION_POLLS {
            match action.get("status").and_then(Value::as_str) {
                Some("running") => {}
                Some("error") => {
                    let code = action
                        .get("error")
                        .and_then(|e| e.get("code"))
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let message = action
                        .get("error")
                        .and_then(|e| e.get("message"))
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let m = meaning(code);
                    return Err(Failure::Api {
                        meaning: m,
                        error: error_of(m, format!("{write} failed: {code}: {message:?}"), None),
                    });
                }
                // `success`, or no action in the reply: done.
                _ => return Ok(()),
            }
            let Some(id) = action.get("id").and_then(Value::as_u64) else {
                return Ok(());
            };
            tokio::time::sleep(delay).await;
            let reply = self
                .call(
                    "GetAction",
                    Method::Get,
                    &format!("/zones/actions/{id}"),
                    None,
                )
                .await?;
            action = reply.get("action").cloned().unwrap_or(Value::Null);
        }
        tracing::debug!(provider = %self.name, write, "the action is still running; taken as accepted");
        Ok(())
    }

    /// `zone` (unless configured) and what is known of the RRset: `rrset` = `absent`, or
    /// `present` with `ttl`, `values` and `commented` (values with comments make the next
    /// write read first, so the comments are kept).
    fn hints(&self, zone: &Fqdn, live: &Live) -> ProviderHints {
        let mut h = ProviderHints::default();
        if self.settings.zone.is_none() {
            h.0.insert(HINT_ZONE.to_owned(), zone.to_string());
        }
        match live {
            Live::Absent => {
                h.0.insert(HINT_RRSET.to_owned(), "absent".to_owned());
            }
            Live::Present { ttl, values } => {
                let commented = values.iter().any(|v| !v.comment.is_empty());
                let addrs: Vec<String> = values.iter().map(|v| v.addr.to_string()).collect();
                let text = match ttl {
                    Some(t) => format!("present ttl={t} values={}", addrs.join(",")),
                    None => format!("present ttl=zone values={}", addrs.join(",")),
                };
                h.0.insert(
                    HINT_RRSET.to_owned(),
                    if commented {
                        "present commented".to_owned()
                    } else {
                        text
                    },
                );
            }
        }
        h
    }
}

/// The live RRset as the hints remember it, when they can be trusted: for `zone`, and
/// without comments to keep.
fn remembered(hints: &ProviderHints, zone: &Fqdn) -> Option<Live> {
    if let Some(z) = hints.0.get(HINT_ZONE) {
        if z != zone.as_str() {
            return None;
        }
    }
    let text = hints.0.get(HINT_RRSET)?;
    if text == "absent" {
        return Some(Live::Absent);
    }
    let rest = text.strip_prefix("present ttl=")?;
    let (ttl, values) = rest.split_once(" values=")?;
    let ttl = match ttl {
        "zone" => None,
        t => Some(t.parse().ok()?),
    };
    let values = if values.is_empty() {
        Vec::new()
    } else {
        values
            .split(',')
            .map(|v| {
                Some(Value1 {
                    addr: v.parse().ok()?,
                    comment: String::new(),
                })
            })
            .collect::<Option<Vec<_>>>()?
    };
    Some(Live::Present { ttl, values })
}

/// The error for `meaning`, with its hint.
fn error_of(m: Meaning, what: String, retry_after: Option<Duration>) -> ProviderError {
    match m {
        Meaning::Auth => ProviderError::new(ProviderErrorKind::Auth, what).with_hint(AUTH_HINT),
        Meaning::Forbidden => {
            ProviderError::new(ProviderErrorKind::Forbidden, what).with_hint(AUTH_HINT)
        }
        Meaning::Protected => {
            ProviderError::new(ProviderErrorKind::Forbidden, what).with_hint(PROTECTED_HINT)
        }
        Meaning::NotFound => {
            ProviderError::new(ProviderErrorKind::ZoneNotFound, what).with_hint(ZONE_HINT)
        }
        // Read again by the caller; if it persists, the request is wrong.
        Meaning::Exists | Meaning::Rejected => {
            ProviderError::new(ProviderErrorKind::Rejected, what)
        }
        Meaning::RateLimited => {
            ProviderError::new(ProviderErrorKind::RateLimited { retry_after }, what)
        }
        Meaning::Transient => ProviderError::new(ProviderErrorKind::Transient, what),
    }
}

/// The body of a successful reply, or what the API's answer means.
fn interpret(action: &'static str, resp: &HttpResponse) -> Result<Value, Failure> {
    if (200..300).contains(&resp.status) {
        if resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        return serde_json::from_slice(&resp.body).map_err(|e| {
            ProviderError::new(
                ProviderErrorKind::Protocol,
                format!("{action}: the reply is not valid json ({e})"),
            )
            .into()
        });
    }
    let body: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let error = body.as_ref().and_then(|b| b.get("error"));
    let code = error
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let fields: Vec<String> = error
        .and_then(|e| e.get("details"))
        .and_then(|d| d.get("fields"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|f| {
                    let name = f.get("name").and_then(Value::as_str)?;
                    let msgs: Vec<&str> = f
                        .get("messages")
                        .and_then(Value::as_array)
                        .map(|m| m.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    Some(format!("{name}: {}", msgs.join(", ")))
                })
                .collect()
        })
        .unwrap_or_default();
    // Without a code the status says it (a proxy's 429 or 5xx).
    let m = match (code, resp.status) {
        ("", 401) => Meaning::Auth,
        ("", 429) => Meaning::RateLimited,
        ("", _) => Meaning::Transient,
        (c, _) => meaning(c),
    };
    let mut what = if code.is_empty() {
        format!("{action} failed: http {}", resp.status)
    } else {
        format!("{action} failed: {code}: {message:?}")
    };
    if !fields.is_empty() {
        what = format!("{what} ({})", fields.join("; "));
    }
    Err(Failure::Api {
        meaning: m,
        error: error_of(m, what, retry_after(resp)),
    })
}

/// How long a 429 asks to wait: `Retry-After` if given, else the time one request's share of
/// the limit takes to come back — the API refills its budget gradually (`RateLimit-Limit`
/// per hour, one request every 3600 / limit seconds).
fn retry_after(resp: &HttpResponse) -> Option<Duration> {
    resp.retry_after.or_else(|| {
        let limit: u64 = resp.header("ratelimit-limit")?.trim().parse().ok()?;
        (limit > 0).then(|| Duration::from_secs(3600u64.div_ceil(limit)))
    })
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters; `@` too).
fn query_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'@' | b'*') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes a path segment (`@` and `*` stay: RRset names use them as is).
fn path_encode(s: &str) -> String {
    query_encode(s)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str, headers: &[(&str, &str)]) -> HttpResponse {
        HttpResponse {
            status,
            date: None,
            retry_after: None,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn err(r: Result<Value, Failure>) -> ProviderError {
        match r {
            Err(f) => f.into(),
            Ok(v) => panic!("not an error: {v}"),
        }
    }

    #[test]
    fn code_table() {
        use Meaning as M;
        for (code, want) in [
            ("unauthorized", M::Auth),
            ("token_readonly", M::Auth),
            ("forbidden", M::Forbidden),
            ("protected", M::Protected),
            ("not_found", M::NotFound),
            ("uniqueness_error", M::Exists),
            ("invalid_input", M::Rejected),
            ("json_error", M::Rejected),
            ("resource_limit_exceeded", M::Rejected),
            ("rate_limit_exceeded", M::RateLimited),
            ("locked", M::Transient),
            ("conflict", M::Transient),
            ("maintenance", M::Transient),
            ("server_error", M::Transient),
            ("service_error", M::Transient),
            ("timeout", M::Transient),
            ("something_new", M::Transient),
        ] {
            assert_eq!(meaning(code), want, "{code}");
        }
    }

    #[test]
    fn answers() {
        use ProviderErrorKind as K;
        let e = err(interpret(
            "ListZones",
            &resp(
                401,
                r#"{"error":{"code":"unauthorized","message":"unable to authenticate","details":{}}}"#,
                &[],
            ),
        ));
        assert_eq!(e.kind, K::Auth);
        assert_eq!(
            e.message,
            "ListZones failed: unauthorized: \"unable to authenticate\""
        );
        assert_eq!(e.hint().as_deref(), Some(AUTH_HINT));
        let e = err(interpret(
            "CreateRRSet",
            &resp(
                400,
                r#"{"error":{"code":"invalid_input","message":"invalid input in field 'ttl'","details":{"fields":[{"name":"ttl","messages":["must be at least 60"]}]}}}"#,
                &[],
            ),
        ));
        assert_eq!(e.kind, K::Rejected);
        assert_eq!(e.message, "CreateRRSet failed: invalid_input: \"invalid input in field 'ttl'\" (ttl: must be at least 60)");
        // A 429: one request's share of the hourly budget, unless Retry-After says.
        let limit = r#"{"error":{"code":"rate_limit_exceeded","message":"limit of 3600 requests per hour reached","details":{}}}"#;
        assert_eq!(
            err(interpret(
                "X",
                &resp(
                    429,
                    limit,
                    &[("ratelimit-limit", "3600"), ("ratelimit-remaining", "0")]
                )
            ))
            .kind,
            K::RateLimited {
                retry_after: Some(Duration::from_secs(1))
            }
        );
        assert_eq!(
            err(interpret(
                "X",
                &resp(429, limit, &[("ratelimit-limit", "1200")])
            ))
            .kind,
            K::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
        );
        let mut r = resp(429, "", &[("ratelimit-limit", "3600")]);
        r.retry_after = Some(Duration::from_secs(9));
        assert_eq!(
            err(interpret("X", &r)).kind,
            K::RateLimited {
                retry_after: Some(Duration::from_secs(9))
            }
        );
        assert_eq!(
            err(interpret("X", &resp(502, "<html>", &[]))).kind,
            K::Transient
        );
        let e = err(interpret("ListRRSets", &resp(200, "{\"rrsets\":[", &[])));
        assert_eq!(e.kind, K::Protocol);
        assert!(e
            .message
            .starts_with("ListRRSets: the reply is not valid json"));
    }

    #[test]
    fn remembered_state_round_trips() {
        let p = Hetzner::new(
            "h".into(),
            HetznerSettings {
                api_token: Secret::new("t".into()),
                zone: None,
                endpoint: "http://127.0.0.1:1".into(),
            },
            &ProviderDeps::new(Arc::new(crate::clock::SystemClock)),
        );
        let zone: Fqdn = "example.com".parse().unwrap();
        let v = |s: &str, c: &str| Value1 {
            addr: s.parse().unwrap(),
            comment: c.into(),
        };
        for live in [
            Live::Absent,
            Live::Present {
                ttl: Some(300),
                values: vec![v("2001:db8::1", ""), v("2001:db8::2", "")],
            },
            Live::Present {
                ttl: None,
                values: vec![v("192.0.2.1", "")],
            },
        ] {
            let h = p.hints(&zone, &live);
            assert_eq!(h.0["zone"], "example.com");
            assert_eq!(remembered(&h, &zone), Some(live));
        }
        // A commented value is not trusted from memory: the next write reads.
        let h = p.hints(
            &zone,
            &Live::Present {
                ttl: Some(300),
                values: vec![v("2001:db8::1", "router")],
            },
        );
        assert_eq!(h.0["rrset"], "present commented");
        assert_eq!(remembered(&h, &zone), None);
        // Another zone's hints are not this zone's.
        let other: Fqdn = "example.org".parse().unwrap();
        assert_eq!(remembered(&p.hints(&zone, &Live::Absent), &other), None);
        assert_eq!(remembered(&ProviderHints::default(), &zone), None);
    }

    fn parse(table: &str) -> Result<HetznerSettings, String> {
        let text = format!(
            "{table}\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"h.example.com\"\nprovider = \"hetzner\"\nsources = [\"s\"]\n"
        );
        let env = |n: &str| (n == "HCLOUD_TOKEN").then(|| "tok".to_owned());
        let c = crate::config::from_text(&text, std::path::Path::new("t.toml"), &env)
            .map_err(|e| e.to_string())?;
        Ok(c.providers["hetzner"]
            .get::<HetznerSettings>()
            .expect("hetzner settings")
            .clone())
    }

    #[test]
    fn the_example_parses() {
        let s = parse(KIND.example).unwrap();
        assert_eq!(
            (s.api_token.expose().as_str(), s.endpoint.as_str()),
            ("tok", DEFAULT_ENDPOINT)
        );
        let e = parse("[providers.hetzner]\nkind = \"hetzner\"\napi_key = \"x\"").unwrap_err();
        assert!(e.contains("unknown key `api_key`"), "{e}");
    }
}
