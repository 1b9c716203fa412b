//! Records mode (the REST API): finding the record's zone among the token's, reading the
//! zone's own A/AAAA and a name's records, and reconciling them with the row plan.

use std::net::IpAddr;

use serde_json::{json, Value};

use super::wire::{check_record, encode, split_prefix};
use super::{Dynv6, Failure, Zone, HINT_TTL, HINT_ZONE_ID};
use crate::http::Method;
use crate::provider::kit::api;
use crate::provider::kit::rows::{self, Row, RowOp};
use crate::provider::kit::zones::longest_match;
use crate::provider::{LiveRrSet, ProviderError, ProviderErrorKind, ProviderHints};
use crate::record::{AddrSet, Family, Fqdn, RecordKey, RecordType, RrSet, Ttl};

impl Dynv6 {
    /// The zone holding `name`: configured (looked up by name), remembered, found before, or
    /// the longest of the token's zones that contains it.
    async fn zone(&self, name: &Fqdn, hints: &ProviderHints) -> Result<Zone, ProviderError> {
        let hinted = rows::hinted_zone(hints, name).and_then(|z| {
            let id = hints.0.get(HINT_ZONE_ID)?.parse().ok()?;
            Some(Zone { name: z, id })
        });
        if let Some(z) = hinted.filter(|z| self.settings.zone.as_ref().is_none_or(|c| *c == z.name))
        {
            return Ok(z);
        }
        let known: Vec<(Fqdn, u64)> = self.zones.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let names: Vec<Fqdn> = known.iter().map(|(n, _)| n.clone()).collect();
        let wanted = match &self.settings.zone {
            Some(z) => names.contains(z).then(|| z.clone()),
            None => longest_match(&names, name),
        };
        if let Some((zn, id)) = wanted.and_then(|w| known.into_iter().find(|(n, _)| *n == w)) {
            return Ok(Zone { name: zn, id });
        }
        let found = match &self.settings.zone {
            Some(z) => {
                let action = "get zone";
                let path = format!("/zones/by-name/{}", encode(z.as_str()));
                let v = self
                    .call(action, Method::Get, &path, None)
                    .await
                    .map_err(|f| match f {
                        Failure::NotFound(e) => e,
                        Failure::Provider(e) => e,
                    })?;
                let id = v
                    .get("id")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| api::protocol(action, "a zone without id"))?;
                vec![(z.clone(), id)]
            }
            None => {
                let action = "list zones";
                let v = self
                    .call(action, Method::Get, "/zones", None)
                    .await
                    .map_err(Failure::into_error)?;
                let Some(list) = v.as_array() else {
                    return Err(api::protocol(action, "the reply is not a list"));
                };
                let mut out = Vec::new();
                for z in list {
                    let (Some(id), Some(n)) = (
                        z.get("id").and_then(Value::as_u64),
                        z.get("name").and_then(Value::as_str),
                    ) else {
                        return Err(api::protocol(action, "a zone without id or name"));
                    };
                    if let Ok(n) = Fqdn::parse_relaxed(n) {
                        out.push((n, id));
                    }
                }
                out
            }
        };
        let names: Vec<Fqdn> = found.iter().map(|(n, _)| n.clone()).collect();
        let best = match &self.settings.zone {
            Some(z) => Some(z.clone()),
            None => longest_match(&names, name),
        };
        self.zones
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(found.iter().cloned());
        let Some(best) = best else {
            return Err(ProviderError::new(
                ProviderErrorKind::ZoneNotFound,
                format!("no zone of this dynv6 token contains {name}"),
            )
            .with_hint(
                "create the zone on dynv6.com (or use a token for its account), or set zone",
            ));
        };
        if !name.is_within(&best) {
            return Err(ProviderError::new(
                ProviderErrorKind::Rejected,
                format!("{name} is not inside the zone {best}"),
            )
            .with_hint("set the provider's zone to a domain that contains the record name"));
        }
        let id = found
            .iter()
            .find(|(n, _)| *n == best)
            .map(|(_, id)| *id)
            .ok_or_else(|| api::protocol("list zones", "the zone vanished from the list"))?;
        Ok(Zone { name: best, id })
    }

    /// The zone's own A or AAAA (its `ipv4address` / `ipv6prefix` field) and the prefix
    /// length written with the IPv6 one.
    async fn apex(
        &self,
        zone: &Zone,
        rtype: RecordType,
    ) -> Result<(AddrSet, Option<u8>), ProviderError> {
        let action = "get zone";
        let v = self
            .call(action, Method::Get, &format!("/zones/{}", zone.id), None)
            .await
            .map_err(Failure::into_error)?;
        let field = |f: &str| {
            v.get(f)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        match rtype {
            RecordType::A => match field("ipv4address") {
                None => Ok((AddrSet::new(), None)),
                Some(s) => match s.parse::<std::net::Ipv4Addr>() {
                    Ok(a) => Ok(([IpAddr::V4(a)].into_iter().collect(), None)),
                    Err(_) => Err(api::protocol(
                        action,
                        &format!("ipv4address {s:?} is not an address"),
                    )),
                },
            },
            RecordType::Aaaa => match field("ipv6prefix") {
                None => Ok((AddrSet::new(), None)),
                Some(s) => match split_prefix(s) {
                    Some((a, len)) => Ok(([IpAddr::V6(a)].into_iter().collect(), len)),
                    None => Err(api::protocol(
                        action,
                        &format!("ipv6prefix {s:?} is not an address"),
                    )),
                },
            },
        }
    }

    /// The records of (`sub`, `rtype`) in `zone`: their ids and addresses (`expandedData`
    /// where dynv6 expanded a partial or MAC address).
    async fn records(
        &self,
        zone: &Zone,
        sub: &str,
        rtype: RecordType,
    ) -> Result<Vec<Row>, ProviderError> {
        let action = "list records";
        let v = match self
            .call(
                action,
                Method::Get,
                &format!("/zones/{}/records", zone.id),
                None,
            )
            .await
        {
            Ok(v) => v,
            Err(f) => return Err(f.into_error()),
        };
        let Some(list) = v.as_array() else {
            return Err(api::protocol(action, "the reply is not a list"));
        };
        let mut out = Vec::new();
        for r in list {
            let text = |f: &str| r.get(f).and_then(Value::as_str);
            let (Some(id), Some(name), Some(typ)) = (
                r.get("id").and_then(Value::as_u64),
                text("name"),
                text("type"),
            ) else {
                return Err(api::protocol(action, "a record without id, name or type"));
            };
            // Only what ddnsd manages is ever taken (the list holds the whole zone).
            if !name.eq_ignore_ascii_case(sub) || typ != rtype.as_str() {
                continue;
            }
            let data = text("expandedData").or(text("data")).unwrap_or("");
            let value: IpAddr = match data.parse() {
                Ok(a) if Family::of(&a) == rtype.family() => a,
                _ => {
                    return Err(api::protocol(
                        action,
                        &format!("record {id} of {sub} {rtype} holds {data:?}, not an address"),
                    ))
                }
            };
            out.push(Row {
                id: Some(id.to_string()),
                value,
                ttl: 0,
            });
        }
        Ok(out)
    }

    /// Records mode: reads (name, type).
    pub(super) async fn read(
        &self,
        key: &RecordKey,
        hints: &ProviderHints,
    ) -> Result<LiveRrSet, ProviderError> {
        let zone = self.zone(&key.name, hints).await?;
        let sub = record_name(&key.name, &zone.name)?;
        let asked = hints.0.get(HINT_TTL).and_then(|t| t.parse::<u32>().ok());
        let (addrs, rows) = match &sub {
            None => (self.apex(&zone, key.rtype).await?.0, Vec::new()),
            Some(sub) => {
                let rows = self.records(&zone, sub, key.rtype).await?;
                (rows.iter().map(|r| r.value).collect(), rows)
            }
        };
        let ttl = (!addrs.is_empty()).then_some(asked).flatten().map(Ttl);
        Ok(LiveRrSet {
            hints: hints_of(&zone, &rows, asked),
            addrs,
            ttl,
        })
    }

    /// Records mode: makes (name, type) hold `desired`.
    pub(super) async fn apply(
        &self,
        desired: &RrSet,
        hints: &ProviderHints,
    ) -> Result<ProviderHints, ProviderError> {
        let zone = self.zone(&desired.name, hints).await?;
        let ttl = Some(desired.ttl.0);
        let Some(sub) = record_name(&desired.name, &zone.name)? else {
            self.apply_apex(&zone, desired).await?;
            return Ok(hints_of(&zone, &[], ttl));
        };
        let remembered = rows::hinted_rows(hints, &zone.name);
        let mut reread = remembered.is_none();
        let mut live = match remembered {
            Some(r) => r,
            None => self.records(&zone, &sub, desired.rtype).await?,
        };
        loop {
            // dynv6 has no TTL: rows are planned by address alone.
            let rows_now: Vec<Row> = live
                .iter()
                .map(|r| Row {
                    ttl: 0,
                    ..r.clone()
                })
                .collect();
            let ops = rows::plan_rows(&rows_now, &desired.addrs, 0);
            match self.write_rows(&zone, &sub, desired, &rows_now, &ops).await {
                Ok(after) => return Ok(hints_of(&zone, &after, ttl)),
                Err(Failure::NotFound(_)) if !reread => {
                    tracing::info!(provider = %self.name, record = %desired.key(), "a remembered record id no longer exists; reading the records again");
                    reread = true;
                    live = self.records(&zone, &sub, desired.rtype).await?;
                }
                Err(f) => return Err(f.into_error()),
            }
        }
    }

    /// Carries out `ops`; returns the rows afterwards.
    async fn write_rows(
        &self,
        zone: &Zone,
        sub: &str,
        desired: &RrSet,
        live: &[Row],
        ops: &[RowOp],
    ) -> Result<Vec<Row>, Failure> {
        let mut after: Vec<Row> = live.to_vec();
        let base = format!("/zones/{}/records", zone.id);
        for op in ops {
            tracing::debug!(provider = %self.name, record = %desired.key(), ?op, "writing");
            match op {
                RowOp::Modify { id, value, .. } => {
                    let body = json!({ "data": value.to_string() });
                    let v = self
                        .call(
                            "update record",
                            Method::Patch,
                            &format!("{base}/{id}"),
                            Some(&body),
                        )
                        .await?;
                    check_record("update record", &v, sub, desired.rtype, *value)?;
                    after.retain(|r| r.id.as_deref() != Some(id));
                    after.push(Row {
                        id: Some(id.clone()),
                        value: *value,
                        ttl: 0,
                    });
                }
                RowOp::Create { value, .. } => {
                    let body = json!({
                        "type": desired.rtype.as_str(),
                        "name": sub,
                        "data": value.to_string(),
                    });
                    let v = self
                        .call("add record", Method::Post, &base, Some(&body))
                        .await?;
                    let id = check_record("add record", &v, sub, desired.rtype, *value)?;
                    after.push(Row {
                        id: Some(id),
                        value: *value,
                        ttl: 0,
                    });
                }
                RowOp::Delete { id, .. } => {
                    match self
                        .call(
                            "delete record",
                            Method::Delete,
                            &format!("{base}/{id}"),
                            None,
                        )
                        .await
                    {
                        // Already gone: what was wanted.
                        Ok(_) | Err(Failure::NotFound(_)) => {}
                        Err(f) => return Err(f),
                    }
                    after.retain(|r| r.id.as_deref() != Some(id));
                }
            }
        }
        Ok(after)
    }

    /// The zone's own A/AAAA: one address in the zone's field (keeping the prefix length
    /// written with the IPv6 one).
    async fn apply_apex(&self, zone: &Zone, desired: &RrSet) -> Result<(), ProviderError> {
        let key = desired.key();
        let addr = match desired.addrs.iter().collect::<Vec<_>>().as_slice() {
            [one] => **one,
            [] => {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    format!("ddnsd does not remove the zone's own address ({key})"),
                )
                .with_hint("clear it on dynv6.com"))
            }
            many => {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    format!("{key} has {} addresses ({}) but a dynv6 zone holds one per family", many.len(), desired.addrs),
                )
                .with_hint("narrow the record's sources to one address, or publish the others under names inside the zone"))
            }
        };
        let (live, len) = self.apex(zone, desired.rtype).await?;
        if live == desired.addrs {
            return Ok(());
        }
        let body = match (addr, len) {
            (IpAddr::V4(a), _) => json!({ "ipv4address": a.to_string() }),
            (IpAddr::V6(a), Some(l)) => json!({ "ipv6prefix": format!("{a}/{l}") }),
            (IpAddr::V6(a), None) => json!({ "ipv6prefix": a.to_string() }),
        };
        self.call(
            "update zone",
            Method::Patch,
            &format!("/zones/{}", zone.id),
            Some(&body),
        )
        .await
        .map_err(Failure::into_error)?;
        Ok(())
    }
}

/// The record name of `name` in `zone` (`None` for the zone's own name).
fn record_name(name: &Fqdn, zone: &Fqdn) -> Result<Option<String>, ProviderError> {
    match name.relative_to(zone).as_deref() {
        Some("@") => Ok(None),
        Some(s) => Ok(Some(s.to_owned())),
        None => Err(ProviderError::new(
            ProviderErrorKind::Rejected,
            format!("{name} is not inside the zone {zone}"),
        )
        .with_hint("set the provider's zone to a domain that contains the record name")),
    }
}

/// Hints: `zone`, `zone_id`, the rows (`records`, via `kit::rows`) and the TTL ddnsd asked for.
fn hints_of(zone: &Zone, rows_now: &[Row], ttl: Option<u32>) -> ProviderHints {
    let mut h = rows::encode_hints(&zone.name, rows_now);
    h.0.insert(HINT_ZONE_ID.into(), zone.id.to_string());
    match ttl {
        Some(t) => {
            h.0.insert(HINT_TTL.into(), t.to_string());
        }
        None => {
            h.0.remove(HINT_TTL);
        }
    }
    h
}
