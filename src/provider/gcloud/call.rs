//! One Cloud DNS API call: the bearer token, retries of transient failures and rate limits,
//! one retry with a fresh token, and listing every page.

use serde_json::Value;

use crate::http::{Method, Request};
use crate::provider::kit::{api, token};
use crate::provider::sign::acs3::percent_encode;
use crate::provider::{ProviderError, ProviderErrorKind};

use super::codes::{meaning, CallError, Meaning};
use super::*;

impl Gcloud {
    /// Calls the API, retrying transient failures and rate limits, and once with a fresh token
    /// when the cached one is refused.
    pub(super) async fn call(
        &self,
        op: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
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
            || self.attempt(op, method, path, query, &payload),
        )
        .await
    }

    pub(super) async fn attempt(
        &self,
        op: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        payload: &[u8],
    ) -> Result<Value, CallError> {
        let token = self.access_token().await.map_err(CallError::Token)?;
        let mut target = format!("{}{path}", self.settings.endpoint.trim_end_matches('/'));
        if !query.is_empty() {
            target.push('?');
            target.push_str(
                &query
                    .iter()
                    .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
                    .collect::<Vec<_>>()
                    .join("&"),
            );
        }
        let mut headers = vec![("authorization", format!("Bearer {}", token.expose()))];
        if !payload.is_empty() {
            headers.push(("content-type", "application/json".to_owned()));
        }
        let write = !matches!(method, Method::Get);
        let resp = self
            .http
            .send(Request {
                method,
                url: &target,
                headers: &headers,
                body: payload.to_vec(),
                timeout: self.timeout,
            })
            .await
            .map_err(|e| CallError::Provider(api::http_error(op, &e, write)))?;
        tracing::debug!(provider = %self.name, op, status = resp.status, "reply");
        if resp.status == 200 {
            return serde_json::from_slice(&resp.body).map_err(|e| {
                CallError::Provider(ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("{op}: the reply is not valid json ({e})"),
                ))
            });
        }
        let envelope = serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|v| {
                let e = v.get("error")?;
                let message = e.get("message")?.as_str()?.to_owned();
                let reason = e
                    .get("errors")
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .and_then(|x| x.get("reason"))
                    .and_then(Value::as_str)
                    .or_else(|| e.get("status").and_then(Value::as_str))
                    .unwrap_or("")
                    .to_owned();
                Some((reason, message))
            });
        let Some((reason, message)) = envelope else {
            return Err(CallError::Provider(api::status_error(op, &resp)));
        };
        tracing::debug!(provider = %self.name, op, reason, status = resp.status, "api error");
        let text = format!("{op} failed: {} {reason}: {message:?}", resp.status);
        Err(match meaning(resp.status, &reason, None) {
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
                ProviderError::new(ProviderErrorKind::ZoneNotFound, text).with_hint(format!(
                    "check project and managed_zone: the zone must be a managed zone of project {}",
                    self.settings.project
                )),
            ),
            Meaning::Conflict => CallError::Conflict(text),
            Meaning::Rejected => {
                CallError::Provider(ProviderError::new(ProviderErrorKind::Rejected, text))
            }
            Meaning::ClockSkew | Meaning::Transient => {
                CallError::Provider(ProviderError::new(ProviderErrorKind::Transient, text))
            }
        })
    }

    pub(super) fn project_path(&self) -> String {
        format!(
            "/dns/v1/projects/{}",
            percent_encode(&self.settings.project)
        )
    }

    /// Every item of `field` over all pages of `path` (`pageToken` = the previous
    /// `nextPageToken`).
    pub(super) async fn list_all(
        &self,
        op: &'static str,
        path: &str,
        query: &[(&str, String)],
        field: &str,
    ) -> Result<Vec<Value>, CallError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut q = query.to_vec();
            q.push(("maxResults", PAGE.to_string()));
            if let Some(t) = &token {
                q.push(("pageToken", t.clone()));
            }
            let resp = self.call(op, Method::Get, path, &q, None).await?;
            // An empty list may leave the field out.
            match resp.get(field) {
                Some(Value::Array(items)) => out.extend(items.iter().cloned()),
                None if resp.get("kind").is_some() => {}
                _ => return Err(api::protocol(op, &format!("no {field:?} array")).into()),
            }
            match resp.get("nextPageToken").and_then(Value::as_str) {
                Some(t) if !t.is_empty() && token.as_deref() != Some(t) => {
                    token = Some(t.to_owned())
                }
                _ => break,
            }
        }
        Ok(out)
    }
}
