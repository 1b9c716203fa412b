//! Address detection against the real kernel, in a namespace the test creates.

use std::time::Duration;

use serde_json::Value;

use crate::harness::netns::Netns;
use crate::harness::{ddnsd, output, write};

/// A namespace with one address of every kind the policy must judge.
pub fn namespace_with_every_kind() -> Netns {
    let ns = Netns::new();
    // vt0: stable global (the base of temporary addresses), deprecated, ULA, link-local.
    ns.sysctl("net.ipv6.conf.vt0.use_tempaddr=2");
    ns.add6("vt0", "2001:db8:1::10/64", &["mngtmpaddr", "nodad"]);
    ns.add6(
        "vt0",
        "2001:db8:1::20/64",
        &["nodad", "valid_lft", "600", "preferred_lft", "0"],
    );
    ns.add6("vt0", "fd12:3456::1/64", &["nodad"]);
    ns.add6("vt0", "fe80::1234/64", &["nodad"]);
    // vt1: DAD that lasts long enough to observe the tentative state.
    ns.sysctl("net.ipv6.conf.vt1.dad_transmits=60");
    ns.add6("vt1", "2001:db8:9::30/64", &[]);
    // The kernel derives a temporary address from the mngtmpaddr one ~1.5 s later.
    // Temporary addresses go through DAD too: wait until one is usable.
    ns.wait_addrs(Duration::from_secs(8), |a| {
        a.lines()
            .any(|l| l.contains("temporary") && !l.contains("tentative"))
    });
    ns
}

const CONFIG: &str = r#"
[sources.v6]
kind = "interface"
family = "ipv6"

[providers.preview]
kind = "dry-run"

[[records]]
name = "host.example.test"
provider = "preview"
sources = ["v6"]
"#;

fn verdicts(json: &str) -> Vec<(String, String, Option<String>)> {
    let v: Value = serde_json::from_str(json).unwrap();
    v["sources"][0]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_owned(),
                c["verdict"].as_str().unwrap().to_owned(),
                c["reason"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[test]
fn detect_judges_every_kind_of_kernel_address() {
    let ns = namespace_with_every_kind();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "ddnsd.toml", CONFIG);
    let mut c = ns.command(env!("CARGO_BIN_EXE_ddnsd"));
    c.args(["detect", "--json", "-c", &cfg]);
    let (code, stdout, stderr) = output(c);
    assert_eq!(code, 0, "{stderr}");
    let got = verdicts(&stdout);
    let find = |addr: &str| {
        got.iter()
            .find(|(a, _, _)| a == addr)
            .unwrap_or_else(|| panic!("{addr} missing from {got:?}\n{}", ns.addrs()))
            .clone()
    };
    let reason = |addr: &str| find(addr).2;
    assert_eq!(find("2001:db8:1::10").1, "selected");
    assert_eq!(reason("2001:db8:1::20").as_deref(), Some("deprecated"));
    assert_eq!(reason("fd12:3456::1").as_deref(), Some("ula"));
    assert_eq!(reason("fe80::1234").as_deref(), Some("link-local"));
    assert_eq!(reason("::1").as_deref(), Some("loopback"));
    assert_eq!(
        reason("2001:db8:9::30").as_deref(),
        Some("tentative"),
        "{}",
        ns.addrs()
    );
    let selected: Vec<_> = got.iter().filter(|(_, v, _)| v == "selected").collect();
    assert_eq!(
        selected.len(),
        1,
        "exactly one address is selected: {got:?}"
    );
    // The temporary address, if the kernel made one (it did on every machine seen so far).
    let temps: Vec<_> = got
        .iter()
        .filter(|(a, _, _)| {
            a.starts_with("2001:db8:1:0:") && a != "2001:db8:1::10" && a != "2001:db8:1::20"
        })
        .collect();
    if ns.addrs().contains("temporary") {
        assert!(!temps.is_empty(), "temporary address missing from {got:?}");
    }
    for (_, _, r) in temps {
        assert_eq!(r.as_deref(), Some("temporary"));
    }

    // The text form says the same, with reasons a person can act on.
    let mut c = ns.command(env!("CARGO_BIN_EXE_ddnsd"));
    c.args(["detect", "-c", &cfg]);
    let (code, text, _) = output(c);
    assert_eq!(code, 0);
    let line = |addr: &str| {
        let l = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{addr} ")))
            .unwrap_or_else(|| panic!("{addr}: {text}"));
        l.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
    };
    assert!(
        line("2001:db8:1::10").starts_with("vt0 selected ["),
        "{text}"
    );
    assert!(
        line("fd12:3456::1").starts_with(
            "vt0 skipped: unique local address (fc00::/7); allow_ula = true publishes it ["
        ),
        "{text}"
    );
}

#[test]
fn allow_options_and_select_all_change_the_verdicts() {
    let ns = namespace_with_every_kind();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "ddnsd.toml",
        &CONFIG.replace("family = \"ipv6\"", "family = \"ipv6\"\ninterface = \"vt0\"\nallow_ula = true\nallow_temporary = true\nselect = \"all\""),
    );
    let mut c = ns.command(env!("CARGO_BIN_EXE_ddnsd"));
    c.args(["detect", "--json", "-c", &cfg]);
    let (code, stdout, stderr) = output(c);
    assert_eq!(code, 0, "{stderr}");
    let got = verdicts(&stdout);
    assert!(
        got.iter().all(|(a, _, _)| a != "2001:db8:9::30"),
        "vt1 must not be listed: {got:?}"
    );
    let sel = |addr: &str| got.iter().any(|(a, v, _)| a == addr && v == "selected");
    assert!(sel("2001:db8:1::10") && sel("fd12:3456::1"), "{got:?}");
    assert!(!sel("2001:db8:1::20") && !sel("fe80::1234"), "{got:?}");
}

/// ddnsd in `ns` as on a machine without /etc/ddnsd/ddnsd.toml, even where ddnsd is really
/// installed: `ip netns exec` runs its command in a mount namespace of its own, and an empty
/// tmpfs there hides /etc/ddnsd from this one run.
fn without_installed_config(ns: &Netns) -> std::process::Command {
    let mut c = ns.command("sh");
    c.env_remove("DDNSD_CONFIG").args([
        "-c",
        "if [ -d /etc/ddnsd ]; then mount -t tmpfs ddnsd-test /etc/ddnsd || exit 97; fi; \
         exec \"$0\" \"$@\"",
        env!("CARGO_BIN_EXE_ddnsd"),
    ]);
    c
}

#[test]
fn embedded_default_runs_on_this_hosts_addresses() {
    let ns = Netns::new();
    ns.add6("vt0", "2001:db8:5::5/64", &["nodad"]);
    ns.ip(&["addr", "add", "198.51.100.5/24", "dev", "vt0"]);
    ns.ip(&["addr", "add", "10.0.0.5/24", "dev", "vt1"]);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let host = ddnsd::config::default::label(host.trim());
    let mut c = without_installed_config(&ns);
    c.args(["run", "--once"]);
    let (code, stdout, stderr) = output(c);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        format!(
            "{host}.example.invalid AAAA 2001:db8:5::5  would create (dry run)\n{host}.example.invalid A 198.51.100.5  would create (dry run)\n"
        )
    );
    assert!(
        stderr.starts_with("notice: no config file given and none at /etc/ddnsd/ddnsd.toml"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: write a real config with `ddnsd init > ddnsd.toml`"),
        "{stderr}"
    );

    let mut c = without_installed_config(&ns);
    c.args(["detect"]);
    let (code, stdout, _) = output(c);
    assert_eq!(code, 0);
    assert!(stdout.contains("10.0.0.5"), "{stdout}");
    assert!(
        stdout.contains("skipped: private (RFC 1918); allow_private = true publishes it"),
        "{stdout}"
    );
    let _ = ddnsd();
}

#[test]
fn run_once_publishes_exactly_the_stable_global_address_to_bind() {
    use crate::harness::dns::{BindServer, TestKey, TestZone, KEY_SECRET_B64};
    use hickory_proto::rr::RecordType;

    let ns = namespace_with_every_kind();
    ns.within(|| {
        let bind = BindServer::start(&TestZone::example(), &TestKey::default());
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let cfg = write(
            dir.path(),
            "ddnsd.toml",
            &format!(
                r#"[daemon]
state_file = "{}"

[sources.v6]
kind = "interface"
family = "ipv6"

[providers.home]
kind = "rfc2136"
server = "{}"
tsig_name = "ddnsd-key"
tsig_secret_env = "TEST_TSIG"

[[records]]
name = "host.example.test"
provider = "home"
sources = ["v6"]
"#,
                state.display(),
                bind.addr()
            ),
        );
        let mut c = ddnsd();
        c.env("TEST_TSIG", KEY_SECRET_B64)
            .args(["run", "--once", "-c", &cfg]);
        let (code, stdout, stderr) = output(c);
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert_eq!(stdout, "host.example.test AAAA 2001:db8:1::10  created\n");
        assert_eq!(
            bind.addresses("host.example.test", RecordType::AAAA),
            vec!["2001:db8:1::10".parse::<std::net::IpAddr>().unwrap()]
        );
        // The zone's other contents are untouched.
        assert_eq!(bind.txt("host.example.test"), vec!["keep me".to_owned()]);
    });
}

/// On a point-to-point address the kernel reports the peer in IFA_ADDRESS and this host's
/// side in IFA_LOCAL: only the local side may be published, for both families.
// See: issue 8 (item 12)
#[test]
fn point_to_point_addresses_publish_the_local_side() {
    let ns = Netns::new();
    ns.add6("vt0", "2001:db8::1", &["peer", "2001:db8::2", "nodad"]);
    ns.ip(&[
        "addr",
        "add",
        "198.51.100.1",
        "peer",
        "198.51.100.2",
        "dev",
        "vt0",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "ddnsd.toml",
        r#"
[sources.v6]
kind = "interface"
interface = "vt0"
family = "ipv6"

[sources.v4]
kind = "interface"
interface = "vt0"
family = "ipv4"

[providers.preview]
kind = "dry-run"

[[records]]
name = "host.example.test"
provider = "preview"
sources = ["v6", "v4"]
"#,
    );
    let mut c = ns.command(env!("CARGO_BIN_EXE_ddnsd"));
    c.args(["detect", "--json", "-c", &cfg]);
    let (code, stdout, stderr) = output(c);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let sources = v["sources"].as_array().unwrap();
    let candidates = |name: &str| -> Vec<(String, String)> {
        let s = sources
            .iter()
            .find(|s| s["source"] == name)
            .unwrap_or_else(|| panic!("source {name} missing: {stdout}"));
        s["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["address"].as_str().unwrap().to_owned(),
                    c["verdict"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let v6: Vec<_> = candidates("v6")
        .into_iter()
        .filter(|(a, _)| !a.starts_with("fe80:"))
        .collect();
    assert_eq!(
        v6,
        [("2001:db8::1".to_owned(), "selected".to_owned())],
        "{}",
        ns.addrs()
    );
    assert_eq!(
        candidates("v4"),
        [("198.51.100.1".to_owned(), "selected".to_owned())]
    );
}
