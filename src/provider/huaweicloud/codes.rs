//! What Huawei Cloud DNS answers mean: the ONE error-code table ([`meaning`]), the two error
//! envelopes (gateway and service) read from a reply, and the failures the callers tell apart
//! ([`CallError`], [`SetError`]).

use serde_json::Value;

use super::{HuaweiCloud, SERVICE};
use crate::http;
use crate::provider::{ProviderError, ProviderErrorKind};

const AUTH_HINT: &str =
    "check access_key/secret_key; the key's IAM user needs the DNS FullAccess policy";
const FORBIDDEN_HINT: &str = "grant the key's IAM user the DNS FullAccess policy (or dns:zone:list, dns:recordset:list, dns:recordset:create, dns:recordset:update and dns:recordset:delete)";

/// What a Huawei error code means to ddnsd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Meaning {
    /// The AK is unknown or the signature does not match.
    Auth,
    /// The request's `X-Sdk-Date` is more than 15 minutes off the gateway's clock.
    ClockSkew,
    /// The key may not do this.
    Forbidden,
    /// Flow control.
    RateLimited,
    /// The record set does not exist (any more).
    Gone,
    /// A record set of this name and type (or a conflicting one) exists.
    Exists,
    /// The request itself is wrong and will stay wrong.
    Rejected,
    /// Anything else, the server's own failures included: may pass.
    Transient,
}

/// The code table. API gateway codes: `APIGW.0301` is every AK/SK failure (401; "ak … not
/// exist", "verify aksk signature fail", and "signature expired, signature time:…, server
/// time:…" for a clock 15 minutes off, as quoted in public issues), `APIGW.0308` the gateway's
/// throttling (429). DNS codes from Huawei's DNS error-code table: DNS.0002/0006/0007/0008
/// (400, invalid request/limit/marker/zone type), DNS.0004 (404, no record sets found),
/// DNS.0005 (401), DNS.0013 (403, no permission for the API), DNS.0014 (403, flow control);
/// DNS.0312 / DNS.0335 (400, name conflict / duplicate record set) as quoted in public issues.
/// Every other code is transient (see docs/design/providers.md).
pub(super) fn meaning(code: &str, message: &str) -> Meaning {
    match code {
        "APIGW.0301" if message.contains("signature expired") => Meaning::ClockSkew,
        "APIGW.0301" | "DNS.0005" => Meaning::Auth,
        "DNS.0013" => Meaning::Forbidden,
        "APIGW.0308" | "DNS.0014" => Meaning::RateLimited,
        "DNS.0004" => Meaning::Gone,
        "DNS.0312" | "DNS.0335" => Meaning::Exists,
        "DNS.0002" | "DNS.0006" | "DNS.0007" | "DNS.0008" => Meaning::Rejected,
        _ => Meaning::Transient,
    }
}

/// A call's failure: an API error the caller may expect, or a final provider error.
#[derive(Debug)]
pub(super) enum CallError {
    Api {
        meaning: Meaning,
        status: u16,
        text: String,
    },
    Provider(ProviderError),
}

impl From<CallError> for ProviderError {
    fn from(e: CallError) -> ProviderError {
        match e {
            CallError::Provider(e) => e,
            // A 404 that is not "no record sets found": the zone id is unknown to the
            // endpoint (the zone was deleted, or the endpoint is another region's).
            CallError::Api {
                status: 404,
                meaning,
                text,
            } if meaning != Meaning::Gone => {
                ProviderError::new(ProviderErrorKind::ZoneNotFound, text).with_hint(format!(
                    "check the zone and the region: the zone must be a public zone of this {SERVICE} account"
                ))
            }
            CallError::Api {
                meaning: Meaning::Transient,
                text,
                ..
            } => ProviderError::new(ProviderErrorKind::Transient, text),
            CallError::Api { text, .. } => ProviderError::new(ProviderErrorKind::Rejected, text),
        }
    }
}

/// Why a write of a record set failed.
pub(super) enum SetError {
    /// The set id is unknown (deleted by someone else): read again.
    Gone,
    /// A set of this name and type exists already (or conflicts): read again, else this error.
    Exists(ProviderError),
    /// Anything else.
    Failed(ProviderError),
}

impl From<CallError> for SetError {
    fn from(e: CallError) -> SetError {
        match e {
            CallError::Api {
                meaning: Meaning::Gone,
                ..
            } => SetError::Gone,
            CallError::Api {
                meaning: Meaning::Exists,
                text,
                ..
            } => SetError::Exists(ProviderError::new(ProviderErrorKind::Rejected, text)),
            e => SetError::Failed(e.into()),
        }
    }
}

impl From<ProviderError> for SetError {
    fn from(e: ProviderError) -> SetError {
        SetError::Failed(e)
    }
}

impl HuaweiCloud {
    /// The reply of `op`: its JSON on 2xx, else the error its body (or status) names.
    pub(super) fn interpret(
        &self,
        op: &str,
        resp: &http::HttpResponse,
    ) -> Result<Value, CallError> {
        if (200..300).contains(&resp.status) {
            if resp.body.is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&resp.body).map_err(|e| {
                CallError::Provider(ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("{op}: the reply is not valid json ({e})"),
                ))
            });
        }
        // Two envelopes: the gateway's `error_code`/`error_msg` and the service's
        // `code`/`message` (the SDK reads both).
        let envelope = serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|v| {
                let text = |a: &str, b: &str| {
                    v.get(a)
                        .or_else(|| v.get(b))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                };
                Some((
                    text("error_code", "code")?,
                    text("error_msg", "message").unwrap_or_default(),
                ))
            });
        let Some((code, message)) = envelope else {
            let e = match resp.status {
                429 => ProviderError::new(
                    ProviderErrorKind::RateLimited {
                        retry_after: resp.retry_after,
                    },
                    format!("{op}: rate limited (http 429)"),
                ),
                s if s >= 500 => ProviderError::new(
                    ProviderErrorKind::Transient,
                    format!("{op}: server error (http {s})"),
                ),
                s => ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("{op}: unexpected http status {s}"),
                ),
            };
            return Err(CallError::Provider(e));
        };
        tracing::debug!(provider = %self.name, op, code, status = resp.status, "api error");
        let text = format!("{op} failed: {code}: {message:?}");
        let e = match meaning(&code, &message) {
            Meaning::Auth => ProviderError::new(ProviderErrorKind::Auth, text).with_hint(AUTH_HINT),
            Meaning::Forbidden => {
                ProviderError::new(ProviderErrorKind::Forbidden, text).with_hint(FORBIDDEN_HINT)
            }
            Meaning::ClockSkew => {
                let mut e = ProviderError::new(
                    ProviderErrorKind::ClockSkew {
                        offset_secs: resp
                            .date
                            .map(|d| http::clock_offset_secs(d, self.clock.now()))
                            .unwrap_or(0),
                    },
                    format!("{op}: the provider rejected the request time as expired ({code})"),
                );
                if resp.date.is_none() {
                    e = e.with_hint(
                        "this machine's clock differs from the provider's by more than 15 minutes; enable NTP",
                    );
                }
                e
            }
            Meaning::RateLimited => ProviderError::new(
                ProviderErrorKind::RateLimited {
                    retry_after: resp.retry_after,
                },
                text,
            ),
            meaning
            @ (Meaning::Gone | Meaning::Exists | Meaning::Rejected | Meaning::Transient) => {
                if meaning == Meaning::Transient && resp.status != 404 {
                    ProviderError::new(ProviderErrorKind::Transient, text)
                } else {
                    return Err(CallError::Api {
                        meaning,
                        status: resp.status,
                        text,
                    });
                }
            }
        };
        Err(CallError::Provider(e))
    }
}
