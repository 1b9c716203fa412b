//! `kind = "webhook"`: one HTTP request per changed RRset to any endpoint — method, URL,
//! headers and a body [`Template`] with `{name}` `{type}` `{address}` `{addresses}`
//! `{addresses_json}` `{ttl}` `{zone}`.
//!
//! Owns the template language (placeholders, escaping by context: JSON string content for a
//! JSON body, percent-encoding in the URL and in a form body), header settings whose values
//! are secrets (`NAME`, `NAME_file`, `NAME_env`), and the meaning of the reply's status in one
//! table ([`judge`]). The URL, every header value and the body may hold secrets: none of them
//! is ever logged, and reply bodies are never logged or shown either (they may echo the
//! request).
//!
//! A webhook has no read call. [`Provider::read_rrset`] reads nothing: it reports the
//! addresses the endpoint last acknowledged (a 2xx), as remembered in the record's hints, or an
//! empty set when nothing is remembered (see `docs/design/providers.md`, "write-only kinds").

mod reply;
mod settings;
mod template;
#[cfg(test)]
mod tests;

use std::time::Duration;

use futures::future::BoxFuture;

use super::kit::api;
use super::{
    Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind, ProviderHints,
};
use crate::http::{Backoff, HttpClient, HttpError, Request};
use crate::record::{AddrSet, Family, RecordKey, RrSet, Ttl};

pub use reply::{judge, Context, Failure};
pub use settings::WebhookSettings;
pub use template::{Escape, Field, Template, Values};

use settings::configure;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "webhook",
    about: "any HTTP endpoint: method, URL, headers and a body template (no read API)",
    example: r#"[providers.hook]
kind = "webhook"
url = "https://hooks.example.net/ddns"   # or url_file / url_env (a URL holding a token is a secret)
# method = "POST"                        # GET | POST | PUT | PATCH | DELETE
body = '{"name": "{name}", "type": "{type}", "addresses": {addresses_json}, "ttl": {ttl}}'
# also {address} (the lowest), {addresses} (comma-separated) and {zone}
# expect_body = "OK"                     # success needs a reply starting with this text
# zone = "example.com"                   # for {zone}; records outside it are refused

[providers.hook.headers]
Authorization_env = "HOOK_AUTH"          # a header from the environment; or NAME_file / NAME = "…"
"#,
    configure,
};

const HINT_PUBLISHED: &str = "published";
const HINT_TTL: &str = "ttl";

/// A webhook provider.
pub struct Webhook {
    name: String,
    settings: WebhookSettings,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
}

impl Webhook {
    /// A provider named `name`.
    pub fn new(name: String, settings: WebhookSettings, deps: &ProviderDeps) -> Webhook {
        Webhook {
            name,
            settings,
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
        }
    }

    async fn send(&self, desired: &RrSet) -> Result<ProviderHints, ProviderError> {
        let key = desired.key();
        let s = &self.settings;
        if let Some(zone) = &s.zone {
            if !desired.name.is_within(zone) {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    format!("{} is not inside the zone {zone}", desired.name),
                )
                .with_hint("set the provider's zone to a domain that contains the record name"));
            }
        }
        let values = Values {
            name: &desired.name,
            rtype: desired.rtype.as_str(),
            addrs: &desired.addrs,
            ttl: desired.ttl.0,
            zone: s.zone.as_ref(),
        };
        let url = match reqwest::Url::parse(&s.url.render(&values, Escape::Url)) {
            Ok(u) if u.has_host() => u,
            _ => {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    format!(
                        "the url of [providers.{}] gives no valid URL for {key}",
                        self.name
                    ),
                )
                .with_hint(
                    "check the url's placeholders (the URL is not shown: it may hold a secret)",
                ))
            }
        };
        let service = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => "the webhook".to_owned(),
        };
        let body = s
            .body
            .as_ref()
            .map(|t| t.render(&values, s.body_escape).into_bytes())
            .unwrap_or_default();
        let mut headers: Vec<(&str, String)> = s
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.expose().clone()))
            .collect();
        if let Some(ct) = s.default_content_type {
            headers.push(("Content-Type", ct.to_owned()));
        }
        let method = s.method.as_str();
        let action = format!("{method} to {service}");
        let ctx = Context {
            service: &service,
            method,
            provider: &self.name,
            expect_body: s.expect_body.as_deref(),
        };
        tracing::debug!(provider = %self.name, record = %key, method, service = %service, "calling the webhook");
        api::with_retries(
            &self.backoff,
            &self.name,
            &action,
            |f: &Failure| f.retry_in_call.then_some(&f.error),
            || async {
                let resp = self
                    .http
                    .send(Request {
                        method: s.method,
                        url: url.as_str(),
                        headers: &headers,
                        body: body.clone(),
                        timeout: self.timeout,
                    })
                    .await
                    .map_err(|e| transport_failure(&action, &e, &url))?;
                tracing::debug!(provider = %self.name, status = resp.status, "webhook reply");
                judge(&resp, &ctx)
            },
        )
        .await
        .map_err(|f| f.error)?;
        let mut h = ProviderHints::default();
        h.0.insert(HINT_PUBLISHED.into(), desired.addrs.to_string());
        h.0.insert(HINT_TTL.into(), desired.ttl.0.to_string());
        Ok(h)
    }
}

/// A transport failure, with the URL (which may hold a token) cut down to its origin wherever
/// the HTTP library quoted it.
fn transport_failure(action: &str, e: &HttpError, url: &reqwest::Url) -> Failure {
    let mut error = api::http_error(action, e, true);
    let origin = format!("{}/…", url.origin().ascii_serialization());
    error.message = error.message.replace(url.as_str(), &origin);
    Failure {
        retry_in_call: error.kind == ProviderErrorKind::Transient,
        error,
    }
}

impl Provider for Webhook {
    fn name(&self) -> &str {
        &self.name
    }

    /// Reads nothing (a webhook has no read call): the addresses the endpoint last
    /// acknowledged, from the hints, or an empty set when none are remembered.
    /// dyndns2/webhooks have no read API: verify and read-back are skipped.
    fn reads_live(&self) -> bool {
        false
    }

    fn read_rrset<'a>(
        &'a self,
        key: &'a RecordKey,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        Box::pin(async move { Ok(acknowledged(hints, key)) })
    }

    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        _hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        Box::pin(self.send(desired))
    }
}

/// The remembered acknowledgement of `key`, or an empty set when none is remembered.
fn acknowledged(hints: &ProviderHints, key: &RecordKey) -> LiveRrSet {
    let parsed = (|| {
        let ttl: u32 = hints.0.get(HINT_TTL)?.parse().ok()?;
        let addrs: AddrSet = hints
            .0
            .get(HINT_PUBLISHED)?
            .split(',')
            .map(|a| a.parse().ok())
            .collect::<Option<AddrSet>>()?;
        let same_family = addrs.iter().all(|a| Family::of(a) == key.rtype.family());
        same_family.then_some((addrs, ttl))
    })();
    match parsed {
        Some((addrs, ttl)) => LiveRrSet {
            addrs,
            ttl: Some(Ttl(ttl)),
            hints: hints.clone(),
        },
        None => LiveRrSet {
            addrs: AddrSet::new(),
            ttl: None,
            hints: ProviderHints::default(),
        },
    }
}
