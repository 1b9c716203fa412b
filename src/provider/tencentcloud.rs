//! `kind = "tencentcloud"`: Tencent Cloud DNSPod API 3.0 (service `dnspod`, version
//! 2021-03-23), signed with TC3-HMAC-SHA256 (`tc3.rs`).
//!
//! Owns the wire format of the API 3.0 actions and the mapping of its error codes to
//! [`ProviderError`]s. Reference: `shared/providers/tencentcloud-dnspod.md`. Touches only the
//! rows of the managed (sub-domain, type, line).

use std::net::IpAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{json, Map, Value};

use serde::Deserialize;

use super::kit::api;
use super::kit::rows::{self, Row, RowApi, RowError};
use super::kit::zones::ZoneCache;
use super::sign::tc3::{self, Tc3Credentials, Tc3Request};
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints,
};
use crate::clock::Clock;
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{self, Backoff, HttpClient};
use crate::record::{Fqdn, RecordKey, RecordType, RrSet, Ttl};
use crate::secret::Secret;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "tencentcloud",
    about: "Tencent Cloud DNSPod, API 3.0 (SecretId + SecretKey, TC3-HMAC-SHA256)",
    example: r#"[providers.tencent]
kind = "tencentcloud"
secret_id = "AKID..."                   # CAM key with DNSPod write permission
secret_key_env = "TENCENTCLOUD_SECRET_KEY"   # or secret_key / secret_key_file
# zone = "example.com"                  # omit to find it among the account's domains
# record_line = "默认"
# endpoint = "https://dnspod.tencentcloudapi.com"
"#,
    configure,
};

/// The default API endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://dnspod.tencentcloudapi.com";
/// The default record line ("default").
pub const DEFAULT_LINE: &str = "默认";
/// The lowest TTL of DNSPod's free plan; lower TTLs are raised to it (with a warning).
pub const MIN_TTL: u32 = 600;

const SERVICE: &str = "dnspod";
const VERSION: &str = "2021-03-23";
const PAGE: u64 = 100;
const AUTH_HINT: &str = "check secret_id/secret_key; the key needs DNSPod write permission";

/// Settings of a Tencent Cloud DNSPod provider.
#[derive(Clone, Debug)]
pub struct TencentCloudSettings {
    /// SecretId (an identifier, shown in logs).
    pub secret_id: String,
    /// SecretKey.
    pub secret_key: Secret<String>,
    /// The zone (domain); `None` = found with DescribeDomainList.
    pub zone: Option<Fqdn>,
    /// The record line; `None` = the default line ("默认").
    pub record_line: Option<String>,
    /// API endpoint, default `https://dnspod.tencentcloudapi.com`.
    pub endpoint: String,
    /// Region header, if needed.
    pub region: Option<String>,
}

/// `[providers.NAME]` with `kind = "tencentcloud"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    secret_id: Option<Text>,
    secret_id_file: Option<Text>,
    secret_id_env: Option<Text>,
    secret_key: Option<Text>,
    secret_key_file: Option<Text>,
    secret_key_env: Option<Text>,
    zone: Option<Text>,
    record_line: Option<Text>,
    endpoint: Option<Text>,
    region: Option<Text>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let secret_id = f.secret(SecretFields {
        name: "secret_id",
        inline: &r.secret_id,
        file: &r.secret_id_file,
        env: &r.secret_id_env,
    });
    let secret_key = f.secret(SecretFields {
        name: "secret_key",
        inline: &r.secret_key,
        file: &r.secret_key_file,
        env: &r.secret_key_env,
    });
    let zone = fields::zone(f, &r.zone);
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(TencentCloudSettings {
        // The SecretId is an identifier (it appears in every request); only the key is secret.
        secret_id: secret_id?.expose().clone(),
        secret_key: secret_key?,
        zone: zone?,
        record_line: r.record_line.map(toml::Spanned::into_inner),
        endpoint: endpoint?,
        region: r.region.map(toml::Spanned::into_inner),
    }))
}

impl Configured for TencentCloudSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(TencentCloud::new(name.to_owned(), self.clone(), deps))
    }
}

/// A Tencent Cloud DNSPod API 3.0 provider.
pub struct TencentCloud {
    name: String,
    settings: TencentCloudSettings,
    clock: Arc<dyn Clock>,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    zones: ZoneCache,
    ttl_warned: AtomicBool,
}

impl TencentCloud {
    /// A provider named `name`.
    pub fn new(name: String, settings: TencentCloudSettings, deps: &ProviderDeps) -> TencentCloud {
        TencentCloud {
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

    fn line(&self) -> &str {
        self.settings.record_line.as_deref().unwrap_or(DEFAULT_LINE)
    }

    /// Calls `action` with `params`, retrying transient failures and rate limits; returns the
    /// `Response` object, or the API's error code for the caller to interpret.
    async fn call(&self, action: &'static str, params: Value) -> Result<Value, CallError> {
        let body = serde_json::to_vec(&params).map_err(|e| {
            CallError::Provider(ProviderError::new(
                ProviderErrorKind::Protocol,
                format!("{action}: could not encode the request: {e}"),
            ))
        })?;
        api::with_retries(
            &self.backoff,
            &self.name,
            action,
            |e| match e {
                CallError::Provider(p) => Some(p),
                _ => None,
            },
            || self.attempt(action, &body),
        )
        .await
    }

    async fn attempt(&self, action: &'static str, body: &[u8]) -> Result<Value, CallError> {
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
        let timestamp = self.clock.unix_secs();
        let content_type = "application/json";
        let signed = [
            ("content-type", content_type),
            ("host", host.as_str()),
            ("x-tc-action", action),
        ];
        let sig = tc3::sign(
            &Tc3Request {
                method: "POST",
                uri: "/",
                query: "",
                headers: &signed,
                payload: body,
            },
            SERVICE,
            Tc3Credentials {
                secret_id: &self.settings.secret_id,
                secret_key: self.settings.secret_key.expose(),
            },
            timestamp,
        );
        tracing::trace!(provider = %self.name, action, canonical_request = %sig.canonical_request, "signed");
        let mut headers = vec![
            ("Content-Type", content_type.to_owned()),
            ("Host", host.clone()),
            ("X-TC-Action", action.to_owned()),
            ("X-TC-Version", VERSION.to_owned()),
            ("X-TC-Timestamp", timestamp.to_string()),
            ("X-TC-Language", "en-US".to_owned()),
            ("Authorization", sig.authorization),
        ];
        if let Some(region) = &self.settings.region {
            headers.push(("X-TC-Region", region.clone()));
        }
        let resp = self
            .http
            .post(url.as_str(), &headers, body.to_vec(), self.timeout)
            .await
            .map_err(|e| {
                CallError::Provider(api::http_error(action, &e, !action.starts_with("Describe")))
            })?;
        tracing::debug!(provider = %self.name, action, status = resp.status, "reply");
        let reply = api::json_reply(action, &resp).map_err(CallError::Provider)?;
        let Some(response) = reply.get("Response").filter(|r| r.is_object()) else {
            return Err(CallError::Provider(api::protocol(
                action,
                "no \"Response\" object",
            )));
        };
        let Some(error) = response.get("Error") else {
            return Ok(response.clone());
        };
        let code = error.get("Code").and_then(Value::as_str).unwrap_or("");
        let message = error.get("Message").and_then(Value::as_str).unwrap_or("");
        let request_id = response
            .get("RequestId")
            .and_then(Value::as_str)
            .unwrap_or("");
        tracing::debug!(provider = %self.name, action, code, request_id, "api error");
        let text = format!("{action} failed: {code}: {message:?}");
        let meaning = code_meaning(code);
        let e = match meaning {
            Code::ClockSkew => {
                let (offset_secs, measured) = match resp.date {
                    Some(date) => (http::clock_offset_secs(date, self.clock.now()), true),
                    None => (0, false),
                };
                let mut e = ProviderError::new(
                    ProviderErrorKind::ClockSkew { offset_secs },
                    format!("{action}: the provider rejected the request time as expired ({code})"),
                );
                if !measured {
                    e = e.with_hint(
                        "this machine's clock differs from the provider's by more than 5 minutes; enable NTP",
                    );
                }
                e
            }
            Code::Forbidden => ProviderError::new(ProviderErrorKind::Forbidden, text).with_hint(
                "allow the key's CAM user to write DNSPod records (e.g. policy QcloudDNSPodFullAccess), and check that the account owns the domain",
            ),
            Code::Auth => ProviderError::new(ProviderErrorKind::Auth, text).with_hint(AUTH_HINT),
            Code::RateLimited => ProviderError::new(
                ProviderErrorKind::RateLimited {
                    retry_after: resp.retry_after,
                },
                text,
            ),
            Code::Transient => ProviderError::new(ProviderErrorKind::Transient, text),
            // Codes a caller may expect (an empty list, a vanished id, a duplicate), and the
            // permanent ones: the caller decides, `From<CallError>` says what is left.
            Code::Empty | Code::Gone | Code::Exists | Code::ZoneNotFound | Code::Rejected => {
                return Err(CallError::Api {
                    meaning,
                    text,
                })
            }
        };
        Err(CallError::Provider(e))
    }

    /// Every domain of the account (DescribeDomainList, paginated).
    async fn domains(&self) -> Result<Vec<Fqdn>, ProviderError> {
        let action = "DescribeDomainList";
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            api::page_allowed(action, offset / PAGE)?;
            let resp = match self
                .call(action, json!({"Offset": offset, "Limit": PAGE}))
                .await
            {
                Ok(r) => r,
                Err(CallError::Api {
                    meaning: Code::Empty,
                    ..
                }) => break,
                Err(e) => return Err(e.into()),
            };
            let list = array(&resp, "DomainList", action)?;
            for d in list {
                let name = d
                    .get("Punycode")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .or_else(|| d.get("Name").and_then(Value::as_str))
                    .ok_or_else(|| api::protocol(action, "a domain without a name"))?;
                if let Ok(f) = Fqdn::parse_relaxed(name) {
                    out.push(f);
                }
            }
            let total = resp
                .get("DomainCountInfo")
                .and_then(|c| c.get("AllTotal").or_else(|| c.get("DomainTotal")))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            offset += PAGE;
            if list.is_empty() || offset >= total {
                break;
            }
        }
        Ok(out)
    }
}

/// A call's failure: an API error code the caller may expect, or a final provider error.
#[derive(Debug)]
enum CallError {
    Api { meaning: Code, text: String },
    Provider(ProviderError),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Api { text, .. } => f.write_str(text),
            CallError::Provider(e) => e.fmt(f),
        }
    }
}

impl From<CallError> for ProviderError {
    fn from(e: CallError) -> ProviderError {
        match e {
            CallError::Provider(e) => e,
            CallError::Api {
                meaning: Code::ZoneNotFound,
                text,
            } => ProviderError::new(ProviderErrorKind::ZoneNotFound, text)
                .with_hint("check the zone: it must be a domain in this DNSPod account"),
            CallError::Api { text, .. } => ProviderError::new(ProviderErrorKind::Rejected, text),
        }
    }
}

impl From<CallError> for RowError {
    fn from(e: CallError) -> RowError {
        match e {
            CallError::Api {
                meaning: Code::Gone | Code::Empty,
                ..
            } => RowError::Gone,
            e => RowError::Failed(e.into()),
        }
    }
}

/// What an API 3.0 error code means to ddnsd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Code {
    /// The request time was rejected: clock skew.
    ClockSkew,
    /// The credentials were rejected.
    Auth,
    /// The key may not do this, or the account may not touch the domain.
    Forbidden,
    /// Throttled: retried after a delay.
    RateLimited,
    /// The domain is not in the account.
    ZoneNotFound,
    /// Nothing to list (an empty record or domain list).
    Empty,
    /// A record id the API does not know (deleted behind our back): re-read.
    Gone,
    /// The record already exists (a create whose first reply was lost).
    Exists,
    /// The request is invalid in a way that retrying cannot fix.
    Rejected,
    /// Anything else: server-side, passing, or unknown — backed off and retried.
    Transient,
}

/// The API 3.0 error-code table, the one place this adapter decides what a code means (issue 8
/// item 4; codes from `shared/providers/tencentcloud-dnspod.md` §5). Only codes Tencent
/// documents as permanent — bad parameters, limits such as the TTL minimum, permission,
/// credentials, a locked or foreign domain — stop retries; every other code, such as
/// `InternalError.*`, other `FailedOperation.*`, `ResourceUnavailable.*` or one added after
/// this table was written, is transient.
fn code_meaning(code: &str) -> Code {
    let family = code.split('.').next().unwrap_or(code);
    match code {
        "AuthFailure.SignatureExpire" => Code::ClockSkew,
        "AuthFailure.UnauthorizedOperation" => Code::Forbidden,
        _ if family == "AuthFailure" => Code::Auth,
        _ if family == "UnauthorizedOperation" || family == "OperationDenied" => Code::Forbidden,
        "FailedOperation.DomainIsLocked"
        | "FailedOperation.DomainIsSpam"
        | "FailedOperation.NotDomainOwner"
        | "FailedOperation.AccountIsLocked" => Code::Forbidden,
        "FailedOperation.FrequencyLimit" => Code::RateLimited,
        _ if family == "RequestLimitExceeded" => Code::RateLimited,
        "ResourceNotFound.NoDataOfRecord" | "ResourceNotFound.NoDataOfDomain" => Code::Empty,
        "InvalidParameter.RecordIdInvalid" => Code::Gone,
        "InvalidParameter.DomainRecordExist" => Code::Exists,
        "InvalidParameterValue.DomainNotExists"
        | "InvalidParameter.DomainInvalid"
        | "InvalidParameter.DomainIdInvalid" => Code::ZoneNotFound,
        // "The domain is being taken into effect or invalidated": a state that passes.
        "InvalidParameter.DomainNotAllowedModifyRecords" => Code::Transient,
        "InvalidAction" | "NoSuchVersion" | "ActionOffline" => Code::Rejected,
        _ if matches!(
            family,
            "InvalidParameter"
                | "InvalidParameterValue"
                | "MissingParameter"
                | "UnknownParameter"
                | "LimitExceeded"
                | "UnsupportedOperation"
        ) =>
        {
            Code::Rejected
        }
        _ => Code::Transient,
    }
}

fn array<'v>(v: &'v Value, field: &str, action: &str) -> Result<&'v Vec<Value>, ProviderError> {
    match v.get(field) {
        Some(Value::Array(a)) => Ok(a),
        // The API sends null for an empty list in some versions.
        Some(Value::Null) | None if field == "RecordList" => {
            static EMPTY: Vec<Value> = Vec::new();
            Ok(&EMPTY)
        }
        _ => Err(api::protocol(action, &format!("no {field:?} array"))),
    }
}

fn row_of(item: &Value, action: &str) -> Result<(Row, String, String, String), ProviderError> {
    let id = match item.get("RecordId") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => return Err(api::protocol(action, "a record without RecordId")),
    };
    let text = |f: &str| item.get(f).and_then(Value::as_str).map(str::to_owned);
    let value = text("Value").ok_or_else(|| api::protocol(action, "a record without Value"))?;
    let ttl = item
        .get("TTL")
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .ok_or_else(|| api::protocol(action, "a record without TTL"))?;
    let value: IpAddr = value.parse().map_err(|_| {
        api::protocol(
            action,
            &format!("record {id} has a non-address value {value:?}"),
        )
    })?;
    Ok((
        Row {
            id: Some(id),
            value,
            ttl,
        },
        text("Name").unwrap_or_default(),
        text("Type").unwrap_or_default(),
        text("Line").unwrap_or_default(),
    ))
}

impl RowApi for TencentCloud {
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
            let action = "DescribeRecordList";
            let mut out = Vec::new();
            let mut offset = 0;
            loop {
                api::page_allowed(action, offset / PAGE)?;
                let params = json!({
                    "Domain": zone.as_str(),
                    "Subdomain": sub,
                    "RecordType": rtype.as_str(),
                    "Offset": offset,
                    "Limit": PAGE,
                });
                let resp = match self.call(action, params).await {
                    Ok(r) => r,
                    Err(CallError::Api {
                        meaning: Code::Empty,
                        ..
                    }) => break,
                    Err(e) => return Err(e.into()),
                };
                let list = array(&resp, "RecordList", action)?;
                for item in list {
                    let (row, name, typ, line) = row_of(item, action)?;
                    if name == sub && typ == rtype.as_str() && line == self.line() {
                        out.push(row);
                    }
                }
                let total = resp
                    .get("RecordCountInfo")
                    .and_then(|c| c.get("TotalCount"))
                    .and_then(Value::as_u64)
                    .ok_or_else(|| api::protocol(action, "no RecordCountInfo.TotalCount"))?;
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
            let action = "CreateRecord";
            let params = json!({
                "Domain": zone.as_str(),
                "SubDomain": sub,
                "RecordType": rtype.as_str(),
                "RecordLine": self.line(),
                "Value": value.to_string(),
                "TTL": ttl,
            });
            match self.call(action, params).await {
                Ok(resp) => match resp.get("RecordId") {
                    Some(Value::Number(n)) => Ok(Some(n.to_string())),
                    _ => Err(RowError::Failed(api::protocol(action, "no RecordId"))),
                },
                // Already there (e.g. a retried create whose first reply was lost).
                Err(CallError::Api {
                    meaning: Code::Exists,
                    ..
                }) => Ok(None),
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
            let record_id = parse_id(id)?;
            // SubDomain is always sent: omitted, it would move the record to the apex (§4.4).
            let mut params = Map::new();
            params.insert("Domain".into(), json!(zone.as_str()));
            params.insert("SubDomain".into(), json!(sub));
            params.insert("RecordType".into(), json!(rtype.as_str()));
            params.insert("RecordLine".into(), json!(self.line()));
            params.insert("Value".into(), json!(value.to_string()));
            params.insert("RecordId".into(), json!(record_id));
            params.insert("TTL".into(), json!(ttl));
            self.call("ModifyRecord", Value::Object(params))
                .await
                .map(|_| ())
                .map_err(RowError::from)
        })
    }

    fn delete<'a>(&'a self, zone: &'a Fqdn, id: &'a str) -> BoxFuture<'a, Result<(), RowError>> {
        Box::pin(async move {
            let record_id = parse_id(id)?;
            self.call(
                "DeleteRecord",
                json!({"Domain": zone.as_str(), "RecordId": record_id}),
            )
            .await
            .map(|_| ())
            .map_err(RowError::from)
        })
    }
}

/// Record ids are integers on the wire; a remembered id that is not one is stale.
fn parse_id(id: &str) -> Result<u64, RowError> {
    id.parse().map_err(|_| RowError::Gone)
}

impl Provider for TencentCloud {
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
    fn error_code_table() {
        let cases = [
            ("AuthFailure.SignatureExpire", Code::ClockSkew),
            ("AuthFailure.SignatureFailure", Code::Auth),
            ("AuthFailure.SecretIdNotFound", Code::Auth),
            ("AuthFailure.InvalidSecretId", Code::Auth),
            ("AuthFailure.InvalidAuthorization", Code::Auth),
            ("AuthFailure.TokenFailure", Code::Auth),
            ("AuthFailure.MFAFailure", Code::Auth),
            ("AuthFailure.UnauthorizedOperation", Code::Forbidden),
            ("UnauthorizedOperation", Code::Forbidden),
            ("UnauthorizedOperation.RoleUnauthorized", Code::Forbidden),
            ("OperationDenied.DomainOwnerAllowedOnly", Code::Forbidden),
            (
                "OperationDenied.NoPermissionToOperateDomain",
                Code::Forbidden,
            ),
            ("OperationDenied.AccessDenied", Code::Forbidden),
            ("FailedOperation.DomainIsLocked", Code::Forbidden),
            ("FailedOperation.DomainIsSpam", Code::Forbidden),
            ("FailedOperation.NotDomainOwner", Code::Forbidden),
            ("FailedOperation.AccountIsLocked", Code::Forbidden),
            ("RequestLimitExceeded", Code::RateLimited),
            ("RequestLimitExceeded.UinLimitExceeded", Code::RateLimited),
            (
                "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
                Code::RateLimited,
            ),
            (
                "RequestLimitExceeded.RequestLimitExceeded",
                Code::RateLimited,
            ),
            ("FailedOperation.FrequencyLimit", Code::RateLimited),
            ("ResourceNotFound.NoDataOfRecord", Code::Empty),
            ("ResourceNotFound.NoDataOfDomain", Code::Empty),
            ("InvalidParameter.RecordIdInvalid", Code::Gone),
            ("InvalidParameter.DomainRecordExist", Code::Exists),
            ("InvalidParameterValue.DomainNotExists", Code::ZoneNotFound),
            ("InvalidParameter.DomainInvalid", Code::ZoneNotFound),
            ("InvalidParameter.DomainIdInvalid", Code::ZoneNotFound),
            ("InvalidParameter.SubdomainInvalid", Code::Rejected),
            ("InvalidParameter.RecordLineInvalid", Code::Rejected),
            ("InvalidParameter.RecordTypeInvalid", Code::Rejected),
            ("InvalidParameter.RecordValueInvalid", Code::Rejected),
            ("InvalidParameter.RecordValueLengthInvalid", Code::Rejected),
            ("InvalidParameter.MxInvalid", Code::Rejected),
            ("InvalidParameterValue.LimitInvalid", Code::Rejected),
            ("LimitExceeded.OffsetExceeded", Code::Rejected),
            ("LimitExceeded.RecordTtlLimit", Code::Rejected),
            ("LimitExceeded.AAAACountLimit", Code::Rejected),
            ("LimitExceeded.SubdomainRollLimit", Code::Rejected),
            ("MissingParameter", Code::Rejected),
            ("InvalidParameter", Code::Rejected),
            ("UnsupportedOperation", Code::Rejected),
            ("InvalidAction", Code::Rejected),
            ("NoSuchVersion", Code::Rejected),
            ("ActionOffline", Code::Rejected),
            (
                "InvalidParameter.DomainNotAllowedModifyRecords",
                Code::Transient,
            ),
            ("InternalError", Code::Transient),
            ("InternalError.DbError", Code::Transient),
            ("InternalError.UndefinedError", Code::Transient),
            ("FailedOperation", Code::Transient),
            ("FailedOperation.UnknowError", Code::Transient),
            ("FailedOperation.TemporaryError", Code::Transient),
            ("ResourceUnavailable", Code::Transient),
            ("ResourceUnavailable.SomethingNew", Code::Transient),
            ("ResourceNotFound", Code::Transient),
            ("DryRunOperation", Code::Transient),
            ("SomeCodeAddedNextYear", Code::Transient),
            ("", Code::Transient),
        ];
        for (code, want) in cases {
            assert_eq!(code_meaning(code), want, "{code:?}");
        }
    }
}
