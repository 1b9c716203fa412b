//! `kind = "godaddy"` against the local GoDaddy Domains API emulator
//! (`harness/godaddy_emu.rs`), and the built binary's `run --once` against it.
//!
//! See: issue 10.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ddnsd::provider::godaddy::GodaddySettings;
use ddnsd::provider::{Configured, Provider, ProviderDeps, ProviderErrorKind};
use ddnsd::record::{RecordType, Ttl};
use ddnsd::secret::Secret;

use crate::harness::emu_http::Target;
use crate::harness::godaddy_emu::{Fault, GodaddyEmu, Rec};
use crate::harness::records::{deps_with, key, none, rrset};

const KEY: &str = "gd-key-e4hN3Y4pDXEA";
const SECRET: &str = "gd-secret-Xx1N6bSqjTHs";
const HOME: &str = "home.example.com";

fn emulator() -> GodaddyEmu {
    let emu = GodaddyEmu::start();
    {
        let mut st = emu.state();
        st.keys.push((KEY.into(), SECRET.into()));
        st.add_domain("example.com");
        st.add_domain("example.org");
        // Foreign records: other names, other types at the managed name, another domain.
        st.add_record("example.com", "A", "home", "192.0.2.1", 600);
        st.add_record("example.com", "TXT", "home", "v=spf1 -all", 3600);
        st.add_record("example.com", "AAAA", "www", "2001:db8::99", 1800);
        st.add_record("example.com", "AAAA", "@", "2001:db8::98", 600);
        st.add_record("example.org", "AAAA", "home", "2001:db8::97", 600);
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

fn settings(emu: &GodaddyEmu, secret: &str) -> GodaddySettings {
    GodaddySettings {
        api_key: Secret::new(KEY.into()),
        api_secret: Secret::new(secret.into()),
        zone: None,
        endpoint: emu.endpoint(),
    }
}

fn provider(emu: &GodaddyEmu) -> Arc<dyn Provider> {
    settings(emu, SECRET).build("gd", &deps())
}

#[tokio::test]
async fn one_put_replaces_the_set_and_nothing_else() {
    let emu = emulator();
    let before = emu.state().others("example.com", "AAAA", "home");
    let p = provider(&emu);
    // TTL 300 is below GoDaddy's minimum: published with 600.
    assert_eq!(p.effective_ttl(Ttl(300)), Ttl(600));
    assert_eq!(p.effective_ttl(Ttl(3600)), Ttl(3600));
    let hints = p
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1", "2001:db8::2"]),
            &none(),
        )
        .await
        .unwrap();
    {
        let st = emu.state();
        assert_eq!(
            st.rrset("example.com", "AAAA", "home"),
            vec![
                Rec {
                    rtype: "AAAA".into(),
                    name: "home".into(),
                    data: "2001:db8::1".into(),
                    ttl: 600
                },
                Rec {
                    rtype: "AAAA".into(),
                    name: "home".into(),
                    data: "2001:db8::2".into(),
                    ttl: 600
                },
            ]
        );
        // One list of the account's domains, one PUT; no read.
        assert_eq!(
            (
                st.count("ListDomains"),
                st.count("ReplaceRecords"),
                st.total_calls()
            ),
            (1, 1, 2)
        );
        assert_eq!(
            st.puts.last().unwrap(),
            &serde_json::json!([{"data": "2001:db8::1", "ttl": 600}, {"data": "2001:db8::2", "ttl": 600}])
        );
        assert!(st
            .auth_seen
            .iter()
            .all(|a| *a == format!("sso-key {KEY}:{SECRET}")));
    }
    assert_eq!(hints.0["zone"], "example.com");

    // A new process with the hints: one PUT and nothing else.
    emu.reset_calls();
    provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 900, &["2001:db8::3"]),
            &hints,
        )
        .await
        .unwrap();
    let st = emu.state();
    assert_eq!(
        (st.count("ReplaceRecords"), st.total_calls()),
        (1, 1),
        "{:?}",
        st.calls
    );
    assert_eq!(st.values("example.com", "AAAA", "home"), ["2001:db8::3"]);
    assert_eq!(st.rrset("example.com", "AAAA", "home")[0].ttl, 900);
    assert_eq!(
        st.others("example.com", "AAAA", "home"),
        before,
        "other names and types untouched"
    );
    assert_eq!(st.values("example.org", "AAAA", "home"), ["2001:db8::97"]);
}

#[tokio::test]
async fn reads_values_and_the_lowest_ttl_and_refuses_what_is_not_an_address() {
    let emu = emulator();
    {
        let mut st = emu.state();
        st.add_record("example.com", "AAAA", "home", "2001:db8::1", 1200);
        st.add_record("example.com", "AAAA", "home", "2001:db8::2", 600);
    }
    let p = provider(&emu);
    let live = p
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(live.addrs.to_string(), "2001:db8::1,2001:db8::2");
    assert_eq!(live.ttl, Some(Ttl(600)));
    let live = p
        .read_rrset(&key("none.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert!(live.addrs.is_empty());
    assert_eq!(live.ttl, None);
    // The apex is "@".
    let live = p
        .read_rrset(&key("example.com", RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(live.addrs.to_string(), "2001:db8::98");

    emu.state()
        .add_record("example.com", "AAAA", "odd", "not-an-address", 600);
    let e = p
        .read_rrset(&key("odd.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Protocol);
    assert_eq!(
        e.message,
        "GetRecords: unexpected reply: a AAAA record with data \"not-an-address\""
    );
}

#[tokio::test]
async fn a_wrong_secret_is_auth_after_one_call_and_the_api_gate_says_why() {
    let emu = emulator();
    let e = settings(&emu, "wrong")
        .build("gd", &deps())
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 600, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert_eq!(
        e.message,
        "ListDomains failed: UNABLE_TO_AUTHENTICATE: \"Unauthorized : Could not authenticate API key/secret\""
    );
    assert!(e
        .hint()
        .unwrap()
        .starts_with("check api_key and api_secret"));
    assert_eq!(emu.state().total_calls(), 1);

    emu.state().denied = true;
    emu.reset_calls();
    let e = provider(&emu)
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert_eq!(
        e.message,
        "ListDomains failed: ACCESS_DENIED: \"Authenticated user is not allowed access\""
    );
    assert!(
        e.hint().unwrap().contains("10 or more domains"),
        "{:?}",
        e.hint()
    );
    assert_eq!(emu.state().total_calls(), 1);
}

#[tokio::test]
async fn the_zone_is_the_longest_domain_over_every_page() {
    let emu = emulator();
    {
        let mut st = emu.state();
        // 150 domains sorting before "example…", so the wanted ones are on the second page.
        for i in 0..150 {
            st.add_domain(&format!("a{i:03}.example.net"));
        }
        st.add_domain("sub.example.com");
    }
    let p = provider(&emu);
    let live = p
        .read_rrset(&key("x.sub.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(live.hints.0["zone"], "sub.example.com");
    assert_eq!(emu.state().count("ListDomains"), 2);
    // Cached for the process.
    p.read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(emu.state().count("ListDomains"), 2);
    // A configured zone is used as is.
    let mut s = settings(&emu, SECRET);
    s.zone = Some("example.com".parse().unwrap());
    emu.reset_calls();
    let live = s
        .build("gd", &deps())
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert!(
        live.hints.0.is_empty(),
        "a configured zone is not remembered"
    );
    assert_eq!(emu.state().count("ListDomains"), 0);
    // A domain this account does not have: zone not found, for this record only.
    let e = provider(&emu)
        .read_rrset(&key("home.example.invalid", RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ZoneNotFound);
    assert_eq!(
        e.message,
        "no domain of this GoDaddy account contains home.example.invalid"
    );
    let mut s = settings(&emu, SECRET);
    s.zone = Some("example.net".parse().unwrap());
    let e = s
        .build("gd", &deps())
        .read_rrset(&key("home.example.net", RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ZoneNotFound);
    assert_eq!(
        e.message,
        "GetRecords failed: UNKNOWN_DOMAIN: \"The given domain is not registered, or does not have a zone file\""
    );
}

#[tokio::test]
async fn a_rate_limit_waits_for_the_body_s_retry_after_sec() {
    let emu = emulator();
    let hints = provider(&emu)
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap()
        .hints;
    emu.reset_calls();
    emu.inject_on(Target::Writes, Fault::RateLimit(1));
    let started = Instant::now();
    provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 600, &["2001:db8::5"]),
            &hints,
        )
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(emu.state().count("ReplaceRecords"), 2);
    assert_eq!(
        emu.state().values("example.com", "AAAA", "home"),
        ["2001:db8::5"]
    );

    // A 5xx is retried within the call; a lost PUT reply is "could not confirm".
    emu.inject_on(Target::Writes, Fault::Status(500));
    provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 600, &["2001:db8::6"]),
            &hints,
        )
        .await
        .unwrap();
    emu.inject_on(Target::Writes, Fault::Timeout);
    let e = provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 600, &["2001:db8::7"]),
            &hints,
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Unconfirmed);
    assert!(
        e.message.starts_with("ReplaceRecords could not confirm"),
        "{e:?}"
    );
}

#[tokio::test]
async fn withdrawing_deletes_the_set_and_a_refused_name_is_rejected() {
    let emu = emulator();
    emu.state()
        .add_record("example.com", "AAAA", "home", "2001:db8::1", 600);
    let before = emu.state().others("example.com", "AAAA", "home");
    let p = provider(&emu);
    p.apply_rrset(&rrset(HOME, RecordType::Aaaa, 600, &[]), &none())
        .await
        .unwrap();
    assert!(emu.state().values("example.com", "AAAA", "home").is_empty());
    assert_eq!(emu.state().others("example.com", "AAAA", "home"), before);
    // Already gone: done.
    p.apply_rrset(&rrset(HOME, RecordType::Aaaa, 600, &[]), &none())
        .await
        .unwrap();
    assert_eq!(emu.state().count("DeleteRecords"), 2);

    emu.state().refused.push("home".into());
    let e = p
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 600, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Rejected);
    assert_eq!(
        e.message,
        "ReplaceRecords failed: INVALID_BODY: \"record does not fulfill the schema\""
    );
}

// ---------------------------------------------------------------------------------------------
// The built binary.

fn cli_config(dir: &Path, emu: &GodaddyEmu, addr: &str) -> String {
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = ["{addr}"]

[providers.gd]
kind = "godaddy"
api_key = "{KEY}"
api_secret_env = "DDNSD_TEST_GD_SECRET"
endpoint = "{endpoint}"

[[records]]
name = "home.example.com"
provider = "gd"
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
    c.env("DDNSD_TEST_GD_SECRET", secret)
        .args(["run", "--once", "-c", config]);
    crate::harness::output(c)
}

#[test]
fn cli_run_once_creates_then_costs_nothing_then_one_put() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "2001:db8::10");
    let (code, stdout, stderr) = run_once(&config, SECRET);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "home.example.com AAAA 2001:db8::10  created\n");
    emu.reset_calls();
    let (code, stdout, stderr) = run_once(&config, SECRET);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "home.example.com AAAA 2001:db8::10  unchanged\n");
    assert_eq!(emu.state().total_calls(), 0);
    let config = cli_config(dir.path(), &emu, "2001:db8::11");
    let (code, stdout, stderr) = run_once(&config, SECRET);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "home.example.com AAAA 2001:db8::11  updated (was 2001:db8::10)\n"
    );
    let st = emu.state();
    assert_eq!(
        (st.total_calls(), st.count("ReplaceRecords")),
        (1, 1),
        "{:?}",
        st.calls
    );
    let state = std::fs::read_to_string(dir.path().join("state.json")).unwrap();
    assert!(!state.contains(SECRET) && !state.contains(KEY));
}

#[test]
fn cli_wrong_secret_exits_1_with_the_key_hint() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "2001:db8::10");
    let (code, stdout, stderr) = run_once(&config, "not-the-secret");
    assert_eq!(code, 1, "{stdout}{stderr}");
    let why = "ListDomains failed: UNABLE_TO_AUTHENTICATE: \"Unauthorized : Could not authenticate API key/secret\"";
    assert_eq!(
        stdout,
        format!("home.example.com AAAA 2001:db8::10  failed: {why}\n")
    );
    assert_eq!(
        stderr,
        format!("error: home.example.com AAAA via gd: {why}\n  hint: check api_key and api_secret: they must be a production key and its secret from developer.godaddy.com/keys (an OTE key works only with endpoint = \"https://api.ote-godaddy.com\")\n")
    );
}

#[test]
fn the_example_block_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    let example = ddnsd::provider::godaddy::KIND.example;
    let text = format!(
        "{example}\n[sources.fixed]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"home.example.com\"\nprovider = \"godaddy\"\nsources = [\"fixed\"]\n"
    );
    let config = crate::harness::write(dir.path(), "ex.toml", &text);
    let mut c = crate::harness::ddnsd();
    c.env("GODADDY_API_KEY", "k")
        .env("GODADDY_API_SECRET", "s")
        .args(["check", "-c", &config]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!(code, 0, "{stdout}{stderr}");
}
