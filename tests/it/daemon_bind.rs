//! The daemon end to end: netlink events inside a namespace → RFC 2136 → what a real BIND (in
//! the same namespace) serves. Latencies are printed, not asserted (bench/ measures them).

use std::net::IpAddr;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;

use crate::harness::dns::{BindServer, DnsServer, TestKey, TestZone, KEY_SECRET_B64};
use crate::harness::netns::Netns;
use crate::harness::{ddnsd, write};

const NAME: &str = "host.example.test";

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn served(bind: &DnsServer) -> Vec<IpAddr> {
    bind.addresses(NAME, RecordType::AAAA)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Polls every 10 ms until BIND serves exactly `want`; returns how long it took.
fn wait_served(bind: &DnsServer, want: &[&str], limit: Duration) -> Duration {
    let want: Vec<IpAddr> = want.iter().map(|a| ip(a)).collect();
    let start = Instant::now();
    while start.elapsed() < limit {
        if served(bind) == want {
            return start.elapsed();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!(
        "bind did not serve {want:?} within {limit:?}; it serves {:?}",
        served(bind)
    );
}

#[test]
fn daemon_follows_address_changes_on_bind() {
    let ns = Netns::new();
    ns.add6("vt0", "2001:db8:1::1/64", &["nodad"]);
    ns.within(|| {
        let bind = BindServer::start(&TestZone::example(), &TestKey::default());
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(
            dir.path(),
            "ddnsd.toml",
            &format!(
                r#"[daemon]
state_file = "{state}"
debounce = "300ms"

[sources.wan6]
kind = "interface"
interface = "vt0"

[providers.home]
kind = "rfc2136"
server = "{server}"
zone = "example.test"
tsig_name = "ddnsd-key"
tsig_secret_env = "TEST_TSIG"

[[records]]
name = "{NAME}"
provider = "home"
sources = ["wan6"]
ttl = 60
"#,
                state = dir.path().join("state.json").display(),
                server = bind.addr()
            ),
        );
        let mut c = ddnsd();
        c.env("TEST_TSIG", KEY_SECRET_B64)
            .args(["run", "-c", &cfg])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut daemon = Running(c.spawn().unwrap());

        // Start-up pass.
        wait_served(&bind, &["2001:db8:1::1"], Duration::from_secs(10));

        // A new address arrives and the old one is deprecated.
        let t0 = Instant::now();
        ns.add6("vt0", "2001:db8:1::2/64", &["nodad"]);
        ns.deprecate6("vt0", "2001:db8:1::1/64");
        wait_served(&bind, &["2001:db8:1::2"], Duration::from_secs(10));
        eprintln!(
            "address change → served by bind: {} ms (debounce 300 ms)",
            t0.elapsed().as_millis()
        );

        // Removed, then a new address with duplicate address detection: never published while
        // tentative; published once usable.
        ns.del6("vt0", "2001:db8:1::2/64");
        let t1 = Instant::now();
        ns.add6("vt0", "2001:db8:1::3/64", &[]);
        let mut was_tentative = false;
        loop {
            assert!(
                t1.elapsed() < Duration::from_secs(10),
                "2001:db8:1::3 never published: {:?}",
                served(&bind)
            );
            let now_served = served(&bind) == [ip("2001:db8:1::3")];
            // Read the kernel's state after bind's: if it still says tentative, ddnsd
            // published too early.
            let tentative = ns.is_tentative("2001:db8:1::3");
            was_tentative |= tentative;
            if now_served {
                assert!(!tentative, "published while still tentative");
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            was_tentative,
            "the address was never seen tentative: the test proved nothing"
        );
        eprintln!(
            "address with DAD → served by bind: {} ms",
            t1.elapsed().as_millis()
        );

        // A burst of 20 changes of the selected address within a second: a few UPDATEs, and
        // the last address wins.
        let serial = bind.soa_serial();
        let t2 = Instant::now();
        // Each step replaces the published address (a published address is kept while it
        // stays usable, so an address merely added beside it would change nothing).
        let mut prev = "2001:db8:1::3/64".to_owned();
        for i in 0..20u32 {
            let next = format!("2001:db8::{:x}/64", 0x2f - i);
            ns.add6("vt0", &next, &["nodad"]);
            ns.del6("vt0", &prev);
            prev = next;
        }
        assert!(
            t2.elapsed() < Duration::from_secs(1),
            "the burst took {:?}",
            t2.elapsed()
        );
        wait_served(&bind, &["2001:db8::1c"], Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(800));
        let updates = bind.soa_serial() - serial;
        eprintln!(
            "20 changes in {} ms → {updates} UPDATE(s)",
            t2.elapsed().as_millis()
        );
        assert!(
            (1..=4).contains(&updates),
            "{updates} UPDATEs for one burst"
        );

        // SIGTERM: clean exit 0.
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(daemon.0.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(s) = daemon.0.try_wait().unwrap() {
                break s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(6),
                "no exit within 6 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{status}");
    });
}
