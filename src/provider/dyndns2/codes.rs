//! What a dyndns2 reply means: the ONE answer table ([`judge`]: the answer code first, then
//! the HTTP status), the check that an echoed address is the one sent, and the wording of
//! every failure. Pure: no I/O, no clock.

use std::net::{IpAddr, Ipv4Addr};

use super::wire::{parse_answer, Answer, Code};
use super::{Dialect, OUTAGE_PAUSE};
use crate::http::HttpResponse;
use crate::provider::{human_duration, ProviderError, ProviderErrorKind};
use crate::record::{AddrSet, Family};

/// The second half of every hint of an answer that stops the provider.
const RELOAD: &str =
    "nothing more is sent to this service until the config is reloaded (`systemctl reload ddnsd`)";

/// A successful answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ack {
    /// `good`.
    Updated,
    /// `nochg`.
    Unchanged,
}

impl Ack {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Ack::Updated => "good",
            Ack::Unchanged => "nochg",
        }
    }
}

/// A failed update and whether it is worth another attempt within the same call.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The error.
    pub error: ProviderError,
    /// True for HTTP-level hiccups (5xx, a short 429, a broken connection); false for answers
    /// the protocol says to back off from (`dnserr`, `911`) and every permanent one.
    pub retry_in_call: bool,
}

/// What [`judge`] needs to know of the request.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// `host[:port]` of the service, for messages.
    pub service: &'a str,
    /// The provider's config name, for hints.
    pub provider: &'a str,
    /// The name sent in `hostname`.
    pub hostname: &'a str,
    /// The family updated.
    pub family: Family,
    /// The addresses sent.
    pub sent: &'a AddrSet,
    /// Where they were sent.
    pub dialect: &'a Dialect,
    /// The password, so that an answer echoing it is never shown.
    pub password: &'a str,
}

/// The ONE table of what a reply means: the answer code first (services answer `badauth`
/// with 200 or 401 alike), then the HTTP status for services that answer with statuses only
/// (deSEC). Only answers the protocol says need user action stop the provider (Auth) or the
/// record (Rejected/Forbidden); everything unknown is a protocol error.
pub fn judge(resp: &HttpResponse, ctx: &Context<'_>) -> Result<Ack, Failure> {
    let service = ctx.service;
    let provider = ctx.provider;
    let hostname = ctx.hostname;
    let body = String::from_utf8_lossy(&resp.body);
    let answer = parse_answer(&body);
    let fail = |kind: ProviderErrorKind, message: String, hint: Option<String>| {
        let mut error = ProviderError::new(kind, message);
        error.hint = hint;
        Err(Failure {
            error,
            retry_in_call: false,
        })
    };
    let reload = RELOAD;
    let ok = (200..300).contains(&resp.status);
    match answer {
        Answer::Good(echo) if ok => check_echo(Ack::Updated, &echo, ctx),
        Answer::NoChange(echo) if ok => check_echo(Ack::Unchanged, &echo, ctx),
        Answer::Code(code) => {
            let c = code.as_str();
            match code {
                Code::BadAuth => fail(
                    ProviderErrorKind::Auth,
                    format!("{service} rejected the username or password ({c})"),
                    Some(format!("check username and password of [providers.{provider}]; {reload}")),
                ),
                Code::Abuse => fail(
                    ProviderErrorKind::Auth,
                    format!("{service} blocked updates of {hostname} for abuse ({c})"),
                    Some(format!("log in to the service's website to lift the block; {reload}")),
                ),
                Code::BadAgent => fail(
                    ProviderErrorKind::Auth,
                    format!("{service} refused this client ({c})"),
                    Some(format!("the service blocks ddnsd's requests; please report it to ddnsd; {reload}")),
                ),
                Code::NotDonator => fail(
                    ProviderErrorKind::Forbidden,
                    format!("{service} refused the update of {hostname}: it needs a paid feature ({c})"),
                    Some("the account's plan does not allow this update (e.g. this host or IPv6); upgrade it or remove the record".into()),
                ),
                Code::NotFqdn => fail(
                    ProviderErrorKind::Rejected,
                    format!("{service} says {hostname} is not a fully qualified host name ({c})"),
                    Some(format!("set hostname in [providers.{provider}] to the full name the service knows, e.g. \"home.example.com\"")),
                ),
                Code::NoHost => fail(
                    ProviderErrorKind::Rejected,
                    format!("{service} has no host {hostname} in this account ({c})"),
                    Some(format!("create the host at the service, or set hostname in [providers.{provider}] to the name it has there")),
                ),
                Code::NumHost => fail(
                    ProviderErrorKind::Rejected,
                    format!("{service} refused {hostname} as too many hosts or addresses ({c})"),
                    Some(format!("publish one address per family to this service (multiple_addresses = false in [providers.{provider}])")),
                ),
                Code::BadSys => fail(
                    ProviderErrorKind::Rejected,
                    format!("{service} rejected the request's system parameter ({c})"),
                    Some(format!("server in [providers.{provider}] must be the service's update URL without extra parameters")),
                ),
                Code::DnsErr => fail(
                    ProviderErrorKind::Transient,
                    format!("{service} had a dns error on its side ({c})"),
                    None,
                ),
                Code::Outage => {
                    let wait = resp.retry_after.unwrap_or_default().max(OUTAGE_PAUSE);
                    fail(
                        ProviderErrorKind::RateLimited {
                            retry_after: Some(wait),
                        },
                        format!("{service} reported an outage or maintenance ({c})"),
                        Some(format!(
                            "ddnsd waits {} before sending to this service again, as the protocol asks",
                            human_duration(wait.as_secs())
                        )),
                    )
                }
            }
        }
        // No dyndns2 answer: the HTTP status is all there is (deSEC answers errors so).
        _ => {
            let s = resp.status;
            match s {
                401 => fail(
                    ProviderErrorKind::Auth,
                    format!("{service} rejected the username or password (http 401)"),
                    Some(format!("check username and password of [providers.{provider}]; {reload}")),
                ),
                403 => fail(
                    ProviderErrorKind::Forbidden,
                    format!("{service} refused the update of {hostname} (http 403)"),
                    Some("the credentials may not update this host; check them on the service's website".into()),
                ),
                404 => fail(
                    ProviderErrorKind::Rejected,
                    format!("{service} has no host {hostname} (http 404)"),
                    Some(format!("create the host at the service, or set hostname in [providers.{provider}] to the name it has there")),
                ),
                429 => Err(Failure {
                    error: ProviderError::new(
                        ProviderErrorKind::RateLimited {
                            retry_after: resp.retry_after,
                        },
                        format!("{service} is rate limiting updates (http 429)"),
                    ),
                    retry_in_call: true,
                }),
                500..=599 => Err(Failure {
                    error: ProviderError::new(
                        ProviderErrorKind::Transient,
                        format!("{service} failed (http {s})"),
                    ),
                    retry_in_call: true,
                }),
                400..=499 => fail(
                    ProviderErrorKind::Rejected,
                    format!("{service} rejected the update of {hostname} (http {s})"),
                    Some(format!("check server, username and hostname of [providers.{provider}]")),
                ),
                200..=299 => {
                    let line = match parse_answer(&body) {
                        Answer::Unknown(l) => l,
                        _ => String::new(),
                    };
                    fail(
                        ProviderErrorKind::Protocol,
                        format!(
                            "{service} answered {}, which is not a dyndns2 answer",
                            shown_answer(&line, ctx.password)
                        ),
                        Some(format!("server in [providers.{provider}] must be the service's dyndns2 update URL (e.g. https://…/nic/update)")),
                    )
                }
                _ => fail(
                    ProviderErrorKind::Protocol,
                    format!("{service} answered with http status {s}"),
                    Some(format!("server in [providers.{provider}] must be the service's dyndns2 update URL (e.g. https://…/nic/update)")),
                ),
            }
        }
    }
}

/// A `good`/`nochg` answer that echoes addresses must echo the ones sent: a service that
/// ignored `myip` (an IPv6 address where it reads only IPv4) set something else.
fn check_echo(ack: Ack, echo: &[IpAddr], ctx: &Context<'_>) -> Result<Ack, Failure> {
    if echo.is_empty() || ctx.sent.iter().all(|a| echo.contains(a)) {
        return Ok(ack);
    }
    let service = ctx.service;
    let provider = ctx.provider;
    let blocked = ctx.family == Family::Ipv4 && echo == [IpAddr::V4(Ipv4Addr::LOCALHOST)];
    let (kind, message, hint) = if blocked {
        // Dyn: "good 127.0.0.1" for an IPv4 address that was not 127.0.0.1 means the update
        // was ignored because the client is blocked. (After an IPv6 address it more likely
        // means the service ignored it and used the connection's address: a protocol error.)
        (
            ProviderErrorKind::Auth,
            format!("{service} ignored the update and answered \"{} 127.0.0.1\" (the service blocks this client)", ack.as_str()),
            format!("check the account on the service's website; {RELOAD}"),
        )
    } else {
        let param = match ctx.family {
            Family::Ipv4 => &ctx.dialect.ipv4_param,
            Family::Ipv6 => &ctx.dialect.ipv6_param,
        };
        let shown: Vec<String> = echo.iter().map(IpAddr::to_string).collect();
        (
            ProviderErrorKind::Protocol,
            format!(
                "{service} answered \"{} {}\", not the address sent ({})",
                ack.as_str(),
                shown.join(","),
                ctx.sent
            ),
            match ctx.family {
                Family::Ipv6 => format!("the service may not read IPv6 addresses from {param:?}; set ipv6_param in [providers.{provider}] (e.g. \"myipv6\") or use a preset"),
                Family::Ipv4 => format!("the service did not take the address from {param:?}; check ipv4_param in [providers.{provider}]"),
            },
        )
    };
    Err(Failure {
        error: ProviderError::new(kind, message).with_hint(hint),
        retry_in_call: false,
    })
}

/// An unknown answer, quoted and shortened; never one that echoes the password.
fn shown_answer(line: &str, password: &str) -> String {
    if line.is_empty() {
        return "nothing".to_owned();
    }
    if !password.is_empty() && line.contains(password) {
        return "a line holding the password (not shown)".to_owned();
    }
    let short: String = line.chars().take(60).collect();
    if short.len() < line.len() {
        format!("{short:?}…")
    } else {
        format!("{short:?}")
    }
}
