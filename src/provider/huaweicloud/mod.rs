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
//!
//! Files: `settings.rs` (the TOML table), `codes.rs` (the code table and what a reply means),
//! `zones.rs` (finding the zone and its id), `sets.rs` (reading and writing the record set);
//! this file holds the registry entry, the signed call with its retries and pagination, and
//! the [`Provider`] impl.

mod codes;
mod sets;
mod settings;
#[cfg(test)]
mod tests;
mod zones;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;

use super::kit::api;
use super::kit::zones::ZoneCache;
use super::sign::huawei::{self, HuaweiCredentials, HuaweiRequest};
use super::{
    Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind, ProviderHints,
};
use crate::clock::Clock;
use crate::http::{Backoff, HttpClient, Method, Request};
use crate::record::{RecordKey, RrSet};

use codes::CallError;
use settings::configure;
pub use settings::HuaweiCloudSettings;

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
