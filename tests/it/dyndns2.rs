//! The dyndns2 provider against the local dyndns2 server (`harness/dyndns2_server.rs`) in the
//! dialects of the presets: where each family's address goes, every answer's handling, the
//! stop after `badauth`/`abuse` and the 30-minute pause after `911`, and `ddnsd run --once`.
//!
//! See: issue 9, item 7.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ddnsd::provider::dyndns2::{Dialect as Wire, Dyndns2Settings, Preset};
use ddnsd::provider::{Configured, Provider, ProviderDeps, ProviderErrorKind, ProviderHints};
use ddnsd::record::{RecordKey, RecordType, RrSet, Ttl};
use ddnsd::secret::Secret;

use crate::harness::dyndns2_server::{Dialect, Dyndns2Server};
use crate::harness::emu_http::Outcome;
use crate::harness::records::{deps_with, ip, none};

const USER: &str = "user@example.com";
const PASSWORD: &str = "s3cret-pass";
const HOST: &str = "home.example.com";
const RELOAD: &str =
    "nothing more is sent to this service until the config is reloaded (`systemctl reload ddnsd`)";

/// A server speaking `dialect` with the account, the managed host and a foreign host with
/// both families set.
fn server(dialect: Dialect) -> Dyndns2Server {
    let srv = Dyndns2Server::start(dialect);
    {
        let mut st = srv.state();
        st.account(USER, PASSWORD);
        st.host(HOST, USER);
        st.host("www.example.com", USER);
        let www = st.hosts.get_mut("www.example.com").unwrap();
        www.a = vec![ip("198.51.100.80")];
        www.aaaa = vec![ip("2001:db8::80")];
        st.host("other.example.net", "someone-else");
    }
    srv
}

fn deps() -> ProviderDeps {
    deps_with(
        Duration::from_secs(1),
        Duration::from_secs(2),
        Duration::from_secs(1),
    )
}

fn settings(srv: &Dyndns2Server, wire: Wire, password: &str) -> Dyndns2Settings {
    Dyndns2Settings {
        server: srv.update_url(),
        username: USER.into(),
        password: Secret::new(password.into()),
        hostname: None,
        zone: None,
        dialect: wire,
        preset: None,
    }
}

fn provider(srv: &Dyndns2Server, wire: Wire) -> Arc<dyn Provider> {
    settings(srv, wire, PASSWORD).build("dyn", &deps())
}

fn ips(v: &[&str]) -> Vec<IpAddr> {
    v.iter().map(|a| ip(a)).collect()
}

fn rrset(rtype: RecordType, addrs: &[&str]) -> RrSet {
    RrSet {
        name: HOST.parse().unwrap(),
        rtype,
        ttl: Ttl(300),
        addrs: addrs.iter().map(|a| ip(a)).collect(),
    }
}

#[tokio::test]
async fn aaaa_goes_in_myip_and_the_a_record_is_left_alone() {
    let srv = server(Dialect::myip_either());
    srv.state().hosts.get_mut(HOST).unwrap().a = ips(&["192.0.2.1"]);
    let p = provider(&srv, Preset::NoIp.dialect());
    let hints = p
        .apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::1"]), &none())
        .await
        .unwrap();
    assert_eq!(srv.calls(), 1);
    let u = srv.last();
    assert_eq!(
        u.request.raw_query,
        "hostname=home.example.com&myip=2001:db8::1"
    );
    assert_eq!(u.request.path, "/nic/update");
    assert_eq!(u.user.as_deref(), Some(USER));
    assert!(
        u.request
            .header("user-agent")
            .unwrap()
            .starts_with("ddnsd/"),
        "{:?}",
        u.request.header("user-agent")
    );
    let h = srv.state().get(HOST);
    assert_eq!((h.aaaa, h.a), (ips(&["2001:db8::1"]), ips(&["192.0.2.1"])));
    assert_eq!(
        srv.state().get("www.example.com").aaaa,
        ips(&["2001:db8::80"]),
        "other hosts untouched"
    );
    assert_eq!(hints.0["published"], "2001:db8::1");

    // The same again is `nochg`: a success.
    p.apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::1"]), &hints)
        .await
        .unwrap();
    assert_eq!(srv.calls(), 2);
    // The A record goes in myip too, leaving AAAA alone.
    p.apply_rrset(&rrset(RecordType::A, &["192.0.2.2"]), &none())
        .await
        .unwrap();
    let h = srv.state().get(HOST);
    assert_eq!((h.aaaa, h.a), (ips(&["2001:db8::1"]), ips(&["192.0.2.2"])));
}

/// Services with a separate IPv6 parameter get both families, each update telling the
/// service to keep the other family as it is.
#[tokio::test]
async fn both_families_where_the_service_takes_myipv6() {
    for (preset, dialect, keep4, keep6) in [
        (
            Preset::Dynu,
            Dialect::dynu(),
            "hostname=home.example.com&myip=192.0.2.7&myipv6=no",
            "hostname=home.example.com&myipv6=2001:db8::7&myip=no",
        ),
        (
            Preset::Desec,
            Dialect::desec(),
            "hostname=home.example.com&myipv4=192.0.2.7&myipv6=preserve",
            "hostname=home.example.com&myipv6=2001:db8::7&myipv4=preserve",
        ),
    ] {
        let srv = server(dialect);
        let p = provider(&srv, preset.dialect());
        p.apply_rrset(&rrset(RecordType::A, &["192.0.2.7"]), &none())
            .await
            .unwrap_or_else(|e| panic!("{preset:?}: {e}"));
        assert_eq!(srv.last().request.raw_query, keep4, "{preset:?}");
        p.apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::7"]), &none())
            .await
            .unwrap_or_else(|e| panic!("{preset:?}: {e}"));
        assert_eq!(srv.last().request.raw_query, keep6, "{preset:?}");
        let h = srv.state().get(HOST);
        assert_eq!(
            (h.a, h.aaaa),
            (ips(&["192.0.2.7"]), ips(&["2001:db8::7"])),
            "{preset:?}: both families kept"
        );
        assert_eq!(srv.calls(), 2, "{preset:?}");
    }
    // Why deSEC needs its keep value: without it the AAAA update replaces the A record with
    // the connection's address.
    let srv = server(Dialect::desec());
    srv.state().hosts.get_mut(HOST).unwrap().a = ips(&["192.0.2.7"]);
    let bare = Wire {
        keep_other: None,
        ..Preset::Desec.dialect()
    };
    provider(&srv, bare)
        .apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::7"]), &none())
        .await
        .unwrap();
    assert_eq!(srv.state().get(HOST).a, ips(&["127.0.0.1"]));
}

/// Several addresses of one family: a comma-separated list where the service takes one
/// (deSEC), a clear rejection without any request where it does not.
#[tokio::test]
async fn two_values_of_one_family() {
    let srv = server(Dialect::desec());
    provider(&srv, Preset::Desec.dialect())
        .apply_rrset(
            &rrset(RecordType::Aaaa, &["2001:db8::2", "2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap();
    assert_eq!(
        srv.last().request.param("myipv6").as_deref(),
        Some("2001:db8::1,2001:db8::2")
    );
    assert_eq!(
        srv.state().get(HOST).aaaa,
        ips(&["2001:db8::1", "2001:db8::2"])
    );

    let srv = server(Dialect::myip_either());
    let err = provider(&srv, Preset::NoIp.dialect())
        .apply_rrset(
            &rrset(RecordType::Aaaa, &["2001:db8::2", "2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Rejected);
    assert_eq!(
        err.message,
        format!(
            "home.example.com AAAA has 2 addresses (2001:db8::1,2001:db8::2) but {} takes one per update",
            srv.host_port()
        )
    );
    assert_eq!(err.hint().unwrap(), "narrow the record's sources to one address, or set multiple_addresses = true if the service accepts comma-separated lists (deSEC does)");
    assert_eq!(srv.calls(), 0);
    // Claiming lists to a service that refuses them: its `numhost`.
    let lists = Wire {
        multiple_addresses: true,
        ..Preset::NoIp.dialect()
    };
    let err = provider(&srv, lists)
        .apply_rrset(
            &rrset(RecordType::Aaaa, &["2001:db8::2", "2001:db8::1"]),
            &none(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Rejected);
    assert!(err.message.ends_with("(numhost)"), "{err}");
}

/// The failure ddclient 3.10 hides: a service that reads only IPv4 from `myip` ignores the
/// IPv6 address and sets the connection's address. The echo gives it away.
#[tokio::test]
async fn a_service_ignoring_ipv6_in_myip_is_not_a_success() {
    let srv = server(Dialect::dyn_classic());
    let err = provider(&srv, Wire::default())
        .apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::1"]), &none())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Protocol);
    assert_eq!(
        err.message,
        format!(
            "{} answered \"good 127.0.0.1\", not the address sent (2001:db8::1)",
            srv.host_port()
        )
    );
    assert_eq!(
        err.hint().unwrap(),
        "the service may not read IPv6 addresses from \"myip\"; set ipv6_param in [providers.dyn] (e.g. \"myipv6\") or use a preset"
    );
}

/// Every answer the protocol defines, forced on the server: the error kind, the exact
/// message, and one request each (these are not retried inside the call).
#[tokio::test]
async fn every_answer_is_handled_as_the_protocol_asks() {
    use ProviderErrorKind as K;
    let srv = server(Dialect::myip_either());
    let svc = srv.host_port();
    let outage = K::RateLimited {
        retry_after: Some(Duration::from_secs(1800)),
    };
    let cases = [
        ("badauth", K::Auth, format!("{svc} rejected the username or password (badauth)")),
        ("abuse", K::Auth, format!("{svc} blocked updates of home.example.com for abuse (abuse)")),
        ("badagent", K::Auth, format!("{svc} refused this client (badagent)")),
        ("!donator", K::Forbidden, format!("{svc} refused the update of home.example.com: it needs a paid feature (!donator)")),
        ("notfqdn", K::Rejected, format!("{svc} says home.example.com is not a fully qualified host name (notfqdn)")),
        ("nohost", K::Rejected, format!("{svc} has no host home.example.com in this account (nohost)")),
        ("numhost", K::Rejected, format!("{svc} refused home.example.com as too many hosts or addresses (numhost)")),
        ("badsys", K::Rejected, format!("{svc} rejected the request's system parameter (badsys)")),
        ("dnserr", K::Transient, format!("{svc} had a dns error on its side (dnserr)")),
        ("911", outage, format!("{svc} reported an outage or maintenance (911)")),
        ("<html><body>Welcome</body></html>", K::Protocol, format!("{svc} answered \"<html><body>Welcome</body></html>\", which is not a dyndns2 answer")),
    ];
    for (body, kind, message) in cases {
        srv.state().received.clear();
        srv.force(body);
        let p = provider(&srv, Preset::NoIp.dialect());
        let err = p
            .apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::1"]), &none())
            .await
            .unwrap_err();
        assert_eq!((err.kind.clone(), &err.message), (kind, &message), "{body}");
        assert_eq!(srv.calls(), 1, "{body}: one request, no retry");
    }
    // good / nochg are successes.
    for body in ["good 2001:db8::1", "nochg 2001:db8::1", "good"] {
        srv.force(body);
        provider(&srv, Preset::NoIp.dialect())
            .apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::1"]), &none())
            .await
            .unwrap_or_else(|e| panic!("{body}: {e}"));
    }
}

/// After an answer that stops the provider it sends nothing more (until a reload builds a new
/// one); after `911` nothing for 30 minutes.
#[tokio::test]
async fn stop_answers_and_911_hold_the_provider() {
    for (body, held) in [("badauth", "badauth"), ("abuse", "abuse"), ("911", "911")] {
        let srv = server(Dialect::myip_either());
        let p = provider(&srv, Preset::NoIp.dialect());
        srv.force(body);
        let first = p
            .apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::1"]), &none())
            .await
            .unwrap_err();
        let again = p
            .apply_rrset(&rrset(RecordType::A, &["192.0.2.1"]), &none())
            .await
            .unwrap_err();
        assert_eq!(srv.calls(), 1, "{body}: nothing sent while held");
        assert_eq!(again.message, first.message, "{body}");
        assert!(again.message.contains(held));
        match again.kind {
            ProviderErrorKind::Auth => assert_ne!(body, "911"),
            ProviderErrorKind::RateLimited {
                retry_after: Some(d),
            } => {
                assert_eq!(body, "911");
                assert!(
                    d <= Duration::from_secs(1800) && d > Duration::from_secs(1790),
                    "{d:?}"
                );
            }
            k => panic!("{body}: {k:?}"),
        }
        // A new provider (a reload) sends again.
        provider(&srv, Preset::NoIp.dialect())
            .apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::1"]), &none())
            .await
            .unwrap();
        assert_eq!(srv.calls(), 2, "{body}");
    }
}

/// A wrong password, as each kind of server answers it (200 `badauth`, 401 `badauth`): one
/// request, an auth error with the hint, nothing more.
#[tokio::test]
async fn wrong_password_is_one_call_and_an_auth_error() {
    for (dialect, wire) in [
        (Dialect::myip_either(), Preset::NoIp.dialect()),
        (Dialect::desec(), Preset::Desec.dialect()),
    ] {
        let srv = server(dialect);
        let p = settings(&srv, wire, "wrong").build("dyn", &deps());
        let err = p
            .apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::1"]), &none())
            .await
            .unwrap_err();
        assert_eq!(err.kind, ProviderErrorKind::Auth);
        assert_eq!(
            err.message,
            format!(
                "{} rejected the username or password (badauth)",
                srv.host_port()
            )
        );
        assert_eq!(
            err.hint().unwrap(),
            format!("check username and password of [providers.dyn]; {RELOAD}")
        );
        assert_eq!(srv.calls(), 1);
    }
}

/// HTTP-level failures: 5xx and a short 429 are retried within the call, a lost reply is
/// "could not confirm", a refused connection is "could not reach".
#[tokio::test]
async fn transport_failures() {
    let srv = server(Dialect::myip_either());
    let p = provider(&srv, Preset::NoIp.dialect());
    srv.force_answer(Outcome::text(503, "<html>busy</html>"));
    srv.force_answer(Outcome::with_header(429, "", "Retry-After", "1"));
    p.apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::1"]), &none())
        .await
        .unwrap();
    assert_eq!(srv.calls(), 3);
    assert_eq!(srv.state().get(HOST).aaaa, ips(&["2001:db8::1"]));

    srv.state().received.clear();
    for _ in 0..3 {
        srv.force_answer(Outcome::text(502, ""));
    }
    let err = p
        .apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::2"]), &none())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Transient);
    assert_eq!(
        err.message,
        format!("{} failed (http 502)", srv.host_port())
    );
    assert_eq!(srv.calls(), 3, "bounded");

    srv.state().received.clear();
    srv.force_answer(Outcome::Hang);
    let err = p
        .apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::2"]), &none())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Unconfirmed);
    assert_eq!(
        err.message,
        format!(
            "update at {} could not confirm: timed out after 1s",
            srv.host_port()
        )
    );
    assert_eq!(srv.calls(), 1);

    let url = srv.update_url();
    drop(srv);
    let gone = Dyndns2Settings {
        server: url,
        username: USER.into(),
        password: Secret::new(PASSWORD.into()),
        hostname: None,
        zone: None,
        dialect: Wire::default(),
        preset: None,
    };
    let err = gone
        .build("dyn", &deps())
        .apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::2"]), &none())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Unreachable, "{err}");
}

/// The server's own checks, reached for real (not forced): a short name, an unknown host, a
/// host of another account, a blocked host, a name override.
#[tokio::test]
async fn host_names_as_the_server_judges_them() {
    let srv = server(Dialect::myip_either());
    srv.state().blocked.insert(HOST.into());
    let run = |hostname: Option<&str>| {
        let mut s = settings(&srv, Preset::NoIp.dialect(), PASSWORD);
        s.hostname = hostname.map(str::to_owned);
        let p = s.build("dyn", &deps());
        async move {
            p.apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::1"]), &none())
                .await
        }
    };
    let code = |r: Result<ProviderHints, ddnsd::provider::ProviderError>| {
        let e = r.unwrap_err();
        (e.kind, e.message.rsplit_once(' ').unwrap().1.to_owned())
    };
    assert_eq!(
        code(run(Some("home")).await),
        (ProviderErrorKind::Rejected, "(notfqdn)".into())
    );
    assert_eq!(
        code(run(Some("nope.example.com")).await),
        (ProviderErrorKind::Rejected, "(nohost)".into())
    );
    assert_eq!(
        code(run(Some("other.example.net")).await),
        (ProviderErrorKind::Rejected, "(nohost)".into())
    );
    assert_eq!(
        code(run(None).await),
        (ProviderErrorKind::Auth, "(abuse)".into())
    );
    // The override is what the service sees; the record's own name is not sent.
    let hints = run(Some("www.example.com")).await.unwrap();
    assert_eq!(
        srv.last().request.param("hostname").as_deref(),
        Some("www.example.com")
    );
    assert_eq!(
        srv.state().get("www.example.com").aaaa,
        ips(&["2001:db8::1"])
    );
    assert_eq!(hints.0["hostname"], "www.example.com");
    assert_eq!(srv.calls(), 5);
}

/// The protocol has no read call: reading costs nothing and reports what the service last
/// acknowledged (from the hints), or nothing.
#[tokio::test]
async fn read_rrset_reads_nothing_and_reports_the_acknowledged_set() {
    let srv = server(Dialect::myip_either());
    let p = provider(&srv, Preset::NoIp.dialect());
    let key = RecordKey {
        name: HOST.parse().unwrap(),
        rtype: RecordType::Aaaa,
    };
    let live = p.read_rrset(&key, &none()).await.unwrap();
    assert!(live.addrs.is_empty());
    assert_eq!(live.ttl, None);
    let hints = p
        .apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::1"]), &none())
        .await
        .unwrap();
    let live = p.read_rrset(&key, &hints).await.unwrap();
    assert_eq!(live.addrs.to_string(), "2001:db8::1");
    assert_eq!(live.ttl, Some(Ttl(300)));
    assert_eq!(srv.calls(), 1, "reads cost no request");
}

#[tokio::test]
async fn records_outside_the_zone_are_refused_without_a_request() {
    let srv = server(Dialect::myip_either());
    let mut s = settings(&srv, Preset::NoIp.dialect(), PASSWORD);
    s.zone = Some("example.org".parse().unwrap());
    let err = s
        .build("dyn", &deps())
        .apply_rrset(&rrset(RecordType::Aaaa, &["2001:db8::1"]), &none())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Rejected);
    assert_eq!(
        err.message,
        "home.example.com is not inside the zone example.org"
    );
    assert_eq!(srv.calls(), 0);
}

#[test]
fn settings_never_show_the_password() {
    let srv = server(Dialect::myip_either());
    let s = settings(&srv, Wire::default(), PASSWORD);
    assert!(!format!("{s:?}").contains(PASSWORD));
}

// ---------------------------------------------------------------------------------------------
// The built binary.

/// A config publishing `addrs` (static) at home.example.com through the server; the password
/// from `DDNSD_TEST_SECRET`, the state in `dir/state.json`.
fn cli_config(dir: &Path, srv: &Dyndns2Server, addrs: &[&str]) -> String {
    let list: Vec<String> = addrs.iter().map(|a| format!("\"{a}\"")).collect();
    let text = format!(
        r#"[daemon]
state_file = "{state}"

[sources.fixed]
kind = "static"
addresses = [{list}]

[providers.dyn]
kind = "dyndns2"
preset = "noip"
server = "{server}"
username = "{USER}"
password_env = "DDNSD_TEST_SECRET"

[[records]]
name = "{HOST}"
provider = "dyn"
sources = ["fixed"]
ttl = 300
"#,
        state = dir.join("state.json").display(),
        list = list.join(", "),
        server = srv.update_url(),
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
    let srv = server(Dialect::myip_either());
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &srv, &["2001:db8::10", "192.0.2.10"]);
    let (code, stdout, stderr) = run_once(&config, PASSWORD, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "home.example.com AAAA 2001:db8::10  created\nhome.example.com A 192.0.2.10  created\n"
    );
    assert_eq!(srv.calls(), 2);
    let h = srv.state().get(HOST);
    assert_eq!(
        (h.aaaa, h.a),
        (ips(&["2001:db8::10"]), ips(&["192.0.2.10"]))
    );

    // Nothing changed: no request at all (repeated nochg gets hosts blocked).
    let (code, stdout, _) = run_once(&config, PASSWORD, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "home.example.com AAAA 2001:db8::10  unchanged\nhome.example.com A 192.0.2.10  unchanged\n"
    );
    assert_eq!(srv.calls(), 2);

    // The IPv6 address changes: one request, for AAAA only.
    let config = cli_config(dir.path(), &srv, &["2001:db8::11", "192.0.2.10"]);
    let (code, stdout, stderr) = run_once(&config, PASSWORD, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "home.example.com AAAA 2001:db8::11  updated (was 2001:db8::10)\nhome.example.com A 192.0.2.10  unchanged\n"
    );
    assert_eq!(srv.calls(), 3);
    assert_eq!(
        srv.last().request.raw_query,
        "hostname=home.example.com&myip=2001:db8::11"
    );
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
}

#[test]
fn cli_wrong_password_exits_1_after_one_request() {
    let srv = server(Dialect::myip_either());
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &srv, &["2001:db8::10", "192.0.2.10"]);
    let (code, stdout, stderr) = run_once(&config, "wrong-password-value", &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let why = format!(
        "{} rejected the username or password (badauth)",
        srv.host_port()
    );
    assert_eq!(
        stdout,
        format!("home.example.com AAAA 2001:db8::10  failed: {why}\nhome.example.com A 192.0.2.10  failed: provider dyn paused until the config is reloaded ({why})\n")
    );
    assert_eq!(
        stderr,
        format!("error: home.example.com AAAA via dyn: {why}\n  hint: check username and password of [providers.dyn]; {RELOAD}\n")
    );
    assert_eq!(srv.calls(), 1, "the A record is not sent after badauth");
}

/// Everything the binary writes at trace level — successes, a rejected password, an outage,
/// an answer that echoes the password — never holds the password (nor its Basic encoding).
#[test]
fn cli_trace_output_never_holds_the_password() {
    use base64::Engine as _;
    const MARKER: &str = "MARKER-d2c4e1-SECRET";
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{MARKER}"));
    let srv = server(Dialect::myip_either());
    srv.state().account(USER, MARKER);
    let dir = tempfile::tempdir().unwrap();
    let mut all = String::new();
    let mut run = |addrs: &[&str], secret: &str| {
        let config = cli_config(dir.path(), &srv, addrs);
        let (_, stdout, stderr) = run_once(&config, secret, &["--log-level", "trace"]);
        all.push_str(&stdout);
        all.push_str(&stderr);
    };
    run(&["2001:db8::20"], MARKER);
    srv.force(&format!("badauth {MARKER}"));
    run(&["2001:db8::21"], MARKER);
    srv.force("911");
    run(&["2001:db8::22"], MARKER);
    srv.force(&format!("hello {MARKER}"));
    run(&["2001:db8::23"], MARKER);
    run(&["2001:db8::24"], "wrong");
    assert!(
        all.contains("TRACE") || all.contains("DEBUG"),
        "trace output captured:\n{all}"
    );
    assert!(all.contains("sending dyndns2 update"), "{all}");
    assert!(
        all.contains("answered a line holding the password (not shown)"),
        "{all}"
    );
    assert!(!all.contains(MARKER), "the password leaked:\n{all}");
    assert!(
        !all.contains(&encoded),
        "the Basic credentials leaked:\n{all}"
    );
    assert_eq!(srv.calls(), 5);
}
