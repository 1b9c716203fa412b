//! `kind = "digitalocean"`: DigitalOcean Domains API (`/v2/domains`) with a personal access
//! token (`Authorization: Bearer`).
//!
//! Owns the wire format of the calls ddnsd makes — list the account's domains, list the
//! records of one name and type (`GET /v2/domains/{domain}/records?type=…&name=FQDN`, paged
//! by `links.pages.next`), create (`POST`), re-point (`PATCH …/records/{id}`) and delete
//! records — and the meaning of the API's answers `{id, message, request_id?}` ([`meaning`],
//! the one table). Reference: `shared/providers/hosting-dns.md` §2 and DigitalOcean's OpenAPI
//! specification (`specification/resources/domains/`, `shared/`).
//!
//! DigitalOcean keeps one record (with an integer id) per value, so the RRset is reconciled
//! by `kit::rows`: ids are reused with PATCH, never deleted and re-created. A PATCH names
//! only `type`, `data` and `ttl`, so a record's other attributes stay as they are. A
//! `links.pages.next` URL is never followed as given: only its page number is used, with the
//! configured endpoint, so the token is never sent to another host.

use std::net::IpAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};

use super::kit::api;
use super::kit::rows::{self, Row, RowApi, RowError};
use super::kit::zones::ZoneCache;
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints,
};
use crate::clock::Clock;
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{Backoff, HttpClient, HttpResponse, Method, Request};
use crate::record::{Family, Fqdn, RecordKey, RecordType, RrSet, Ttl};
use crate::secret::Secret;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "digitalocean",
    about: "DigitalOcean Domains API v2 (personal access token, one record per value)",
    example: r#"[providers.digitalocean]
kind = "digitalocean"
token_env = "DIGITALOCEAN_TOKEN"        # or token / token_file: a personal access token with
                                        # write access (custom scopes: domain read, create,
                                        # update and delete)
# zone = "example.com"                  # omit to find it among the account's domains
# endpoint = "https://api.digitalocean.com"
"#,
    configure,
};

/// The production API.
pub const DEFAULT_ENDPOINT: &str = "https://api.digitalocean.com";
/// DigitalOcean's lowest TTL; lower TTLs are raised to it.
pub const MIN_TTL: u32 = 30;

/// Items per page (DigitalOcean's maximum).
const PER_PAGE: u32 = 200;
/// Pages read at most.
const MAX_PAGES: u32 = 50;
const SERVICE: &str = "DigitalOcean";
const AUTH_HINT: &str = "check token: it must be a DigitalOcean personal access token (API → Tokens) that is neither expired nor revoked";
const FORBIDDEN_HINT: &str = "the token lacks a scope: give it write access, or the custom scopes domain:read, domain:create, domain:update and domain:delete";
const ZONE_HINT: &str =
    "check zone: it must be a domain of this DigitalOcean account (Networking → Domains)";

/// Settings of a DigitalOcean provider.
#[derive(Clone, Debug)]
pub struct DigitalOceanSettings {
    /// The personal access token.
    pub token: Secret<String>,
    /// The domain; `None` = the longest of the account's domains that contains the name.
    pub zone: Option<Fqdn>,
    /// API base URL, default `https://api.digitalocean.com`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "digitalocean"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    token: Option<Text>,
    token_file: Option<Text>,
    token_env: Option<Text>,
    zone: Option<Text>,
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
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(DigitalOceanSettings {
        token: token?,
        zone: zone?,
        endpoint: endpoint?,
    }))
}

impl Configured for DigitalOceanSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(DigitalOcean::new(name.to_owned(), self.clone(), deps))
    }
}

/// A DigitalOcean provider.
pub struct DigitalOcean {
    name: String,
    settings: DigitalOceanSettings,
    clock: Arc<dyn Clock>,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    zones: ZoneCache,
    ttl_warned: AtomicBool,
}

/// What a DigitalOcean answer means to ddnsd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// The token is wrong, expired or revoked (401 `unauthorized`).
    Auth,
    /// The token lacks a scope (403 `forbidden`).
    Forbidden,
    /// No such domain or record (404 `not_found`).
    NotFound,
    /// The request is wrong and will stay wrong (400 `bad_request`, 422
    /// `unprocessable_entity`).
    Rejected,
    /// Too many requests (429 `too_many_requests`).
    RateLimited,
    /// Anything else, the server's own failures included: may pass.
    Transient,
}

/// DigitalOcean's statuses and error ids → what they mean: the one table of this adapter.
/// The specification's shared responses: 401 `unauthorized` "Unable to authenticate you",
/// 403 `forbidden` "You do not have permission to perform this action", 404 `not_found`, 400
/// `bad_request`, 422 `unprocessable_entity`, 429 `too_many_requests`, 500 `server_error`.
/// The status decides (the `id` "corresponds to the HTTP status code"); an unknown one is
/// transient.
pub fn meaning(status: u16, id: &str) -> Meaning {
    match (status, id) {
        (401, _) | (_, "unauthorized") => Meaning::Auth,
        (403, _) | (_, "forbidden") => Meaning::Forbidden,
        (404, _) => Meaning::NotFound,
        (400 | 422, _) => Meaning::Rejected,
        (429, _) | (_, "too_many_requests") => Meaning::RateLimited,
        _ => Meaning::Transient,
    }
}

/// A failed call: DigitalOcean's answer, or a provider error already.
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

impl From<Failure> for RowError {
    fn from(f: Failure) -> RowError {
        match f {
            Failure::Api {
                meaning: Meaning::NotFound,
                ..
            } => RowError::Gone,
            f => RowError::Failed(f.into()),
        }
    }
}

impl DigitalOcean {
    /// A provider named `name`.
    pub fn new(name: String, settings: DigitalOceanSettings, deps: &ProviderDeps) -> DigitalOcean {
        DigitalOcean {
            name,
            settings,
            clock: deps.clock.clone(),
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            zones: ZoneCache::default(),
            ttl_warned: AtomicBool::new(false),
        }
    }

    /// Sends one request, retrying transient failures and rate limits; returns the JSON body
    /// (`Value::Null` for 204 No Content).
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
            format!("Bearer {}", self.settings.token.expose()),
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
                interpret(action, &resp, self.clock.as_ref())
            },
        )
        .await
    }

    /// Every page of a list at `path` (which has a query already), the items under `key`.
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
                .get("links")
                .and_then(|l| l.get("pages"))
                .and_then(|p| p.get("next"))
                .and_then(Value::as_str);
            match next.map(next_page) {
                None => return Ok(out),
                Some(Some(n)) if n > page && !items.is_empty() => page = n,
                Some(_) => {
                    return Err(
                        api::protocol(action, "a next-page link without a later page").into(),
                    )
                }
            }
        }
        Err(api::protocol(action, &format!("more than {MAX_PAGES} pages")).into())
    }

    /// The account's domains.
    async fn domains(&self) -> Result<Vec<Fqdn>, ProviderError> {
        let action = "ListDomains";
        let list = self.all_pages(action, "/v2/domains?", "domains").await?;
        list.iter()
            .map(|d| {
                let name = d
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| api::protocol(action, "a domain without a name"))?;
                Fqdn::parse_relaxed(name)
                    .map_err(|_| api::protocol(action, &format!("a domain named {name:?}")))
            })
            .collect()
    }

    /// The records of (`sub`, `rtype`) in `zone`.
    async fn records(
        &self,
        zone: &Fqdn,
        sub: &str,
        rtype: RecordType,
    ) -> Result<Vec<Row>, ProviderError> {
        let action = "ListRecords";
        // The name filter takes the fully qualified name; records carry the relative one.
        let fqdn = if sub == "@" {
            zone.to_string()
        } else {
            format!("{sub}.{zone}")
        };
        let path = format!(
            "/v2/domains/{zone}/records?type={}&name={}",
            rtype.as_str(),
            query_encode(&fqdn)
        );
        let list = match self.all_pages(action, &path, "domain_records").await {
            Ok(l) => l,
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
        let mut out = Vec::new();
        for r in &list {
            let name = r.get("name").and_then(Value::as_str).unwrap_or("");
            let typ = r.get("type").and_then(Value::as_str).unwrap_or("");
            // The filters are exact; a lenient server must not hand over other records.
            if !name.eq_ignore_ascii_case(sub) || typ != rtype.as_str() {
                continue;
            }
            out.push(row_of(r, rtype, action)?);
        }
        Ok(out)
    }
}

/// One record as a row.
fn row_of(r: &Value, rtype: RecordType, action: &str) -> Result<Row, ProviderError> {
    let id = r
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| api::protocol(action, "a record without an integer id"))?;
    let data = r.get("data").and_then(Value::as_str).unwrap_or("");
    let value = data
        .parse::<IpAddr>()
        .ok()
        .filter(|a| Family::of(a).record_type() == rtype)
        .ok_or_else(|| api::protocol(action, &format!("record {id} has data {data:?}")))?;
    let ttl = r
        .get("ttl")
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .ok_or_else(|| api::protocol(action, &format!("record {id} has no valid ttl")))?;
    Ok(Row {
        id: Some(id.to_string()),
        value,
        ttl,
    })
}

/// The page number of a `links.pages.next` URL (`…?page=3&per_page=200`).
fn next_page(url: &str) -> Option<u32> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .find_map(|p| p.strip_prefix("page="))
        .and_then(|v| v.parse().ok())
}

/// The body of a successful reply, or what DigitalOcean's answer means.
fn interpret(
    action: &'static str,
    resp: &HttpResponse,
    clock: &dyn Clock,
) -> Result<Value, Failure> {
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
    let id = text("id").unwrap_or_default();
    let what = match (id.as_str(), text("message")) {
        ("", _) => format!("{action} failed: http {}", resp.status),
        (id, Some(m)) => format!("{action} failed: {id}: {m:?}"),
        (id, None) => format!("{action} failed: {id}"),
    };
    let m = meaning(resp.status, &id);
    let error = match m {
        Meaning::Auth => ProviderError::new(ProviderErrorKind::Auth, what).with_hint(AUTH_HINT),
        Meaning::Forbidden => {
            ProviderError::new(ProviderErrorKind::Forbidden, what).with_hint(FORBIDDEN_HINT)
        }
        Meaning::NotFound => {
            ProviderError::new(ProviderErrorKind::ZoneNotFound, what).with_hint(ZONE_HINT)
        }
        Meaning::Rejected => ProviderError::new(ProviderErrorKind::Rejected, what),
        Meaning::RateLimited => ProviderError::new(
            ProviderErrorKind::RateLimited {
                retry_after: retry_after(resp, clock),
            },
            what,
        ),
        Meaning::Transient => ProviderError::new(ProviderErrorKind::Transient, what),
    };
    Err(Failure::Api { meaning: m, error })
}

/// How long a 429 asks to wait: `Retry-After` (sent with the per-minute burst limit), else
/// until `ratelimit-reset` (Unix time the oldest request of the hourly budget expires),
/// measured against the reply's `Date` when it has one.
fn retry_after(resp: &HttpResponse, clock: &dyn Clock) -> Option<Duration> {
    if resp.retry_after.is_some() {
        return resp.retry_after;
    }
    let reset: u64 = resp.header("ratelimit-reset")?.trim().parse().ok()?;
    let now = match resp.date {
        Some(d) => d
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        None => clock.unix_secs(),
    };
    Some(Duration::from_secs(reset.saturating_sub(now).max(1)))
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

impl RowApi for DigitalOcean {
    fn provider_name(&self) -> &str {
        &self.name
    }

    fn zone<'a>(
        &'a self,
        name: &'a Fqdn,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<Fqdn, ProviderError>> {
        Box::pin(
            self.zones
                .zone_of(name, self.settings.zone.as_ref(), hints, SERVICE, || {
                    self.domains()
                }),
        )
    }

    fn list<'a>(
        &'a self,
        zone: &'a Fqdn,
        sub: &'a str,
        rtype: RecordType,
    ) -> BoxFuture<'a, Result<Vec<Row>, ProviderError>> {
        Box::pin(self.records(zone, sub, rtype))
    }

    fn create<'a>(
        &'a self,
        zone: &'a Fqdn,
        sub: &'a str,
        rtype: RecordType,
        value: IpAddr,
        ttl: u32,
    ) -> BoxFuture<'a, Result<Option<String>, RowError>> {
        Box::pin(async move {
            let action = "CreateRecord";
            let body =
                json!({"type": rtype.as_str(), "name": sub, "data": value.to_string(), "ttl": ttl});
            let reply = self
                .call(
                    action,
                    Method::Post,
                    &format!("/v2/domains/{zone}/records"),
                    Some(&body),
                )
                .await
                .map_err(|f| RowError::Failed(f.into()))?;
            let rec = reply
                .get("domain_record")
                .ok_or_else(|| RowError::Failed(api::protocol(action, "no domain_record")))?;
            let row = row_of(rec, rtype, action).map_err(RowError::Failed)?;
            Ok(row.id)
        })
    }

    fn modify<'a>(
        &'a self,
        zone: &'a Fqdn,
        _sub: &'a str,
        rtype: RecordType,
        id: &'a str,
        value: IpAddr,
        ttl: u32,
    ) -> BoxFuture<'a, Result<(), RowError>> {
        Box::pin(async move {
            let action = "PatchRecord";
            // Only what ddnsd manages: the record's other attributes stay as they are.
            let body = json!({"type": rtype.as_str(), "data": value.to_string(), "ttl": ttl});
            let reply = self
                .call(
                    action,
                    Method::Patch,
                    &format!("/v2/domains/{zone}/records/{id}"),
                    Some(&body),
                )
                .await?;
            let rec = reply
                .get("domain_record")
                .ok_or_else(|| RowError::Failed(api::protocol(action, "no domain_record")))?;
            let row = row_of(rec, rtype, action).map_err(RowError::Failed)?;
            if row.value != value {
                return Err(RowError::Failed(api::protocol(
                    action,
                    &format!("record {id} holds {} after the update", row.value),
                )));
            }
            Ok(())
        })
    }

    fn delete<'a>(&'a self, zone: &'a Fqdn, id: &'a str) -> BoxFuture<'a, Result<(), RowError>> {
        Box::pin(async move {
            self.call(
                "DeleteRecord",
                Method::Delete,
                &format!("/v2/domains/{zone}/records/{id}"),
                None,
            )
            .await
            .map(|_| ())
            .map_err(RowError::from)
        })
    }
}

impl Provider for DigitalOcean {
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
        Box::pin(rows::read_rows(self, key, hints))
    }

    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        Box::pin(rows::apply_rows(self, desired, hints, MIN_TTL))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;

    fn resp(
        status: u16,
        body: &str,
        headers: &[(&str, &str)],
        retry_after: Option<u64>,
    ) -> HttpResponse {
        HttpResponse {
            status,
            date: None,
            retry_after: retry_after.map(Duration::from_secs),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn status_table() {
        use Meaning as M;
        for (status, id, want) in [
            (401, "unauthorized", M::Auth),
            (403, "forbidden", M::Forbidden),
            (404, "not_found", M::NotFound),
            (422, "unprocessable_entity", M::Rejected),
            (400, "bad_request", M::Rejected),
            (429, "too_many_requests", M::RateLimited),
            (500, "server_error", M::Transient),
            (503, "", M::Transient),
            (409, "conflict", M::Transient),
        ] {
            assert_eq!(meaning(status, id), want, "{status} {id}");
        }
    }

    #[test]
    fn answers_and_rate_limit_delays() {
        use ProviderErrorKind as K;
        let clock = FakeClock::at_unix(1_700_000_000);
        let err = |r: &HttpResponse| -> ProviderError {
            match interpret("ListRecords", r, &clock) {
                Err(f) => f.into(),
                Ok(v) => panic!("{v}"),
            }
        };
        let e = err(&resp(
            401,
            r#"{"id":"unauthorized","message":"Unable to authenticate you."}"#,
            &[],
            None,
        ));
        assert_eq!(e.kind, K::Auth);
        assert_eq!(
            e.message,
            "ListRecords failed: unauthorized: \"Unable to authenticate you.\""
        );
        assert_eq!(e.hint().as_deref(), Some(AUTH_HINT));
        let limit = r#"{"id":"too_many_requests","message":"API rate limit exceeded."}"#;
        // The burst limit says Retry-After; the hourly one only ratelimit-reset.
        assert_eq!(
            err(&resp(
                429,
                limit,
                &[("ratelimit-reset", "1700000100")],
                Some(3)
            ))
            .kind,
            K::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
        );
        assert_eq!(
            err(&resp(
                429,
                limit,
                &[("ratelimit-reset", "1700000100")],
                None
            ))
            .kind,
            K::RateLimited {
                retry_after: Some(Duration::from_secs(100))
            }
        );
        assert_eq!(
            err(&resp(
                429,
                limit,
                &[("ratelimit-reset", "1600000000")],
                None
            ))
            .kind,
            K::RateLimited {
                retry_after: Some(Duration::from_secs(1))
            }
        );
        assert_eq!(
            err(&resp(429, "", &[], None)).kind,
            K::RateLimited { retry_after: None }
        );
        assert_eq!(
            err(&resp(
                422,
                r#"{"id":"unprocessable_entity","message":"Name is invalid"}"#,
                &[],
                None
            ))
            .kind,
            K::Rejected
        );
        assert_eq!(err(&resp(502, "<html>", &[], None)).kind, K::Transient);
        let e = match interpret("ListDomains", &resp(200, "<html>", &[], None), &clock) {
            Err(f) => ProviderError::from(f),
            Ok(v) => panic!("{v}"),
        };
        assert_eq!(e.kind, K::Protocol);
        assert!(e
            .message
            .starts_with("ListDomains: the reply is not valid json"));
    }

    #[test]
    fn next_page_links() {
        assert_eq!(
            next_page(
                "https://api.digitalocean.com/v2/domains/example.com/records?page=2&per_page=200"
            ),
            Some(2)
        );
        assert_eq!(
            next_page("https://api.digitalocean.com/v2/domains?per_page=200&page=13"),
            Some(13)
        );
        assert_eq!(next_page("https://api.digitalocean.com/v2/domains"), None);
        assert_eq!(next_page("https://x/?page=abc"), None);
    }

    fn parse(table: &str) -> Result<DigitalOceanSettings, String> {
        let text = format!(
            "{table}\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"h.example.com\"\nprovider = \"digitalocean\"\nsources = [\"s\"]\n"
        );
        let env = |n: &str| (n == "DIGITALOCEAN_TOKEN").then(|| "dop_v1_x".to_owned());
        let c = crate::config::from_text(&text, std::path::Path::new("t.toml"), &env)
            .map_err(|e| e.to_string())?;
        Ok(c.providers["digitalocean"]
            .get::<DigitalOceanSettings>()
            .expect("digitalocean settings")
            .clone())
    }

    #[test]
    fn the_example_parses() {
        let s = parse(KIND.example).unwrap();
        assert_eq!(
            (s.token.expose().as_str(), s.endpoint.as_str()),
            ("dop_v1_x", DEFAULT_ENDPOINT)
        );
        assert!(!format!("{s:?}").contains("dop_v1_x"));
    }
}
