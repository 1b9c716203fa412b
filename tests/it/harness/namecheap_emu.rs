//! A local emulator of Namecheap's dynamic-DNS update (`GET
//! /update?host=H&domain=D&password=P[&ip=V4]` on dynamicdns.park-your-domain.com): per-domain
//! Dynamic DNS passwords, hosts that must exist as "A + Dynamic DNS" records, and the
//! `<interface-response>` XML answer with HTTP 200 whether it worked or not (`ErrCount`,
//! `errors/Err1`, `responses`), prolog declaring `utf-16` as the real service does.
//! `registrars.md` §3 has the two bodies this follows; the texts for a wrong password and an
//! unknown domain are the ones clients quote.
//!
//! Without `ip` the address of the connection is used (here 127.0.0.1). Only A records change;
//! the AAAA and TXT records a test seeds are never touched. Fault injection (5xx, silence, 429
//! with `Retry-After` — Namecheap documents no limit, a proxy in front would send it —, HTML
//! and cut bodies) and call counts.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use super::emu_http::{EmuReply, EmuRequest, EmuServer, Outcome, Target};

/// One host of a domain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Host {
    /// True for an "A + Dynamic DNS Record" (only those take updates).
    pub dynamic: bool,
    /// A values.
    pub a: Vec<String>,
    /// Other types (AAAA, TXT, NS), never changed by an update.
    pub other: BTreeMap<String, Vec<String>>,
}

/// One domain of the account.
#[derive(Clone, Debug, Default)]
pub struct Domain {
    /// Its Dynamic DNS password.
    pub password: String,
    /// Hosts by name (`@` = the apex).
    pub hosts: BTreeMap<String, Host>,
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
    /// The update is applied, the answer cut in half.
    Truncated,
}

/// Everything the emulator knows; lock it with [`NamecheapEmu::state`].
#[derive(Debug, Default)]
pub struct State {
    /// Domains by name.
    pub domains: BTreeMap<String, Domain>,
    /// Requests received.
    pub calls: u32,
    /// The decoded query of every request.
    pub received: Vec<BTreeMap<String, String>>,
    /// Faults to serve, in order.
    pub faults: VecDeque<(Target, Fault)>,
    /// Faults served.
    pub faulted: u32,
}

impl State {
    /// Adds `domain` with `password`.
    pub fn add_domain(&mut self, domain: &str, password: &str) {
        self.domains.insert(
            domain.to_owned(),
            Domain {
                password: password.to_owned(),
                hosts: BTreeMap::new(),
            },
        );
    }

    /// The host `host` of `domain` (created, not dynamic, if new).
    pub fn host(&mut self, domain: &str, host: &str) -> &mut Host {
        self.domains
            .get_mut(domain)
            .expect("domain exists")
            .hosts
            .entry(host.to_owned())
            .or_default()
    }

    /// The host's values of `rtype` (none when unknown).
    pub fn values(&self, domain: &str, host: &str, rtype: &str) -> Vec<String> {
        let Some(h) = self.domains.get(domain).and_then(|d| d.hosts.get(host)) else {
            return Vec::new();
        };
        match rtype {
            "A" => h.a.clone(),
            other => h.other.get(other).cloned().unwrap_or_default(),
        }
    }
}

/// A running emulator; stops on drop.
pub struct NamecheapEmu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl NamecheapEmu {
    /// Starts an emulator with no domain.
    pub fn start() -> NamecheapEmu {
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        NamecheapEmu { server, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    /// `127.0.0.1:PORT`, as the provider names the service.
    pub fn host_port(&self) -> String {
        self.server.addr().to_string()
    }

    /// Locks the state.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serves `fault` to the next request.
    pub fn inject(&self, fault: Fault) {
        self.state().faults.push_back((Target::Any, fault));
    }
}

const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"utf-16\"?>\r\n";

fn success(ip: &str) -> String {
    format!("{PROLOG}<interface-response><Command>SETDNSHOST</Command><Language>eng</Language><IP>{ip}</IP><ErrCount>0</ErrCount><ResponseCount>0</ResponseCount><Done>true</Done><debug><![CDATA[]]></debug></interface-response>")
}

fn failure(err: &str, number: u32, response: &str) -> String {
    format!("{PROLOG}<interface-response><Command>SETDNSHOST</Command><Language>eng</Language><ErrCount>1</ErrCount><errors><Err1>{err}</Err1></errors><ResponseCount>1</ResponseCount><responses><response><ResponseNumber>{number}</ResponseNumber><ResponseString>{response}</ResponseString></response></responses><Done>true</Done><debug><![CDATA[]]></debug></interface-response>")
}

fn reply(status: u16, content_type: &str, body: &str) -> Outcome {
    Outcome::Reply(EmuReply {
        status,
        headers: vec![("Content-Type".into(), content_type.into())],
        body: body.as_bytes().to_vec(),
    })
}

fn handle(req: &EmuRequest, state: &Arc<Mutex<State>>) -> Outcome {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    if req.path != "/update" {
        return reply(404, "text/html", "<html><body>Not Found</body></html>");
    }
    let q: BTreeMap<String, String> = req.query().into_iter().collect();
    st.calls += 1;
    st.received.push(q.clone());
    let fault = st.faults.pop_front().map(|(_, f)| f);
    if fault.is_some() {
        st.faulted += 1;
    }
    match &fault {
        Some(Fault::Status(code)) => {
            return reply(
                *code,
                "text/html",
                "<html><body>Service Unavailable</body></html>",
            )
        }
        Some(Fault::Timeout) => return Outcome::Hang,
        Some(Fault::Throttle(secs)) => {
            return Outcome::Reply(EmuReply {
                status: 429,
                headers: vec![
                    ("Content-Type".into(), "text/html".into()),
                    ("Retry-After".into(), secs.to_string()),
                ],
                body: b"<html><body>Too Many Requests</body></html>".to_vec(),
            })
        }
        Some(Fault::Malformed) => {
            return reply(200, "text/html", "<html><body>maintenance</body></html>")
        }
        Some(Fault::Truncated) | None => {}
    }
    let answer = update(&mut st, &q);
    let body = match fault {
        Some(Fault::Truncated) => answer[..answer.len() / 2].to_owned(),
        _ => answer,
    };
    reply(200, "text/xml; charset=utf-16", &body)
}

fn update(st: &mut State, q: &BTreeMap<String, String>) -> String {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let Some(domain) = st.domains.get_mut(&get("domain").to_ascii_lowercase()) else {
        return failure(
            "Domain name not found",
            316153,
            "Validation error; not found ; domain name(s)",
        );
    };
    if get("password") != domain.password {
        return failure(
            "Passwords do not match",
            304156,
            "Validation error; invalid ; password",
        );
    }
    let ip = match get("ip") {
        "" => "127.0.0.1".to_owned(),
        ip => match ip.parse::<std::net::Ipv4Addr>() {
            Ok(a) => a.to_string(),
            Err(_) => {
                return failure(
                    "Invalid IP",
                    304152,
                    "Validation error; invalid ; IP Address",
                )
            }
        },
    };
    let host = match get("host") {
        "" => "@",
        h => h,
    };
    match domain.hosts.get_mut(&host.to_ascii_lowercase()) {
        Some(h) if h.dynamic => {
            h.a = vec![ip.clone()];
            success(&ip)
        }
        _ => failure(
            "No Records updated. A record not Found;",
            380091,
            "No updates; A record not Found;",
        ),
    }
}
