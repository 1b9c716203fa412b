//! A local emulator of DuckDNS's update API (duckdns.org/spec.jsp) over one account: `GET
//! /update?domains=a[,b]&token=T[&ip=V4|V6][&ipv6=V6][&verbose=true][&clear=true][&txt=…]`
//! and the path form `/update/{domain}/{token}[/{ip}]`, answering `OK` / `KO` in plain text
//! with HTTP 200 (and the verbose four lines: status, IPv4, IPv6, `UPDATED`|`NOCHANGE`).
//!
//! A wrong token, a name that is not the account's and an address that does not parse all get
//! the same `KO`, as on DuckDNS. `ip` takes either family; with neither `ip` nor `ipv6` the
//! IPv4 address is taken from the connection (here always 127.0.0.1 — the client must never
//! rely on it); with `ipv6` alone the IPv4 address is kept. Each name holds one address per
//! family; the emulator keeps lists only so a test can seed a name the way the battery does.
//! Fault injection (5xx, silence, 429 with `Retry-After` — DuckDNS documents no limit, a proxy
//! in front would send it —, HTML and cut bodies) and call counts.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use super::emu_http::{percent_decode, EmuReply, EmuRequest, EmuServer, Outcome, Target};

/// One name's records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Name {
    /// IPv4 addresses (DuckDNS: at most one).
    pub a: Vec<String>,
    /// IPv6 addresses (DuckDNS: at most one).
    pub aaaa: Vec<String>,
    /// TXT and whatever else a test seeds (never changed by an address update).
    pub other: BTreeMap<String, Vec<String>>,
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
    /// The update is applied, the answer cut after its first byte.
    Truncated,
}

/// Everything the emulator knows; lock it with [`DuckdnsEmu::state`].
#[derive(Debug, Default)]
pub struct State {
    /// The account token.
    pub token: String,
    /// The account's names (sub-names, without `.duckdns.org`).
    pub names: BTreeMap<String, Name>,
    /// Requests received (`update`), faulted ones included.
    pub calls: u32,
    /// The decoded query of every request, in order.
    pub received: Vec<BTreeMap<String, String>>,
    /// Faults to serve, in order.
    pub faults: VecDeque<(Target, Fault)>,
    /// Faults served.
    pub faulted: u32,
}

impl State {
    /// The name `sub` (empty when unknown).
    pub fn get(&self, sub: &str) -> Name {
        self.names.get(sub).cloned().unwrap_or_default()
    }
}

/// A running emulator; stops on drop.
pub struct DuckdnsEmu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl DuckdnsEmu {
    /// Starts an emulator for the account holding `token` and no name.
    pub fn start(token: &str) -> DuckdnsEmu {
        let state = Arc::new(Mutex::new(State {
            token: token.to_owned(),
            ..State::default()
        }));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        DuckdnsEmu { server, state }
    }

    /// `http://127.0.0.1:PORT` (the base URL; updates go to `/update`).
    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    /// `127.0.0.1:PORT`, as the provider names the service in its errors.
    pub fn host_port(&self) -> String {
        self.server.addr().to_string()
    }

    /// Locks the state.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a name to the account.
    pub fn add_name(&self, sub: &str) {
        self.state().names.entry(sub.to_owned()).or_default();
    }

    /// Serves `fault` to the next request.
    pub fn inject(&self, fault: Fault) {
        self.state().faults.push_back((Target::Any, fault));
    }
}

fn text(status: u16, content_type: &str, body: &str) -> Outcome {
    Outcome::Reply(EmuReply {
        status,
        headers: vec![("Content-Type".into(), content_type.into())],
        body: body.as_bytes().to_vec(),
    })
}

fn handle(req: &EmuRequest, state: &Arc<Mutex<State>>) -> Outcome {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    // The path form carries domain, token and ip in the path.
    let mut q: BTreeMap<String, String> = req.query().into_iter().collect();
    let parts: Vec<String> = req
        .path
        .trim_start_matches('/')
        .split('/')
        .map(|p| percent_decode(p, false))
        .collect();
    match parts.as_slice() {
        [u] if u == "update" => {}
        [u, domain, token, rest @ ..] if u == "update" && rest.len() <= 1 => {
            q.insert("domains".into(), domain.clone());
            q.insert("token".into(), token.clone());
            if let [ip] = rest {
                q.insert("ip".into(), ip.clone());
            }
        }
        _ => return text(404, "text/html", "<html><body>Not Found</body></html>"),
    }
    st.calls += 1;
    st.received.push(q.clone());
    let fault = st.faults.pop_front().map(|(_, f)| f);
    if fault.is_some() {
        st.faulted += 1;
    }
    match &fault {
        Some(Fault::Status(code)) => {
            return text(*code, "text/html", "<html><body>Bad Gateway</body></html>")
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
            return text(200, "text/html", "<html><body>maintenance</body></html>")
        }
        Some(Fault::Truncated) | None => {}
    }
    let answer = update(&mut st, &q);
    let body = match fault {
        Some(Fault::Truncated) => answer[..1].to_owned(),
        _ => answer,
    };
    text(200, "text/plain;charset=UTF-8", &body)
}

/// Applies one update; returns the plain-text answer.
fn update(st: &mut State, q: &BTreeMap<String, String>) -> String {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let verbose = get("verbose") == "true";
    let domains: Vec<String> = get("domains")
        .split(',')
        .map(|d| d.trim().trim_end_matches(".duckdns.org").to_owned())
        .filter(|d| !d.is_empty())
        .collect();
    if get("token") != st.token
        || domains.is_empty()
        || domains.iter().any(|d| !st.names.contains_key(d))
    {
        return "KO".into();
    }
    // (IPv4, IPv6) to set; None = keep.
    let mut v4: Option<String> = None;
    let mut v6: Option<String> = None;
    let clear = get("clear") == "true";
    if !clear {
        match get("ip") {
            "" if get("ipv6").is_empty() => v4 = Some("127.0.0.1".into()),
            "" => {}
            ip => match ip.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(a)) => v4 = Some(a.to_string()),
                Ok(std::net::IpAddr::V6(a)) => v6 = Some(a.to_string()),
                Err(_) => return "KO".into(),
            },
        }
        match get("ipv6") {
            "" => {}
            ip => match ip.parse::<std::net::Ipv6Addr>() {
                Ok(a) => v6 = Some(a.to_string()),
                Err(_) => return "KO".into(),
            },
        }
    }
    let mut changed = false;
    let mut last = (String::new(), String::new());
    for d in &domains {
        let n = st.names.get_mut(d).expect("checked above");
        if clear {
            changed |= !n.a.is_empty() || !n.aaaa.is_empty();
            n.a.clear();
            n.aaaa.clear();
        }
        if let Some(a) = &v4 {
            changed |= n.a != [a.clone()];
            n.a = vec![a.clone()];
        }
        if let Some(a) = &v6 {
            changed |= n.aaaa != [a.clone()];
            n.aaaa = vec![a.clone()];
        }
        if let Some(t) = q.get("txt") {
            n.other.insert("TXT".into(), vec![t.clone()]);
        }
        last = (
            n.a.first().cloned().unwrap_or_default(),
            n.aaaa.first().cloned().unwrap_or_default(),
        );
    }
    if verbose {
        let status = if changed { "UPDATED" } else { "NOCHANGE" };
        format!("OK\n{}\n{}\n{status}", last.0, last.1)
    } else {
        "OK".into()
    }
}
