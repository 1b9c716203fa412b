//! `kind = "webhook"`: one HTTP request per changed RRset to any endpoint — method, URL,
//! headers and a body [`Template`] with `{name}` `{type}` `{address}` `{addresses}`
//! `{addresses_json}` `{ttl}` `{zone}`.
//!
//! Owns the template language (placeholders, escaping by context: JSON string content for a
//! JSON body, percent-encoding in the URL and in a form body), header settings whose values
//! are secrets (`NAME`, `NAME_file`, `NAME_env`), and the meaning of the reply's status in one
//! table ([`judge`]). The URL, every header value and the body may hold secrets: none of them
//! is ever logged, and reply bodies are never logged or shown either (they may echo the
//! request).
//!
//! A webhook has no read call. [`Provider::read_rrset`] reads nothing: it reports the
//! addresses the endpoint last acknowledged (a 2xx), as remembered in the record's hints, or an
//! empty set when nothing is remembered (see `docs/design/providers.md`, "write-only kinds").

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kit::api;
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints,
};
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{Backoff, HttpClient, HttpError, HttpResponse, Method, Request};
use crate::record::{AddrSet, Family, Fqdn, RecordKey, RrSet, Ttl};
use crate::secret::Secret;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "webhook",
    about: "any HTTP endpoint: method, URL, headers and a body template (no read API)",
    example: r#"[providers.hook]
kind = "webhook"
url = "https://hooks.example.net/ddns"   # or url_file / url_env (a URL holding a token is a secret)
# method = "POST"                        # GET | POST | PUT | PATCH | DELETE
body = '{"name": "{name}", "type": "{type}", "addresses": {addresses_json}, "ttl": {ttl}}'
# also {address} (the lowest), {addresses} (comma-separated) and {zone}
# expect_body = "OK"                     # success needs a reply starting with this text
# zone = "example.com"                   # for {zone}; records outside it are refused

[providers.hook.headers]
Authorization_env = "HOOK_AUTH"          # a header from the environment; or NAME_file / NAME = "…"
"#,
    configure,
};

const HINT_PUBLISHED: &str = "published";
const HINT_TTL: &str = "ttl";

/// A value a template can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `{name}`: the record's name, without the trailing dot.
    Name,
    /// `{type}`: `A` or `AAAA`.
    Type,
    /// `{address}`: the lowest address of the set (empty for none).
    Address,
    /// `{addresses}`: every address, comma-separated.
    Addresses,
    /// `{addresses_json}`: every address as a JSON array of strings, inserted as is in a JSON
    /// body.
    AddressesJson,
    /// `{ttl}`: the TTL in seconds.
    Ttl,
    /// `{zone}`: the provider's `zone`.
    Zone,
}

impl Field {
    /// Every field, as written between braces.
    pub const ALL: [(Field, &'static str); 7] = [
        (Field::Name, "name"),
        (Field::Type, "type"),
        (Field::Address, "address"),
        (Field::Addresses, "addresses"),
        (Field::AddressesJson, "addresses_json"),
        (Field::Ttl, "ttl"),
        (Field::Zone, "zone"),
    ];
}

/// How substituted values are escaped: by where the template's text ends up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escape {
    /// A URL: percent-encoded.
    Url,
    /// A JSON body: JSON string content (the template writes the quotes).
    Json,
    /// An `application/x-www-form-urlencoded` body: percent-encoded.
    Form,
    /// Any other body: as is.
    Verbatim,
}

impl Escape {
    /// The escaping a body of `content_type` needs.
    pub fn for_content_type(content_type: &str) -> Escape {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence == "application/json" || essence.ends_with("+json") {
            Escape::Json
        } else if essence == "application/x-www-form-urlencoded" {
            Escape::Form
        } else {
            Escape::Verbatim
        }
    }
}

/// A parsed template: literal text and placeholders. Its text may hold a secret, so `Debug`
/// shows none of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Field),
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Template(***)")
    }
}

/// The values one request fills in.
#[derive(Clone, Copy, Debug)]
pub struct Values<'a> {
    /// The record's name.
    pub name: &'a Fqdn,
    /// `A` / `AAAA`.
    pub rtype: &'a str,
    /// The addresses.
    pub addrs: &'a AddrSet,
    /// The TTL.
    pub ttl: u32,
    /// The provider's zone, if set.
    pub zone: Option<&'a Fqdn>,
}

impl Template {
    /// Parses `text`: `{field}` is a placeholder, `{{field}}` the literal text `{field}`, and
    /// every other brace is literal (so JSON bodies need no escaping). An unknown `{word}` is an
    /// error naming it.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('{') {
            lit.push_str(&rest[..i]);
            let at = &rest[i..];
            if let Some(word) = braced(at.strip_prefix('{').unwrap_or("")) {
                if at[1 + word.len() + 2..].starts_with('}') {
                    // `{{word}}`: the literal `{word}`.
                    lit.push('{');
                    lit.push_str(word);
                    lit.push('}');
                    rest = &at[word.len() + 4..];
                    continue;
                }
            }
            match braced(at) {
                Some(word) => {
                    let Some((field, _)) = Field::ALL.iter().find(|(_, n)| *n == word) else {
                        return Err(word.to_owned());
                    };
                    if !lit.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Field(*field));
                    rest = &at[word.len() + 2..];
                }
                None => {
                    lit.push('{');
                    rest = &at[1..];
                }
            }
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        Ok(Template { parts })
    }

    /// True if the template holds `field`.
    pub fn uses(&self, field: Field) -> bool {
        self.parts.contains(&Part::Field(field))
    }

    /// The text with every placeholder replaced by its value, escaped for `escape`. Pure.
    pub fn render(&self, v: &Values<'_>, escape: Escape) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field(f) => {
                    let raw = match f {
                        Field::Name => v.name.as_str().to_owned(),
                        Field::Type => v.rtype.to_owned(),
                        Field::Address => v.addrs.iter().next().map(ToString::to_string).unwrap_or_default(),
                        Field::Addresses if v.addrs.is_empty() => String::new(),
                        Field::Addresses => v.addrs.to_string(),
                        Field::AddressesJson => {
                            let list: Vec<String> = v.addrs.iter().map(ToString::to_string).collect();
                            serde_json::Value::from(list).to_string()
                        }
                        Field::Ttl => v.ttl.to_string(),
                        Field::Zone => v.zone.map(|z| z.as_str().to_owned()).unwrap_or_default(),
                    };
                    match (escape, f) {
                        // Already JSON: inserted as is into JSON or free text.
                        (Escape::Json | Escape::Verbatim, Field::AddressesJson) => out.push_str(&raw),
                        (Escape::Json, _) => out.push_str(&json_escape(&raw)),
                        (Escape::Url | Escape::Form, _) => out.push_str(&percent_encode(&raw)),
                        (Escape::Verbatim, _) => out.push_str(&raw),
                    }
                }
            }
        }
        out
    }
}

/// `{word}` at the start of `s` (a lower-case identifier): the word.
fn braced(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('{')?;
    let end = inner.find('}')?;
    let word = &inner[..end];
    let ok = word.len() <= 32
        && word.starts_with(|c: char| c.is_ascii_lowercase())
        && word
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    ok.then_some(word)
}

/// JSON string content (RFC 8259 §7): quote, backslash and control characters escaped.
fn json_escape(s: &str) -> String {
    let quoted = serde_json::Value::from(s).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// Percent-encodes everything but RFC 3986 unreserved characters and the `:` and `,` of
/// address lists.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:,".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Settings of a webhook provider.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// The URL template (may hold a secret; rendered percent-encoded).
    pub url: Template,
    /// The method (default POST).
    pub method: Method,
    /// Headers in config order; every value is treated as a secret.
    pub headers: Vec<(String, Secret<String>)>,
    /// The body template, if any.
    pub body: Option<Template>,
    /// How the body's placeholders are escaped (from its Content-Type).
    pub body_escape: Escape,
    /// The Content-Type sent when the headers name none and there is a body.
    pub default_content_type: Option<&'static str>,
    /// Success also needs a reply body starting with this text.
    pub expect_body: Option<String>,
    /// `{zone}`; records outside it are refused.
    pub zone: Option<Fqdn>,
}

/// `[providers.NAME]` with `kind = "webhook"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    url: Option<Text>,
    url_file: Option<Text>,
    url_env: Option<Text>,
    method: Option<Text>,
    headers: Option<BTreeMap<String, Text>>,
    body: Option<Text>,
    body_file: Option<Text>,
    body_env: Option<Text>,
    expect_body: Option<Text>,
    zone: Option<Text>,
}

/// Headers ddnsd writes itself (a wrong one would break the request).
const MANAGED_HEADERS: [&str; 4] = ["host", "content-length", "transfer-encoding", "connection"];

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let zone = fields::zone(f, &r.zone);
    let url = f
        .secret(SecretFields {
            name: "url",
            inline: &r.url,
            file: &r.url_file,
            env: &r.url_env,
        })
        .and_then(|s| template(f, "url", &s, [&r.url, &r.url_file, &r.url_env]));
    let url_span = [&r.url, &r.url_file, &r.url_env]
        .into_iter()
        .flatten()
        .next()
        .map(toml::Spanned::span)
        .unwrap_or_else(|| f.span());
    if let (Some(t), Some(z), Ok(name)) = (&url, &zone, Fqdn::parse_relaxed("host.example.com")) {
        // Checked with sample values: the placeholders are filled in per request.
        let addrs: AddrSet = [std::net::IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])]
            .into_iter()
            .collect();
        let rendered = t.render(
            &Values {
                name: &name,
                rtype: "AAAA",
                addrs: &addrs,
                ttl: 300,
                zone: Some(z.as_ref().unwrap_or(&name)),
            },
            Escape::Url,
        );
        let ok = reqwest::Url::parse(&rendered)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
        if !ok {
            // Never quoted: the URL may hold a token.
            f.problem(
                url_span.clone(),
                "url is not an http(s) URL (not shown: it may hold a secret)".into(),
                Some("write the endpoint's full URL, e.g. \"https://hooks.example.net/ddns\"".into()),
            );
        }
    }
    let method = match &r.method {
        None => Some(Method::Post),
        Some(t) => {
            let m = t.get_ref().to_ascii_uppercase();
            let found = [
                Method::Get,
                Method::Post,
                Method::Put,
                Method::Patch,
                Method::Delete,
            ]
            .into_iter()
            .find(|x| x.as_str() == m);
            if found.is_none() {
                f.problem(
                    t.span(),
                    format!("method {:?} is not one of GET, POST, PUT, PATCH, DELETE", t.get_ref()),
                    None,
                );
            }
            found
        }
    };
    let headers = headers(f, r.headers.as_ref());
    let body_fields = SecretFields {
        name: "body",
        inline: &r.body,
        file: &r.body_file,
        env: &r.body_env,
    };
    let body = if body_fields.given() {
        f.secret(body_fields)
            .and_then(|s| template(f, "body", &s, [&r.body, &r.body_file, &r.body_env]))
            .map(Some)
    } else {
        Some(None)
    };
    if let (Some(Method::Get), Some(Some(_))) = (method, &body) {
        f.problem(
            body_fields.span().unwrap_or_else(|| f.span()),
            "a GET request carries no body".into(),
            Some("put the values in url placeholders (e.g. \"?ip={address}\"), or use method = \"POST\"".into()),
        );
    }
    let url_uses_zone = url.as_ref().is_some_and(|t| t.uses(Field::Zone));
    let body_uses_zone = body
        .as_ref()
        .is_some_and(|b| b.as_ref().is_some_and(|t| t.uses(Field::Zone)));
    let zone_missing = matches!(&zone, Some(None)) && (url_uses_zone || body_uses_zone);
    if zone_missing {
        let span = if url_uses_zone {
            url_span.clone()
        } else {
            body_fields.span().unwrap_or_else(|| f.span())
        };
        f.problem(
            span,
            "{zone} is used but zone is not set".into(),
            Some("add zone = \"example.com\" to the provider".into()),
        );
    }
    let expect_body = match &r.expect_body {
        Some(t) if t.get_ref().is_empty() => {
            f.problem(t.span(), "expect_body is empty".into(), Some("remove it, or write the text a successful reply starts with, e.g. \"OK\"".into()));
            None
        }
        Some(t) => Some(Some(t.get_ref().clone())),
        None => Some(None),
    };
    let headers = headers?;
    let body = body?;
    // The header is not a secret by nature; it is read only to pick the body's escaping.
    let content_type = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.expose().clone());
    let (body_escape, default_content_type) = match (&content_type, &body) {
        (Some(ct), _) => (Escape::for_content_type(ct), None),
        (None, None) => (Escape::Verbatim, None),
        (None, Some(t)) => {
            let json = t.parts.first().is_some_and(|p| match p {
                Part::Text(s) => s.trim_start().starts_with(['{', '[']),
                Part::Field(_) => false,
            });
            if json {
                (Escape::Json, Some("application/json"))
            } else {
                (Escape::Verbatim, Some("text/plain; charset=utf-8"))
            }
        }
    };
    if zone_missing {
        return None;
    }
    Some(Arc::new(WebhookSettings {
        url: url?,
        method: method?,
        headers,
        body,
        body_escape,
        default_content_type,
        expect_body: expect_body?,
        zone: zone?,
    }))
}

/// Parses a secret template, reporting an unknown placeholder at whichever form was used.
fn template(
    f: &mut dyn Fields,
    name: &str,
    text: &Secret<String>,
    forms: [&Option<Text>; 3],
) -> Option<Template> {
    match Template::parse(text.expose()) {
        Ok(t) => Some(t),
        Err(word) => {
            let span = forms
                .into_iter()
                .flatten()
                .next()
                .map(toml::Spanned::span)
                .unwrap_or_else(|| f.span());
            let known: Vec<String> = Field::ALL.iter().map(|(_, n)| format!("{{{n}}}")).collect();
            f.problem(
                span,
                format!("unknown placeholder {{{word}}} in {name}"),
                Some(format!(
                    "known: {}; write {{{{{word}}}}} for the literal text {{{word}}}",
                    known.join(" ")
                )),
            );
            None
        }
    }
}

/// `[providers.NAME.headers]`: `NAME = "value"`, `NAME_file = "path"` or `NAME_env = "VAR"`
/// per header; every value is a secret.
fn headers(
    f: &mut dyn Fields,
    raw: Option<&BTreeMap<String, Text>>,
) -> Option<Vec<(String, Secret<String>)>> {
    let Some(raw) = raw else {
        return Some(Vec::new());
    };
    // Group the forms of one header (names compare case-insensitively, as HTTP does).
    let mut groups: Vec<(String, [Option<Text>; 3])> = Vec::new();
    for (key, value) in raw {
        let (base, form) = if let Some(b) = key.strip_suffix("_file") {
            (b, 1)
        } else if let Some(b) = key.strip_suffix("_env") {
            (b, 2)
        } else {
            (key.as_str(), 0)
        };
        let slot = match groups.iter().position(|(n, _)| n.eq_ignore_ascii_case(base)) {
            Some(i) => i,
            None => {
                groups.push((base.to_owned(), [None, None, None]));
                groups.len() - 1
            }
        };
        groups[slot].1[form] = Some(value.clone());
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (name, [inline, file, env]) in &groups {
        let span = [inline, file, env]
            .into_iter()
            .flatten()
            .next()
            .map(toml::Spanned::span)
            .unwrap_or_else(|| f.span());
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            f.problem(span, format!("header name {name:?} is not an HTTP field name"), None);
            ok = false;
            continue;
        }
        if MANAGED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            f.problem(
                span,
                format!("header {name} is set by ddnsd itself"),
                Some(format!("remove {name} from the headers")),
            );
            ok = false;
            continue;
        }
        let field = format!("headers.{name}");
        let value = f.secret(SecretFields {
            name: &field,
            inline,
            file,
            env,
        });
        match value {
            // Never quoted: a header value may be a secret.
            Some(v) if v.expose().contains(['\r', '\n', '\0']) => {
                f.problem(span, format!("header {name} holds a line break"), None);
                ok = false;
            }
            Some(v) => out.push((name.clone(), v)),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

impl Configured for WebhookSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Webhook::new(name.to_owned(), self.clone(), deps))
    }
}

/// A webhook provider.
pub struct Webhook {
    name: String,
    settings: WebhookSettings,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
}

impl Webhook {
    /// A provider named `name`.
    pub fn new(name: String, settings: WebhookSettings, deps: &ProviderDeps) -> Webhook {
        Webhook {
            name,
            settings,
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
        }
    }

    async fn send(&self, desired: &RrSet) -> Result<ProviderHints, ProviderError> {
        let key = desired.key();
        let s = &self.settings;
        if let Some(zone) = &s.zone {
            if !desired.name.is_within(zone) {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    format!("{} is not inside the zone {zone}", desired.name),
                )
                .with_hint("set the provider's zone to a domain that contains the record name"));
            }
        }
        let values = Values {
            name: &desired.name,
            rtype: desired.rtype.as_str(),
            addrs: &desired.addrs,
            ttl: desired.ttl.0,
            zone: s.zone.as_ref(),
        };
        let url = match reqwest::Url::parse(&s.url.render(&values, Escape::Url)) {
            Ok(u) if u.has_host() => u,
            _ => {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    format!("the url of [providers.{}] gives no valid URL for {key}", self.name),
                )
                .with_hint("check the url's placeholders (the URL is not shown: it may hold a secret)"))
            }
        };
        let service = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => "the webhook".to_owned(),
        };
        let body = s
            .body
            .as_ref()
            .map(|t| t.render(&values, s.body_escape).into_bytes())
            .unwrap_or_default();
        let mut headers: Vec<(&str, String)> = s
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.expose().clone()))
            .collect();
        if let Some(ct) = s.default_content_type {
            headers.push(("Content-Type", ct.to_owned()));
        }
        let method = s.method.as_str();
        let action = format!("{method} to {service}");
        let ctx = Context {
            service: &service,
            method,
            provider: &self.name,
            expect_body: s.expect_body.as_deref(),
        };
        tracing::debug!(provider = %self.name, record = %key, method, service = %service, "calling the webhook");
        api::with_retries(
            &self.backoff,
            &self.name,
            &action,
            |f: &Failure| f.retry_in_call.then_some(&f.error),
            || async {
                let resp = self
                    .http
                    .send(Request {
                        method: s.method,
                        url: url.as_str(),
                        headers: &headers,
                        body: body.clone(),
                        timeout: self.timeout,
                    })
                    .await
                    .map_err(|e| transport_failure(&action, &e, &url))?;
                tracing::debug!(provider = %self.name, status = resp.status, "webhook reply");
                judge(&resp, &ctx)
            },
        )
        .await
        .map_err(|f| f.error)?;
        let mut h = ProviderHints::default();
        h.0.insert(HINT_PUBLISHED.into(), desired.addrs.to_string());
        h.0.insert(HINT_TTL.into(), desired.ttl.0.to_string());
        Ok(h)
    }
}

/// A transport failure, with the URL (which may hold a token) cut down to its origin wherever
/// the HTTP library quoted it.
fn transport_failure(action: &str, e: &HttpError, url: &reqwest::Url) -> Failure {
    let mut error = api::http_error(action, e, true);
    let origin = format!("{}/…", url.origin().ascii_serialization());
    error.message = error.message.replace(url.as_str(), &origin);
    Failure {
        retry_in_call: error.kind == ProviderErrorKind::Transient,
        error,
    }
}

impl Provider for Webhook {
    fn name(&self) -> &str {
        &self.name
    }

    /// Reads nothing (a webhook has no read call): the addresses the endpoint last
    /// acknowledged, from the hints, or an empty set when none are remembered.
    /// dyndns2/webhooks have no read API: verify and read-back are skipped.
    fn reads_live(&self) -> bool {
        false
    }

    fn read_rrset<'a>(
        &'a self,
        key: &'a RecordKey,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        Box::pin(async move { Ok(acknowledged(hints, key)) })
    }

    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        _hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        Box::pin(self.send(desired))
    }
}

/// The remembered acknowledgement of `key`, or an empty set when none is remembered.
fn acknowledged(hints: &ProviderHints, key: &RecordKey) -> LiveRrSet {
    let parsed = (|| {
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
    /// `host[:port]` of the endpoint.
    pub service: &'a str,
    /// The method sent.
    pub method: &'a str,
    /// The provider's config name, for hints.
    pub provider: &'a str,
    /// The text a successful reply must start with, if any.
    pub expect_body: Option<&'a str>,
}

/// The ONE table of what a reply means: 2xx is success (with `expect_body`, only when the reply
/// starts with it), 401/403 are the credentials, 429 a rate limit (Retry-After honoured), 408
/// and 5xx pass, any other 4xx rejects the request. The reply body is never shown.
pub fn judge(resp: &HttpResponse, ctx: &Context<'_>) -> Result<(), Failure> {
    let service = ctx.service;
    let method = ctx.method;
    let provider = ctx.provider;
    let s = resp.status;
    let (kind, message, hint, retry) = match s {
        200..=299 => match ctx.expect_body {
            Some(want) if !String::from_utf8_lossy(&resp.body).trim_start().starts_with(want) => (
                ProviderErrorKind::Rejected,
                format!("{service} answered http {s} without the expected reply"),
                Some(format!("the reply does not start with expect_body ({want:?}); check url and body of [providers.{provider}] (the reply is not shown: it may hold a secret)")),
                false,
            ),
            _ => return Ok(()),
        },
        401 | 403 => (
            ProviderErrorKind::Auth,
            format!("{service} refused the credentials (http {s})"),
            Some(format!("check the url and headers (e.g. Authorization) of [providers.{provider}]; ddnsd retries after the config is reloaded")),
            false,
        ),
        429 => (
            ProviderErrorKind::RateLimited {
                retry_after: resp.retry_after,
            },
            format!("{service} is rate limiting requests (http 429)"),
            None,
            true,
        ),
        408 | 500..=599 => (
            ProviderErrorKind::Transient,
            format!("{service} failed (http {s})"),
            None,
            true,
        ),
        400..=499 => (
            ProviderErrorKind::Rejected,
            format!("{service} rejected the {method} request (http {s})"),
            Some(format!("check url, method, headers and body of [providers.{provider}]")),
            false,
        ),
        _ => (
            ProviderErrorKind::Protocol,
            format!("{service} answered with http status {s}"),
            Some(format!("check url and method of [providers.{provider}]")),
            false,
        ),
    };
    let mut error = ProviderError::new(kind, message);
    error.hint = hint;
    Err(Failure {
        error,
        retry_in_call: retry,
    })
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::path::Path;

    use super::*;

    fn set(v: &[&str]) -> AddrSet {
        v.iter().map(|a| a.parse::<IpAddr>().unwrap()).collect()
    }

    fn render(t: &str, escape: Escape, addrs: &[&str]) -> String {
        let name: Fqdn = "h.example.com".parse().unwrap();
        let zone: Fqdn = "example.com".parse().unwrap();
        let addrs = set(addrs);
        Template::parse(t).unwrap().render(
            &Values {
                name: &name,
                rtype: "AAAA",
                addrs: &addrs,
                ttl: 300,
                zone: Some(&zone),
            },
            escape,
        )
    }

    #[test]
    fn templates_fill_in_and_escape_by_context() {
        let two = ["2001:db8::2", "2001:db8::1"];
        assert_eq!(
            render(r#"{"name":"{name}","type":"{type}","a":{addresses_json},"first":"{address}","all":"{addresses}","ttl":{ttl},"zone":"{zone}"}"#, Escape::Json, &two),
            r#"{"name":"h.example.com","type":"AAAA","a":["2001:db8::1","2001:db8::2"],"first":"2001:db8::1","all":"2001:db8::1,2001:db8::2","ttl":300,"zone":"example.com"}"#
        );
        assert_eq!(
            render("https://x.test/u?h={name}&ip={addresses}&j={addresses_json}", Escape::Url, &two),
            "https://x.test/u?h=h.example.com&ip=2001:db8::1,2001:db8::2&j=%5B%222001:db8::1%22,%222001:db8::2%22%5D"
        );
        assert_eq!(render("ip={address}&t={type}", Escape::Form, &["192.0.2.1"]), "ip=192.0.2.1&t=AAAA");
        assert_eq!(render("{name} -> {addresses}", Escape::Verbatim, &[]), "h.example.com -> ");
        assert_eq!(render("[{addresses_json}]", Escape::Verbatim, &[]), "[[]]");
        // Literal braces: JSON needs no escaping; {{word}} is the literal {word}.
        assert_eq!(render(r#"{"x":{"y":{ttl}}} {{name}} {}"#, Escape::Json, &two), r#"{"x":{"y":300}} {name} {}"#);
        assert_eq!(Template::parse("a {nmae} b"), Err("nmae".to_owned()));
        assert!(Template::parse("{zone}").unwrap().uses(Field::Zone));
        assert!(!Template::parse("{name}").unwrap().uses(Field::Zone));
        assert_eq!(format!("{:?}", Template::parse("token-123").unwrap()), "Template(***)");
    }

    #[test]
    fn json_escaping_keeps_the_body_valid() {
        assert_eq!(json_escape("a\"b\\c\nd\u{1}"), "a\\\"b\\\\c\\nd\\u0001");
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(Escape::for_content_type("application/json; charset=utf-8"), Escape::Json);
        assert_eq!(Escape::for_content_type("application/vnd.api+json"), Escape::Json);
        assert_eq!(Escape::for_content_type("application/x-www-form-urlencoded"), Escape::Form);
        assert_eq!(Escape::for_content_type("text/plain"), Escape::Verbatim);
    }

    fn reply(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            date: None,
            retry_after: None,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn judges_every_status() {
        use ProviderErrorKind as K;
        let ctx = Context {
            service: "hooks.test",
            method: "POST",
            provider: "hook",
            expect_body: None,
        };
        for s in [200, 201, 202, 204, 299] {
            judge(&reply(s, "anything"), &ctx).unwrap();
        }
        let auth = Some("check the url and headers (e.g. Authorization) of [providers.hook]; ddnsd retries after the config is reloaded".to_owned());
        let rejected = Some("check url, method, headers and body of [providers.hook]".to_owned());
        let cases = [
            (401, K::Auth, "hooks.test refused the credentials (http 401)", auth.clone(), false),
            (403, K::Auth, "hooks.test refused the credentials (http 403)", auth, false),
            (400, K::Rejected, "hooks.test rejected the POST request (http 400)", rejected.clone(), false),
            (404, K::Rejected, "hooks.test rejected the POST request (http 404)", rejected.clone(), false),
            (422, K::Rejected, "hooks.test rejected the POST request (http 422)", rejected, false),
            (429, K::RateLimited { retry_after: None }, "hooks.test is rate limiting requests (http 429)", None, true),
            (408, K::Transient, "hooks.test failed (http 408)", None, true),
            (500, K::Transient, "hooks.test failed (http 500)", None, true),
            (503, K::Transient, "hooks.test failed (http 503)", None, true),
            (302, K::Protocol, "hooks.test answered with http status 302", Some("check url and method of [providers.hook]".to_owned()), false),
        ];
        for (status, kind, message, hint, retry) in cases {
            let f = judge(&reply(status, "secret-echo"), &ctx).unwrap_err();
            assert_eq!((f.error.kind, f.error.message.as_str(), f.error.hint, f.retry_in_call), (kind, message, hint, retry), "{status}");
        }
        let mut r = reply(429, "");
        r.retry_after = Some(Duration::from_secs(3));
        assert_eq!(
            judge(&r, &ctx).unwrap_err().error.kind,
            K::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
        );
        let ctx = Context {
            expect_body: Some("OK"),
            ..ctx
        };
        judge(&reply(200, "  OK\n127.0.0.1"), &ctx).unwrap();
        let f = judge(&reply(200, "KO"), &ctx).unwrap_err();
        assert_eq!(f.error.kind, K::Rejected);
        assert_eq!(f.error.message, "hooks.test answered http 200 without the expected reply");
        assert!(!f.error.hint.unwrap().contains("KO"));
    }

    fn build(text: &str) -> Result<WebhookSettings, String> {
        let env = |v: &str| match v {
            "HOOK_AUTH" => Some("Bearer tok-from-env".to_owned()),
            "HOOK_URL" => Some("https://hooks.example.net/u?token=abc&ip={address}".to_owned()),
            _ => None,
        };
        let full = format!(
            "{text}\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"h.example.com\"\nprovider = \"p\"\nsources = [\"s\"]\n"
        );
        match crate::config::from_text(&full, Path::new("t.toml"), &env) {
            Ok(c) => Ok(c.providers["p"].get::<WebhookSettings>().unwrap().clone()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn the_example_block_builds() {
        let example = KIND.example.replace("[providers.hook", "[providers.p");
        let s = build(&example).unwrap();
        assert_eq!(s.method, Method::Post);
        assert_eq!(s.body_escape, Escape::Json);
        assert_eq!(s.default_content_type, Some("application/json"));
        assert_eq!(s.headers.len(), 1);
        assert_eq!(s.headers[0].0, "Authorization");
        assert_eq!(s.headers[0].1.expose(), "Bearer tok-from-env");
    }

    #[test]
    fn settings_from_every_form() {
        let s = build("[providers.p]\nkind = \"webhook\"\nurl_env = \"HOOK_URL\"\nmethod = \"get\"\nexpect_body = \"OK\"\n").unwrap();
        assert_eq!(s.method, Method::Get);
        assert!(s.body.is_none());
        assert_eq!(s.default_content_type, None);
        assert_eq!(s.expect_body.as_deref(), Some("OK"));
        let s = build("[providers.p]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/x\"\nbody = \"ip={address}\"\nzone = \"example.com\"\n[providers.p.headers]\nContent-Type = \"application/x-www-form-urlencoded\"\nX-Token = \"t\"\n").unwrap();
        assert_eq!(s.body_escape, Escape::Form);
        assert_eq!(s.default_content_type, None);
        assert_eq!(s.headers.len(), 2);
        let s = build("[providers.p]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/x\"\nbody = \"{name} is at {address}\"\n").unwrap();
        assert_eq!((s.body_escape, s.default_content_type), (Escape::Verbatim, Some("text/plain; charset=utf-8")));
    }

    #[test]
    fn config_mistakes_are_placed_and_never_quote_secrets() {
        let e = build("[providers.p]\nkind = \"webhook\"\nurl = \"not a url tok-123\"\nmethod = \"FETCH\"\nbody = \"{nmae}\"\n").unwrap_err();
        for want in [
            "t.toml:3:7: url is not an http(s) URL (not shown: it may hold a secret)",
            "t.toml:4:10: method \"FETCH\" is not one of GET, POST, PUT, PATCH, DELETE",
            "t.toml:5:8: unknown placeholder {nmae} in body\n  hint: known: {name} {type} {address} {addresses} {addresses_json} {ttl} {zone}; write {{nmae}} for the literal text {nmae}",
        ] {
            assert!(e.contains(want), "{want}\n{e}");
        }
        assert!(!e.contains("tok-123"), "{e}");
        let e = build("[providers.p]\nkind = \"webhook\"\nurl = \"https://x.test/{zone}\"\nmethod = \"GET\"\nbody = \"x\"\n[providers.p.headers]\nHost = \"a\"\n\"Bad Name\" = \"b\"\nX-A = \"line\\nbreak\"\nX-B = \"v\"\nX-B_env = \"HOOK_AUTH\"\nX-C_env = \"NOPE\"\n").unwrap_err();
        for want in [
            "t.toml:5:8: a GET request carries no body",
            "{zone} is used but zone is not set",
            "header Host is set by ddnsd itself",
            "header name \"Bad Name\" is not an HTTP field name",
            "header X-A holds a line break",
            "headers.X-B is given 2 ways (headers.X-B, headers.X-B_env)",
            "environment variable \"NOPE\" (named by headers.X-C_env) is not set",
        ] {
            assert!(e.contains(want), "{want}\n{e}");
        }
        assert!(!e.contains("break\""), "{e}");
        let e = build("[providers.p]\nkind = \"webhook\"\n").unwrap_err();
        assert!(e.contains("url is missing"), "{e}");
    }

    #[test]
    fn acknowledged_hints_round_trip() {
        let key = RecordKey {
            name: "h.example.com".parse().unwrap(),
            rtype: crate::record::RecordType::Aaaa,
        };
        let mut h = ProviderHints::default();
        assert_eq!(acknowledged(&h, &key).ttl, None);
        h.0.insert(HINT_PUBLISHED.into(), "2001:db8::1".into());
        h.0.insert(HINT_TTL.into(), "60".into());
        let live = acknowledged(&h, &key);
        assert_eq!((live.addrs, live.ttl), (set(&["2001:db8::1"]), Some(Ttl(60))));
        h.0.insert(HINT_PUBLISHED.into(), "192.0.2.1".into());
        assert!(acknowledged(&h, &key).addrs.is_empty());
    }
}
