//! `kind = "alidns"`: Alibaba Cloud DNS (Alidns) API 2015-01-09, RPC style, signed with
//! ACS3-HMAC-SHA256 (`sign/acs3.rs`).
//!
//! Owns the wire format of DescribeDomains / DescribeSubDomainRecords / AddDomainRecord /
//! UpdateDomainRecord / DeleteDomainRecord and the mapping of Alidns error codes to
//! [`ProviderError`]s (`meaning`, the one code table). Alidns keeps one row (with a
//! `RecordId`) per value, so the RRset is reconciled by `kit::rows`: ids are reused with
//! UpdateDomainRecord, never deleted and re-created. Touches only the rows of the managed
//! (host, type) on the `default` line. Reference: `shared/providers/alidns.md`.

use std::net::IpAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::Value;

use super::kit::api::{self, ApiTerms, CallError, Meaning};
use super::kit::rows::{self, Row, RowApi, RowError};
use super::kit::zones::ZoneCache;
use super::sign::acs3::{self, Acs3Credentials, Acs3Request};
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints,
};
use crate::clock::Clock;
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{self, Backoff, HttpClient, Method, Request};
use crate::record::{Fqdn, RecordKey, RecordType, RrSet, Ttl};
use crate::secret::Secret;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "alidns",
    about: "Alibaba Cloud DNS, Alidns API 2015-01-09 (AccessKey ID + secret, ACS3-HMAC-SHA256)",
    example: r#"[providers.aliyun]
kind = "alidns"
access_key_id = "LTAI..."               # a RAM user's AccessKey; policy AliyunDNSFullAccess
access_key_secret_env = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"   # or access_key_secret / access_key_secret_file
# zone = "example.com"                  # omit to find it among the account's domains
# endpoint = "https://alidns.aliyuncs.com"
"#,
    configure,
};

/// The default API endpoint (the public one; regional `alidns.REGION.aliyuncs.com` exist).
pub const DEFAULT_ENDPOINT: &str = "https://alidns.aliyuncs.com";
/// The only line ddnsd reads or writes; rows on other lines are someone else's.
pub const LINE: &str = "default";
/// The lowest TTL of Alidns' free edition (`QuotaExceeded.TTL`: "a valid TTL must be in the
/// range of 600 to 86400"); lower TTLs are raised to it, with a warning.
pub const MIN_TTL: u32 = 600;

const VERSION: &str = "2015-01-09";
/// DescribeDomains and DescribeSubDomainRecords take at most 100 per page (`alidns.md` §4).
const PAGE: u64 = 100;
const SERVICE: &str = "Alibaba Cloud DNS";
/// How Alidns' failures are worded.
static TERMS: ApiTerms = ApiTerms {
    auth_hint: "check access_key_id/access_key_secret; the key's RAM user needs the AliyunDNSFullAccess policy",
    forbidden_hint: "grant the key's RAM user the AliyunDNSFullAccess policy (or alidns:DescribeDomains, DescribeSubDomainRecords, AddDomainRecord, UpdateDomainRecord and DeleteDomainRecord on this domain)",
    zone_hint: "check the zone: it must be a domain of this Alibaba Cloud account",
    clock_hint: "this machine's clock differs from the provider's by more than 15 minutes; enable NTP",
    gone_is_zone: false,
};

/// Settings of an Alibaba Cloud DNS provider.
#[derive(Clone, Debug)]
pub struct AlidnsSettings {
    /// AccessKey ID (an identifier, sent with every request).
    pub access_key_id: String,
    /// AccessKey secret.
    pub access_key_secret: Secret<String>,
    /// The zone (domain); `None` = found with DescribeDomains.
    pub zone: Option<Fqdn>,
    /// API endpoint, default `https://alidns.aliyuncs.com`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "alidns"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    access_key_id: Option<Text>,
    access_key_id_file: Option<Text>,
    access_key_id_env: Option<Text>,
    access_key_secret: Option<Text>,
    access_key_secret_file: Option<Text>,
    access_key_secret_env: Option<Text>,
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
    let access_key_secret = f.secret(SecretFields {
        name: "access_key_secret",
        inline: &r.access_key_secret,
        file: &r.access_key_secret_file,
        env: &r.access_key_secret_env,
    });
    let zone = fields::zone(f, &r.zone);
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(AlidnsSettings {
        // The ID is an identifier (it travels in every Authorization header); only the secret
        // is secret.
        access_key_id: access_key_id?.expose().clone(),
        access_key_secret: access_key_secret?,
        zone: zone?,
        endpoint: endpoint?,
    }))
}

impl Configured for AlidnsSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Alidns::new(name.to_owned(), self.clone(), deps))
    }
}

/// An Alibaba Cloud DNS provider.
pub struct Alidns {
    name: String,
    settings: AlidnsSettings,
    clock: Arc<dyn Clock>,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    zones: ZoneCache,
    ttl_warned: AtomicBool,
}

/// The code table (`alidns.md` §5, and the bodies quoted in public issues: HTTP status, code
/// and message of `InvalidAccessKeyId.NotFound` (404), `SignatureDoesNotMatch`,
/// `InvalidTimeStamp.Expired`, `Forbidden.RAM`, `DomainRecordDuplicate`,
/// `DomainRecordNotBelongToUser`, `IncorrectDomainUser`, `QuotaExceeded.TTL` (all 400)). Only
/// codes documented as permanent stop retries; an unknown code is transient (see
/// docs/design/providers.md).
fn meaning(code: &str) -> Meaning {
    match code {
        "InvalidAccessKeyId"
        | "InvalidAccessKeyId.NotFound"
        | "InvalidAccessKeyId.Inactive"
        | "SignatureDoesNotMatch" => Meaning::Auth,
        "InvalidTimeStamp.Expired" => Meaning::ClockSkew,
        c if c == "Forbidden" || c.starts_with("Forbidden.") => Meaning::Forbidden,
        c if c == "Throttling" || c.starts_with("Throttling.") => Meaning::RateLimited,
        "IncorrectDomainUser" | "InvalidDomainName.NoExist" => Meaning::ZoneNotFound,
        "DomainRecordNotBelongToUser" => Meaning::Gone,
        "DomainRecordDuplicate" => Meaning::Duplicate,
        "MissingParameter"
        | "InvalidParameter"
        | "IncompleteSignature"
        | "InvalidTimeStamp.Format"
        | "IllegalTimestamp"
        | "InvalidAction.NotFound"
        | "UnsupportedOperation"
        | "InvalidVersion"
        | "NoSuchVersion"
        | "DomainRecordConflict"
        | "QuotaExceeded.TTL"
        | "QuotaExceeded.Record"
        | "SubDomainInvalid.Value"
        | "InvalidRR.NoExist" => Meaning::Rejected,
        // InternalError, ServiceUnavailable, SignatureNonceUsed (a retry signs with a fresh
        // nonce), LastOperationNotFinished, and every code not listed.
        _ => Meaning::Transient,
    }
}

fn is_write(action: &str) -> bool {
    !action.starts_with("Describe")
}

impl Alidns {
    /// A provider named `name`.
    pub fn new(name: String, settings: AlidnsSettings, deps: &ProviderDeps) -> Alidns {
        Alidns {
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

    /// Calls `action` with `params`, retrying transient failures and rate limits (each attempt
    /// signed afresh: a new time and nonce); returns the reply object.
    async fn call(
        &self,
        action: &'static str,
        params: &[(&str, String)],
    ) -> Result<Value, CallError> {
        api::with_retries(
            &self.backoff,
            &self.name,
            action,
            CallError::as_provider,
            || self.attempt(action, params),
        )
        .await
    }

    async fn attempt(
        &self,
        action: &'static str,
        params: &[(&str, String)],
    ) -> Result<Value, CallError> {
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
        // Lang=en: Alidns' own messages (quoted in errors) default to Chinese.
        let query: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .chain([("Lang", "en")])
            .collect();
        let nonce = format!("{:032x}", rand::random::<u128>());
        // The SDK's RPC calls: POST / with every parameter in the query and an empty body.
        let sig = acs3::sign(
            &Acs3Request {
                method: "POST",
                path: "/",
                query: &query,
                headers: &[
                    ("host", host.as_str()),
                    ("x-acs-action", action),
                    ("x-acs-version", VERSION),
                ],
                payload: b"",
            },
            Acs3Credentials {
                access_key_id: &self.settings.access_key_id,
                access_key_secret: self.settings.access_key_secret.expose(),
            },
            self.clock.unix_secs(),
            &nonce,
        );
        tracing::trace!(provider = %self.name, action, canonical_request = %sig.canonical_request, "signed");
        let mut headers: Vec<(&str, String)> = sig
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.clone()))
            .collect();
        headers.push(("accept", "application/json".to_owned()));
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
                body: Vec::new(),
                timeout: self.timeout,
            })
            .await
            .map_err(|e| CallError::Provider(api::http_error(action, &e, is_write(action))))?;
        tracing::debug!(provider = %self.name, action, status = resp.status, "reply");
        self.interpret(action, &resp)
    }

    /// The reply of `action`: its JSON on 200, else the error its envelope (or status) names.
    fn interpret(&self, action: &str, resp: &http::HttpResponse) -> Result<Value, CallError> {
        let parsed = serde_json::from_slice::<Value>(&resp.body);
        if resp.status == 200 {
            return parsed.map_err(|e| {
                CallError::Provider(ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("{action}: the reply is not valid json ({e})"),
                ))
            });
        }
        let envelope = parsed.ok().and_then(|v| {
            let code = v.get("Code")?.as_str()?.to_owned();
            let message = v
                .get("Message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let request_id = v
                .get("RequestId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            Some((code, message, request_id))
        });
        let Some((code, message, request_id)) = envelope else {
            return Err(CallError::Provider(api::status_error(action, resp)));
        };
        tracing::debug!(provider = %self.name, action, code, request_id, "api error");
        Err(TERMS.code_error(
            action,
            &code,
            &message,
            meaning(&code),
            resp,
            self.clock.now(),
        ))
    }

    /// Every domain of the account (DescribeDomains, paginated).
    async fn domains(&self) -> Result<Vec<Fqdn>, ProviderError> {
        let action = "DescribeDomains";
        let mut out = Vec::new();
        let mut page = 1u64;
        loop {
            let resp = self
                .call(
                    action,
                    &[
                        ("PageNumber", page.to_string()),
                        ("PageSize", PAGE.to_string()),
                    ],
                )
                .await?;
            let list = nested_array(&resp, "Domains", "Domain", action)?;
            for d in list {
                let name = d
                    .get("PunyCode")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .or_else(|| d.get("DomainName").and_then(Value::as_str))
                    .ok_or_else(|| api::protocol(action, "a domain without a name"))?;
                if let Ok(f) = Fqdn::parse_relaxed(name) {
                    out.push(f);
                }
            }
            let total = total_count(&resp, action)?;
            if list.is_empty() || page * PAGE >= total {
                break;
            }
            page += 1;
        }
        Ok(out)
    }

    /// Every row of (sub, type) on the default line (DescribeSubDomainRecords, paginated).
    async fn rows(
        &self,
        zone: &Fqdn,
        sub: &str,
        rtype: RecordType,
    ) -> Result<Vec<Row>, ProviderError> {
        let action = "DescribeSubDomainRecords";
        let full = if sub == "@" {
            zone.to_string()
        } else {
            format!("{sub}.{zone}")
        };
        let mut out = Vec::new();
        let mut page = 1u64;
        loop {
            let resp = self
                .call(
                    action,
                    &[
                        ("DomainName", zone.to_string()),
                        ("SubDomain", full.clone()),
                        ("Type", rtype.as_str().to_owned()),
                        ("PageNumber", page.to_string()),
                        ("PageSize", PAGE.to_string()),
                    ],
                )
                .await?;
            let list = nested_array(&resp, "DomainRecords", "Record", action)?;
            for item in list {
                let (row, rr, typ, line) = row_of(item, action)?;
                // The API matches the host exactly when DomainName is given; the check keeps a
                // lenient server from handing over someone else's rows.
                if rr.eq_ignore_ascii_case(sub)
                    && typ.eq_ignore_ascii_case(rtype.as_str())
                    && line == LINE
                {
                    out.push(row);
                }
            }
            let total = total_count(&resp, action)?;
            if list.is_empty() || page * PAGE >= total {
                break;
            }
            page += 1;
        }
        Ok(out)
    }
}

fn nested_array<'v>(
    v: &'v Value,
    outer: &str,
    inner: &str,
    action: &str,
) -> Result<&'v Vec<Value>, ProviderError> {
    v.get(outer)
        .and_then(|o| o.get(inner))
        .and_then(Value::as_array)
        .ok_or_else(|| api::protocol(action, &format!("no {outer}.{inner} array")))
}

fn total_count(v: &Value, action: &str) -> Result<u64, ProviderError> {
    v.get("TotalCount")
        .and_then(Value::as_u64)
        .ok_or_else(|| api::protocol(action, "no TotalCount"))
}

/// A record row and its RR, Type and Line.
fn row_of(item: &Value, action: &str) -> Result<(Row, String, String, String), ProviderError> {
    let id = match item.get("RecordId") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(api::protocol(action, "a record without RecordId")),
    };
    let text = |f: &str| item.get(f).and_then(Value::as_str).map(str::to_owned);
    let value = text("Value").ok_or_else(|| api::protocol(action, "a record without Value"))?;
    let ttl = item
        .get("TTL")
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .ok_or_else(|| api::protocol(action, "a record without TTL"))?;
    let rr = text("RR").ok_or_else(|| api::protocol(action, "a record without RR"))?;
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
        rr,
        typ,
        line,
    ))
}

impl RowApi for Alidns {
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
            let action = "AddDomainRecord";
            let params = [
                ("DomainName", zone.to_string()),
                ("RR", sub.to_owned()),
                ("Type", rtype.as_str().to_owned()),
                ("Value", value.to_string()),
                ("TTL", ttl.to_string()),
                ("Line", LINE.to_owned()),
            ];
            match self.call(action, &params).await {
                Ok(resp) => match resp.get("RecordId") {
                    Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
                    Some(Value::Number(n)) => Ok(Some(n.to_string())),
                    _ => Err(RowError::Failed(api::protocol(action, "no RecordId"))),
                },
                // The value is there already (e.g. a create whose reply was lost): its id is
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
        zone: &'a Fqdn,
        sub: &'a str,
        rtype: RecordType,
        id: &'a str,
        value: IpAddr,
        ttl: u32,
    ) -> BoxFuture<'a, Result<(), RowError>> {
        Box::pin(async move {
            let params = [
                ("RecordId", id.to_owned()),
                ("RR", sub.to_owned()),
                ("Type", rtype.as_str().to_owned()),
                ("Value", value.to_string()),
                ("TTL", ttl.to_string()),
                ("Line", LINE.to_owned()),
            ];
            match self.call("UpdateDomainRecord", &params).await {
                Ok(_) => Ok(()),
                // Alidns refuses an update that changes nothing, and also one that would make
                // the row equal to another row. Only the first is success: confirm it from the
                // live rows (alidns.md §4.5); otherwise re-read and re-plan.
                Err(CallError::Api {
                    meaning: Meaning::Duplicate,
                    ..
                }) => {
                    let live = self.rows(zone, sub, rtype).await?;
                    let done = live
                        .iter()
                        .any(|r| r.id.as_deref() == Some(id) && r.value == value && r.ttl == ttl);
                    if done {
                        Ok(())
                    } else {
                        Err(RowError::Gone)
                    }
                }
                Err(e) => Err(e.into()),
            }
        })
    }

    fn delete<'a>(&'a self, _zone: &'a Fqdn, id: &'a str) -> BoxFuture<'a, Result<(), RowError>> {
        Box::pin(async move {
            self.call("DeleteDomainRecord", &[("RecordId", id.to_owned())])
                .await
                .map(|_| ())
                .map_err(RowError::from)
        })
    }
}

impl Provider for Alidns {
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

    /// The code table: permanent codes stop, the rest is retried.
    #[test]
    fn code_table() {
        use Meaning as M;
        for (code, want) in [
            ("InvalidAccessKeyId.NotFound", M::Auth),
            ("InvalidAccessKeyId.Inactive", M::Auth),
            ("SignatureDoesNotMatch", M::Auth),
            ("InvalidTimeStamp.Expired", M::ClockSkew),
            ("Forbidden.RAM", M::Forbidden),
            ("Forbidden", M::Forbidden),
            ("Throttling.User", M::RateLimited),
            ("Throttling", M::RateLimited),
            ("IncorrectDomainUser", M::ZoneNotFound),
            ("InvalidDomainName.NoExist", M::ZoneNotFound),
            ("DomainRecordNotBelongToUser", M::Gone),
            ("DomainRecordDuplicate", M::Duplicate),
            ("QuotaExceeded.TTL", M::Rejected),
            ("DomainRecordConflict", M::Rejected),
            ("InternalError", M::Transient),
            ("ServiceUnavailable", M::Transient),
            ("SignatureNonceUsed", M::Transient),
            ("SomethingNew.Unknown", M::Transient),
            ("ForbiddenX", M::Transient),
        ] {
            assert_eq!(meaning(code), want, "{code}");
        }
    }
}
