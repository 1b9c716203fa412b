//! `kind = "porkbun"` against the Porkbun emulator: ids reused and the user's fields (`notes`,
//! `prio`) kept on an edit, the domain found by walking up the name, API ACCESS off, the parking ALIAS left alone, a
//! vanished id found out by reading, the 600 s minimum TTL, and `ddnsd run --once`.
//!
//! See: issue 10 (Porkbun).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use ddnsd::provider::porkbun::PorkbunSettings;
use ddnsd::provider::{Configured, Provider, ProviderErrorKind, ProviderHints};
use ddnsd::record::{RecordType, RrSet, Ttl};
use ddnsd::secret::Secret;

use crate::harness::porkbun_emu::PorkbunEmu;
use crate::harness::records::deps;
use crate::harness::records::none;

const KEY: &str = "pk1_0123456789abcdef";
const SECRET: &str = "sk1_fedcba9876543210";
const ZONE: &str = "example.com";

fn emulator() -> PorkbunEmu {
    let emu = PorkbunEmu::start();
    {
        let mut st = emu.state();
        st.keys.insert(KEY.into(), SECRET.into());
        st.add_domain(ZONE);
    }
    emu
}

fn provider(emu: &PorkbunEmu, secret: &str) -> Arc<dyn Provider> {
    PorkbunSettings {
        api_key: Secret::new(KEY.into()),
        secret_api_key: Secret::new(secret.into()),
        zone: None,
        endpoint: emu.endpoint(),
    }
    .build("porkbun", &deps())
}

fn rrset(name: &str, rtype: RecordType, addrs: &[&str]) -> RrSet {
    RrSet {
        name: name.parse().unwrap(),
        rtype,
        ttl: Ttl(600),
        addrs: addrs.iter().map(|a| a.parse::<IpAddr>().unwrap()).collect(),
    }
}

#[tokio::test]
async fn an_edit_keeps_the_id_and_the_users_notes_and_prio() {
    let emu = emulator();
    let id = {
        let mut st = emu.state();
        let id = st.add(ZONE, "home", "AAAA", "2001:db8::1", 900);
        let r = st
            .domains
            .get_mut(ZONE)
            .unwrap()
            .records
            .iter_mut()
            .find(|r| r.id == id)
            .unwrap();
        r.notes = "the router".into();
        r.prio = "5".into();
        id
    };
    // A fresh provider with the hints of the last write (as `run --once` has them).
    let p = provider(&emu, SECRET);
    let mut hints = ProviderHints::default();
    hints.0.insert("zone".into(), ZONE.into());
    hints
        .0
        .insert("records".into(), format!("{id}=2001:db8::1"));
    hints.0.insert("ttl".into(), "600".into());
    p.apply_rrset(
        &rrset("home.example.com", RecordType::Aaaa, &["2001:db8::2"]),
        &hints,
    )
    .await
    .unwrap();
    let st = emu.state();
    let rec = st.rrset(ZONE, "home", "AAAA");
    assert_eq!(rec.len(), 1);
    assert_eq!(
        (
            rec[0].id.as_str(),
            rec[0].content.as_str(),
            rec[0].ttl,
            rec[0].notes.as_str(),
            rec[0].prio.as_str()
        ),
        (id.as_str(), "2001:db8::2", 600, "the router", "5")
    );
    assert_eq!(
        (
            st.count("retrieveByNameType"),
            st.count("edit"),
            st.count("create")
        ),
        (1, 1, 0)
    );
    let (_, body) = st.bodies.last().unwrap();
    assert_eq!(body["notes"], "the router");
    assert_eq!(
        body["ttl"], "600",
        "every value a string, as Porkbun writes them"
    );
    assert!(
        body.get("apikey").is_none(),
        "the emulator strips the keys before keeping bodies"
    );
}

#[tokio::test]
async fn the_zone_is_found_by_asking_for_the_name_and_its_parents() {
    let emu = emulator();
    emu.state().add_domain("example.org");
    let p = provider(&emu, SECRET);
    p.apply_rrset(
        &rrset("a.home.example.com", RecordType::A, &["192.0.2.1"]),
        &none(),
    )
    .await
    .unwrap();
    {
        let st = emu.state();
        assert_eq!(st.rrset(ZONE, "a.home", "A")[0].content, "192.0.2.1");
        // a.home.example.com and home.example.com are "Invalid domain.", example.com answers;
        // then the records of the name are read.
        assert_eq!(st.count("retrieveByNameType"), 4);
        assert_eq!(st.count("listAll"), 0);
    }
    // Found once per process.
    emu.state().calls.clear();
    p.apply_rrset(
        &rrset("b.example.com", RecordType::A, &["192.0.2.2"]),
        &none(),
    )
    .await
    .unwrap();
    assert_eq!(emu.state().count("retrieveByNameType"), 1);
    let e = p
        .apply_rrset(
            &rrset("home.example.net", RecordType::A, &["192.0.2.1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ZoneNotFound);
    assert_eq!(
        e.message,
        "no domain of this Porkbun account contains home.example.net"
    );
}

#[tokio::test]
async fn api_access_off_is_forbidden_for_that_domain_with_the_switch_to_turn() {
    let emu = emulator();
    emu.state().domains.get_mut(ZONE).unwrap().api_access = false;
    let p = provider(&emu, SECRET);
    let e = p
        .apply_rrset(
            &rrset("home.example.com", RecordType::A, &["192.0.2.1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Forbidden);
    assert_eq!(
        e.message,
        "retrieveByNameType failed: \"Domain is not opted in to API access.\""
    );
    assert_eq!(
        e.hint.as_deref(),
        Some("turn on API ACCESS for example.com under Domain Management on porkbun.com")
    );
}

#[tokio::test]
async fn the_parking_alias_is_left_alone() {
    let emu = emulator();
    emu.state()
        .add(ZONE, "@", "ALIAS", "pixie.porkbun.com", 600);
    let p = provider(&emu, SECRET);
    let e = p
        .apply_rrset(
            &rrset("example.com", RecordType::Aaaa, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Transient);
    assert!(
        e.message.starts_with("create failed: \"Create error"),
        "{e:?}"
    );
    let st = emu.state();
    assert_eq!(
        st.rrset(ZONE, "@", "ALIAS").len(),
        1,
        "another type: never touched"
    );
    assert_eq!(st.count("delete"), 0);
}

#[tokio::test]
async fn a_vanished_id_is_found_out_by_reading_and_created_again() {
    let emu = emulator();
    let p = provider(&emu, SECRET);
    let h = p
        .apply_rrset(
            &rrset("home.example.com", RecordType::Aaaa, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap();
    // Deleted behind ddnsd's back: the read before the edit finds it gone, re-plans, creates.
    {
        let mut st = emu.state();
        st.domains.get_mut(ZONE).unwrap().records.clear();
        st.calls.clear();
    }
    let h = p
        .apply_rrset(
            &rrset("home.example.com", RecordType::Aaaa, &["2001:db8::2"]),
            &h,
        )
        .await
        .unwrap();
    {
        let mut st = emu.state();
        assert_eq!(st.rrset(ZONE, "home", "AAAA")[0].content, "2001:db8::2");
        assert_eq!(
            (
                st.count("retrieveByNameType"),
                st.count("edit"),
                st.count("create")
            ),
            (2, 0, 1),
            "{:?}",
            st.calls
        );
        // Deleted between ddnsd's read and its edit: Porkbun's (unspecific) edit error is
        // checked by reading the id, which is gone: read again, create.
        let id = st.rrset(ZONE, "home", "AAAA")[0].id.clone();
        st.vanish_after_read = Some(id);
        st.calls.clear();
    }
    p.apply_rrset(
        &rrset("home.example.com", RecordType::Aaaa, &["2001:db8::3"]),
        &h,
    )
    .await
    .unwrap();
    let st = emu.state();
    assert_eq!(st.rrset(ZONE, "home", "AAAA")[0].content, "2001:db8::3");
    assert_eq!(st.count("retrieve"), 1, "{:?}", st.calls);
    assert_eq!(
        (st.count("create"), st.count("retrieveByNameType")),
        (1, 2),
        "{:?}",
        st.calls
    );
    assert!(st.count("edit") >= 1, "{:?}", st.calls);
}

#[tokio::test]
async fn ttls_below_600_are_raised() {
    let emu = emulator();
    let p = provider(&emu, SECRET);
    assert_eq!(p.effective_ttl(Ttl(300)), Ttl(600));
    assert_eq!(p.effective_ttl(Ttl(3600)), Ttl(3600));
}

fn cli_config(dir: &Path, emu: &PorkbunEmu, addr: &str) -> String {
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = ["{addr}"]

[providers.porkbun]
kind = "porkbun"
api_key = "{KEY}"
secret_api_key_env = "DDNSD_TEST_SECRET"
endpoint = "{endpoint}"

[[records]]
name = "home.example.com"
provider = "porkbun"
sources = ["fixed"]
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
fn cli_create_unchanged_then_one_edit() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "2001:db8::10");
    let (code, stdout, stderr) = run_once(&config, SECRET);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "home.example.com AAAA 2001:db8::10  created\n");
    let id = emu.state().rrset(ZONE, "home", "AAAA")[0].id.clone();
    let (code, stdout, _) = run_once(&config, SECRET);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "home.example.com AAAA 2001:db8::10  unchanged\n")
    );
    emu.state().calls.clear();
    let config = cli_config(dir.path(), &emu, "2001:db8::11");
    let (code, stdout, _) = run_once(&config, SECRET);
    assert_eq!(
        (code, stdout.as_str()),
        (
            0,
            "home.example.com AAAA 2001:db8::11  updated (was 2001:db8::10)\n"
        )
    );
    let st = emu.state();
    assert_eq!(st.rrset(ZONE, "home", "AAAA")[0].id, id);
    assert_eq!(
        (
            st.count("edit"),
            st.count("create"),
            st.count("retrieveByNameType")
        ),
        (1, 0, 1)
    );
}

#[test]
fn cli_wrong_secret_exits_1_with_the_hint() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "2001:db8::10");
    let (code, stdout, stderr) = run_once(&config, "sk1_wrong");
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(
        stderr,
        "error: home.example.com AAAA via porkbun: retrieveByNameType failed: \"Invalid API key. (002)\"\n  hint: check api_key and secret_api_key (porkbun.com/account/api); ddnsd retries after the config is reloaded\n"
    );
    assert_eq!(emu.state().calls.values().sum::<u32>(), 1);
}
