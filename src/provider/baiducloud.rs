//! `kind = "baiducloud"`: Baidu AI Cloud DNS (智能云解析, `dns.baidubce.com`, API v1), signed
//! with BCE auth v1 (`sign/bce.rs`).
//!
//! Owns the wire format of the zone list (`GET /v1/dns/zone`), the record list (`GET
//! /v1/dns/zone/{zone}/record`, paged with `marker`), record create / update / delete (each
//! with a `clientToken`, so a retried write is not done twice) and the mapping of BCE error
//! codes to [`ProviderError`]s (`meaning`, the one code table). Baidu keeps one record (with
//! an id) per value, so the RRset is reconciled by `kit::rows`: ids are reused with an
//! update, never deleted and re-created. Touches only the records of the managed (rr, type) on
//! the `default` line. Reference: `shared/providers/china-clouds.md` §2 and Baidu's DNS API
//! pages ("解析记录相关接口", "公共错误码").

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};

use super::kit::api::{self, ApiTerms, CallError, Meaning};
use super::kit::rows::{self, Row, RowApi, RowError};
use super::kit::zones::ZoneCache;
use super::sign::bce::{self, BceCredentials, BceRequest};
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints,
};
use crate::clock::Clock;
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{self, Backoff, HttpClient, Method, Request};
use crate::record::{Fqdn, RecordKey, RecordType, RrSet};
use crate::secret::Secret;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "baiducloud",
    about: "Baidu AI Cloud DNS (AK/SK, BCE auth v1)",
    example: r#"[providers.baidu]
kind = "baiducloud"
access_key_id = "ALTAK..."              # an IAM user's access key; policy DNS full control (DNSFullControlPolicy)
secret_access_key_env = "BAIDUCLOUD_SECRET_ACCESS_KEY"   # or secret_access_key / secret_access_key_file
# zone = "example.com"                  # omit to find it among the account's zones
# endpoint = "https://dns.baidubce.com"
"#,
    configure,
};

/// The default API endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://dns.baidubce.com";
/// The only line ddnsd reads or writes; records on other lines are someone else's.
pub const LINE: &str = "default";

/// `maxKeys` of both lists (the documented maximum and default).
const PAGE: u32 = 1000;
const SERVICE: &str = "Baidu Cloud DNS";
/// How Baidu's failures are worded. A 404 does not tell a missing zone from a missing record,
/// so a [`Meaning::Gone`] no row write expects reports the zone missing.
static TERMS: ApiTerms = ApiTerms {
    auth_hint: "check access_key_id/secret_access_key; the key's IAM user needs DNS full control (DNSFullControlPolicy)",
    forbidden_hint: "grant the key's IAM user DNS full control (DNSFullControlPolicy), and make sure the DNS service is enabled for the account",
    // Names SERVICE, spelled out (a static cannot format).
    zone_hint: "check the zone: it must be a domain of this Baidu Cloud DNS account",
    clock_hint: "this machine's clock differs from the provider's by more than the signature's 30 minutes; enable NTP",
    gone_is_zone: true,
};

/// Settings of a Baidu Cloud DNS provider.
#[derive(Clone, Debug)]
pub struct BaiduCloudSettings {
    /// Access Key ID (an identifier, sent with every request).
    pub access_key_id: String,
    /// Secret Access Key.
    pub secret_access_key: Secret<String>,
    /// The zone; `None` = found among the account's zones.
    pub zone: Option<Fqdn>,
    /// API endpoint, default `https://dns.baidubce.com`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "baiducloud"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    access_key_id: Option<Text>,
    access_key_id_file: Option<Text>,
    access_key_id_env: Option<Text>,
    secret_access_key: Option<Text>,
    secret_access_key_file: Option<Text>,
    secret_access_key_env: Option<Text>,
    zone: Option<Text>,
    endpoint: Option<Text>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let access_key_id = f.secret(SecretFields {
        name: "access_key_id",
        inline: &r.access_key_id,
        file: &r.access_key_id_file,
        env: &r.access_key_id_env,
    });
    let secret_access_key = f.secret(SecretFields {
        name: "secret_access_key",
        inline: &r.secret_access_key,
        file: &r.secret_access_key_file,
        env: &r.secret_access_key_env,
    });
    let zone = fields::zone(f, &r.zone);
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(BaiduCloudSettings {
        // The AK is an identifier (it travels in every Authorization header); only the SK is
        // secret.
        access_key_id: access_key_id?.expose().clone(),
        secret_access_key: secret_access_key?,
        zone: zone?,
        endpoint: endpoint?,
    }))
}

impl Configured for BaiduCloudSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(BaiduCloud::new(name.to_owned(), self.clone(), deps))
    }
}

/// A Baidu Cloud DNS provider.
pub struct BaiduCloud {
    name: String,
    settings: BaiduCloudSettings,
    clock: Arc<dyn Clock>,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    zones: ZoneCache,
}

/// The code table. BCE common codes (Baidu's "公共错误码" table, the same on every product):
/// `InvalidAccessKeyId` (403), `InvalidHTTPAuthHeader` (400), `SignatureDoesNotMatch` → Auth;
/// `RequestExpired` (400) → ClockSkew; `AccessDenied`, `OptInRequired` (403) → Forbidden;
/// `MalformedJSON`, `InappropriateJSON`, `InvalidHTTPRequest`, `InvalidURI`,
/// `InvalidVersion`, `MissingDateHeader`, `InvalidParameter*` → Rejected; `InternalError`,
/// `ServiceUnavailable` → Transient. The DNS service's own codes are not published: the
/// statuses decide there (`status_meaning`). Every other code is transient (see
/// docs/design/providers.md).
fn meaning(code: &str, status: u16) -> Meaning {
    match code {
        "InvalidAccessKeyId" | "InvalidHTTPAuthHeader" | "SignatureDoesNotMatch" => Meaning::Auth,
        "RequestExpired" => Meaning::ClockSkew,
        "AccessDenied" | "OptInRequired" => Meaning::Forbidden,
        "TooManyRequests" | "RequestRateLimitExceeded" => Meaning::RateLimited,
        "MalformedJSON" | "InappropriateJSON" | "InvalidHTTPRequest" | "InvalidURI"
        | "InvalidVersion" | "MissingDateHeader" => Meaning::Rejected,
        c if c.starts_with("InvalidParameter") => Meaning::Rejected,
        "InternalError" | "ServiceUnavailable" => Meaning::Transient,
        _ => status_meaning(status),
    }
}

/// What an undocumented code means by its status: 429 throttled, 404 a missing zone or
/// record (the caller tells which), 409 a duplicate, other 4xx a refusal that will not pass,
/// everything else transient.
fn status_meaning(status: u16) -> Meaning {
    match status {
        429 => Meaning::RateLimited,
        404 => Meaning::Gone,
        409 => Meaning::Duplicate,
        400 | 403 | 422 => Meaning::Rejected,
        _ => Meaning::Transient,
    }
}

/// A fresh idempotency token (≤ 64 ASCII characters).
fn client_token() -> String {
    format!("ddnsd-{:032x}", rand::random::<u128>())
}

impl BaiduCloud {
    /// A provider named `name`.
    pub fn new(name: String, settings: BaiduCloudSettings, deps: &ProviderDeps) -> BaiduCloud {
        BaiduCloud {
            name,
            settings,
            clock: deps.clock.clone(),
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            zones: ZoneCache::default(),
        }
    }

    /// Calls `op`, retrying transient failures and rate limits (each attempt signed afresh,
    /// with the same `clientToken` when the query has one); returns the reply's JSON (`null`
    /// for an empty body).
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
        api::with_retries(
            &self.backoff,
            &self.name,
            op,
            CallError::as_provider,
            || self.attempt(op, method, path, query, &payload),
        )
        .await
    }

    async fn attempt(
        &self,
        op: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        payload: &[u8],
    ) -> Result<Value, CallError> {
        let host = host_of(&self.settings.endpoint).map_err(CallError::Provider)?;
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let sig = bce::sign(
            &BceRequest {
                method: method.as_str(),
                path,
                query: &query,
                headers: &[("host", host.as_str())],
            },
            BceCredentials {
                access_key_id: &self.settings.access_key_id,
                secret_access_key: self.settings.secret_access_key.expose(),
            },
            self.clock.unix_secs(),
        );
        tracing::trace!(provider = %self.name, op, canonical_request = %sig.canonical_request, "signed");
        let mut headers: Vec<(&str, String)> = vec![
            ("host", host.clone()),
            ("x-bce-date", sig.date.clone()),
            ("authorization", sig.authorization.clone()),
        ];
        if !payload.is_empty() {
            headers.push(("content-type", "application/json; charset=utf-8".to_owned()));
        }
        let mut target = format!(
            "{}{}",
            self.settings.endpoint.trim_end_matches('/'),
            sig.canonical_uri
        );
        if !sig.canonical_query.is_empty() {
            target.push('?');
            target.push_str(&sig.canonical_query);
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
        self.interpret(op, &resp)
    }

    /// The reply of `op`: its JSON on 2xx, else the error its body (or status) names.
    fn interpret(&self, op: &str, resp: &http::HttpResponse) -> Result<Value, CallError> {
        if (200..300).contains(&resp.status) {
            if resp.body.is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&resp.body).map_err(|e| {
                CallError::Provider(ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("{op}: the reply is not valid json ({e})"),
                ))
            });
        }
        let envelope = serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|v| {
                let code = v.get("code")?.as_str()?.to_owned();
                let message = v
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let request_id = v
                    .get("requestId")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                Some((code, message, request_id))
            });
        let Some((code, message, request_id)) = envelope else {
            return Err(CallError::Provider(api::status_error(op, resp)));
        };
        tracing::debug!(provider = %self.name, op, code, request_id, status = resp.status, "api error");
        let meaning = meaning(&code, resp.status);
        Err(TERMS.code_error(op, &code, &message, meaning, resp, self.clock.now()))
    }

    /// Lists `path` page by page (`marker` = the previous page's `nextMarker` while
    /// `isTruncated`) and returns the items of `field`.
    async fn list_all(
        &self,
        op: &'static str,
        path: &str,
        query: &[(&str, String)],
        field: &str,
    ) -> Result<Vec<Value>, CallError> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut q: Vec<(&str, String)> = query.to_vec();
            q.push(("maxKeys", PAGE.to_string()));
            if let Some(m) = &marker {
                q.push(("marker", m.clone()));
            }
            let resp = self.call(op, Method::Get, path, &q, None).await?;
            let Some(items) = resp.get(field).and_then(Value::as_array) else {
                return Err(CallError::Provider(api::protocol(
                    op,
                    &format!("no {field:?} array"),
                )));
            };
            out.extend(items.iter().cloned());
            let truncated = resp
                .get("isTruncated")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let next = resp
                .get("nextMarker")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .map(str::to_owned);
            match (truncated, next) {
                (true, Some(n)) if marker.as_ref() != Some(&n) => marker = Some(n),
                (true, _) => {
                    return Err(CallError::Provider(api::protocol(
                        op,
                        "a truncated page without a new nextMarker",
                    )))
                }
                (false, _) => break,
            }
        }
        Ok(out)
    }

    /// Every zone of the account.
    async fn domains(&self) -> Result<Vec<Fqdn>, ProviderError> {
        let op = "ListZone";
        let items = self.list_all(op, "/v1/dns/zone", &[], "zones").await?;
        let mut out = Vec::new();
        for z in &items {
            let name = z
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| api::protocol(op, "a zone without a name"))?;
            if let Ok(f) = Fqdn::parse_relaxed(name) {
                out.push(f);
            }
        }
        Ok(out)
    }

    /// Every record of (rr, type) on the default line.
    async fn rows(
        &self,
        zone: &Fqdn,
        sub: &str,
        rtype: RecordType,
    ) -> Result<Vec<Row>, ProviderError> {
        let op = "ListRecord";
        let path = format!("/v1/dns/zone/{zone}/record");
        let items = match self
            .list_all(op, &path, &[("rr", sub.to_owned())], "records")
            .await
        {
            // A 404 on the zone's own path: the zone is not in this account.
            Err(CallError::Api {
                meaning: Meaning::Gone,
                text,
                ..
            }) => return Err(CallError::api(&TERMS, Meaning::ZoneNotFound, text).into()),
            other => other?,
        };
        let mut out = Vec::new();
        for item in &items {
            let (row, rr, typ, line) = row_of(item, op)?;
            // The list filters by rr only (no type filter): pick the managed rows out, and
            // check rr again so a lenient server cannot hand over someone else's.
            if rr.eq_ignore_ascii_case(sub)
                && typ.eq_ignore_ascii_case(rtype.as_str())
                && line == LINE
            {
                out.push(row);
            }
        }
        Ok(out)
    }
}

/// `host[:port]` of the endpoint.
fn host_of(endpoint: &str) -> Result<String, ProviderError> {
    let url = reqwest::Url::parse(endpoint).map_err(|_| {
        ProviderError::new(
            ProviderErrorKind::Rejected,
            format!("invalid endpoint {endpoint:?}"),
        )
    })?;
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => Ok(format!("{h}:{p}")),
        (Some(h), None) => Ok(h.to_owned()),
        (None, _) => Err(ProviderError::new(
            ProviderErrorKind::Rejected,
            format!("endpoint {endpoint:?} has no host"),
        )),
    }
}

/// A record and its rr, type and line.
fn row_of(item: &Value, op: &str) -> Result<(Row, String, String, String), ProviderError> {
    let id = match item.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(api::protocol(op, "a record without id")),
    };
    let text = |f: &str| item.get(f).and_then(Value::as_str).map(str::to_owned);
    let value = text("value").ok_or_else(|| api::protocol(op, "a record without value"))?;
    let ttl = item
        .get("ttl")
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .ok_or_else(|| api::protocol(op, "a record without ttl"))?;
    let rr = text("rr").ok_or_else(|| api::protocol(op, "a record without rr"))?;
    let typ = text("type").ok_or_else(|| api::protocol(op, "a record without type"))?;
    let line = text("line").unwrap_or_else(|| LINE.to_owned());
    if !typ.eq_ignore_ascii_case("A") && !typ.eq_ignore_ascii_case("AAAA") {
        // Not an address record: its value is not ours to parse (the caller skips it).
        return Ok((
            Row {
                id: Some(id),
                value: IpAddr::from([0, 0, 0, 0]),
                ttl,
            },
            rr,
            typ,
            line,
        ));
    }
    let parsed: IpAddr = value.parse().map_err(|_| {
        api::protocol(
            op,
            &format!("record {id} has a non-address value {value:?}"),
        )
    })?;
    Ok((
        Row {
            id: Some(id),
            value: parsed,
            ttl,
        },
        rr,
        typ,
        line,
    ))
}

impl RowApi for BaiduCloud {
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
            let body = json!({"rr": sub, "type": rtype.as_str(), "value": value.to_string(),
                "ttl": ttl, "line": LINE});
            match self
                .call(
                    "CreateRecord",
                    Method::Post,
                    &format!("/v1/dns/zone/{zone}/record"),
                    &[("clientToken", client_token())],
                    Some(&body),
                )
                .await
            {
                // The API answers no id: the hints leave the rows out, so the next write
                // reads first.
                Ok(_) => Ok(None),
                // The value is there already (a create whose reply was lost).
                Err(CallError::Api {
                    meaning: Meaning::Duplicate,
                    ..
                }) => Ok(None),
                Err(CallError::Api {
                    meaning: Meaning::Gone,
                    text,
                    ..
                }) => Err(RowError::Failed(
                    CallError::api(&TERMS, Meaning::ZoneNotFound, text).into(),
                )),
                Err(e) => Err(e.into()),
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
            let body = json!({"rr": sub, "type": rtype.as_str(), "value": value.to_string(),
                "ttl": ttl});
            self.call(
                "UpdateRecord",
                Method::Put,
                &format!("/v1/dns/zone/{zone}/record/{id}"),
                &[("clientToken", client_token())],
                Some(&body),
            )
            .await
            .map(|_| ())
            .map_err(RowError::from)
        })
    }

    fn delete<'a>(&'a self, zone: &'a Fqdn, id: &'a str) -> BoxFuture<'a, Result<(), RowError>> {
        Box::pin(async move {
            self.call(
                "DeleteRecord",
                Method::Delete,
                &format!("/v1/dns/zone/{zone}/record/{id}"),
                &[("clientToken", client_token())],
                None,
            )
            .await
            .map(|_| ())
            .map_err(RowError::from)
        })
    }
}

impl Provider for BaiduCloud {
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
        Box::pin(rows::apply_rows(self, desired, hints, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code table: permanent codes stop, the rest is retried.
    #[test]
    fn code_table() {
        use Meaning as M;
        for (code, status, want) in [
            ("InvalidAccessKeyId", 403, M::Auth),
            ("SignatureDoesNotMatch", 400, M::Auth),
            ("InvalidHTTPAuthHeader", 400, M::Auth),
            ("RequestExpired", 400, M::ClockSkew),
            ("AccessDenied", 403, M::Forbidden),
            ("OptInRequired", 403, M::Forbidden),
            ("MalformedJSON", 400, M::Rejected),
            ("InvalidParameterValue", 400, M::Rejected),
            ("InternalError", 500, M::Transient),
            ("ServiceUnavailable", 503, M::Transient),
            ("SomethingNew", 429, M::RateLimited),
            ("NoSuchZone", 404, M::Gone),
            ("DuplicateRecord", 409, M::Duplicate),
            ("SomethingNew", 400, M::Rejected),
            ("SomethingNew", 500, M::Transient),
            ("SomethingNew", 302, M::Transient),
        ] {
            assert_eq!(meaning(code, status), want, "{code} {status}");
        }
    }
}
