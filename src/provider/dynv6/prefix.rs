//! Prefix mode (the update API): publishing the zone's IPv6 prefix or IPv4 address when it
//! changed, and reading back the last acknowledgement (the API has no read call).

use std::net::IpAddr;

use super::wire::{encode, judge_update, prefix_of, transport_error};
use super::{Dynv6, HINT_PREFIX, HINT_PUBLISHED, HINT_TTL, HINT_ZONE};
use crate::http::{Method, Request};
use crate::provider::kit::api;
use crate::provider::{LiveRrSet, ProviderError, ProviderErrorKind, ProviderHints};
use crate::record::{AddrSet, Family, RecordKey, RecordType, RrSet, Ttl};

impl Dynv6 {
    /// Prefix mode: sends the zone's prefix (AAAA) or address (A) to the update API when it
    /// changed since the last acknowledgement.
    pub(super) async fn update(
        &self,
        desired: &RrSet,
        hints: &ProviderHints,
    ) -> Result<ProviderHints, ProviderError> {
        let key = desired.key();
        let zone = self
            .settings
            .zone
            .clone()
            .unwrap_or_else(|| desired.name.clone());
        if desired.name != zone {
            return Err(ProviderError::new(
                ProviderErrorKind::Rejected,
                format!("with mode = \"prefix\" a record names the zone itself ({zone}), not {}", desired.name),
            )
            .with_hint(format!("publish {zone} through this provider; hosts inside the zone follow its prefix (or use mode = \"records\" for {})", desired.name)));
        }
        let (param, value) = match desired.addrs.iter().collect::<Vec<_>>().as_slice() {
            [IpAddr::V6(a)] => ("ipv6prefix", prefix_of(*a, self.settings.prefix_length)),
            [IpAddr::V4(a)] => ("ipv4", a.to_string()),
            [] => {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    format!("ddnsd does not remove the zone's {}", desired.rtype),
                )
                .with_hint("clear it on dynv6.com"))
            }
            many => {
                let prefixes: std::collections::BTreeSet<String> = many
                    .iter()
                    .filter_map(|a| match a {
                        IpAddr::V6(v) => Some(prefix_of(*v, self.settings.prefix_length)),
                        IpAddr::V4(_) => None,
                    })
                    .collect();
                match prefixes.into_iter().collect::<Vec<_>>().as_slice() {
                    [one] => ("ipv6prefix", one.clone()),
                    _ => {
                        return Err(ProviderError::new(
                            ProviderErrorKind::Rejected,
                            format!(
                                "{key} has {} addresses ({}) but the update API takes one {}",
                                many.len(),
                                desired.addrs,
                                if desired.rtype == RecordType::A {
                                    "address"
                                } else {
                                    "prefix"
                                }
                            ),
                        )
                        .with_hint("narrow the record's sources to one address (one prefix)"))
                    }
                }
            }
        };
        let mut ack = ProviderHints::default();
        ack.0.insert(HINT_ZONE.into(), zone.to_string());
        ack.0.insert(HINT_PREFIX.into(), value.clone());
        ack.0
            .insert(HINT_PUBLISHED.into(), desired.addrs.to_string());
        ack.0.insert(HINT_TTL.into(), desired.ttl.0.to_string());
        let same = hints.0.get(HINT_ZONE).map(String::as_str) == Some(zone.as_str())
            && hints.0.get(HINT_PREFIX) == Some(&value);
        if same {
            tracing::debug!(provider = %self.name, record = %key, prefix = %value, "the prefix is unchanged; nothing sent");
            return Ok(ack);
        }
        let url = format!(
            "{}/api/update?zone={}&token={}&{param}={}",
            self.settings.endpoint,
            encode(zone.as_str()),
            encode(self.settings.token.expose()),
            encode(&value)
        );
        let action = format!("update at {}", self.service);
        tracing::debug!(provider = %self.name, record = %key, param, value = %value, "sending dynv6 update");
        api::with_retries(
            &self.backoff,
            &self.name,
            &action,
            |e: &ProviderError| e.kind.retried_in_call().then_some(e),
            || async {
                let resp = self
                    .http
                    .send(Request {
                        method: Method::Get,
                        url: &url,
                        headers: &[],
                        body: Vec::new(),
                        timeout: self.timeout,
                    })
                    .await
                    .map_err(|e| transport_error(&action, &e, &self.settings.endpoint))?;
                tracing::debug!(provider = %self.name, status = resp.status, "dynv6 update reply");
                judge_update(&action, &resp)
            },
        )
        .await?;
        Ok(ack)
    }
}

/// Prefix mode: the remembered acknowledgement of `key`, or an empty set.
pub(super) fn acknowledged(hints: &ProviderHints, key: &RecordKey) -> LiveRrSet {
    let parsed = (|| {
        if hints.0.get(HINT_ZONE).map(String::as_str) != Some(key.name.as_str()) {
            return None;
        }
        let ttl: u32 = hints.0.get(HINT_TTL)?.parse().ok()?;
        let addrs: AddrSet = hints
            .0
            .get(HINT_PUBLISHED)?
            .split(',')
            .map(|a| a.parse().ok())
            .collect::<Option<AddrSet>>()?;
        let same_family = addrs.iter().all(|a| Family::of(a) == key.rtype.family());
        same_family.then_some((addrs, ttl))
    })();
    match parsed {
        Some((addrs, ttl)) => LiveRrSet {
            addrs,
            ttl: Some(Ttl(ttl)),
            hints: hints.clone(),
        },
        None => LiveRrSet {
            addrs: AddrSet::new(),
            ttl: None,
            hints: ProviderHints::default(),
        },
    }
}
