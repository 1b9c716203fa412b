//! A local emulator of the Cloudflare API v4 (zones and DNS records) under `/client/v4`.
//!
//! Behaviour follows `shared/providers/cloudflare.md`: every request needs `Authorization:
//! Bearer <known token>` (a wrong token gets 403 with code 10000 "Authentication error", a
//! missing or malformed header 400 with 6003/6111, as Cloudflare sends them); every reply is
//! the v4 envelope; lists paginate with `page`/`per_page` and `result_info`; POST/PATCH/PUT/
//! DELETE follow Cloudflare's semantics (PATCH changes only what it names, PUT replaces, a
//! proxied record's TTL is automatic); the batch endpoint runs deletes → patches → puts →
//! posts in one all-or-nothing transaction. Faults can be injected (5xx, timeouts, 429 with
//! `Retry-After`, malformed and truncated bodies), one record name can be refused, and calls
//! are counted per action.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Map, Value};

pub use super::emu_http::Target;
use super::emu_http::{EmuReply, EmuRequest, EmuServer, Outcome};

/// One zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// 32 hex digits.
    pub id: String,
    /// The zone's name.
    pub name: String,
    /// `active`, `pending`, …
    pub status: String,
}

/// One DNS record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rec {
    /// 32 hex digits.
    pub id: String,
    /// The zone's id.
    pub zone_id: String,
    /// Fully qualified, lower-case, no trailing dot.
    pub name: String,
    /// `A`, `AAAA`, `TXT`, …
    pub rtype: String,
    /// The value.
    pub content: String,
    /// TTL (1 = automatic).
    pub ttl: u64,
    /// Orange cloud.
    pub proxied: bool,
    /// Free text.
    pub comment: Option<String>,
}

/// A fault served instead of the normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP status with an HTML body (as Cloudflare's edge sends for 5xx).
    Status(u16),
    /// Never answer.
    Timeout,
    /// 429 with `Retry-After: N` and the envelope with code 971.
    RateLimit(u64),
    /// 200 with a body that is not JSON.
    Malformed,
    /// 200 with the real reply cut in half.
    Truncated,
}

/// Everything the emulator knows; lock it with [`CloudflareEmu::state`].
#[derive(Debug, Default)]
pub struct State {
    /// Accepted API tokens.
    pub tokens: Vec<String>,
    /// The zones.
    pub zones: Vec<Zone>,
    /// The records of every zone.
    pub records: Vec<Rec>,
    /// Calls per action (`ListZones`, `ListDnsRecords`, `CreateDnsRecord`, `PatchDnsRecord`,
    /// `PutDnsRecord`, `DeleteDnsRecord`, `BatchDnsRecords`, `VerifyToken`), refused ones
    /// included.
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order, each to the first request its target matches.
    pub faults: VecDeque<(Target, Fault)>,
    /// The action of every request that got a fault, in order.
    pub faulted: Vec<String>,
    /// Names whose writes are refused with a validation error (code 1004).
    pub refused: Vec<String>,
    /// Largest page served, whatever `per_page` asks (0 = Cloudflare's maximum).
    pub page_cap: u64,
    /// The `Authorization` header values seen (to check that nothing else was sent).
    pub auth_seen: Vec<String>,
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

    /// Calls that write (create, patch, put, delete, batch).
    pub fn writes(&self) -> u32 {
        [
            "CreateDnsRecord",
            "PatchDnsRecord",
            "PutDnsRecord",
            "DeleteDnsRecord",
            "BatchDnsRecords",
        ]
        .iter()
        .map(|a| self.count(a))
        .sum()
    }

    /// Adds an active zone; returns its id.
    pub fn add_zone(&mut self, name: &str) -> String {
        let id = self.fresh_id();
        self.zones.push(Zone {
            id: id.clone(),
            name: name.to_owned(),
            status: "active".into(),
        });
        id
    }

    /// The id of the zone named `name`.
    pub fn zone_id(&self, name: &str) -> String {
        self.zones
            .iter()
            .find(|z| z.name == name)
            .map(|z| z.id.clone())
            .expect("zone exists")
    }

    /// Adds a record (to the zone named `zone`); returns its id. (Every field of a record is
    /// an argument: the tests seed proxied and commented records.)
    #[allow(clippy::too_many_arguments)]
    pub fn add_record(
        &mut self,
        zone: &str,
        name: &str,
        rtype: &str,
        content: &str,
        ttl: u64,
        proxied: bool,
        comment: Option<&str>,
    ) -> String {
        let id = self.fresh_id();
        let zone_id = self.zone_id(zone);
        self.records.push(Rec {
            id: id.clone(),
            zone_id,
            name: name.to_owned(),
            rtype: rtype.to_owned(),
            content: content.to_owned(),
            ttl: if proxied { 1 } else { ttl },
            proxied,
            comment: comment.map(str::to_owned),
        });
        id
    }

    /// The records of (name, type), sorted by id.
    pub fn rrset(&self, name: &str, rtype: &str) -> Vec<Rec> {
        let mut v: Vec<Rec> = self
            .records
            .iter()
            .filter(|r| r.name == name && r.rtype == rtype)
            .cloned()
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// The sorted contents of (name, type).
    pub fn values(&self, name: &str, rtype: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .rrset(name, rtype)
            .into_iter()
            .map(|r| r.content)
            .collect();
        v.sort();
        v
    }

    /// Every record other than those of (name, type), sorted by id.
    pub fn others(&self, name: &str, rtype: &str) -> Vec<Rec> {
        let mut v: Vec<Rec> = self
            .records
            .iter()
            .filter(|r| !(r.name == name && r.rtype == rtype))
            .cloned()
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    fn fresh_id(&mut self) -> String {
        self.next_id += 1;
        // 32 hex digits like Cloudflare's, unique and increasing.
        format!("{:016x}{:016x}", 0x023e_105f_4ece_f8ad_u64, self.next_id)
    }
}

/// A running emulator; stops on drop.
pub struct CloudflareEmu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl CloudflareEmu {
    /// Starts an emulator with no token, zone or record.
    pub fn start() -> CloudflareEmu {
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        CloudflareEmu { server, state }
    }

    /// `http://127.0.0.1:PORT/client/v4`, the value for `endpoint`.
    pub fn endpoint(&self) -> String {
        format!("http://{}/client/v4", self.server.addr())
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

    /// Queues a fault for the next request `target` matches.
    pub fn inject_on(&self, target: Target, fault: Fault) {
        self.state().faults.push_back((target, fault));
    }
}

// ---------------------------------------------------------------------------------------------

fn envelope_ok(result: Value, info: Option<Value>) -> Value {
    let mut v = json!({"success": true, "errors": [], "messages": [], "result": result});
    if let Some(i) = info {
        v["result_info"] = i;
    }
    v
}

fn envelope_err(code: i64, message: &str, chain: Option<(i64, &str)>) -> Value {
    let mut e = json!({"code": code, "message": message});
    if let Some((c, m)) = chain {
        e["error_chain"] = json!([{"code": c, "message": m}]);
    }
    json!({"success": false, "errors": [e], "messages": [], "result": null})
}

fn json_reply(status: u16, v: &Value) -> EmuReply {
    EmuReply::new(
        status,
        "application/json",
        serde_json::to_vec(v).expect("json"),
    )
}

fn err(status: u16, code: i64, message: &str) -> EmuReply {
    json_reply(status, &envelope_err(code, message, None))
}

/// Which action a request is (for counting and faults).
fn action_of(method: &str, segs: &[&str]) -> &'static str {
    match (method, segs) {
        ("GET", ["user", "tokens", "verify"]) => "VerifyToken",
        ("GET", ["zones"]) => "ListZones",
        ("GET", ["zones", _]) => "GetZone",
        ("GET", ["zones", _, "dns_records"]) => "ListDnsRecords",
        ("GET", ["zones", _, "dns_records", _]) => "GetDnsRecord",
        ("POST", ["zones", _, "dns_records"]) => "CreateDnsRecord",
        ("POST", ["zones", _, "dns_records", "batch"]) => "BatchDnsRecords",
        ("PATCH", ["zones", _, "dns_records", _]) => "PatchDnsRecord",
        ("PUT", ["zones", _, "dns_records", _]) => "PutDnsRecord",
        ("DELETE", ["zones", _, "dns_records", _]) => "DeleteDnsRecord",
        _ => "Unknown",
    }
}

fn handle(req: &EmuRequest, state: &Arc<Mutex<State>>) -> Outcome {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let path = req.path.clone();
    let Some(rest) = path.strip_prefix("/client/v4/") else {
        return Outcome::Reply(err(404, 7000, "No route for that URI"));
    };
    let segs: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let action = action_of(&req.method, &segs);
    *st.calls.entry(action.to_owned()).or_default() += 1;
    if let Some(v) = req.header("authorization") {
        st.auth_seen.push(v.to_owned());
    }

    let write = req.method != "GET";
    let pos = st.faults.iter().position(|(t, _)| t.hits(action, !write));
    let fault = pos.and_then(|i| st.faults.remove(i)).map(|(_, f)| f);
    if fault.is_some() {
        st.faulted.push(action.to_owned());
    }
    match &fault {
        Some(Fault::Status(code)) => {
            return Outcome::Reply(EmuReply::new(
                *code,
                "text/html",
                format!("<html><head><title>{code}</title></head><body>cloudflare</body></html>"),
            ))
        }
        Some(Fault::Timeout) => return Outcome::Hang,
        Some(Fault::RateLimit(secs)) => {
            return Outcome::Reply(
                json_reply(
                    429,
                    &envelope_err(
                        971,
                        "Please wait and consider throttling your request speed",
                        None,
                    ),
                )
                .with_header("Retry-After", &secs.to_string()),
            )
        }
        Some(Fault::Malformed) => {
            return Outcome::Reply(EmuReply::new(
                200,
                "application/json",
                "<html>upstream sent garbage</html>",
            ))
        }
        _ => {}
    }

    // Authentication: a Bearer token Cloudflare knows.
    let reply = match req.header("authorization") {
        None => err(400, 6003, "Invalid request headers"),
        Some(h) => match h.strip_prefix("Bearer ") {
            None => json_reply(
                400,
                &envelope_err(
                    6003,
                    "Invalid request headers",
                    Some((6111, "Invalid format for Authorization header")),
                ),
            ),
            Some(t) if !st.tokens.iter().any(|k| k == t) => {
                if action == "VerifyToken" {
                    err(401, 1000, "Invalid API Token")
                } else {
                    err(403, 10000, "Authentication error")
                }
            }
            Some(_) => route(&mut st, req, action, &segs),
        },
    };
    if fault == Some(Fault::Truncated) {
        let half = reply.body.len() / 2;
        return Outcome::Reply(EmuReply {
            status: 200,
            headers: reply.headers,
            body: reply.body[..half].to_vec(),
        });
    }
    Outcome::Reply(reply)
}

fn route(st: &mut State, req: &EmuRequest, action: &str, segs: &[&str]) -> EmuReply {
    let body: Option<Value> = if req.body.is_empty() {
        None
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => Some(v),
            Err(_) => return err(400, 9207, "EmuRequest body is invalid."),
        }
    };
    if !req.body.is_empty() && req.header("content-type") != Some("application/json") {
        return err(
            415,
            6004,
            "Invalid Content-Type header, valid values are application/json",
        );
    }
    let zone_of = |st: &State, id: &str| st.zones.iter().find(|z| z.id == id).cloned();
    match action {
        "VerifyToken" => json_reply(
            200,
            &envelope_ok(
                json!({"id": "ed17574386854bf78a67040be0a770b0", "status": "active"}),
                None,
            ),
        ),
        "ListZones" => {
            let name = req.param("name");
            let status = req.param("status");
            let zones: Vec<&Zone> = st
                .zones
                .iter()
                .filter(|z| name.as_ref().is_none_or(|n| z.name.eq_ignore_ascii_case(n)))
                .filter(|z| status.as_ref().is_none_or(|s| &z.status == s))
                .collect();
            let items: Vec<Value> = zones
                .iter()
                .map(|z| {
                    json!({"id": z.id, "name": z.name, "status": z.status, "paused": false,
                           "type": "full", "account": {"id": "01a7362d577a6c3019a474fd6f485823",
                           "name": "Demo Account"}, "name_servers": ["bob.ns.cloudflare.com", "lola.ns.cloudflare.com"]})
                })
                .collect();
            page(st, req, items, 50)
        }
        "ListDnsRecords" => {
            if zone_of(st, segs[1]).is_none() {
                return could_not_route(req);
            }
            let rtype = req.param("type");
            let name = req.param("name.exact").or_else(|| req.param("name"));
            let mut recs: Vec<&Rec> = st
                .records
                .iter()
                .filter(|r| r.zone_id == segs[1])
                .filter(|r| rtype.as_ref().is_none_or(|t| &r.rtype == t))
                .filter(|r| name.as_ref().is_none_or(|n| r.name.eq_ignore_ascii_case(n)))
                .collect();
            recs.sort_by(|a, b| (&a.rtype, &a.name, &a.id).cmp(&(&b.rtype, &b.name, &b.id)));
            let zone = zone_of(st, segs[1]).map(|z| z.name).unwrap_or_default();
            let items = recs.iter().map(|r| record_json(r, &zone)).collect();
            page(st, req, items, 5000)
        }
        "CreateDnsRecord" | "PatchDnsRecord" | "PutDnsRecord" | "DeleteDnsRecord"
        | "BatchDnsRecords" => {
            let Some(zone) = zone_of(st, segs[1]) else {
                return could_not_route(req);
            };
            // All writes run on a copy that replaces the records only if everything worked.
            let mut records = st.records.clone();
            let mut next_id = st.next_id;
            let mut tx = Tx {
                records: &mut records,
                next_id: &mut next_id,
                zone: &zone,
                refused: &st.refused,
            };
            let result = match action {
                "CreateDnsRecord" => tx.post(body.as_ref()),
                "PatchDnsRecord" => tx.patch(segs[3], body.as_ref()),
                "PutDnsRecord" => tx.put(segs[3], body.as_ref()),
                "DeleteDnsRecord" => tx.delete(segs[3]).map(|r| json!({"id": r["id"]})),
                _ => tx.batch(body.as_ref()),
            };
            match result {
                Ok(v) => {
                    st.records = records;
                    st.next_id = next_id;
                    json_reply(200, &envelope_ok(v, None))
                }
                Err(reply) => reply,
            }
        }
        _ => err(400, 7000, "No route for that URI"),
    }
}

fn could_not_route(req: &EmuRequest) -> EmuReply {
    json_reply(
        400,
        &envelope_err(
            7003,
            &format!(
                "Could not route to {}, perhaps your object identifier is invalid?",
                req.path.trim_start_matches("/client/v4")
            ),
            None,
        ),
    )
}

fn page(st: &State, req: &EmuRequest, items: Vec<Value>, max: u64) -> EmuReply {
    let per_page: u64 = req
        .param("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(if max == 50 { 20 } else { 100 });
    let cap = if st.page_cap == 0 { max } else { st.page_cap };
    let per_page = per_page.clamp(1, cap);
    let page: u64 = req
        .param("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len() as u64;
    let slice: Vec<Value> = items
        .into_iter()
        .skip(((page - 1) * per_page) as usize)
        .take(per_page as usize)
        .collect();
    let info = json!({"page": page, "per_page": per_page, "count": slice.len(),
                      "total_count": total, "total_pages": total.div_ceil(per_page).max(1)});
    json_reply(200, &envelope_ok(Value::Array(slice), Some(info)))
}

fn record_json(r: &Rec, zone: &str) -> Value {
    json!({"id": r.id, "zone_id": r.zone_id, "zone_name": zone, "name": r.name,
           "type": r.rtype, "content": r.content, "proxiable": true, "proxied": r.proxied,
           "ttl": r.ttl, "settings": {}, "meta": {}, "comment": r.comment, "tags": [],
           "created_on": "2024-01-01T05:20:00.12345Z", "modified_on": "2024-01-01T05:20:00.12345Z"})
}

/// Writes inside one transaction.
struct Tx<'a> {
    records: &'a mut Vec<Rec>,
    next_id: &'a mut u64,
    zone: &'a Zone,
    refused: &'a [String],
}

fn validation(msg: &str) -> EmuReply {
    json_reply(
        400,
        &envelope_err(1004, "DNS Validation Error", Some((9005, msg))),
    )
}

impl Tx<'_> {
    fn check(&self, r: &Rec, except: Option<&str>) -> Result<(), EmuReply> {
        if self.refused.contains(&r.name) {
            return Err(validation(&format!(
                "{} is refused by the emulator",
                r.name
            )));
        }
        let inside = r.name == self.zone.name || r.name.ends_with(&format!(".{}", self.zone.name));
        if !inside {
            return Err(validation("Record name is not in the zone"));
        }
        let ok = match r.rtype.as_str() {
            "A" => r.content.parse::<std::net::Ipv4Addr>().is_ok(),
            "AAAA" => r.content.parse::<std::net::Ipv6Addr>().is_ok(),
            _ => true,
        };
        if !ok {
            return Err(validation(&format!(
                "Content for {} record is invalid.",
                r.rtype
            )));
        }
        if !(r.ttl == 1 || (60..=86400).contains(&r.ttl)) {
            return Err(validation(
                "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for automatic.",
            ));
        }
        let dup = self.records.iter().any(|o| {
            Some(o.id.as_str()) != except
                && o.name == r.name
                && o.rtype == r.rtype
                && o.content == r.content
        });
        if dup {
            return Err(err(400, 81058, "An identical record already exists."));
        }
        Ok(())
    }

    fn post(&mut self, body: Option<&Value>) -> Result<Value, EmuReply> {
        let b = body.ok_or_else(|| err(400, 9207, "EmuRequest body is invalid."))?;
        let s = |k: &str| b.get(k).and_then(Value::as_str).map(str::to_owned);
        let (Some(rtype), Some(name), Some(content)) = (s("type"), s("name"), s("content")) else {
            return Err(validation("type, name and content are required"));
        };
        let proxied = b.get("proxied").and_then(Value::as_bool).unwrap_or(false);
        *self.next_id += 1;
        let id = format!("{:016x}{:016x}", 0x023e_105f_4ece_f8ad_u64, *self.next_id);
        let rec = Rec {
            id,
            zone_id: self.zone.id.clone(),
            name: name.to_ascii_lowercase(),
            rtype,
            content,
            ttl: if proxied {
                1
            } else {
                b.get("ttl").and_then(Value::as_u64).unwrap_or(1)
            },
            proxied,
            comment: s("comment"),
        };
        self.check(&rec, None)?;
        self.records.push(rec.clone());
        Ok(record_json(&rec, &self.zone.name))
    }

    fn find(&self, id: &str) -> Result<usize, EmuReply> {
        self.records
            .iter()
            .position(|r| r.id == id && r.zone_id == self.zone.id)
            .ok_or_else(|| err(404, 81044, "Record does not exist."))
    }

    fn patch(&mut self, id: &str, body: Option<&Value>) -> Result<Value, EmuReply> {
        let b = body.ok_or_else(|| err(400, 9207, "EmuRequest body is invalid."))?;
        let i = self.find(id)?;
        let mut rec = self.records[i].clone();
        let s = |k: &str| b.get(k).and_then(Value::as_str).map(str::to_owned);
        if let Some(v) = s("name") {
            rec.name = v.to_ascii_lowercase();
        }
        if let Some(v) = s("type") {
            rec.rtype = v;
        }
        if let Some(v) = s("content") {
            rec.content = v;
        }
        if let Some(v) = b.get("ttl").and_then(Value::as_u64) {
            rec.ttl = v;
        }
        if let Some(v) = b.get("proxied").and_then(Value::as_bool) {
            rec.proxied = v;
        }
        match b.get("comment") {
            Some(Value::String(c)) => rec.comment = Some(c.clone()),
            Some(Value::Null) => rec.comment = None,
            _ => {}
        }
        if rec.proxied {
            rec.ttl = 1;
        }
        self.check(&rec, Some(id))?;
        self.records[i] = rec.clone();
        Ok(record_json(&rec, &self.zone.name))
    }

    fn put(&mut self, id: &str, body: Option<&Value>) -> Result<Value, EmuReply> {
        let i = self.find(id)?;
        let old = self.records[i].clone();
        let b = body.ok_or_else(|| err(400, 9207, "EmuRequest body is invalid."))?;
        let s = |k: &str| b.get(k).and_then(Value::as_str).map(str::to_owned);
        let proxied = b.get("proxied").and_then(Value::as_bool).unwrap_or(false);
        let rec = Rec {
            id: old.id.clone(),
            zone_id: old.zone_id.clone(),
            name: s("name").unwrap_or_default().to_ascii_lowercase(),
            rtype: s("type").unwrap_or_default(),
            content: s("content").unwrap_or_default(),
            ttl: if proxied {
                1
            } else {
                b.get("ttl").and_then(Value::as_u64).unwrap_or(1)
            },
            proxied,
            comment: s("comment"),
        };
        self.check(&rec, Some(id))?;
        self.records[i] = rec.clone();
        Ok(record_json(&rec, &self.zone.name))
    }

    fn delete(&mut self, id: &str) -> Result<Value, EmuReply> {
        let i = self.find(id)?;
        let rec = self.records.remove(i);
        Ok(record_json(&rec, &self.zone.name))
    }

    fn batch(&mut self, body: Option<&Value>) -> Result<Value, EmuReply> {
        let b = body.ok_or_else(|| err(400, 9207, "EmuRequest body is invalid."))?;
        let list = |k: &str| -> Vec<Value> {
            b.get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let id_of = |v: &Value| v.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
        let mut out = Map::new();
        let mut deleted = Vec::new();
        for d in list("deletes") {
            deleted.push(self.delete(&id_of(&d))?);
        }
        out.insert("deletes".into(), Value::Array(deleted));
        let mut patched = Vec::new();
        for p in list("patches") {
            patched.push(self.patch(&id_of(&p), Some(&p))?);
        }
        out.insert("patches".into(), Value::Array(patched));
        let mut put = Vec::new();
        for p in list("puts") {
            put.push(self.put(&id_of(&p), Some(&p))?);
        }
        out.insert("puts".into(), Value::Array(put));
        let mut posted = Vec::new();
        for p in list("posts") {
            posted.push(self.post(Some(&p))?);
        }
        out.insert("posts".into(), Value::Array(posted));
        Ok(Value::Object(out))
    }
}
