//! Unit tests of the dynv6 provider: the error table, prefixes and the settings.

use std::net::Ipv6Addr;
use std::path::Path;

use super::wire::{judge_update, split_prefix};
use super::*;
use crate::http::HttpResponse;

fn resp(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        date: None,
        retry_after: Some(Duration::from_secs(5)),
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    }
}

fn error_of(f: Failure) -> (ProviderErrorKind, String) {
    match f {
        Failure::Provider(e) => (e.kind, e.message),
        Failure::NotFound(e) => (e.kind, format!("not found: {}", e.message)),
    }
}

#[test]
fn status_table() {
    use ProviderErrorKind as K;
    let cases = [
        (
            401,
            r#"{"error":{"name":"Unauthorized","message":"invalid authentication token"}}"#,
            (
                K::Auth,
                "add record failed (http 401): \"invalid authentication token\"".to_owned(),
            ),
        ),
        (
            403,
            "",
            (K::Forbidden, "add record failed (http 403)".to_owned()),
        ),
        (
            404,
            r#"{"error":{"name":"NotFound","message":"record not found"}}"#,
            (
                K::ZoneNotFound,
                "not found: add record failed (http 404): \"record not found\"".to_owned(),
            ),
        ),
        (
            422,
            r#"{"error":{"name":"ValidationError","message":"validation failed","fields":[{"name":"data","message":"is not an IPv6 address"}]}}"#,
            (
                K::Rejected,
                "add record failed (http 422): \"validation failed; data: is not an IPv6 address\""
                    .to_owned(),
            ),
        ),
        (
            400,
            "{}",
            (K::Rejected, "add record failed (http 400)".to_owned()),
        ),
        (
            429,
            "",
            (
                K::RateLimited {
                    retry_after: Some(Duration::from_secs(5)),
                },
                "add record: rate limited (http 429)".to_owned(),
            ),
        ),
        (
            502,
            "<html>",
            (K::Transient, "add record failed (http 502)".to_owned()),
        ),
        (
            302,
            "",
            (
                K::Protocol,
                "add record: unexpected reply: unexpected http status 302".to_owned(),
            ),
        ),
    ];
    for (status, body, want) in cases {
        assert_eq!(
            error_of(status_error("add record", &resp(status, body))),
            want,
            "{status}"
        );
    }
    assert!(judge_update("update at dynv6.com", &resp(200, "addresses updated")).is_ok());
    assert_eq!(
        judge_update("update at dynv6.com", &resp(200, "<html>login</html>"))
            .unwrap_err()
            .kind,
        K::Protocol
    );
    assert_eq!(
        judge_update("u", &resp(401, "invalid authentication token"))
            .unwrap_err()
            .kind,
        K::Auth
    );
}

#[test]
fn prefixes() {
    let a: Ipv6Addr = "2001:db8:1:2:a:b:c:d".parse().unwrap();
    assert_eq!(prefix_of(a, 64), "2001:db8:1:2::/64");
    assert_eq!(prefix_of(a, 56), "2001:db8:1::/56");
    assert_eq!(prefix_of(a, 128), "2001:db8:1:2:a:b:c:d/128");
    assert_eq!(
        split_prefix("2001:db8::1/64"),
        Some(("2001:db8::1".parse().unwrap(), Some(64)))
    );
    assert_eq!(
        split_prefix("2001:db8::1"),
        Some(("2001:db8::1".parse().unwrap(), None))
    );
    assert_eq!(split_prefix("nope"), None);
}

fn build(text: &str) -> Result<Dynv6Settings, String> {
    let env = |v: &str| (v == "DYNV6_TOKEN").then(|| "tok-from-env".to_owned());
    let full = format!(
        "{text}\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"home.dynv6.net\"\nprovider = \"p\"\nsources = [\"s\"]\n"
    );
    match crate::config::from_text(&full, Path::new("t.toml"), &env) {
        Ok(c) => Ok(c.providers["p"].get::<Dynv6Settings>().unwrap().clone()),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn the_example_block_builds_and_mistakes_are_placed() {
    let s = build(&KIND.example.replace("[providers.dynv6]", "[providers.p]")).unwrap();
    assert_eq!(
        (s.mode, s.prefix_length, s.zone, s.endpoint.as_str()),
        (Mode::Records, 64, None, DEFAULT_ENDPOINT)
    );
    assert_eq!(s.token.expose(), "tok-from-env");
    let s = build(
        "[providers.p]\nkind = \"dynv6\"\ntoken = \"t\"\nmode = \"prefix\"\nprefix_length = 56\n",
    )
    .unwrap();
    assert_eq!((s.mode, s.prefix_length), (Mode::Prefix, 56));
    let e = build("[providers.p]\nkind = \"dynv6\"\ntoken = \"t\"\nmode = \"prefixes\"\nprefix_length = 129\n").unwrap_err();
    assert!(
        e.contains("t.toml:4:8: mode \"prefixes\" is not \"records\" or \"prefix\""),
        "{e}"
    );
    assert!(
        e.contains("t.toml:5:17: prefix_length 129 is not 1 to 128"),
        "{e}"
    );
    let e =
        build("[providers.p]\nkind = \"dynv6\"\ntoken = \"t\"\nprefix_length = 64\n").unwrap_err();
    assert!(
        e.contains("t.toml:4:17: prefix_length is used only with mode = \"prefix\""),
        "{e}"
    );
}
