//! The v4 wire format: the reply envelope (`success`, `errors`, `result`, `result_info`),
//! DNS records of a reply, and query encoding.

use std::net::IpAddr;

use serde_json::Value;

use super::codes::{classify, Failure};
use super::Record;
use crate::http::HttpResponse;
use crate::provider::kit::api;
use crate::provider::{ProviderError, ProviderErrorKind};
use crate::record::{Fqdn, RecordType};

/// A record of the reply, if it is of (name, type); `None` for other records.
pub(super) fn record_of(
    item: &Value,
    name: &Fqdn,
    rtype: RecordType,
    action: &str,
) -> Result<Option<Record>, ProviderError> {
    let text = |f: &str| item.get(f).and_then(Value::as_str);
    let (Some(id), Some(rname), Some(typ)) = (text("id"), text("name"), text("type")) else {
        return Err(api::protocol(action, "a record without id, name or type"));
    };
    // The API filters too, but only what was asked for is ever touched.
    if !rname.eq_ignore_ascii_case(name.as_str()) || typ != rtype.as_str() {
        return Ok(None);
    }
    let content = text("content").unwrap_or("");
    let content: IpAddr = content.parse().map_err(|_| {
        api::protocol(
            action,
            &format!("record {id} has a non-address content {content:?}"),
        )
    })?;
    let ttl = item
        .get("ttl")
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .ok_or_else(|| api::protocol(action, &format!("record {id} has no valid ttl")))?;
    Ok(Some(Record {
        id: id.to_owned(),
        content,
        ttl,
        proxied: item
            .get("proxied")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        comment: text("comment").map(str::to_owned),
    }))
}

/// The `result` and `result_info` of a v4 envelope, or what its failure means.
pub(super) fn envelope(
    action: &str,
    resp: &HttpResponse,
) -> Result<(Value, Option<Value>), Failure> {
    // Rate limits and server errors are what they are, whatever the body says.
    if resp.status == 429 || resp.status >= 500 {
        let body: Option<Value> = serde_json::from_slice(&resp.body).ok();
        let errors = body.as_ref().map(errors_of).unwrap_or_default();
        let kind = if resp.status == 429 {
            ProviderErrorKind::RateLimited {
                retry_after: resp.retry_after,
            }
        } else {
            ProviderErrorKind::Transient
        };
        let what = if resp.status == 429 {
            "rate limited (http 429)".to_owned()
        } else {
            format!("server error (http {})", resp.status)
        };
        let detail = errors
            .first()
            .map(|(c, m)| format!(": {c}: {m:?}"))
            .unwrap_or_default();
        return Err(ProviderError::new(kind, format!("{action}: {what}{detail}")).into());
    }
    let body: Value = match serde_json::from_slice(&resp.body) {
        Ok(v) => v,
        Err(e) if resp.status == 200 => {
            return Err(ProviderError::new(
                ProviderErrorKind::Protocol,
                format!("{action}: the reply is not valid json ({e})"),
            )
            .into())
        }
        Err(_) => {
            return Err(
                api::protocol(action, &format!("unexpected http status {}", resp.status)).into(),
            )
        }
    };
    let success = body.get("success").and_then(Value::as_bool);
    match success {
        Some(true) if resp.status / 100 == 2 => {
            let result = body.get("result").cloned().unwrap_or(Value::Null);
            let info = body.get("result_info").cloned();
            Ok((result, info))
        }
        Some(_) => {
            let errors = errors_of(&body);
            Err(classify(action, resp.status, &errors, resp.retry_after))
        }
        None => Err(api::protocol(action, "no \"success\" field in the reply").into()),
    }
}

fn errors_of(body: &Value) -> Vec<(i64, String)> {
    body.get("errors")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|e| {
                    (
                        e.get("code").and_then(Value::as_i64).unwrap_or(0),
                        e.get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
pub(super) fn query_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
