//! The daemon as a process: netlink-triggered passes inside a network namespace, forking,
//! sd_notify, SIGHUP reload, the `run --once` lock, and the systemd units.
//!
//! Namespace tests need root and `ip`; they fail (not skip) without them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use crate::harness::netns::Netns;

const BIN: &str = env!("CARGO_BIN_EXE_ddnsd");

fn sh(args: &[&str]) {
    let st = Command::new(args[0]).args(&args[1..]).status().unwrap();
    assert!(st.success(), "{args:?} failed");
}

/// A daemon process whose JSON log lines arrive on a channel with their arrival time; killed
/// on drop.
struct Daemon {
    child: Child,
    lines: Receiver<(Instant, serde_json::Value)>,
    seen: Vec<(Instant, serde_json::Value)>,
}

impl Daemon {
    fn spawn(mut cmd: Command) -> Daemon {
        let mut child = cmd
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let v = serde_json::from_str(&line).unwrap_or(serde_json::Value::String(line));
                if tx.send((Instant::now(), v)).is_err() {
                    break;
                }
            }
        });
        Daemon {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits up to `within` for a log line matching `pred`; returns its arrival time.
    fn wait_for(
        &mut self,
        within: Duration,
        what: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> Instant {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((t, v)) => {
                    self.seen.push((t, v.clone()));
                    if pred(&v) {
                        return t;
                    }
                }
                Err(_) => panic!(
                    "no log line {what} within {within:?}; saw:\n{:#?}",
                    self.seen
                ),
            }
        }
    }

    /// Collects the lines arriving during `d`.
    fn collect(&mut self, d: Duration) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + d;
        let mut out = Vec::new();
        while let Ok((t, v)) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push((t, v.clone()));
            out.push(v);
        }
        out
    }

    fn signal(&self, sig: &str) {
        sh(&["kill", &format!("-{sig}"), &self.child.id().to_string()]);
    }

    fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not exit within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn message(v: &serde_json::Value) -> &str {
    v["fields"]["message"].as_str().unwrap_or("")
}

fn is_pass(v: &serde_json::Value) -> bool {
    message(v).starts_with("pass finished")
}

fn record_with(v: &serde_json::Value, name: &str, addr: &str) -> bool {
    v["fields"]["name"].as_str() == Some(name)
        && v["fields"]["addrs"]
            .as_str()
            .is_some_and(|a| a.split(',').any(|x| x == addr))
}

fn interface_config(dir: &Path) -> PathBuf {
    let cfg = dir.join("ddnsd.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"[daemon]
debounce = "300ms"
state_file = "{}/state.json"

[sources.wan6]
kind = "interface"
interface = "vt0"
family = "ipv6"

[providers.p]
kind = "dry-run"

[[records]]
name = "host.example.test"
provider = "p"
sources = ["wan6"]
"#,
            dir.display()
        ),
    )
    .unwrap();
    cfg
}

fn static_config(dir: &Path, file: &str, name: &str) -> PathBuf {
    let cfg = dir.join(file);
    std::fs::write(
        &cfg,
        format!(
            r#"[daemon]
state_file = "{}/state.json"

[sources.fixed]
kind = "static"
addresses = ["2001:db8::1"]

[providers.p]
kind = "dry-run"

[[records]]
name = "{name}"
provider = "p"
sources = ["fixed"]
"#,
            dir.display()
        ),
    )
    .unwrap();
    cfg
}

fn start_in(ns: &Netns, cfg: &Path) -> Daemon {
    let mut c = ns.command(BIN);
    c.args(["--log-format", "json", "run", "-c"])
        .arg(cfg)
        .env("RUST_BACKTRACE", "0");
    Daemon::spawn(c)
}

#[test]
fn address_change_is_published_within_seconds() {
    let ns = Netns::new();
    let dir = tempfile::tempdir().unwrap();
    ns.add6("vt0", "2001:db8:1::1/64", &["nodad"]);
    let mut d = start_in(&ns, &interface_config(dir.path()));
    d.wait_for(Duration::from_secs(10), "for the start-up record", |v| {
        record_with(v, "host.example.test", "2001:db8:1::1")
    });

    let t0 = Instant::now();
    ns.add6("vt0", "2001:db8:1::2/64", &["nodad"]);
    ns.deprecate6("vt0", "2001:db8:1::1/64");
    let t = d.wait_for(Duration::from_secs(10), "with the new address", |v| {
        record_with(v, "host.example.test", "2001:db8:1::2")
            && !record_with(v, "host.example.test", "2001:db8:1::1")
    });
    eprintln!("address change → publish line: {} ms", (t - t0).as_millis());
}

#[test]
fn a_tentative_address_is_published_only_after_dad() {
    let ns = Netns::new();
    let dir = tempfile::tempdir().unwrap();
    ns.add6("vt0", "2001:db8:1::1/64", &["nodad"]);
    let mut d = start_in(&ns, &interface_config(dir.path()));
    d.wait_for(Duration::from_secs(10), "for the start-up record", |v| {
        record_with(v, "host.example.test", "2001:db8:1::1")
    });

    // Remove it and add it back with duplicate address detection.
    ns.del6("vt0", "2001:db8:1::1/64");
    ns.add6("vt0", "2001:db8:1::1/64", &[]);
    let t_add = Instant::now();
    let mut t_usable = None;
    // Watch DAD finish from outside while the daemon works.
    let deadline = t_add + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !ns.is_tentative("2001:db8:1::1") {
            t_usable = Some(Instant::now());
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let t_usable = t_usable.expect("address stayed tentative");
    let t = d.wait_for(
        Duration::from_secs(10),
        "with the DAD-checked address",
        |v| record_with(v, "host.example.test", "2001:db8:1::1"),
    );
    // The poll sees DAD's end up to one poll period (plus the `ip` run) late.
    assert!(
        t + Duration::from_millis(200) >= t_usable,
        "published {} ms before DAD finished",
        (t_usable - t).as_millis()
    );
    assert!(
        d.seen
            .iter()
            .any(|(at, v)| *at > t_add && *at < t && is_pass(v)),
        "a pass ran while the address was tentative"
    );
    eprintln!(
        "tentative add → usable {} ms → publish line {} ms",
        (t_usable - t_add).as_millis(),
        (t - t_add).as_millis()
    );
}

#[test]
fn twenty_changes_in_a_second_make_few_passes() {
    let ns = Netns::new();
    let dir = tempfile::tempdir().unwrap();
    ns.add6("vt0", "2001:db8:1::1/64", &["nodad"]);
    let mut d = start_in(&ns, &interface_config(dir.path()));
    d.wait_for(Duration::from_secs(10), "for the start-up pass", is_pass);
    // One `ip -batch` process, so the 20 changes really land within a second.
    let batch = dir.path().join("burst.ip");
    let cmds: String = (0..20)
        .map(|i| format!("addr add 2001:db8:2::{:x}/64 dev vt0 nodad\n", i + 1))
        .collect();
    std::fs::write(&batch, cmds).unwrap();
    let t0 = Instant::now();
    ns.ip(&["-batch", &batch.display().to_string()]);
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "adding took {:?}",
        t0.elapsed()
    );
    let lines = d.collect(Duration::from_secs(4));
    let passes = lines.iter().filter(|v| is_pass(v)).count();
    eprintln!(
        "20 changes in {} ms → {passes} passes",
        t0.elapsed().as_millis()
    );
    assert!((1..=3).contains(&passes), "{passes} passes: {lines:#?}");
}

#[test]
fn daemonize_writes_the_pid_file_and_sigterm_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = static_config(dir.path(), "ddnsd.toml", "a.example.test");
    let pid_file = dir.path().join("ddnsd.pid");
    let out = Command::new(BIN)
        .args(["run", "-c"])
        .arg(&cfg)
        .arg("--daemonize")
        .arg("--pid-file")
        .arg(&pid_file)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let pid = std::fs::read_to_string(&pid_file).expect("pid file exists when the parent returns");
    let pid = pid.trim();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("the daemon is alive");
    assert!(String::from_utf8_lossy(&cmdline).contains("ddnsd"));
    sh(&["kill", "-TERM", pid]);
    let deadline = Instant::now() + Duration::from_secs(6);
    while pid_file.exists() || Path::new(&format!("/proc/{pid}/cmdline")).exists() {
        assert!(
            Instant::now() < deadline,
            "pid file or process still there after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn daemonize_with_a_bad_config_exits_2_without_a_pid_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[daemon]\nintervall = \"5m\"\n").unwrap();
    let pid_file = dir.path().join("ddnsd.pid");
    let out = Command::new(BIN)
        .args(["run", "-c"])
        .arg(&cfg)
        .args(["--daemonize", "--pid-file"])
        .arg(&pid_file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("intervall"));
    assert!(!pid_file.exists());
}

#[test]
fn notify_socket_hears_ready_status_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = static_config(dir.path(), "ddnsd.toml", "a.example.test");
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut c = Command::new(BIN);
    c.args(["--log-format", "json", "run", "-c"])
        .arg(&cfg)
        .env("NOTIFY_SOCKET", &sock_path);
    let mut d = Daemon::spawn(c);
    let mut buf = [0u8; 4096];
    let n = sock
        .recv(&mut buf)
        .expect("a notification after the first pass");
    let msg = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(msg.contains("READY=1\n"), "{msg:?}");
    assert!(
        msg.contains("STATUS=last pass (start-up): 1 changed"),
        "{msg:?}"
    );
    d.signal("TERM");
    let mut got = String::new();
    while !got.contains("STOPPING=1") {
        let n = sock.recv(&mut buf).expect("STOPPING=1 after SIGTERM");
        got.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert_eq!(d.wait_exit(Duration::from_secs(6)).code(), Some(0));
}

/// See: issue 8 (shutdown within 5 s). A pass stuck in a name lookup that never gets an answer
/// (the namespace's resolver swallows every query) does not hold SIGTERM up: the pass gets its
/// grace period, the lookup's blocking thread is not waited for.
#[test]
fn sigterm_exits_within_5_s_while_a_name_lookup_hangs() {
    let ns = Netns::new();
    // resolv.conf of the namespace names 127.0.0.1; this socket reads queries and never answers.
    let _silent = ns.bind_udp("127.0.0.1:53");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ddnsd.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"[daemon]
state_file = "{}/state.json"

[sources.echo]
kind = "http"
family = "ipv4"
urls = ["http://ddnsd-hang.example.test/"]
timeout = "60s"

[providers.p]
kind = "dry-run"

[[records]]
name = "h.example.test"
provider = "p"
sources = ["echo"]
"#,
            dir.path().display()
        ),
    )
    .unwrap();
    let mut c = ns.command(BIN);
    c.args(["--log-format", "json", "run", "-c"]).arg(&cfg);
    let mut d = Daemon::spawn(c);
    // Let the start-up pass reach the lookup.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        d.child.try_wait().unwrap().is_none(),
        "the daemon exited early"
    );
    let t0 = Instant::now();
    d.signal("TERM");
    let status = d.wait_exit(Duration::from_secs(10));
    let took = t0.elapsed();
    eprintln!(
        "SIGTERM during a hung lookup → exit in {} ms",
        took.as_millis()
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(status.code(), Some(0));
}

/// See: issue 8 (the watchdog is fed during long passes). A pass whose source takes 2 s
/// still pets a 400 ms watchdog every 200 ms.
#[test]
fn the_watchdog_is_fed_while_a_long_pass_runs() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ddnsd.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"[daemon]
state_file = "{}/state.json"

[sources.slow]
kind = "command"
command = ["sh", "-c", "sleep 2; echo 2001:db8::1"]

[providers.p]
kind = "dry-run"

[[records]]
name = "h.example.test"
provider = "p"
sources = ["slow"]
"#,
            dir.path().display()
        ),
    )
    .unwrap();
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut c = Command::new(BIN);
    c.args(["--log-format", "json", "run", "-c"])
        .arg(&cfg)
        .env("NOTIFY_SOCKET", &sock_path)
        .env("WATCHDOG_USEC", "400000")
        .env_remove("WATCHDOG_PID");
    let mut d = Daemon::spawn(c);
    let mut buf = [0u8; 4096];
    let mut pets = 0;
    loop {
        let n = sock.recv(&mut buf).expect("a notification");
        let msg = String::from_utf8_lossy(&buf[..n]).to_string();
        if msg.contains("READY=1") {
            break;
        }
        if msg.contains("WATCHDOG=1") {
            pets += 1;
        }
    }
    // 2 s of pass at one pet per 200 ms: about 10; 5 leaves room for a slow machine.
    assert!(
        pets >= 5,
        "{pets} watchdog notifications during the 2 s pass"
    );
    d.signal("TERM");
    assert_eq!(d.wait_exit(Duration::from_secs(6)).code(), Some(0));
}

#[test]
fn sighup_keeps_the_old_config_when_the_new_one_is_broken_and_swaps_a_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = static_config(dir.path(), "ddnsd.toml", "a.example.test");
    let mut c = Command::new(BIN);
    c.args(["--log-format", "json", "run", "-c"]).arg(&cfg);
    let mut d = Daemon::spawn(c);
    d.wait_for(Duration::from_secs(10), "for the start-up pass", is_pass);

    std::fs::write(&cfg, "[[records]]\nname = 42\n").unwrap();
    d.signal("HUP");
    d.wait_for(Duration::from_secs(10), "saying the reload failed", |v| {
        message(v).contains("config reload failed; still running with the previous config")
    });
    d.signal("USR1");
    d.wait_for(Duration::from_secs(10), "with the old record", |v| {
        record_with(v, "a.example.test", "2001:db8::1")
    });

    static_config(dir.path(), "ddnsd.toml", "b.example.test");
    d.signal("HUP");
    d.wait_for(
        Duration::from_secs(10),
        "saying the config was reloaded",
        |v| message(v) == "config reloaded",
    );
    d.wait_for(Duration::from_secs(10), "with the new record", |v| {
        record_with(v, "b.example.test", "2001:db8::1")
    });
    d.signal("TERM");
    assert_eq!(d.wait_exit(Duration::from_secs(6)).code(), Some(0));
}

#[test]
fn run_once_finds_the_lock_of_a_concurrent_run_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = static_config(dir.path(), "ddnsd.toml", "a.example.test");
    // Hold the lock the way a concurrent run would.
    let lock = std::fs::File::create(dir.path().join("state.json.lock")).unwrap();
    lock.try_lock().unwrap();
    let out = Command::new(BIN)
        .args(["run", "--once", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout,
        format!(
            "another ddnsd run holds the lock {}; skipping this run (the other one does the work)\n",
            dir.path().join("state.json.lock").display()
        )
    );
    drop(lock);
    let out = Command::new(BIN)
        .args(["run", "--once", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("a.example.test AAAA 2001:db8::1"));
}

/// See: issue 8 (one writer). The two runs overlap for sure (their source takes half a
/// second): exactly one publishes, the other names the lock and leaves. Without the lock both
/// would print their record line and this test fails.
#[test]
fn two_concurrent_run_once_never_both_run() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ddnsd.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"[daemon]
state_file = "{}/state.json"

[sources.slow]
kind = "command"
command = ["sh", "-c", "sleep 0.5; echo 2001:db8::1"]

[providers.p]
kind = "dry-run"

[[records]]
name = "a.example.test"
provider = "p"
sources = ["slow"]
"#,
            dir.path().display()
        ),
    )
    .unwrap();
    for _ in 0..3 {
        let spawn = || {
            Command::new(BIN)
                .args(["run", "--once", "-c"])
                .arg(&cfg)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let mut published = 0;
        let mut skipped = 0;
        for out in [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()] {
            assert_eq!(out.status.code(), Some(0));
            let s = String::from_utf8_lossy(&out.stdout);
            if s.starts_with("a.example.test AAAA") {
                published += 1;
            } else if s.starts_with("another ddnsd run ") {
                skipped += 1;
            } else {
                panic!("unexpected output: {s}");
            }
        }
        assert_eq!((published, skipped), (1, 1));
    }
}

/// See: issue 8 (one writer). A running daemon holds the lock for its whole life; `run
/// --once` meanwhile exits 0 saying the daemon, with its PID, does the work.
#[test]
fn run_once_leaves_the_work_to_a_running_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = static_config(dir.path(), "ddnsd.toml", "a.example.test");
    let mut daemon = Command::new(BIN)
        .args(["run", "-c"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = dir.path().join("state.json.lock");
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.ends_with(" daemon\n")) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the daemon took no lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = Command::new(BIN)
        .args(["run", "--once", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "the ddnsd daemon (pid {}) holds the lock {}; skipping this run (the daemon does the work)\n",
            daemon.id(),
            lock.display()
        )
    );
    // A second daemon does not start either.
    let out = Command::new(BIN)
        .args(["run", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!(
            "error: another ddnsd (pid {}) already publishes with this state file",
            daemon.id()
        )),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(daemon.wait().unwrap().success());
}

/// A fake root where `systemd-analyze` finds the unit, the binary at /usr/bin/ddnsd, kill and
/// the system's own units.
fn unit_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("usr/bin")).unwrap();
    std::fs::create_dir_all(r.join("etc/systemd/system")).unwrap();
    std::fs::create_dir_all(r.join("usr/lib/systemd")).unwrap();
    std::fs::copy(BIN, r.join("usr/bin/ddnsd")).unwrap();
    std::fs::copy("/usr/bin/kill", r.join("usr/bin/kill")).unwrap();
    std::os::unix::fs::symlink("usr/bin", r.join("bin")).unwrap();
    std::os::unix::fs::symlink("usr/lib", r.join("lib")).unwrap();
    sh(&[
        "cp",
        "-a",
        "/usr/lib/systemd/system",
        &r.join("usr/lib/systemd").display().to_string(),
    ]);
    for e in std::fs::read_dir(units_dir()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), r.join("etc/systemd/system").join(e.file_name())).unwrap();
    }
    root
}

fn units_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/systemd")
}

#[test]
fn systemd_units_verify_cleanly() {
    let root = unit_root();
    for e in std::fs::read_dir(units_dir()).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        let out = Command::new("systemd-analyze")
            .arg("verify")
            .arg(format!("--root={}", root.path().display()))
            .arg(format!("/etc/systemd/system/{name}"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn the_notify_unit_is_rated_2_or_better() {
    let root = unit_root();
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(format!("--root={}", root.path().display()))
        .arg("/etc/systemd/system/ddnsd.service")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("{text}"));
    let score: f64 = line
        .split(':')
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    eprintln!("{}", line.trim());
    assert!(score <= 2.0, "{line}");
}
