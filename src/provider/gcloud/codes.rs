//! The one code table: what Google's errors mean to ddnsd (envelope-less statuses:
//! `kit::api::status_error`).

use crate::provider::{ProviderError, ProviderErrorKind};

/// What a Google error means to ddnsd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Meaning {
    /// The token (or the key behind it) is refused.
    Auth,
    /// The JWT's `iat`/`exp` are outside what the token endpoint accepts.
    ClockSkew,
    /// The account may not do this (role, API not enabled, billing).
    Forbidden,
    /// Rate or quota of requests.
    RateLimited,
    /// The managed zone (or project) does not exist.
    ZoneNotFound,
    /// The change does not fit the live RRset (`409 alreadyExists`, `412 conditionNotMet`):
    /// read again.
    Conflict,
    /// The request itself is wrong and will stay wrong.
    Rejected,
    /// Anything else, the server's own failures included: may pass.
    Transient,
}

/// The code table, by HTTP status and the first error's `reason` (the standard Google JSON
/// error, Cloud DNS's "Error messages" page), and for the token endpoint by the OAuth
/// `error` (RFC 6749 §5.2, as `google-auth` reads it).
/// - API: 401 → Auth; 403 `rateLimitExceeded`/`userRateLimitExceeded` and 429 →
///   RateLimited; other 403 (`forbidden`, `insufficientPermissions`, `accessNotConfigured`,
///   `inactiveBillingState`) → Forbidden; 404 `notFound` → ZoneNotFound; 409
///   `alreadyExists` and 412 `conditionNotMet`/`preconditionFailed` → Conflict; other 400s
///   (`invalid`, `required`, `invalidFieldValue`, …) and `quotaExceeded` (a resource quota,
///   not a rate) → Rejected; 5xx and anything else → Transient.
/// - Token (its `error_description` given): `invalid_grant` about `iat`/`exp` → ClockSkew; other `invalid_grant`,
///   `invalid_client`, `unauthorized_client`, `invalid_scope`, `access_denied` → Auth;
///   `internal_failure`, `server_error`, `temporarily_unavailable` and anything else →
///   Transient.
pub(super) fn meaning(status: u16, reason: &str, token_description: Option<&str>) -> Meaning {
    if let Some(description) = token_description {
        // Google's wording: "Invalid JWT: Token must be a short-lived token (60 minutes) and
        // in a reasonable timeframe. Check your iat and exp values in the JWT claim."
        let about_time = description.contains("iat") || description.contains("timeframe");
        return match reason {
            "invalid_grant" if about_time => Meaning::ClockSkew,
            "invalid_grant"
            | "invalid_client"
            | "unauthorized_client"
            | "invalid_scope"
            | "access_denied" => Meaning::Auth,
            _ if status == 429 => Meaning::RateLimited,
            _ => Meaning::Transient,
        };
    }
    match (status, reason) {
        (401, _) => Meaning::Auth,
        (403 | 429, "rateLimitExceeded" | "userRateLimitExceeded") | (429, _) => {
            Meaning::RateLimited
        }
        (_, "quotaExceeded") => Meaning::Rejected,
        (403, _) => Meaning::Forbidden,
        (404, _) => Meaning::ZoneNotFound,
        (409, _) | (412, _) => Meaning::Conflict,
        (400, _) => Meaning::Rejected,
        _ => Meaning::Transient,
    }
}

/// A call's failure: an API error the caller may expect, or a final provider error.
#[derive(Debug)]
pub(super) enum CallError {
    /// The token was refused (401): fetch a new one once.
    Unauthorized(ProviderError),
    /// No token could be had (already retried inside the token exchange: not again).
    Token(ProviderError),
    /// The change does not fit the live RRset.
    Conflict(String),
    Provider(ProviderError),
}

impl From<CallError> for ProviderError {
    fn from(e: CallError) -> ProviderError {
        match e {
            CallError::Unauthorized(e) | CallError::Token(e) | CallError::Provider(e) => e,
            CallError::Conflict(text) => ProviderError::new(ProviderErrorKind::Transient, text),
        }
    }
}

impl From<ProviderError> for CallError {
    fn from(e: ProviderError) -> CallError {
        CallError::Provider(e)
    }
}
