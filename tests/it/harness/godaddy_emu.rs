//! A local emulator of the GoDaddy Domains API v1 (the calls ddnsd makes), on the shared
//! small server (`emu_http.rs`).
//!
//! Behaviour follows GoDaddy's published Domains reference and `shared/providers/registrars.md`
//! §2: every request needs `Authorization: sso-key KEY:SECRET` with a known pair (a wrong pair
//! gets 401 `UNABLE_TO_AUTHENTICATE`, a missing or unparsable header 401
//! `MALFORMED_CREDENTIALS`); an account behind GoDaddy's API gate gets 403 `ACCESS_DENIED`;
//! errors are the envelope `{code, message, fields?}`, a 429 `{…, retryAfterSec}` (the
//! ErrorLimit schema; no Retry-After header, which GoDaddy does not document). `GET
//! /v1/domains` pages with `limit` (at most 1000) and `marker` (the next page starts after
//! that domain); `GET …/records/{type}/{name}` pages with `offset`/`limit` and answers `[]`
//! for a name without records; `PUT` of that path replaces the whole (type, name) set (TTL
//! 600 … 604800, default 3600; an empty list is ignored, as GoDaddy ignores it); `DELETE`
//! removes it (204; 404 `NOT_FOUND` when there was nothing). Faults (5xx with an HTML body, a
//! silent connection, 429, HTML or half bodies) are served per target; one name's writes can
//! be refused (422); calls are counted per action, refused ones included.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};

use super::emu_http::{percent_decode, EmuReply, EmuRequest, EmuServer, Outcome, Target};

/// GoDaddy's TTL range.
pub const MIN_TTL: u64 = 600;
/// GoDaddy's TTL range.
pub const MAX_TTL: u64 = 604_800;

/// One DNS record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rec {
    /// `A`, `AAAA`, `TXT`, `NS`…
    pub rtype: String,
    /// Relative name, `@` at the apex.
    pub name: String,
    /// The value.
    pub data: String,
    /// TTL.
    pub ttl: u64,
}

/// One domain of the account.
#[derive(Clone, Debug)]
pub struct Domain {
    /// Its name.
    pub name: String,
    /// `domainId`.
    pub id: u64,
    /// Its zone's records.
    pub records: Vec<Rec>,
}

/// A fault served instead of the normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP status with an HTML body (a gateway in the way).
    Status(u16),
    /// Never answer.
    Timeout,
    /// 429 `TOO_MANY_REQUESTS` with `retryAfterSec` = N in the body.
    RateLimit(u64),
    /// `200 OK` with a body that is not JSON.
    Malformed,
    /// `200 OK` with the real reply cut in half.
    Truncated,
}

/// Everything the emulator knows; lock it with [`GodaddyEmu::state`].
#[derive(Debug, Default)]
pub struct State {
    /// Accepted (key, secret) pairs.
    pub keys: Vec<(String, String)>,
    /// The account is behind GoDaddy's API gate: every call gets 403 `ACCESS_DENIED`.
    pub denied: bool,
    /// The account's domains.
    pub domains: Vec<Domain>,
    /// Calls per action (`ListDomains`, `GetRecords`, `ReplaceRecords`, `DeleteRecords`).
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order, each to the first request its target hits.
    pub faults: VecDeque<(Target, Fault)>,
    /// The action of every request that got a fault.
    pub faulted: Vec<String>,
    /// Relative names whose writes are refused with 422.
    pub refused: Vec<String>,
    /// The `Authorization` values seen.
    pub auth_seen: Vec<String>,
    /// The bodies of the accepted PUTs, in order.
    pub puts: Vec<Value>,
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

    /// Adds a domain with the apex NS records GoDaddy gives a new zone.
    pub fn add_domain(&mut self, name: &str) {
        self.next_id += 1;
        self.domains.push(Domain {
            name: name.to_owned(),
            id: 1_000_000 + self.next_id,
            records: Vec::new(),
        });
        for ns in ["ns01.domaincontrol.com", "ns02.domaincontrol.com"] {
            self.add_record(name, "NS", "@", ns, 3600);
        }
    }

    /// Adds a record to `domain`.
    pub fn add_record(&mut self, domain: &str, rtype: &str, name: &str, data: &str, ttl: u64) {
        let d = self
            .domains
            .iter_mut()
            .find(|d| d.name == domain)
            .expect("domain exists");
        d.records.push(Rec {
            rtype: rtype.into(),
            name: name.into(),
            data: data.into(),
            ttl,
        });
    }

    /// The records of (type, name) in `domain`, in order.
    pub fn rrset(&self, domain: &str, rtype: &str, name: &str) -> Vec<Rec> {
        self.domains
            .iter()
            .find(|d| d.name == domain)
            .map(|d| {
                d.records
                    .iter()
                    .filter(|r| r.rtype == rtype && r.name == name)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The sorted values of (type, name).
    pub fn values(&self, domain: &str, rtype: &str, name: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .rrset(domain, rtype, name)
            .into_iter()
            .map(|r| r.data)
            .collect();
        v.sort();
        v
    }

    /// Every record of `domain` other than those of (type, name).
    pub fn others(&self, domain: &str, rtype: &str, name: &str) -> Vec<Rec> {
        self.domains
            .iter()
            .find(|d| d.name == domain)
            .map(|d| {
                d.records
                    .iter()
                    .filter(|r| !(r.rtype == rtype && r.name == name))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A running emulator; stops on drop.
pub struct GodaddyEmu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl GodaddyEmu {
    /// Starts an emulator with no key and no domain.
    pub fn start() -> GodaddyEmu {
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        GodaddyEmu { server, state }
    }

    /// `http://127.0.0.1:PORT`, the value for `endpoint`.
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

    /// Queues a fault for the next request `target` hits.
    pub fn inject_on(&self, target: Target, fault: Fault) {
        self.state().faults.push_back((target, fault));
    }
}

// ---------------------------------------------------------------------------------------------

fn json_reply(status: u16, v: &Value) -> Outcome {
    Outcome::Reply(EmuReply {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: serde_json::to_vec(v).expect("json"),
    })
}

fn err(status: u16, code: &str, message: &str) -> Outcome {
    json_reply(status, &json!({"code": code, "message": message}))
}

fn invalid_body(path: &str, code: &str, message: &str) -> Outcome {
    json_reply(
        422,
        &json!({"code": "INVALID_BODY",
                "fields": [{"code": code, "message": message, "path": path}],
                "message": "Request body doesn't fulfill schema, see details in `fields`"}),
    )
}

/// The action of a request, and whether it only reads.
fn action_of(method: &str, segs: &[&str]) -> (&'static str, bool) {
    match (method, segs) {
        ("GET", ["v1", "domains"]) => ("ListDomains", true),
        ("GET", ["v1", "domains", _, "records", _, _]) => ("GetRecords", true),
        ("PUT", ["v1", "domains", _, "records", _, _]) => ("ReplaceRecords", false),
        ("DELETE", ["v1", "domains", _, "records", _, _]) => ("DeleteRecords", false),
        _ => ("Unknown", method == "GET"),
    }
}

fn handle(req: &EmuRequest, state: &Arc<Mutex<State>>) -> Outcome {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let path = req.path.clone();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (action, read) = action_of(&req.method, &segs);
    *st.calls.entry(action.to_owned()).or_default() += 1;
    if let Some(v) = req.header("authorization") {
        st.auth_seen.push(v.to_owned());
    }
    let pos = st.faults.iter().position(|(t, _)| t.hits(action, read));
    let fault = pos.and_then(|i| st.faults.remove(i)).map(|(_, f)| f);
    if fault.is_some() {
        st.faulted.push(action.to_owned());
    }
    match &fault {
        Some(Fault::Timeout) => return Outcome::Hang,
        Some(Fault::Status(code)) => {
            return Outcome::Reply(EmuReply {
                status: *code,
                headers: vec![("Content-Type".into(), "text/html".into())],
                body: format!("<html><body><h1>{code}</h1>upstream</body></html>").into_bytes(),
            })
        }
        Some(Fault::RateLimit(secs)) => {
            return json_reply(
                429,
                &json!({"code": "TOO_MANY_REQUESTS",
                        "message": "Too many requests received within interval",
                        "retryAfterSec": secs}),
            )
        }
        Some(Fault::Malformed) => {
            return Outcome::Reply(EmuReply {
                status: 200,
                headers: vec![("Content-Type".into(), "text/html".into())],
                body: b"<html>maintenance</html>".to_vec(),
            })
        }
        Some(Fault::Truncated) | None => {}
    }
    let reply = authenticate(&st, req).unwrap_or_else(|| route(&mut st, req, action, &segs));
    match (fault, reply) {
        (Some(Fault::Truncated), Outcome::Reply(r)) => Outcome::Reply(EmuReply {
            status: 200,
            headers: r.headers,
            body: r.body[..r.body.len() / 2].to_vec(),
        }),
        (_, r) => r,
    }
}

/// The error answer for a request whose credentials do not pass, if they do not.
fn authenticate(st: &State, req: &EmuRequest) -> Option<Outcome> {
    let Some(h) = req.header("authorization") else {
        return Some(err(
            401,
            "MALFORMED_CREDENTIALS",
            "Unauthorized : Credentials must be specified",
        ));
    };
    let Some((key, secret)) = h.strip_prefix("sso-key ").and_then(|kv| kv.split_once(':')) else {
        return Some(err(
            401,
            "MALFORMED_CREDENTIALS",
            "Unauthorized : Could not parse the credentials",
        ));
    };
    if !st.keys.iter().any(|(k, s)| k == key && s == secret) {
        return Some(err(
            401,
            "UNABLE_TO_AUTHENTICATE",
            "Unauthorized : Could not authenticate API key/secret",
        ));
    }
    if st.denied {
        return Some(err(
            403,
            "ACCESS_DENIED",
            "Authenticated user is not allowed access",
        ));
    }
    None
}

fn query(req: &EmuRequest, name: &str) -> Option<String> {
    req.query()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn route(st: &mut State, req: &EmuRequest, action: &str, segs: &[&str]) -> Outcome {
    if action == "Unknown" {
        return err(404, "NOT_FOUND", "Resource not found");
    }
    if action == "ListDomains" {
        return list_domains(st, req);
    }
    let domain = percent_decode(segs[2], false).to_ascii_lowercase();
    let rtype = percent_decode(segs[4], false);
    let name = percent_decode(segs[5], false).to_ascii_lowercase();
    let Some(di) = st.domains.iter().position(|d| d.name == domain) else {
        return err(
            404,
            "UNKNOWN_DOMAIN",
            "The given domain is not registered, or does not have a zone file",
        );
    };
    match action {
        "GetRecords" => {
            let offset: usize = query(req, "offset")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let limit: usize = query(req, "limit")
                .and_then(|v| v.parse().ok())
                .unwrap_or(usize::MAX);
            let items: Vec<Value> = st.domains[di]
                .records
                .iter()
                .filter(|r| r.rtype == rtype && r.name == name)
                .skip(offset)
                .take(limit)
                .map(|r| json!({"data": r.data, "name": r.name, "ttl": r.ttl, "type": r.rtype}))
                .collect();
            json_reply(200, &Value::Array(items))
        }
        "ReplaceRecords" => {
            let body: Value = match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(_) => {
                    return err(400, "MALFORMED_REQUEST", "Request was malformed");
                }
            };
            let Some(items) = body.as_array() else {
                return invalid_body("records", "UNEXPECTED_TYPE", "is not a array");
            };
            if st.refused.contains(&name) {
                return err(422, "INVALID_BODY", "record does not fulfill the schema");
            }
            let mut new = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let Some(data) = item.get("data").and_then(Value::as_str) else {
                    return invalid_body(
                        &format!("records[{i}].data"),
                        "MISSING_REQUIRED",
                        "is required",
                    );
                };
                let ttl = match item.get("ttl") {
                    None => 3600,
                    Some(t) => match t.as_u64() {
                        Some(t) => t,
                        None => {
                            return invalid_body(
                                &format!("records[{i}].ttl"),
                                "UNEXPECTED_TYPE",
                                "is not a integer",
                            )
                        }
                    },
                };
                if ttl < MIN_TTL {
                    return invalid_body(
                        &format!("records[{i}].ttl"),
                        "UNKNOWN_RESTRICTION",
                        "must have a minimum value of 600",
                    );
                }
                if ttl > MAX_TTL {
                    return invalid_body(
                        &format!("records[{i}].ttl"),
                        "UNKNOWN_RESTRICTION",
                        "must have a maximum value of 604800",
                    );
                }
                let ok = match rtype.as_str() {
                    "A" => data.parse::<std::net::Ipv4Addr>().is_ok(),
                    "AAAA" => data.parse::<std::net::Ipv6Addr>().is_ok(),
                    _ => true,
                };
                if !ok {
                    return invalid_body(
                        &format!("records[{i}].data"),
                        "INVALID_VALUE",
                        &format!("is not a valid {rtype} value"),
                    );
                }
                new.push(Rec {
                    rtype: rtype.clone(),
                    name: name.clone(),
                    data: data.to_owned(),
                    ttl,
                });
            }
            st.puts.push(body.clone());
            // GoDaddy ignores an empty list: it cannot delete a set.
            if !new.is_empty() {
                let d = &mut st.domains[di];
                d.records.retain(|r| !(r.rtype == rtype && r.name == name));
                d.records.extend(new);
            }
            Outcome::Reply(EmuReply {
                status: 200,
                headers: Vec::new(),
                body: Vec::new(),
            })
        }
        _ => {
            // DeleteRecords
            if st.refused.contains(&name) {
                return err(422, "INVALID_BODY", "record does not fulfill the schema");
            }
            let d = &mut st.domains[di];
            let before = d.records.len();
            d.records.retain(|r| !(r.rtype == rtype && r.name == name));
            if d.records.len() == before {
                return err(404, "NOT_FOUND", "Resource not found");
            }
            Outcome::Reply(EmuReply {
                status: 204,
                headers: Vec::new(),
                body: Vec::new(),
            })
        }
    }
}

fn list_domains(st: &State, req: &EmuRequest) -> Outcome {
    let limit: usize = query(req, "limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    if limit > 1000 {
        return invalid_body(
            "limit",
            "UNKNOWN_RESTRICTION",
            "Limit must have a value no greater than 1000",
        );
    }
    let marker = query(req, "marker");
    let mut names: Vec<&Domain> = st.domains.iter().collect();
    names.sort_by(|a, b| a.name.cmp(&b.name));
    let items: Vec<Value> = names
        .into_iter()
        .filter(|d| marker.as_ref().is_none_or(|m| d.name.as_str() > m.as_str()))
        .take(limit)
        .map(|d| {
            json!({"domain": d.name, "domainId": d.id, "status": "ACTIVE",
                   "createdAt": "2023-04-01T10:00:00.000Z", "expires": "2027-04-01T10:00:00.000Z",
                   "expirationProtected": false, "holdRegistrar": false, "locked": true,
                   "privacy": false, "renewAuto": true, "renewable": true,
                   "transferProtected": false, "nameServers": null})
        })
        .collect();
    json_reply(200, &Value::Array(items))
}
