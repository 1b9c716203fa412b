//! A LAN behind a router, made of network namespaces (issue 12): the router namespace holds a
//! bridge `br-lan` and runs radvd (Debian's package) advertising the LAN prefix; each host is a
//! namespace whose `eth0` is a veth into the bridge, with a fixed MAC `52:54:00:00:00:NN`.
//! Everything is deleted (and radvd killed) on Drop. Fails, never skips, without namespaces
//! or radvd.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::netns::Netns;

/// The router namespace, the hosts and radvd.
pub struct LanLab {
    /// The router (bridge `br-lan`).
    pub router: Netns,
    /// The hosts, each with `eth0` on the bridge.
    pub hosts: Vec<Netns>,
    radvd: std::sync::Mutex<Option<Child>>,
    dir: TempDir,
}

/// How a host forms its SLAAC addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKind {
    /// Modified EUI-64 (addr_gen_mode 0) with temporary addresses it prefers
    /// (use_tempaddr 2): it answers the probe from a temporary address.
    Eui64,
    /// Stable privacy with a random secret (addr_gen_mode 3), temporary addresses generated
    /// but not preferred (use_tempaddr 1).
    StablePrivacy,
    /// Stable privacy with a configured secret (`stable_secret`, addr_gen_mode 2: what
    /// NetworkManager and systemd-networkd set up), temporary addresses not preferred.
    StableSecret,
    /// No SLAAC (accept_ra 0): the test gives it a fixed address.
    Static,
}

impl LanLab {
    /// The router and one host per kind, hosts numbered from 1.
    pub fn new(kinds: &[HostKind]) -> LanLab {
        let router = Netns::bare();
        router.ip(&["link", "add", "br-lan", "type", "bridge"]);
        router.ip(&["link", "set", "br-lan", "up"]);
        // radvd refuses to advertise without forwarding.
        router.sysctl("net.ipv6.conf.all.forwarding=1");
        let mut hosts = Vec::new();
        for (i, kind) in kinds.iter().enumerate() {
            let n = i + 1;
            let host = Netns::bare();
            let port = format!("lan{n}");
            router.ip(&[
                "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &host.name,
            ]);
            router.ip(&["link", "set", &port, "master", "br-lan", "up"]);
            host.ip(&["link", "set", "eth0", "address", &Self::mac_of(n)]);
            match kind {
                HostKind::Eui64 => {
                    host.sysctl("net.ipv6.conf.eth0.addr_gen_mode=0");
                    host.sysctl("net.ipv6.conf.eth0.use_tempaddr=2");
                }
                HostKind::StablePrivacy => {
                    host.sysctl("net.ipv6.conf.eth0.addr_gen_mode=3");
                    host.sysctl("net.ipv6.conf.eth0.use_tempaddr=1");
                }
                HostKind::StableSecret => {
                    // The secret is written in address notation; each host gets its own.
                    host.sysctl(&format!(
                        "net.ipv6.conf.eth0.stable_secret=2001:db8:5ec:{n:x}::5ec"
                    ));
                    host.sysctl("net.ipv6.conf.eth0.addr_gen_mode=2");
                    host.sysctl("net.ipv6.conf.eth0.use_tempaddr=1");
                }
                HostKind::Static => host.sysctl("net.ipv6.conf.eth0.accept_ra=0"),
            }
            host.ip(&["link", "set", "eth0", "up"]);
            hosts.push(host);
        }
        LanLab {
            router,
            hosts,
            radvd: std::sync::Mutex::new(None),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The MAC of host `n` (from 1).
    pub fn mac_of(n: usize) -> String {
        format!("52:54:00:00:00:{n:02x}")
    }

    /// Advertises `prefixes` (`(PREFIX/64, preferred, valid)`) on br-lan: starts radvd, or
    /// makes the running one re-read its config (SIGHUP), which advertises at once.
    pub fn advertise(&self, prefixes: &[(&str, u32, u32)]) {
        let mut conf = String::from(
            "interface br-lan {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n",
        );
        for (p, pref, valid) in prefixes {
            conf += &format!(
                "  prefix {p} {{ AdvOnLink on; AdvAutonomous on; AdvPreferredLifetime {pref}; AdvValidLifetime {valid}; }};\n"
            );
        }
        conf += "};\n";
        let path = self.dir.path().join("radvd.conf");
        std::fs::write(&path, conf).unwrap();
        let mut radvd = self.radvd.lock().unwrap();
        match &*radvd {
            Some(child) => nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGHUP,
            )
            .unwrap(),
            None => {
                let mut c = self.router.command("radvd");
                c.args(["-n", "-C"])
                    .arg(&path)
                    .arg("-p")
                    .arg(self.dir.path().join("radvd.pid"))
                    .args(["-m", "stderr"])
                    .stdout(Stdio::null())
                    .stderr(std::fs::File::create(self.dir.path().join("radvd.log")).unwrap());
                *radvd = Some(c.spawn().unwrap_or_else(|e| {
                    panic!("cannot run radvd: {e} (scripts/test installs Debian's radvd)")
                }));
            }
        }
    }

    /// `ip -6 addr show dev eth0` of host `n` (from 1).
    pub fn host_addrs(&self, n: usize) -> String {
        let out = Command::new("ip")
            .args([
                "-n",
                &self.hosts[n - 1].name,
                "-6",
                "addr",
                "show",
                "dev",
                "eth0",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Host `n`'s global addresses in `prefix` (e.g. `2001:db8:1:`), `(address, temporary)`,
    /// once usable (not tentative).
    pub fn global(&self, n: usize, prefix: &str) -> Vec<(String, bool)> {
        self.host_addrs(n)
            .lines()
            .filter(|l| l.contains("inet6 ") && l.contains("scope global"))
            .filter(|l| !l.contains("tentative"))
            .filter_map(|l| {
                let a = l.split_whitespace().nth(1)?.split('/').next()?.to_owned();
                a.starts_with(prefix).then(|| (a, l.contains("temporary")))
            })
            .collect()
    }

    /// Waits until every SLAAC host has a usable stable and temporary address in `prefix`.
    pub fn wait_slaac(&self, kinds: &[HostKind], prefix: &str, limit: Duration) {
        let start = Instant::now();
        loop {
            let ready = kinds.iter().enumerate().all(|(i, k)| {
                let g = self.global(i + 1, prefix);
                *k == HostKind::Static || (g.iter().any(|(_, t)| *t) && g.iter().any(|(_, t)| !*t))
            });
            if ready {
                return;
            }
            assert!(
                start.elapsed() < limit,
                "hosts did not form addresses in {prefix} within {limit:?}:\n{}",
                (1..=kinds.len())
                    .map(|n| self.host_addrs(n))
                    .collect::<String>()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Makes host `n` send a UDP datagram from `from` to the router's `to`: the router
    /// answers with an ICMPv6 port unreachable, which makes it resolve `from` (a neighbour
    /// entry), as any conversation from that address would.
    pub fn talk_from(&self, n: usize, from: &str, to: &str) {
        let sock = self.hosts[n - 1].bind_udp(&format!("[{from}]:0"));
        sock.send_to(b"hello", format!("[{to}]:9")).unwrap();
    }
}

impl Drop for LanLab {
    fn drop(&mut self) {
        if let Some(mut c) = self.radvd.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
