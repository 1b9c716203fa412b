//! `kind = "duckdns"` against the DuckDNS emulator: each family in its own parameter, the
//! verbose answer checked, `KO` told apart (a name outside the account once the token has
//! worked, else the token), requests refused before sending, and `ddnsd run --once`.
//!
//! See: issue 10 (DuckDNS).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use ddnsd::provider::duckdns::DuckdnsSettings;
use ddnsd::provider::{Configured, Provider, ProviderErrorKind, ProviderHints, Write};
use ddnsd::record::{RecordType, RrSet, Ttl};
use ddnsd::secret::Secret;

use crate::harness::duckdns_emu::{DuckdnsEmu, Fault};
use crate::harness::records::deps;

const TOKEN: &str = "a7c4d0ad-114e-40ef-ba1d-d217904a50f2";

fn emulator() -> DuckdnsEmu {
    let emu = DuckdnsEmu::start(TOKEN);
    emu.add_name("home");
    emu.add_name("office");
    emu
}

fn provider(emu: &DuckdnsEmu, token: &str) -> Arc<dyn Provider> {
    DuckdnsSettings {
        token: Secret::new(token.into()),
        zone: "duckdns.org".parse().unwrap(),
        endpoint: emu.endpoint(),
    }
    .build("duck", &deps())
}

fn rrset(name: &str, rtype: RecordType, addrs: &[&str]) -> RrSet {
    RrSet {
        name: name.parse().unwrap(),
        rtype,
        ttl: Ttl(60),
        addrs: addrs.iter().map(|a| a.parse::<IpAddr>().unwrap()).collect(),
    }
}

fn write(rr: RrSet) -> Write {
    Write {
        desired: rr,
        hints: ProviderHints::default(),
    }
}

#[tokio::test]
async fn each_family_goes_in_its_own_parameter_and_leaves_the_other_alone() {
    let emu = emulator();
    let p = provider(&emu, TOKEN);
    let v6 = rrset("home.duckdns.org", RecordType::Aaaa, &["2001:db8::1"]);
    let v4 = rrset("home.duckdns.org", RecordType::A, &["192.0.2.1"]);
    let h6 = p.apply_rrset(&v6, &ProviderHints::default()).await.unwrap();
    // AAAA alone: no `ip` parameter, so DuckDNS does not guess (and change) the IPv4 address.
    {
        let st = emu.state();
        let q = &st.received[0];
        assert_eq!(q.get("domains").map(String::as_str), Some("home"));
        assert_eq!(q.get("ipv6").map(String::as_str), Some("2001:db8::1"));
        assert_eq!(q.get("verbose").map(String::as_str), Some("true"));
        assert!(!q.contains_key("ip"), "{q:?}");
        assert_eq!(st.get("home").a, Vec::<String>::new());
    }
    p.apply_rrset(&v4, &ProviderHints::default()).await.unwrap();
    {
        let st = emu.state();
        let q = &st.received[1];
        assert_eq!(q.get("ip").map(String::as_str), Some("192.0.2.1"));
        assert!(!q.contains_key("ipv6"), "{q:?}");
        let n = st.get("home");
        assert_eq!(
            (n.a, n.aaaa),
            (vec!["192.0.2.1".to_owned()], vec!["2001:db8::1".to_owned()])
        );
    }
    // The acknowledged set is what a read reports, without a request.
    let live = p.read_rrset(&v6.key(), &h6).await.unwrap();
    assert_eq!((live.addrs, live.ttl), (v6.addrs.clone(), Some(Ttl(60))));
    assert_eq!(emu.state().calls, 2);
}

#[tokio::test]
async fn a_ko_is_the_name_once_the_token_has_worked_and_the_token_before() {
    let emu = emulator();
    // In one batch: the unknown name first, then a known one whose OK shows the token works.
    let p = provider(&emu, TOKEN);
    let results = p
        .apply_batch(&[
            write(rrset(
                "nosuch.duckdns.org",
                RecordType::Aaaa,
                &["2001:db8::2"],
            )),
            write(rrset(
                "office.duckdns.org",
                RecordType::Aaaa,
                &["2001:db8::3"],
            )),
        ])
        .await;
    let e = results[0].as_ref().unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Rejected);
    assert_eq!(
        e.message,
        format!("{} refused the update of nosuch.duckdns.org (KO): the token works for other names, so nosuch is not a domain of this account", emu.host_port())
    );
    assert!(results[1].is_ok());
    assert_eq!(emu.state().get("office").aaaa, ["2001:db8::3"]);

    // A fresh provider with only a KO to go on: the token (or the name), not retried.
    let p = provider(&emu, "wrong-token");
    let e = p
        .apply_rrset(
            &rrset("home.duckdns.org", RecordType::Aaaa, &["2001:db8::4"]),
            &ProviderHints::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert_eq!(
        e.hint.as_deref(),
        Some("check token in [providers.duck] (the account token shown on duckdns.org) and that home is one of its domains; ddnsd retries after the config is reloaded")
    );
    assert_eq!(emu.state().calls, 3, "a KO is not retried");
}

#[tokio::test]
async fn what_duckdns_cannot_hold_is_refused_before_any_request() {
    let emu = emulator();
    let p = provider(&emu, TOKEN);
    let none = ProviderHints::default();
    for (rr, message) in [
        (
            rrset("home.duckdns.org", RecordType::Aaaa, &["2001:db8::1", "2001:db8::2"]),
            "home.duckdns.org AAAA has 2 addresses (2001:db8::1,2001:db8::2) but DuckDNS holds one per family",
        ),
        (
            rrset("home.duckdns.org", RecordType::A, &[]),
            "DuckDNS cannot remove only the A of home.duckdns.org",
        ),
        (
            rrset("www.home.duckdns.org", RecordType::A, &["192.0.2.1"]),
            "DuckDNS updates only NAME.duckdns.org; www.home.duckdns.org follows home.duckdns.org",
        ),
    ] {
        let e = p.apply_rrset(&rr, &none).await.unwrap_err();
        assert_eq!((e.kind, e.message.as_str()), (ProviderErrorKind::Rejected, message));
    }
    assert_eq!(emu.state().calls, 0);
}

#[tokio::test]
async fn an_ok_that_does_not_echo_the_address_is_not_trusted() {
    let emu = emulator();
    let p = provider(&emu, TOKEN);
    emu.inject(Fault::Truncated);
    let e = p
        .apply_rrset(
            &rrset("home.duckdns.org", RecordType::Aaaa, &["2001:db8::1"]),
            &ProviderHints::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Protocol);
    assert_eq!(
        e.message,
        format!(
            "{} answered \"O\", which is not a DuckDNS answer",
            emu.host_port()
        )
    );
}

fn cli_config(dir: &Path, emu: &DuckdnsEmu, addrs: &[&str]) -> String {
    let list: Vec<String> = addrs.iter().map(|a| format!("\"{a}\"")).collect();
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = [{list}]

[providers.duck]
kind = "duckdns"
token_env = "DDNSD_TEST_SECRET"
endpoint = "{endpoint}"

[[records]]
name = "home.duckdns.org"
provider = "duck"
sources = ["fixed"]
"#,
        state = dir.join("state.json").display(),
        list = list.join(", "),
        endpoint = emu.endpoint(),
    );
    crate::harness::write(dir, "ddnsd.toml", &text)
}

fn run_once(config: &str, secret: &str, extra: &[&str]) -> (i32, String, String) {
    let mut c = crate::harness::ddnsd();
    c.env("DDNSD_TEST_SECRET", secret)
        .args(extra)
        .args(["run", "--once", "-c", config]);
    crate::harness::output(c)
}

#[test]
fn cli_run_once_publishes_both_families_then_costs_nothing() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, &["2001:db8::10", "192.0.2.10"]);
    let (code, stdout, stderr) = run_once(&config, TOKEN, &["--log-level", "trace"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "home.duckdns.org AAAA 2001:db8::10  created\nhome.duckdns.org A 192.0.2.10  created\n"
    );
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "{stderr}"
    );
    assert!(stderr.contains("sending duckdns update"), "{stderr}");
    let (code, stdout, _) = run_once(&config, TOKEN, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "home.duckdns.org AAAA 2001:db8::10  unchanged\nhome.duckdns.org A 192.0.2.10  unchanged\n"
    );
    assert_eq!(emu.state().calls, 2);
    let config = cli_config(dir.path(), &emu, &["2001:db8::11", "192.0.2.10"]);
    let (code, stdout, _) = run_once(&config, TOKEN, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "home.duckdns.org AAAA 2001:db8::11  updated (was 2001:db8::10)\nhome.duckdns.org A 192.0.2.10  unchanged\n"
    );
    assert_eq!(emu.state().calls, 3);
}

#[test]
fn cli_wrong_token_exits_1_naming_both_causes() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, &["2001:db8::10"]);
    let (code, stdout, stderr) = run_once(&config, "not-the-token", &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let why = format!(
        "{} refused the update of home.duckdns.org (KO): the token is wrong, or home is not a domain of this account",
        emu.host_port()
    );
    assert_eq!(
        stdout,
        format!("home.duckdns.org AAAA 2001:db8::10  failed: {why}\n")
    );
    assert_eq!(
        stderr,
        format!("error: home.duckdns.org AAAA via duck: {why}\n  hint: check token in [providers.duck] (the account token shown on duckdns.org) and that home is one of its domains; ddnsd retries after the config is reloaded\n")
    );
}
