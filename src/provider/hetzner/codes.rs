//! The Cloud API's error codes and replies: what a code means to ddnsd ([`meaning`], the one
//! table), the error each meaning becomes, and how a reply is judged.

use super::*;

/// What an error code of the Cloud API means to ddnsd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// The token is unknown or revoked (`unauthorized`), or may only read (`token_readonly`).
    Auth,
    /// The token may not do this (`forbidden`), or the RRset is protected (`protected`).
    Forbidden,
    /// The RRset is protected against changes.
    Protected,
    /// No such zone or RRset (`not_found`).
    NotFound,
    /// The RRset exists already (`uniqueness_error`): read again.
    Exists,
    /// The request is wrong and will stay wrong.
    Rejected,
    /// `rate_limit_exceeded`.
    RateLimited,
    /// Anything else, the server's own failures and `locked` / `conflict` included: may
    /// pass.
    Transient,
}

/// The Cloud API's error codes (`{"error": {"code", "message", "details"}}`) → what they
/// mean: the one table of this adapter. Codes from hcloud-go's `error.go`; only the ones
/// that stay wrong stop retries — `locked` ("another action is running"), `conflict` ("the
/// resource has changed during the request, please retry"), `maintenance`,
/// `resource_unavailable`, `server_error`, `service_error`, `timeout`, `bad_gateway`,
/// `unknown_error` and every code not listed are transient.
pub fn meaning(code: &str) -> Meaning {
    match code {
        "unauthorized" | "token_readonly" => Meaning::Auth,
        "forbidden" => Meaning::Forbidden,
        "protected" => Meaning::Protected,
        "not_found" => Meaning::NotFound,
        "uniqueness_error" => Meaning::Exists,
        "invalid_input"
        | "json_error"
        | "resource_limit_exceeded"
        | "unsupported_error"
        | "deprecated_api_endpoint" => Meaning::Rejected,
        "rate_limit_exceeded" => Meaning::RateLimited,
        _ => Meaning::Transient,
    }
}

/// A failed call: the API's answer, or a provider error already.
#[derive(Debug)]
pub(super) enum Failure {
    Api {
        meaning: Meaning,
        error: ProviderError,
    },
    Provider(ProviderError),
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Failure {
        Failure::Provider(e)
    }
}

impl From<Failure> for ProviderError {
    fn from(f: Failure) -> ProviderError {
        match f {
            Failure::Api { error, .. } | Failure::Provider(error) => error,
        }
    }
}

/// The error for `meaning`, with its hint.
pub(super) fn error_of(m: Meaning, what: String, retry_after: Option<Duration>) -> ProviderError {
    match m {
        Meaning::Auth => ProviderError::new(ProviderErrorKind::Auth, what).with_hint(AUTH_HINT),
        Meaning::Forbidden => {
            ProviderError::new(ProviderErrorKind::Forbidden, what).with_hint(AUTH_HINT)
        }
        Meaning::Protected => {
            ProviderError::new(ProviderErrorKind::Forbidden, what).with_hint(PROTECTED_HINT)
        }
        Meaning::NotFound => {
            ProviderError::new(ProviderErrorKind::ZoneNotFound, what).with_hint(ZONE_HINT)
        }
        // Read again by the caller; if it persists, the request is wrong.
        Meaning::Exists | Meaning::Rejected => {
            ProviderError::new(ProviderErrorKind::Rejected, what)
        }
        Meaning::RateLimited => {
            ProviderError::new(ProviderErrorKind::RateLimited { retry_after }, what)
        }
        Meaning::Transient => ProviderError::new(ProviderErrorKind::Transient, what),
    }
}

/// The body of a successful reply, or what the API's answer means.
pub(super) fn interpret(action: &'static str, resp: &HttpResponse) -> Result<Value, Failure> {
    if (200..300).contains(&resp.status) {
        if resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        return serde_json::from_slice(&resp.body).map_err(|e| {
            ProviderError::new(
                ProviderErrorKind::Protocol,
                format!("{action}: the reply is not valid json ({e})"),
            )
            .into()
        });
    }
    let body: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let error = body.as_ref().and_then(|b| b.get("error"));
    let code = error
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let fields: Vec<String> = error
        .and_then(|e| e.get("details"))
        .and_then(|d| d.get("fields"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|f| {
                    let name = f.get("name").and_then(Value::as_str)?;
                    let msgs: Vec<&str> = f
                        .get("messages")
                        .and_then(Value::as_array)
                        .map(|m| m.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    Some(format!("{name}: {}", msgs.join(", ")))
                })
                .collect()
        })
        .unwrap_or_default();
    // Without a code the status says it (a proxy's 429 or 5xx).
    let m = match (code, resp.status) {
        ("", 401) => Meaning::Auth,
        ("", 429) => Meaning::RateLimited,
        ("", _) => Meaning::Transient,
        (c, _) => meaning(c),
    };
    let mut what = if code.is_empty() {
        format!("{action} failed: http {}", resp.status)
    } else {
        format!("{action} failed: {code}: {message:?}")
    };
    if !fields.is_empty() {
        what = format!("{what} ({})", fields.join("; "));
    }
    Err(Failure::Api {
        meaning: m,
        error: error_of(m, what, retry_after(resp)),
    })
}

/// How long a 429 asks to wait: `Retry-After` if given, else the time one request's share of
/// the limit takes to come back — the API refills its budget gradually (`RateLimit-Limit`
/// per hour, one request every 3600 / limit seconds).
pub(super) fn retry_after(resp: &HttpResponse) -> Option<Duration> {
    resp.retry_after.or_else(|| {
        let limit: u64 = resp.header("ratelimit-limit")?.trim().parse().ok()?;
        (limit > 0).then(|| Duration::from_secs(3600u64.div_ceil(limit)))
    })
}
