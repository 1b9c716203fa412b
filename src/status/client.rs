//! `ddnsd status`: asks the daemon's status server for `GET /status`, over the Unix socket
//! when `[status]` names one, else over TCP to `listen` (an unspecified address is asked on
//! loopback). The answer is read with the same cap as every other input.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use super::StatusError;
use super::StatusSettings;
use crate::limits::Capped;

/// The most a status document may hold (about 10,000 records).
pub const MAX_DOCUMENT: usize = 16 * 1024 * 1024;

/// Where `ddnsd status` asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// The Unix socket.
    Socket(PathBuf),
    /// The TCP address.
    Tcp(SocketAddr),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Socket(p) => write!(f, "{}", p.display()),
            Endpoint::Tcp(a) => write!(f, "http://{a}/status"),
        }
    }
}

/// The endpoint for `[status]`: the socket first (it needs no network), else `listen`.
pub fn endpoint(s: &StatusSettings) -> Option<Endpoint> {
    if let Some(p) = &s.socket {
        return Some(Endpoint::Socket(p.clone()));
    }
    s.listen.map(|a| {
        let ip = match a.ip() {
            IpAddr::V4(v) if v.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(v) if v.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        Endpoint::Tcp(SocketAddr::new(ip, a.port()))
    })
}

/// Fetches and parses the status document within `timeout`.
pub async fn fetch(ep: &Endpoint, timeout: Duration) -> Result<serde_json::Value, StatusError> {
    let fail = |reason: String, unreachable: bool| StatusError::Fetch {
        endpoint: ep.to_string(),
        reason,
        unreachable,
    };
    let work = async {
        let body = match ep {
            Endpoint::Socket(p) => {
                let s = tokio::net::UnixStream::connect(p)
                    .await
                    .map_err(|e| fail(e.to_string(), true))?;
                get(s).await
            }
            Endpoint::Tcp(a) => {
                let s = tokio::net::TcpStream::connect(a)
                    .await
                    .map_err(|e| fail(e.to_string(), true))?;
                get(s).await
            }
        }
        .map_err(|reason| fail(reason, false))?;
        serde_json::from_slice(&body)
            .map_err(|e| fail(format!("the answer is not JSON ({e})"), false))
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(fail(
            format!("no answer within {} s", timeout.as_secs()),
            true,
        )),
    }
}

async fn get<S>(stream: S) -> Result<Vec<u8>, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(conn);
    let req = hyper::Request::get("/status")
        .header(hyper::header::HOST, "localhost")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let mut body = resp.into_body();
    let mut out = Capped::new(MAX_DOCUMENT);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if let Ok(data) = frame.into_data() {
            out.extend(&data)
                .map_err(|e| format!("the answer is {e}"))?;
        }
    }
    driver.abort();
    if !status.is_success() {
        return Err(format!("the server answered {status}"));
    }
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_prefers_the_socket_and_asks_loopback_for_a_wildcard() {
        let mut s = StatusSettings {
            listen: Some("0.0.0.0:9753".parse().unwrap()),
            socket: None,
            allow_remote: true,
        };
        assert_eq!(
            endpoint(&s),
            Some(Endpoint::Tcp("127.0.0.1:9753".parse().unwrap()))
        );
        s.listen = Some("[::]:9753".parse().unwrap());
        assert_eq!(
            endpoint(&s).unwrap().to_string(),
            "http://[::1]:9753/status"
        );
        s.socket = Some("/run/ddnsd/status.sock".into());
        assert_eq!(endpoint(&s).unwrap().to_string(), "/run/ddnsd/status.sock");
    }
}
