//! `kind = "volcengine"` against the local Volcengine DNS emulator (which verifies every
//! HMAC-SHA256 V4 signature and body hash), the signer cross-check with the official
//! `volcengine` Python SDK, and `ddnsd run --once` / `check`.
//!
//! See: issue 10 (Volcengine DNS).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use ddnsd::provider::sign::volc::{self, VolcCredentials, VolcRequest, VolcScope};
use ddnsd::provider::volcengine::VolcengineSettings;
use ddnsd::provider::{Configured, Provider, ProviderErrorKind, ProviderHints};
use ddnsd::record::{RecordKey, RecordType, RrSet, Ttl};
use ddnsd::secret::Secret;

use crate::harness::records::deps;
use crate::harness::records::none;
use crate::harness::volc_emu::VolcEmu;

const ZONE: &str = "example.com";
const AK: &str = "AKLTTESTACCESSKEY000000000";
const A1: &str = "2001:db8::1";
const A2: &str = "2001:db8::2";
const A3: &str = "2001:db8::3";
const AUTH_HINT: &str = "check access_key_id/secret_access_key; the key's IAM user needs the TrafficRouteDNSFullAccess policy";

fn emulator(secret: &str) -> VolcEmu {
    let emu = VolcEmu::start();
    {
        let mut st = emu.state();
        st.keys.insert(AK.into(), secret.into());
        st.add_zone("example.org");
        st.add_zone(ZONE);
    }
    emu
}

fn provider(emu: &VolcEmu, secret: &str) -> Arc<dyn Provider> {
    VolcengineSettings {
        access_key_id: AK.into(),
        secret_access_key: Secret::new(secret.into()),
        region: "cn-north-1".into(),
        zone: None,
        endpoint: emu.endpoint(),
    }
    .build("volc", &deps())
}

fn rrset(name: &str, ttl: u32, addrs: &[&str]) -> RrSet {
    RrSet {
        name: name.parse().unwrap(),
        rtype: RecordType::Aaaa,
        ttl: Ttl(ttl),
        addrs: addrs.iter().map(|a| a.parse::<IpAddr>().unwrap()).collect(),
    }
}

fn key(name: &str) -> RecordKey {
    RecordKey {
        name: name.parse().unwrap(),
        rtype: RecordType::Aaaa,
    }
}

/// A create then an update of the same RecordID (one call with the remembered ids); a TTL
/// below the free edition's 600 is raised; other names and types stay.
#[tokio::test]
async fn create_then_update_reuses_the_record() {
    let emu = emulator("s3cret");
    emu.state().add_record(ZONE, "home", "A", "192.0.2.1", 600);
    let p = provider(&emu, "s3cret");
    assert_eq!(p.effective_ttl(Ttl(300)), Ttl(600));
    let h = p
        .apply_rrset(&rrset("home.example.com", 300, &[A1]), &none())
        .await
        .unwrap();
    let (id, body) = {
        let st = emu.state();
        let r = &st.last_requests["CreateRecord"];
        assert_eq!(r.raw_query, "Action=CreateRecord&Version=2018-08-01");
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        (st.records(ZONE, "home", "AAAA")[0].id.clone(), body)
    };
    assert_eq!(body["Host"], "home");
    assert_eq!(
        (body["TTL"].as_u64(), body["Line"].as_str()),
        (Some(600), Some("default"))
    );
    emu.state().calls.clear();
    p.apply_rrset(&rrset("home.example.com", 600, &[A2]), &h)
        .await
        .unwrap();
    let st = emu.state();
    assert_eq!(st.total_calls(), 1, "{:?}", st.calls);
    let recs = st.records(ZONE, "home", "AAAA");
    assert_eq!(
        (recs.len(), recs[0].id.as_str(), recs[0].value.as_str()),
        (1, id.as_str(), A2)
    );
    assert_eq!(st.values(ZONE, "home", "A"), ["192.0.2.1"]);
}

/// ListRecords pages by number (one row per page here) with an exact host search; a lenient
/// server's near matches are not taken.
#[tokio::test]
async fn pages_are_followed_and_names_checked() {
    let emu = emulator("s3cret");
    {
        let mut st = emu.state();
        st.page_cap = 1;
        for v in [A1, A2, A3] {
            st.add_record(ZONE, "home", "AAAA", v, 600);
        }
        st.add_record(ZONE, "home2", "AAAA", A1, 600);
    }
    let live = provider(&emu, "s3cret")
        .read_rrset(&key("home.example.com"), &none())
        .await
        .unwrap();
    assert_eq!(live.addrs.len(), 3);
    let st = emu.state();
    assert_eq!((st.count("ListZones"), st.count("ListRecords")), (2, 3));
    let q: serde_json::Value =
        serde_json::from_slice(&st.last_requests["ListRecords"].body).unwrap();
    assert_eq!(
        (q["SearchMode"].as_str(), q["Type"].as_str()),
        (Some("exact"), Some("AAAA"))
    );
}

/// A remembered record deleted by someone else: one more read, then a create.
#[tokio::test]
async fn a_vanished_record_is_read_again() {
    let emu = emulator("s3cret");
    let id = emu.state().add_record(ZONE, "home", "AAAA", A1, 600);
    let p = provider(&emu, "s3cret");
    let live = p
        .read_rrset(&key("home.example.com"), &none())
        .await
        .unwrap();
    emu.state().remove_record(&id);
    p.apply_rrset(&rrset("home.example.com", 600, &[A2]), &live.hints)
        .await
        .unwrap();
    let st = emu.state();
    assert_eq!(st.values(ZONE, "home", "AAAA"), [A2]);
    assert_eq!((st.count("UpdateRecord"), st.count("CreateRecord")), (1, 1));
}

#[tokio::test]
async fn auth_and_clock_errors() {
    let emu = emulator("right");
    let e = provider(&emu, "wrong")
        .read_rrset(&key("home.example.com"), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert!(
        e.message
            .starts_with("ListZones failed: SignatureDoesNotMatch: "),
        "{}",
        e.message
    );
    assert_eq!(e.hint.as_deref(), Some(AUTH_HINT));
    assert_eq!(emu.state().total_calls(), 1);
    emu.state().clock_offset = -3600;
    let e = provider(&emu, "right")
        .read_rrset(&key("home.example.com"), &none())
        .await
        .unwrap_err();
    let ProviderErrorKind::ClockSkew { offset_secs } = e.kind else {
        panic!("{e:?}");
    };
    assert!((-3602..=-3598).contains(&offset_secs), "{offset_secs}");
}

/// Replies that are not the API's (HTML, half a document, JSON of another shape) are
/// protocol errors naming the operation, never trusted and not retried.
#[tokio::test]
async fn replies_of_the_wrong_shape_are_protocol_errors() {
    use crate::harness::volc_emu::Fault;
    for fault in [Fault::Malformed, Fault::Truncated, Fault::WrongShape] {
        let emu = emulator("s3cret");
        emu.inject(Some("ListRecords"), fault.clone());
        let e = provider(&emu, "s3cret")
            .read_rrset(
                &RecordKey {
                    name: "home.example.com".parse().unwrap(),
                    rtype: RecordType::Aaaa,
                },
                &ProviderHints::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind, ProviderErrorKind::Protocol, "{fault:?}: {e:?}");
        assert!(
            e.message.starts_with("ListRecords"),
            "{fault:?}: {}",
            e.message
        );
        assert_eq!(
            emu.state().count("ListRecords"),
            1,
            "{fault:?}: not retried"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Cross-check with the volcengine SDK.

fn sdk_sign(cases: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let python = crate::harness::sdk::python("volc", &["volcengine"], "volcengine.auth.SignerV4");
    crate::harness::sdk::run(&python, "volc_sign.py", cases)
}

/// (method, host, query, with a JSON content type, body, unix time).
type Case = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    bool,
    String,
    u64,
);

#[test]
fn signatures_match_the_volcengine_sdk() {
    let big = format!("{{\"ZID\":1,\"Host\":\"{}\"}}", "x".repeat(5000));
    // (method, host, query, content type?, body, unix time)
    let cases: Vec<Case> = vec![
        ("POST", "open.volcengineapi.com", vec![("Action", "CreateRecord"), ("Version", "2018-08-01")], true,
            r#"{"ZID":12345,"Host":"home","Type":"AAAA","Value":"2001:db8::1","TTL":600,"Line":"default"}"#.into(), 1_700_000_000),
        ("POST", "127.0.0.1:8443", vec![("Action", "ListRecords"), ("Version", "2018-08-01")], true, big, 1_709_251_199),
        ("GET", "open.volcengineapi.com", vec![("Action", "ListZones"), ("Version", "2018-08-01"), ("Key", "例子.中国"), ("PageSize", "100")], false, String::new(), 4_102_444_800),
        ("GET", "open.volcengineapi.com:443", vec![("Version", "2018-08-01"), ("Action", "ListZones"), ("Key", "a b*~/")], false, String::new(), 86_400),
    ];
    let inputs: Vec<serde_json::Value> = cases
        .iter()
        .map(|(method, host, query, ct, body, t)| {
            let mut headers = serde_json::Map::new();
            headers.insert("Host".into(), (*host).into());
            if *ct {
                headers.insert("Content-Type".into(), "application/json".into());
            }
            let q: serde_json::Map<String, serde_json::Value> = query
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect();
            serde_json::json!({"ak": "AKEXAMPLE", "sk": "SKEXAMPLE", "region": "cn-north-1",
                "service": "DNS", "method": method, "host": host, "path": "/", "query": q,
                "headers": headers, "body": body, "date": t})
        })
        .collect();
    let theirs = sdk_sign(&inputs);
    for ((method, host, query, ct, body, t), sdk) in cases.iter().zip(&theirs) {
        let mut headers = vec![("Host", *host)];
        if *ct {
            headers.push(("Content-Type", "application/json"));
        }
        let ours = volc::sign(
            &VolcRequest {
                method,
                path: "/",
                query,
                headers: &headers,
                payload: body.as_bytes(),
            },
            VolcCredentials {
                access_key_id: "AKEXAMPLE",
                secret_access_key: "SKEXAMPLE",
            },
            VolcScope {
                region: "cn-north-1",
                service: "DNS",
            },
            *t,
        );
        assert_eq!(
            ours.authorization,
            sdk["authorization"].as_str().unwrap(),
            "{method} {query:?}"
        );
    }
    assert!(theirs[0]["authorization"]
        .as_str()
        .unwrap()
        .ends_with("Signature=673de8a1da6ab438d7e78b6c40890aa7cac30ce4c6facb0c501b9db0f91fd8cf"));
}

/// Every request ddnsd sent, signed again by the SDK from what arrived: the same
/// `Authorization`.
#[tokio::test]
async fn the_requests_ddnsd_sends_are_signed_as_the_sdk_signs_them() {
    let emu = emulator("s3cret");
    emu.state().add_record(ZONE, "home", "AAAA", A3, 600);
    let p = provider(&emu, "s3cret");
    let h = p
        .apply_rrset(&rrset("home.example.com", 600, &[A1, A2]), &none())
        .await
        .unwrap();
    p.apply_rrset(&rrset("home.example.com", 600, &[]), &h)
        .await
        .unwrap();
    let sent = emu.state().last_requests.clone();
    let ops = [
        "ListZones",
        "ListRecords",
        "CreateRecord",
        "UpdateRecord",
        "DeleteRecord",
    ];
    let cases: Vec<serde_json::Value> = ops
        .iter()
        .map(|op| {
            let r = &sent[*op];
            let x_date = r.header("x-date").unwrap();
            let t = crate::harness::emu_http::unix_of(
                x_date[0..4].parse().unwrap(), x_date[4..6].parse().unwrap(), x_date[6..8].parse().unwrap(),
                x_date[9..11].parse().unwrap(), x_date[11..13].parse().unwrap(), x_date[13..15].parse().unwrap(),
            );
            let q: serde_json::Map<String, serde_json::Value> =
                r.query().into_iter().map(|(k, v)| (k, v.into())).collect();
            serde_json::json!({"ak": AK, "sk": "s3cret", "region": "cn-north-1", "service": "DNS",
                "method": r.method, "host": r.header("host").unwrap(), "path": r.path, "query": q,
                "headers": {"Host": r.header("host").unwrap(), "Content-Type": r.header("content-type").unwrap()},
                "body": String::from_utf8(r.body.clone()).unwrap(), "date": t})
        })
        .collect();
    let theirs = tokio::task::spawn_blocking(move || sdk_sign(&cases))
        .await
        .unwrap();
    for (op, sdk) in ops.iter().zip(&theirs) {
        assert_eq!(
            sent[*op].header("authorization"),
            sdk["authorization"].as_str(),
            "{op}"
        );
        assert_eq!(
            sent[*op].header("x-content-sha256"),
            sdk["content_sha256"].as_str(),
            "{op}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The built binary.

fn cli_config(dir: &Path, emu: &VolcEmu, addr: &str) -> String {
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = ["{addr}"]

[providers.volc]
kind = "volcengine"
access_key_id = "{AK}"
secret_access_key_env = "DDNSD_TEST_SECRET"
endpoint = "{endpoint}"

[[records]]
name = "home.example.com"
provider = "volc"
sources = ["fixed"]
ttl = 600
"#,
        state = dir.join("state.json").display(),
        endpoint = emu.endpoint(),
    );
    crate::harness::write(dir, "ddnsd.toml", &text)
}

fn run_once(config: &str, secret: &str) -> (i32, String, String) {
    let mut c = crate::harness::ddnsd();
    c.env("DDNSD_TEST_SECRET", secret)
        .args(["run", "--once", "-c", config]);
    crate::harness::output(c)
}

#[test]
fn cli_create_unchanged_update_and_a_wrong_secret() {
    let emu = emulator("s3cret");
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "2001:db8::10");
    let (code, stdout, stderr) = run_once(&config, "s3cret");
    assert_eq!(
        (code, stdout.as_str()),
        (0, "home.example.com AAAA 2001:db8::10  created\n"),
        "{stderr}"
    );
    emu.state().calls.clear();
    let (code, stdout, _) = run_once(&config, "s3cret");
    assert_eq!(
        (code, stdout.as_str()),
        (0, "home.example.com AAAA 2001:db8::10  unchanged\n")
    );
    assert_eq!(emu.state().total_calls(), 0);
    let config = cli_config(dir.path(), &emu, "2001:db8::11");
    let (code, stdout, stderr) = run_once(&config, "s3cret");
    assert_eq!(
        (code, stdout.as_str()),
        (
            0,
            "home.example.com AAAA 2001:db8::11  updated (was 2001:db8::10)\n"
        ),
        "{stderr}"
    );
    assert_eq!(emu.state().writes(), 1);
    let config = cli_config(dir.path(), &emu, "2001:db8::12");
    emu.state().calls.clear();
    let (code, stdout, stderr) = run_once(&config, "wrong-secret");
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.starts_with("home.example.com AAAA 2001:db8::12  failed: UpdateRecord failed: SignatureDoesNotMatch: "), "{stdout}");
    assert!(
        stderr.ends_with(&format!("\n  hint: {AUTH_HINT}\n")),
        "{stderr}"
    );
    assert_eq!(emu.state().total_calls(), 1);
}

#[test]
fn the_example_block_is_a_valid_config_and_region_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let rest = "\n[sources.wan6]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"home.example.com\"\nprovider = \"volc\"\nsources = [\"wan6\"]\n";
    let example = ddnsd::provider::volcengine::KIND.example;
    let path = crate::harness::write(dir.path(), "ddnsd.toml", &format!("{example}{rest}"));
    let mut c = crate::harness::ddnsd();
    c.env("VOLCENGINE_SECRET_ACCESS_KEY", "x")
        .args(["check", "-c", &path]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
    let bad = example.replace("# region = \"cn-north-1\"", "region = \"Beijing 1\"");
    let path = crate::harness::write(dir.path(), "bad.toml", &format!("{bad}{rest}"));
    let mut c = crate::harness::ddnsd();
    c.env("VOLCENGINE_SECRET_ACCESS_KEY", "x")
        .args(["check", "-c", &path]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        format!("{path}:6:10: region \"Beijing 1\" is not a region name\n  hint: write a Volcengine region such as \"cn-north-1\" (the DNS API's)\n")
    );
}
