//! A local emulator of Baidu AI Cloud DNS (`dns.baidubce.com`, API v1): every request's BCE
//! auth v1 signature is recomputed from what arrived (independently of ddnsd's signer) and a
//! mismatch gets BCE's `{requestId, code, message}` error body.
//!
//! Implements the zone list (`GET /v1/dns/zone`) and the record list (`GET
//! /v1/dns/zone/{zone}/record?rr=`), both paged with `marker` / `maxKeys` (`isTruncated`,
//! `nextMarker`), and record create (POST), update (PUT …/record/{id}) and delete (DELETE),
//! each idempotent by `clientToken` as documented. New zones get their apex NS records.
//! Fault injection: an HTTP status, a hang, throttling (429 with `Retry-After`), malformed,
//! truncated or wrongly shaped bodies, and refusing writes to one name. Counts calls per
//! operation, rejected ones included, and keeps the last request of each. Behaviour follows
//! `shared/providers/china-clouds.md` §2 and Baidu's API pages; the DNS service's own error
//! codes are not published, so the ones used here are marked as the emulator's.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::emu_http::{
    hex, hmac_sha256, percent_decode, rfc3986, unix_of, EmuReply, EmuRequest, EmuServer, Outcome,
    Target,
};

/// Largest `maxKeys`.
pub const MAX_KEYS: usize = 1000;

/// One record (one value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its id.
    pub id: String,
    /// Relative name (`@` at the apex).
    pub rr: String,
    /// Type.
    pub rtype: String,
    /// Value.
    pub value: String,
    /// TTL.
    pub ttl: u64,
    /// Line.
    pub line: String,
}

/// One zone.
#[derive(Clone, Debug)]
pub struct Zone {
    /// Its id.
    pub id: String,
    /// Name without the trailing dot.
    pub name: String,
    /// Its records.
    pub records: Vec<Record>,
}

/// A fault served instead of the normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP status with an HTML body.
    Status(u16),
    /// Never answer.
    Timeout,
    /// 429 with `Retry-After` seconds if given.
    RateLimit(Option<u64>),
    /// `200 OK` with a body that is not JSON.
    Malformed,
    /// The real reply cut in half.
    Truncated,
    /// `200 OK` with JSON of an unexpected shape.
    WrongShape,
}

/// Everything the emulator knows; lock it with [`BaiduEmu::state`].
#[derive(Debug)]
pub struct State {
    /// AK → SK.
    pub keys: BTreeMap<String, String>,
    /// Seconds added to the system clock for the server's own time (and `Date`).
    pub clock_offset: i64,
    /// The account's zones.
    pub zones: Vec<Zone>,
    /// Calls per operation, rejected ones included.
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order, each to the first request its target hits.
    pub faults: VecDeque<(Target, Fault)>,
    /// The operation of every request that got a fault.
    pub faulted: Vec<String>,
    /// Largest page returned, whatever `maxKeys` asks (0 = 1000).
    pub page_cap: usize,
    /// Writes to these names (FQDN) are refused with 403 `AccessDenied`.
    pub refused: Vec<String>,
    /// Signature failures seen.
    pub signature_failures: u32,
    /// The last request of each operation that passed authentication.
    pub last_requests: BTreeMap<String, EmuRequest>,
    /// `clientToken`s already served (a retried write answers as the first did).
    pub tokens: BTreeMap<String, (u16, Value)>,
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
        self.count("CreateRecord") + self.count("UpdateRecord") + self.count("DeleteRecord")
    }

    /// Adds a zone (`example.com`) with its two apex NS records.
    pub fn add_zone(&mut self, name: &str) {
        let id = format!("zone-{}", self.fresh_id());
        let mut z = Zone {
            id,
            name: name.to_owned(),
            records: Vec::new(),
        };
        for ns in ["ns1.bdydns.com.", "ns2.bdydns.com."] {
            self.next_id += 1;
            z.records.push(Record {
                id: format!("{}", self.next_id),
                rr: "@".into(),
                rtype: "NS".into(),
                value: ns.into(),
                ttl: 86_400,
                line: "default".into(),
            });
        }
        self.zones.push(z);
    }

    /// Adds a record; returns its id.
    pub fn add_record(
        &mut self,
        zone: &str,
        rr: &str,
        rtype: &str,
        value: &str,
        ttl: u64,
    ) -> String {
        let id = self.fresh_id();
        let z = self.zone_mut(zone).expect("zone exists");
        z.records.push(Record {
            id: id.clone(),
            rr: rr.into(),
            rtype: rtype.into(),
            value: value.into(),
            ttl,
            line: "default".into(),
        });
        id
    }

    /// The records of (rr, type) in `zone`.
    pub fn records(&self, zone: &str, rr: &str, rtype: &str) -> Vec<Record> {
        self.zones
            .iter()
            .find(|z| z.name == zone)
            .map(|z| {
                z.records
                    .iter()
                    .filter(|r| r.rr == rr && r.rtype == rtype)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The sorted values of (rr, type).
    pub fn values(&self, zone: &str, rr: &str, rtype: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .records(zone, rr, rtype)
            .into_iter()
            .map(|r| r.value)
            .collect();
        v.sort();
        v
    }

    /// Removes a record by id.
    pub fn remove_record(&mut self, id: &str) {
        for z in &mut self.zones {
            z.records.retain(|r| r.id != id);
        }
    }

    fn zone_mut(&mut self, name: &str) -> Option<&mut Zone> {
        self.zones.iter_mut().find(|z| z.name == name)
    }

    fn fresh_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}", self.next_id)
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
pub struct BaiduEmu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl BaiduEmu {
    /// Starts an emulator with no key and no zone.
    pub fn start() -> BaiduEmu {
        let state = Arc::new(Mutex::new(State {
            keys: BTreeMap::new(),
            clock_offset: 0,
            zones: Vec::new(),
            calls: BTreeMap::new(),
            faults: VecDeque::new(),
            faulted: Vec::new(),
            page_cap: 0,
            refused: Vec::new(),
            signature_failures: 0,
            last_requests: BTreeMap::new(),
            tokens: BTreeMap::new(),
            next_id: 1_000,
        }));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        BaiduEmu { server, state }
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

    /// Refuses every write to `fqdn` with 403 `AccessDenied`.
    pub fn refuse(&self, fqdn: &str) {
        self.state().refused.push(fqdn.to_owned());
    }
}

fn request_id() -> String {
    let x = rand::random::<u128>();
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        x >> 96,
        (x >> 80) & 0xffff,
        (x >> 64) & 0xffff,
        (x >> 48) & 0xffff,
        x & 0xffff_ffff_ffff
    )
}

/// BCE's error envelope.
fn error(status: u16, code: &str, message: &str) -> (u16, Value) {
    (
        status,
        json!({"requestId": request_id(), "code": code, "message": message}),
    )
}

/// The operation a request is, and the zone and record id in its path.
fn route(method: &str, path: &str) -> (&'static str, Option<String>, Option<String>) {
    let decoded = percent_decode(path, false);
    let parts: Vec<&str> = decoded.trim_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", ["v1", "dns", "zone"]) => ("ListZone", None, None),
        ("GET", ["v1", "dns", "zone", z, "record"]) => ("ListRecord", Some((*z).into()), None),
        ("POST", ["v1", "dns", "zone", z, "record"]) => ("CreateRecord", Some((*z).into()), None),
        ("PUT", ["v1", "dns", "zone", z, "record", r]) => {
            ("UpdateRecord", Some((*z).into()), Some((*r).into()))
        }
        ("DELETE", ["v1", "dns", "zone", z, "record", r]) => {
            ("DeleteRecord", Some((*z).into()), Some((*r).into()))
        }
        _ => ("Unknown", None, None),
    }
}

fn handle(req: &EmuRequest, state: &Arc<Mutex<State>>) -> Outcome {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let (op, zone, id) = route(&req.method, &req.path);
    *st.calls.entry(op.to_owned()).or_default() += 1;
    let now = st.now();
    let read = req.method == "GET";
    let pos = st.faults.iter().position(|(t, _)| t.hits(op, read));
    let fault = pos.and_then(|i| st.faults.remove(i)).map(|(_, f)| f);
    if fault.is_some() {
        st.faulted.push(op.to_owned());
    }
    let mut headers = vec![
        ("Date".to_owned(), httpdate::fmt_http_date(now)),
        (
            "Content-Type".to_owned(),
            "application/json;charset=UTF-8".to_owned(),
        ),
        ("x-bce-request-id".to_owned(), request_id()),
        ("Server".to_owned(), "BWS".to_owned()),
    ];
    match &fault {
        Some(Fault::Timeout) => return Outcome::Hang,
        Some(Fault::Status(code)) => {
            headers[1].1 = "text/html".into();
            return Outcome::Reply(EmuReply {
                status: *code,
                headers,
                body: b"<html><body><h1>503 Service Unavailable</h1></body></html>".to_vec(),
            });
        }
        Some(Fault::RateLimit(retry_after)) => {
            if let Some(s) = retry_after {
                headers.push(("Retry-After".into(), s.to_string()));
            }
            let (status, body) = error(
                429,
                "TooManyRequests",
                "Request rate exceeded, please try again later.",
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
        Some(Fault::WrongShape) => return reply(200, headers, &json!({"items": []})),
        Some(Fault::Truncated) | None => {}
    }
    let (status, body) = match verify(&mut st, req, now) {
        Err(e) => e,
        Ok(()) => {
            st.last_requests.insert(op.to_owned(), req.clone());
            let q: BTreeMap<String, String> = req.query().into_iter().collect();
            match q.get("clientToken").filter(|_| !read).cloned() {
                Some(t) if st.tokens.contains_key(&t) => st.tokens[&t].clone(),
                token => {
                    let out = api(&mut st, op, zone.as_deref(), id.as_deref(), &q, req);
                    if let Some(t) = token {
                        if out.0 < 300 {
                            st.tokens.insert(t, out.clone());
                        }
                    }
                    out
                }
            }
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

/// `2023-11-14T22:13:20Z` → Unix seconds.
fn parse_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    Some(unix_of(
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    ))
}

/// Checks the BCE auth v1 signature as the gateway does.
fn verify(st: &mut State, req: &EmuRequest, now: SystemTime) -> Result<(), (u16, Value)> {
    let bad_sig = |st: &mut State| {
        st.signature_failures += 1;
        error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your Secret Access Key and signing method. Consult the service documentation for details.",
        )
    };
    let Some(auth) = req.header("authorization") else {
        return Err(error(401, "AccessDenied", "Access denied."));
    };
    let parts: Vec<&str> = auth.split('/').collect();
    if parts.len() != 6 || parts[0] != "bce-auth-v1" {
        return Err(error(
            400,
            "InvalidHTTPAuthHeader",
            "The HTTP authorization header is invalid. Consult the service documentation for details.",
        ));
    }
    let (ak, ts, exp, signed, sig) = (parts[1], parts[2], parts[3], parts[4], parts[5]);
    let Some(sk) = st.keys.get(ak).cloned() else {
        return Err(error(
            403,
            "InvalidAccessKeyId",
            "The Access Key ID you provided does not exist in our records.",
        ));
    };
    let server = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (Some(t), Ok(exp_secs)) = (parse_timestamp(ts), exp.parse::<i64>()) else {
        return Err(error(
            400,
            "InvalidHTTPAuthHeader",
            "The HTTP authorization header is invalid. Consult the service documentation for details.",
        ));
    };
    if server > t + exp_secs || t > server + 15 * 60 {
        return Err(error(
            400,
            "RequestExpired",
            &format!("Request has expired. Timestamp date is {ts}."),
        ));
    }
    // The listed headers, or (an empty list) the default set plus every x-bce-* header.
    let names: Vec<String> = if signed.is_empty() {
        req.headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .filter(|n| {
                n.starts_with("x-bce-")
                    || ["host", "content-md5", "content-length", "content-type"]
                        .contains(&n.as_str())
            })
            .collect()
    } else {
        signed.split(';').map(str::to_owned).collect()
    };
    if !names.iter().any(|n| n == "host") {
        return Err(bad_sig(st));
    }
    let mut lines = Vec::new();
    for n in &names {
        let Some(v) = req.header(n) else {
            return Err(bad_sig(st));
        };
        if v.trim().is_empty() {
            continue;
        }
        lines.push(format!("{}:{}", rfc3986(n), rfc3986(v.trim())));
    }
    lines.sort();
    let uri = percent_decode(&req.path, false)
        .split('/')
        .map(rfc3986)
        .collect::<Vec<_>>()
        .join("/");
    let mut query: Vec<String> = req
        .query()
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("authorization"))
        .map(|(k, v)| format!("{}={}", rfc3986(k), rfc3986(v)))
        .collect();
    query.sort();
    let canonical = format!(
        "{}\n{uri}\n{}\n{}",
        req.method,
        query.join("&"),
        lines.join("\n")
    );
    let prefix = format!("bce-auth-v1/{ak}/{ts}/{exp}");
    let key = hex(&hmac_sha256(sk.as_bytes(), prefix.as_bytes()));
    if hex(&hmac_sha256(key.as_bytes(), canonical.as_bytes())) != sig {
        return Err(bad_sig(st));
    }
    Ok(())
}

fn record_json(r: &Record) -> Value {
    json!({"id": r.id, "rr": r.rr, "status": "running", "type": r.rtype, "value": r.value,
           "ttl": r.ttl, "line": r.line, "description": "", "priority": 0})
}

/// A page and the marker of the next one, or the error reply.
type Page<'a, T> = Result<(&'a [T], Option<String>), (u16, Value)>;

/// One page of `items` by `marker` (the id of the first item of the page) / `maxKeys`.
fn page<'a, T>(
    st: &State,
    q: &BTreeMap<String, String>,
    items: &'a [T],
    id: impl Fn(&T) -> &str,
) -> Page<'a, T> {
    let max = match q.get("maxKeys") {
        None => MAX_KEYS,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_KEYS).contains(&n) => n,
            _ => {
                return Err(error(
                    400,
                    "InvalidParameterValue",
                    "maxKeys must be between 1 and 1000.",
                ))
            }
        },
    };
    let cap = if st.page_cap == 0 {
        MAX_KEYS
    } else {
        st.page_cap
    };
    let max = max.min(cap);
    let start = match q.get("marker").filter(|m| !m.is_empty()) {
        Some(m) => match items.iter().position(|x| id(x) == m) {
            Some(i) => i,
            None => {
                return Err(error(
                    400,
                    "InvalidParameterValue",
                    "The marker is invalid.",
                ))
            }
        },
        None => 0,
    };
    let end = (start + max).min(items.len());
    let next = items.get(end).map(|x| id(x).to_owned());
    Ok((&items[start..end], next))
}

fn api(
    st: &mut State,
    op: &str,
    zone: Option<&str>,
    id: Option<&str>,
    q: &BTreeMap<String, String>,
    req: &EmuRequest,
) -> (u16, Value) {
    let no_zone = || error(404, "NoSuchZone", "The zone does not exist.");
    let no_record = || error(404, "NoSuchRecord", "The record does not exist.");
    let invalid = |m: &str| error(400, "InvalidParameterValue", m);
    match op {
        "ListZone" => {
            let matching: Vec<&Zone> = st
                .zones
                .iter()
                .filter(|z| q.get("name").is_none_or(|n| z.name.contains(n.as_str())))
                .collect();
            let (items, next) = match page(st, q, &matching, |z| &z.id) {
                Ok(x) => x,
                Err(e) => return e,
            };
            let list: Vec<Value> = items
                .iter()
                .map(|z| json!({"id": z.id, "name": z.name, "status": "running", "productVersion": "free",
                    "createTime": "2024-01-02T03:04:05Z", "expireTime": null, "tags": []}))
                .collect();
            let mut body = json!({"marker": q.get("marker").cloned().unwrap_or_default(),
                "isTruncated": next.is_some(), "maxKeys": items.len(), "zones": list});
            if let Some(n) = next {
                body["nextMarker"] = json!(n);
            }
            (200, body)
        }
        "ListRecord" => {
            let Some(z) = st.zones.iter().find(|z| Some(z.name.as_str()) == zone) else {
                return no_zone();
            };
            let matching: Vec<&Record> = z
                .records
                .iter()
                .filter(|r| q.get("rr").is_none_or(|rr| &r.rr == rr))
                .filter(|r| q.get("id").is_none_or(|i| &r.id == i))
                .collect();
            let (items, next) = match page(st, q, &matching, |r| &r.id) {
                Ok(x) => x,
                Err(e) => return e,
            };
            let list: Vec<Value> = items.iter().map(|r| record_json(r)).collect();
            let mut body = json!({"marker": q.get("marker").cloned().unwrap_or_default(),
                "isTruncated": next.is_some(), "maxKeys": items.len(), "records": list});
            if let Some(n) = next {
                body["nextMarker"] = json!(n);
            }
            (200, body)
        }
        "CreateRecord" | "UpdateRecord" => {
            let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
                return error(
                    400,
                    "MalformedJSON",
                    "The JSON you provided was not well-formed.",
                );
            };
            let Some(zi) = st.zones.iter().position(|z| Some(z.name.as_str()) == zone) else {
                return no_zone();
            };
            let zone_name = st.zones[zi].name.clone();
            let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
            let (Some(rr), Some(rtype), Some(value)) = (text("rr"), text("type"), text("value"))
            else {
                return error(400, "InappropriateJSON", "The JSON you provided was well-formed and valid, but not appropriate for this operation.");
            };
            let ttl = match body.get("ttl") {
                None => 300,
                Some(v) => match v.as_u64() {
                    Some(t) if t >= 1 => t,
                    _ => return invalid("ttl must be a positive integer."),
                },
            };
            let ok = match rtype.as_str() {
                "A" => value.parse::<std::net::Ipv4Addr>().is_ok(),
                "AAAA" => value.parse::<std::net::Ipv6Addr>().is_ok(),
                _ => !value.is_empty(),
            };
            if !ok {
                return invalid("The record value is invalid.");
            }
            let fqdn = if rr == "@" {
                zone_name.clone()
            } else {
                format!("{rr}.{zone_name}")
            };
            if st.refused.contains(&fqdn) {
                return error(403, "AccessDenied", "Access denied.");
            }
            let line = text("line").unwrap_or_else(|| "default".into());
            let dup = st.zones[zi].records.iter().any(|r| {
                r.rr == rr
                    && r.rtype == rtype
                    && r.value == value
                    && r.line == line
                    && Some(r.id.as_str()) != id
            });
            if dup {
                return error(409, "DuplicateRecord", "The record already exists.");
            }
            if op == "CreateRecord" {
                let new_id = st.fresh_id();
                st.zones[zi].records.push(Record {
                    id: new_id,
                    rr,
                    rtype,
                    value,
                    ttl,
                    line,
                });
                return (200, Value::Null);
            }
            let Some(r) = st.zones[zi]
                .records
                .iter_mut()
                .find(|r| Some(r.id.as_str()) == id)
            else {
                return no_record();
            };
            r.rr = rr;
            r.rtype = rtype;
            r.value = value;
            r.ttl = ttl;
            (200, Value::Null)
        }
        "DeleteRecord" => {
            let Some(zi) = st.zones.iter().position(|z| Some(z.name.as_str()) == zone) else {
                return no_zone();
            };
            let zone_name = st.zones[zi].name.clone();
            let Some(i) = st.zones[zi]
                .records
                .iter()
                .position(|r| Some(r.id.as_str()) == id)
            else {
                return no_record();
            };
            let rr = st.zones[zi].records[i].rr.clone();
            let fqdn = if rr == "@" {
                zone_name
            } else {
                format!("{rr}.{zone_name}")
            };
            if st.refused.contains(&fqdn) {
                return error(403, "AccessDenied", "Access denied.");
            }
            st.zones[zi].records.remove(i);
            (200, Value::Null)
        }
        _ => error(404, "InvalidURI", "Could not parse the specified URI."),
    }
}
