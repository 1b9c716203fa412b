//! Network namespaces made by the tests themselves: a namespace with a veth pair, deleted on
//! Drop. This kernel has no dummy links, so veth it is.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A network namespace holding `lo` and a veth pair `vt0` <-> `vt1`, both up.
pub struct Netns {
    /// The namespace's name.
    pub name: String,
}

impl Netns {
    /// Creates the namespace. Fails (never skips) when namespaces are not available.
    pub fn new() -> Netns {
        let ns = Netns::bare();
        ns.ip(&["link", "add", "vt0", "type", "veth", "peer", "name", "vt1"]);
        ns.ip(&["link", "set", "vt0", "up"]);
        ns.ip(&["link", "set", "vt1", "up"]);
        ns
    }

    /// A namespace holding only `lo` (up). Fails (never skips) when namespaces are not
    /// available.
    pub fn bare() -> Netns {
        let name = format!(
            "ddnsd-t{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        run_ok(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns { name };
        // The namespace is an empty resolver world too: nothing in a test may resolve a
        // public name (ip netns exec bind-mounts /etc/netns/NAME/resolv.conf).
        let etc = format!("/etc/netns/{}", ns.name);
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(format!("{etc}/resolv.conf"), "nameserver 127.0.0.1\n").unwrap();
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip -n NS ARGS…`, which must succeed.
    pub fn ip(&self, args: &[&str]) {
        let mut c = Command::new("ip");
        c.args(["-n", &self.name]).args(args);
        run_ok(&mut c);
    }

    /// `ip -6 addr add CIDR dev DEV FLAGS…` (flags such as `nodad`, `mngtmpaddr`, lifetimes).
    pub fn add6(&self, dev: &str, cidr: &str, flags: &[&str]) {
        let mut args = vec!["-6", "addr", "add", cidr, "dev", dev];
        args.extend_from_slice(flags);
        self.ip(&args);
    }

    /// `ip -6 addr del CIDR dev DEV`.
    pub fn del6(&self, dev: &str, cidr: &str) {
        self.ip(&["-6", "addr", "del", cidr, "dev", dev]);
    }

    /// Deprecates an address the way a prefix going stale does: preferred lifetime 0, still
    /// valid for 600 s (without `valid_lft` the kernel would reset it to forever).
    pub fn deprecate6(&self, dev: &str, cidr: &str) {
        self.ip(&[
            "-6",
            "addr",
            "change",
            cidr,
            "dev",
            dev,
            "valid_lft",
            "600",
            "preferred_lft",
            "0",
        ]);
    }

    /// `ip -n NS -batch -`: many commands (one per line, without the leading `ip`) in one
    /// process, so a flood of changes reaches the kernel within milliseconds.
    pub fn batch(&self, commands: &str) {
        use std::io::Write;
        let mut child = Command::new("ip")
            .args(["-n", &self.name, "-batch", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run ip -batch: {e}"));
        child
            .stdin
            .take()
            .unwrap()
            .write_all(commands.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "ip -batch failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `sysctl -w KEY=VALUE` inside the namespace.
    pub fn sysctl(&self, kv: &str) {
        run_ok(Command::new("ip").args(["netns", "exec", &self.name, "sysctl", "-q", "-w", kv]));
    }

    /// A command that runs `program` inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// A TCP listener bound to `addr` inside the namespace (the socket stays in the namespace
    /// it was created in, so the test can serve it from any thread).
    pub fn bind_tcp(&self, addr: &str) -> std::net::TcpListener {
        let path = format!("/run/netns/{}", self.name);
        let addr = addr.to_owned();
        std::thread::spawn(move || {
            let ns = std::fs::File::open(&path).unwrap();
            nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            std::net::TcpListener::bind(addr.as_str()).unwrap()
        })
        .join()
        .unwrap()
    }

    /// A UDP socket bound to `addr` inside the namespace (e.g. a resolver that never answers).
    pub fn bind_udp(&self, addr: &str) -> std::net::UdpSocket {
        let path = format!("/run/netns/{}", self.name);
        let addr = addr.to_owned();
        std::thread::spawn(move || {
            let ns = std::fs::File::open(&path).unwrap();
            nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            std::net::UdpSocket::bind(addr.as_str()).unwrap()
        })
        .join()
        .unwrap()
    }

    /// Writes `/etc/netns/NAME/FILE`, which `ip netns exec` bind-mounts over `/etc/FILE`.
    pub fn etc(&self, file: &str, text: &str) {
        std::fs::write(format!("/etc/netns/{}/{file}", self.name), text).unwrap();
    }

    /// `ip -6 addr show` output for the namespace (for diagnostics and waiting).
    pub fn addrs(&self) -> String {
        let out = Command::new("ip")
            .args(["-n", &self.name, "-6", "addr", "show"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// True while `addr` is still doing duplicate address detection.
    pub fn is_tentative(&self, addr: &str) -> bool {
        self.addrs()
            .lines()
            .any(|l| l.contains(&format!("{addr}/")) && l.contains("tentative"))
    }

    /// Waits until `pred(ip -6 addr show)` holds, up to `limit`; returns whether it did.
    pub fn wait_addrs(&self, limit: Duration, pred: impl Fn(&str) -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if pred(&self.addrs()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
        let _ = std::fs::remove_dir_all(format!("/etc/netns/{}", self.name));
    }
}

fn run_ok(c: &mut Command) -> Output {
    let out = c.output().unwrap_or_else(|e| {
        panic!(
            "cannot run {c:?}: {e} (run the tests as root with iproute2: scripts/test installs it)"
        )
    });
    assert!(
        out.status.success(),
        "{c:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Netns {
    /// Runs `f` on a thread that has entered the namespace: sockets it opens and processes it
    /// spawns (servers, ddnsd) live in the namespace, so a whole scenario can run there.
    pub fn within<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::scope(|s| {
            s.spawn(|| {
                let fd = std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
                nix::sched::setns(&fd, nix::sched::CloneFlags::CLONE_NEWNET)
                    .unwrap_or_else(|e| panic!("setns into {path}: {e}"));
                f()
            })
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }
}
