//! `kind = "dnspod"`: the legacy DNSPod token API at dnsapi.cn (form-encoded POSTs, JSON
//! replies with a string `status.code`).
//!
//! Owns the wire format of Domain.List / Record.List / Record.Create / Record.Modify /
//! Record.Remove and the mapping of status codes to [`ProviderError`]s. Reference:
//! `shared/providers/tencentcloud-dnspod.md` §8. The token API carries no timestamp, so it has
//! no clock-skew failure. The login token travels in the form body, which is never logged.

use std::net::IpAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;

use serde::Deserialize;

use super::kit::api;
use super::kit::rows::{self, Row, RowApi, RowError};
use super::kit::zones::ZoneCache;
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints,
};
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{Backoff, HttpClient};
use crate::record::{Fqdn, RecordKey, RecordType, RrSet, Ttl};
use crate::secret::Secret;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "dnspod",
    about: "DNSPod legacy token API (dnsapi.cn; token ID + token)",
    example: r#"[providers.dnspod]
kind = "dnspod"
token_id = "123456"                     # the API token's ID from the DNSPod console
token_env = "DNSPOD_TOKEN"              # or token / token_file
# zone = "example.com"                  # omit to find it among the account's domains
# record_line = "默认"
# endpoint = "https://dnsapi.cn"
"#,
    configure,
};

/// The default API endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://dnsapi.cn";
/// The default record line ("default").
pub const DEFAULT_LINE: &str = "默认";
/// The lowest TTL of DNSPod's free plan.
pub const MIN_TTL: u32 = 600;

const PAGE: u64 = 100;
const AUTH_HINT: &str = "check token_id and token (the API token's ID and value from the DNSPod console; the token must belong to the account that owns the domain); after 30 failed logins in 5 minutes DNSPod blocks the account for an hour";
/// DNSPod requires `AppName/Version (contact)` and may ban clients without it (§8).
const USER_AGENT: &str = concat!(
    "ddnsd/",
    env!("CARGO_PKG_VERSION"),
    " (https://github.com/ddnsd/ddnsd)"
);

/// Settings of a legacy DNSPod token provider.
#[derive(Clone, Debug)]
pub struct DnspodLegacySettings {
    /// `ID,TOKEN` as shown by the DNSPod console (the part before the comma is the token's
    /// id and may be logged; the whole value may not).
    pub login_token: Secret<String>,
    /// The zone (domain); `None` = found with Domain.List.
    pub zone: Option<Fqdn>,
    /// The record line; `None` = the default line ("默认").
    pub record_line: Option<String>,
    /// API endpoint, default `https://dnsapi.cn`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "dnspod"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    token_id: Option<Text>,
    token_id_file: Option<Text>,
    token_id_env: Option<Text>,
    token: Option<Text>,
    token_file: Option<Text>,
    token_env: Option<Text>,
    zone: Option<Text>,
    record_line: Option<Text>,
    endpoint: Option<Text>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let token_id = f.secret(SecretFields {
        name: "token_id",
        inline: &r.token_id,
        file: &r.token_id_file,
        env: &r.token_id_env,
    });
    let token = f.secret(SecretFields {
        name: "token",
        inline: &r.token,
        file: &r.token_file,
        env: &r.token_env,
    });
    let zone = fields::zone(f, &r.zone);
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(DnspodLegacySettings {
        // The API takes them joined: `login_token=ID,TOKEN`.
        login_token: Secret::new(format!("{},{}", token_id?.expose(), token?.expose())),
        zone: zone?,
        record_line: r.record_line.map(toml::Spanned::into_inner),
        endpoint: endpoint?,
    }))
}

impl Configured for DnspodLegacySettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(DnspodLegacy::new(name.to_owned(), self.clone(), deps))
    }
}

/// A legacy DNSPod token API provider.
pub struct DnspodLegacy {
    name: String,
    settings: DnspodLegacySettings,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    zones: ZoneCache,
    ttl_warned: AtomicBool,
}

impl DnspodLegacy {
    /// A provider named `name`.
    pub fn new(name: String, settings: DnspodLegacySettings, deps: &ProviderDeps) -> DnspodLegacy {
        DnspodLegacy {
            name,
            settings,
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            zones: ZoneCache::default(),
            ttl_warned: AtomicBool::new(false),
        }
    }

    fn line(&self) -> &str {
        self.settings.record_line.as_deref().unwrap_or(DEFAULT_LINE)
    }

    /// Calls `action`; retries transient failures and rate limits. Returns the whole reply on
    /// status `1`, or the status code for the caller to interpret.
    async fn call(&self, action: &'static str, params: &[(&str, &str)]) -> Result<Value, Failure> {
        let mut form = vec![
            ("login_token", self.settings.login_token.expose().as_str()),
            ("format", "json"),
            ("lang", "en"),
        ];
        form.extend_from_slice(params);
        let body = form_urlencode(&form).into_bytes();
        api::with_retries(
            &self.backoff,
            &self.name,
            action,
            |e| match e {
                Failure::Provider(p) => Some(p),
                _ => None,
            },
            || self.attempt(action, &body),
        )
        .await
    }

    async fn attempt(&self, action: &'static str, body: &[u8]) -> Result<Value, Failure> {
        let url = format!("{}/{action}", self.settings.endpoint.trim_end_matches('/'));
        let headers = [
            (
                "Content-Type",
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("User-Agent", USER_AGENT.to_owned()),
        ];
        let resp = self
            .http
            .post(&url, &headers, body.to_vec(), self.timeout)
            .await
            .map_err(|e| {
                Failure::Provider(api::http_error(action, &e, !action.ends_with(".List")))
            })?;
        tracing::debug!(provider = %self.name, action, status = resp.status, "reply");
        let reply = api::json_reply(action, &resp).map_err(Failure::Provider)?;
        let status = reply.get("status");
        let code = match status.and_then(|s| s.get("code")) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(Failure::Provider(api::protocol(action, "no status.code"))),
        };
        if code == "1" {
            return Ok(reply);
        }
        let message = status
            .and_then(|s| s.get("message"))
            .and_then(Value::as_str)
            .unwrap_or("");
        tracing::debug!(provider = %self.name, action, code, "api error");
        let text = format!("{action} failed: status {code}: {message:?}");
        let meaning = status_meaning(&code);
        let e = match meaning {
            Code::Auth => ProviderError::new(ProviderErrorKind::Auth, text).with_hint(AUTH_HINT),
            Code::RateLimited => ProviderError::new(
                ProviderErrorKind::RateLimited {
                    retry_after: resp.retry_after,
                },
                text,
            ),
            Code::Forbidden => ProviderError::new(ProviderErrorKind::Forbidden, text).with_hint(
                "the token's account must own the domain, and the domain must not be locked or banned",
            ),
            Code::Transient => ProviderError::new(ProviderErrorKind::Transient, text),
            // Codes a caller may expect, and the permanent ones: the caller decides,
            // `From<Failure>` says what is left.
            Code::Empty | Code::Gone | Code::Exists | Code::ZoneNotFound | Code::Rejected => {
                return Err(Failure::Status { meaning, text })
            }
        };
        Err(Failure::Provider(e))
    }

    /// Every domain of the account (Domain.List, paginated).
    async fn domains(&self) -> Result<Vec<Fqdn>, ProviderError> {
        let action = "Domain.List";
        let mut out = Vec::new();
        let mut offset = 0u64;
        loop {
            api::page_allowed(action, offset / PAGE)?;
            let (o, l) = (offset.to_string(), PAGE.to_string());
            let reply = match self.call(action, &[("offset", &o), ("length", &l)]).await {
                Ok(r) => r,
                // 9: "no domains".
                Err(Failure::Status {
                    meaning: Code::Empty,
                    ..
                }) => break,
                Err(e) => return Err(e.into()),
            };
            let list = match reply.get("domains") {
                Some(Value::Array(a)) => a,
                _ => return Err(api::protocol(action, "no \"domains\" array")),
            };
            for d in list {
                let name = d
                    .get("punycode")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .or_else(|| d.get("name").and_then(Value::as_str))
                    .ok_or_else(|| api::protocol(action, "a domain without a name"))?;
                if let Ok(f) = Fqdn::parse_relaxed(name) {
                    out.push(f);
                }
            }
            let total = reply
                .get("info")
                .and_then(|i| i.get("all_total").or_else(|| i.get("domain_total")))
                .and_then(number)
                .unwrap_or(0);
            offset += PAGE;
            if list.is_empty() || offset >= total {
                break;
            }
        }
        Ok(out)
    }
}

/// A call's failure: a status code the caller may expect, or a final provider error.
#[derive(Debug)]
enum Failure {
    Status { meaning: Code, text: String },
    Provider(ProviderError),
}

impl From<Failure> for ProviderError {
    fn from(e: Failure) -> ProviderError {
        match e {
            Failure::Provider(e) => e,
            Failure::Status {
                meaning: Code::ZoneNotFound,
                text,
            } => ProviderError::new(ProviderErrorKind::ZoneNotFound, text)
                .with_hint("check the zone: it must be a domain in this DNSPod account"),
            Failure::Status { text, .. } => ProviderError::new(ProviderErrorKind::Rejected, text),
        }
    }
}

impl From<Failure> for RowError {
    fn from(e: Failure) -> RowError {
        match e {
            Failure::Status {
                meaning: Code::Gone,
                ..
            } => RowError::Gone,
            e => RowError::Failed(e.into()),
        }
    }
}

/// What a legacy status code means to ddnsd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Code {
    /// The login token was rejected (or the account is temporarily banned for failed logins).
    Auth,
    /// The account may not use the API or touch this domain, or the domain is locked/banned.
    Forbidden,
    /// API usage over the limit.
    RateLimited,
    /// The domain is not in the account.
    ZoneNotFound,
    /// Nothing to list ("no domains", "no records").
    Empty,
    /// A record id the API does not know: re-read.
    Gone,
    /// The record already exists.
    Exists,
    /// The request is invalid in a way that retrying cannot fix.
    Rejected,
    /// Anything else: server-side, passing, or unknown — backed off and retried.
    Transient,
}

/// The legacy status-code table, the one place this adapter decides what a `status.code`
/// means (issue 8 item 4; codes from `shared/providers/tencentcloud-dnspod.md` §8). Only codes
/// DNSPod documents as permanent stop retries; every other code — `3` ("unknown error"),
/// `-99` ("feature paused"), any code not listed — is transient.
fn status_meaning(code: &str) -> Code {
    match code {
        // -1 login failed; -8 too many failed logins (banned for about an hour).
        "-1" | "-8" => Code::Auth,
        "-2" => Code::RateLimited,
        // -3 not a valid agent; -4 not under this agent; -7 no permission for this API;
        // 7 not the user's domain; 85 login from another region refused; -15 domain banned;
        // 21 domain locked.
        "-3" | "-4" | "-7" | "7" | "85" | "-15" | "21" => Code::Forbidden,
        "6" => Code::ZoneNotFound,
        "8" => Code::Gone,
        // 9 "no domains", 10 "no records": errors in this API, empty lists to ddnsd.
        "9" | "10" => Code::Empty,
        "104" => Code::Exists,
        // 2 POST only; 22 invalid sub_domain; 26 invalid record line.
        "2" | "22" | "26" => Code::Rejected,
        _ => Code::Transient,
    }
}

/// The legacy API sends most numbers as strings.
fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `application/x-www-form-urlencoded` (WHATWG URL §5.2): unreserved bytes as-is, space as
/// `+`, everything else percent-encoded as UTF-8.
pub fn form_urlencode(pairs: &[(&str, &str)]) -> String {
    fn enc(out: &mut String, s: &str) {
        for b in s.bytes() {
            match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    out.push(char::from(b))
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        enc(&mut out, k);
        out.push('=');
        enc(&mut out, v);
    }
    out
}

impl RowApi for DnspodLegacy {
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
                .zone_of(name, self.settings.zone.as_ref(), hints, "DNSPod", || {
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
        Box::pin(async move {
            let action = "Record.List";
            let mut out = Vec::new();
            let mut offset = 0u64;
            loop {
                api::page_allowed(action, offset / PAGE)?;
                let (o, l) = (offset.to_string(), PAGE.to_string());
                let params = [
                    ("domain", zone.as_str()),
                    ("sub_domain", sub),
                    ("record_type", rtype.as_str()),
                    ("offset", &o),
                    ("length", &l),
                ];
                let reply = match self.call(action, &params).await {
                    Ok(r) => r,
                    // 10: "no records" is an error code in this API.
                    Err(Failure::Status {
                        meaning: Code::Empty,
                        ..
                    }) => break,
                    Err(e) => return Err(e.into()),
                };
                let list = match reply.get("records") {
                    Some(Value::Array(a)) => a,
                    _ => return Err(api::protocol(action, "no \"records\" array")),
                };
                for item in list {
                    let field = |f: &str| item.get(f).and_then(text);
                    let id =
                        field("id").ok_or_else(|| api::protocol(action, "a record without id"))?;
                    let value = field("value")
                        .ok_or_else(|| api::protocol(action, "a record without value"))?;
                    let ttl = item
                        .get("ttl")
                        .and_then(number)
                        .and_then(|t| u32::try_from(t).ok())
                        .ok_or_else(|| api::protocol(action, "a record without ttl"))?;
                    if field("name").as_deref() != Some(sub)
                        || field("type").as_deref() != Some(rtype.as_str())
                        || field("line").as_deref() != Some(self.line())
                    {
                        continue;
                    }
                    let value: IpAddr = value.parse().map_err(|_| {
                        api::protocol(
                            action,
                            &format!("record {id} has a non-address value {value:?}"),
                        )
                    })?;
                    out.push(Row {
                        id: Some(id),
                        value,
                        ttl,
                    });
                }
                let total = reply
                    .get("info")
                    .and_then(|i| i.get("record_total"))
                    .and_then(number)
                    .ok_or_else(|| api::protocol(action, "no info.record_total"))?;
                offset += PAGE;
                if list.is_empty() || offset >= total {
                    break;
                }
            }
            Ok(out)
        })
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
            let action = "Record.Create";
            let (v, t) = (value.to_string(), ttl.to_string());
            let params = [
                ("domain", zone.as_str()),
                ("sub_domain", sub),
                ("record_type", rtype.as_str()),
                ("record_line", self.line()),
                ("value", &v),
                ("ttl", &t),
            ];
            match self.call(action, &params).await {
                Ok(reply) => match reply.get("record").and_then(|r| r.get("id")).and_then(text) {
                    Some(id) => Ok(Some(id)),
                    None => Err(RowError::Failed(api::protocol(action, "no record.id"))),
                },
                // 104: "record already exists" (a retried create whose reply was lost).
                Err(Failure::Status {
                    meaning: Code::Exists,
                    ..
                }) => Ok(None),
                Err(e) => Err(RowError::Failed(e.into())),
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
            let (v, t) = (value.to_string(), ttl.to_string());
            let params = [
                ("domain", zone.as_str()),
                ("record_id", id),
                ("sub_domain", sub),
                ("record_type", rtype.as_str()),
                ("record_line", self.line()),
                ("value", &v),
                ("ttl", &t),
            ];
            self.call("Record.Modify", &params)
                .await
                .map(|_| ())
                .map_err(RowError::from)
        })
    }

    fn delete<'a>(&'a self, zone: &'a Fqdn, id: &'a str) -> BoxFuture<'a, Result<(), RowError>> {
        Box::pin(async move {
            let params = [("domain", zone.as_str()), ("record_id", id)];
            self.call("Record.Remove", &params)
                .await
                .map(|_| ())
                .map_err(RowError::from)
        })
    }
}

impl Provider for DnspodLegacy {
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
        Box::pin(rows::apply_rows(self, desired, hints, MIN_TTL))
    }

    fn effective_ttl(&self, ttl: Ttl) -> Ttl {
        rows::raise_ttl(&self.name, ttl, MIN_TTL, &self.ttl_warned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// See: issue 8 item 4. Only documented permanent codes stop retries.
    #[test]
    fn status_code_table() {
        let cases = [
            ("-1", Code::Auth),
            ("-8", Code::Auth),
            ("-2", Code::RateLimited),
            ("-3", Code::Forbidden),
            ("-4", Code::Forbidden),
            ("-7", Code::Forbidden),
            ("7", Code::Forbidden),
            ("85", Code::Forbidden),
            ("-15", Code::Forbidden),
            ("21", Code::Forbidden),
            ("6", Code::ZoneNotFound),
            ("8", Code::Gone),
            ("9", Code::Empty),
            ("10", Code::Empty),
            ("104", Code::Exists),
            ("2", Code::Rejected),
            ("22", Code::Rejected),
            ("26", Code::Rejected),
            ("3", Code::Transient),
            ("-99", Code::Transient),
            ("500", Code::Transient),
            ("12345", Code::Transient),
            ("", Code::Transient),
        ];
        for (code, want) in cases {
            assert_eq!(status_meaning(code), want, "{code:?}");
        }
    }

    #[test]
    fn form_encoding() {
        assert_eq!(
            form_urlencode(&[("login_token", "123,ab c"), ("record_line", "默认")]),
            "login_token=123%2Cab+c&record_line=%E9%BB%98%E8%AE%A4"
        );
    }

    #[test]
    fn settings_debug_hides_the_token() {
        let s = DnspodLegacySettings {
            login_token: Secret::new("12345,s3cr3t".into()),
            zone: None,
            record_line: None,
            endpoint: DEFAULT_ENDPOINT.into(),
        };
        assert!(!format!("{s:?}").contains("s3cr3t"));
    }
}
