//! A local HTTP/1.1 endpoint for the webhook provider: it records every request (method, path,
//! decoded query, headers, body), checks a required header (e.g. `Authorization`) and answers
//! 401 without it, rejects a JSON body that does not parse (400), and otherwise answers from a
//! script of canned replies (status, headers such as `Retry-After`, body), a hang (timeout) or a
//! dropped connection, defaulting to `200 ok`. As a receiver ([`HookState::store`]) it applies
//! `{"name", "type", "addresses"}` bodies to a record store and refuses chosen names (422), so
//! the conformance battery can see what a webhook published. It runs on the harness's one
//! HTTP server (`emu_http`).

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use super::emu_http::{EmuRequest, EmuServer, Outcome};

/// What the webhook endpoint knows; lock it with [`WebhookServer::state`].
#[derive(Debug)]
pub struct HookState {
    /// Every request, in order (rejected ones included).
    pub received: Vec<EmuRequest>,
    /// Answers to give, in order, before the normal one.
    pub script: VecDeque<Outcome>,
    /// A header every request must carry with exactly this value, else 401.
    pub require: Option<(String, String)>,
    /// As a receiver: (name, type) → values, changed by every accepted JSON body holding
    /// `name`, `type` and `addresses` (`None`: bodies are only recorded).
    pub store: Option<BTreeMap<(String, String), Vec<String>>>,
    /// Names a receiver refuses with 422.
    pub refuse: BTreeSet<String>,
    /// How many scripted answers were served.
    pub scripted_served: usize,
}

impl HookState {
    /// Requests received so far.
    pub fn calls(&self) -> usize {
        self.received.len()
    }
}

/// The webhook endpoint; stops on drop.
pub struct WebhookServer {
    server: EmuServer,
    state: Arc<Mutex<HookState>>,
}

impl WebhookServer {
    /// Starts an endpoint that accepts everything with `200 ok`.
    pub fn start() -> WebhookServer {
        let state = Arc::new(Mutex::new(HookState {
            received: Vec::new(),
            script: VecDeque::new(),
            require: None,
            store: None,
            refuse: BTreeSet::new(),
            scripted_served: 0,
        }));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| {
            let mut st = st.lock().unwrap_or_else(|p| p.into_inner());
            st.received.push(req.clone());
            if let Some(a) = st.script.pop_front() {
                st.scripted_served += 1;
                return a;
            }
            if let Some((name, value)) = &st.require {
                if req.header(name) != Some(value.as_str()) {
                    return Outcome::with_header(
                        401,
                        "unauthorized",
                        "WWW-Authenticate",
                        "Bearer realm=\"hook\"",
                    );
                }
            }
            let json = req
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json"));
            let parsed = serde_json::from_slice::<serde_json::Value>(&req.body);
            if json && parsed.is_err() {
                return Outcome::text(400, "{\"error\": \"body is not valid json\"}");
            }
            let HookState { store, refuse, .. } = &mut *st;
            if let (Some(store), Ok(v)) = (store.as_mut(), &parsed) {
                return receive(store, refuse, v);
            }
            Outcome::text(200, "ok")
        }));
        WebhookServer { server, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.endpoint()
    }

    /// `127.0.0.1:PORT`.
    pub fn host_port(&self) -> String {
        self.server.addr().to_string()
    }

    /// Locks the state.
    pub fn state(&self) -> MutexGuard<'_, HookState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues an answer for the next request.
    pub fn script(&self, a: Outcome) {
        self.state().script.push_back(a);
    }

    /// Requests received so far.
    pub fn calls(&self) -> usize {
        self.state().calls()
    }

    /// The last request.
    pub fn last(&self) -> EmuRequest {
        self.state()
            .received
            .last()
            .cloned()
            .expect("a request was received")
    }
}

/// A receiver's handling of `{"name": …, "type": "A"|"AAAA", "addresses": […]}`: the RRset is
/// replaced; a refused name is 422, a body without those fields 400.
fn receive(
    store: &mut BTreeMap<(String, String), Vec<String>>,
    refuse: &BTreeSet<String>,
    v: &serde_json::Value,
) -> Outcome {
    let name = v.get("name").and_then(|n| n.as_str());
    let rtype = v.get("type").and_then(|t| t.as_str());
    let addrs: Option<Vec<String>> = v
        .get("addresses")
        .and_then(|a| a.as_array())
        .and_then(|a| a.iter().map(|x| x.as_str().map(str::to_owned)).collect());
    let (Some(name), Some(rtype @ ("A" | "AAAA")), Some(addrs)) = (name, rtype, addrs) else {
        return Outcome::text(
            400,
            "{\"error\": \"name, type and addresses are required\"}",
        );
    };
    if refuse.contains(name) {
        return Outcome::text(422, "{\"error\": \"this name may not be changed\"}");
    }
    store.insert((name.to_owned(), rtype.to_owned()), addrs);
    Outcome::text(200, "{\"ok\": true}")
}
