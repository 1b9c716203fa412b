//! `kind = "azure"`: Azure DNS (Azure Resource Manager, `Microsoft.Network/dnsZones`,
//! api-version 2018-05-01) with an app registration's client credentials.
//!
//! Owns the client-credentials token exchange with Microsoft Entra ID (the identity
//! platform's v2.0 token endpoint; the token is cached until shortly before it expires), the
//! wire format of the zone list and the record-set GET / PUT / DELETE, and the mapping of
//! ARM's `CloudError` codes to [`ProviderError`]s (`meaning`, the one code table). A record
//! set holds every value of one (name, type): an update is one PUT of the set as read, with
//! only its `TTL` and `AAAARecords` / `ARecords` replaced — its metadata and every other
//! property are sent back unchanged — guarded by `If-Match: <etag>` (a create by
//! `If-None-Match: *`), so a concurrent change is read again instead of overwritten.
//! Reference: `shared/providers/hyperscalers.md` §2.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::kit::api;
use super::sign::acs3::percent_encode;
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
    name: "azure",
    about: "Azure DNS (app registration client credentials, ARM api-version 2018-05-01)",
    example: r#"[providers.azure]
kind = "azure"
tenant_id = "00000000-0000-0000-0000-000000000000"       # Microsoft Entra tenant (directory) ID
client_id = "11111111-1111-1111-1111-111111111111"       # the app registration's application (client) ID
client_secret_env = "AZURE_CLIENT_SECRET"                # or client_secret / client_secret_file
subscription_id = "22222222-2222-2222-2222-222222222222"
resource_group = "dns"                                   # the app needs "DNS Zone Contributor" on it
# zone = "example.com"                  # omit to find it among the resource group's DNS zones
# endpoint = "https://management.azure.com"
# authority = "https://login.microsoftonline.com"
"#,
    configure,
};

/// The pinned ARM api-version of `Microsoft.Network/dnsZones`.
pub const API_VERSION: &str = "2018-05-01";
/// The default management endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://management.azure.com";
/// The default identity authority.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// A token is renewed this long before it expires.
const TOKEN_MARGIN_SECS: u64 = 60;
const HINT_ZONE: &str = "zone";
const AUTH_HINT: &str = "check tenant_id, client_id and client_secret (an expired client secret must be renewed); the app needs the DNS Zone Contributor role on the resource group";
const FORBIDDEN_HINT: &str = "give the app registration the DNS Zone Contributor role on the zone or its resource group (Access control (IAM) → Add role assignment)";

/// Settings of an Azure DNS provider.
#[derive(Clone, Debug)]
pub struct AzureSettings {
    /// The directory (tenant) ID.
    pub tenant_id: String,
    /// The app registration's application (client) ID.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: Secret<String>,
    /// The subscription holding the resource group.
    pub subscription_id: String,
    /// The resource group holding the DNS zones.
    pub resource_group: String,
    /// The zone; `None` = found among the resource group's zones.
    pub zone: Option<Fqdn>,
    /// Management endpoint, default `https://management.azure.com` (also the token's
    /// resource: the scope asked for is `ENDPOINT/.default`).
    pub endpoint: String,
    /// Identity authority, default `https://login.microsoftonline.com`.
    pub authority: String,
}

/// `[providers.NAME]` with `kind = "azure"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    tenant_id: Text,
    client_id: Text,
    client_secret: Option<Text>,
    client_secret_file: Option<Text>,
    client_secret_env: Option<Text>,
    subscription_id: Text,
    resource_group: Text,
    zone: Option<Text>,
    endpoint: Option<Text>,
    authority: Option<Text>,
}

/// A GUID (`8-4-4-4-12` hex digits), as tenants, apps and subscriptions are named.
fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let client_secret = f.secret(SecretFields {
        name: "client_secret",
        inline: &r.client_secret,
        file: &r.client_secret_file,
        env: &r.client_secret_env,
    });
    let mut ok = true;
    for (field, value, what) in [
        ("tenant_id", &r.tenant_id, "the directory (tenant) ID"),
        ("client_id", &r.client_id, "the app registration's application (client) ID"),
        ("subscription_id", &r.subscription_id, "the subscription ID"),
    ] {
        let v = value.get_ref().trim();
        // A tenant may also be named by one of its domains (contoso.onmicrosoft.com).
        let domain_tenant = field == "tenant_id" && Fqdn::parse_relaxed(v).is_ok() && v.contains('.');
        if !is_guid(v) && !domain_tenant {
            f.problem(
                value.span(),
                format!("{field} {:?} is not a GUID", value.get_ref()),
                Some(format!(
                    "write {what} as shown in the Azure portal, e.g. \"00000000-0000-0000-0000-000000000000\""
                )),
            );
            ok = false;
        }
    }
    let rg = r.resource_group.get_ref().trim();
    let rg_ok = !rg.is_empty()
        && rg.len() <= 90
        && !rg.ends_with('.')
        && rg
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'));
    if !rg_ok {
        f.problem(
            r.resource_group.span(),
            format!("resource_group {:?} is not a resource group name", r.resource_group.get_ref()),
            Some("write the name of the resource group that holds the DNS zone (letters, digits, '-', '_', '.', '(' and ')')".to_owned()),
        );
        ok = false;
    }
    let zone = fields::zone(f, &r.zone);
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    let authority = fields::endpoint(f, &r.authority, DEFAULT_AUTHORITY);
    if !ok {
        return None;
    }
    Some(Arc::new(AzureSettings {
        tenant_id: r.tenant_id.get_ref().trim().to_owned(),
        client_id: r.client_id.get_ref().trim().to_owned(),
        client_secret: client_secret?,
        subscription_id: r.subscription_id.get_ref().trim().to_owned(),
        resource_group: rg.to_owned(),
        zone: zone?,
        endpoint: endpoint?,
        authority: authority?,
    }))
}

impl Configured for AzureSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Azure::new(name.to_owned(), self.clone(), deps))
    }
}

/// A cached access token.
struct Token {
    value: Secret<String>,
    expires_at: u64,
}

/// An Azure DNS provider.
pub struct Azure {
    name: String,
    settings: AzureSettings,
    clock: Arc<dyn Clock>,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    token: tokio::sync::Mutex<Option<Token>>,
    /// The resource group's zones, listed at most once unless a name misses.
    zones: Mutex<Option<Vec<Fqdn>>>,
}

/// What an ARM or Entra ID error means to ddnsd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Meaning {
    /// The token is refused, or the client credentials are.
    Auth,
    /// The app may not do this.
    Forbidden,
    /// Throttled.
    RateLimited,
    /// The zone, resource group or subscription does not exist.
    ZoneNotFound,
    /// The record set does not exist.
    Gone,
    /// The etag no longer matches (someone changed the set), or it exists already.
    Conflict,
    /// The request itself is wrong and will stay wrong.
    Rejected,
    /// Anything else, the server's own failures included: may pass.
    Transient,
}

/// The code table. ARM `CloudError` codes (ARM's "common error codes" and the DNS spec's
/// examples): `InvalidAuthenticationToken*`, `ExpiredAuthenticationToken`,
/// `AuthenticationFailed` → Auth (after one fresh token); `AuthorizationFailed`,
/// `LinkedAuthorizationFailed`, `ReadOnlyDisabledSubscription` → Forbidden;
/// `SubscriptionRequestsThrottled`, `TooManyRequests` (429) → RateLimited;
/// `ParentResourceNotFound`, `ResourceGroupNotFound`, `SubscriptionNotFound` → ZoneNotFound;
/// `NotFound` / `ResourceNotFound` on a record set → Gone; `PreconditionFailed` (412) →
/// Conflict; `BadRequest`, `InvalidRequestContent`, `InvalidRequestFormat`,
/// `InvalidResourceName`, `Conflict` (a CNAME at the name), `MissingApiVersionParameter`,
/// `InvalidApiVersionParameter`, `NoRegisteredProviderFound` → Rejected. Entra ID token
/// errors: `invalid_client`, `unauthorized_client`, `invalid_request` (an unknown tenant),
/// `invalid_scope`, `access_denied` → Auth; `temporarily_unavailable` and the rest →
/// Transient. Everything else is transient (see docs/design/providers.md).
fn meaning(status: u16, code: &str, token_endpoint: bool) -> Meaning {
    if token_endpoint {
        return match code {
            "invalid_client" | "unauthorized_client" | "invalid_request" | "invalid_scope"
            | "access_denied" | "invalid_grant" => Meaning::Auth,
            _ if status == 429 => Meaning::RateLimited,
            _ => Meaning::Transient,
        };
    }
    match code {
        c if c.starts_with("InvalidAuthenticationToken") => Meaning::Auth,
        "ExpiredAuthenticationToken" | "AuthenticationFailed" => Meaning::Auth,
        "AuthorizationFailed" | "LinkedAuthorizationFailed" | "ReadOnlyDisabledSubscription" => {
            Meaning::Forbidden
        }
        "SubscriptionRequestsThrottled" | "TooManyRequests" => Meaning::RateLimited,
        "ParentResourceNotFound" | "ResourceGroupNotFound" | "SubscriptionNotFound" => {
            Meaning::ZoneNotFound
        }
        "NotFound" | "ResourceNotFound" => Meaning::Gone,
        "PreconditionFailed" => Meaning::Conflict,
        "BadRequest"
        | "InvalidRequestContent"
        | "InvalidRequestFormat"
        | "InvalidResourceName"
        | "Conflict"
        | "MissingApiVersionParameter"
        | "InvalidApiVersionParameter"
        | "NoRegisteredProviderFound" => Meaning::Rejected,
        _ => match status {
            401 => Meaning::Auth,
            429 => Meaning::RateLimited,
            412 => Meaning::Conflict,
            _ => Meaning::Transient,
        },
    }
}

/// A call's failure: an API error the caller may expect, or a final provider error.
#[derive(Debug)]
enum CallError {
    /// The token was refused (401): fetch a new one once.
    Unauthorized(ProviderError),
    /// No token could be had (already retried inside the token exchange: not again).
    Token(ProviderError),
    /// The record set does not exist.
    Gone,
    /// The etag does not match any more.
    Conflict(String),
    Provider(ProviderError),
}

impl From<CallError> for ProviderError {
    fn from(e: CallError) -> ProviderError {
        match e {
            CallError::Unauthorized(e) | CallError::Token(e) | CallError::Provider(e) => e,
            CallError::Gone => ProviderError::new(
                ProviderErrorKind::Transient,
                "the record set disappeared while being read",
            ),
            CallError::Conflict(text) => ProviderError::new(ProviderErrorKind::Transient, text),
        }
    }
}

impl From<ProviderError> for CallError {
    fn from(e: ProviderError) -> CallError {
        CallError::Provider(e)
    }
}

/// A record set as read: its etag, its whole `properties` object (sent back on update) and
/// the values ddnsd manages.
#[derive(Clone, Debug)]
struct RecordSet {
    etag: Option<String>,
    properties: Map<String, Value>,
    ttl: u32,
    addrs: AddrSet,
}

/// `AAAARecords` / `ARecords` and the address field inside them.
fn fields_of(rtype: RecordType) -> (&'static str, &'static str) {
    match rtype {
        RecordType::Aaaa => ("AAAARecords", "ipv6Address"),
        RecordType::A => ("ARecords", "ipv4Address"),
    }
}

impl Azure {
    /// A provider named `name`.
    pub fn new(name: String, settings: AzureSettings, deps: &ProviderDeps) -> Azure {
        Azure {
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

    /// A valid access token: the cached one, else a fresh one.
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
        let s = &self.settings;
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            s.authority.trim_end_matches('/'),
            percent_encode(&s.tenant_id)
        );
        let scope = format!("{}/.default", s.endpoint.trim_end_matches('/'));
        let body = format!(
            "client_id={}&client_secret={}&grant_type=client_credentials&scope={}",
            percent_encode(&s.client_id),
            percent_encode(s.client_secret.expose()),
            percent_encode(&scope)
        );
        let now = self.clock.unix_secs();
        let resp = self
            .http
            .send(Request {
                method: Method::Post,
                url: &url,
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
            // `expires_in` is a number (v2.0) or a string (v1.0).
            let expires_in = match v.get("expires_in") {
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(s)) => s.parse().ok(),
                _ => None,
            }
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
        // The description's first line holds the AADSTS code and what it means; the rest is
        // trace and correlation ids.
        let first = description.lines().next().unwrap_or("").trim();
        let text = format!("{op} failed: {error}: {first:?}");
        Err(match meaning(resp.status, &error, true) {
            Meaning::Auth => ProviderError::new(ProviderErrorKind::Auth, text).with_hint(AUTH_HINT),
            Meaning::RateLimited => ProviderError::new(
                ProviderErrorKind::RateLimited {
                    retry_after: resp.retry_after,
                },
                text,
            ),
            _ => ProviderError::new(ProviderErrorKind::Transient, text),
        })
    }

    /// Calls ARM at `url` (absolute), retrying transient failures and rate limits, and once
    /// with a fresh token when the cached one is refused. Returns (status, etag, JSON body).
    async fn call(
        &self,
        op: &'static str,
        method: Method,
        url: &str,
        extra: &[(&'static str, String)],
        body: Option<&Value>,
    ) -> Result<(u16, Option<String>, Value), CallError> {
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
                || self.attempt(op, method, url, extra, &payload),
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
        url: &str,
        extra: &[(&'static str, String)],
        payload: &[u8],
    ) -> Result<(u16, Option<String>, Value), CallError> {
        let token = self.access_token().await.map_err(CallError::Token)?;
        let mut headers: Vec<(&str, String)> =
            vec![("authorization", format!("Bearer {}", token.expose()))];
        if !payload.is_empty() {
            headers.push(("content-type", "application/json".to_owned()));
        }
        headers.extend(extra.iter().map(|(n, v)| (*n, v.clone())));
        let write = !matches!(method, Method::Get);
        let resp = self
            .http
            .send(Request {
                method,
                url,
                headers: &headers,
                body: payload.to_vec(),
                timeout: self.timeout,
            })
            .await
            .map_err(|e| CallError::Provider(api::http_error(op, &e, write)))?;
        tracing::debug!(provider = %self.name, op, status = resp.status, "reply");
        if (200..300).contains(&resp.status) {
            let etag = resp.header("etag").map(str::to_owned);
            if resp.body.is_empty() {
                return Ok((resp.status, etag, Value::Null));
            }
            let v = serde_json::from_slice(&resp.body).map_err(|e| {
                CallError::Provider(ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("{op}: the reply is not valid json ({e})"),
                ))
            })?;
            return Ok((resp.status, etag, v));
        }
        let envelope = serde_json::from_slice::<Value>(&resp.body).ok().and_then(|v| {
            // ARM wraps it in "error"; a few services answer the bare object.
            let e = v.get("error").unwrap_or(&v);
            let code = e.get("code")?.as_str()?.to_owned();
            let message = e.get("message").and_then(Value::as_str).unwrap_or("").to_owned();
            Some((code, message))
        });
        let Some((code, message)) = envelope else {
            return Err(CallError::Provider(status_error(op, &resp)));
        };
        tracing::debug!(provider = %self.name, op, code, status = resp.status, "api error");
        let text = format!("{op} failed: {code}: {message:?}");
        Err(match meaning(resp.status, &code, false) {
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
                ProviderError::new(ProviderErrorKind::ZoneNotFound, text).with_hint(
                    "check subscription_id, resource_group and zone: the zone must be an Azure DNS zone in that resource group",
                ),
            ),
            Meaning::Gone => CallError::Gone,
            Meaning::Conflict => CallError::Conflict(text),
            Meaning::Rejected => {
                CallError::Provider(ProviderError::new(ProviderErrorKind::Rejected, text))
            }
            Meaning::Transient => {
                CallError::Provider(ProviderError::new(ProviderErrorKind::Transient, text))
            }
        })
    }

    fn group_url(&self) -> String {
        let s = &self.settings;
        format!(
            "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/dnsZones",
            s.endpoint.trim_end_matches('/'),
            percent_encode(&s.subscription_id),
            percent_encode(&s.resource_group)
        )
    }

    fn set_url(&self, zone: &Fqdn, name: &Fqdn, rtype: RecordType) -> String {
        let relative = name.relative_to(zone).unwrap_or_else(|| "@".to_owned());
        format!(
            "{}/{}/{}/{}?api-version={API_VERSION}",
            self.group_url(),
            zone,
            rtype.as_str(),
            percent_encode(&relative)
        )
    }

    /// Every zone of the resource group (following `nextLink`, which must stay on the
    /// endpoint: the bearer token goes with it).
    async fn list_zones(&self) -> Result<Vec<Fqdn>, ProviderError> {
        let op = "DnsZones_ListByResourceGroup";
        let base = self.settings.endpoint.trim_end_matches('/').to_owned();
        let mut url = format!("{}?api-version={API_VERSION}&$top=100", self.group_url());
        let mut out = Vec::new();
        for _ in 0..1000 {
            let (_, _, v) = self.call(op, Method::Get, &url, &[], None).await.map_err(
                |e| match e {
                    CallError::Gone => ProviderError::new(
                        ProviderErrorKind::ZoneNotFound,
                        format!("{op} failed: the resource group does not exist"),
                    ),
                    e => e.into(),
                },
            )?;
            let items = v
                .get("value")
                .and_then(Value::as_array)
                .ok_or_else(|| api::protocol(op, "no \"value\" array"))?;
            for z in items {
                let name = z
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| api::protocol(op, "a zone without a name"))?;
                let private = z
                    .get("properties")
                    .and_then(|p| p.get("zoneType"))
                    .and_then(Value::as_str)
                    == Some("Private");
                if !private {
                    if let Ok(f) = Fqdn::parse_relaxed(name) {
                        out.push(f);
                    }
                }
            }
            match v.get("nextLink").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => {
                    if !next.starts_with(&format!("{base}/")) {
                        return Err(api::protocol(
                            op,
                            "a nextLink outside the management endpoint",
                        ));
                    }
                    url = next.to_owned();
                }
                _ => return Ok(out),
            }
        }
        Err(api::protocol(op, "more than 1000 pages of zones"))
    }

    /// The zone of `name`: configured, hinted, or the longest zone of the resource group.
    async fn locate(&self, name: &Fqdn, hints: &ProviderHints) -> Result<Fqdn, ProviderError> {
        if let Some(z) = &self.settings.zone {
            return Ok(z.clone());
        }
        if let Some(z) = hints
            .0
            .get(HINT_ZONE)
            .and_then(|z| Fqdn::parse_relaxed(z).ok())
            .filter(|z| name.is_within(z))
        {
            return Ok(z);
        }
        let best = |zones: &[Fqdn]| super::kit::zones::longest_match(zones, name);
        let cached = self.zones.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(z) = cached.as_deref().and_then(best) {
            return Ok(z);
        }
        let fresh = self.list_zones().await?;
        let found = best(&fresh);
        *self.zones.lock().unwrap_or_else(|p| p.into_inner()) = Some(fresh);
        found.ok_or_else(|| {
            ProviderError::new(
                ProviderErrorKind::ZoneNotFound,
                format!(
                    "no DNS zone of resource group {} contains {name}",
                    self.settings.resource_group
                ),
            )
            .with_hint("create the zone in that resource group, or set zone (and resource_group) in the provider's settings")
        })
    }

    /// The record set of (name, type), if any.
    async fn get_set(
        &self,
        zone: &Fqdn,
        name: &Fqdn,
        rtype: RecordType,
    ) -> Result<Option<RecordSet>, ProviderError> {
        let op = "RecordSets_Get";
        match self
            .call(op, Method::Get, &self.set_url(zone, name, rtype), &[], None)
            .await
        {
            Ok((_, etag, v)) => set_of(&v, etag, rtype, op).map(Some),
            Err(CallError::Gone) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn read(&self, key: &RecordKey, hints: &ProviderHints) -> Result<LiveRrSet, ProviderError> {
        let zone = self.locate(&key.name, hints).await?;
        let set = self.get_set(&zone, &key.name, key.rtype).await?;
        Ok(LiveRrSet {
            addrs: set.as_ref().map(|s| s.addrs.clone()).unwrap_or_default(),
            ttl: set.as_ref().map(|s| Ttl(s.ttl)),
            hints: hints_of(&zone),
        })
    }

    async fn apply(&self, desired: &RrSet, hints: &ProviderHints) -> Result<ProviderHints, ProviderError> {
        let zone = self.locate(&desired.name, hints).await?;
        let url = self.set_url(&zone, &desired.name, desired.rtype);
        let (list_field, addr_field) = fields_of(desired.rtype);
        let mut read_again = false;
        loop {
            let live = self.get_set(&zone, &desired.name, desired.rtype).await?;
            let outcome = match &live {
                Some(s) if s.ttl == desired.ttl.0 && s.addrs == desired.addrs => {
                    return Ok(hints_of(&zone))
                }
                None if desired.addrs.is_empty() => return Ok(hints_of(&zone)),
                Some(s) if desired.addrs.is_empty() => {
                    let guard: Vec<(&'static str, String)> =
                        s.etag.iter().map(|e| ("if-match", e.clone())).collect();
                    self.call("RecordSets_Delete", Method::Delete, &url, &guard, None)
                        .await
                        .map(|_| ())
                }
                _ => {
                    // Keep every property of the set as read (metadata, targetResource, …);
                    // replace only the TTL and the managed list. Read-only ones are dropped.
                    let mut properties = live
                        .as_ref()
                        .map(|s| s.properties.clone())
                        .unwrap_or_default();
                    for read_only in ["fqdn", "provisioningState"] {
                        properties.remove(read_only);
                    }
                    properties.insert("TTL".into(), json!(desired.ttl.0));
                    let values: Vec<Value> = desired
                        .addrs
                        .iter()
                        .map(|a| json!({ addr_field: a.to_string() }))
                        .collect();
                    properties.insert(list_field.into(), Value::Array(values));
                    let guard = match live.as_ref().and_then(|s| s.etag.clone()) {
                        Some(etag) => vec![("if-match", etag)],
                        None if live.is_none() => vec![("if-none-match", "*".to_owned())],
                        None => Vec::new(),
                    };
                    let body = json!({ "properties": properties });
                    self.call("RecordSets_CreateOrUpdate", Method::Put, &url, &guard, Some(&body))
                        .await
                        .map(|_| ())
                }
            };
            match outcome {
                Ok(()) => return Ok(hints_of(&zone)),
                // Someone changed (or created, or deleted) the set since it was read: read it
                // again once rather than overwrite their change.
                Err(CallError::Conflict(text)) if !read_again => {
                    tracing::info!(provider = %self.name, record = %desired.key(), reason = %text, "the record set changed since it was read; reading it again");
                    read_again = true;
                }
                Err(CallError::Gone) if desired.addrs.is_empty() => return Ok(hints_of(&zone)),
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn hints_of(zone: &Fqdn) -> ProviderHints {
    let mut h = ProviderHints::default();
    h.0.insert(HINT_ZONE.into(), zone.to_string());
    h
}

/// A record set from its JSON.
fn set_of(v: &Value, etag: Option<String>, rtype: RecordType, op: &str) -> Result<RecordSet, ProviderError> {
    let properties = v
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| api::protocol(op, "a record set without properties"))?
        .clone();
    let ttl = properties
        .get("TTL")
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .ok_or_else(|| api::protocol(op, "a record set without TTL"))?;
    let (list_field, addr_field) = fields_of(rtype);
    let mut addrs = AddrSet::new();
    if let Some(list) = properties.get(list_field) {
        let list = list
            .as_array()
            .ok_or_else(|| api::protocol(op, &format!("{list_field} is not an array")))?;
        for item in list {
            let text = item.get(addr_field).and_then(Value::as_str).unwrap_or("");
            let a: IpAddr = text.parse().map_err(|_| {
                api::protocol(op, &format!("{list_field} holds a non-address {text:?}"))
            })?;
            addrs.insert(a);
        }
    }
    Ok(RecordSet {
        etag: etag.or_else(|| v.get("etag").and_then(Value::as_str).map(str::to_owned)),
        properties,
        ttl,
        addrs,
    })
}

/// An error reply without an envelope: 429 throttled, 5xx transient, anything else a
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

impl Provider for Azure {
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
        for (status, code, token, want) in [
            (401, "InvalidAuthenticationToken", false, M::Auth),
            (401, "InvalidAuthenticationTokenTenant", false, M::Auth),
            (401, "ExpiredAuthenticationToken", false, M::Auth),
            (401, "AuthenticationFailed", false, M::Auth),
            (403, "AuthorizationFailed", false, M::Forbidden),
            (429, "SubscriptionRequestsThrottled", false, M::RateLimited),
            (429, "Whatever", false, M::RateLimited),
            (404, "ParentResourceNotFound", false, M::ZoneNotFound),
            (404, "ResourceGroupNotFound", false, M::ZoneNotFound),
            (404, "NotFound", false, M::Gone),
            (412, "PreconditionFailed", false, M::Conflict),
            (400, "BadRequest", false, M::Rejected),
            (409, "Conflict", false, M::Rejected),
            (500, "InternalServerError", false, M::Transient),
            (503, "ServiceUnavailable", false, M::Transient),
            (400, "SomethingNew", false, M::Transient),
            (401, "invalid_client", true, M::Auth),
            (400, "unauthorized_client", true, M::Auth),
            (400, "invalid_request", true, M::Auth),
            (503, "temporarily_unavailable", true, M::Transient),
            (429, "x", true, M::RateLimited),
        ] {
            assert_eq!(meaning(status, code, token), want, "{status} {code}");
        }
    }

    #[test]
    fn guids() {
        assert!(is_guid("00000000-0000-0000-0000-00000000000a"));
        assert!(!is_guid("00000000-0000-0000-0000-00000000000"));
        assert!(!is_guid("my-tenant"));
    }

    #[test]
    fn a_set_keeps_its_other_properties() {
        let v = json!({"etag": "e1", "properties": {"TTL": 300, "metadata": {"owner": "x"},
            "AAAARecords": [{"ipv6Address": "2001:db8::1"}], "fqdn": "home.example.com."}});
        let s = set_of(&v, None, RecordType::Aaaa, "op").unwrap();
        assert_eq!(s.etag.as_deref(), Some("e1"));
        assert_eq!(s.ttl, 300);
        assert_eq!(s.properties["metadata"], json!({"owner": "x"}));
        assert_eq!(s.addrs.len(), 1);
        let a = set_of(&v, Some("e2".into()), RecordType::A, "op").unwrap();
        assert!(a.addrs.is_empty());
        assert_eq!(a.etag.as_deref(), Some("e2"));
    }
}
