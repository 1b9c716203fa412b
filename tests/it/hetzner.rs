//! `kind = "hetzner"` against the local Hetzner Cloud API emulator (`harness/hetzner_emu.rs`),
//! and the built binary's `run --once` against it.
//!
//! See: issue 10.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ddnsd::provider::hetzner::HetznerSettings;
use ddnsd::provider::{Configured, Provider, ProviderDeps, ProviderErrorKind};
use ddnsd::record::RecordType;
use ddnsd::secret::Secret;
use serde_json::json;

use crate::harness::emu_http::Target;
use crate::harness::hetzner_emu::{Fault, HetznerEmu, Record};
use crate::harness::records::{deps_with, key, none, rrset};

const TOKEN: &str = "hcloud-rw-token-0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij";
const HOME: &str = "home.example.com";

fn emulator() -> HetznerEmu {
    let emu = HetznerEmu::start();
    {
        let mut st = emu.state();
        st.tokens.push(TOKEN.into());
        st.add_zone("example.com");
        st.add_zone("example.org");
        st.add_value("example.com", "home", "A", "192.0.2.1", Some(600), "");
        st.add_value("example.com", "home", "TXT", "\"v=spf1 -all\"", None, "");
        st.add_value(
            "example.com",
            "www",
            "AAAA",
            "2001:db8::99",
            Some(1800),
            "web",
        );
        st.add_value("example.org", "home", "AAAA", "2001:db8::97", Some(300), "");
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

fn settings(emu: &HetznerEmu, token: &str) -> HetznerSettings {
    HetznerSettings {
        api_token: Secret::new(token.into()),
        zone: None,
        endpoint: emu.endpoint(),
    }
}

fn provider(emu: &HetznerEmu) -> Arc<dyn Provider> {
    settings(emu, TOKEN).build("hz", &deps())
}

#[tokio::test]
async fn create_then_one_set_records_from_the_remembered_state() {
    let emu = emulator();
    let before = emu.state().others("example.com", "home", "AAAA");
    let hints = provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap();
    {
        let st = emu.state();
        assert_eq!(
            (
                st.count("ListZones"),
                st.count("ListRRSets"),
                st.count("CreateRRSet"),
                st.total_calls()
            ),
            (1, 1, 1, 3)
        );
        assert_eq!(
            st.writes.last().unwrap(),
            &(
                "CreateRRSet".to_owned(),
                json!({"name": "home", "type": "AAAA", "ttl": 300, "records": [{"value": "2001:db8::1"}]})
            )
        );
        assert!(st.auth_seen.iter().all(|a| *a == format!("Bearer {TOKEN}")));
    }
    assert_eq!(hints.0["zone"], "example.com");
    assert_eq!(hints.0["rrset"], "present ttl=300 values=2001:db8::1");

    // A new process with the hints: one set_records, nothing read.
    emu.reset_calls();
    let hints = provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::2", "2001:db8::3"]),
            &hints,
        )
        .await
        .unwrap();
    {
        let st = emu.state();
        assert_eq!(
            (st.count("SetRecords"), st.total_calls()),
            (1, 1),
            "{:?}",
            st.calls
        );
        assert_eq!(
            st.values("example.com", "home", "AAAA"),
            ["2001:db8::2", "2001:db8::3"]
        );
        assert_eq!(
            st.others("example.com", "home", "AAAA"),
            before,
            "other RRsets untouched"
        );
        assert_eq!(st.values("example.org", "home", "AAAA"), ["2001:db8::97"]);
    }
    // Only the TTL: one change_ttl.
    emu.reset_calls();
    provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 900, &["2001:db8::2", "2001:db8::3"]),
            &hints,
        )
        .await
        .unwrap();
    let st = emu.state();
    assert_eq!(
        (st.count("ChangeTTL"), st.total_calls()),
        (1, 1),
        "{:?}",
        st.calls
    );
    assert_eq!(
        st.rrset("example.com", "home", "AAAA").unwrap().ttl,
        Some(900)
    );
}

#[tokio::test]
async fn comments_labels_and_the_zone_default_ttl() {
    let emu = emulator();
    {
        let mut st = emu.state();
        st.add_value("example.com", "home", "AAAA", "2001:db8::1", None, "router");
        st.add_value("example.com", "home", "AAAA", "2001:db8::2", None, "");
        st.rrset_mut("example.com", "home", "AAAA")
            .unwrap()
            .labels
            .insert("env".into(), "home".into());
    }
    let p = provider(&emu);
    let live = p
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(live.addrs.to_string(), "2001:db8::1,2001:db8::2");
    assert_eq!(
        live.ttl, None,
        "the zone's default TTL is no TTL of ddnsd's"
    );
    assert_eq!(live.hints.0["rrset"], "present commented");
    let hints = p
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1", "2001:db8::5"]),
            &live.hints,
        )
        .await
        .unwrap();
    let set = emu.state().rrset("example.com", "home", "AAAA").unwrap();
    assert_eq!(
        set.records,
        vec![
            Record {
                value: "2001:db8::1".into(),
                comment: "router".into()
            },
            Record {
                value: "2001:db8::5".into(),
                comment: String::new()
            },
        ],
        "the kept value keeps its comment"
    );
    assert_eq!(set.ttl, Some(300));
    assert_eq!(
        set.labels,
        BTreeMap::from([("env".to_owned(), "home".to_owned())])
    );
    // Commented values are read before the next write, so their comments stay.
    assert_eq!(hints.0["rrset"], "present commented");
    emu.reset_calls();
    provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1"]),
            &hints,
        )
        .await
        .unwrap();
    let st = emu.state();
    assert_eq!((st.count("ListRRSets"), st.count("SetRecords")), (1, 1));
    assert_eq!(
        st.rrset("example.com", "home", "AAAA").unwrap().records[0].comment,
        "router"
    );
}

#[tokio::test]
async fn a_remembered_state_that_is_wrong_is_read_once_more() {
    let emu = emulator();
    let p = provider(&emu);
    let hints = p
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap();
    // Someone deleted the RRset: set_records finds nothing, ddnsd reads and creates it.
    emu.state().zones[0]
        .rrsets
        .retain(|s| !(s.name == "home" && s.rtype == "AAAA"));
    emu.reset_calls();
    let hints2 = provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::2"]),
            &hints,
        )
        .await
        .unwrap();
    {
        let st = emu.state();
        assert_eq!(
            (
                st.count("SetRecords"),
                st.count("ListRRSets"),
                st.count("CreateRRSet")
            ),
            (1, 1, 1),
            "{:?}",
            st.calls
        );
        assert_eq!(st.values("example.com", "home", "AAAA"), ["2001:db8::2"]);
    }
    // Remembered as absent while it exists: the create meets uniqueness_error, then set.
    let mut absent = hints2.clone();
    absent.0.insert("rrset".into(), "absent".into());
    emu.reset_calls();
    provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::3"]),
            &absent,
        )
        .await
        .unwrap();
    let st = emu.state();
    assert_eq!(
        (
            st.count("CreateRRSet"),
            st.count("ListRRSets"),
            st.count("SetRecords")
        ),
        (1, 1, 1),
        "{:?}",
        st.calls
    );
    assert_eq!(st.values("example.com", "home", "AAAA"), ["2001:db8::3"]);
}

#[tokio::test]
async fn tokens_protection_and_refusals() {
    let emu = emulator();
    let e = settings(&emu, "wrong")
        .build("hz", &deps())
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert_eq!(
        e.message,
        "ListZones failed: unauthorized: \"unable to authenticate\""
    );
    assert_eq!(emu.state().total_calls(), 1);

    emu.state().readonly.push("ro-token".into());
    let e = settings(&emu, "ro-token")
        .build("hz", &deps())
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert_eq!(
        e.message,
        "CreateRRSet failed: token_readonly: \"The token is only allowed to perform GET requests\""
    );
    assert!(e.hint().unwrap().contains("Read & Write"));

    emu.state().add_value(
        "example.com",
        "locked",
        "AAAA",
        "2001:db8::1",
        Some(300),
        "",
    );
    emu.state()
        .rrset_mut("example.com", "locked", "AAAA")
        .unwrap()
        .protected = true;
    let e = provider(&emu)
        .apply_rrset(
            &rrset(
                "locked.example.com",
                RecordType::Aaaa,
                300,
                &["2001:db8::2"],
            ),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Forbidden);
    assert!(e
        .hint()
        .unwrap()
        .starts_with("the RRset is protected against changes"));

    emu.state().refused.push("home".into());
    let e = provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::2"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Rejected);
    assert_eq!(
        e.message,
        "CreateRRSet failed: invalid_input: \"invalid input in field 'name'\" (name: an RRset of another type at this name conflicts (CNAME))"
    );

    let mut s = settings(&emu, TOKEN);
    s.zone = Some("example.net".parse().unwrap());
    let e = s
        .build("hz", &deps())
        .read_rrset(&key("home.example.net", RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ZoneNotFound);
    assert_eq!(
        e.message,
        "ListRRSets failed: not_found: \"zone not found\""
    );
}

#[tokio::test]
async fn actions_are_followed_until_they_end() {
    let emu = emulator();
    emu.state().running_polls = 2;
    provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap();
    assert_eq!(emu.state().count("GetAction"), 2);
    emu.state().running_polls = 0;

    emu.state().fail_next_action = Some(("invalid_input".into(), "record value rejected".into()));
    let e = provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::2"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Rejected);
    assert_eq!(
        e.message,
        "SetRecords failed: invalid_input: \"record value rejected\""
    );
    assert_eq!(
        emu.state().values("example.com", "home", "AAAA"),
        ["2001:db8::1"]
    );
    emu.state().fail_next_action = Some(("locked".into(), "another action is running".into()));
    let e = provider(&emu)
        .apply_rrset(
            &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::2"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Transient);
}

#[tokio::test]
async fn rate_limits_wait_for_one_request_s_share_and_zones_page() {
    let emu = emulator();
    {
        let mut st = emu.state();
        for i in 0..70 {
            st.add_zone(&format!("z{i:02}.example.net"));
        }
        st.add_zone("sub.example.com");
    }
    let p = provider(&emu);
    let live = p
        .read_rrset(&key("a.sub.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(live.hints.0["zone"], "sub.example.com");
    assert_eq!(
        emu.state().count("ListZones"),
        2,
        "73 zones are two pages of 50"
    );

    emu.inject_on(Target::Writes, Fault::RateLimit(1));
    let started = Instant::now();
    p.apply_rrset(
        &rrset(HOME, RecordType::Aaaa, 300, &["2001:db8::1"]),
        &none(),
    )
    .await
    .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(emu.state().count("CreateRRSet"), 2);
    emu.inject_on(Target::Reads, Fault::Malformed);
    let e = provider(&emu)
        .read_rrset(&key(HOME, RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Protocol);
    assert!(
        e.message
            .starts_with("ListZones: the reply is not valid json"),
        "{e:?}"
    );
}

#[tokio::test]
async fn withdrawing_deletes_the_rrset_only() {
    let emu = emulator();
    emu.state()
        .add_value("example.com", "home", "AAAA", "2001:db8::1", Some(300), "");
    let before = emu.state().others("example.com", "home", "AAAA");
    let p = provider(&emu);
    let h = p
        .apply_rrset(&rrset(HOME, RecordType::Aaaa, 300, &[]), &none())
        .await
        .unwrap();
    assert_eq!(h.0["rrset"], "absent");
    assert_eq!(emu.state().rrset("example.com", "home", "AAAA"), None);
    assert_eq!(emu.state().others("example.com", "home", "AAAA"), before);
    emu.reset_calls();
    p.apply_rrset(&rrset(HOME, RecordType::Aaaa, 300, &[]), &h)
        .await
        .unwrap();
    assert_eq!(emu.state().total_calls(), 0, "nothing to delete");
}

// ---------------------------------------------------------------------------------------------
// The built binary.

fn cli_config(dir: &Path, emu: &HetznerEmu, addr: &str) -> String {
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = ["{addr}"]

[providers.hz]
kind = "hetzner"
api_token_env = "DDNSD_TEST_HCLOUD_TOKEN"
endpoint = "{endpoint}"

[[records]]
name = "home.example.com"
provider = "hz"
sources = ["fixed"]
"#,
        state = dir.join("state.json").display(),
        endpoint = emu.endpoint(),
    );
    crate::harness::write(dir, "ddnsd.toml", &text)
}

fn run_once(config: &str, token: &str) -> (i32, String, String) {
    let mut c = crate::harness::ddnsd();
    c.env("DDNSD_TEST_HCLOUD_TOKEN", token)
        .args(["run", "--once", "-c", config]);
    crate::harness::output(c)
}

#[test]
fn cli_run_once_creates_then_costs_nothing_then_one_set_records() {
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
    let config = cli_config(dir.path(), &emu, "2001:db8::11");
    let (code, stdout, stderr) = run_once(&config, TOKEN);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "home.example.com AAAA 2001:db8::11  updated (was 2001:db8::10)\n"
    );
    let st = emu.state();
    assert_eq!(
        (st.count("SetRecords"), st.total_calls()),
        (1, 1),
        "{:?}",
        st.calls
    );
}

#[test]
fn cli_wrong_token_exits_1_with_the_token_hint() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "2001:db8::10");
    let (code, stdout, stderr) = run_once(&config, "wrong");
    assert_eq!(code, 1, "{stdout}{stderr}");
    let why = "ListZones failed: unauthorized: \"unable to authenticate\"";
    assert_eq!(
        stdout,
        format!("home.example.com AAAA 2001:db8::10  failed: {why}\n")
    );
    assert_eq!(
        stderr,
        format!("error: home.example.com AAAA via hz: {why}\n  hint: check api_token: it must be an API token of the Hetzner Console project that holds the zone (Security → API tokens), with Read & Write permission\n")
    );
}

#[test]
fn the_example_block_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    let example = ddnsd::provider::hetzner::KIND.example;
    let text = format!(
        "{example}\n[sources.fixed]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"home.example.com\"\nprovider = \"hetzner\"\nsources = [\"fixed\"]\n"
    );
    let config = crate::harness::write(dir.path(), "ex.toml", &text);
    let mut c = crate::harness::ddnsd();
    c.env("HCLOUD_TOKEN", "t").args(["check", "-c", &config]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!(code, 0, "{stdout}{stderr}");
}
