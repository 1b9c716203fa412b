//! The `powerdns` provider against a real PowerDNS Authoritative server: what the conformance
//! battery does not cover — the RRset's comments and disabled records, the longest of several
//! zones, and the built binary's lines.
//!
//! See: issue 9 item 5.

use std::sync::Arc;
use std::time::Duration;

use ddnsd::clock::SystemClock;
use ddnsd::http::{Backoff, HttpClient, HttpSettings, Method, Request};
use ddnsd::provider::powerdns::PowerDnsSettings;
use ddnsd::provider::{Configured, Provider, ProviderDeps, ProviderErrorKind, ProviderHints};
use ddnsd::record::{Fqdn, RecordKey, RecordType, RrSet, Ttl};
use ddnsd::secret::Secret;
use serde_json::{json, Value};

use crate::harness::dns::query_values;
use crate::harness::pdns::{PdnsConfig, PdnsServer};

const KEY: &str = "pdns-test-api-key";

fn server() -> PdnsServer {
    PdnsServer::start(&PdnsConfig {
        zone: "example.test".into(),
        records: vec![
            ("home".into(), "A".into(), 600, "192.0.2.1".into()),
            ("home".into(), "TXT".into(), 600, "\"keep\"".into()),
        ],
        api_key: KEY.into(),
        update_key: None,
    })
}

fn http() -> HttpClient {
    HttpClient::new(&HttpSettings::default())
}

fn provider(server: &PdnsServer, key: &str) -> Arc<dyn Provider> {
    PowerDnsSettings {
        endpoint: format!("http://{}/api/v1", server.api()),
        api_key: Secret::new(key.into()),
        server_id: "localhost".into(),
        zone: None,
    }
    .build(
        "pdns",
        &ProviderDeps {
            clock: Arc::new(SystemClock),
            http: http(),
            backoff: Backoff {
                attempts: 3,
                base: Duration::from_millis(20),
                max: Duration::from_secs(1),
            },
            timeout: Duration::from_secs(2),
        },
    )
}

/// A call straight to the API (not through the provider).
async fn api(server: &PdnsServer, method: Method, path: &str, body: Option<Value>) -> Value {
    let url = format!("http://{}/api/v1/servers/localhost{path}", server.api());
    let headers = [
        ("X-API-Key", KEY.to_owned()),
        ("Content-Type", "application/json".to_owned()),
    ];
    let resp = http()
        .send(Request {
            method,
            url: &url,
            headers: &headers,
            body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
            timeout: Duration::from_secs(5),
        })
        .await
        .unwrap();
    assert!(
        (200..300).contains(&resp.status),
        "{method:?} {path}: {} {}",
        resp.status,
        String::from_utf8_lossy(&resp.body)
    );
    serde_json::from_slice(&resp.body).unwrap_or(Value::Null)
}

fn rrset_of<'v>(zone: &'v Value, name: &str, rtype: &str) -> Option<&'v Value> {
    zone["rrsets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name && r["type"] == rtype)
}

fn set(name: &str, addrs: &[&str]) -> RrSet {
    RrSet {
        name: Fqdn::parse_relaxed(name).unwrap(),
        rtype: RecordType::Aaaa,
        ttl: Ttl(600),
        addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
    }
}

#[tokio::test]
async fn powerdns_replace_keeps_comments_and_other_rrsets_and_skips_disabled_records() {
    let server = server();
    // An RRset with a comment and a disabled record, made by someone else.
    api(
        &server,
        Method::Patch,
        "/zones/example.test.",
        Some(
            json!({"rrsets": [{"name": "home.example.test.", "type": "AAAA", "ttl": 600,
            "changetype": "REPLACE",
            "records": [{"content": "2001:db8::1", "disabled": false},
                        {"content": "2001:db8::99", "disabled": true}],
            "comments": [{"content": "managed by ddnsd", "account": "ops"}]}]}),
        ),
    )
    .await;
    let p = provider(&server, KEY);
    let key = RecordKey {
        name: Fqdn::parse_relaxed("home.example.test").unwrap(),
        rtype: RecordType::Aaaa,
    };
    let live = p.read_rrset(&key, &ProviderHints::default()).await.unwrap();
    assert_eq!(
        live.addrs,
        set("x.test", &["2001:db8::1"]).addrs,
        "a disabled record is not live"
    );
    assert_eq!(live.ttl, Some(Ttl(600)));
    assert_eq!(live.hints.0["zone"], "example.test");

    p.apply_rrset(
        &set("home.example.test", &["2001:db8::2", "2001:db8::3"]),
        &live.hints,
    )
    .await
    .unwrap();
    let zone = api(&server, Method::Get, "/zones/example.test.", None).await;
    let aaaa = rrset_of(&zone, "home.example.test.", "AAAA").unwrap();
    let mut contents: Vec<&str> = aaaa["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["content"].as_str().unwrap())
        .collect();
    contents.sort();
    assert_eq!(contents, ["2001:db8::2", "2001:db8::3"]);
    assert_eq!(
        aaaa["comments"][0]["content"], "managed by ddnsd",
        "comments kept"
    );
    assert_eq!(
        query_values(
            server.dns(),
            "home.example.test",
            hickory_proto::rr::RecordType::A
        ),
        ["192.0.2.1"]
    );
    assert_eq!(
        query_values(
            server.dns(),
            "home.example.test",
            hickory_proto::rr::RecordType::TXT
        ),
        ["keep"]
    );
}

#[tokio::test]
async fn powerdns_zone_is_the_longest_of_the_servers_zones() {
    let server = server();
    api(
        &server,
        Method::Post,
        "/zones",
        Some(json!({"name": "sub.example.test.", "kind": "Native",
                    "nameservers": ["ns1.example.test."]})),
    )
    .await;
    let p = provider(&server, KEY);
    let hints = p
        .apply_rrset(
            &set("a.sub.example.test", &["2001:db8::5"]),
            &ProviderHints::default(),
        )
        .await
        .unwrap();
    assert_eq!(hints.0["zone"], "sub.example.test");
    let sub = api(&server, Method::Get, "/zones/sub.example.test.", None).await;
    assert!(rrset_of(&sub, "a.sub.example.test.", "AAAA").is_some());
    let parent = api(&server, Method::Get, "/zones/example.test.", None).await;
    assert!(rrset_of(&parent, "a.sub.example.test.", "AAAA").is_none());

    let e = p
        .apply_rrset(
            &set("x.example.org", &["2001:db8::6"]),
            &ProviderHints::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ZoneNotFound, "{e:?}");
    assert_eq!(
        e.message,
        "no domain of this PowerDNS account contains x.example.org"
    );
}

fn cli_config(dir: &std::path::Path, server: &PdnsServer, addr: &str) -> String {
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = ["{addr}"]

[providers.pdns]
kind = "powerdns"
endpoint = "http://{api}"
api_key_env = "DDNSD_TEST_PDNS_KEY"

[[records]]
name = "cli.example.test"
provider = "pdns"
sources = ["fixed"]
ttl = 600
"#,
        state = dir.join("state.json").display(),
        api = server.api(),
    );
    crate::harness::write(dir, "ddnsd.toml", &text)
}

fn run_once(config: &str, key: &str) -> (i32, String, String) {
    let mut c = crate::harness::ddnsd();
    c.env("DDNSD_TEST_PDNS_KEY", key)
        .args(["run", "--once", "-c", config]);
    crate::harness::output(c)
}

#[test]
fn powerdns_cli_created_unchanged_updated_and_wrong_key() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &server, "2001:db8::10");
    let (code, out, err) = run_once(&config, KEY);
    assert_eq!(
        (code, out.as_str()),
        (0, "cli.example.test AAAA 2001:db8::10  created\n"),
        "{err}"
    );
    let (code, out, err) = run_once(&config, KEY);
    assert_eq!(
        (code, out.as_str()),
        (0, "cli.example.test AAAA 2001:db8::10  unchanged\n"),
        "{err}"
    );
    let config = cli_config(dir.path(), &server, "2001:db8::11");
    let (code, out, err) = run_once(&config, KEY);
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "cli.example.test AAAA 2001:db8::11  updated (was 2001:db8::10)\n"
        ),
        "{err}"
    );
    assert_eq!(
        query_values(
            server.dns(),
            "cli.example.test",
            hickory_proto::rr::RecordType::AAAA
        ),
        ["2001:db8::11"]
    );

    let fresh = tempfile::tempdir().unwrap();
    let config = cli_config(fresh.path(), &server, "2001:db8::12");
    let (code, out, err) = run_once(&config, "wrong-key-value");
    let why = "list zones: the api key was rejected (http 401)";
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(
        out,
        format!("cli.example.test AAAA 2001:db8::12  failed: {why}\n")
    );
    assert_eq!(
        err,
        format!("error: cli.example.test AAAA via pdns: {why}\n  hint: check api_key: it must equal the server's api-key setting (the key gives full access to the API; PowerDNS has no narrower permission)\n")
    );
    assert!(!out.contains("wrong-key-value") && !err.contains("wrong-key-value"));
}
