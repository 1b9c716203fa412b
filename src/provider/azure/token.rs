//! The client-credentials token exchange with Microsoft Entra ID (the v2.0 token endpoint);
//! the token is cached by `kit::token` until shortly before it expires.

use serde_json::Value;

use super::codes::{meaning, Meaning};
use super::{Azure, AUTH_HINT};
use crate::http::{Method, Request};
use crate::provider::kit::api;
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
        let now = self.clock.unix_secs();
        let resp = self
            .http
            .send(Request {
                method: Method::Post,
                url: &url,
                headers: &[(
                    "content-type",
                    "application/x-www-form-urlencoded".to_owned(),
                )],
                body: body.into_bytes(),
                timeout: self.timeout,
            })
            .await
            .map_err(|e| api::http_error(op, &e, false))?;
        tracing::debug!(provider = %self.name, op, status = resp.status, "reply");
        let parsed = serde_json::from_slice::<Value>(&resp.body);
        if resp.status == 200 {
            let v = parsed.map_err(|e| {
                ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("{op}: the reply is not valid json ({e})"),
                )
            })?;
            let token = v
                .get("access_token")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| api::protocol(op, "no access_token"))?;
            // `expires_in` is a number (v2.0) or a string (v1.0).
            let expires_in = match v.get("expires_in") {
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(s)) => s.parse().ok(),
                _ => None,
            }
            .ok_or_else(|| api::protocol(op, "no expires_in"))?;
            return Ok(BearerToken {
                value: Secret::new(token.to_owned()),
                expires_at: now + expires_in,
            });
        }
        let envelope = parsed.ok().as_ref().and_then(token::oauth_error);
        let Some((error, description)) = envelope else {
            return Err(api::status_error(op, &resp));
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
