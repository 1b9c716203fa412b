//! Tests of the webhook kind: templates, settings, the reply table and remembered
//! acknowledgements.

use std::net::IpAddr;
use std::path::Path;

use super::template::{json_escape, percent_encode};
use super::*;
use crate::http::{HttpResponse, Method};
use crate::record::Fqdn;

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
        render(
            r#"{"name":"{name}","type":"{type}","a":{addresses_json},"first":"{address}","all":"{addresses}","ttl":{ttl},"zone":"{zone}"}"#,
            Escape::Json,
            &two
        ),
        r#"{"name":"h.example.com","type":"AAAA","a":["2001:db8::1","2001:db8::2"],"first":"2001:db8::1","all":"2001:db8::1,2001:db8::2","ttl":300,"zone":"example.com"}"#
    );
    assert_eq!(
        render("https://x.test/u?h={name}&ip={addresses}&j={addresses_json}", Escape::Url, &two),
        "https://x.test/u?h=h.example.com&ip=2001:db8::1,2001:db8::2&j=%5B%222001:db8::1%22,%222001:db8::2%22%5D"
    );
    assert_eq!(
        render("ip={address}&t={type}", Escape::Form, &["192.0.2.1"]),
        "ip=192.0.2.1&t=AAAA"
    );
    assert_eq!(
        render("{name} -> {addresses}", Escape::Verbatim, &[]),
        "h.example.com -> "
    );
    assert_eq!(render("[{addresses_json}]", Escape::Verbatim, &[]), "[[]]");
    // Literal braces: JSON needs no escaping; {{word}} is the literal {word}.
    assert_eq!(
        render(r#"{"x":{"y":{ttl}}} {{name}} {}"#, Escape::Json, &two),
        r#"{"x":{"y":300}} {name} {}"#
    );
    assert_eq!(Template::parse("a {nmae} b"), Err("nmae".to_owned()));
    assert!(Template::parse("{zone}").unwrap().uses(Field::Zone));
    assert!(!Template::parse("{name}").unwrap().uses(Field::Zone));
    assert_eq!(
        format!("{:?}", Template::parse("token-123").unwrap()),
        "Template(***)"
    );
}

#[test]
fn json_escaping_keeps_the_body_valid() {
    assert_eq!(json_escape("a\"b\\c\nd\u{1}"), "a\\\"b\\\\c\\nd\\u0001");
    assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    assert_eq!(
        Escape::for_content_type("application/json; charset=utf-8"),
        Escape::Json
    );
    assert_eq!(
        Escape::for_content_type("application/vnd.api+json"),
        Escape::Json
    );
    assert_eq!(
        Escape::for_content_type("application/x-www-form-urlencoded"),
        Escape::Form
    );
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
        (
            401,
            K::Auth,
            "hooks.test refused the credentials (http 401)",
            auth.clone(),
            false,
        ),
        (
            403,
            K::Auth,
            "hooks.test refused the credentials (http 403)",
            auth,
            false,
        ),
        (
            400,
            K::Rejected,
            "hooks.test rejected the POST request (http 400)",
            rejected.clone(),
            false,
        ),
        (
            404,
            K::Rejected,
            "hooks.test rejected the POST request (http 404)",
            rejected.clone(),
            false,
        ),
        (
            422,
            K::Rejected,
            "hooks.test rejected the POST request (http 422)",
            rejected,
            false,
        ),
        (
            429,
            K::RateLimited { retry_after: None },
            "hooks.test is rate limiting requests (http 429)",
            None,
            true,
        ),
        (
            408,
            K::Transient,
            "hooks.test failed (http 408)",
            None,
            true,
        ),
        (
            500,
            K::Transient,
            "hooks.test failed (http 500)",
            None,
            true,
        ),
        (
            503,
            K::Transient,
            "hooks.test failed (http 503)",
            None,
            true,
        ),
        (
            302,
            K::Protocol,
            "hooks.test answered with http status 302",
            Some("check url and method of [providers.hook]".to_owned()),
            false,
        ),
    ];
    for (status, kind, message, hint, retry) in cases {
        let f = judge(&reply(status, "secret-echo"), &ctx).unwrap_err();
        assert_eq!(
            (
                f.error.kind,
                f.error.message.as_str(),
                f.error.hint,
                f.retry_in_call
            ),
            (kind, message, hint, retry),
            "{status}"
        );
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
    assert_eq!(
        f.error.message,
        "hooks.test answered http 200 without the expected reply"
    );
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
    assert_eq!(
        (s.body_escape, s.default_content_type),
        (Escape::Verbatim, Some("text/plain; charset=utf-8"))
    );
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
    assert_eq!(
        (live.addrs, live.ttl),
        (set(&["2001:db8::1"]), Some(Ttl(60)))
    );
    h.0.insert(HINT_PUBLISHED.into(), "192.0.2.1".into());
    assert!(acknowledged(&h, &key).addrs.is_empty());
}
