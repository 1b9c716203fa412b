//! A local emulator of dynv6.com: the REST API (`/api/v2`, spec `dynv6/api-spec` 0.2.0) and
//! the update API (`/api/update`, dynv6.com/docs/apis) over one account.
//!
//! REST: `Authorization: Bearer TOKEN` checked (401), tokens optionally restricted to one zone
//! (403 elsewhere); `GET /zones`, `/zones/by-name/{name}`, `GET/PATCH /zones/{id}` (the zone's
//! own A/AAAA are its `ipv4address` / `ipv6prefix` fields), `GET/POST /zones/{id}/records`
//! (a create answers **200**), `GET/PATCH/DELETE /zones/{id}/records/{id}` (204). Records carry
//! `expandedData` where dynv6 expands `data`: an AAAA given as a MAC address (EUI-64) or as a
//! partial address (`::10`) gets the zone's prefix. Errors use the spec's envelope `{"error":
//! {"name", "message"[, "fields"]}}` (422 ValidationError for a bad `data`). Lists are not
//! paginated (the spec has none).
//!
//! Update API: `zone` (or `hostname`), `token`, `ipv4` (address, `auto`, `-`), `ipv6` (address
//! with an optional `/len`: with a length and no `ipv6prefix`, the records' prefix follows),
//! `ipv6prefix` (`net/len`, `-`): only the prefix the zone's records are expanded with, not the
//! zone's own AAAA. Answers `addresses updated` / `addresses unchanged` in plain text.
//!
//! Fault injection (5xx, silence, 429 + `Retry-After`, HTML and cut bodies), refused names
//! (403 on writes), calls counted per action.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};

use super::emu_http::{percent_decode, EmuReply, EmuRequest, EmuServer, Outcome, Target};

/// One zone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Zone {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// The zone's own A (empty = none).
    pub ipv4address: String,
    /// The zone's own AAAA, possibly with `/len` (empty = none).
    pub ipv6prefix: String,
    /// The prefix the zone's partial and MAC AAAA records are expanded with.
    pub records_prefix: Option<(Ipv6Addr, u8)>,
}

/// One record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rec {
    /// Its id.
    pub id: u64,
    /// Its zone's id.
    pub zone_id: u64,
    /// Type.
    pub rtype: String,
    /// Name relative to the zone (`""` = apex).
    pub name: String,
    /// Data as written.
    pub data: String,
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

/// Everything the emulator knows; lock it with [`Dynv6Emu::state`].
#[derive(Debug, Default)]
pub struct State {
    /// Tokens → the one zone they are restricted to (None = every zone of the account).
    pub tokens: BTreeMap<String, Option<String>>,
    /// Zones by id.
    pub zones: BTreeMap<u64, Zone>,
    /// Records by id.
    pub records: BTreeMap<u64, Rec>,
    /// Writes to these FQDNs are refused (403).
    pub refused: BTreeSet<String>,
    /// Calls per action.
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order.
    pub faults: VecDeque<(Target, Fault)>,
    /// The action of every request that got a fault.
    pub faulted: Vec<String>,
    /// The decoded query of every update-API request.
    pub updates: Vec<BTreeMap<String, String>>,
    next_id: u64,
}

impl State {
    /// Adds a zone; returns its id.
    pub fn add_zone(&mut self, name: &str) -> u64 {
        self.next_id += 1;
        let id = 1000 + self.next_id;
        self.zones.insert(
            id,
            Zone {
                id,
                name: name.to_owned(),
                ..Zone::default()
            },
        );
        id
    }

    /// The id of the zone `name`.
    pub fn zone_id(&self, name: &str) -> u64 {
        self.zones
            .values()
            .find(|z| z.name == name)
            .map(|z| z.id)
            .expect("zone exists")
    }

    /// Adds a record (`@` or "" = apex name); returns its id.
    pub fn add_record(&mut self, zone: &str, name: &str, rtype: &str, data: &str) -> u64 {
        self.next_id += 1;
        let id = 50_000 + self.next_id;
        let zone_id = self.zone_id(zone);
        self.records.insert(
            id,
            Rec {
                id,
                zone_id,
                rtype: rtype.to_owned(),
                name: if name == "@" {
                    String::new()
                } else {
                    name.to_owned()
                },
                data: data.to_owned(),
            },
        );
        id
    }

    /// The records of (name, type) in `zone` (`@` = apex name), by id.
    pub fn rrset(&self, zone: &str, name: &str, rtype: &str) -> Vec<Rec> {
        let name = if name == "@" { "" } else { name };
        let zid = self.zone_id(zone);
        self.records
            .values()
            .filter(|r| r.zone_id == zid && r.name == name && r.rtype == rtype)
            .cloned()
            .collect()
    }

    /// What (name, type) resolves to: the zone's fields at the apex, records elsewhere
    /// (expanded).
    pub fn values(&self, zone: &str, name: &str, rtype: &str) -> Vec<String> {
        let z = &self.zones[&self.zone_id(zone)];
        if name == "@" && rtype == "A" {
            return (!z.ipv4address.is_empty())
                .then(|| z.ipv4address.clone())
                .into_iter()
                .collect();
        }
        if name == "@" && rtype == "AAAA" {
            return (!z.ipv6prefix.is_empty())
                .then(|| z.ipv6prefix.split('/').next().unwrap_or("").to_owned())
                .into_iter()
                .collect();
        }
        if name == "@" && rtype == "NS" {
            return vec![
                "ns1.dynv6.com.".into(),
                "ns2.dynv6.com.".into(),
                "ns3.dynv6.com.".into(),
            ];
        }
        let mut v: Vec<String> = self
            .rrset(zone, name, rtype)
            .iter()
            .map(|r| expanded(z, r).unwrap_or_else(|| r.data.clone()))
            .collect();
        v.sort();
        v
    }

    /// Calls of `action`.
    pub fn count(&self, action: &str) -> u32 {
        self.calls.get(action).copied().unwrap_or(0)
    }
}

/// A running emulator; stops on drop.
pub struct Dynv6Emu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl Dynv6Emu {
    /// Starts an emulator with no token and no zone.
    pub fn start() -> Dynv6Emu {
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        Dynv6Emu { server, state }
    }

    /// `http://127.0.0.1:PORT` (the base: `/api/v2`, `/api/update`).
    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    /// `127.0.0.1:PORT`.
    pub fn host_port(&self) -> String {
        self.server.addr().to_string()
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

/// The EUI-64 interface id of a MAC address (`00:11:22:33:44:55`).
fn eui64(mac: &str) -> Option<u64> {
    let b: Vec<u8> = mac
        .split([':', '-'])
        .map(|h| u8::from_str_radix(h, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    let [a, b1, c, d, e, f] = b.as_slice() else {
        return None;
    };
    let bytes = [a ^ 0x02, *b1, *c, 0xff, 0xfe, *d, *e, *f];
    Some(u64::from_be_bytes(bytes))
}

/// `expandedData` of a record: an AAAA from a MAC or a partial address with the zone's prefix.
fn expanded(zone: &Zone, r: &Rec) -> Option<String> {
    if r.rtype != "AAAA" {
        return None;
    }
    let (net, len) = zone.records_prefix?;
    let host: u128 = if let Some(id) = eui64(&r.data) {
        u128::from(id)
    } else {
        let a: Ipv6Addr = r.data.parse().ok()?;
        let bits = u128::from(a);
        // Only an address whose upper 64 bits are zero is partial.
        if bits >> 64 != 0 {
            return None;
        }
        bits
    };
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    };
    Some(Ipv6Addr::from((u128::from(net) & mask) | (host & !mask)).to_string())
}

fn zone_json(z: &Zone) -> Value {
    json!({
        "id": z.id,
        "name": z.name,
        "ipv4address": z.ipv4address,
        "ipv6prefix": z.ipv6prefix,
        "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-01-01T00:00:00Z",
    })
}

fn record_json(zone: &Zone, r: &Rec) -> Value {
    let mut v = json!({
        "id": r.id,
        "zoneID": r.zone_id,
        "type": r.rtype,
        "name": r.name,
        "data": r.data,
        "priority": null,
    });
    if let (Some(e), Some(o)) = (expanded(zone, r), v.as_object_mut()) {
        o.insert("expandedData".into(), json!(e));
    }
    v
}

fn reply(status: u16, body: Option<Value>) -> Outcome {
    Outcome::Reply(EmuReply {
        status,
        headers: vec![(
            "Content-Type".into(),
            "application/json; charset=utf-8".into(),
        )],
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
    })
}

fn err(status: u16, name: &str, message: &str) -> Outcome {
    reply(
        status,
        Some(json!({"error": {"name": name, "message": message}})),
    )
}

fn text(status: u16, body: &str) -> Outcome {
    Outcome::Reply(EmuReply {
        status,
        headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
        body: body.as_bytes().to_vec(),
    })
}

/// The action of a request: (name, read).
fn action_of(method: &str, parts: &[&str]) -> (&'static str, bool) {
    let a = match (method, parts) {
        (_, ["update"]) => "update",
        ("GET", ["v2", "zones"]) => "list zones",
        ("GET", ["v2", "zones", "by-name", _]) | ("GET", ["v2", "zones", _]) => "get zone",
        ("PATCH", ["v2", "zones", _]) => "update zone",
        ("GET", ["v2", "zones", _, "records"]) => "list records",
        ("POST", ["v2", "zones", _, "records"]) => "add record",
        ("GET", ["v2", "zones", _, "records", _]) => "get record",
        ("PATCH", ["v2", "zones", _, "records", _]) => "update record",
        ("DELETE", ["v2", "zones", _, "records", _]) => "delete record",
        _ => "unknown",
    };
    (a, method == "GET" && a != "update")
}

fn handle(req: &EmuRequest, state: &Arc<Mutex<State>>) -> Outcome {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let Some(rest) = req.path.strip_prefix("/api/") else {
        return err(404, "NotFound", "not found");
    };
    let decoded: Vec<String> = rest.split('/').map(|p| percent_decode(p, false)).collect();
    let parts: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let (action, read) = action_of(&req.method, &parts);
    *st.calls.entry(action.to_owned()).or_default() += 1;
    let pos = st.faults.iter().position(|(t, _)| t.hits(action, read));
    let fault = pos.and_then(|i| st.faults.remove(i)).map(|(_, f)| f);
    if fault.is_some() {
        st.faulted.push(action.to_owned());
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
            return Outcome::Reply(EmuReply {
                status: 429,
                headers: vec![
                    ("Content-Type".into(), "text/plain".into()),
                    ("Retry-After".into(), secs.to_string()),
                ],
                body: b"Too Many Requests".to_vec(),
            })
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
    let out = if action == "update" {
        update_api(&mut st, req)
    } else {
        rest_api(&mut st, req, &parts)
    };
    match (fault, out) {
        (Some(Fault::Truncated), Outcome::Reply(mut r)) => {
            let n = r.body.len() / 2;
            r.body.truncate(n);
            Outcome::Reply(r)
        }
        (_, out) => out,
    }
}

/// The zones `token` may see.
fn visible(st: &State, token: &str) -> Vec<u64> {
    match st.tokens.get(token) {
        None => Vec::new(),
        Some(None) => st.zones.keys().copied().collect(),
        Some(Some(only)) => st
            .zones
            .values()
            .filter(|z| z.name == *only)
            .map(|z| z.id)
            .collect(),
    }
}

fn rest_api(st: &mut State, req: &EmuRequest, parts: &[&str]) -> Outcome {
    let token = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_owned();
    if !st.tokens.contains_key(&token) {
        return err(401, "Unauthorized", "invalid authentication token");
    }
    let mine = visible(st, &token);
    let body: Option<Value> = if req.body.is_empty() {
        None
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => Some(v),
            Err(_) => return err(400, "BadRequest", "malformed JSON"),
        }
    };
    match (req.method.as_str(), parts) {
        ("GET", ["v2", "zones"]) => {
            let list: Vec<Value> = mine.iter().map(|id| zone_json(&st.zones[id])).collect();
            reply(200, Some(Value::Array(list)))
        }
        ("GET", ["v2", "zones", "by-name", name]) => {
            match st.zones.values().find(|z| z.name == *name) {
                Some(z) if mine.contains(&z.id) => reply(200, Some(zone_json(z))),
                Some(_) => err(403, "Forbidden", "access denied"),
                None => err(404, "NotFound", "zone not found"),
            }
        }
        (m, ["v2", "zones", id, tail @ ..]) => {
            let Some(zid) = id.parse::<u64>().ok().filter(|z| st.zones.contains_key(z)) else {
                return err(404, "NotFound", "zone not found");
            };
            if !mine.contains(&zid) {
                return err(403, "Forbidden", "access denied");
            }
            zone_api(st, m, zid, tail, body)
        }
        _ => err(404, "NotFound", "not found"),
    }
}

fn fqdn(zone: &Zone, name: &str) -> String {
    if name.is_empty() {
        zone.name.clone()
    } else {
        format!("{name}.{}", zone.name)
    }
}

fn zone_api(st: &mut State, method: &str, zid: u64, tail: &[&str], body: Option<Value>) -> Outcome {
    let zone = st.zones[&zid].clone();
    match (method, tail) {
        ("GET", []) => reply(200, Some(zone_json(&zone))),
        ("PATCH", []) => {
            let body = body.unwrap_or_else(|| json!({}));
            if st.refused.contains(&zone.name) {
                return err(403, "Forbidden", "access denied");
            }
            let mut z = zone.clone();
            if let Some(v4) = body.get("ipv4address").and_then(Value::as_str) {
                if !v4.is_empty() && v4.parse::<Ipv4Addr>().is_err() {
                    return validation("ipv4address", "is not a valid IPv4 address");
                }
                z.ipv4address = v4.to_owned();
            }
            if let Some(v6) = body.get("ipv6prefix").and_then(Value::as_str) {
                if !v6.is_empty() {
                    let (a, len) = match v6.split_once('/') {
                        Some((a, l)) => (a, l.parse::<u8>().ok()),
                        None => (v6, None),
                    };
                    let Ok(addr) = a.parse::<Ipv6Addr>() else {
                        return validation("ipv6prefix", "is not a valid IPv6 address or prefix");
                    };
                    if let Some(l) = len {
                        z.records_prefix = Some((addr, l));
                    }
                }
                z.ipv6prefix = v6.to_owned();
            }
            st.zones.insert(zid, z);
            reply(200, Some(zone_json(&st.zones[&zid])))
        }
        ("GET", ["records"]) => {
            let list: Vec<Value> = st
                .records
                .values()
                .filter(|r| r.zone_id == zid)
                .map(|r| record_json(&zone, r))
                .collect();
            reply(200, Some(Value::Array(list)))
        }
        ("POST", ["records"]) => {
            let body = body.unwrap_or_else(|| json!({}));
            let get = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
            let (Some(rtype), Some(name), Some(data)) = (get("type"), get("name"), get("data"))
            else {
                return err(400, "BadRequest", "type, name and data are required");
            };
            if st.refused.contains(&fqdn(&zone, &name)) {
                return err(403, "Forbidden", "access denied");
            }
            if let Some(out) = check_data(&rtype, &name, &data) {
                return out;
            }
            st.next_id += 1;
            let id = 50_000 + st.next_id;
            let r = Rec {
                id,
                zone_id: zid,
                rtype,
                name,
                data,
            };
            let out = record_json(&zone, &r);
            st.records.insert(id, r);
            // The spec: a created record answers 200, not 201.
            reply(200, Some(out))
        }
        (m, ["records", rid]) => {
            let Some(rid) = rid.parse::<u64>().ok() else {
                return err(404, "NotFound", "record not found");
            };
            let Some(existing) = st.records.get(&rid).filter(|r| r.zone_id == zid).cloned() else {
                return err(404, "NotFound", "record not found");
            };
            match m {
                "GET" => reply(200, Some(record_json(&zone, &existing))),
                "DELETE" => {
                    if st.refused.contains(&fqdn(&zone, &existing.name)) {
                        return err(403, "Forbidden", "access denied");
                    }
                    st.records.remove(&rid);
                    reply(204, None)
                }
                "PATCH" => {
                    if st.refused.contains(&fqdn(&zone, &existing.name)) {
                        return err(403, "Forbidden", "access denied");
                    }
                    let body = body.unwrap_or_else(|| json!({}));
                    let mut r = existing;
                    if let Some(n) = body.get("name").and_then(Value::as_str) {
                        r.name = n.to_owned();
                    }
                    if let Some(d) = body.get("data").and_then(Value::as_str) {
                        r.data = d.to_owned();
                    }
                    if let Some(out) = check_data(&r.rtype, &r.name, &r.data) {
                        return out;
                    }
                    let out = record_json(&zone, &r);
                    st.records.insert(rid, r);
                    reply(200, Some(out))
                }
                _ => err(405, "MethodNotAllowed", "method not allowed"),
            }
        }
        _ => err(404, "NotFound", "not found"),
    }
}

fn validation(field: &str, message: &str) -> Outcome {
    reply(
        422,
        Some(
            json!({"error": {"name": "ValidationError", "message": "validation failed", "fields": [{"name": field, "message": message}]}}),
        ),
    )
}

fn check_data(rtype: &str, name: &str, data: &str) -> Option<Outcome> {
    if name.is_empty() && matches!(rtype, "A" | "AAAA") {
        return Some(validation(
            "name",
            "the zone's own address is set on the zone",
        ));
    }
    let ok = match rtype {
        "A" => data.parse::<Ipv4Addr>().is_ok(),
        "AAAA" => data.parse::<Ipv6Addr>().is_ok() || eui64(data).is_some(),
        _ => !data.is_empty(),
    };
    (!ok).then(|| {
        validation(
            "data",
            &format!("is not valid for a record of type {rtype}"),
        )
    })
}

fn update_api(st: &mut State, req: &EmuRequest) -> Outcome {
    let q: BTreeMap<String, String> = req.query().into_iter().collect();
    st.updates.push(q.clone());
    let zone_name = ["zone", "hostname", "Hostname"]
        .iter()
        .find_map(|k| q.get(*k))
        .cloned()
        .unwrap_or_default();
    let token = q.get("token").cloned().unwrap_or_default();
    if !st.tokens.contains_key(&token) {
        return text(401, "invalid authentication token");
    }
    let Some(zid) = st
        .zones
        .values()
        .find(|z| z.name == zone_name)
        .map(|z| z.id)
    else {
        return text(404, "zone not found");
    };
    if !visible(st, &token).contains(&zid) {
        return text(403, "forbidden");
    }
    let before = st.zones[&zid].clone();
    let mut z = before.clone();
    match q.get("ipv4").map(String::as_str) {
        None | Some("") => {}
        Some("-") => z.ipv4address.clear(),
        Some("auto") => z.ipv4address = "127.0.0.1".into(),
        Some(v4) => match v4.parse::<Ipv4Addr>() {
            Ok(a) => z.ipv4address = a.to_string(),
            Err(_) => return text(400, "invalid IPv4 address"),
        },
    }
    let has_prefix_param = q.get("ipv6prefix").is_some_and(|p| !p.is_empty());
    match q.get("ipv6").map(String::as_str) {
        None | Some("") => {}
        Some("-") => z.ipv6prefix.clear(),
        Some(v6) => {
            let (a, len) = match v6.split_once('/') {
                Some((a, l)) => (a, l.parse::<u8>().ok()),
                None => (v6, None),
            };
            let Ok(addr) = a.parse::<Ipv6Addr>() else {
                return text(400, "invalid IPv6 address");
            };
            z.ipv6prefix = addr.to_string();
            if let (Some(l), false) = (len, has_prefix_param) {
                z.records_prefix = Some((addr, l));
            }
        }
    }
    match q.get("ipv6prefix").map(String::as_str) {
        None | Some("") => {}
        Some("-") => z.records_prefix = None,
        Some(p) => {
            let Some((a, l)) = p.split_once('/') else {
                return text(400, "invalid IPv6 prefix");
            };
            let (Ok(addr), Ok(len)) = (a.parse::<Ipv6Addr>(), l.parse::<u8>()) else {
                return text(400, "invalid IPv6 prefix");
            };
            z.records_prefix = Some((addr, len));
        }
    }
    let changed = z != before;
    st.zones.insert(zid, z);
    text(
        200,
        if changed {
            "addresses updated"
        } else {
            "addresses unchanged"
        },
    )
}
