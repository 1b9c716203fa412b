//! `kind = "route53"` against a real moto_server with IAM authentication on (moto recomputes
//! every SigV4 signature with botocore), behind the counting, fault-injecting proxy of
//! `harness/route53_moto.rs`; the built binary's `run --once` against it; and the SigV4
//! signer compared byte for byte with botocore's `SigV4Auth` for fixed requests.
//!
//! See: issue 9 (item 6).

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ddnsd::clock::{FakeClock, SystemClock};
use ddnsd::http::{Backoff, HttpClient, HttpSettings};
use ddnsd::provider::route53::Route53Settings;
use ddnsd::provider::sign::sigv4::{self, SigV4Credentials, SigV4Request, SigV4Scope};
use ddnsd::provider::{Configured, Provider, ProviderDeps, ProviderErrorKind, ProviderHints};
use ddnsd::record::{AddrSet, RecordType, Ttl};
use ddnsd::secret::Secret;

use crate::harness::records::{ip, key, none, rrset};
use crate::harness::route53_moto::{moto_venv, Fault, Route53Lab, Set};

const A1: &str = "2001:db8::1";
const A2: &str = "2001:db8::2";
const A3: &str = "2001:db8::3";
const HOME: &str = "home.example.com";
const ZONES: &[&str] = &["example.com", "example.org", "sub.example.com"];
const FOREIGN: &[crate::harness::route53_moto::Seed<'static>] = &[
    ("example.com", "www.example.com", "AAAA", 300, &[A3]),
    ("example.com", "home.example.com", "A", 300, &["192.0.2.1"]),
    (
        "example.com",
        "home.example.com",
        "TXT",
        300,
        &["\"v=spf1 -all\""],
    ),
    ("example.org", "home.example.org", "AAAA", 300, &[A2]),
];

fn lab() -> Route53Lab {
    Route53Lab::start(ZONES, FOREIGN)
}

fn deps() -> ProviderDeps {
    let settings = HttpSettings {
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(5),
        ..HttpSettings::default()
    };
    ProviderDeps {
        clock: Arc::new(SystemClock),
        http: HttpClient::new(&settings),
        backoff: Backoff {
            attempts: 3,
            base: Duration::from_millis(20),
            max: Duration::from_secs(2),
        },
        timeout: Duration::from_secs(3),
    }
}

fn settings(lab: &Route53Lab, key: &(String, String)) -> Route53Settings {
    Route53Settings {
        access_key_id: key.0.clone(),
        secret_access_key: Secret::new(key.1.clone()),
        hosted_zone_id: None,
        zone: None,
        endpoint: lab.endpoint(),
    }
}

fn provider(lab: &Route53Lab) -> Arc<dyn Provider> {
    settings(lab, &lab.writer).build("aws", &deps())
}

fn set(name: &str, rtype: &str, ttl: u32, values: &[&str]) -> Set {
    let mut values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    values.sort();
    Set {
        name: format!("{name}."),
        rtype: rtype.into(),
        ttl,
        values,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn create_update_unchanged_and_stale_values_against_moto() {
    let lab = lab();
    let before = lab.others("example.com", HOME, "AAAA");
    let p = provider(&lab);

    // Create: zone found by name (home.example.com is no zone, example.com is), a read, one
    // UPSERT.
    let hints = p
        .apply_rrset(&rrset(HOME, RecordType::Aaaa, 300, &[A1]), &none())
        .await
        .unwrap();
    assert_eq!(
        lab.set("example.com", HOME, "AAAA"),
        Some(set(HOME, "AAAA", 300, &[A1]))
    );
    {
        let st = lab.state();
        assert_eq!(
            (
                st.count("ListHostedZonesByName"),
                st.count("ListResourceRecordSets"),
                st.count("ChangeResourceRecordSets")
            ),
            (2, 1, 1),
            "{:?}",
            st.calls
        );
        assert!(
            st.changes[0].contains("<Action>UPSERT</Action>"),
            "{}",
            st.changes[0]
        );
    }
    assert_eq!(hints.0["zone"], "example.com");
    assert_eq!(hints.0["zone_id"], lab.zone_id("example.com"));

    // Update in a fresh provider with the hints: exactly one call, the UPSERT.
    lab.reset_calls();
    let fresh = provider(&lab);
    let hints = fresh
        .apply_rrset(&rrset(HOME, RecordType::Aaaa, 300, &[A2]), &hints)
        .await
        .unwrap();
    {
        let st = lab.state();
        assert_eq!(
            (st.total_calls(), st.count("ChangeResourceRecordSets")),
            (1, 1),
            "{:?}",
            st.calls
        );
    }
    assert_eq!(
        lab.set("example.com", HOME, "AAAA"),
        Some(set(HOME, "AAAA", 300, &[A2]))
    );

    // Unchanged without hints: one read, no write.
    lab.reset_calls();
    let live = fresh
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(live.addrs, [ip(A2)].into_iter().collect::<AddrSet>());
    assert_eq!(live.ttl, Some(Ttl(300)));
    let p3 = provider(&lab);
    lab.reset_calls();
    p3.apply_rrset(&rrset(HOME, RecordType::Aaaa, 300, &[A2]), &none())
        .await
        .unwrap();
    {
        let st = lab.state();
        assert_eq!(st.count("ChangeResourceRecordSets"), 0, "{:?}", st.calls);
        assert_eq!(st.count("ListResourceRecordSets"), 1);
    }

    // Stale extra values (someone added two) are replaced by one UPSERT; a TTL change too.
    lab.upsert("example.com", HOME, "AAAA", 60, &[A1, A2, A3]);
    lab.reset_calls();
    p.apply_rrset(&rrset(HOME, RecordType::Aaaa, 600, &[A2]), &hints)
        .await
        .unwrap();
    assert_eq!(
        lab.set("example.com", HOME, "AAAA"),
        Some(set(HOME, "AAAA", 600, &[A2]))
    );
    assert_eq!(lab.state().total_calls(), 1);

    // Two values, both ways.
    p.apply_rrset(&rrset(HOME, RecordType::Aaaa, 600, &[A1, A3]), &hints)
        .await
        .unwrap();
    assert_eq!(
        lab.set("example.com", HOME, "AAAA"),
        Some(set(HOME, "AAAA", 600, &[A1, A3]))
    );
    p.apply_rrset(&rrset(HOME, RecordType::Aaaa, 600, &[A3]), &hints)
        .await
        .unwrap();
    assert_eq!(
        lab.set("example.com", HOME, "AAAA"),
        Some(set(HOME, "AAAA", 600, &[A3]))
    );

    // Withdrawn: DELETE of the exact live set.
    p.apply_rrset(&rrset(HOME, RecordType::Aaaa, 600, &[]), &hints)
        .await
        .unwrap();
    assert_eq!(lab.set("example.com", HOME, "AAAA"), None);
    assert!(lab
        .state()
        .changes
        .last()
        .unwrap()
        .contains("<Action>DELETE</Action>"));
    // Withdrawing what is not there is a read and nothing else.
    lab.reset_calls();
    p.apply_rrset(&rrset(HOME, RecordType::Aaaa, 600, &[]), &hints)
        .await
        .unwrap();
    assert_eq!(lab.state().count("ChangeResourceRecordSets"), 0);

    assert_eq!(
        lab.others("example.com", HOME, "AAAA"),
        before,
        "foreign sets untouched"
    );
    assert_eq!(
        lab.set("example.org", "home.example.org", "AAAA"),
        Some(set("home.example.org", "AAAA", 300, &[A2]))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_secret_or_unknown_key_is_an_auth_error_after_exactly_one_call() {
    let lab = lab();
    let wrong = (lab.writer.0.clone(), "not-the-secret".to_owned());
    let err = settings(&lab, &wrong)
        .build("aws", &deps())
        .apply_rrset(&rrset(HOME, RecordType::Aaaa, 300, &[A1]), &none())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Auth, "{err}");
    assert!(
        err.to_string()
            .starts_with("ListHostedZonesByName failed: SignatureDoesNotMatch: \"The request signature we calculated does not match"),
        "{err}"
    );
    assert_eq!(
        err.hint().as_deref(),
        Some("check access_key_id/secret_access_key; the key's IAM policy needs route53:ChangeResourceRecordSets and route53:ListResourceRecordSets on the hosted zone (and route53:ListHostedZonesByName unless hosted_zone_id is set)")
    );
    assert_eq!(lab.state().total_calls(), 1);

    lab.reset_calls();
    let unknown = ("AKIAUNKNOWN000000000".to_owned(), "x".to_owned());
    let err = settings(&lab, &unknown)
        .build("aws", &deps())
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Auth, "{err}");
    assert_eq!(
        err.to_string(),
        "ListHostedZonesByName failed: InvalidClientTokenId: \"The security token included in the request is invalid.\""
    );
    assert_eq!(lab.state().total_calls(), 1);
    // The correct key works against the same server.
    provider(&lab)
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert!(lab.state().verified_gets >= 1);

    // A change with a known hosted zone goes straight to one POST, which moto checks itself
    // (botocore): a wrong secret is refused there too, after exactly one call.
    let mut hints = ProviderHints::default();
    hints.0.insert("zone_id".into(), lab.zone_id("example.com"));
    for (who, code) in [
        (&wrong, "SignatureDoesNotMatch"),
        (&unknown, "InvalidClientTokenId"),
    ] {
        let mut s = settings(&lab, who);
        s.hosted_zone_id = Some(lab.zone_id("example.com"));
        lab.reset_calls();
        let err = s
            .build("aws", &deps())
            .apply_rrset(&rrset(HOME, RecordType::Aaaa, 300, &[A1]), &hints)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ProviderErrorKind::Auth, "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("ChangeResourceRecordSets failed: {code}: ")),
            "{err}"
        );
        let st = lab.state();
        assert_eq!(
            (st.total_calls(), st.count("ChangeResourceRecordSets")),
            (1, 1)
        );
    }
    assert_eq!(lab.set("example.com", HOME, "AAAA"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_without_write_permission_is_forbidden_naming_the_permission() {
    let lab = lab();
    let err = settings(&lab, &lab.reader)
        .build("aws", &deps())
        .apply_rrset(&rrset(HOME, RecordType::Aaaa, 300, &[A1]), &none())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Forbidden, "{err}");
    assert!(
        err.to_string()
            .starts_with("ChangeResourceRecordSets failed: AccessDenied: \"User: arn:aws:iam::"),
        "{err}"
    );
    assert!(err
        .to_string()
        .contains("is not authorized to perform: route53:ChangeResourceRecordSets"));
    assert_eq!(
        err.hint().as_deref(),
        Some("allow the key's IAM user route53:ChangeResourceRecordSets and route53:ListResourceRecordSets on the hosted zone (and route53:ListHostedZonesByName unless hosted_zone_id is set)")
    );
    assert_eq!(
        lab.state().count("ChangeResourceRecordSets"),
        1,
        "not retried"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hosted_zone_by_id_by_name_cached_or_missing() {
    let lab = lab();
    // Longest suffix wins, and the look-up is cached.
    let p = provider(&lab);
    p.apply_rrset(
        &rrset("a.sub.example.com", RecordType::A, 300, &["192.0.2.7"]),
        &none(),
    )
    .await
    .unwrap();
    p.apply_rrset(
        &rrset("b.sub.example.com", RecordType::A, 300, &["192.0.2.7"]),
        &none(),
    )
    .await
    .unwrap();
    assert!(lab
        .set("sub.example.com", "a.sub.example.com", "A")
        .is_some());
    assert!(lab
        .set("sub.example.com", "b.sub.example.com", "A")
        .is_some());
    assert_eq!(lab.state().count("ListHostedZonesByName"), 2);
    // The apex of a zone.
    p.apply_rrset(
        &rrset("example.org", RecordType::A, 300, &["192.0.2.8"]),
        &none(),
    )
    .await
    .unwrap();
    assert!(lab.set("example.org", "example.org", "A").is_some());
    // No zone.
    let err = p
        .read_rrset(&key("x.example.net", RecordType::A), &none())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::ZoneNotFound);
    assert_eq!(
        err.to_string(),
        "no public hosted zone of this AWS account contains x.example.net"
    );
    // hosted_zone_id (with the console's /hostedzone/ prefix stripped in config) skips the
    // look-up; an unknown one is NoSuchHostedZone.
    let mut s = settings(&lab, &lab.writer);
    s.hosted_zone_id = Some(lab.zone_id("example.com"));
    lab.reset_calls();
    s.build("aws", &deps())
        .apply_rrset(&rrset(HOME, RecordType::Aaaa, 300, &[A1]), &none())
        .await
        .unwrap();
    assert_eq!(lab.state().count("ListHostedZonesByName"), 0);
    assert!(lab.set("example.com", HOME, "AAAA").is_some());
    s.hosted_zone_id = Some("ZNOSUCHZONE0000".into());
    let err = s
        .build("aws", &deps())
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::ZoneNotFound, "{err}");
    assert!(
        err.to_string()
            .starts_with("ListResourceRecordSets failed: NoSuchHostedZone: "),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_are_retried_bounded_or_reported_precisely() {
    let lab = lab();
    let p = provider(&lab);
    // 5xx and throttling are retried within the call.
    for fault in [
        Fault::Status(503),
        Fault::Status(500),
        Fault::Throttling(None),
        Fault::Timeout,
    ] {
        lab.inject(Some("ListResourceRecordSets"), fault.clone());
        lab.reset_calls();
        p.read_rrset(&key(HOME, RecordType::Aaaa), &none())
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(lab.state().count("ListResourceRecordSets"), 2, "{fault:?}");
    }
    // Throttling asking for longer than the in-call backoff: rate limited after one call.
    lab.inject(Some("ListResourceRecordSets"), Fault::Throttling(Some(30)));
    lab.reset_calls();
    let err = p
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ProviderErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        }
    );
    assert_eq!(
        err.to_string(),
        "ListResourceRecordSets failed: Throttling: \"Rate exceeded\""
    );
    assert_eq!(lab.state().total_calls(), 1);
    // Malformed and truncated XML: a protocol error naming the action, not retried.
    for fault in [Fault::Malformed, Fault::Truncated] {
        lab.inject(Some("ListResourceRecordSets"), fault.clone());
        lab.reset_calls();
        let err = p
            .read_rrset(&key(HOME, RecordType::Aaaa), &none())
            .await
            .unwrap_err();
        assert_eq!(err.kind, ProviderErrorKind::Protocol, "{fault:?}: {err}");
        assert!(
            err.to_string()
                .starts_with("ListResourceRecordSets: unexpected reply: not well-formed xml: "),
            "{err}"
        );
        assert_eq!(lab.state().total_calls(), 1, "{fault:?}");
    }
    // A change whose reply never comes: could not confirm, not repeated.
    let h = p
        .apply_rrset(&rrset(HOME, RecordType::Aaaa, 300, &[A1]), &none())
        .await
        .unwrap();
    lab.inject(Some("ChangeResourceRecordSets"), Fault::Timeout);
    lab.reset_calls();
    let err = p
        .apply_rrset(&rrset(HOME, RecordType::Aaaa, 300, &[A2]), &h)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Unconfirmed, "{err}");
    assert_eq!(
        err.to_string(),
        "ChangeResourceRecordSets could not confirm: timed out after 3s"
    );
    assert_eq!(lab.state().count("ChangeResourceRecordSets"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_record_does_not_stop_another() {
    let lab = lab();
    lab.state().refused.push("bad.example.com".into());
    let p = provider(&lab);
    let err = p
        .apply_rrset(
            &rrset("bad.example.com", RecordType::Aaaa, 300, &[A1]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Rejected, "{err}");
    assert!(
        err.to_string()
            .starts_with("ChangeResourceRecordSets failed: InvalidChangeBatch: "),
        "{err}"
    );
    p.apply_rrset(&rrset(HOME, RecordType::Aaaa, 300, &[A1]), &none())
        .await
        .unwrap();
    assert!(lab.set("example.com", HOME, "AAAA").is_some());
    assert!(lab.set("example.com", "bad.example.com", "AAAA").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clock_off_by_twenty_minutes_is_clock_skew_with_the_offset() {
    let lab = lab();
    let mut d = deps();
    // This machine's clock 20 minutes behind the real time (the proxy's).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    d.clock = Arc::new(FakeClock::at_unix(now - 1200));
    let p = settings(&lab, &lab.writer).build("aws", &d);
    let err = p
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    let ProviderErrorKind::ClockSkew { offset_secs } = err.kind else {
        panic!("{err:?}");
    };
    assert!((1195..=1205).contains(&offset_secs), "{offset_secs}");
    assert_eq!(
        err.to_string(),
        "ListHostedZonesByName: the provider rejected the request time (SignatureDoesNotMatch)"
    );
    assert!(
        err.hint()
            .unwrap()
            .starts_with("this machine's clock is 20m"),
        "{:?}",
        err.hint()
    );
    assert_eq!(lab.state().total_calls(), 1);
}

// ---------------------------------------------------------------------------------------------
// SigV4: byte-for-byte with botocore for fixed inputs.

#[test]
fn sigv4_matches_botocore_for_fixed_requests() {
    let venv = moto_venv();
    let cases = [
        serde_json::json!({"method": "GET", "host": "route53.amazonaws.com",
            "path": "/2013-04-01/hostedzonesbyname", "query": [["dnsname", "example.com."], ["maxitems", "100"]],
            "body": "", "key": "AKIDEXAMPLE", "secret": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "time": 1_700_000_000u64}),
        serde_json::json!({"method": "GET", "host": "127.0.0.1:8443",
            "path": "/2013-04-01/hostedzone/Z0123456789ABC/rrset",
            "query": [["type", "AAAA"], ["name", "*.home.example.com."], ["maxitems", "1"]],
            "body": "", "key": "AKIA0000", "secret": "s3cret with spaces+/=", "time": 1_709_251_199u64}),
        serde_json::json!({"method": "POST", "host": "route53.amazonaws.com",
            "path": "/2013-04-01/hostedzone/Z0123456789ABC/rrset/", "query": [],
            "body": ddnsd::provider::route53::change_batch(&[ddnsd::provider::route53::ChangeSet {
                action: "UPSERT", name: &"home.example.com".parse().unwrap(), rtype: RecordType::Aaaa,
                ttl: 300, values: &["2001:db8::1".to_owned(), "2001:db8::2".to_owned()] }]),
            "key": "AKIDEXAMPLE", "secret": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "time": 0u64}),
    ];
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/sigv4_sign.py");
    let mut child = Command::new(venv.join("bin/python"))
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for c in &cases {
            writeln!(stdin, "{c}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), cases.len());
    for (c, boto) in cases.iter().zip(&lines) {
        let query: Vec<(&str, &str)> = c["query"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap(), p[1].as_str().unwrap()))
            .collect();
        let body = c["body"].as_str().unwrap();
        let mut headers = vec![("Host", c["host"].as_str().unwrap())];
        if !body.is_empty() {
            headers.push(("Content-Type", "text/xml"));
        }
        let sig = sigv4::sign(
            &SigV4Request {
                method: c["method"].as_str().unwrap(),
                path: c["path"].as_str().unwrap(),
                query: &query,
                headers: &headers,
                payload: body.as_bytes(),
            },
            SigV4Scope {
                region: "us-east-1",
                service: "route53",
            },
            SigV4Credentials {
                access_key_id: c["key"].as_str().unwrap(),
                secret_access_key: c["secret"].as_str().unwrap(),
                session_token: None,
            },
            c["time"].as_u64().unwrap(),
        );
        assert_eq!(
            sig.canonical_request,
            boto["canonical_request"].as_str().unwrap(),
            "{c}"
        );
        assert_eq!(
            sig.authorization,
            boto["authorization"].as_str().unwrap(),
            "{c}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The built binary.

fn cli_config(dir: &Path, lab: &Route53Lab, addr: &str) -> String {
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = ["{addr}"]

[providers.aws]
kind = "route53"
access_key_id = "{id}"
secret_access_key_env = "DDNSD_TEST_AWS_SECRET"
endpoint = "{endpoint}"

[[records]]
name = "home.example.com"
provider = "aws"
sources = ["fixed"]
ttl = 300
"#,
        state = dir.join("state.json").display(),
        id = lab.writer.0,
        endpoint = lab.endpoint(),
    );
    crate::harness::write(dir, "ddnsd.toml", &text)
}

fn run_once(config: &str, secret: &str) -> (i32, String, String) {
    let mut c = crate::harness::ddnsd();
    c.env("DDNSD_TEST_AWS_SECRET", secret)
        .args(["run", "--once", "-c", config]);
    crate::harness::output(c)
}

#[test]
fn cli_run_once_creates_then_costs_nothing_then_one_upsert() {
    let lab = lab();
    let before = lab.others("example.com", HOME, "AAAA");
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &lab, "2001:db8::10");
    let (code, stdout, stderr) = run_once(&config, &lab.writer.1);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "home.example.com AAAA 2001:db8::10  created\n");
    assert_eq!(
        lab.set("example.com", HOME, "AAAA"),
        Some(set(HOME, "AAAA", 300, &["2001:db8::10"]))
    );

    lab.reset_calls();
    let (code, stdout, stderr) = run_once(&config, &lab.writer.1);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "home.example.com AAAA 2001:db8::10  unchanged\n");
    assert_eq!(lab.state().total_calls(), 0);

    let config = cli_config(dir.path(), &lab, "2001:db8::11");
    let (code, stdout, stderr) = run_once(&config, &lab.writer.1);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "home.example.com AAAA 2001:db8::11  updated (was 2001:db8::10)\n"
    );
    {
        let st = lab.state();
        assert_eq!(
            (st.total_calls(), st.count("ChangeResourceRecordSets")),
            (1, 1),
            "{:?}",
            st.calls
        );
    }
    assert_eq!(
        lab.set("example.com", HOME, "AAAA"),
        Some(set(HOME, "AAAA", 300, &["2001:db8::11"]))
    );
    assert_eq!(lab.others("example.com", HOME, "AAAA"), before);
    let secret = &lab.writer.1;
    assert!(!stdout.contains(secret.as_str()) && !stderr.contains(secret.as_str()));
    let state = std::fs::read_to_string(dir.path().join("state.json")).unwrap();
    assert!(!state.contains(secret.as_str()));
}

#[test]
fn cli_wrong_secret_exits_1_with_the_permission_hint() {
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &lab, "2001:db8::10");
    let (code, stdout, stderr) = run_once(&config, "wrong-secret");
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.starts_with("home.example.com AAAA 2001:db8::10  failed: ListHostedZonesByName failed: SignatureDoesNotMatch: "),
        "{stdout}"
    );
    assert!(
        stderr.ends_with("\n  hint: check access_key_id/secret_access_key; the key's IAM policy needs route53:ChangeResourceRecordSets and route53:ListResourceRecordSets on the hosted zone (and route53:ListHostedZonesByName unless hosted_zone_id is set)\n"),
        "{stderr}"
    );
    assert_eq!(lab.state().total_calls(), 1);
}

#[test]
fn the_example_block_and_bad_keys_in_check() {
    let dir = tempfile::tempdir().unwrap();
    let example = ddnsd::provider::route53::KIND.example;
    let text = format!(
        "{example}\n[sources.fixed]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"home.example.com\"\nprovider = \"aws\"\nsources = [\"fixed\"]\n"
    );
    let config = crate::harness::write(dir.path(), "ex.toml", &text);
    let mut c = crate::harness::ddnsd();
    c.env("AWS_SECRET_ACCESS_KEY", "x")
        .args(["check", "-c", &config]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!(code, 0, "{stdout}{stderr}");

    let bad = "[providers.aws]\nkind = \"route53\"\naccess_key_id = \"AKIA\"\nsecret_access_key = \"s\"\nhosted_zone_id = \"arn:aws:route53:::hostedzone/Z1\"\n\n[sources.fixed]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"home.example.com\"\nprovider = \"aws\"\nsources = [\"fixed\"]\n";
    let config = crate::harness::write(dir.path(), "bad.toml", bad);
    let mut c = crate::harness::ddnsd();
    c.args(["check", "-c", &config]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains(
            ":5:18: hosted_zone_id \"arn:aws:route53:::hostedzone/Z1\" is not a hosted zone id"
        ),
        "{stderr}"
    );
}
