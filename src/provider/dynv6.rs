//! `kind = "dynv6"`: dynv6.com, with an HTTP token (`Authorization: Bearer …` for the REST API,
//! `token=` for the update API), in one of two modes.
//!
//! - `mode = "records"` (default): the REST API (`/api/v2`, spec `dynv6/api-spec` 0.2.0). A
//!   name inside the zone is one record per address (`GET/POST /zones/{id}/records`,
//!   `PATCH/DELETE …/records/{id}`), reconciled by the shared row plan (`kit::rows::plan_rows`:
//!   ids re-pointed, never delete-then-create). The zone's own name is not a record: its A and
//!   AAAA are the zone's `ipv4address` and `ipv6prefix` fields (`PATCH /zones/{id}`), one
//!   address each; a prefix length already there is kept.
//! - `mode = "prefix"`: the update API (`GET /api/update?zone=…&token=…&ipv6prefix=…`). Only the
//!   zone's IPv6 prefix is published (the AAAA record's address cut to `prefix_length` bits);
//!   every record of the zone written as a partial address or a MAC address follows it. The
//!   zone's A goes in `ipv4=`. The update API has no read call, so this mode is write-only
//!   ([`Provider::reads_live`] is false) and the prefix is sent only when it changes.
//!
//! Owns both wire formats and the meaning of their answers (the REST statuses and the dynv6
//! error envelope `{"error": {"name", "message", "fields"}}` in [`status_error`], the one
//! table). Reference: `shared/providers/dynv6-duckdns-desec.md` §1 and dynv6.com/docs/apis.
//!
//! dynv6 has no TTL field: it picks the TTL. ddnsd reports the TTL it last asked for (kept in
//! the hints), so a verify does not see drift it could not repair.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};

use super::kit::api;
use super::kit::rows::{self, Row, RowOp};
use super::kit::zones::longest_match;
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints,
};
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{Backoff, HttpClient, HttpError, HttpResponse, Method, Request};
use crate::record::{AddrSet, Family, Fqdn, RecordKey, RecordType, RrSet, Ttl};
use crate::secret::Secret;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "dynv6",
    about: "dynv6.com (HTTP token): each name's records (REST API), or only the zone's IPv6 prefix (mode = \"prefix\")",
    example: r#"[providers.dynv6]
kind = "dynv6"
token_env = "DYNV6_TOKEN"     # or token / token_file: an HTTP token from dynv6.com/keys
# zone = "home.dynv6.net"     # omit to find the record's zone among the token's zones
# mode = "records"            # records: every record name gets its addresses (REST API);
                              # prefix: only the zone's IPv6 prefix is published (update
                              # API), every host of the zone written as ::suffix or MAC follows
# prefix_length = 64          # mode = "prefix": the length of the published prefix
# endpoint = "https://dynv6.com"
"#,
    configure,
};

/// The default base URL (REST API at `/api/v2`, update API at `/api/update`).
pub const DEFAULT_ENDPOINT: &str = "https://dynv6.com";

const HINT_ZONE: &str = "zone";
const HINT_ZONE_ID: &str = "zone_id";
const HINT_TTL: &str = "ttl";
const HINT_PUBLISHED: &str = "published";
const HINT_PREFIX: &str = "prefix";
const AUTH_HINT: &str = "check token: an HTTP token from dynv6.com/keys (one restricted to a zone works for that zone only); ddnsd retries after the config is reloaded";

/// How a dynv6 provider publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Each name's addresses through the REST API.
    Records,
    /// Only the zone's IPv6 prefix (and IPv4 address) through the update API.
    Prefix,
}

/// Settings of a dynv6 provider.
#[derive(Clone, Debug)]
pub struct Dynv6Settings {
    /// The HTTP token.
    pub token: Secret<String>,
    /// The zone; `None` = the token's zone that contains the name (records mode) or the
    /// record's own name (prefix mode).
    pub zone: Option<Fqdn>,
    /// How to publish.
    pub mode: Mode,
    /// The published prefix's length (prefix mode).
    pub prefix_length: u8,
    /// Base URL, default `https://dynv6.com`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "dynv6"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    token: Option<Text>,
    token_file: Option<Text>,
    token_env: Option<Text>,
    zone: Option<Text>,
    mode: Option<Text>,
    prefix_length: Option<toml::Spanned<i64>>,
    endpoint: Option<Text>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let token = f.secret(SecretFields {
        name: "token",
        inline: &r.token,
        file: &r.token_file,
        env: &r.token_env,
    });
    let zone = fields::zone(f, &r.zone);
    let mode = match r.mode.as_ref().map(|t| (t, t.get_ref().as_str())) {
        None | Some((_, "records")) => Some(Mode::Records),
        Some((_, "prefix")) => Some(Mode::Prefix),
        Some((t, other)) => {
            f.problem(
                t.span(),
                format!("mode {other:?} is not \"records\" or \"prefix\""),
                Some("records publishes each name's addresses; prefix publishes only the zone's IPv6 prefix".into()),
            );
            None
        }
    };
    let prefix_length = match &r.prefix_length {
        None => Some(64),
        Some(t) => match u8::try_from(*t.get_ref()) {
            Ok(n) if (1..=128).contains(&n) => {
                if mode != Some(Mode::Prefix) {
                    f.problem(
                        t.span(),
                        "prefix_length is used only with mode = \"prefix\"".into(),
                        Some("remove it, or set mode = \"prefix\"".into()),
                    );
                }
                Some(n)
            }
            _ => {
                f.problem(
                    t.span(),
                    format!("prefix_length {} is not 1 to 128", t.get_ref()),
                    Some("use the length of the prefix your ISP delegates, usually 64 or 56".into()),
                );
                None
            }
        },
    };
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(Dynv6Settings {
        token: token?,
        zone: zone?,
        mode: mode?,
        prefix_length: prefix_length?,
        endpoint: endpoint?,
    }))
}

impl Configured for Dynv6Settings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Dynv6::new(name.to_owned(), self.clone(), deps))
    }
}

/// A dynv6 provider.
pub struct Dynv6 {
    name: String,
    settings: Dynv6Settings,
    /// `host[:port]` of the endpoint, for messages.
    service: String,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    /// Zones of the token seen in this process: (name, id).
    zones: Mutex<Vec<(Fqdn, u64)>>,
}

/// A zone: name and id.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Zone {
    name: Fqdn,
    id: u64,
}

/// What a failed REST call means to its caller.
#[derive(Debug)]
pub enum Failure {
    /// 404: the zone is not the token's, or (on a record's own path) the record is gone.
    NotFound(ProviderError),
    /// Anything else.
    Provider(ProviderError),
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Failure {
        Failure::Provider(e)
    }
}

impl Failure {
    fn into_error(self) -> ProviderError {
        match self {
            Failure::NotFound(e) | Failure::Provider(e) => e,
        }
    }
}

/// The text of dynv6's error envelope: `error.message`, with each field's message.
fn error_text(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let e = v.get("error")?;
    let mut text = e.get("message").and_then(Value::as_str).unwrap_or("").to_owned();
    if let Some(fields) = e.get("fields").and_then(Value::as_array) {
        for f in fields {
            let name = f.get("name").and_then(Value::as_str).unwrap_or("?");
            let msg = f.get("message").and_then(Value::as_str).unwrap_or("");
            text.push_str(&format!("; {name}: {msg}"));
        }
    }
    Some(text)
}

/// The ONE table of dynv6's answers (REST spec: 401 for an invalid token, 403, 404, 400/422
/// with the ValidationError envelope; the update API answers with the same statuses): 401 →
/// Auth; 403 → Forbidden (a token restricted to another zone); 404 → not found (the caller
/// says whether that is the zone or a record); 400/422 → Rejected with dynv6's words; 429 →
/// RateLimited with `Retry-After`; 5xx → Transient; any other status → Protocol.
pub fn status_error(action: &str, resp: &HttpResponse) -> Failure {
    let s = resp.status;
    let said = error_text(&resp.body)
        .filter(|t| !t.is_empty())
        .map(|t| format!(": {t:?}"))
        .unwrap_or_default();
    let text = format!("{action} failed (http {s}){said}");
    let e = |kind| ProviderError::new(kind, text.clone());
    match s {
        401 => e(ProviderErrorKind::Auth).with_hint(AUTH_HINT).into(),
        403 => e(ProviderErrorKind::Forbidden)
            .with_hint("the token may not change this zone: use a token of the zone's account, unrestricted or restricted to this zone (dynv6.com/keys)")
            .into(),
        404 => Failure::NotFound(e(ProviderErrorKind::ZoneNotFound).with_hint(
            "the zone is not one of the token's: create it on dynv6.com, or correct the record name or zone",
        )),
        400 | 422 => e(ProviderErrorKind::Rejected).into(),
        429 => ProviderError::new(
            ProviderErrorKind::RateLimited {
                retry_after: resp.retry_after,
            },
            format!("{action}: rate limited (http 429)"),
        )
        .into(),
        500..=599 => e(ProviderErrorKind::Transient).into(),
        _ => api::protocol(action, &format!("unexpected http status {s}")).into(),
    }
}

/// `addr` cut to its first `len` bits, as `network/len`. Pure.
pub fn prefix_of(addr: Ipv6Addr, len: u8) -> String {
    let bits = u128::from(addr);
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    };
    format!("{}/{len}", Ipv6Addr::from(bits & mask))
}

/// The address of an `ipv6prefix` field (`2001:db8::1` or `2001:db8::1/64`) and its length.
fn split_prefix(field: &str) -> Option<(Ipv6Addr, Option<u8>)> {
    let (addr, len) = match field.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
        None => (field, None),
    };
    Some((addr.parse().ok()?, len))
}

impl Dynv6 {
    /// A provider named `name`.
    pub fn new(name: String, settings: Dynv6Settings, deps: &ProviderDeps) -> Dynv6 {
        let service = reqwest::Url::parse(&settings.endpoint)
            .ok()
            .and_then(|u| {
                let host = u.host_str()?.to_owned();
                Some(match u.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host,
                })
            })
            .unwrap_or_else(|| "dynv6".to_owned());
        Dynv6 {
            name,
            settings,
            service,
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            zones: Mutex::new(Vec::new()),
        }
    }

    fn api(&self, path: &str) -> String {
        format!("{}/api/v2{path}", self.settings.endpoint)
    }

    /// Calls the REST API, retrying transient failures and rate limits; the reply's JSON
    /// (`Null` for a 204).
    async fn call(
        &self,
        action: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let url = self.api(path);
        let body = body.map(Value::to_string).unwrap_or_default().into_bytes();
        api::with_retries(
            &self.backoff,
            &self.name,
            action,
            |f: &Failure| match f {
                Failure::Provider(p) => Some(p),
                Failure::NotFound(_) => None,
            },
            || async {
                let mut headers = vec![
                    ("Authorization", format!("Bearer {}", self.settings.token.expose())),
                    ("Accept", "application/json".to_owned()),
                ];
                if !body.is_empty() {
                    headers.push(("Content-Type", "application/json".to_owned()));
                }
                let resp = self
                    .http
                    .send(Request {
                        method,
                        url: &url,
                        headers: &headers,
                        body: body.clone(),
                        timeout: self.timeout,
                    })
                    .await
                    .map_err(|e| api::http_error(action, &e, method != Method::Get))?;
                tracing::debug!(provider = %self.name, action, status = resp.status, "reply");
                if !(200..300).contains(&resp.status) {
                    return Err(status_error(action, &resp));
                }
                if resp.status == 204 {
                    return Ok(Value::Null);
                }
                serde_json::from_slice(&resp.body).map_err(|e| {
                    Failure::Provider(ProviderError::new(
                        ProviderErrorKind::Protocol,
                        format!("{action}: the reply is not valid json ({e})"),
                    ))
                })
            },
        )
        .await
    }

    /// The zone holding `name`: configured (looked up by name), remembered, found before, or
    /// the longest of the token's zones that contains it.
    async fn zone(&self, name: &Fqdn, hints: &ProviderHints) -> Result<Zone, ProviderError> {
        let hinted = rows::hinted_zone(hints, name).and_then(|z| {
            let id = hints.0.get(HINT_ZONE_ID)?.parse().ok()?;
            Some(Zone { name: z, id })
        });
        if let Some(z) = hinted.filter(|z| self.settings.zone.as_ref().is_none_or(|c| *c == z.name)) {
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
            .with_hint("create the zone on dynv6.com (or use a token for its account), or set zone"));
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
    async fn apex(&self, zone: &Zone, rtype: RecordType) -> Result<(AddrSet, Option<u8>), ProviderError> {
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
                    Err(_) => Err(api::protocol(action, &format!("ipv4address {s:?} is not an address"))),
                },
            },
            RecordType::Aaaa => match field("ipv6prefix") {
                None => Ok((AddrSet::new(), None)),
                Some(s) => match split_prefix(s) {
                    Some((a, len)) => Ok(([IpAddr::V6(a)].into_iter().collect(), len)),
                    None => Err(api::protocol(action, &format!("ipv6prefix {s:?} is not an address"))),
                },
            },
        }
    }

    /// The records of (`sub`, `rtype`) in `zone`: their ids and addresses (`expandedData`
    /// where dynv6 expanded a partial or MAC address).
    async fn records(&self, zone: &Zone, sub: &str, rtype: RecordType) -> Result<Vec<Row>, ProviderError> {
        let action = "list records";
        let v = match self
            .call(action, Method::Get, &format!("/zones/{}/records", zone.id), None)
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
            let (Some(id), Some(name), Some(typ)) = (r.get("id").and_then(Value::as_u64), text("name"), text("type")) else {
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
    async fn read(&self, key: &RecordKey, hints: &ProviderHints) -> Result<LiveRrSet, ProviderError> {
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
    async fn apply(&self, desired: &RrSet, hints: &ProviderHints) -> Result<ProviderHints, ProviderError> {
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
            let rows_now: Vec<Row> = live.iter().map(|r| Row { ttl: 0, ..r.clone() }).collect();
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
                        .call("update record", Method::Patch, &format!("{base}/{id}"), Some(&body))
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
                    let v = self.call("add record", Method::Post, &base, Some(&body)).await?;
                    let id = check_record("add record", &v, sub, desired.rtype, *value)?;
                    after.push(Row {
                        id: Some(id),
                        value: *value,
                        ttl: 0,
                    });
                }
                RowOp::Delete { id, .. } => {
                    match self
                        .call("delete record", Method::Delete, &format!("{base}/{id}"), None)
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
        self.call("update zone", Method::Patch, &format!("/zones/{}", zone.id), Some(&body))
            .await
            .map_err(Failure::into_error)?;
        Ok(())
    }

    /// Prefix mode: sends the zone's prefix (AAAA) or address (A) to the update API when it
    /// changed since the last acknowledgement.
    async fn update(&self, desired: &RrSet, hints: &ProviderHints) -> Result<ProviderHints, ProviderError> {
        let key = desired.key();
        let zone = self.settings.zone.clone().unwrap_or_else(|| desired.name.clone());
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
                            format!("{key} has {} addresses ({}) but the update API takes one {}", many.len(), desired.addrs, if desired.rtype == RecordType::A { "address" } else { "prefix" }),
                        )
                        .with_hint("narrow the record's sources to one address (one prefix)"))
                    }
                }
            }
        };
        let mut ack = ProviderHints::default();
        ack.0.insert(HINT_ZONE.into(), zone.to_string());
        ack.0.insert(HINT_PREFIX.into(), value.clone());
        ack.0.insert(HINT_PUBLISHED.into(), desired.addrs.to_string());
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

/// What an update-API reply means: 200 with a plain-text answer (dynv6 says "addresses
/// updated" / "addresses unchanged") is success, but an HTML page is not trusted; other
/// statuses go through [`status_error`].
fn judge_update(action: &str, resp: &HttpResponse) -> Result<(), ProviderError> {
    if resp.status == 200 {
        let body = String::from_utf8_lossy(&resp.body);
        if body.trim_start().starts_with('<') {
            return Err(api::protocol(action, "an HTML page, not the update API's answer"));
        }
        return Ok(());
    }
    Err(status_error(action, resp).into_error())
}

/// A transport failure, with every URL (they hold the token) cut to the endpoint.
fn transport_error(action: &str, e: &HttpError, endpoint: &str) -> ProviderError {
    let mut error = api::http_error(action, e, true);
    let mut out = String::with_capacity(error.message.len());
    let mut rest = error.message.as_str();
    while let Some(i) = rest.find(endpoint) {
        out.push_str(&rest[..i]);
        out.push_str(endpoint);
        out.push_str("/…");
        let after = &rest[i..];
        let end = after.find([' ', ')', '"']).unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    error.message = out;
    error
}

/// Checks a written record is the one asked for; returns its id.
fn check_record(action: &str, v: &Value, sub: &str, rtype: RecordType, value: IpAddr) -> Result<String, ProviderError> {
    let id = v
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| api::protocol(action, "the written record has no id"))?;
    let text = |f: &str| v.get(f).and_then(Value::as_str);
    if !text("name").is_some_and(|n| n.eq_ignore_ascii_case(sub)) || text("type") != Some(rtype.as_str()) {
        return Err(api::protocol(action, "the written record has another name or type"));
    }
    let data = text("expandedData").or(text("data")).unwrap_or("");
    if data.parse::<IpAddr>().ok() != Some(value) {
        return Err(api::protocol(action, &format!("record {id} holds {data:?} after writing {value}")));
    }
    Ok(id.to_string())
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

/// Percent-encodes a path segment or query value (RFC 3986 unreserved characters, `:` and `/`
/// of prefixes kept).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Provider for Dynv6 {
    fn name(&self) -> &str {
        &self.name
    }

    /// The update API (prefix mode) has no read call.
    fn reads_live(&self) -> bool {
        self.settings.mode == Mode::Records
    }

    fn read_rrset<'a>(
        &'a self,
        key: &'a RecordKey,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        Box::pin(async move {
            match self.settings.mode {
                Mode::Records => self.read(key, hints).await,
                Mode::Prefix => Ok(acknowledged(hints, key)),
            }
        })
    }

    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        Box::pin(async move {
            match self.settings.mode {
                Mode::Records => self.apply(desired, hints).await,
                Mode::Prefix => self.update(desired, hints).await,
            }
        })
    }
}

/// Prefix mode: the remembered acknowledgement of `key`, or an empty set.
fn acknowledged(hints: &ProviderHints, key: &RecordKey) -> LiveRrSet {
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            date: None,
            retry_after: Some(Duration::from_secs(5)),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn error_of(f: Failure) -> (ProviderErrorKind, String) {
        match f {
            Failure::Provider(e) => (e.kind, e.message),
            Failure::NotFound(e) => (e.kind, format!("not found: {}", e.message)),
        }
    }

    #[test]
    fn status_table() {
        use ProviderErrorKind as K;
        let cases = [
            (401, r#"{"error":{"name":"Unauthorized","message":"invalid authentication token"}}"#, (K::Auth, "add record failed (http 401): \"invalid authentication token\"".to_owned())),
            (403, "", (K::Forbidden, "add record failed (http 403)".to_owned())),
            (404, r#"{"error":{"name":"NotFound","message":"record not found"}}"#, (K::ZoneNotFound, "not found: add record failed (http 404): \"record not found\"".to_owned())),
            (422, r#"{"error":{"name":"ValidationError","message":"validation failed","fields":[{"name":"data","message":"is not an IPv6 address"}]}}"#, (K::Rejected, "add record failed (http 422): \"validation failed; data: is not an IPv6 address\"".to_owned())),
            (400, "{}", (K::Rejected, "add record failed (http 400)".to_owned())),
            (429, "", (K::RateLimited { retry_after: Some(Duration::from_secs(5)) }, "add record: rate limited (http 429)".to_owned())),
            (502, "<html>", (K::Transient, "add record failed (http 502)".to_owned())),
            (302, "", (K::Protocol, "add record: unexpected reply: unexpected http status 302".to_owned())),
        ];
        for (status, body, want) in cases {
            assert_eq!(error_of(status_error("add record", &resp(status, body))), want, "{status}");
        }
        assert!(judge_update("update at dynv6.com", &resp(200, "addresses updated")).is_ok());
        assert_eq!(
            judge_update("update at dynv6.com", &resp(200, "<html>login</html>")).unwrap_err().kind,
            K::Protocol
        );
        assert_eq!(judge_update("u", &resp(401, "invalid authentication token")).unwrap_err().kind, K::Auth);
    }

    #[test]
    fn prefixes() {
        let a: Ipv6Addr = "2001:db8:1:2:a:b:c:d".parse().unwrap();
        assert_eq!(prefix_of(a, 64), "2001:db8:1:2::/64");
        assert_eq!(prefix_of(a, 56), "2001:db8:1::/56");
        assert_eq!(prefix_of(a, 128), "2001:db8:1:2:a:b:c:d/128");
        assert_eq!(split_prefix("2001:db8::1/64"), Some(("2001:db8::1".parse().unwrap(), Some(64))));
        assert_eq!(split_prefix("2001:db8::1"), Some(("2001:db8::1".parse().unwrap(), None)));
        assert_eq!(split_prefix("nope"), None);
    }

    fn build(text: &str) -> Result<Dynv6Settings, String> {
        let env = |v: &str| (v == "DYNV6_TOKEN").then(|| "tok-from-env".to_owned());
        let full = format!(
            "{text}\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"home.dynv6.net\"\nprovider = \"p\"\nsources = [\"s\"]\n"
        );
        match crate::config::from_text(&full, Path::new("t.toml"), &env) {
            Ok(c) => Ok(c.providers["p"].get::<Dynv6Settings>().unwrap().clone()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn the_example_block_builds_and_mistakes_are_placed() {
        let s = build(&KIND.example.replace("[providers.dynv6]", "[providers.p]")).unwrap();
        assert_eq!((s.mode, s.prefix_length, s.zone, s.endpoint.as_str()), (Mode::Records, 64, None, DEFAULT_ENDPOINT));
        assert_eq!(s.token.expose(), "tok-from-env");
        let s = build("[providers.p]\nkind = \"dynv6\"\ntoken = \"t\"\nmode = \"prefix\"\nprefix_length = 56\n").unwrap();
        assert_eq!((s.mode, s.prefix_length), (Mode::Prefix, 56));
        let e = build("[providers.p]\nkind = \"dynv6\"\ntoken = \"t\"\nmode = \"prefixes\"\nprefix_length = 129\n").unwrap_err();
        assert!(e.contains("t.toml:4:8: mode \"prefixes\" is not \"records\" or \"prefix\""), "{e}");
        assert!(e.contains("t.toml:5:17: prefix_length 129 is not 1 to 128"), "{e}");
        let e = build("[providers.p]\nkind = \"dynv6\"\ntoken = \"t\"\nprefix_length = 64\n").unwrap_err();
        assert!(e.contains("t.toml:4:17: prefix_length is used only with mode = \"prefix\""), "{e}");
    }
}
