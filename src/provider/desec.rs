//! `kind = "desec"`: deSEC's REST API (`https://desec.io/api/v1`) with an API token
//! (`Authorization: Token …`).
//!
//! Owns the wire format of the calls ddnsd makes — find the domain of a name
//! (`GET /domains/?owns_qname=`), read one RRset (`GET /domains/{d}/rrsets/?subname=&type=`),
//! create it (`POST /domains/{d}/rrsets/`), replace its records and TTL (`PATCH
//! /domains/{d}/rrsets/{subname}/{type}/` with the whole record list) and delete it — and the
//! mapping of deSEC's HTTP statuses and error bodies to [`ProviderError`]s ([`status_error`],
//! the one table). Reference: `shared/providers/dynv6-duckdns-desec.md` §3 and the API docs
//! in desec-stack (`docs/dns/rrsets.rst`, `docs/rate-limits.rst`).
//!
//! deSEC keeps one object per RRset (no record ids): a change is one PATCH that sends the
//! records and TTL and nothing else. Its writes are throttled per domain (2/s, 15/min, …): a
//! 429 carries `Retry-After`, which is honoured. Its TTLs start at the domain's `minimum_ttl`
//! (3600 s unless deSEC lowered it for the domain): a lower `ttl` is published as `min_ttl`.
//! List replies page with `Link` headers (500 items a page); the calls ddnsd makes are filtered
//! to at most one item, and any `next` link is followed all the same.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};

use super::kit::api;
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints,
};
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{Backoff, HttpClient, HttpResponse, Method, Request};
use crate::record::{AddrSet, Fqdn, RecordKey, RecordType, RrSet, Ttl};
use crate::secret::Secret;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "desec",
    about:
        "deSEC (desec.io REST API, API token; TTL at least the domain's minimum, 3600 s by default)",
    example: r#"[providers.desec]
kind = "desec"
token_env = "DESEC_TOKEN"   # or token / token_file: an API token from desec.io → Token management
# zone = "example.dedyn.io" # omit to find the record's domain (owns_qname)
# min_ttl = 3600            # the domain's minimum TTL, if deSEC lowered it for you
# endpoint = "https://desec.io/api/v1"
"#,
    configure,
};

/// The default API base URL.
pub const DEFAULT_ENDPOINT: &str = "https://desec.io/api/v1";
/// deSEC's default minimum TTL of a domain (`minimum_ttl`).
pub const DEFAULT_MIN_TTL: u32 = 3600;
/// The highest TTL deSEC accepts.
pub const MAX_TTL: u32 = 86_400;

/// Pages followed at most for one list.
const MAX_PAGES: usize = 20;
const HINT_ZONE: &str = "zone";
const HINT_RRSET: &str = "rrset";
const PRESENT: &str = "present";
const AUTH_HINT: &str = "check token: a deSEC API token (desec.io → Token management) of the account that owns the domain; ddnsd retries after the config is reloaded";

/// Settings of a deSEC provider.
#[derive(Clone, Debug)]
pub struct DesecSettings {
    /// The API token.
    pub token: Secret<String>,
    /// The domain; `None` = found with `owns_qname`.
    pub zone: Option<Fqdn>,
    /// The lowest TTL published (the domain's `minimum_ttl`).
    pub min_ttl: u32,
    /// API base URL, default `https://desec.io/api/v1`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "desec"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    token: Option<Text>,
    token_file: Option<Text>,
    token_env: Option<Text>,
    zone: Option<Text>,
    min_ttl: Option<toml::Spanned<i64>>,
    endpoint: Option<Text>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let token = f.secret(SecretFields {
        name: "token",
        inline: &r.token,
        file: &r.token_file,
        env: &r.token_env,
    });
    let zone = fields::zone(f, &r.zone);
    let min_ttl = match &r.min_ttl {
        None => Some(DEFAULT_MIN_TTL),
        Some(t) => match u32::try_from(*t.get_ref()) {
            Ok(v) if (1..=MAX_TTL).contains(&v) => Some(v),
            _ => {
                f.problem(
                    t.span(),
                    format!("min_ttl {} is out of range", t.get_ref()),
                    Some(format!("use the domain's minimum_ttl in seconds, 1 to {MAX_TTL} (deSEC's default is {DEFAULT_MIN_TTL})")),
                );
                None
            }
        },
    };
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(DesecSettings {
        token: token?,
        zone: zone?,
        min_ttl: min_ttl?,
        endpoint: endpoint?,
    }))
}

impl Configured for DesecSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Desec::new(name.to_owned(), self.clone(), deps))
    }
}

/// A deSEC provider.
pub struct Desec {
    name: String,
    settings: DesecSettings,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    /// Domains found per record name in this process: name → (domain, minimum_ttl).
    domains: Mutex<BTreeMap<Fqdn, (Fqdn, Option<u32>)>>,
    ttl_warned: AtomicBool,
}

/// One live RRset.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Live {
    addrs: AddrSet,
    ttl: u32,
}

/// What a failed call means to its caller.
#[derive(Debug)]
pub enum Failure {
    /// 404: the domain is not the account's, or (on an RRset's own path) the RRset is absent.
    NotFound(ProviderError),
    /// 400 "Another RRset with the same subdomain and type exists".
    Exists,
    /// Anything else.
    Provider(ProviderError),
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Failure {
        Failure::Provider(e)
    }
}

impl Failure {
    fn into_error(self) -> ProviderError {
        match self {
            Failure::NotFound(e) | Failure::Provider(e) => e,
            Failure::Exists => api::protocol("deSEC", "an RRset exists where none was read"),
        }
    }
}

/// The messages of a deSEC error body: `detail`, `non_field_errors`, or `field: message` for
/// each field (`{"ttl": ["Ensure this value is greater than or equal to 3600."]}`).
fn messages(body: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let texts = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let Some(obj) = v.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, val) in obj {
        match k.as_str() {
            "detail" | "non_field_errors" => out.extend(texts(val)),
            field => out.extend(texts(val).into_iter().map(|m| format!("{field}: {m}"))),
        }
    }
    out
}

/// The ONE table of deSEC's answers (`rrsets.rst`, `rate-limits.rst`, the API's exception
/// handler): 401 → Auth; 403 → Forbidden (a token scoping policy, MFA); 404 → not found (the
/// caller says whether that is the domain or the RRset); 400 → Rejected with deSEC's words
/// (TTL below the domain's minimum, bad records), except "another RRset … exists" which the
/// caller handles; 429 → RateLimited with `Retry-After`; 409 (a database race) and 5xx →
/// Transient; any other status (ddnsd sent something deSEC does not take) → Protocol.
pub fn status_error(action: &str, resp: &HttpResponse, min_ttl: u32, provider: &str) -> Failure {
    let s = resp.status;
    let msgs = messages(&resp.body);
    let said = msgs.first().map(|m| format!(": {m:?}")).unwrap_or_default();
    let text = format!("{action} failed (http {s}){said}");
    let e = |kind| ProviderError::new(kind, text.clone());
    match s {
        401 => e(ProviderErrorKind::Auth).with_hint(AUTH_HINT).into(),
        403 => e(ProviderErrorKind::Forbidden)
            .with_hint("the token's scoping policy does not allow writing this RRset (or the account needs MFA); allow it under Token management on desec.io")
            .into(),
        404 => Failure::NotFound(
            e(ProviderErrorKind::ZoneNotFound)
                .with_hint("the domain is not in this deSEC account: add it on desec.io, or correct the record name or zone"),
        ),
        400 if msgs.iter().any(|m| m.contains("same subdomain and type exists")) => Failure::Exists,
        400 => {
            let below_minimum = msgs
                .iter()
                .find(|m| m.starts_with("ttl:"))
                .and_then(|m| minimum_in(m));
            let hint = match below_minimum {
                Some(min) => format!("the domain's minimum TTL is {min} s: set min_ttl = {min} in [providers.{provider}] (it is {min_ttl})"),
                None => "deSEC refused the RRset as invalid; the message says which field".to_owned(),
            };
            e(ProviderErrorKind::Rejected).with_hint(hint).into()
        }
        429 => ProviderError::new(
            ProviderErrorKind::RateLimited {
                retry_after: resp.retry_after,
            },
            format!("{action}: rate limited (http 429){said}"),
        )
        .into(),
        409 | 500..=599 => e(ProviderErrorKind::Transient).into(),
        _ => api::protocol(action, &format!("unexpected http status {s}")).into(),
    }
}

/// `N` of "… greater than or equal to N.".
fn minimum_in(message: &str) -> Option<u32> {
    let tail = message.rsplit("equal to ").next()?;
    tail.trim().trim_end_matches('.').parse().ok()
}

/// The `next` URL of an RFC 8288 `Link` header (`<url>; rel="next", …`).
pub fn next_link(link: &str) -> Option<String> {
    for part in link.split(',') {
        let mut pieces = part.split(';');
        let url = pieces.next()?.trim();
        let is_next = pieces.any(|p| {
            let p = p.trim();
            p == "rel=\"next\"" || p == "rel=next"
        });
        if is_next {
            return url
                .strip_prefix('<')
                .and_then(|u| u.strip_suffix('>'))
                .map(str::to_owned);
        }
    }
    None
}

impl Desec {
    /// A provider named `name`.
    pub fn new(name: String, settings: DesecSettings, deps: &ProviderDeps) -> Desec {
        Desec {
            name,
            settings,
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            domains: Mutex::new(BTreeMap::new()),
            ttl_warned: AtomicBool::new(false),
        }
    }

    /// Calls the API at `url`, retrying transient failures and rate limits.
    async fn call(
        &self,
        action: &'static str,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<HttpResponse, Failure> {
        let body = body.map(Value::to_string).unwrap_or_default().into_bytes();
        api::with_retries(
            &self.backoff,
            &self.name,
            action,
            |f: &Failure| match f {
                Failure::Provider(p) => Some(p),
                _ => None,
            },
            || self.attempt(action, method, url, &body),
        )
        .await
    }

    async fn attempt(
        &self,
        action: &'static str,
        method: Method,
        url: &str,
        body: &[u8],
    ) -> Result<HttpResponse, Failure> {
        let mut headers = vec![
            (
                "Authorization",
                format!("Token {}", self.settings.token.expose()),
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
                url,
                headers: &headers,
                body: body.to_vec(),
                timeout: self.timeout,
            })
            .await
            .map_err(|e| api::http_error(action, &e, method != Method::Get))?;
        tracing::debug!(provider = %self.name, action, status = resp.status, "reply");
        if (200..300).contains(&resp.status) {
            Ok(resp)
        } else {
            Err(status_error(
                action,
                &resp,
                self.settings.min_ttl,
                &self.name,
            ))
        }
    }

    /// Every item of a list, following `Link: <…>; rel="next"` pages.
    async fn list(&self, action: &'static str, url: String) -> Result<Vec<Value>, Failure> {
        let mut out = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(api::protocol(action, &format!("more than {MAX_PAGES} pages")).into());
            }
            let resp = self.call(action, Method::Get, &url, None).await?;
            let v = parse(action, &resp)?;
            let Value::Array(items) = v else {
                return Err(api::protocol(action, "the reply is not a list").into());
            };
            out.extend(items);
            next = resp.header("link").and_then(next_link);
        }
        Ok(out)
    }

    /// The domain holding `name` and its `minimum_ttl` if known: configured, remembered, or
    /// found with `owns_qname` (once per name and process).
    async fn zone(
        &self,
        name: &Fqdn,
        hints: &ProviderHints,
    ) -> Result<(Fqdn, Option<u32>), ProviderError> {
        if let Some(z) = &self.settings.zone {
            if !name.is_within(z) {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    format!("{name} is not inside the zone {z}"),
                )
                .with_hint("set the provider's zone to a domain that contains the record name"));
            }
            return Ok((z.clone(), None));
        }
        if let Some(z) = hints
            .0
            .get(HINT_ZONE)
            .and_then(|z| Fqdn::parse_relaxed(z).ok())
            .filter(|z| name.is_within(z))
        {
            return Ok((z, None));
        }
        if let Some(found) = self.lock_domains().get(name).cloned() {
            return Ok(found);
        }
        let action = "find domain";
        let url = format!(
            "{}/domains/?owns_qname={}",
            self.settings.endpoint,
            encode(name.as_str())
        );
        let items = self.list(action, url).await.map_err(Failure::into_error)?;
        let mut best: Option<(Fqdn, Option<u32>)> = None;
        for d in &items {
            let Some(dn) = d.get("name").and_then(Value::as_str) else {
                return Err(api::protocol(action, "a domain without a name"));
            };
            let Ok(dn) = Fqdn::parse_relaxed(dn) else {
                continue;
            };
            let min = d
                .get("minimum_ttl")
                .and_then(Value::as_u64)
                .and_then(|t| u32::try_from(t).ok());
            let longer = best
                .as_ref()
                .is_none_or(|(b, _)| dn.as_str().len() > b.as_str().len());
            if name.is_within(&dn) && longer {
                best = Some((dn, min));
            }
        }
        let Some(found) = best else {
            return Err(ProviderError::new(
                ProviderErrorKind::ZoneNotFound,
                format!("no domain of this deSEC account contains {name}"),
            )
            .with_hint("add the domain on desec.io, or check the token's account"));
        };
        self.lock_domains().insert(name.clone(), found.clone());
        Ok(found)
    }

    fn lock_domains(&self) -> std::sync::MutexGuard<'_, BTreeMap<Fqdn, (Fqdn, Option<u32>)>> {
        self.domains.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn rrsets_url(&self, zone: &Fqdn) -> String {
        format!(
            "{}/domains/{}/rrsets/",
            self.settings.endpoint,
            encode(zone.as_str())
        )
    }

    /// The RRset's own URL (`@` for the apex: an empty subname would give `//`).
    fn rrset_url(&self, zone: &Fqdn, sub: &str, rtype: RecordType) -> String {
        let sub = if sub.is_empty() { "@" } else { sub };
        format!(
            "{}{}/{}/",
            self.rrsets_url(zone),
            encode(sub),
            rtype.as_str()
        )
    }

    /// The live RRset of (`sub`, `rtype`), or `None`.
    async fn read(
        &self,
        zone: &Fqdn,
        sub: &str,
        rtype: RecordType,
    ) -> Result<Option<Live>, ProviderError> {
        let action = "read rrset";
        let url = format!(
            "{}?subname={}&type={}",
            self.rrsets_url(zone),
            encode(sub),
            rtype.as_str()
        );
        let items = match self.list(action, url).await {
            Ok(items) => items,
            Err(Failure::NotFound(e)) => {
                return Err(e.with_hint(format!(
                "{zone} is not a domain of this deSEC account: add it on desec.io, or correct zone"
            )))
            }
            Err(f) => return Err(f.into_error()),
        };
        let mut found = None;
        for item in &items {
            let same_name = item.get("subname").and_then(Value::as_str) == Some(sub);
            let same_type = item.get("type").and_then(Value::as_str) == Some(rtype.as_str());
            // The API filters too, but only what was asked for is ever taken.
            if same_name && same_type {
                found = Some(live_of(action, item, rtype)?);
            }
        }
        Ok(found)
    }

    /// The TTL to publish: within the minimum and 86400 (warning once when it had to change).
    fn ttl(&self, ttl: Ttl) -> u32 {
        let used = ttl.0.clamp(self.settings.min_ttl, MAX_TTL);
        if used != ttl.0 && !self.ttl_warned.swap(true, Ordering::Relaxed) {
            // Debug, not a warning: the default record TTL (300) is below deSEC's minimum,
            // and the README says so.
            tracing::debug!(provider = %self.name, requested = ttl.0, used, "ttl {} is outside deSEC's range ({}-{MAX_TTL}); publishing with ttl {used}", ttl.0, self.settings.min_ttl);
        }
        used
    }

    async fn apply(
        &self,
        desired: &RrSet,
        hints: &ProviderHints,
    ) -> Result<ProviderHints, ProviderError> {
        let (zone, minimum) = self.zone(&desired.name, hints).await?;
        let sub = subname(&desired.name, &zone)?;
        let ttl = self.ttl(desired.ttl);
        if let Some(min) = minimum.filter(|m| ttl < *m && !desired.addrs.is_empty()) {
            return Err(ProviderError::new(
                ProviderErrorKind::Rejected,
                format!("{} needs a TTL of at least {min} s (the domain's minimum); ddnsd would publish {ttl}", desired.key()),
            )
            .with_hint(format!("set min_ttl = {min} in [providers.{}]", self.name)));
        }
        let records: Vec<String> = desired.addrs.iter().map(ToString::to_string).collect();
        let remembered_present = hints.0.get(HINT_ZONE).map(String::as_str) == Some(zone.as_str())
            && hints.0.get(HINT_RRSET).map(String::as_str) == Some(PRESENT);
        // Without a remembered RRset, read: a PATCH of an absent RRset is a 404 and a wasted
        // write; with one, PATCH straight away (one call for an address change).
        let mut present = if remembered_present {
            true
        } else {
            match self.read(&zone, &sub, desired.rtype).await? {
                Some(live) if live.addrs == desired.addrs && live.ttl == ttl => {
                    return Ok(hints_of(&zone, !live.addrs.is_empty()));
                }
                Some(_) => true,
                None if desired.addrs.is_empty() => return Ok(hints_of(&zone, false)),
                None => false,
            }
        };
        let url = self.rrset_url(&zone, &sub, desired.rtype);
        let mut retried = false;
        loop {
            let result = if desired.addrs.is_empty() {
                self.call("delete rrset", Method::Delete, &url, None)
                    .await
                    .map(|_| ())
            } else if present {
                let body = json!({ "records": records, "ttl": ttl });
                match self
                    .call("modify rrset", Method::Patch, &url, Some(&body))
                    .await
                {
                    Ok(resp) => check_written("modify rrset", &resp, desired, &sub),
                    Err(f) => Err(f),
                }
            } else {
                let body = json!({
                    "subname": sub,
                    "type": desired.rtype.as_str(),
                    "ttl": ttl,
                    "records": records,
                });
                match self
                    .call(
                        "create rrset",
                        Method::Post,
                        &self.rrsets_url(&zone),
                        Some(&body),
                    )
                    .await
                {
                    Ok(resp) => check_written("create rrset", &resp, desired, &sub),
                    Err(f) => Err(f),
                }
            };
            match result {
                Ok(()) => return Ok(hints_of(&zone, !desired.addrs.is_empty())),
                // The RRset vanished since it was remembered: create it (once).
                Err(Failure::NotFound(_)) if present && !retried => {
                    tracing::info!(provider = %self.name, record = %desired.key(), "the remembered RRset no longer exists; creating it");
                    present = false;
                    retried = true;
                }
                // Someone created it since the read: modify it (once).
                Err(Failure::Exists) if !present && !retried => {
                    present = true;
                    retried = true;
                }
                Err(f) => return Err(f.into_error()),
            }
        }
    }
}

/// Checks that a write's reply is the RRset written (a 204 means deSEC deleted it).
fn check_written(
    action: &str,
    resp: &HttpResponse,
    desired: &RrSet,
    sub: &str,
) -> Result<(), Failure> {
    if resp.status == 204 {
        return Err(api::protocol(action, "the RRset was deleted instead of written").into());
    }
    let v = parse(action, resp)?;
    if v.get("subname").and_then(Value::as_str) != Some(sub)
        || v.get("type").and_then(Value::as_str) != Some(desired.rtype.as_str())
    {
        return Err(api::protocol(action, "the written RRset has another name or type").into());
    }
    let live = live_of(action, &v, desired.rtype)?;
    if live.addrs != desired.addrs {
        return Err(api::protocol(
            action,
            &format!("deSEC holds {} after writing {}", live.addrs, desired.addrs),
        )
        .into());
    }
    Ok(())
}

fn parse(action: &str, resp: &HttpResponse) -> Result<Value, ProviderError> {
    serde_json::from_slice(&resp.body).map_err(|e| {
        ProviderError::new(
            ProviderErrorKind::Protocol,
            format!("{action}: the reply is not valid json ({e})"),
        )
    })
}

/// An RRset object's addresses and TTL.
fn live_of(action: &str, item: &Value, rtype: RecordType) -> Result<Live, ProviderError> {
    let ttl = item
        .get("ttl")
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .ok_or_else(|| api::protocol(action, "an RRset without a valid ttl"))?;
    let Some(records) = item.get("records").and_then(Value::as_array) else {
        return Err(api::protocol(action, "an RRset without records"));
    };
    let mut addrs = AddrSet::new();
    for r in records {
        let text = r.as_str().unwrap_or("");
        // deSEC canonicalises records (`0:0::1` → `::1`); compare parsed addresses.
        match text.parse::<IpAddr>() {
            Ok(a) if crate::record::Family::of(&a) == rtype.family() => addrs.insert(a),
            _ => {
                return Err(api::protocol(
                    action,
                    &format!("a {rtype} record {text:?} that is not an address of its family"),
                ))
            }
        }
    }
    Ok(Live { addrs, ttl })
}

fn hints_of(zone: &Fqdn, present: bool) -> ProviderHints {
    let mut h = ProviderHints::default();
    h.0.insert(HINT_ZONE.into(), zone.to_string());
    if present {
        h.0.insert(HINT_RRSET.into(), PRESENT.into());
    }
    h
}

/// deSEC's subname of `name` in `zone` (empty at the apex).
fn subname(name: &Fqdn, zone: &Fqdn) -> Result<String, ProviderError> {
    match name.relative_to(zone).as_deref() {
        Some("@") => Ok(String::new()),
        Some(s) => Ok(s.to_owned()),
        None => Err(ProviderError::new(
            ProviderErrorKind::Rejected,
            format!("{name} is not inside the zone {zone}"),
        )
        .with_hint("set the provider's zone to a domain that contains the record name")),
    }
}

/// Percent-encodes a path segment or query value (RFC 3986 unreserved characters and `*`).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~*".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Provider for Desec {
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
            let (zone, _) = self.zone(&key.name, hints).await?;
            let sub = subname(&key.name, &zone)?;
            let live = self.read(&zone, &sub, key.rtype).await?;
            Ok(match live {
                Some(l) => LiveRrSet {
                    addrs: l.addrs,
                    ttl: Some(Ttl(l.ttl)),
                    hints: hints_of(&zone, true),
                },
                None => LiveRrSet {
                    addrs: AddrSet::new(),
                    ttl: None,
                    hints: hints_of(&zone, false),
                },
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
    use std::path::Path;

    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            date: None,
            retry_after: Some(Duration::from_secs(42)),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn provider_error(f: Failure) -> ProviderError {
        match f {
            Failure::Provider(e) => e,
            other => panic!("{other:?}"),
        }
    }

    /// The status table with deSEC's own bodies.
    #[test]
    fn status_table() {
        use ProviderErrorKind as K;
        let e = provider_error(status_error(
            "read rrset",
            &resp(401, r#"{"detail": "Invalid token."}"#),
            3600,
            "d",
        ));
        assert_eq!(
            (e.kind, e.message.as_str()),
            (K::Auth, "read rrset failed (http 401): \"Invalid token.\"")
        );
        assert_eq!(e.hint.as_deref(), Some(AUTH_HINT));
        let e = provider_error(status_error(
            "create rrset",
            &resp(403, r#"{"detail": "Insufficient token permissions."}"#),
            3600,
            "d",
        ));
        assert_eq!(e.kind, K::Forbidden);
        let e = provider_error(status_error(
            "create rrset",
            &resp(
                400,
                r#"{"ttl": ["Ensure this value is greater than or equal to 3600."]}"#,
            ),
            60,
            "d",
        ));
        assert_eq!((e.kind, e.message.as_str()), (K::Rejected, "create rrset failed (http 400): \"ttl: Ensure this value is greater than or equal to 3600.\""));
        assert_eq!(e.hint.as_deref(), Some("the domain's minimum TTL is 3600 s: set min_ttl = 3600 in [providers.d] (it is 60)"));
        let e = provider_error(status_error(
            "create rrset",
            &resp(400, r#"{"records": ["Record content malformed."]}"#),
            3600,
            "d",
        ));
        assert_eq!(e.kind, K::Rejected);
        assert!(matches!(
            status_error(
                "create rrset",
                &resp(
                    400,
                    r#"{"non_field_errors": ["Another RRset with the same subdomain and type exists for this domain. (Try modifying it.)"]}"#
                ),
                3600,
                "d"
            ),
            Failure::Exists
        ));
        assert!(matches!(
            status_error(
                "read rrset",
                &resp(404, r#"{"detail": "Not found."}"#),
                3600,
                "d"
            ),
            Failure::NotFound(_)
        ));
        let e = provider_error(status_error(
            "modify rrset",
            &resp(
                429,
                r#"{"detail": "Request was throttled. Expected available in 42 seconds."}"#,
            ),
            3600,
            "d",
        ));
        assert_eq!(
            e.kind,
            K::RateLimited {
                retry_after: Some(Duration::from_secs(42))
            }
        );
        assert_eq!(e.message, "modify rrset: rate limited (http 429): \"Request was throttled. Expected available in 42 seconds.\"");
        for s in [409, 500, 502, 503] {
            assert_eq!(
                provider_error(status_error("x", &resp(s, "<html>"), 3600, "d")).kind,
                K::Transient,
                "{s}"
            );
        }
        assert_eq!(
            provider_error(status_error("x", &resp(405, "{}"), 3600, "d")).kind,
            K::Protocol
        );
    }

    #[test]
    fn next_links() {
        let link = r#"<https://desec.io/api/v1/domains/?cursor=>; rel="first", <https://desec.io/api/v1/domains/?cursor=cD0yMDI>; rel="next""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://desec.io/api/v1/domains/?cursor=cD0yMDI")
        );
        assert_eq!(next_link(r#"<https://x/?cursor=>; rel="first""#), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn minimum_from_the_message() {
        assert_eq!(
            minimum_in("ttl: Ensure this value is greater than or equal to 3600."),
            Some(3600)
        );
        assert_eq!(minimum_in("ttl: something else"), None);
    }

    fn build(text: &str) -> Result<DesecSettings, String> {
        let env = |v: &str| (v == "DESEC_TOKEN").then(|| "tok-from-env".to_owned());
        let full = format!(
            "{text}\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"h.example.dedyn.io\"\nprovider = \"p\"\nsources = [\"s\"]\n"
        );
        match crate::config::from_text(&full, Path::new("t.toml"), &env) {
            Ok(c) => Ok(c.providers["p"].get::<DesecSettings>().unwrap().clone()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn the_example_block_builds_and_min_ttl_is_checked() {
        let s = build(&KIND.example.replace("[providers.desec]", "[providers.p]")).unwrap();
        assert_eq!(s.token.expose(), "tok-from-env");
        assert_eq!(
            (s.zone, s.min_ttl, s.endpoint.as_str()),
            (None, 3600, DEFAULT_ENDPOINT)
        );
        let s = build("[providers.p]\nkind = \"desec\"\ntoken = \"t\"\nmin_ttl = 60\nzone = \"example.dedyn.io\"\n").unwrap();
        assert_eq!(
            (s.min_ttl, s.zone.unwrap().as_str()),
            (60, "example.dedyn.io")
        );
        let e = build("[providers.p]\nkind = \"desec\"\ntoken = \"t\"\nmin_ttl = 0\n").unwrap_err();
        assert!(e.contains("t.toml:4:11: min_ttl 0 is out of range\n  hint: use the domain's minimum_ttl in seconds, 1 to 86400 (deSEC's default is 3600)"), "{e}");
    }

    #[test]
    fn rrsets_are_read_canonically_and_checked() {
        let v: Value = serde_json::from_str(r#"{"subname": "", "type": "AAAA", "ttl": 3600, "records": ["2001:db8::1", "2001:0db8:0::2"]}"#).unwrap();
        let l = live_of("read rrset", &v, RecordType::Aaaa).unwrap();
        assert_eq!(
            (l.addrs.to_string(), l.ttl),
            ("2001:db8::1,2001:db8::2".to_owned(), 3600)
        );
        let v: Value =
            serde_json::from_str(r#"{"type": "AAAA", "ttl": 3600, "records": ["192.0.2.1"]}"#)
                .unwrap();
        assert_eq!(
            live_of("read rrset", &v, RecordType::Aaaa)
                .unwrap_err()
                .kind,
            ProviderErrorKind::Protocol
        );
        assert_eq!(
            subname(
                &"example.com".parse().unwrap(),
                &"example.com".parse().unwrap()
            )
            .unwrap(),
            ""
        );
    }
}
