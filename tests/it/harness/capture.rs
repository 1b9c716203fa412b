//! A small HTTP server that records every request (webhooks, ntfy, the Telegram Bot API and
//! heartbeat pings all land here) and answers as told per path: OK, an error status, or
//! never (the connection is held open until the test ends). One thread per connection.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One request as received.
#[derive(Clone, Debug)]
pub struct Captured {
    /// GET, POST…
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// Headers (names lower-case).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
    /// When it arrived.
    pub at: Instant,
}

impl Captured {
    /// The first header named `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How a path is answered.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// 200 (with `{"ok":true}` for a Telegram `sendMessage`).
    Ok,
    /// This status.
    Status(u16),
    /// Never: the request is read and recorded, the connection held open.
    Hang,
}

/// The recording server.
pub struct Capture {
    /// Where it listens.
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Captured>>>,
    hanging: Arc<AtomicUsize>,
}

impl Capture {
    /// Serves on 127.0.0.1:0 (in the caller's network namespace), answering each request by
    /// `answer(path)`.
    pub fn start(answer: fn(&str) -> Answer) -> Capture {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let hanging = Arc::new(AtomicUsize::new(0));
        let (s, h) = (seen.clone(), hanging.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (s, h) = (s.clone(), h.clone());
                thread::spawn(move || serve(conn, answer, &s, &h));
            }
        });
        Capture {
            addr,
            seen,
            hanging,
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Captured> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests whose target starts with `prefix`.
    pub fn to(&self, prefix: &str) -> Vec<Captured> {
        self.requests()
            .into_iter()
            .filter(|r| r.target.starts_with(prefix))
            .collect()
    }

    /// Requests held open right now.
    pub fn hanging(&self) -> usize {
        self.hanging.load(Ordering::SeqCst)
    }

    /// Waits until `pred` holds for the requests so far; panics after `limit`.
    pub fn wait(&self, limit: Duration, what: &str, pred: impl Fn(&[Captured]) -> bool) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if pred(&self.requests()) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let seen: Vec<String> = self
            .requests()
            .iter()
            .map(|r| format!("{} {} {:?}", r.method, r.target, r.body))
            .collect();
        panic!(
            "{what}: not within {limit:?}; requests:\n{}",
            seen.join("\n")
        );
    }
}

fn serve(
    mut conn: TcpStream,
    answer: fn(&str) -> Answer,
    seen: &Mutex<Vec<Captured>>,
    hanging: &AtomicUsize,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_owned();
    let target = first.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let path = target.split('?').next().unwrap_or("").to_owned();
    seen.lock().unwrap().push(Captured {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    });
    let (status, reply) = match answer(&path) {
        Answer::Hang => {
            hanging.fetch_add(1, Ordering::SeqCst);
            // Held until the peer gives up (or the test process ends).
            let mut sink = [0u8; 64];
            let _ = conn.set_read_timeout(None);
            while matches!(conn.read(&mut sink), Ok(n) if n > 0) {}
            hanging.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        Answer::Status(s) => (s, "no".to_owned()),
        Answer::Ok if path.ends_with("/sendMessage") => {
            (200, r#"{"ok":true,"result":{"message_id":1}}"#.to_owned())
        }
        Answer::Ok => (200, "ok".to_owned()),
    };
    let _ = write!(
        conn,
        "HTTP/1.1 {status} X\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
        reply.len()
    );
}

/// GETs `path` from `addr` over HTTP/1.1; returns (status, body).
pub fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
