//! A local emulator of the Hetzner Cloud API's DNS part (zones, RRsets, zone actions) under
//! `/v1`, on the shared small server (`emu_http.rs`).
//!
//! Behaviour follows hcloud-go (`zone.go`, `zone_rrset.go`, `schema/`, `error.go`) and
//! `shared/providers/hosting-dns.md` §1.1: every request needs `Authorization: Bearer <token>`
//! of the project (401 `unauthorized` otherwise; a read-only token gets 403
//! `token_readonly` on writes); errors are `{"error": {code, message, details}}`; every reply
//! carries `RateLimit-Limit` / `-Remaining` / `-Reset` (a 429 `rate_limit_exceeded` has no
//! Retry-After); lists page with `page`/`per_page` (at most 50) and
//! `meta.pagination.next_page`; zones are addressed by id or name, RRsets by name and type.
//! `POST …/rrsets` creates (409 `uniqueness_error` when it exists), `set_records` replaces
//! the values, `change_ttl` the TTL, `DELETE` removes; writes answer 201 with an action that
//! is `success` at once, or `running` for a set number of polls of `GET
//! /zones/actions/{id}`, or `error`. Faults (5xx with an HTML body, a silent connection, 429,
//! HTML or half bodies) are served per target; one name's writes can be refused
//! (`invalid_input`), RRsets can be change-protected; calls are counted per action.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::emu_http::{percent_decode, EmuReply, EmuRequest, EmuServer, Outcome, Target};

/// The project's request budget per hour (sent as `RateLimit-Limit`).
pub const LIMIT: u64 = 3600;

/// One value of an RRset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The value.
    pub value: String,
    /// Its comment ("" = none).
    pub comment: String,
}

/// One RRset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RRset {
    /// Relative name, `@` at the apex.
    pub name: String,
    /// `A`, `AAAA`, `TXT`…
    pub rtype: String,
    /// TTL; `None` = the zone's default.
    pub ttl: Option<u64>,
    /// Its values.
    pub records: Vec<Record>,
    /// Labels (kept by every call ddnsd makes).
    pub labels: BTreeMap<String, String>,
    /// Change protection.
    pub protected: bool,
}

/// One zone.
#[derive(Clone, Debug)]
pub struct Zone {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its RRsets.
    pub rrsets: Vec<RRset>,
}

/// A fault served instead of the normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP status with an HTML body (a gateway in the way).
    Status(u16),
    /// Never answer.
    Timeout,
    /// 429 `rate_limit_exceeded`, the budget refilling one request every N seconds
    /// (`RateLimit-Limit` = 3600 / N).
    RateLimit(u64),
    /// `200 OK` with a body that is not JSON.
    Malformed,
    /// `200 OK` with the real reply cut in half.
    Truncated,
}

/// Everything the emulator knows; lock it with [`HetznerEmu::state`].
#[derive(Debug, Default)]
pub struct State {
    /// Read & Write tokens.
    pub tokens: Vec<String>,
    /// Read-only tokens.
    pub readonly: Vec<String>,
    /// The project's zones.
    pub zones: Vec<Zone>,
    /// Calls per action (`ListZones`, `ListRRSets`, `CreateRRSet`, `SetRecords`, `ChangeTTL`,
    /// `DeleteRRSet`, `GetAction`).
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order, each to the first request its target hits.
    pub faults: VecDeque<(Target, Fault)>,
    /// The action of every request that got a fault.
    pub faulted: Vec<String>,
    /// Relative names whose writes are refused with `invalid_input`.
    pub refused: Vec<String>,
    /// New actions stay `running` for this many polls.
    pub running_polls: u32,
    /// The next write's action ends in this error (code, message).
    pub fail_next_action: Option<(String, String)>,
    /// The request bodies of accepted writes, in order (action, body).
    pub writes: Vec<(String, Value)>,
    /// The `Authorization` values seen.
    pub auth_seen: Vec<String>,
    actions: BTreeMap<u64, (u32, Value)>,
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

    /// Adds a zone with its SOA and the NS RRset Hetzner gives it.
    pub fn add_zone(&mut self, name: &str) {
        self.next_id += 1;
        let rec = |v: &str| Record {
            value: v.to_owned(),
            comment: String::new(),
        };
        self.zones.push(Zone {
            id: 100 + self.next_id,
            name: name.to_owned(),
            rrsets: vec![
                RRset {
                    name: "@".into(),
                    rtype: "SOA".into(),
                    ttl: None,
                    records: vec![rec("hydrogen.ns.hetzner.com. dns.hetzner.com. 2025110901 86400 10800 3600000 3600")],
                    labels: BTreeMap::new(),
                    protected: false,
                },
                RRset {
                    name: "@".into(),
                    rtype: "NS".into(),
                    ttl: None,
                    records: ["hydrogen.ns.hetzner.com.", "oxygen.ns.hetzner.com.", "helium.ns.hetzner.de."]
                        .iter()
                        .map(|v| rec(v))
                        .collect(),
                    labels: BTreeMap::new(),
                    protected: false,
                },
            ],
        });
    }

    /// Adds a value (with `comment`) to the (name, type) RRset of `zone` (created with `ttl`).
    pub fn add_value(
        &mut self,
        zone: &str,
        name: &str,
        rtype: &str,
        value: &str,
        ttl: Option<u64>,
        comment: &str,
    ) {
        let z = self
            .zones
            .iter_mut()
            .find(|z| z.name == zone)
            .expect("zone exists");
        let record = Record {
            value: value.to_owned(),
            comment: comment.to_owned(),
        };
        match z
            .rrsets
            .iter_mut()
            .find(|s| s.name == name && s.rtype == rtype)
        {
            Some(s) => s.records.push(record),
            None => z.rrsets.push(RRset {
                name: name.into(),
                rtype: rtype.into(),
                ttl,
                records: vec![record],
                labels: BTreeMap::new(),
                protected: false,
            }),
        }
    }

    /// The (name, type) RRset of `zone`.
    pub fn rrset(&self, zone: &str, name: &str, rtype: &str) -> Option<RRset> {
        self.zones
            .iter()
            .find(|z| z.name == zone)?
            .rrsets
            .iter()
            .find(|s| s.name == name && s.rtype == rtype)
            .cloned()
    }

    /// Mutable access to the (name, type) RRset of `zone`.
    pub fn rrset_mut(&mut self, zone: &str, name: &str, rtype: &str) -> Option<&mut RRset> {
        self.zones
            .iter_mut()
            .find(|z| z.name == zone)?
            .rrsets
            .iter_mut()
            .find(|s| s.name == name && s.rtype == rtype)
    }

    /// The sorted values of (name, type).
    pub fn values(&self, zone: &str, name: &str, rtype: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .rrset(zone, name, rtype)
            .map(|s| s.records.into_iter().map(|r| r.value).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Every RRset of `zone` other than (name, type).
    pub fn others(&self, zone: &str, name: &str, rtype: &str) -> Vec<RRset> {
        self.zones
            .iter()
            .find(|z| z.name == zone)
            .map(|z| {
                z.rrsets
                    .iter()
                    .filter(|s| !(s.name == name && s.rtype == rtype))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    fn new_action(&mut self, command: &str, zone_id: u64) -> Value {
        self.next_id += 1;
        let id = 10_000 + self.next_id;
        let (status, error) = match self.fail_next_action.take() {
            Some((code, message)) => ("error", json!({"code": code, "message": message})),
            None if self.running_polls > 0 => ("running", Value::Null),
            None => ("success", Value::Null),
        };
        let action = json!({"id": id, "command": command, "status": status,
                            "progress": if status == "running" { 0 } else { 100 },
                            "started": "2025-11-10T10:00:00Z",
                            "finished": if status == "running" { Value::Null } else { json!("2025-11-10T10:00:01Z") },
                            "resources": [{"id": zone_id, "type": "zone"}], "error": error});
        self.actions
            .insert(id, (self.running_polls, action.clone()));
        action
    }
}

/// A running emulator; stops on drop.
pub struct HetznerEmu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl HetznerEmu {
    /// Starts an emulator with no token and no zone.
    pub fn start() -> HetznerEmu {
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        HetznerEmu { server, state }
    }

    /// `http://127.0.0.1:PORT/v1`, the value for `endpoint`.
    pub fn endpoint(&self) -> String {
        format!("{}/v1", self.server.endpoint())
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

fn json_reply(status: u16, v: &Value, limit: u64, remaining: u64) -> Outcome {
    Outcome::Reply(EmuReply {
        status,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("RateLimit-Limit".into(), limit.to_string()),
            ("RateLimit-Remaining".into(), remaining.to_string()),
            (
                "RateLimit-Reset".into(),
                (now() + 3600 / limit.max(1) * (limit - remaining)).to_string(),
            ),
        ],
        body: serde_json::to_vec(v).expect("json"),
    })
}

fn ok(status: u16, v: &Value) -> Outcome {
    json_reply(status, v, LIMIT, LIMIT - 1)
}

fn err(status: u16, code: &str, message: &str) -> Outcome {
    ok(
        status,
        &json!({"error": {"code": code, "message": message, "details": {}}}),
    )
}

fn invalid(field: &str, message: &str) -> Outcome {
    ok(
        400,
        &json!({"error": {"code": "invalid_input", "message": format!("invalid input in field '{field}'"),
                          "details": {"fields": [{"name": field, "messages": [message]}]}}}),
    )
}

/// The action of a request, and whether it only reads.
fn action_of(method: &str, segs: &[&str]) -> (&'static str, bool) {
    match (method, segs) {
        ("GET", ["v1", "zones"]) => ("ListZones", true),
        ("GET", ["v1", "zones", "actions", _]) => ("GetAction", true),
        ("GET", ["v1", "zones", _, "rrsets"]) => ("ListRRSets", true),
        ("POST", ["v1", "zones", _, "rrsets"]) => ("CreateRRSet", false),
        ("POST", ["v1", "zones", _, "rrsets", _, _, "actions", "set_records"]) => {
            ("SetRecords", false)
        }
        ("POST", ["v1", "zones", _, "rrsets", _, _, "actions", "change_ttl"]) => {
            ("ChangeTTL", false)
        }
        ("DELETE", ["v1", "zones", _, "rrsets", _, _]) => ("DeleteRRSet", false),
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
                body: format!("<html><body><h1>{code}</h1></body></html>").into_bytes(),
            })
        }
        Some(Fault::RateLimit(secs)) => {
            return json_reply(
                429,
                &json!({"error": {"code": "rate_limit_exceeded",
                                  "message": "limit of requests per hour reached", "details": {}}}),
                LIMIT / secs.max(&1),
                0,
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
    let reply = if st.tokens.iter().any(|t| t == token) {
        route(&mut st, req, action, &segs)
    } else if st.readonly.iter().any(|t| t == token) {
        if read {
            route(&mut st, req, action, &segs)
        } else {
            err(
                403,
                "token_readonly",
                "The token is only allowed to perform GET requests",
            )
        }
    } else {
        err(401, "unauthorized", "unable to authenticate")
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

fn query(req: &EmuRequest, name: &str) -> Option<String> {
    req.query()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The page asked for of `items`, with the pagination meta.
fn page(req: &EmuRequest, key: &str, items: Vec<Value>) -> Outcome {
    let per_page: usize = query(req, "per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(25)
        .clamp(1, 50);
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
    let next = if page < last {
        json!(page + 1)
    } else {
        Value::Null
    };
    let prev = if page > 1 {
        json!(page - 1)
    } else {
        Value::Null
    };
    ok(
        200,
        &json!({key: slice, "meta": {"pagination": {"page": page, "per_page": per_page,
               "previous_page": prev, "next_page": next, "last_page": last, "total_entries": total}}}),
    )
}

fn zone_json(z: &Zone) -> Value {
    let records: usize = z.rrsets.iter().map(|s| s.records.len()).sum();
    json!({"id": z.id, "name": z.name, "created": "2025-11-10T10:00:00Z", "mode": "primary",
           "ttl": 3600, "labels": {}, "protection": {"delete": false}, "record_count": records,
           "status": "ok", "registrar": "other", "primary_nameservers": [],
           "authoritative_nameservers": {"assigned": ["hydrogen.ns.hetzner.com.", "oxygen.ns.hetzner.com.", "helium.ns.hetzner.de."],
                                         "delegated": [], "delegation_last_check": null, "delegation_status": "unknown"}})
}

fn rrset_json(s: &RRset, zone_id: u64) -> Value {
    json!({"id": format!("{}/{}", s.name, s.rtype), "name": s.name, "type": s.rtype, "ttl": s.ttl,
           "labels": s.labels, "protection": {"change": s.protected}, "zone": zone_id,
           "records": s.records.iter().map(|r| json!({"value": r.value, "comment": r.comment})).collect::<Vec<_>>()})
}

/// Checks and canonicalises the values of a write; the records, or the error answer.
fn records_of(body: &Value, rtype: &str) -> Result<Vec<Record>, Outcome> {
    let Some(list) = body.get("records").and_then(Value::as_array) else {
        return Err(invalid("records", "is required"));
    };
    let mut out = Vec::new();
    for r in list {
        let Some(value) = r.get("value").and_then(Value::as_str) else {
            return Err(invalid("records", "value is required"));
        };
        let canonical = match rtype {
            "A" => value
                .parse::<std::net::Ipv4Addr>()
                .map(|a| a.to_string())
                .ok(),
            "AAAA" => value
                .parse::<std::net::Ipv6Addr>()
                .map(|a| a.to_string())
                .ok(),
            _ => Some(value.to_owned()),
        };
        let Some(value) = canonical else {
            return Err(invalid(
                "records",
                &format!("{value:?} is not a valid {rtype} value"),
            ));
        };
        let comment = r
            .get("comment")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        out.push(Record { value, comment });
    }
    if out.is_empty() {
        return Err(invalid("records", "must not be empty"));
    }
    Ok(out)
}

fn ttl_of(v: Option<&Value>) -> Result<Option<u64>, Outcome> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(t) => match t.as_u64() {
            Some(t) if (60..=2_147_483_647).contains(&t) => Ok(Some(t)),
            _ => Err(invalid("ttl", "must be an integer of at least 60")),
        },
    }
}

fn route(st: &mut State, req: &EmuRequest, action: &str, segs: &[&str]) -> Outcome {
    match action {
        "Unknown" => return err(404, "not_found", "not found"),
        "ListZones" => {
            let name = query(req, "name");
            let items = st
                .zones
                .iter()
                .filter(|z| name.as_ref().is_none_or(|n| &z.name == n))
                .map(zone_json)
                .collect();
            return page(req, "zones", items);
        }
        "GetAction" => {
            let id: u64 = segs[3].parse().unwrap_or(0);
            let Some((left, action)) = st.actions.get_mut(&id) else {
                return err(404, "not_found", "action not found");
            };
            if *left > 0 {
                *left -= 1;
                if *left == 0 {
                    action["status"] = json!("success");
                    action["progress"] = json!(100);
                    action["finished"] = json!("2025-11-10T10:00:02Z");
                }
            }
            let a = action.clone();
            return ok(200, &json!({ "action": a }));
        }
        _ => {}
    }
    let zone_ref = percent_decode(segs[2], false).to_ascii_lowercase();
    let Some(zi) = st
        .zones
        .iter()
        .position(|z| z.name == zone_ref || z.id.to_string() == zone_ref)
    else {
        return err(404, "not_found", "zone not found");
    };
    let zone_id = st.zones[zi].id;
    let body: Value = if req.body.is_empty() {
        Value::Null
    } else {
        if req.header("content-type") != Some("application/json") {
            return err(
                400,
                "json_error",
                "the request body must be JSON (Content-Type: application/json)",
            );
        }
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => return err(400, "json_error", "invalid JSON in request body"),
        }
    };
    if action == "ListRRSets" {
        let name = query(req, "name");
        let types: Vec<String> = req
            .query()
            .into_iter()
            .filter(|(k, _)| k == "type")
            .map(|(_, v)| v)
            .collect();
        let items = st.zones[zi]
            .rrsets
            .iter()
            .filter(|s| name.as_ref().is_none_or(|n| &s.name == n))
            .filter(|s| types.is_empty() || types.contains(&s.rtype))
            .map(|s| rrset_json(s, zone_id))
            .collect();
        return page(req, "rrsets", items);
    }
    let (name, rtype) = if action == "CreateRRSet" {
        (
            body.get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_ascii_lowercase(),
            body.get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        )
    } else {
        (
            percent_decode(segs[4], false).to_ascii_lowercase(),
            percent_decode(segs[5], false),
        )
    };
    if name.is_empty() || rtype.is_empty() {
        return invalid("name", "name and type are required");
    }
    if st.refused.contains(&name) {
        return invalid(
            "name",
            "an RRset of another type at this name conflicts (CNAME)",
        );
    }
    let existing = st.zones[zi]
        .rrsets
        .iter()
        .position(|s| s.name == name && s.rtype == rtype);
    // A write whose action is to fail changes nothing.
    let failing = st.fail_next_action.is_some();
    let command;
    match action {
        "CreateRRSet" => {
            if existing.is_some() {
                return err(
                    409,
                    "uniqueness_error",
                    "rrset with the same name and type already exists",
                );
            }
            let records = match records_of(&body, &rtype) {
                Ok(r) => r,
                Err(e) => return e,
            };
            let ttl = match ttl_of(body.get("ttl")) {
                Ok(t) => t,
                Err(e) => return e,
            };
            let set = RRset {
                name: name.clone(),
                rtype: rtype.clone(),
                ttl,
                records,
                labels: BTreeMap::new(),
                protected: false,
            };
            let out = rrset_json(&set, zone_id);
            if !failing {
                st.zones[zi].rrsets.push(set);
            }
            st.writes.push((action.to_owned(), body));
            let a = st.new_action("create_rrset", zone_id);
            return ok(201, &json!({"rrset": out, "action": a}));
        }
        _ => {
            let Some(i) = existing else {
                return err(404, "not_found", "rrset not found");
            };
            if st.zones[zi].rrsets[i].protected {
                return err(423, "protected", "the rrset is protected against changes");
            }
            match action {
                "SetRecords" => {
                    let records = match records_of(&body, &rtype) {
                        Ok(r) => r,
                        Err(e) => return e,
                    };
                    if !failing {
                        st.zones[zi].rrsets[i].records = records;
                    }
                    command = "set_rrset_records";
                }
                "ChangeTTL" => {
                    let ttl = match ttl_of(body.get("ttl")) {
                        Ok(t) => t,
                        Err(e) => return e,
                    };
                    if !failing {
                        st.zones[zi].rrsets[i].ttl = ttl;
                    }
                    command = "change_rrset_ttl";
                }
                _ => {
                    if !failing {
                        st.zones[zi].rrsets.remove(i);
                    }
                    command = "delete_rrset";
                }
            }
        }
    }
    st.writes.push((action.to_owned(), body));
    let a = st.new_action(command, zone_id);
    ok(201, &json!({ "action": a }))
}
