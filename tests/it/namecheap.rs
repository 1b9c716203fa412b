//! `kind = "namecheap"` against the Namecheap dynamic-DNS emulator: the conformance battery's
//! scenarios over A records (the battery's own records are AAAA, which Namecheap cannot
//! publish — see `conformance/namecheap.rs`), each through `reconcile::run_pass` as the daemon
//! runs it; `ddnsd check` refusing an IPv6 source for Namecheap (exact text); `run --once`.
//!
//! See: issue 10 (Namecheap).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ddnsd::addr::fixed::{StaticSettings, StaticSource};
use ddnsd::addr::Source;
use ddnsd::backoff::ThreadJitter;
use ddnsd::clock::SystemClock;
use ddnsd::http::{Backoff, HttpClient, HttpSettings};
use ddnsd::provider::namecheap::NamecheapSettings;
use ddnsd::provider::{Configured, Provider, ProviderDeps, ProviderErrorKind, Scope};
use ddnsd::reconcile::{run_pass, Holds, Pass, RunReport, Status};
use ddnsd::record::{RecordKey, RecordSpec, RecordType, Ttl};
use ddnsd::secret::Secret;
use ddnsd::state::{MemoryStore, StateStore};

use crate::harness::namecheap_emu::{Fault, NamecheapEmu};

const DOMAIN: &str = "example.com";
const PASSWORD: &str = "MARKER-nc-5e1f-SECRET";

fn deps() -> ProviderDeps {
    let settings = HttpSettings {
        connect_timeout: Duration::from_secs(1),
        total_timeout: Duration::from_secs(1),
        ..HttpSettings::default()
    };
    ProviderDeps {
        clock: Arc::new(SystemClock),
        http: HttpClient::new(&settings),
        backoff: Backoff {
            attempts: 3,
            base: Duration::from_millis(50),
            max: Duration::from_secs(3),
        },
        timeout: Duration::from_secs(1),
    }
}

/// The domain with dynamic hosts `home`, `office` and `@`, a static host `static` (not
/// dynamic: updates are refused), and foreign records next to them.
fn emulator() -> NamecheapEmu {
    let emu = NamecheapEmu::start();
    {
        let mut st = emu.state();
        st.add_domain(DOMAIN, PASSWORD);
        for h in ["home", "office", "@"] {
            st.host(DOMAIN, h).dynamic = true;
        }
        st.host(DOMAIN, "static").a = vec!["192.0.2.99".into()];
        st.host(DOMAIN, "home")
            .other
            .insert("AAAA".into(), vec!["2001:db8::50".into()]);
        st.host(DOMAIN, "home")
            .other
            .insert("TXT".into(), vec!["foreign".into()]);
        st.host(DOMAIN, "@")
            .other
            .insert("NS".into(), vec!["dns1.registrar-servers.com.".into()]);
    }
    emu
}

fn foreign(emu: &NamecheapEmu) -> Vec<Vec<String>> {
    let st = emu.state();
    vec![
        st.values(DOMAIN, "static", "A"),
        st.values(DOMAIN, "home", "AAAA"),
        st.values(DOMAIN, "home", "TXT"),
        st.values(DOMAIN, "@", "NS"),
    ]
}

fn provider(emu: &NamecheapEmu, password: &str) -> Arc<dyn Provider> {
    NamecheapSettings {
        domain: DOMAIN.parse().unwrap(),
        password: Secret::new(password.into()),
        endpoint: emu.endpoint(),
    }
    .build("nc", &deps())
}

/// One pass over `records` (name, IPv4 address), each fed by its own static source, with a
/// fresh provider as a new `run --once` would have.
async fn pass(
    emu: &NamecheapEmu,
    store: &MemoryStore,
    records: &[(&str, &str)],
    password: &str,
    verify: bool,
) -> RunReport {
    let mut sources: BTreeMap<String, Arc<dyn Source>> = BTreeMap::new();
    let mut specs = Vec::new();
    for (i, (name, addr)) in records.iter().enumerate() {
        let src = format!("src{i}");
        let addresses: Vec<IpAddr> = vec![addr.parse().unwrap()];
        sources.insert(
            src.clone(),
            Arc::new(StaticSource::new(src.clone(), StaticSettings { addresses })),
        );
        specs.push(RecordSpec {
            name: name.parse().unwrap(),
            provider: "nc".into(),
            sources: vec![src],
            ttl: Ttl(600),
            ttl_auto: false,
            on_gone: Default::default(),
        });
    }
    let mut providers: BTreeMap<String, Arc<dyn Provider>> = BTreeMap::new();
    providers.insert("nc".into(), provider(emu, password));
    run_pass(
        &Pass {
            sources: &sources,
            providers: &providers,
            records: &specs,
            store,
            clock: &SystemClock,
            dry_run: false,
            verify,
            only_sources: None,
        },
        &mut Holds::default(),
        &mut ThreadJitter,
    )
    .await
}

fn status<'r>(r: &'r RunReport, name: &str) -> &'r Status {
    let key = RecordKey {
        name: name.parse().unwrap(),
        rtype: RecordType::A,
    };
    &r.records
        .iter()
        .find(|o| o.key == key)
        .unwrap_or_else(|| panic!("no outcome for {key}: {:?}", r.records))
        .status
}

fn calls(emu: &NamecheapEmu) -> u32 {
    emu.state().calls
}

fn reset(emu: &NamecheapEmu) {
    emu.state().calls = 0;
}

#[tokio::test]
async fn create_update_unchanged_and_verify_cost_what_they_should() {
    let emu = emulator();
    let before = foreign(&emu);
    let store = MemoryStore::default();
    let r = pass(
        &emu,
        &store,
        &[("home.example.com", "192.0.2.1")],
        PASSWORD,
        false,
    )
    .await;
    assert!(
        matches!(status(&r, "home.example.com"), Status::Created),
        "{r:?}"
    );
    assert_eq!(emu.state().values(DOMAIN, "home", "A"), ["192.0.2.1"]);
    assert_eq!(calls(&emu), 1);
    let q = emu.state().received[0].clone();
    assert_eq!(
        (q["host"].as_str(), q["domain"].as_str(), q["ip"].as_str()),
        ("home", DOMAIN, "192.0.2.1")
    );

    reset(&emu);
    let r = pass(
        &emu,
        &store,
        &[("home.example.com", "192.0.2.2")],
        PASSWORD,
        false,
    )
    .await;
    assert!(
        matches!(status(&r, "home.example.com"), Status::Updated { .. }),
        "{r:?}"
    );
    assert_eq!(emu.state().values(DOMAIN, "home", "A"), ["192.0.2.2"]);
    assert_eq!(calls(&emu), 1, "one write");

    reset(&emu);
    let r = pass(
        &emu,
        &store,
        &[("home.example.com", "192.0.2.2")],
        PASSWORD,
        false,
    )
    .await;
    assert!(
        matches!(status(&r, "home.example.com"), Status::Unchanged),
        "{r:?}"
    );
    assert_eq!(calls(&emu), 0, "unchanged costs no call");

    // Verify: nothing can be read, so nothing is sent and nothing is stamped as verified.
    let r = pass(
        &emu,
        &store,
        &[("home.example.com", "192.0.2.2")],
        PASSWORD,
        true,
    )
    .await;
    assert!(
        matches!(status(&r, "home.example.com"), Status::Unchanged),
        "{r:?}"
    );
    assert_eq!(
        calls(&emu),
        0,
        "a verify of a write-only kind sends nothing"
    );
    let key = RecordKey {
        name: "home.example.com".parse().unwrap(),
        rtype: RecordType::A,
    };
    assert_eq!(
        store.load().unwrap().get(&key).and_then(|e| e.verified_at),
        None
    );

    // The apex is host `@`.
    reset(&emu);
    let r = pass(
        &emu,
        &MemoryStore::default(),
        &[("example.com", "192.0.2.7")],
        PASSWORD,
        false,
    )
    .await;
    assert!(
        matches!(status(&r, "example.com"), Status::Created),
        "{r:?}"
    );
    assert_eq!(emu.state().received.last().unwrap()["host"], "@");
    assert_eq!(emu.state().values(DOMAIN, "@", "A"), ["192.0.2.7"]);
    assert_eq!(foreign(&emu), before, "foreign records untouched");
}

#[tokio::test]
async fn a_wrong_password_is_auth_after_exactly_one_call() {
    let emu = emulator();
    let r = pass(
        &emu,
        &MemoryStore::default(),
        &[
            ("home.example.com", "192.0.2.1"),
            ("office.example.com", "192.0.2.1"),
        ],
        "wrong-password",
        false,
    )
    .await;
    let Status::Failed(e) = status(&r, "home.example.com") else {
        panic!("{r:?}")
    };
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert_eq!(
        e.message,
        format!(
            "{} refused the Dynamic DNS password of example.com: \"Passwords do not match\"",
            emu.host_port()
        )
    );
    let hint = e.hint().unwrap();
    assert!(
        hint.contains("password") && hint.contains("Dynamic DNS"),
        "{hint}"
    );
    assert!(
        matches!(status(&r, "office.example.com"), Status::Paused { .. }),
        "{r:?}"
    );
    assert_eq!(calls(&emu), 1, "not retried, the other record not sent");
    assert!(emu.state().values(DOMAIN, "home", "A").is_empty());
}

#[tokio::test]
async fn a_host_without_a_dynamic_record_fails_alone() {
    let emu = emulator();
    let before = foreign(&emu);
    let r = pass(
        &emu,
        &MemoryStore::default(),
        &[
            ("static.example.com", "192.0.2.5"),
            ("office.example.com", "192.0.2.6"),
        ],
        PASSWORD,
        false,
    )
    .await;
    let Status::Failed(e) = status(&r, "static.example.com") else {
        panic!("{r:?}")
    };
    assert_eq!(
        (e.kind.clone(), e.scope()),
        (ProviderErrorKind::Rejected, Scope::Record)
    );
    assert_eq!(
        e.hint.as_deref(),
        Some("add an A + Dynamic DNS Record for host \"static\" on the domain's Advanced DNS page")
    );
    assert!(
        matches!(status(&r, "office.example.com"), Status::Created),
        "{r:?}"
    );
    assert_eq!(emu.state().values(DOMAIN, "office", "A"), ["192.0.2.6"]);
    assert_eq!(foreign(&emu), before);
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_retried_within_the_call() {
    let emu = emulator();
    emu.inject(Fault::Status(503));
    let r = pass(
        &emu,
        &MemoryStore::default(),
        &[("home.example.com", "192.0.2.1")],
        PASSWORD,
        false,
    )
    .await;
    assert!(
        matches!(status(&r, "home.example.com"), Status::Created),
        "{r:?}"
    );
    assert_eq!(calls(&emu), 2);

    reset(&emu);
    emu.inject(Fault::Throttle(1));
    let started = Instant::now();
    let r = pass(
        &emu,
        &MemoryStore::default(),
        &[("office.example.com", "192.0.2.1")],
        PASSWORD,
        false,
    )
    .await;
    assert!(
        matches!(status(&r, "office.example.com"), Status::Created),
        "{r:?}"
    );
    assert_eq!(calls(&emu), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
}

#[tokio::test]
async fn a_lost_reply_is_unconfirmed_and_sent_again_next_pass() {
    let emu = emulator();
    let store = MemoryStore::default();
    emu.inject(Fault::Timeout);
    let r = pass(
        &emu,
        &store,
        &[("home.example.com", "192.0.2.1")],
        PASSWORD,
        false,
    )
    .await;
    let Status::Failed(e) = status(&r, "home.example.com") else {
        panic!("{r:?}")
    };
    assert_eq!(e.kind, ProviderErrorKind::Unconfirmed);
    assert!(e.message.contains("could not confirm"), "{e:?}");
    let r = pass(
        &emu,
        &store,
        &[("home.example.com", "192.0.2.1")],
        PASSWORD,
        false,
    )
    .await;
    assert!(
        matches!(status(&r, "home.example.com"), Status::Created),
        "{r:?}"
    );
    assert_eq!(calls(&emu), 2);
}

#[tokio::test]
async fn malformed_and_truncated_answers_are_not_trusted() {
    for fault in [Fault::Malformed, Fault::Truncated] {
        let emu = emulator();
        emu.inject(fault.clone());
        let r = pass(
            &emu,
            &MemoryStore::default(),
            &[("home.example.com", "192.0.2.1")],
            PASSWORD,
            false,
        )
        .await;
        let Status::Failed(e) = status(&r, "home.example.com") else {
            panic!("{fault:?}: {r:?}")
        };
        assert_eq!(e.kind, ProviderErrorKind::Protocol, "{fault:?}");
        assert!(
            e.message.starts_with(&emu.host_port()),
            "{fault:?}: {}",
            e.message
        );
        assert_eq!(calls(&emu), 1, "{fault:?}: not retried");
    }
}

#[tokio::test]
async fn what_the_update_cannot_do_is_refused_before_any_request() {
    let emu = emulator();
    let p = provider(&emu, PASSWORD);
    let rr = |name: &str, rtype, addrs: &[&str]| ddnsd::record::RrSet {
        name: name.parse().unwrap(),
        rtype,
        ttl: Ttl(600),
        addrs: addrs.iter().map(|a| a.parse::<IpAddr>().unwrap()).collect(),
    };
    let none = Default::default();
    for (set, message) in [
        (rr("home.example.com", RecordType::Aaaa, &["2001:db8::1"]), "Namecheap's dynamic DNS cannot publish home.example.com AAAA: it updates A records only"),
        (rr("home.example.com", RecordType::A, &["192.0.2.1", "192.0.2.2"]), "home.example.com A has 2 addresses (192.0.2.1,192.0.2.2) but Namecheap's dynamic DNS sets one"),
        (rr("home.example.com", RecordType::A, &[]), "Namecheap's dynamic DNS cannot remove home.example.com A"),
        (rr("home.example.org", RecordType::A, &["192.0.2.1"]), "home.example.org is not inside the domain example.com"),
    ] {
        let e = p.apply_rrset(&set, &none).await.unwrap_err();
        assert_eq!((e.kind, e.message.as_str()), (ProviderErrorKind::Rejected, message));
    }
    assert_eq!(calls(&emu), 0);
}

fn cli_config(dir: &Path, emu: &NamecheapEmu, sources: &str) -> String {
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.wan4]
kind = "static"
addresses = ["192.0.2.10"]

[sources.wan6]
kind = "static"
addresses = ["2001:db8::10"]

[providers.nc]
kind = "namecheap"
domain = "example.com"
password_env = "DDNSD_TEST_SECRET"
endpoint = "{endpoint}"

[[records]]
name = "home.example.com"
provider = "nc"
sources = [{sources}]
"#,
        state = dir.join("state.json").display(),
        endpoint = emu.endpoint(),
    );
    crate::harness::write(dir, "ddnsd.toml", &text)
}

/// See: issue 10. `check` says an IPv6 source cannot feed Namecheap, where, and what to do.
#[test]
fn check_refuses_an_ipv6_source_for_namecheap_with_the_way_out() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "\"wan4\", \"wan6\"");
    for cmd in [&["check"][..], &["run", "--once"]] {
        let mut c = crate::harness::ddnsd();
        c.env("DDNSD_TEST_SECRET", PASSWORD)
            .args(cmd)
            .args(["-c", &config]);
        let (code, stdout, stderr) = crate::harness::output(c);
        assert_eq!((code, stdout.as_str()), (2, ""), "{cmd:?} {stderr}");
        assert_eq!(
            stderr,
            format!("{config}:21:20: source \"wan6\" yields ipv6 addresses, but provider \"nc\" (namecheap) publishes ipv4 only\n  hint: publish AAAA records through another provider: a second [[records]] entry with the same name, a provider that supports ipv6, and this source\n")
        );
    }
    assert_eq!(calls(&emu), 0);
}

#[test]
fn cli_run_once_publishes_the_a_record_then_costs_nothing() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "\"wan4\"");
    let mut c = crate::harness::ddnsd();
    c.env("DDNSD_TEST_SECRET", PASSWORD).args([
        "--log-level",
        "trace",
        "run",
        "--once",
        "-c",
        &config,
    ]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "home.example.com A 192.0.2.10  created\n");
    assert!(stderr.contains("sending namecheap update"), "{stderr}");
    assert!(
        !stdout.contains(PASSWORD) && !stderr.contains(PASSWORD),
        "the password leaked"
    );
    let mut c = crate::harness::ddnsd();
    c.env("DDNSD_TEST_SECRET", PASSWORD)
        .args(["run", "--once", "-c", &config]);
    let (code, stdout, _) = crate::harness::output(c);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "home.example.com A 192.0.2.10  unchanged\n")
    );
    assert_eq!(calls(&emu), 1);
}
