//! The status server: HTTP/1.1 (hyper) on a bound TCP or Unix listener, serving the latest
//! snapshot from the watch channel until the shutdown future resolves (mini-redis style, so
//! tests run it in-process on port 0). Read-only: GET and HEAD of `/`, `/status` and
//! `/metrics`; anything else is 404 or 405. Requests are bounded (head size, read timeout,
//! connection lifetime, concurrent connections); it never triggers a pass.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::Semaphore;

pub use super::error::StatusError;
use super::render;
use super::{Snapshot, Snapshots, StatusSettings};
use crate::clock::Clock;
use crate::limits::MAX_REQUEST_HEAD;

/// Connections served at once; more are closed at once.
pub const MAX_CONNECTIONS: usize = 64;
/// Time allowed for a request's head to arrive.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a connection (keep-alive included) stays open.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// A bound listener.
#[derive(Debug)]
pub enum Listener {
    /// TCP (`listen`).
    Tcp(TcpListener),
    /// A Unix socket (`socket`), removed when the listener is dropped.
    Unix(UnixListener, SocketFile),
}

/// Removes the socket file on drop.
#[derive(Debug)]
pub struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Binds what `[status]` asks for (call inside a tokio runtime). A stale socket file left by
/// a daemon that died is replaced; a live one is an error.
pub fn bind(s: &StatusSettings) -> Result<Vec<Listener>, StatusError> {
    let mut out = Vec::new();
    if let Some(addr) = s.listen {
        let l = std::net::TcpListener::bind(addr)
            .and_then(|l| {
                l.set_nonblocking(true)?;
                TcpListener::from_std(l)
            })
            .map_err(|source| StatusError::Listen { addr, source })?;
        out.push(Listener::Tcp(l));
    }
    if let Some(path) = &s.socket {
        out.push(bind_socket(path)?);
    }
    Ok(out)
}

fn bind_socket(path: &Path) -> Result<Listener, StatusError> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let err = |source| StatusError::Socket {
        path: path.to_path_buf(),
        source,
    };
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a file that is not a socket is in the way",
            )));
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(StatusError::SocketBusy {
                path: path.to_path_buf(),
            });
        }
        std::fs::remove_file(path).map_err(err)?;
    }
    let l = UnixListener::bind(path).map_err(err)?;
    // Owner and group may ask (root, the service's user); others may not.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(err)?;
    Ok(Listener::Unix(l, SocketFile(path.to_path_buf())))
}

impl Listener {
    /// Where it listens, for log lines.
    pub fn describe(&self) -> String {
        match self {
            Listener::Tcp(l) => l
                .local_addr()
                .map(|a| format!("http://{a}/"))
                .unwrap_or_else(|_| "tcp".to_owned()),
            Listener::Unix(_, f) => f.0.display().to_string(),
        }
    }
}

/// Serves `listener` until `shutdown` resolves.
pub async fn serve(
    listener: Listener,
    snapshots: Snapshots,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            conn = accept(&listener) => {
                let Some(stream) = conn else {
                    // A failed accept (out of file descriptors…): do not spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    continue;
                };
                let rx = snapshots.clone();
                let clock = clock.clone();
                tokio::spawn(async move {
                    match stream {
                        Stream::Tcp(s) => connection(s, rx, clock).await,
                        Stream::Unix(s) => connection(s, rx, clock).await,
                    }
                    drop(slot);
                });
            }
        }
    }
}

enum Stream {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

async fn accept(l: &Listener) -> Option<Stream> {
    match l {
        Listener::Tcp(l) => l.accept().await.ok().map(|(s, _)| Stream::Tcp(s)),
        Listener::Unix(l, _) => l.accept().await.ok().map(|(s, _)| Stream::Unix(s)),
    }
}

async fn connection<S>(stream: S, snapshots: Snapshots, clock: Arc<dyn Clock>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let snapshot = snapshots.borrow().clone();
        let now = clock.now();
        async move { Ok::<_, Infallible>(respond(req.method(), req.uri().path(), &snapshot, now)) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(MAX_REQUEST_HEAD)
        .serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(CONNECTION_LIFETIME, conn).await;
}

/// The answer to `method path` (pure).
pub fn respond(
    method: &Method,
    path: &str,
    s: &Snapshot,
    now: SystemTime,
) -> Response<Full<Bytes>> {
    if !matches!(path, "/" | "/status" | "/metrics") {
        return plain(
            StatusCode::NOT_FOUND,
            "not found: try /, /status or /metrics\n",
        );
    }
    if method != Method::GET && method != Method::HEAD {
        let mut r = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "the status server is read-only\n",
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let (content_type, body) = match path {
        "/" => ("text/html; charset=utf-8", render::html::render(s, now)),
        "/status" => ("application/json", render::json::render(s, now)),
        _ => (
            render::metrics::CONTENT_TYPE,
            render::metrics::render(s, now),
        ),
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if path == "/" {
        // Nothing but the inline style may load: no script, no image, no frame.
        h.insert(
            "content-security-policy",
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            ),
        );
        h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    }
    secure(r)
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    secure(r)
}

fn secure(mut r: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    let h = r.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::clock::FakeClock;
    use crate::status::snapshot::tests::snapshot_after_one_pass;

    /// A snapshot with nothing known yet.
    fn empty_snapshot() -> Snapshot {
        Snapshot::new(
            env!("CARGO_PKG_VERSION"),
            "host",
            SystemTime::UNIX_EPOCH,
            "-",
            &crate::status::Layout::default(),
        )
    }

    async fn ask(addr: std::net::SocketAddr, request: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        String::from_utf8_lossy(&out).into_owned()
    }

    /// STYLE rule 17: the server takes a bound listener and a shutdown future, and serves
    /// whatever the channel holds now.
    #[tokio::test]
    async fn serves_the_latest_snapshot_and_stops_on_shutdown() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (tx, rx) = tokio::sync::watch::channel(Arc::new(empty_snapshot()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let clock = Arc::new(FakeClock::at_unix(1_700_000_015));
        let server = tokio::spawn(serve(Listener::Tcp(l), rx, clock, async {
            let _ = stopped.await;
        }));
        let close = "Connection: close\r\n\r\n";
        let r = ask(addr, &format!("GET /status HTTP/1.1\r\nHost: x\r\n{close}")).await;
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.contains("\"passes\": 0"), "{r}");
        tx.send_replace(Arc::new(snapshot_after_one_pass()));
        let r = ask(addr, &format!("GET /status HTTP/1.1\r\nHost: x\r\n{close}")).await;
        assert!(r.contains("\"passes\": 1"), "{r}");
        let r = ask(
            addr,
            &format!("GET /metrics HTTP/1.1\r\nHost: x\r\n{close}"),
        )
        .await;
        assert!(
            r.contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
            "{r}"
        );
        let r = ask(addr, &format!("GET / HTTP/1.1\r\nHost: x\r\n{close}")).await;
        assert!(
            r.contains("content-security-policy: default-src 'none'"),
            "{r}"
        );
        let r = ask(
            addr,
            &format!("POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n{close}"),
        )
        .await;
        assert!(r.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"), "{r}");
        assert!(r.contains("allow: GET, HEAD"), "{r}");
        let r = ask(addr, &format!("GET /nope HTTP/1.1\r\nHost: x\r\n{close}")).await;
        assert!(r.starts_with("HTTP/1.1 404 Not Found\r\n"), "{r}");
        // A request head over the cap is refused, not buffered.
        let big = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n{close}",
            "a".repeat(MAX_REQUEST_HEAD + 1)
        );
        let r = ask(addr, &big).await;
        assert!(r.is_empty() || r.starts_with("HTTP/1.1 431"), "{r}");
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .unwrap()
            .unwrap();
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "still listening"
        );
    }

    #[tokio::test]
    async fn unix_socket_replaces_a_stale_file_and_refuses_a_live_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.sock");
        let settings = StatusSettings {
            listen: None,
            socket: Some(path.clone()),
            allow_remote: false,
        };
        // A stale socket file (its listener is gone).
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let first = bind(&settings).unwrap();
        assert!(matches!(
            bind(&settings),
            Err(StatusError::SocketBusy { .. })
        ));
        drop(first);
        assert!(!path.exists(), "removed on drop");
    }
}
