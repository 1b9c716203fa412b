//! Unit tests of the Cloudflare adapter: the error table, envelopes, query encoding.

use super::*;
use crate::http::HttpResponse;
use serde_json::json;

#[test]
fn error_table() {
    use ProviderErrorKind as K;
    let ra = Some(Duration::from_secs(2));
    let kind =
        |status, code: i64| match classify("ListDnsRecords", status, &[(code, "m".to_owned())], ra)
        {
            Failure::Provider(e) => Some(e.kind),
            _ => None,
        };
    let cases = [
        (403, 10000, Some(K::Auth)),
        (403, 9109, Some(K::Auth)),
        (401, 1000, Some(K::Auth)),
        (400, 6003, Some(K::Auth)),
        (400, 6111, Some(K::Auth)),
        (400, 7003, Some(K::ZoneNotFound)),
        (404, 7000, Some(K::ZoneNotFound)),
        (400, 1004, Some(K::Rejected)),
        (429, 971, Some(K::RateLimited { retry_after: ra })),
        (400, 971, Some(K::RateLimited { retry_after: ra })),
        (400, 99999, Some(K::Transient)),
        (404, 81044, None),
        (400, 81057, None),
        (400, 81058, None),
    ];
    for (status, code, want) in cases {
        assert_eq!(kind(status, code), want, "{status} {code}");
    }
    assert!(matches!(
        classify("X", 404, &[(81044, String::new())], None),
        Failure::Gone
    ));
    let Failure::Provider(e) = classify(
        "ListZones",
        403,
        &[(10000, "Authentication error".to_owned())],
        None,
    ) else {
        panic!("auth")
    };
    assert_eq!(
        e.to_string(),
        "ListZones failed: 10000: \"Authentication error\""
    );
    assert_eq!(e.hint().as_deref(), Some(AUTH_HINT));
}

fn resp(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        date: None,
        retry_after: Some(Duration::from_secs(7)),
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    }
}

fn err_kind(r: Result<(Value, Option<Value>), Failure>) -> ProviderErrorKind {
    match r {
        Err(Failure::Provider(e)) => e.kind,
        other => panic!("{other:?}"),
    }
}

#[test]
fn envelopes() {
    let (result, info) = envelope(
        "ListZones",
        &resp(
            200,
            r#"{"success":true,"errors":[],"messages":[],"result":[],"result_info":{"page":1,"total_pages":1}}"#,
        ),
    )
    .unwrap();
    assert_eq!(result, json!([]));
    assert_eq!(info.unwrap()["total_pages"], 1);
    assert_eq!(
        err_kind(envelope("X", &resp(429, "<html>slow down</html>"))),
        ProviderErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        }
    );
    assert_eq!(
        err_kind(envelope("X", &resp(502, "<html>bad gateway</html>"))),
        ProviderErrorKind::Transient
    );
    let e = envelope("ListDnsRecords", &resp(200, r#"{"success":true,"res"#));
    match e {
        Err(Failure::Provider(e)) => {
            assert_eq!(e.kind, ProviderErrorKind::Protocol);
            assert!(
                e.message
                    .starts_with("ListDnsRecords: the reply is not valid json"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err_kind(envelope("X", &resp(200, r#"{"result":[]}"#))),
        ProviderErrorKind::Protocol
    );
    assert_eq!(
        err_kind(envelope("X", &resp(403, "forbidden"))),
        ProviderErrorKind::Protocol
    );
    assert_eq!(
        err_kind(envelope(
            "X",
            &resp(
                403,
                r#"{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[],"result":null}"#
            )
        )),
        ProviderErrorKind::Auth
    );
}

#[test]
fn query_values_are_encoded() {
    assert_eq!(query_encode("home.example.com"), "home.example.com");
    assert_eq!(query_encode("*.a b&c"), "%2A.a%20b%26c");
}
