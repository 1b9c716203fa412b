//! A local HTTP/1.1 endpoint for the webhook provider: it records every request (method, path,
//! decoded query, headers, body), checks a required header (e.g. `Authorization`) and answers
//! 401 without it, rejects a JSON body that does not parse (400), and otherwise answers from a
//! script of canned replies (status, headers such as `Retry-After`, body), a hang (timeout) or a
//! dropped connection, defaulting to `200 ok`. As a receiver ([`HookState::store`]) it applies
//! `{"name", "type", "addresses"}` bodies to a record store and refuses chosen names (422), so
//! the conformance battery can see what a webhook published.
//!
//! [`HttpServer`] is the transport under it (and under the dyndns2 server): a hand-written
//! HTTP/1.1 server with keep-alive and `Content-Length` bodies on its own thread and tokio
//! runtime, bound to 127.0.0.1:0, stopped on drop.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string as sent (still encoded).
    pub raw_query: String,
    /// The query's pairs, percent-decoded, in order.
    pub query: Vec<(String, String)>,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Received {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first query value of `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the server does with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A complete reply.
    Reply {
        /// Status code.
        status: u16,
        /// Extra headers (`Retry-After`, `WWW-Authenticate`, …).
        headers: Vec<(String, String)>,
        /// Body.
        body: Vec<u8>,
    },
    /// Never answer (the connection stays open): the client times out.
    Hang,
    /// Close the connection without a reply.
    Close,
}

impl Answer {
    /// `status` with a text body.
    pub fn text(status: u16, body: &str) -> Answer {
        Answer::Reply {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// `status` with a text body and one extra header.
    pub fn with_header(status: u16, body: &str, name: &str, value: &str) -> Answer {
        Answer::Reply {
            status,
            headers: vec![(name.to_owned(), value.to_owned())],
            body: body.as_bytes().to_vec(),
        }
    }
}

type Handler = Arc<dyn Fn(&Received) -> Answer + Send + Sync>;

/// A running HTTP/1.1 server calling a handler per request; stops on drop.
pub struct HttpServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    /// Starts a server on 127.0.0.1:0 answering with `handler`.
    pub fn start(handler: Handler) -> HttpServer {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("local addr");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("listener");
                let serve = async {
                    loop {
                        let Ok((sock, _)) = listener.accept().await else {
                            continue;
                        };
                        let h = handler.clone();
                        tokio::spawn(async move {
                            let _ = serve_conn(sock, h).await;
                        });
                    }
                };
                tokio::select! {
                    _ = serve => {}
                    _ = stop_rx => {}
                }
            });
        });
        HttpServer {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve_conn(mut sock: TcpStream, handler: Handler) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some(req) = read_request(&mut sock, &mut buf).await? else {
            return Ok(());
        };
        match handler(&req) {
            Answer::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return Ok(());
            }
            Answer::Close => return Ok(()),
            Answer::Reply {
                status,
                headers,
                body,
            } => {
                let reason = match status {
                    200 => "OK",
                    204 => "No Content",
                    400 => "Bad Request",
                    401 => "Unauthorized",
                    403 => "Forbidden",
                    404 => "Not Found",
                    429 => "Too Many Requests",
                    500 => "Internal Server Error",
                    503 => "Service Unavailable",
                    _ => "Status",
                };
                let mut head = format!(
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: keep-alive\r\n",
                    body.len()
                );
                for (n, v) in &headers {
                    head.push_str(&format!("{n}: {v}\r\n"));
                }
                head.push_str("\r\n");
                sock.write_all(head.as_bytes()).await?;
                sock.write_all(&body).await?;
                sock.flush().await?;
            }
        }
    }
}

async fn read_request(
    sock: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Received>> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 8192];
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().unwrap_or("").split(' ');
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let start = head_end + 4;
    while buf.len() < start + len {
        let mut chunk = [0u8; 8192];
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[start..start + len].to_vec();
    buf.drain(..start + len);
    let (path, raw_query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target.clone(), String::new()),
    };
    let query = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    Ok(Some(Received {
        method,
        path,
        raw_query,
        query,
        headers,
        body,
    }))
}

/// Percent-decoding of a query component (`+` is a space, as in forms).
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| char::from(c).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the webhook endpoint knows; lock it with [`WebhookServer::state`].
#[derive(Debug)]
pub struct HookState {
    /// Every request, in order (rejected ones included).
    pub received: Vec<Received>,
    /// Answers to give, in order, before the normal one.
    pub script: VecDeque<Answer>,
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
    server: HttpServer,
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
        let server = HttpServer::start(Arc::new(move |req: &Received| {
            let mut st = st.lock().unwrap_or_else(|p| p.into_inner());
            st.received.push(req.clone());
            if let Some(a) = st.script.pop_front() {
                st.scripted_served += 1;
                return a;
            }
            if let Some((name, value)) = &st.require {
                if req.header(name) != Some(value.as_str()) {
                    return Answer::with_header(
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
                return Answer::text(400, "{\"error\": \"body is not valid json\"}");
            }
            let HookState { store, refuse, .. } = &mut *st;
            if let (Some(store), Ok(v)) = (store.as_mut(), &parsed) {
                return receive(store, refuse, v);
            }
            Answer::text(200, "ok")
        }));
        WebhookServer { server, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// `127.0.0.1:PORT`.
    pub fn host_port(&self) -> String {
        self.server.host_port()
    }

    /// Locks the state.
    pub fn state(&self) -> MutexGuard<'_, HookState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues an answer for the next request.
    pub fn script(&self, a: Answer) {
        self.state().script.push_back(a);
    }

    /// Requests received so far.
    pub fn calls(&self) -> usize {
        self.state().calls()
    }

    /// The last request.
    pub fn last(&self) -> Received {
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
) -> Answer {
    let name = v.get("name").and_then(|n| n.as_str());
    let rtype = v.get("type").and_then(|t| t.as_str());
    let addrs: Option<Vec<String>> = v
        .get("addresses")
        .and_then(|a| a.as_array())
        .and_then(|a| a.iter().map(|x| x.as_str().map(str::to_owned)).collect());
    let (Some(name), Some(rtype @ ("A" | "AAAA")), Some(addrs)) = (name, rtype, addrs) else {
        return Answer::text(
            400,
            "{\"error\": \"name, type and addresses are required\"}",
        );
    };
    if refuse.contains(name) {
        return Answer::text(422, "{\"error\": \"this name may not be changed\"}");
    }
    store.insert((name.to_owned(), rtype.to_owned()), addrs);
    Answer::text(200, "{\"ok\": true}")
}
