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

use std::time::{Duration, SystemTime};

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

/// A cheaply clonable HTTP client (connections are pooled and kept alive).
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
}

/// A reply, read completely.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The `Date` header, when present and well-formed (RFC 9110 §5.6.7).
    pub date: Option<SystemTime>,
    /// The `Retry-After` header as a delay, when present (seconds form only).
    pub retry_after: Option<Duration>,
    /// The body bytes.
    pub body: Vec<u8>,
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
}

impl HttpClient {
    /// Builds a client; installs the ring crypto provider as the process default if none is.
    pub fn new(settings: &HttpSettings) -> Result<HttpClient, HttpError> {
        // Err means a provider is already installed (by us or another caller): fine either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let inner = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.total_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_keepalive(Duration::from_secs(30))
            .no_proxy()
            .build()
            .map_err(|e| HttpError::Setup(error_chain(&e)))?;
        Ok(HttpClient { inner })
    }

    /// POSTs `body` to `url` with `headers`, and reads the whole reply (any status).
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<HttpResponse, HttpError> {
        let url = reqwest::Url::parse(url).map_err(|_| HttpError::BadUrl(url.to_owned()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(HttpError::BadUrl(url.to_string()));
        }
        let mut req = self.inner.post(url).timeout(timeout).body(body);
        for (name, value) in headers {
            req = req.header(*name, value.as_str());
        }
        let resp = req.send().await.map_err(|e| classify(&e, timeout))?;
        let status = resp.status().as_u16();
        let date = resp
            .headers()
            .get("date")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = resp
            .bytes()
            .await
            .map_err(|e| classify(&e, timeout))?
            .to_vec();
        Ok(HttpResponse {
            status,
            date,
            retry_after,
            body,
        })
    }
}

fn classify(e: &reqwest::Error, timeout: Duration) -> HttpError {
    if e.is_timeout() {
        HttpError::Timeout(timeout)
    } else if e.is_connect() {
        HttpError::Connect(error_chain(e))
    } else {
        HttpError::Io(error_chain(e))
    }
}

/// The error and its causes joined by ": " (reqwest's own Display stops at the first layer).
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
