//! dynv6's wire formats and what their answers mean: the ONE error table ([`status_error`],
//! with the error envelope), the update API's reply, transport errors with the token cut out,
//! the written-record check, prefix arithmetic and percent-encoding. Pure, no I/O.

use std::net::{IpAddr, Ipv6Addr};

use serde_json::Value;

use crate::http::{HttpError, HttpResponse};
use crate::provider::kit::api;
use crate::provider::{ProviderError, ProviderErrorKind};
use crate::record::RecordType;

const AUTH_HINT: &str = "check token: an HTTP token from dynv6.com/keys (one restricted to a zone works for that zone only); ddnsd retries after the config is reloaded";

/// What a failed REST call means to its caller.
#[derive(Debug)]
pub enum Failure {
    /// 404: the zone is not the token's, or (on a record's own path) the record is gone.
    NotFound(ProviderError),
    /// Anything else.
    Provider(ProviderError),
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Failure {
        Failure::Provider(e)
    }
}

impl Failure {
    pub(super) fn into_error(self) -> ProviderError {
        match self {
            Failure::NotFound(e) | Failure::Provider(e) => e,
        }
    }
}

/// The text of dynv6's error envelope: `error.message`, with each field's message.
fn error_text(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let e = v.get("error")?;
    let mut text = e
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if let Some(fields) = e.get("fields").and_then(Value::as_array) {
        for f in fields {
            let name = f.get("name").and_then(Value::as_str).unwrap_or("?");
            let msg = f.get("message").and_then(Value::as_str).unwrap_or("");
            text.push_str(&format!("; {name}: {msg}"));
        }
    }
    Some(text)
}

/// The ONE table of dynv6's answers (REST spec: 401 for an invalid token, 403, 404, 400/422
/// with the ValidationError envelope; the update API answers with the same statuses): 401 →
/// Auth; 403 → Forbidden (a token restricted to another zone); 404 → not found (the caller
/// says whether that is the zone or a record); 400/422 → Rejected with dynv6's words; 429 →
/// RateLimited with `Retry-After`; 5xx → Transient; any other status → Protocol.
pub fn status_error(action: &str, resp: &HttpResponse) -> Failure {
    let s = resp.status;
    let said = error_text(&resp.body)
        .filter(|t| !t.is_empty())
        .map(|t| format!(": {t:?}"))
        .unwrap_or_default();
    let text = format!("{action} failed (http {s}){said}");
    let e = |kind| ProviderError::new(kind, text.clone());
    match s {
        401 => e(ProviderErrorKind::Auth).with_hint(AUTH_HINT).into(),
        403 => e(ProviderErrorKind::Forbidden)
            .with_hint("the token may not change this zone: use a token of the zone's account, unrestricted or restricted to this zone (dynv6.com/keys)")
            .into(),
        404 => Failure::NotFound(e(ProviderErrorKind::ZoneNotFound).with_hint(
            "the zone is not one of the token's: create it on dynv6.com, or correct the record name or zone",
        )),
        400 | 422 => e(ProviderErrorKind::Rejected).into(),
        429 => ProviderError::new(
            ProviderErrorKind::RateLimited {
                retry_after: resp.retry_after,
            },
            format!("{action}: rate limited (http 429)"),
        )
        .into(),
        500..=599 => e(ProviderErrorKind::Transient).into(),
        _ => api::protocol(action, &format!("unexpected http status {s}")).into(),
    }
}

/// `addr` cut to its first `len` bits, as `network/len`. Pure.
pub fn prefix_of(addr: Ipv6Addr, len: u8) -> String {
    let bits = u128::from(addr);
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    };
    format!("{}/{len}", Ipv6Addr::from(bits & mask))
}

/// The address of an `ipv6prefix` field (`2001:db8::1` or `2001:db8::1/64`) and its length.
pub(super) fn split_prefix(field: &str) -> Option<(Ipv6Addr, Option<u8>)> {
    let (addr, len) = match field.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
        None => (field, None),
    };
    Some((addr.parse().ok()?, len))
}

/// What an update-API reply means: 200 with a plain-text answer (dynv6 says "addresses
/// updated" / "addresses unchanged") is success, but an HTML page is not trusted; other
/// statuses go through [`status_error`].
pub(super) fn judge_update(action: &str, resp: &HttpResponse) -> Result<(), ProviderError> {
    if resp.status == 200 {
        let body = String::from_utf8_lossy(&resp.body);
        if body.trim_start().starts_with('<') {
            return Err(api::protocol(
                action,
                "an HTML page, not the update API's answer",
            ));
        }
        return Ok(());
    }
    Err(status_error(action, resp).into_error())
}

/// A transport failure, with every URL (they hold the token) cut to the endpoint.
pub(super) fn transport_error(action: &str, e: &HttpError, endpoint: &str) -> ProviderError {
    let mut error = api::http_error(action, e, true);
    let mut out = String::with_capacity(error.message.len());
    let mut rest = error.message.as_str();
    while let Some(i) = rest.find(endpoint) {
        out.push_str(&rest[..i]);
        out.push_str(endpoint);
        out.push_str("/…");
        let after = &rest[i..];
        let end = after.find([' ', ')', '"']).unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    error.message = out;
    error
}

/// Checks a written record is the one asked for; returns its id.
pub(super) fn check_record(
    action: &str,
    v: &Value,
    sub: &str,
    rtype: RecordType,
    value: IpAddr,
) -> Result<String, ProviderError> {
    let id = v
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| api::protocol(action, "the written record has no id"))?;
    let text = |f: &str| v.get(f).and_then(Value::as_str);
    if !text("name").is_some_and(|n| n.eq_ignore_ascii_case(sub))
        || text("type") != Some(rtype.as_str())
    {
        return Err(api::protocol(
            action,
            "the written record has another name or type",
        ));
    }
    let data = text("expandedData").or(text("data")).unwrap_or("");
    if data.parse::<IpAddr>().ok() != Some(value) {
        return Err(api::protocol(
            action,
            &format!("record {id} holds {data:?} after writing {value}"),
        ));
    }
    Ok(id.to_string())
}

/// Percent-encodes a path segment or query value (RFC 3986 unreserved characters, `:` and `/`
/// of prefixes kept).
pub(super) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
