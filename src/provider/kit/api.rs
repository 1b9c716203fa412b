//! What the JSON-over-HTTP providers share: mapping transport failures and HTTP statuses to
//! [`ProviderError`] kinds, and reading the JSON body. Knows nothing about any one API's
//! envelope.

use serde_json::Value;

use crate::http::{HttpError, HttpResponse};
use crate::provider::{ProviderError, ProviderErrorKind};

/// The most pages one listing reads: 100 pages of 100 rows (10,000 records of one name and
/// type, or 10,000 domains). Every reply is capped ([`crate::limits::MAX_REPLY`]); this caps
/// their number, so a server that keeps announcing more rows (or ignores the offset) ends
/// the listing with a protocol error instead of keeping the pass busy forever (issue 8).
pub const MAX_PAGES: u64 = 100;

/// Fails once a listing of `action` is about to read page `page` (0-based) past
/// [`MAX_PAGES`].
pub fn page_allowed(action: &str, page: u64) -> Result<(), ProviderError> {
    if page < MAX_PAGES {
        Ok(())
    } else {
        Err(protocol(
            action,
            &format!("the listing goes on past {MAX_PAGES} pages"),
        ))
    }
}

/// A reply of `action` that does not have the expected shape.
pub fn protocol(action: &str, what: &str) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::Protocol,
        format!("{action}: unexpected reply: {what}"),
    )
}

/// Maps a transport failure of `action`. A connection that never opened is "could not
/// reach" (the whole provider is unreachable); a timeout after a `write` was sent may mean it
/// happened: that is "could not confirm", not "failed".
pub fn http_error(action: &str, e: &HttpError, write: bool) -> ProviderError {
    match e {
        HttpError::Connect(_) | HttpError::Setup(_) => ProviderError::new(
            ProviderErrorKind::Unreachable,
            format!("{action}: could not reach the api: {e}"),
        ),
        HttpError::Timeout(_) if write => ProviderError::new(
            ProviderErrorKind::Unconfirmed,
            format!("{action} could not confirm: {e}"),
        ),
        HttpError::BadUrl(_) => {
            ProviderError::new(ProviderErrorKind::Rejected, format!("{action} failed: {e}"))
        }
        HttpError::TooLarge(_) => ProviderError::new(
            ProviderErrorKind::Protocol,
            format!("{action}: unexpected reply: {e}"),
        ),
        HttpError::Timeout(_) | HttpError::Io(_) => ProviderError::new(
            ProviderErrorKind::Transient,
            format!("{action} failed: {e}"),
        ),
    }
}

/// The JSON body of a 200 reply to `action`; any other status as [`status_error`] maps it,
/// a body that is not JSON → protocol error.
pub fn json_reply(action: &str, resp: &HttpResponse) -> Result<Value, ProviderError> {
    if resp.status != 200 {
        return Err(status_error(action, resp));
    }
    serde_json::from_slice(&resp.body).map_err(|e| {
        ProviderError::new(
            ProviderErrorKind::Protocol,
            format!("{action}: the reply is not valid json ({e})"),
        )
    })
}

/// A failed reply to `action` that carries no error envelope the API's code table can read:
/// 429 → rate limited (with `Retry-After`), 5xx → transient, any other status → protocol
/// error.
pub fn status_error(action: &str, resp: &HttpResponse) -> ProviderError {
    match resp.status {
        429 => ProviderError::new(
            ProviderErrorKind::RateLimited {
                retry_after: resp.retry_after,
            },
            format!("{action}: rate limited (http 429)"),
        ),
        s if s >= 500 => ProviderError::new(
            ProviderErrorKind::Transient,
            format!("{action}: server error (http {s})"),
        ),
        s => ProviderError::new(
            ProviderErrorKind::Protocol,
            format!("{action}: unexpected http status {s}"),
        ),
    }
}

/// Runs `attempt` until it succeeds, fails for good, or `backoff` runs out: transient failures
/// and rate limits (for which `as_provider` yields the [`ProviderError`]) are retried after a
/// jittered, growing delay that honours `Retry-After`; every other error is returned at once.
pub async fn with_retries<T, E, Fut>(
    backoff: &crate::http::Backoff,
    provider: &str,
    action: &str,
    as_provider: fn(&E) -> Option<&ProviderError>,
    mut attempt: impl FnMut() -> Fut,
) -> Result<T, E>
where
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut retry = 0;
    loop {
        let err = match attempt().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let retry_after = match as_provider(&err).map(|e| &e.kind) {
            Some(ProviderErrorKind::Transient) => None,
            Some(ProviderErrorKind::RateLimited { retry_after }) => *retry_after,
            // Unreachable, auth, permanent and unconfirmed failures: retrying at once would not
            // help (or could write twice); the pass reports them and the daemon backs off.
            _ => return Err(err),
        };
        retry += 1;
        let delay = if retry < backoff.attempts {
            backoff.delay(retry - 1, retry_after, rand::random())
        } else {
            None
        };
        let Some(delay) = delay else {
            return Err(err);
        };
        tracing::debug!(provider, action, retry, ?delay, "retrying");
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn reply(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            date: None,
            retry_after: Some(Duration::from_secs(7)),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// A status without an envelope: throttled, the server's failure, or a reply ddnsd does
    /// not understand.
    #[test]
    fn statuses_without_an_envelope() {
        let limited = ProviderErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
        };
        for (status, kind, message) in [
            (429, limited, "op: rate limited (http 429)"),
            (
                500,
                ProviderErrorKind::Transient,
                "op: server error (http 500)",
            ),
            (
                503,
                ProviderErrorKind::Transient,
                "op: server error (http 503)",
            ),
            (
                404,
                ProviderErrorKind::Protocol,
                "op: unexpected http status 404",
            ),
            (
                302,
                ProviderErrorKind::Protocol,
                "op: unexpected http status 302",
            ),
        ] {
            let e = status_error("op", &reply(status, "<html>"));
            assert_eq!((&e.kind, e.message.as_str()), (&kind, message), "{status}");
            assert_eq!(json_reply("op", &reply(status, "{}")), Err(e), "{status}");
        }
        assert_eq!(
            json_reply("op", &reply(200, r#"{"a":1}"#)),
            Ok(serde_json::json!({"a": 1}))
        );
        assert_eq!(
            json_reply("op", &reply(200, "<html>")).unwrap_err().kind,
            ProviderErrorKind::Protocol
        );
    }
}
