//! Finding a record's zone: the configured `zone_id`, the one remembered in hints, or a
//! look-up by name (longest parent first), cached for the process.

use serde_json::Value;

use super::codes::failure_error;
use super::{Cloudflare, Zone, HINT_ZONE_ID};
use crate::http::Method;
use crate::provider::kit::zones::longest_match;
use crate::provider::kit::{api, rows};
use crate::provider::{ProviderError, ProviderErrorKind, ProviderHints};
use crate::record::Fqdn;

impl Cloudflare {
    /// The zone of `name`: the configured id, else the remembered one, else found by name
    /// (longest parent first; cached for the process).
    pub(super) async fn zone(
        &self,
        name: &Fqdn,
        hints: &ProviderHints,
    ) -> Result<Zone, ProviderError> {
        if let Some(id) = &self.settings.zone_id {
            return Ok(Zone {
                name: self.settings.zone.clone(),
                id: id.clone(),
            });
        }
        if let (Some(zone), Some(id)) = (rows::hinted_zone(hints, name), hints.0.get(HINT_ZONE_ID))
        {
            if self.settings.zone.as_ref().is_none_or(|z| *z == zone) {
                return Ok(Zone {
                    name: Some(zone),
                    id: id.clone(),
                });
            }
        }
        let cached = {
            let zones = self.lock_zones();
            let names: Vec<Fqdn> = zones.iter().map(|(z, _)| z.clone()).collect();
            let wanted = match &self.settings.zone {
                Some(z) => names.contains(z).then(|| z.clone()),
                None => longest_match(&names, name),
            };
            wanted.and_then(|w| zones.iter().find(|(z, _)| *z == w).cloned())
        };
        if let Some((zone, id)) = cached {
            return Ok(Zone {
                name: Some(zone),
                id,
            });
        }
        let candidates: Vec<Fqdn> = match &self.settings.zone {
            Some(z) => vec![z.clone()],
            // The name itself may be a zone apex; single labels (TLDs) are never zones.
            None => std::iter::once(name.clone())
                .chain(name.ancestors())
                .filter(|c| c.as_str().contains('.'))
                .collect(),
        };
        for candidate in candidates {
            if let Some(id) = self.find_zone(&candidate).await? {
                self.lock_zones().push((candidate.clone(), id.clone()));
                return Ok(Zone {
                    name: Some(candidate),
                    id,
                });
            }
        }
        let what = match &self.settings.zone {
            Some(z) => format!("the token sees no zone named {z}"),
            None => format!("the token sees no zone that contains {name}"),
        };
        Err(ProviderError::new(ProviderErrorKind::ZoneNotFound, what).with_hint(
            "add the zone to Cloudflare and include it in the token's zone resources, or set zone_id",
        ))
    }

    fn lock_zones(&self) -> std::sync::MutexGuard<'_, Vec<(Fqdn, String)>> {
        self.zones.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The id of the zone named exactly `zone`, if the token sees one.
    async fn find_zone(&self, zone: &Fqdn) -> Result<Option<String>, ProviderError> {
        let action = "ListZones";
        let query = [("name", zone.to_string()), ("per_page", "50".to_owned())];
        let (result, _) = self
            .call(action, Method::Get, "/zones", &query, None)
            .await
            .map_err(|f| failure_error(action, f))?;
        let list = result
            .as_array()
            .ok_or_else(|| api::protocol(action, "\"result\" is not an array"))?;
        let mut found = None;
        for z in list {
            let (Some(id), Some(name)) = (
                z.get("id").and_then(Value::as_str),
                z.get("name").and_then(Value::as_str),
            ) else {
                return Err(api::protocol(action, "a zone without id or name"));
            };
            if Fqdn::parse_relaxed(name).is_ok_and(|n| n == *zone) {
                let active = z.get("status").and_then(Value::as_str) == Some("active");
                // Prefer the active zone when the account also holds a pending copy.
                if active || found.is_none() {
                    found = Some(id.to_owned());
                }
            }
        }
        Ok(found)
    }
}
