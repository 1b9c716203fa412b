//! What the JSON-over-HTTP providers share: mapping transport failures and HTTP statuses to
//! [`ProviderError`] kinds, and reading the JSON body. Knows nothing about any one API's
//! envelope.

use serde_json::Value;

use super::{ProviderError, ProviderErrorKind};
use crate::http::{HttpError, HttpResponse};

/// A reply of `action` that does not have the expected shape.
pub fn protocol(action: &str, what: &str) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::Protocol,
        format!("{action}: unexpected reply: {what}"),
    )
}

/// Maps a transport failure of `action`. A timeout on a `write` may mean it happened: that is
/// "could not confirm", not "failed".
pub fn http_error(action: &str, e: &HttpError, write: bool) -> ProviderError {
    let kind = match e {
        HttpError::Timeout(_) if write => ProviderErrorKind::Unconfirmed,
        HttpError::Setup(_) | HttpError::BadUrl(_) => ProviderErrorKind::Rejected,
        _ => ProviderErrorKind::Transient,
    };
    let verb = if kind == ProviderErrorKind::Unconfirmed {
        "could not confirm"
    } else {
        "failed"
    };
    ProviderError::new(kind, format!("{action} {verb}: {e}"))
}

/// The JSON body of a 200 reply to `action`; 429 → rate limited (with `Retry-After`), 5xx →
/// transient, any other status or a body that is not JSON → protocol error.
pub fn json_reply(action: &str, resp: &HttpResponse) -> Result<Value, ProviderError> {
    if resp.status == 429 {
        return Err(ProviderError::new(
            ProviderErrorKind::RateLimited {
                retry_after: resp.retry_after,
            },
            format!("{action}: rate limited (http 429)"),
        ));
    }
    if resp.status >= 500 {
        return Err(ProviderError::new(
            ProviderErrorKind::Transient,
            format!("{action}: server error (http {})", resp.status),
        ));
    }
    if resp.status != 200 {
        return Err(ProviderError::new(
            ProviderErrorKind::Protocol,
            format!("{action}: unexpected http status {}", resp.status),
        ));
    }
    serde_json::from_slice(&resp.body).map_err(|e| {
        ProviderError::new(
            ProviderErrorKind::Protocol,
            format!("{action}: the reply is not valid json ({e})"),
        )
    })
}
