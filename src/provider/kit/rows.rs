//! RRset reconciliation for APIs that store one row (with an id) per value, such as DNSPod:
//! the pure row plan ([`plan_rows`]), the [`ProviderHints`] encoding of zone and record ids,
//! and the apply loop shared by `tencentcloud.rs` and `dnspod.rs` over the [`RowApi`] trait.
//!
//! Touches only rows of one (sub-domain, type, line); never other names or types.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::BoxFuture;

use crate::provider::{LiveRrSet, ProviderError, ProviderErrorKind, ProviderHints};
use crate::record::{AddrSet, Fqdn, RecordKey, RecordType, RrSet, Ttl};

/// One live record row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The provider's record id; `None` when a write succeeded without telling it.
    pub id: Option<String>,
    /// The address.
    pub value: IpAddr,
    /// The row's TTL.
    pub ttl: u32,
}

/// One write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowOp {
    /// Point an existing row at `value` with `ttl` (reuses the id; no delete-then-create).
    Modify {
        /// The row's id.
        id: String,
        /// The new value.
        value: IpAddr,
        /// The TTL.
        ttl: u32,
    },
    /// Add a row.
    Create {
        /// The value.
        value: IpAddr,
        /// The TTL.
        ttl: u32,
    },
    /// Remove a stale row.
    Delete {
        /// The row's id.
        id: String,
        /// Its value (for logs).
        value: IpAddr,
    },
}

/// The writes that make `live` equal `desired` with `ttl`: rows already holding a desired
/// value are kept (modified only for a TTL change), surplus rows are re-pointed at missing
/// values, then missing values are created, then remaining surplus rows deleted — so the name
/// keeps resolving throughout (`tencentcloud-dnspod.md` §4.8).
pub fn plan_rows(live: &[Row], desired: &AddrSet, ttl: u32) -> Vec<RowOp> {
    let mut claimed: Vec<IpAddr> = Vec::new();
    let mut keep_modify = Vec::new();
    let mut surplus: Vec<&Row> = Vec::new();
    for row in live {
        if desired.contains(&row.value) && !claimed.contains(&row.value) {
            claimed.push(row.value);
            if row.ttl != ttl {
                if let Some(id) = &row.id {
                    keep_modify.push(RowOp::Modify {
                        id: id.clone(),
                        value: row.value,
                        ttl,
                    });
                }
            }
        } else {
            surplus.push(row);
        }
    }
    let mut missing = desired.iter().filter(|a| !claimed.contains(a)).copied();
    let mut ops = keep_modify;
    let mut deletes = Vec::new();
    let mut creates = Vec::new();
    for row in surplus {
        match (&row.id, missing.next()) {
            (Some(id), Some(value)) => ops.push(RowOp::Modify {
                id: id.clone(),
                value,
                ttl,
            }),
            (Some(id), None) => deletes.push(RowOp::Delete {
                id: id.clone(),
                value: row.value,
            }),
            // A row without an id cannot be touched; the next read will know it.
            (None, Some(value)) => creates.push(RowOp::Create { value, ttl }),
            (None, None) => {}
        }
    }
    creates.extend(missing.map(|value| RowOp::Create { value, ttl }));
    ops.extend(creates);
    ops.extend(deletes);
    ops
}

const HINT_ZONE: &str = "zone";
const HINT_RECORDS: &str = "records";
const HINT_TTL: &str = "ttl";

/// Hints for a zone and its rows: `zone`, `records` = `ID=VALUE,…`, `ttl`. Rows are left out
/// when some row's id is unknown, so the next run reads instead of trusting half a picture.
pub fn encode_hints(zone: &Fqdn, rows: &[Row]) -> ProviderHints {
    let mut h = ProviderHints::default();
    h.0.insert(HINT_ZONE.into(), zone.to_string());
    let ttl = rows.first().map(|r| r.ttl);
    let same_ttl = rows.iter().all(|r| Some(r.ttl) == ttl);
    let ids: Option<Vec<String>> = rows
        .iter()
        .map(|r| r.id.as_ref().map(|id| format!("{id}={}", r.value)))
        .collect();
    if let (Some(ids), true) = (ids, same_ttl) {
        h.0.insert(HINT_RECORDS.into(), ids.join(","));
        h.0.insert(HINT_TTL.into(), ttl.unwrap_or(0).to_string());
    }
    h
}

/// The zone remembered in `hints`, if `name` lies in it.
pub fn hinted_zone(hints: &ProviderHints, name: &Fqdn) -> Option<Fqdn> {
    let zone = Fqdn::parse_relaxed(hints.0.get(HINT_ZONE)?).ok()?;
    name.is_within(&zone).then_some(zone)
}

/// The rows remembered in `hints` (for `zone`), or `None` when the hints do not say.
pub fn hinted_rows(hints: &ProviderHints, zone: &Fqdn) -> Option<Vec<Row>> {
    if hints.0.get(HINT_ZONE)? != zone.as_str() {
        return None;
    }
    let ttl: u32 = hints.0.get(HINT_TTL)?.parse().ok()?;
    let list = hints.0.get(HINT_RECORDS)?;
    if list.is_empty() {
        return Some(Vec::new());
    }
    list.split(',')
        .map(|item| {
            let (id, value) = item.split_once('=')?;
            Some(Row {
                id: Some(id.to_owned()),
                value: value.parse().ok()?,
                ttl,
            })
        })
        .collect()
}

/// A failed write of one row.
#[derive(Debug)]
pub enum RowError {
    /// The row id is unknown to the provider (deleted by someone else): re-read.
    Gone,
    /// Anything else.
    Failed(ProviderError),
}

impl From<ProviderError> for RowError {
    fn from(e: ProviderError) -> RowError {
        RowError::Failed(e)
    }
}

/// The record-level calls of a row-per-value DNS API.
pub trait RowApi: Send + Sync {
    /// The provider's name (for logs).
    fn provider_name(&self) -> &str;
    /// The zone holding `name`: configured, remembered in `hints`, or looked up.
    fn zone<'a>(
        &'a self,
        name: &'a Fqdn,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<Fqdn, ProviderError>>;
    /// Every row of (sub, type) on the managed line.
    fn list<'a>(
        &'a self,
        zone: &'a Fqdn,
        sub: &'a str,
        rtype: RecordType,
    ) -> BoxFuture<'a, Result<Vec<Row>, ProviderError>>;
    /// Creates a row; returns its id when the provider says.
    fn create<'a>(
        &'a self,
        zone: &'a Fqdn,
        sub: &'a str,
        rtype: RecordType,
        value: IpAddr,
        ttl: u32,
    ) -> BoxFuture<'a, Result<Option<String>, RowError>>;
    /// Re-points a row.
    fn modify<'a>(
        &'a self,
        zone: &'a Fqdn,
        sub: &'a str,
        rtype: RecordType,
        id: &'a str,
        value: IpAddr,
        ttl: u32,
    ) -> BoxFuture<'a, Result<(), RowError>>;
    /// Deletes a row.
    fn delete<'a>(&'a self, zone: &'a Fqdn, id: &'a str) -> BoxFuture<'a, Result<(), RowError>>;
}

/// The relative name of `name` in `zone` (`@` at the apex).
pub fn sub_domain(name: &Fqdn, zone: &Fqdn) -> Result<String, ProviderError> {
    name.relative_to(zone).ok_or_else(|| {
        ProviderError::new(
            ProviderErrorKind::Rejected,
            format!("{name} is not inside the zone {zone}"),
        )
        .with_hint("set the provider's zone to a domain that contains the record name")
    })
}

/// Reads the live RRset.
pub async fn read_rows(
    api: &dyn RowApi,
    key: &RecordKey,
    hints: &ProviderHints,
) -> Result<LiveRrSet, ProviderError> {
    let zone = api.zone(&key.name, hints).await?;
    let sub = sub_domain(&key.name, &zone)?;
    let rows = api.list(&zone, &sub, key.rtype).await?;
    Ok(LiveRrSet {
        addrs: rows.iter().map(|r| r.value).collect(),
        ttl: rows.first().map(|r| Ttl(r.ttl)),
        hints: encode_hints(&zone, &rows),
    })
}

/// `ttl` raised to the provider's `min` (the TTL it really publishes), warning once per
/// provider instance when it had to be raised.
pub fn raise_ttl(provider: &str, ttl: Ttl, min: u32, warned: &AtomicBool) -> Ttl {
    // Debug, not a warning: the record's default TTL (300) is below DNSPod's free-plan minimum,
    // and a default must not warn on every `run --once` (the README says so instead).
    if ttl.0 < min && !warned.swap(true, Ordering::Relaxed) {
        tracing::debug!(
            provider,
            requested = ttl.0,
            used = min,
            "ttl {} is below the provider's minimum; publishing with ttl {min}",
            ttl.0
        );
    }
    Ttl(ttl.0.max(min))
}

/// Makes the live rows equal `desired`, trusting the rows remembered in `hints` when there
/// are any (so an address change costs one modify); on a vanished row id, re-reads once.
pub async fn apply_rows(
    api: &dyn RowApi,
    desired: &RrSet,
    hints: &ProviderHints,
    min_ttl: u32,
) -> Result<ProviderHints, ProviderError> {
    let zone = api.zone(&desired.name, hints).await?;
    let sub = sub_domain(&desired.name, &zone)?;
    let ttl = desired.ttl.0.max(min_ttl);
    let mut live = match hinted_rows(hints, &zone) {
        Some(rows) => rows,
        None => api.list(&zone, &sub, desired.rtype).await?,
    };
    let mut reread = false;
    'plan: loop {
        let mut result: Vec<Row> = Vec::new();
        let ops = plan_rows(&live, &desired.addrs, ttl);
        let touched: Vec<&str> = ops
            .iter()
            .filter_map(|op| match op {
                RowOp::Modify { id, .. } | RowOp::Delete { id, .. } => Some(id.as_str()),
                RowOp::Create { .. } => None,
            })
            .collect();
        for row in &live {
            let untouched = row.id.as_deref().is_none_or(|id| !touched.contains(&id));
            if untouched && desired.addrs.contains(&row.value) {
                result.push(row.clone());
            }
        }
        for op in &ops {
            tracing::debug!(provider = api.provider_name(), record = %desired.key(), ?op, "writing");
            let outcome = match op {
                RowOp::Modify { id, value, ttl } => api
                    .modify(&zone, &sub, desired.rtype, id, *value, *ttl)
                    .await
                    .map(|()| {
                        result.push(Row {
                            id: Some(id.clone()),
                            value: *value,
                            ttl: *ttl,
                        })
                    }),
                RowOp::Create { value, ttl } => api
                    .create(&zone, &sub, desired.rtype, *value, *ttl)
                    .await
                    .map(|id| {
                        result.push(Row {
                            id,
                            value: *value,
                            ttl: *ttl,
                        })
                    }),
                RowOp::Delete { id, .. } => match api.delete(&zone, id).await {
                    Err(RowError::Gone) => Ok(()),
                    other => other,
                },
            };
            match outcome {
                Ok(()) => {}
                Err(RowError::Gone) if !reread => {
                    tracing::info!(
                        provider = api.provider_name(),
                        record = %desired.key(),
                        "a remembered record id no longer exists; reading the live records again"
                    );
                    reread = true;
                    live = api.list(&zone, &sub, desired.rtype).await?;
                    continue 'plan;
                }
                Err(RowError::Gone) => {
                    return Err(ProviderError::new(
                        ProviderErrorKind::Transient,
                        format!(
                            "records of {} kept disappearing while being updated",
                            desired.key()
                        ),
                    ))
                }
                Err(RowError::Failed(e)) => return Err(e),
            }
        }
        return Ok(encode_hints(&zone, &result));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }
    fn row(id: &str, v: &str, ttl: u32) -> Row {
        Row {
            id: Some(id.into()),
            value: ip(v),
            ttl,
        }
    }
    fn set(v: &[&str]) -> AddrSet {
        v.iter().map(|a| ip(a)).collect()
    }

    #[test]
    fn plans() {
        let a = "2001:db8::1";
        let b = "2001:db8::2";
        let c = "2001:db8::3";
        // Unchanged.
        assert_eq!(plan_rows(&[row("1", a, 600)], &set(&[a]), 600), vec![]);
        // Create.
        assert_eq!(
            plan_rows(&[], &set(&[a]), 600),
            vec![RowOp::Create {
                value: ip(a),
                ttl: 600
            }]
        );
        // Changed value reuses the id.
        assert_eq!(
            plan_rows(&[row("1", a, 600)], &set(&[b]), 600),
            vec![RowOp::Modify {
                id: "1".into(),
                value: ip(b),
                ttl: 600
            }]
        );
        // TTL change only.
        assert_eq!(
            plan_rows(&[row("1", a, 600)], &set(&[a]), 900),
            vec![RowOp::Modify {
                id: "1".into(),
                value: ip(a),
                ttl: 900
            }]
        );
        // Stale extras deleted, duplicates too.
        assert_eq!(
            plan_rows(
                &[row("1", a, 600), row("2", b, 600), row("3", a, 600)],
                &set(&[a]),
                600
            ),
            vec![
                RowOp::Delete {
                    id: "2".into(),
                    value: ip(b)
                },
                RowOp::Delete {
                    id: "3".into(),
                    value: ip(a)
                }
            ]
        );
        // Modify first, then create.
        assert_eq!(
            plan_rows(&[row("1", a, 600)], &set(&[b, c]), 600),
            vec![
                RowOp::Modify {
                    id: "1".into(),
                    value: ip(b),
                    ttl: 600
                },
                RowOp::Create {
                    value: ip(c),
                    ttl: 600
                }
            ]
        );
        // Remove everything.
        assert_eq!(
            plan_rows(&[row("1", a, 600)], &AddrSet::new(), 600),
            vec![RowOp::Delete {
                id: "1".into(),
                value: ip(a)
            }]
        );
    }

    #[test]
    fn hints_round_trip() {
        let zone: Fqdn = "example.com".parse().unwrap();
        let rows = vec![row("11", "2001:db8::1", 600), row("12", "192.0.2.1", 600)];
        let h = encode_hints(&zone, &rows);
        assert_eq!(h.0["records"], "11=2001:db8::1,12=192.0.2.1");
        assert_eq!(hinted_rows(&h, &zone), Some(rows));
        let name: Fqdn = "home.example.com".parse().unwrap();
        assert_eq!(hinted_zone(&h, &name), Some(zone.clone()));
        let other: Fqdn = "home.example.org".parse().unwrap();
        assert_eq!(hinted_zone(&h, &other), None);
        // An unknown id: zone only.
        let h = encode_hints(
            &zone,
            &[Row {
                id: None,
                value: ip("2001:db8::1"),
                ttl: 600,
            }],
        );
        assert_eq!(hinted_rows(&h, &zone), None);
        // Empty set is remembered as empty.
        let h = encode_hints(&zone, &[]);
        assert_eq!(hinted_rows(&h, &zone), Some(vec![]));
    }
}
