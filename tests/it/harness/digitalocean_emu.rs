//! A local emulator of the DigitalOcean Domains API (`/v2/domains`), on the shared small
//! server (`emu_http.rs`).
//!
//! Behaviour follows DigitalOcean's OpenAPI specification (`specification/resources/domains/`,
//! `shared/`) and `shared/providers/hosting-dns.md` §2: every request needs `Authorization:
//! Bearer <token>` (401 `unauthorized` "Unable to authenticate you." otherwise; a token
//! without the write scopes gets 403 `forbidden` on writes); errors are `{id, message,
//! request_id}`; every reply carries `ratelimit-limit` / `-remaining` / `-reset`; lists page
//! with `page`/`per_page` (default 20, at most 200) and `links.pages` (`first`, `prev`,
//! `next`, `last` — only those that make sense) plus `meta.total`; the records list filters
//! by `type` and by `name`, which must be fully qualified while records carry the relative
//! name (`@` at the apex). One record per value, integer ids; `POST` creates (201), `PATCH`
//! changes only the attributes it names, `PUT` replaces the record (attributes left out are
//! reset), `DELETE` answers 204. TTLs below 30 are refused (422). Faults (5xx with an HTML
//! body, a silent connection, the burst 429 with `retry-after`, the hourly 429 with only
//! `ratelimit-reset`, HTML or half bodies) are served per target; one name's writes can be
//! refused (422); calls are counted per action.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::emu_http::{percent_decode, EmuReply, EmuRequest, EmuServer, Outcome, Target};

/// DigitalOcean's lowest TTL.
pub const MIN_TTL: u64 = 30;

/// One record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rec {
    /// Integer id.
    pub id: u64,
    /// `A`, `AAAA`, `TXT`, `NS`…
    pub rtype: String,
    /// Relative name, `@` at the apex.
    pub name: String,
    /// The value.
    pub data: String,
    /// TTL.
    pub ttl: u64,
    /// MX/SRV priority.
    pub priority: Option<u64>,
    /// SRV weight.
    pub weight: Option<u64>,
    /// CAA/other tag.
    pub tag: Option<String>,
}

/// A fault served instead of the normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP status with an HTML body (a gateway in the way).
    Status(u16),
    /// Never answer.
    Timeout,
    /// The burst limit: 429 with `retry-after: N`.
    RateLimit(u64),
    /// The hourly limit: 429 with `ratelimit-remaining: 0` and `ratelimit-reset` N seconds
    /// ahead, no `retry-after`.
    HourlyLimit(u64),
    /// `200 OK` with a body that is not JSON.
    Malformed,
    /// `200 OK` with the real reply cut in half.
    Truncated,
}

/// Everything the emulator knows; lock it with [`DigitalOceanEmu::state`].
#[derive(Debug, Default)]
pub struct State {
    /// Tokens with write access.
    pub tokens: Vec<String>,
    /// Tokens with `domain:read` only.
    pub read_only: Vec<String>,
    /// Domains → records.
    pub domains: BTreeMap<String, Vec<Rec>>,
    /// Calls per action (`ListDomains`, `ListRecords`, `CreateRecord`, `PatchRecord`,
    /// `PutRecord`, `DeleteRecord`).
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order, each to the first request its target hits.
    pub faults: VecDeque<(Target, Fault)>,
    /// The action of every request that got a fault.
    pub faulted: Vec<String>,
    /// Relative names whose writes are refused with 422.
    pub refused: Vec<String>,
    /// The bodies of accepted writes, in order (action, body).
    pub writes: Vec<(String, Value)>,
    /// The `Authorization` values seen.
    pub auth_seen: Vec<String>,
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

    /// Adds a domain with the NS records DigitalOcean creates for it.
    pub fn add_domain(&mut self, name: &str) {
        self.domains.insert(name.to_owned(), Vec::new());
        for ns in [
            "ns1.digitalocean.com",
            "ns2.digitalocean.com",
            "ns3.digitalocean.com",
        ] {
            self.add_record(name, "NS", "@", ns, 1800);
        }
    }

    /// Adds a record; returns its id.
    pub fn add_record(
        &mut self,
        domain: &str,
        rtype: &str,
        name: &str,
        data: &str,
        ttl: u64,
    ) -> u64 {
        self.next_id += 1;
        let id = 28_448_000 + self.next_id;
        self.domains
            .get_mut(domain)
            .expect("domain exists")
            .push(Rec {
                id,
                rtype: rtype.into(),
                name: name.into(),
                data: data.into(),
                ttl,
                priority: None,
                weight: None,
                tag: None,
            });
        id
    }

    /// The records of (type, name) in `domain`, by id.
    pub fn rrset(&self, domain: &str, rtype: &str, name: &str) -> Vec<Rec> {
        let mut v: Vec<Rec> = self
            .domains
            .get(domain)
            .map(|r| {
                r.iter()
                    .filter(|r| r.rtype == rtype && r.name == name)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by_key(|r| r.id);
        v
    }

    /// Mutable access to a record by id.
    pub fn record_mut(&mut self, id: u64) -> Option<&mut Rec> {
        self.domains.values_mut().flatten().find(|r| r.id == id)
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

    /// Every record of `domain` other than those of (type, name), by id.
    pub fn others(&self, domain: &str, rtype: &str, name: &str) -> Vec<Rec> {
        let mut v: Vec<Rec> = self
            .domains
            .get(domain)
            .map(|r| {
                r.iter()
                    .filter(|r| !(r.rtype == rtype && r.name == name))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by_key(|r| r.id);
        v
    }
}

/// A running emulator; stops on drop.
pub struct DigitalOceanEmu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl DigitalOceanEmu {
    /// Starts an emulator with no token and no domain.
    pub fn start() -> DigitalOceanEmu {
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        DigitalOceanEmu { server, state }
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

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn reply(status: u16, body: Option<&Value>, extra: &[(&str, String)]) -> Outcome {
    let mut headers = vec![
        (
            "Content-Type".to_owned(),
            "application/json; charset=utf-8".to_owned(),
        ),
        ("ratelimit-limit".to_owned(), "5000".to_owned()),
        ("ratelimit-remaining".to_owned(), "4816".to_owned()),
        ("ratelimit-reset".to_owned(), (now() + 3600).to_string()),
        (
            "Date".to_owned(),
            httpdate::fmt_http_date(SystemTime::now()),
        ),
    ];
    for (n, v) in extra {
        match headers.iter_mut().find(|(h, _)| h.eq_ignore_ascii_case(n)) {
            Some(slot) => slot.1 = v.clone(),
            None => headers.push(((*n).to_owned(), v.clone())),
        }
    }
    Outcome::Reply(EmuReply {
        status,
        headers,
        body: body
            .map(|b| serde_json::to_vec(b).expect("json"))
            .unwrap_or_default(),
    })
}

fn err(status: u16, id: &str, message: &str) -> Outcome {
    reply(
        status,
        Some(
            &json!({"id": id, "message": message, "request_id": "4d9d8375-3c56-4925-a3e7-eb137fed17e9"}),
        ),
        &[],
    )
}

/// The action of a request, and whether it only reads.
fn action_of(method: &str, segs: &[&str]) -> (&'static str, bool) {
    match (method, segs) {
        ("GET", ["v2", "domains"]) => ("ListDomains", true),
        ("GET", ["v2", "domains", _, "records"]) => ("ListRecords", true),
        ("POST", ["v2", "domains", _, "records"]) => ("CreateRecord", false),
        ("PATCH", ["v2", "domains", _, "records", _]) => ("PatchRecord", false),
        ("PUT", ["v2", "domains", _, "records", _]) => ("PutRecord", false),
        ("DELETE", ["v2", "domains", _, "records", _]) => ("DeleteRecord", false),
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
    let limit = json!({"id": "too_many_requests", "message": "API rate limit exceeded."});
    match &fault {
        Some(Fault::Timeout) => return Outcome::Hang,
        Some(Fault::Status(code)) => {
            return Outcome::Reply(EmuReply {
                status: *code,
                headers: vec![("Content-Type".into(), "text/html".into())],
                body: format!("<html><body><h1>{code}</h1>cloudflare</body></html>").into_bytes(),
            })
        }
        Some(Fault::RateLimit(secs)) => {
            return reply(
                429,
                Some(&limit),
                &[
                    ("retry-after", secs.to_string()),
                    ("ratelimit-remaining", "0".into()),
                ],
            )
        }
        Some(Fault::HourlyLimit(secs)) => {
            return reply(
                429,
                Some(&limit),
                &[
                    ("ratelimit-remaining", "0".into()),
                    ("ratelimit-reset", (now() + secs).to_string()),
                ],
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
    let token = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    let out = if st.tokens.iter().any(|t| t == token)
        || (read && st.read_only.iter().any(|t| t == token))
    {
        route(&mut st, req, action, &segs)
    } else if st.read_only.iter().any(|t| t == token) {
        err(
            403,
            "forbidden",
            "You do not have permission to perform this action.",
        )
    } else {
        err(401, "unauthorized", "Unable to authenticate you.")
    };
    match (fault, out) {
        (Some(Fault::Truncated), Outcome::Reply(r)) => Outcome::Reply(EmuReply {
            status: 200,
            headers: r.headers,
            body: r.body[..r.body.len() / 2].to_vec(),
        }),
        (_, r) => r,
    }
}

fn query(req: &EmuRequest, name: &str) -> Option<String> {
    req.query()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// One page of `items` under `key`, with `links.pages` pointing at this emulator.
fn page(req: &EmuRequest, key: &str, items: Vec<Value>) -> Outcome {
    let per_page: usize = query(req, "per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
        .clamp(1, 200);
    let page: usize = query(req, "page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len();
    let last = total.div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let host = req.header("host").unwrap_or("127.0.0.1");
    // The other parameters are kept, as DigitalOcean keeps them in its links.
    let others: String = req
        .query()
        .into_iter()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| format!("&{k}={}", super::emu_http::rfc3986(&v)))
        .collect();
    let link = |p: usize| format!("http://{host}{}?page={p}{others}", req.path);
    let mut pages = serde_json::Map::new();
    if page > 1 {
        pages.insert("first".into(), json!(link(1)));
        pages.insert("prev".into(), json!(link(page - 1)));
    }
    if page < last {
        pages.insert("last".into(), json!(link(last)));
        pages.insert("next".into(), json!(link(page + 1)));
    }
    reply(
        200,
        Some(&json!({key: slice, "links": {"pages": pages}, "meta": {"total": total}})),
        &[],
    )
}

fn record_json(r: &Rec) -> Value {
    json!({"id": r.id, "type": r.rtype, "name": r.name, "data": r.data, "priority": r.priority,
           "port": null, "ttl": r.ttl, "weight": r.weight, "flags": null, "tag": r.tag})
}

fn unprocessable(message: &str) -> Outcome {
    err(422, "unprocessable_entity", message)
}

/// Checks a record about to be stored.
fn check(rec: &Rec) -> Result<(), Outcome> {
    let ok = match rec.rtype.as_str() {
        "A" => rec.data.parse::<std::net::Ipv4Addr>().is_ok(),
        "AAAA" => rec.data.parse::<std::net::Ipv6Addr>().is_ok(),
        _ => true,
    };
    if !ok {
        return Err(unprocessable(&format!(
            "Data needs to end with a dot (.) or be a valid {} address",
            rec.rtype
        )));
    }
    if rec.ttl < MIN_TTL {
        return Err(unprocessable("Ttl must be greater than or equal to 30."));
    }
    Ok(())
}

fn route(st: &mut State, req: &EmuRequest, action: &str, segs: &[&str]) -> Outcome {
    if action == "Unknown" {
        return err(
            404,
            "not_found",
            "The resource you requested could not be found.",
        );
    }
    if action == "ListDomains" {
        let items = st
            .domains
            .keys()
            .map(|d| json!({"name": d, "ttl": 1800, "zone_file": ""}))
            .collect();
        return page(req, "domains", items);
    }
    let domain = percent_decode(segs[2], false).to_ascii_lowercase();
    if !st.domains.contains_key(&domain) {
        return err(
            404,
            "not_found",
            "The resource you requested could not be found.",
        );
    }
    let body: Value = if req.body.is_empty() {
        Value::Null
    } else {
        if !req
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
        {
            return err(400, "bad_request", "error parsing request body");
        }
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => return err(400, "bad_request", "error parsing request body"),
        }
    };
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    match action {
        "ListRecords" => {
            let rtype = query(req, "type");
            // `name` is the fully qualified name; records carry the relative one.
            let fqdn = query(req, "name").map(|n| n.to_ascii_lowercase());
            let items = st.domains[&domain]
                .iter()
                .filter(|r| rtype.as_ref().is_none_or(|t| &r.rtype == t))
                .filter(|r| {
                    fqdn.as_ref().is_none_or(|n| {
                        let full = if r.name == "@" {
                            domain.clone()
                        } else {
                            format!("{}.{domain}", r.name)
                        };
                        &full == n
                    })
                })
                .map(record_json)
                .collect();
            page(req, "domain_records", items)
        }
        "CreateRecord" => {
            let (Some(rtype), Some(name), Some(data)) = (s("type"), s("name"), s("data")) else {
                return unprocessable("type, name and data are required");
            };
            let name = name.to_ascii_lowercase();
            if st.refused.contains(&name) {
                return unprocessable("Name conflicts with an existing CNAME record");
            }
            st.next_id += 1;
            let rec = Rec {
                id: 28_448_000 + st.next_id,
                rtype,
                name,
                data,
                ttl: body.get("ttl").and_then(Value::as_u64).unwrap_or(1800),
                priority: body.get("priority").and_then(Value::as_u64),
                weight: body.get("weight").and_then(Value::as_u64),
                tag: s("tag"),
            };
            if let Err(e) = check(&rec) {
                return e;
            }
            let out = record_json(&rec);
            st.domains
                .get_mut(&domain)
                .expect("domain checked")
                .push(rec);
            st.writes.push((action.to_owned(), body));
            reply(201, Some(&json!({ "domain_record": out })), &[])
        }
        _ => {
            let id: u64 = segs[4].parse().unwrap_or(0);
            let Some(i) = st.domains[&domain].iter().position(|r| r.id == id) else {
                return err(
                    404,
                    "not_found",
                    "The resource you requested could not be found.",
                );
            };
            let old = st.domains[&domain][i].clone();
            if st.refused.contains(&old.name) {
                return unprocessable("Name conflicts with an existing CNAME record");
            }
            if action == "DeleteRecord" {
                st.domains
                    .get_mut(&domain)
                    .expect("domain checked")
                    .remove(i);
                st.writes.push((action.to_owned(), Value::Null));
                return reply(204, None, &[]);
            }
            // PATCH and PUT both require the type (the record model's one required field).
            let Some(rtype) = s("type") else {
                return unprocessable("type is required");
            };
            if rtype != old.rtype {
                return unprocessable("Type cannot be changed");
            }
            let rec = if action == "PatchRecord" {
                Rec {
                    name: s("name")
                        .map(|n| n.to_ascii_lowercase())
                        .unwrap_or(old.name.clone()),
                    data: s("data").unwrap_or(old.data.clone()),
                    ttl: body.get("ttl").and_then(Value::as_u64).unwrap_or(old.ttl),
                    priority: body
                        .get("priority")
                        .and_then(Value::as_u64)
                        .or(old.priority),
                    weight: body.get("weight").and_then(Value::as_u64).or(old.weight),
                    tag: s("tag").or(old.tag.clone()),
                    ..old.clone()
                }
            } else {
                Rec {
                    id: old.id,
                    rtype,
                    name: s("name")
                        .map(|n| n.to_ascii_lowercase())
                        .unwrap_or(old.name.clone()),
                    data: s("data").unwrap_or_default(),
                    ttl: body.get("ttl").and_then(Value::as_u64).unwrap_or(1800),
                    priority: body.get("priority").and_then(Value::as_u64),
                    weight: body.get("weight").and_then(Value::as_u64),
                    tag: s("tag"),
                }
            };
            if let Err(e) = check(&rec) {
                return e;
            }
            let out = record_json(&rec);
            st.domains.get_mut(&domain).expect("domain checked")[i] = rec;
            st.writes.push((action.to_owned(), body));
            reply(200, Some(&json!({ "domain_record": out })), &[])
        }
    }
}
