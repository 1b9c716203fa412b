//! `kind = "dynv6"` against the dynv6 emulator, both modes: records (one PATCH per change with
//! the id kept, the zone's own AAAA as its `ipv6prefix` field with the prefix length kept,
//! partial and MAC records read through `expandedData`, a token restricted to another zone)
//! and prefix (the update API's `ipv6prefix=`, hosts written as MAC or `::suffix` following it,
//! sent only when the prefix changes), and `ddnsd run --once` in prefix mode.
//!
//! See: issue 10 (dynv6).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use ddnsd::provider::dynv6::{Dynv6Settings, Mode};
use ddnsd::provider::{Configured, Provider, ProviderErrorKind};
use ddnsd::record::{RecordType, RrSet, Ttl};
use ddnsd::secret::Secret;

use crate::harness::dynv6_emu::Dynv6Emu;
use crate::harness::records::deps;
use crate::harness::records::none;

const TOKEN: &str = "ayd4PxZ3Vn6sGx8mQmCzNG5kNc7Wr3";
const ZONE: &str = "home.dynv6.net";

fn emulator() -> Dynv6Emu {
    let emu = Dynv6Emu::start();
    {
        let mut st = emu.state();
        st.tokens.insert(TOKEN.into(), None);
        st.add_zone(ZONE);
        st.add_zone("other.dynv6.net");
        st.add_record(ZONE, "nas", "AAAA", "00:11:22:33:44:55");
        st.add_record(ZONE, "printer", "AAAA", "::10");
        st.add_record(ZONE, "www", "TXT", "foreign");
    }
    emu
}

fn provider(emu: &Dynv6Emu, mode: Mode, zone: Option<&str>) -> Arc<dyn Provider> {
    Dynv6Settings {
        token: Secret::new(TOKEN.into()),
        zone: zone.map(|z| z.parse().unwrap()),
        mode,
        prefix_length: 64,
        endpoint: emu.endpoint(),
    }
    .build("dynv6", &deps())
}

fn rrset(name: &str, rtype: RecordType, addrs: &[&str]) -> RrSet {
    RrSet {
        name: name.parse().unwrap(),
        rtype,
        ttl: Ttl(300),
        addrs: addrs.iter().map(|a| a.parse::<IpAddr>().unwrap()).collect(),
    }
}

#[tokio::test]
async fn records_a_change_is_one_patch_keeping_the_id() {
    let emu = emulator();
    let p = provider(&emu, Mode::Records, None);
    let h = p
        .apply_rrset(
            &rrset("www.home.dynv6.net", RecordType::Aaaa, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap();
    let id = emu.state().rrset(ZONE, "www", "AAAA")[0].id;
    emu.state().calls.clear();
    let h = p
        .apply_rrset(
            &rrset("www.home.dynv6.net", RecordType::Aaaa, &["2001:db8::2"]),
            &h,
        )
        .await
        .unwrap();
    {
        let st = emu.state();
        assert_eq!(st.calls.values().sum::<u32>(), 1, "{:?}", st.calls);
        assert_eq!(st.count("update record"), 1);
        let rec = st.rrset(ZONE, "www", "AAAA");
        assert_eq!(
            (rec.len(), rec[0].id, rec[0].data.as_str()),
            (1, id, "2001:db8::2")
        );
        assert_eq!(st.values(ZONE, "www", "TXT"), ["foreign"]);
    }
    // The TTL reported is the one ddnsd asked for (dynv6 has none to read).
    let live = p
        .read_rrset(
            &rrset("www.home.dynv6.net", RecordType::Aaaa, &[]).key(),
            &h,
        )
        .await
        .unwrap();
    assert_eq!(live.ttl, Some(Ttl(300)));
}

#[tokio::test]
async fn records_partial_and_mac_data_are_read_expanded() {
    let emu = emulator();
    {
        let mut st = emu.state();
        let id = st.zone_id(ZONE);
        st.zones.get_mut(&id).unwrap().records_prefix =
            Some(("2001:db8:1:2::".parse().unwrap(), 64));
    }
    let p = provider(&emu, Mode::Records, Some(ZONE));
    let live = p
        .read_rrset(
            &rrset("nas.home.dynv6.net", RecordType::Aaaa, &[]).key(),
            &none(),
        )
        .await
        .unwrap();
    assert_eq!(live.addrs.to_string(), "2001:db8:1:2:211:22ff:fe33:4455");
    // The live record already resolves to the desired address: nothing is written.
    emu.state().calls.clear();
    p.apply_rrset(
        &rrset(
            "printer.home.dynv6.net",
            RecordType::Aaaa,
            &["2001:db8:1:2::10"],
        ),
        &none(),
    )
    .await
    .unwrap();
    assert_eq!(emu.state().count("update record"), 0);
    assert_eq!(emu.state().rrset(ZONE, "printer", "AAAA")[0].data, "::10");
}

#[tokio::test]
async fn records_the_zone_name_is_the_zone_field_with_its_prefix_length_kept() {
    let emu = emulator();
    {
        let mut st = emu.state();
        let id = st.zone_id(ZONE);
        st.zones.get_mut(&id).unwrap().ipv6prefix = "2001:db8:1:2::1/64".into();
    }
    let p = provider(&emu, Mode::Records, None);
    let live = p
        .read_rrset(&rrset(ZONE, RecordType::Aaaa, &[]).key(), &none())
        .await
        .unwrap();
    assert_eq!(live.addrs.to_string(), "2001:db8:1:2::1");
    p.apply_rrset(
        &rrset(ZONE, RecordType::Aaaa, &["2001:db8:9:9::1"]),
        &none(),
    )
    .await
    .unwrap();
    p.apply_rrset(&rrset(ZONE, RecordType::A, &["192.0.2.7"]), &none())
        .await
        .unwrap();
    {
        let st = emu.state();
        let z = &st.zones[&st.zone_id(ZONE)];
        assert_eq!(
            (z.ipv6prefix.as_str(), z.ipv4address.as_str()),
            ("2001:db8:9:9::1/64", "192.0.2.7")
        );
        assert_eq!(st.count("update zone"), 2);
    }
    let e = p
        .apply_rrset(
            &rrset(ZONE, RecordType::Aaaa, &["2001:db8::1", "2001:db8::2"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Rejected);
    assert_eq!(e.message, "home.dynv6.net AAAA has 2 addresses (2001:db8::1,2001:db8::2) but a dynv6 zone holds one per family");
}

#[tokio::test]
async fn records_a_token_for_another_zone_is_forbidden() {
    let emu = emulator();
    emu.state()
        .tokens
        .insert(TOKEN.into(), Some("other.dynv6.net".into()));
    let p = provider(&emu, Mode::Records, Some(ZONE));
    let e = p
        .apply_rrset(
            &rrset("www.home.dynv6.net", RecordType::Aaaa, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Forbidden);
    assert_eq!(e.message, "get zone failed (http 403): \"access denied\"");
    // Without zone, the token sees only its own zone: the name is in none of them.
    let p = provider(&emu, Mode::Records, None);
    let e = p
        .apply_rrset(
            &rrset("www.home.dynv6.net", RecordType::Aaaa, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ZoneNotFound);
    assert_eq!(
        e.message,
        "no zone of this dynv6 token contains www.home.dynv6.net"
    );
}

#[tokio::test]
async fn prefix_mode_publishes_only_the_prefix_and_the_hosts_follow() {
    let emu = emulator();
    let p = provider(&emu, Mode::Prefix, None);
    assert!(!p.reads_live());
    let h = p
        .apply_rrset(
            &rrset(ZONE, RecordType::Aaaa, &["2001:db8:1:2::abc"]),
            &none(),
        )
        .await
        .unwrap();
    {
        let st = emu.state();
        let q = st.updates.last().unwrap();
        assert_eq!(q.get("zone").map(String::as_str), Some(ZONE));
        assert_eq!(
            q.get("ipv6prefix").map(String::as_str),
            Some("2001:db8:1:2::/64")
        );
        assert!(
            !q.contains_key("ipv6"),
            "the zone's own AAAA is not touched: {q:?}"
        );
        // Hosts written as a MAC or a suffix now resolve inside the new prefix.
        assert_eq!(
            st.values(ZONE, "nas", "AAAA"),
            ["2001:db8:1:2:211:22ff:fe33:4455"]
        );
        assert_eq!(st.values(ZONE, "printer", "AAAA"), ["2001:db8:1:2::10"]);
        assert!(st.values(ZONE, "@", "AAAA").is_empty());
    }
    // Another address in the same prefix (a new interface id): nothing to send.
    let h = p
        .apply_rrset(&rrset(ZONE, RecordType::Aaaa, &["2001:db8:1:2::def"]), &h)
        .await
        .unwrap();
    assert_eq!(emu.state().count("update"), 1);
    // A new prefix is sent; the read reports what was acknowledged, without a request.
    let h = p
        .apply_rrset(&rrset(ZONE, RecordType::Aaaa, &["2001:db8:7:7::1"]), &h)
        .await
        .unwrap();
    assert_eq!(
        emu.state().values(ZONE, "nas", "AAAA"),
        ["2001:db8:7:7:211:22ff:fe33:4455"]
    );
    let live = p
        .read_rrset(&rrset(ZONE, RecordType::Aaaa, &[]).key(), &h)
        .await
        .unwrap();
    assert_eq!(
        (live.addrs.to_string(), live.ttl),
        ("2001:db8:7:7::1".to_owned(), Some(Ttl(300)))
    );
    // The zone's A goes in ipv4=.
    p.apply_rrset(&rrset(ZONE, RecordType::A, &["192.0.2.9"]), &none())
        .await
        .unwrap();
    assert_eq!(emu.state().values(ZONE, "@", "A"), ["192.0.2.9"]);
    assert_eq!(emu.state().count("update"), 3);
}

#[tokio::test]
async fn prefix_mode_refuses_other_names_and_a_wrong_token() {
    let emu = emulator();
    // Without zone, the record's name is the zone the update API is asked for: not one.
    let p = provider(&emu, Mode::Prefix, None);
    let e = p
        .apply_rrset(
            &rrset("nas.home.dynv6.net", RecordType::Aaaa, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ZoneNotFound);
    assert_eq!(
        e.message,
        format!("update at {} failed (http 404)", emu.host_port())
    );
    assert_eq!(emu.state().count("update"), 1);
    // With zone set, another name is refused before any request.
    let p = provider(&emu, Mode::Prefix, Some(ZONE));
    let e = p
        .apply_rrset(
            &rrset("nas.home.dynv6.net", RecordType::Aaaa, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Rejected);
    assert_eq!(e.message, "with mode = \"prefix\" a record names the zone itself (home.dynv6.net), not nas.home.dynv6.net");
    assert_eq!(emu.state().count("update"), 1);
    let p = Dynv6Settings {
        token: Secret::new("wrong-token".into()),
        zone: None,
        mode: Mode::Prefix,
        prefix_length: 64,
        endpoint: emu.endpoint(),
    }
    .build("dynv6", &deps());
    let e = p
        .apply_rrset(&rrset(ZONE, RecordType::Aaaa, &["2001:db8::1"]), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert_eq!(
        e.message,
        format!("update at {} failed (http 401)", emu.host_port())
    );
    assert!(!e.message.contains("wrong-token"));
}

fn cli_config(dir: &Path, emu: &Dynv6Emu, addr: &str) -> String {
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.lan]
kind = "static"
addresses = ["{addr}"]

[providers.dynv6]
kind = "dynv6"
token_env = "DDNSD_TEST_SECRET"
mode = "prefix"
endpoint = "{endpoint}"

[[records]]
name = "home.dynv6.net"
provider = "dynv6"
sources = ["lan"]
"#,
        state = dir.join("state.json").display(),
        endpoint = emu.endpoint(),
    );
    crate::harness::write(dir, "ddnsd.toml", &text)
}

fn run_once(config: &str) -> (i32, String, String) {
    let mut c = crate::harness::ddnsd();
    c.env("DDNSD_TEST_SECRET", TOKEN)
        .args(["--log-level", "trace", "run", "--once", "-c", config]);
    crate::harness::output(c)
}

#[test]
fn cli_prefix_mode_sends_the_prefix_once_per_change() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "2001:db8:1:2::abc");
    let (code, stdout, stderr) = run_once(&config);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "home.dynv6.net AAAA 2001:db8:1:2::abc  created\n");
    assert!(
        stderr.contains("sending dynv6 update"),
        "trace output captured: {stderr}"
    );
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "the token leaked"
    );
    let (code, stdout, _) = run_once(&config);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "home.dynv6.net AAAA 2001:db8:1:2::abc  unchanged\n")
    );
    // A new interface id in the same prefix: ddnsd's record changes, the prefix does not.
    let config = cli_config(dir.path(), &emu, "2001:db8:1:2::def");
    let (code, stdout, _) = run_once(&config);
    assert_eq!(
        (code, stdout.as_str()),
        (
            0,
            "home.dynv6.net AAAA 2001:db8:1:2::def  updated (was 2001:db8:1:2::abc)\n"
        )
    );
    assert_eq!(emu.state().count("update"), 1, "the prefix was sent once");
    let config = cli_config(dir.path(), &emu, "2001:db8:3:4::def");
    let (code, _, _) = run_once(&config);
    assert_eq!(code, 0);
    assert_eq!(emu.state().count("update"), 2);
    assert_eq!(
        emu.state().values(ZONE, "printer", "AAAA"),
        ["2001:db8:3:4::10"]
    );
}
