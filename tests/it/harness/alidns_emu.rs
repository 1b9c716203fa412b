//! A local emulator of Alibaba Cloud DNS (Alidns API 2015-01-09, RPC style) over one
//! in-memory account: every request's ACS3-HMAC-SHA256 signature is recomputed from what
//! arrived (independently of ddnsd's signer) and a mismatch gets Alibaba's real error body.
//!
//! Implements DescribeDomains, DescribeSubDomainRecords (both paginated with PageNumber /
//! PageSize), AddDomainRecord, UpdateDomainRecord (with `DomainRecordDuplicate` for a no-op
//! update), DeleteDomainRecord; the error envelope `{RequestId, HostId, Code, Message,
//! Recommend}` with Alibaba's HTTP statuses; clock checks (15 minutes) and nonce reuse. Fault
//! injection: an HTTP status, a hang, throttling (with `Retry-After`), malformed, truncated or
//! wrongly shaped bodies, and refusing writes to one name. Counts calls per action, rejected
//! ones included. Behaviour follows `shared/providers/alidns.md` §3–§7.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::emu_http::{
    form_decode, hex, hex_sha256, hmac_sha256, rfc3986, unix_of, EmuReply, EmuRequest, EmuServer,
    Outcome, Target,
};

/// The API version served.
pub const VERSION: &str = "2015-01-09";
/// The free edition's TTL range.
pub const MIN_TTL: u64 = 600;
/// The free edition's TTL range.
pub const MAX_TTL: u64 = 86_400;
/// Allowed difference between a request's `x-acs-date` and the emulator's clock.
pub const SKEW: i64 = 15 * 60;

/// One record row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rec {
    /// RecordId (a numeric string, as Alidns sends it).
    pub id: String,
    /// Host (`@` at the apex).
    pub rr: String,
    /// Type.
    pub rtype: String,
    /// Value.
    pub value: String,
    /// TTL.
    pub ttl: u64,
    /// Line (`default`, `telecom`, …).
    pub line: String,
}

/// One domain of the account.
#[derive(Clone, Debug)]
pub struct Domain {
    /// DomainId.
    pub id: String,
    /// DomainName.
    pub name: String,
    /// Its records.
    pub records: Vec<Rec>,
}

/// A fault served instead of the normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP status with an HTML body (a gateway in the way).
    Status(u16),
    /// Never answer.
    Timeout,
    /// `Throttling.User` (HTTP 400, so only the code says what it is), with `Retry-After`
    /// seconds if given.
    Throttle(Option<u64>),
    /// `200 OK` with a body that is not JSON.
    Malformed,
    /// `200 OK` with the real reply cut in half.
    Truncated,
    /// `200 OK` with JSON of an unexpected shape.
    WrongShape,
}

/// Everything the emulator knows; lock it with [`AlidnsEmu::state`].
#[derive(Debug)]
pub struct State {
    /// AccessKey ID → secret.
    pub keys: BTreeMap<String, String>,
    /// Seconds added to the system clock for the emulator's own time (and `Date`).
    pub clock_offset: i64,
    /// The account's domains.
    pub domains: Vec<Domain>,
    /// Calls per action (`x-acs-action`), rejected ones included.
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order, each to the first request its target hits.
    pub faults: VecDeque<(Target, Fault)>,
    /// The action of every request that got a fault.
    pub faulted: Vec<String>,
    /// Largest page returned, whatever PageSize asks (0 = the documented 100).
    pub page_cap: u64,
    /// Writes to these names (FQDN) are refused with the given code.
    pub refused: BTreeMap<String, String>,
    /// Signature nonces seen.
    pub nonces: HashSet<String>,
    /// Signature failures seen (for tests that want to be sure none happened).
    pub signature_failures: u32,
    /// The parameters of the last accepted call of each action.
    pub last_params: BTreeMap<String, BTreeMap<String, String>>,
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

    /// AddDomainRecord + UpdateDomainRecord + DeleteDomainRecord calls.
    pub fn writes(&self) -> u32 {
        self.count("AddDomainRecord")
            + self.count("UpdateDomainRecord")
            + self.count("DeleteDomainRecord")
    }

    /// Adds a domain, with the apex NS rows Alidns shows for it.
    pub fn add_domain(&mut self, name: &str) {
        let id = self.fresh_id();
        self.domains.push(Domain {
            id,
            name: name.to_owned(),
            records: Vec::new(),
        });
        for ns in ["dns1.hichina.com", "dns2.hichina.com"] {
            self.add_record(name, "@", "NS", ns, 86_400);
        }
    }

    /// Adds a record on the default line; returns its id.
    pub fn add_record(
        &mut self,
        domain: &str,
        rr: &str,
        rtype: &str,
        value: &str,
        ttl: u64,
    ) -> String {
        self.add_record_on(domain, rr, rtype, value, ttl, "default")
    }

    /// Adds a record on `line`; returns its id.
    pub fn add_record_on(
        &mut self,
        domain: &str,
        rr: &str,
        rtype: &str,
        value: &str,
        ttl: u64,
        line: &str,
    ) -> String {
        let id = self.fresh_id();
        let d = self
            .domains
            .iter_mut()
            .find(|d| d.name == domain)
            .expect("domain exists");
        d.records.push(Rec {
            id: id.clone(),
            rr: rr.into(),
            rtype: rtype.into(),
            value: value.into(),
            ttl,
            line: line.into(),
        });
        id
    }

    /// Every record of `domain`, by id.
    pub fn records(&self, domain: &str) -> Vec<Rec> {
        let mut r = self
            .domains
            .iter()
            .find(|d| d.name == domain)
            .map(|d| d.records.clone())
            .unwrap_or_default();
        r.sort_by_key(|r| r.id.parse::<u64>().unwrap_or(0));
        r
    }

    /// The default-line rows of (domain, rr, type), by id.
    pub fn rrset(&self, domain: &str, rr: &str, rtype: &str) -> Vec<Rec> {
        self.records(domain)
            .into_iter()
            .filter(|r| r.rr == rr && r.rtype == rtype && r.line == "default")
            .collect()
    }

    /// The sorted values of (domain, rr, type) on the default line.
    pub fn values(&self, domain: &str, rr: &str, rtype: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .rrset(domain, rr, rtype)
            .into_iter()
            .map(|r| r.value)
            .collect();
        v.sort();
        v
    }

    /// Removes a record by id.
    pub fn remove_record(&mut self, id: &str) {
        for d in &mut self.domains {
            d.records.retain(|r| r.id != id);
        }
    }

    /// Sets a record's value behind the client's back.
    pub fn set_value(&mut self, id: &str, value: &str) {
        for d in &mut self.domains {
            for r in &mut d.records {
                if r.id == id {
                    r.value = value.into();
                }
            }
        }
    }

    fn fresh_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
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
pub struct AlidnsEmu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl AlidnsEmu {
    /// Starts an emulator with no key and no domain.
    pub fn start() -> AlidnsEmu {
        let state = Arc::new(Mutex::new(State {
            keys: BTreeMap::new(),
            clock_offset: 0,
            domains: Vec::new(),
            calls: BTreeMap::new(),
            faults: VecDeque::new(),
            faulted: Vec::new(),
            page_cap: 0,
            refused: BTreeMap::new(),
            nonces: HashSet::new(),
            signature_failures: 0,
            last_params: BTreeMap::new(),
            next_id: 9_999_000,
        }));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        AlidnsEmu { server, state }
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

    /// Refuses every write to `fqdn` with `code` (`Forbidden.RAM`, `DomainRecordConflict`).
    pub fn refuse(&self, fqdn: &str, code: &str) {
        self.state()
            .refused
            .insert(fqdn.to_owned(), code.to_owned());
    }
}

// ---------------------------------------------------------------------------------------------

fn request_id() -> String {
    let r: u128 = rand::random();
    let h = format!("{r:032X}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Alibaba's error envelope (statuses and messages as real replies quote them).
fn error(status: u16, code: &str, message: &str) -> (u16, Value) {
    let id = request_id();
    (
        status,
        json!({
            "RequestId": id,
            "HostId": "alidns.aliyuncs.com",
            "Code": code,
            "Message": message,
            "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}&product=Alidns&requestId={id}"),
        }),
    )
}

/// The status and message Alidns gives a code (for refusals chosen by tests).
fn known_error(code: &str) -> (u16, Value) {
    match code {
        "Forbidden.RAM" => error(
            400,
            code,
            "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
        ),
        "DomainRecordConflict" => error(400, code, "The DNS record conflicts with other records."),
        "InternalError" => error(500, code, "The request processing has failed due to some unknown error."),
        other => error(400, other, "The request was refused."),
    }
}

fn handle(req: &EmuRequest, state: &Arc<Mutex<State>>) -> Outcome {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let action = req.header("x-acs-action").unwrap_or("").to_owned();
    *st.calls.entry(action.clone()).or_default() += 1;
    let now = st.now();
    let read = is_read(&action);
    let pos = st.faults.iter().position(|(t, _)| t.hits(&action, read));
    let fault = pos.and_then(|i| st.faults.remove(i)).map(|(_, f)| f);
    if fault.is_some() {
        st.faulted.push(action.clone());
    }
    let mut headers = vec![
        ("Date".to_owned(), httpdate::fmt_http_date(now)),
        (
            "Content-Type".to_owned(),
            "application/json;charset=utf-8".to_owned(),
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
        Some(Fault::Throttle(retry_after)) => {
            if let Some(s) = retry_after {
                headers.push(("Retry-After".into(), s.to_string()));
            }
            let (status, body) = error(
                400,
                "Throttling.User",
                "Request was denied due to user flow control.",
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
        Some(Fault::WrongShape) => {
            return reply(
                200,
                headers,
                &json!({"RequestId": request_id(), "Data": []}),
            );
        }
        Some(Fault::Truncated) | None => {}
    }
    let (status, body) = match verify(&mut st, req, now) {
        Err(e) => e,
        Ok(params) => {
            st.last_params.insert(action.clone(), params.clone());
            api(&mut st, &action, &params)
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

/// True for the actions that only read.
pub fn is_read(action: &str) -> bool {
    action.starts_with("Describe")
}

fn reply(status: u16, mut headers: Vec<(String, String)>, body: &Value) -> Outcome {
    if let Some(id) = body.get("RequestId").and_then(Value::as_str) {
        headers.push(("x-acs-request-id".into(), id.to_owned()));
    }
    Outcome::Reply(EmuReply {
        status,
        headers,
        body: serde_json::to_vec(body).expect("json"),
    })
}

/// Checks the ACS3-HMAC-SHA256 signature; returns the request's parameters.
fn verify(
    st: &mut State,
    req: &EmuRequest,
    now: SystemTime,
) -> Result<BTreeMap<String, String>, (u16, Value)> {
    let incomplete = || {
        error(
            400,
            "IncompleteSignature",
            "The request signature does not conform to Aliyun standards.",
        )
    };
    let auth = req.header("authorization").ok_or_else(incomplete)?;
    let rest = auth
        .strip_prefix("ACS3-HMAC-SHA256 ")
        .ok_or_else(incomplete)?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => return Err(incomplete()),
        }
    }
    let (Some(key_id), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(incomplete());
    };
    if req.header("x-acs-version") != Some(VERSION) {
        return Err(error(
            400,
            "InvalidVersion",
            "Specified parameter Version is not valid.",
        ));
    }
    let Some(secret) = st.keys.get(key_id).cloned() else {
        return Err(error(
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        ));
    };
    let date = req.header("x-acs-date").unwrap_or("");
    let Some(t) = parse_date(date) else {
        return Err(error(
            400,
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        ));
    };
    let server = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if (server - t).abs() > SKEW {
        return Err(error(
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ));
    }
    // Every header that must be signed is signed.
    let names: Vec<&str> = signed_headers.split(';').collect();
    let mut sorted = names.clone();
    sorted.sort();
    let required: std::collections::BTreeSet<String> = req
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .filter(|n| n.starts_with("x-acs-") || n == "host" || n == "content-type")
        .collect();
    if sorted != names || required.iter().any(|r| !names.contains(&r.as_str())) {
        return Err(incomplete());
    }
    let mut failure = |sts: &str| {
        st.signature_failures += 1;
        error(
            400,
            "SignatureDoesNotMatch",
            &format!("Specified signature is not matched with our calculation. server string to sign is:{sts}"),
        )
    };
    let body_hash = hex_sha256(&req.body);
    if req.header("x-acs-content-sha256") != Some(body_hash.as_str()) {
        return Err(failure(""));
    }
    // The parameters: the query, plus a form body.
    let mut query = req.query();
    let form = req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let mut params: BTreeMap<String, String> = query.iter().cloned().collect();
    if form {
        params.extend(form_decode(&req.body));
    }
    query.iter_mut().for_each(|(k, v)| {
        *k = rfc3986(k);
        *v = rfc3986(v);
    });
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut canonical_headers = String::new();
    for n in &names {
        let mut values: Vec<&str> = req.headers_named(n).into_iter().map(str::trim).collect();
        if values.is_empty() {
            return Err(incomplete());
        }
        values.sort();
        canonical_headers.push_str(&format!("{n}:{}\n", values.join(",")));
    }
    let canonical = format!(
        "{}\n{}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{body_hash}",
        req.method, req.path
    );
    let sts = format!("ACS3-HMAC-SHA256\n{}", hex_sha256(canonical.as_bytes()));
    if hex(&hmac_sha256(secret.as_bytes(), sts.as_bytes())) != signature {
        return Err(failure(&sts));
    }
    let nonce = req.header("x-acs-signature-nonce").unwrap_or("").to_owned();
    if nonce.is_empty() {
        return Err(error(
            400,
            "MissingParameter",
            "SignatureNonce is mandatory for this action.",
        ));
    }
    if !st.nonces.insert(nonce) {
        return Err(error(
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ));
    }
    Ok(params)
}

/// `2023-10-26T10:22:32Z` → Unix seconds.
fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
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

fn valid_value(rtype: &str, value: &str) -> bool {
    match rtype {
        "A" => value.parse::<std::net::Ipv4Addr>().is_ok(),
        "AAAA" => value.parse::<std::net::Ipv6Addr>().is_ok(),
        _ => !value.is_empty(),
    }
}

fn record_json(domain: &str, r: &Rec) -> Value {
    json!({"DomainName": domain, "RecordId": r.id, "RR": r.rr, "Type": r.rtype,
           "Value": r.value, "TTL": r.ttl, "Line": r.line, "Status": "ENABLE",
           "Locked": false, "Weight": 1, "Remark": ""})
}

fn api(st: &mut State, action: &str, p: &BTreeMap<String, String>) -> (u16, Value) {
    let get = |k: &str| p.get(k).filter(|v| !v.is_empty()).cloned();
    let missing = |k: &str| {
        error(
            400,
            "MissingParameter",
            &format!("{k} is mandatory for this action."),
        )
    };
    let page = |st: &State| -> Result<(usize, usize), (u16, Value)> {
        let number = get("PageNumber")
            .map_or(Ok(1), |v| v.parse::<u64>())
            .unwrap_or(0);
        let size = get("PageSize")
            .map_or(Ok(20), |v| v.parse::<u64>())
            .unwrap_or(0);
        if number == 0 || size == 0 || size > 100 {
            return Err(error(
                400,
                "InvalidParameter",
                "Specified parameter PageSize or PageNumber is not valid.",
            ));
        }
        let cap = if st.page_cap == 0 { 100 } else { st.page_cap };
        Ok((number as usize, size.min(cap) as usize))
    };
    match action {
        "DescribeDomains" => {
            let (number, size) = match page(st) {
                Ok(x) => x,
                Err(e) => return e,
            };
            let total = st.domains.len();
            let list: Vec<Value> = st
                .domains
                .iter()
                .skip((number - 1) * size)
                .take(size)
                .map(|d| {
                    json!({"DomainId": d.id, "DomainName": d.name, "PunyCode": d.name,
                           "RecordCount": d.records.len(), "AliDomain": false,
                           "VersionCode": "mianfei", "VersionName": "Alibaba Cloud DNS",
                           "DnsServers": {"DnsServer": ["dns1.hichina.com", "dns2.hichina.com"]}})
                })
                .collect();
            (
                200,
                json!({"RequestId": request_id(), "TotalCount": total, "PageNumber": number,
                         "PageSize": size, "Domains": {"Domain": list}}),
            )
        }
        "DescribeSubDomainRecords" => {
            let Some(sub) = get("SubDomain") else {
                return missing("SubDomain");
            };
            let sub = sub.to_ascii_lowercase();
            let domain = match get("DomainName") {
                Some(d) => st.domains.iter().find(|x| x.name == d),
                None => st
                    .domains
                    .iter()
                    .filter(|x| sub == x.name || sub.ends_with(&format!(".{}", x.name)))
                    .max_by_key(|x| x.name.len()),
            };
            let Some(d) = domain else {
                return error(
                    400,
                    "InvalidDomainName.NoExist",
                    "The specified domain name does not exist. Refresh the page and try again.",
                );
            };
            let rr = if sub == d.name {
                "@".to_owned()
            } else if let Some(h) = sub.strip_suffix(&format!(".{}", d.name)) {
                h.to_owned()
            } else {
                return error(
                    400,
                    "SubDomainInvalid.Value",
                    "The specified subdomain is invalid.",
                );
            };
            let (number, size) = match page(st) {
                Ok(x) => x,
                Err(e) => return e,
            };
            let rtype = get("Type").map(|t| t.to_ascii_uppercase());
            let line = get("Line");
            let mut matching: Vec<&Rec> = d
                .records
                .iter()
                .filter(|r| r.rr == rr)
                .filter(|r| rtype.as_ref().is_none_or(|t| &r.rtype == t))
                .filter(|r| line.as_ref().is_none_or(|l| &r.line == l))
                .collect();
            matching.sort_by_key(|r| r.id.parse::<u64>().unwrap_or(0));
            let list: Vec<Value> = matching
                .iter()
                .skip((number - 1) * size)
                .take(size)
                .map(|r| record_json(&d.name, r))
                .collect();
            (
                200,
                json!({"RequestId": request_id(), "TotalCount": matching.len(),
                         "PageNumber": number, "PageSize": size,
                         "DomainRecords": {"Record": list}}),
            )
        }
        "AddDomainRecord" | "UpdateDomainRecord" => {
            let update = action == "UpdateDomainRecord";
            for k in ["RR", "Type", "Value"] {
                if get(k).is_none() {
                    return missing(k);
                }
            }
            let rr = get("RR").unwrap_or_default().to_ascii_lowercase();
            let rtype = get("Type").unwrap_or_default().to_ascii_uppercase();
            let value = get("Value").unwrap_or_default();
            let line = get("Line").unwrap_or_else(|| "default".into());
            let Ok(ttl) = get("TTL").map_or(Ok(600), |v| v.parse::<u64>()) else {
                return error(
                    400,
                    "InvalidParameter",
                    "Specified parameter TTL is not valid.",
                );
            };
            if !(MIN_TTL..=MAX_TTL).contains(&ttl) {
                return error(
                    400,
                    "QuotaExceeded.TTL",
                    "The specified TTL is invalid. A valid TTL must be in the range of 600 to 86400.",
                );
            }
            if !valid_value(&rtype, &value) {
                return error(
                    400,
                    "InvalidParameter",
                    "The specified parameter Value is not valid.",
                );
            }
            // Which domain, and which existing row (update).
            let (domain, record_id) = if update {
                let Some(id) = get("RecordId") else {
                    return missing("RecordId");
                };
                let Some(d) = st
                    .domains
                    .iter()
                    .find(|d| d.records.iter().any(|r| r.id == id))
                else {
                    return error(
                        400,
                        "DomainRecordNotBelongToUser",
                        "The DNS record does not exist in your account.",
                    );
                };
                // A refused name cannot be written to, nor moved away from.
                let old = d.records.iter().find(|r| r.id == id).expect("found");
                let old_fqdn = fqdn(&old.rr, &d.name);
                if let Some(code) = st.refused.get(&old_fqdn) {
                    return known_error(code);
                }
                (d.name.clone(), Some(id))
            } else {
                let Some(name) = get("DomainName") else {
                    return missing("DomainName");
                };
                if !st.domains.iter().any(|d| d.name == name) {
                    return error(
                        400,
                        "InvalidDomainName.NoExist",
                        "The specified domain name does not exist. Refresh the page and try again.",
                    );
                }
                (name, None)
            };
            if let Some(code) = st.refused.get(&fqdn(&rr, &domain)) {
                return known_error(code);
            }
            let fresh = st.fresh_id();
            let d = st
                .domains
                .iter_mut()
                .find(|d| d.name == domain)
                .expect("exists");
            let same =
                |r: &Rec| r.rr == rr && r.rtype == rtype && r.value == value && r.line == line;
            // An exact duplicate of another row, or an update that changes nothing.
            let dup = d
                .records
                .iter()
                .any(|r| same(r) && (Some(&r.id) != record_id.as_ref() || r.ttl == ttl));
            if dup {
                return error(
                    400,
                    "DomainRecordDuplicate",
                    "The DNS record already exists.",
                );
            }
            let new = |id: String| Rec {
                id,
                rr: rr.clone(),
                rtype: rtype.clone(),
                value: value.clone(),
                ttl,
                line: line.clone(),
            };
            match record_id {
                Some(id) => {
                    let r = d.records.iter_mut().find(|r| r.id == id).expect("found");
                    *r = new(id.clone());
                    (200, json!({"RequestId": request_id(), "RecordId": id}))
                }
                None => {
                    d.records.push(new(fresh.clone()));
                    (200, json!({"RequestId": request_id(), "RecordId": fresh}))
                }
            }
        }
        "DeleteDomainRecord" => {
            let Some(id) = get("RecordId") else {
                return missing("RecordId");
            };
            let Some(d) = st
                .domains
                .iter()
                .find(|d| d.records.iter().any(|r| r.id == id))
            else {
                return error(
                    400,
                    "DomainRecordNotBelongToUser",
                    "The DNS record does not exist in your account.",
                );
            };
            let r = d.records.iter().find(|r| r.id == id).expect("found");
            if let Some(code) = st.refused.get(&fqdn(&r.rr, &d.name)) {
                return known_error(code);
            }
            for d in &mut st.domains {
                d.records.retain(|r| r.id != id);
            }
            (200, json!({"RequestId": request_id(), "RecordId": id}))
        }
        _ => error(
            404,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        ),
    }
}

fn fqdn(rr: &str, domain: &str) -> String {
    if rr == "@" {
        domain.to_owned()
    } else {
        format!("{rr}.{domain}")
    }
}
