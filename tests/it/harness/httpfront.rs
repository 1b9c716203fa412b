//! An HTTP front: a small HTTP/1.1 reverse proxy on 127.0.0.1 placed between ddnsd and a real
//! HTTP API (PowerDNS's webserver). It counts requests by method and path and can serve faults
//! instead of the API's reply: a 5xx page, a 429 with `Retry-After`, a lost reply (the request
//! is forwarded, so a write happens, but no answer comes back), an HTML page with status 200,
//! or the API's JSON cut in half. Requests are forwarded one connection each
//! (`Connection: close` upstream); the client side keeps its connection alive. Threads stop
//! when the front is dropped.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// What the front serves instead of the API's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpFault {
    /// This status with an HTML body, without forwarding.
    Status(u16),
    /// 429 with `Retry-After: SECS`, without forwarding.
    TooManyRequests(u64),
    /// Forward, then never answer (the connection is held, then closed).
    LoseReply,
    /// Forward, then answer 200 with an HTML page.
    Html,
    /// Forward, then answer with the first half of the API's body.
    HalfBody,
}

/// Which requests a fault hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Any request.
    Any,
    /// `GET` requests.
    Reads,
    /// Every other method.
    Writes,
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
    addr: SocketAddr,
    state: Arc<Mutex<FrontState>>,
    stop: Arc<AtomicBool>,
}

impl HttpFront {
    /// Starts a front forwarding to `upstream`.
    pub fn start(upstream: SocketAddr) -> HttpFront {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(FrontState::default()));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (state, stop) = (state.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            let state = state.clone();
                            thread::spawn(move || serve(conn, upstream, &state));
                        }
                        Err(_) => thread::sleep(Duration::from_millis(20)),
                    }
                }
            });
        }
        HttpFront { addr, state, stop }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Locks the counters and faults.
    pub fn state(&self) -> MutexGuard<'_, FrontState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `fault` for the next request `target` hits.
    pub fn inject(&self, target: Target, fault: HttpFault) {
        self.state().faults.push_back((target, fault));
    }

    /// Forgets requests, queued faults and faulted requests.
    pub fn reset(&self) {
        *self.state() = FrontState::default();
    }
}

impl Drop for HttpFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

struct Message {
    head: String,
    body: Vec<u8>,
}

fn serve(mut conn: TcpStream, upstream: SocketAddr, state: &Mutex<FrontState>) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = Vec::new();
    while let Some(req) = read_message(&mut conn, &mut buf, true) {
        let request_line = req.head.lines().next().unwrap_or("").to_owned();
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or("").to_owned();
        let path = parts.next().unwrap_or("");
        let what = format!("{method} {}", path.split('?').next().unwrap_or(""));
        let fault = {
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            st.requests.push(what.clone());
            let read = method == "GET";
            let pos = st.faults.iter().position(|(t, _)| match t {
                Target::Any => true,
                Target::Reads => read,
                Target::Writes => !read,
            });
            let fault = pos.and_then(|i| st.faults.remove(i)).map(|(_, f)| f);
            if fault.is_some() {
                st.faulted.push(what);
            }
            fault
        };
        let reply = match fault {
            Some(HttpFault::Status(code)) => response(code, "text/html", b"<html>error</html>", ""),
            Some(HttpFault::TooManyRequests(secs)) => response(
                429,
                "text/html",
                b"<html>slow down</html>",
                &format!("Retry-After: {secs}\r\n"),
            ),
            _ => {
                let Some(up) = forward(upstream, &req) else {
                    return;
                };
                match fault {
                    Some(HttpFault::LoseReply) => {
                        thread::sleep(Duration::from_secs(5));
                        return;
                    }
                    Some(HttpFault::Html) => response(
                        200,
                        "application/json",
                        b"<html><head><title>502 Bad Gateway</title></head></html>",
                        "",
                    ),
                    Some(HttpFault::HalfBody) => {
                        let status = status_of(&up.head);
                        response(
                            status,
                            "application/json",
                            &up.body[..up.body.len() / 2],
                            "",
                        )
                    }
                    _ => {
                        let status = status_of(&up.head);
                        let ctype = header(&up.head, "content-type").unwrap_or("text/plain");
                        let extra = header(&up.head, "www-authenticate")
                            .map(|v| format!("WWW-Authenticate: {v}\r\n"))
                            .unwrap_or_default();
                        response(status, ctype, &up.body, &extra)
                    }
                }
            }
        };
        if conn.write_all(&reply).is_err() {
            return;
        }
    }
}

fn response(status: u16, ctype: &str, body: &[u8], extra: &str) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{extra}Connection: keep-alive\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn forward(upstream: SocketAddr, req: &Message) -> Option<Message> {
    let mut s = TcpStream::connect_timeout(&upstream, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut head = String::new();
    for (i, line) in req.head.split("\r\n").enumerate() {
        let lower = line.to_ascii_lowercase();
        if i > 0 && (lower.starts_with("connection:") || lower.starts_with("keep-alive:")) {
            continue;
        }
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(&req.body).ok()?;
    let mut buf = Vec::new();
    read_message(&mut s, &mut buf, false)
}

/// Reads one message (head + body by Content-Length, chunked, or to EOF for a response
/// without either).
fn read_message(s: &mut TcpStream, buf: &mut Vec<u8>, request: bool) -> Option<Message> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 8192];
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);
    let fill = |s: &mut TcpStream, buf: &mut Vec<u8>, want: usize| -> Option<()> {
        while buf.len() < want {
            let mut chunk = [0u8; 8192];
            let n = s.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Some(())
    };
    let body = if let Some(len) = header(&head, "content-length").and_then(|v| v.parse().ok()) {
        fill(s, buf, len)?;
        buf.drain(..len).collect()
    } else if header(&head, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                let want = buf.len() + 1;
                fill(s, buf, want)?;
            };
            let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            buf.drain(..line_end + 2);
            fill(s, buf, size + 2)?;
            body.extend(buf.drain(..size));
            buf.drain(..2);
            if size == 0 {
                break body;
            }
        }
    } else if request || status_of(&head) == 204 {
        Vec::new()
    } else {
        let _ = s.read_to_end(buf);
        std::mem::take(buf)
    };
    Some(Message { head, body })
}

fn status_of(head: &str) -> u16 {
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(502)
}

fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.split("\r\n").skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}
