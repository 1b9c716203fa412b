//! Webhook settings: the `[providers.NAME]` fields (private `Raw`), their parsing and checks
//! (templates, method, secret headers, Content-Type and body escaping) into
//! [`WebhookSettings`], and its [`Configured`] impl.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use super::template::{Escape, Field, Part, Template, Values};
use super::Webhook;
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::Method;
use crate::provider::{Configured, Provider, ProviderDeps};
use crate::record::{AddrSet, Fqdn};
use crate::secret::Secret;

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

pub(super) fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
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
                Some(
                    "write the endpoint's full URL, e.g. \"https://hooks.example.net/ddns\"".into(),
                ),
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
                    format!(
                        "method {:?} is not one of GET, POST, PUT, PATCH, DELETE",
                        t.get_ref()
                    ),
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
            f.problem(
                t.span(),
                "expect_body is empty".into(),
                Some(
                    "remove it, or write the text a successful reply starts with, e.g. \"OK\""
                        .into(),
                ),
            );
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
        let slot = match groups
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(base))
        {
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
            f.problem(
                span,
                format!("header name {name:?} is not an HTTP field name"),
                None,
            );
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
