//! A local emulator of Tencent Cloud DNSPod: API 3.0 (TC3-HMAC-SHA256, every signature
//! verified) and the legacy token API (dnsapi.cn paths), over one in-memory account.
//!
//! It runs on the harness's one HTTP server (`emu_http`: 127.0.0.1:0, stopped on drop), can
//! shift its clock, inject faults (5xx, timeouts, rate limits, malformed bodies) and counts
//! calls per action.
//! Behaviour follows `shared/providers/tencentcloud-dnspod.md` §2.4, §3, §4, §7, §8.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

pub use super::emu_http::Target;
use super::emu_http::{
    civil_of, form_decode, hex, hex_sha256, hmac_sha256, EmuReply, EmuRequest, EmuServer, Outcome,
};

/// The default line name.
pub const LINE: &str = "默认";
/// The plan's minimum TTL.
pub const MIN_TTL: u64 = 600;

/// One record row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rec {
    /// RecordId.
    pub id: u64,
    /// Host part (`@` at the apex).
    pub name: String,
    /// Type.
    pub rtype: String,
    /// Line name.
    pub line: String,
    /// Value.
    pub value: String,
    /// TTL.
    pub ttl: u64,
}

/// One domain of the account.
#[derive(Clone, Debug)]
pub struct Domain {
    /// DomainId.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Its records.
    pub records: Vec<Rec>,
}

/// A fault served instead of the normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP status with an HTML body.
    Status(u16),
    /// Never answer (the connection stays open).
    Timeout,
    /// API 3.0 `RequestLimitExceeded`; legacy status `-2` (HTTP 200, no `Retry-After`).
    RateLimit,
    /// HTTP 429 with `Retry-After: SECS` and the API's throttling body, as a gateway in front
    /// of the API answers.
    TooManyRequests(u64),
    /// `200 OK` with an HTML page instead of JSON.
    Malformed,
    /// `200 OK` with JSON cut short.
    Truncated,
    /// `200 OK` with JSON of an unexpected shape.
    WrongShape,
    /// The API's error envelope with this code (API 3.0 `Error.Code`; legacy `status.code`).
    Code(String),
}

/// True for the actions that only read.
pub fn is_read(action: &str) -> bool {
    action.starts_with("Describe") || action.ends_with(".List")
}

/// Everything the emulator knows; lock it with [`DnspodEmu::state`].
#[derive(Debug)]
pub struct State {
    /// SecretId → SecretKey.
    pub keys: BTreeMap<String, String>,
    /// Accepted legacy `login_token` values (`ID,TOKEN`).
    pub login_tokens: Vec<String>,
    /// Seconds added to the system clock for the emulator's own time.
    pub clock_offset: i64,
    /// The account's domains.
    pub domains: Vec<Domain>,
    /// Calls per action (API 3.0 `X-TC-Action`, legacy path), rejected ones included.
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order, each to the first request it hits.
    pub faults: VecDeque<(Target, Fault)>,
    /// The action of every request that got a fault, in order.
    pub faulted: Vec<String>,
    /// Host parts (`sub_domain`) whose record writes are refused with the API's "invalid
    /// sub-domain" error (API 3.0 `InvalidParameter.SubdomainInvalid`, legacy status `22`).
    pub refused: Vec<String>,
    /// Largest page a list action returns, whatever `Limit` asks (0 = the documented 3000).
    pub page_cap: u64,
    next_id: u64,
}

impl State {
    /// Total calls of every action.
    pub fn total_calls(&self) -> u32 {
        self.calls.values().sum()
    }

    /// Calls of `action`.
    pub fn count(&self, action: &str) -> u32 {
        self.calls.get(action).copied().unwrap_or(0)
    }

    /// Adds a domain (with its apex NS records, as DNSPod creates them).
    pub fn add_domain(&mut self, name: &str) {
        let id = self.fresh_id();
        let mut d = Domain {
            id,
            name: name.to_owned(),
            records: Vec::new(),
        };
        for ns in ["f1g1ns1.dnspod.net.", "f1g1ns2.dnspod.net."] {
            let rid = self.fresh_id();
            d.records.push(Rec {
                id: rid,
                name: "@".into(),
                rtype: "NS".into(),
                line: LINE.into(),
                value: ns.into(),
                ttl: 86400,
            });
        }
        self.domains.push(d);
    }

    /// Adds a record on the default line; returns its id.
    pub fn add_record(
        &mut self,
        domain: &str,
        name: &str,
        rtype: &str,
        value: &str,
        ttl: u64,
    ) -> u64 {
        let id = self.fresh_id();
        let d = self
            .domains
            .iter_mut()
            .find(|d| d.name == domain)
            .expect("domain exists");
        d.records.push(Rec {
            id,
            name: name.into(),
            rtype: rtype.into(),
            line: LINE.into(),
            value: value.into(),
            ttl,
        });
        id
    }

    /// The records of `domain`, sorted by id.
    pub fn records(&self, domain: &str) -> Vec<Rec> {
        let mut r = self
            .domains
            .iter()
            .find(|d| d.name == domain)
            .map(|d| d.records.clone())
            .unwrap_or_default();
        r.sort_by_key(|r| r.id);
        r
    }

    /// The records of (domain, name, type), sorted by id.
    pub fn rrset(&self, domain: &str, name: &str, rtype: &str) -> Vec<Rec> {
        self.records(domain)
            .into_iter()
            .filter(|r| r.name == name && r.rtype == rtype)
            .collect()
    }

    /// Removes a record by id.
    pub fn remove_record(&mut self, id: u64) {
        for d in &mut self.domains {
            d.records.retain(|r| r.id != id);
        }
    }

    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
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
pub struct DnspodEmu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl DnspodEmu {
    /// Starts an emulator with no key, no token and no domain.
    pub fn start() -> DnspodEmu {
        let state = Arc::new(Mutex::new(State {
            keys: BTreeMap::new(),
            login_tokens: Vec::new(),
            clock_offset: 0,
            domains: Vec::new(),
            calls: BTreeMap::new(),
            faults: VecDeque::new(),
            faulted: Vec::new(),
            refused: Vec::new(),
            page_cap: 0,
            next_id: 1000,
        }));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        DnspodEmu { server, state }
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
}

const RATE_MESSAGE: &str = "Your current request times equals to `21` in a second, which exceeds the frequency limit `20` for a second. Please reduce the frequency of calls.";

fn handle(req: &EmuRequest, state: &Arc<Mutex<State>>) -> Outcome {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let legacy = req.path != "/";
    let action = if legacy {
        req.path.trim_start_matches('/').to_owned()
    } else {
        req.header("X-TC-Action").unwrap_or("").to_owned()
    };
    *st.calls.entry(action.clone()).or_default() += 1;
    let now = st.now();
    let pos = st
        .faults
        .iter()
        .position(|(t, _)| t.hits(&action, is_read(&action)));
    let fault = pos.and_then(|i| st.faults.remove(i)).map(|(_, f)| f);
    if fault.is_some() {
        st.faulted.push(action.clone());
    }
    // Every reply carries the emulator's (possibly shifted) clock in `Date`.
    let reply = |status: u16, content_type: &str, body: &[u8]| {
        EmuReply::new(status, content_type, body).with_header("Date", &httpdate::fmt_http_date(now))
    };
    let json_reply = |v: Value| {
        reply(
            200,
            "application/json",
            &serde_json::to_vec(&v).expect("json"),
        )
    };
    let limited = || {
        if legacy {
            legacy_status("-2", "API usage is limited")
        } else {
            api_error("RequestLimitExceeded", RATE_MESSAGE)
        }
    };
    let r = match &fault {
        Some(Fault::Timeout) => return Outcome::Hang,
        Some(Fault::Status(code)) => reply(
            *code,
            "text/html",
            b"<html><body>upstream error</body></html>",
        ),
        Some(Fault::RateLimit) => json_reply(limited()),
        Some(Fault::TooManyRequests(secs)) => EmuReply {
            status: 429,
            ..json_reply(limited())
        }
        .with_header("Retry-After", &secs.to_string()),
        Some(Fault::Malformed) => reply(
            200,
            "application/json",
            b"<html><head><title>502 Bad Gateway</title></head></html>",
        ),
        Some(Fault::Truncated) => reply(
            200,
            "application/json",
            b"{\"Response\": {\"RecordList\": [tru",
        ),
        Some(Fault::WrongShape) => json_reply(json!({"Result": "ok"})),
        Some(Fault::Code(code)) if legacy => json_reply(legacy_status(code, "injected status")),
        Some(Fault::Code(code)) => json_reply(api_error(code, "injected error")),
        None if req.method != "POST" => reply(405, "text/plain", b"method not allowed"),
        None if legacy => json_reply(legacy_handle(&mut st, &action, &req.body)),
        None => json_reply(api3_handle(&mut st, req, &action, now)),
    };
    Outcome::Reply(r)
}

// ---------------------------------------------------------------------------------------------
// API 3.0

fn api_error(code: &str, message: &str) -> Value {
    json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id()}})
}

fn ok(mut v: Value) -> Value {
    v["RequestId"] = json!(request_id());
    json!({ "Response": v })
}

fn request_id() -> String {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        (n >> 48) as u32,
        n & 0xffff_ffff_ffff
    )
}

/// Verifies the TC3 signature of `req` (§2.4), independently of the crate's signer.
fn verify_tc3(st: &State, req: &EmuRequest, now: SystemTime) -> Result<(), Value> {
    let invalid = || {
        api_error(
            "AuthFailure.InvalidAuthorization",
            "Authorization in the request header is invalid.",
        )
    };
    let auth = req.header("Authorization").ok_or_else(invalid)?;
    let rest = auth.strip_prefix("TC3-HMAC-SHA256 ").ok_or_else(invalid)?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(", ") {
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => return Err(invalid()),
        }
    }
    let (credential, signed_headers, signature) = match (credential, signed_headers, signature) {
        (Some(c), Some(h), Some(s)) => (c, h, s),
        _ => return Err(invalid()),
    };
    let cparts: Vec<&str> = credential.split('/').collect();
    let [secret_id, date, service, "tc3_request"] = cparts[..] else {
        return Err(invalid());
    };
    let Some(secret_key) = st.keys.get(secret_id) else {
        return Err(api_error(
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.",
        ));
    };
    let ts: i64 = req
        .header("X-TC-Timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| {
            api_error(
                "MissingParameter",
                "The request is missing a required parameter `X-TC-Timestamp`.",
            )
        })?;
    let server = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if (server - ts).abs() > 300 {
        return Err(api_error(
            "AuthFailure.SignatureExpire",
            "Request has expired, please check your timestamp and server time cannot differ by more than five minutes.",
        ));
    }
    let failure = || {
        api_error(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        )
    };
    if date != utc_date(ts as u64) || service != "dnspod" {
        return Err(failure());
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    if !names.contains(&"content-type") || !names.contains(&"host") {
        return Err(failure());
    }
    let mut canonical_headers = String::new();
    for n in &names {
        let v = req.header(n).ok_or_else(failure)?;
        canonical_headers.push_str(&format!("{n}:{}\n", v.trim().to_lowercase()));
    }
    let canonical = format!(
        "POST\n/\n\n{canonical_headers}\n{signed_headers}\n{}",
        hex_sha256(&req.body)
    );
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{ts}\n{date}/{service}/tc3_request\n{}",
        hex_sha256(canonical.as_bytes())
    );
    let k = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k = hmac_sha256(&k, service.as_bytes());
    let k = hmac_sha256(&k, b"tc3_request");
    let want = hex(&hmac_sha256(&k, to_sign.as_bytes()));
    if want != signature {
        return Err(failure());
    }
    Ok(())
}

fn utc_date(ts: u64) -> String {
    let (y, m, d, ..) = civil_of(ts as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

fn api3_handle(st: &mut State, req: &EmuRequest, action: &str, now: SystemTime) -> Value {
    if let Err(e) = verify_tc3(st, req, now) {
        return e;
    }
    if req.header("X-TC-Version") != Some("2021-03-23") {
        return api_error("NoSuchVersion", "The requested version does not exist.");
    }
    let Ok(p) = serde_json::from_slice::<Value>(&req.body) else {
        return api_error("InvalidParameter", "The request body is not valid json.");
    };
    let s = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_owned);
    let n = |k: &str| p.get(k).and_then(Value::as_u64);
    let missing = |k: &str| {
        api_error(
            "MissingParameter",
            &format!("The request is missing a required parameter `{k}`."),
        )
    };
    let cap = if st.page_cap == 0 { 3000 } else { st.page_cap };
    match action {
        "DescribeDomainList" => {
            let offset = n("Offset").unwrap_or(0) as usize;
            let limit = n("Limit").unwrap_or(3000).min(cap) as usize;
            let total = st.domains.len();
            if total == 0 {
                return api_error(
                    "ResourceNotFound.NoDataOfDomain",
                    "The domain list is empty.",
                );
            }
            let list: Vec<Value> = st
                .domains
                .iter()
                .skip(offset)
                .take(limit)
                .map(|d| {
                    json!({"DomainId": d.id, "Name": d.name, "Punycode": d.name, "Status": "ENABLE",
                           "TTL": 600, "Grade": "DP_FREE", "RecordCount": d.records.len()})
                })
                .collect();
            ok(
                json!({"DomainCountInfo": {"DomainTotal": total, "AllTotal": total, "MineTotal": total},
                      "DomainList": list}),
            )
        }
        // https://cloud.tencent.com/document/api/1427/56173 (NewFuture's `ddns` starts here).
        "DescribeDomain" => {
            let Some(domain) = s("Domain") else {
                return missing("Domain");
            };
            let Some(d) = st.domains.iter().find(|d| d.name == domain) else {
                return api_error(
                    "InvalidParameterValue.DomainNotExists",
                    "The domain does not exist.",
                );
            };
            ok(
                json!({"DomainInfo": {"DomainId": d.id, "Domain": d.name, "Punycode": d.name,
                      "Status": "ENABLE", "DnsStatus": "", "Grade": "DP_FREE", "TTL": 600,
                      "RecordCount": d.records.len()}}),
            )
        }
        "DescribeRecordList" => {
            let Some(domain) = s("Domain") else {
                return missing("Domain");
            };
            let Some(d) = st.domains.iter().find(|d| d.name == domain) else {
                return api_error(
                    "InvalidParameterValue.DomainNotExists",
                    "The domain does not exist.",
                );
            };
            let limit = n("Limit").unwrap_or(100);
            if limit == 0 || limit > 3000 {
                return api_error("InvalidParameterValue.LimitInvalid", "Limit is invalid.");
            }
            let limit = limit.min(cap) as usize;
            let offset = n("Offset").unwrap_or(0) as usize;
            let sub = s("SubDomain").or_else(|| s("Subdomain"));
            let rtype = s("RecordType");
            let line = s("RecordLine");
            let mut matching: Vec<&Rec> = d
                .records
                .iter()
                .filter(|r| sub.as_ref().is_none_or(|x| &r.name == x))
                .filter(|r| rtype.as_ref().is_none_or(|x| &r.rtype == x))
                .filter(|r| line.as_ref().is_none_or(|x| &r.line == x))
                .collect();
            matching.sort_by_key(|r| r.id);
            let total = matching.len();
            if total == 0 && s("ErrorOnEmpty").as_deref() != Some("no") {
                return api_error("ResourceNotFound.NoDataOfRecord", "记录列表为空。");
            }
            let page: Vec<Value> = matching
                .iter()
                .skip(offset)
                .take(limit)
                .map(|r| {
                    json!({"RecordId": r.id, "Value": r.value, "Status": "ENABLE",
                           "UpdatedOn": "2024-01-02 03:04:05", "Name": r.name, "Line": r.line,
                           "LineId": "0", "Type": r.rtype, "Weight": null, "MonitorStatus": "",
                           "Remark": "", "TTL": r.ttl, "MX": 0, "DefaultNS": r.rtype == "NS"})
                })
                .collect();
            let subs: std::collections::BTreeSet<&str> =
                d.records.iter().map(|r| r.name.as_str()).collect();
            ok(
                json!({"RecordCountInfo": {"SubdomainCount": subs.len(), "ListCount": page.len(),
                      "TotalCount": total}, "RecordList": page}),
            )
        }
        "CreateRecord" | "ModifyRecord" => {
            let modify = action == "ModifyRecord";
            let fields = ["Domain", "RecordType", "RecordLine", "Value"];
            for f in fields {
                if s(f).is_none() {
                    return missing(f);
                }
            }
            let (domain, rtype, line, value) = (
                s("Domain").unwrap_or_default(),
                s("RecordType").unwrap_or_default(),
                s("RecordLine").unwrap_or_default(),
                s("Value").unwrap_or_default(),
            );
            let sub = s("SubDomain").unwrap_or_else(|| "@".into());
            if st.refused.contains(&sub) {
                return api_error("InvalidParameter.SubdomainInvalid", "子域名不正确。");
            }
            let ttl = n("TTL").unwrap_or(600);
            if !(1..=604_800).contains(&ttl) {
                return api_error("InvalidParameter.TTLInvalid", "TTL is invalid.");
            }
            if ttl < MIN_TTL {
                return api_error("LimitExceeded.RecordTtlLimit", "记录的TTL值超出了限制。");
            }
            if line != LINE {
                return api_error("InvalidParameter.RecordLineInvalid", "记录线路有误。");
            }
            let valid = match rtype.as_str() {
                "A" => value.parse::<std::net::Ipv4Addr>().is_ok(),
                "AAAA" => value.parse::<std::net::Ipv6Addr>().is_ok(),
                _ => true,
            };
            if !valid {
                return api_error("InvalidParameter.RecordValueInvalid", "记录值有误。");
            }
            let record_id = if modify {
                match n("RecordId") {
                    Some(id) => Some(id),
                    None => return missing("RecordId"),
                }
            } else {
                None
            };
            let fresh = st.fresh_id();
            // The API documents DomainId as taking precedence over Domain when both are sent.
            let by_id = n("DomainId");
            let Some(d) = st
                .domains
                .iter_mut()
                .find(|d| by_id.map_or(d.name == domain, |id| d.id == id))
            else {
                return api_error(
                    "InvalidParameterValue.DomainNotExists",
                    "The domain does not exist.",
                );
            };
            let dup = d.records.iter().any(|r| {
                Some(r.id) != record_id
                    && r.name == sub
                    && r.rtype == rtype
                    && r.line == line
                    && r.value == value
            });
            if dup {
                return api_error(
                    "InvalidParameter.DomainRecordExist",
                    "记录已经存在，无需再次添加。",
                );
            }
            match record_id {
                Some(id) => {
                    let Some(r) = d.records.iter_mut().find(|r| r.id == id) else {
                        return api_error("InvalidParameter.RecordIdInvalid", "记录编号错误。");
                    };
                    *r = Rec {
                        id,
                        name: sub,
                        rtype,
                        line,
                        value,
                        ttl,
                    };
                    ok(json!({"RecordId": id}))
                }
                None => {
                    d.records.push(Rec {
                        id: fresh,
                        name: sub,
                        rtype,
                        line,
                        value,
                        ttl,
                    });
                    ok(json!({"RecordId": fresh}))
                }
            }
        }
        "DeleteRecord" => {
            let Some(domain) = s("Domain") else {
                return missing("Domain");
            };
            let Some(id) = n("RecordId") else {
                return missing("RecordId");
            };
            let Some(d) = st.domains.iter_mut().find(|d| d.name == domain) else {
                return api_error(
                    "InvalidParameterValue.DomainNotExists",
                    "The domain does not exist.",
                );
            };
            let before = d.records.len();
            d.records.retain(|r| r.id != id);
            if d.records.len() == before {
                return api_error("InvalidParameter.RecordIdInvalid", "记录编号错误。");
            }
            ok(json!({}))
        }
        _ => api_error("InvalidAction", "The requested action does not exist."),
    }
}

// ---------------------------------------------------------------------------------------------
// Legacy token API

fn legacy_status(code: &str, message: &str) -> Value {
    json!({"status": {"code": code, "message": message, "created_at": "2024-01-02 03:04:05"}})
}

fn legacy_ok(mut v: Value) -> Value {
    v["status"] = legacy_status("1", "Action completed successful")["status"].clone();
    v
}

fn legacy_handle(st: &mut State, action: &str, body: &[u8]) -> Value {
    let p: BTreeMap<String, String> = form_decode(body).into_iter().collect();
    let token = p.get("login_token").cloned().unwrap_or_default();
    if !st.login_tokens.contains(&token) {
        return legacy_status("-1", "Login fail, please check login info");
    }
    if p.get("format").map(String::as_str) != Some("json") {
        return legacy_status("3", "this emulator only speaks format=json");
    }
    let g = |k: &str| p.get(k).cloned();
    let num = |k: &str, d: u64| p.get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
    let cap = if st.page_cap == 0 { 3000 } else { st.page_cap };
    match action {
        "Domain.List" => {
            if st.domains.is_empty() {
                return legacy_status("9", "No domains");
            }
            let list: Vec<Value> = st
                .domains
                .iter()
                .skip(num("offset", 0) as usize)
                .take(num("length", 3000).min(cap) as usize)
                .map(|d| {
                    json!({"id": d.id, "name": d.name, "punycode": d.name, "status": "enable",
                                 "ttl": "600", "records": d.records.len().to_string()})
                })
                .collect();
            let total = st.domains.len();
            legacy_ok(
                json!({"info": {"domain_total": total, "all_total": total, "mine_total": total},
                             "domains": list}),
            )
        }
        "Record.List" => {
            let Some(domain) = g("domain") else {
                return legacy_status("-1", "domain or domain_id required");
            };
            let Some(d) = st.domains.iter().find(|d| d.name == domain) else {
                return legacy_status("6", "Domain id invalid");
            };
            let sub = g("sub_domain");
            let rtype = g("record_type");
            let mut matching: Vec<&Rec> = d
                .records
                .iter()
                .filter(|r| sub.as_ref().is_none_or(|x| &r.name == x))
                .filter(|r| rtype.as_ref().is_none_or(|x| &r.rtype == x))
                .collect();
            matching.sort_by_key(|r| r.id);
            if matching.is_empty() && g("error_on_empty").as_deref() != Some("no") {
                return legacy_status("10", "No records");
            }
            let page: Vec<Value> = matching
                .iter()
                .skip(num("offset", 0) as usize)
                .take(num("length", 3000).min(cap) as usize)
                .map(|r| {
                    json!({"id": r.id.to_string(), "name": r.name, "line": r.line,
                                 "line_id": "0", "type": r.rtype, "ttl": r.ttl.to_string(),
                                 "value": r.value, "mx": "0", "enabled": "1", "status": "enabled",
                                 "updated_on": "2024-01-02 03:04:05"})
                })
                .collect();
            legacy_ok(json!({"domain": {"id": d.id.to_string(), "name": d.name},
                             "info": {"sub_domains": d.records.len().to_string(),
                                      "record_total": matching.len().to_string(),
                                      "records_num": page.len().to_string()},
                             "records": page}))
        }
        "Record.Create" | "Record.Modify" => {
            let modify = action == "Record.Modify";
            let (Some(domain), Some(rtype), Some(line), Some(value)) =
                (g("domain"), g("record_type"), g("record_line"), g("value"))
            else {
                return legacy_status("-1", "missing a required parameter");
            };
            let sub = g("sub_domain").unwrap_or_else(|| "@".into());
            if st.refused.contains(&sub) {
                return legacy_status("22", "Subdomain invalid");
            }
            let ttl = num("ttl", 600);
            if ttl < MIN_TTL {
                return legacy_status("-1", "TTL below the plan minimum");
            }
            if line != LINE {
                return legacy_status("-1", "Record line invalid");
            }
            let record_id: Option<u64> = if modify {
                match g("record_id").and_then(|v| v.parse().ok()) {
                    Some(id) => Some(id),
                    None => return legacy_status("8", "Record id invalid"),
                }
            } else {
                None
            };
            let fresh = st.fresh_id();
            let Some(d) = st.domains.iter_mut().find(|d| d.name == domain) else {
                return legacy_status("6", "Domain id invalid");
            };
            if d.records.iter().any(|r| {
                Some(r.id) != record_id && r.name == sub && r.rtype == rtype && r.value == value
            }) {
                return legacy_status("104", "Record already exists");
            }
            match record_id {
                Some(id) => {
                    let Some(r) = d.records.iter_mut().find(|r| r.id == id) else {
                        return legacy_status("8", "Record id invalid");
                    };
                    *r = Rec {
                        id,
                        name: sub.clone(),
                        rtype,
                        line,
                        value: value.clone(),
                        ttl,
                    };
                    legacy_ok(
                        json!({"record": {"id": id, "name": sub, "value": value, "status": "enable"}}),
                    )
                }
                None => {
                    d.records.push(Rec {
                        id: fresh,
                        name: sub.clone(),
                        rtype,
                        line,
                        value,
                        ttl,
                    });
                    legacy_ok(
                        json!({"record": {"id": fresh.to_string(), "name": sub, "status": "enable"}}),
                    )
                }
            }
        }
        "Record.Remove" => {
            let (Some(domain), Some(id)) = (
                g("domain"),
                g("record_id").and_then(|v| v.parse::<u64>().ok()),
            ) else {
                return legacy_status("8", "Record id invalid");
            };
            let Some(d) = st.domains.iter_mut().find(|d| d.name == domain) else {
                return legacy_status("6", "Domain id invalid");
            };
            let before = d.records.len();
            d.records.retain(|r| r.id != id);
            if d.records.len() == before {
                return legacy_status("8", "Record id invalid");
            }
            legacy_ok(json!({}))
        }
        _ => legacy_status("-1", "unknown action"),
    }
}
