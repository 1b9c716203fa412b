//! The one code table: what ARM's `CloudError` codes and Entra ID's token errors mean to
//! ddnsd ([`meaning`]), and the failures a call's caller tells apart ([`CallError`]).

use crate::provider::{ProviderError, ProviderErrorKind};

/// What an ARM or Entra ID error means to ddnsd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Meaning {
    /// The token is refused, or the client credentials are.
    Auth,
    /// The app may not do this.
    Forbidden,
    /// Throttled.
    RateLimited,
    /// The zone, resource group or subscription does not exist.
    ZoneNotFound,
    /// The record set does not exist.
    Gone,
    /// The etag no longer matches (someone changed the set), or it exists already.
    Conflict,
    /// The request itself is wrong and will stay wrong.
    Rejected,
    /// Anything else, the server's own failures included: may pass.
    Transient,
}

/// The code table. ARM `CloudError` codes (ARM's "common error codes" and the DNS spec's
/// examples): `InvalidAuthenticationToken*`, `ExpiredAuthenticationToken`,
/// `AuthenticationFailed` → Auth (after one fresh token); `AuthorizationFailed`,
/// `LinkedAuthorizationFailed`, `ReadOnlyDisabledSubscription` → Forbidden;
/// `SubscriptionRequestsThrottled`, `TooManyRequests` (429) → RateLimited;
/// `ParentResourceNotFound`, `ResourceGroupNotFound`, `SubscriptionNotFound` → ZoneNotFound;
/// `NotFound` / `ResourceNotFound` on a record set → Gone; `PreconditionFailed` (412) →
/// Conflict; `BadRequest`, `InvalidRequestContent`, `InvalidRequestFormat`,
/// `InvalidResourceName`, `Conflict` (a CNAME at the name), `MissingApiVersionParameter`,
/// `InvalidApiVersionParameter`, `NoRegisteredProviderFound` → Rejected. Entra ID token
/// errors: `invalid_client`, `unauthorized_client`, `invalid_request` (an unknown tenant),
/// `invalid_scope`, `access_denied` → Auth; `temporarily_unavailable` and the rest →
/// Transient. Everything else is transient (see docs/design/providers.md).
pub(super) fn meaning(status: u16, code: &str, token_endpoint: bool) -> Meaning {
    if token_endpoint {
        return match code {
            "invalid_client"
            | "unauthorized_client"
            | "invalid_request"
            | "invalid_scope"
            | "access_denied"
            | "invalid_grant" => Meaning::Auth,
            _ if status == 429 => Meaning::RateLimited,
            _ => Meaning::Transient,
        };
    }
    match code {
        c if c.starts_with("InvalidAuthenticationToken") => Meaning::Auth,
        "ExpiredAuthenticationToken" | "AuthenticationFailed" => Meaning::Auth,
        "AuthorizationFailed" | "LinkedAuthorizationFailed" | "ReadOnlyDisabledSubscription" => {
            Meaning::Forbidden
        }
        "SubscriptionRequestsThrottled" | "TooManyRequests" => Meaning::RateLimited,
        "ParentResourceNotFound" | "ResourceGroupNotFound" | "SubscriptionNotFound" => {
            Meaning::ZoneNotFound
        }
        "NotFound" | "ResourceNotFound" => Meaning::Gone,
        "PreconditionFailed" => Meaning::Conflict,
        "BadRequest"
        | "InvalidRequestContent"
        | "InvalidRequestFormat"
        | "InvalidResourceName"
        | "Conflict"
        | "MissingApiVersionParameter"
        | "InvalidApiVersionParameter"
        | "NoRegisteredProviderFound" => Meaning::Rejected,
        _ => match status {
            401 => Meaning::Auth,
            429 => Meaning::RateLimited,
            412 => Meaning::Conflict,
            _ => Meaning::Transient,
        },
    }
}

/// A call's failure: an API error the caller may expect, or a final provider error.
#[derive(Debug)]
pub(super) enum CallError {
    /// The token was refused (401): fetch a new one once.
    Unauthorized(ProviderError),
    /// No token could be had (already retried inside the token exchange: not again).
    Token(ProviderError),
    /// The record set does not exist.
    Gone,
    /// The etag does not match any more.
    Conflict(String),
    Provider(ProviderError),
}

impl From<CallError> for ProviderError {
    fn from(e: CallError) -> ProviderError {
        match e {
            CallError::Unauthorized(e) | CallError::Token(e) | CallError::Provider(e) => e,
            CallError::Gone => ProviderError::new(
                ProviderErrorKind::Transient,
                "the record set disappeared while being read",
            ),
            CallError::Conflict(text) => ProviderError::new(ProviderErrorKind::Transient, text),
        }
    }
}

impl From<ProviderError> for CallError {
    fn from(e: ProviderError) -> CallError {
        CallError::Provider(e)
    }
}
