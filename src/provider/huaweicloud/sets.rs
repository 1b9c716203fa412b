//! The record set of one (name, type): listing it (ListRecordSetsByZone), creating, updating
//! (one PUT of the whole set) or deleting it, the plan that makes it equal the desired set
//! (reading again once when it changed underneath), and the hints that remember it.

use std::net::IpAddr;

use serde_json::{json, Value};

use super::codes::{CallError, Meaning, SetError};
use super::{HuaweiCloud, HINT_RECORDS, HINT_RECORDSET, HINT_TTL, HINT_ZONE, HINT_ZONE_ID};
use crate::http::Method;
use crate::provider::kit::api;
use crate::provider::{LiveRrSet, ProviderError, ProviderErrorKind, ProviderHints};
use crate::record::{AddrSet, Fqdn, RecordKey, RecordType, RrSet, Ttl};

/// A record set as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RecordSet {
    id: String,
    addrs: AddrSet,
    ttl: u32,
}

impl HuaweiCloud {
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

    pub(super) async fn read(
        &self,
        key: &RecordKey,
        hints: &ProviderHints,
    ) -> Result<LiveRrSet, ProviderError> {
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

    pub(super) async fn apply(
        &self,
        desired: &RrSet,
        hints: &ProviderHints,
    ) -> Result<ProviderHints, ProviderError> {
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
            api::protocol(
                op,
                &format!("record set {id} has a non-address value {text:?}"),
            )
        })?;
        addrs.insert(a);
    }
    Ok(RecordSet {
        id: id.to_owned(),
        addrs,
        ttl,
    })
}
