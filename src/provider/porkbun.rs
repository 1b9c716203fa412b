//! `kind = "porkbun"`: Porkbun's JSON API v3 (`https://api.porkbun.com/api/json/v3`), every
//! call a POST whose JSON body carries `apikey` and `secretapikey`.
//!
//! Owns the wire format of `dns/retrieveByNameType`, `dns/create`, `dns/edit/{id}`,
//! `dns/delete/{id}` and `dns/retrieve/{id}`, the `{"status": "SUCCESS" | "ERROR", "message"}`
//! envelope, and the meaning of Porkbun's error messages in one table ([`meaning`]).
//! Reference: `shared/providers/registrars.md` §1.
//!
//! The record's domain is found by asking for the name itself, then each parent, until
//! Porkbun stops answering "Invalid domain." (cached for the process, remembered in the
//! hints). Not with `domain/listAll`: a page of it is 1000 domains of ~250 bytes, far above
//! the 64 KiB every reply is capped at.
//!
//! Porkbun keeps one record (with an id) per value, so the RRset is reconciled by `kit::rows`:
//! ids are reused with `edit` (never delete-then-create). An edit sends the record's `prio`
//! and `notes` back as they are (they are the user's, and an edit replaces the record), so
//! ddnsd reads the record in the same write before it edits it. Touches only records of the
//! managed name and type. TTLs below Porkbun's minimum (600 s) are raised to it.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::kit::api;
use super::kit::rows::{self, Row, RowApi, RowError};
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
    name: "porkbun",
    about: "Porkbun (JSON API v3, API key + secret API key; API ACCESS on per domain)",
    example: r#"[providers.porkbun]
kind = "porkbun"
api_key_env = "PORKBUN_API_KEY"                 # or api_key / api_key_file: pk1_…
secret_api_key_env = "PORKBUN_SECRET_API_KEY"   # or secret_api_key / secret_api_key_file: sk1_…
# zone = "example.com"                          # omit to find it among the account's domains
# endpoint = "https://api.porkbun.com/api/json/v3"
"#,
    configure,
};

/// The default API base URL.
pub const DEFAULT_ENDPOINT: &str = "https://api.porkbun.com/api/json/v3";
/// Porkbun's lowest TTL; lower TTLs are raised to it.
pub const MIN_TTL: u32 = 600;

const AUTH_HINT: &str = "check api_key and secret_api_key (porkbun.com/account/api); ddnsd retries after the config is reloaded";

/// Settings of a Porkbun provider.
#[derive(Clone, Debug)]
pub struct PorkbunSettings {
    /// The API key (`pk1_…`).
    pub api_key: Secret<String>,
    /// The secret API key (`sk1_…`).
    pub secret_api_key: Secret<String>,
    /// The domain; `None` = found by asking for the name and its parents.
    pub zone: Option<Fqdn>,
    /// API base URL, default `https://api.porkbun.com/api/json/v3`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "porkbun"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    api_key: Option<Text>,
    api_key_file: Option<Text>,
    api_key_env: Option<Text>,
    secret_api_key: Option<Text>,
    secret_api_key_file: Option<Text>,
    secret_api_key_env: Option<Text>,
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
    let secret_api_key = f.secret(SecretFields {
        name: "secret_api_key",
        inline: &r.secret_api_key,
        file: &r.secret_api_key_file,
        env: &r.secret_api_key_env,
    });
    let zone = fields::zone(f, &r.zone);
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(PorkbunSettings {
        api_key: api_key?,
        secret_api_key: secret_api_key?,
        zone: zone?,
        endpoint: endpoint?,
    }))
}

impl Configured for PorkbunSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Porkbun::new(name.to_owned(), self.clone(), deps))
    }
}

/// A Porkbun provider.
pub struct Porkbun {
    name: String,
    settings: PorkbunSettings,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    /// Domains found in this process.
    zones: Mutex<Vec<Fqdn>>,
    /// The fields of each record ddnsd does not manage (`prio`, `notes`), by id, as last read.
    extras: Mutex<BTreeMap<String, Map<String, Value>>>,
    ttl_warned: AtomicBool,
}

/// What a Porkbun error message means to ddnsd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// The keys are wrong.
    Auth,
    /// API ACCESS is off for the domain.
    NotOptedIn,
    /// The domain is not in the account.
    Domain,
    /// Anything else: may pass (a record id that vanished is found out by reading).
    Transient,
}

/// The ONE table of Porkbun's error messages (`{"status": "ERROR", "message": …}`, usually with
/// HTTP 400; the texts are the ones users and clients quote, `registrars.md` §1). Unknown
/// messages are transient.
pub fn meaning(message: &str) -> Meaning {
    let m = message.to_ascii_lowercase();
    if m.contains("invalid api key") || m.contains("must include api keys") {
        Meaning::Auth
    } else if m.contains("not opted in to api access") {
        Meaning::NotOptedIn
    } else if m.starts_with("invalid domain") {
        Meaning::Domain
    } else {
        Meaning::Transient
    }
}

/// A failed call: Porkbun's ERROR envelope (kept apart so a write's caller can check whether
/// the record id vanished), or a final error.
#[derive(Debug)]
enum CallError {
    Api(ProviderError),
    Provider(ProviderError),
}

impl CallError {
    fn into_error(self) -> ProviderError {
        match self {
            CallError::Api(e) | CallError::Provider(e) => e,
        }
    }
}

/// The JSON of a successful reply, or what the reply means (rate limits and server errors by
/// status; Porkbun's envelope through [`meaning`]).
fn interpret(action: &str, resp: &HttpResponse, zone: Option<&Fqdn>) -> Result<Value, CallError> {
    let s = resp.status;
    let parsed = serde_json::from_slice::<Value>(&resp.body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("message"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let said = message
        .as_ref()
        .map(|m| format!(": {m:?}"))
        .unwrap_or_default();
    // Porkbun is reported to throttle with 503; with Retry-After it is a rate limit either way.
    if s == 429 || (s == 503 && resp.retry_after.is_some()) {
        return Err(CallError::Provider(ProviderError::new(
            ProviderErrorKind::RateLimited {
                retry_after: resp.retry_after,
            },
            format!("{action}: rate limited (http {s}){said}"),
        )));
    }
    if s >= 500 {
        return Err(CallError::Provider(ProviderError::new(
            ProviderErrorKind::Transient,
            format!("{action}: server error (http {s}){said}"),
        )));
    }
    let Some(v) = parsed else {
        return Err(CallError::Provider(if s == 200 {
            ProviderError::new(
                ProviderErrorKind::Protocol,
                format!("{action}: the reply is not valid json"),
            )
        } else {
            api::protocol(action, &format!("unexpected http status {s}"))
        }));
    };
    match v.get("status").and_then(Value::as_str) {
        Some("SUCCESS") if s == 200 => return Ok(v),
        Some("SUCCESS") | Some("ERROR") => {}
        _ => {
            return Err(CallError::Provider(api::protocol(
                action,
                "no \"status\" in the reply",
            )))
        }
    }
    let text = format!("{action} failed{said}");
    let domain = zone.map_or_else(|| "the domain".to_owned(), ToString::to_string);
    let e = match meaning(message.as_deref().unwrap_or("")) {
        Meaning::Auth => ProviderError::new(ProviderErrorKind::Auth, text).with_hint(AUTH_HINT),
        Meaning::NotOptedIn => ProviderError::new(ProviderErrorKind::Forbidden, text).with_hint(format!(
            "turn on API ACCESS for {domain} under Domain Management on porkbun.com"
        )),
        Meaning::Domain => ProviderError::new(ProviderErrorKind::ZoneNotFound, text).with_hint(
            "the domain is not in this Porkbun account (or not using Porkbun's DNS): check the record name or zone",
        ),
        Meaning::Transient => return Err(CallError::Api(ProviderError::new(ProviderErrorKind::Transient, text))),
    };
    Err(CallError::Provider(e))
}

impl Porkbun {
    /// A provider named `name`.
    pub fn new(name: String, settings: PorkbunSettings, deps: &ProviderDeps) -> Porkbun {
        Porkbun {
            name,
            settings,
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            zones: Mutex::new(Vec::new()),
            extras: Mutex::new(BTreeMap::new()),
            ttl_warned: AtomicBool::new(false),
        }
    }

    /// POSTs `fields` plus the credentials to `path`, retrying transient failures and rate
    /// limits; returns the reply's JSON.
    async fn call(
        &self,
        action: &'static str,
        path: &str,
        fields: Map<String, Value>,
        zone: Option<&Fqdn>,
    ) -> Result<Value, CallError> {
        let url = format!("{}{path}", self.settings.endpoint);
        let mut body = fields;
        body.insert("apikey".into(), json!(self.settings.api_key.expose()));
        body.insert(
            "secretapikey".into(),
            json!(self.settings.secret_api_key.expose()),
        );
        let body = Value::Object(body).to_string().into_bytes();
        let write = !matches!(action, "retrieveByNameType" | "retrieve");
        api::with_retries(
            &self.backoff,
            &self.name,
            action,
            |e: &CallError| match e {
                CallError::Api(p) | CallError::Provider(p) => Some(p),
            },
            || async {
                let headers = [("Content-Type", "application/json".to_owned())];
                let resp = self
                    .http
                    .send(Request {
                        method: Method::Post,
                        url: &url,
                        headers: &headers,
                        body: body.clone(),
                        timeout: self.timeout,
                    })
                    .await
                    .map_err(|e| CallError::Provider(api::http_error(action, &e, write)))?;
                tracing::debug!(provider = %self.name, action, status = resp.status, "reply");
                interpret(action, &resp, zone)
            },
        )
        .await
    }

    /// The domain holding `name`: configured, remembered, found before, or the first of the
    /// name and its parents that Porkbun does not answer "Invalid domain." for.
    async fn find_zone(&self, name: &Fqdn, hints: &ProviderHints) -> Result<Fqdn, ProviderError> {
        if let Some(z) = &self.settings.zone {
            return Ok(z.clone());
        }
        if let Some(z) = rows::hinted_zone(hints, name) {
            return Ok(z);
        }
        let known = self.zones.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(z) = longest_match(&known, name) {
            return Ok(z);
        }
        // Single labels (TLDs) are never a customer's domain.
        let candidates = std::iter::once(name.clone())
            .chain(name.ancestors())
            .filter(|c| c.as_str().contains('.'));
        for candidate in candidates {
            let path = format!("/dns/retrieveByNameType/{}/A/", encode(candidate.as_str()));
            match self
                .call("retrieveByNameType", &path, Map::new(), Some(&candidate))
                .await
            {
                Ok(_) => {
                    self.zones
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(candidate.clone());
                    return Ok(candidate);
                }
                Err(CallError::Provider(e)) if e.kind == ProviderErrorKind::ZoneNotFound => {}
                Err(e) => return Err(e.into_error()),
            }
        }
        Err(ProviderError::new(
            ProviderErrorKind::ZoneNotFound,
            format!("no domain of this Porkbun account contains {name}"),
        )
        .with_hint("add the domain to the account (with Porkbun's DNS), or set zone in the provider's settings"))
    }

    /// The records of (sub, type): `dns/retrieveByNameType`; remembers their `prio`/`notes`.
    async fn rows(
        &self,
        zone: &Fqdn,
        sub: &str,
        rtype: RecordType,
    ) -> Result<Vec<Row>, ProviderError> {
        let action = "retrieveByNameType";
        let path = format!(
            "/dns/retrieveByNameType/{}/{}/{}",
            encode(zone.as_str()),
            rtype.as_str(),
            encode(porkbun_sub(sub))
        );
        let v = self
            .call(action, &path, Map::new(), Some(zone))
            .await
            .map_err(CallError::into_error)?;
        let list = match v.get("records") {
            Some(Value::Array(a)) => a.as_slice(),
            None | Some(Value::Null) => &[],
            Some(_) => return Err(api::protocol(action, "\"records\" is not a list")),
        };
        let fqdn = if sub == "@" {
            zone.to_string()
        } else {
            format!("{sub}.{zone}")
        };
        let mut out = Vec::new();
        for item in list {
            let (row, name, typ, extras) = row_of(action, item)?;
            // The API filters too, but only what was asked for is ever touched.
            if name.eq_ignore_ascii_case(&fqdn) && typ == rtype.as_str() {
                if let Some(id) = &row.id {
                    self.lock_extras().insert(id.clone(), extras);
                }
                out.push(row);
            }
        }
        Ok(out)
    }

    fn lock_extras(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Map<String, Value>>> {
        self.extras.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether record `id` still exists (`dns/retrieve/{domain}/{id}`).
    async fn exists(&self, zone: &Fqdn, id: &str) -> Result<bool, ProviderError> {
        let path = format!("/dns/retrieve/{}/{}", encode(zone.as_str()), encode(id));
        let v = self
            .call("retrieve", &path, Map::new(), Some(zone))
            .await
            .map_err(CallError::into_error)?;
        Ok(v.get("records")
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(|r| id_of(r).as_deref() == Some(id))))
    }

    /// A write's failure: a Porkbun error for a record id that no longer exists is "gone"
    /// (Porkbun's words for it are not documented, so a read decides).
    async fn write_failure(&self, zone: &Fqdn, id: &str, e: CallError) -> RowError {
        match e {
            CallError::Api(api_error) => match self.exists(zone, id).await {
                Ok(false) => RowError::Gone,
                Ok(true) => RowError::Failed(api_error),
                Err(read_error) => RowError::Failed(read_error),
            },
            CallError::Provider(e) => RowError::Failed(e),
        }
    }
}

/// Porkbun's subdomain in paths and bodies: empty at the apex.
fn porkbun_sub(sub: &str) -> &str {
    if sub == "@" {
        ""
    } else {
        sub
    }
}

fn id_of(item: &Value) -> Option<String> {
    match item.get("id") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// A record: its row, FQDN, type and the fields ddnsd keeps as they are (`prio`, `notes`).
/// Every value is a JSON string in Porkbun's replies (ids, ttl, prio); numbers are taken too.
fn row_of(
    action: &str,
    item: &Value,
) -> Result<(Row, String, String, Map<String, Value>), ProviderError> {
    let id = id_of(item).ok_or_else(|| api::protocol(action, "a record without id"))?;
    let text = |f: &str| item.get(f).and_then(Value::as_str).map(str::to_owned);
    let name = text("name").ok_or_else(|| api::protocol(action, "a record without name"))?;
    let typ = text("type").ok_or_else(|| api::protocol(action, "a record without type"))?;
    let content = text("content").unwrap_or_default();
    let ttl = match item.get("ttl") {
        Some(Value::String(s)) => s.parse::<u32>().ok(),
        Some(Value::Number(n)) => n.as_u64().and_then(|t| u32::try_from(t).ok()),
        _ => None,
    }
    .ok_or_else(|| api::protocol(action, &format!("record {id} has no valid ttl")))?;
    let value: IpAddr = content.parse().map_err(|_| {
        api::protocol(
            action,
            &format!("record {id} has a non-address content {content:?}"),
        )
    })?;
    let mut extras = Map::new();
    for f in ["prio", "notes"] {
        if let Some(v) = item.get(f).filter(|v| !v.is_null()) {
            extras.insert(f.into(), v.clone());
        }
    }
    Ok((
        Row {
            id: Some(id),
            value,
            ttl,
        },
        name,
        typ,
        extras,
    ))
}

/// Percent-encodes a path segment (RFC 3986 unreserved characters and `*`, which Porkbun wants
/// unescaped for wildcards).
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

impl RowApi for Porkbun {
    fn provider_name(&self) -> &str {
        &self.name
    }

    fn zone<'a>(
        &'a self,
        name: &'a Fqdn,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<Fqdn, ProviderError>> {
        Box::pin(self.find_zone(name, hints))
    }

    fn list<'a>(
        &'a self,
        zone: &'a Fqdn,
        sub: &'a str,
        rtype: RecordType,
    ) -> BoxFuture<'a, Result<Vec<Row>, ProviderError>> {
        Box::pin(self.rows(zone, sub, rtype))
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
            let action = "create";
            let mut fields = Map::new();
            fields.insert("name".into(), json!(porkbun_sub(sub)));
            fields.insert("type".into(), json!(rtype.as_str()));
            fields.insert("content".into(), json!(value.to_string()));
            fields.insert("ttl".into(), json!(ttl.to_string()));
            let path = format!("/dns/create/{}", encode(zone.as_str()));
            let v = self
                .call(action, &path, fields, Some(zone))
                .await
                .map_err(|e| RowError::Failed(e.into_error()))?;
            match id_of(&v) {
                Some(id) => Ok(Some(id)),
                None => Err(RowError::Failed(api::protocol(
                    action,
                    "no id for the new record",
                ))),
            }
        })
    }

    fn modify<'a>(
        &'a self,
        zone: &'a Fqdn,
        sub: &'a str,
        rtype: RecordType,
        id: &'a str,
        value: IpAddr,
        ttl: u32,
    ) -> BoxFuture<'a, Result<(), RowError>> {
        Box::pin(async move {
            // An edit replaces the record: send its prio and notes back, read if not known.
            let known = self.lock_extras().get(id).cloned();
            let extras = match known {
                Some(e) => e,
                None => {
                    let live = self.rows(zone, sub, rtype).await?;
                    if !live.iter().any(|r| r.id.as_deref() == Some(id)) {
                        return Err(RowError::Gone);
                    }
                    self.lock_extras().get(id).cloned().unwrap_or_default()
                }
            };
            let mut fields = extras;
            fields.insert("name".into(), json!(porkbun_sub(sub)));
            fields.insert("type".into(), json!(rtype.as_str()));
            fields.insert("content".into(), json!(value.to_string()));
            fields.insert("ttl".into(), json!(ttl.to_string()));
            let path = format!("/dns/edit/{}/{}", encode(zone.as_str()), encode(id));
            match self.call("edit", &path, fields, Some(zone)).await {
                Ok(_) => Ok(()),
                Err(e) => Err(self.write_failure(zone, id, e).await),
            }
        })
    }

    fn delete<'a>(&'a self, zone: &'a Fqdn, id: &'a str) -> BoxFuture<'a, Result<(), RowError>> {
        Box::pin(async move {
            let path = format!("/dns/delete/{}/{}", encode(zone.as_str()), encode(id));
            match self.call("delete", &path, Map::new(), Some(zone)).await {
                Ok(_) => {
                    self.lock_extras().remove(id);
                    Ok(())
                }
                Err(e) => Err(self.write_failure(zone, id, e).await),
            }
        })
    }
}

impl Provider for Porkbun {
    fn name(&self) -> &str {
        &self.name
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
        // Only fields read during this write are sent back: older ones may be stale.
        self.lock_extras().clear();
        Box::pin(rows::apply_rows(self, desired, hints, MIN_TTL))
    }

    fn effective_ttl(&self, ttl: Ttl) -> Ttl {
        rows::raise_ttl(&self.name, ttl, MIN_TTL, &self.ttl_warned)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

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

    fn kind_of(r: Result<Value, CallError>) -> (ProviderErrorKind, String, Option<String>, bool) {
        match r {
            Err(CallError::Api(e)) => (e.kind, e.message, e.hint, true),
            Err(CallError::Provider(e)) => (e.kind, e.message, e.hint, false),
            Ok(v) => panic!("{v}"),
        }
    }

    /// The message table, with the bodies Porkbun is quoted sending.
    #[test]
    fn message_table_and_envelope() {
        use ProviderErrorKind as K;
        let zone = Fqdn::parse_relaxed("example.com").unwrap();
        let z = Some(&zone);
        assert_eq!(
            interpret("edit", &resp(200, r#"{"status":"SUCCESS"}"#, None), z).unwrap()["status"],
            "SUCCESS"
        );
        let cases = [
            (resp(400, r#"{"status":"ERROR","message":"Invalid API key. (002)"}"#, None), (K::Auth, "retrieveByNameType failed: \"Invalid API key. (002)\"".to_owned(), Some(AUTH_HINT.to_owned()), false)),
            (resp(400, r#"{"status":"ERROR","message":"Domain is not opted in to API access."}"#, None), (K::Forbidden, "retrieveByNameType failed: \"Domain is not opted in to API access.\"".to_owned(), Some("turn on API ACCESS for example.com under Domain Management on porkbun.com".to_owned()), false)),
            (resp(400, r#"{"status":"ERROR","message":"Invalid domain."}"#, None), (K::ZoneNotFound, "retrieveByNameType failed: \"Invalid domain.\"".to_owned(), Some("the domain is not in this Porkbun account (or not using Porkbun's DNS): check the record name or zone".to_owned()), false)),
            (resp(400, r#"{"status":"ERROR","message":"Edit error: We were unable to edit the DNS record."}"#, None), (K::Transient, "retrieveByNameType failed: \"Edit error: We were unable to edit the DNS record.\"".to_owned(), None, true)),
            (resp(200, r#"{"status":"ERROR","message":"Something new"}"#, None), (K::Transient, "retrieveByNameType failed: \"Something new\"".to_owned(), None, true)),
            (resp(503, r#"{"status":"ERROR","message":"Rate limit exceeded"}"#, Some(2)), (K::RateLimited { retry_after: Some(Duration::from_secs(2)) }, "retrieveByNameType: rate limited (http 503): \"Rate limit exceeded\"".to_owned(), None, false)),
            (resp(429, "", None), (K::RateLimited { retry_after: None }, "retrieveByNameType: rate limited (http 429)".to_owned(), None, false)),
            (resp(503, "<html>", None), (K::Transient, "retrieveByNameType: server error (http 503)".to_owned(), None, false)),
            (resp(200, "<html>", None), (K::Protocol, "retrieveByNameType: the reply is not valid json".to_owned(), None, false)),
            (resp(403, "<html>403 Forbidden</html>", None), (K::Protocol, "retrieveByNameType: unexpected reply: unexpected http status 403".to_owned(), None, false)),
            (resp(200, r#"{"records":[]}"#, None), (K::Protocol, "retrieveByNameType: unexpected reply: no \"status\" in the reply".to_owned(), None, false)),
        ];
        for (r, want) in cases {
            assert_eq!(
                kind_of(interpret("retrieveByNameType", &r, z)),
                want,
                "{r:?}"
            );
        }
    }

    #[test]
    fn records_are_strings_and_extras_are_kept() {
        let v: Value = serde_json::from_str(r#"{"id":"106926659","name":"home.example.com","type":"AAAA","content":"2001:db8::1","ttl":"600","prio":"0","notes":"router"}"#).unwrap();
        let (row, name, typ, extras) = row_of("x", &v).unwrap();
        assert_eq!(
            (row.id.as_deref(), row.ttl, name.as_str(), typ.as_str()),
            (Some("106926659"), 600, "home.example.com", "AAAA")
        );
        assert_eq!(
            Value::Object(extras),
            json!({"prio": "0", "notes": "router"})
        );
        let v: Value = serde_json::from_str(
            r#"{"id":7,"name":"x","type":"A","content":"192.0.2.1","ttl":600}"#,
        )
        .unwrap();
        assert_eq!(row_of("x", &v).unwrap().0.id.as_deref(), Some("7"));
        let v: Value = serde_json::from_str(
            r#"{"id":"7","name":"x","type":"A","content":"pixie.porkbun.com","ttl":"600"}"#,
        )
        .unwrap();
        assert_eq!(
            row_of("x", &v).unwrap_err().kind,
            ProviderErrorKind::Protocol
        );
    }

    fn build(text: &str) -> Result<PorkbunSettings, String> {
        let env = |v: &str| match v {
            "PORKBUN_API_KEY" => Some("pk1_env".to_owned()),
            "PORKBUN_SECRET_API_KEY" => Some("sk1_env".to_owned()),
            _ => None,
        };
        let full = format!(
            "{text}\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"h.example.com\"\nprovider = \"p\"\nsources = [\"s\"]\n"
        );
        match crate::config::from_text(&full, Path::new("t.toml"), &env) {
            Ok(c) => Ok(c.providers["p"].get::<PorkbunSettings>().unwrap().clone()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn the_example_block_builds() {
        let s = build(&KIND.example.replace("[providers.porkbun]", "[providers.p]")).unwrap();
        assert_eq!(
            (
                s.api_key.expose().as_str(),
                s.secret_api_key.expose().as_str()
            ),
            ("pk1_env", "sk1_env")
        );
        assert_eq!((s.zone, s.endpoint.as_str()), (None, DEFAULT_ENDPOINT));
        let e = build("[providers.p]\nkind = \"porkbun\"\napi_key = \"pk1\"\n").unwrap_err();
        assert!(e.contains("secret_api_key is missing"), "{e}");
    }
}
