//! Address sources against local servers (issue 3): HTTP echo services, DNS whoami
//! responders, commands and prefix composition. Nothing leaves 127.0.0.1/::1 or the
//! namespaces the tests create; every URL and resolver is an IP literal or a name in the
//! namespace's own hosts file.

use std::collections::BTreeMap;
use std::time::Duration;

use ddnsd::addr::command::{CommandSettings, CommandSource};
use ddnsd::addr::dns::{DnsSource, DnsSourceSettings, Preset, QueryClass, QueryType};
use ddnsd::addr::http::{HttpSource, HttpSourceSettings};
use ddnsd::addr::policy::{PolicyOptions, Select};
use ddnsd::addr::{Detection, Source, SourceError, Verdict};
use ddnsd::record::Family;
use serde_json::Value;

use crate::harness::emu_http::EmuServer;
use crate::harness::netns::Netns;
use crate::harness::servers::{echo, echo_on, whoami, Reply};
use crate::harness::{ddnsd, output, write};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn policy() -> PolicyOptions {
    PolicyOptions {
        select: Select::All,
        ..PolicyOptions::default()
    }
}

fn http(family: Family, urls: &[String], consensus: Option<usize>) -> HttpSource {
    HttpSource::new(
        "echo".into(),
        HttpSourceSettings {
            family,
            urls: urls.to_vec(),
            consensus,
            timeout: Duration::from_millis(700),
            policy: policy(),
        },
    )
}

fn selected(d: &Detection) -> Vec<(String, String)> {
    d.candidates
        .iter()
        .filter(|c| c.verdict == Verdict::Selected)
        .map(|c| (c.addr.to_string(), c.origin.clone()))
        .collect()
}

fn url(server: &EmuServer) -> String {
    format!("{}/", server.endpoint())
}

#[test]
fn http_falls_back_past_500_html_wrong_family_and_timeout() {
    let good_server = echo_on("::1", Reply::Body("2001:db8::7\n"));
    let good = url(&good_server);
    let bad_servers = [
        echo_on("::1", Reply::Status(500, "oops")),
        echo_on(
            "::1",
            Reply::Body("<html><body>captive portal</body></html>"),
        ),
        echo_on("::1", Reply::Body("203.0.113.9")),
        echo_on("::1", Reply::Slow(Duration::from_secs(3), "2001:db8::66")),
    ];
    let bad = bad_servers.each_ref().map(url);
    for b in &bad {
        let d = rt()
            .block_on(http(Family::Ipv6, &[b.clone(), good.clone()], None).detect())
            .unwrap();
        assert_eq!(
            selected(&d),
            [("2001:db8::7".to_owned(), good.clone())],
            "after {b}"
        );
    }
    // All four failing: one error naming every URL and why.
    let err = rt()
        .block_on(http(Family::Ipv6, &bad, None).detect())
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("every echo service failed: "), "{msg}");
    assert!(
        msg.contains(&format!(
            "{}: server answered 500 (body starts \"oops\")",
            bad[0]
        )),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "{}: answer is not an ip address (body starts \"<html><body>captive portal</body></html>\")",
            bad[1]
        )),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "{}: answered 203.0.113.9, which is not ipv6",
            bad[2]
        )),
        "{msg}"
    );
    assert!(msg.contains(&format!("{}: timed out", bad[3])), "{msg}");
    assert!(err.hint().is_some());
    // A URL whose literal host is of the other family is never asked.
    let v4_server = echo_on("127.0.0.1", Reply::Body("2001:db8::8"));
    let v4 = url(&v4_server);
    let err = rt()
        .block_on(http(Family::Ipv6, std::slice::from_ref(&v4), None).detect())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("every echo service failed: {v4}: the url's host is an ipv4 address but the source asks for ipv6")
    );
}

#[test]
fn http_consensus_agrees_or_names_every_answer() {
    let servers = [
        echo_on("127.0.0.1", Reply::Body("203.0.113.1")),
        echo_on("127.0.0.1", Reply::Body("203.0.113.1\n")),
        echo_on("127.0.0.1", Reply::Body("203.0.113.2")),
    ];
    let [a, b, c] = servers.each_ref().map(url);
    let d = rt()
        .block_on(http(Family::Ipv4, &[a.clone(), b.clone(), c.clone()], Some(2)).detect())
        .unwrap();
    assert_eq!(selected(&d), [("203.0.113.1".to_owned(), a.clone())]);
    assert_eq!(
        d.candidates[0].detail.as_deref(),
        Some(format!("2 of 3 agreed: {a}, {b}").as_str())
    );
    assert_eq!(d.candidates[1].addr.to_string(), "203.0.113.2");
    assert_eq!(d.candidates[1].verdict.to_string_code(), "outvoted");

    let err = rt()
        .block_on(http(Family::Ipv4, &[a.clone(), c.clone()], Some(2)).detect())
        .unwrap_err();
    assert!(matches!(err, SourceError::NoConsensus { .. }));
    assert_eq!(
        err.to_string(),
        format!("no 2 echo services agreed: {a} said 203.0.113.1; {c} said 203.0.113.2")
    );
}

trait Code {
    fn to_string_code(&self) -> String;
}
impl Code for Verdict {
    fn to_string_code(&self) -> String {
        serde_json::to_value(self)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// A host name resolving to both 127.0.0.1 and ::1: the IPv6 source must get the ::1
/// server's answer and the IPv4 source the 127.0.0.1 one, in the same detection.
#[test]
fn http_source_is_forced_onto_its_family_when_the_name_has_both() {
    let ns = Netns::new();
    ns.etc("hosts", "127.0.0.1 echo.test\n::1 echo.test\n");
    let _v4 = echo(ns.bind_tcp("127.0.0.1:8080"), Reply::Body("203.0.113.4"));
    let _v6 = echo(ns.bind_tcp("[::1]:8080"), Reply::Body("2001:db8::4"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "c.toml",
        r#"
[sources.v6]
kind = "http"
urls = ["http://echo.test:8080/"]

[sources.v4]
kind = "http"
family = "ipv4"
urls = ["http://echo.test:8080/"]
"#,
    );
    let mut c = ns.command(env!("CARGO_BIN_EXE_ddnsd"));
    c.args(["detect", "--json", "-c", &cfg])
        .env("RUST_BACKTRACE", "0");
    let (code, stdout, stderr) = output(c);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let found: BTreeMap<String, (String, String)> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let c = &s["candidates"][0];
            (
                s["source"].as_str().unwrap().to_owned(),
                (
                    c["address"].as_str().unwrap().to_owned(),
                    c["verdict"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect();
    assert_eq!(found["v6"], ("2001:db8::4".into(), "selected".into()));
    assert_eq!(found["v4"], ("203.0.113.4".into(), "selected".into()));
    assert_eq!(
        v["sources"][0]["candidates"][0]["origin"],
        "http://echo.test:8080/"
    );
}

fn dns(family: Family, resolver: std::net::SocketAddr, preset: Option<Preset>) -> DnsSource {
    let query = match preset {
        Some(p) => p.query(family),
        None => ddnsd::addr::dns::DnsQuery {
            name: "whoami.test.".into(),
            rtype: QueryType::Txt,
            class: QueryClass::In,
        },
    };
    DnsSource::new(
        "dns".into(),
        DnsSourceSettings {
            family,
            resolver,
            query,
            timeout: Duration::from_secs(2),
            policy: policy(),
        },
    )
}

#[test]
fn dns_whoami_txt_ch_and_address_forms_over_each_family() {
    let v6 = whoami("::1", "2001:db8::53", false);
    let d = rt()
        .block_on(dns(Family::Ipv6, v6, Some(Preset::Cloudflare)).detect())
        .unwrap();
    assert_eq!(
        selected(&d),
        [(
            "2001:db8::53".to_owned(),
            format!("{v6} whoami.cloudflare. TXT CH")
        )]
    );
    let d = rt()
        .block_on(dns(Family::Ipv6, v6, Some(Preset::OpenDns)).detect())
        .unwrap();
    assert_eq!(
        selected(&d),
        [(
            "2001:db8::53".to_owned(),
            format!("{v6} myip.opendns.com. AAAA IN")
        )]
    );
    let v4 = whoami("127.0.0.1", "203.0.113.53", false);
    let d = rt()
        .block_on(dns(Family::Ipv4, v4, Some(Preset::OpenDns)).detect())
        .unwrap();
    assert_eq!(selected(&d)[0].0, "203.0.113.53");
    let d = rt()
        .block_on(dns(Family::Ipv4, v4, Some(Preset::Google)).detect())
        .unwrap();
    assert_eq!(selected(&d)[0].0, "203.0.113.53");
    // A TXT answer of the other family is shown but skipped.
    let mixed = whoami("::1", "203.0.113.99", false);
    let d = rt()
        .block_on(dns(Family::Ipv6, mixed, None).detect())
        .unwrap();
    assert_eq!(d.candidates[0].verdict.to_string_code(), "wrong-family");
    // Garbage in TXT is an error naming it.
    let junk = whoami("127.0.0.1", "hello", false);
    let err = rt()
        .block_on(dns(Family::Ipv4, junk, None).detect())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{junk} whoami.test. TXT IN: answer \"hello\" is not an ip address")
    );
}

#[test]
fn dns_truncated_udp_answer_is_asked_again_over_tcp() {
    let v6 = whoami("::1", "2001:db8::54", true);
    let d = rt()
        .block_on(dns(Family::Ipv6, v6, Some(Preset::Cloudflare)).detect())
        .unwrap();
    assert_eq!(selected(&d)[0].0, "2001:db8::54");
    let v4 = whoami("127.0.0.1", "203.0.113.54", true);
    let d = rt()
        .block_on(dns(Family::Ipv4, v4, Some(Preset::OpenDns)).detect())
        .unwrap();
    assert_eq!(selected(&d)[0].0, "203.0.113.54");
}

#[test]
fn dns_silent_resolver_times_out() {
    // A bound socket that never answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let s = DnsSource::new(
        "dns".into(),
        DnsSourceSettings {
            family: Family::Ipv4,
            resolver: silent.local_addr().unwrap(),
            query: Preset::OpenDns.query(Family::Ipv4),
            timeout: Duration::from_millis(300),
            policy: policy(),
        },
    );
    let err = rt().block_on(s.detect()).unwrap_err();
    assert!(err.to_string().ends_with("no answer within 0.3s"), "{err}");
}

fn command(argv: &[&str], timeout: Duration) -> CommandSource {
    CommandSource::new(
        "cmd".into(),
        CommandSettings {
            family: Family::Ipv6,
            command: argv.iter().map(|s| (*s).to_owned()).collect(),
            timeout,
            policy: policy(),
            env: vec![(
                "PATH".into(),
                ddnsd::secret::Secret::new(std::env::var("PATH").unwrap()),
            )],
        },
    )
}

#[test]
fn command_success_skips_the_other_family() {
    let c = command(
        &[
            "sh",
            "-c",
            "echo '# addresses'; echo '2001:db8::c  # wan'; echo; echo 203.0.113.12",
        ],
        Duration::from_secs(5),
    );
    let d = rt().block_on(c.detect()).unwrap();
    let got: Vec<(String, String, String)> = d
        .candidates
        .iter()
        .map(|c| {
            (
                c.addr.to_string(),
                c.origin.clone(),
                c.verdict.to_string_code(),
            )
        })
        .collect();
    let origin = "sh -c \"echo '# addresses'; echo '2001:db8::c  # wan'; echo; echo 203.0.113.12\"";
    assert_eq!(
        got,
        [
            ("2001:db8::c".into(), origin.into(), "selected".into()),
            ("203.0.113.12".into(), origin.into(), "wrong-family".into()),
        ]
    );
}

#[test]
fn command_failures_quote_the_output() {
    let err = rt()
        .block_on(
            command(
                &["sh", "-c", "echo 'no route' >&2; exit 3"],
                Duration::from_secs(5),
            )
            .detect(),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "command sh -c \"echo 'no route' >&2; exit 3\": exited with status 3 (stderr: \"no route\")"
    );
    assert!(err.hint().is_some());
    let err = rt()
        .block_on(command(&["echo", "<html>"], Duration::from_secs(5)).detect())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "command echo \"<html>\": line 1 is not an ip address: \"<html>\""
    );
    let err = rt()
        .block_on(command(&["/nonexistent/prog"], Duration::from_secs(5)).detect())
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("command /nonexistent/prog: could not start: /nonexistent/prog: "),
        "{err}"
    );
}

#[test]
fn command_timeout_kills_and_reaps_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let script = format!(
        "echo $$ > {p}; sleep 30 & echo $! >> {p}; wait",
        p = pids.display()
    );
    let started = std::time::Instant::now();
    let err = rt()
        .block_on(command(&["sh", "-c", &script], Duration::from_millis(500)).detect())
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        err.to_string()
            .ends_with("still running after 0.5s; killed"),
        "{err}"
    );
    let text = std::fs::read_to_string(&pids).unwrap();
    for pid in text.split_whitespace() {
        // Gone entirely: neither running nor a zombie (/proc/PID/stat would show state Z).
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        let mut stat = stat;
        // The grandchild (sleep) is reparented to init, which reaps it shortly after the kill.
        while stat.is_ok() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
        }
        assert!(stat.is_err(), "pid {pid} still exists: {stat:?}");
    }
}

/// See: issue 8 (bounded input). Output beyond the cap stops the reading at once and the
/// command is killed with its group: 1 MiB of addresses, a command that never stops printing
/// (it would grow ddnsd's memory until the timeout without the cap) and endless stderr all
/// fail with an error naming the command, long before the 60 s timeout.
#[test]
fn command_output_is_capped() {
    let cases = [
        (
            vec!["sh", "-c", "yes 2001:db8::1 | head -c 1048576"],
            "sh -c \"yes 2001:db8::1 | head -c 1048576\": printed more than 64 KiB on stdout; killed",
        ),
        (
            vec!["yes", "2001:db8::1"],
            "yes 2001:db8::1: printed more than 64 KiB on stdout; killed",
        ),
        (
            vec!["sh", "-c", "yes oops >&2"],
            "sh -c \"yes oops >&2\": printed more than 64 KiB on stderr; killed",
        ),
    ];
    for (argv, want) in cases {
        let err = rt()
            .block_on(command(&argv, Duration::from_secs(60)).detect())
            .unwrap_err();
        assert_eq!(err.to_string(), format!("command {want}"));
    }
}

#[test]
fn failing_command_source_leaves_the_record_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "c.toml",
        r#"
[daemon]
state_file = "STATE"

[sources.c]
kind = "command"
command = ["sh", "-c", "echo 'no uplink' >&2; exit 2"]

[providers.preview]
kind = "dry-run"

[[records]]
name = "h.example.test"
provider = "preview"
sources = ["c"]
"#
        .replace(
            "STATE",
            &dir.path().join("state.json").display().to_string(),
        )
        .as_str(),
    );
    let mut c = ddnsd();
    c.args(["run", "--once", "-c", &cfg]);
    let (code, stdout, stderr) = output(c);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "h.example.test AAAA -  failed: source c failed; record left as it is\n"
    );
    assert_eq!(
        stderr,
        "error: source c: command sh -c \"echo 'no uplink' >&2; exit 2\": exited with status 2 (stderr: \"no uplink\")\n  hint: run the command by hand as the user ddnsd runs as; it must exit 0 and print one address per line\n"
    );
}

fn composed(ns: &Netns, cfg: &str) -> Vec<(String, String, String)> {
    let mut c = ns.command(env!("CARGO_BIN_EXE_ddnsd"));
    c.args(["detect", "--json", "-c", cfg])
        .env("RUST_BACKTRACE", "0");
    let (code, stdout, stderr) = output(c);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["source"] != "wan")
        .flat_map(|s| {
            let name = s["source"].as_str().unwrap().to_owned();
            s["candidates"].as_array().unwrap().iter().map(move |c| {
                (
                    name.clone(),
                    c["address"].as_str().unwrap().to_owned(),
                    c["origin"].as_str().unwrap().to_owned(),
                )
            })
        })
        .collect()
}

/// Two LAN hosts composed from one interface's prefix follow a renumbering together.
#[test]
fn prefix_sources_follow_the_interface_prefix() {
    let ns = Netns::new();
    ns.add6("vt0", "2001:db8:1::10/64", &["nodad"]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "c.toml",
        r#"
[sources.wan]
kind = "interface"
interface = "vt0"

[sources.nas]
kind = "prefix"
from = "wan"
mac = "06:cd:ba:11:05:35"

[sources.printer]
kind = "prefix"
from = "wan"
suffix = "::1234:5678:9abc:def0"

[providers.preview]
kind = "dry-run"

[[records]]
name = "nas.example.test"
provider = "preview"
sources = ["nas"]

[[records]]
name = "printer.example.test"
provider = "preview"
sources = ["printer"]
"#,
    );
    let want = |n: u8| {
        vec![
            (
                "nas".to_owned(),
                format!("2001:db8:{n}:0:4cd:baff:fe11:535"),
                format!("composed from 2001:db8:{n}::10/64"),
            ),
            (
                "printer".to_owned(),
                format!("2001:db8:{n}:0:1234:5678:9abc:def0"),
                format!("composed from 2001:db8:{n}::10/64"),
            ),
        ]
    };
    assert_eq!(composed(&ns, &cfg), want(1));
    ns.del6("vt0", "2001:db8:1::10/64");
    ns.add6("vt0", "2001:db8:2::10/64", &["nodad"]);
    assert_eq!(composed(&ns, &cfg), want(2));
}

/// Renumbering the interface updates every composed LAN-host record on a real BIND in the
/// same `run --once` pass, and the record of the router itself too.
#[test]
fn prefix_renumbering_updates_every_lan_host_on_bind_in_one_pass() {
    use crate::harness::dns::{BindServer, TestKey, TestZone, KEY_SECRET_B64};
    use hickory_proto::rr::RecordType;

    let ns = Netns::new();
    ns.add6("vt0", "2001:db8:1::10/64", &["nodad"]);
    ns.within(|| {
        let bind = BindServer::start(&TestZone::example(), &TestKey::default());
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(
            dir.path(),
            "c.toml",
            &format!(
                r#"[daemon]
state_file = "{state}"

[sources.wan]
kind = "interface"
interface = "vt0"

[sources.nas]
kind = "prefix"
from = "wan"
mac = "06:cd:ba:11:05:35"

[sources.printer]
kind = "prefix"
from = "wan"
suffix = "::1234:5678:9abc:def0"

[providers.home]
kind = "rfc2136"
server = "{server}"
tsig_name = "ddnsd-key"
tsig_secret_env = "TEST_TSIG"

[[records]]
name = "router.example.test"
provider = "home"
sources = ["wan"]

[[records]]
name = "nas.example.test"
provider = "home"
sources = ["nas"]

[[records]]
name = "printer.example.test"
provider = "home"
sources = ["printer"]
"#,
                state = dir.path().join("state.json").display(),
                server = bind.addr()
            ),
        );
        let run = || {
            let mut c = crate::harness::ddnsd();
            c.env("TEST_TSIG", KEY_SECRET_B64).args(["run", "--once", "-c", &cfg]);
            output(c)
        };
        let served = |name: &str| -> Vec<String> {
            bind.addresses(name, RecordType::AAAA).iter().map(|a| a.to_string()).collect()
        };
        let (code, stdout, stderr) = run();
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert_eq!(served("nas.example.test"), ["2001:db8:1:0:4cd:baff:fe11:535"]);
        assert_eq!(served("printer.example.test"), ["2001:db8:1:0:1234:5678:9abc:def0"]);

        // The ISP hands out a new prefix.
        ns.del6("vt0", "2001:db8:1::10/64");
        ns.add6("vt0", "2001:db8:2::10/64", &["nodad"]);
        let (code, stdout, stderr) = run();
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert_eq!(
            stdout,
            "router.example.test AAAA 2001:db8:2::10  updated (was 2001:db8:1::10)\n\
             nas.example.test AAAA 2001:db8:2:0:4cd:baff:fe11:535  updated (was 2001:db8:1:0:4cd:baff:fe11:535)\n\
             printer.example.test AAAA 2001:db8:2:0:1234:5678:9abc:def0  updated (was 2001:db8:1:0:1234:5678:9abc:def0)\n"
        );
        assert_eq!(served("router.example.test"), ["2001:db8:2::10"]);
        assert_eq!(served("nas.example.test"), ["2001:db8:2:0:4cd:baff:fe11:535"]);
        assert_eq!(served("printer.example.test"), ["2001:db8:2:0:1234:5678:9abc:def0"]);

        // The interface source fails (the interface is gone): every record it feeds stays.
        ns.ip(&["link", "del", "vt0"]);
        let (code, stdout, _) = run();
        assert_eq!(code, 1, "{stdout}");
        assert!(stdout.lines().all(|l| l.contains("record left as it is")), "{stdout}");
        assert_eq!(served("nas.example.test"), ["2001:db8:2:0:4cd:baff:fe11:535"]);
        assert_eq!(served("router.example.test"), ["2001:db8:2::10"]);
    });
}
