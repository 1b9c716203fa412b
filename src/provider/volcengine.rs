//! `kind = "volcengine"`: Volcengine DNS (云解析 / TrafficRoute, OpenAPI version 2018-08-01),
//! signed with Volcengine's HMAC-SHA256 V4 (`sign/volc.rs`).
//!
//! Owns the wire format of ListZones / ListRecords / CreateRecord / UpdateRecord /
//! DeleteRecord (each a `POST /?Action=…&Version=2018-08-01` with a JSON body, as the Go SDK
//! sends them) and the mapping of Volcengine's error codes to [`ProviderError`]s (`meaning`,
//! the one code table). Volcengine keeps one record (with a `RecordID`) per value, so the
//! RRset is reconciled by `kit::rows`: ids are reused with UpdateRecord, never deleted and
//! re-created. Touches only the records of the managed (host, type) on the `default` line.
//! Reference: `shared/providers/china-clouds.md` §3 and Volcengine's common error-code table.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};

use super::kit::api::{self, ApiTerms, CallError, Meaning};
use super::kit::rows::{self, Row, RowApi, RowError};
use super::kit::zones::ZoneCache;
use super::sign::volc::{self, VolcCredentials, VolcRequest, VolcScope};
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
    name: "volcengine",
    about: "Volcengine DNS / TrafficRoute (AK/SK, HMAC-SHA256 V4)",
    example: r#"[providers.volc]
kind = "volcengine"
access_key_id = "AKLT..."               # an IAM user's access key; policy TrafficRouteDNSFullAccess
secret_access_key_env = "VOLCENGINE_SECRET_ACCESS_KEY"   # or secret_access_key / secret_access_key_file
# zone = "example.com"                  # omit to find it among the account's zones
# region = "cn-north-1"                 # the signature's region
# endpoint = "https://open.volcengineapi.com"
"#,
    configure,
};

/// The default API endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://open.volcengineapi.com";
/// The default signing region.
pub const DEFAULT_REGION: &str = "cn-north-1";
/// The service name of the credential scope.
pub const SERVICE_NAME: &str = "DNS";
/// The only line ddnsd reads or writes; records on other lines are someone else's.
pub const LINE: &str = "default";
/// The lowest TTL of Volcengine's free edition: lower TTLs are raised to it.
pub const MIN_TTL: u32 = 600;

const VERSION: &str = "2018-08-01";
/// `PageSize` of both lists (ListRecords pages by 10 without it, ddns-go#1495).
const PAGE: u64 = 100;
const SERVICE: &str = "Volcengine DNS";
/// How Volcengine's failures are worded.
static TERMS: ApiTerms = ApiTerms {
    auth_hint: "check access_key_id/secret_access_key; the key's IAM user needs the TrafficRouteDNSFullAccess policy",
    forbidden_hint: "grant the key's IAM user the TrafficRouteDNSFullAccess policy (or dns:ListZones, ListRecords, CreateRecord, UpdateRecord and DeleteRecord)",
    // Names SERVICE, spelled out (a static cannot format).
    zone_hint: "check the zone: it must be a zone of this Volcengine DNS account",
    clock_hint: "this machine's clock differs from the provider's by more than 15 minutes; enable NTP",
    gone_is_zone: false,
};

/// Settings of a Volcengine DNS provider.
#[derive(Clone, Debug)]
pub struct VolcengineSettings {
    /// Access Key ID (an identifier, sent with every request).
    pub access_key_id: String,
    /// Secret Access Key.
    pub secret_access_key: Secret<String>,
    /// The signature's region (`cn-north-1`).
    pub region: String,
    /// The zone; `None` = found among the account's zones.
    pub zone: Option<Fqdn>,
    /// API endpoint, default `https://open.volcengineapi.com`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "volcengine"`.
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
    region: Option<Text>,
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
    let region = match &r.region {
        None => Some(DEFAULT_REGION.to_owned()),
        Some(t) => {
            let v = t.get_ref().trim();
            let ok = !v.is_empty()
                && v.split('-').all(|p| {
                    !p.is_empty()
                        && p.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                });
            if ok {
                Some(v.to_owned())
            } else {
                f.problem(
                    t.span(),
                    format!("region {:?} is not a region name", t.get_ref()),
                    Some(
                        "write a Volcengine region such as \"cn-north-1\" (the DNS API's)"
                            .to_owned(),
                    ),
                );
                None
            }
        }
    };
    let zone = fields::zone(f, &r.zone);
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(VolcengineSettings {
        // The AK is an identifier (it travels in every Authorization header); only the SK is
        // secret.
        access_key_id: access_key_id?.expose().clone(),
        secret_access_key: secret_access_key?,
        region: region?,
        zone: zone?,
        endpoint: endpoint?,
    }))
}

impl Configured for VolcengineSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Volcengine::new(name.to_owned(), self.clone(), deps))
    }
}

/// A Volcengine DNS provider.
pub struct Volcengine {
    name: String,
    settings: VolcengineSettings,
    clock: Arc<dyn Clock>,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    zones: ZoneCache,
    /// Zone name → ZID, learned while listing.
    zids: Mutex<BTreeMap<String, u64>>,
    ttl_warned: std::sync::atomic::AtomicBool,
}

/// The code table. Common codes from Volcengine's "公共错误码" table: `InvalidAccessKey`
/// (100009, 401), `SignatureDoesNotMatch` (100010, 401), `InvalidAuthorization`,
/// `InvalidCredential`, `MissingAuthenticationToken` → Auth; `InvalidTimestamp` (100006) →
/// ClockSkew; `AccessDenied` (100013, 403) → Forbidden; `FlowLimitExceeded` /
/// `AccountFlowLimitExceeded` (429) → RateLimited; `MissingParameter`, `InvalidParameter*`,
/// `InvalidActionOrVersion`, `ServiceNotFound` → Rejected; `InternalError`,
/// `InternalServiceTimeout`, `ServiceUnavailableTemp` → Transient. DNS codes as quoted in
/// public issues: `ErrDBDuplicated` (400103) → Duplicate; `RecordNotFound` / `ZoneNotFound`
/// style codes → Gone / ZoneNotFound. Every other code is transient.
fn meaning(code: &str) -> Meaning {
    match code {
        "InvalidAccessKey"
        | "SignatureDoesNotMatch"
        | "InvalidAuthorization"
        | "InvalidCredential"
        | "MissingAuthenticationToken"
        | "MissingSignature" => Meaning::Auth,
        "InvalidTimestamp" => Meaning::ClockSkew,
        "AccessDenied" | "LackProjectPolicy" => Meaning::Forbidden,
        "FlowLimitExceeded" | "AccountFlowLimitExceeded" => Meaning::RateLimited,
        "ZoneNotFound" | "ErrZoneNotFound" | "ZoneNotExist" => Meaning::ZoneNotFound,
        "RecordNotFound" | "ErrRecordNotFound" | "RecordNotExist" => Meaning::Gone,
        "ErrDBDuplicated" | "RecordDuplicated" => Meaning::Duplicate,
        "MissingParameter"
        | "MissingRequestInfo"
        | "InvalidActionOrVersion"
        | "ServiceNotFound" => Meaning::Rejected,
        c if c.starts_with("InvalidParameter") => Meaning::Rejected,
        // InternalError, InternalServiceTimeout, ServiceUnavailableTemp and every other code.
        _ => Meaning::Transient,
    }
}

fn is_write(action: &str) -> bool {
    !action.starts_with("List")
}

impl Volcengine {
    /// A provider named `name`.
    pub fn new(name: String, settings: VolcengineSettings, deps: &ProviderDeps) -> Volcengine {
        Volcengine {
            name,
            settings,
            clock: deps.clock.clone(),
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            zones: ZoneCache::default(),
            zids: Mutex::new(BTreeMap::new()),
            ttl_warned: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Calls `action` with the JSON `params`, retrying transient failures and rate limits
    /// (each attempt signed afresh); returns the reply's `Result` object.
    async fn call(&self, action: &'static str, params: &Value) -> Result<Value, CallError> {
        let payload = serde_json::to_vec(params).map_err(|e| {
            CallError::Provider(ProviderError::new(
                ProviderErrorKind::Protocol,
                format!("{action}: could not encode the request: {e}"),
            ))
        })?;
        api::with_retries(
            &self.backoff,
            &self.name,
            action,
            CallError::as_provider,
            || self.attempt(action, &payload),
        )
        .await
    }

    async fn attempt(&self, action: &'static str, payload: &[u8]) -> Result<Value, CallError> {
        let url = reqwest::Url::parse(&self.settings.endpoint).map_err(|_| {
            CallError::Provider(ProviderError::new(
                ProviderErrorKind::Rejected,
                format!("invalid endpoint {:?}", self.settings.endpoint),
            ))
        })?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => {
                return Err(CallError::Provider(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    format!("endpoint {:?} has no host", self.settings.endpoint),
                )))
            }
        };
        let sig = volc::sign(
            &VolcRequest {
                method: "POST",
                path: "/",
                query: &[("Action", action), ("Version", VERSION)],
                headers: &[("host", &host), ("content-type", "application/json")],
                payload,
            },
            VolcCredentials {
                access_key_id: &self.settings.access_key_id,
                secret_access_key: self.settings.secret_access_key.expose(),
            },
            VolcScope {
                region: &self.settings.region,
                service: SERVICE_NAME,
            },
            self.clock.unix_secs(),
        );
        tracing::trace!(provider = %self.name, action, canonical_request = %sig.canonical_request, "signed");
        let mut headers: Vec<(&str, String)> = sig
            .headers
            .iter()
            // The signed host may lack a default port; send the real one.
            .filter(|(n, _)| n != "host")
            .map(|(n, v)| (n.as_str(), v.clone()))
            .collect();
        headers.push(("host", host.clone()));
        headers.push(("authorization", sig.authorization.clone()));
        let target = format!(
            "{}/?{}",
            self.settings.endpoint.trim_end_matches('/'),
            sig.canonical_query
        );
        let resp = self
            .http
            .send(Request {
                method: Method::Post,
                url: &target,
                headers: &headers,
                body: payload.to_vec(),
                timeout: self.timeout,
            })
            .await
            .map_err(|e| CallError::Provider(api::http_error(action, &e, is_write(action))))?;
        tracing::debug!(provider = %self.name, action, status = resp.status, "reply");
        self.interpret(action, &resp)
    }

    /// The reply of `action`: its `Result` on success, else the error its
    /// `ResponseMetadata.Error` (or status) names.
    fn interpret(&self, action: &str, resp: &http::HttpResponse) -> Result<Value, CallError> {
        let parsed = serde_json::from_slice::<Value>(&resp.body);
        let error = parsed.as_ref().ok().and_then(|v| {
            let meta = v.get("ResponseMetadata")?;
            let e = meta.get("Error")?;
            let code = e.get("Code")?.as_str()?.to_owned();
            let message = e
                .get("Message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let request_id = meta
                .get("RequestId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            Some((code, message, request_id))
        });
        if resp.status == 200 && error.is_none() {
            let v = parsed.map_err(|e| {
                CallError::Provider(ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("{action}: the reply is not valid json ({e})"),
                ))
            })?;
            return Ok(v.get("Result").cloned().unwrap_or(Value::Null));
        }
        let Some((code, message, request_id)) = error else {
            return Err(CallError::Provider(api::status_error(action, resp)));
        };
        tracing::debug!(provider = %self.name, action, code, request_id, status = resp.status, "api error");
        Err(TERMS.code_error(
            action,
            &code,
            &message,
            meaning(&code),
            resp,
            self.clock.now(),
        ))
    }

    fn zid_cache(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.zids.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The zones of the account (all, or those matching `key` exactly), remembering ZIDs.
    async fn list_zones(&self, key: Option<&Fqdn>) -> Result<Vec<Fqdn>, ProviderError> {
        let action = "ListZones";
        let mut out = Vec::new();
        let mut page = 1u64;
        let mut seen = 0u64;
        loop {
            let mut params = json!({"PageNumber": page, "PageSize": PAGE});
            if let Some(k) = key {
                params["Key"] = json!(k.as_str());
                params["SearchMode"] = json!("exact");
            }
            let resp = self.call(action, &params).await?;
            let list = resp
                .get("Zones")
                .and_then(Value::as_array)
                .ok_or_else(|| api::protocol(action, "no Zones array"))?;
            for z in list {
                let (Some(zid), Some(name)) = (
                    z.get("ZID").and_then(Value::as_u64),
                    z.get("ZoneName").and_then(Value::as_str),
                ) else {
                    return Err(api::protocol(action, "a zone without ZID or ZoneName"));
                };
                if let Ok(f) = Fqdn::parse_relaxed(name) {
                    self.zid_cache().insert(f.to_string(), zid);
                    out.push(f);
                }
            }
            let total = resp
                .get("Total")
                .and_then(Value::as_u64)
                .ok_or_else(|| api::protocol(action, "no Total"))?;
            // Counted by what came, not by what was asked: a server may give smaller pages.
            seen += list.len() as u64;
            if list.is_empty() || seen >= total {
                break;
            }
            page += 1;
        }
        Ok(out)
    }

    /// The ZID of `zone` (from the cache, else looked up by name).
    async fn zid(&self, zone: &Fqdn) -> Result<u64, ProviderError> {
        if let Some(z) = self.zid_cache().get(zone.as_str()) {
            return Ok(*z);
        }
        let found = self.list_zones(Some(zone)).await?;
        match self.zid_cache().get(zone.as_str()) {
            Some(z) if found.contains(zone) => Ok(*z),
            _ => Err(ProviderError::new(
                ProviderErrorKind::ZoneNotFound,
                format!("{zone} is not a zone of this {SERVICE} account"),
            )
            .with_hint(format!(
                "add the zone in the {SERVICE} console, or check the zone setting"
            ))),
        }
    }

    /// Every record of (host, type) on the default line.
    async fn rows(
        &self,
        zone: &Fqdn,
        sub: &str,
        rtype: RecordType,
    ) -> Result<Vec<Row>, ProviderError> {
        let action = "ListRecords";
        let zid = self.zid(zone).await?;
        let mut out = Vec::new();
        let mut page = 1u64;
        let mut seen = 0u64;
        loop {
            let params = json!({"ZID": zid, "Host": sub, "Type": rtype.as_str(),
                "SearchMode": "exact", "PageNumber": page, "PageSize": PAGE});
            let resp = match self.call(action, &params).await {
                Err(
                    e @ CallError::Api {
                        meaning: Meaning::ZoneNotFound,
                        ..
                    },
                ) => {
                    // The remembered ZID is stale (the zone was deleted and added again).
                    self.zid_cache().remove(zone.as_str());
                    return Err(e.into());
                }
                other => other?,
            };
            let list = resp
                .get("Records")
                .and_then(Value::as_array)
                .ok_or_else(|| api::protocol(action, "no Records array"))?;
            for item in list {
                let (row, host, typ, line) = row_of(item, action)?;
                // Exact search is asked for; the check keeps a lenient server from handing
                // over someone else's records.
                if host.eq_ignore_ascii_case(sub)
                    && typ.eq_ignore_ascii_case(rtype.as_str())
                    && line == LINE
                {
                    out.push(row);
                }
            }
            let total = resp
                .get("TotalCount")
                .and_then(Value::as_u64)
                .ok_or_else(|| api::protocol(action, "no TotalCount"))?;
            seen += list.len() as u64;
            if list.is_empty() || seen >= total {
                break;
            }
            page += 1;
        }
        Ok(out)
    }
}

/// A record and its host, type and line.
fn row_of(item: &Value, action: &str) -> Result<(Row, String, String, String), ProviderError> {
    let id = match item.get("RecordID") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(api::protocol(action, "a record without RecordID")),
    };
    let text = |f: &str| item.get(f).and_then(Value::as_str).map(str::to_owned);
    let value = text("Value").ok_or_else(|| api::protocol(action, "a record without Value"))?;
    let ttl = item
        .get("TTL")
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .ok_or_else(|| api::protocol(action, "a record without TTL"))?;
    let host = text("Host").ok_or_else(|| api::protocol(action, "a record without Host"))?;
    let typ = text("Type").ok_or_else(|| api::protocol(action, "a record without Type"))?;
    let line = text("Line").unwrap_or_else(|| LINE.to_owned());
    let parsed: IpAddr = value.parse().map_err(|_| {
        api::protocol(
            action,
            &format!("record {id} has a non-address value {value:?}"),
        )
    })?;
    Ok((
        Row {
            id: Some(id),
            value: parsed,
            ttl,
        },
        host,
        typ,
        line,
    ))
}

impl RowApi for Volcengine {
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
                    self.list_zones(None)
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
            let action = "CreateRecord";
            let zid = self.zid(zone).await?;
            let params = json!({"ZID": zid, "Host": sub, "Type": rtype.as_str(),
                "Value": value.to_string(), "TTL": ttl, "Line": LINE});
            match self.call(action, &params).await {
                Ok(resp) => match resp.get("RecordID") {
                    Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
                    Some(Value::Number(n)) => Ok(Some(n.to_string())),
                    _ => Err(RowError::Failed(api::protocol(action, "no RecordID"))),
                },
                // The value is there already (a create whose reply was lost): its id is
                // unknown, so the hints leave the rows out and the next write reads first.
                Err(CallError::Api {
                    meaning: Meaning::Duplicate,
                    ..
                }) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn modify<'a>(
        &'a self,
        _zone: &'a Fqdn,
        sub: &'a str,
        rtype: RecordType,
        id: &'a str,
        value: IpAddr,
        ttl: u32,
    ) -> BoxFuture<'a, Result<(), RowError>> {
        Box::pin(async move {
            let params = json!({"RecordID": id, "Host": sub, "Line": LINE,
                "Type": rtype.as_str(), "Value": value.to_string(), "TTL": ttl});
            self.call("UpdateRecord", &params)
                .await
                .map(|_| ())
                .map_err(RowError::from)
        })
    }

    fn delete<'a>(&'a self, _zone: &'a Fqdn, id: &'a str) -> BoxFuture<'a, Result<(), RowError>> {
        Box::pin(async move {
            self.call("DeleteRecord", &json!({"RecordID": id}))
                .await
                .map(|_| ())
                .map_err(RowError::from)
        })
    }
}

impl Provider for Volcengine {
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

    fn effective_ttl(&self, ttl: crate::record::Ttl) -> crate::record::Ttl {
        rows::raise_ttl(&self.name, ttl, MIN_TTL, &self.ttl_warned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code table: permanent codes stop, the rest is retried.
    #[test]
    fn code_table() {
        use Meaning as M;
        for (code, want) in [
            ("InvalidAccessKey", M::Auth),
            ("SignatureDoesNotMatch", M::Auth),
            ("InvalidAuthorization", M::Auth),
            ("InvalidTimestamp", M::ClockSkew),
            ("AccessDenied", M::Forbidden),
            ("FlowLimitExceeded", M::RateLimited),
            ("AccountFlowLimitExceeded", M::RateLimited),
            ("ErrDBDuplicated", M::Duplicate),
            ("RecordNotFound", M::Gone),
            ("ZoneNotFound", M::ZoneNotFound),
            ("MissingParameter", M::Rejected),
            ("InvalidParameter.Value", M::Rejected),
            ("InvalidActionOrVersion", M::Rejected),
            ("InternalError", M::Transient),
            ("InternalServiceTimeout", M::Transient),
            ("ServiceUnavailableTemp", M::Transient),
            ("SomethingNew", M::Transient),
        ] {
            assert_eq!(meaning(code), want, "{code}");
        }
    }
}
