//! `kind = "namecheap"`: Namecheap's dynamic-DNS update (`GET
//! /update?host=H&domain=D&password=P&ip=V4` on `dynamicdns.park-your-domain.com`), one
//! Dynamic DNS password per domain.
//!
//! Owns the request, the XML answer (`<interface-response>` with `ErrCount`, `errors/Err1`,
//! `IP`; HTTP 200 whether it worked or not) and the meaning of its error texts in one table
//! ([`err_meaning`]). Reference: `shared/providers/registrars.md` §3.
//!
//! IPv4 only: the update sets A records and nothing else ([`Configured::families`] says so,
//! and `ddnsd check` refuses a record whose sources yield IPv6 addresses for it). There is no
//! read call: [`Provider::read_rrset`] reports the address Namecheap last acknowledged, kept in
//! the hints (see `docs/design/providers.md`, "write-only kinds").

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kit::api;
use super::route53::xml;
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints,
};
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{Backoff, HttpClient, HttpError, HttpResponse, Method, Request};
use crate::record::{AddrSet, Family, Fqdn, RecordKey, RecordType, RrSet, Ttl};
use crate::secret::Secret;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "namecheap",
    about: "Namecheap dynamic DNS (per-domain Dynamic DNS password; A records only, no read API)",
    example: r#"[providers.namecheap]
kind = "namecheap"
domain = "example.com"                     # the domain the records are in
password_env = "NAMECHEAP_DDNS_PASSWORD"   # or password / password_file: the domain's Dynamic DNS
                                           # password (Advanced DNS page), not the account password
# endpoint = "https://dynamicdns.park-your-domain.com"
"#,
    configure,
};

/// The default update host.
pub const DEFAULT_ENDPOINT: &str = "https://dynamicdns.park-your-domain.com";

const HINT_HOST: &str = "host";
const HINT_PUBLISHED: &str = "published";
const HINT_TTL: &str = "ttl";
const ADVANCED_DNS: &str = "the domain's Advanced DNS page";

/// Settings of a Namecheap provider.
#[derive(Clone, Debug)]
pub struct NamecheapSettings {
    /// The domain (the records' zone).
    pub domain: Fqdn,
    /// The domain's Dynamic DNS password.
    pub password: Secret<String>,
    /// Base URL; updates go to `{endpoint}/update`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "namecheap"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    domain: Option<Text>,
    password: Option<Text>,
    password_file: Option<Text>,
    password_env: Option<Text>,
    endpoint: Option<Text>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let password = f.secret(SecretFields {
        name: "password",
        inline: &r.password,
        file: &r.password_file,
        env: &r.password_env,
    });
    let domain = match &r.domain {
        None => {
            f.problem(
                f.span(),
                "domain is missing".into(),
                Some("give the domain the records are in, e.g. domain = \"example.com\" (Namecheap's Dynamic DNS password belongs to one domain)".into()),
            );
            None
        }
        Some(t) => match Fqdn::parse_relaxed(t.get_ref()) {
            Ok(d) => Some(d),
            Err(e) => {
                f.problem(t.span(), format!("domain: {e}"), None);
                None
            }
        },
    };
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(NamecheapSettings {
        domain: domain?,
        password: password?,
        endpoint: endpoint?,
    }))
}

impl Configured for NamecheapSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Namecheap::new(name.to_owned(), self.clone(), deps))
    }

    /// The update sets A records only.
    fn families(&self) -> &'static [Family] {
        &[Family::Ipv4]
    }
}

/// A Namecheap provider.
pub struct Namecheap {
    name: String,
    settings: NamecheapSettings,
    /// `host[:port]` of the endpoint, for messages.
    service: String,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
}

/// What an `Err1` text means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrMeaning {
    /// The Dynamic DNS password is wrong (or Dynamic DNS is off for the domain).
    Password,
    /// The domain is not at Namecheap (or not this account's).
    Domain,
    /// The host has no A record with dynamic DNS.
    Host,
    /// The address was refused.
    Address,
    /// Anything else: may pass.
    Unknown,
}

/// The ONE table of Namecheap's error texts (`errors/Err1`). The texts are matched loosely
/// (lower case, substrings): Namecheap documents none of them; these are the ones users and
/// clients quote (`registrars.md` §3). Unknown texts are transient.
pub fn err_meaning(text: &str) -> ErrMeaning {
    let t = text.to_ascii_lowercase();
    if t.contains("record not found") || t.contains("host not found") {
        ErrMeaning::Host
    } else if t.contains("password") {
        ErrMeaning::Password
    } else if t.contains("domain name not found") || t.contains("domain not found") {
        ErrMeaning::Domain
    } else if t.contains("invalid ip") {
        ErrMeaning::Address
    } else {
        ErrMeaning::Unknown
    }
}

impl Namecheap {
    /// A provider named `name`.
    pub fn new(name: String, settings: NamecheapSettings, deps: &ProviderDeps) -> Namecheap {
        let service = reqwest::Url::parse(&settings.endpoint)
            .ok()
            .and_then(|u| {
                let host = u.host_str()?.to_owned();
                Some(match u.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host,
                })
            })
            .unwrap_or_else(|| "Namecheap".to_owned());
        Namecheap {
            name,
            settings,
            service,
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
        }
    }

    /// The `host` of `name`: `@` at the apex, else the labels left of the domain.
    fn host(&self, name: &Fqdn) -> Result<String, ProviderError> {
        let domain = &self.settings.domain;
        name.relative_to(domain).ok_or_else(|| {
            ProviderError::new(
                ProviderErrorKind::Rejected,
                format!("{name} is not inside the domain {domain}"),
            )
            .with_hint("each Namecheap domain has its own Dynamic DNS password: add a [providers.NAME] with domain = the record's domain")
        })
    }

    async fn update(&self, desired: &RrSet) -> Result<ProviderHints, ProviderError> {
        let key = desired.key();
        if desired.rtype != RecordType::A {
            return Err(ProviderError::new(
                ProviderErrorKind::Rejected,
                format!("Namecheap's dynamic DNS cannot publish {key}: it updates A records only"),
            )
            .with_hint("publish AAAA records through another provider (`ddnsd check` shows which records feed it IPv6)"));
        }
        let host = self.host(&desired.name)?;
        let addr = match desired.addrs.iter().collect::<Vec<_>>().as_slice() {
            [one] => **one,
            [] => {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    format!("Namecheap's dynamic DNS cannot remove {key}"),
                )
                .with_hint(format!("remove the record on {ADVANCED_DNS}")))
            }
            many => {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    format!(
                        "{key} has {} addresses ({}) but Namecheap's dynamic DNS sets one",
                        many.len(),
                        desired.addrs
                    ),
                )
                .with_hint("narrow the record's sources to one IPv4 address"))
            }
        };
        let url = update_url(
            &self.settings.endpoint,
            &host,
            &self.settings.domain,
            self.settings.password.expose(),
            addr,
        );
        let action = format!("update at {}", self.service);
        let ctx = Context {
            service: &self.service,
            provider: &self.name,
            host: &host,
            domain: &self.settings.domain,
            sent: addr,
            password: self.settings.password.expose(),
        };
        tracing::debug!(provider = %self.name, record = %key, host, "sending namecheap update");
        api::with_retries(
            &self.backoff,
            &self.name,
            &action,
            |f: &Failure| f.retry_in_call.then_some(&f.error),
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
                tracing::debug!(provider = %self.name, status = resp.status, "namecheap reply");
                judge(&resp, &ctx)
            },
        )
        .await
        .map_err(|f| f.error)?;
        let mut h = ProviderHints::default();
        h.0.insert(HINT_HOST.into(), host);
        h.0.insert(HINT_PUBLISHED.into(), desired.addrs.to_string());
        h.0.insert(HINT_TTL.into(), desired.ttl.0.to_string());
        Ok(h)
    }
}

/// A failed call and whether another attempt within the call may help.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The error.
    pub error: ProviderError,
    /// True for 5xx, 408, 429 and a broken connection.
    pub retry_in_call: bool,
}

/// What [`judge`] needs to know of the request.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// `host[:port]` of the service.
    pub service: &'a str,
    /// The provider's config name, for hints.
    pub provider: &'a str,
    /// The `host` sent.
    pub host: &'a str,
    /// The `domain` sent.
    pub domain: &'a Fqdn,
    /// The address sent.
    pub sent: IpAddr,
    /// The password, so that an answer echoing it is never shown.
    pub password: &'a str,
}

/// What a reply means: HTTP 200 with `<interface-response>` whose `ErrCount` is 0 (and whose
/// `IP`, when given, is the address sent) is success; a count above 0 goes through
/// [`err_meaning`]; 429 honours `Retry-After`, 408/5xx are retried, anything else (another
/// status, a body that is not the XML answer) is a protocol error.
pub fn judge(resp: &HttpResponse, ctx: &Context<'_>) -> Result<(), Failure> {
    let service = ctx.service;
    let s = resp.status;
    let fail = |kind: ProviderErrorKind, message: String, hint: Option<String>, retry: bool| {
        let mut error = ProviderError::new(kind, message);
        error.hint = hint;
        Err(Failure {
            error,
            retry_in_call: retry,
        })
    };
    let endpoint_hint = || {
        Some(format!(
            "endpoint must be Namecheap's dynamic DNS host ({DEFAULT_ENDPOINT})"
        ))
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
                endpoint_hint(),
                false,
            )
        }
    }
    let body = String::from_utf8_lossy(&resp.body);
    let doc = match xml::parse(&body) {
        Ok(d) if d.name == "interface-response" => d,
        Ok(d) => {
            return fail(
                ProviderErrorKind::Protocol,
                format!("{service} answered <{}>, not <interface-response>", d.name),
                endpoint_hint(),
                false,
            )
        }
        Err(e) => {
            return fail(
                ProviderErrorKind::Protocol,
                format!("{service} answered something that is not its XML answer: {e}"),
                endpoint_hint(),
                false,
            )
        }
    };
    let count = doc.text_at(&["ErrCount"]).map(str::trim);
    let Some(count) = count.and_then(|c| c.parse::<u32>().ok()) else {
        return fail(
            ProviderErrorKind::Protocol,
            format!("{service} answered without a valid ErrCount"),
            endpoint_hint(),
            false,
        );
    };
    if count == 0 {
        return match doc.text_at(&["IP"]).map(str::trim).filter(|t| !t.is_empty()) {
            Some(ip) if ip.parse::<IpAddr>().ok() != Some(ctx.sent) => fail(
                ProviderErrorKind::Protocol,
                format!("{service} answered without errors but with IP {ip:?}, not the address sent ({})", ctx.sent),
                None,
                false,
            ),
            _ => Ok(()),
        };
    }
    let text = doc
        .text_at(&["errors", "Err1"])
        .map(str::trim)
        .unwrap_or("")
        .to_owned();
    let shown = if text.contains(ctx.password) {
        "an error holding the password (not shown)".to_owned()
    } else {
        format!("{text:?}")
    };
    let host = ctx.host;
    let domain = ctx.domain;
    let fqdn = if host == "@" {
        domain.to_string()
    } else {
        format!("{host}.{domain}")
    };
    let provider = ctx.provider;
    match err_meaning(&text) {
        ErrMeaning::Password => fail(
            ProviderErrorKind::Auth,
            format!("{service} refused the Dynamic DNS password of {domain}: {shown}"),
            Some(format!("check password in [providers.{provider}]: the Dynamic DNS password shown on {ADVANCED_DNS} (with Dynamic DNS turned on), not the account password; ddnsd retries after the config is reloaded")),
            false,
        ),
        ErrMeaning::Domain => fail(
            ProviderErrorKind::ZoneNotFound,
            format!("{service} does not know the domain {domain}: {shown}"),
            Some(format!("check domain in [providers.{provider}]: it must be a domain of the Namecheap account using Namecheap's DNS")),
            false,
        ),
        ErrMeaning::Host => fail(
            ProviderErrorKind::Rejected,
            format!("{service} has no dynamic A record for {fqdn}: {shown}"),
            Some(format!("add an A + Dynamic DNS Record for host {host:?} on {ADVANCED_DNS}")),
            false,
        ),
        ErrMeaning::Address => fail(
            ProviderErrorKind::Rejected,
            format!("{service} refused the address {} for {fqdn}: {shown}", ctx.sent),
            None,
            false,
        ),
        ErrMeaning::Unknown => fail(
            ProviderErrorKind::Transient,
            format!("{service} could not update {fqdn}: {shown}"),
            None,
            false,
        ),
    }
}

/// `{endpoint}/update?host=H&domain=D&password=P&ip=V4`. Pure.
pub fn update_url(
    endpoint: &str,
    host: &str,
    domain: &Fqdn,
    password: &str,
    addr: IpAddr,
) -> String {
    format!(
        "{endpoint}/update?host={}&domain={}&password={}&ip={}",
        encode(host),
        encode(domain.as_str()),
        encode(password),
        encode(&addr.to_string())
    )
}

/// Percent-encodes a query value (RFC 3986 unreserved characters, `@` and `*` kept: the apex
/// and wildcard hosts are written so in Namecheap's own examples).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@*".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A transport failure, with every URL (they hold the password) cut to the endpoint.
fn transport_failure(action: &str, e: &HttpError, endpoint: &str) -> Failure {
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
    Failure {
        retry_in_call: error.kind == ProviderErrorKind::Transient,
        error,
    }
}

impl Provider for Namecheap {
    fn name(&self) -> &str {
        &self.name
    }

    /// Namecheap's dynamic DNS has no read call: verify and read-back are skipped.
    fn reads_live(&self) -> bool {
        false
    }

    fn read_rrset<'a>(
        &'a self,
        key: &'a RecordKey,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        Box::pin(async move {
            let host = self.host(&key.name).ok();
            Ok(acknowledged(hints, host.as_deref(), key))
        })
    }

    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        _hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        Box::pin(self.update(desired))
    }
}

/// The remembered acknowledgement of `key`, if the hints hold one for the same host.
fn acknowledged(hints: &ProviderHints, host: Option<&str>, key: &RecordKey) -> LiveRrSet {
    let parsed = (|| {
        if hints.0.get(HINT_HOST).map(String::as_str) != host {
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const OK: &str = r#"<?xml version="1.0" encoding="utf-16"?>
<interface-response><Command>SETDNSHOST</Command><Language>eng</Language><IP>192.0.2.1</IP><ErrCount>0</ErrCount><ResponseCount>0</ResponseCount><Done>true</Done><debug><![CDATA[]]></debug></interface-response>"#;

    fn err(text: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="utf-16"?>
<interface-response><Command>SETDNSHOST</Command><Language>eng</Language><ErrCount>1</ErrCount><errors><Err1>{text}</Err1></errors><ResponseCount>1</ResponseCount><responses><response><ResponseNumber>304156</ResponseNumber><ResponseString>Validation error; invalid ; password</ResponseString></response></responses><Done>true</Done><debug><![CDATA[]]></debug></interface-response>"#
        )
    }

    fn reply(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            date: None,
            retry_after: Some(Duration::from_secs(4)),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn domain() -> Fqdn {
        Fqdn::parse_relaxed("example.com").unwrap()
    }

    /// Every answer's kind, message and hint, and which are retried within the call.
    #[test]
    fn judges_every_answer() {
        use ProviderErrorKind as K;
        let d = domain();
        let ctx = Context {
            service: "dynamicdns.park-your-domain.com",
            provider: "nc",
            host: "home",
            domain: &d,
            sent: "192.0.2.1".parse().unwrap(),
            password: "pw-secret",
        };
        judge(&reply(200, OK), &ctx).unwrap();
        judge(&reply(200, &OK.replace("<IP>192.0.2.1</IP>", "")), &ctx).unwrap();
        let svc = "dynamicdns.park-your-domain.com";
        let endpoint = Some("endpoint must be Namecheap's dynamic DNS host (https://dynamicdns.park-your-domain.com)".to_owned());
        type Case = (u16, String, K, String, Option<String>, bool);
        let cases: Vec<Case> = vec![
            (200, err("Passwords do not match"), K::Auth, format!("{svc} refused the Dynamic DNS password of example.com: \"Passwords do not match\""), Some("check password in [providers.nc]: the Dynamic DNS password shown on the domain's Advanced DNS page (with Dynamic DNS turned on), not the account password; ddnsd retries after the config is reloaded".into()), false),
            (200, err("Domain name not found"), K::ZoneNotFound, format!("{svc} does not know the domain example.com: \"Domain name not found\""), Some("check domain in [providers.nc]: it must be a domain of the Namecheap account using Namecheap's DNS".into()), false),
            (200, err("No Records updated. A record not Found;"), K::Rejected, format!("{svc} has no dynamic A record for home.example.com: \"No Records updated. A record not Found;\""), Some("add an A + Dynamic DNS Record for host \"home\" on the domain's Advanced DNS page".into()), false),
            (200, err("Invalid IP"), K::Rejected, format!("{svc} refused the address 192.0.2.1 for home.example.com: \"Invalid IP\""), None, false),
            (200, err("Something new happened"), K::Transient, format!("{svc} could not update home.example.com: \"Something new happened\""), None, false),
            (200, err("invalid password pw-secret"), K::Auth, format!("{svc} refused the Dynamic DNS password of example.com: an error holding the password (not shown)"), Some("check password in [providers.nc]: the Dynamic DNS password shown on the domain's Advanced DNS page (with Dynamic DNS turned on), not the account password; ddnsd retries after the config is reloaded".into()), false),
            (200, OK.replace("192.0.2.1", "198.51.100.9"), K::Protocol, format!("{svc} answered without errors but with IP \"198.51.100.9\", not the address sent (192.0.2.1)"), None, false),
            (200, "<html><body>maintenance</body></html>".into(), K::Protocol, format!("{svc} answered <html>, not <interface-response>"), endpoint.clone(), false),
            (200, OK[..60].to_owned(), K::Protocol, format!("{svc} answered something that is not its XML answer: not well-formed xml: unexpected end of input: an element is not closed at byte 60"), endpoint.clone(), false),
            (200, OK.replace("<ErrCount>0</ErrCount>", ""), K::Protocol, format!("{svc} answered without a valid ErrCount"), endpoint.clone(), false),
            (429, String::new(), K::RateLimited { retry_after: Some(Duration::from_secs(4)) }, format!("{svc} is rate limiting updates (http 429)"), None, true),
            (503, "<html>".into(), K::Transient, format!("{svc} failed (http 503)"), None, true),
            (403, String::new(), K::Protocol, format!("{svc} answered with http status 403"), endpoint.clone(), false),
        ];
        for (status, body, kind, message, hint, retry) in cases {
            let f = judge(&reply(status, &body), &ctx).unwrap_err();
            assert_eq!(
                (f.error.kind, f.error.message, f.error.hint, f.retry_in_call),
                (kind, message, hint, retry),
                "{status} {body}"
            );
        }
    }

    #[test]
    fn update_urls() {
        let d = domain();
        assert_eq!(
            update_url(DEFAULT_ENDPOINT, "@", &d, "a1b2&c", "192.0.2.1".parse().unwrap()),
            "https://dynamicdns.park-your-domain.com/update?host=@&domain=example.com&password=a1b2%26c&ip=192.0.2.1"
        );
        assert_eq!(
            update_url(
                "http://127.0.0.1:9",
                "*",
                &d,
                "p",
                "192.0.2.1".parse().unwrap()
            ),
            "http://127.0.0.1:9/update?host=*&domain=example.com&password=p&ip=192.0.2.1"
        );
    }

    fn build(text: &str) -> Result<NamecheapSettings, String> {
        let env = |v: &str| (v == "NAMECHEAP_DDNS_PASSWORD").then(|| "pw-from-env".to_owned());
        let full = format!(
            "{text}\n[sources.s]\nkind = \"static\"\naddresses = [\"192.0.2.1\"]\n\n[[records]]\nname = \"home.example.com\"\nprovider = \"p\"\nsources = [\"s\"]\n"
        );
        match crate::config::from_text(&full, Path::new("t.toml"), &env) {
            Ok(c) => Ok(c.providers["p"].get::<NamecheapSettings>().unwrap().clone()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn the_example_block_builds_and_mistakes_are_placed() {
        let s = build(
            &KIND
                .example
                .replace("[providers.namecheap]", "[providers.p]"),
        )
        .unwrap();
        assert_eq!(s.domain.as_str(), "example.com");
        assert_eq!(s.password.expose(), "pw-from-env");
        assert_eq!(s.endpoint, DEFAULT_ENDPOINT);
        let e = build("[providers.p]\nkind = \"namecheap\"\npassword = \"x\"\n").unwrap_err();
        assert!(e.contains("t.toml:1:1: domain is missing\n  hint: give the domain the records are in, e.g. domain = \"example.com\""), "{e}");
        let e = build("[providers.p]\nkind = \"namecheap\"\ndomain = \"a..b\"\n").unwrap_err();
        assert!(
            e.contains("t.toml:3:10: domain: \"a..b\" has an invalid label \"\""),
            "{e}"
        );
        assert!(e.contains("password is missing"), "{e}");
    }

    #[test]
    fn acknowledged_hints_stay_with_their_host() {
        let key = RecordKey {
            name: "home.example.com".parse().unwrap(),
            rtype: RecordType::A,
        };
        let mut h = ProviderHints::default();
        h.0.insert(HINT_HOST.into(), "home".into());
        h.0.insert(HINT_PUBLISHED.into(), "192.0.2.1".into());
        h.0.insert(HINT_TTL.into(), "300".into());
        let live = acknowledged(&h, Some("home"), &key);
        assert_eq!(live.ttl, Some(Ttl(300)));
        assert_eq!(live.addrs.to_string(), "192.0.2.1");
        assert!(acknowledged(&h, Some("www"), &key).addrs.is_empty());
    }
}
