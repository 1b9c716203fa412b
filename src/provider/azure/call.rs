//! One ARM call: the bearer token, retries of transient failures and rate limits, one retry
//! with a fresh token, what an error reply means, and the URLs of zones and record sets.

use serde_json::Value;

use super::codes::{meaning, CallError, Meaning};
use super::{Azure, API_VERSION, AUTH_HINT, FORBIDDEN_HINT};
use crate::http::{Method, Request};
use crate::provider::kit::{api, token};
use crate::provider::sign::acs3::percent_encode;
use crate::provider::{ProviderError, ProviderErrorKind};
use crate::record::{Fqdn, RecordType};

impl Azure {
    /// Calls ARM at `url` (absolute), retrying transient failures and rate limits, and once
    /// with a fresh token when the cached one is refused. Returns (status, etag, JSON body).
    pub(super) async fn call(
        &self,
        op: &'static str,
        method: Method,
        url: &str,
        extra: &[(&'static str, String)],
        body: Option<&Value>,
    ) -> Result<(u16, Option<String>, Value), CallError> {
        let payload = token::json_body(op, body).map_err(CallError::Provider)?;
        token::with_fresh_token(
            &self.token,
            &self.backoff,
            &self.name,
            op,
            |e| match e {
                CallError::Provider(p) => Some(p),
                _ => None,
            },
            |e| matches!(e, CallError::Unauthorized(_)),
            || self.attempt(op, method, url, extra, &payload),
        )
        .await
    }

    async fn attempt(
        &self,
        op: &'static str,
        method: Method,
        url: &str,
        extra: &[(&'static str, String)],
        payload: &[u8],
    ) -> Result<(u16, Option<String>, Value), CallError> {
        let token = self.access_token().await.map_err(CallError::Token)?;
        let mut headers: Vec<(&str, String)> =
            vec![("authorization", format!("Bearer {}", token.expose()))];
        if !payload.is_empty() {
            headers.push(("content-type", "application/json".to_owned()));
        }
        headers.extend(extra.iter().map(|(n, v)| (*n, v.clone())));
        let write = !matches!(method, Method::Get);
        let resp = self
            .http
            .send(Request {
                method,
                url,
                headers: &headers,
                body: payload.to_vec(),
                timeout: self.timeout,
            })
            .await
            .map_err(|e| CallError::Provider(api::http_error(op, &e, write)))?;
        tracing::debug!(provider = %self.name, op, status = resp.status, "reply");
        if (200..300).contains(&resp.status) {
            let etag = resp.header("etag").map(str::to_owned);
            if resp.body.is_empty() {
                return Ok((resp.status, etag, Value::Null));
            }
            let v = serde_json::from_slice(&resp.body).map_err(|e| {
                CallError::Provider(ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("{op}: the reply is not valid json ({e})"),
                ))
            })?;
            return Ok((resp.status, etag, v));
        }
        let envelope = serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|v| {
                // ARM wraps it in "error"; a few services answer the bare object.
                let e = v.get("error").unwrap_or(&v);
                let code = e.get("code")?.as_str()?.to_owned();
                let message = e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                Some((code, message))
            });
        let Some((code, message)) = envelope else {
            return Err(CallError::Provider(api::status_error(op, &resp)));
        };
        tracing::debug!(provider = %self.name, op, code, status = resp.status, "api error");
        let text = format!("{op} failed: {code}: {message:?}");
        Err(match meaning(resp.status, &code, false) {
            Meaning::Auth => CallError::Unauthorized(
                ProviderError::new(ProviderErrorKind::Auth, text).with_hint(AUTH_HINT),
            ),
            Meaning::Forbidden => CallError::Provider(
                ProviderError::new(ProviderErrorKind::Forbidden, text).with_hint(FORBIDDEN_HINT),
            ),
            Meaning::RateLimited => CallError::Provider(ProviderError::new(
                ProviderErrorKind::RateLimited {
                    retry_after: resp.retry_after,
                },
                text,
            )),
            Meaning::ZoneNotFound => CallError::Provider(
                ProviderError::new(ProviderErrorKind::ZoneNotFound, text).with_hint(
                    "check subscription_id, resource_group and zone: the zone must be an Azure DNS zone in that resource group",
                ),
            ),
            Meaning::Gone => CallError::Gone,
            Meaning::Conflict => CallError::Conflict(text),
            Meaning::Rejected => {
                CallError::Provider(ProviderError::new(ProviderErrorKind::Rejected, text))
            }
            Meaning::Transient => {
                CallError::Provider(ProviderError::new(ProviderErrorKind::Transient, text))
            }
        })
    }

    pub(super) fn group_url(&self) -> String {
        let s = &self.settings;
        format!(
            "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/dnsZones",
            s.endpoint.trim_end_matches('/'),
            percent_encode(&s.subscription_id),
            percent_encode(&s.resource_group)
        )
    }

    pub(super) fn set_url(&self, zone: &Fqdn, name: &Fqdn, rtype: RecordType) -> String {
        let relative = name.relative_to(zone).unwrap_or_else(|| "@".to_owned());
        format!(
            "{}/{}/{}/{}?api-version={API_VERSION}",
            self.group_url(),
            zone,
            rtype.as_str(),
            percent_encode(&relative)
        )
    }
}
