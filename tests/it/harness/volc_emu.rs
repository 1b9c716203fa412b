//! A local emulator of Volcengine DNS (OpenAPI `open.volcengineapi.com`, version
//! 2018-08-01): every request's HMAC-SHA256 V4 signature is recomputed from what arrived
//! (independently of ddnsd's signer), including the `X-Content-Sha256` of the body and the
//! credential scope's region and service, and a mismatch gets the gateway's real
//! `ResponseMetadata.Error` body.
//!
//! Implements ListZones, ListRecords (paged by `PageNumber` / `PageSize`, 10 by default;
//! `Host` / `Type` exact with `SearchMode=exact`, a "contains" match otherwise),
//! CreateRecord, UpdateRecord and DeleteRecord, as POST JSON (the Go SDK's form) or GET with
//! query parameters (ddns-go's form). New zones get their apex NS records. Fault injection:
//! an HTTP status, a hang, throttling (429 `FlowLimitExceeded` with `Retry-After`),
//! malformed, truncated or wrongly shaped bodies, and refusing writes to one name. Counts
//! calls per action. Behaviour follows `shared/providers/china-clouds.md` §3 and Volcengine's
//! common error-code table.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::emu_http::{
    civil_of, hex, hex_sha256, hmac_sha256, rfc3986, unix_of, EmuReply, EmuRequest, EmuServer,
    Outcome, Target,
};

/// Allowed difference between `X-Date` and the gateway's clock.
pub const SKEW: i64 = 15 * 60;
/// The region and service the gateway expects in the credential scope.
pub const REGION: &str = "cn-north-1";
/// The service name of the credential scope.
pub const SERVICE: &str = "DNS";

/// One record (one value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its id.
    pub id: String,
    /// Relative name (`@` at the apex).
    pub host: String,
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
    /// Its ZID.
    pub zid: u64,
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
    /// 429 `FlowLimitExceeded`, with `Retry-After` seconds if given.
    RateLimit(Option<u64>),
    /// `200 OK` with a body that is not JSON.
    Malformed,
    /// The real reply cut in half.
    Truncated,
    /// `200 OK` with JSON of an unexpected shape.
    WrongShape,
}

/// Everything the emulator knows; lock it with [`VolcEmu::state`].
#[derive(Debug)]
pub struct State {
    /// AK → SK.
    pub keys: BTreeMap<String, String>,
    /// Seconds added to the system clock for the gateway's own time.
    pub clock_offset: i64,
    /// The account's zones.
    pub zones: Vec<Zone>,
    /// Calls per action, rejected ones included.
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order, each to the first request its target hits.
    pub faults: VecDeque<(Target, Fault)>,
    /// The action of every request that got a fault.
    pub faulted: Vec<String>,
    /// Largest page returned, whatever `PageSize` asks (0 = 100).
    pub page_cap: u64,
    /// Writes to these names (FQDN) are refused with 403 `AccessDenied`.
    pub refused: Vec<String>,
    /// Signature failures seen.
    pub signature_failures: u32,
    /// The last request of each action that passed authentication.
    pub last_requests: BTreeMap<String, EmuRequest>,
    next_id: u64,
}

impl State {
    /// Calls of `action`.
    pub fn count(&self, action: &str) -> u32 {
        self.calls.get(action).copied().unwrap_or(0)
    }

    /// Calls of every action.
    pub fn total_calls(&self) -> u32 {
        self.calls.values().sum()
    }

    /// Create + update + delete calls.
    pub fn writes(&self) -> u32 {
        self.count("CreateRecord") + self.count("UpdateRecord") + self.count("DeleteRecord")
    }

    /// Adds a zone with its apex NS records; returns its ZID.
    pub fn add_zone(&mut self, name: &str) -> u64 {
        self.next_id += 1;
        let zid = self.next_id;
        let mut z = Zone {
            zid,
            name: name.to_owned(),
            records: Vec::new(),
        };
        for ns in ["ns1.volcdns.com.", "ns2.volcdns.com."] {
            z.records.push(Record {
                id: self.fresh_id(),
                host: "@".into(),
                rtype: "NS".into(),
                value: ns.into(),
                ttl: 86_400,
                line: "default".into(),
            });
        }
        self.zones.push(z);
        zid
    }

    /// Adds a record; returns its id.
    pub fn add_record(
        &mut self,
        zone: &str,
        host: &str,
        rtype: &str,
        value: &str,
        ttl: u64,
    ) -> String {
        let id = self.fresh_id();
        let z = self
            .zones
            .iter_mut()
            .find(|z| z.name == zone)
            .expect("zone exists");
        z.records.push(Record {
            id: id.clone(),
            host: host.into(),
            rtype: rtype.into(),
            value: value.into(),
            ttl,
            line: "default".into(),
        });
        id
    }

    /// The records of (host, type) in `zone`.
    pub fn records(&self, zone: &str, host: &str, rtype: &str) -> Vec<Record> {
        self.zones
            .iter()
            .find(|z| z.name == zone)
            .map(|z| {
                z.records
                    .iter()
                    .filter(|r| r.host == host && r.rtype == rtype)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The sorted values of (host, type).
    pub fn values(&self, zone: &str, host: &str, rtype: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .records(zone, host, rtype)
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

    fn fresh_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}", 700_000_000 + self.next_id)
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
pub struct VolcEmu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl VolcEmu {
    /// Starts an emulator with no key and no zone.
    pub fn start() -> VolcEmu {
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
            next_id: 12_340,
        }));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        VolcEmu { server, state }
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

    /// Queues a fault for the next call (of `action`, if given).
    pub fn inject(&self, action: Option<&str>, fault: Fault) {
        self.inject_on(Target::of(action), fault);
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
    format!("2025{:030X}", rand::random::<u128>() >> 8)
}

/// The gateway's envelope.
fn error(action: &str, status: u16, code: &str, code_n: u64, message: &str) -> (u16, Value) {
    (
        status,
        json!({"ResponseMetadata": {"RequestId": request_id(), "Action": action,
            "Version": "2018-08-01", "Service": SERVICE, "Region": REGION,
            "Error": {"CodeN": code_n, "Code": code, "Message": message}}}),
    )
}

fn ok(action: &str, result: Value) -> (u16, Value) {
    (
        200,
        json!({"ResponseMetadata": {"RequestId": request_id(), "Action": action,
            "Version": "2018-08-01", "Service": SERVICE, "Region": REGION}, "Result": result}),
    )
}

fn handle(req: &EmuRequest, state: &Arc<Mutex<State>>) -> Outcome {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let q: BTreeMap<String, String> = req.query().into_iter().collect();
    let action = q.get("Action").cloned().unwrap_or_else(|| "Unknown".into());
    *st.calls.entry(action.clone()).or_default() += 1;
    let now = st.now();
    let read = action.starts_with("List");
    let pos = st.faults.iter().position(|(t, _)| t.hits(&action, read));
    let fault = pos.and_then(|i| st.faults.remove(i)).map(|(_, f)| f);
    if fault.is_some() {
        st.faulted.push(action.clone());
    }
    let mut headers = vec![
        ("Date".to_owned(), httpdate::fmt_http_date(now)),
        (
            "Content-Type".to_owned(),
            "application/json; charset=utf-8".to_owned(),
        ),
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
            let (status, body) = error(
                &action,
                429,
                "FlowLimitExceeded",
                100018,
                "Your request is being throttled because of flow limit exceeded.",
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
        Some(Fault::WrongShape) => return reply(200, headers, &json!({"Result": "nope"})),
        Some(Fault::Truncated) | None => {}
    }
    let (status, body) = match verify(&mut st, req, now, &action) {
        Err(e) => e,
        Ok(()) => {
            st.last_requests.insert(action.clone(), req.clone());
            // Parameters: the JSON body (POST), else the query (GET).
            let params: Value = if req.method == "POST" && !req.body.is_empty() {
                match serde_json::from_slice(&req.body) {
                    Ok(v) => v,
                    Err(_) => {
                        return reply_of(
                            error(
                                &action,
                                400,
                                "InvalidParameter",
                                100001,
                                "The request body is not JSON.",
                            ),
                            headers,
                            &fault,
                        )
                    }
                }
            } else {
                Value::Object(q.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
            };
            api(&mut st, &action, &params)
        }
    };
    reply_of((status, body), headers, &fault)
}

fn reply_of(out: (u16, Value), headers: Vec<(String, String)>, fault: &Option<Fault>) -> Outcome {
    if *fault == Some(Fault::Truncated) {
        let bytes = serde_json::to_vec(&out.1).expect("json");
        return Outcome::Reply(EmuReply {
            status: out.0,
            headers,
            body: bytes[..bytes.len() / 2].to_vec(),
        });
    }
    reply(out.0, headers, &out.1)
}

fn reply(status: u16, headers: Vec<(String, String)>, body: &Value) -> Outcome {
    Outcome::Reply(EmuReply {
        status,
        headers,
        body: serde_json::to_vec(body).expect("json"),
    })
}

/// `20231114T221320Z` → Unix seconds.
fn parse_x_date(s: &str) -> Option<i64> {
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

/// Checks the HMAC-SHA256 V4 signature as the gateway does.
fn verify(
    st: &mut State,
    req: &EmuRequest,
    now: SystemTime,
    action: &str,
) -> Result<(), (u16, Value)> {
    let bad_sig = |st: &mut State| {
        st.signature_failures += 1;
        error(action, 401, "SignatureDoesNotMatch", 100010, "The request signature we calculated does not match the signature you provided. Check your Secret Access Key and signing method. Consult the service documentation for details.")
    };
    let Some(auth) = req.header("authorization") else {
        return Err(error(
            action,
            401,
            "MissingAuthenticationToken",
            100011,
            "Request is missing Authentication Token.",
        ));
    };
    let Some(rest) = auth.strip_prefix("HMAC-SHA256 ") else {
        return Err(error(
            action,
            400,
            "InvalidAuthorization",
            100020,
            "Invalid 'Authorization' header, Pls check authorization header.",
        ));
    };
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(error(
            action,
            400,
            "InvalidAuthorization",
            100020,
            "Invalid 'Authorization' header, Pls check authorization header.",
        ));
    };
    let cred: Vec<&str> = credential.split('/').collect();
    if cred.len() != 5 || cred[4] != "request" {
        return Err(error(
            action,
            400,
            "InvalidCredential",
            100021,
            "Invalid credential in 'Authorization', Pls check credential in authorization header.",
        ));
    }
    let (ak, day, region, service) = (cred[0], cred[1], cred[2], cred[3]);
    let Some(sk) = st.keys.get(ak).cloned() else {
        return Err(error(
            action,
            401,
            "InvalidAccessKey",
            100009,
            &format!("The accesskey [{ak}] included in the request is invalid."),
        ));
    };
    let x_date = req.header("x-date").unwrap_or("").to_owned();
    let Some(t) = parse_x_date(&x_date) else {
        return Err(error(
            action,
            400,
            "MissingRequestInfo",
            100004,
            "The request is missing X-Date information.",
        ));
    };
    let server = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if (server - t).abs() > SKEW {
        return Err(error(
            action,
            400,
            "InvalidTimestamp",
            100006,
            "The Signature of the request is expired.",
        ));
    }
    if day != &x_date[..8] || region != REGION || !service.eq_ignore_ascii_case(SERVICE) {
        return Err(bad_sig(st));
    }
    let body_hash = hex_sha256(&req.body);
    if req
        .header("x-content-sha256")
        .is_some_and(|h| h != body_hash)
    {
        return Err(bad_sig(st));
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    if !names.contains(&"host") || !names.contains(&"x-date") {
        return Err(bad_sig(st));
    }
    let mut canonical_headers = String::new();
    for n in &names {
        let Some(v) = req.header(n) else {
            return Err(bad_sig(st));
        };
        let v = if *n == "host" {
            v.strip_suffix(":80")
                .or_else(|| v.strip_suffix(":443"))
                .unwrap_or(v)
        } else {
            v
        };
        canonical_headers.push_str(&format!("{n}:{v}\n"));
    }
    let mut query = req.query();
    query.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{}={}", rfc3986(k), rfc3986(v)))
        .collect::<Vec<_>>()
        .join("&");
    let canonical = format!(
        "{}\n{}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{body_hash}",
        req.method,
        if req.path.is_empty() {
            "/"
        } else {
            req.path.as_str()
        }
    );
    let sts = format!(
        "HMAC-SHA256\n{x_date}\n{day}/{region}/{service}/request\n{}",
        hex_sha256(canonical.as_bytes())
    );
    let k = hmac_sha256(sk.as_bytes(), day.as_bytes());
    let k = hmac_sha256(&k, region.as_bytes());
    let k = hmac_sha256(&k, service.as_bytes());
    let k = hmac_sha256(&k, b"request");
    if hex(&hmac_sha256(&k, sts.as_bytes())) != signature {
        return Err(bad_sig(st));
    }
    Ok(())
}

fn record_json(z: &Zone, r: &Record) -> Value {
    let fqdn = if r.host == "@" {
        z.name.clone()
    } else {
        format!("{}.{}", r.host, z.name)
    };
    json!({"RecordID": r.id, "Host": r.host, "Type": r.rtype, "Value": r.value, "TTL": r.ttl,
        "Line": r.line, "FQDN": fqdn, "PQDN": fqdn, "Enable": true, "Weight": 1, "Remark": "",
        "CreatedAt": "2024-01-02 03:04:05", "UpdatedAt": "2024-01-02 03:04:05", "Operators": []})
}

fn num(v: &Value, k: &str) -> Option<u64> {
    match v.get(k)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The page `PageNumber` (from 1) of `PageSize` (default 10, at most 100).
fn page<T: Clone>(st: &State, p: &Value, items: &[T]) -> Result<Vec<T>, ()> {
    let number = num(p, "PageNumber").unwrap_or(1).max(1);
    let size = num(p, "PageSize").unwrap_or(10);
    if size == 0 || size > 100 {
        return Err(());
    }
    let cap = if st.page_cap == 0 { 100 } else { st.page_cap };
    let size = size.min(cap) as usize;
    let start = ((number - 1) as usize)
        .saturating_mul(size)
        .min(items.len());
    Ok(items[start..(start + size).min(items.len())].to_vec())
}

fn api(st: &mut State, action: &str, p: &Value) -> (u16, Value) {
    let invalid = |m: &str| error(action, 400, "InvalidParameter", 100001, m);
    let zone_missing = || error(action, 404, "ZoneNotFound", 400104, "zone not found");
    let record_missing = || error(action, 404, "RecordNotFound", 400105, "record not found");
    match action {
        "ListZones" => {
            let key = text(p, "Key");
            let exact = text(p, "SearchMode").as_deref() == Some("exact");
            let matching: Vec<Zone> = st
                .zones
                .iter()
                .filter(|z| match &key {
                    None => true,
                    Some(k) if exact => &z.name == k,
                    Some(k) => z.name.contains(k.as_str()),
                })
                .cloned()
                .collect();
            let Ok(items) = page(st, p, &matching) else {
                return invalid("PageSize must be between 1 and 100");
            };
            let list: Vec<Value> = items
                .iter()
                .map(|z| {
                    json!({"ZID": z.zid, "ZoneName": z.name, "RecordCount": z.records.len(),
                    "TradeCode": "free_inst", "ProjectName": "default"})
                })
                .collect();
            ok(action, json!({"Zones": list, "Total": matching.len()}))
        }
        "ListRecords" => {
            let Some(zid) = num(p, "ZID") else {
                return error(
                    action,
                    400,
                    "MissingParameter",
                    100002,
                    "The request is missing ZID parameter.",
                );
            };
            let Some(z) = st.zones.iter().find(|z| z.zid == zid) else {
                return zone_missing();
            };
            let exact = text(p, "SearchMode").as_deref() == Some("exact");
            let host = text(p, "Host");
            let rtype = text(p, "Type");
            let matching: Vec<Record> = z
                .records
                .iter()
                .filter(|r| match &host {
                    None => true,
                    Some(h) if exact => &r.host == h,
                    Some(h) => r.host.contains(h.as_str()),
                })
                .filter(|r| rtype.as_ref().is_none_or(|t| &r.rtype == t))
                .cloned()
                .collect();
            let Ok(items) = page(st, p, &matching) else {
                return invalid("PageSize must be between 1 and 100");
            };
            let list: Vec<Value> = items.iter().map(|r| record_json(z, r)).collect();
            ok(
                action,
                json!({"Records": list, "TotalCount": matching.len(),
                "PageNumber": num(p, "PageNumber").unwrap_or(1), "PageSize": items.len()}),
            )
        }
        "CreateRecord" | "UpdateRecord" => {
            let create = action == "CreateRecord";
            let (zi, existing) = if create {
                let Some(zid) = num(p, "ZID") else {
                    return error(
                        action,
                        400,
                        "MissingParameter",
                        100002,
                        "The request is missing ZID parameter.",
                    );
                };
                let Some(zi) = st.zones.iter().position(|z| z.zid == zid) else {
                    return zone_missing();
                };
                (zi, None)
            } else {
                let Some(id) = text(p, "RecordID") else {
                    return error(
                        action,
                        400,
                        "MissingParameter",
                        100002,
                        "The request is missing RecordID parameter.",
                    );
                };
                let found = st.zones.iter().enumerate().find_map(|(zi, z)| {
                    z.records.iter().position(|r| r.id == id).map(|ri| (zi, ri))
                });
                let Some((zi, ri)) = found else {
                    return record_missing();
                };
                (zi, Some(ri))
            };
            let (Some(host), Some(rtype), Some(value)) =
                (text(p, "Host"), text(p, "Type"), text(p, "Value"))
            else {
                return error(
                    action,
                    400,
                    "MissingParameter",
                    100002,
                    "The request is missing Host, Type or Value parameter.",
                );
            };
            let ttl = num(p, "TTL").unwrap_or(600);
            if !(600..=86_400).contains(&ttl) {
                return invalid("TTL must be between 600 and 86400 for this zone's edition");
            }
            let good = match rtype.as_str() {
                "A" => value.parse::<std::net::Ipv4Addr>().is_ok(),
                "AAAA" => value.parse::<std::net::Ipv6Addr>().is_ok(),
                _ => !value.is_empty(),
            };
            if !good {
                return invalid("invalid record value");
            }
            let zone_name = st.zones[zi].name.clone();
            let fqdn = if host == "@" {
                zone_name.clone()
            } else {
                format!("{host}.{zone_name}")
            };
            if st.refused.contains(&fqdn) {
                return error(action, 403, "AccessDenied", 100013, &format!("User is not authorized to perform: dns:{action} on resource: trn:dns::zone/{fqdn}"));
            }
            let line = text(p, "Line").unwrap_or_else(|| "default".into());
            let own_id = existing.map(|ri| st.zones[zi].records[ri].id.clone());
            let dup = st.zones[zi].records.iter().any(|r| {
                r.host == host
                    && r.rtype == rtype
                    && r.value == value
                    && r.line == line
                    && Some(&r.id) != own_id.as_ref()
            });
            if dup {
                return error(
                    action,
                    400,
                    "ErrDBDuplicated",
                    400103,
                    &format!(
                        "duplicated: domain name:{fqdn} already have duplicate record in same line"
                    ),
                );
            }
            let record = Record {
                id: own_id.unwrap_or_else(|| st.fresh_id()),
                host,
                rtype,
                value,
                ttl,
                line,
            };
            match existing {
                Some(ri) => st.zones[zi].records[ri] = record.clone(),
                None => st.zones[zi].records.push(record.clone()),
            }
            let z = &st.zones[zi];
            ok(action, record_json(z, &record))
        }
        "DeleteRecord" => {
            let Some(id) = text(p, "RecordID") else {
                return error(
                    action,
                    400,
                    "MissingParameter",
                    100002,
                    "The request is missing RecordID parameter.",
                );
            };
            let found =
                st.zones.iter().enumerate().find_map(|(zi, z)| {
                    z.records.iter().position(|r| r.id == id).map(|ri| (zi, ri))
                });
            let Some((zi, ri)) = found else {
                return record_missing();
            };
            let host = st.zones[zi].records[ri].host.clone();
            let zone_name = st.zones[zi].name.clone();
            let fqdn = if host == "@" {
                zone_name
            } else {
                format!("{host}.{}", st.zones[zi].name)
            };
            if st.refused.contains(&fqdn) {
                return error(action, 403, "AccessDenied", 100013, &format!("User is not authorized to perform: dns:DeleteRecord on resource: trn:dns::zone/{fqdn}"));
            }
            st.zones[zi].records.remove(ri);
            ok(action, Value::Null)
        }
        _ => error(
            action,
            404,
            "InvalidActionOrVersion",
            100008,
            &format!("Could not find operation {action} for version 2018-08-01"),
        ),
    }
}

#[allow(unused)]
fn x_date(t: i64) -> String {
    let (y, m, d, hh, mm, ss) = civil_of(t);
    format!("{y:04}{m:02}{d:02}T{hh:02}{mm:02}{ss:02}Z")
}
