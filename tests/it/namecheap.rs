//! `kind = "namecheap"` against the Namecheap dynamic-DNS emulator, for what the conformance
//! battery does not check (it runs namecheap's create, update, unchanged, verify, stale values,
//! apex, credentials, faults, refused host and secrets scenarios with A records: see
//! `conformance/namecheap.rs`): the query each update sends, the exact texts of a wrong
//! password and of a host without a dynamic record, what the update cannot express being
//! refused before any request, `ddnsd check` refusing an IPv6 source (exact text), `run
//! --once`.
//!
//! See: issue 10 (Namecheap).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ddnsd::addr::fixed::{StaticSettings, StaticSource};
use ddnsd::addr::Source;
use ddnsd::backoff::ThreadJitter;
use ddnsd::clock::SystemClock;
use ddnsd::http::{Backoff, HttpClient, HttpSettings};
use ddnsd::provider::namecheap::NamecheapSettings;
use ddnsd::provider::{Configured, Provider, ProviderDeps, ProviderErrorKind};
use ddnsd::reconcile::{run_pass, Holds, Pass, RunReport, Status};
use ddnsd::record::{RecordKey, RecordSpec, RecordType, Ttl};
use ddnsd::secret::Secret;
use ddnsd::state::MemoryStore;

use crate::harness::namecheap_emu::NamecheapEmu;

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

/// The domain with dynamic hosts `home`, `office` and `@`, and a static host `static` (not
/// dynamic: updates are refused).
fn emulator() -> NamecheapEmu {
    let emu = NamecheapEmu::start();
    {
        let mut st = emu.state();
        st.add_domain(DOMAIN, PASSWORD);
        for h in ["home", "office", "@"] {
            st.host(DOMAIN, h).dynamic = true;
        }
        st.host(DOMAIN, "static").a = vec!["192.0.2.99".into()];
    }
    emu
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
/// fresh provider and state as a first `run --once` would have.
async fn pass(emu: &NamecheapEmu, records: &[(&str, &str)], password: &str) -> RunReport {
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
            store: &MemoryStore::default(),
            clock: &SystemClock,
            dry_run: false,
            verify: false,
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

/// The update names the host relative to the domain (`@` at the apex), the domain and the
/// address, as Namecheap's documented URL does.
#[tokio::test]
async fn the_update_sends_host_domain_and_address() {
    let emu = emulator();
    for (name, host, addr) in [
        ("home.example.com", "home", "192.0.2.1"),
        ("example.com", "@", "192.0.2.7"),
    ] {
        let r = pass(&emu, &[(name, addr)], PASSWORD).await;
        assert!(matches!(status(&r, name), Status::Created), "{r:?}");
        let q = emu.state().received.last().unwrap().clone();
        assert_eq!(
            q.keys().map(String::as_str).collect::<Vec<_>>(),
            ["domain", "host", "ip", "password"]
        );
        assert_eq!(
            (
                q["host"].as_str(),
                q["domain"].as_str(),
                q["ip"].as_str(),
                q["password"].as_str()
            ),
            (host, DOMAIN, addr, PASSWORD)
        );
        assert_eq!(emu.state().values(DOMAIN, host, "A"), [addr]);
    }
    assert_eq!(calls(&emu), 2);
}

/// Beyond the battery's auth scenario (one record): the exact text, and the provider's other
/// record paused without a request of its own.
#[tokio::test]
async fn a_wrong_password_is_auth_after_exactly_one_call() {
    let emu = emulator();
    let r = pass(
        &emu,
        &[
            ("home.example.com", "192.0.2.1"),
            ("office.example.com", "192.0.2.1"),
        ],
        "wrong-password",
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

/// The battery checks that a refused host fails alone; this is the text that says what to do.
#[tokio::test]
async fn a_host_without_a_dynamic_record_names_the_record_to_add() {
    let emu = emulator();
    let r = pass(&emu, &[("static.example.com", "192.0.2.5")], PASSWORD).await;
    let Status::Failed(e) = status(&r, "static.example.com") else {
        panic!("{r:?}")
    };
    assert_eq!(
        (e.kind.clone(), e.message.as_str()),
        (
            ProviderErrorKind::Rejected,
            format!(
                "{} has no dynamic A record for static.example.com: \"No Records updated. A record not Found;\"",
                emu.host_port()
            )
            .as_str()
        )
    );
    assert_eq!(
        e.hint.as_deref(),
        Some("add an A + Dynamic DNS Record for host \"static\" on the domain's Advanced DNS page")
    );
    assert_eq!(emu.state().values(DOMAIN, "static", "A"), ["192.0.2.99"]);
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
