//! A local emulator of Porkbun's JSON API v3 (porkbun.com/api/json/v3/documentation,
//! `registrars.md` §1) over one account: every call a POST whose JSON body carries `apikey` and
//! `secretapikey` (the `X-API-Key` / `X-Secret-API-Key` headers are taken too), checked first
//! (`{"status":"ERROR","message":"Invalid API key. (002)"}`, HTTP 400); domains with API
//! ACCESS on or off (`Domain is not opted in to API access.`); unknown domains (`Invalid
//! domain.`).
//!
//! Implements `ping`, `domain/listAll` (pages of `page_size`, `start`), `dns/retrieve/{d}[/{id}]`,
//! `dns/retrieveByNameType/{d}/{type}/[{sub}]`, `dns/create/{d}` (id answered as a number),
//! `dns/edit/{d}/{id}` (the record is replaced: a `prio` or `notes` left out is cleared — the
//! strict reading, so a client that does not send them back is caught), `dns/editByNameType`,
//! `dns/delete/{d}/{id}`, `dns/deleteByNameType`. Records are JSON strings throughout (ids,
//! ttl, prio), names are FQDNs; TTLs below 600 are raised to 600. An A/AAAA at a name holding
//! an ALIAS or CNAME (Porkbun's parking records) is refused. Fault injection (5xx, silence,
//! 503 + `Retry-After` as Porkbun throttles, HTML and cut bodies, refused names) and call
//! counts per action.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};

use super::emu_http::{percent_decode, EmuReply, EmuRequest, EmuServer, Outcome, Target};

/// Porkbun's minimum TTL.
pub const MIN_TTL: u64 = 600;

/// One record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rec {
    /// Id (digits).
    pub id: String,
    /// Relative name (`""` = apex).
    pub sub: String,
    /// Type.
    pub rtype: String,
    /// Content.
    pub content: String,
    /// TTL.
    pub ttl: u64,
    /// Priority.
    pub prio: String,
    /// Notes.
    pub notes: String,
}

/// One domain.
#[derive(Clone, Debug, Default)]
pub struct Domain {
    /// API ACCESS switched on.
    pub api_access: bool,
    /// Its records.
    pub records: Vec<Rec>,
}

/// A fault served instead of the normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// This HTTP status with an HTML body.
    Status(u16),
    /// Never answer.
    Timeout,
    /// 503 with `Retry-After` seconds.
    Throttle(u64),
    /// 200 with an HTML body (nothing applied).
    Malformed,
    /// The real answer cut in half (a write is applied).
    Truncated,
}

/// Everything the emulator knows; lock it with [`PorkbunEmu::state`].
#[derive(Debug, Default)]
pub struct State {
    /// API key → secret API key.
    pub keys: BTreeMap<String, String>,
    /// Domains by name.
    pub domains: BTreeMap<String, Domain>,
    /// Domains per `listAll` page (Porkbun: 1000).
    pub page_size: usize,
    /// Writes to these FQDNs are refused (an unspecific create/edit error).
    pub refused: BTreeSet<String>,
    /// Calls per action.
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order.
    pub faults: VecDeque<(Target, Fault)>,
    /// The action of every request that got a fault.
    pub faulted: Vec<String>,
    /// The body of every write (credentials removed), with its action.
    pub bodies: Vec<(String, Value)>,
    /// A record id deleted right after the next `retrieveByNameType` is answered (someone
    /// else's change racing ddnsd's read and write).
    pub vanish_after_read: Option<String>,
    next_id: u64,
}

impl State {
    /// Adds a domain (API ACCESS on).
    pub fn add_domain(&mut self, name: &str) {
        self.domains.insert(
            name.to_owned(),
            Domain {
                api_access: true,
                records: Vec::new(),
            },
        );
    }

    /// Adds a record (`@` or "" = apex); returns its id.
    pub fn add(&mut self, domain: &str, sub: &str, rtype: &str, content: &str, ttl: u64) -> String {
        self.next_id += 1;
        let id = (106_926_000 + self.next_id).to_string();
        let sub = if sub == "@" { "" } else { sub };
        self.domains
            .get_mut(domain)
            .expect("domain exists")
            .records
            .push(Rec {
                id: id.clone(),
                sub: sub.to_owned(),
                rtype: rtype.to_owned(),
                content: content.to_owned(),
                ttl,
                prio: "0".into(),
                notes: String::new(),
            });
        id
    }

    /// Records of (sub, type) (`@` = apex), in id order.
    pub fn rrset(&self, domain: &str, sub: &str, rtype: &str) -> Vec<Rec> {
        let sub = if sub == "@" { "" } else { sub };
        self.domains
            .get(domain)
            .map(|d| {
                d.records
                    .iter()
                    .filter(|r| r.sub == sub && r.rtype == rtype)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Calls of `action`.
    pub fn count(&self, action: &str) -> u32 {
        self.calls.get(action).copied().unwrap_or(0)
    }
}

/// A running emulator; stops on drop.
pub struct PorkbunEmu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl PorkbunEmu {
    /// Starts an emulator with no key and no domain.
    pub fn start() -> PorkbunEmu {
        let state = Arc::new(Mutex::new(State {
            page_size: 1000,
            ..State::default()
        }));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        PorkbunEmu { server, state }
    }

    /// `http://127.0.0.1:PORT/api/json/v3`.
    pub fn endpoint(&self) -> String {
        format!("{}/api/json/v3", self.server.endpoint())
    }

    /// Locks the state.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serves `fault` to the next request `target` hits.
    pub fn inject(&self, target: Target, fault: Fault) {
        self.state().faults.push_back((target, fault));
    }
}

fn reply(status: u16, body: Value) -> Outcome {
    Outcome::Reply(EmuReply {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    })
}

fn error(message: &str) -> Outcome {
    reply(400, json!({"status": "ERROR", "message": message}))
}

fn success(extra: Value) -> Outcome {
    let mut v = json!({"status": "SUCCESS"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in e {
            o.insert(k.clone(), x.clone());
        }
    }
    reply(200, v)
}

fn record_json(domain: &str, r: &Rec) -> Value {
    let name = if r.sub.is_empty() {
        domain.to_owned()
    } else {
        format!("{}.{domain}", r.sub)
    };
    json!({
        "id": r.id,
        "name": name,
        "type": r.rtype,
        "content": r.content,
        "ttl": r.ttl.to_string(),
        "prio": r.prio,
        "notes": r.notes,
    })
}

/// Reads are the retrieve and list calls.
pub fn is_read(action: &str) -> bool {
    matches!(
        action,
        "ping" | "listAll" | "retrieve" | "retrieveByNameType"
    )
}

fn handle(req: &EmuRequest, state: &Arc<Mutex<State>>) -> Outcome {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let Some(rest) = req.path.strip_prefix("/api/json/v3/") else {
        return reply(404, json!({"status": "ERROR", "message": "Not found."}));
    };
    let parts: Vec<String> = rest.split('/').map(|p| percent_decode(p, false)).collect();
    let action = match (
        parts.first().map(String::as_str),
        parts.get(1).map(String::as_str),
    ) {
        (Some("ping"), None) => "ping",
        (Some("domain"), Some("listAll")) => "listAll",
        (Some("dns"), Some(a)) => a,
        _ => "unknown",
    }
    .to_owned();
    *st.calls.entry(action.clone()).or_default() += 1;
    let read = is_read(&action);
    let pos = st.faults.iter().position(|(t, _)| t.hits(&action, read));
    let fault = pos.and_then(|i| st.faults.remove(i)).map(|(_, f)| f);
    if fault.is_some() {
        st.faulted.push(action.clone());
    }
    match &fault {
        Some(Fault::Status(code)) => {
            return Outcome::Reply(EmuReply {
                status: *code,
                headers: vec![("Content-Type".into(), "text/html".into())],
                body: b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
            })
        }
        Some(Fault::Timeout) => return Outcome::Hang,
        Some(Fault::Throttle(secs)) => return Outcome::Reply(EmuReply {
            status: 503,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Retry-After".into(), secs.to_string()),
            ],
            body: br#"{"status":"ERROR","message":"Rate limit exceeded. Please try again later."}"#
                .to_vec(),
        }),
        Some(Fault::Malformed) => {
            return Outcome::Reply(EmuReply {
                status: 200,
                headers: vec![("Content-Type".into(), "text/html".into())],
                body: b"<html>maintenance</html>".to_vec(),
            })
        }
        Some(Fault::Truncated) | None => {}
    }
    let out = serve(&mut st, req, &parts, &action);
    match (fault, out) {
        (Some(Fault::Truncated), Outcome::Reply(mut r)) => {
            let n = r.body.len() / 2;
            r.body.truncate(n);
            Outcome::Reply(r)
        }
        (_, out) => out,
    }
}

fn serve(st: &mut State, req: &EmuRequest, parts: &[String], action: &str) -> Outcome {
    if req.method != "POST" && !(req.method == "GET" && is_read(action)) {
        return reply(
            405,
            json!({"status": "ERROR", "message": "Method not allowed."}),
        );
    }
    let mut body: Value = if req.body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => return error("Invalid JSON."),
        }
    };
    let key = body
        .get("apikey")
        .and_then(Value::as_str)
        .or(req.header("x-api-key"))
        .map(str::to_owned);
    let secret = body
        .get("secretapikey")
        .and_then(Value::as_str)
        .or(req.header("x-secret-api-key"))
        .map(str::to_owned);
    let (Some(key), Some(secret)) = (key, secret) else {
        return error("All API requests must include API keys.");
    };
    if st.keys.get(&key) != Some(&secret) {
        return error("Invalid API key. (002)");
    }
    if let Some(o) = body.as_object_mut() {
        o.remove("apikey");
        o.remove("secretapikey");
    }
    let get = |k: &str| -> Option<String> {
        match body.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    };
    if action == "ping" {
        return success(json!({"yourIp": "127.0.0.1"}));
    }
    if action == "listAll" {
        let start: usize = get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
        let domains: Vec<Value> = st
            .domains
            .keys()
            .skip(start)
            .take(st.page_size)
            .map(|d| {
                json!({
                    "domain": d,
                    "status": "ACTIVE",
                    "tld": d.rsplit('.').next().unwrap_or(""),
                    "createDate": "2024-01-01 00:00:00",
                    "expireDate": "2027-01-01 00:00:00",
                    "securityLock": "1",
                    "whoisPrivacy": "1",
                    "autoRenew": 1,
                    "notLocal": 0,
                })
            })
            .collect();
        return success(json!({ "domains": domains }));
    }
    let Some(dname) = parts.get(2).map(|d| d.to_ascii_lowercase()) else {
        return error("Invalid domain.");
    };
    let Some(domain) = st.domains.get(&dname).cloned() else {
        return error("Invalid domain.");
    };
    if !domain.api_access {
        return error("Domain is not opted in to API access.");
    }
    let fqdn = |sub: &str| {
        if sub.is_empty() {
            dname.clone()
        } else {
            format!("{sub}.{dname}")
        }
    };
    let write = !is_read(action);
    if write {
        st.bodies.push((action.to_owned(), body.clone()));
    }
    match action {
        "retrieve" => {
            let records: Vec<Value> = domain
                .records
                .iter()
                .filter(|r| parts.get(3).is_none_or(|id| id.is_empty() || *id == r.id))
                .map(|r| record_json(&dname, r))
                .collect();
            success(json!({"cloudflare": "disabled", "records": records}))
        }
        "retrieveByNameType" => {
            let (Some(rtype), sub) = (parts.get(3), parts.get(4).cloned().unwrap_or_default())
            else {
                return error("Invalid type.");
            };
            let records: Vec<Value> = domain
                .records
                .iter()
                .filter(|r| r.sub == sub && r.rtype == *rtype)
                .map(|r| record_json(&dname, r))
                .collect();
            if let Some(id) = st.vanish_after_read.take() {
                if let Some(d) = st.domains.get_mut(&dname) {
                    d.records.retain(|r| r.id != id);
                }
            }
            success(json!({ "records": records }))
        }
        "create" => {
            let sub = get("name").unwrap_or_default();
            let Some(rtype) = get("type") else {
                return error("Create error: The record type is required.");
            };
            let Some(content) = get("content") else {
                return error("Create error: The content is required.");
            };
            if st.refused.contains(&fqdn(&sub)) {
                return error("Create error: We were unable to create the DNS record.");
            }
            if let Some(e) = check(&domain, &sub, &rtype, &content, None) {
                return e;
            }
            let ttl = get("ttl")
                .and_then(|t| t.parse().ok())
                .unwrap_or(MIN_TTL)
                .max(MIN_TTL);
            let id = st.add(&dname, &sub, &rtype, &content, ttl);
            if let Some(n) = get("prio") {
                set_field(st, &dname, &id, |r| r.prio = n.clone());
            }
            if let Some(n) = get("notes") {
                set_field(st, &dname, &id, |r| r.notes = n.clone());
            }
            let num: u64 = id.parse().unwrap_or(0);
            success(json!({ "id": num }))
        }
        "edit" => {
            let Some(id) = parts.get(3).cloned() else {
                return error("Edit error: Invalid record ID.");
            };
            let Some(existing) = domain.records.iter().find(|r| r.id == id).cloned() else {
                return error("Edit error: We were unable to edit the DNS record.");
            };
            let sub = get("name").unwrap_or_default();
            let (Some(rtype), Some(content)) = (get("type"), get("content")) else {
                return error("Edit error: The record type and content are required.");
            };
            if st.refused.contains(&fqdn(&sub)) || st.refused.contains(&fqdn(&existing.sub)) {
                return error("Edit error: We were unable to edit the DNS record.");
            }
            if let Some(e) = check(&domain, &sub, &rtype, &content, Some(&id)) {
                return e;
            }
            let ttl = get("ttl")
                .and_then(|t| t.parse().ok())
                .unwrap_or(MIN_TTL)
                .max(MIN_TTL);
            // An edit replaces the record: what is left out is cleared.
            let prio = get("prio").unwrap_or_else(|| "0".into());
            let notes = get("notes").unwrap_or_default();
            set_field(st, &dname, &id, |r| {
                r.sub = sub.clone();
                r.rtype = rtype.clone();
                r.content = content.clone();
                r.ttl = ttl;
                r.prio = prio.clone();
                r.notes = notes.clone();
            });
            success(json!({}))
        }
        "editByNameType" => {
            let (Some(rtype), sub) = (
                parts.get(3).cloned(),
                parts.get(4).cloned().unwrap_or_default(),
            ) else {
                return error("Edit error: Invalid type.");
            };
            let Some(content) = get("content") else {
                return error("Edit error: The content is required.");
            };
            if st.refused.contains(&fqdn(&sub)) {
                return error("Edit error: We were unable to edit the DNS record.");
            }
            let ttl = get("ttl")
                .and_then(|t| t.parse().ok())
                .unwrap_or(MIN_TTL)
                .max(MIN_TTL);
            if let Some(d) = st.domains.get_mut(&dname) {
                for r in d
                    .records
                    .iter_mut()
                    .filter(|r| r.sub == sub && r.rtype == rtype)
                {
                    r.content = content.clone();
                    r.ttl = ttl;
                }
            }
            success(json!({}))
        }
        "delete" => {
            let Some(id) = parts.get(3).cloned() else {
                return error("Delete error: Invalid record ID.");
            };
            let Some(existing) = domain.records.iter().find(|r| r.id == id).cloned() else {
                return error("Delete error: We were unable to delete the DNS record.");
            };
            if st.refused.contains(&fqdn(&existing.sub)) {
                return error("Delete error: We were unable to delete the DNS record.");
            }
            if let Some(d) = st.domains.get_mut(&dname) {
                d.records.retain(|r| r.id != id);
            }
            success(json!({}))
        }
        "deleteByNameType" => {
            let (Some(rtype), sub) = (
                parts.get(3).cloned(),
                parts.get(4).cloned().unwrap_or_default(),
            ) else {
                return error("Delete error: Invalid type.");
            };
            if let Some(d) = st.domains.get_mut(&dname) {
                d.records.retain(|r| !(r.sub == sub && r.rtype == rtype));
            }
            success(json!({}))
        }
        _ => reply(404, json!({"status": "ERROR", "message": "Not found."})),
    }
}

/// Content checks and Porkbun's parking-record conflict (an ALIAS/CNAME at the name).
fn check(
    domain: &Domain,
    sub: &str,
    rtype: &str,
    content: &str,
    id: Option<&str>,
) -> Option<Outcome> {
    let ok = match rtype {
        "A" => content.parse::<std::net::Ipv4Addr>().is_ok(),
        "AAAA" => content.parse::<std::net::Ipv6Addr>().is_ok(),
        _ => !content.is_empty(),
    };
    if !ok {
        return Some(error(&format!(
            "Create error: Invalid content for record type {rtype}."
        )));
    }
    let conflict = matches!(rtype, "A" | "AAAA")
        && domain.records.iter().any(|r| {
            r.sub == sub
                && matches!(r.rtype.as_str(), "ALIAS" | "CNAME")
                && Some(r.id.as_str()) != id
        });
    conflict.then(|| {
        error("Create error: We were unable to create the DNS record. A CNAME or ALIAS record with the same host already exists.")
    })
}

fn set_field(st: &mut State, domain: &str, id: &str, f: impl Fn(&mut Rec)) {
    if let Some(d) = st.domains.get_mut(domain) {
        for r in d.records.iter_mut().filter(|r| r.id == id) {
            f(r);
        }
    }
}
