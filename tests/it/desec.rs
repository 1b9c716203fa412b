//! `kind = "desec"` against the deSEC emulator: one PATCH with the whole RRset for a change,
//! the apex through `@`, deSEC's per-domain write throttle answered after `Retry-After`, the
//! domain's minimum TTL, a vanished RRset created again, withdrawal, and `ddnsd run --once`.
//!
//! See: issue 10 (deSEC).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ddnsd::provider::desec::DesecSettings;
use ddnsd::provider::{Configured, Provider, ProviderDeps, ProviderErrorKind};
use ddnsd::record::{RecordType, Ttl};
use ddnsd::secret::Secret;
use serde_json::json;

use crate::harness::desec_emu::DesecEmu;
use crate::harness::records::{deps_with, none, rrset};

const TOKEN: &str = "4pnk7u-NHvrEkFzrhFDRTjGFyX_S";
const ZONE: &str = "example.dedyn.io";

fn deps() -> ProviderDeps {
    deps_with(
        Duration::from_secs(2),
        Duration::from_secs(5),
        Duration::from_secs(2),
    )
}

fn emulator(minimum_ttl: u64) -> DesecEmu {
    let emu = DesecEmu::start(TOKEN);
    {
        let mut st = emu.state();
        st.add_domain(ZONE, minimum_ttl);
        st.set(ZONE, "home", "TXT", 3600, &["\"foreign\""]);
    }
    emu
}

fn provider(emu: &DesecEmu, min_ttl: u32, zone: Option<&str>) -> Arc<dyn Provider> {
    DesecSettings {
        token: Secret::new(TOKEN.into()),
        zone: zone.map(|z| z.parse().unwrap()),
        min_ttl,
        endpoint: emu.endpoint(),
    }
    .build("desec", &deps())
}

#[tokio::test]
async fn a_change_is_one_patch_of_the_whole_rrset() {
    let emu = emulator(3600);
    let p = provider(&emu, 3600, None);
    let first = rrset(
        "home.example.dedyn.io",
        RecordType::Aaaa,
        3600,
        &["2001:db8::1"],
    );
    let h = p.apply_rrset(&first, &none()).await.unwrap();
    {
        let st = emu.state();
        assert_eq!(
            (
                st.count("find domain"),
                st.count("read rrset"),
                st.count("create rrset")
            ),
            (1, 1, 1)
        );
        assert_eq!(
            st.bodies.last().unwrap().1,
            json!({"subname": "home", "type": "AAAA", "ttl": 3600, "records": ["2001:db8::1"]})
        );
    }
    assert_eq!(h.0["zone"], ZONE);
    emu.state().calls.clear();
    // With the hints of the last write: one PATCH, records and TTL only, nothing read.
    let two = rrset(
        "home.example.dedyn.io",
        RecordType::Aaaa,
        3600,
        &["2001:db8::2", "2001:db8::3"],
    );
    p.apply_rrset(&two, &h).await.unwrap();
    let st = emu.state();
    assert_eq!(st.calls.values().sum::<u32>(), 1, "{:?}", st.calls);
    assert_eq!(st.count("modify rrset"), 1);
    assert_eq!(
        st.bodies.last().unwrap().1,
        json!({"records": ["2001:db8::2", "2001:db8::3"], "ttl": 3600})
    );
    assert_eq!(
        st.get(ZONE, "home", "AAAA").unwrap().records,
        ["2001:db8::2", "2001:db8::3"]
    );
    assert_eq!(
        st.get(ZONE, "home", "TXT").unwrap().records,
        ["\"foreign\""]
    );
}

#[tokio::test]
async fn the_apex_is_written_through_the_at_path() {
    let emu = emulator(3600);
    let p = provider(&emu, 3600, Some(ZONE));
    let h = p
        .apply_rrset(&rrset(ZONE, RecordType::A, 3600, &["192.0.2.1"]), &none())
        .await
        .unwrap();
    assert_eq!(emu.state().bodies.last().unwrap().1["subname"], "");
    p.apply_rrset(&rrset(ZONE, RecordType::A, 3600, &["192.0.2.2"]), &h)
        .await
        .unwrap();
    let st = emu.state();
    assert_eq!(st.count("modify rrset"), 1);
    assert_eq!(st.get(ZONE, "@", "A").unwrap().records, ["192.0.2.2"]);
    assert_eq!(
        st.get(ZONE, "@", "NS").unwrap().records.len(),
        2,
        "the apex NS stays"
    );
}

/// deSEC throttles RRset writes per domain (`dns_api_per_domain_expensive`): the second write
/// inside the window gets 429 with `Retry-After`, and is sent again no sooner.
#[tokio::test]
async fn the_per_domain_write_throttle_is_waited_out() {
    let emu = emulator(3600);
    emu.state().write_limit = Some((1, Duration::from_secs(2)));
    let p = provider(&emu, 3600, Some(ZONE));
    p.apply_rrset(
        &rrset(
            "home.example.dedyn.io",
            RecordType::Aaaa,
            3600,
            &["2001:db8::1"],
        ),
        &none(),
    )
    .await
    .unwrap();
    let started = Instant::now();
    p.apply_rrset(
        &rrset("home.example.dedyn.io", RecordType::A, 3600, &["192.0.2.1"]),
        &none(),
    )
    .await
    .unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
    let st = emu.state();
    assert_eq!(st.count("create rrset"), 3, "one throttled, sent again");
    assert_eq!(st.get(ZONE, "home", "A").unwrap().records, ["192.0.2.1"]);
}

#[tokio::test]
async fn a_throttle_longer_than_the_call_may_wait_pauses_the_provider() {
    let emu = emulator(3600);
    emu.inject(
        crate::harness::emu_http::Target::Writes,
        crate::harness::desec_emu::Fault::Throttle(60),
    );
    let p = provider(&emu, 3600, Some(ZONE));
    let e = p
        .apply_rrset(
            &rrset(
                "home.example.dedyn.io",
                RecordType::Aaaa,
                3600,
                &["2001:db8::1"],
            ),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.kind,
        ProviderErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(60))
        }
    );
    assert_eq!(
        e.message,
        "create rrset: rate limited (http 429): \"Request was throttled. Expected available in 60 seconds.\""
    );
    assert_eq!(emu.state().count("create rrset"), 1, "not hammered");
}

#[tokio::test]
async fn the_domains_minimum_ttl_is_respected() {
    let emu = emulator(3600);
    // ddnsd raises a low TTL to min_ttl (default 3600): what plans compare with.
    let p = provider(&emu, 3600, None);
    assert_eq!(p.effective_ttl(Ttl(300)), Ttl(3600));
    assert_eq!(p.effective_ttl(Ttl(100_000)), Ttl(86_400));
    // min_ttl set below the domain's minimum: refused before writing (the domain says 3600).
    let p = provider(&emu, 60, None);
    let e = p
        .apply_rrset(
            &rrset(
                "home.example.dedyn.io",
                RecordType::Aaaa,
                60,
                &["2001:db8::1"],
            ),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Rejected);
    assert_eq!(e.message, "home.example.dedyn.io AAAA needs a TTL of at least 3600 s (the domain's minimum); ddnsd would publish 60");
    assert_eq!(
        e.hint.as_deref(),
        Some("set min_ttl = 3600 in [providers.desec]")
    );
    assert_eq!(emu.state().count("create rrset"), 0);
    // With zone set the minimum is not looked up: deSEC's own 400 says it, with the same way out.
    let p = provider(&emu, 60, Some(ZONE));
    let e = p
        .apply_rrset(
            &rrset(
                "home.example.dedyn.io",
                RecordType::Aaaa,
                60,
                &["2001:db8::1"],
            ),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Rejected);
    assert_eq!(e.message, "create rrset failed (http 400): \"ttl: Ensure this value is greater than or equal to 3600.\"");
    assert_eq!(e.hint.as_deref(), Some("the domain's minimum TTL is 3600 s: set min_ttl = 3600 in [providers.desec] (it is 60)"));
}

#[tokio::test]
async fn a_vanished_rrset_is_created_again_and_an_empty_set_deletes() {
    let emu = emulator(3600);
    let p = provider(&emu, 3600, None);
    let h = p
        .apply_rrset(
            &rrset(
                "home.example.dedyn.io",
                RecordType::Aaaa,
                3600,
                &["2001:db8::1"],
            ),
            &none(),
        )
        .await
        .unwrap();
    // Deleted behind ddnsd's back: the PATCH is a 404, then one POST.
    emu.state()
        .domains
        .get_mut(ZONE)
        .unwrap()
        .rrsets
        .remove(&("home".to_owned(), "AAAA".to_owned()));
    emu.state().calls.clear();
    let h = p
        .apply_rrset(
            &rrset(
                "home.example.dedyn.io",
                RecordType::Aaaa,
                3600,
                &["2001:db8::2"],
            ),
            &h,
        )
        .await
        .unwrap();
    {
        let st = emu.state();
        assert_eq!((st.count("modify rrset"), st.count("create rrset")), (1, 1));
        assert_eq!(
            st.get(ZONE, "home", "AAAA").unwrap().records,
            ["2001:db8::2"]
        );
    }
    p.apply_rrset(
        &rrset("home.example.dedyn.io", RecordType::Aaaa, 3600, &[]),
        &h,
    )
    .await
    .unwrap();
    let st = emu.state();
    assert_eq!(st.count("delete rrset"), 1);
    assert!(st.get(ZONE, "home", "AAAA").is_none());
    assert!(st.get(ZONE, "home", "TXT").is_some());
}

#[tokio::test]
async fn a_name_outside_the_account_is_zone_not_found() {
    let emu = emulator(3600);
    let p = provider(&emu, 3600, None);
    let e = p
        .apply_rrset(
            &rrset("home.example.net", RecordType::Aaaa, 3600, &["2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ZoneNotFound);
    assert_eq!(
        e.message,
        "no domain of this deSEC account contains home.example.net"
    );
}

fn cli_config(dir: &Path, emu: &DesecEmu, addr: &str) -> String {
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = ["{addr}"]

[providers.desec]
kind = "desec"
token_env = "DDNSD_TEST_SECRET"
endpoint = "{endpoint}"

[[records]]
name = "home.example.dedyn.io"
provider = "desec"
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
fn cli_create_unchanged_then_one_patch() {
    let emu = emulator(3600);
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "2001:db8::10");
    let (code, stdout, stderr) = run_once(&config, TOKEN);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "home.example.dedyn.io AAAA 2001:db8::10  created\n");
    assert_eq!(
        emu.state().get(ZONE, "home", "AAAA").unwrap().ttl,
        3600,
        "the default 300 raised to the minimum"
    );
    let (code, stdout, _) = run_once(&config, TOKEN);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "home.example.dedyn.io AAAA 2001:db8::10  unchanged\n")
    );
    emu.state().calls.clear();
    let config = cli_config(dir.path(), &emu, "2001:db8::11");
    let (code, stdout, _) = run_once(&config, TOKEN);
    assert_eq!(
        (code, stdout.as_str()),
        (
            0,
            "home.example.dedyn.io AAAA 2001:db8::11  updated (was 2001:db8::10)\n"
        )
    );
    let st = emu.state();
    assert_eq!(st.calls.values().sum::<u32>(), 1, "{:?}", st.calls);
    assert_eq!(st.count("modify rrset"), 1);
}

#[test]
fn cli_wrong_token_exits_1_with_the_hint() {
    let emu = emulator(3600);
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "2001:db8::10");
    let (code, stdout, stderr) = run_once(&config, "wrong-token");
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "home.example.dedyn.io AAAA 2001:db8::10  failed: find domain failed (http 401): \"Invalid token.\"\n"
    );
    assert_eq!(
        stderr,
        "error: home.example.dedyn.io AAAA via desec: find domain failed (http 401): \"Invalid token.\"\n  hint: check token: a deSEC API token (desec.io → Token management) of the account that owns the domain; ddnsd retries after the config is reloaded\n"
    );
    assert_eq!(emu.state().calls.values().sum::<u32>(), 1);
}
