//! An HTTP front: a small HTTP/1.1 reverse proxy on 127.0.0.1 placed between ddnsd and a real
//! HTTP API (PowerDNS's webserver). It counts requests by method and path and can serve faults
//! instead of the API's reply: a 5xx page, a 429 with `Retry-After`, a lost reply (the request
//! is forwarded, so a write happens, but no answer comes back), an HTML page with status 200,
//! or the API's JSON cut in half. Requests are forwarded one connection each
//! (`Connection: close` upstream); the client side keeps its connection alive. It runs on the
//! harness's one HTTP server (`emu_http`) and stops when dropped.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

pub use super::emu_http::Target;
use super::emu_http::{forward, EmuReply, EmuRequest, EmuServer, Outcome};

/// What the front serves instead of the API's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpFault {
    /// This status with an HTML body, without forwarding.
    Status(u16),
    /// 429 with `Retry-After: SECS`, without forwarding.
    TooManyRequests(u64),
    /// Forward, then never answer (the connection is held until the client gives up).
    LoseReply,
    /// Forward, then answer 200 with an HTML page.
    Html,
    /// Forward, then answer with the first half of the API's body.
    HalfBody,
}

/// Counters and queued faults; lock with [`HttpFront::state`].
#[derive(Debug, Default)]
pub struct FrontState {
    /// `METHOD /path` (query string dropped) of every request, in order.
    pub requests: Vec<String>,
    /// Faults to serve, each to the first request it hits.
    pub faults: VecDeque<(Target, HttpFault)>,
    /// `METHOD /path` of every request that got a fault, in order.
    pub faulted: Vec<String>,
}

/// A running front; stops on drop.
pub struct HttpFront {
    server: EmuServer,
    state: Arc<Mutex<FrontState>>,
}

impl HttpFront {
    /// Starts a front forwarding to `upstream`.
    pub fn start(upstream: SocketAddr) -> HttpFront {
        let state = Arc::new(Mutex::new(FrontState::default()));
        let st = state.clone();
        let server = EmuServer::start_async(move |req| serve(req, upstream, st.clone()));
        HttpFront { server, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.endpoint()
    }

    /// Locks the counters and faults.
    pub fn state(&self) -> MutexGuard<'_, FrontState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `fault` for the next request `target` hits (`Target::Action` names a request as
    /// `METHOD /path`; reads are `GET`s).
    pub fn inject(&self, target: Target, fault: HttpFault) {
        self.state().faults.push_back((target, fault));
    }

    /// Forgets requests, queued faults and faulted requests.
    pub fn reset(&self) {
        *self.state() = FrontState::default();
    }
}

async fn serve(req: EmuRequest, upstream: SocketAddr, state: Arc<Mutex<FrontState>>) -> Outcome {
    let what = format!("{} {}", req.method, req.path);
    let fault = {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        st.requests.push(what.clone());
        let read = req.method == "GET";
        let pos = st.faults.iter().position(|(t, _)| t.hits(&what, read));
        let fault = pos.and_then(|i| st.faults.remove(i)).map(|(_, f)| f);
        if fault.is_some() {
            st.faulted.push(what);
        }
        fault
    };
    match fault {
        Some(HttpFault::Status(code)) => {
            return EmuReply::new(code, "text/html", "<html>error</html>").into();
        }
        Some(HttpFault::TooManyRequests(secs)) => {
            return EmuReply::new(429, "text/html", "<html>slow down</html>")
                .with_header("Retry-After", &secs.to_string())
                .into();
        }
        _ => {}
    }
    let Ok(up) = forward(upstream, &req).await else {
        return Outcome::Close;
    };
    match fault {
        Some(HttpFault::LoseReply) => Outcome::Hang,
        Some(HttpFault::Html) => EmuReply::new(
            200,
            "application/json",
            "<html><head><title>502 Bad Gateway</title></head></html>",
        )
        .into(),
        Some(HttpFault::HalfBody) => {
            EmuReply::new(up.status, "application/json", &up.body[..up.body.len() / 2]).into()
        }
        _ => up.into(),
    }
}
