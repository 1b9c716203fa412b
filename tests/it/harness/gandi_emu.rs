//! A local emulator of Gandi LiveDNS (API v5, under `/v5/livedns`), on the shared small
//! server (`emu_http.rs`).
//!
//! Behaviour follows api.gandi.net/docs/livedns and `shared/providers/registrars.md` §4: every
//! request needs `Authorization: Bearer <personal access token>` or the deprecated
//! `Authorization: Apikey <key>` (a wrong or expired one gets 401 with Gandi's body `{code,
//! message, object, cause}`; a token without permission on a domain gets 403); `GET
//! /domains` pages with `per_page`/`page` and says `Total-Count`; an RRset is one object
//! (`rrset_name`, `rrset_type`, `rrset_ttl`, `rrset_values`): `GET` answers 404 when there is
//! none, `PUT` creates or replaces it (201 `{"message": "DNS Record Created"}`; TTL 300 …
//! 2592000, default 10800; refused input gets 400 `{status: "error", errors: […]}`), `DELETE`
//! removes it (204). Writes need `Content-Type: application/json`. Faults (5xx with an HTML
//! body, a silent connection, 429 with Retry-After, HTML or half bodies) are served per
//! target; one name's writes can be refused (409 conflict); calls are counted per action.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};

use super::emu_http::{percent_decode, EmuReply, EmuRequest, EmuServer, Outcome, Target};

/// LiveDNS's TTL range.
pub const MIN_TTL: u64 = 300;
/// LiveDNS's TTL range.
pub const MAX_TTL: u64 = 2_592_000;

/// One RRset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RRset {
    /// Relative name, `@` at the apex.
    pub name: String,
    /// `A`, `AAAA`, `TXT`, `NS`…
    pub rtype: String,
    /// `rrset_ttl`.
    pub ttl: u64,
    /// `rrset_values`, in order.
    pub values: Vec<String>,
}

/// A fault served instead of the normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP status with an HTML body (a gateway in the way).
    Status(u16),
    /// Never answer.
    Timeout,
    /// 429 with `Retry-After: N`.
    RateLimit(u64),
    /// `200 OK` with a body that is not JSON.
    Malformed,
    /// `200 OK` with the real reply cut in half.
    Truncated,
}

/// Everything the emulator knows; lock it with [`GandiEmu::state`].
#[derive(Debug, Default)]
pub struct State {
    /// Accepted personal access tokens (`Bearer`), each with the domains it may change (empty
    /// = all).
    pub tokens: Vec<(String, Vec<String>)>,
    /// Tokens that have expired.
    pub expired: Vec<String>,
    /// Accepted API keys (`Apikey`).
    pub api_keys: Vec<String>,
    /// The LiveDNS domains, each with its RRsets.
    pub domains: BTreeMap<String, Vec<RRset>>,
    /// Calls per action (`ListDomains`, `GetRRset`, `PutRRset`, `DeleteRRset`).
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order, each to the first request its target hits.
    pub faults: VecDeque<(Target, Fault)>,
    /// The action of every request that got a fault.
    pub faulted: Vec<String>,
    /// Relative names whose writes are refused with 409.
    pub refused: Vec<String>,
    /// The `Authorization` values seen.
    pub auth_seen: Vec<String>,
    /// The bodies of the accepted PUTs, in order.
    pub puts: Vec<Value>,
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

    /// Adds a domain with the apex NS RRset LiveDNS gives it.
    pub fn add_domain(&mut self, fqdn: &str) {
        self.domains.insert(
            fqdn.to_owned(),
            vec![RRset {
                name: "@".into(),
                rtype: "NS".into(),
                ttl: 10800,
                values: vec![
                    "ns-1.gandi.net.".into(),
                    "ns-2.gandi.net.".into(),
                    "ns-3.gandi.net.".into(),
                ],
            }],
        );
    }

    /// Adds `value` to the (name, type) RRset of `fqdn` (created with `ttl`).
    pub fn add_value(&mut self, fqdn: &str, name: &str, rtype: &str, value: &str, ttl: u64) {
        let sets = self.domains.get_mut(fqdn).expect("domain exists");
        match sets.iter_mut().find(|s| s.name == name && s.rtype == rtype) {
            Some(s) => s.values.push(value.to_owned()),
            None => sets.push(RRset {
                name: name.into(),
                rtype: rtype.into(),
                ttl,
                values: vec![value.to_owned()],
            }),
        }
    }

    /// The (name, type) RRset of `fqdn`.
    pub fn rrset(&self, fqdn: &str, name: &str, rtype: &str) -> Option<RRset> {
        self.domains
            .get(fqdn)?
            .iter()
            .find(|s| s.name == name && s.rtype == rtype)
            .cloned()
    }

    /// The sorted values of (name, type).
    pub fn values(&self, fqdn: &str, name: &str, rtype: &str) -> Vec<String> {
        let mut v = self
            .rrset(fqdn, name, rtype)
            .map(|s| s.values)
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Every RRset of `fqdn` other than (name, type).
    pub fn others(&self, fqdn: &str, name: &str, rtype: &str) -> Vec<RRset> {
        self.domains
            .get(fqdn)
            .map(|sets| {
                sets.iter()
                    .filter(|s| !(s.name == name && s.rtype == rtype))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A running emulator; stops on drop.
pub struct GandiEmu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl GandiEmu {
    /// Starts an emulator with no credential and no domain.
    pub fn start() -> GandiEmu {
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        GandiEmu { server, state }
    }

    /// `http://127.0.0.1:PORT/v5/livedns`, the value for `endpoint`.
    pub fn endpoint(&self) -> String {
        format!("{}/v5/livedns", self.server.endpoint())
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

/// Gandi's error body.
fn err(status: u16, message: &str) -> Outcome {
    let (object, cause) = match status {
        400 => ("HTTPBadRequest", "Bad Request"),
        401 => ("HTTPUnauthorized", "Unauthorized"),
        403 => ("HTTPForbidden", "Forbidden"),
        404 => ("HTTPNotFound", "Not Found"),
        409 => ("HTTPConflict", "Conflict"),
        429 => ("HTTPTooManyRequests", "Too Many Requests"),
        _ => ("HTTPError", "Error"),
    };
    json_reply(
        status,
        &json!({"code": status, "message": message, "object": object, "cause": cause}),
    )
}

fn invalid(name: &str, description: &str) -> Outcome {
    json_reply(
        400,
        &json!({"status": "error",
                "errors": [{"location": "body", "name": name, "description": description}]}),
    )
}

const UNAUTHORIZED: &str = "The server could not verify that you authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad api key), or your access token has expired";

/// The action of a request, and whether it only reads.
fn action_of(method: &str, segs: &[&str]) -> (&'static str, bool) {
    match (method, segs) {
        ("GET", ["v5", "livedns", "domains"]) => ("ListDomains", true),
        ("GET", ["v5", "livedns", "domains", _, "records", _, _]) => ("GetRRset", true),
        ("PUT", ["v5", "livedns", "domains", _, "records", _, _]) => ("PutRRset", false),
        ("DELETE", ["v5", "livedns", "domains", _, "records", _, _]) => ("DeleteRRset", false),
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
                body: format!("<html><body><h1>{code}</h1>nginx</body></html>").into_bytes(),
            })
        }
        Some(Fault::RateLimit(secs)) => {
            return match err(429, "Too many requests") {
                Outcome::Reply(mut r) => {
                    r.headers.push(("Retry-After".into(), secs.to_string()));
                    Outcome::Reply(r)
                }
                other => other,
            }
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
    let reply = match authenticate(&st, req) {
        Err(e) => e,
        Ok(scope) => route(&mut st, req, action, &segs, &scope),
    };
    match (fault, reply) {
        (Some(Fault::Truncated), Outcome::Reply(r)) => Outcome::Reply(EmuReply {
            status: 200,
            headers: r.headers,
            body: r.body[..r.body.len() / 2].to_vec(),
        }),
        (_, r) => r,
    }
}

/// The domains the credential may change (empty = all), or the error answer.
fn authenticate(st: &State, req: &EmuRequest) -> Result<Vec<String>, Outcome> {
    let h = req.header("authorization").unwrap_or("");
    if let Some(t) = h.strip_prefix("Bearer ") {
        if st.expired.iter().any(|e| e == t) {
            return Err(err(401, UNAUTHORIZED));
        }
        if let Some((_, scope)) = st.tokens.iter().find(|(k, _)| k == t) {
            return Ok(scope.clone());
        }
    } else if let Some(k) = h.strip_prefix("Apikey ") {
        if st.api_keys.iter().any(|a| a == k) {
            return Ok(Vec::new());
        }
    }
    Err(err(401, UNAUTHORIZED))
}

fn query(req: &EmuRequest, name: &str) -> Option<String> {
    req.query()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn route(
    st: &mut State,
    req: &EmuRequest,
    action: &str,
    segs: &[&str],
    scope: &[String],
) -> Outcome {
    if action == "Unknown" {
        return err(404, "The resource could not be found.");
    }
    if action == "ListDomains" {
        let per_page: usize = query(req, "per_page")
            .and_then(|v| v.parse().ok())
            .unwrap_or(100);
        let page: usize = query(req, "page")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1)
            .max(1);
        let visible: Vec<&String> = st
            .domains
            .keys()
            .filter(|d| scope.is_empty() || scope.contains(d))
            .collect();
        let items: Vec<Value> = visible
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .map(|d| {
                json!({"fqdn": d, "automatic_snapshots": true,
                       "domain_href": format!("https://api.gandi.net/v5/livedns/domains/{d}"),
                       "domain_keys_href": format!("https://api.gandi.net/v5/livedns/domains/{d}/keys"),
                       "domain_records_href": format!("https://api.gandi.net/v5/livedns/domains/{d}/records")})
            })
            .collect();
        return match json_reply(200, &Value::Array(items)) {
            Outcome::Reply(mut r) => {
                r.headers
                    .push(("Total-Count".into(), visible.len().to_string()));
                Outcome::Reply(r)
            }
            other => other,
        };
    }
    let fqdn = percent_decode(segs[3], false).to_ascii_lowercase();
    let name = percent_decode(segs[5], false).to_ascii_lowercase();
    let rtype = percent_decode(segs[6], false);
    if !st.domains.contains_key(&fqdn) {
        return err(404, "The resource could not be found.");
    }
    if !scope.is_empty() && !scope.contains(&fqdn) {
        return err(403, "Access was denied to this resource.");
    }
    match action {
        "GetRRset" => match st.rrset(&fqdn, &name, &rtype) {
            None => err(404, "The resource could not be found."),
            Some(s) => json_reply(
                200,
                &json!({"rrset_name": s.name, "rrset_type": s.rtype, "rrset_ttl": s.ttl,
                        "rrset_values": s.values,
                        "rrset_href": format!("https://api.gandi.net/v5/livedns/domains/{fqdn}/records/{}/{}", s.name, s.rtype)}),
            ),
        },
        "PutRRset" => {
            if req.header("content-type") != Some("application/json") {
                return err(400, "The Content-Type header must be application/json");
            }
            let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
                return invalid("body", "Invalid JSON");
            };
            let Some(values) = body.get("rrset_values").and_then(Value::as_array) else {
                return invalid("rrset_values", "Required");
            };
            let mut new = Vec::new();
            for v in values {
                let Some(text) = v.as_str() else {
                    return invalid("rrset_values", "not a string");
                };
                let ok = match rtype.as_str() {
                    "A" => text.parse::<std::net::Ipv4Addr>().is_ok(),
                    "AAAA" => text.parse::<std::net::Ipv6Addr>().is_ok(),
                    _ => true,
                };
                if !ok {
                    return invalid(
                        "rrset_values",
                        &format!("{text:?} is not a valid {rtype} value"),
                    );
                }
                new.push(text.to_owned());
            }
            if new.is_empty() {
                return invalid("rrset_values", "must contain at least one value");
            }
            let ttl = match body.get("rrset_ttl") {
                None => 10800,
                Some(t) => match t.as_u64() {
                    Some(t) if (MIN_TTL..=MAX_TTL).contains(&t) => t,
                    _ => {
                        return invalid(
                            "rrset_ttl",
                            &format!("must be an integer between {MIN_TTL} and {MAX_TTL}"),
                        )
                    }
                },
            };
            if st.refused.contains(&name) {
                return err(
                    409,
                    "A record with that name already exists and conflicts with this one (CNAME)",
                );
            }
            st.puts.push(body.clone());
            let sets = st.domains.get_mut(&fqdn).expect("domain checked");
            sets.retain(|s| !(s.name == name && s.rtype == rtype));
            sets.push(RRset {
                name,
                rtype,
                ttl,
                values: new,
            });
            json_reply(201, &json!({"message": "DNS Record Created"}))
        }
        _ => {
            // DeleteRRset
            if st.refused.contains(&name) {
                return err(
                    409,
                    "A record with that name conflicts with this one (CNAME)",
                );
            }
            let sets = st.domains.get_mut(&fqdn).expect("domain checked");
            let before = sets.len();
            sets.retain(|s| !(s.name == name && s.rtype == rtype));
            if sets.len() == before {
                return err(404, "The resource could not be found.");
            }
            Outcome::Reply(EmuReply {
                status: 204,
                headers: Vec::new(),
                body: Vec::new(),
            })
        }
    }
}
