//! `kind = "gandi"`: Gandi LiveDNS (API v5) with a Personal Access Token (`Authorization:
//! Bearer`), or the deprecated API key (`Authorization: Apikey`).
//!
//! Owns the wire format of the calls ddnsd makes — list the LiveDNS domains (`GET
//! /domains`, paged with `per_page`/`page`), read one RRset (`GET
//! /domains/{fqdn}/records/{name}/{type}`, 404 when there is none), replace it (`PUT` of the
//! same path with `rrset_values` and `rrset_ttl`), withdraw it (`DELETE`) — and the meaning of
//! Gandi's answers ([`meaning`], the one table; the error body is `{code, message, object,
//! cause}`). Reference: `shared/providers/registrars.md` §4 and api.gandi.net/docs/livedns.
//!
//! LiveDNS stores an RRset as one object, so a change is one PUT of the whole set: other
//! names and types are never touched, and nothing of the set is lost but what ddnsd
//! replaces (its values and TTL, the only fields an RRset has).

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
    name: "gandi",
    about: "Gandi LiveDNS API v5 (personal access token, or the deprecated API key)",
    example: r#"[providers.gandi]
kind = "gandi"
token_env = "GANDI_PAT"                 # or token / token_file: a personal access token with
                                        # "Manage domain name technical configurations"
# api_key_file = "/etc/ddnsd/gandi.key" # instead of token: the deprecated API key
# zone = "example.com"                  # omit to find it among the LiveDNS domains
# endpoint = "https://api.gandi.net/v5/livedns"
"#,
    configure,
};

/// The production API.
pub const DEFAULT_ENDPOINT: &str = "https://api.gandi.net/v5/livedns";
/// LiveDNS's lowest TTL; lower TTLs are raised to it.
pub const MIN_TTL: u32 = 300;

/// Domains per page of `GET /domains`.
const DOMAINS_PER_PAGE: usize = 100;
/// Pages of domains read at most (10,000 domains).
const MAX_PAGES: usize = 100;
const SERVICE: &str = "Gandi LiveDNS";
const AUTH_HINT: &str = "check token: personal access tokens expire; create a new one in the Gandi admin (Organizations → the domain's organization → Sharing → Create a token) with \"Manage domain name technical configurations\"";
const KEY_HINT: &str = "check api_key (deprecated and no longer issued: switch to token, a personal access token with \"Manage domain name technical configurations\")";
const FORBIDDEN_HINT: &str = "the token may not change this domain: give it \"Manage domain name technical configurations\" on all domains of the organization, or on this one";
const ZONE_HINT: &str =
    "check zone: it must be a domain whose DNS Gandi LiveDNS serves, in the token's organization";

/// How ddnsd authenticates to Gandi.
#[derive(Clone, Debug)]
pub enum GandiCredential {
    /// A Personal Access Token (`Authorization: Bearer …`).
    Token(Secret<String>),
    /// The deprecated API key (`Authorization: Apikey …`).
    ApiKey(Secret<String>),
}

/// Settings of a Gandi LiveDNS provider.
#[derive(Clone, Debug)]
pub struct GandiSettings {
    /// The credential.
    pub credential: GandiCredential,
    /// The domain; `None` = the longest of the LiveDNS domains that contains the name.
    pub zone: Option<Fqdn>,
    /// API base URL, default `https://api.gandi.net/v5/livedns`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "gandi"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    token: Option<Text>,
    token_file: Option<Text>,
    token_env: Option<Text>,
    api_key: Option<Text>,
    api_key_file: Option<Text>,
    api_key_env: Option<Text>,
    zone: Option<Text>,
    endpoint: Option<Text>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let token = SecretFields {
        name: "token",
        inline: &r.token,
        file: &r.token_file,
        env: &r.token_env,
    };
    let key = SecretFields {
        name: "api_key",
        inline: &r.api_key,
        file: &r.api_key_file,
        env: &r.api_key_env,
    };
    let credential = match (token.given(), key.given()) {
        (true, true) => {
            f.problem(
                key.span().unwrap_or_else(|| f.span()),
                "give either token or api_key, not both".to_owned(),
                Some("a personal access token (token) is what Gandi issues today".to_owned()),
            );
            None
        }
        (false, true) => f.secret(key).map(GandiCredential::ApiKey),
        // Neither: the token is what is missing (the secret reader says so).
        _ => f.secret(token).map(GandiCredential::Token),
    };
    let zone = fields::zone(f, &r.zone);
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(GandiSettings {
        credential: credential?,
        zone: zone?,
        endpoint: endpoint?,
    }))
}

impl Configured for GandiSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Gandi::new(name.to_owned(), self.clone(), deps))
    }
}

/// A Gandi LiveDNS provider.
pub struct Gandi {
    name: String,
    settings: GandiSettings,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    zones: ZoneCache,
    ttl_warned: AtomicBool,
}

/// What a Gandi answer means to ddnsd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// The token or key is wrong or expired (401).
    Auth,
    /// The token may not do this (403: its scope or permissions).
    Forbidden,
    /// No such domain or RRset (404).
    NotFound,
    /// The request is wrong and will stay wrong (400, 409 conflict, 422).
    Rejected,
    /// Too many requests (429).
    RateLimited,
    /// Anything else, the server's own failures included: may pass.
    Transient,
}

/// Gandi's HTTP statuses → what they mean: the one table of this adapter. Gandi's reference
/// documents 401 "Bad authentication attempt because of a wrong API Key" (also an expired
/// token), 403 "Access to the resource is denied. Mainly due to a lack of permissions", 404
/// for a missing domain or record, 400 / 409 / 422 for refused input and conflicts, and a
/// per-IP rate limit. An unknown status is transient.
pub fn meaning(status: u16) -> Meaning {
    match status {
        401 => Meaning::Auth,
        403 => Meaning::Forbidden,
        404 => Meaning::NotFound,
        400 | 409 | 422 => Meaning::Rejected,
        429 => Meaning::RateLimited,
        _ => Meaning::Transient,
    }
}

/// A failed call: Gandi's answer, or a provider error already.
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

impl Gandi {
    /// A provider named `name`.
    pub fn new(name: String, settings: GandiSettings, deps: &ProviderDeps) -> Gandi {
        Gandi {
            name,
            settings,
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            zones: ZoneCache::default(),
            ttl_warned: AtomicBool::new(false),
        }
    }

    fn authorization(&self) -> String {
        match &self.settings.credential {
            GandiCredential::Token(t) => format!("Bearer {}", t.expose()),
            GandiCredential::ApiKey(k) => format!("Apikey {}", k.expose()),
        }
    }

    /// Sends one request, retrying transient failures and rate limits; returns the JSON body
    /// (`Value::Null` when there is none) and the reply's `Total-Count` header.
    async fn call(
        &self,
        action: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(Value, Option<usize>), Failure> {
        let url = format!("{}{path}", self.settings.endpoint);
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let mut headers = vec![
            ("Authorization", self.authorization()),
            ("Accept", "application/json".to_owned()),
        ];
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        let write = method != Method::Get;
        let key_hint = matches!(self.settings.credential, GandiCredential::ApiKey(_));
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
                let total = resp
                    .header("total-count")
                    .and_then(|v| v.trim().parse().ok());
                interpret(action, &resp, key_hint).map(|v| (v, total))
            },
        )
        .await
    }

    /// Every LiveDNS domain the credential sees (`GET /domains`, paged).
    async fn domains(&self) -> Result<Vec<Fqdn>, ProviderError> {
        let action = "ListDomains";
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let path = format!("/domains?per_page={DOMAINS_PER_PAGE}&page={page}");
            let (reply, total) = self.call(action, Method::Get, &path, None).await?;
            let list = reply
                .as_array()
                .ok_or_else(|| api::protocol(action, "not a list of domains"))?;
            for d in list {
                let name = d
                    .get("fqdn")
                    .and_then(Value::as_str)
                    .ok_or_else(|| api::protocol(action, "a domain without fqdn"))?;
                if let Ok(f) = Fqdn::parse_relaxed(name) {
                    out.push(f);
                }
            }
            let seen = (page - 1) * DOMAINS_PER_PAGE + list.len();
            let more = match total {
                Some(t) => seen < t && !list.is_empty(),
                None => list.len() >= DOMAINS_PER_PAGE,
            };
            if !more {
                return Ok(out);
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

    fn rrset_path(
        &self,
        zone: &Fqdn,
        name: &Fqdn,
        rtype: RecordType,
    ) -> Result<String, ProviderError> {
        let sub = rows::sub_domain(name, zone)?;
        Ok(format!(
            "/domains/{zone}/records/{}/{}",
            path_encode(&sub),
            rtype.as_str()
        ))
    }

    async fn read(
        &self,
        key: &RecordKey,
        hints: &ProviderHints,
    ) -> Result<LiveRrSet, ProviderError> {
        let zone = self.zone_of(&key.name, hints).await?;
        let action = "GetRRset";
        let path = self.rrset_path(&zone, &key.name, key.rtype)?;
        let reply = match self.call(action, Method::Get, &path, None).await {
            Ok((v, _)) => v,
            // No RRset of this name and type.
            Err(Failure::Api {
                meaning: Meaning::NotFound,
                ..
            }) => Value::Null,
            Err(e) => return Err(e.into()),
        };
        let mut addrs = AddrSet::new();
        let mut ttl = None;
        if !reply.is_null() {
            let typ = reply.get("rrset_type").and_then(Value::as_str);
            if typ.is_some_and(|t| t != key.rtype.as_str()) {
                return Err(api::protocol(action, "an rrset of another type"));
            }
            let values = reply
                .get("rrset_values")
                .and_then(Value::as_array)
                .ok_or_else(|| api::protocol(action, "an rrset without rrset_values"))?;
            for v in values {
                let text = v
                    .as_str()
                    .ok_or_else(|| api::protocol(action, "a value that is not a string"))?;
                let addr = address_of(text, key.rtype).ok_or_else(|| {
                    api::protocol(action, &format!("a {} value {text:?}", key.rtype))
                })?;
                addrs.insert(addr);
            }
            ttl = reply
                .get("rrset_ttl")
                .and_then(Value::as_u64)
                .and_then(|t| u32::try_from(t).ok())
                .map(Ttl);
            if ttl.is_none() && !addrs.is_empty() {
                return Err(api::protocol(action, "an rrset without a valid rrset_ttl"));
            }
        }
        Ok(LiveRrSet {
            ttl: if addrs.is_empty() { None } else { ttl },
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
        let path = self.rrset_path(&zone, &desired.name, desired.rtype)?;
        if desired.addrs.is_empty() {
            match self.call("DeleteRRset", Method::Delete, &path, None).await {
                // Already gone: what was wanted.
                Ok(_)
                | Err(Failure::Api {
                    meaning: Meaning::NotFound,
                    ..
                }) => {}
                Err(e) => return Err(e.into()),
            }
        } else {
            let values: Vec<String> = desired.addrs.iter().map(ToString::to_string).collect();
            let body = json!({
                "rrset_values": values,
                "rrset_ttl": self.effective_ttl(desired.ttl).0,
            });
            tracing::debug!(provider = %self.name, record = %desired.key(), zone = %zone, addrs = %desired.addrs, "replacing rrset");
            match self.call("PutRRset", Method::Put, &path, Some(&body)).await {
                Ok(_) => {}
                Err(Failure::Api {
                    meaning: Meaning::NotFound,
                    error,
                }) => {
                    // A PUT creates a missing RRset: a 404 means the domain is not there.
                    return Err(
                        ProviderError::new(ProviderErrorKind::ZoneNotFound, error.message)
                            .with_hint(ZONE_HINT),
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(zone_hint(&zone, self.settings.zone.is_some()))
    }
}

/// The body of a successful reply, or what Gandi's answer means.
fn interpret(action: &'static str, resp: &HttpResponse, key_hint: bool) -> Result<Value, Failure> {
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
    // `{code, message, object, cause}`, or for refused input `{status: "error", errors:
    // [{location, name, description}]}`.
    let detail = body.as_ref().and_then(|b| {
        if let Some(m) = b.get("message").and_then(Value::as_str) {
            return Some(m.to_owned());
        }
        let errors: Vec<String> = b
            .get("errors")?
            .as_array()?
            .iter()
            .filter_map(|e| {
                let d = e.get("description").and_then(Value::as_str)?;
                Some(match e.get("name").and_then(Value::as_str) {
                    Some(n) => format!("{n}: {d}"),
                    None => d.to_owned(),
                })
            })
            .collect();
        (!errors.is_empty()).then(|| errors.join("; "))
    });
    let status = resp.status;
    let what = match &detail {
        Some(d) => format!("{action} failed: http {status}: {d:?}"),
        None => format!("{action} failed: http {status}"),
    };
    let m = meaning(status);
    let error =
        match m {
            Meaning::Auth => ProviderError::new(ProviderErrorKind::Auth, what)
                .with_hint(if key_hint { KEY_HINT } else { AUTH_HINT }),
            Meaning::Forbidden => {
                ProviderError::new(ProviderErrorKind::Forbidden, what).with_hint(FORBIDDEN_HINT)
            }
            Meaning::NotFound => {
                ProviderError::new(ProviderErrorKind::ZoneNotFound, what).with_hint(ZONE_HINT)
            }
            Meaning::Rejected => ProviderError::new(ProviderErrorKind::Rejected, what),
            Meaning::RateLimited => ProviderError::new(
                ProviderErrorKind::RateLimited {
                    retry_after: resp.retry_after,
                },
                what,
            ),
            Meaning::Transient => ProviderError::new(ProviderErrorKind::Transient, what),
        };
    Err(Failure::Api { meaning: m, error })
}

/// `text` as an address of `rtype`'s family (an A set holds IPv4 addresses only).
fn address_of(text: &str, rtype: RecordType) -> Option<IpAddr> {
    let addr: IpAddr = text.parse().ok()?;
    (Family::of(&addr).record_type() == rtype).then_some(addr)
}

/// The hints to remember: the zone, unless it is configured.
fn zone_hint(zone: &Fqdn, configured: bool) -> ProviderHints {
    let mut h = ProviderHints::default();
    if !configured {
        h.0.insert("zone".to_owned(), zone.to_string());
    }
    h
}

/// Percent-encodes a path segment (`@` and `*` stay: LiveDNS names use them as is).
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

impl Provider for Gandi {
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

    fn err(r: Result<Value, Failure>) -> ProviderError {
        match r {
            Err(f) => f.into(),
            Ok(v) => panic!("not an error: {v}"),
        }
    }

    #[test]
    fn status_table() {
        use Meaning as M;
        for (status, want) in [
            (401, M::Auth),
            (403, M::Forbidden),
            (404, M::NotFound),
            (400, M::Rejected),
            (409, M::Rejected),
            (422, M::Rejected),
            (429, M::RateLimited),
            (500, M::Transient),
            (502, M::Transient),
            (418, M::Transient),
        ] {
            assert_eq!(meaning(status), want, "{status}");
        }
    }

    #[test]
    fn answers() {
        use ProviderErrorKind as K;
        assert_eq!(
            interpret(
                "PutRRset",
                &resp(201, r#"{"message":"DNS Record Created"}"#, None),
                false
            )
            .unwrap()["message"],
            "DNS Record Created"
        );
        let e = err(interpret(
            "ListDomains",
            &resp(
                401,
                r#"{"code":401,"message":"The server could not verify that you authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad api key), or your access token has expired","object":"HTTPUnauthorized","cause":"Unauthorized"}"#,
                None,
            ),
            false,
        ));
        assert_eq!(e.kind, K::Auth);
        assert!(
            e.message
                .starts_with("ListDomains failed: http 401: \"The server could not verify"),
            "{e:?}"
        );
        assert_eq!(e.hint().as_deref(), Some(AUTH_HINT));
        let e = err(interpret("ListDomains", &resp(401, "", None), true));
        assert_eq!(e.message, "ListDomains failed: http 401");
        assert_eq!(e.hint().as_deref(), Some(KEY_HINT));
        let e = err(interpret(
            "PutRRset",
            &resp(
                400,
                r#"{"status":"error","errors":[{"location":"body","name":"rrset_ttl","description":"must be at least 300"}]}"#,
                None,
            ),
            false,
        ));
        assert_eq!(e.kind, K::Rejected);
        assert_eq!(
            e.message,
            "PutRRset failed: http 400: \"rrset_ttl: must be at least 300\""
        );
        assert_eq!(
            err(interpret("X", &resp(429, "", Some(4)), false)).kind,
            K::RateLimited {
                retry_after: Some(Duration::from_secs(4))
            }
        );
        assert_eq!(
            err(interpret("X", &resp(403, "{}", None), false)).kind,
            K::Forbidden
        );
        assert_eq!(
            err(interpret("X", &resp(503, "<html>", None), false)).kind,
            K::Transient
        );
        let e = err(interpret("GetRRset", &resp(200, "{\"rrset", None), false));
        assert_eq!(e.kind, K::Protocol);
        assert!(e
            .message
            .starts_with("GetRRset: the reply is not valid json"));
    }

    fn parse(table: &str) -> Result<GandiSettings, String> {
        let text = format!(
            "{table}\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"h.example.com\"\nprovider = \"gandi\"\nsources = [\"s\"]\n"
        );
        let env = |n: &str| (n == "GANDI_PAT").then(|| "pat_x".to_owned());
        let c = crate::config::from_text(&text, std::path::Path::new("t.toml"), &env)
            .map_err(|e| e.to_string())?;
        Ok(c.providers["gandi"]
            .get::<GandiSettings>()
            .expect("gandi settings")
            .clone())
    }

    #[test]
    fn the_example_and_its_variants_parse() {
        let s = parse(KIND.example).unwrap();
        assert!(matches!(&s.credential, GandiCredential::Token(t) if t.expose() == "pat_x"));
        assert_eq!(s.endpoint, DEFAULT_ENDPOINT);
        let s =
            parse("[providers.gandi]\nkind = \"gandi\"\napi_key = \"k3y\"\nzone = \"example.com\"")
                .unwrap();
        assert!(matches!(&s.credential, GandiCredential::ApiKey(k) if k.expose() == "k3y"));
        assert!(!format!("{s:?}").contains("k3y"));
        let e = parse("[providers.gandi]\nkind = \"gandi\"\ntoken = \"t\"\napi_key = \"k\"")
            .unwrap_err();
        assert!(e.contains("give either token or api_key, not both"), "{e}");
        let e = parse("[providers.gandi]\nkind = \"gandi\"").unwrap_err();
        assert!(e.contains("token"), "{e}");
    }
}
