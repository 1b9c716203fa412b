//! The client-credentials token exchange with Microsoft Entra ID (the v2.0 token endpoint);
//! the token is cached by `kit::token` until shortly before it expires.

use super::codes::{meaning, Meaning};
use super::{Azure, AUTH_HINT};
use crate::provider::kit::token::{self, BearerToken};
use crate::provider::sign::acs3::percent_encode;
use crate::provider::{ProviderError, ProviderErrorKind};
use crate::secret::Secret;

impl Azure {
    /// A valid access token: the cached one, else a fresh one.
    pub(super) async fn access_token(&self) -> Result<Secret<String>, ProviderError> {
        self.token
            .get(&*self.clock, &self.backoff, &self.name, || {
                self.fetch_token()
            })
            .await
    }

    async fn fetch_token(&self) -> Result<BearerToken, ProviderError> {
        let op = "token";
        let s = &self.settings;
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            s.authority.trim_end_matches('/'),
            percent_encode(&s.tenant_id)
        );
        let scope = format!("{}/.default", s.endpoint.trim_end_matches('/'));
        let body = format!(
            "client_id={}&client_secret={}&grant_type=client_credentials&scope={}",
            percent_encode(&s.client_id),
            percent_encode(s.client_secret.expose()),
            percent_encode(&scope)
        );
        let grant = token::exchange(
            &self.http,
            &self.name,
            op,
            &url,
            body,
            self.timeout,
            self.clock.unix_secs(),
            token::Expiry::NumberOrText,
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
        // The description's first line holds the AADSTS code and what it means; the rest is
        // trace and correlation ids.
        let first = description.lines().next().unwrap_or("").trim();
        let text = format!("{op} failed: {error}: {first:?}");
        Err(match meaning(resp.status, &error, true) {
            Meaning::Auth => ProviderError::new(ProviderErrorKind::Auth, text).with_hint(AUTH_HINT),
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
