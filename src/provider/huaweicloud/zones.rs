//! Finding the record's zone among the account's public zones (ListPublicZones, paged) and
//! its id: configured, remembered in the hints, learned while listing, or looked up by name.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{HuaweiCloud, HINT_ZONE, HINT_ZONE_ID, SERVICE};
use crate::provider::kit::api;
use crate::provider::{ProviderError, ProviderErrorKind, ProviderHints};
use crate::record::Fqdn;

impl HuaweiCloud {
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
    pub(super) async fn locate(
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
    pub(super) async fn zone_id_by_name(&self, zone: &Fqdn) -> Result<String, ProviderError> {
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
}
