//! The one HTTP/1.1 server of the test harness, under every emulator and local HTTP server
//! (DNSPod, Alibaba Cloud, Huawei Cloud, Cloudflare, the Route 53 and PowerDNS fronts, the
//! dyndns2 and webhook endpoints, the echo services of the address sources): keep-alive,
//! `Content-Length` and chunked request bodies, requests capped at [`MAX_MESSAGE`] bytes, one
//! thread with its own tokio runtime per server, bound to 127.0.0.1:0 (or to a listener the
//! test bound itself, on ::1 or inside a namespace) and stopped on drop. It parses requests
//! and writes replies; everything an API does is the handler's, which decides every reply, or
//! never to answer, or to close the connection. [`forward`] (async) and [`exchange`] (blocking)
//! are the client side, for the fronts that pass requests on to a real server. The encodings
//! and hashes the emulators check signatures with are at the bottom.

#![allow(dead_code)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The most bytes one request (or one reply [`forward`] reads) may hold, head and body
/// together. A larger request is answered `413` and its connection closed, so a runaway client
/// cannot fill the test's memory.
pub const MAX_MESSAGE: usize = 1 << 20;

/// A parsed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmuRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, still percent-encoded as sent.
    pub path: String,
    /// The query string as sent (without `?`).
    pub raw_query: String,
    /// Header (name, value) pairs as sent.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked when it came chunked).
    pub body: Vec<u8>,
}

impl EmuRequest {
    /// A request to send with [`forward`] or [`exchange`]; `target` is the path with the query.
    pub fn new(
        method: &str,
        target: &str,
        headers: Vec<(String, String)>,
        body: impl Into<Vec<u8>>,
    ) -> EmuRequest {
        let (path, raw_query) = target.split_once('?').unwrap_or((target, ""));
        EmuRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            raw_query: raw_query.to_owned(),
            headers,
            body: body.into(),
        }
    }

    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }

    /// Every header named `name` (any case), in order.
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The decoded query parameters, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        form_decode(self.raw_query.as_bytes())
    }

    /// The first decoded query parameter named `name`.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The request target as sent: the path, and `?` and the query if there is one.
    pub fn target(&self) -> String {
        if self.raw_query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.raw_query)
        }
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A reply to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmuReply {
    /// The status code.
    pub status: u16,
    /// Headers besides Content-Length and Connection (`Date` is added when missing).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl EmuReply {
    /// A reply with a `Content-Type`.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> EmuReply {
        EmuReply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> EmuReply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }
}

/// What the handler wants done with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answer.
    Reply(EmuReply),
    /// Never answer (the connection stays open until the client gives up).
    Hang,
    /// Close the connection without a reply.
    Close,
}

impl Outcome {
    /// `status` with a `text/plain; charset=utf-8` body.
    pub fn text(status: u16, body: &str) -> Outcome {
        Outcome::Reply(EmuReply::new(status, "text/plain; charset=utf-8", body))
    }

    /// `status` with a text body and one extra header.
    pub fn with_header(status: u16, body: &str, name: &str, value: &str) -> Outcome {
        Outcome::Reply(
            EmuReply::new(status, "text/plain; charset=utf-8", body).with_header(name, value),
        )
    }
}

impl From<EmuReply> for Outcome {
    fn from(r: EmuReply) -> Outcome {
        Outcome::Reply(r)
    }
}

/// Which requests a queued fault hits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The next request, whatever it is.
    Any,
    /// The next request of this action / operation.
    Action(String),
    /// The next request that only reads.
    Reads,
    /// The next request that writes.
    Writes,
}

impl Target {
    /// `None` → any request, `Some(a)` → action `a`.
    pub fn of(action: Option<&str>) -> Target {
        action.map_or(Target::Any, |a| Target::Action(a.to_owned()))
    }

    /// Whether a request of `action` (a read when `read`) is hit.
    pub fn hits(&self, action: &str, read: bool) -> bool {
        match self {
            Target::Any => true,
            Target::Action(a) => a == action,
            Target::Reads => read,
            Target::Writes => !read,
        }
    }
}

/// The request handler.
pub type Handler = Arc<dyn Fn(&EmuRequest) -> Outcome + Send + Sync>;

/// A handler that may wait (forward to a server, answer slowly) without holding up the
/// server's other connections.
pub type AsyncHandler =
    Arc<dyn Fn(EmuRequest) -> Pin<Box<dyn Future<Output = Outcome> + Send>> + Send + Sync>;

/// A running server; stops on drop.
pub struct EmuServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EmuServer {
    /// Starts serving `handler` on 127.0.0.1:0.
    pub fn start(handler: Handler) -> EmuServer {
        EmuServer::start_async(move |req| {
            let outcome = handler(&req);
            async move { outcome }
        })
    }

    /// Starts serving an async `handler` on 127.0.0.1:0.
    pub fn start_async<F, Fut>(handler: F) -> EmuServer
    where
        F: Fn(EmuRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        EmuServer::serve(listener, handler)
    }

    /// Serves an async `handler` on a listener the caller bound (on ::1, inside a namespace).
    pub fn serve<F, Fut>(listener: std::net::TcpListener, handler: F) -> EmuServer
    where
        F: Fn(EmuRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let handler: AsyncHandler = Arc::new(move |req| Box::pin(handler(req)));
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("listener");
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
        EmuServer {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT` (`http://[::1]:PORT` on ::1).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address (`127.0.0.1:PORT`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for EmuServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve_conn(mut sock: TcpStream, handler: AsyncHandler) -> io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let msg = match read_message(&mut sock, &mut buf, true).await? {
            Read::Message(m) => m,
            Read::End => return Ok(()),
            Read::TooLarge => {
                let reply = EmuReply::new(413, "text/plain", "request too large")
                    .with_header("Connection", "close");
                write_reply(&mut sock, &reply).await?;
                // Read what the client still sends before closing: closing a socket with
                // unread data resets the connection, and the reset can overtake the reply.
                sock.shutdown().await?;
                let drain = async {
                    let mut sink = [0u8; 8192];
                    while matches!(sock.read(&mut sink).await, Ok(n) if n > 0) {}
                };
                let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
                return Ok(());
            }
        };
        let mut parts = msg.start.split(' ');
        let method = parts.next().unwrap_or("");
        let target = parts.next().unwrap_or("");
        let req = EmuRequest::new(method, target, msg.headers, msg.body);
        match handler(req).await {
            Outcome::Reply(reply) => write_reply(&mut sock, &reply).await?,
            Outcome::Close => return Ok(()),
            Outcome::Hang => {
                // Held until the client gives up or the server stops.
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return Ok(());
            }
        }
    }
}

/// Writes `reply` with `Content-Length`, `Connection` and (unless it has one) `Date`.
async fn write_reply<S: AsyncWrite + Unpin>(sock: &mut S, reply: &EmuReply) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (n, v) in &reply.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if reply.header("date").is_none() {
        head.push_str(&format!(
            "Date: {}\r\n",
            httpdate::fmt_http_date(SystemTime::now())
        ));
    }
    head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    if reply.header("connection").is_none() {
        head.push_str("Connection: keep-alive\r\n");
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(&reply.body).await?;
    sock.flush().await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Sends `req` to `upstream` on a fresh connection (`Connection: close`), every other header
/// and the body as received (a signed request stays signed), and reads the whole reply. The
/// reply keeps the upstream's status and headers but for those of its own framing
/// (`Content-Length`, `Transfer-Encoding`, `Connection`), which the server writes anew.
pub async fn forward(upstream: SocketAddr, req: &EmuRequest) -> io::Result<EmuReply> {
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.target());
    for (n, v) in &req.headers {
        if !is_framing(n) {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
    }
    if !req.body.is_empty() || req.header("content-length").is_some() {
        head.push_str(&format!("Content-Length: {}\r\n", req.body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut sock = TcpStream::connect(upstream).await?;
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(&req.body).await?;
    let mut buf = Vec::new();
    let msg = match read_message(&mut sock, &mut buf, false).await? {
        Read::Message(m) => m,
        Read::End => return Err(io::Error::other("the upstream closed without a reply")),
        Read::TooLarge => return Err(io::Error::other("the upstream's reply is too large")),
    };
    let status = msg
        .start
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("not an http reply: {:?}", msg.start)))?;
    Ok(EmuReply {
        status,
        headers: msg
            .headers
            .into_iter()
            .filter(|(n, _)| !is_framing(n))
            .collect(),
        body: msg.body,
    })
}

/// [`forward`] for code that is not async (a test's set-up and checks, which may run inside
/// a runtime): sent from a thread of its own, with 30 s for the reply.
pub fn exchange(upstream: SocketAddr, req: &EmuRequest) -> io::Result<EmuReply> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(30), forward(upstream, req))
                    .await
                    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no reply in 30 s"))?
            })
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the exchange thread panicked")))
    })
}

/// Headers about one connection's framing, which a front writes anew.
fn is_framing(name: &str) -> bool {
    [
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

fn header_in<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// One HTTP/1.1 message: its start line, headers and body.
struct Message {
    start: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// What reading a message found.
enum Read {
    Message(Message),
    /// The peer closed before a message began (or in the middle of one).
    End,
    /// The message is larger than [`MAX_MESSAGE`].
    TooLarge,
}

/// Reads one message from `sock`, `buf` holding what was read past the previous one. The body
/// is framed by `Content-Length` or chunked encoding; a reply with neither runs to the end of
/// the stream, a request with neither has none.
async fn read_message<S: AsyncRead + Unpin>(
    sock: &mut S,
    buf: &mut Vec<u8>,
    request: bool,
) -> io::Result<Read> {
    let mut scanned = 0;
    let head_end = loop {
        if let Some(i) = find(&buf[scanned..], b"\r\n\r\n") {
            break scanned + i;
        }
        if buf.len() > MAX_MESSAGE {
            return Ok(Read::TooLarge);
        }
        scanned = buf.len().saturating_sub(3);
        if !fill(sock, buf).await? {
            return Ok(Read::End);
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);
    let room = MAX_MESSAGE.saturating_sub(head_end + 4);
    let mut lines = head.split("\r\n");
    let start = lines.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = header_in(&headers, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = header_in(&headers, "content-length").and_then(|v| v.parse::<usize>().ok());
    let status = start.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok());
    let body = if chunked {
        match read_chunked(sock, buf, room).await? {
            Some(Ok(body)) => body,
            Some(Err(TooLarge)) => return Ok(Read::TooLarge),
            None => return Ok(Read::End),
        }
    } else if let Some(len) = length {
        if len > room {
            return Ok(Read::TooLarge);
        }
        while buf.len() < len {
            if !fill(sock, buf).await? {
                return Ok(Read::End);
            }
        }
        buf.drain(..len).collect()
    } else if request || matches!(status, Some(100..=199 | 204 | 304)) {
        Vec::new()
    } else {
        while fill(sock, buf).await? {
            if buf.len() > room {
                return Ok(Read::TooLarge);
            }
        }
        std::mem::take(buf)
    };
    Ok(Read::Message(Message {
        start,
        headers,
        body,
    }))
}

struct TooLarge;

/// Reads a chunked body (RFC 9112 §7.1; chunk extensions and trailers skipped); `None` when
/// the stream ends first.
async fn read_chunked<S: AsyncRead + Unpin>(
    sock: &mut S,
    buf: &mut Vec<u8>,
    room: usize,
) -> io::Result<Option<Result<Vec<u8>, TooLarge>>> {
    let mut body = Vec::new();
    loop {
        let Some(line) = read_line(sock, buf).await? else {
            return Ok(None);
        };
        let size = line.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size, 16) else {
            return Err(io::Error::other(format!("bad chunk size {line:?}")));
        };
        if size == 0 {
            // Trailer fields, up to the empty line.
            loop {
                match read_line(sock, buf).await? {
                    None => return Ok(None),
                    Some(l) if l.is_empty() => return Ok(Some(Ok(body))),
                    Some(_) => {}
                }
            }
        }
        if body.len() + size > room {
            return Ok(Some(Err(TooLarge)));
        }
        while buf.len() < size + 2 {
            if !fill(sock, buf).await? {
                return Ok(None);
            }
        }
        body.extend(buf.drain(..size));
        buf.drain(..2);
    }
}

/// One CRLF-terminated line (without the CRLF); `None` when the stream ends first.
async fn read_line<S: AsyncRead + Unpin>(
    sock: &mut S,
    buf: &mut Vec<u8>,
) -> io::Result<Option<String>> {
    loop {
        if let Some(i) = find(buf, b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..i]).into_owned();
            buf.drain(..i + 2);
            return Ok(Some(line));
        }
        if buf.len() > MAX_MESSAGE || !fill(sock, buf).await? {
            return Ok(None);
        }
    }
}

/// Reads what is there into `buf`; false at the end of the stream.
async fn fill<S: AsyncRead + Unpin>(sock: &mut S, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut chunk = [0u8; 8192];
    let n = sock.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Decodes `a=1&b=x%20y` (also `application/x-www-form-urlencoded`, where `+` is a space).
pub fn form_decode(s: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(s)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Decodes `%XY` escapes (and `+` as a space when `plus` is set); a `%` without two hex
/// digits after it stays as it is.
pub fn percent_decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| char::from(c).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' if plus => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// RFC 3986 encoding (unreserved `A-Z a-z 0-9 - _ . ~` kept, `%XY` upper-case otherwise):
/// what both APIs' canonical forms use. Written here again, apart from ddnsd's signers, so the
/// emulators check them instead of trusting them.
pub fn rfc3986(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Lowercase hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Lowercase hex SHA-256.
pub fn hex_sha256(b: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(b))
}

/// HMAC-SHA256.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, KeyInit, Mac};
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

/// Unix seconds of a UTC civil time (Howard Hinnant's `days_from_civil`).
pub fn unix_of(y: i64, m: i64, d: i64, hh: i64, mm: i64, ss: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hh * 3600 + mm * 60 + ss
}

/// The civil UTC time of Unix seconds: (year, month, day, hour, minute, second).
pub fn civil_of(t: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, secs / 3600, secs % 3600 / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for t in [
            0,
            1_698_315_752,
            1_709_251_199,
            1_709_251_200,
            4_102_444_800,
        ] {
            let (y, m, d, hh, mm, ss) = civil_of(t);
            assert_eq!(unix_of(y, m, d, hh, mm, ss), t);
        }
        assert_eq!(civil_of(1_698_315_752), (2023, 10, 26, 10, 22, 32));
        assert_eq!(percent_decode("a%20b+c%2", true), "a b c%2");
        assert_eq!(percent_decode("a+%2B%+1%zz", false), "a++%+1%zz");
        assert_eq!(rfc3986("2001:db8::1 *~"), "2001%3Adb8%3A%3A1%20%2A~");
    }

    /// A server answering with what it parsed: method, target, `x-n` header and body.
    fn echo_server() -> EmuServer {
        EmuServer::start(Arc::new(|req: &EmuRequest| match req.path.as_str() {
            "/close" => Outcome::Close,
            "/hang" => Outcome::Hang,
            _ => Outcome::Reply(
                EmuReply::new(
                    201,
                    "text/plain",
                    format!(
                        "{} {} {:?} {:?} {}",
                        req.method,
                        req.target(),
                        req.param("a"),
                        req.header("X-N"),
                        req.body_text()
                    ),
                )
                .with_header("X-Seen", "1"),
            ),
        }))
    }

    async fn reply_of(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Message> {
        match read_message(sock, buf, false).await.unwrap() {
            Read::Message(m) => Some(m),
            Read::End => None,
            Read::TooLarge => panic!("reply too large"),
        }
    }

    #[tokio::test]
    async fn keep_alive_content_length_and_chunked_bodies() {
        let srv = echo_server();
        let mut sock = TcpStream::connect(srv.addr()).await.unwrap();
        // Two requests in one write, the second chunked with an extension and a trailer.
        sock.write_all(
            b"POST /p?a=x%20y&b=1 HTTP/1.1\r\nHost: h\r\nx-n: one\r\nContent-Length: 5\r\n\r\nhello\
              PUT /q HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n",
        )
        .await
        .unwrap();
        let mut buf = Vec::new();
        let one = reply_of(&mut sock, &mut buf).await.unwrap();
        assert_eq!(one.start, "HTTP/1.1 201 Created");
        assert_eq!(
            String::from_utf8(one.body).unwrap(),
            "POST /p?a=x%20y&b=1 Some(\"x y\") Some(\"one\") hello"
        );
        assert_eq!(header_in(&one.headers, "x-seen"), Some("1"));
        assert_eq!(header_in(&one.headers, "connection"), Some("keep-alive"));
        assert!(header_in(&one.headers, "date").is_some());
        let two = reply_of(&mut sock, &mut buf).await.unwrap();
        assert_eq!(
            String::from_utf8(two.body).unwrap(),
            "PUT /q None None abcde"
        );
        // A third on the same connection, after the others were answered.
        sock.write_all(b"GET /r HTTP/1.1\r\n\r\n").await.unwrap();
        let three = reply_of(&mut sock, &mut buf).await.unwrap();
        assert_eq!(String::from_utf8(three.body).unwrap(), "GET /r None None ");
    }

    #[tokio::test]
    async fn oversized_requests_get_413_and_a_closed_connection() {
        let srv = echo_server();
        for head in [
            format!("POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n", MAX_MESSAGE),
            format!(
                "GET / HTTP/1.1\r\nX-Big: {}\r\n",
                "x".repeat(MAX_MESSAGE + 1)
            ),
            format!(
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
                MAX_MESSAGE
            ),
        ] {
            let mut sock = TcpStream::connect(srv.addr()).await.unwrap();
            sock.write_all(head.as_bytes()).await.unwrap();
            if head.contains("chunked") {
                sock.write_all(&vec![b'x'; MAX_MESSAGE]).await.unwrap();
            }
            let mut buf = Vec::new();
            let r = reply_of(&mut sock, &mut buf).await.unwrap();
            assert_eq!(r.start, "HTTP/1.1 413 Content Too Large", "{}", &head[..40]);
            assert!(reply_of(&mut sock, &mut buf).await.is_none());
        }
    }

    #[tokio::test]
    async fn close_drops_the_connection_and_hang_never_answers() {
        let srv = echo_server();
        let mut sock = TcpStream::connect(srv.addr()).await.unwrap();
        sock.write_all(b"GET /close HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let mut buf = Vec::new();
        assert!(reply_of(&mut sock, &mut buf).await.is_none());

        let mut sock = TcpStream::connect(srv.addr()).await.unwrap();
        sock.write_all(b"GET /hang HTTP/1.1\r\n\r\n").await.unwrap();
        let waited =
            tokio::time::timeout(Duration::from_millis(300), reply_of(&mut sock, &mut buf)).await;
        assert!(waited.is_err(), "a hung request was answered");
    }

    #[tokio::test]
    async fn forward_passes_the_request_on_and_reads_a_chunked_reply() {
        // An upstream that answers one request chunked, then closes.
        let up = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let up_addr = up.local_addr().unwrap();
        let upstream = tokio::spawn(async move {
            let (mut s, _) = up.accept().await.unwrap();
            let mut buf = Vec::new();
            let Read::Message(m) = read_message(&mut s, &mut buf, true).await.unwrap() else {
                panic!("no request");
            };
            s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\n{\"a\"\r\n3\r\n: 1\r\n1\r\n}\r\n0\r\n\r\n")
                .await
                .unwrap();
            m
        });
        let front = EmuServer::start_async(move |req| async move {
            match forward(up_addr, &req).await {
                Ok(r) => Outcome::Reply(r),
                Err(_) => Outcome::Close,
            }
        });
        let mut sock = TcpStream::connect(front.addr()).await.unwrap();
        sock.write_all(b"PATCH /z?x=1 HTTP/1.1\r\nHost: h\r\nAuthorization: sig\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}")
            .await
            .unwrap();
        let mut buf = Vec::new();
        let r = reply_of(&mut sock, &mut buf).await.unwrap();
        assert_eq!(r.start, "HTTP/1.1 404 Not Found");
        assert_eq!(r.body, b"{\"a\": 1}");
        assert_eq!(
            header_in(&r.headers, "content-type"),
            Some("application/json")
        );
        assert_eq!(header_in(&r.headers, "transfer-encoding"), None);
        let seen = upstream.await.unwrap();
        assert_eq!(seen.start, "PATCH /z?x=1 HTTP/1.1");
        assert_eq!(
            seen.headers,
            [
                ("Host".to_owned(), "h".to_owned()),
                ("Authorization".to_owned(), "sig".to_owned()),
                ("Content-Length".to_owned(), "2".to_owned()),
                ("Connection".to_owned(), "close".to_owned()),
            ]
        );
        assert_eq!(seen.body, b"{}");
    }
}
