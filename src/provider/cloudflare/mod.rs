//! `kind = "cloudflare"`: Cloudflare API v4 with an API token (Bearer).
//!
//! Owns the wire format of the zone and DNS-record endpoints (list, create, PATCH, delete and
//! the batch endpoint), the v4 envelope (`success`, `errors[{code, message}]`, `result`,
//! `result_info`) and the mapping of its error codes to [`ProviderError`]s ([`classify`], the
//! one table). Reference: `shared/providers/cloudflare.md`.
//!
//! Cloudflare stores one record (with an id) per address; the row plan is the shared one
//! (`kit::rows::plan_rows`): keep records that hold a desired address, re-point surplus
//! records with PATCH (never delete-then-create), create what is missing, delete what is
//! still surplus. Two or more writes go in one transactional batch call. A record's
//! `proxied` flag and `comment` are Cloudflare's own settings: they are kept unless the
//! provider's config sets them, and a proxied record's TTL (always "automatic") is kept too.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;

use super::kit::api;
use super::kit::rows::{self, Row};
use super::{
    Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind, ProviderHints,
};
use crate::http::{Backoff, HttpClient, Method, Request};
use crate::record::{Fqdn, RecordKey, RecordType, RrSet, Ttl};

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "cloudflare",
    about: "Cloudflare (API token with Zone:DNS:Edit)",
    example: r#"[providers.cloudflare]
kind = "cloudflare"
api_token_env = "CLOUDFLARE_API_TOKEN"  # or api_token / api_token_file; a token with
                                        # Zone:DNS:Edit (and Zone:Zone:Read to find the zone)
# zone = "example.com"                  # omit to find the record's zone by name
# zone_id = "023e105f4ecef8ad9ca31a8372d0c353"   # skips the zone look-up
# proxied = false                       # omit to keep each record's proxy status
# comment = "managed by ddnsd"          # omit to keep each record's comment
# endpoint = "https://api.cloudflare.com/client/v4"
"#,
    configure,
};

/// The default API base URL.
pub const DEFAULT_ENDPOINT: &str = "https://api.cloudflare.com/client/v4";
/// The lowest TTL Cloudflare accepts (besides 1, "automatic").
pub const MIN_TTL: u32 = 60;
/// The highest TTL Cloudflare accepts.
pub const MAX_TTL: u32 = 86_400;
/// Cloudflare's "automatic" TTL (what proxied records always have).
pub const AUTO_TTL: u32 = 1;

/// Records per page when listing (Cloudflare allows up to 5,000): 50 records with long
/// comments (~1 KiB each) keep a page under the 64 KiB reply cap.
const PER_PAGE: u32 = 50;
/// Writes in one batch call at most: its reply lists every record written or deleted, and
/// must stay under the 64 KiB reply cap (a record with a long comment is ~1 KiB).
const BATCH_MAX: usize = 50;
/// Pages read at most for one name and type (more means something is wrong).
const MAX_PAGES: u32 = 50;
const HINT_ZONE_ID: &str = "zone_id";
const AUTH_HINT: &str = "check api_token; the token needs the Zone:DNS:Edit permission on the record's zone (and Zone:Zone:Read to find the zone by name, unless zone_id is set)";

mod codes;
mod settings;
#[cfg(test)]
mod tests;
mod wire;
mod write;
mod zones;

use codes::failure_error;
pub use codes::{classify, Failure};
use settings::configure;
pub use settings::CloudflareSettings;
use wire::{envelope, query_encode, record_of};
use write::Op;

/// A Cloudflare provider.
pub struct Cloudflare {
    name: String,
    settings: CloudflareSettings,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    /// Zones found by name in this process: (name, id).
    zones: Mutex<Vec<(Fqdn, String)>>,
    ttl_warned: AtomicBool,
}

/// A zone: its name (unknown when only `zone_id` is configured) and id.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Zone {
    name: Option<Fqdn>,
    id: String,
}

/// One live DNS record of the managed name and type.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Record {
    id: String,
    content: IpAddr,
    ttl: u32,
    proxied: bool,
    comment: Option<String>,
}

impl Cloudflare {
    /// A provider named `name`.
    pub fn new(name: String, settings: CloudflareSettings, deps: &ProviderDeps) -> Cloudflare {
        Cloudflare {
            name,
            settings,
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            zones: Mutex::new(Vec::new()),
            ttl_warned: AtomicBool::new(false),
        }
    }

    /// Calls the API, retrying transient failures and rate limits; returns `result` and
    /// `result_info` of a successful envelope.
    async fn call(
        &self,
        action: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<(Value, Option<Value>), Failure> {
        let body = match body {
            Some(b) => serde_json::to_vec(b).map_err(|e| {
                Failure::Provider(ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("{action}: could not encode the request: {e}"),
                ))
            })?,
            None => Vec::new(),
        };
        let mut url = format!("{}{path}", self.settings.endpoint);
        for (i, (k, v)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(k);
            url.push('=');
            url.push_str(&query_encode(v));
        }
        api::with_retries(
            &self.backoff,
            &self.name,
            action,
            |e| match e {
                Failure::Provider(p) => Some(p),
                _ => None,
            },
            || self.attempt(action, method, &url, &body),
        )
        .await
    }

    async fn attempt(
        &self,
        action: &'static str,
        method: Method,
        url: &str,
        body: &[u8],
    ) -> Result<(Value, Option<Value>), Failure> {
        let mut headers = vec![(
            "Authorization",
            format!("Bearer {}", self.settings.api_token.expose()),
        )];
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        let resp = self
            .http
            .send(Request {
                method,
                url,
                headers: &headers,
                body: body.to_vec(),
                timeout: self.timeout,
            })
            .await
            .map_err(|e| api::http_error(action, &e, method != Method::Get))?;
        tracing::debug!(provider = %self.name, action, status = resp.status, "reply");
        envelope(action, &resp)
    }

    /// Every record of (name, type) in `zone` (all pages).
    async fn list(
        &self,
        zone: &Zone,
        name: &Fqdn,
        rtype: RecordType,
    ) -> Result<Vec<Record>, ProviderError> {
        let action = "ListDnsRecords";
        let path = format!("/zones/{}/dns_records", zone.id);
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let query = [
                ("type", rtype.as_str().to_owned()),
                ("name.exact", name.to_string()),
                ("per_page", PER_PAGE.to_string()),
                ("page", page.to_string()),
            ];
            let (result, info) = self
                .call(action, Method::Get, &path, &query, None)
                .await
                .map_err(|f| failure_error(action, f))?;
            let list = result
                .as_array()
                .ok_or_else(|| api::protocol(action, "\"result\" is not an array"))?;
            for item in list {
                if let Some(r) = record_of(item, name, rtype, action)? {
                    out.push(r);
                }
            }
            let total_pages = info
                .as_ref()
                .and_then(|i| i.get("total_pages"))
                .and_then(Value::as_u64)
                .unwrap_or(1);
            if list.is_empty() || u64::from(page) >= total_pages {
                return Ok(out);
            }
            page += 1;
            if page > MAX_PAGES {
                return Err(api::protocol(
                    action,
                    &format!("more than {MAX_PAGES} pages of records for {name} {rtype}"),
                ));
            }
        }
    }

    /// The TTL to publish for `ttl`: 1 (automatic) as is, else within 60 ..= 86400 (warning
    /// once when it had to be changed).
    fn ttl(&self, ttl: Ttl) -> u32 {
        let t = ttl.0;
        let used = if t == AUTO_TTL {
            t
        } else {
            t.clamp(MIN_TTL, MAX_TTL)
        };
        if used != t && !self.ttl_warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                provider = %self.name,
                requested = t,
                used,
                "ttl {t} is outside Cloudflare's range (60-86400, or 1 for automatic); publishing with ttl {used}"
            );
        }
        used
    }

    /// The live records: the ones remembered in `hints` when they can be trusted, else read.
    async fn apply(
        &self,
        desired: &RrSet,
        hints: &ProviderHints,
    ) -> Result<ProviderHints, ProviderError> {
        let zone = self.zone(&desired.name, hints).await?;
        let ttl = self.ttl(desired.ttl);
        // Remembered rows are trusted when the TTL is unchanged and the plan only re-points
        // or deletes records: then the unknown proxy status and comment of the live records
        // do not matter (PATCH keeps what it does not send). A plan with nothing to do from
        // remembered rows means the caller saw drift: read.
        let remembered = zone.name.as_ref().and_then(|z| {
            let rows = rows::hinted_rows(hints, z)?;
            let same_ttl = hints.0.get("ttl").is_some_and(|t| *t == ttl.to_string());
            same_ttl.then_some(rows)
        });
        let mut live: Vec<Record> = match &remembered {
            Some(rows) => rows
                .iter()
                // What is not remembered is taken to be as configured, so it causes no write.
                .filter_map(|r| {
                    Some(Record {
                        id: r.id.clone()?,
                        content: r.value,
                        ttl: r.ttl,
                        proxied: self.settings.proxied.unwrap_or(false),
                        comment: self.settings.comment.clone(),
                    })
                })
                .collect(),
            None => Vec::new(),
        };
        let mut read = remembered.is_none();
        let mut retried = false;
        loop {
            if read {
                live = self.list(&zone, &desired.name, desired.rtype).await?;
            }
            let ops = self.plan(&live, desired);
            // A new record inherits the live records' proxy status and comment unless both
            // are configured: those are not remembered.
            let inherits = self.settings.proxied.is_none() || self.settings.comment.is_none();
            let creates = ops.iter().any(|op| matches!(op, Op::Post { .. }));
            let trusted = read || !(ops.is_empty() || inherits && creates);
            if !trusted {
                read = true;
                continue;
            }
            for op in &ops {
                tracing::debug!(provider = %self.name, record = %desired.key(), ?op, "writing");
            }
            if ops.is_empty() {
                return Ok(self.hints(&zone, &live, Some(ttl)));
            }
            match self.write(&zone, desired, &live, &ops).await {
                Ok(after) => return Ok(self.hints(&zone, &after, Some(ttl))),
                Err(Failure::Gone | Failure::Exists) if !retried => {
                    tracing::info!(
                        provider = %self.name,
                        record = %desired.key(),
                        "the live records changed under ddnsd; reading them again"
                    );
                    retried = true;
                    read = true;
                }
                Err(Failure::Gone | Failure::Exists) => {
                    return Err(ProviderError::new(
                        ProviderErrorKind::Transient,
                        format!(
                            "records of {} kept changing while being updated",
                            desired.key()
                        ),
                    ))
                }
                Err(Failure::Provider(e)) => return Err(e),
            }
        }
    }

    /// `zone`, `zone_id`, `records` (`ID=ADDRESS,…`) and `ttl`; a proxied record's TTL is
    /// remembered as `asked` (what ddnsd published), its live one being always automatic.
    fn hints(&self, zone: &Zone, records: &[Record], asked: Option<u32>) -> ProviderHints {
        let mut h = match &zone.name {
            Some(name) => {
                let rows: Vec<Row> = records
                    .iter()
                    .map(|r| Row {
                        id: Some(r.id.clone()),
                        value: r.content,
                        ttl: match (r.proxied, asked) {
                            (true, Some(t)) => t,
                            _ => r.ttl,
                        },
                    })
                    .collect();
                rows::encode_hints(name, &rows)
            }
            None => ProviderHints::default(),
        };
        h.0.insert(HINT_ZONE_ID.into(), zone.id.clone());
        h
    }
}

impl Provider for Cloudflare {
    fn name(&self) -> &str {
        &self.name
    }

    fn effective_ttl(&self, ttl: Ttl) -> Ttl {
        Ttl(self.ttl(ttl))
    }

    fn read_rrset<'a>(
        &'a self,
        key: &'a RecordKey,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        Box::pin(async move {
            let zone = self.zone(&key.name, hints).await?;
            let live = self.list(&zone, &key.name, key.rtype).await?;
            // A proxied record's TTL is automatic whatever ddnsd asks: report the TTL ddnsd
            // last wrote (remembered), so a verify pass does not see drift that cannot be
            // repaired.
            let asked = hints.0.get("ttl").and_then(|t| t.parse::<u32>().ok());
            let ttl = live.first().map(|r| match (r.proxied, asked) {
                (true, Some(t)) => Ttl(t),
                _ => Ttl(r.ttl),
            });
            Ok(LiveRrSet {
                addrs: live.iter().map(|r| r.content).collect(),
                ttl,
                hints: self.hints(&zone, &live, asked),
            })
        })
    }

    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        Box::pin(self.apply(desired, hints))
    }
}
