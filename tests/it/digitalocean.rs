//! `kind = "digitalocean"` against the local DigitalOcean Domains API emulator
//! (`harness/digitalocean_emu.rs`), and the built binary's `run --once` against it.
//!
//! See: issue 10.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ddnsd::provider::digitalocean::DigitalOceanSettings;
use ddnsd::provider::{Configured, Provider, ProviderDeps, ProviderErrorKind};
use ddnsd::record::{RecordType, Ttl};
use ddnsd::secret::Secret;
use serde_json::json;

use crate::harness::digitalocean_emu::{DigitalOceanEmu, Fault};
use crate::harness::emu_http::Target;
use crate::harness::records::{deps_with, key, none, rrset};

const TOKEN: &str = "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const HOME: &str = "home.example.com";

fn emulator() -> DigitalOceanEmu {
    let emu = DigitalOceanEmu::start();
    {
        let mut st = emu.state();
        st.tokens.push(TOKEN.into());
        st.add_domain("example.com");
        st.add_domain("example.org");
        st.add_record("example.com", "A", "home", "192.0.2.1", 600);
        st.add_record("example.com", "TXT", "home", "v=spf1 -all", 3600);
        st.add_record("example.com", "AAAA", "www", "2001:db8::99", 1800);
        st.add_record("example.com", "AAAA", "@", "2001:db8::98", 300);
        st.add_record("example.org", "AAAA", "home", "2001:db8::97", 300);
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

fn settings(emu: &DigitalOceanEmu, token: &str) -> DigitalOceanSettings {
    DigitalOceanSettings {
        token: Secret::new(token.into()),
        zone: None,
        endpoint: emu.endpoint(),
    }
}

fn provider(emu: &DigitalOceanEmu) -> Arc<dyn Provider> {
    settings(emu, TOKEN).build("do", &deps())
}

#[tokio::test]
async fn create_then_one_patch_that_keeps_the_id_and_the_other_attributes() {
    let emu = emulator();
    let before = emu.state().others("example.com", "AAAA", "home");
    let p = provider(&emu);
    assert_eq!(p.effective_ttl(Ttl(10)), Ttl(30));
    let hints = p
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 10, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap();
    let id = {
        let st = emu.state();
        assert_eq!(
            (
                st.count("ListDomains"),
                st.count("ListRecords"),
                st.count("CreateRecord"),
                st.total_calls()
            ),
            (1, 1, 1, 3)
        );
        assert_eq!(
            st.writes.last().unwrap(),
            &(
                "CreateRecord".to_owned(),
                json!({"type": "AAAA", "name": "home", "data": "2001:db8::1", "ttl": 30})
            )
        );
        assert!(st.auth_seen.iter().all(|a| *a == format!("Bearer {TOKEN}")));
        st.rrset("example.com", "AAAA", "home")[0].id
    };
    assert_eq!(hints.0["records"], format!("{id}=2001:db8::1"));
    assert_eq!(hints.0["zone"], "example.com");
    // Someone tagged the record in the control panel; ddnsd's PATCH keeps that.
    emu.state().record_mut(id).unwrap().tag = Some("home-router".into());

    emu.reset_calls();
    provider(&emu)
        .apply_rrset(&rrset(HOME, RecordType::Aaaa, 30, &["2001:db8::2"]), &hints)
        .await
        .unwrap();
    let st = emu.state();
    assert_eq!(
        (st.count("PatchRecord"), st.total_calls()),
        (1, 1),
        "{:?}",
        st.calls
    );
    assert_eq!(
        st.writes.last().unwrap(),
        &(
            "PatchRecord".to_owned(),
            json!({"type": "AAAA", "data": "2001:db8::2", "ttl": 30})
        )
    );
    let live = st.rrset("example.com", "AAAA", "home");
    assert_eq!(live.len(), 1);
    assert_eq!(
        (live[0].id, live[0].data.as_str(), live[0].tag.as_deref()),
        (id, "2001:db8::2", Some("home-router"))
    );
    assert_eq!(st.others("example.com", "AAAA", "home"), before);
    assert_eq!(st.values("example.org", "AAAA", "home"), ["2001:db8::97"]);
}

#[tokio::test]
async fn stale_values_are_repointed_or_deleted_and_the_apex_is_at() {
    let emu = emulator();
    let (a, _b, _c) = {
        let mut st = emu.state();
        (
            st.add_record("example.com", "AAAA", "home", "2001:db8::1", 300),
            st.add_record("example.com", "AAAA", "home", "2001:db8::bad", 300),
            st.add_record("example.com", "AAAA", "home", "2001:db8::dead", 300),
        )
    };
    let p = provider(&emu);
    p.apply_rrset(
        &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1"]),
        &none(),
    )
    .await
    .unwrap();
    {
        let st = emu.state();
        assert_eq!(
            (
                st.count("DeleteRecord"),
                st.count("CreateRecord"),
                st.count("PatchRecord")
            ),
            (2, 0, 0)
        );
        let live = st.rrset("example.com", "AAAA", "home");
        assert_eq!((live.len(), live[0].id), (1, a));
    }
    let live = p
        .read_rrset(&key("example.com", RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(live.addrs.to_string(), "2001:db8::98");
    assert_eq!(live.ttl, Some(Ttl(300)));
}

#[tokio::test]
async fn pages_are_followed_on_this_endpoint_only() {
    let emu = emulator();
    {
        let mut st = emu.state();
        for i in 0..205 {
            st.add_domain(&format!("d{i:03}.example.net"));
        }
        for i in 0..205u32 {
            st.add_record(
                "example.com",
                "AAAA",
                "many",
                &format!("2001:db8:1::{:x}", i + 1),
                300,
            );
        }
    }
    let p = provider(&emu);
    let live = p
        .read_rrset(&key("many.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(live.addrs.len(), 205);
    let st = emu.state();
    assert_eq!(
        (st.count("ListDomains"), st.count("ListRecords")),
        (2, 2),
        "{:?}",
        st.calls
    );
}

#[tokio::test]
async fn tokens_scopes_and_refusals() {
    let emu = emulator();
    let e = settings(&emu, "dop_v1_wrong")
        .build("do", &deps())
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert_eq!(
        e.message,
        "ListDomains failed: unauthorized: \"Unable to authenticate you.\""
    );
    assert_eq!(emu.state().total_calls(), 1);

    emu.state().read_only.push("dop_v1_ro".into());
    let e = settings(&emu, "dop_v1_ro")
        .build("do", &deps())
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Forbidden);
    assert_eq!(
        e.message,
        "CreateRecord failed: forbidden: \"You do not have permission to perform this action.\""
    );
    assert!(
        e.hint().unwrap().contains("domain:create"),
        "{:?}",
        e.hint()
    );

    emu.state().refused.push("home".into());
    let e = provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Rejected);
    assert_eq!(e.message, "CreateRecord failed: unprocessable_entity: \"Name conflicts with an existing CNAME record\"");

    let mut s = settings(&emu, TOKEN);
    s.zone = Some("example.net".parse().unwrap());
    let e = s
        .build("do", &deps())
        .read_rrset(&key("home.example.net", RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ZoneNotFound);
    assert_eq!(
        e.message,
        "ListRecords failed: not_found: \"The resource you requested could not be found.\""
    );
}

#[tokio::test]
async fn a_record_deleted_behind_ddnsd_is_read_again_once() {
    let emu = emulator();
    let hints = provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap();
    emu.state()
        .domains
        .get_mut("example.com")
        .unwrap()
        .retain(|r| !(r.name == "home" && r.rtype == "AAAA"));
    emu.reset_calls();
    provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::2"]),
            &hints,
        )
        .await
        .unwrap();
    let st = emu.state();
    assert_eq!(
        (
            st.count("PatchRecord"),
            st.count("ListRecords"),
            st.count("CreateRecord")
        ),
        (1, 1, 1),
        "{:?}",
        st.calls
    );
    assert_eq!(st.values("example.com", "AAAA", "home"), ["2001:db8::2"]);
}

#[tokio::test]
async fn burst_and_hourly_rate_limits_are_waited_out() {
    let emu = emulator();
    let hints = provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap();
    for fault in [Fault::RateLimit(1), Fault::HourlyLimit(1)] {
        emu.reset_calls();
        emu.inject_on(Target::Writes, fault.clone());
        let started = Instant::now();
        let addr = if fault == Fault::RateLimit(1) {
            "2001:db8::2"
        } else {
            "2001:db8::3"
        };
        provider(&emu)
            .apply_rrset(&rrset(HOME, RecordType::Aaaa, 300, &[addr]), &hints)
            .await
            .unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "{fault:?}: {:?}",
            started.elapsed()
        );
        assert_eq!(emu.state().count("PatchRecord"), 2, "{fault:?}");
    }
    emu.inject_on(Target::Writes, Fault::Timeout);
    let e = provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::4"]),
            &hints,
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Unconfirmed);
    assert!(
        e.message.starts_with("PatchRecord could not confirm"),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The built binary.

fn cli_config(dir: &Path, emu: &DigitalOceanEmu, addr: &str) -> String {
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = ["{addr}"]

[providers.do]
kind = "digitalocean"
token_env = "DDNSD_TEST_DO_TOKEN"
endpoint = "{endpoint}"

[[records]]
name = "home.example.com"
provider = "do"
sources = ["fixed"]
"#,
        state = dir.join("state.json").display(),
        endpoint = emu.endpoint(),
    );
    crate::harness::write(dir, "ddnsd.toml", &text)
}

fn run_once(config: &str, token: &str) -> (i32, String, String) {
    let mut c = crate::harness::ddnsd();
    c.env("DDNSD_TEST_DO_TOKEN", token)
        .args(["run", "--once", "-c", config]);
    crate::harness::output(c)
}

#[test]
fn cli_run_once_creates_then_costs_nothing_then_one_patch() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "2001:db8::10");
    let (code, stdout, stderr) = run_once(&config, TOKEN);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "home.example.com AAAA 2001:db8::10  created\n");
    emu.reset_calls();
    let (code, stdout, _) = run_once(&config, TOKEN);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "home.example.com AAAA 2001:db8::10  unchanged\n")
    );
    assert_eq!(emu.state().total_calls(), 0);
    let id = emu.state().rrset("example.com", "AAAA", "home")[0].id;
    let config = cli_config(dir.path(), &emu, "2001:db8::11");
    let (code, stdout, stderr) = run_once(&config, TOKEN);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "home.example.com AAAA 2001:db8::11  updated (was 2001:db8::10)\n"
    );
    let st = emu.state();
    assert_eq!(
        (st.count("PatchRecord"), st.total_calls()),
        (1, 1),
        "{:?}",
        st.calls
    );
    assert_eq!(st.rrset("example.com", "AAAA", "home")[0].id, id);
}

#[test]
fn cli_wrong_token_exits_1_with_the_token_hint() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "2001:db8::10");
    let (code, stdout, stderr) = run_once(&config, "dop_v1_wrong");
    assert_eq!(code, 1, "{stdout}{stderr}");
    let why = "ListDomains failed: unauthorized: \"Unable to authenticate you.\"";
    assert_eq!(
        stdout,
        format!("home.example.com AAAA 2001:db8::10  failed: {why}\n")
    );
    assert_eq!(
        stderr,
        format!("error: home.example.com AAAA via do: {why}\n  hint: check token: it must be a DigitalOcean personal access token (API → Tokens) that is neither expired nor revoked\n")
    );
}

#[test]
fn the_example_block_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    let example = ddnsd::provider::digitalocean::KIND.example;
    let text = format!(
        "{example}\n[sources.fixed]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"home.example.com\"\nprovider = \"digitalocean\"\nsources = [\"fixed\"]\n"
    );
    let config = crate::harness::write(dir.path(), "ex.toml", &text);
    let mut c = crate::harness::ddnsd();
    c.env("DIGITALOCEAN_TOKEN", "t")
        .args(["check", "-c", &config]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!(code, 0, "{stdout}{stderr}");
}
