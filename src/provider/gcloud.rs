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

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};

use super::kit::api;
use super::sign::acs3::percent_encode;
use super::sign::google_jwt::{self, Claims, SigningKey};
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints,
};
use crate::clock::Clock;
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{self, Backoff, HttpClient, Method, Request};
use crate::record::{AddrSet, Fqdn, RecordKey, RecordType, RrSet, Ttl};
use crate::secret::Secret;

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

/// A service account's key, parsed from its JSON key file.
#[derive(Clone)]
pub struct ServiceAccount {
    /// `client_email` (the JWT's issuer; an identifier).
    pub client_email: String,
    /// `private_key_id` (the JWT's `kid`), when present.
    pub private_key_id: Option<String>,
    /// `project_id`, when present.
    pub project_id: Option<String>,
    /// `token_uri`, when present.
    pub token_uri: Option<String>,
    /// The private key.
    pub key: Arc<SigningKey>,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("project_id", &self.project_id)
            .field("token_uri", &self.token_uri)
            .field("key", &"***")
            .finish()
    }
}

impl ServiceAccount {
    /// Parses a key file's text; the error is a clause naming what is wrong (never quoting
    /// the file).
    pub fn from_json(text: &str) -> Result<ServiceAccount, String> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| format!("is not JSON (line {}, column {})", e.line(), e.column()))?;
        let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        match field("type").as_deref() {
            Some("service_account") => {}
            Some(other) => {
                return Err(format!(
                    "is a {other:?} credential, not a service account's key (type \"service_account\")"
                ))
            }
            None => return Err("has no \"type\": it is not a service account's JSON key".into()),
        }
        let client_email =
            field("client_email").ok_or("has no \"client_email\"".to_owned())?;
        let pem = field("private_key").ok_or("has no \"private_key\"".to_owned())?;
        let key = SigningKey::from_pem(&pem).map_err(|e| e.to_string())?;
        Ok(ServiceAccount {
            client_email,
            private_key_id: field("private_key_id").filter(|s| !s.is_empty()),
            project_id: field("project_id").filter(|s| !s.is_empty()),
            token_uri: field("token_uri").filter(|s| !s.is_empty()),
            key: Arc::new(key),
        })
    }
}

/// Settings of a Google Cloud DNS provider.
#[derive(Clone, Debug)]
pub struct GcloudSettings {
    /// The service account.
    pub account: ServiceAccount,
    /// The project holding the managed zones.
    pub project: String,
    /// The managed zone's name (or id); `None` = the public zone whose DNS name holds the
    /// record.
    pub managed_zone: Option<String>,
    /// API endpoint, default `https://dns.googleapis.com`.
    pub endpoint: String,
    /// Where the JWT is traded for a token.
    pub token_uri: String,
}

/// `[providers.NAME]` with `kind = "gcloud"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    credentials: Option<Text>,
    credentials_file: Option<Text>,
    credentials_env: Option<Text>,
    project: Option<Text>,
    managed_zone: Option<Text>,
    endpoint: Option<Text>,
    token_uri: Option<Text>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let forms = SecretFields {
        name: "credentials",
        inline: &r.credentials,
        file: &r.credentials_file,
        env: &r.credentials_env,
    };
    let account = f.secret(forms).and_then(|text| {
        match ServiceAccount::from_json(text.expose()) {
            Ok(a) => Some(a),
            Err(why) => {
                let span = forms.span().unwrap_or_else(|| f.span());
                f.problem(
                    span,
                    format!("credentials: the key file {why}"),
                    Some("download a JSON key of the service account (IAM → Service accounts → Keys → Add key → JSON) and point credentials_file at it".to_owned()),
                );
                None
            }
        }
    });
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    let token_uri = match &r.token_uri {
        Some(_) => fields::endpoint(f, &r.token_uri, DEFAULT_TOKEN_URI).map(Some),
        None => Some(None),
    };
    let managed_zone = match &r.managed_zone {
        None => Some(None),
        Some(t) => {
            let v = t.get_ref().trim();
            let ok = !v.is_empty()
                && v.len() <= 63
                && v.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if ok {
                Some(Some(v.to_owned()))
            } else {
                f.problem(
                    t.span(),
                    format!("managed_zone {:?} is not a managed zone name", t.get_ref()),
                    Some("write the zone's name as Cloud DNS lists it (lower-case letters, digits and '-', e.g. \"example-com\"), not its DNS name".to_owned()),
                );
                None
            }
        }
    };
    let account = account?;
    let project = match (&r.project, &account.project_id) {
        (Some(p), _) => p.get_ref().trim().to_owned(),
        (None, Some(p)) => p.clone(),
        (None, None) => {
            f.problem(
                f.span(),
                "project is missing and the key file has no project_id".to_owned(),
                Some("add project = \"PROJECT_ID\" (the project that holds the zone)".to_owned()),
            );
            return None;
        }
    };
    let token_uri = token_uri?
        .or_else(|| account.token_uri.clone())
        .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned());
    Some(Arc::new(GcloudSettings {
        account,
        project,
        managed_zone: managed_zone?,
        endpoint: endpoint?,
        token_uri,
    }))
}

impl Configured for GcloudSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Gcloud::new(name.to_owned(), self.clone(), deps))
    }
}

/// A cached access token.
struct Token {
    value: Secret<String>,
    expires_at: u64,
}

/// A Google Cloud DNS provider.
pub struct Gcloud {
    name: String,
    settings: GcloudSettings,
    clock: Arc<dyn Clock>,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    token: tokio::sync::Mutex<Option<Token>>,
    /// Public managed zones: (DNS name, zone name), listed at most once unless a name misses.
    zones: Mutex<Option<Vec<(Fqdn, String)>>>,
}

/// What a Google error means to ddnsd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Meaning {
    /// The token (or the key behind it) is refused.
    Auth,
    /// The JWT's `iat`/`exp` are outside what the token endpoint accepts.
    ClockSkew,
    /// The account may not do this (role, API not enabled, billing).
    Forbidden,
    /// Rate or quota of requests.
    RateLimited,
    /// The managed zone (or project) does not exist.
    ZoneNotFound,
    /// The change does not fit the live RRset (`409 alreadyExists`, `412 conditionNotMet`):
    /// read again.
    Conflict,
    /// The request itself is wrong and will stay wrong.
    Rejected,
    /// Anything else, the server's own failures included: may pass.
    Transient,
}

/// The code table, by HTTP status and the first error's `reason` (the standard Google JSON
/// error, Cloud DNS's "Error messages" page), and for the token endpoint by the OAuth
/// `error` (RFC 6749 §5.2, as `google-auth` reads it).
/// - API: 401 → Auth; 403 `rateLimitExceeded`/`userRateLimitExceeded` and 429 →
///   RateLimited; other 403 (`forbidden`, `insufficientPermissions`, `accessNotConfigured`,
///   `inactiveBillingState`) → Forbidden; 404 `notFound` → ZoneNotFound; 409
///   `alreadyExists` and 412 `conditionNotMet`/`preconditionFailed` → Conflict; other 400s
///   (`invalid`, `required`, `invalidFieldValue`, …) and `quotaExceeded` (a resource quota,
///   not a rate) → Rejected; 5xx and anything else → Transient.
/// - Token (its `error_description` given): `invalid_grant` about `iat`/`exp` → ClockSkew; other `invalid_grant`,
///   `invalid_client`, `unauthorized_client`, `invalid_scope`, `access_denied` → Auth;
///   `internal_failure`, `server_error`, `temporarily_unavailable` and anything else →
///   Transient.
fn meaning(status: u16, reason: &str, token_description: Option<&str>) -> Meaning {
    if let Some(description) = token_description {
        // Google's wording: "Invalid JWT: Token must be a short-lived token (60 minutes) and
        // in a reasonable timeframe. Check your iat and exp values in the JWT claim."
        let about_time = description.contains("iat") || description.contains("timeframe");
        return match reason {
            "invalid_grant" if about_time => Meaning::ClockSkew,
            "invalid_grant" | "invalid_client" | "unauthorized_client" | "invalid_scope"
            | "access_denied" => Meaning::Auth,
            _ if status == 429 => Meaning::RateLimited,
            _ => Meaning::Transient,
        };
    }
    match (status, reason) {
        (401, _) => Meaning::Auth,
        (403 | 429, "rateLimitExceeded" | "userRateLimitExceeded") | (429, _) => {
            Meaning::RateLimited
        }
        (_, "quotaExceeded") => Meaning::Rejected,
        (403, _) => Meaning::Forbidden,
        (404, _) => Meaning::ZoneNotFound,
        (409, _) | (412, _) => Meaning::Conflict,
        (400, _) => Meaning::Rejected,
        _ => Meaning::Transient,
    }
}

/// A call's failure: an API error the caller may expect, or a final provider error.
#[derive(Debug)]
enum CallError {
    /// The token was refused (401): fetch a new one once.
    Unauthorized(ProviderError),
    /// No token could be had (already retried inside the token exchange: not again).
    Token(ProviderError),
    /// The change does not fit the live RRset.
    Conflict(String),
    Provider(ProviderError),
}

impl From<CallError> for ProviderError {
    fn from(e: CallError) -> ProviderError {
        match e {
            CallError::Unauthorized(e) | CallError::Token(e) | CallError::Provider(e) => e,
            CallError::Conflict(text) => ProviderError::new(ProviderErrorKind::Transient, text),
        }
    }
}

impl From<ProviderError> for CallError {
    fn from(e: ProviderError) -> CallError {
        CallError::Provider(e)
    }
}

/// A live RRset as Cloud DNS holds it: its values exactly as listed (a deletion must match
/// them) and its TTL.
#[derive(Clone, Debug, PartialEq, Eq)]
struct LiveSet {
    ttl: u32,
    rrdatas: Vec<String>,
}

impl LiveSet {
    fn addrs(&self) -> AddrSet {
        self.rrdatas.iter().filter_map(|v| v.parse().ok()).collect()
    }
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
            token: tokio::sync::Mutex::new(None),
            zones: Mutex::new(None),
        }
    }

    /// A valid access token: the cached one, else a fresh one from the token endpoint.
    async fn access_token(&self) -> Result<Secret<String>, ProviderError> {
        let mut cached = self.token.lock().await;
        let now = self.clock.unix_secs();
        if let Some(t) = cached.as_ref() {
            if now + TOKEN_MARGIN_SECS < t.expires_at {
                return Ok(t.value.clone());
            }
        }
        let fresh = api::with_retries(
            &self.backoff,
            &self.name,
            "token",
            |e: &ProviderError| Some(e),
            || self.fetch_token(),
        )
        .await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    async fn fetch_token(&self) -> Result<Token, ProviderError> {
        let op = "token";
        let now = self.clock.unix_secs();
        let account = &self.settings.account;
        let jwt = google_jwt::assertion(
            &account.key,
            &Claims {
                issuer: &account.client_email,
                key_id: account.private_key_id.as_deref(),
                audience: google_jwt::AUDIENCE,
                scope: google_jwt::DNS_SCOPE,
                issued_at: now,
            },
        )
        // Transient: a random source that failed once may answer on the next try.
        .map_err(|e| ProviderError::new(ProviderErrorKind::Transient, format!("{op}: {e}")))?;
        let body = format!(
            "grant_type={}&assertion={}",
            percent_encode("urn:ietf:params:oauth:grant-type:jwt-bearer"),
            percent_encode(&jwt)
        );
        let resp = self
            .http
            .send(Request {
                method: Method::Post,
                url: &self.settings.token_uri,
                headers: &[(
                    "content-type",
                    "application/x-www-form-urlencoded".to_owned(),
                )],
                body: body.into_bytes(),
                timeout: self.timeout,
            })
            .await
            .map_err(|e| api::http_error(op, &e, false))?;
        tracing::debug!(provider = %self.name, op, status = resp.status, "reply");
        let parsed = serde_json::from_slice::<Value>(&resp.body);
        if resp.status == 200 {
            let v = parsed.map_err(|e| {
                ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("{op}: the reply is not valid json ({e})"),
                )
            })?;
            let token = v
                .get("access_token")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| api::protocol(op, "no access_token"))?;
            let expires_in = v
                .get("expires_in")
                .and_then(Value::as_u64)
                .ok_or_else(|| api::protocol(op, "no expires_in"))?;
            return Ok(Token {
                value: Secret::new(token.to_owned()),
                expires_at: now + expires_in,
            });
        }
        let envelope = parsed.ok().and_then(|v| {
            let error = v.get("error")?.as_str()?.to_owned();
            let description = v
                .get("error_description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            Some((error, description))
        });
        let Some((error, description)) = envelope else {
            return Err(status_error(op, &resp));
        };
        let text = format!("{op} failed: {error}: {description:?}");
        Err(match meaning(resp.status, &error, Some(&description)) {
            Meaning::ClockSkew => ProviderError::new(
                ProviderErrorKind::ClockSkew {
                    offset_secs: resp
                        .date
                        .map(|d| http::clock_offset_secs(d, self.clock.now()))
                        .unwrap_or(0),
                },
                format!("{op}: the token endpoint refused the key's time window ({error}: {description:?})"),
            ),
            Meaning::Auth => {
                ProviderError::new(ProviderErrorKind::Auth, text).with_hint(AUTH_HINT)
            }
            Meaning::RateLimited => ProviderError::new(
                ProviderErrorKind::RateLimited {
                    retry_after: resp.retry_after,
                },
                text,
            ),
            _ => ProviderError::new(ProviderErrorKind::Transient, text),
        })
    }

    /// Calls the API, retrying transient failures and rate limits, and once with a fresh token
    /// when the cached one is refused.
    async fn call(
        &self,
        op: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        let payload = match body {
            Some(b) => serde_json::to_vec(b).map_err(|e| {
                CallError::Provider(ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("{op}: could not encode the request: {e}"),
                ))
            })?,
            None => Vec::new(),
        };
        let once = || {
            api::with_retries(
                &self.backoff,
                &self.name,
                op,
                |e| match e {
                    CallError::Provider(p) => Some(p),
                    _ => None,
                },
                || self.attempt(op, method, path, query, &payload),
            )
        };
        match once().await {
            Err(CallError::Unauthorized(_)) => {
                tracing::debug!(provider = %self.name, op, "the access token was refused; fetching a new one");
                *self.token.lock().await = None;
                once().await
            }
            other => other,
        }
    }

    async fn attempt(
        &self,
        op: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        payload: &[u8],
    ) -> Result<Value, CallError> {
        let token = self.access_token().await.map_err(CallError::Token)?;
        let mut target = format!("{}{path}", self.settings.endpoint.trim_end_matches('/'));
        if !query.is_empty() {
            target.push('?');
            target.push_str(
                &query
                    .iter()
                    .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
                    .collect::<Vec<_>>()
                    .join("&"),
            );
        }
        let mut headers = vec![("authorization", format!("Bearer {}", token.expose()))];
        if !payload.is_empty() {
            headers.push(("content-type", "application/json".to_owned()));
        }
        let write = !matches!(method, Method::Get);
        let resp = self
            .http
            .send(Request {
                method,
                url: &target,
                headers: &headers,
                body: payload.to_vec(),
                timeout: self.timeout,
            })
            .await
            .map_err(|e| CallError::Provider(api::http_error(op, &e, write)))?;
        tracing::debug!(provider = %self.name, op, status = resp.status, "reply");
        if resp.status == 200 {
            return serde_json::from_slice(&resp.body).map_err(|e| {
                CallError::Provider(ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("{op}: the reply is not valid json ({e})"),
                ))
            });
        }
        let envelope = serde_json::from_slice::<Value>(&resp.body).ok().and_then(|v| {
            let e = v.get("error")?;
            let message = e.get("message")?.as_str()?.to_owned();
            let reason = e
                .get("errors")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(|x| x.get("reason"))
                .and_then(Value::as_str)
                .or_else(|| e.get("status").and_then(Value::as_str))
                .unwrap_or("")
                .to_owned();
            Some((reason, message))
        });
        let Some((reason, message)) = envelope else {
            return Err(CallError::Provider(status_error(op, &resp)));
        };
        tracing::debug!(provider = %self.name, op, reason, status = resp.status, "api error");
        let text = format!("{op} failed: {} {reason}: {message:?}", resp.status);
        Err(match meaning(resp.status, &reason, None) {
            Meaning::Auth => CallError::Unauthorized(
                ProviderError::new(ProviderErrorKind::Auth, text).with_hint(AUTH_HINT),
            ),
            Meaning::Forbidden => CallError::Provider(
                ProviderError::new(ProviderErrorKind::Forbidden, text).with_hint(FORBIDDEN_HINT),
            ),
            Meaning::RateLimited => CallError::Provider(ProviderError::new(
                ProviderErrorKind::RateLimited {
                    retry_after: resp.retry_after,
                },
                text,
            )),
            Meaning::ZoneNotFound => CallError::Provider(
                ProviderError::new(ProviderErrorKind::ZoneNotFound, text).with_hint(format!(
                    "check project and managed_zone: the zone must be a managed zone of project {}",
                    self.settings.project
                )),
            ),
            Meaning::Conflict => CallError::Conflict(text),
            Meaning::Rejected => {
                CallError::Provider(ProviderError::new(ProviderErrorKind::Rejected, text))
            }
            Meaning::ClockSkew | Meaning::Transient => {
                CallError::Provider(ProviderError::new(ProviderErrorKind::Transient, text))
            }
        })
    }

    fn project_path(&self) -> String {
        format!("/dns/v1/projects/{}", percent_encode(&self.settings.project))
    }

    /// Every item of `field` over all pages of `path` (`pageToken` = the previous
    /// `nextPageToken`).
    async fn list_all(
        &self,
        op: &'static str,
        path: &str,
        query: &[(&str, String)],
        field: &str,
    ) -> Result<Vec<Value>, CallError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut q = query.to_vec();
            q.push(("maxResults", PAGE.to_string()));
            if let Some(t) = &token {
                q.push(("pageToken", t.clone()));
            }
            let resp = self.call(op, Method::Get, path, &q, None).await?;
            // An empty list may leave the field out.
            match resp.get(field) {
                Some(Value::Array(items)) => out.extend(items.iter().cloned()),
                None if resp.get("kind").is_some() => {}
                _ => return Err(api::protocol(op, &format!("no {field:?} array")).into()),
            }
            match resp.get("nextPageToken").and_then(Value::as_str) {
                Some(t) if !t.is_empty() && token.as_deref() != Some(t) => {
                    token = Some(t.to_owned())
                }
                _ => break,
            }
        }
        Ok(out)
    }

    /// The public managed zones of the project: (DNS name, zone name).
    async fn managed_zones(&self) -> Result<Vec<(Fqdn, String)>, ProviderError> {
        let op = "managedZones.list";
        let path = format!("{}/managedZones", self.project_path());
        let items = self.list_all(op, &path, &[], "managedZones").await?;
        let mut out = Vec::new();
        for z in &items {
            let (Some(dns), Some(name)) = (
                z.get("dnsName").and_then(Value::as_str),
                z.get("name").and_then(Value::as_str),
            ) else {
                return Err(api::protocol(op, "a zone without dnsName or name"));
            };
            // A private zone of the same name answers only inside its networks.
            if z.get("visibility").and_then(Value::as_str) == Some("private") {
                continue;
            }
            if let Ok(f) = Fqdn::parse_relaxed(dns) {
                out.push((f, name.to_owned()));
            }
        }
        Ok(out)
    }

    /// The managed zone of `name`: configured, hinted, or the longest public zone holding it.
    async fn locate(&self, name: &Fqdn, hints: &ProviderHints) -> Result<String, ProviderError> {
        if let Some(z) = &self.settings.managed_zone {
            return Ok(z.clone());
        }
        if let (Some(zone), Some(mz)) = (hints.0.get(HINT_ZONE), hints.0.get(HINT_MANAGED_ZONE)) {
            if Fqdn::parse_relaxed(zone).is_ok_and(|z| name.is_within(&z)) {
                return Ok(mz.clone());
            }
        }
        let best = |zones: &[(Fqdn, String)]| {
            zones
                .iter()
                .filter(|(d, _)| name.is_within(d))
                .max_by_key(|(d, _)| d.as_str().len())
                .map(|(_, n)| n.clone())
        };
        let cached = self.zones.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(z) = cached.as_deref().and_then(best) {
            return Ok(z);
        }
        let fresh = self.managed_zones().await?;
        let found = best(&fresh);
        *self.zones.lock().unwrap_or_else(|p| p.into_inner()) = Some(fresh);
        found.ok_or_else(|| {
            ProviderError::new(
                ProviderErrorKind::ZoneNotFound,
                format!(
                    "no public managed zone of project {} contains {name}",
                    self.settings.project
                ),
            )
            .with_hint("create the zone in Cloud DNS, or set managed_zone (and project) in the provider's settings")
        })
    }

    fn zone_dns_name(&self, managed_zone: &str) -> Option<Fqdn> {
        let zones = self.zones.lock().unwrap_or_else(|p| p.into_inner());
        zones
            .as_ref()?
            .iter()
            .find(|(_, n)| n == managed_zone)
            .map(|(d, _)| d.clone())
    }

    /// The live RRset of (name, type) in `managed_zone`, if any.
    async fn read_set(
        &self,
        managed_zone: &str,
        name: &Fqdn,
        rtype: RecordType,
    ) -> Result<Option<LiveSet>, ProviderError> {
        let op = "rrsets.list";
        let path = format!(
            "{}/managedZones/{}/rrsets",
            self.project_path(),
            percent_encode(managed_zone)
        );
        let query = [
            ("name", name.dotted()),
            ("type", rtype.as_str().to_owned()),
        ];
        let items = self.list_all(op, &path, &query, "rrsets").await?;
        for item in &items {
            let name_ok = item
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.trim_end_matches('.').eq_ignore_ascii_case(name.as_str()));
            let type_ok = item
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case(rtype.as_str()));
            if !(name_ok && type_ok) {
                continue;
            }
            let ttl = item
                .get("ttl")
                .and_then(Value::as_u64)
                .and_then(|t| u32::try_from(t).ok())
                .ok_or_else(|| api::protocol(op, "an rrset without ttl"))?;
            let rrdatas: Vec<String> = item
                .get("rrdatas")
                .and_then(Value::as_array)
                .ok_or_else(|| api::protocol(op, "an rrset without rrdatas"))?
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect();
            for v in &rrdatas {
                if v.parse::<IpAddr>().is_err() {
                    return Err(api::protocol(
                        op,
                        &format!("{name} {rtype} has a non-address value {v:?}"),
                    ));
                }
            }
            return Ok(Some(LiveSet { ttl, rrdatas }));
        }
        Ok(None)
    }

    async fn read(&self, key: &RecordKey, hints: &ProviderHints) -> Result<LiveRrSet, ProviderError> {
        let mz = self.locate(&key.name, hints).await?;
        let set = self.read_set(&mz, &key.name, key.rtype).await?;
        Ok(LiveRrSet {
            addrs: set.as_ref().map(LiveSet::addrs).unwrap_or_default(),
            ttl: set.as_ref().map(|s| Ttl(s.ttl)),
            hints: self.hints_of(&mz, &key.name, set.as_ref()),
        })
    }

    async fn apply(&self, desired: &RrSet, hints: &ProviderHints) -> Result<ProviderHints, ProviderError> {
        let mz = self.locate(&desired.name, hints).await?;
        let wanted: Option<LiveSet> = (!desired.addrs.is_empty()).then(|| LiveSet {
            ttl: desired.ttl.0,
            rrdatas: desired.addrs.iter().map(IpAddr::to_string).collect(),
        });
        let (mut live, mut read) = match hinted_set(hints, &mz) {
            Some(s) => (s, false),
            None => (self.read_set(&mz, &desired.name, desired.rtype).await?, true),
        };
        loop {
            let same = match (&live, &wanted) {
                (None, None) => true,
                (Some(l), Some(w)) => l.ttl == w.ttl && l.addrs() == desired.addrs,
                _ => false,
            };
            if same {
                return Ok(self.hints_of(&mz, &desired.name, live.as_ref()));
            }
            let entry = |s: &LiveSet| {
                json!({"kind": "dns#resourceRecordSet", "name": desired.name.dotted(),
                    "type": desired.rtype.as_str(), "ttl": s.ttl, "rrdatas": s.rrdatas})
            };
            let mut change = json!({"kind": "dns#change"});
            if let Some(w) = &wanted {
                change["additions"] = json!([entry(w)]);
            }
            if let Some(l) = &live {
                change["deletions"] = json!([entry(l)]);
            }
            let path = format!(
                "{}/managedZones/{}/changes",
                self.project_path(),
                percent_encode(&mz)
            );
            match self
                .call("changes.create", Method::Post, &path, &[], Some(&change))
                .await
            {
                Ok(_) => return Ok(self.hints_of(&mz, &desired.name, wanted.as_ref())),
                Err(CallError::Conflict(text)) if !read => {
                    tracing::info!(provider = %self.name, record = %desired.key(), reason = %text,
                        "the live record set differs from the remembered one; reading it again");
                    live = self.read_set(&mz, &desired.name, desired.rtype).await?;
                    read = true;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Hints: the managed zone (and its DNS name when known), and the RRset as it now is
    /// (`rrdatas` empty: there is none), so a later change needs no read.
    fn hints_of(&self, mz: &str, name: &Fqdn, set: Option<&LiveSet>) -> ProviderHints {
        let mut h = ProviderHints::default();
        h.0.insert(HINT_MANAGED_ZONE.into(), mz.to_owned());
        let zone = self
            .zone_dns_name(mz)
            .filter(|z| name.is_within(z))
            .unwrap_or_else(|| name.clone());
        h.0.insert(HINT_ZONE.into(), zone.to_string());
        match set {
            Some(s) => {
                h.0.insert(HINT_RRDATAS.into(), s.rrdatas.join(","));
                h.0.insert(HINT_TTL.into(), s.ttl.to_string());
            }
            None => {
                h.0.insert(HINT_RRDATAS.into(), String::new());
            }
        }
        h
    }
}

/// The RRset remembered in `hints` for `managed_zone`: `Some(None)` = remembered as absent,
/// `None` = not remembered.
fn hinted_set(hints: &ProviderHints, managed_zone: &str) -> Option<Option<LiveSet>> {
    if hints.0.get(HINT_MANAGED_ZONE).map(String::as_str) != Some(managed_zone) {
        return None;
    }
    let list = hints.0.get(HINT_RRDATAS)?;
    if list.is_empty() {
        return Some(None);
    }
    let ttl = hints.0.get(HINT_TTL)?.parse().ok()?;
    Some(Some(LiveSet {
        ttl,
        rrdatas: list.split(',').map(str::to_owned).collect(),
    }))
}

/// An error reply without Google's envelope: 429 throttled, 5xx transient, anything else a
/// protocol error.
fn status_error(op: &str, resp: &http::HttpResponse) -> ProviderError {
    match resp.status {
        429 => ProviderError::new(
            ProviderErrorKind::RateLimited {
                retry_after: resp.retry_after,
            },
            format!("{op}: rate limited (http 429)"),
        ),
        s if s >= 500 => ProviderError::new(
            ProviderErrorKind::Transient,
            format!("{op}: server error (http {s})"),
        ),
        s => ProviderError::new(
            ProviderErrorKind::Protocol,
            format!("{op}: unexpected http status {s}"),
        ),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The code table: permanent errors stop, the rest is retried.
    #[test]
    fn code_table() {
        use Meaning as M;
        let token = Some("");
        let api = None;
        for (status, reason, endpoint, want) in [
            (401, "authError", api, M::Auth),
            (403, "forbidden", api, M::Forbidden),
            (403, "insufficientPermissions", api, M::Forbidden),
            (403, "accessNotConfigured", api, M::Forbidden),
            (403, "rateLimitExceeded", api, M::RateLimited),
            (429, "rateLimitExceeded", api, M::RateLimited),
            (429, "", api, M::RateLimited),
            (403, "quotaExceeded", api, M::Rejected),
            (404, "notFound", api, M::ZoneNotFound),
            (409, "alreadyExists", api, M::Conflict),
            (412, "conditionNotMet", api, M::Conflict),
            (400, "invalid", api, M::Rejected),
            (500, "backendError", api, M::Transient),
            (503, "", api, M::Transient),
            (418, "new", api, M::Transient),
            (400, "invalid_grant", token, M::Auth),
            (
                400,
                "invalid_grant",
                Some("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."),
                M::ClockSkew,
            ),
            (401, "invalid_client", token, M::Auth),
            (400, "invalid_scope", token, M::Auth),
            (500, "internal_failure", token, M::Transient),
            (503, "temporarily_unavailable", token, M::Transient),
            (429, "rate_limit", token, M::RateLimited),
        ] {
            assert_eq!(meaning(status, reason, endpoint), want, "{status} {reason}");
        }
    }

    const PEM: &str = include_str!("../../tests/fixtures/gcloud/test-key.pem");

    #[test]
    fn key_files() {
        let good = json!({"type": "service_account", "project_id": "p1", "private_key_id": "k1",
            "private_key": PEM, "client_email": "a@p1.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token"})
        .to_string();
        let a = ServiceAccount::from_json(&good).unwrap();
        assert_eq!(a.client_email, "a@p1.iam.gserviceaccount.com");
        assert_eq!(a.project_id.as_deref(), Some("p1"));
        assert!(!format!("{a:?}").contains("PRIVATE"));
        for (text, why) in [
            ("{", "is not JSON (line 1, column 1)"),
            ("{}", "has no \"type\": it is not a service account's JSON key"),
            (
                r#"{"type":"authorized_user"}"#,
                "is a \"authorized_user\" credential, not a service account's key (type \"service_account\")",
            ),
            (r#"{"type":"service_account"}"#, "has no \"client_email\""),
            (
                r#"{"type":"service_account","client_email":"x","private_key":"x"}"#,
                "private_key is not a PEM \"PRIVATE KEY\" block",
            ),
        ] {
            assert_eq!(ServiceAccount::from_json(text).unwrap_err(), why, "{text}");
        }
    }

    #[test]
    fn hinted_sets() {
        let mut h = ProviderHints::default();
        assert_eq!(hinted_set(&h, "z"), None);
        h.0.insert(HINT_MANAGED_ZONE.into(), "z".into());
        h.0.insert(HINT_RRDATAS.into(), String::new());
        assert_eq!(hinted_set(&h, "z"), Some(None));
        assert_eq!(hinted_set(&h, "other"), None);
        h.0.insert(HINT_RRDATAS.into(), "2001:db8::1,2001:db8::2".into());
        h.0.insert(HINT_TTL.into(), "300".into());
        assert_eq!(
            hinted_set(&h, "z"),
            Some(Some(LiveSet {
                ttl: 300,
                rrdatas: vec!["2001:db8::1".into(), "2001:db8::2".into()]
            }))
        );
    }
}
