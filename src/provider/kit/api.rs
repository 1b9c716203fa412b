//! What the JSON-over-HTTP providers share: mapping transport failures and HTTP statuses to
//! [`ProviderError`] kinds, reading the JSON body, and the error vocabulary of the cloud APIs
//! that answer with an error code ([`Meaning`], [`CallError`], [`ApiTerms`]: alidns,
//! volcengine, baiducloud). Knows nothing about any one API's envelope or codes: each adapter
//! keeps its own code table and hands in its wording.

use std::time::SystemTime;

use serde_json::Value;

use super::rows::RowError;
use crate::http::{self, HttpError, HttpResponse};
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

/// The JSON body of a 200 reply to `action`; 429 → rate limited (with `Retry-After`), 5xx →
/// transient, any other status or a body that is not JSON → protocol error.
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

/// The failure of `action` told by the status of a reply that is not a success and has no
/// error envelope: 429 → rate limited (with `Retry-After`), 5xx → transient, any other status
/// → protocol error.
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

/// What an API error code means to ddnsd: the vocabulary the code table of each code-based
/// API (alidns, volcengine, baiducloud) maps its codes onto, in one `meaning` function per
/// adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// The key is unknown or disabled, or the signature does not match.
    Auth,
    /// The key may not do this (its policy), or the service is not enabled.
    Forbidden,
    /// The request's time is outside the signature's validity window.
    ClockSkew,
    /// Throttled (flow control).
    RateLimited,
    /// The zone (domain) is not in this account.
    ZoneNotFound,
    /// The record id does not exist (any more).
    Gone,
    /// The same record exists already (on Alidns also: an update that changes nothing).
    Duplicate,
    /// The request itself is wrong and will stay wrong.
    Rejected,
    /// Anything else, the server's own failures included: may pass.
    Transient,
}

/// The wording (and the one rule) that differs between the APIs sharing [`CallError`]: each
/// adapter has one `const` of it.
#[derive(Debug)]
pub struct ApiTerms {
    /// The hint of rejected credentials: which fields to check, which policy the key needs.
    pub auth_hint: &'static str,
    /// The hint of a refused permission: the policy (or actions) to grant.
    pub forbidden_hint: &'static str,
    /// The hint of a zone that is not in the account.
    pub zone_hint: &'static str,
    /// The hint of an expired request time when the reply has no `Date` to measure the skew
    /// by: the API's validity window.
    pub clock_hint: &'static str,
    /// Whether a [`Meaning::Gone`] that reaches the user means the zone is missing: true for an
    /// API whose 404 does not tell a missing zone from a missing record (Baidu), where a
    /// vanished record is only ever expected by the row writes.
    pub gone_is_zone: bool,
}

impl ApiTerms {
    /// The failure of `action` whose reply `resp` carried the API error `code` (with
    /// `message`), which the adapter's code table says means `meaning`; `now` measures a clock
    /// skew against the reply's `Date`. Credentials, permissions, clock skew, throttling and
    /// transient failures are final here; a missing zone or id, a duplicate and a rejected
    /// request stay [`CallError::Api`] for the caller to decide on.
    pub fn code_error(
        &'static self,
        action: &str,
        code: &str,
        message: &str,
        meaning: Meaning,
        resp: &HttpResponse,
        now: SystemTime,
    ) -> CallError {
        let text = format!("{action} failed: {code}: {message:?}");
        let e = match meaning {
            Meaning::Auth => {
                ProviderError::new(ProviderErrorKind::Auth, text).with_hint(self.auth_hint)
            }
            Meaning::Forbidden => ProviderError::new(ProviderErrorKind::Forbidden, text)
                .with_hint(self.forbidden_hint),
            Meaning::ClockSkew => {
                let mut e = ProviderError::new(
                    ProviderErrorKind::ClockSkew {
                        offset_secs: resp
                            .date
                            .map(|d| http::clock_offset_secs(d, now))
                            .unwrap_or(0),
                    },
                    format!("{action}: the provider rejected the request time as expired ({code})"),
                );
                if resp.date.is_none() {
                    e = e.with_hint(self.clock_hint);
                }
                e
            }
            Meaning::RateLimited => ProviderError::new(
                ProviderErrorKind::RateLimited {
                    retry_after: resp.retry_after,
                },
                text,
            ),
            Meaning::Transient => ProviderError::new(ProviderErrorKind::Transient, text),
            Meaning::ZoneNotFound | Meaning::Gone | Meaning::Duplicate | Meaning::Rejected => {
                return CallError::api(self, meaning, text)
            }
        };
        CallError::Provider(e)
    }
}

/// A call's failure: an API error the caller may expect, or a final provider error.
#[derive(Debug)]
pub enum CallError {
    /// An API error code a caller may handle (a duplicate create, a vanished id); what is not
    /// handled becomes a [`ProviderError`] through `From`.
    Api {
        /// What the code means.
        meaning: Meaning,
        /// The message: action, code and the API's own message.
        text: String,
        /// The wording of the API that answered.
        terms: &'static ApiTerms,
    },
    /// A final error: transport, protocol, or a code no caller handles.
    Provider(ProviderError),
}

impl CallError {
    /// An API error of the API that `terms` describes.
    pub fn api(terms: &'static ApiTerms, meaning: Meaning, text: String) -> CallError {
        CallError::Api {
            meaning,
            text,
            terms,
        }
    }

    /// The final error, for [`with_retries`] to judge; `None` for an API error a caller may
    /// expect (never retried).
    pub fn as_provider(&self) -> Option<&ProviderError> {
        match self {
            CallError::Provider(p) => Some(p),
            CallError::Api { .. } => None,
        }
    }
}

impl From<CallError> for ProviderError {
    fn from(e: CallError) -> ProviderError {
        match e {
            CallError::Provider(e) => e,
            CallError::Api {
                meaning: Meaning::ZoneNotFound,
                text,
                terms,
            } => {
                ProviderError::new(ProviderErrorKind::ZoneNotFound, text).with_hint(terms.zone_hint)
            }
            CallError::Api {
                meaning: Meaning::Gone,
                text,
                terms,
            } if terms.gone_is_zone => {
                ProviderError::new(ProviderErrorKind::ZoneNotFound, text).with_hint(terms.zone_hint)
            }
            CallError::Api {
                meaning: Meaning::Transient,
                text,
                ..
            } => ProviderError::new(ProviderErrorKind::Transient, text),
            CallError::Api { text, .. } => ProviderError::new(ProviderErrorKind::Rejected, text),
        }
    }
}

impl From<CallError> for RowError {
    fn from(e: CallError) -> RowError {
        match e {
            CallError::Api {
                meaning: Meaning::Gone,
                ..
            } => RowError::Gone,
            e => RowError::Failed(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    static TERMS: ApiTerms = ApiTerms {
        auth_hint: "auth hint",
        forbidden_hint: "forbidden hint",
        zone_hint: "zone hint",
        clock_hint: "clock hint",
        gone_is_zone: false,
    };
    static GONE_IS_ZONE: ApiTerms = ApiTerms {
        gone_is_zone: true,
        ..TERMS
    };

    fn reply(status: u16, date: Option<SystemTime>) -> HttpResponse {
        HttpResponse {
            status,
            date,
            retry_after: Some(Duration::from_secs(7)),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The final errors are made at once, with the API's hints; the rest stay API errors.
    #[test]
    fn code_errors() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let resp = reply(400, None);
        let final_error = |meaning| match TERMS.code_error("Act", "C", "m", meaning, &resp, now) {
            CallError::Provider(e) => (e.kind, e.message, e.hint),
            CallError::Api { .. } => panic!("{meaning:?} stayed an api error"),
        };
        let text = "Act failed: C: \"m\"".to_owned();
        let hint = |h: &str| Some(h.to_owned());
        assert_eq!(
            final_error(Meaning::Auth),
            (ProviderErrorKind::Auth, text.clone(), hint("auth hint"))
        );
        assert_eq!(
            final_error(Meaning::Forbidden),
            (
                ProviderErrorKind::Forbidden,
                text.clone(),
                hint("forbidden hint")
            )
        );
        assert_eq!(
            final_error(Meaning::RateLimited),
            (
                ProviderErrorKind::RateLimited {
                    retry_after: Some(Duration::from_secs(7))
                },
                text.clone(),
                None
            )
        );
        assert_eq!(
            final_error(Meaning::Transient),
            (ProviderErrorKind::Transient, text.clone(), None)
        );
        let skew = "Act: the provider rejected the request time as expired (C)".to_owned();
        assert_eq!(
            final_error(Meaning::ClockSkew),
            (
                ProviderErrorKind::ClockSkew { offset_secs: 0 },
                skew.clone(),
                hint("clock hint")
            )
        );
        // With a Date header the skew is measured, and the kind's own hint says it.
        let dated = reply(400, Some(now + Duration::from_secs(1200)));
        match TERMS.code_error("Act", "C", "m", Meaning::ClockSkew, &dated, now) {
            CallError::Provider(e) => {
                assert_eq!(e.kind, ProviderErrorKind::ClockSkew { offset_secs: 1200 });
                assert_eq!((e.message, e.hint), (skew, None));
            }
            CallError::Api { .. } => panic!("clock skew stayed an api error"),
        }
        for meaning in [
            Meaning::ZoneNotFound,
            Meaning::Gone,
            Meaning::Duplicate,
            Meaning::Rejected,
        ] {
            match TERMS.code_error("Act", "C", "m", meaning, &resp, now) {
                CallError::Api {
                    meaning: m,
                    text: t,
                    ..
                } => assert_eq!((m, t), (meaning, text.clone())),
                CallError::Provider(e) => panic!("{meaning:?} became final: {e:?}"),
            }
        }
    }

    /// What an unhandled API error becomes, for a provider and for a row write.
    #[test]
    fn conversions() {
        use Meaning as M;
        use ProviderErrorKind as K;
        for (terms, meaning, kind, hint, row_gone) in [
            (
                &TERMS,
                M::ZoneNotFound,
                K::ZoneNotFound,
                Some("zone hint"),
                false,
            ),
            (&TERMS, M::Gone, K::Rejected, None, true),
            (&TERMS, M::Duplicate, K::Rejected, None, false),
            (&TERMS, M::Rejected, K::Rejected, None, false),
            (&TERMS, M::Transient, K::Transient, None, false),
            (
                &GONE_IS_ZONE,
                M::Gone,
                K::ZoneNotFound,
                Some("zone hint"),
                true,
            ),
            (&GONE_IS_ZONE, M::Duplicate, K::Rejected, None, false),
        ] {
            let e = ProviderError::from(CallError::api(terms, meaning, "t".to_owned()));
            assert_eq!(
                (e.kind, e.message.as_str(), e.hint.as_deref()),
                (kind, "t", hint),
                "{meaning:?} {terms:?}"
            );
            let row = RowError::from(CallError::api(terms, meaning, "t".to_owned()));
            assert_eq!(matches!(row, RowError::Gone), row_gone, "{meaning:?}");
        }
        let final_error = ProviderError::new(K::Protocol, "p");
        assert_eq!(
            ProviderError::from(CallError::Provider(final_error.clone())),
            final_error
        );
        assert!(CallError::Provider(final_error).as_provider().is_some());
        assert!(CallError::api(&TERMS, M::Gone, String::new())
            .as_provider()
            .is_none());
    }

    /// A reply without an error envelope is judged by its status.
    #[test]
    fn statuses() {
        for (status, kind, message) in [
            (
                429,
                ProviderErrorKind::RateLimited {
                    retry_after: Some(Duration::from_secs(7)),
                },
                "Act: rate limited (http 429)",
            ),
            (
                503,
                ProviderErrorKind::Transient,
                "Act: server error (http 503)",
            ),
            (
                404,
                ProviderErrorKind::Protocol,
                "Act: unexpected http status 404",
            ),
            (
                302,
                ProviderErrorKind::Protocol,
                "Act: unexpected http status 302",
            ),
        ] {
            let e = status_error("Act", &reply(status, None));
            assert_eq!((e.kind, e.message.as_str()), (kind, message), "{status}");
        }
    }

    /// `json_reply` judges a failed status as `status_error` does and reads a 200 body as
    /// JSON, refusing one that is not.
    #[test]
    fn json_replies() {
        let with_body = |status: u16, body: &str| HttpResponse {
            body: body.as_bytes().to_vec(),
            ..reply(status, None)
        };
        for status in [429, 500, 503, 404, 302] {
            assert_eq!(
                json_reply("op", &with_body(status, "{}")),
                Err(status_error("op", &with_body(status, "{}"))),
                "{status}"
            );
        }
        assert_eq!(
            json_reply("op", &with_body(200, r#"{"a":1}"#)),
            Ok(serde_json::json!({"a": 1}))
        );
        assert_eq!(
            json_reply("op", &with_body(200, "<html>"))
                .unwrap_err()
                .kind,
            ProviderErrorKind::Protocol
        );
    }
}
