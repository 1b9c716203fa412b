//! Cloudflare's error codes: what a failed call means ([`Failure`]) and the one table
//! mapping v4 error codes to [`ProviderError`]s ([`classify`]).

use std::time::Duration;

use super::AUTH_HINT;
use crate::provider::kit::api;
use crate::provider::{ProviderError, ProviderErrorKind};

/// What a failed call means.
#[derive(Debug)]
pub enum Failure {
    /// The record id is unknown (81044): re-read.
    Gone,
    /// An identical record already exists (81057, 81058): re-read.
    Exists,
    /// Anything else.
    Provider(ProviderError),
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Failure {
        Failure::Provider(e)
    }
}

/// Cloudflare's error codes → what they mean: the one table of this adapter. Only codes
/// Cloudflare documents (or is widely seen to send, see `cloudflare.md` §5) as permanent stop
/// retries; anything else is transient.
pub fn classify(
    action: &str,
    status: u16,
    errors: &[(i64, String)],
    retry_after: Option<Duration>,
) -> Failure {
    let codes: Vec<i64> = errors.iter().map(|(c, _)| *c).collect();
    let text = match errors.first() {
        Some((code, message)) => format!("{action} failed: {code}: {message:?}"),
        None => format!("{action} failed: http {status}"),
    };
    let has = |set: &[i64]| codes.iter().any(|c| set.contains(c));
    if has(&[81044]) {
        return Failure::Gone;
    }
    if has(&[81057, 81058]) {
        return Failure::Exists;
    }
    let kind = if status == 429 || has(&[971]) {
        ProviderErrorKind::RateLimited { retry_after }
    } else if has(&[10000, 9109, 1000, 6003, 6111]) {
        return Failure::Provider(
            ProviderError::new(ProviderErrorKind::Auth, text).with_hint(AUTH_HINT),
        );
    } else if has(&[7003, 7000]) {
        return Failure::Provider(
            ProviderError::new(ProviderErrorKind::ZoneNotFound, text)
                .with_hint("check zone_id: it must be the id of a zone the token can edit"),
        );
    } else if has(&[1004]) {
        ProviderErrorKind::Rejected
    } else {
        ProviderErrorKind::Transient
    };
    Failure::Provider(ProviderError::new(kind, text))
}

/// A failure of a read: "gone" or "exists" cannot happen there, so they are unexpected.
pub(super) fn failure_error(action: &str, f: Failure) -> ProviderError {
    match f {
        Failure::Provider(e) => e,
        Failure::Gone | Failure::Exists => api::protocol(action, "a write error on a read"),
    }
}
