//! The OAuth 2.0 access token of the providers that trade credentials for a bearer token
//! (gcloud, azure): the token cached until shortly before it expires, fetched again when
//! stale or refused ([`TokenCache`]), and the token endpoint's error envelope (RFC 6749
//! §5.2, [`oauth_error`]). Each provider keeps its own exchange and its own code table.

use std::future::Future;

use serde_json::Value;
use tokio::sync::Mutex;

use crate::clock::Clock;
use crate::http::Backoff;
use crate::provider::kit::api;
use crate::provider::ProviderError;
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
