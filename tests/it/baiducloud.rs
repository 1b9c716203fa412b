//! `kind = "baiducloud"` against the local Baidu Cloud DNS emulator (which verifies every BCE
//! auth v1 signature), the signer cross-check with the official `bce-python-sdk`, and `ddnsd
//! run --once` / `check`.
//!
//! See: issue 10 (Baidu Cloud DNS).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use ddnsd::provider::baiducloud::BaiduCloudSettings;
use ddnsd::provider::sign::bce::{self, BceCredentials, BceRequest};
use ddnsd::provider::{Configured, Provider, ProviderErrorKind, ProviderHints};
use ddnsd::record::{RecordKey, RecordType, RrSet, Ttl};
use ddnsd::secret::Secret;

use crate::harness::baidu_emu::BaiduEmu;
use crate::harness::records::deps;
use crate::harness::records::none;

const ZONE: &str = "example.com";
const AK: &str = "ALTAKTESTACCESSKEY00000000";
const A1: &str = "2001:db8::1";
const A2: &str = "2001:db8::2";
const A3: &str = "2001:db8::3";
const AUTH_HINT: &str = "check access_key_id/secret_access_key; the key's IAM user needs DNS full control (DNSFullControlPolicy)";

fn emulator(secret: &str) -> BaiduEmu {
    let emu = BaiduEmu::start();
    {
        let mut st = emu.state();
        st.keys.insert(AK.into(), secret.into());
        st.add_zone("example.org");
        st.add_zone(ZONE);
    }
    emu
}

fn provider(emu: &BaiduEmu, secret: &str) -> Arc<dyn Provider> {
    BaiduCloudSettings {
        access_key_id: AK.into(),
        secret_access_key: Secret::new(secret.into()),
        zone: None,
        endpoint: emu.endpoint(),
    }
    .build("baidu", &deps())
}

fn rrset(name: &str, addrs: &[&str]) -> RrSet {
    RrSet {
        name: name.parse().unwrap(),
        rtype: RecordType::Aaaa,
        ttl: Ttl(300),
        addrs: addrs.iter().map(|a| a.parse::<IpAddr>().unwrap()).collect(),
    }
}

fn key(name: &str) -> RecordKey {
    RecordKey {
        name: name.parse().unwrap(),
        rtype: RecordType::Aaaa,
    }
}

/// Creates carry a `clientToken` and the fields of the documented body; an update re-points
/// the same record id; other names and types stay.
#[tokio::test]
async fn create_then_update_reuses_the_record() {
    let emu = emulator("s3cret");
    emu.state().add_record(ZONE, "home", "A", "192.0.2.1", 300);
    let p = provider(&emu, "s3cret");
    let h = p
        .apply_rrset(&rrset("home.example.com", &[A1]), &none())
        .await
        .unwrap();
    let id = {
        let st = emu.state();
        let create = &st.last_requests["CreateRecord"];
        assert_eq!(create.path, "/v1/dns/zone/example.com/record");
        let q = create.query();
        assert_eq!(q[0].0, "clientToken");
        assert!(q[0].1.starts_with("ddnsd-") && q[0].1.len() <= 64);
        let body: serde_json::Value = serde_json::from_slice(&create.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"rr": "home", "type": "AAAA", "value": A1, "ttl": 300, "line": "default"})
        );
        st.records(ZONE, "home", "AAAA")[0].id.clone()
    };
    p.apply_rrset(&rrset("home.example.com", &[A2]), &h)
        .await
        .unwrap();
    let st = emu.state();
    let recs = st.records(ZONE, "home", "AAAA");
    assert_eq!(
        (recs.len(), recs[0].id.as_str(), recs[0].value.as_str()),
        (1, id.as_str(), A2)
    );
    assert_eq!(st.count("UpdateRecord"), 1);
    assert_eq!(st.values(ZONE, "home", "A"), ["192.0.2.1"]);
}

/// Lists are followed through `nextMarker`; the AAAA rows are picked out of the name's rows.
#[tokio::test]
async fn pages_are_followed() {
    let emu = emulator("s3cret");
    {
        let mut st = emu.state();
        st.page_cap = 1;
        for v in [A1, A2, A3] {
            st.add_record(ZONE, "home", "AAAA", v, 300);
        }
        st.add_record(ZONE, "home", "TXT", "x", 300);
    }
    let live = provider(&emu, "s3cret")
        .read_rrset(&key("home.example.com"), &none())
        .await
        .unwrap();
    assert_eq!(live.addrs.len(), 3);
    let st = emu.state();
    assert_eq!((st.count("ListZone"), st.count("ListRecord")), (2, 4));
}

/// A remembered record deleted by someone else: the update's 404 leads to one more read and
/// a create.
#[tokio::test]
async fn a_vanished_record_is_read_again() {
    let emu = emulator("s3cret");
    let id = emu.state().add_record(ZONE, "home", "AAAA", A1, 300);
    let p = provider(&emu, "s3cret");
    let live = p
        .read_rrset(&key("home.example.com"), &none())
        .await
        .unwrap();
    emu.state().remove_record(&id);
    p.apply_rrset(&rrset("home.example.com", &[A2]), &live.hints)
        .await
        .unwrap();
    let st = emu.state();
    assert_eq!(st.values(ZONE, "home", "AAAA"), [A2]);
    assert_eq!((st.count("UpdateRecord"), st.count("CreateRecord")), (1, 1));
}

/// A wrong secret or an unknown key: Auth after exactly one call; an expired signature:
/// clock skew with the measured offset.
#[tokio::test]
async fn auth_and_clock_errors() {
    let emu = emulator("right");
    let e = provider(&emu, "wrong")
        .read_rrset(&key("home.example.com"), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert_eq!(e.message, "ListZone failed: SignatureDoesNotMatch: \"The request signature we calculated does not match the signature you provided. Check your Secret Access Key and signing method. Consult the service documentation for details.\"");
    assert_eq!(e.hint.as_deref(), Some(AUTH_HINT));
    assert_eq!(emu.state().total_calls(), 1);
    emu.state().keys.clear();
    let e = provider(&emu, "right")
        .read_rrset(&key("home.example.com"), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert!(e.message.contains("InvalidAccessKeyId"));
    emu.state().keys.insert(AK.into(), "right".into());
    emu.state().clock_offset = 3600;
    let e = provider(&emu, "right")
        .read_rrset(&key("home.example.com"), &none())
        .await
        .unwrap_err();
    let ProviderErrorKind::ClockSkew { offset_secs } = e.kind else {
        panic!("{e:?}");
    };
    assert!((3598..=3602).contains(&offset_secs), "{offset_secs}");
}

/// Replies that are not the API's (HTML, half a document, JSON of another shape) are
/// protocol errors naming the operation, never trusted and not retried.
#[tokio::test]
async fn replies_of_the_wrong_shape_are_protocol_errors() {
    use crate::harness::baidu_emu::Fault;
    for fault in [Fault::Malformed, Fault::Truncated, Fault::WrongShape] {
        let emu = emulator("s3cret");
        emu.inject(Some("ListRecord"), fault.clone());
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
            e.message.starts_with("ListRecord"),
            "{fault:?}: {}",
            e.message
        );
        assert_eq!(emu.state().count("ListRecord"), 1, "{fault:?}: not retried");
    }
}

// ---------------------------------------------------------------------------------------------
// Cross-check with bce-python-sdk.

fn sdk_sign(cases: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let python =
        crate::harness::sdk::python("baidu", &["bce-python-sdk"], "baidubce.auth.bce_v1_signer");
    crate::harness::sdk::run(&python, "bce_sign.py", cases)
}

/// (method, host, path, query, unix time).
type Case = (
    &'static str,
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    u64,
);

#[test]
fn signatures_match_bce_python_sdk() {
    // (method, host, path, query, unix time)
    let cases: Vec<Case> = vec![
        (
            "GET",
            "dns.baidubce.com",
            "/v1/dns/zone/example.com/record",
            vec![("rr", "home")],
            1_700_000_000,
        ),
        (
            "GET",
            "127.0.0.1:8080",
            "/v1/dns/zone",
            vec![("maxKeys", "1000"), ("marker", "zone-1002")],
            1_709_251_199,
        ),
        (
            "POST",
            "dns.baidubce.com",
            "/v1/dns/zone/example.com/record",
            vec![("clientToken", "ddnsd-0123")],
            86_400,
        ),
        (
            "PUT",
            "dns.baidubce.com",
            "/v1/dns/zone/例子.中国/record/12345",
            vec![("clientToken", "a b*~/")],
            4_102_444_800,
        ),
        (
            "DELETE",
            "dns.baidubce.com",
            "/v1/dns/zone/example.com/record/9",
            vec![("a-b", "1"), ("a", "2"), ("e", "")],
            1_600_000_000,
        ),
    ];
    let inputs: Vec<serde_json::Value> = cases
        .iter()
        .map(|(method, host, path, query, t)| {
            let params: serde_json::Map<String, serde_json::Value> = query
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect();
            serde_json::json!({"ak": "AKEXAMPLE", "sk": "SKEXAMPLE", "method": method,
                "path": bce::canonical_uri(path),
                "headers": {"host": host, "x-bce-date": ddnsd::provider::sign::acs3::timestamp(*t)},
                "params": params, "timestamp": t, "headers_to_sign": ["host", "x-bce-date"]})
        })
        .collect();
    let theirs = sdk_sign(&inputs);
    for ((method, host, path, query, t), sdk) in cases.iter().zip(&theirs) {
        let ours = bce::sign(
            &BceRequest {
                method,
                path,
                query,
                headers: &[("host", host)],
            },
            BceCredentials {
                access_key_id: "AKEXAMPLE",
                secret_access_key: "SKEXAMPLE",
            },
            *t,
        );
        assert_eq!(
            ours.authorization,
            sdk["authorization"].as_str().unwrap(),
            "{method} {path}"
        );
    }
    assert!(theirs[0]["authorization"].as_str().unwrap().ends_with(
        "/host;x-bce-date/88d136dfef8fb3e72d6cfc251bb28012cc65317127da0b1b9313de65875ca45f"
    ));
}

/// Every request ddnsd sent to the emulator, signed again by the SDK from what arrived: the
/// same `Authorization`.
#[tokio::test]
async fn the_requests_ddnsd_sends_are_signed_as_the_sdk_signs_them() {
    let emu = emulator("s3cret");
    emu.state().add_record(ZONE, "home", "AAAA", A3, 300);
    let p = provider(&emu, "s3cret");
    let h = p
        .apply_rrset(&rrset("home.example.com", &[A1, A2]), &none())
        .await
        .unwrap();
    p.apply_rrset(&rrset("home.example.com", &[]), &h)
        .await
        .unwrap();
    let sent = emu.state().last_requests.clone();
    let ops = [
        "ListZone",
        "ListRecord",
        "CreateRecord",
        "UpdateRecord",
        "DeleteRecord",
    ];
    let cases: Vec<serde_json::Value> = ops
        .iter()
        .map(|op| {
            let r = &sent[*op];
            let params: serde_json::Map<String, serde_json::Value> =
                r.query().into_iter().map(|(k, v)| (k, v.into())).collect();
            let auth = r.header("authorization").unwrap();
            let t = auth.split('/').nth(2).unwrap();
            let unix = crate::harness::emu_http::unix_of(
                t[0..4].parse().unwrap(), t[5..7].parse().unwrap(), t[8..10].parse().unwrap(),
                t[11..13].parse().unwrap(), t[14..16].parse().unwrap(), t[17..19].parse().unwrap(),
            );
            serde_json::json!({"ak": AK, "sk": "s3cret", "method": r.method, "path": r.path,
                "headers": {"host": r.header("host").unwrap(), "x-bce-date": r.header("x-bce-date").unwrap()},
                "params": params, "timestamp": unix, "headers_to_sign": ["host", "x-bce-date"]})
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
    }
}

// ---------------------------------------------------------------------------------------------
// The built binary.

fn cli_config(dir: &Path, emu: &BaiduEmu, addr: &str) -> String {
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = ["{addr}"]

[providers.baidu]
kind = "baiducloud"
access_key_id = "{AK}"
secret_access_key_env = "DDNSD_TEST_SECRET"
endpoint = "{endpoint}"

[[records]]
name = "home.example.com"
provider = "baidu"
sources = ["fixed"]
ttl = 300
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
    emu.state().calls.clear();
    let config = cli_config(dir.path(), &emu, "2001:db8::12");
    let (code, stdout, stderr) = run_once(&config, "wrong-secret");
    assert_eq!(code, 1, "{stdout}{stderr}");
    // The remembered record ids make the write the first call.
    let why = "UpdateRecord failed: SignatureDoesNotMatch: \"The request signature we calculated does not match the signature you provided. Check your Secret Access Key and signing method. Consult the service documentation for details.\"";
    assert_eq!(
        stdout,
        format!("home.example.com AAAA 2001:db8::12  failed: {why}\n")
    );
    assert_eq!(
        stderr,
        format!("error: home.example.com AAAA via baidu: {why}\n  hint: {AUTH_HINT}\n")
    );
    assert_eq!(emu.state().total_calls(), 1);
}

#[test]
fn the_example_block_is_a_valid_config() {
    let dir = tempfile::tempdir().unwrap();
    let rest = "\n[sources.wan6]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"home.example.com\"\nprovider = \"baidu\"\nsources = [\"wan6\"]\n";
    let example = ddnsd::provider::baiducloud::KIND.example;
    let path = crate::harness::write(dir.path(), "ddnsd.toml", &format!("{example}{rest}"));
    let mut c = crate::harness::ddnsd();
    c.env("BAIDUCLOUD_SECRET_ACCESS_KEY", "x")
        .args(["check", "-c", &path]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
}
