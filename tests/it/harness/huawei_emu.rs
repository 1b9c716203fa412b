//! A local emulator of Huawei Cloud DNS (API v2, public zones) behind Huawei's API gateway:
//! every request's SDK-HMAC-SHA256 signature is recomputed from what arrived (independently of
//! ddnsd's signer) and a mismatch gets the gateway's real `APIGW.0301` body.
//!
//! Implements ListPublicZones (`GET /v2/zones`), ListRecordSetsByZone (`GET
//! /v2/zones/{id}/recordsets`), both with `name` as a "contains" match unless
//! `search_mode=equal` and paginated with `limit` / `marker` (`links.next` while more);
//! CreateRecordSet (POST, 202), UpdateRecordSet (PUT, the whole set), DeleteRecordSet; new
//! zones get their SOA and NS sets. Errors use the gateway's `{error_code, error_msg,
//! request_id}` or the service's `{code, message}` envelope with Huawei's statuses. Fault
//! injection: an HTTP status, a hang, throttling (429 with `Retry-After`), malformed,
//! truncated or wrongly shaped bodies, and refusing writes to one name. Counts calls per
//! operation, rejected ones included, and keeps the last request of each. Behaviour follows
//! `shared/providers/china-clouds.md` §1 and `dyndns2-and-others.md` §4.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::emu_http::{
    civil_of, hex, hex_sha256, hmac_sha256, percent_decode, rfc3986, unix_of, EmuReply, EmuRequest,
    EmuServer, Outcome, Target,
};

/// Allowed difference between `X-Sdk-Date` and the gateway's clock.
pub const SKEW: i64 = 15 * 60;
/// Largest `limit`.
pub const MAX_LIMIT: u64 = 500;

/// One record set: every value of one (name, type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSet {
    /// Its id.
    pub id: String,
    /// FQDN with the trailing dot.
    pub name: String,
    /// Type.
    pub rtype: String,
    /// TTL.
    pub ttl: u64,
    /// The values.
    pub records: Vec<String>,
    /// True for the SOA and NS sets Huawei creates with the zone.
    pub default: bool,
}

/// One public zone.
#[derive(Clone, Debug)]
pub struct Zone {
    /// Its id.
    pub id: String,
    /// Name with the trailing dot.
    pub name: String,
    /// Its record sets.
    pub sets: Vec<RecordSet>,
}

/// A fault served instead of the normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP status with an HTML body.
    Status(u16),
    /// Never answer.
    Timeout,
    /// The gateway's throttling (429 `APIGW.0308`), with `Retry-After` seconds if given.
    RateLimit(Option<u64>),
    /// `200 OK` with a body that is not JSON.
    Malformed,
    /// The real reply cut in half.
    Truncated,
    /// `200 OK` with JSON of an unexpected shape.
    WrongShape,
}

/// Everything the emulator knows; lock it with [`HuaweiEmu::state`].
#[derive(Debug)]
pub struct State {
    /// AK → SK.
    pub keys: BTreeMap<String, String>,
    /// Seconds added to the system clock for the gateway's own time (and `Date`).
    pub clock_offset: i64,
    /// The account's public zones.
    pub zones: Vec<Zone>,
    /// Calls per operation, rejected ones included.
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order, each to the first request its target hits.
    pub faults: VecDeque<(Target, Fault)>,
    /// The operation of every request that got a fault.
    pub faulted: Vec<String>,
    /// Largest page returned, whatever `limit` asks (0 = 500).
    pub page_cap: u64,
    /// Writes to these names (FQDN without the dot) are refused with the given code.
    pub refused: BTreeMap<String, String>,
    /// Signature failures seen.
    pub signature_failures: u32,
    /// Treat `name` as a "contains" match even with `search_mode=equal` (a lenient server),
    /// so a client must check names itself.
    pub fuzzy_only: bool,
    /// The last request of each operation that passed authentication.
    pub last_requests: BTreeMap<String, EmuRequest>,
    next_id: u64,
}

impl State {
    /// Calls of `op`.
    pub fn count(&self, op: &str) -> u32 {
        self.calls.get(op).copied().unwrap_or(0)
    }

    /// Calls of every operation.
    pub fn total_calls(&self) -> u32 {
        self.calls.values().sum()
    }

    /// Create + update + delete calls.
    pub fn writes(&self) -> u32 {
        self.count("CreateRecordSet")
            + self.count("UpdateRecordSet")
            + self.count("DeleteRecordSet")
    }

    /// Adds a public zone (`example.com`) with its SOA and NS sets; returns its id.
    pub fn add_zone(&mut self, name: &str) -> String {
        let id = self.fresh_id();
        let dotted = format!("{name}.");
        let soa = RecordSet {
            id: self.fresh_id(),
            name: dotted.clone(),
            rtype: "SOA".into(),
            ttl: 300,
            records: vec![format!(
                "ns1.huaweicloud-dns.com. hwclouds\\.cs.huawei.com. (1 7200 900 1209600 300)"
            )],
            default: true,
        };
        let ns = RecordSet {
            id: self.fresh_id(),
            name: dotted.clone(),
            rtype: "NS".into(),
            ttl: 172_800,
            records: vec![
                "ns1.huaweicloud-dns.com.".into(),
                "ns1.huaweicloud-dns.cn.".into(),
            ],
            default: true,
        };
        self.zones.push(Zone {
            id: id.clone(),
            name: dotted,
            sets: vec![soa, ns],
        });
        id
    }

    /// Adds a record set; returns its id.
    pub fn add_set(
        &mut self,
        zone: &str,
        name: &str,
        rtype: &str,
        ttl: u64,
        records: &[&str],
    ) -> String {
        let id = self.fresh_id();
        let z = self.zone_mut(zone).expect("zone exists");
        z.sets.push(RecordSet {
            id: id.clone(),
            name: format!("{name}."),
            rtype: rtype.into(),
            ttl,
            records: records.iter().map(|r| (*r).to_owned()).collect(),
            default: false,
        });
        id
    }

    /// The id of zone `name` (without the dot).
    pub fn zone_id(&self, name: &str) -> String {
        self.zones
            .iter()
            .find(|z| z.name == format!("{name}."))
            .map(|z| z.id.clone())
            .expect("zone exists")
    }

    /// Every set of zone `name`, by id.
    pub fn sets(&self, zone: &str) -> Vec<RecordSet> {
        self.zones
            .iter()
            .find(|z| z.name == format!("{zone}."))
            .map(|z| z.sets.clone())
            .unwrap_or_default()
    }

    /// The set of (name, type), if any.
    pub fn set(&self, zone: &str, name: &str, rtype: &str) -> Option<RecordSet> {
        self.sets(zone)
            .into_iter()
            .find(|s| s.name == format!("{name}.") && s.rtype == rtype)
    }

    /// The sorted values of (name, type) (empty when there is no set).
    pub fn values(&self, zone: &str, name: &str, rtype: &str) -> Vec<String> {
        let mut v = self
            .set(zone, name, rtype)
            .map(|s| s.records)
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Removes a set by id.
    pub fn remove_set(&mut self, id: &str) {
        for z in &mut self.zones {
            z.sets.retain(|s| s.id != id);
        }
    }

    /// Deletes zone `name` and creates it again (a new id, only its default sets).
    pub fn recreate_zone(&mut self, name: &str) -> String {
        self.zones.retain(|z| z.name != format!("{name}."));
        self.add_zone(name)
    }

    fn zone_mut(&mut self, name: &str) -> Option<&mut Zone> {
        self.zones.iter_mut().find(|z| z.name == format!("{name}."))
    }

    fn fresh_id(&mut self) -> String {
        self.next_id += 1;
        format!("ff80808{:025x}", self.next_id)
    }

    fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        if self.clock_offset >= 0 {
            now + Duration::from_secs(self.clock_offset.unsigned_abs())
        } else {
            now - Duration::from_secs(self.clock_offset.unsigned_abs())
        }
    }
}

/// A running emulator; stops on drop.
pub struct HuaweiEmu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl HuaweiEmu {
    /// Starts an emulator with no key and no zone.
    pub fn start() -> HuaweiEmu {
        let state = Arc::new(Mutex::new(State {
            keys: BTreeMap::new(),
            clock_offset: 0,
            zones: Vec::new(),
            calls: BTreeMap::new(),
            faults: VecDeque::new(),
            faulted: Vec::new(),
            page_cap: 0,
            refused: BTreeMap::new(),
            signature_failures: 0,
            fuzzy_only: false,
            last_requests: BTreeMap::new(),
            next_id: 0x8bfc_c673_018c,
        }));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        HuaweiEmu { server, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    /// Locks the state.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets the call counters.
    pub fn reset_calls(&self) {
        self.state().calls.clear();
    }

    /// Queues a fault for the next call (of `op`, if given).
    pub fn inject(&self, op: Option<&str>, fault: Fault) {
        self.inject_on(Target::of(op), fault);
    }

    /// Queues a fault for the next call `target` hits.
    pub fn inject_on(&self, target: Target, fault: Fault) {
        self.state().faults.push_back((target, fault));
    }

    /// Refuses every write to `fqdn` (no trailing dot) with `code` (`DNS.0013`, `DNS.0312`).
    pub fn refuse(&self, fqdn: &str, code: &str) {
        self.state()
            .refused
            .insert(fqdn.to_owned(), code.to_owned());
    }
}

// ---------------------------------------------------------------------------------------------

fn request_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The gateway's envelope.
fn gateway_error(status: u16, code: &str, message: &str) -> (u16, Value) {
    (
        status,
        json!({"error_msg": message, "error_code": code, "request_id": request_id()}),
    )
}

/// The DNS service's envelope.
fn dns_error(status: u16, code: &str, message: &str) -> (u16, Value) {
    (status, json!({"code": code, "message": message}))
}

fn known_error(code: &str) -> (u16, Value) {
    match code {
        "DNS.0013" => dns_error(
            403,
            code,
            "You do not have the permission to perform this operation using the API.",
        ),
        "DNS.0312" => dns_error(
            400,
            code,
            "Attribute 'name' conflicts with Record Set 'x.' type 'CNAME'.",
        ),
        other => dns_error(400, other, "The request was refused."),
    }
}

/// The operation a request is, and the ids in its path.
fn route(method: &str, path: &str) -> (&'static str, Option<String>, Option<String>) {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", ["v2", "zones"]) => ("ListPublicZones", None, None),
        ("GET", ["v2", "zones", z, "recordsets"]) => {
            ("ListRecordSetsByZone", Some((*z).into()), None)
        }
        ("POST", ["v2", "zones", z, "recordsets"]) => ("CreateRecordSet", Some((*z).into()), None),
        ("GET", ["v2", "zones", z, "recordsets", r]) => {
            ("ShowRecordSet", Some((*z).into()), Some((*r).into()))
        }
        ("PUT", ["v2", "zones", z, "recordsets", r]) => {
            ("UpdateRecordSet", Some((*z).into()), Some((*r).into()))
        }
        ("DELETE", ["v2", "zones", z, "recordsets", r]) => {
            ("DeleteRecordSet", Some((*z).into()), Some((*r).into()))
        }
        _ => ("Unknown", None, None),
    }
}

fn handle(req: &EmuRequest, state: &Arc<Mutex<State>>) -> Outcome {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let (op, zone_id, set_id) = route(&req.method, &req.path);
    *st.calls.entry(op.to_owned()).or_default() += 1;
    let now = st.now();
    let read = req.method == "GET";
    let pos = st.faults.iter().position(|(t, _)| t.hits(op, read));
    let fault = pos.and_then(|i| st.faults.remove(i)).map(|(_, f)| f);
    if fault.is_some() {
        st.faulted.push(op.to_owned());
    }
    let rid = request_id();
    let mut headers = vec![
        ("Date".to_owned(), httpdate::fmt_http_date(now)),
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("X-Request-Id".to_owned(), rid),
    ];
    match &fault {
        Some(Fault::Timeout) => return Outcome::Hang,
        Some(Fault::Status(code)) => {
            headers[1].1 = "text/html".into();
            return Outcome::Reply(EmuReply {
                status: *code,
                headers,
                body: b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
            });
        }
        Some(Fault::RateLimit(retry_after)) => {
            if let Some(s) = retry_after {
                headers.push(("Retry-After".into(), s.to_string()));
            }
            let (status, body) = gateway_error(
                429,
                "APIGW.0308",
                "The throttling threshold has been reached: policy user over ratelimit,limit:20,time:1 minute",
            );
            return reply(status, headers, &body);
        }
        Some(Fault::Malformed) => {
            headers[1].1 = "text/html".into();
            return Outcome::Reply(EmuReply {
                status: 200,
                headers,
                body: b"<html>maintenance</html>".to_vec(),
            });
        }
        Some(Fault::WrongShape) => return reply(200, headers, &json!({"links": {}, "items": []})),
        Some(Fault::Truncated) | None => {}
    }
    let (status, body) = match verify(&mut st, req, now) {
        Err(e) => e,
        Ok(()) => {
            st.last_requests.insert(op.to_owned(), req.clone());
            api(&mut st, op, zone_id.as_deref(), set_id.as_deref(), req)
        }
    };
    if fault == Some(Fault::Truncated) {
        let bytes = serde_json::to_vec(&body).expect("json");
        return Outcome::Reply(EmuReply {
            status,
            headers,
            body: bytes[..bytes.len() / 2].to_vec(),
        });
    }
    reply(status, headers, &body)
}

fn reply(status: u16, headers: Vec<(String, String)>, body: &Value) -> Outcome {
    Outcome::Reply(EmuReply {
        status,
        headers,
        body: if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(body).expect("json")
        },
    })
}

/// `20231114T221320Z` → Unix seconds.
fn parse_sdk_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    Some(unix_of(
        n(0..4)?,
        n(4..6)?,
        n(6..8)?,
        n(9..11)?,
        n(11..13)?,
        n(13..15)?,
    ))
}

fn sdk_date(t: i64) -> String {
    let (y, m, d, hh, mm, ss) = civil_of(t);
    format!("{y:04}{m:02}{d:02}T{hh:02}{mm:02}{ss:02}Z")
}

/// Checks the SDK-HMAC-SHA256 signature as the gateway does.
fn verify(st: &mut State, req: &EmuRequest, now: SystemTime) -> Result<(), (u16, Value)> {
    let auth_error = |m: &str| {
        gateway_error(
            401,
            "APIGW.0301",
            &format!("Incorrect IAM authentication information: {m}"),
        )
    };
    let Some(auth) = req.header("authorization") else {
        return Err(auth_error("Authorization header not found"));
    };
    let Some(rest) = auth.strip_prefix("SDK-HMAC-SHA256 ") else {
        return Err(auth_error("unsupported signing algorithm"));
    };
    let mut access = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Access", v)) => access = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => return Err(auth_error("decode aksk auth header fail")),
        }
    }
    let (Some(ak), Some(signed_headers), Some(signature)) = (access, signed_headers, signature)
    else {
        return Err(auth_error("decode aksk auth header fail"));
    };
    let Some(sk) = st.keys.get(ak).cloned() else {
        return Err(auth_error(&format!("ak {ak} not exist")));
    };
    let date = req.header("x-sdk-date").unwrap_or("").to_owned();
    let server = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let Some(t) = parse_sdk_date(&date) else {
        return Err(auth_error("x-sdk-date not found or invalid"));
    };
    if (server - t).abs() > SKEW {
        return Err(auth_error(&format!(
            "calc aksk signature fail:signature expired, signature time:{date},server time:{}",
            sdk_date(server)
        )));
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    let needs_type = !req.body.is_empty() || req.header("content-type").is_some();
    if !names.contains(&"host")
        || !names.contains(&"x-sdk-date")
        || (needs_type && !names.contains(&"content-type"))
    {
        st.signature_failures += 1;
        return Err(auth_error("verify aksk signature fail"));
    }
    let mut canonical_headers = String::new();
    for n in &names {
        let Some(v) = req.header(n) else {
            st.signature_failures += 1;
            return Err(auth_error("verify aksk signature fail"));
        };
        canonical_headers.push_str(&format!("{n}:{}\n", v.trim()));
    }
    let mut uri = percent_decode(&req.path, false)
        .split('/')
        .map(rfc3986)
        .collect::<Vec<_>>()
        .join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    let mut query = req.query();
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{}={}", rfc3986(k), rfc3986(v)))
        .collect::<Vec<_>>()
        .join("&");
    let canonical = format!(
        "{}\n{uri}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{}",
        req.method,
        hex_sha256(&req.body)
    );
    let sts = format!(
        "SDK-HMAC-SHA256\n{date}\n{}",
        hex_sha256(canonical.as_bytes())
    );
    if hex(&hmac_sha256(sk.as_bytes(), sts.as_bytes())) != signature {
        st.signature_failures += 1;
        return Err(auth_error("verify aksk signature fail"));
    }
    Ok(())
}

fn zone_json(z: &Zone) -> Value {
    json!({"id": z.id, "name": z.name, "description": null, "email": "hwclouds.cs@huawei.com",
           "ttl": 300, "serial": 1, "masters": [], "status": "ACTIVE",
           "pool_id": "00000000570e54ee01570e9939b20019", "project_id": "e55c6f3dc4e34c9f86353b664ae0e70c",
           "zone_type": "public", "created_at": "2023-12-26T03:20:16.325", "updated_at": "2023-12-26T03:20:16.325",
           "record_num": z.sets.len(), "links": {"self": format!("https://dns.myhuaweicloud.com/v2/zones/{}", z.id)},
           "tags": [], "enterprise_project_id": "0"})
}

fn set_json(z: &Zone, s: &RecordSet, status: &str) -> Value {
    json!({"id": s.id, "name": s.name, "description": null, "zone_id": z.id, "zone_name": z.name,
           "type": s.rtype, "ttl": s.ttl, "records": s.records, "status": status,
           "default": s.default, "project_id": "e55c6f3dc4e34c9f86353b664ae0e70c",
           "links": {"self": format!("https://dns.myhuaweicloud.com/v2/zones/{}/recordsets/{}", z.id, s.id)},
           "created_at": "2024-01-02T03:04:05.000", "updated_at": "2024-01-02T03:04:05.000"})
}

/// One page of `items` (already filtered) by `limit` / `marker` / `offset`.
fn page<'a, T>(
    st: &State,
    q: &BTreeMap<String, String>,
    items: &'a [T],
    id: impl Fn(&T) -> &str,
) -> Result<(&'a [T], bool), (u16, Value)> {
    let limit = match q.get("limit") {
        None => MAX_LIMIT,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n <= MAX_LIMIT => n,
            _ => {
                return Err(dns_error(
                    400,
                    "DNS.0006",
                    "The limit parameter is invalid.",
                ))
            }
        },
    };
    let limit = if limit == 0 { MAX_LIMIT } else { limit };
    let cap = if st.page_cap == 0 {
        MAX_LIMIT
    } else {
        st.page_cap
    };
    let limit = limit.min(cap) as usize;
    let start = match q.get("marker").filter(|m| !m.is_empty()) {
        Some(m) => match items.iter().position(|x| id(x) == m) {
            Some(i) => i + 1,
            None => {
                return Err(dns_error(
                    400,
                    "DNS.0007",
                    "The marker parameter is invalid.",
                ))
            }
        },
        None => q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0),
    };
    let start = start.min(items.len());
    let end = (start + limit).min(items.len());
    Ok((&items[start..end], end < items.len()))
}

fn name_matches(q: &BTreeMap<String, String>, name: &str, fuzzy_only: bool) -> bool {
    let Some(want) = q.get("name") else {
        return true;
    };
    let want = want.trim_end_matches('.').to_ascii_lowercase();
    let have = name.trim_end_matches('.').to_ascii_lowercase();
    if q.get("search_mode").map(String::as_str) == Some("equal") && !fuzzy_only {
        have == want
    } else {
        // A "contains" match, as the API does without search_mode=equal.
        have.contains(&want)
    }
}

fn api(
    st: &mut State,
    op: &str,
    zone_id: Option<&str>,
    set_id: Option<&str>,
    req: &EmuRequest,
) -> (u16, Value) {
    let q: BTreeMap<String, String> = req.query().into_iter().collect();
    let zone_missing = || dns_error(404, "DNS.0101", "The zone does not exist.");
    let set_missing = || dns_error(404, "DNS.0004", "No record sets found.");
    let invalid = || dns_error(400, "DNS.0002", "Invalid request.");
    match op {
        "ListPublicZones" => {
            if q.get("type").is_some_and(|t| t != "public") {
                return invalid();
            }
            let matching: Vec<&Zone> = st
                .zones
                .iter()
                .filter(|z| name_matches(&q, &z.name, st.fuzzy_only))
                .collect();
            let (items, more) = match page(st, &q, &matching, |z| &z.id) {
                Ok(x) => x,
                Err(e) => return e,
            };
            let mut links = json!({"self": "https://dns.myhuaweicloud.com/v2/zones"});
            if more {
                let last = items.last().map(|z| z.id.clone()).unwrap_or_default();
                links["next"] = json!(format!(
                    "https://dns.myhuaweicloud.com/v2/zones?type=public&marker={last}"
                ));
            }
            let list: Vec<Value> = items.iter().map(|z| zone_json(z)).collect();
            (
                200,
                json!({"links": links, "zones": list, "metadata": {"total_count": matching.len()}}),
            )
        }
        "ListRecordSetsByZone" | "ShowRecordSet" => {
            let Some(z) = st.zones.iter().find(|z| Some(z.id.as_str()) == zone_id) else {
                return zone_missing();
            };
            if op == "ShowRecordSet" {
                return match z.sets.iter().find(|s| Some(s.id.as_str()) == set_id) {
                    Some(s) => (200, set_json(z, s, "ACTIVE")),
                    None => set_missing(),
                };
            }
            let rtype = q.get("type").map(|t| t.to_ascii_uppercase());
            let matching: Vec<&RecordSet> = z
                .sets
                .iter()
                .filter(|s| name_matches(&q, &s.name, st.fuzzy_only))
                .filter(|s| rtype.as_ref().is_none_or(|t| &s.rtype == t))
                .collect();
            let (items, more) = match page(st, &q, &matching, |s| &s.id) {
                Ok(x) => x,
                Err(e) => return e,
            };
            let mut links = json!({"self": format!("https://dns.myhuaweicloud.com/v2/zones/{}/recordsets", z.id)});
            if more {
                let last = items.last().map(|s| s.id.clone()).unwrap_or_default();
                links["next"] = json!(format!(
                    "https://dns.myhuaweicloud.com/v2/zones/{}/recordsets?marker={last}",
                    z.id
                ));
            }
            let list: Vec<Value> = items.iter().map(|s| set_json(z, s, "ACTIVE")).collect();
            (
                200,
                json!({"links": links, "recordsets": list, "metadata": {"total_count": matching.len()}}),
            )
        }
        "CreateRecordSet" | "UpdateRecordSet" => {
            let update = op == "UpdateRecordSet";
            let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
                return invalid();
            };
            let Some(zi) = st.zones.iter().position(|z| Some(z.id.as_str()) == zone_id) else {
                return zone_missing();
            };
            let zone_name = st.zones[zi].name.clone();
            let existing = match set_id {
                Some(id) => match st.zones[zi].sets.iter().position(|s| s.id == id) {
                    Some(i) => Some(i),
                    None => return set_missing(),
                },
                None => None,
            };
            let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
            let name = match (text("name"), existing) {
                (Some(n), _) => {
                    let n = n.to_ascii_lowercase();
                    if n.ends_with('.') {
                        n
                    } else {
                        format!("{n}.")
                    }
                }
                (None, Some(i)) => st.zones[zi].sets[i].name.clone(),
                (None, None) => return invalid(),
            };
            let rtype = match (text("type"), existing) {
                (Some(t), _) => t.to_ascii_uppercase(),
                (None, Some(i)) => st.zones[zi].sets[i].rtype.clone(),
                (None, None) => return invalid(),
            };
            if name != zone_name && !name.ends_with(&format!(".{zone_name}")) {
                return invalid();
            }
            if let Some(i) = existing {
                let s = &st.zones[zi].sets[i];
                if s.name != name || s.rtype != rtype {
                    return invalid();
                }
            }
            let ttl = match (body.get("ttl"), existing) {
                (Some(v), _) => match v.as_u64() {
                    Some(t) if (1..=2_147_483_647).contains(&t) => t,
                    _ => return invalid(),
                },
                (None, Some(i)) => st.zones[zi].sets[i].ttl,
                (None, None) => 300,
            };
            let Some(records) = body.get("records").and_then(Value::as_array) else {
                return invalid();
            };
            let records: Vec<String> = records
                .iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect();
            let valid = !records.is_empty()
                && records.iter().all(|r| match rtype.as_str() {
                    "A" => r.parse::<std::net::Ipv4Addr>().is_ok(),
                    "AAAA" => r.parse::<std::net::Ipv6Addr>().is_ok(),
                    _ => !r.is_empty(),
                });
            if !valid {
                return invalid();
            }
            if let Some(code) = st.refused.get(name.trim_end_matches('.')) {
                return known_error(code);
            }
            if !update
                && st.zones[zi]
                    .sets
                    .iter()
                    .any(|s| s.name == name && s.rtype == rtype)
            {
                return dns_error(
                    400,
                    "DNS.0335",
                    &format!(
                        "Duplicate recordset exists.(name: {name}, type: {rtype}, line: default_view, records: {}). ",
                        records.join(",")
                    ),
                );
            }
            let id = match existing {
                Some(i) => st.zones[zi].sets[i].id.clone(),
                None => st.fresh_id(),
            };
            let set = RecordSet {
                id,
                name,
                rtype,
                ttl,
                records,
                default: false,
            };
            let z = &mut st.zones[zi];
            match existing {
                Some(i) => z.sets[i] = set.clone(),
                None => z.sets.push(set.clone()),
            }
            let status = if update {
                "PENDING_UPDATE"
            } else {
                "PENDING_CREATE"
            };
            (202, set_json(z, &set, status))
        }
        "DeleteRecordSet" => {
            let Some(zi) = st.zones.iter().position(|z| Some(z.id.as_str()) == zone_id) else {
                return zone_missing();
            };
            let Some(i) = st.zones[zi]
                .sets
                .iter()
                .position(|s| Some(s.id.as_str()) == set_id)
            else {
                return set_missing();
            };
            let name = st.zones[zi].sets[i].name.clone();
            if let Some(code) = st.refused.get(name.trim_end_matches('.')) {
                return known_error(code);
            }
            let z = &mut st.zones[zi];
            let set = z.sets.remove(i);
            (202, set_json(z, &set, "PENDING_DELETE"))
        }
        _ => gateway_error(
            404,
            "APIGW.0101",
            "The API does not exist or has not been published in the environment",
        ),
    }
}
