//! The HTTP client shared by every HTTP provider: timeouts, keep-alive, TLS, the response's
//! `Date` and `Retry-After` headers, and the jittered exponential [`Backoff`] they retry with.
//!
//! Knows nothing about DNS, providers or sources; never logs a request body or header value.
//!
//! TLS: rustls on the *ring* crypto provider (aws-lc-rs would double the release binary).
//! Certificates are always verified, against the operating system's trust store through
//! `rustls-platform-verifier` (what reqwest 0.13 uses with `rustls-no-provider`): on Linux
//! that is the distribution's CA bundle (`/etc/ssl/certs`), which the distribution keeps
//! up to date and an administrator can extend for a private endpoint. Bundling webpki-roots
//! would freeze the roots at build time and add ~250 KiB.
//!
//! The client itself (reqwest, rustls) is the cargo feature `http` (default); without it this
//! module keeps only the plain types, [`HttpError`] and [`Backoff`], which the rest of ddnsd
//! (RFC 2136, e-mail retries) uses too.

#[cfg(feature = "http")]
use std::net::IpAddr;
#[cfg(feature = "http")]
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use crate::limits::TooLarge;
#[cfg(feature = "http")]
use crate::limits::{Capped, MAX_REPLY};

/// Timeouts and identification of the shared client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpSettings {
    /// Time allowed to establish a connection (TCP + TLS).
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, from sending to the last byte of the reply.
    pub total_timeout: Duration,
    /// The `User-Agent` sent on every request.
    pub user_agent: String,
}

impl Default for HttpSettings {
    fn default() -> HttpSettings {
        HttpSettings {
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(20),
            user_agent: format!(
                "ddnsd/{} (https://github.com/ddnsd/ddnsd)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }
}

/// A cheaply clonable HTTP client (connections are pooled and kept alive). The underlying
/// client, and with it TLS, is set up on the first request: a config that never speaks HTTP
/// pays nothing for it (issue 13).
#[cfg(feature = "http")]
#[derive(Clone, Debug)]
pub struct HttpClient {
    settings: Arc<HttpSettings>,
    /// `Some`: every connection uses this local address's family (echo sources).
    local: Option<IpAddr>,
    inner: Arc<OnceLock<Result<reqwest::Client, HttpError>>>,
}

/// Without the `http` feature the client type still exists, so what holds one needs no cfg
/// of its own, but it cannot send: every caller of `send` is compiled out with the feature,
/// and the config refuses what would need it ("ddnsd was built without the http feature").
#[cfg(not(feature = "http"))]
#[derive(Clone, Debug)]
pub struct HttpClient;

#[cfg(not(feature = "http"))]
impl HttpClient {
    /// A client that cannot send (this build has no `http` feature).
    pub fn new(_settings: &HttpSettings) -> HttpClient {
        HttpClient
    }
}

/// An HTTP method ddnsd uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl Method {
    /// The method's name as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// A request to send.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The method.
    pub method: Method,
    /// The full URL.
    pub url: &'a str,
    /// Header names and values (values may be secrets: never logged).
    pub headers: &'a [(&'a str, String)],
    /// The body (empty for none).
    pub body: Vec<u8>,
    /// Time allowed for the whole exchange.
    pub timeout: Duration,
}

/// A reply, read completely (at most [`MAX_REPLY`](crate::limits::MAX_REPLY) bytes of body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The `Date` header, when present and well-formed (RFC 9110 §5.6.7).
    pub date: Option<SystemTime>,
    /// The `Retry-After` header as a delay, when present (seconds form only).
    pub retry_after: Option<Duration>,
    /// Response headers (names lower-case), for the few APIs that page with them.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (lower-case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why no reply was received.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The client could not be built (TLS setup).
    #[error("could not set up the http client: {0}")]
    Setup(String),
    /// The URL is not a usable http/https URL.
    #[error("invalid endpoint url {0:?}")]
    BadUrl(String),
    /// No connection could be established (refused, unreachable, TLS handshake failed).
    #[error("could not connect: {0}")]
    Connect(String),
    /// The request was sent but no complete reply arrived in time: it may have been processed.
    #[error("timed out after {}s", .0.as_secs())]
    Timeout(Duration),
    /// The connection broke while sending or receiving.
    #[error("connection failed: {0}")]
    Io(String),
    /// The reply's body was longer than ddnsd reads.
    #[error("the reply is {0}")]
    TooLarge(TooLarge),
}

#[cfg(feature = "http")]
impl HttpClient {
    /// A client with `settings`; installs the ring crypto provider as the process default
    /// (when none is) on first use.
    pub fn new(settings: &HttpSettings) -> HttpClient {
        HttpClient {
            settings: Arc::new(settings.clone()),
            local: None,
            inner: Arc::new(OnceLock::new()),
        }
    }

    /// POSTs `body` to `url` with `headers`, and reads the whole reply (any status).
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<HttpResponse, HttpError> {
        self.send(Request {
            method: Method::Post,
            url,
            headers,
            body,
            timeout,
        })
        .await
    }

    /// GETs `url` and reads the whole reply (any status), giving up after `timeout`.
    pub async fn get(&self, url: &str, timeout: Duration) -> Result<HttpResponse, HttpError> {
        self.send(Request {
            method: Method::Get,
            url,
            headers: &[],
            body: Vec::new(),
            timeout,
        })
        .await
    }

    /// Sends `req` and reads the whole reply (any status).
    pub async fn send(&self, req: Request<'_>) -> Result<HttpResponse, HttpError> {
        let url =
            reqwest::Url::parse(req.url).map_err(|_| HttpError::BadUrl(req.url.to_owned()))?;
        if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
            return Err(HttpError::BadUrl(req.url.to_owned()));
        }
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let timeout = req.timeout;
        let mut builder = self.client()?.request(method, url).timeout(timeout);
        if !req.body.is_empty() {
            builder = builder.body(req.body);
        }
        for (name, value) in req.headers {
            builder = builder.header(*name, value.as_str());
        }
        let mut resp = builder.send().await.map_err(|e| classify(&e, timeout))?;
        let status = resp.status().as_u16();
        let text = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok());
        let date = text("date").and_then(|v| httpdate::parse_http_date(v).ok());
        let retry_after = text("retry-after").and_then(parse_retry_after);
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let mut body = Capped::new(MAX_REPLY);
        while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e, timeout))? {
            body.extend(&chunk).map_err(HttpError::TooLarge)?;
        }
        Ok(HttpResponse {
            status,
            date,
            retry_after,
            headers,
            body: body.into_inner(),
        })
    }

    fn client(&self) -> Result<&reqwest::Client, HttpError> {
        self.inner
            .get_or_init(|| build(&self.settings, self.local))
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// A client whose connections all use one address family (the `http` address source).
///
/// Kept apart from [`HttpClient::new`] on purpose (issue 3): an echo service answers with the
/// address the connection came from, so a host name that resolves to both families must only
/// ever be reached over the wanted one. Two things force that: the host name is resolved to
/// only A or only AAAA records ([`FamilyResolver`]), and the local socket is bound to that
/// family's wildcard address (`local`). hyper binds the local address only when it matches the
/// remote family, so the resolver filter is what really decides; the bind keeps the intent
/// explicit for IP-literal URLs, which callers must check themselves.
#[cfg(feature = "http")]
impl HttpClient {
    /// A client that connects only over `local`'s family, binding its sockets to `local`.
    pub fn bound_to(settings: &HttpSettings, local: IpAddr) -> HttpClient {
        HttpClient {
            settings: Arc::new(settings.clone()),
            local: Some(local),
            inner: Arc::new(OnceLock::new()),
        }
    }
}

#[cfg(feature = "http")]
fn build(settings: &HttpSettings, local: Option<IpAddr>) -> Result<reqwest::Client, HttpError> {
    // Err means a provider is already installed (by us or another caller): fine either way.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut b = reqwest::Client::builder()
        .user_agent(settings.user_agent.clone())
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.total_timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(2)
        .tcp_keepalive(Duration::from_secs(30))
        .no_proxy();
    if let Some(local) = local {
        b = b
            .local_address(local)
            .dns_resolver(Arc::new(FamilyResolver {
                v6: local.is_ipv6(),
            }));
    }
    b.build().map_err(|e| HttpError::Setup(error_chain(&e)))
}

/// Resolves host names with the system resolver and keeps only one family's addresses.
#[cfg(feature = "http")]
#[derive(Debug)]
struct FamilyResolver {
    v6: bool,
}

#[cfg(feature = "http")]
impl reqwest::dns::Resolve for FamilyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let v6 = self.v6;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let kept: Vec<std::net::SocketAddr> = all.filter(|a| a.is_ipv6() == v6).collect();
            if kept.is_empty() {
                let rtype = if v6 { "AAAA" } else { "A" };
                return Err(format!("{host} has no {rtype} address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(feature = "http")]
fn classify(e: &reqwest::Error, timeout: Duration) -> HttpError {
    // A connect timeout is a connection that never opened ("could not reach"), not a request
    // that may have been processed: check is_connect first (issue 8, item 7).
    if e.is_connect() {
        HttpError::Connect(error_chain(e))
    } else if e.is_timeout() {
        HttpError::Timeout(timeout)
    } else {
        HttpError::Io(error_chain(e))
    }
}

/// The error and its causes joined by ": " (reqwest's own Display stops at the first layer).
#[cfg(feature = "http")]
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// `Retry-After: 120` → 120 s. The HTTP-date form is not used by the APIs we call.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Seconds the server's clock (its `Date` header) is ahead of `local` (negative: behind).
pub fn clock_offset_secs(server_date: SystemTime, local: SystemTime) -> i64 {
    match server_date.duration_since(local) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// Bounded, jittered exponential backoff for retries inside one provider call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Total attempts, the first included (1 = no retry).
    pub attempts: u32,
    /// The delay before the first retry (before jitter).
    pub base: Duration,
    /// No delay exceeds this; a longer `Retry-After` ends the retries instead.
    pub max: Duration,
}

impl Default for Backoff {
    /// 3 attempts, 1 s then 2 s (each jittered to 50–100 %), at most 10 s.
    fn default() -> Backoff {
        Backoff {
            attempts: 3,
            base: Duration::from_secs(1),
            max: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// The delay before retry number `retry` (0 = the first retry), given a `Retry-After` and
    /// a jitter draw in `[0, 1)`; `None` when the server asks to wait longer than `max`.
    pub fn delay(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Option<Duration> {
        let exp = self
            .base
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max);
        // "Equal jitter": half fixed, half random, so retries from many hosts spread out.
        let jittered = exp.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        match retry_after {
            Some(ra) if ra > self.max => None,
            Some(ra) => Some(ra.max(jittered)),
            None => Some(jittered),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn backoff_is_bounded_jittered_and_honours_retry_after() {
        let b = Backoff::default();
        assert_eq!(b.delay(0, None, 0.0), Some(Duration::from_millis(500)));
        assert_eq!(b.delay(0, None, 1.0), Some(Duration::from_secs(1)));
        assert_eq!(b.delay(1, None, 1.0), Some(Duration::from_secs(2)));
        assert_eq!(b.delay(10, None, 1.0), Some(Duration::from_secs(10)));
        assert_eq!(b.delay(40, None, 1.0), Some(Duration::from_secs(10)));
        assert_eq!(
            b.delay(0, Some(Duration::from_secs(3)), 0.0),
            Some(Duration::from_secs(3))
        );
        assert_eq!(b.delay(0, Some(Duration::from_secs(60)), 0.0), None);
    }

    #[test]
    fn retry_after_and_offsets() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        let t = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(clock_offset_secs(t + Duration::from_secs(432), t), 432);
        assert_eq!(clock_offset_secs(t, t + Duration::from_secs(60)), -60);
    }
}
