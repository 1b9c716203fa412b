//! Compiled only under #[cfg(test)] (declared so in hetzner/mod.rs).

use super::*;

fn resp(status: u16, body: &str, headers: &[(&str, &str)]) -> HttpResponse {
    HttpResponse {
        status,
        date: None,
        retry_after: None,
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

fn err(r: Result<Value, Failure>) -> ProviderError {
    match r {
        Err(f) => f.into(),
        Ok(v) => panic!("not an error: {v}"),
    }
}

#[test]
fn code_table() {
    use Meaning as M;
    for (code, want) in [
        ("unauthorized", M::Auth),
        ("token_readonly", M::Auth),
        ("forbidden", M::Forbidden),
        ("protected", M::Protected),
        ("not_found", M::NotFound),
        ("uniqueness_error", M::Exists),
        ("invalid_input", M::Rejected),
        ("json_error", M::Rejected),
        ("resource_limit_exceeded", M::Rejected),
        ("rate_limit_exceeded", M::RateLimited),
        ("locked", M::Transient),
        ("conflict", M::Transient),
        ("maintenance", M::Transient),
        ("server_error", M::Transient),
        ("service_error", M::Transient),
        ("timeout", M::Transient),
        ("something_new", M::Transient),
    ] {
        assert_eq!(meaning(code), want, "{code}");
    }
}

#[test]
fn answers() {
    use ProviderErrorKind as K;
    let e = err(interpret(
        "ListZones",
        &resp(
            401,
            r#"{"error":{"code":"unauthorized","message":"unable to authenticate","details":{}}}"#,
            &[],
        ),
    ));
    assert_eq!(e.kind, K::Auth);
    assert_eq!(
        e.message,
        "ListZones failed: unauthorized: \"unable to authenticate\""
    );
    assert_eq!(e.hint().as_deref(), Some(AUTH_HINT));
    let e = err(interpret(
        "CreateRRSet",
        &resp(
            400,
            r#"{"error":{"code":"invalid_input","message":"invalid input in field 'ttl'","details":{"fields":[{"name":"ttl","messages":["must be at least 60"]}]}}}"#,
            &[],
        ),
    ));
    assert_eq!(e.kind, K::Rejected);
    assert_eq!(e.message, "CreateRRSet failed: invalid_input: \"invalid input in field 'ttl'\" (ttl: must be at least 60)");
    // A 429: one request's share of the hourly budget, unless Retry-After says.
    let limit = r#"{"error":{"code":"rate_limit_exceeded","message":"limit of 3600 requests per hour reached","details":{}}}"#;
    assert_eq!(
        err(interpret(
            "X",
            &resp(
                429,
                limit,
                &[("ratelimit-limit", "3600"), ("ratelimit-remaining", "0")]
            )
        ))
        .kind,
        K::RateLimited {
            retry_after: Some(Duration::from_secs(1))
        }
    );
    assert_eq!(
        err(interpret(
            "X",
            &resp(429, limit, &[("ratelimit-limit", "1200")])
        ))
        .kind,
        K::RateLimited {
            retry_after: Some(Duration::from_secs(3))
        }
    );
    let mut r = resp(429, "", &[("ratelimit-limit", "3600")]);
    r.retry_after = Some(Duration::from_secs(9));
    assert_eq!(
        err(interpret("X", &r)).kind,
        K::RateLimited {
            retry_after: Some(Duration::from_secs(9))
        }
    );
    assert_eq!(
        err(interpret("X", &resp(502, "<html>", &[]))).kind,
        K::Transient
    );
    let e = err(interpret("ListRRSets", &resp(200, "{\"rrsets\":[", &[])));
    assert_eq!(e.kind, K::Protocol);
    assert!(e
        .message
        .starts_with("ListRRSets: the reply is not valid json"));
}

#[test]
fn remembered_state_round_trips() {
    let p = Hetzner::new(
        "h".into(),
        HetznerSettings {
            api_token: Secret::new("t".into()),
            zone: None,
            endpoint: "http://127.0.0.1:1".into(),
        },
        &ProviderDeps::new(Arc::new(crate::clock::SystemClock)),
    );
    let zone: Fqdn = "example.com".parse().unwrap();
    let v = |s: &str, c: &str| Value1 {
        addr: s.parse().unwrap(),
        comment: c.into(),
    };
    for live in [
        Live::Absent,
        Live::Present {
            ttl: Some(300),
            values: vec![v("2001:db8::1", ""), v("2001:db8::2", "")],
        },
        Live::Present {
            ttl: None,
            values: vec![v("192.0.2.1", "")],
        },
    ] {
        let h = p.hints(&zone, &live);
        assert_eq!(h.0["zone"], "example.com");
        assert_eq!(remembered(&h, &zone), Some(live));
    }
    // A commented value is not trusted from memory: the next write reads.
    let h = p.hints(
        &zone,
        &Live::Present {
            ttl: Some(300),
            values: vec![v("2001:db8::1", "router")],
        },
    );
    assert_eq!(h.0["rrset"], "present commented");
    assert_eq!(remembered(&h, &zone), None);
    // Another zone's hints are not this zone's.
    let other: Fqdn = "example.org".parse().unwrap();
    assert_eq!(remembered(&p.hints(&zone, &Live::Absent), &other), None);
    assert_eq!(remembered(&ProviderHints::default(), &zone), None);
}

fn parse(table: &str) -> Result<HetznerSettings, String> {
    let text = format!(
        "{table}\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"h.example.com\"\nprovider = \"hetzner\"\nsources = [\"s\"]\n"
    );
    let env = |n: &str| (n == "HCLOUD_TOKEN").then(|| "tok".to_owned());
    let c = crate::config::from_text(&text, std::path::Path::new("t.toml"), &env)
        .map_err(|e| e.to_string())?;
    Ok(c.providers["hetzner"]
        .get::<HetznerSettings>()
        .expect("hetzner settings")
        .clone())
}

#[test]
fn the_example_parses() {
    let s = parse(KIND.example).unwrap();
    assert_eq!(
        (s.api_token.expose().as_str(), s.endpoint.as_str()),
        ("tok", DEFAULT_ENDPOINT)
    );
    let e = parse("[providers.hetzner]\nkind = \"hetzner\"\napi_key = \"x\"").unwrap_err();
    assert!(e.contains("unknown key `api_key`"), "{e}");
}
