//! `kind = "powerdns"`: the PowerDNS Authoritative HTTP API (`/api/v1`), authenticated with
//! `X-API-Key`.
//!
//! Owns the wire format of the three calls ddnsd makes — list zones, read one RRset of a zone,
//! replace one RRset with `PATCH` `changetype: REPLACE` — and the mapping of HTTP statuses to
//! [`ProviderError`]s ([`status_error`]). Reference: `shared/providers/dyndns2-and-others.md`
//! §2 and the PowerDNS API docs ("Zones", "RRSet"). A `PATCH` names exactly one (name, type),
//! so every other RRset of the zone is left as it is; the replaced RRset's comments are kept
//! because the request carries no `comments` key (PowerDNS: "when comments is present, all
//! existing comments … will be deleted"; absent, they stay).

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};

use super::kit::api;
use super::kit::zones::ZoneCache;
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints,
};
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{Backoff, HttpClient, HttpResponse, Method, Request};
use crate::record::{AddrSet, Fqdn, RecordKey, RrSet, Ttl};
use crate::secret::Secret;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "powerdns",
    about: "PowerDNS Authoritative HTTP API (X-API-Key, PATCH REPLACE of one RRset)",
    example: r#"[providers.pdns]
kind = "powerdns"
endpoint = "http://192.0.2.53:8081"     # the API's base URL (webserver-address / webserver-port)
api_key_env = "PDNS_API_KEY"            # or api_key / api_key_file: the server's api-key
# server_id = "localhost"
# zone = "example.com"                  # omit to find it among the server's zones
"#,
    configure,
};

/// The server id of a PowerDNS Authoritative server (it serves only itself).
pub const DEFAULT_SERVER_ID: &str = "localhost";

/// The [`ProviderHints`] key under which the zone is remembered.
pub const HINT_ZONE: &str = "zone";

const SERVICE: &str = "PowerDNS";
const AUTH_HINT: &str = "check api_key: it must equal the server's api-key setting (the key gives full access to the API; PowerDNS has no narrower permission)";

/// Settings of a PowerDNS provider.
#[derive(Clone, Debug)]
pub struct PowerDnsSettings {
    /// The API's base URL (e.g. `http://192.0.2.53:8081`; a trailing `/api/v1` is allowed).
    pub endpoint: String,
    /// The server's `api-key`.
    pub api_key: Secret<String>,
    /// The server id in API paths (`localhost`).
    pub server_id: String,
    /// The zone; `None` = the longest of the server's zones containing the name.
    pub zone: Option<Fqdn>,
}

/// `[providers.NAME]` with `kind = "powerdns"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    endpoint: Text,
    api_key: Option<Text>,
    api_key_file: Option<Text>,
    api_key_env: Option<Text>,
    server_id: Option<Text>,
    zone: Option<Text>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let api_key = f.secret(SecretFields {
        name: "api_key",
        inline: &r.api_key,
        file: &r.api_key_file,
        env: &r.api_key_env,
    });
    let zone = fields::zone(f, &r.zone);
    let endpoint = fields::endpoint(f, &Some(r.endpoint), "");
    let server_id = match r.server_id {
        None => Some(DEFAULT_SERVER_ID.to_owned()),
        Some(s) if is_plain_id(s.get_ref()) => Some(s.into_inner()),
        Some(s) => {
            f.problem(
                s.span(),
                format!("server_id {:?} is not a plain identifier", s.get_ref()),
                Some(
                    "PowerDNS Authoritative calls itself \"localhost\"; leave server_id out".into(),
                ),
            );
            None
        }
    };
    Some(Arc::new(PowerDnsSettings {
        endpoint: endpoint?,
        api_key: api_key?,
        server_id: server_id?,
        zone: zone?,
    }))
}

fn is_plain_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

impl Configured for PowerDnsSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(PowerDns::new(name.to_owned(), self.clone(), deps))
    }
}

/// A PowerDNS Authoritative server's HTTP API.
pub struct PowerDns {
    name: String,
    settings: PowerDnsSettings,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    zones: ZoneCache,
}

impl PowerDns {
    /// A provider named `name`.
    pub fn new(name: String, settings: PowerDnsSettings, deps: &ProviderDeps) -> PowerDns {
        PowerDns {
            name,
            settings,
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            zones: ZoneCache::default(),
        }
    }

    fn zones_url(&self) -> String {
        // Users paste either the server's root or the API's; both mean the same base.
        let base = self.settings.endpoint.trim_end_matches('/');
        let base = base.strip_suffix("/api/v1").unwrap_or(base);
        format!("{base}/api/v1/servers/{}/zones", self.settings.server_id)
    }

    fn zone_url(&self, zone: &Fqdn) -> String {
        format!("{}/{}", self.zones_url(), zone_id(zone))
    }

    /// Sends one request, retrying transient failures and rate limits; returns the JSON body
    /// (`Value::Null` for 204 No Content).
    async fn call(
        &self,
        action: &str,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, ProviderError> {
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let mut headers = vec![
            ("X-API-Key", self.settings.api_key.expose().clone()),
            ("Accept", "application/json".to_owned()),
        ];
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        let write = method != Method::Get;
        api::with_retries(
            &self.backoff,
            &self.name,
            action,
            |e| Some(e),
            || async {
                let resp = self
                    .http
                    .send(Request {
                        method,
                        url,
                        headers: &headers,
                        body: body.clone(),
                        timeout: self.timeout,
                    })
                    .await
                    .map_err(|e| api::http_error(action, &e, write))?;
                tracing::debug!(provider = %self.name, action, status = resp.status, "reply");
                if let Some(e) = status_error(action, &resp) {
                    return Err(e);
                }
                if resp.status == 204 {
                    return Ok(Value::Null);
                }
                serde_json::from_slice(&resp.body).map_err(|e| {
                    ProviderError::new(
                        ProviderErrorKind::Protocol,
                        format!("{action}: the reply is not valid json ({e})"),
                    )
                })
            },
        )
        .await
    }

    /// The server's zones (`GET …/zones`).
    async fn list_zones(&self) -> Result<Vec<Fqdn>, ProviderError> {
        let action = "list zones";
        let reply = self
            .call(action, Method::Get, &self.zones_url(), None)
            .await?;
        let Value::Array(list) = reply else {
            return Err(api::protocol(action, "not a list of zones"));
        };
        list.iter()
            .map(|z| {
                let name = z
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| api::protocol(action, "a zone without a name"))?;
                Fqdn::parse_relaxed(name)
                    .map_err(|_| api::protocol(action, &format!("a zone named {name:?}")))
            })
            .collect()
    }

    async fn zone_of(&self, name: &Fqdn, hints: &ProviderHints) -> Result<Fqdn, ProviderError> {
        self.zones
            .zone_of(name, self.settings.zone.as_ref(), hints, SERVICE, || {
                self.list_zones()
            })
            .await
    }

    async fn read(
        &self,
        key: &RecordKey,
        hints: &ProviderHints,
    ) -> Result<LiveRrSet, ProviderError> {
        let zone = self.zone_of(&key.name, hints).await?;
        let action = format!("get zone {zone}");
        // PowerDNS ≥ 4.6 returns only the asked RRset; older servers ignore the filter and
        // return the whole zone, so the RRset is picked out below either way.
        let url = format!(
            "{}?rrset_name={}&rrset_type={}",
            self.zone_url(&zone),
            key.name.dotted(),
            key.rtype.as_str()
        );
        let reply = self.call(&action, Method::Get, &url, None).await?;
        let rrsets = reply
            .get("rrsets")
            .and_then(Value::as_array)
            .ok_or_else(|| api::protocol(&action, "no \"rrsets\" list"))?;
        let mut addrs = AddrSet::new();
        let mut ttl = None;
        for set in rrsets {
            let name = set.get("name").and_then(Value::as_str).unwrap_or("");
            let rtype = set.get("type").and_then(Value::as_str).unwrap_or("");
            if !name.eq_ignore_ascii_case(&key.name.dotted()) || rtype != key.rtype.as_str() {
                continue;
            }
            ttl = set
                .get("ttl")
                .and_then(Value::as_u64)
                .and_then(|t| u32::try_from(t).ok())
                .map(Ttl);
            let records = set
                .get("records")
                .and_then(Value::as_array)
                .ok_or_else(|| api::protocol(&action, "an rrset without records"))?;
            for r in records {
                // A disabled record is not served: it is not part of the live RRset.
                if r.get("disabled").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                let content = r
                    .get("content")
                    .and_then(Value::as_str)
                    .ok_or_else(|| api::protocol(&action, "a record without content"))?;
                let addr = content.parse().map_err(|_| {
                    api::protocol(
                        &action,
                        &format!("a {rtype} record with content {content:?}"),
                    )
                })?;
                addrs.insert(addr);
            }
        }
        Ok(LiveRrSet {
            ttl: if addrs.is_empty() { None } else { ttl },
            addrs,
            hints: zone_hint(&zone, self.settings.zone.is_some()),
        })
    }

    async fn replace(
        &self,
        desired: &RrSet,
        hints: &ProviderHints,
    ) -> Result<ProviderHints, ProviderError> {
        let zone = self.zone_of(&desired.name, hints).await?;
        if !desired.name.is_within(&zone) {
            return Err(ProviderError::new(
                ProviderErrorKind::Rejected,
                format!("{} is not inside the zone {zone}", desired.name),
            )
            .with_hint("set the provider's zone to a zone that contains the record name"));
        }
        let action = format!("patch zone {zone}");
        let rrset = if desired.addrs.is_empty() {
            json!({"name": desired.name.dotted(), "type": desired.rtype.as_str(), "changetype": "DELETE"})
        } else {
            let records: Vec<Value> = desired
                .addrs
                .iter()
                .map(|a| json!({"content": a.to_string(), "disabled": false}))
                .collect();
            // No "comments" key: the RRset's comments stay as they are.
            json!({"name": desired.name.dotted(), "type": desired.rtype.as_str(),
                   "ttl": desired.ttl.0, "changetype": "REPLACE", "records": records})
        };
        let body = json!({ "rrsets": [rrset] });
        tracing::debug!(provider = %self.name, record = %desired.key(), zone = %zone, addrs = %desired.addrs, "replacing rrset");
        self.call(&action, Method::Patch, &self.zone_url(&zone), Some(&body))
            .await?;
        Ok(zone_hint(&zone, self.settings.zone.is_some()))
    }
}

impl Provider for PowerDns {
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
        Box::pin(self.replace(desired, hints))
    }
}

/// The hints to remember: the zone, unless it is configured.
fn zone_hint(zone: &Fqdn, configured: bool) -> ProviderHints {
    let mut h = ProviderHints::default();
    if !configured {
        h.0.insert(HINT_ZONE.to_owned(), zone.to_string());
    }
    h
}

/// The zone's id in API paths: its name with the trailing dot, every byte outside
/// `[A-Za-z0-9.-]` written as `=XX` (PowerDNS `apiZoneNameToId`).
pub fn zone_id(zone: &Fqdn) -> String {
    let mut out = String::new();
    for b in zone.dotted().bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("={b:02X}"));
        }
    }
    out
}

/// The error for a reply's HTTP status, `None` for success (200, 201, 204). The PowerDNS
/// API's status table — the one place this adapter decides what is permanent: 401 = the key
/// is wrong (Auth); 403 = this client is not allowed (`webserver-allow-from`); 404 = no such
/// server or zone; 400 / 422 = the request was refused as invalid (a conflicting CNAME, a name
/// outside the zone…), with the server's `error` text; 429 = rate limited (a proxy in front:
/// PowerDNS has no limit of its own); every other status (5xx, unexpected codes) is transient.
pub fn status_error(action: &str, resp: &HttpResponse) -> Option<ProviderError> {
    let detail = || {
        serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .map(|e| format!(": {e:?}"))
            .unwrap_or_default()
    };
    let status = resp.status;
    let e = match status {
        200 | 201 | 204 => return None,
        401 => ProviderError::new(
            ProviderErrorKind::Auth,
            format!("{action}: the api key was rejected (http 401)"),
        )
        .with_hint(AUTH_HINT),
        403 => ProviderError::new(
            ProviderErrorKind::Forbidden,
            format!("{action}: forbidden (http 403){}", detail()),
        )
        .with_hint("allow this machine's address in the server's webserver-allow-from"),
        404 => ProviderError::new(
            ProviderErrorKind::ZoneNotFound,
            format!("{action}: no such server or zone (http 404)"),
        )
        .with_hint(
            "check zone and server_id: the zone must exist on the server (pdnsutil list-all-zones)",
        ),
        400 | 422 => ProviderError::new(
            ProviderErrorKind::Rejected,
            format!(
                "{action}: the server refused the change (http {status}){}",
                detail()
            ),
        ),
        429 => ProviderError::new(
            ProviderErrorKind::RateLimited {
                retry_after: resp.retry_after,
            },
            format!("{action}: rate limited (http 429)"),
        ),
        _ => ProviderError::new(
            ProviderErrorKind::Transient,
            format!("{action}: server error (http {status})"),
        ),
    };
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            date: None,
            retry_after: None,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn status_table() {
        use ProviderErrorKind as K;
        let cases: &[(u16, Option<K>)] = &[
            (200, None),
            (201, None),
            (204, None),
            (401, Some(K::Auth)),
            (403, Some(K::Forbidden)),
            (404, Some(K::ZoneNotFound)),
            (400, Some(K::Rejected)),
            (422, Some(K::Rejected)),
            (429, Some(K::RateLimited { retry_after: None })),
            (500, Some(K::Transient)),
            (502, Some(K::Transient)),
            (503, Some(K::Transient)),
            (409, Some(K::Transient)),
        ];
        for (status, want) in cases {
            let got = status_error("x", &resp(*status, "")).map(|e| e.kind);
            assert_eq!(&got, want, "http {status}");
        }
        let e = status_error(
            "patch zone example.test",
            &resp(
                422,
                r#"{"error": "RRset refused.example.test. IN AAAA: Conflicts with pre-existing RRset"}"#,
            ),
        )
        .unwrap();
        assert_eq!(
            e.message,
            "patch zone example.test: the server refused the change (http 422): \"RRset refused.example.test. IN AAAA: Conflicts with pre-existing RRset\""
        );
        let e = status_error("list zones", &resp(401, "Unauthorized")).unwrap();
        assert_eq!(e.message, "list zones: the api key was rejected (http 401)");
        assert_eq!(e.hint().as_deref(), Some(AUTH_HINT));
    }

    fn parse(table: &str) -> Result<PowerDnsSettings, String> {
        let text = format!(
            "{table}\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"h.example.com\"\nprovider = \"pdns\"\nsources = [\"s\"]\n"
        );
        let env = |n: &str| (n == "PDNS_API_KEY").then(|| "k".to_owned());
        let c = crate::config::from_text(&text, std::path::Path::new("t.toml"), &env)
            .map_err(|e| e.to_string())?;
        Ok(c.providers["pdns"]
            .get::<PowerDnsSettings>()
            .expect("powerdns settings")
            .clone())
    }

    #[test]
    fn the_example_and_its_variants_parse() {
        let s = parse(KIND.example).unwrap();
        assert_eq!(s.endpoint, "http://192.0.2.53:8081");
        assert_eq!(s.server_id, "localhost");
        assert_eq!(s.zone, None);
        assert_eq!(s.api_key.expose(), "k");
        let s = parse(
            "[providers.pdns]\nkind = \"powerdns\"\nendpoint = \"https://dns.example.com/api/v1/\"\napi_key = \"x\"\nserver_id = \"other\"\nzone = \"example.com.\"",
        )
        .unwrap();
        assert_eq!(s.endpoint, "https://dns.example.com/api/v1");
        assert_eq!(s.server_id, "other");
        assert_eq!(s.zone.as_ref().map(Fqdn::as_str), Some("example.com"));
        let e = parse("[providers.pdns]\nkind = \"powerdns\"\napi_key = \"x\"").unwrap_err();
        assert!(e.contains("endpoint"), "{e}");
        let e = parse(
            "[providers.pdns]\nkind = \"powerdns\"\nendpoint = \"http://h:1\"\napi_key = \"x\"\nserver_id = \"a/b\"",
        )
        .unwrap_err();
        assert!(
            e.contains("server_id \"a/b\" is not a plain identifier"),
            "{e}"
        );
        // The Debug form never shows the key.
        let s = parse("[providers.pdns]\nkind = \"powerdns\"\nendpoint = \"http://h:1\"\napi_key = \"sekrit\"").unwrap();
        assert!(!format!("{s:?}").contains("sekrit"));
    }

    #[test]
    fn zone_ids() {
        let z = |s: &str| Fqdn::parse_relaxed(s).unwrap();
        assert_eq!(zone_id(&z("example.test")), "example.test.");
        assert_eq!(zone_id(&z("a-b.example")), "a-b.example.");
        assert_eq!(zone_id(&z("_acme.example")), "=5Facme.example.");
    }
}
