//! The managed zone of a name, reading the live RRset and changing it with one atomic
//! `changes.create`, and the hints that spare a later read.

use std::net::IpAddr;

use serde_json::{json, Value};

use crate::http::Method;
use crate::provider::kit::api;
use crate::provider::sign::acs3::percent_encode;
use crate::provider::{LiveRrSet, ProviderError, ProviderErrorKind, ProviderHints};
use crate::record::{AddrSet, Fqdn, RecordKey, RecordType, RrSet, Ttl};

use super::codes::CallError;
use super::*;

/// A live RRset as Cloud DNS holds it: its values exactly as listed (a deletion must match
/// them) and its TTL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct LiveSet {
    pub(super) ttl: u32,
    pub(super) rrdatas: Vec<String>,
}

impl LiveSet {
    pub(super) fn addrs(&self) -> AddrSet {
        self.rrdatas.iter().filter_map(|v| v.parse().ok()).collect()
    }
}

impl Gcloud {
    /// The public managed zones of the project: (DNS name, zone name).
    pub(super) async fn managed_zones(&self) -> Result<Vec<(Fqdn, String)>, ProviderError> {
        let op = "managedZones.list";
        let path = format!("{}/managedZones", self.project_path());
        let items = self.list_all(op, &path, &[], "managedZones").await?;
        let mut out = Vec::new();
        for z in &items {
            let (Some(dns), Some(name)) = (
                z.get("dnsName").and_then(Value::as_str),
                z.get("name").and_then(Value::as_str),
            ) else {
                return Err(api::protocol(op, "a zone without dnsName or name"));
            };
            // A private zone of the same name answers only inside its networks.
            if z.get("visibility").and_then(Value::as_str) == Some("private") {
                continue;
            }
            if let Ok(f) = Fqdn::parse_relaxed(dns) {
                out.push((f, name.to_owned()));
            }
        }
        Ok(out)
    }

    /// The managed zone of `name`: configured, hinted, or the longest public zone holding it.
    pub(super) async fn locate(
        &self,
        name: &Fqdn,
        hints: &ProviderHints,
    ) -> Result<String, ProviderError> {
        if let Some(z) = &self.settings.managed_zone {
            return Ok(z.clone());
        }
        if let (Some(zone), Some(mz)) = (hints.0.get(HINT_ZONE), hints.0.get(HINT_MANAGED_ZONE)) {
            if Fqdn::parse_relaxed(zone).is_ok_and(|z| name.is_within(&z)) {
                return Ok(mz.clone());
            }
        }
        let best = |zones: &[(Fqdn, String)]| {
            zones
                .iter()
                .filter(|(d, _)| name.is_within(d))
                .max_by_key(|(d, _)| d.as_str().len())
                .map(|(_, n)| n.clone())
        };
        let cached = self.zones.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(z) = cached.as_deref().and_then(best) {
            return Ok(z);
        }
        let fresh = self.managed_zones().await?;
        let found = best(&fresh);
        *self.zones.lock().unwrap_or_else(|p| p.into_inner()) = Some(fresh);
        found.ok_or_else(|| {
            ProviderError::new(
                ProviderErrorKind::ZoneNotFound,
                format!(
                    "no public managed zone of project {} contains {name}",
                    self.settings.project
                ),
            )
            .with_hint("create the zone in Cloud DNS, or set managed_zone (and project) in the provider's settings")
        })
    }

    pub(super) fn zone_dns_name(&self, managed_zone: &str) -> Option<Fqdn> {
        let zones = self.zones.lock().unwrap_or_else(|p| p.into_inner());
        zones
            .as_ref()?
            .iter()
            .find(|(_, n)| n == managed_zone)
            .map(|(d, _)| d.clone())
    }

    /// The live RRset of (name, type) in `managed_zone`, if any.
    pub(super) async fn read_set(
        &self,
        managed_zone: &str,
        name: &Fqdn,
        rtype: RecordType,
    ) -> Result<Option<LiveSet>, ProviderError> {
        let op = "rrsets.list";
        let path = format!(
            "{}/managedZones/{}/rrsets",
            self.project_path(),
            percent_encode(managed_zone)
        );
        let query = [("name", name.dotted()), ("type", rtype.as_str().to_owned())];
        let items = self.list_all(op, &path, &query, "rrsets").await?;
        for item in &items {
            let name_ok = item
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.trim_end_matches('.').eq_ignore_ascii_case(name.as_str()));
            let type_ok = item
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case(rtype.as_str()));
            if !(name_ok && type_ok) {
                continue;
            }
            let ttl = item
                .get("ttl")
                .and_then(Value::as_u64)
                .and_then(|t| u32::try_from(t).ok())
                .ok_or_else(|| api::protocol(op, "an rrset without ttl"))?;
            let rrdatas: Vec<String> = item
                .get("rrdatas")
                .and_then(Value::as_array)
                .ok_or_else(|| api::protocol(op, "an rrset without rrdatas"))?
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect();
            for v in &rrdatas {
                if v.parse::<IpAddr>().is_err() {
                    return Err(api::protocol(
                        op,
                        &format!("{name} {rtype} has a non-address value {v:?}"),
                    ));
                }
            }
            return Ok(Some(LiveSet { ttl, rrdatas }));
        }
        Ok(None)
    }

    pub(super) async fn read(
        &self,
        key: &RecordKey,
        hints: &ProviderHints,
    ) -> Result<LiveRrSet, ProviderError> {
        let mz = self.locate(&key.name, hints).await?;
        let set = self.read_set(&mz, &key.name, key.rtype).await?;
        Ok(LiveRrSet {
            addrs: set.as_ref().map(LiveSet::addrs).unwrap_or_default(),
            ttl: set.as_ref().map(|s| Ttl(s.ttl)),
            hints: self.hints_of(&mz, &key.name, set.as_ref()),
        })
    }

    pub(super) async fn apply(
        &self,
        desired: &RrSet,
        hints: &ProviderHints,
    ) -> Result<ProviderHints, ProviderError> {
        let mz = self.locate(&desired.name, hints).await?;
        let wanted: Option<LiveSet> = (!desired.addrs.is_empty()).then(|| LiveSet {
            ttl: desired.ttl.0,
            rrdatas: desired.addrs.iter().map(IpAddr::to_string).collect(),
        });
        let (mut live, mut read) = match hinted_set(hints, &mz) {
            Some(s) => (s, false),
            None => (
                self.read_set(&mz, &desired.name, desired.rtype).await?,
                true,
            ),
        };
        loop {
            let same = match (&live, &wanted) {
                (None, None) => true,
                (Some(l), Some(w)) => l.ttl == w.ttl && l.addrs() == desired.addrs,
                _ => false,
            };
            if same {
                return Ok(self.hints_of(&mz, &desired.name, live.as_ref()));
            }
            let entry = |s: &LiveSet| {
                json!({"kind": "dns#resourceRecordSet", "name": desired.name.dotted(),
                    "type": desired.rtype.as_str(), "ttl": s.ttl, "rrdatas": s.rrdatas})
            };
            let mut change = json!({"kind": "dns#change"});
            if let Some(w) = &wanted {
                change["additions"] = json!([entry(w)]);
            }
            if let Some(l) = &live {
                change["deletions"] = json!([entry(l)]);
            }
            let path = format!(
                "{}/managedZones/{}/changes",
                self.project_path(),
                percent_encode(&mz)
            );
            match self
                .call("changes.create", Method::Post, &path, &[], Some(&change))
                .await
            {
                Ok(_) => return Ok(self.hints_of(&mz, &desired.name, wanted.as_ref())),
                Err(CallError::Conflict(text)) if !read => {
                    tracing::info!(provider = %self.name, record = %desired.key(), reason = %text,
                        "the live record set differs from the remembered one; reading it again");
                    live = self.read_set(&mz, &desired.name, desired.rtype).await?;
                    read = true;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Hints: the managed zone (and its DNS name when known), and the RRset as it now is
    /// (`rrdatas` empty: there is none), so a later change needs no read.
    pub(super) fn hints_of(&self, mz: &str, name: &Fqdn, set: Option<&LiveSet>) -> ProviderHints {
        let mut h = ProviderHints::default();
        h.0.insert(HINT_MANAGED_ZONE.into(), mz.to_owned());
        let zone = self
            .zone_dns_name(mz)
            .filter(|z| name.is_within(z))
            .unwrap_or_else(|| name.clone());
        h.0.insert(HINT_ZONE.into(), zone.to_string());
        match set {
            Some(s) => {
                h.0.insert(HINT_RRDATAS.into(), s.rrdatas.join(","));
                h.0.insert(HINT_TTL.into(), s.ttl.to_string());
            }
            None => {
                h.0.insert(HINT_RRDATAS.into(), String::new());
            }
        }
        h
    }
}

/// The RRset remembered in `hints` for `managed_zone`: `Some(None)` = remembered as absent,
/// `None` = not remembered.
pub(super) fn hinted_set(hints: &ProviderHints, managed_zone: &str) -> Option<Option<LiveSet>> {
    if hints.0.get(HINT_MANAGED_ZONE).map(String::as_str) != Some(managed_zone) {
        return None;
    }
    let list = hints.0.get(HINT_RRDATAS)?;
    if list.is_empty() {
        return Some(None);
    }
    let ttl = hints.0.get(HINT_TTL)?.parse().ok()?;
    Some(Some(LiveSet {
        ttl,
        rrdatas: list.split(',').map(str::to_owned).collect(),
    }))
}
