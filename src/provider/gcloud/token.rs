//! The OAuth 2.0 access token: a JWT signed with the key, traded at `token_uri`; the token is
//! cached by `kit::token` until shortly before it expires.

use crate::http;
use crate::provider::kit::token::{self, BearerToken};
use crate::provider::sign::acs3::percent_encode;
use crate::provider::sign::google_jwt::{self, Claims};
use crate::provider::{ProviderError, ProviderErrorKind};
use crate::secret::Secret;

use super::codes::{meaning, Meaning};
use super::*;

impl Gcloud {
    /// A valid access token: the cached one, else a fresh one from the token endpoint.
    pub(super) async fn access_token(&self) -> Result<Secret<String>, ProviderError> {
        self.token
            .get(&*self.clock, &self.backoff, &self.name, || {
                self.fetch_token()
            })
            .await
    }

    pub(super) async fn fetch_token(&self) -> Result<BearerToken, ProviderError> {
        let op = "token";
        let now = self.clock.unix_secs();
        let account = &self.settings.account;
        let jwt = google_jwt::assertion(
            &account.key,
            &Claims {
                issuer: &account.client_email,
                key_id: account.private_key_id.as_deref(),
                audience: google_jwt::AUDIENCE,
                scope: google_jwt::DNS_SCOPE,
                issued_at: now,
            },
        )
        // Transient: a random source that failed once may answer on the next try.
        .map_err(|e| ProviderError::new(ProviderErrorKind::Transient, format!("{op}: {e}")))?;
        let body = format!(
            "grant_type={}&assertion={}",
            percent_encode("urn:ietf:params:oauth:grant-type:jwt-bearer"),
            percent_encode(&jwt)
        );
        let grant = token::exchange(
            &self.http,
            &self.name,
            op,
            &self.settings.token_uri,
            body,
            self.timeout,
            now,
            token::Expiry::Number,
        )
        .await?;
        let (error, description, resp) = match grant {
            token::Grant::Token(t) => return Ok(t),
            token::Grant::Refused {
                error,
                description,
                resp,
            } => (error, description, resp),
        };
        let text = format!("{op} failed: {error}: {description:?}");
        Err(match meaning(resp.status, &error, Some(&description)) {
            Meaning::ClockSkew => ProviderError::new(
                ProviderErrorKind::ClockSkew {
                    offset_secs: resp
                        .date
                        .map(|d| http::clock_offset_secs(d, self.clock.now()))
                        .unwrap_or(0),
                },
                format!("{op}: the token endpoint refused the key's time window ({error}: {description:?})"),
            ),
            Meaning::Auth => {
                ProviderError::new(ProviderErrorKind::Auth, text).with_hint(AUTH_HINT)
            }
            Meaning::RateLimited => ProviderError::new(
                ProviderErrorKind::RateLimited {
                    retry_after: resp.retry_after,
                },
                text,
            ),
            _ => ProviderError::new(ProviderErrorKind::Transient, text),
        })
    }
}
