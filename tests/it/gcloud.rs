//! `kind = "gcloud"` against the local token endpoint + Cloud DNS emulator (which verifies
//! every JWT assertion under the service account's public key and every bearer token), the
//! JWT cross-check with the official `google-auth` library (byte for byte), and `ddnsd run
//! --once` / `check` with the key file in each secret form.
//!
//! See: issue 10 (Google Cloud DNS).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ddnsd::provider::gcloud::{GcloudSettings, ServiceAccount};
use ddnsd::provider::sign::google_jwt::{self, Claims, SigningKey};
use ddnsd::provider::{Configured, Provider, ProviderErrorKind, ProviderHints};
use ddnsd::record::{RecordKey, RecordType, RrSet, Ttl};

use crate::harness::gcloud_emu::GcloudEmu;
use crate::harness::records::deps;
use crate::harness::records::none;

const ZONE: &str = "example.com";
const PROJECT: &str = "my-project";
const EMAIL: &str = "ddnsd@my-project.iam.gserviceaccount.com";
const KEY_ID: &str = "0123456789abcdef0123456789abcdef01234567";
const PEM: &str = include_str!("../fixtures/gcloud/test-key.pem");
const OTHER_PEM: &str = include_str!("../fixtures/gcloud/other-key.pem");
const A1: &str = "2001:db8::1";
const A2: &str = "2001:db8::2";
const A3: &str = "2001:db8::3";
const AUTH_HINT: &str = "check credentials: the service account's key must be valid and not deleted; the account needs the DNS Administrator role (roles/dns.admin)";

/// Writes a key file readable by its owner only (ddnsd refuses world-readable secrets).
fn write_key(dir: &Path, name: &str, text: &str) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let path = crate::harness::write(dir, name, text);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn key_file(pem: &str, token_uri: &str) -> String {
    serde_json::json!({"type": "service_account", "project_id": PROJECT,
        "private_key_id": KEY_ID, "private_key": pem, "client_email": EMAIL,
        "client_id": "100000000000000000001", "token_uri": token_uri})
    .to_string()
}

/// An emulator with the account and two public zones (and a private one named like the
/// first).
fn emulator() -> GcloudEmu {
    let emu = GcloudEmu::start(PROJECT);
    emu.add_account(EMAIL, KEY_ID, PEM);
    {
        let mut st = emu.state();
        st.add_zone("example.org");
        st.add_zone(ZONE);
    }
    emu
}

fn settings(emu: &GcloudEmu, pem: &str) -> GcloudSettings {
    let account = ServiceAccount::from_json(&key_file(pem, &emu.token_uri())).unwrap();
    GcloudSettings {
        token_uri: emu.token_uri(),
        account,
        project: PROJECT.into(),
        managed_zone: None,
        endpoint: emu.endpoint(),
    }
}

fn provider(emu: &GcloudEmu) -> Arc<dyn Provider> {
    settings(emu, PEM).build("google", &deps())
}

fn rrset(name: &str, ttl: u32, addrs: &[&str]) -> RrSet {
    RrSet {
        name: name.parse().unwrap(),
        rtype: RecordType::Aaaa,
        ttl: Ttl(ttl),
        addrs: addrs.iter().map(|a| a.parse::<IpAddr>().unwrap()).collect(),
    }
}

/// One token, one zone list, one read, then one change per write; a remembered RRset makes
/// the next change a single call (deletion of the old set + addition of the new one).
#[tokio::test]
async fn one_change_per_write_and_the_token_is_cached() {
    let emu = emulator();
    emu.state()
        .add_rrset(ZONE, "www.example.com", "AAAA", 300, &[A3]);
    let p = provider(&emu);
    let h = p
        .apply_rrset(&rrset("home.example.com", 300, &[A1]), &none())
        .await
        .unwrap();
    {
        let st = emu.state();
        assert_eq!(st.count("token"), 1);
        assert_eq!(st.count("managedZones.list"), 1);
        assert_eq!(st.count("rrsets.list"), 1);
        assert_eq!(st.count("changes.create"), 1);
        assert_eq!(st.values(ZONE, "home.example.com", "AAAA"), [A1]);
        assert_eq!(h.0["managed_zone"], "example-com");
        assert_eq!(h.0["rrdatas"], A1);
    }
    let h = p
        .apply_rrset(&rrset("home.example.com", 600, &[A2, A3]), &h)
        .await
        .unwrap();
    {
        let st = emu.state();
        assert_eq!(st.total_calls(), 5, "{:?}", st.calls);
        assert_eq!(st.count("changes.create"), 2);
        assert_eq!(
            st.changes[1],
            serde_json::json!({"kind": "dns#change",
                "additions": [{"kind": "dns#resourceRecordSet", "name": "home.example.com.", "type": "AAAA", "ttl": 600, "rrdatas": [A2, A3]}],
                "deletions": [{"kind": "dns#resourceRecordSet", "name": "home.example.com.", "type": "AAAA", "ttl": 300, "rrdatas": [A1]}]})
        );
        assert_eq!(st.values(ZONE, "home.example.com", "AAAA"), [A2, A3]);
        let s = st.rrset(ZONE, "home.example.com", "AAAA").unwrap();
        assert_eq!(s.ttl, 600);
        assert_eq!(st.values(ZONE, "www.example.com", "AAAA"), [A3]);
    }
    // Withdrawn: a change with the deletion only.
    p.apply_rrset(&rrset("home.example.com", 600, &[]), &h)
        .await
        .unwrap();
    let st = emu.state();
    assert!(st.rrset(ZONE, "home.example.com", "AAAA").is_none());
    assert!(st.changes[2].get("additions").is_none());
    assert_eq!(st.count("token"), 1, "the token was reused");
}

/// A remembered RRset that someone else changed: the deletion does not match (412), the set
/// is read once more and the change made from what is live.
#[tokio::test]
async fn a_stale_remembered_set_is_read_again_once() {
    let emu = emulator();
    let p = provider(&emu);
    let h = p
        .apply_rrset(&rrset("home.example.com", 300, &[A1]), &none())
        .await
        .unwrap();
    {
        let mut st = emu.state();
        let z = st
            .zones
            .iter_mut()
            .find(|z| z.dns_name == "example.com.")
            .unwrap();
        let s = z
            .rrsets
            .iter_mut()
            .find(|s| s.name == "home.example.com.")
            .unwrap();
        s.rrdatas = vec![A3.into()];
        st.calls.clear();
    }
    p.apply_rrset(&rrset("home.example.com", 300, &[A2]), &h)
        .await
        .unwrap();
    let st = emu.state();
    assert_eq!(st.count("changes.create"), 2, "{:?}", st.calls);
    assert_eq!(st.count("rrsets.list"), 1);
    assert_eq!(st.values(ZONE, "home.example.com", "AAAA"), [A2]);
}

/// Zones and RRsets one per page; a private zone of the same DNS name is not used.
#[tokio::test]
async fn pages_are_followed_and_private_zones_skipped() {
    let emu = emulator();
    {
        let mut st = emu.state();
        st.page_cap = 1;
        st.add_zone("sub.example.com");
        st.zones[2].visibility = "private".into();
        st.add_rrset(ZONE, "a.sub.example.com", "AAAA", 300, &[A3]);
    }
    let p = provider(&emu);
    let live = p
        .read_rrset(
            &RecordKey {
                name: "a.sub.example.com".parse().unwrap(),
                rtype: RecordType::Aaaa,
            },
            &none(),
        )
        .await
        .unwrap();
    assert_eq!(live.hints.0["managed_zone"], "example-com");
    assert_eq!(live.addrs.len(), 1);
    assert_eq!(emu.state().count("managedZones.list"), 3, "three pages");
}

/// The wrong key: the token endpoint refuses the assertion's signature, after exactly one
/// call, with the hint naming the credentials and the role.
#[tokio::test]
async fn a_key_the_account_does_not_have_is_auth_after_one_call() {
    let emu = emulator();
    let p = settings(&emu, OTHER_PEM).build("google", &deps());
    let e = p
        .apply_rrset(&rrset("home.example.com", 300, &[A1]), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert_eq!(
        e.message,
        "token failed: invalid_grant: \"Invalid JWT Signature.\""
    );
    assert_eq!(e.hint.as_deref(), Some(AUTH_HINT));
    let st = emu.state();
    assert_eq!((st.total_calls(), st.assertion_failures), (1, 1));
}

/// A clock the token endpoint finds out of its window: clock skew, with the offset measured
/// from the reply's Date.
#[tokio::test]
async fn a_wrong_clock_is_clock_skew_with_the_measured_offset() {
    let emu = emulator();
    emu.state().clock_offset = -1800;
    let e = provider(&emu)
        .apply_rrset(&rrset("home.example.com", 300, &[A1]), &none())
        .await
        .unwrap_err();
    let ProviderErrorKind::ClockSkew { offset_secs } = e.kind else {
        panic!("{e:?}");
    };
    assert!((-1802..=-1798).contains(&offset_secs), "{offset_secs}");
    assert!(e
        .message
        .starts_with("token: the token endpoint refused the key's time window"));
}

/// A token the API no longer takes (revoked, or expired early): one fresh token, then the
/// call succeeds; a token near its expiry is renewed before use.
#[tokio::test]
async fn a_refused_or_expiring_token_is_fetched_again() {
    let emu = emulator();
    let p = provider(&emu);
    let h = p
        .apply_rrset(&rrset("home.example.com", 300, &[A1]), &none())
        .await
        .unwrap();
    emu.state().tokens.clear();
    let h = p
        .apply_rrset(&rrset("home.example.com", 300, &[A2]), &h)
        .await
        .unwrap();
    assert_eq!(emu.state().count("token"), 2);
    // The refused attempt, then the same change with the fresh token.
    assert_eq!(emu.state().count("changes.create"), 3);
    // Tokens that live 30 s are within the renewal margin: every call gets a fresh one.
    emu.state().token_lifetime = 30;
    emu.state().tokens.clear();
    p.apply_rrset(&rrset("home.example.com", 300, &[A3]), &h)
        .await
        .unwrap();
    p.read_rrset(
        &RecordKey {
            name: "home.example.com".parse().unwrap(),
            rtype: RecordType::Aaaa,
        },
        &none(),
    )
    .await
    .unwrap();
    // The third write: refused, a fresh (30 s) token; the read: renewed before use.
    assert_eq!(emu.state().count("token"), 4, "{:?}", emu.state().calls);
}

/// Replies that are not the API's (HTML, half a document, JSON of another shape) are
/// protocol errors naming the operation, never trusted and not retried.
#[tokio::test]
async fn replies_of_the_wrong_shape_are_protocol_errors() {
    use crate::harness::gcloud_emu::Fault;
    for fault in [Fault::Malformed, Fault::Truncated, Fault::WrongShape] {
        let emu = emulator();
        emu.inject(Some("rrsets.list"), fault.clone());
        let e = provider(&emu)
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
            e.message.starts_with("rrsets.list"),
            "{fault:?}: {}",
            e.message
        );
        assert_eq!(
            emu.state().count("rrsets.list"),
            1,
            "{fault:?}: not retried"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Cross-check with google-auth.

fn google_auth(cases: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let python = crate::harness::sdk::python(
        "gcloud",
        &["google-auth", "cryptography"],
        "google.oauth2.service_account",
    );
    crate::harness::sdk::run(&python, "google_jwt.py", cases)
}

/// ddnsd's assertions equal google-auth's byte for byte (same key, claims and time).
#[test]
fn assertions_match_google_auth_byte_for_byte() {
    let times = [1_700_000_000u64, 1_709_251_199, 4_102_444_800];
    let keys = [(PEM, Some(KEY_ID)), (OTHER_PEM, None)];
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for (pem, kid) in keys {
        for t in times {
            let mut key: serde_json::Value =
                serde_json::from_str(&key_file(pem, "https://oauth2.googleapis.com/token"))
                    .unwrap();
            if kid.is_none() {
                key.as_object_mut().unwrap().remove("private_key_id");
            }
            cases
                .push(serde_json::json!({"key": key, "scopes": [google_jwt::DNS_SCOPE], "now": t}));
            ours.push(
                google_jwt::assertion(
                    &SigningKey::from_pem(pem).unwrap(),
                    &Claims {
                        issuer: EMAIL,
                        key_id: kid,
                        audience: google_jwt::AUDIENCE,
                        scope: google_jwt::DNS_SCOPE,
                        issued_at: t,
                    },
                )
                .unwrap(),
            );
        }
    }
    let theirs = google_auth(&cases);
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(o, t["assertion"].as_str().unwrap());
    }
    // The published signing input (hyperscalers.md §1.1) is what google-auth made here too.
    assert!(theirs[0]["assertion"].as_str().unwrap().starts_with("eyJ0eXAiOiAiSldUIiwgImFsZyI6ICJSUzI1NiIsICJraWQiOiAiMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2NyJ9.eyJpYXQiOiAxNzAwMDAwMDAwLCAiZXhwIjogMTcwMDAwMzYwMCwgImlzcyI6ICJkZG5zZEBteS1wcm9qZWN0LmlhbS5nc2VydmljZWFjY291bnQuY29tIiwgImF1ZCI6ICJodHRwczovL29hdXRoMi5nb29nbGVhcGlzLmNvbS90b2tlbiIsICJzY29wZSI6ICJodHRwczovL3d3dy5nb29nbGVhcGlzLmNvbS9hdXRoL25kZXYuY2xvdWRkbnMucmVhZHdyaXRlIn0."));
}

/// The assertion ddnsd actually sent to the token endpoint is google-auth's for that time.
#[tokio::test]
async fn the_assertion_ddnsd_sends_is_google_auths() {
    let emu = emulator();
    provider(&emu)
        .apply_rrset(&rrset("home.example.com", 300, &[A1]), &none())
        .await
        .unwrap();
    let req = emu.state().last_requests["token"].clone();
    let form: std::collections::BTreeMap<String, String> =
        crate::harness::emu_http::form_decode(&req.body)
            .into_iter()
            .collect();
    assert_eq!(
        form["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    let sent = form["assertion"].clone();
    let claims: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(sent.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    let iat = claims["iat"].as_u64().unwrap();
    let key: serde_json::Value = serde_json::from_str(&key_file(PEM, &emu.token_uri())).unwrap();
    let case = serde_json::json!({"key": key, "scopes": [google_jwt::DNS_SCOPE], "now": iat});
    let theirs = tokio::task::spawn_blocking(move || google_auth(&[case]))
        .await
        .unwrap();
    assert_eq!(sent, theirs[0]["assertion"].as_str().unwrap());
}

// ---------------------------------------------------------------------------------------------
// The built binary.

fn cli_config(dir: &Path, emu: &GcloudEmu, addr: &str, credentials: &str) -> String {
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = ["{addr}"]

[providers.google]
kind = "gcloud"
{credentials}
endpoint = "{endpoint}"

[[records]]
name = "home.example.com"
provider = "google"
sources = ["fixed"]
ttl = 300
"#,
        state = dir.join("state.json").display(),
        endpoint = emu.endpoint(),
    );
    crate::harness::write(dir, "ddnsd.toml", &text)
}

fn run_once(config: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = crate::harness::ddnsd();
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(["run", "--once", "-c", config]);
    crate::harness::output(c)
}

/// `credentials_file`: created, unchanged at zero calls, updated in one change (the token
/// fetched again by the new process).
#[test]
fn cli_with_a_key_file_create_unchanged_update() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let key = write_key(dir.path(), "key.json", &key_file(PEM, &emu.token_uri()));
    let creds = format!("credentials_file = \"{key}\"");
    let config = cli_config(dir.path(), &emu, "2001:db8::10", &creds);
    let (code, stdout, stderr) = run_once(&config, &[]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "home.example.com AAAA 2001:db8::10  created\n"),
        "{stderr}"
    );
    emu.state().calls.clear();
    let (code, stdout, _) = run_once(&config, &[]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "home.example.com AAAA 2001:db8::10  unchanged\n")
    );
    assert_eq!(emu.state().total_calls(), 0);
    let config = cli_config(dir.path(), &emu, "2001:db8::11", &creds);
    let (code, stdout, stderr) = run_once(&config, &[]);
    assert_eq!(
        (code, stdout.as_str()),
        (
            0,
            "home.example.com AAAA 2001:db8::11  updated (was 2001:db8::10)\n"
        ),
        "{stderr}"
    );
    let st = emu.state();
    assert_eq!(
        (
            st.count("token"),
            st.count("changes.create"),
            st.total_calls()
        ),
        (1, 1, 2),
        "{:?}",
        st.calls
    );
    assert!(!stderr.contains("PRIVATE KEY"));
}

/// `credentials_env` with the wrong key: exit 1, the token endpoint's words and the hint.
#[test]
fn cli_wrong_key_from_the_environment_exits_1_with_the_hint() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(
        dir.path(),
        &emu,
        "2001:db8::10",
        "credentials_env = \"GCLOUD_KEY\"",
    );
    let key = key_file(OTHER_PEM, &emu.token_uri());
    let (code, stdout, stderr) = run_once(&config, &[("GCLOUD_KEY", &key)]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let why = "token failed: invalid_grant: \"Invalid JWT Signature.\"";
    assert_eq!(
        stdout,
        format!("home.example.com AAAA 2001:db8::10  failed: {why}\n")
    );
    assert_eq!(
        stderr,
        format!("error: home.example.com AAAA via google: {why}\n  hint: {AUTH_HINT}\n")
    );
    assert_eq!(emu.state().total_calls(), 1);
}

/// The example block passes `check` once its key file exists; a file that is not a
/// service-account key is reported at the setting, without quoting it.
#[test]
fn the_example_block_checks_and_a_bad_key_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let key = write_key(
        dir.path(),
        "key.json",
        &key_file(PEM, "https://oauth2.googleapis.com/token"),
    );
    let rest = "\n[sources.wan6]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"home.example.com\"\nprovider = \"google\"\nsources = [\"wan6\"]\n";
    let example = ddnsd::provider::gcloud::KIND
        .example
        .replace("/etc/ddnsd/gcloud-key.json", &key);
    let config = ddnsd::config::from_text(
        &format!("{example}{rest}"),
        Path::new("t.toml"),
        &|_: &str| None,
    )
    .unwrap();
    let s: &GcloudSettings = config.providers["google"].get().unwrap();
    assert_eq!(s.project, PROJECT);
    assert_eq!(s.endpoint, "https://dns.googleapis.com");
    assert_eq!(s.token_uri, "https://oauth2.googleapis.com/token");
    let path = crate::harness::write(dir.path(), "ddnsd.toml", &format!("{example}{rest}"));
    let mut c = crate::harness::ddnsd();
    c.args(["check", "-c", &path]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");

    let bad = write_key(
        dir.path(),
        "bad.json",
        r#"{"type": "authorized_user", "refresh_token": "SECRET-REFRESH"}"#,
    );
    let text = format!(
        "{}{rest}",
        ddnsd::provider::gcloud::KIND
            .example
            .replace("/etc/ddnsd/gcloud-key.json", &bad)
    );
    let path = crate::harness::write(dir.path(), "bad.toml", &text);
    let mut c = crate::harness::ddnsd();
    c.args(["check", "-c", &path]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(
        stderr.starts_with(&format!("{path}:3:20: credentials: the key file is a \"authorized_user\" credential, not a service account's key (type \"service_account\")\n  hint: download a JSON key")),
        "{stderr}"
    );
    assert!(!stderr.contains("SECRET-REFRESH"));
}
