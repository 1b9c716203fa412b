//! `kind = "godaddy"`: GoDaddy Domains API v1 (`Authorization: sso-key KEY:SECRET`).
//!
//! Owns the wire format of the calls ddnsd makes — list the account's domains (`GET
//! /v1/domains`, paged with `limit` and `marker`), read one (type, name) set (`GET
//! /v1/domains/{domain}/records/{type}/{name}`), replace it (`PUT` of the same path: the body
//! is the whole new set), and withdraw it (`DELETE` of the same path) — and the meaning of
//! GoDaddy's error envelope `{code, message, fields?, retryAfterSec?}` ([`meaning`], the one
//! table). Reference: `shared/providers/registrars.md` §2 and GoDaddy's published Domains API
//! reference (the status tables quoted at [`meaning`]).
//!
//! The PUT replaces exactly the (type, name) set, so other names and types are never touched;
//! a set of A or AAAA records carries nothing but `data` and `ttl`, so nothing the user set
//! elsewhere is lost. A PUT with an empty list does not delete (it is ignored), so a
//! withdrawn set is a DELETE.

use std::net::IpAddr;
use std::sync::atomic::AtomicBool;
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
    name: "godaddy",
    about: "GoDaddy Domains API v1 (API key + secret, sso-key)",
    example: r#"[providers.godaddy]
kind = "godaddy"
api_key_env = "GODADDY_API_KEY"         # or api_key / api_key_file: a production key from
api_secret_env = "GODADDY_API_SECRET"   # developer.godaddy.com/keys, with its secret
# zone = "example.com"                  # omit to find it among the account's domains
# endpoint = "https://api.godaddy.com"  # https://api.ote-godaddy.com for OTE keys
"#,
    configure,
};

/// The production API.
pub const DEFAULT_ENDPOINT: &str = "https://api.godaddy.com";
/// GoDaddy's lowest TTL ("must have a minimum value of 600"); lower TTLs are raised to it.
pub const MIN_TTL: u32 = 600;

/// Domains per page of `GET /v1/domains` (GoDaddy allows up to 1000; a summary is ~300
/// bytes, so 100 keep a page well under the 64 KiB reply cap).
const DOMAINS_PER_PAGE: usize = 100;
/// Pages of domains read at most (10,000 domains).
const MAX_PAGES: usize = 100;
const SERVICE: &str = "GoDaddy";
const AUTH_HINT: &str = "check api_key and api_secret: they must be a production key and its secret from developer.godaddy.com/keys (an OTE key works only with endpoint = \"https://api.ote-godaddy.com\")";
const DENIED_HINT: &str = "GoDaddy opens the DNS API only to accounts with 10 or more domains or a Discount Domain Club plan; check the account, or that the key belongs to the account that holds the domain";
const ZONE_HINT: &str =
    "check zone: it must be a domain of this GoDaddy account whose DNS GoDaddy hosts";

/// Settings of a GoDaddy provider.
#[derive(Clone, Debug)]
pub struct GodaddySettings {
    /// The API key (the part before the colon of `sso-key KEY:SECRET`).
    pub api_key: Secret<String>,
    /// The key's secret.
    pub api_secret: Secret<String>,
    /// The domain; `None` = the longest of the account's domains that contains the name.
    pub zone: Option<Fqdn>,
    /// API base URL, default `https://api.godaddy.com`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "godaddy"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    api_key: Option<Text>,
    api_key_file: Option<Text>,
    api_key_env: Option<Text>,
    api_secret: Option<Text>,
    api_secret_file: Option<Text>,
    api_secret_env: Option<Text>,
    zone: Option<Text>,
    endpoint: Option<Text>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let api_key = f.secret(SecretFields {
        name: "api_key",
        inline: &r.api_key,
        file: &r.api_key_file,
        env: &r.api_key_env,
    });
    let api_secret = f.secret(SecretFields {
        name: "api_secret",
        inline: &r.api_secret,
        file: &r.api_secret_file,
        env: &r.api_secret_env,
    });
    let zone = fields::zone(f, &r.zone);
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(GodaddySettings {
        api_key: api_key?,
        api_secret: api_secret?,
        zone: zone?,
        endpoint: endpoint?,
    }))
}

impl Configured for GodaddySettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Godaddy::new(name.to_owned(), self.clone(), deps))
    }
}

/// A GoDaddy provider.
pub struct Godaddy {
    name: String,
    settings: GodaddySettings,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    zones: ZoneCache,
    ttl_warned: AtomicBool,
}

/// What a GoDaddy error answer means to ddnsd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// The key or secret is wrong (401).
    Auth,
    /// The account may not use the API (403 `ACCESS_DENIED`, the 10-domain gate).
    Denied,
    /// The domain is not in the account or has no zone at GoDaddy (404 `UNKNOWN_DOMAIN`).
    UnknownDomain,
    /// Another 404: the records asked for do not exist.
    NotFound,
    /// The request is wrong and will stay wrong (400, 422: schema, TTL, a bad value).
    Rejected,
    /// Too many requests (429).
    RateLimited,
    /// Anything else, the server's own failures and 409 (a zone briefly locked after a
    /// change) included: may pass.
    Transient,
}

/// GoDaddy's answers → what they mean: the one table of this adapter. GoDaddy's reference
/// documents per call: 400 "Request was malformed", 401 "Authentication info not sent or
/// invalid", 403 "Authenticated user is not allowed access", 404 "Resource not found" /
/// "Domain not found", 409 "The given domain is not eligible to have its records changed"
/// (clients see it for a few seconds after a change and retry), 422 "`record` does not
/// fulfill the schema", 429 "Too many requests received within interval", 500, 504. Only
/// the permanent ones stop retries; an unknown status is transient.
pub fn meaning(status: u16, code: &str) -> Meaning {
    match (status, code) {
        (401, _) => Meaning::Auth,
        (403, _) => Meaning::Denied,
        (404, "UNKNOWN_DOMAIN") => Meaning::UnknownDomain,
        (404, _) => Meaning::NotFound,
        (400 | 422, _) => Meaning::Rejected,
        (429, _) | (_, "TOO_MANY_REQUESTS") => Meaning::RateLimited,
        _ => Meaning::Transient,
    }
}

/// A failed call: GoDaddy's answer (status, code, message), or a provider error already.
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

impl Godaddy {
    /// A provider named `name`.
    pub fn new(name: String, settings: GodaddySettings, deps: &ProviderDeps) -> Godaddy {
        Godaddy {
            name,
            settings,
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            zones: ZoneCache::default(),
            ttl_warned: AtomicBool::new(false),
        }
    }

    /// Sends one request, retrying transient failures and rate limits; returns the JSON body
    /// (`Value::Null` when there is none).
    async fn call(
        &self,
        action: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let url = format!("{}{path}", self.settings.endpoint);
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let mut headers = vec![
            (
                "Authorization",
                format!(
                    "sso-key {}:{}",
                    self.settings.api_key.expose(),
                    self.settings.api_secret.expose()
                ),
            ),
            ("Accept", "application/json".to_owned()),
        ];
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        let write = method != Method::Get;
        api::with_retries(
            &self.backoff,
            &self.name,
            action,
            |f| match f {
                Failure::Provider(e) => Some(e),
                Failure::Api { error, .. } => Some(error),
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

    /// Every domain of the account (`GET /v1/domains`, `limit` per page, the next page
    /// starting after the `marker` domain).
    async fn domains(&self) -> Result<Vec<Fqdn>, ProviderError> {
        let action = "ListDomains";
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut path = format!("/v1/domains?limit={DOMAINS_PER_PAGE}");
            if let Some(m) = &marker {
                path.push_str("&marker=");
                path.push_str(&query_encode(m));
            }
            let reply = self.call(action, Method::Get, &path, None).await?;
            let list = reply
                .as_array()
                .ok_or_else(|| api::protocol(action, "not a list of domains"))?;
            let mut last = None;
            for d in list {
                let name = d
                    .get("domain")
                    .and_then(Value::as_str)
                    .ok_or_else(|| api::protocol(action, "a domain without a name"))?;
                if let Ok(f) = Fqdn::parse_relaxed(name) {
                    out.push(f);
                }
                last = Some(name.to_owned());
            }
            match last {
                Some(l) if list.len() >= DOMAINS_PER_PAGE => marker = Some(l),
                _ => return Ok(out),
            }
        }
        Err(api::protocol(
            action,
            &format!("more than {MAX_PAGES} pages of domains"),
        ))
    }

    async fn zone_of(&self, name: &Fqdn, hints: &ProviderHints) -> Result<Fqdn, ProviderError> {
        self.zones
            .zone_of(name, self.settings.zone.as_ref(), hints, SERVICE, || {
                self.domains()
            })
            .await
    }

    /// `/v1/domains/{domain}/records/{type}/{name}` of (name, type).
    fn records_path(
        &self,
        zone: &Fqdn,
        name: &Fqdn,
        rtype: RecordType,
    ) -> Result<String, ProviderError> {
        let sub = rows::sub_domain(name, zone)?;
        Ok(format!(
            "/v1/domains/{zone}/records/{}/{}",
            rtype.as_str(),
            path_encode(&sub)
        ))
    }

    async fn read(
        &self,
        key: &RecordKey,
        hints: &ProviderHints,
    ) -> Result<LiveRrSet, ProviderError> {
        let zone = self.zone_of(&key.name, hints).await?;
        let action = "GetRecords";
        let path = self.records_path(&zone, &key.name, key.rtype)?;
        let reply = self.call(action, Method::Get, &path, None).await?;
        let list = reply
            .as_array()
            .ok_or_else(|| api::protocol(action, "not a list of records"))?;
        let mut addrs = AddrSet::new();
        let mut ttl: Option<u32> = None;
        for r in list {
            // The path filters by type and name; a lenient server must not hand over others.
            if r.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t != key.rtype.as_str())
            {
                continue;
            }
            let data = r
                .get("data")
                .and_then(Value::as_str)
                .ok_or_else(|| api::protocol(action, "a record without data"))?;
            let addr = data
                .parse::<IpAddr>()
                .ok()
                .filter(|a| Family::of(a).record_type() == key.rtype)
                .ok_or_else(|| {
                    api::protocol(
                        action,
                        &format!("a {} record with data {data:?}", key.rtype),
                    )
                })?;
            addrs.insert(addr);
            let t = r
                .get("ttl")
                .and_then(Value::as_u64)
                .and_then(|t| u32::try_from(t).ok())
                .ok_or_else(|| api::protocol(action, "a record without a valid ttl"))?;
            // The set's TTL is reported as its lowest: a differing record shows up as drift.
            ttl = Some(ttl.map_or(t, |m| m.min(t)));
        }
        Ok(LiveRrSet {
            ttl: ttl.map(Ttl),
            addrs,
            hints: zone_hint(&zone, self.settings.zone.is_some()),
        })
    }

    async fn replace(
        &self,
        desired: &RrSet,
        hints: &ProviderHints,
    ) -> Result<ProviderHints, ProviderError> {
        let zone = self.zone_of(&desired.name, hints).await?;
        let path = self.records_path(&zone, &desired.name, desired.rtype)?;
        if desired.addrs.is_empty() {
            // An empty PUT is ignored by GoDaddy: a withdrawn set is a DELETE.
            match self
                .call("DeleteRecords", Method::Delete, &path, None)
                .await
            {
                Ok(_)
                | Err(Failure::Api {
                    meaning: Meaning::NotFound,
                    ..
                }) => {}
                Err(e) => return Err(e.into()),
            }
        } else {
            let ttl = self.effective_ttl(desired.ttl).0;
            let body: Vec<Value> = desired
                .addrs
                .iter()
                .map(|a| json!({"data": a.to_string(), "ttl": ttl}))
                .collect();
            tracing::debug!(provider = %self.name, record = %desired.key(), zone = %zone, addrs = %desired.addrs, "replacing the set");
            self.call(
                "ReplaceRecords",
                Method::Put,
                &path,
                Some(&Value::Array(body)),
            )
            .await?;
        }
        Ok(zone_hint(&zone, self.settings.zone.is_some()))
    }
}

/// The body of a successful reply, or what GoDaddy's answer means.
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
    let text = |k: &str| {
        body.as_ref()
            .and_then(|b| b.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let code = text("code").unwrap_or_default();
    let message = text("message").unwrap_or_default();
    // A 429 names its delay in the body (`retryAfterSec`, required by GoDaddy's ErrorLimit
    // schema); a Retry-After header, should a proxy add one, wins.
    let retry_after = resp.retry_after.or_else(|| {
        body.as_ref()
            .and_then(|b| b.get("retryAfterSec"))
            .and_then(Value::as_u64)
            .map(Duration::from_secs)
    });
    let fields = body
        .as_ref()
        .and_then(|b| b.get("fields"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|f| {
                    let path = f.get("path").and_then(Value::as_str).unwrap_or("");
                    let m = f.get("message").and_then(Value::as_str)?;
                    Some(format!("{path} {m}").trim().to_owned())
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let m = meaning(resp.status, &code);
    let what = if code.is_empty() {
        format!("{action} failed: http {}", resp.status)
    } else {
        format!("{action} failed: {code}: {message:?}")
    };
    let what = if fields.is_empty() {
        what
    } else {
        format!("{what} ({})", fields.join("; "))
    };
    let error = match m {
        Meaning::Auth => ProviderError::new(ProviderErrorKind::Auth, what).with_hint(AUTH_HINT),
        Meaning::Denied => ProviderError::new(ProviderErrorKind::Auth, what).with_hint(DENIED_HINT),
        Meaning::UnknownDomain => {
            ProviderError::new(ProviderErrorKind::ZoneNotFound, what).with_hint(ZONE_HINT)
        }
        Meaning::NotFound => {
            ProviderError::new(ProviderErrorKind::ZoneNotFound, what).with_hint(ZONE_HINT)
        }
        Meaning::Rejected => ProviderError::new(ProviderErrorKind::Rejected, what),
        Meaning::RateLimited => {
            ProviderError::new(ProviderErrorKind::RateLimited { retry_after }, what)
        }
        Meaning::Transient => ProviderError::new(ProviderErrorKind::Transient, what),
    };
    Err(Failure::Api { meaning: m, error })
}

/// The hints to remember: the zone, unless it is configured.
fn zone_hint(zone: &Fqdn, configured: bool) -> ProviderHints {
    let mut h = ProviderHints::default();
    if !configured {
        h.0.insert("zone".to_owned(), zone.to_string());
    }
    h
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

/// Percent-encodes a path segment (`@` and `*` stay: GoDaddy's names use them as is).
fn path_encode(s: &str) -> String {
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

impl Provider for Godaddy {
    fn name(&self) -> &str {
        &self.name
    }

    fn effective_ttl(&self, ttl: Ttl) -> Ttl {
        rows::raise_ttl(&self.name, ttl, MIN_TTL, &self.ttl_warned)
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
        Box::pin(self.replace(desired, hints))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str, retry_after: Option<u64>) -> HttpResponse {
        HttpResponse {
            status,
            date: None,
            retry_after: retry_after.map(Duration::from_secs),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn kind(r: Result<Value, Failure>) -> ProviderErrorKind {
        match r {
            Err(f) => ProviderError::from(f).kind,
            Ok(v) => panic!("not an error: {v}"),
        }
    }

    /// The table: permanent answers stop, the rest is retried.
    #[test]
    fn code_table() {
        use Meaning as M;
        for (status, code, want) in [
            (401, "UNABLE_TO_AUTHENTICATE", M::Auth),
            (401, "MALFORMED_CREDENTIALS", M::Auth),
            (403, "ACCESS_DENIED", M::Denied),
            (404, "UNKNOWN_DOMAIN", M::UnknownDomain),
            (404, "NOT_FOUND", M::NotFound),
            (422, "INVALID_BODY", M::Rejected),
            (400, "MALFORMED_REQUEST", M::Rejected),
            (429, "TOO_MANY_REQUESTS", M::RateLimited),
            (409, "CONFLICT", M::Transient),
            (500, "INTERNAL_SERVER_ERROR", M::Transient),
            (504, "GATEWAY_TIMEOUT", M::Transient),
            (418, "SOMETHING_NEW", M::Transient),
        ] {
            assert_eq!(meaning(status, code), want, "{status} {code}");
        }
    }

    #[test]
    fn answers() {
        use ProviderErrorKind as K;
        assert_eq!(interpret("X", &resp(200, "", None)).unwrap(), Value::Null);
        assert_eq!(
            interpret("X", &resp(200, r#"[{"data":"2001:db8::1"}]"#, None)).unwrap()[0]["data"],
            "2001:db8::1"
        );
        let e = ProviderError::from(
            interpret(
                "GetRecords",
                &resp(
                    401,
                    r#"{"code":"UNABLE_TO_AUTHENTICATE","message":"Unauthorized : Could not authenticate API key/secret"}"#,
                    None,
                ),
            )
            .unwrap_err(),
        );
        assert_eq!(e.kind, K::Auth);
        assert_eq!(
            e.message,
            "GetRecords failed: UNABLE_TO_AUTHENTICATE: \"Unauthorized : Could not authenticate API key/secret\""
        );
        assert_eq!(e.hint().as_deref(), Some(AUTH_HINT));
        // The 429's delay comes from the body unless a header says otherwise.
        let limit = r#"{"code":"TOO_MANY_REQUESTS","message":"Too many requests received within interval","retryAfterSec":7}"#;
        assert_eq!(
            kind(interpret("X", &resp(429, limit, None))),
            K::RateLimited {
                retry_after: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(
            kind(interpret("X", &resp(429, limit, Some(2)))),
            K::RateLimited {
                retry_after: Some(Duration::from_secs(2))
            }
        );
        assert_eq!(
            kind(interpret("X", &resp(429, "<html>slow</html>", None))),
            K::RateLimited { retry_after: None }
        );
        let e = ProviderError::from(
            interpret(
                "ReplaceRecords",
                &resp(
                    422,
                    r#"{"code":"INVALID_BODY","fields":[{"code":"UNKNOWN_RESTRICTION","message":"must have a minimum value of 600","path":"records[0].ttl"}],"message":"Request body doesn't fulfill schema, see details in `fields`"}"#,
                    None,
                ),
            )
            .unwrap_err(),
        );
        assert_eq!(e.kind, K::Rejected);
        assert_eq!(
            e.message,
            "ReplaceRecords failed: INVALID_BODY: \"Request body doesn't fulfill schema, see details in `fields`\" (records[0].ttl must have a minimum value of 600)"
        );
        assert_eq!(
            kind(interpret("X", &resp(502, "<html>", None))),
            K::Transient
        );
        let e =
            ProviderError::from(interpret("GetRecords", &resp(200, "<html>", None)).unwrap_err());
        assert_eq!(e.kind, K::Protocol);
        assert!(
            e.message
                .starts_with("GetRecords: the reply is not valid json"),
            "{e:?}"
        );
        assert_eq!(
            kind(interpret(
                "X",
                &resp(
                    403,
                    r#"{"code":"ACCESS_DENIED","message":"Authenticated user is not allowed access"}"#,
                    None
                )
            )),
            K::Auth
        );
    }

    fn parse(table: &str) -> Result<GodaddySettings, String> {
        let text = format!(
            "{table}\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"h.example.com\"\nprovider = \"godaddy\"\nsources = [\"s\"]\n"
        );
        let env = |n: &str| match n {
            "GODADDY_API_KEY" => Some("key".to_owned()),
            "GODADDY_API_SECRET" => Some("secret".to_owned()),
            _ => None,
        };
        let c = crate::config::from_text(&text, std::path::Path::new("t.toml"), &env)
            .map_err(|e| e.to_string())?;
        Ok(c.providers["godaddy"]
            .get::<GodaddySettings>()
            .expect("godaddy settings")
            .clone())
    }

    #[test]
    fn the_example_and_its_variants_parse() {
        let s = parse(KIND.example).unwrap();
        assert_eq!(s.endpoint, DEFAULT_ENDPOINT);
        assert_eq!(
            (s.api_key.expose().as_str(), s.api_secret.expose().as_str()),
            ("key", "secret")
        );
        assert_eq!(s.zone, None);
        let s = parse("[providers.godaddy]\nkind = \"godaddy\"\napi_key = \"k\"\napi_secret = \"s3kr1t\"\nzone = \"example.com\"\nendpoint = \"https://api.ote-godaddy.com/\"").unwrap();
        assert_eq!(s.endpoint, "https://api.ote-godaddy.com");
        assert_eq!(s.zone.as_ref().map(Fqdn::as_str), Some("example.com"));
        assert!(!format!("{s:?}").contains("s3kr1t"));
        let e = parse("[providers.godaddy]\nkind = \"godaddy\"\napi_key = \"k\"").unwrap_err();
        assert!(e.contains("api_secret"), "{e}");
    }

    #[test]
    fn encoding() {
        assert_eq!(path_encode("@"), "@");
        assert_eq!(path_encode("*.home"), "*.home");
        assert_eq!(path_encode("a b/c"), "a%20b%2Fc");
        assert_eq!(query_encode("example.com"), "example.com");
    }
}
