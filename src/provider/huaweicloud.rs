//! `kind = "huaweicloud"`: Huawei Cloud DNS (public zones, API v2), signed with
//! SDK-HMAC-SHA256 (`sign/huawei.rs`).
//!
//! Owns the wire format of ListPublicZones / ListRecordSetsByZone / CreateRecordSet /
//! UpdateRecordSet / DeleteRecordSet and the mapping of Huawei's error codes to
//! [`ProviderError`]s (`meaning`, the one code table). A Huawei record set holds every
//! value of one (name, type), so an RRset is one object: an update is one PUT of the whole
//! set by its id, never a delete and a create. Touches only the set of the managed (name,
//! type). References: `shared/providers/china-clouds.md` §1 and
//! `shared/providers/dyndns2-and-others.md` §4.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};

use super::kit::api;
use super::kit::zones::ZoneCache;
use super::sign::huawei::{self, HuaweiCredentials, HuaweiRequest};
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
    name: "huaweicloud",
    about: "Huawei Cloud DNS, public zones (AK/SK, SDK-HMAC-SHA256)",
    example: r#"[providers.huawei]
kind = "huaweicloud"
access_key = "HPUA..."                  # an IAM user's access key; policy "DNS FullAccess"
secret_key_env = "HUAWEICLOUD_SECRET_KEY"   # or secret_key / secret_key_file
region = "cn-north-4"                   # the API endpoint's region (ap-southeast-1, eu-west-101, …)
# zone = "example.com"                  # omit to find it among the account's public zones
# endpoint = "https://dns.cn-north-4.myhuaweicloud.com"   # default: built from region
"#,
    configure,
};

/// Largest page the list calls return (`limit` 0–500).
const PAGE: u32 = 500;
const SERVICE: &str = "Huawei Cloud DNS";
const HINT_ZONE: &str = "zone";
const HINT_ZONE_ID: &str = "zone_id";
const HINT_RECORDSET: &str = "recordset_id";
const HINT_RECORDS: &str = "records";
const HINT_TTL: &str = "ttl";
const AUTH_HINT: &str =
    "check access_key/secret_key; the key's IAM user needs the DNS FullAccess policy";
const FORBIDDEN_HINT: &str = "grant the key's IAM user the DNS FullAccess policy (or dns:zone:list, dns:recordset:list, dns:recordset:create, dns:recordset:update and dns:recordset:delete)";

/// Settings of a Huawei Cloud DNS provider.
#[derive(Clone, Debug)]
pub struct HuaweiCloudSettings {
    /// Access key (AK, an identifier sent with every request).
    pub access_key: String,
    /// Secret key (SK).
    pub secret_key: Secret<String>,
    /// The region (`cn-north-4`); picks the default endpoint.
    pub region: String,
    /// The zone; `None` = found among the account's public zones.
    pub zone: Option<Fqdn>,
    /// API endpoint, default `https://dns.REGION.myhuaweicloud.com`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "huaweicloud"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    access_key: Option<Text>,
    access_key_file: Option<Text>,
    access_key_env: Option<Text>,
    secret_key: Option<Text>,
    secret_key_file: Option<Text>,
    secret_key_env: Option<Text>,
    region: Text,
    zone: Option<Text>,
    endpoint: Option<Text>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let access_key = f.secret(SecretFields {
        name: "access_key",
        inline: &r.access_key,
        file: &r.access_key_file,
        env: &r.access_key_env,
    });
    let secret_key = f.secret(SecretFields {
        name: "secret_key",
        inline: &r.secret_key,
        file: &r.secret_key_file,
        env: &r.secret_key_env,
    });
    let region = r.region.get_ref().trim();
    let region_ok = !region.is_empty()
        && region
            .split('-')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if !region_ok {
        f.problem(
            r.region.span(),
            format!("region {:?} is not a region name", r.region.get_ref()),
            Some("write the region of your Huawei Cloud console, e.g. \"cn-north-4\" or \"ap-southeast-1\"".to_owned()),
        );
    }
    let zone = fields::zone(f, &r.zone);
    let endpoint = fields::endpoint(
        f,
        &r.endpoint,
        &format!("https://dns.{region}.myhuaweicloud.com"),
    );
    if !region_ok {
        return None;
    }
    Some(Arc::new(HuaweiCloudSettings {
        // The AK is an identifier (it travels in every Authorization header); only the SK is
        // secret.
        access_key: access_key?.expose().clone(),
        secret_key: secret_key?,
        region: region.to_owned(),
        zone: zone?,
        endpoint: endpoint?,
    }))
}

impl Configured for HuaweiCloudSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(HuaweiCloud::new(name.to_owned(), self.clone(), deps))
    }
}

/// A Huawei Cloud DNS provider.
pub struct HuaweiCloud {
    name: String,
    settings: HuaweiCloudSettings,
    clock: Arc<dyn Clock>,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    zones: ZoneCache,
    /// Zone name → zone id, learned while listing.
    zone_ids: Mutex<BTreeMap<String, String>>,
}

/// What a Huawei error code means to ddnsd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Meaning {
    /// The AK is unknown or the signature does not match.
    Auth,
    /// The request's `X-Sdk-Date` is more than 15 minutes off the gateway's clock.
    ClockSkew,
    /// The key may not do this.
    Forbidden,
    /// Flow control.
    RateLimited,
    /// The record set does not exist (any more).
    Gone,
    /// A record set of this name and type (or a conflicting one) exists.
    Exists,
    /// The request itself is wrong and will stay wrong.
    Rejected,
    /// Anything else, the server's own failures included: may pass.
    Transient,
}

/// The code table. API gateway codes: `APIGW.0301` is every AK/SK failure (401; "ak … not
/// exist", "verify aksk signature fail", and "signature expired, signature time:…, server
/// time:…" for a clock 15 minutes off, as quoted in public issues), `APIGW.0308` the gateway's
/// throttling (429). DNS codes from Huawei's DNS error-code table: DNS.0002/0006/0007/0008
/// (400, invalid request/limit/marker/zone type), DNS.0004 (404, no record sets found),
/// DNS.0005 (401), DNS.0013 (403, no permission for the API), DNS.0014 (403, flow control);
/// DNS.0312 / DNS.0335 (400, name conflict / duplicate record set) as quoted in public issues.
/// Every other code is transient (see docs/design/providers.md).
fn meaning(code: &str, message: &str) -> Meaning {
    match code {
        "APIGW.0301" if message.contains("signature expired") => Meaning::ClockSkew,
        "APIGW.0301" | "DNS.0005" => Meaning::Auth,
        "DNS.0013" => Meaning::Forbidden,
        "APIGW.0308" | "DNS.0014" => Meaning::RateLimited,
        "DNS.0004" => Meaning::Gone,
        "DNS.0312" | "DNS.0335" => Meaning::Exists,
        "DNS.0002" | "DNS.0006" | "DNS.0007" | "DNS.0008" => Meaning::Rejected,
        _ => Meaning::Transient,
    }
}

/// A call's failure: an API error the caller may expect, or a final provider error.
#[derive(Debug)]
enum CallError {
    Api {
        meaning: Meaning,
        status: u16,
        text: String,
    },
    Provider(ProviderError),
}

impl From<CallError> for ProviderError {
    fn from(e: CallError) -> ProviderError {
        match e {
            CallError::Provider(e) => e,
            // A 404 that is not "no record sets found": the zone id is unknown to the
            // endpoint (the zone was deleted, or the endpoint is another region's).
            CallError::Api {
                status: 404,
                meaning,
                text,
            } if meaning != Meaning::Gone => {
                ProviderError::new(ProviderErrorKind::ZoneNotFound, text).with_hint(format!(
                    "check the zone and the region: the zone must be a public zone of this {SERVICE} account"
                ))
            }
            CallError::Api {
                meaning: Meaning::Transient,
                text,
                ..
            } => ProviderError::new(ProviderErrorKind::Transient, text),
            CallError::Api { text, .. } => ProviderError::new(ProviderErrorKind::Rejected, text),
        }
    }
}

/// A record set as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RecordSet {
    id: String,
    addrs: AddrSet,
    ttl: u32,
}

/// Why a write of a record set failed.
enum SetError {
    /// The set id is unknown (deleted by someone else): read again.
    Gone,
    /// A set of this name and type exists already (or conflicts): read again, else this error.
    Exists(ProviderError),
    /// Anything else.
    Failed(ProviderError),
}

impl From<CallError> for SetError {
    fn from(e: CallError) -> SetError {
        match e {
            CallError::Api {
                meaning: Meaning::Gone,
                ..
            } => SetError::Gone,
            CallError::Api {
                meaning: Meaning::Exists,
                text,
                ..
            } => SetError::Exists(ProviderError::new(ProviderErrorKind::Rejected, text)),
            e => SetError::Failed(e.into()),
        }
    }
}

impl From<ProviderError> for SetError {
    fn from(e: ProviderError) -> SetError {
        SetError::Failed(e)
    }
}

impl HuaweiCloud {
    /// A provider named `name`.
    pub fn new(name: String, settings: HuaweiCloudSettings, deps: &ProviderDeps) -> HuaweiCloud {
        HuaweiCloud {
            name,
            settings,
            clock: deps.clock.clone(),
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            zones: ZoneCache::default(),
            zone_ids: Mutex::new(BTreeMap::new()),
        }
    }

    /// Calls `op`, retrying transient failures and rate limits (each attempt signed afresh);
    /// returns the reply's JSON (`null` for an empty body).
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
            |e| match e {
                CallError::Provider(p) => Some(p),
                CallError::Api { .. } => None,
            },
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
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut signed: Vec<(&str, &str)> = vec![("host", host.as_str())];
        if !payload.is_empty() {
            signed.push(("content-type", "application/json"));
        }
        let sig = huawei::sign(
            &HuaweiRequest {
                method: method.as_str(),
                path,
                query: &query,
                headers: &signed,
                payload,
            },
            HuaweiCredentials {
                access_key: &self.settings.access_key,
                secret_key: self.settings.secret_key.expose(),
            },
            self.clock.unix_secs(),
        );
        tracing::trace!(provider = %self.name, op, canonical_request = %sig.canonical_request, "signed");
        let mut headers: Vec<(&str, String)> =
            signed.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
        headers.push(("x-sdk-date", sig.date.clone()));
        headers.push(("authorization", sig.authorization.clone()));
        let mut target = format!("{}{path}", self.settings.endpoint.trim_end_matches('/'));
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
        // Two envelopes: the gateway's `error_code`/`error_msg` and the service's
        // `code`/`message` (the SDK reads both).
        let envelope = serde_json::from_slice::<Value>(&resp.body).ok().and_then(|v| {
            let text = |a: &str, b: &str| {
                v.get(a)
                    .or_else(|| v.get(b))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            Some((
                text("error_code", "code")?,
                text("error_msg", "message").unwrap_or_default(),
            ))
        });
        let Some((code, message)) = envelope else {
            let e = match resp.status {
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
            };
            return Err(CallError::Provider(e));
        };
        tracing::debug!(provider = %self.name, op, code, status = resp.status, "api error");
        let text = format!("{op} failed: {code}: {message:?}");
        let e = match meaning(&code, &message) {
            Meaning::Auth => ProviderError::new(ProviderErrorKind::Auth, text).with_hint(AUTH_HINT),
            Meaning::Forbidden => {
                ProviderError::new(ProviderErrorKind::Forbidden, text).with_hint(FORBIDDEN_HINT)
            }
            Meaning::ClockSkew => {
                let mut e = ProviderError::new(
                    ProviderErrorKind::ClockSkew {
                        offset_secs: resp
                            .date
                            .map(|d| http::clock_offset_secs(d, self.clock.now()))
                            .unwrap_or(0),
                    },
                    format!("{op}: the provider rejected the request time as expired ({code})"),
                );
                if resp.date.is_none() {
                    e = e.with_hint(
                        "this machine's clock differs from the provider's by more than 15 minutes; enable NTP",
                    );
                }
                e
            }
            Meaning::RateLimited => ProviderError::new(
                ProviderErrorKind::RateLimited {
                    retry_after: resp.retry_after,
                },
                text,
            ),
            meaning @ (Meaning::Gone | Meaning::Exists | Meaning::Rejected | Meaning::Transient) => {
                if meaning == Meaning::Transient && resp.status != 404 {
                    ProviderError::new(ProviderErrorKind::Transient, text)
                } else {
                    return Err(CallError::Api {
                        meaning,
                        status: resp.status,
                        text,
                    });
                }
            }
        };
        Err(CallError::Provider(e))
    }

    /// Lists `path` page by page (`marker` = the last id of the previous page) and returns the
    /// items of `field`.
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
            q.push(("limit", PAGE.to_string()));
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
            let more = resp
                .get("links")
                .and_then(|l| l.get("next"))
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty());
            let last = items
                .last()
                .and_then(|i| i.get("id"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            match (more, last) {
                (true, Some(id)) if marker.as_ref() != Some(&id) => marker = Some(id),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Public zones (all of them, or the one named `name`), remembering their ids.
    async fn public_zones(&self, name: Option<&Fqdn>) -> Result<Vec<Fqdn>, ProviderError> {
        let op = "ListPublicZones";
        let mut query = vec![("type", "public".to_owned())];
        if let Some(n) = name {
            query.push(("name", format!("{n}.")));
            query.push(("search_mode", "equal".to_owned()));
        }
        let items = self.list_all(op, "/v2/zones", &query, "zones").await?;
        let mut out = Vec::new();
        for z in &items {
            let (Some(id), Some(zname)) = (
                z.get("id").and_then(Value::as_str),
                z.get("name").and_then(Value::as_str),
            ) else {
                return Err(api::protocol(op, "a zone without id or name"));
            };
            if let Ok(f) = Fqdn::parse_relaxed(zname) {
                self.ids().insert(f.to_string(), id.to_owned());
                out.push(f);
            }
        }
        Ok(out)
    }

    fn ids(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.zone_ids.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The zone of `name` and its id; `true` when the id came from `hints` (it may be stale).
    async fn locate(
        &self,
        name: &Fqdn,
        hints: &ProviderHints,
    ) -> Result<(Fqdn, String, bool), ProviderError> {
        let zone = self
            .zones
            .zone_of(name, self.settings.zone.as_ref(), hints, SERVICE, || {
                self.public_zones(None)
            })
            .await?;
        if hints.0.get(HINT_ZONE).map(String::as_str) == Some(zone.as_str()) {
            if let Some(id) = hints.0.get(HINT_ZONE_ID) {
                return Ok((zone, id.clone(), true));
            }
        }
        if let Some(id) = self.ids().get(zone.as_str()).cloned() {
            return Ok((zone, id, false));
        }
        let id = self.zone_id_by_name(&zone).await?;
        Ok((zone, id, false))
    }

    /// Looks the zone's id up by its name (the `name` filter matches exactly only with
    /// `search_mode=equal`, and the result is checked again).
    async fn zone_id_by_name(&self, zone: &Fqdn) -> Result<String, ProviderError> {
        self.ids().remove(zone.as_str());
        let found = self.public_zones(Some(zone)).await?;
        match self.ids().get(zone.as_str()) {
            Some(id) if found.contains(zone) => Ok(id.clone()),
            _ => Err(ProviderError::new(
                ProviderErrorKind::ZoneNotFound,
                format!("{zone} is not a public zone of this {SERVICE} account"),
            )
            .with_hint(format!(
                "add the zone in the {SERVICE} console, or check the zone and region settings"
            ))),
        }
    }

    /// The record set of (name, type) in the zone, if any.
    async fn find_set(
        &self,
        zone_id: &str,
        name: &Fqdn,
        rtype: RecordType,
    ) -> Result<Option<RecordSet>, CallError> {
        let op = "ListRecordSetsByZone";
        let dotted = format!("{name}.");
        let query = [
            ("name", dotted.clone()),
            ("type", rtype.as_str().to_owned()),
            // Without it `name` is a "contains" match (acme.sh#3265); the name is checked
            // again below anyway.
            ("search_mode", "equal".to_owned()),
        ];
        let path = format!("/v2/zones/{zone_id}/recordsets");
        let items = match self.list_all(op, &path, &query, "recordsets").await {
            // "No record sets found" is no set, should the list ever answer it.
            Err(CallError::Api {
                meaning: Meaning::Gone,
                ..
            }) => return Ok(None),
            other => other?,
        };
        for item in &items {
            let name_ok = item
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.trim_end_matches('.').eq_ignore_ascii_case(name.as_str()));
            let type_ok = item
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case(rtype.as_str()));
            if name_ok && type_ok {
                return set_of(item, op).map(Some).map_err(CallError::Provider);
            }
        }
        Ok(None)
    }

    async fn create_set(&self, zone_id: &str, desired: &RrSet) -> Result<String, SetError> {
        let op = "CreateRecordSet";
        let body = set_body(desired);
        let resp = self
            .call(
                op,
                Method::Post,
                &format!("/v2/zones/{zone_id}/recordsets"),
                &[],
                Some(&body),
            )
            .await?;
        resp.get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| SetError::Failed(api::protocol(op, "no record set id")))
    }

    async fn update_set(&self, zone_id: &str, id: &str, desired: &RrSet) -> Result<(), SetError> {
        let body = set_body(desired);
        self.call(
            "UpdateRecordSet",
            Method::Put,
            &format!("/v2/zones/{zone_id}/recordsets/{id}"),
            &[],
            Some(&body),
        )
        .await
        .map_err(|e| match SetError::from(e) {
            // On an update, a conflict will not pass by reading again.
            SetError::Exists(e) => SetError::Failed(e),
            other => other,
        })?;
        Ok(())
    }

    async fn delete_set(&self, zone_id: &str, id: &str) -> Result<(), SetError> {
        self.call(
            "DeleteRecordSet",
            Method::Delete,
            &format!("/v2/zones/{zone_id}/recordsets/{id}"),
            &[],
            None,
        )
        .await?;
        Ok(())
    }

    /// Makes the set equal `desired` in the zone `zone_id`, starting from the set remembered
    /// in `hinted` (if any); reads once more when the id vanished or a set appeared. Returns
    /// the set as it now is (`None`: there is none).
    async fn apply_in(
        &self,
        zone_id: &str,
        desired: &RrSet,
        hinted: Option<(String, Option<RecordSet>)>,
    ) -> Result<Option<RecordSet>, ProviderError> {
        let same = |s: &RecordSet| s.addrs == desired.addrs && s.ttl == desired.ttl.0;
        let mut set_id = None;
        if let Some((id, known)) = hinted {
            if let Some(k) = known.filter(|k| same(k)) {
                return Ok(Some(k));
            }
            set_id = Some(id);
        }
        let mut read = false;
        loop {
            if set_id.is_none() && !read {
                read = true;
                match self
                    .find_set(zone_id, &desired.name, desired.rtype)
                    .await
                    .map_err(ProviderError::from)?
                {
                    Some(s) if same(&s) => return Ok(Some(s)),
                    Some(s) => set_id = Some(s.id),
                    None if desired.addrs.is_empty() => return Ok(None),
                    None => {}
                }
            }
            let outcome = match &set_id {
                Some(id) if desired.addrs.is_empty() => match self.delete_set(zone_id, id).await {
                    Ok(()) | Err(SetError::Gone) => return Ok(None),
                    Err(e) => Err(e),
                },
                Some(id) => self
                    .update_set(zone_id, id, desired)
                    .await
                    .map(|()| id.clone()),
                None => self.create_set(zone_id, desired).await,
            };
            match outcome {
                Ok(id) => {
                    return Ok(Some(RecordSet {
                        id,
                        addrs: desired.addrs.clone(),
                        ttl: desired.ttl.0,
                    }))
                }
                Err(SetError::Gone | SetError::Exists(_)) if !read => {
                    tracing::info!(
                        provider = %self.name,
                        record = %desired.key(),
                        "the remembered record set changed; reading it again"
                    );
                    set_id = None;
                }
                Err(SetError::Exists(e)) => return Err(e),
                Err(SetError::Gone) => {
                    return Err(ProviderError::new(
                        ProviderErrorKind::Transient,
                        format!(
                            "the record set of {} kept disappearing while being updated",
                            desired.key()
                        ),
                    ))
                }
                Err(SetError::Failed(e)) => return Err(e),
            }
        }
    }

    async fn read(&self, key: &RecordKey, hints: &ProviderHints) -> Result<LiveRrSet, ProviderError> {
        let (zone, zone_id, from_hint) = self.locate(&key.name, hints).await?;
        let found = match self.find_set(&zone_id, &key.name, key.rtype).await {
            Err(e) if from_hint && zone_gone(&e) => {
                let zone_id = self.zone_id_by_name(&zone).await?;
                let set = self.find_set(&zone_id, &key.name, key.rtype).await?;
                return Ok(live(&zone, &zone_id, set));
            }
            other => other?,
        };
        Ok(live(&zone, &zone_id, found))
    }

    async fn apply(&self, desired: &RrSet, hints: &ProviderHints) -> Result<ProviderHints, ProviderError> {
        let (zone, zone_id, from_hint) = self.locate(&desired.name, hints).await?;
        match self
            .apply_in(&zone_id, desired, hinted_set(hints, &zone_id))
            .await
        {
            Ok(set) => Ok(hints_of(&zone, &zone_id, set.as_ref())),
            Err(e) if from_hint && e.kind == ProviderErrorKind::ZoneNotFound => {
                // The remembered zone id is stale (the zone was deleted and created again):
                // look it up by name once.
                let zone_id = self.zone_id_by_name(&zone).await?;
                let set = self.apply_in(&zone_id, desired, None).await?;
                Ok(hints_of(&zone, &zone_id, set.as_ref()))
            }
            Err(e) => Err(e),
        }
    }
}

/// A 404 that is not "no record sets found": the zone id itself is unknown.
fn zone_gone(e: &CallError) -> bool {
    matches!(e, CallError::Api { status: 404, meaning, .. } if *meaning != Meaning::Gone)
}

fn live(zone: &Fqdn, zone_id: &str, set: Option<RecordSet>) -> LiveRrSet {
    match set {
        Some(s) => LiveRrSet {
            hints: hints_of(zone, zone_id, Some(&s)),
            addrs: s.addrs,
            ttl: Some(Ttl(s.ttl)),
        },
        None => LiveRrSet {
            addrs: AddrSet::new(),
            ttl: None,
            hints: hints_of(zone, zone_id, None),
        },
    }
}

/// Hints: `zone`, `zone_id`, and the set's `recordset_id`, `records` (`A,B`) and `ttl` when it
/// exists — so a later apply with the same values makes no call, and a changed one is one PUT.
fn hints_of(zone: &Fqdn, zone_id: &str, set: Option<&RecordSet>) -> ProviderHints {
    let mut h = ProviderHints::default();
    h.0.insert(HINT_ZONE.into(), zone.to_string());
    h.0.insert(HINT_ZONE_ID.into(), zone_id.to_owned());
    if let Some(s) = set {
        h.0.insert(HINT_RECORDSET.into(), s.id.clone());
        let values: Vec<String> = s.addrs.iter().map(IpAddr::to_string).collect();
        h.0.insert(HINT_RECORDS.into(), values.join(","));
        h.0.insert(HINT_TTL.into(), s.ttl.to_string());
    }
    h
}

/// The set remembered in `hints` for the zone `zone_id`: its id, and its values when the
/// hints say (`None` values: unknown).
fn hinted_set(hints: &ProviderHints, zone_id: &str) -> Option<(String, Option<RecordSet>)> {
    if hints.0.get(HINT_ZONE_ID).map(String::as_str) != Some(zone_id) {
        return None;
    }
    let id = hints.0.get(HINT_RECORDSET)?.clone();
    let known = (|| {
        let ttl = hints.0.get(HINT_TTL)?.parse().ok()?;
        let list = hints.0.get(HINT_RECORDS)?;
        let addrs = list
            .split(',')
            .filter(|v| !v.is_empty())
            .map(|v| v.parse().ok())
            .collect::<Option<AddrSet>>()?;
        Some(RecordSet {
            id: id.clone(),
            addrs,
            ttl,
        })
    })();
    Some((id, known))
}

fn set_body(desired: &RrSet) -> Value {
    let records: Vec<String> = desired.addrs.iter().map(IpAddr::to_string).collect();
    json!({
        "name": format!("{}.", desired.name),
        "type": desired.rtype.as_str(),
        "ttl": desired.ttl.0,
        "records": records,
    })
}

fn set_of(item: &Value, op: &str) -> Result<RecordSet, ProviderError> {
    let id = item
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| api::protocol(op, "a record set without id"))?;
    let ttl = item
        .get("ttl")
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .ok_or_else(|| api::protocol(op, "a record set without ttl"))?;
    let records = item
        .get("records")
        .and_then(Value::as_array)
        .ok_or_else(|| api::protocol(op, "a record set without records"))?;
    let mut addrs = AddrSet::new();
    for r in records {
        let text = r.as_str().unwrap_or_default();
        let a: IpAddr = text.parse().map_err(|_| {
            api::protocol(op, &format!("record set {id} has a non-address value {text:?}"))
        })?;
        addrs.insert(a);
    }
    Ok(RecordSet {
        id: id.to_owned(),
        addrs,
        ttl,
    })
}

impl Provider for HuaweiCloud {
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

    /// The code table: permanent codes stop, the rest is retried.
    #[test]
    fn code_table() {
        use Meaning as M;
        for (code, message, want) in [
            ("APIGW.0301", "Incorrect IAM authentication information: verify aksk signature fail", M::Auth),
            ("APIGW.0301", "Incorrect IAM authentication information: ak AKX not exist", M::Auth),
            (
                "APIGW.0301",
                "Incorrect IAM authentication information: calc aksk signature fail:signature expired, signature time:20211217T064303Z,server time:20211217T065804Z",
                M::ClockSkew,
            ),
            ("DNS.0005", "Authentication required.", M::Auth),
            ("DNS.0013", "You do not have the permission to perform this operation using the API.", M::Forbidden),
            ("APIGW.0308", "The throttling threshold has been reached", M::RateLimited),
            ("DNS.0014", "Request forbidden by flow control.", M::RateLimited),
            ("DNS.0004", "No record sets found.", M::Gone),
            ("DNS.0335", "Duplicate recordset exists.", M::Exists),
            ("DNS.0312", "Attribute 'name' conflicts with Record Set", M::Exists),
            ("DNS.0002", "Invalid request.", M::Rejected),
            ("DNS.0001", "Internal error.", M::Transient),
            ("DNS.0000", "The system is busy. Try again later.", M::Transient),
            ("DNS.9999", "new", M::Transient),
        ] {
            assert_eq!(meaning(code, message), want, "{code} {message}");
        }
    }
}
