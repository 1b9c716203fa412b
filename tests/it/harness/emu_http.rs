//! The small HTTP/1.1 server under the Alibaba Cloud and Huawei Cloud emulators: keep-alive,
//! Content-Length bodies, one thread with its own tokio runtime, bound to 127.0.0.1:0 and
//! stopped on drop. It parses requests and writes replies; everything an API does is the
//! handler's.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A parsed request.
#[derive(Clone, Debug)]
pub struct EmuRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, still percent-encoded as sent.
    pub path: String,
    /// The query string as sent (without `?`).
    pub raw_query: String,
    /// Header (name, value) pairs as sent.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl EmuRequest {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
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
}

/// A reply to write.
#[derive(Clone, Debug)]
pub struct EmuReply {
    /// The status code.
    pub status: u16,
    /// Headers besides Content-Length and Connection.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// What the handler wants done with a request.
pub enum Outcome {
    /// Answer.
    Reply(EmuReply),
    /// Never answer (the connection stays open until the client gives up).
    Hang,
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

/// A running server; stops on drop.
pub struct EmuServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EmuServer {
    /// Starts serving `handler` on 127.0.0.1:0.
    pub fn start(handler: Handler) -> EmuServer {
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
        EmuServer {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`.
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

async fn serve_conn(mut sock: TcpStream, handler: Handler) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some(req) = read_request(&mut sock, &mut buf).await? else {
            return Ok(());
        };
        let reply = match handler(&req) {
            Outcome::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return Ok(());
            }
            Outcome::Reply(r) => r,
        };
        let reason = match reply.status {
            200 => "OK",
            202 => "Accepted",
            204 => "No Content",
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            429 => "Too Many Requests",
            500 => "Internal Server Error",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            _ => "Status",
        };
        let mut head = format!("HTTP/1.1 {} {reason}\r\n", reply.status);
        for (n, v) in &reply.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: keep-alive\r\n\r\n",
            reply.body.len()
        ));
        sock.write_all(head.as_bytes()).await?;
        sock.write_all(&reply.body).await?;
        sock.flush().await?;
    }
}

async fn read_request(
    sock: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<EmuRequest>> {
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
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let (path, raw_query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target, String::new()),
    };
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
    Ok(Some(EmuRequest {
        method,
        path,
        raw_query,
        headers,
        body,
    }))
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

/// Decodes `%XY` escapes (and `+` as a space when `plus` is set).
pub fn percent_decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' if plus => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(x) => {
                        out.push(x);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
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
        assert_eq!(rfc3986("2001:db8::1 *~"), "2001%3Adb8%3A%3A1%20%2A~");
    }
}
