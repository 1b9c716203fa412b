//! The meaning of a webhook reply: the ONE status table ([`judge`]) and its [`Failure`].

use crate::http::HttpResponse;
use crate::provider::{ProviderError, ProviderErrorKind};

/// A failed call and whether another attempt within the call may help.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The error.
    pub error: ProviderError,
    /// True for 5xx, 408, 429 and a broken connection.
    pub retry_in_call: bool,
}

/// What [`judge`] needs to know of the request.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// `host[:port]` of the endpoint.
    pub service: &'a str,
    /// The method sent.
    pub method: &'a str,
    /// The provider's config name, for hints.
    pub provider: &'a str,
    /// The text a successful reply must start with, if any.
    pub expect_body: Option<&'a str>,
}

/// The ONE table of what a reply means: 2xx is success (with `expect_body`, only when the reply
/// starts with it), 401/403 are the credentials, 429 a rate limit (Retry-After honoured), 408
/// and 5xx pass, any other 4xx rejects the request. The reply body is never shown.
pub fn judge(resp: &HttpResponse, ctx: &Context<'_>) -> Result<(), Failure> {
    let service = ctx.service;
    let method = ctx.method;
    let provider = ctx.provider;
    let s = resp.status;
    let (kind, message, hint, retry) = match s {
        200..=299 => match ctx.expect_body {
            Some(want) if !String::from_utf8_lossy(&resp.body).trim_start().starts_with(want) => (
                ProviderErrorKind::Rejected,
                format!("{service} answered http {s} without the expected reply"),
                Some(format!("the reply does not start with expect_body ({want:?}); check url and body of [providers.{provider}] (the reply is not shown: it may hold a secret)")),
                false,
            ),
            _ => return Ok(()),
        },
        401 | 403 => (
            ProviderErrorKind::Auth,
            format!("{service} refused the credentials (http {s})"),
            Some(format!("check the url and headers (e.g. Authorization) of [providers.{provider}]; ddnsd retries after the config is reloaded")),
            false,
        ),
        429 => (
            ProviderErrorKind::RateLimited {
                retry_after: resp.retry_after,
            },
            format!("{service} is rate limiting requests (http 429)"),
            None,
            true,
        ),
        408 | 500..=599 => (
            ProviderErrorKind::Transient,
            format!("{service} failed (http {s})"),
            None,
            true,
        ),
        400..=499 => (
            ProviderErrorKind::Rejected,
            format!("{service} rejected the {method} request (http {s})"),
            Some(format!("check url, method, headers and body of [providers.{provider}]")),
            false,
        ),
        _ => (
            ProviderErrorKind::Protocol,
            format!("{service} answered with http status {s}"),
            Some(format!("check url and method of [providers.{provider}]")),
            false,
        ),
    };
    let mut error = ProviderError::new(kind, message);
    error.hint = hint;
    Err(Failure {
        error,
        retry_in_call: retry,
    })
}
