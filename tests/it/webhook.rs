//! The webhook provider against a local recording endpoint (`harness/webhook_server.rs`):
//! what is sent (method, URL and body placeholders escaped by context, headers from the config,
//! a file and the environment), what each reply status means, and `ddnsd run --once`; the URL
//! token, header values and body never appear in any output.
//!
//! See: issue 9, item 8.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ddnsd::provider::{Provider, ProviderDeps, ProviderErrorKind};
use ddnsd::record::{RecordKey, RecordType, RrSet, Ttl};
use serde_json::json;

use crate::harness::emu_http::Outcome;
use crate::harness::records::{deps_with, ip, none};
use crate::harness::webhook_server::WebhookServer;

const HOST: &str = "home.example.com";
const TOKEN: &str = "tok-9f8e7d";
const BEARER: &str = "Bearer hook-secret-1";

fn deps() -> ProviderDeps {
    deps_with(
        Duration::from_secs(1),
        Duration::from_secs(2),
        Duration::from_secs(1),
    )
}

/// Builds `[providers.hook]` from `table` through the config reader (env: `HOOK_AUTH`).
fn provider(table: &str) -> Arc<dyn Provider> {
    let env = |v: &str| match v {
        "HOOK_AUTH" => Some(BEARER.to_owned()),
        _ => None,
    };
    let text = format!(
        "[providers.hook]\n{table}\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"{HOST}\"\nprovider = \"hook\"\nsources = [\"s\"]\n"
    );
    let c = ddnsd::config::from_text(&text, Path::new("t.toml"), &env)
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    c.providers["hook"].build("hook", &deps())
}

/// Writes a secret file that only its owner can read (ddnsd refuses others).
fn write_secret(dir: &Path, name: &str, text: &str) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let path = crate::harness::write(dir, name, text);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn rrset(rtype: RecordType, addrs: &[&str]) -> RrSet {
    RrSet {
        name: HOST.parse().unwrap(),
        rtype,
        ttl: Ttl(300),
        addrs: addrs.iter().map(|a| ip(a)).collect(),
    }
}

#[tokio::test]
async fn posts_the_rendered_json_body_with_every_header_form() {
    let hook = WebhookServer::start();
    hook.state().require = Some(("Authorization".into(), BEARER.into()));
    let dir = tempfile::tempdir().unwrap();
    let file = write_secret(dir.path(), "x-key", "from-a-file\n");
    let p = provider(&format!(
        r#"kind = "webhook"
url = "{base}/ddns/{{zone}}?token={TOKEN}&rec={{name}}"
zone = "example.com"
body = '{{"name": "{{name}}", "type": "{{type}}", "addresses": {{addresses_json}}, "first": "{{address}}", "all": "{{addresses}}", "ttl": {{ttl}}, "zone": "{{zone}}"}}'
[providers.hook.headers]
Authorization_env = "HOOK_AUTH"
X-Key_file = "{file}"
X-Static = "plain"
"#,
        base = hook.base_url()
    ));
    let hints = p
        .apply_rrset(
            &rrset(RecordType::Aaaa, &["2001:db8::2", "2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap();
    assert_eq!(hook.calls(), 1);
    let r = hook.last();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/ddns/example.com");
    assert_eq!(r.raw_query, format!("token={TOKEN}&rec=home.example.com"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("authorization"), Some(BEARER));
    assert_eq!(r.header("x-key"), Some("from-a-file"));
    assert_eq!(r.header("x-static"), Some("plain"));
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        json!({"name": HOST, "type": "AAAA", "addresses": ["2001:db8::1", "2001:db8::2"],
               "first": "2001:db8::1", "all": "2001:db8::1,2001:db8::2", "ttl": 300, "zone": "example.com"})
    );
    assert_eq!(hints.0["published"], "2001:db8::1,2001:db8::2");
}

/// An update-URL service in the DuckDNS style: GET, values in the URL, a 200 whose body says
/// `OK` or `KO`.
#[tokio::test]
async fn get_with_url_placeholders_and_an_expected_reply() {
    let hook = WebhookServer::start();
    let p = provider(&format!(
        "kind = \"webhook\"\nmethod = \"GET\"\nurl = \"{}/update?domains=home&token={TOKEN}&ip={{address}}\"\nexpect_body = \"OK\"\n",
        hook.base_url()
    ));
    hook.script(Outcome::text(200, "OK"));
    p.apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::1"]), &none())
        .await
        .unwrap();
    let r = hook.last();
    assert_eq!(
        (r.method.as_str(), r.param("ip").as_deref()),
        ("GET", Some("2001:db8::1"))
    );
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-type"), None);
    hook.script(Outcome::text(200, "KO"));
    let err = p
        .apply_rrset(&rrset(RecordType::A, &["192.0.2.1"]), &none())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Rejected);
    assert_eq!(
        err.message,
        format!(
            "{} answered http 200 without the expected reply",
            hook.host_port()
        )
    );
    assert_eq!(hook.calls(), 2);
}

#[tokio::test]
async fn a_form_body_is_percent_encoded() {
    let hook = WebhookServer::start();
    let p = provider(&format!(
        "kind = \"webhook\"\nurl = \"{}/form\"\nmethod = \"put\"\nbody = \"host={{name}}&ips={{addresses_json}}\"\n[providers.hook.headers]\nContent-Type = \"application/x-www-form-urlencoded\"\n",
        hook.base_url()
    ));
    p.apply_rrset(&rrset(RecordType::A, &["192.0.2.1"]), &none())
        .await
        .unwrap();
    let r = hook.last();
    assert_eq!(r.method, "PUT");
    assert_eq!(
        r.body_text(),
        "host=home.example.com&ips=%5B%22192.0.2.1%22%5D"
    );
}

/// What each reply means, end to end: the kind, the message, how many requests.
#[tokio::test]
async fn reply_statuses() {
    use ProviderErrorKind as K;
    let hook = WebhookServer::start();
    let svc = hook.host_port();
    let p = provider(&format!(
        "kind = \"webhook\"\nurl = \"{}/x?token={TOKEN}\"\nbody = '{{\"ip\": \"{{address}}\"}}'\n",
        hook.base_url()
    ));
    let desired = rrset(RecordType::Aaaa, &["2001:db8::1"]);
    let hints = none();
    let send = || p.apply_rrset(&desired, &hints);

    // Retried within the call, then success.
    for first in [
        Outcome::text(500, "oops"),
        Outcome::text(408, ""),
        Outcome::with_header(429, "slow down", "Retry-After", "1"),
    ] {
        hook.state().received.clear();
        hook.script(first.clone());
        send().await.unwrap_or_else(|e| panic!("{first:?}: {e}"));
        assert_eq!(hook.calls(), 2, "{first:?}");
    }
    // Final answers: one request each.
    let cases = [
        (
            Outcome::text(401, "no"),
            K::Auth,
            format!("{svc} refused the credentials (http 401)"),
        ),
        (
            Outcome::text(403, "no"),
            K::Auth,
            format!("{svc} refused the credentials (http 403)"),
        ),
        (
            Outcome::text(404, "nope"),
            K::Rejected,
            format!("{svc} rejected the POST request (http 404)"),
        ),
        (
            Outcome::text(422, "bad"),
            K::Rejected,
            format!("{svc} rejected the POST request (http 422)"),
        ),
        (
            Outcome::with_header(429, "", "Retry-After", "60"),
            K::RateLimited {
                retry_after: Some(Duration::from_secs(60)),
            },
            format!("{svc} is rate limiting requests (http 429)"),
        ),
        (
            Outcome::Hang,
            K::Unconfirmed,
            format!("POST to {svc} could not confirm: timed out after 1s"),
        ),
    ];
    for (answer, kind, message) in cases {
        hook.state().received.clear();
        hook.script(answer.clone());
        let err = send().await.unwrap_err();
        assert_eq!((err.kind, err.message), (kind, message), "{answer:?}");
        assert_eq!(hook.calls(), 1, "{answer:?}");
    }
    // Bounded: three 503s give up.
    hook.state().received.clear();
    for _ in 0..3 {
        hook.script(Outcome::text(503, ""));
    }
    let err = send().await.unwrap_err();
    assert_eq!(
        (err.kind, err.message),
        (K::Transient, format!("{svc} failed (http 503)"))
    );
    assert_eq!(hook.calls(), 3);
    // A dropped connection: the library quotes the URL; the token is cut out of the message.
    hook.state().received.clear();
    for _ in 0..3 {
        hook.script(Outcome::Close);
    }
    let err = send().await.unwrap_err();
    assert_eq!(err.kind, K::Transient, "{err}");
    assert!(!err.message.contains(TOKEN), "{err}");
    assert!(err.message.contains(&format!("http://{svc}/…")), "{err}");
    // The endpoint's own check: a missing credential is 401, one request.
    hook.state().received.clear();
    hook.state().require = Some(("Authorization".into(), BEARER.into()));
    let err = send().await.unwrap_err();
    assert_eq!(err.kind, K::Auth);
    assert_eq!(
        err.hint().unwrap(),
        "check the url and headers (e.g. Authorization) of [providers.hook]; ddnsd retries after the config is reloaded"
    );
    assert_eq!(hook.calls(), 1);
}

#[tokio::test]
async fn read_rrset_reads_nothing_and_reports_the_acknowledged_set() {
    let hook = WebhookServer::start();
    let p = provider(&format!(
        "kind = \"webhook\"\nurl = \"{}/x\"\n",
        hook.base_url()
    ));
    let key = RecordKey {
        name: HOST.parse().unwrap(),
        rtype: RecordType::A,
    };
    let live = p.read_rrset(&key, &none()).await.unwrap();
    assert!(live.addrs.is_empty() && live.ttl.is_none());
    let hints = p
        .apply_rrset(&rrset(RecordType::A, &["192.0.2.1"]), &none())
        .await
        .unwrap();
    let live = p.read_rrset(&key, &hints).await.unwrap();
    assert_eq!(
        (live.addrs.to_string(), live.ttl),
        ("192.0.2.1".into(), Some(Ttl(300)))
    );
    assert_eq!(hook.calls(), 1, "reads cost no request");
}

#[tokio::test]
async fn records_outside_the_zone_are_refused_without_a_request() {
    let hook = WebhookServer::start();
    let p = provider(&format!(
        "kind = \"webhook\"\nurl = \"{}/x\"\nzone = \"example.org\"\n",
        hook.base_url()
    ));
    let err = p
        .apply_rrset(&rrset(RecordType::A, &["192.0.2.1"]), &none())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Rejected);
    assert_eq!(hook.calls(), 0);
}

// ---------------------------------------------------------------------------------------------
// The built binary.

/// A config calling the endpoint for home.example.com (static `addrs`): the URL holds the
/// token from `DDNSD_TEST_URL`'s value, the Authorization header comes from
/// `DDNSD_TEST_SECRET`, the body template from a file.
fn cli_config(dir: &Path, addrs: &[&str]) -> String {
    let list: Vec<String> = addrs.iter().map(|a| format!("\"{a}\"")).collect();
    let body = write_secret(
        dir,
        "body.json",
        "{\"host\": \"{name}\", \"type\": \"{type}\", \"ips\": {addresses_json}}\n",
    );
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = [{list}]

[providers.hook]
kind = "webhook"
url_env = "DDNSD_TEST_URL"
body_file = "{body}"

[providers.hook.headers]
Authorization_env = "DDNSD_TEST_SECRET"

[[records]]
name = "{HOST}"
provider = "hook"
sources = ["fixed"]
ttl = 300
"#,
        state = dir.join("state.json").display(),
        list = list.join(", "),
    );
    crate::harness::write(dir, "ddnsd.toml", &text)
}

fn run_once(config: &str, url: &str, auth: &str, extra: &[&str]) -> (i32, String, String) {
    let mut c = crate::harness::ddnsd();
    c.env("DDNSD_TEST_URL", url)
        .env("DDNSD_TEST_SECRET", auth)
        .args(extra)
        .args(["run", "--once", "-c", config]);
    crate::harness::output(c)
}

#[test]
fn cli_run_once_calls_once_per_change() {
    let hook = WebhookServer::start();
    hook.state().require = Some(("Authorization".into(), BEARER.into()));
    let url = format!("{}/ddns?token={TOKEN}", hook.base_url());
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &["2001:db8::10", "192.0.2.10"]);
    let (code, stdout, stderr) = run_once(&config, &url, BEARER, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "home.example.com AAAA 2001:db8::10  created\nhome.example.com A 192.0.2.10  created\n"
    );
    assert_eq!(hook.calls(), 2);
    let bodies: Vec<serde_json::Value> = hook
        .state()
        .received
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            json!({"host": HOST, "type": "AAAA", "ips": ["2001:db8::10"]}),
            json!({"host": HOST, "type": "A", "ips": ["192.0.2.10"]})
        ]
    );

    let (code, stdout, _) = run_once(&config, &url, BEARER, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "home.example.com AAAA 2001:db8::10  unchanged\nhome.example.com A 192.0.2.10  unchanged\n"
    );
    assert_eq!(hook.calls(), 2, "unchanged costs no request");

    let config = cli_config(dir.path(), &["2001:db8::10", "192.0.2.11"]);
    let (code, stdout, stderr) = run_once(&config, &url, "Bearer wrong", &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let why = format!("{} refused the credentials (http 401)", hook.host_port());
    assert_eq!(
        stdout,
        format!("home.example.com AAAA 2001:db8::10  unchanged\nhome.example.com A 192.0.2.11  failed: {why}\n")
    );
    assert_eq!(
        stderr,
        format!("error: home.example.com A via hook: {why}\n  hint: check the url and headers (e.g. Authorization) of [providers.hook]; ddnsd retries after the config is reloaded\n")
    );
    assert_eq!(hook.calls(), 3);
}

/// Trace-level output of the binary — success, a refused credential, a failing endpoint, a
/// dropped connection (whose error quotes the URL) — never holds the URL's token, a header
/// value or the body.
#[test]
fn cli_trace_output_never_holds_url_header_or_body_secrets() {
    const MARKER: &str = "MARKER-5b7a1c-SECRET";
    let hook = WebhookServer::start();
    let url = format!("{}/ddns?token={MARKER}-url", hook.base_url());
    let auth = format!("Bearer {MARKER}-header");
    let dir = tempfile::tempdir().unwrap();
    let mut all = String::new();
    let mut run = |addr: &str, answers: Vec<Outcome>| {
        for a in answers {
            hook.script(a);
        }
        let config = cli_config(dir.path(), &[addr]);
        // The body template holds a secret too.
        write_secret(
            dir.path(),
            "body.json",
            &format!("{{\"key\": \"{MARKER}-body\", \"ips\": {{addresses_json}}}}"),
        );
        let (_, stdout, stderr) = run_once(&config, &url, &auth, &["--log-level", "trace"]);
        all.push_str(&stdout);
        all.push_str(&stderr);
    };
    run(
        "2001:db8::20",
        vec![Outcome::text(200, &format!("echo {MARKER}"))],
    );
    run("2001:db8::21", vec![Outcome::text(401, MARKER)]);
    run(
        "2001:db8::22",
        vec![
            Outcome::text(500, ""),
            Outcome::text(500, ""),
            Outcome::text(500, ""),
        ],
    );
    run(
        "2001:db8::23",
        vec![Outcome::Close, Outcome::Close, Outcome::Close],
    );
    assert!(all.contains("TRACE"), "trace output captured:\n{all}");
    assert!(all.contains("calling the webhook"), "{all}");
    assert!(
        all.contains("/…"),
        "the dropped connection's error is there, cut:\n{all}"
    );
    assert!(!all.contains(MARKER), "a secret leaked:\n{all}");
    let bodies = hook
        .state()
        .received
        .iter()
        .filter(|r| r.body_text().contains(MARKER))
        .count();
    assert_eq!(bodies, hook.calls(), "the endpoint did get the secrets");
}
