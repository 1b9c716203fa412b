//! `kind = "huaweicloud"` against the local Huawei Cloud DNS emulator (which verifies every
//! SDK-HMAC-SHA256 signature), the signer cross-check with the official `huaweicloudsdkcore`,
//! and `ddnsd run --once` / `check`.
//!
//! See: issue 9 (item 4).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ddnsd::provider::huaweicloud::HuaweiCloudSettings;
use ddnsd::provider::sign::huawei::{self, HuaweiCredentials, HuaweiRequest};
use ddnsd::provider::{Configured, Provider, ProviderErrorKind, Scope, Write};
use ddnsd::record::{AddrSet, Fqdn, RecordType, Ttl};
use ddnsd::secret::Secret;

use crate::harness::huawei_emu::{Fault, HuaweiEmu};
use crate::harness::records::{deps, ip, key, none, rrset};

const ZONE: &str = "example.com";
const AK: &str = "HPUATESTACCESSKEY000";
const A1: &str = "2001:db8::1";
const A2: &str = "2001:db8::2";
const A3: &str = "2001:db8::3";
const AUTH_HINT: &str =
    "check access_key/secret_key; the key's IAM user needs the DNS FullAccess policy";

/// An emulator with two public zones and the key `AK` = `secret`.
fn emulator(secret: &str) -> HuaweiEmu {
    let emu = HuaweiEmu::start();
    {
        let mut st = emu.state();
        st.keys.insert(AK.into(), secret.into());
        st.add_zone("example.org");
        st.add_zone(ZONE);
    }
    emu
}

fn settings(emu: &HuaweiEmu, secret: &str, zone: Option<&str>) -> HuaweiCloudSettings {
    HuaweiCloudSettings {
        access_key: AK.into(),
        secret_key: Secret::new(secret.into()),
        region: "cn-north-4".into(),
        zone: zone.map(|z| z.parse::<Fqdn>().unwrap()),
        endpoint: emu.endpoint(),
    }
}

fn provider(emu: &HuaweiEmu, secret: &str) -> Arc<dyn Provider> {
    settings(emu, secret, None).build("huawei", &deps())
}

#[tokio::test]
async fn create_then_update_the_same_set_in_one_call() {
    let emu = emulator("s3cret");
    let p = provider(&emu, "s3cret");
    let hints = p
        .apply_rrset(
            &rrset("home.example.com", RecordType::Aaaa, 300, &[A1]),
            &none(),
        )
        .await
        .unwrap();
    let set = emu.state().set(ZONE, "home.example.com", "AAAA").unwrap();
    {
        let st = emu.state();
        assert_eq!((set.records.clone(), set.ttl), (vec![A1.to_owned()], 300));
        assert_eq!(
            (
                st.count("ListPublicZones"),
                st.count("ListRecordSetsByZone"),
                st.count("CreateRecordSet")
            ),
            (1, 1, 1),
            "{:?}",
            st.calls
        );
        assert_eq!(st.signature_failures, 0);
    }
    assert_eq!(hints.0["zone"], ZONE);
    assert_eq!(hints.0["zone_id"], emu.state().zone_id(ZONE));
    assert_eq!(hints.0["recordset_id"], set.id);

    // A fresh provider (a new `run --once` process) with the remembered hints: one PUT.
    let fresh = provider(&emu, "s3cret");
    emu.reset_calls();
    let hints2 = fresh
        .apply_rrset(
            &rrset("home.example.com", RecordType::Aaaa, 300, &[A2]),
            &hints,
        )
        .await
        .unwrap();
    let st = emu.state();
    assert_eq!(st.total_calls(), 1, "{:?}", st.calls);
    assert_eq!(st.count("UpdateRecordSet"), 1);
    let now = st.set(ZONE, "home.example.com", "AAAA").unwrap();
    assert_eq!(
        (now.id.as_str(), now.records.clone()),
        (set.id.as_str(), vec![A2.to_owned()])
    );
    assert_eq!(hints2.0["recordset_id"], set.id);
    let put: serde_json::Value =
        serde_json::from_slice(&st.last_requests["UpdateRecordSet"].body).unwrap();
    assert_eq!(
        put,
        serde_json::json!({"name": "home.example.com.", "type": "AAAA", "ttl": 300, "records": [A2]}),
        "the whole set in one PUT"
    );
}

#[tokio::test]
async fn unchanged_costs_no_write() {
    let emu = emulator("s3cret");
    emu.state()
        .add_set(ZONE, "home.example.com", "AAAA", 300, &[A1]);
    let p = provider(&emu, "s3cret");
    let live = p
        .read_rrset(&key("home.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(live.addrs, [ip(A1)].into_iter().collect::<AddrSet>());
    assert_eq!(live.ttl, Some(Ttl(300)));
    emu.reset_calls();
    p.apply_rrset(
        &rrset("home.example.com", RecordType::Aaaa, 300, &[A1]),
        &live.hints,
    )
    .await
    .unwrap();
    assert_eq!(emu.state().total_calls(), 0, "hints say it is current");
    p.apply_rrset(
        &rrset("home.example.com", RecordType::Aaaa, 300, &[A1]),
        &none(),
    )
    .await
    .unwrap();
    let st = emu.state();
    assert_eq!(st.writes(), 0, "{:?}", st.calls);
    assert_eq!(st.count("ListRecordSetsByZone"), 1);
}

#[tokio::test]
async fn stale_values_replaced_and_foreign_sets_untouched() {
    let emu = emulator("s3cret");
    {
        let mut st = emu.state();
        st.add_set(ZONE, "home.example.com", "AAAA", 300, &[A1, A2, A3]);
        st.add_set(ZONE, "home.example.com", "A", 300, &["192.0.2.1"]);
        st.add_set(ZONE, "myhome.example.com", "AAAA", 300, &[A2]);
        st.add_set(ZONE, "a.home.example.com", "AAAA", 300, &[A2]);
        st.add_set(ZONE, "example.com", "AAAA", 300, &[A2]);
        st.add_set(ZONE, "home.example.com", "TXT", 300, &["\"v=foreign\""]);
        st.add_set("example.org", "home.example.org", "AAAA", 300, &[A2]);
    }
    let foreign = |emu: &HuaweiEmu| {
        let st = emu.state();
        let mut v: Vec<_> = st
            .sets(ZONE)
            .into_iter()
            .filter(|s| !(s.name == "home.example.com." && s.rtype == "AAAA"))
            .collect();
        v.extend(st.sets("example.org"));
        v
    };
    let before = foreign(&emu);
    let id = emu
        .state()
        .set(ZONE, "home.example.com", "AAAA")
        .unwrap()
        .id;
    let p = provider(&emu, "s3cret");
    p.apply_rrset(
        &rrset("home.example.com", RecordType::Aaaa, 300, &[A1]),
        &none(),
    )
    .await
    .unwrap();
    {
        let st = emu.state();
        assert_eq!(st.values(ZONE, "home.example.com", "AAAA"), [A1]);
        assert_eq!(st.set(ZONE, "home.example.com", "AAAA").unwrap().id, id);
        assert_eq!(
            (st.count("UpdateRecordSet"), st.writes()),
            (1, 1),
            "{:?}",
            st.calls
        );
    }
    assert_eq!(before, foreign(&emu), "other names and types untouched");

    // The apex; the zone found by the longest suffix (example.com, not .org).
    p.apply_rrset(&rrset("example.com", RecordType::Aaaa, 300, &[A3]), &none())
        .await
        .unwrap();
    let st = emu.state();
    assert_eq!(st.values(ZONE, "example.com", "AAAA"), [A3]);
    assert_eq!(st.count("ListPublicZones"), 1, "the zone list is cached");
    assert_eq!(st.values("example.org", "home.example.org", "AAAA"), [A2]);
}

#[tokio::test]
async fn two_aaaa_values_both_ways_and_withdrawal() {
    let emu = emulator("s3cret");
    let p = provider(&emu, "s3cret");
    let name = "home.example.com";
    let h = p
        .apply_rrset(&rrset(name, RecordType::Aaaa, 300, &[A1, A2]), &none())
        .await
        .unwrap();
    assert_eq!(emu.state().values(ZONE, name, "AAAA"), [A1, A2]);
    assert_eq!(
        emu.state().count("CreateRecordSet"),
        1,
        "one set holds both values"
    );
    let id = emu.state().set(ZONE, name, "AAAA").unwrap().id;
    emu.reset_calls();
    let h = p
        .apply_rrset(&rrset(name, RecordType::Aaaa, 300, &[A3]), &h)
        .await
        .unwrap();
    assert_eq!(emu.state().values(ZONE, name, "AAAA"), [A3]);
    let calls = emu.state().calls.clone();
    assert_eq!(
        (calls["UpdateRecordSet"], calls.values().sum::<u32>()),
        (1, 1)
    );
    emu.reset_calls();
    let h = p
        .apply_rrset(&rrset(name, RecordType::Aaaa, 300, &[A3, A1]), &h)
        .await
        .unwrap();
    assert_eq!(emu.state().values(ZONE, name, "AAAA"), [A1, A3]);
    let calls = emu.state().calls.clone();
    assert_eq!(
        (calls["UpdateRecordSet"], calls.values().sum::<u32>()),
        (1, 1)
    );
    assert_eq!(
        emu.state().set(ZONE, name, "AAAA").unwrap().id,
        id,
        "always the same set"
    );
    // An empty set withdraws the RRset.
    emu.reset_calls();
    let h = p
        .apply_rrset(&rrset(name, RecordType::Aaaa, 300, &[]), &h)
        .await
        .unwrap();
    assert_eq!(emu.state().set(ZONE, name, "AAAA"), None);
    assert_eq!(emu.state().count("DeleteRecordSet"), 1);
    assert!(!h.0.contains_key("recordset_id"));
}

#[tokio::test]
async fn a_vanished_set_or_zone_is_looked_up_again_once() {
    let emu = emulator("s3cret");
    let p = provider(&emu, "s3cret");
    let name = "home.example.com";
    let hints = p
        .apply_rrset(&rrset(name, RecordType::Aaaa, 300, &[A1]), &none())
        .await
        .unwrap();
    let id = emu.state().set(ZONE, name, "AAAA").unwrap().id;
    emu.state().remove_set(&id);
    emu.reset_calls();
    let hints = p
        .apply_rrset(&rrset(name, RecordType::Aaaa, 300, &[A2]), &hints)
        .await
        .unwrap();
    {
        let st = emu.state();
        assert_eq!(st.values(ZONE, name, "AAAA"), [A2]);
        assert_eq!(
            (
                st.count("UpdateRecordSet"),
                st.count("ListRecordSetsByZone"),
                st.count("CreateRecordSet")
            ),
            (1, 1, 1),
            "{:?}",
            st.calls
        );
    }
    // The zone was deleted and created again under a new id: the remembered id is stale.
    let new_zone = emu.state().recreate_zone(ZONE);
    emu.reset_calls();
    let fresh = provider(&emu, "s3cret");
    let hints = fresh
        .apply_rrset(&rrset(name, RecordType::Aaaa, 300, &[A3]), &hints)
        .await
        .unwrap();
    assert_eq!(emu.state().values(ZONE, name, "AAAA"), [A3]);
    assert_eq!(hints.0["zone_id"], new_zone);
    let st = emu.state();
    assert_eq!(
        (
            st.count("UpdateRecordSet"),
            st.count("ListPublicZones"),
            st.count("CreateRecordSet")
        ),
        (1, 1, 1),
        "{:?}",
        st.calls
    );
}

#[tokio::test]
async fn pagination_and_exact_names_from_a_lenient_server() {
    let emu = emulator("s3cret");
    {
        let mut st = emu.state();
        st.page_cap = 100;
        for i in 0..150 {
            st.add_zone(&format!("zone{i}.test"));
        }
        st.add_zone("deep.zone7.test");
        // A server that treats `name` as "contains": 250 sets come back for home.example.com.
        st.fuzzy_only = true;
        for i in 0..249 {
            st.add_set(ZONE, &format!("x{i}home.example.com"), "AAAA", 300, &[A2]);
        }
        st.add_set(ZONE, "home.example.com", "AAAA", 300, &[A1]);
    }
    let p = provider(&emu, "s3cret");
    let live = p
        .read_rrset(&key("home.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(live.addrs, [ip(A1)].into_iter().collect::<AddrSet>());
    {
        let st = emu.state();
        assert_eq!(st.count("ListRecordSetsByZone"), 3, "250 sets, 100 a page");
        assert_eq!(st.count("ListPublicZones"), 2, "153 zones, 100 a page");
    }
    p.apply_rrset(
        &rrset("a.deep.zone7.test", RecordType::A, 300, &["192.0.2.1"]),
        &none(),
    )
    .await
    .unwrap();
    assert_eq!(
        emu.state()
            .values("deep.zone7.test", "a.deep.zone7.test", "A"),
        ["192.0.2.1"]
    );
    assert_eq!(
        emu.state().values("zone7.test", "a.deep.zone7.test", "A"),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn wrong_secret_or_unknown_key_is_auth_after_exactly_one_call() {
    let emu = emulator("right");
    let p = provider(&emu, "wrong");
    let err = p
        .apply_rrset(
            &rrset("home.example.com", RecordType::Aaaa, 300, &[A1]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Auth, "{err}");
    assert_eq!(err.scope(), Scope::Provider);
    assert_eq!(
        err.message,
        "ListPublicZones failed: APIGW.0301: \"Incorrect IAM authentication information: verify aksk signature fail\""
    );
    assert_eq!(err.hint().as_deref(), Some(AUTH_HINT));
    assert_eq!(emu.state().total_calls(), 1, "no retry");

    let emu = emulator("right");
    let mut s = settings(&emu, "right", Some(ZONE));
    s.access_key = "AKUNKNOWN".into();
    let err = s
        .build("huawei", &deps())
        .read_rrset(&key("home.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Auth);
    assert_eq!(
        err.message,
        "ListPublicZones failed: APIGW.0301: \"Incorrect IAM authentication information: ak AKUNKNOWN not exist\""
    );
    assert_eq!(emu.state().total_calls(), 1);
}

#[tokio::test]
async fn clock_skew_is_reported_with_the_measured_offset() {
    let emu = emulator("s3cret");
    emu.state().clock_offset = -1500;
    let p = provider(&emu, "s3cret");
    let err = p
        .read_rrset(&key("home.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    let ProviderErrorKind::ClockSkew { offset_secs } = err.kind else {
        panic!("not a clock skew: {err:?}");
    };
    assert!((-1502..=-1498).contains(&offset_secs), "{offset_secs}");
    assert_eq!(emu.state().total_calls(), 1, "not retried blindly");
    assert_eq!(
        err.message,
        "ListPublicZones: the provider rejected the request time as expired (APIGW.0301)"
    );
    let secs = offset_secs.unsigned_abs();
    assert_eq!(
        err.hint().unwrap(),
        format!(
            "this machine's clock is {}m{}s ahead of the provider's; enable NTP (`timedatectl set-ntp true`, or ntpd/chrony on a router)",
            secs / 60,
            secs % 60
        )
    );
    emu.state().clock_offset = 600;
    p.read_rrset(&key("home.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap();
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried() {
    for fault in [
        Fault::RateLimit(None),
        Fault::Status(503),
        Fault::Status(500),
    ] {
        let emu = emulator("s3cret");
        emu.inject(Some("CreateRecordSet"), fault.clone());
        let p = provider(&emu, "s3cret");
        p.apply_rrset(
            &rrset("home.example.com", RecordType::Aaaa, 300, &[A1]),
            &none(),
        )
        .await
        .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        let st = emu.state();
        assert_eq!(
            st.values(ZONE, "home.example.com", "AAAA"),
            [A1],
            "{fault:?}"
        );
        assert_eq!(st.count("CreateRecordSet"), 2, "{fault:?}");
    }
    let emu = emulator("s3cret");
    emu.inject(Some("ListRecordSetsByZone"), Fault::RateLimit(Some(1)));
    let p = settings(&emu, "s3cret", Some(ZONE)).build("huawei", &deps());
    let started = Instant::now();
    p.read_rrset(&key("home.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
    assert_eq!(emu.state().count("ListRecordSetsByZone"), 2);
    emu.inject(Some("ListRecordSetsByZone"), Fault::RateLimit(Some(60)));
    let err = p
        .read_rrset(&key("home.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ProviderErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(60))
        }
    );
    assert!(
        err.message
            .starts_with("ListRecordSetsByZone failed: APIGW.0308: "),
        "{err}"
    );
    for _ in 0..3 {
        emu.inject(Some("ListRecordSetsByZone"), Fault::Status(502));
    }
    let err = p
        .read_rrset(&key("home.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Transient);
    assert_eq!(err.message, "ListRecordSetsByZone: server error (http 502)");
    assert_eq!(emu.state().count("ListRecordSetsByZone"), 6);
}

#[tokio::test]
async fn malformed_truncated_or_misshapen_replies_are_protocol_errors() {
    for (fault, want) in [
        (
            Fault::Malformed,
            "ListRecordSetsByZone: the reply is not valid json (",
        ),
        (
            Fault::Truncated,
            "ListRecordSetsByZone: the reply is not valid json (",
        ),
        (
            Fault::WrongShape,
            "ListRecordSetsByZone: unexpected reply: no \"recordsets\" array",
        ),
    ] {
        let emu = emulator("s3cret");
        emu.inject(Some("ListRecordSetsByZone"), fault.clone());
        let p = settings(&emu, "s3cret", Some(ZONE)).build("huawei", &deps());
        let err = p
            .read_rrset(&key("home.example.com", RecordType::Aaaa), &none())
            .await
            .unwrap_err();
        assert_eq!(err.kind, ProviderErrorKind::Protocol, "{fault:?}: {err}");
        assert!(err.message.starts_with(want), "{fault:?}: {err}");
        assert_eq!(emu.state().count("ListRecordSetsByZone"), 1, "not retried");
    }
}

#[tokio::test]
async fn timeouts_are_retried_for_reads_and_unconfirmed_for_writes() {
    let emu = emulator("s3cret");
    emu.inject(Some("ListRecordSetsByZone"), Fault::Timeout);
    let p = settings(&emu, "s3cret", Some(ZONE)).build("huawei", &deps());
    p.read_rrset(&key("home.example.com", RecordType::Aaaa), &none())
        .await
        .unwrap();
    assert_eq!(emu.state().count("ListRecordSetsByZone"), 2);
    emu.inject(Some("CreateRecordSet"), Fault::Timeout);
    let err = p
        .apply_rrset(
            &rrset("home.example.com", RecordType::Aaaa, 300, &[A1]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Unconfirmed, "{err}");
    assert_eq!(
        err.message,
        "CreateRecordSet could not confirm: timed out after 2s"
    );
    assert_eq!(emu.state().count("CreateRecordSet"), 1);
}

#[tokio::test]
async fn a_refused_record_does_not_stop_the_others() {
    let emu = emulator("s3cret");
    emu.refuse("a.example.com", "DNS.0013");
    let p = provider(&emu, "s3cret");
    let writes = [
        Write {
            desired: rrset("a.example.com", RecordType::Aaaa, 300, &[A1]),
            hints: none(),
        },
        Write {
            desired: rrset("b.example.com", RecordType::Aaaa, 300, &[A2]),
            hints: none(),
        },
    ];
    let results = p.apply_batch(&writes).await;
    assert_eq!(results.len(), 2);
    let err = results[0].as_ref().unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Forbidden);
    assert_eq!(err.scope(), Scope::Record);
    assert_eq!(
        err.message,
        "CreateRecordSet failed: DNS.0013: \"You do not have the permission to perform this operation using the API.\""
    );
    assert!(err.hint().unwrap().contains("DNS FullAccess"));
    assert!(results[1].is_ok(), "{:?}", results[1]);
    let st = emu.state();
    assert_eq!(st.values(ZONE, "b.example.com", "AAAA"), [A2]);
    assert_eq!(st.count("CreateRecordSet"), 2, "the refusal is not retried");
}

#[tokio::test]
async fn a_zone_outside_the_account_is_zone_not_found() {
    let emu = emulator("s3cret");
    let p = provider(&emu, "s3cret");
    let err = p
        .apply_rrset(
            &rrset("home.example.net", RecordType::Aaaa, 300, &[A1]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::ZoneNotFound);
    assert_eq!(
        err.message,
        "no domain of this Huawei Cloud DNS account contains home.example.net"
    );
    let p = settings(&emu, "s3cret", Some("example.net")).build("huawei", &deps());
    let err = p
        .apply_rrset(
            &rrset("home.example.net", RecordType::Aaaa, 300, &[A1]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::ZoneNotFound);
    assert_eq!(
        err.message,
        "example.net is not a public zone of this Huawei Cloud DNS account"
    );
}

// ---------------------------------------------------------------------------------------------
// Secrets stay out of the logs.

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn marker_secret_never_appears_in_trace_output() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "huaweicloud::marker_secret_child",
            "--include-ignored",
            "--nocapture",
        ])
        .env("DDNSD_MARKER_CHILD", "1")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{text}");
}

#[test]
#[ignore = "run by marker_secret_never_appears_in_trace_output in its own process"]
fn marker_secret_child() {
    if std::env::var_os("DDNSD_MARKER_CHILD").is_none() {
        return;
    }
    const MARKER: &str = "MARKER-hw-8c2b-SECRET";
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let emu = emulator(MARKER);
        emu.inject(Some("ListRecordSetsByZone"), Fault::RateLimit(None));
        let p = provider(&emu, MARKER);
        tracing::debug!(settings = ?settings(&emu, MARKER, None), "provider settings");
        let h = p
            .apply_rrset(
                &rrset("home.example.com", RecordType::Aaaa, 60, &[A1]),
                &none(),
            )
            .await
            .unwrap();
        p.apply_rrset(
            &rrset("home.example.com", RecordType::Aaaa, 60, &[A2, A3]),
            &h,
        )
        .await
        .unwrap();
        let err = provider(&emu, "wrong")
            .read_rrset(&key("home.example.com", RecordType::Aaaa), &none())
            .await
            .unwrap_err();
        tracing::error!(error = %err, ?err, "failed as expected");
    });
    let out = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(out.contains("TRACE"), "trace level captured");
    assert!(out.contains("ListRecordSetsByZone") && out.contains("canonical_request"));
    assert!(!out.contains(MARKER), "the secret leaked:\n{out}");
}

// ---------------------------------------------------------------------------------------------
// Cross-check with the official SDK core.

/// A venv under `target/` with `huaweicloudsdkcore`, created and installed with pip when
/// missing. Panics, so the test fails, when that is impossible.
fn sdk_python() -> PathBuf {
    crate::harness::sdk::python(
        "huawei",
        &["huaweicloudsdkcore"],
        "huaweicloudsdkcore.signer.signer",
    )
}

fn sdk_sign(cases: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let python = sdk_python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/huawei_sign.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for c in cases {
            writeln!(stdin, "{c}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), cases.len());
    lines
}

/// (method, host, path, query, with a JSON content type, body, unix time).
type Case = (
    &'static str,
    &'static str,
    String,
    Vec<(&'static str, &'static str)>,
    bool,
    String,
    u64,
);

#[test]
fn signatures_match_the_official_sdk_core() {
    let big = format!(
        "{{\"name\":\"home.example.com.\",\"type\":\"AAAA\",\"ttl\":300,\"records\":[{}]}}",
        (0..2000)
            .map(|i| format!("\"2001:db8::{i:x}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    // (method, host, path, query, content-type?, body, unix time)
    let cases: Vec<Case> = vec![
        // The published vectors (china-clouds.md §1.1, dyndns2-and-others.md §4).
        (
            "GET",
            "dns.myhuaweicloud.com",
            "/v2/zones".into(),
            vec![("type", "public"), ("name", "example.com.")],
            true,
            String::new(),
            1_700_000_000,
        ),
        (
            "POST",
            "dns.myhuaweicloud.com",
            "/v2/zones/ff8080828bfcc673018ca42326e3480b/recordsets".into(),
            vec![],
            true,
            r#"{"name":"home.example.com.","type":"AAAA","ttl":300,"records":["2001:db8::1"]}"#
                .into(),
            1_700_000_000,
        ),
        // What ddnsd sends: GET without a content type, paging parameters, a port in the host.
        (
            "GET",
            "127.0.0.1:8443",
            "/v2/zones/ff8080828bfcc673018ca42326e3480b/recordsets".into(),
            vec![
                ("name", "home.example.com."),
                ("type", "AAAA"),
                ("search_mode", "equal"),
                ("limit", "500"),
                ("marker", "ff80808000000000000008bfcc673019"),
            ],
            false,
            String::new(),
            1_709_251_199,
        ),
        (
            "PUT",
            "dns.ap-southeast-1.myhuaweicloud.com",
            "/v2/zones/z1/recordsets/r1".into(),
            vec![],
            true,
            big,
            1_709_251_200,
        ),
        (
            "DELETE",
            "dns.cn-north-4.myhuaweicloud.com",
            "/v2/zones/z1/recordsets/r1".into(),
            vec![],
            false,
            String::new(),
            0,
        ),
        // Encoding edge cases in the query.
        (
            "GET",
            "dns.myhuaweicloud.com",
            "/v2/zones".into(),
            vec![
                ("name", "例子.中国."),
                ("b", "x y*~/+="),
                ("a", "2"),
                ("a", "1"),
            ],
            false,
            String::new(),
            4_102_444_800,
        ),
    ];
    let inputs: Vec<serde_json::Value> = cases
        .iter()
        .map(|(method, host, path, query, ct, body, t)| {
            let mut headers = serde_json::Map::new();
            if *ct {
                headers.insert("Content-Type".into(), "application/json".into());
            }
            serde_json::json!({"ak": "AKEXAMPLE", "sk": "SKEXAMPLE", "method": method, "host": host,
                "path": path, "query": query, "headers": headers, "body": body,
                "date": huawei::sdk_date(*t)})
        })
        .collect();
    let replies = sdk_sign(&inputs);
    for ((method, host, path, query, ct, body, t), sdk) in cases.iter().zip(&replies) {
        let mut headers = vec![("Host", *host)];
        if *ct {
            headers.push(("Content-Type", "application/json"));
        }
        let sig = huawei::sign(
            &HuaweiRequest {
                method,
                path,
                query,
                headers: &headers,
                payload: body.as_bytes(),
            },
            HuaweiCredentials {
                access_key: "AKEXAMPLE",
                secret_key: "SKEXAMPLE",
            },
            *t,
        );
        assert_eq!(
            sig.authorization,
            sdk["authorization"].as_str().unwrap(),
            "{method} {path}"
        );
        let uri = if sig.canonical_query.is_empty() {
            path.clone()
        } else {
            format!("{path}?{}", sig.canonical_query)
        };
        assert_eq!(
            uri,
            sdk["uri"].as_str().unwrap(),
            "the request uri as the sdk sends it"
        );
    }
    assert!(replies[0]["authorization"]
        .as_str()
        .unwrap()
        .ends_with("Signature=5c93e83ab491e0f14af3492b788af7a018cd5b09bab4f57a39b9b9a4cbe4878d"));
    assert!(replies[1]["authorization"]
        .as_str()
        .unwrap()
        .ends_with("Signature=ac1f7a3f7bcb2c3b5479d285b7f307a2aebae0c7c682c7c5cbf6b8be07562d82"));
}

/// Every request ddnsd actually sent to the emulator, signed again by the SDK from the same
/// method, host, path, query, headers, body and date: the same `Authorization`, byte for byte.
#[tokio::test]
async fn the_requests_ddnsd_sends_are_signed_as_the_sdk_signs_them() {
    let emu = emulator("s3cret");
    let p = provider(&emu, "s3cret");
    let name = "home.example.com";
    let h = p
        .apply_rrset(&rrset(name, RecordType::Aaaa, 300, &[A1, A2]), &none())
        .await
        .unwrap();
    let h = p
        .apply_rrset(&rrset(name, RecordType::Aaaa, 300, &[A3]), &h)
        .await
        .unwrap();
    p.apply_rrset(&rrset(name, RecordType::Aaaa, 300, &[]), &h)
        .await
        .unwrap();
    let sent = emu.state().last_requests.clone();
    let ops = [
        "ListPublicZones",
        "ListRecordSetsByZone",
        "CreateRecordSet",
        "UpdateRecordSet",
        "DeleteRecordSet",
    ];
    let cases: Vec<serde_json::Value> = ops
        .iter()
        .map(|op| {
            let r = &sent[*op];
            let mut headers = serde_json::Map::new();
            if let Some(ct) = r.header("content-type") {
                headers.insert("Content-Type".into(), ct.into());
            }
            serde_json::json!({"ak": AK, "sk": "s3cret", "method": r.method,
                "host": r.header("host").unwrap(), "path": r.path, "query": r.query(),
                "headers": headers, "body": String::from_utf8(r.body.clone()).unwrap(),
                "date": r.header("x-sdk-date").unwrap()})
        })
        .collect();
    let replies = tokio::task::spawn_blocking(move || sdk_sign(&cases))
        .await
        .unwrap();
    for (op, sdk) in ops.iter().zip(&replies) {
        let r = &sent[*op];
        assert_eq!(
            r.header("authorization"),
            sdk["authorization"].as_str(),
            "{op}: ddnsd's Authorization equals the SDK's"
        );
        let target = if r.raw_query.is_empty() {
            r.path.clone()
        } else {
            format!("{}?{}", r.path, r.raw_query)
        };
        assert_eq!(
            target,
            sdk["uri"].as_str().unwrap(),
            "{op}: the same request uri"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The built binary.

fn cli_config(dir: &Path, emu: &HuaweiEmu, addr: &str) -> String {
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = ["{addr}"]

[providers.huawei]
kind = "huaweicloud"
access_key = "{AK}"
secret_key_env = "DDNSD_TEST_SECRET"
region = "cn-north-4"
endpoint = "{endpoint}"

[[records]]
name = "home.example.com"
provider = "huawei"
sources = ["fixed"]
ttl = 300
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
fn cli_create_unchanged_then_one_update() {
    let emu = emulator("s3cret");
    emu.state()
        .add_set(ZONE, "www.example.com", "AAAA", 300, &[A3]);
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "2001:db8::10");
    let (code, stdout, stderr) = run_once(&config, "s3cret");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "home.example.com AAAA 2001:db8::10  created\n");

    emu.reset_calls();
    let (code, stdout, stderr) = run_once(&config, "s3cret");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "home.example.com AAAA 2001:db8::10  unchanged\n");
    let calls = emu.state().calls.clone();
    assert_eq!(calls.values().sum::<u32>(), 0, "{calls:?}");

    let id = emu
        .state()
        .set(ZONE, "home.example.com", "AAAA")
        .unwrap()
        .id;
    let config = cli_config(dir.path(), &emu, "2001:db8::11");
    let (code, stdout, stderr) = run_once(&config, "s3cret");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "home.example.com AAAA 2001:db8::11  updated (was 2001:db8::10)\n"
    );
    let st = emu.state();
    assert_eq!(st.total_calls(), 1, "{:?}", st.calls);
    assert_eq!(st.count("UpdateRecordSet"), 1);
    assert_eq!(st.set(ZONE, "home.example.com", "AAAA").unwrap().id, id);
    assert_eq!(st.values(ZONE, "www.example.com", "AAAA"), [A3]);
    assert!(!stdout.contains("s3cret") && !stderr.contains("s3cret"));
}

#[test]
fn cli_wrong_key_exits_1_with_the_permission_hint() {
    let emu = emulator("right");
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "2001:db8::10");
    let (code, stdout, stderr) = run_once(&config, "wrong-secret-value");
    assert_eq!(code, 1, "{stdout}{stderr}");
    let why = "ListPublicZones failed: APIGW.0301: \"Incorrect IAM authentication information: verify aksk signature fail\"";
    assert_eq!(
        stdout,
        format!("home.example.com AAAA 2001:db8::10  failed: {why}\n")
    );
    assert_eq!(
        stderr,
        format!("error: home.example.com AAAA via huawei: {why}\n  hint: {AUTH_HINT}\n")
    );
    assert_eq!(emu.state().total_calls(), 1);
}

/// The kind's example block passes `ddnsd check`; `region` builds the default endpoint and is
/// checked.
#[test]
fn the_example_block_is_a_valid_config_and_region_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let rest = "\n[sources.wan6]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"home.example.com\"\nprovider = \"huawei\"\nsources = [\"wan6\"]\n";
    let example = ddnsd::provider::huaweicloud::KIND.example;
    let env = |name: &str| (name == "HUAWEICLOUD_SECRET_KEY").then(|| "x".to_owned());
    let config =
        ddnsd::config::from_text(&format!("{example}{rest}"), Path::new("t.toml"), &env).unwrap();
    let s: &HuaweiCloudSettings = config.providers["huawei"].get().unwrap();
    assert_eq!(s.endpoint, "https://dns.cn-north-4.myhuaweicloud.com");
    assert_eq!(s.region, "cn-north-4");

    let path = crate::harness::write(dir.path(), "ddnsd.toml", &format!("{example}{rest}"));
    let mut c = crate::harness::ddnsd();
    c.env("HUAWEICLOUD_SECRET_KEY", "x")
        .args(["check", "-c", &path]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");

    let bad = example.replace("region = \"cn-north-4\"", "region = \"CN North 4\"");
    let path = crate::harness::write(dir.path(), "bad.toml", &format!("{bad}{rest}"));
    let mut c = crate::harness::ddnsd();
    c.env("HUAWEICLOUD_SECRET_KEY", "x")
        .args(["check", "-c", &path]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        format!("{path}:5:10: region \"CN North 4\" is not a region name\n  hint: write the region of your Huawei Cloud console, e.g. \"cn-north-4\" or \"ap-southeast-1\"\n")
    );
}
