//! A local emulator of deSEC's REST API (`/api/v1`, desec-stack `docs/dns/*.rst`) over one
//! account: `Authorization: Token …` checked (401 `{"detail": "Invalid token."}`), domains with
//! their `minimum_ttl`, `GET /domains/[?owns_qname=]`, `GET /domains/{d}/`, and RRsets —
//! list with `subname`/`type` filters, create (`POST`, 201; 400 when it exists or the TTL is
//! below the minimum), one RRset (`GET`/`PATCH`/`PUT`/`DELETE` on `…/rrsets/{subname}/{type}/`,
//! `@` = the apex; a `PATCH` with `"records": []` deletes, 204). Records are canonicalised as
//! deSEC does (addresses re-printed). Lists page with cursor `Link` headers at `page_size`
//! items (deSEC: 500); a list longer than a page asked without `cursor` is the real 400
//! "Pagination required" with a `first` link. Writes to refused names get the 403 of a token
//! scoping policy. Throttling: an optional per-domain write rate in the sliding-window fashion
//! of deSEC's `dns_api_per_domain_expensive` scope (429, `Retry-After`, DRF's text), plus
//! injected faults (5xx, silence, 429, HTML and cut bodies). Calls counted per action.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::emu_http::{percent_decode, EmuReply, EmuRequest, EmuServer, Outcome, Target};

/// One RRset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RrSet {
    /// TTL.
    pub ttl: u64,
    /// Records in presentation format.
    pub records: Vec<String>,
}

/// One domain.
#[derive(Clone, Debug)]
pub struct Domain {
    /// `minimum_ttl`.
    pub minimum_ttl: u64,
    /// RRsets by (subname, type).
    pub rrsets: BTreeMap<(String, String), RrSet>,
}

/// A fault served instead of the normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// This HTTP status with an HTML body.
    Status(u16),
    /// Never answer.
    Timeout,
    /// 429 with `Retry-After` seconds.
    Throttle(u64),
    /// 200 with an HTML body (nothing applied).
    Malformed,
    /// The real answer cut in half (a write is applied).
    Truncated,
}

/// Everything the emulator knows; lock it with [`DesecEmu::state`].
#[derive(Debug)]
pub struct State {
    /// The account's token.
    pub token: String,
    /// Domains by name.
    pub domains: BTreeMap<String, Domain>,
    /// Writes to these FQDNs are refused by the token's policy (403).
    pub refused: BTreeSet<String>,
    /// Items per list page (deSEC: 500).
    pub page_size: usize,
    /// Writes allowed per domain within `write_window` (None = unlimited).
    pub write_limit: Option<(usize, Duration)>,
    /// The sliding window's history per domain.
    pub write_history: BTreeMap<String, VecDeque<Instant>>,
    /// Calls per action (`find domain`, `read rrset`, `create rrset`, …).
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order, each to the first request its target hits.
    pub faults: VecDeque<(Target, Fault)>,
    /// The action of every request that got a fault.
    pub faulted: Vec<String>,
    /// The JSON body of every write, with its action.
    pub bodies: Vec<(String, Value)>,
}

impl State {
    /// Adds a domain with `minimum_ttl` and its apex NS RRset.
    pub fn add_domain(&mut self, name: &str, minimum_ttl: u64) {
        let mut rrsets = BTreeMap::new();
        rrsets.insert(
            (String::new(), "NS".to_owned()),
            RrSet {
                ttl: 3600,
                records: vec!["ns1.desec.io.".into(), "ns2.desec.org.".into()],
            },
        );
        self.domains.insert(
            name.to_owned(),
            Domain {
                minimum_ttl,
                rrsets,
            },
        );
    }

    /// Sets an RRset (`@` or "" = apex).
    pub fn set(&mut self, domain: &str, subname: &str, rtype: &str, ttl: u64, records: &[&str]) {
        let sub = if subname == "@" { "" } else { subname };
        self.domains
            .get_mut(domain)
            .expect("domain exists")
            .rrsets
            .insert(
                (sub.to_owned(), rtype.to_owned()),
                RrSet {
                    ttl,
                    records: records.iter().map(|r| canonical(rtype, r)).collect(),
                },
            );
    }

    /// The RRset (`@` = apex), if any.
    pub fn get(&self, domain: &str, subname: &str, rtype: &str) -> Option<RrSet> {
        let sub = if subname == "@" { "" } else { subname };
        self.domains
            .get(domain)?
            .rrsets
            .get(&(sub.to_owned(), rtype.to_owned()))
            .cloned()
    }

    /// Calls of `action`.
    pub fn count(&self, action: &str) -> u32 {
        self.calls.get(action).copied().unwrap_or(0)
    }
}

/// A running emulator; stops on drop.
pub struct DesecEmu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl DesecEmu {
    /// Starts an emulator for the account holding `token`, with no domain.
    pub fn start(token: &str) -> DesecEmu {
        let state = Arc::new(Mutex::new(State {
            token: token.to_owned(),
            domains: BTreeMap::new(),
            refused: BTreeSet::new(),
            page_size: 500,
            write_limit: None,
            write_history: BTreeMap::new(),
            calls: BTreeMap::new(),
            faults: VecDeque::new(),
            faulted: Vec::new(),
            bodies: Vec::new(),
        }));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        DesecEmu { server, state }
    }

    /// `http://127.0.0.1:PORT/api/v1`.
    pub fn endpoint(&self) -> String {
        format!("{}/api/v1", self.server.endpoint())
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

/// deSEC's canonical form of a record (addresses re-printed; others as given).
fn canonical(rtype: &str, r: &str) -> String {
    match rtype {
        "A" | "AAAA" => r
            .parse::<std::net::IpAddr>()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| r.to_owned()),
        _ => r.to_owned(),
    }
}

fn reply(status: u16, body: Option<Value>, extra: Vec<(String, String)>) -> Outcome {
    let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    headers.extend(extra);
    Outcome::Reply(EmuReply {
        status,
        headers,
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
    })
}

fn detail(status: u16, text: &str) -> Outcome {
    reply(status, Some(json!({ "detail": text })), Vec::new())
}

fn rrset_json(domain: &str, sub: &str, rtype: &str, r: &RrSet) -> Value {
    let name = if sub.is_empty() {
        format!("{domain}.")
    } else {
        format!("{sub}.{domain}.")
    };
    json!({
        "created": "2024-01-01T00:00:00.000000Z",
        "domain": domain,
        "subname": sub,
        "name": name,
        "type": rtype,
        "records": r.records,
        "ttl": r.ttl,
        "touched": "2024-01-01T00:00:00.000000Z",
    })
}

fn domain_json(name: &str, d: &Domain) -> Value {
    json!({
        "created": "2024-01-01T00:00:00.000000Z",
        "published": "2024-01-01T00:00:00.000000Z",
        "name": name,
        "minimum_ttl": d.minimum_ttl,
        "touched": "2024-01-01T00:00:00.000000Z",
    })
}

/// What a request does: (action, read).
fn action_of(method: &str, parts: &[String]) -> (String, bool) {
    let read = method == "GET";
    let a = match (method, parts.len()) {
        ("GET", 1) => "find domain",
        ("GET", 2) => "get domain",
        ("GET", 3) => "read rrset",
        ("GET", 5) => "get rrset",
        ("POST", 3) => "create rrset",
        ("PATCH", 5) => "modify rrset",
        ("PUT", 5) => "replace rrset",
        ("DELETE", 5) => "delete rrset",
        ("PATCH", 3) | ("PUT", 3) => "bulk rrsets",
        _ => "unknown",
    };
    (a.to_owned(), read)
}

fn handle(req: &EmuRequest, state: &Arc<Mutex<State>>) -> Outcome {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    // Paths: /api/v1/domains/ [name/ [rrsets/ [subname/type/]]] (every path ends with '/').
    let Some(rest) = req.path.strip_prefix("/api/v1/") else {
        return detail(404, "Not found.");
    };
    if !rest.ends_with('/') {
        // Django's APPEND_SLASH: a redirect the client must not follow blindly.
        return detail(404, "Not found.");
    }
    let parts: Vec<String> = rest
        .trim_end_matches('/')
        .split('/')
        .map(|p| percent_decode(p, false))
        .collect();
    if parts.first().map(String::as_str) != Some("domains")
        || (parts.len() >= 3 && parts[2] != "rrsets")
        || parts.len() == 4
        || parts.len() > 5
    {
        return detail(404, "Not found.");
    }
    let (action, read) = action_of(&req.method, &parts);
    *st.calls.entry(action.clone()).or_default() += 1;
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
        Some(Fault::Throttle(secs)) => {
            return throttled(*secs);
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

fn throttled(secs: u64) -> Outcome {
    let unit = if secs == 1 { "second" } else { "seconds" };
    reply(
        429,
        Some(
            json!({ "detail": format!("Request was throttled. Expected available in {secs} {unit}.") }),
        ),
        vec![("Retry-After".into(), secs.to_string())],
    )
}

fn serve(st: &mut State, req: &EmuRequest, parts: &[String], action: &str) -> Outcome {
    match req.header("authorization") {
        Some(h) if h == format!("Token {}", st.token) => {}
        Some(_) => return detail(401, "Invalid token."),
        None => return detail(401, "Authentication credentials were not provided."),
    }
    let q: BTreeMap<String, String> = req.query().into_iter().collect();
    if parts.len() == 1 {
        if req.method != "GET" {
            return detail(405, &format!("Method \"{}\" not allowed.", req.method));
        }
        let mut names: Vec<&String> = st.domains.keys().collect();
        if let Some(qname) = q.get("owns_qname") {
            let qname = qname.trim_end_matches('.').to_ascii_lowercase();
            // The one responsible domain: the longest that owns the name.
            names = names
                .into_iter()
                .filter(|d| qname == **d || qname.ends_with(&format!(".{d}")))
                .max_by_key(|d| d.len())
                .into_iter()
                .collect();
        }
        let items: Vec<Value> = names
            .into_iter()
            .map(|n| domain_json(n, &st.domains[n]))
            .collect();
        return paginate(st, req, &q, items);
    }
    let dname = parts[1].to_ascii_lowercase();
    let Some(domain) = st.domains.get(&dname).cloned() else {
        return detail(404, "Not found.");
    };
    if parts.len() == 2 {
        return match req.method.as_str() {
            "GET" => reply(200, Some(domain_json(&dname, &domain)), Vec::new()),
            m => detail(405, &format!("Method \"{m}\" not allowed.")),
        };
    }
    if req.method != "GET" {
        if let Some(out) = throttle_write(st, &dname) {
            return out;
        }
    }
    if parts.len() == 3 {
        return match req.method.as_str() {
            "GET" => {
                let items: Vec<Value> = domain
                    .rrsets
                    .iter()
                    .filter(|((s, t), _)| {
                        q.get("subname").is_none_or(|want| want == s)
                            && q.get("type").is_none_or(|want| want == t)
                    })
                    .map(|((s, t), r)| rrset_json(&dname, s, t, r))
                    .collect();
                paginate(st, req, &q, items)
            }
            "POST" => create(st, req, &dname, action),
            m => detail(405, &format!("Method \"{m}\" not allowed.")),
        };
    }
    let sub = if parts[3] == "@" {
        String::new()
    } else {
        parts[3].clone()
    };
    let rtype = parts[4].clone();
    let key = (sub.clone(), rtype.clone());
    match req.method.as_str() {
        "GET" => match domain.rrsets.get(&key) {
            Some(r) => reply(200, Some(rrset_json(&dname, &sub, &rtype, r)), Vec::new()),
            None => detail(404, "Not found."),
        },
        "DELETE" => {
            if let Some(out) = refuse(st, &dname, &sub) {
                return out;
            }
            if let Some(d) = st.domains.get_mut(&dname) {
                d.rrsets.remove(&key);
            }
            reply(204, None, Vec::new())
        }
        "PATCH" | "PUT" => {
            let Some(existing) = domain.rrsets.get(&key).cloned() else {
                return detail(404, "Not found.");
            };
            if let Some(out) = refuse(st, &dname, &sub) {
                return out;
            }
            let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
                return detail(400, "JSON parse error");
            };
            st.bodies.push((action.to_owned(), body.clone()));
            if req.method == "PUT" && (body.get("ttl").is_none() || body.get("records").is_none()) {
                return reply(
                    400,
                    Some(json!({"ttl": ["This field is required."]})),
                    Vec::new(),
                );
            }
            let ttl = body
                .get("ttl")
                .and_then(Value::as_u64)
                .unwrap_or(existing.ttl);
            let records = match body.get("records") {
                None => existing.records.clone(),
                Some(v) => match records_of(&rtype, v) {
                    Ok(r) => r,
                    Err(out) => return out,
                },
            };
            if records.is_empty() {
                if let Some(d) = st.domains.get_mut(&dname) {
                    d.rrsets.remove(&key);
                }
                return reply(204, None, Vec::new());
            }
            if let Some(out) = ttl_check(ttl, domain.minimum_ttl) {
                return out;
            }
            let r = RrSet { ttl, records };
            let json = rrset_json(&dname, &sub, &rtype, &r);
            if let Some(d) = st.domains.get_mut(&dname) {
                d.rrsets.insert(key, r);
            }
            reply(200, Some(json), Vec::new())
        }
        m => detail(405, &format!("Method \"{m}\" not allowed.")),
    }
}

fn create(st: &mut State, req: &EmuRequest, dname: &str, action: &str) -> Outcome {
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return detail(400, "JSON parse error");
    };
    st.bodies.push((action.to_owned(), body.clone()));
    let sub = body
        .get("subname")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if let Some(out) = refuse(st, dname, &sub) {
        return out;
    }
    let Some(rtype) = body.get("type").and_then(Value::as_str).map(str::to_owned) else {
        return reply(
            400,
            Some(json!({"type": ["This field is required."]})),
            Vec::new(),
        );
    };
    let Some(ttl) = body.get("ttl").and_then(Value::as_u64) else {
        return reply(
            400,
            Some(json!({"ttl": ["This field is required."]})),
            Vec::new(),
        );
    };
    let records = match body.get("records").map(|v| records_of(&rtype, v)) {
        Some(Ok(r)) => r,
        Some(Err(out)) => return out,
        None => {
            return reply(
                400,
                Some(json!({"records": ["This field is required."]})),
                Vec::new(),
            )
        }
    };
    let minimum = st.domains[dname].minimum_ttl;
    if let Some(out) = ttl_check(ttl, minimum) {
        return out;
    }
    let key = (sub.clone(), rtype.clone());
    if st.domains[dname].rrsets.contains_key(&key) {
        return reply(
            400,
            Some(
                json!({"non_field_errors": ["Another RRset with the same subdomain and type exists for this domain. (Try modifying it.)"]}),
            ),
            Vec::new(),
        );
    }
    let r = RrSet { ttl, records };
    let json = rrset_json(dname, &sub, &rtype, &r);
    if let Some(d) = st.domains.get_mut(dname) {
        d.rrsets.insert(key, r);
    }
    reply(201, Some(json), Vec::new())
}

fn records_of(rtype: &str, v: &Value) -> Result<Vec<String>, Outcome> {
    let Some(list) = v.as_array() else {
        return Err(reply(
            400,
            Some(json!({"records": ["Expected a list of items."]})),
            Vec::new(),
        ));
    };
    let mut out = BTreeSet::new();
    for r in list {
        let text = r.as_str().unwrap_or("");
        let ok = match rtype {
            "A" => text.parse::<std::net::Ipv4Addr>().is_ok(),
            "AAAA" => text.parse::<std::net::Ipv6Addr>().is_ok(),
            _ => !text.is_empty(),
        };
        if !ok {
            return Err(reply(
                400,
                Some(
                    json!({"records": [format!("Record content for type {rtype} malformed: {text}")]}),
                ),
                Vec::new(),
            ));
        }
        out.insert(canonical(rtype, text));
    }
    Ok(out.into_iter().collect())
}

fn ttl_check(ttl: u64, minimum: u64) -> Option<Outcome> {
    if ttl < minimum {
        return Some(reply(
            400,
            Some(
                json!({"ttl": [format!("Ensure this value is greater than or equal to {minimum}.")]}),
            ),
            Vec::new(),
        ));
    }
    if ttl > 86_400 {
        return Some(reply(
            400,
            Some(json!({"ttl": ["Ensure this value is less than or equal to 86400."]})),
            Vec::new(),
        ));
    }
    None
}

fn refuse(st: &State, dname: &str, sub: &str) -> Option<Outcome> {
    let fqdn = if sub.is_empty() {
        dname.to_owned()
    } else {
        format!("{sub}.{dname}")
    };
    st.refused
        .contains(&fqdn)
        .then(|| detail(403, "Insufficient token permissions."))
}

/// deSEC's per-domain write throttle (a sliding window, like `ScopedRatesThrottle`).
fn throttle_write(st: &mut State, dname: &str) -> Option<Outcome> {
    let (limit, window) = st.write_limit?;
    let now = Instant::now();
    let h = st.write_history.entry(dname.to_owned()).or_default();
    while h.back().is_some_and(|t| now.duration_since(*t) >= window) {
        h.pop_back();
    }
    if h.len() >= limit {
        let oldest = *h.back()?;
        let wait = window.saturating_sub(now.duration_since(oldest));
        return Some(throttled(wait.as_secs_f64().ceil() as u64));
    }
    h.push_front(now);
    None
}

/// A list reply, paginated as deSEC's `LinkHeaderCursorPagination` does (the cursor here is
/// the offset, base-10; deSEC's is opaque).
fn paginate(
    st: &State,
    req: &EmuRequest,
    q: &BTreeMap<String, String>,
    items: Vec<Value>,
) -> Outcome {
    let size = st.page_size.max(1);
    let base = |cursor: &str| {
        let mut params: Vec<String> = req
            .query()
            .into_iter()
            .filter(|(k, _)| k != "cursor")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        params.push(format!("cursor={cursor}"));
        format!(
            "http://{}{}?{}",
            req.header("host").unwrap_or("localhost"),
            req.path,
            params.join("&")
        )
    };
    if items.len() <= size && !q.contains_key("cursor") {
        return reply(200, Some(Value::Array(items)), Vec::new());
    }
    let Some(cursor) = q.get("cursor") else {
        let link = format!("<{}>; rel=\"first\"", base(""));
        return reply(
            400,
            Some(
                json!({"detail": format!("Pagination required. You can query up to {size} items at a time ({} total). Please use the `first` page link (see Link header).", items.len())}),
            ),
            vec![("Link".into(), link)],
        );
    };
    let start: usize = cursor.parse().unwrap_or(0);
    let page: Vec<Value> = items.iter().skip(start).take(size).cloned().collect();
    let mut links = vec![format!("<{}>; rel=\"first\"", base(""))];
    if start > 0 {
        links.push(format!(
            "<{}>; rel=\"prev\"",
            base(&start.saturating_sub(size).to_string())
        ));
    }
    if start + size < items.len() {
        links.push(format!(
            "<{}>; rel=\"next\"",
            base(&(start + size).to_string())
        ));
    }
    reply(
        200,
        Some(Value::Array(page)),
        vec![("Link".into(), links.join(", "))],
    )
}
