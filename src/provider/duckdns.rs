//! `kind = "duckdns"`: DuckDNS's update URL (`GET /update?domains=NAME&token=TOKEN&ip=…` or
//! `&ipv6=…`), one account token for every name of the account.
//!
//! Owns the request (which parameter carries which family, `verbose=true` so the answer echoes
//! the addresses it now holds), the meaning of its plain-text answers in one table
//! ([`judge`]), and telling the two causes of a bare `KO` apart. Reference:
//! `shared/providers/dynv6-duckdns-desec.md` §2 and duckdns.org/spec.jsp.
//!
//! DuckDNS names are `NAME.duckdns.org`, each with at most one IPv4 and one IPv6 address; there
//! is no read call and no record id. [`Provider::read_rrset`] therefore reads nothing: it
//! reports the addresses DuckDNS last acknowledged, kept in the hints (see
//! `docs/design/providers.md`, "write-only kinds").
//!
//! `KO` is DuckDNS's one failure answer: a wrong token, a name that is not the account's and a
//! bad address all get it. ddnsd always sends a valid address, so a `KO` means "wrong token"
//! or "not your name". Once any update with this token was answered `OK` (in this process or in
//! the same batch) the token is known good and a `KO` is charged to the name alone (Rejected);
//! before that it is reported as a credentials error naming both causes (Auth).

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kit::api;
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints, Scope, Write,
};
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{Backoff, HttpClient, HttpError, HttpResponse, Method, Request};
use crate::record::{AddrSet, Family, Fqdn, RecordKey, RrSet, Ttl};
use crate::secret::Secret;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "duckdns",
    about:
        "DuckDNS (account token; names are NAME.duckdns.org, one address per family, no read API)",
    example: r#"[providers.duck]
kind = "duckdns"
token_env = "DUCKDNS_TOKEN"   # or token / token_file: the account token shown on duckdns.org
# zone = "duckdns.org"        # the domain the names are under (a DuckDNS-compatible server's own)
# endpoint = "https://www.duckdns.org"
"#,
    configure,
};

/// The default update host.
pub const DEFAULT_ENDPOINT: &str = "https://www.duckdns.org";
/// The domain every DuckDNS name is under.
pub const DEFAULT_ZONE: &str = "duckdns.org";

const HINT_DOMAIN: &str = "domain";
const HINT_PUBLISHED: &str = "published";
const HINT_TTL: &str = "ttl";
const RELOAD: &str = "ddnsd retries after the config is reloaded";

/// Settings of a DuckDNS provider.
#[derive(Clone, Debug)]
pub struct DuckdnsSettings {
    /// The account token.
    pub token: Secret<String>,
    /// The domain the names are under (`duckdns.org`).
    pub zone: Fqdn,
    /// Base URL; updates go to `{endpoint}/update`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "duckdns"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    token: Option<Text>,
    token_file: Option<Text>,
    token_env: Option<Text>,
    zone: Option<Text>,
    endpoint: Option<Text>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let token = f.secret(SecretFields {
        name: "token",
        inline: &r.token,
        file: &r.token_file,
        env: &r.token_env,
    });
    let zone = match fields::zone(f, &r.zone)? {
        Some(z) => Some(z),
        None => Fqdn::parse_relaxed(DEFAULT_ZONE).ok(),
    };
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(DuckdnsSettings {
        token: token?,
        zone: zone?,
        endpoint: endpoint?,
    }))
}

impl Configured for DuckdnsSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Duckdns::new(name.to_owned(), self.clone(), deps))
    }
}

/// A DuckDNS provider.
pub struct Duckdns {
    name: String,
    settings: DuckdnsSettings,
    /// `host[:port]` of the endpoint, for messages.
    service: String,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    /// Some update with this token was answered `OK`: a `KO` is about the name.
    token_ok: AtomicBool,
}

/// What one update came to before a `KO` is classified.
enum Sent {
    Done(ProviderHints),
    /// `KO`, for this sub-name.
    Ko(String),
    Failed(ProviderError),
}

impl Duckdns {
    /// A provider named `name`.
    pub fn new(name: String, settings: DuckdnsSettings, deps: &ProviderDeps) -> Duckdns {
        let service = reqwest::Url::parse(&settings.endpoint)
            .ok()
            .and_then(|u| {
                let host = u.host_str()?.to_owned();
                Some(match u.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host,
                })
            })
            .unwrap_or_else(|| "DuckDNS".to_owned());
        Duckdns {
            name,
            settings,
            service,
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            token_ok: AtomicBool::new(false),
        }
    }

    /// The DuckDNS sub-name of `name` (`home` for `home.duckdns.org`).
    fn sub_name(&self, name: &Fqdn) -> Result<String, ProviderError> {
        let zone = &self.settings.zone;
        match name.relative_to(zone).as_deref() {
            None => Err(ProviderError::new(
                ProviderErrorKind::Rejected,
                format!("{name} is not a DuckDNS name (NAME.{zone})"),
            )
            .with_hint(format!(
                "publish a name ending in .{zone} through this provider"
            ))),
            Some("@") => Err(ProviderError::new(
                ProviderErrorKind::Rejected,
                format!("{name} is DuckDNS's own domain, not a name of the account"),
            )
            .with_hint(format!("use one of the account's names, e.g. home.{zone}"))),
            Some(sub) if sub.contains('.') => {
                let base = sub.rsplit('.').next().unwrap_or(sub);
                Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    format!("DuckDNS updates only NAME.{zone}; {name} follows {base}.{zone}"),
                )
                .with_hint(format!("publish {base}.{zone} instead")))
            }
            Some(sub) => Ok(sub.to_owned()),
        }
    }

    /// Sends one update; a `KO` is returned unclassified.
    async fn send(&self, desired: &RrSet) -> Sent {
        let key = desired.key();
        let sub = match self.sub_name(&desired.name) {
            Ok(s) => s,
            Err(e) => return Sent::Failed(e),
        };
        let addr = match desired.addrs.iter().collect::<Vec<_>>().as_slice() {
            [one] => **one,
            [] => {
                return Sent::Failed(
                    ProviderError::new(
                        ProviderErrorKind::Rejected,
                        format!(
                            "DuckDNS cannot remove only the {} of {}",
                            desired.rtype, desired.name
                        ),
                    )
                    .with_hint("clear the address on duckdns.org, or keep a source feeding it"),
                )
            }
            many => {
                return Sent::Failed(
                    ProviderError::new(
                        ProviderErrorKind::Rejected,
                        format!(
                            "{key} has {} addresses ({}) but DuckDNS holds one per family",
                            many.len(),
                            desired.addrs
                        ),
                    )
                    .with_hint("narrow the record's sources to one address of each family"),
                )
            }
        };
        let url = update_url(
            &self.settings.endpoint,
            &sub,
            self.settings.token.expose(),
            addr,
        );
        let action = format!("update at {}", self.service);
        let ctx = Context {
            service: &self.service,
            sub: &sub,
            sent: addr,
            token: self.settings.token.expose(),
        };
        tracing::debug!(provider = %self.name, record = %key, domain = %sub, "sending duckdns update");
        let result = api::with_retries(
            &self.backoff,
            &self.name,
            &action,
            |f: &Failure| match f {
                Failure::Error {
                    error,
                    retry_in_call: true,
                } => Some(error),
                _ => None,
            },
            || async {
                let resp = self
                    .http
                    .send(Request {
                        method: Method::Get,
                        url: &url,
                        headers: &[],
                        body: Vec::new(),
                        timeout: self.timeout,
                    })
                    .await
                    .map_err(|e| transport_failure(&action, &e, &self.settings.endpoint))?;
                tracing::debug!(provider = %self.name, status = resp.status, "duckdns reply");
                judge(&resp, &ctx)
            },
        )
        .await;
        match result {
            Ok(ack) => {
                self.token_ok.store(true, Ordering::Relaxed);
                tracing::debug!(provider = %self.name, record = %key, answer = ack.as_str(), "acknowledged");
                Sent::Done(acknowledged_hints(&sub, desired))
            }
            Err(Failure::Ko) => Sent::Ko(sub),
            Err(Failure::Error { error, .. }) => Sent::Failed(error),
        }
    }

    /// The error for a `KO` about `sub`, given whether the token is known to work.
    fn ko_error(&self, sub: &str, token_ok: bool) -> ProviderError {
        let zone = &self.settings.zone;
        let provider = &self.name;
        if token_ok {
            ProviderError::new(
                ProviderErrorKind::Rejected,
                format!("{} refused the update of {sub}.{zone} (KO): the token works for other names, so {sub} is not a domain of this account", self.service),
            )
            .with_hint(format!("add {sub} on duckdns.org, or correct the record name"))
        } else {
            ProviderError::new(
                ProviderErrorKind::Auth,
                format!("{} refused the update of {sub}.{zone} (KO): the token is wrong, or {sub} is not a domain of this account", self.service),
            )
            .with_hint(format!("check token in [providers.{provider}] (the account token shown on duckdns.org) and that {sub} is one of its domains; {RELOAD}"))
        }
    }
}

/// A failed attempt: a bare `KO`, or anything else (with whether another attempt may help).
#[derive(Clone, Debug)]
pub enum Failure {
    /// `KO`: classified by the caller (see the module header).
    Ko,
    /// Anything else.
    Error {
        /// The error.
        error: ProviderError,
        /// True for 5xx, 408, 429 and a broken connection.
        retry_in_call: bool,
    },
}

/// What [`judge`] needs to know of the request.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// `host[:port]` of the service, for messages.
    pub service: &'a str,
    /// The sub-name sent in `domains`.
    pub sub: &'a str,
    /// The address sent.
    pub sent: IpAddr,
    /// The token, so that an answer echoing it is never shown.
    pub token: &'a str,
}

/// A successful answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ack {
    /// `UPDATED`.
    Updated,
    /// `NOCHANGE`.
    Unchanged,
}

impl Ack {
    fn as_str(self) -> &'static str {
        match self {
            Ack::Updated => "UPDATED",
            Ack::Unchanged => "NOCHANGE",
        }
    }
}

/// The ONE table of what a reply means. DuckDNS answers HTTP 200 with `OK` or `KO`; with
/// `verbose=true` an `OK` is followed by the IPv4 and IPv6 addresses the name now holds and
/// `UPDATED` or `NOCHANGE`. An `OK` that does not echo the address sent, or any other body, is
/// not trusted (Protocol). 429 (a proxy's throttling; DuckDNS documents none) honours
/// `Retry-After`; 408 and 5xx are retried; any other status is a protocol error.
pub fn judge(resp: &HttpResponse, ctx: &Context<'_>) -> Result<Ack, Failure> {
    let service = ctx.service;
    let s = resp.status;
    let fail = |kind: ProviderErrorKind, message: String, hint: Option<&str>, retry: bool| {
        let mut error = ProviderError::new(kind, message);
        error.hint = hint.map(str::to_owned);
        Err(Failure::Error {
            error,
            retry_in_call: retry,
        })
    };
    match s {
        200 => {}
        429 => {
            return fail(
                ProviderErrorKind::RateLimited {
                    retry_after: resp.retry_after,
                },
                format!("{service} is rate limiting updates (http 429)"),
                None,
                true,
            )
        }
        408 | 500..=599 => {
            return fail(
                ProviderErrorKind::Transient,
                format!("{service} failed (http {s})"),
                None,
                true,
            )
        }
        _ => {
            return fail(
                ProviderErrorKind::Protocol,
                format!("{service} answered with http status {s}"),
                Some("endpoint must be DuckDNS's base URL (https://www.duckdns.org)"),
                false,
            )
        }
    }
    let body = String::from_utf8_lossy(&resp.body);
    let lines: Vec<&str> = body.lines().map(str::trim).collect();
    let not_an_answer = |what: String| {
        fail(
            ProviderErrorKind::Protocol,
            format!("{service} answered {what}, which is not a DuckDNS answer"),
            Some("endpoint must be DuckDNS's base URL (https://www.duckdns.org)"),
            false,
        )
    };
    let first = lines.first().copied().unwrap_or("");
    if first == "KO" {
        return Err(Failure::Ko);
    }
    if first != "OK" {
        let what = if body.contains(ctx.token) {
            "a line holding the token (not shown)".to_owned()
        } else if first.is_empty() {
            "nothing".to_owned()
        } else {
            format!("{:?}", first.chars().take(60).collect::<String>())
        };
        return not_an_answer(what);
    }
    // verbose: OK, IPv4 (may be blank), IPv6 (may be blank), UPDATED | NOCHANGE.
    let (Some(v4), Some(v6), Some(status)) = (lines.get(1), lines.get(2), lines.get(3)) else {
        return not_an_answer("an OK without the verbose lines".to_owned());
    };
    let ack = match *status {
        "UPDATED" => Ack::Updated,
        "NOCHANGE" => Ack::Unchanged,
        other => return not_an_answer(format!("an OK ending in {:?}", other)),
    };
    let echoed = match ctx.sent {
        IpAddr::V4(_) => v4,
        IpAddr::V6(_) => v6,
    };
    if echoed.parse::<IpAddr>().ok() != Some(ctx.sent) {
        return fail(
            ProviderErrorKind::Protocol,
            format!(
                "{service} answered OK but {} now holds {:?}, not the address sent ({})",
                ctx.sub, echoed, ctx.sent
            ),
            None,
            false,
        );
    }
    Ok(ack)
}

/// `{endpoint}/update?domains=SUB&token=TOKEN&ip=V4` (or `&ipv6=V6`) `&verbose=true`: IPv4
/// goes in `ip`, IPv6 in `ipv6` (then DuckDNS does not guess the IPv4 address either). Pure.
pub fn update_url(endpoint: &str, sub: &str, token: &str, addr: IpAddr) -> String {
    let param = match addr {
        IpAddr::V4(_) => "ip",
        IpAddr::V6(_) => "ipv6",
    };
    format!(
        "{endpoint}/update?domains={}&token={}&{param}={}&verbose=true",
        encode(sub),
        encode(token),
        encode(&addr.to_string())
    )
}

/// Percent-encodes a query value (RFC 3986 unreserved characters and `:` kept).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A transport failure, with every URL (they hold the token) cut to the endpoint.
fn transport_failure(action: &str, e: &HttpError, endpoint: &str) -> Failure {
    let mut error = api::http_error(action, e, true);
    error.message = cut_urls(&error.message, endpoint);
    Failure::Error {
        retry_in_call: error.kind == ProviderErrorKind::Transient,
        error,
    }
}

/// `text` with every URL under `endpoint` cut to `{endpoint}/…` (up to the next space, `)` or
/// `"`, where error messages end a quoted URL).
fn cut_urls(text: &str, endpoint: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(endpoint) {
        out.push_str(&rest[..i]);
        out.push_str(endpoint);
        out.push_str("/…");
        let after = &rest[i..];
        let end = after.find([' ', ')', '"']).unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

impl Provider for Duckdns {
    fn name(&self) -> &str {
        &self.name
    }

    /// DuckDNS has no read call: verify and read-back are skipped.
    fn reads_live(&self) -> bool {
        false
    }

    fn read_rrset<'a>(
        &'a self,
        key: &'a RecordKey,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        Box::pin(async move {
            let sub = self.sub_name(&key.name).ok();
            Ok(acknowledged(hints, sub.as_deref(), key))
        })
    }

    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        _hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        Box::pin(async move {
            match self.send(desired).await {
                Sent::Done(h) => Ok(h),
                Sent::Ko(sub) => Err(self.ko_error(&sub, self.token_ok.load(Ordering::Relaxed))),
                Sent::Failed(e) => Err(e),
            }
        })
    }

    /// Every write is sent before any `KO` is classified: an `OK` for another name of the
    /// batch shows the token works, so a `KO` is that name's alone.
    fn apply_batch<'a>(
        &'a self,
        writes: &'a [Write],
    ) -> BoxFuture<'a, Vec<Result<ProviderHints, ProviderError>>> {
        Box::pin(async move {
            let mut sent = Vec::with_capacity(writes.len());
            for w in writes {
                let s = self.send(&w.desired).await;
                let stop = matches!(&s, Sent::Failed(e) if e.scope() == Scope::Provider);
                sent.push(s);
                if stop {
                    break;
                }
            }
            let token_ok = self.token_ok.load(Ordering::Relaxed);
            sent.into_iter()
                .map(|s| match s {
                    Sent::Done(h) => Ok(h),
                    Sent::Ko(sub) => Err(self.ko_error(&sub, token_ok)),
                    Sent::Failed(e) => Err(e),
                })
                .collect()
        })
    }
}

/// The remembered acknowledgement of `key`, if the hints hold one for the same sub-name.
fn acknowledged(hints: &ProviderHints, sub: Option<&str>, key: &RecordKey) -> LiveRrSet {
    let parsed = (|| {
        if hints.0.get(HINT_DOMAIN).map(String::as_str) != sub {
            return None;
        }
        let ttl: u32 = hints.0.get(HINT_TTL)?.parse().ok()?;
        let addrs: AddrSet = hints
            .0
            .get(HINT_PUBLISHED)?
            .split(',')
            .map(|a| a.parse().ok())
            .collect::<Option<AddrSet>>()?;
        let same_family = addrs.iter().all(|a| Family::of(a) == key.rtype.family());
        same_family.then_some((addrs, ttl))
    })();
    match parsed {
        Some((addrs, ttl)) => LiveRrSet {
            addrs,
            ttl: Some(Ttl(ttl)),
            hints: hints.clone(),
        },
        None => LiveRrSet {
            addrs: AddrSet::new(),
            ttl: None,
            hints: ProviderHints::default(),
        },
    }
}

fn acknowledged_hints(sub: &str, desired: &RrSet) -> ProviderHints {
    let mut h = ProviderHints::default();
    h.0.insert(HINT_DOMAIN.into(), sub.to_owned());
    h.0.insert(HINT_PUBLISHED.into(), desired.addrs.to_string());
    h.0.insert(HINT_TTL.into(), desired.ttl.0.to_string());
    h
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn reply(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            date: None,
            retry_after: Some(Duration::from_secs(3)),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn ctx(sent: &str) -> Context<'static> {
        Context {
            service: "www.duckdns.org",
            sub: "home",
            sent: sent.parse().unwrap(),
            token: "tok-secret",
        }
    }

    fn error_of(r: Result<Ack, Failure>) -> (ProviderErrorKind, String, Option<String>, bool) {
        match r {
            Err(Failure::Error {
                error,
                retry_in_call,
            }) => (error.kind, error.message, error.hint, retry_in_call),
            other => panic!("{other:?}"),
        }
    }

    /// Every answer's meaning.
    #[test]
    fn judges_every_answer() {
        use ProviderErrorKind as K;
        let v6 = ctx("2001:db8::1");
        let v4 = ctx("192.0.2.1");
        assert_eq!(
            judge(&reply(200, "OK\n\n2001:db8::1\nUPDATED"), &v6).unwrap(),
            Ack::Updated
        );
        assert_eq!(
            judge(
                &reply(200, "OK\r\n192.0.2.1\r\n2001:db8::9\r\nNOCHANGE\r\n"),
                &v4
            )
            .unwrap(),
            Ack::Unchanged
        );
        // DuckDNS may print the address in capitals.
        assert_eq!(
            judge(&reply(200, "OK\n\n2001:DB8::1\nUPDATED"), &v6).unwrap(),
            Ack::Updated
        );
        assert!(matches!(judge(&reply(200, "KO"), &v6), Err(Failure::Ko)));
        assert!(matches!(judge(&reply(200, "KO\n"), &v4), Err(Failure::Ko)));
        let hint = Some("endpoint must be DuckDNS's base URL (https://www.duckdns.org)".to_owned());
        let cases = [
            (reply(200, "OK"), &v6, K::Protocol, "www.duckdns.org answered an OK without the verbose lines, which is not a DuckDNS answer", hint.clone(), false),
            (reply(200, "OK\n\n2001:db8::1\nMAYBE"), &v6, K::Protocol, "www.duckdns.org answered an OK ending in \"MAYBE\", which is not a DuckDNS answer", hint.clone(), false),
            (reply(200, "OK\n198.51.100.1\n\nUPDATED"), &v6, K::Protocol, "www.duckdns.org answered OK but home now holds \"\", not the address sent (2001:db8::1)", None, false),
            (reply(200, "<html><body>maintenance</body></html>"), &v6, K::Protocol, "www.duckdns.org answered \"<html><body>maintenance</body></html>\", which is not a DuckDNS answer", hint.clone(), false),
            (reply(200, ""), &v6, K::Protocol, "www.duckdns.org answered nothing, which is not a DuckDNS answer", hint.clone(), false),
            (reply(200, "echo tok-secret"), &v6, K::Protocol, "www.duckdns.org answered a line holding the token (not shown), which is not a DuckDNS answer", hint.clone(), false),
            (reply(429, ""), &v6, K::RateLimited { retry_after: Some(Duration::from_secs(3)) }, "www.duckdns.org is rate limiting updates (http 429)", None, true),
            (reply(502, "<html>"), &v6, K::Transient, "www.duckdns.org failed (http 502)", None, true),
            (reply(404, ""), &v6, K::Protocol, "www.duckdns.org answered with http status 404", hint.clone(), false),
        ];
        for (resp, c, kind, message, hint, retry) in cases {
            let got = error_of(judge(&resp, c));
            assert_eq!(got, (kind, message.to_owned(), hint, retry), "{resp:?}");
        }
    }

    #[test]
    fn update_urls_put_each_family_in_its_parameter() {
        assert_eq!(
            update_url(
                "https://www.duckdns.org",
                "home",
                "a7c4-d0",
                "192.0.2.1".parse().unwrap()
            ),
            "https://www.duckdns.org/update?domains=home&token=a7c4-d0&ip=192.0.2.1&verbose=true"
        );
        assert_eq!(
            update_url(
                "http://127.0.0.1:9",
                "my-home",
                "t&x",
                "2001:db8::1".parse().unwrap()
            ),
            "http://127.0.0.1:9/update?domains=my-home&token=t%26x&ipv6=2001:db8::1&verbose=true"
        );
    }

    fn build(text: &str) -> Result<DuckdnsSettings, String> {
        let env = |v: &str| (v == "DUCKDNS_TOKEN").then(|| "tok-from-env".to_owned());
        let full = format!(
            "{text}\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"home.duckdns.org\"\nprovider = \"p\"\nsources = [\"s\"]\n"
        );
        match crate::config::from_text(&full, Path::new("t.toml"), &env) {
            Ok(c) => Ok(c.providers["p"].get::<DuckdnsSettings>().unwrap().clone()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn the_example_block_builds() {
        let s = build(&KIND.example.replace("[providers.duck]", "[providers.p]")).unwrap();
        assert_eq!(s.token.expose(), "tok-from-env");
        assert_eq!(s.zone.as_str(), "duckdns.org");
        assert_eq!(s.endpoint, "https://www.duckdns.org");
        let e = build("[providers.p]\nkind = \"duckdns\"\n").unwrap_err();
        assert!(e.contains("token is missing"), "{e}");
        let e = build("[providers.p]\nkind = \"duckdns\"\ntoken = \"x\"\nendpoint = \"ftp://x\"\n")
            .unwrap_err();
        assert!(
            e.contains("t.toml:4:12: endpoint \"ftp://x\" is not an http(s) URL"),
            "{e}"
        );
    }

    fn provider() -> Duckdns {
        let settings = DuckdnsSettings {
            token: Secret::new("t".into()),
            zone: Fqdn::parse_relaxed(DEFAULT_ZONE).unwrap(),
            endpoint: DEFAULT_ENDPOINT.into(),
        };
        Duckdns::new(
            "duck".into(),
            settings,
            &ProviderDeps::new(Arc::new(crate::clock::SystemClock)),
        )
    }

    #[test]
    fn names_must_be_one_label_under_the_zone() {
        let p = provider();
        let n = |s: &str| Fqdn::parse_relaxed(s).unwrap();
        assert_eq!(p.sub_name(&n("home.duckdns.org")).unwrap(), "home");
        for (name, message, hint) in [
            ("home.example.com", "home.example.com is not a DuckDNS name (NAME.duckdns.org)", "publish a name ending in .duckdns.org through this provider"),
            ("duckdns.org", "duckdns.org is DuckDNS's own domain, not a name of the account", "use one of the account's names, e.g. home.duckdns.org"),
            ("www.home.duckdns.org", "DuckDNS updates only NAME.duckdns.org; www.home.duckdns.org follows home.duckdns.org", "publish home.duckdns.org instead"),
        ] {
            let e = p.sub_name(&n(name)).unwrap_err();
            assert_eq!((e.kind, e.message.as_str(), e.hint.as_deref()), (ProviderErrorKind::Rejected, message, Some(hint)));
        }
    }

    #[test]
    fn a_ko_is_the_token_until_the_token_has_worked() {
        let p = provider();
        let e = p.ko_error("home", false);
        assert_eq!(e.kind, ProviderErrorKind::Auth);
        assert_eq!(e.message, "www.duckdns.org refused the update of home.duckdns.org (KO): the token is wrong, or home is not a domain of this account");
        assert_eq!(e.hint.as_deref(), Some("check token in [providers.duck] (the account token shown on duckdns.org) and that home is one of its domains; ddnsd retries after the config is reloaded"));
        let e = p.ko_error("home", true);
        assert_eq!(e.kind, ProviderErrorKind::Rejected);
        assert_eq!(e.message, "www.duckdns.org refused the update of home.duckdns.org (KO): the token works for other names, so home is not a domain of this account");
        assert_eq!(
            e.hint.as_deref(),
            Some("add home on duckdns.org, or correct the record name")
        );
    }

    #[test]
    fn acknowledged_hints_round_trip_and_stay_with_their_name() {
        let rr = RrSet {
            name: "home.duckdns.org".parse().unwrap(),
            rtype: crate::record::RecordType::Aaaa,
            ttl: Ttl(60),
            addrs: ["2001:db8::1".parse::<IpAddr>().unwrap()]
                .into_iter()
                .collect(),
        };
        let h = acknowledged_hints("home", &rr);
        let live = acknowledged(&h, Some("home"), &rr.key());
        assert_eq!((live.addrs, live.ttl), (rr.addrs.clone(), Some(Ttl(60))));
        assert!(acknowledged(&h, Some("other"), &rr.key()).addrs.is_empty());
        let a = RecordKey {
            name: rr.name.clone(),
            rtype: crate::record::RecordType::A,
        };
        assert!(acknowledged(&h, Some("home"), &a).addrs.is_empty());
    }

    #[test]
    fn transport_errors_never_show_the_token() {
        let e = HttpError::Connect("error sending request for url (http://127.0.0.1:9/update?domains=h&token=SECRET&ip=1.2.3.4)".into());
        let Failure::Error { error, .. } =
            transport_failure("update at 127.0.0.1:9", &e, "http://127.0.0.1:9")
        else {
            panic!()
        };
        assert!(!error.message.contains("SECRET"), "{}", error.message);
        assert!(
            error.message.contains("http://127.0.0.1:9/…"),
            "{}",
            error.message
        );
    }
}
