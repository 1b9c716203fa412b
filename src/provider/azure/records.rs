//! The zone of a name (configured, hinted, or the longest of the resource group's zones),
//! reading the record set of (name, type), changing it with one PUT guarded by its etag (or
//! deleting it), and the hints that remember the zone.

use std::net::IpAddr;

use serde_json::{json, Map, Value};

use super::codes::CallError;
use super::{Azure, API_VERSION, HINT_ZONE};
use crate::http::Method;
use crate::provider::kit::api;
use crate::provider::{LiveRrSet, ProviderError, ProviderErrorKind, ProviderHints};
use crate::record::{AddrSet, Fqdn, RecordKey, RecordType, RrSet, Ttl};

/// A record set as read: its etag, its whole `properties` object (sent back on update) and
/// the values ddnsd manages.
#[derive(Clone, Debug)]
pub(super) struct RecordSet {
    pub(super) etag: Option<String>,
    pub(super) properties: Map<String, Value>,
    pub(super) ttl: u32,
    pub(super) addrs: AddrSet,
}

/// `AAAARecords` / `ARecords` and the address field inside them.
fn fields_of(rtype: RecordType) -> (&'static str, &'static str) {
    match rtype {
        RecordType::Aaaa => ("AAAARecords", "ipv6Address"),
        RecordType::A => ("ARecords", "ipv4Address"),
    }
}

impl Azure {
    /// Every zone of the resource group (following `nextLink`, which must stay on the
    /// endpoint: the bearer token goes with it).
    async fn list_zones(&self) -> Result<Vec<Fqdn>, ProviderError> {
        let op = "DnsZones_ListByResourceGroup";
        let base = self.settings.endpoint.trim_end_matches('/').to_owned();
        let mut url = format!("{}?api-version={API_VERSION}&$top=100", self.group_url());
        let mut out = Vec::new();
        for _ in 0..1000 {
            let (_, _, v) =
                self.call(op, Method::Get, &url, &[], None)
                    .await
                    .map_err(|e| match e {
                        CallError::Gone => ProviderError::new(
                            ProviderErrorKind::ZoneNotFound,
                            format!("{op} failed: the resource group does not exist"),
                        ),
                        e => e.into(),
                    })?;
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
        let best = |zones: &[Fqdn]| crate::provider::kit::zones::longest_match(zones, name);
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

    pub(super) async fn read(
        &self,
        key: &RecordKey,
        hints: &ProviderHints,
    ) -> Result<LiveRrSet, ProviderError> {
        let zone = self.locate(&key.name, hints).await?;
        let set = self.get_set(&zone, &key.name, key.rtype).await?;
        Ok(LiveRrSet {
            addrs: set.as_ref().map(|s| s.addrs.clone()).unwrap_or_default(),
            ttl: set.as_ref().map(|s| Ttl(s.ttl)),
            hints: hints_of(&zone),
        })
    }

    pub(super) async fn apply(
        &self,
        desired: &RrSet,
        hints: &ProviderHints,
    ) -> Result<ProviderHints, ProviderError> {
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
                    self.call(
                        "RecordSets_CreateOrUpdate",
                        Method::Put,
                        &url,
                        &guard,
                        Some(&body),
                    )
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
pub(super) fn set_of(
    v: &Value,
    etag: Option<String>,
    rtype: RecordType,
    op: &str,
) -> Result<RecordSet, ProviderError> {
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
