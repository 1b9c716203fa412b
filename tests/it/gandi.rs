//! `kind = "gandi"` against the local Gandi LiveDNS emulator (`harness/gandi_emu.rs`), and the
//! built binary's `run --once` against it.
//!
//! See: issue 10.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ddnsd::provider::gandi::{GandiCredential, GandiSettings};
use ddnsd::provider::{Configured, Provider, ProviderDeps, ProviderErrorKind};
use ddnsd::record::{RecordType, Ttl};
use ddnsd::secret::Secret;

use crate::harness::emu_http::Target;
use crate::harness::gandi_emu::{Fault, GandiEmu, RRset};
use crate::harness::records::{deps_with, key, none, rrset};

const TOKEN: &str = "pat_0b1f8c2e-5d6a-4e7b-9c3d-ddnsdtest";
const API_KEY: &str = "gandi-legacy-key-24ch";
const HOME: &str = "home.example.com";

fn emulator() -> GandiEmu {
    let emu = GandiEmu::start();
    {
        let mut st = emu.state();
        st.tokens.push((TOKEN.into(), Vec::new()));
        st.api_keys.push(API_KEY.into());
        st.add_domain("example.com");
        st.add_domain("example.org");
        st.add_value("example.com", "home", "A", "192.0.2.1", 600);
        st.add_value("example.com", "home", "TXT", "\"v=spf1 -all\"", 3600);
        st.add_value("example.com", "www", "AAAA", "2001:db8::99", 1800);
        st.add_value("example.com", "@", "AAAA", "2001:db8::98", 300);
        st.add_value("example.org", "home", "AAAA", "2001:db8::97", 300);
    }
    emu
}

fn deps() -> ProviderDeps {
    deps_with(
        Duration::from_secs(2),
        Duration::from_secs(3),
        Duration::from_secs(1),
    )
}

fn settings(emu: &GandiEmu, credential: GandiCredential) -> GandiSettings {
    GandiSettings {
        credential,
        zone: None,
        endpoint: emu.endpoint(),
    }
}

fn token(t: &str) -> GandiCredential {
    GandiCredential::Token(Secret::new(t.into()))
}

fn provider(emu: &GandiEmu) -> Arc<dyn Provider> {
    settings(emu, token(TOKEN)).build("gandi", &deps())
}

#[tokio::test]
async fn one_put_replaces_the_rrset_and_nothing_else() {
    let emu = emulator();
    let before = emu.state().others("example.com", "home", "AAAA");
    let p = provider(&emu);
    assert_eq!(p.effective_ttl(Ttl(60)), Ttl(300));
    assert_eq!(p.effective_ttl(Ttl(900)), Ttl(900));
    let hints = p
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 60, &["2001:db8::2", "2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap();
    {
        let st = emu.state();
        assert_eq!(
            st.rrset("example.com", "home", "AAAA"),
            Some(RRset {
                name: "home".into(),
                rtype: "AAAA".into(),
                ttl: 300,
                values: vec!["2001:db8::1".into(), "2001:db8::2".into()],
            })
        );
        assert_eq!(
            (
                st.count("ListDomains"),
                st.count("PutRRset"),
                st.total_calls()
            ),
            (1, 1, 2)
        );
        assert_eq!(
            st.puts.last().unwrap(),
            &serde_json::json!({"rrset_values": ["2001:db8::1", "2001:db8::2"], "rrset_ttl": 300})
        );
        assert!(st.auth_seen.iter().all(|a| *a == format!("Bearer {TOKEN}")));
    }
    assert_eq!(hints.0["zone"], "example.com");
    emu.reset_calls();
    provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 1200, &["2001:db8::3"]),
            &hints,
        )
        .await
        .unwrap();
    let st = emu.state();
    assert_eq!(
        (st.count("PutRRset"), st.total_calls()),
        (1, 1),
        "{:?}",
        st.calls
    );
    assert_eq!(st.values("example.com", "home", "AAAA"), ["2001:db8::3"]);
    assert_eq!(st.rrset("example.com", "home", "AAAA").unwrap().ttl, 1200);
    assert_eq!(st.others("example.com", "home", "AAAA"), before);
    assert_eq!(st.values("example.org", "home", "AAAA"), ["2001:db8::97"]);
}

#[tokio::test]
async fn reads_the_rrset_or_nothing_and_the_apex() {
    let emu = emulator();
    emu.state()
        .add_value("example.com", "home", "AAAA", "2001:db8::1", 1800);
    let p = provider(&emu);
    let live = p
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(live.addrs.to_string(), "2001:db8::1");
    assert_eq!(live.ttl, Some(Ttl(1800)));
    let live = p
        .read_rrset(&key("none.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert!(live.addrs.is_empty() && live.ttl.is_none());
    let live = p
        .read_rrset(&key("example.com", RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(live.addrs.to_string(), "2001:db8::98");
    emu.state()
        .add_value("example.com", "odd", "AAAA", "192.0.2.9", 300);
    let e = p
        .read_rrset(&key("odd.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Protocol);
    assert_eq!(
        e.message,
        "GetRRset: unexpected reply: a AAAA value \"192.0.2.9\""
    );
}

#[tokio::test]
async fn the_deprecated_api_key_works_and_bad_or_expired_credentials_are_auth() {
    let emu = emulator();
    let p = settings(&emu, GandiCredential::ApiKey(Secret::new(API_KEY.into())))
        .build("gandi", &deps());
    p.apply_rrset(
        &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1"]),
        &none(),
    )
    .await
    .unwrap();
    assert!(emu
        .state()
        .auth_seen
        .iter()
        .all(|a| *a == format!("Apikey {API_KEY}")));
    assert_eq!(
        emu.state().values("example.com", "home", "AAAA"),
        ["2001:db8::1"]
    );

    emu.state().expired.push("pat_old".into());
    emu.reset_calls();
    let e = settings(&emu, token("pat_old"))
        .build("gandi", &deps())
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert!(
        e.message
            .starts_with("ListDomains failed: http 401: \"The server could not verify"),
        "{e:?}"
    );
    assert!(e
        .hint()
        .unwrap()
        .starts_with("check token: personal access tokens expire"));
    assert_eq!(emu.state().total_calls(), 1);
    let e = settings(&emu, GandiCredential::ApiKey(Secret::new("nope".into())))
        .build("gandi", &deps())
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert!(e.hint().unwrap().starts_with("check api_key (deprecated"));
}

#[tokio::test]
async fn a_token_scoped_to_other_domains_is_forbidden_for_this_record_only() {
    let emu = emulator();
    emu.state()
        .tokens
        .push(("pat_org".into(), vec!["example.org".into()]));
    let mut s = settings(&emu, token("pat_org"));
    s.zone = Some("example.com".parse().unwrap());
    let e = s
        .build("gandi", &deps())
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Forbidden);
    assert_eq!(
        e.message,
        "PutRRset failed: http 403: \"Access was denied to this resource.\""
    );
    // Without a configured zone the token does not see example.com at all.
    let e = settings(&emu, token("pat_org"))
        .build("gandi", &deps())
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ZoneNotFound);
    assert_eq!(
        e.message,
        "no domain of this Gandi LiveDNS account contains home.example.com"
    );
    // A configured zone LiveDNS does not serve: the PUT says so.
    let mut s = settings(&emu, token(TOKEN));
    s.zone = Some("example.net".parse().unwrap());
    let e = s
        .build("gandi", &deps())
        .apply_rrset(
            &rrset("home.example.net", RecordType::Aaaa, 300, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ZoneNotFound);
    assert_eq!(
        e.message,
        "PutRRset failed: http 404: \"The resource could not be found.\""
    );
}

#[tokio::test]
async fn domains_are_listed_over_every_page() {
    let emu = emulator();
    {
        let mut st = emu.state();
        for i in 0..120 {
            st.add_domain(&format!("z{i:03}.example.net"));
        }
        st.add_domain("sub.example.com");
    }
    let p = provider(&emu);
    let live = p
        .read_rrset(&key("a.z119.example.net", RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(live.hints.0["zone"], "z119.example.net");
    let live = p
        .read_rrset(&key("a.sub.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(live.hints.0["zone"], "sub.example.com");
    assert_eq!(
        emu.state().count("ListDomains"),
        2,
        "two pages, listed once"
    );
}

#[tokio::test]
async fn rate_limits_server_errors_and_lost_replies() {
    let emu = emulator();
    let hints = provider(&emu)
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap()
        .hints;
    emu.inject_on(Target::Writes, Fault::RateLimit(1));
    let started = Instant::now();
    provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::5"]),
            &hints,
        )
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(emu.state().count("PutRRset"), 2);
    emu.inject_on(Target::Reads, Fault::Status(502));
    let live = provider(&emu)
        .read_rrset(&key(HOME, RecordType::Aaaa), &hints)
        .await
        .unwrap();
    assert_eq!(live.addrs.to_string(), "2001:db8::5");
    emu.inject_on(Target::Writes, Fault::Timeout);
    let e = provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::6"]),
            &hints,
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Unconfirmed);
    emu.inject_on(Target::Reads, Fault::Truncated);
    let e = provider(&emu)
        .read_rrset(&key(HOME, RecordType::Aaaa), &hints)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Protocol);
    assert!(
        e.message
            .starts_with("GetRRset: the reply is not valid json"),
        "{e:?}"
    );
}

#[tokio::test]
async fn withdrawing_deletes_the_rrset_and_a_conflict_is_rejected() {
    let emu = emulator();
    emu.state()
        .add_value("example.com", "home", "AAAA", "2001:db8::1", 300);
    let before = emu.state().others("example.com", "home", "AAAA");
    let p = provider(&emu);
    p.apply_rrset(&rrset(HOME, RecordType::Aaaa, 300, &[]), &none())
        .await
        .unwrap();
    assert_eq!(emu.state().rrset("example.com", "home", "AAAA"), None);
    assert_eq!(emu.state().others("example.com", "home", "AAAA"), before);
    p.apply_rrset(&rrset(HOME, RecordType::Aaaa, 300, &[]), &none())
        .await
        .unwrap();
    emu.state().refused.push("home".into());
    let e = p
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Rejected);
    assert_eq!(
        e.message,
        "PutRRset failed: http 409: \"A record with that name already exists and conflicts with this one (CNAME)\""
    );
}

// ---------------------------------------------------------------------------------------------
// The built binary.

fn cli_config(dir: &Path, emu: &GandiEmu, addr: &str, cred: &str) -> String {
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = ["{addr}"]

[providers.gandi]
kind = "gandi"
{cred}
endpoint = "{endpoint}"

[[records]]
name = "home.example.com"
provider = "gandi"
sources = ["fixed"]
"#,
        state = dir.join("state.json").display(),
        endpoint = emu.endpoint(),
    );
    crate::harness::write(dir, "ddnsd.toml", &text)
}

fn run_once(config: &str, token: &str) -> (i32, String, String) {
    let mut c = crate::harness::ddnsd();
    c.env("DDNSD_TEST_GANDI_PAT", token)
        .args(["run", "--once", "-c", config]);
    crate::harness::output(c)
}

#[test]
fn cli_run_once_creates_then_costs_nothing_then_one_put() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let cred = "token_env = \"DDNSD_TEST_GANDI_PAT\"";
    let config = cli_config(dir.path(), &emu, "2001:db8::10", cred);
    let (code, stdout, stderr) = run_once(&config, TOKEN);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "home.example.com AAAA 2001:db8::10  created\n");
    // The default TTL (300) is LiveDNS's minimum: published as is.
    assert_eq!(
        emu.state()
            .rrset("example.com", "home", "AAAA")
            .unwrap()
            .ttl,
        300
    );
    emu.reset_calls();
    let (code, stdout, _) = run_once(&config, TOKEN);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "home.example.com AAAA 2001:db8::10  unchanged\n")
    );
    assert_eq!(emu.state().total_calls(), 0);
    let config = cli_config(dir.path(), &emu, "2001:db8::11", cred);
    let (code, stdout, stderr) = run_once(&config, TOKEN);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "home.example.com AAAA 2001:db8::11  updated (was 2001:db8::10)\n"
    );
    assert_eq!(emu.state().count("PutRRset"), 1);
    assert_eq!(emu.state().total_calls(), 1);
}

#[test]
fn cli_wrong_token_exits_1_and_both_credentials_are_a_config_error() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(
        dir.path(),
        &emu,
        "2001:db8::10",
        "token_env = \"DDNSD_TEST_GANDI_PAT\"",
    );
    let (code, stdout, stderr) = run_once(&config, "pat_wrong");
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.starts_with(
            "home.example.com AAAA 2001:db8::10  failed: ListDomains failed: http 401:"
        ),
        "{stdout}"
    );
    assert!(
        stderr.contains("  hint: check token: personal access tokens expire;"),
        "{stderr}"
    );

    let config = cli_config(
        dir.path(),
        &emu,
        "2001:db8::10",
        "token = \"t\"\napi_key = \"k\"",
    );
    let mut c = crate::harness::ddnsd();
    c.args(["check", "-c", &config]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains(":11:") && stderr.contains("give either token or api_key, not both"),
        "{stderr}"
    );
}

#[test]
fn the_example_block_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    let example = ddnsd::provider::gandi::KIND.example;
    let text = format!(
        "{example}\n[sources.fixed]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"home.example.com\"\nprovider = \"gandi\"\nsources = [\"fixed\"]\n"
    );
    let config = crate::harness::write(dir.path(), "ex.toml", &text);
    let mut c = crate::harness::ddnsd();
    c.env("GANDI_PAT", "pat_x").args(["check", "-c", &config]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!(code, 0, "{stdout}{stderr}");
}
