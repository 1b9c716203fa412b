//! `kind = "azure"` against the local Entra ID token endpoint + ARM DNS emulator (client
//! credentials, bearer tokens and the api-version all checked), and `ddnsd run --once` /
//! `check`.
//!
//! See: issue 10 (Azure DNS).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ddnsd::provider::azure::AzureSettings;
use ddnsd::provider::{Configured, Provider, ProviderErrorKind, ProviderHints};
use ddnsd::record::{RecordKey, RecordType, RrSet, Ttl};
use ddnsd::secret::Secret;
use serde_json::json;

use crate::harness::azure_emu::AzureEmu;
use crate::harness::records::deps;
use crate::harness::records::none;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SUB: &str = "00000000-1111-2222-3333-444444444444";
const GROUP: &str = "dns-rg";
const ZONE: &str = "example.com";
const A1: &str = "2001:db8::1";
const A2: &str = "2001:db8::2";
const AUTH_HINT: &str = "check tenant_id, client_id and client_secret (an expired client secret must be renewed); the app needs the DNS Zone Contributor role on the resource group";

fn emulator(secret: &str) -> AzureEmu {
    let emu = AzureEmu::start(SUB, GROUP);
    emu.add_app(TENANT, CLIENT, secret);
    {
        let mut st = emu.state();
        st.add_zone("example.org");
        st.add_zone(ZONE);
    }
    emu
}

fn settings(emu: &AzureEmu, secret: &str, tenant: &str) -> AzureSettings {
    AzureSettings {
        tenant_id: tenant.into(),
        client_id: CLIENT.into(),
        client_secret: Secret::new(secret.into()),
        subscription_id: SUB.into(),
        resource_group: GROUP.into(),
        zone: None,
        endpoint: emu.endpoint(),
        authority: emu.authority(),
    }
}

fn provider(emu: &AzureEmu, secret: &str) -> Arc<dyn Provider> {
    settings(emu, secret, TENANT).build("azure", &deps())
}

fn rrset(name: &str, ttl: u32, addrs: &[&str]) -> RrSet {
    RrSet {
        name: name.parse().unwrap(),
        rtype: RecordType::Aaaa,
        ttl: Ttl(ttl),
        addrs: addrs.iter().map(|a| a.parse::<IpAddr>().unwrap()).collect(),
    }
}

/// A create is a PUT guarded by `If-None-Match: *`; an update reads the set and PUTs it back
/// with only the TTL and the addresses replaced (metadata kept), guarded by its etag; the
/// token is fetched once.
#[tokio::test]
async fn a_put_keeps_the_sets_other_properties() {
    let emu = emulator("s3cret");
    emu.state().add_set(
        ZONE,
        "home",
        "AAAA",
        3600,
        &[A1],
        Some(json!({"owner": "ops", "ticket": "42"})),
    );
    let p = provider(&emu, "s3cret");
    let h = p
        .apply_rrset(&rrset("home.example.com", 300, &[A2]), &none())
        .await
        .unwrap();
    {
        let st = emu.state();
        let s = st.set(ZONE, "home", "AAAA").unwrap();
        assert_eq!((s.ttl, s.values.clone()), (300, vec![A2.to_owned()]));
        assert_eq!(s.metadata, Some(json!({"owner": "ops", "ticket": "42"})));
        let put = &st.last_requests["RecordSets_CreateOrUpdate"];
        let get = &st.last_requests["RecordSets_Get"];
        assert!(put.raw_query.contains("api-version=2018-05-01"));
        assert!(put.header("if-match").is_some() && put.header("if-none-match").is_none());
        let body: serde_json::Value = serde_json::from_slice(&put.body).unwrap();
        assert_eq!(
            body,
            json!({"properties": {"metadata": {"owner": "ops", "ticket": "42"}, "TTL": 300,
                "AAAARecords": [{"ipv6Address": A2}]}})
        );
        assert_eq!(get.path, format!("/subscriptions/{SUB}/resourceGroups/{GROUP}/providers/Microsoft.Network/dnsZones/example.com/AAAA/home"));
        assert_eq!(
            (
                st.count("token"),
                st.count("DnsZones_ListByResourceGroup"),
                st.count("RecordSets_Get"),
                st.count("RecordSets_CreateOrUpdate")
            ),
            (1, 1, 1, 1)
        );
    }
    // A new set at the apex: If-None-Match.
    p.apply_rrset(&rrset("example.com", 300, &[A1]), &h)
        .await
        .unwrap();
    let st = emu.state();
    let put = &st.last_requests["RecordSets_CreateOrUpdate"];
    assert!(
        put.path.ends_with("/AAAA/%40") || put.path.ends_with("/AAAA/@"),
        "{}",
        put.path
    );
    assert_eq!(put.header("if-none-match"), Some("*"));
    assert_eq!(st.values(ZONE, "@", "AAAA"), [A1]);
    assert_eq!(
        st.values(ZONE, "@", "NS").len(),
        4,
        "the apex NS set is untouched"
    );
    assert_eq!(st.count("token"), 1, "the token was reused");
    assert_eq!(
        st.count("DnsZones_ListByResourceGroup"),
        1,
        "the zone was remembered"
    );
}

/// Withdrawing deletes the set (guarded by its etag); a set already gone is fine.
#[tokio::test]
async fn withdrawing_deletes_the_set() {
    let emu = emulator("s3cret");
    emu.state().add_set(ZONE, "home", "AAAA", 300, &[A1], None);
    let p = provider(&emu, "s3cret");
    p.apply_rrset(&rrset("home.example.com", 300, &[]), &none())
        .await
        .unwrap();
    let st = emu.state();
    assert!(st.set(ZONE, "home", "AAAA").is_none());
    assert!(st.last_requests["RecordSets_Delete"]
        .header("if-match")
        .is_some());
}

/// The zone list is followed through `nextLink` (on the management endpoint only).
#[tokio::test]
async fn zones_are_paged_through_next_link() {
    let emu = emulator("s3cret");
    {
        let mut st = emu.state();
        st.page_cap = 1;
        st.add_zone("sub.example.com");
    }
    let live = provider(&emu, "s3cret")
        .read_rrset(
            &RecordKey {
                name: "a.sub.example.com".parse().unwrap(),
                rtype: RecordType::A,
            },
            &none(),
        )
        .await
        .unwrap();
    assert_eq!(live.hints.0["zone"], "sub.example.com");
    assert_eq!(emu.state().count("DnsZones_ListByResourceGroup"), 3);
}

/// A wrong secret or an unknown tenant: Auth after exactly one call, in Entra's words.
#[tokio::test]
async fn wrong_client_credentials_are_auth_after_one_call() {
    let emu = emulator("right");
    let e = provider(&emu, "wrong")
        .apply_rrset(&rrset("home.example.com", 300, &[A1]), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert!(
        e.message.starts_with(
            "token failed: invalid_client: \"AADSTS7000215: Invalid client secret provided."
        ),
        "{}",
        e.message
    );
    assert!(
        !e.message.contains("Trace ID"),
        "only the first line: {}",
        e.message
    );
    assert_eq!(e.hint.as_deref(), Some(AUTH_HINT));
    assert_eq!(emu.state().total_calls(), 1);
    let e = settings(&emu, "right", "00000000-0000-0000-0000-0000000000aa")
        .build("azure", &deps())
        .apply_rrset(&rrset("home.example.com", 300, &[A1]), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert!(e.message.contains("AADSTS90002"), "{}", e.message);
}

/// A token ARM no longer takes: one fresh token, then the call succeeds.
#[tokio::test]
async fn a_refused_token_is_fetched_again_once() {
    let emu = emulator("s3cret");
    let p = provider(&emu, "s3cret");
    let h = p
        .apply_rrset(&rrset("home.example.com", 300, &[A1]), &none())
        .await
        .unwrap();
    emu.state().tokens.clear();
    p.apply_rrset(&rrset("home.example.com", 300, &[A2]), &h)
        .await
        .unwrap();
    let st = emu.state();
    assert_eq!(st.count("token"), 2);
    assert_eq!(st.values(ZONE, "home", "AAAA"), [A2]);
}

/// Throttling is retried after Retry-After; a zone outside the resource group is
/// ZoneNotFound.
#[tokio::test]
async fn throttling_is_retried_and_a_missing_zone_is_zone_not_found() {
    let emu = emulator("s3cret");
    emu.inject(
        Some("RecordSets_CreateOrUpdate"),
        crate::harness::azure_emu::Fault::RateLimit(Some(1)),
    );
    let started = std::time::Instant::now();
    provider(&emu, "s3cret")
        .apply_rrset(&rrset("home.example.com", 300, &[A1]), &none())
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(emu.state().count("RecordSets_CreateOrUpdate"), 2);
    let e = provider(&emu, "s3cret")
        .apply_rrset(&rrset("home.example.net", 300, &[A1]), &none())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ZoneNotFound);
    assert_eq!(
        e.message,
        "no DNS zone of resource group dns-rg contains home.example.net"
    );
}

/// Replies that are not the API's (HTML, half a document, JSON of another shape) are
/// protocol errors naming the operation, never trusted and not retried.
#[tokio::test]
async fn replies_of_the_wrong_shape_are_protocol_errors() {
    use crate::harness::azure_emu::Fault;
    for fault in [Fault::Malformed, Fault::Truncated, Fault::WrongShape] {
        let emu = emulator("s3cret");
        emu.inject(Some("RecordSets_Get"), fault.clone());
        let e = provider(&emu, "s3cret")
            .read_rrset(
                &RecordKey {
                    name: "home.example.com".parse().unwrap(),
                    rtype: RecordType::Aaaa,
                },
                &ProviderHints::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind, ProviderErrorKind::Protocol, "{fault:?}: {e:?}");
        assert!(
            e.message.starts_with("RecordSets_Get"),
            "{fault:?}: {}",
            e.message
        );
        assert_eq!(
            emu.state().count("RecordSets_Get"),
            1,
            "{fault:?}: not retried"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The built binary.

fn cli_config(dir: &Path, emu: &AzureEmu, addr: &str) -> String {
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = ["{addr}"]

[providers.azure]
kind = "azure"
tenant_id = "{TENANT}"
client_id = "{CLIENT}"
client_secret_env = "DDNSD_TEST_SECRET"
subscription_id = "{SUB}"
resource_group = "{GROUP}"
endpoint = "{endpoint}"
authority = "{authority}"

[[records]]
name = "home.example.com"
provider = "azure"
sources = ["fixed"]
ttl = 300
"#,
        state = dir.join("state.json").display(),
        endpoint = emu.endpoint(),
        authority = emu.authority(),
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
fn cli_create_unchanged_update_and_a_wrong_secret() {
    let emu = emulator("s3cret");
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &emu, "2001:db8::10");
    let (code, stdout, stderr) = run_once(&config, "s3cret");
    assert_eq!(
        (code, stdout.as_str()),
        (0, "home.example.com AAAA 2001:db8::10  created\n"),
        "{stderr}"
    );
    emu.state().calls.clear();
    let (code, stdout, _) = run_once(&config, "s3cret");
    assert_eq!(
        (code, stdout.as_str()),
        (0, "home.example.com AAAA 2001:db8::10  unchanged\n")
    );
    assert_eq!(emu.state().total_calls(), 0);
    let config = cli_config(dir.path(), &emu, "2001:db8::11");
    let (code, stdout, stderr) = run_once(&config, "s3cret");
    assert_eq!(
        (code, stdout.as_str()),
        (
            0,
            "home.example.com AAAA 2001:db8::11  updated (was 2001:db8::10)\n"
        ),
        "{stderr}"
    );
    assert!(!stdout.contains("s3cret") && !stderr.contains("s3cret"));
    emu.state().calls.clear();
    let config = cli_config(dir.path(), &emu, "2001:db8::12");
    let (code, stdout, stderr) = run_once(&config, "wrong-secret");
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.starts_with("home.example.com AAAA 2001:db8::12  failed: token failed: invalid_client: \"AADSTS7000215"), "{stdout}");
    assert!(
        stderr.ends_with(&format!("\n  hint: {AUTH_HINT}\n")),
        "{stderr}"
    );
    assert_eq!(emu.state().total_calls(), 1);
}

/// The example block passes `check`; ids that are not GUIDs are reported where they are.
#[test]
fn the_example_block_checks_and_ids_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let rest = "\n[sources.wan6]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"home.example.com\"\nprovider = \"azure\"\nsources = [\"wan6\"]\n";
    let example = ddnsd::provider::azure::KIND.example;
    let env = |name: &str| (name == "AZURE_CLIENT_SECRET").then(|| "x".to_owned());
    let config =
        ddnsd::config::from_text(&format!("{example}{rest}"), Path::new("t.toml"), &env).unwrap();
    let s: &AzureSettings = config.providers["azure"].get().unwrap();
    assert_eq!(s.endpoint, "https://management.azure.com");
    assert_eq!(s.authority, "https://login.microsoftonline.com");
    assert_eq!(s.resource_group, "dns");
    let path = crate::harness::write(dir.path(), "ddnsd.toml", &format!("{example}{rest}"));
    let mut c = crate::harness::ddnsd();
    c.env("AZURE_CLIENT_SECRET", "x")
        .args(["check", "-c", &path]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");

    let bad = example.replace(
        "\"22222222-2222-2222-2222-222222222222\"",
        "\"my subscription\"",
    );
    let path = crate::harness::write(dir.path(), "bad.toml", &format!("{bad}{rest}"));
    let mut c = crate::harness::ddnsd();
    c.env("AZURE_CLIENT_SECRET", "x")
        .args(["check", "-c", &path]);
    let (code, stdout, stderr) = crate::harness::output(c);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        format!("{path}:6:19: subscription_id \"my subscription\" is not a GUID\n  hint: write the subscription ID as shown in the Azure portal, e.g. \"00000000-0000-0000-0000-000000000000\"\n")
    );
}
