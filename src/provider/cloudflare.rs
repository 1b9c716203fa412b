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
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::kit::api;
use super::kit::rows::{self, Row, RowOp};
use super::kit::zones::longest_match;
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints,
};
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{Backoff, HttpClient, HttpResponse, Method, Request};
use crate::record::{Fqdn, RecordKey, RecordType, RrSet, Ttl};
use crate::secret::Secret;

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

/// Settings of a Cloudflare provider.
#[derive(Clone, Debug)]
pub struct CloudflareSettings {
    /// The API token.
    pub api_token: Secret<String>,
    /// The zone's name; `None` = the longest parent of the record name that is a zone.
    pub zone: Option<Fqdn>,
    /// The zone's id; `None` = looked up by name.
    pub zone_id: Option<String>,
    /// The proxy status to give every record; `None` keeps each record's own (new records:
    /// that of the name's other records, else DNS only).
    pub proxied: Option<bool>,
    /// The comment to give every record; `None` keeps each record's own.
    pub comment: Option<String>,
    /// API base URL, default `https://api.cloudflare.com/client/v4`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "cloudflare"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    api_token: Option<Text>,
    api_token_file: Option<Text>,
    api_token_env: Option<Text>,
    zone: Option<Text>,
    zone_id: Option<Text>,
    proxied: Option<toml::Spanned<bool>>,
    comment: Option<Text>,
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
    let zone_id = match &r.zone_id {
        None => Some(None),
        Some(t) => {
            let id = t.get_ref().trim();
            if !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                Some(Some(id.to_owned()))
            } else {
                f.problem(
                    t.span(),
                    format!("zone_id {:?} is not a Cloudflare zone id", t.get_ref()),
                    Some(
                        "copy the Zone ID from the zone's overview page (32 hex digits)".to_owned(),
                    ),
                );
                None
            }
        }
    };
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(CloudflareSettings {
        api_token: api_token?,
        zone: zone?,
        zone_id: zone_id?,
        proxied: r.proxied.map(toml::Spanned::into_inner),
        comment: r.comment.map(toml::Spanned::into_inner),
        endpoint: endpoint?,
    }))
}

impl Configured for CloudflareSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Cloudflare::new(name.to_owned(), self.clone(), deps))
    }
}

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

/// What a failed call means.
#[derive(Debug)]
pub enum Failure {
    /// The record id is unknown (81044): re-read.
    Gone,
    /// An identical record already exists (81057, 81058): re-read.
    Exists,
    /// Anything else.
    Provider(ProviderError),
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Failure {
        Failure::Provider(e)
    }
}

/// Cloudflare's error codes → what they mean: the one table of this adapter. Only codes
/// Cloudflare documents (or is widely seen to send, see `cloudflare.md` §5) as permanent stop
/// retries; anything else is transient.
pub fn classify(
    action: &str,
    status: u16,
    errors: &[(i64, String)],
    retry_after: Option<Duration>,
) -> Failure {
    let codes: Vec<i64> = errors.iter().map(|(c, _)| *c).collect();
    let text = match errors.first() {
        Some((code, message)) => format!("{action} failed: {code}: {message:?}"),
        None => format!("{action} failed: http {status}"),
    };
    let has = |set: &[i64]| codes.iter().any(|c| set.contains(c));
    if has(&[81044]) {
        return Failure::Gone;
    }
    if has(&[81057, 81058]) {
        return Failure::Exists;
    }
    let kind = if status == 429 || has(&[971]) {
        ProviderErrorKind::RateLimited { retry_after }
    } else if has(&[10000, 9109, 1000, 6003, 6111]) {
        return Failure::Provider(
            ProviderError::new(ProviderErrorKind::Auth, text).with_hint(AUTH_HINT),
        );
    } else if has(&[7003, 7000]) {
        return Failure::Provider(
            ProviderError::new(ProviderErrorKind::ZoneNotFound, text)
                .with_hint("check zone_id: it must be the id of a zone the token can edit"),
        );
    } else if has(&[1004]) {
        ProviderErrorKind::Rejected
    } else {
        ProviderErrorKind::Transient
    };
    Failure::Provider(ProviderError::new(kind, text))
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

    /// The zone of `name`: the configured id, else the remembered one, else found by name
    /// (longest parent first; cached for the process).
    async fn zone(&self, name: &Fqdn, hints: &ProviderHints) -> Result<Zone, ProviderError> {
        if let Some(id) = &self.settings.zone_id {
            return Ok(Zone {
                name: self.settings.zone.clone(),
                id: id.clone(),
            });
        }
        if let (Some(zone), Some(id)) = (rows::hinted_zone(hints, name), hints.0.get(HINT_ZONE_ID))
        {
            if self.settings.zone.as_ref().is_none_or(|z| *z == zone) {
                return Ok(Zone {
                    name: Some(zone),
                    id: id.clone(),
                });
            }
        }
        let cached = {
            let zones = self.lock_zones();
            let names: Vec<Fqdn> = zones.iter().map(|(z, _)| z.clone()).collect();
            let wanted = match &self.settings.zone {
                Some(z) => names.contains(z).then(|| z.clone()),
                None => longest_match(&names, name),
            };
            wanted.and_then(|w| zones.iter().find(|(z, _)| *z == w).cloned())
        };
        if let Some((zone, id)) = cached {
            return Ok(Zone {
                name: Some(zone),
                id,
            });
        }
        let candidates: Vec<Fqdn> = match &self.settings.zone {
            Some(z) => vec![z.clone()],
            // The name itself may be a zone apex; single labels (TLDs) are never zones.
            None => std::iter::once(name.clone())
                .chain(name.ancestors())
                .filter(|c| c.as_str().contains('.'))
                .collect(),
        };
        for candidate in candidates {
            if let Some(id) = self.find_zone(&candidate).await? {
                self.lock_zones().push((candidate.clone(), id.clone()));
                return Ok(Zone {
                    name: Some(candidate),
                    id,
                });
            }
        }
        let what = match &self.settings.zone {
            Some(z) => format!("the token sees no zone named {z}"),
            None => format!("the token sees no zone that contains {name}"),
        };
        Err(ProviderError::new(ProviderErrorKind::ZoneNotFound, what).with_hint(
            "add the zone to Cloudflare and include it in the token's zone resources, or set zone_id",
        ))
    }

    fn lock_zones(&self) -> std::sync::MutexGuard<'_, Vec<(Fqdn, String)>> {
        self.zones.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The id of the zone named exactly `zone`, if the token sees one.
    async fn find_zone(&self, zone: &Fqdn) -> Result<Option<String>, ProviderError> {
        let action = "ListZones";
        let query = [
            ("name", zone.to_string()),
            ("per_page", "50".to_owned()),
        ];
        let (result, _) = self
            .call(action, Method::Get, "/zones", &query, None)
            .await
            .map_err(|f| failure_error(action, f))?;
        let list = result
            .as_array()
            .ok_or_else(|| api::protocol(action, "\"result\" is not an array"))?;
        let mut found = None;
        for z in list {
            let (Some(id), Some(name)) = (
                z.get("id").and_then(Value::as_str),
                z.get("name").and_then(Value::as_str),
            ) else {
                return Err(api::protocol(action, "a zone without id or name"));
            };
            if Fqdn::parse_relaxed(name).is_ok_and(|n| n == *zone) {
                let active = z.get("status").and_then(Value::as_str) == Some("active");
                // Prefer the active zone when the account also holds a pending copy.
                if active || found.is_none() {
                    found = Some(id.to_owned());
                }
            }
        }
        Ok(found)
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

    /// Carries out `ops` on the records of `desired` in `zone` (one call for one write, a
    /// transactional batch for more, at most [`BATCH_MAX`] writes a call so the reply stays
    /// small); returns the records as they are afterwards.
    async fn write(
        &self,
        zone: &Zone,
        desired: &RrSet,
        live: &[Record],
        ops: &[Op],
    ) -> Result<Vec<Record>, Failure> {
        let mut after: Vec<Record> = live.to_vec();
        for chunk in ops.chunks(BATCH_MAX) {
            match chunk {
                [op] => self.write_one(zone, desired, op, &mut after).await?,
                _ => self.write_batch(zone, desired, chunk, &mut after).await?,
            }
        }
        Ok(after)
    }

    async fn write_one(
        &self,
        zone: &Zone,
        desired: &RrSet,
        op: &Op,
        after: &mut Vec<Record>,
    ) -> Result<(), Failure> {
        let base = format!("/zones/{}/dns_records", zone.id);
        match op {
            Op::Patch { id, body } => {
                let action = "PatchDnsRecord";
                let path = format!("{base}/{id}");
                let (result, _) = self
                    .call(action, Method::Patch, &path, &[], Some(body))
                    .await?;
                replace(after, written(&result, desired, action)?);
            }
            Op::Post { body } => {
                let action = "CreateDnsRecord";
                let (result, _) = self
                    .call(action, Method::Post, &base, &[], Some(body))
                    .await?;
                after.push(written(&result, desired, action)?);
            }
            Op::Delete { id } => {
                let path = format!("{base}/{id}");
                match self
                    .call("DeleteDnsRecord", Method::Delete, &path, &[], None)
                    .await
                {
                    // Already gone: what was wanted.
                    Ok(_) | Err(Failure::Gone) => {}
                    Err(e) => return Err(e),
                }
                after.retain(|r| r.id != *id);
            }
        }
        Ok(())
    }

    async fn write_batch(
        &self,
        zone: &Zone,
        desired: &RrSet,
        ops: &[Op],
        after: &mut Vec<Record>,
    ) -> Result<(), Failure> {
        let mut deletes = Vec::new();
        let mut patches = Vec::new();
        let mut posts = Vec::new();
        for op in ops {
            match op {
                Op::Delete { id } => deletes.push(json!({ "id": id })),
                Op::Patch { id, body } => {
                    let mut b = body.clone();
                    if let Some(o) = b.as_object_mut() {
                        o.insert("id".into(), json!(id));
                    }
                    patches.push(b);
                }
                Op::Post { body } => posts.push(body.clone()),
            }
        }
        let mut batch = Map::new();
        for (key, list) in [("deletes", deletes), ("patches", patches), ("posts", posts)] {
            if !list.is_empty() {
                batch.insert(key.into(), Value::Array(list));
            }
        }
        let action = "BatchDnsRecords";
        let path = format!("/zones/{}/dns_records/batch", zone.id);
        let (result, _) = self
            .call(action, Method::Post, &path, &[], Some(&Value::Object(batch)))
            .await?;
        for op in ops {
            if let Op::Delete { id } = op {
                after.retain(|r| r.id != *id);
            }
        }
        for key in ["patches", "posts"] {
            let list = match result.get(key) {
                Some(Value::Array(a)) => a.as_slice(),
                None | Some(Value::Null) => &[],
                Some(_) => {
                    return Err(api::protocol(action, &format!("{key:?} is not an array")).into())
                }
            };
            let sent = ops
                .iter()
                .filter(|op| {
                    matches!(
                        (key, op),
                        ("patches", Op::Patch { .. }) | ("posts", Op::Post { .. })
                    )
                })
                .count();
            if list.len() != sent {
                return Err(api::protocol(
                    action,
                    &format!("{} {key} in the reply for {sent} sent", list.len()),
                )
                .into());
            }
            for item in list {
                let rec = written(item, desired, action)?;
                if key == "patches" {
                    replace(after, rec);
                } else {
                    after.push(rec);
                }
            }
        }
        Ok(())
    }

    /// The writes that make `live` equal `desired`, with this provider's `proxied` and
    /// `comment` settings.
    fn plan(&self, live: &[Record], desired: &RrSet) -> Vec<Op> {
        let ttl = self.ttl(desired.ttl);
        // A proxied record's TTL is automatic and not ours to change: plan as if it matched.
        let rows: Vec<Row> = live
            .iter()
            .map(|r| Row {
                id: Some(r.id.clone()),
                value: r.content,
                ttl: if r.proxied { ttl } else { r.ttl },
            })
            .collect();
        let find = |id: &str| live.iter().find(|r| r.id == id);
        // New records take the proxy status and comment of the name's existing records.
        let inherit = live.first();
        let mut ops = Vec::new();
        let mut touched: Vec<&str> = Vec::new();
        for op in rows::plan_rows(&rows, &desired.addrs, ttl) {
            match op {
                RowOp::Modify { id, value, ttl } => {
                    let Some(rec) = find(&id) else { continue };
                    touched.push(&rec.id);
                    ops.push(Op::Patch {
                        id: rec.id.clone(),
                        body: self.patch_body(rec, Some(value), ttl),
                    });
                }
                RowOp::Create { value, ttl } => {
                    let proxied = self
                        .settings
                        .proxied
                        .or(inherit.map(|r| r.proxied))
                        .unwrap_or(false);
                    let comment = self
                        .settings
                        .comment
                        .clone()
                        .or_else(|| inherit.and_then(|r| r.comment.clone()));
                    let mut body = json!({
                        "type": desired.rtype.as_str(),
                        "name": desired.name.as_str(),
                        "content": value.to_string(),
                        "ttl": if proxied { AUTO_TTL } else { ttl },
                        "proxied": proxied,
                    });
                    if let (Some(c), Some(o)) = (comment, body.as_object_mut()) {
                        o.insert("comment".into(), json!(c));
                    }
                    ops.push(Op::Post { body });
                }
                RowOp::Delete { id, .. } => {
                    touched.push(find(&id).map_or("", |r| r.id.as_str()));
                    ops.push(Op::Delete { id });
                }
            }
        }
        // Records that stay as they are but differ from a configured proxy status or comment.
        for rec in live {
            if touched.contains(&rec.id.as_str()) || !desired.addrs.contains(&rec.content) {
                continue;
            }
            let proxied_differs = self.settings.proxied.is_some_and(|p| p != rec.proxied);
            let comment_differs = self
                .settings
                .comment
                .as_ref()
                .is_some_and(|c| rec.comment.as_ref() != Some(c));
            if proxied_differs || comment_differs {
                ops.push(Op::Patch {
                    id: rec.id.clone(),
                    body: self.patch_body(rec, None, ttl),
                });
            }
        }
        ops
    }

    /// A PATCH body: the new content (if any), the TTL unless the record is (or becomes)
    /// proxied, and the configured proxy status and comment; fields not sent are kept.
    fn patch_body(&self, rec: &Record, content: Option<IpAddr>, ttl: u32) -> Value {
        let mut o = Map::new();
        if let Some(c) = content.filter(|c| *c != rec.content) {
            o.insert("content".into(), json!(c.to_string()));
        }
        let proxied = self.settings.proxied.unwrap_or(rec.proxied);
        if let Some(p) = self.settings.proxied {
            o.insert("proxied".into(), json!(p));
        }
        if proxied {
            if !rec.proxied {
                o.insert("ttl".into(), json!(AUTO_TTL));
            }
        } else if rec.proxied || rec.ttl != ttl {
            o.insert("ttl".into(), json!(ttl));
        }
        if let Some(c) = &self.settings.comment {
            o.insert("comment".into(), json!(c));
        }
        Value::Object(o)
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

/// One write to Cloudflare.
#[derive(Clone, Debug, PartialEq)]
enum Op {
    Patch { id: String, body: Value },
    Post { body: Value },
    Delete { id: String },
}

fn replace(list: &mut Vec<Record>, rec: Record) {
    match list.iter_mut().find(|r| r.id == rec.id) {
        Some(slot) => *slot = rec,
        None => list.push(rec),
    }
}

/// The record a write returned, checked to be of the managed name and type.
fn written(item: &Value, desired: &RrSet, action: &str) -> Result<Record, Failure> {
    match record_of(item, &desired.name, desired.rtype, action)? {
        Some(r) => Ok(r),
        None => Err(api::protocol(action, "the written record has another name or type").into()),
    }
}

/// A record of the reply, if it is of (name, type); `None` for other records.
fn record_of(
    item: &Value,
    name: &Fqdn,
    rtype: RecordType,
    action: &str,
) -> Result<Option<Record>, ProviderError> {
    let text = |f: &str| item.get(f).and_then(Value::as_str);
    let (Some(id), Some(rname), Some(typ)) = (text("id"), text("name"), text("type")) else {
        return Err(api::protocol(action, "a record without id, name or type"));
    };
    // The API filters too, but only what was asked for is ever touched.
    if !rname.eq_ignore_ascii_case(name.as_str()) || typ != rtype.as_str() {
        return Ok(None);
    }
    let content = text("content").unwrap_or("");
    let content: IpAddr = content.parse().map_err(|_| {
        api::protocol(
            action,
            &format!("record {id} has a non-address content {content:?}"),
        )
    })?;
    let ttl = item
        .get("ttl")
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .ok_or_else(|| api::protocol(action, &format!("record {id} has no valid ttl")))?;
    Ok(Some(Record {
        id: id.to_owned(),
        content,
        ttl,
        proxied: item.get("proxied").and_then(Value::as_bool).unwrap_or(false),
        comment: text("comment").map(str::to_owned),
    }))
}

/// The `result` and `result_info` of a v4 envelope, or what its failure means.
fn envelope(action: &str, resp: &HttpResponse) -> Result<(Value, Option<Value>), Failure> {
    // Rate limits and server errors are what they are, whatever the body says.
    if resp.status == 429 || resp.status >= 500 {
        let body: Option<Value> = serde_json::from_slice(&resp.body).ok();
        let errors = body.as_ref().map(errors_of).unwrap_or_default();
        let kind = if resp.status == 429 {
            ProviderErrorKind::RateLimited {
                retry_after: resp.retry_after,
            }
        } else {
            ProviderErrorKind::Transient
        };
        let what = if resp.status == 429 {
            "rate limited (http 429)".to_owned()
        } else {
            format!("server error (http {})", resp.status)
        };
        let detail = errors
            .first()
            .map(|(c, m)| format!(": {c}: {m:?}"))
            .unwrap_or_default();
        return Err(ProviderError::new(kind, format!("{action}: {what}{detail}")).into());
    }
    let body: Value = match serde_json::from_slice(&resp.body) {
        Ok(v) => v,
        Err(e) if resp.status == 200 => {
            return Err(ProviderError::new(
                ProviderErrorKind::Protocol,
                format!("{action}: the reply is not valid json ({e})"),
            )
            .into())
        }
        Err(_) => {
            return Err(api::protocol(action, &format!("unexpected http status {}", resp.status)).into())
        }
    };
    let success = body.get("success").and_then(Value::as_bool);
    match success {
        Some(true) if resp.status / 100 == 2 => {
            let result = body.get("result").cloned().unwrap_or(Value::Null);
            let info = body.get("result_info").cloned();
            Ok((result, info))
        }
        Some(_) => {
            let errors = errors_of(&body);
            Err(classify(action, resp.status, &errors, resp.retry_after))
        }
        None => Err(api::protocol(action, "no \"success\" field in the reply").into()),
    }
}

fn errors_of(body: &Value) -> Vec<(i64, String)> {
    body.get("errors")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|e| {
                    (
                        e.get("code").and_then(Value::as_i64).unwrap_or(0),
                        e.get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A failure of a read: "gone" or "exists" cannot happen there, so they are unexpected.
fn failure_error(action: &str, f: Failure) -> ProviderError {
    match f {
        Failure::Provider(e) => e,
        Failure::Gone | Failure::Exists => api::protocol(action, "a write error on a read"),
    }
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
fn query_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_table() {
        use ProviderErrorKind as K;
        let ra = Some(Duration::from_secs(2));
        let kind = |status, code: i64| match classify(
            "ListDnsRecords",
            status,
            &[(code, "m".to_owned())],
            ra,
        ) {
            Failure::Provider(e) => Some(e.kind),
            _ => None,
        };
        let cases = [
            (403, 10000, Some(K::Auth)),
            (403, 9109, Some(K::Auth)),
            (401, 1000, Some(K::Auth)),
            (400, 6003, Some(K::Auth)),
            (400, 6111, Some(K::Auth)),
            (400, 7003, Some(K::ZoneNotFound)),
            (404, 7000, Some(K::ZoneNotFound)),
            (400, 1004, Some(K::Rejected)),
            (429, 971, Some(K::RateLimited { retry_after: ra })),
            (400, 971, Some(K::RateLimited { retry_after: ra })),
            (400, 99999, Some(K::Transient)),
            (404, 81044, None),
            (400, 81057, None),
            (400, 81058, None),
        ];
        for (status, code, want) in cases {
            assert_eq!(kind(status, code), want, "{status} {code}");
        }
        assert!(matches!(
            classify("X", 404, &[(81044, String::new())], None),
            Failure::Gone
        ));
        let Failure::Provider(e) = classify(
            "ListZones",
            403,
            &[(10000, "Authentication error".to_owned())],
            None,
        ) else {
            panic!("auth")
        };
        assert_eq!(
            e.to_string(),
            "ListZones failed: 10000: \"Authentication error\""
        );
        assert_eq!(e.hint().as_deref(), Some(AUTH_HINT));
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            date: None,
            retry_after: Some(Duration::from_secs(7)),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn err_kind(r: Result<(Value, Option<Value>), Failure>) -> ProviderErrorKind {
        match r {
            Err(Failure::Provider(e)) => e.kind,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn envelopes() {
        let (result, info) = envelope(
            "ListZones",
            &resp(
                200,
                r#"{"success":true,"errors":[],"messages":[],"result":[],"result_info":{"page":1,"total_pages":1}}"#,
            ),
        )
        .unwrap();
        assert_eq!(result, json!([]));
        assert_eq!(info.unwrap()["total_pages"], 1);
        assert_eq!(
            err_kind(envelope("X", &resp(429, "<html>slow down</html>"))),
            ProviderErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(
            err_kind(envelope("X", &resp(502, "<html>bad gateway</html>"))),
            ProviderErrorKind::Transient
        );
        let e = envelope("ListDnsRecords", &resp(200, r#"{"success":true,"res"#));
        match e {
            Err(Failure::Provider(e)) => {
                assert_eq!(e.kind, ProviderErrorKind::Protocol);
                assert!(
                    e.message.starts_with("ListDnsRecords: the reply is not valid json"),
                    "{e}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            err_kind(envelope("X", &resp(200, r#"{"result":[]}"#))),
            ProviderErrorKind::Protocol
        );
        assert_eq!(
            err_kind(envelope("X", &resp(403, "forbidden"))),
            ProviderErrorKind::Protocol
        );
        assert_eq!(
            err_kind(envelope(
                "X",
                &resp(
                    403,
                    r#"{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[],"result":null}"#
                )
            )),
            ProviderErrorKind::Auth
        );
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(query_encode("home.example.com"), "home.example.com");
        assert_eq!(query_encode("*.a b&c"), "%2A.a%20b%26c");
    }
}
