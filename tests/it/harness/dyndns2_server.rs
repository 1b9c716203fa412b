//! A local dyndns2 server ("Members NIC Update API", `shared/providers/dyndns2-and-others.md`
//! §1) over one in-memory account book, in the dialect of a chosen service.
//!
//! It checks HTTP Basic auth (`badauth`, with status 200 or 401 as the dialect says), the
//! method and user agent (`badagent`), each host name (`notfqdn`, `nohost`, more than 20 →
//! `numhost`, a blocked host → `abuse`), reads each family's addresses from the dialect's
//! parameters (a shared `myip` with either family, `myipv6`, a keep value such as `preserve`,
//! deSEC's "an omitted family is deleted", comma-separated lists only where the dialect allows,
//! else `numhost`), and answers `good`/`nochg` with the addresses (or bare, as deSEC). Answers
//! can be forced in order (any body or status, `Retry-After`, a hang), every request is recorded
//! (user, decoded query, user agent) and counted.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;

use super::emu_http::{EmuRequest, EmuServer, Outcome};

/// How a service reads addresses and answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialect {
    /// Parameters read for IPv4, in order (the first present wins).
    pub ipv4_params: Vec<&'static str>,
    /// Parameters read for IPv6, in order (none for Dyn's original: an IPv6 address in `myip`
    /// is ignored and the connection's address used instead).
    pub ipv6_params: Vec<&'static str>,
    /// The value that keeps a family as it is (`preserve`, `no`).
    pub keep: Option<&'static str>,
    /// deSEC: a family whose parameters are all absent takes the connection's address if the
    /// connection is of that family (IPv4 here), else it is deleted; otherwise it is kept.
    pub omitted_deleted: bool,
    /// Several addresses of one family are accepted (else `numhost`).
    pub multi: bool,
    /// The status sent with `badauth` (200 classic, 401 nsupdate.info / deSEC).
    pub auth_failure_status: u16,
    /// `good 1.2.3.4` (true) or a bare `good` (deSEC).
    pub echo: bool,
    /// Host errors as HTTP statuses (deSEC: 404 for an unknown host) instead of `nohost`.
    pub status_errors: bool,
}

impl Dialect {
    /// Dyn's original: IPv4 only, in `myip`.
    pub fn dyn_classic() -> Dialect {
        Dialect {
            ipv4_params: vec!["myip"],
            ipv6_params: vec![],
            keep: None,
            omitted_deleted: false,
            multi: false,
            auth_failure_status: 200,
            echo: true,
            status_errors: false,
        }
    }

    /// No-IP / nsupdate.info: `myip` takes either family; one address.
    pub fn myip_either() -> Dialect {
        Dialect {
            ipv6_params: vec!["myip"],
            ..Dialect::dyn_classic()
        }
    }

    /// Dynu: `myip` and `myipv6`, `no` keeps a family.
    pub fn dynu() -> Dialect {
        Dialect {
            ipv4_params: vec!["myip"],
            ipv6_params: vec!["myipv6"],
            keep: Some("no"),
            ..Dialect::dyn_classic()
        }
    }

    /// deSEC: `myip`/`myipv4`/`ip` and `myipv6`/`ipv6`/`myip`/`ip`, lists, `preserve`, an
    /// omitted family deleted, 401 for bad credentials, a bare `good`.
    pub fn desec() -> Dialect {
        Dialect {
            ipv4_params: vec!["myip", "myipv4", "ip"],
            ipv6_params: vec!["myipv6", "ipv6", "myip", "ip"],
            keep: Some("preserve"),
            omitted_deleted: true,
            multi: true,
            auth_failure_status: 401,
            echo: false,
            status_errors: true,
        }
    }
}

/// One host of the account book.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Host {
    /// The account that may update it.
    pub owner: String,
    /// Its A addresses.
    pub a: Vec<IpAddr>,
    /// Its AAAA addresses.
    pub aaaa: Vec<IpAddr>,
    /// Records of other types (TXT, NS…) the service keeps but the protocol cannot change.
    pub other: BTreeMap<String, Vec<String>>,
}

/// One received update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// The Basic auth user, if the header decoded.
    pub user: Option<String>,
    /// The request as received.
    pub request: EmuRequest,
}

/// A forced answer, served before normal processing (in order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Forced {
    /// `200 OK` with this body (`911`, `dnserr`, `<html>` …).
    Body(String),
    /// Any status, body and headers.
    Answer(Outcome),
}

/// Everything the server knows; lock it with [`Dyndns2Server::state`].
#[derive(Debug)]
pub struct State {
    /// The dialect spoken.
    pub dialect: Dialect,
    /// user → password.
    pub accounts: BTreeMap<String, String>,
    /// host name → host.
    pub hosts: BTreeMap<String, Host>,
    /// Hosts blocked for abuse.
    pub blocked: BTreeSet<String>,
    /// domain → owner: every name at or below a domain is a host of its owner, created on
    /// its first update (deSEC-style domains with subdomains), unless listed in `not_hosts`.
    pub domains: BTreeMap<String, String>,
    /// Names that are no host of any account (`nohost`), even below an owned domain.
    pub not_hosts: BTreeSet<String>,
    /// Every request, rejected ones included.
    pub received: Vec<Update>,
    /// Answers to force, in order.
    pub forced: VecDeque<Forced>,
    /// How many forced answers were served.
    pub forced_served: usize,
}

impl State {
    /// Requests received.
    pub fn calls(&self) -> usize {
        self.received.len()
    }

    /// Adds an account.
    pub fn account(&mut self, user: &str, password: &str) {
        self.accounts.insert(user.into(), password.into());
    }

    /// Adds a host of `owner` with no address.
    pub fn host(&mut self, name: &str, owner: &str) {
        self.hosts.insert(
            name.into(),
            Host {
                owner: owner.into(),
                ..Host::default()
            },
        );
    }

    /// The host named `name`.
    pub fn get(&self, name: &str) -> Host {
        self.hosts.get(name).cloned().unwrap_or_default()
    }
}

/// A running dyndns2 server; stops on drop.
pub struct Dyndns2Server {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl Dyndns2Server {
    /// Starts a server speaking `dialect` with no account and no host.
    pub fn start(dialect: Dialect) -> Dyndns2Server {
        let state = Arc::new(Mutex::new(State {
            dialect,
            accounts: BTreeMap::new(),
            hosts: BTreeMap::new(),
            blocked: BTreeSet::new(),
            domains: BTreeMap::new(),
            not_hosts: BTreeSet::new(),
            received: Vec::new(),
            forced: VecDeque::new(),
            forced_served: 0,
        }));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| {
            let mut st = st.lock().unwrap_or_else(|p| p.into_inner());
            handle(&mut st, req)
        }));
        Dyndns2Server { server, state }
    }

    /// The update URL, `http://127.0.0.1:PORT/nic/update`.
    pub fn update_url(&self) -> String {
        format!("{}/nic/update", self.server.endpoint())
    }

    /// `127.0.0.1:PORT`, as the provider names the service in messages.
    pub fn host_port(&self) -> String {
        self.server.addr().to_string()
    }

    /// Locks the state.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forces the next answer to be `body` with 200.
    pub fn force(&self, body: &str) {
        self.state().forced.push_back(Forced::Body(body.into()));
    }

    /// Forces the next answer.
    pub fn force_answer(&self, a: Outcome) {
        self.state().forced.push_back(Forced::Answer(a));
    }

    /// Requests received.
    pub fn calls(&self) -> usize {
        self.state().calls()
    }

    /// The last request.
    pub fn last(&self) -> Update {
        self.state()
            .received
            .last()
            .cloned()
            .expect("a request was received")
    }
}

fn handle(st: &mut State, req: &EmuRequest) -> Outcome {
    let user = basic_user(req);
    st.received.push(Update {
        user: user.as_ref().map(|(u, _)| u.clone()),
        request: req.clone(),
    });
    if let Some(f) = st.forced.pop_front() {
        st.forced_served += 1;
        return match f {
            Forced::Body(b) => Outcome::text(200, &b),
            Forced::Answer(a) => a,
        };
    }
    // Dyn: badagent also for a method other than GET; clients must send a user agent.
    let agent = req.header("user-agent").unwrap_or("");
    if req.method != "GET" || agent.trim().is_empty() {
        return Outcome::text(200, "badagent");
    }
    let Some((user, password)) = user else {
        return badauth(st);
    };
    if st.accounts.get(&user) != Some(&password) {
        return badauth(st);
    }
    let Some(names) = req.param("hostname") else {
        return Outcome::text(200, "notfqdn");
    };
    let names: Vec<&str> = names.split(',').collect();
    if names.len() > 20 {
        return Outcome::text(200, "numhost");
    }
    let d = st.dialect.clone();
    let mut lines = Vec::new();
    for name in names {
        lines.push(update_host(st, &d, &user, name, req));
    }
    if d.status_errors {
        // deSEC: "404 Not Found (if the specified domain was not found)".
        if lines.iter().any(|l| l == "nohost") {
            return Outcome::text(404, "Not Found");
        }
    }
    Outcome::text(200, &lines.join("\n"))
}

fn badauth(st: &State) -> Outcome {
    let s = st.dialect.auth_failure_status;
    if s == 401 {
        Outcome::with_header(401, "badauth", "WWW-Authenticate", "Basic realm=\"dyndns\"")
    } else {
        Outcome::text(s, "badauth")
    }
}

/// What a request says about one family.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Spec {
    Keep,
    Set(Vec<IpAddr>),
    Delete,
}

fn update_host(st: &mut State, d: &Dialect, user: &str, name: &str, req: &EmuRequest) -> String {
    if !name.contains('.') {
        return "notfqdn".into();
    }
    if st.blocked.contains(name) {
        return "abuse".into();
    }
    if !st.hosts.contains_key(name) && !st.not_hosts.contains(name) {
        let owner = st
            .domains
            .iter()
            .find(|(d, _)| name == d.as_str() || name.ends_with(&format!(".{d}")))
            .map(|(_, o)| o.clone());
        if let Some(owner) = owner {
            st.host(name, &owner);
        }
    }
    match st.hosts.get(name) {
        Some(h) if h.owner == user && !st.not_hosts.contains(name) => {}
        _ => return "nohost".into(),
    }
    let v4 = match family_spec(d, &d.ipv4_params, false, req) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let v6 = match family_spec(d, &d.ipv6_params, true, req) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // The connection is IPv4 (127.0.0.1): what an omitted family becomes.
    let conn = Spec::Set(vec![IpAddr::from([127, 0, 0, 1])]);
    let (v4, v6) = match (v4, v6) {
        (None, None) if !d.omitted_deleted => (conn, Spec::Keep),
        (v4, v6) if d.omitted_deleted => (v4.unwrap_or(conn), v6.unwrap_or(Spec::Delete)),
        (v4, v6) => (v4.unwrap_or(Spec::Keep), v6.unwrap_or(Spec::Keep)),
    };
    let host = st.hosts.get_mut(name).expect("checked above");
    let before = host.clone();
    let mut sent = Vec::new();
    for (spec, slot) in [(&v4, &mut host.a), (&v6, &mut host.aaaa)] {
        match spec {
            Spec::Keep => {}
            Spec::Delete => slot.clear(),
            Spec::Set(list) => {
                *slot = list.clone();
                sent.extend(list.iter().map(ToString::to_string));
            }
        }
    }
    let word = if *host == before { "nochg" } else { "good" };
    if d.echo && !sent.is_empty() {
        format!("{word} {}", sent.join(","))
    } else {
        word.to_owned()
    }
}

/// The first of `params` that is present decides the family (`None`: none is); an address of
/// the other family in a shared parameter is left to the other family's look-up.
fn family_spec(
    d: &Dialect,
    params: &[&str],
    v6: bool,
    req: &EmuRequest,
) -> Result<Option<Spec>, String> {
    for p in params {
        let Some(value) = req.param(p) else {
            continue;
        };
        if Some(value.as_str()) == d.keep {
            return Ok(Some(Spec::Keep));
        }
        if value.is_empty() {
            return Ok(Some(Spec::Delete));
        }
        let mut mine = Vec::new();
        for item in value.split(',') {
            let Ok(ip) = item.trim().parse::<IpAddr>() else {
                // nsupdate.info answers dnserr for an address it cannot parse.
                return Err("dnserr".into());
            };
            if ip.is_ipv6() == v6 {
                mine.push(ip);
            }
        }
        if mine.is_empty() {
            // This parameter holds only the other family (a shared myip): keep looking.
            continue;
        }
        if mine.len() > 1 && !d.multi {
            return Err("numhost".into());
        }
        return Ok(Some(Spec::Set(mine)));
    }
    Ok(None)
}

fn basic_user(req: &EmuRequest) -> Option<(String, String)> {
    let h = req.header("authorization")?;
    let token = h.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}
