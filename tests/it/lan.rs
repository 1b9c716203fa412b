//! Publishing the devices behind a router (issue 12), end to end in namespaces: a bridge with
//! four hosts (EUI-64 with preferred temporary addresses, stable privacy with a random secret
//! (addr_gen_mode 3) and with a configured one (addr_gen_mode 2), both with temporary
//! addresses, and a static one named through a DHCP lease), radvd advertising the prefix, and
//! ddnsd in the router namespace publishing to a real BIND over RFC 2136.

use std::net::IpAddr;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;

use crate::harness::dns::{BindServer, DnsServer, TestKey, TestZone, KEY_SECRET_B64};
use crate::harness::lan::{HostKind, LanLab};
use crate::harness::{ddnsd, output, write};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const KINDS: [HostKind; 4] = [
    HostKind::Eui64,
    HostKind::StablePrivacy,
    HostKind::Static,
    HostKind::StableSecret,
];
const P1: &str = "2001:db8:1:";
const P2: &str = "2001:db8:2:";

fn config(dir: &std::path::Path, bind: &DnsServer, leases: &str) -> String {
    write(
        dir,
        "ddnsd.toml",
        &format!(
            r#"[daemon]
state_file = "{state}"
debounce = "200ms"

[sources.lan6]
kind = "interface"
interface = "br-lan"

[sources.h1]
kind = "neighbors"
interface = "br-lan"
from = "lan6"
mac = "{mac1}"

[sources.h2]
kind = "neighbors"
interface = "br-lan"
from = "lan6"
mac = "{mac2}"

[sources.h3]
kind = "neighbors"
interface = "br-lan"
from = "lan6"
hostname = "printer"
leases = "{leases}"
leases_format = "dnsmasq"

[sources.h4]
kind = "neighbors"
interface = "br-lan"
from = "lan6"
mac = "{mac4}"

[providers.home]
kind = "rfc2136"
server = "{server}"
zone = "example.test"
tsig_name = "ddnsd-key"
tsig_secret_env = "TEST_TSIG"

[[records]]
name = "h1.example.test"
provider = "home"
sources = ["h1"]
ttl = 60

[[records]]
name = "h2.example.test"
provider = "home"
sources = ["h2"]
ttl = 60

[[records]]
name = "h3.example.test"
provider = "home"
sources = ["h3"]
ttl = 60

[[records]]
name = "h4.example.test"
provider = "home"
sources = ["h4"]
ttl = 60
"#,
            state = dir.join("state.json").display(),
            server = bind.addr(),
            mac1 = LanLab::mac_of(1),
            mac2 = LanLab::mac_of(2),
            mac4 = LanLab::mac_of(4),
        ),
    )
}

/// What BIND serves for h1..h4, checking on every look that no temporary address of any host
/// is served.
fn served(lab: &LanLab, bind: &DnsServer) -> Vec<Vec<IpAddr>> {
    let temporaries: Vec<IpAddr> = (1..=KINDS.len())
        .flat_map(|n| lab.global(n, "2001:db8:"))
        .filter(|(_, temp)| *temp)
        .map(|(a, _)| a.parse().unwrap())
        .collect();
    let got: Vec<Vec<IpAddr>> = (1..=KINDS.len())
        .map(|n| bind.addresses(&format!("h{n}.example.test"), RecordType::AAAA))
        .collect();
    for (n, addrs) in got.iter().enumerate() {
        for a in addrs {
            assert!(
                !temporaries.contains(a),
                "h{} is served a temporary address {a}:\n{}",
                n + 1,
                lab.host_addrs(n + 1)
            );
        }
    }
    got
}

fn wait_served(lab: &LanLab, bind: &DnsServer, want: &[String; 4], limit: Duration) -> Duration {
    let want: Vec<Vec<IpAddr>> = want.iter().map(|a| vec![a.parse().unwrap()]).collect();
    let start = Instant::now();
    loop {
        let got = served(lab, bind);
        if got == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "bind did not serve {want:?} within {limit:?}; it serves {got:?}; router's neighbours:\n{}",
            neighbours(&lab.router.name)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The stable (non-temporary) address host `n` has in `prefix`.
fn stable(lab: &LanLab, n: usize, prefix: &str) -> String {
    let list: Vec<String> = lab
        .global(n, prefix)
        .into_iter()
        .filter(|(_, t)| !t)
        .map(|(a, _)| a)
        .collect();
    assert_eq!(list.len(), 1, "host {n}: {}", lab.host_addrs(n));
    list[0].clone()
}

fn temporary(lab: &LanLab, n: usize, prefix: &str) -> String {
    lab.global(n, prefix)
        .into_iter()
        .find(|(_, t)| *t)
        .map(|(a, _)| a)
        .unwrap_or_else(|| panic!("host {n} has no temporary address: {}", lab.host_addrs(n)))
}

/// See: issue 12. Every host's record follows a renumbering in one pass (the probe fills the
/// neighbour table), temporary addresses are never published (checked on every look at
/// BIND), and `ddnsd detect` explains each verdict.
#[test]
fn lan_hosts_follow_a_renumbering_in_one_pass() {
    let lab = LanLab::new(&KINDS);
    lab.router.add6("br-lan", "2001:db8:1::1/64", &["nodad"]);
    lab.hosts[2].add6("eth0", "2001:db8:1::53/64", &["nodad"]);
    lab.advertise(&[("2001:db8:1::/64", 300, 600)]);
    lab.wait_slaac(&KINDS, P1, Duration::from_secs(15));
    let dir = tempfile::tempdir().unwrap();
    // The static host is named through a DHCP lease (its MAC in a DHCPv4 lease of dnsmasq).
    let leases = write(
        dir.path(),
        "dnsmasq.leases",
        &format!("0 {} 192.168.1.53 printer *\n", LanLab::mac_of(3)),
    );
    let log_path = dir.path().join("ddnsd.log");
    let cfg = lab.router.within(|| {
        let bind = BindServer::start(&TestZone::example(), &TestKey::default());
        let cfg = config(dir.path(), &bind, &leases);
        let mut c = ddnsd();
        c.env("TEST_TSIG", KEY_SECRET_B64)
            .args(["--log-format", "json", "run", "-c", &cfg])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap());
        let _daemon = Running(c.spawn().unwrap());

        let want = [
            stable(&lab, 1, P1),
            stable(&lab, 2, P1),
            "2001:db8:1::53".to_owned(),
            stable(&lab, 4, P1),
        ];
        assert!(want[0].ends_with(":5054:ff:fe00:1"), "{}", want[0]);
        // Stable privacy took effect on h2 and h4 (no EUI-64 interface ID there).
        for n in [1, 3] {
            assert!(!want[n].contains("ff:fe"), "h{}: {}", n + 1, want[n]);
        }
        let took = wait_served(&lab, &bind, &want, Duration::from_secs(15));
        eprintln!("start-up: all four served after {} ms", took.as_millis());

        // Host 2 talks from its temporary address: the router learns it, and it stays
        // unpublished (seen after the stable one).
        let t2 = temporary(&lab, 2, P1);
        lab.talk_from(2, &t2, "2001:db8:1::1");
        let start = Instant::now();
        while !neighbours(&lab.router.name).contains(&t2) {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{t2} never in the neighbour table"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(600));
        wait_served(&lab, &bind, &want, Duration::from_secs(1));

        // Renumbering: the router takes 2001:db8:2::1 (and deprecates 2001:db8:1::1), radvd
        // advertises the new prefix and deprecates the old one, the static host moves too.
        let t0 = Instant::now();
        lab.hosts[2].add6("eth0", "2001:db8:2::53/64", &["nodad"]);
        lab.hosts[2].del6("eth0", "2001:db8:1::53/64");
        lab.advertise(&[("2001:db8:2::/64", 300, 600), ("2001:db8:1::/64", 0, 600)]);
        lab.router.add6("br-lan", "2001:db8:2::1/64", &["nodad"]);
        lab.router.deprecate6("br-lan", "2001:db8:1::1/64");
        lab.wait_slaac(&KINDS, P2, Duration::from_secs(15));
        let want = [
            stable(&lab, 1, P2),
            stable(&lab, 2, P2),
            "2001:db8:2::53".to_owned(),
            stable(&lab, 4, P2),
        ];
        wait_served(&lab, &bind, &want, Duration::from_secs(15));
        eprintln!(
            "renumbering → all four names serve the new prefix: {} ms",
            t0.elapsed().as_millis()
        );
        // Host 1 talks from its new temporary address: never published either (its EUI-64
        // address is its stable one).
        let t1 = temporary(&lab, 1, P2);
        lab.talk_from(1, &t1, "2001:db8:2::1");
        let start = Instant::now();
        while !neighbours(&lab.router.name).contains(&t1) {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{t1} never in the neighbour table"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(500));
        wait_served(&lab, &bind, &want, Duration::from_secs(1));
        cfg
    });
    let log = std::fs::read_to_string(&log_path).unwrap();

    // One pass moved all four records.
    let passes: Vec<String> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["fields"]["message"].as_str().map(str::to_owned))
        .filter(|m| m.starts_with("pass finished: "))
        .collect();
    assert!(
        passes
            .iter()
            .filter(|m| m.starts_with("pass finished: 4 changed"))
            .count()
            >= 2,
        "start-up and renumbering should each move all four records in one pass: {passes:#?}"
    );

    // `detect` explains each verdict: the EUI-64 choice, the temporary-looking address.
    let mut c = lab.router.command(env!("CARGO_BIN_EXE_ddnsd"));
    c.args(["detect", "-c", &cfg])
        .env("TEST_TSIG", KEY_SECRET_B64);
    let (code, out, err) = output(c);
    assert_eq!(code, 0, "{out}{err}");
    let h1 = section(&out, "h1");
    assert!(
        h1.lines().any(|l| l.contains(":5054:ff:fe00:1 ")
            && l.contains("selected [mac 52:54:00:00:00:01")
            && l.ends_with("EUI-64 of its MAC]")),
        "{out}"
    );
    assert!(
        h1.lines().any(|l| l.contains(
            "skipped: temporary-looking: another address of this host is its stable one"
        ) && l.contains("is preferred]")),
        "{out}"
    );
    let h2 = section(&out, "h2");
    assert!(
        h2.lines().any(|l| l.contains(P1)
            && l.contains("skipped: outside the current prefix of the `from` source")),
        "{out}"
    );
}

/// The lines of one source in `detect` output.
fn section(out: &str, source: &str) -> String {
    let head = format!("source {source}:");
    out.lines()
        .skip_while(|l| *l != head)
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn neighbours(ns: &str) -> String {
    let out = std::process::Command::new("ip")
        .args(["-n", ns, "-6", "neigh", "show"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// See: issue 12. A lease appended to the file (as dnsmasq does) is published at once: the
/// daemon watches the file with inotify. The latency is printed, not asserted.
#[test]
fn a_new_lease_is_published_at_once() {
    let ns = crate::harness::netns::Netns::bare();
    ns.within(|| {
        let bind = BindServer::start(&TestZone::example(), &TestKey::default());
        let dir = tempfile::tempdir().unwrap();
        let leases = write(
            dir.path(),
            "dnsmasq.leases",
            "duid 00:01:00:01:2b:1a:2c:3d:52:54:00:00:00:01\n0 1 2001:db8:1::10 other 00:03:00:01:52:54:00:00:00:10\n",
        );
        let cfg = write(
            dir.path(),
            "ddnsd.toml",
            &format!(
                r#"[daemon]
state_file = "{state}"
debounce = "200ms"

[sources.nas]
kind = "leases"
file = "{leases}"
format = "dnsmasq"
hostname = "nas"

[providers.home]
kind = "rfc2136"
server = "{server}"
zone = "example.test"
tsig_name = "ddnsd-key"
tsig_secret_env = "TEST_TSIG"

[[records]]
name = "nas.example.test"
provider = "home"
sources = ["nas"]
ttl = "auto"
on_gone = "delete"
grace = "2s"
"#,
                state = dir.path().join("state.json").display(),
                server = bind.addr(),
            ),
        );
        let mut c = ddnsd();
        c.env("TEST_TSIG", KEY_SECRET_B64)
            .args(["run", "-c", &cfg])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _daemon = Running(c.spawn().unwrap());
        // Let the start-up pass run (nothing to publish yet).
        std::thread::sleep(Duration::from_millis(700));
        assert!(bind.addresses("nas.example.test", RecordType::AAAA).is_empty());
        let expiry = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 100;
        let t0 = Instant::now();
        {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&leases).unwrap();
            writeln!(f, "{expiry} 7 2001:db8:1::77 nas 00:03:00:01:52:54:00:00:00:77").unwrap();
        }
        let want: Vec<IpAddr> = vec!["2001:db8:1::77".parse().unwrap()];
        while bind.addresses("nas.example.test", RecordType::AAAA) != want {
            assert!(t0.elapsed() < Duration::from_secs(10), "the new lease was never published");
            std::thread::sleep(Duration::from_millis(5));
        }
        eprintln!("lease appended → served by bind: {} ms", t0.elapsed().as_millis());
        // ttl = "auto": the lease has 100 s left, so the TTL is the 60 s step.
        assert_eq!(bind.ttls("nas.example.test", RecordType::AAAA), [60]);

        // The lease goes away (the file is rewritten without it): on_gone = "delete" keeps
        // the record for its 2 s grace, then withdraws it — woken by the grace timer alone.
        std::fs::write(
            &leases,
            "duid 00:01:00:01:2b:1a:2c:3d:52:54:00:00:00:01\n0 1 2001:db8:1::10 other 00:03:00:01:52:54:00:00:00:10\n",
        )
        .unwrap();
        let t1 = Instant::now();
        std::thread::sleep(Duration::from_millis(800));
        assert_eq!(
            bind.addresses("nas.example.test", RecordType::AAAA),
            want,
            "withdrawn before its grace"
        );
        while !bind.addresses("nas.example.test", RecordType::AAAA).is_empty() {
            assert!(t1.elapsed() < Duration::from_secs(10), "never withdrawn");
            std::thread::sleep(Duration::from_millis(20));
        }
        let took = t1.elapsed();
        eprintln!("lease gone → withdrawn after {} ms (grace 2 s)", took.as_millis());
        // The grace starts with the first pass without an address, after t1: never earlier.
        assert!(took >= Duration::from_secs(2), "withdrawn after {took:?}, before its grace");
    });
}
