//! The OAuth 2.0 access token of the providers that trade credentials for a bearer token
//! (gcloud, azure): the token cached until shortly before it expires, fetched again when
//! stale or refused ([`TokenCache`], [`with_fresh_token`]), and the token endpoint's error
//! envelope (RFC 6749 §5.2, [`oauth_error`]). Each provider keeps its own exchange and its own code table.

use std::future::Future;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Mutex;

use crate::clock::Clock;
use crate::http::{Backoff, HttpClient, HttpResponse, Method, Request};
use crate::provider::kit::api;
use crate::provider::{ProviderError, ProviderErrorKind};
use crate::secret::Secret;

/// An access token and when it expires (Unix seconds).
pub struct BearerToken {
    /// The token sent as `Authorization: Bearer …`.
    pub value: Secret<String>,
    /// When the token endpoint said it expires.
    pub expires_at: u64,
}

/// The cached access token of one provider.
pub struct TokenCache {
    /// A token is renewed this long before it expires.
    margin_secs: u64,
    slot: Mutex<Option<BearerToken>>,
}

impl TokenCache {
    /// An empty cache whose tokens are renewed `margin_secs` before they expire.
    pub fn new(margin_secs: u64) -> TokenCache {
        TokenCache {
            margin_secs,
            slot: Mutex::new(None),
        }
    }

    /// A valid access token: the cached one while it has more than the margin left, else a
    /// fresh one from `fetch` (retried like any call, as action `token`), which replaces it.
    /// The cache stays locked while fetching, so concurrent callers wait for one exchange
    /// instead of each starting their own.
    pub async fn get<Fut>(
        &self,
        clock: &dyn Clock,
        backoff: &Backoff,
        provider: &str,
        fetch: impl FnMut() -> Fut,
    ) -> Result<Secret<String>, ProviderError>
    where
        Fut: Future<Output = Result<BearerToken, ProviderError>>,
    {
        let mut cached = self.slot.lock().await;
        let now = clock.unix_secs();
        if let Some(t) = cached.as_ref() {
            if now + self.margin_secs < t.expires_at {
                return Ok(t.value.clone());
            }
        }
        let fresh = api::with_retries(
            backoff,
            provider,
            "token",
            |e: &ProviderError| Some(e),
            fetch,
        )
        .await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    /// Drops the cached token (the API refused it): the next [`TokenCache::get`] fetches a
    /// new one.
    pub async fn forget(&self) {
        *self.slot.lock().await = None;
    }
}

/// A JSON request body for `action`; a body that cannot be encoded is a protocol error.
pub fn json_body(action: &str, body: Option<&Value>) -> Result<Vec<u8>, ProviderError> {
    match body {
        Some(b) => serde_json::to_vec(b).map_err(|e| {
            ProviderError::new(
                ProviderErrorKind::Protocol,
                format!("{action}: could not encode the request: {e}"),
            )
        }),
        None => Ok(Vec::new()),
    }
}

/// One call of a bearer-token API: `attempt` under [`api::with_retries`] (transient failures
/// and rate limits), then once more with a fresh token when the cached one was refused
/// (`refused`), since a token can be revoked or rotated before it expires.
pub async fn with_fresh_token<T, E, Fut>(
    cache: &TokenCache,
    backoff: &Backoff,
    provider: &str,
    action: &str,
    as_provider: fn(&E) -> Option<&ProviderError>,
    refused: fn(&E) -> bool,
    mut attempt: impl FnMut() -> Fut,
) -> Result<T, E>
where
    Fut: Future<Output = Result<T, E>>,
{
    match api::with_retries(backoff, provider, action, as_provider, &mut attempt).await {
        Err(e) if refused(&e) => {
            tracing::debug!(
                provider,
                op = action,
                "the access token was refused; fetching a new one"
            );
            cache.forget().await;
            api::with_retries(backoff, provider, action, as_provider, attempt).await
        }
        other => other,
    }
}

/// How a token endpoint gives `expires_in`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// A JSON number only (RFC 6749; Google).
    Number,
    /// A number or a decimal string (Microsoft's v1.0 endpoint sends a string).
    NumberOrText,
}

/// What a token endpoint answered (no `Debug`: it may hold the token).
pub enum Grant {
    /// A token (200 with `access_token` and `expires_in`).
    Token(BearerToken),
    /// An RFC 6749 §5.2 refusal: (`error`, `error_description` or ""), with the reply for its
    /// status, `Date` and `Retry-After`.
    Refused {
        /// `error`.
        error: String,
        /// `error_description`, or "".
        description: String,
        /// The reply.
        resp: HttpResponse,
    },
}

/// POSTs the form `body` to the token endpoint `url` as `action` (the same request for every
/// client-credentials or JWT-bearer exchange) and reads the answer; `now` (Unix seconds)
/// dates the token's expiry. A reply that is neither a token nor an RFC 6749 refusal is
/// judged by its status ([`api::status_error`]); a 200 without a usable token is a protocol
/// error.
#[allow(clippy::too_many_arguments)]
pub async fn exchange(
    http: &HttpClient,
    provider: &str,
    action: &'static str,
    url: &str,
    body: String,
    timeout: Duration,
    now: u64,
    expiry: Expiry,
) -> Result<Grant, ProviderError> {
    let resp = http
        .send(Request {
            method: Method::Post,
            url,
            headers: &[(
                "content-type",
                "application/x-www-form-urlencoded".to_owned(),
            )],
            body: body.into_bytes(),
            timeout,
        })
        .await
        .map_err(|e| api::http_error(action, &e, false))?;
    tracing::debug!(provider, op = action, status = resp.status, "reply");
    let parsed = serde_json::from_slice::<Value>(&resp.body);
    if resp.status == 200 {
        let v = parsed.map_err(|e| {
            ProviderError::new(
                ProviderErrorKind::Protocol,
                format!("{action}: the reply is not valid json ({e})"),
            )
        })?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| api::protocol(action, "no access_token"))?;
        let expires_in = match (v.get("expires_in"), expiry) {
            (Some(Value::Number(n)), _) => n.as_u64(),
            (Some(Value::String(s)), Expiry::NumberOrText) => s.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| api::protocol(action, "no expires_in"))?;
        return Ok(Grant::Token(BearerToken {
            value: Secret::new(token.to_owned()),
            expires_at: now + expires_in,
        }));
    }
    match parsed.ok().as_ref().and_then(oauth_error) {
        Some((error, description)) => Ok(Grant::Refused {
            error,
            description,
            resp,
        }),
        None => Err(api::status_error(action, &resp)),
    }
}

/// A token endpoint's refusal as RFC 6749 §5.2 shapes it: (`error`, `error_description` or
/// ""); `None` when the body is not that envelope.
pub fn oauth_error(body: &Value) -> Option<(String, String)> {
    let error = body.get("error")?.as_str()?.to_owned();
    let description = body
        .get("error_description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    Some((error, description))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::clock::FakeClock;
    use crate::provider::ProviderErrorKind;

    /// One fetch per stale token: cached while more than the margin is left, fetched again
    /// at the margin and after `forget`.
    #[tokio::test]
    async fn fetches_only_when_stale() {
        let clock = FakeClock::at_unix(1_000);
        let cache = TokenCache::new(60);
        let fetches = AtomicU64::new(0);
        let fetch = || async {
            let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(BearerToken {
                value: Secret::new(format!("t{n}")),
                expires_at: clock.unix_secs() + 3600,
            })
        };
        let backoff = Backoff::default();
        let get = || cache.get(&clock, &backoff, "p", fetch);
        assert_eq!(get().await.unwrap().expose(), "t1");
        clock.advance(Duration::from_secs(3600 - 61));
        assert_eq!(get().await.unwrap().expose(), "t1");
        clock.advance(Duration::from_secs(1));
        assert_eq!(get().await.unwrap().expose(), "t2");
        cache.forget().await;
        assert_eq!(get().await.unwrap().expose(), "t3");
        assert_eq!(fetches.load(Ordering::SeqCst), 3);
    }

    /// A refused exchange is returned as is and leaves nothing cached.
    #[tokio::test]
    async fn a_failed_fetch_caches_nothing() {
        let clock = FakeClock::at_unix(1_000);
        let cache = TokenCache::new(60);
        let refused = cache
            .get(&clock, &Backoff::default(), "p", || async {
                Err(ProviderError::new(
                    ProviderErrorKind::Auth,
                    "token failed: no",
                ))
            })
            .await;
        assert_eq!(refused.unwrap_err().kind, ProviderErrorKind::Auth);
        let ok = cache
            .get(&clock, &Backoff::default(), "p", || async {
                Ok(BearerToken {
                    value: Secret::new("t".to_owned()),
                    expires_at: 5_000,
                })
            })
            .await;
        assert_eq!(ok.unwrap().expose(), "t");
    }

    #[derive(Debug, PartialEq)]
    enum Fail {
        Refused,
        Other(ProviderError),
    }

    /// A refused token is forgotten and the call made once more with a new one; any other
    /// failure is not (and a second refusal is returned, not retried again).
    #[tokio::test]
    async fn a_refused_token_is_fetched_again_once() {
        let clock = FakeClock::at_unix(1_000);
        let backoff = Backoff::default();
        for (replies, want, calls, fetches) in [
            (vec![Err(Fail::Refused), Ok(7)], Ok(7), 2, 2),
            (
                vec![Err(Fail::Refused), Err(Fail::Refused)],
                Err(Fail::Refused),
                2,
                2,
            ),
            (
                vec![Err(Fail::Other(ProviderError::new(
                    ProviderErrorKind::Auth,
                    "no",
                )))],
                Err(Fail::Other(ProviderError::new(
                    ProviderErrorKind::Auth,
                    "no",
                ))),
                1,
                1,
            ),
        ] {
            let cache = TokenCache::new(60);
            let fetched = AtomicU64::new(0);
            let made = AtomicU64::new(0);
            let replies = std::sync::Mutex::new(replies.into_iter());
            let got = with_fresh_token(
                &cache,
                &backoff,
                "p",
                "op",
                |e| match e {
                    Fail::Other(p) => Some(p),
                    Fail::Refused => None,
                },
                |e| *e == Fail::Refused,
                || async {
                    made.fetch_add(1, Ordering::SeqCst);
                    // Each attempt asks the cache, as a provider's does.
                    cache
                        .get(&clock, &backoff, "p", || async {
                            fetched.fetch_add(1, Ordering::SeqCst);
                            Ok(BearerToken {
                                value: Secret::new("t".to_owned()),
                                expires_at: 5_000,
                            })
                        })
                        .await
                        .map_err(Fail::Other)?;
                    replies.lock().unwrap().next().unwrap()
                },
            )
            .await;
            assert_eq!(got, want);
            assert_eq!(made.load(Ordering::SeqCst), calls);
            assert_eq!(fetched.load(Ordering::SeqCst), fetches);
        }
        assert_eq!(
            json_body("op", Some(&json!({"a": 1}))).unwrap(),
            br#"{"a":1}"#.to_vec()
        );
        assert!(json_body("op", None).unwrap().is_empty());
    }

    #[test]
    fn oauth_envelope() {
        assert_eq!(
            oauth_error(
                &json!({"error": "invalid_client", "error_description": "AADSTS7000215: bad"})
            ),
            Some(("invalid_client".to_owned(), "AADSTS7000215: bad".to_owned()))
        );
        assert_eq!(
            oauth_error(&json!({"error": "invalid_grant"})),
            Some(("invalid_grant".to_owned(), String::new()))
        );
        assert_eq!(oauth_error(&json!({"error": {"code": "x"}})), None);
        assert_eq!(oauth_error(&json!({"message": "no"})), None);
    }
}
