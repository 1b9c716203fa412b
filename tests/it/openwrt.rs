//! The OpenWrt package's init script (dist/openwrt/ddnsd.init) run under busybox ash, with
//! OpenWrt's UCI reader, netifd lookups and procd replaced by tests/openwrt/openwrt-stub.sh:
//! the UCI → TOML translation (checked by the real `ddnsd check`), its errors, and what
//! start, reload and a hotplug event do in each mode (the real `ddnsd run --once` in hotplug
//! mode; the procd calls in daemon mode).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{ddnsd, output, write};

/// Runs `script` after sourcing the stubs and the init script, in `dir` (UCI config in
/// dir/config/ddnsd, the generated TOML in dir/ddnsd.toml, procd calls in dir/procd.log).
fn ash(dir: &Path, env: &[(&str, &str)], script: &str) -> (i32, String, String) {
    let root = env!("CARGO_MANIFEST_DIR");
    let program = format!(
        ". {root}/tests/openwrt/openwrt-stub.sh\n\
         . {root}/dist/openwrt/ddnsd.init\n\
         PROG={bin}\n\
         GENERATED={generated}\n\
         {script}\n",
        bin = env!("CARGO_BIN_EXE_ddnsd"),
        generated = dir.join("ddnsd.toml").display(),
    );
    let mut c = Command::new("busybox");
    c.args(["sh", "-c", &program])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("RUST_BACKTRACE", "0")
        .env("UCI_CONFIG_DIR", dir.join("config"))
        .env("PROCD_LOG", dir.join("procd.log"))
        .envs(env.iter().copied());
    output(c)
}

fn uci(dir: &Path, text: &str) {
    std::fs::create_dir_all(dir.join("config")).unwrap();
    write(&dir.join("config"), "ddnsd", text);
}

fn procd_log(dir: &Path) -> String {
    let log = dir.join("procd.log");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(log);
    text
}

fn check(path: &Path) -> (i32, String, String) {
    let mut c = ddnsd();
    c.arg("check").arg("-c").arg(path);
    output(c)
}

fn shipped_config() -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist/openwrt/ddnsd.config"),
    )
    .unwrap()
}

#[test]
fn shipped_uci_config_translates_to_a_config_check_accepts() {
    let dir = tempfile::tempdir().unwrap();
    uci(dir.path(), &shipped_config());
    let (code, toml, err) = ash(
        dir.path(),
        &[("NETWORK_DEVICES", "lan=br-lan wan6=pppoe-wan")],
        "ddnsd_load && ddnsd_toml",
    );
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        toml,
        r#"# Generated from /etc/config/ddnsd by /etc/init.d/ddnsd; edit that file instead.

[daemon]

[sources.wan6]
kind = "interface"
interface = "pppoe-wan"
family = "ipv6"

[providers.home]
kind = "rfc2136"
server = "192.0.2.53"
zone = "example.com"
tsig_name = "ddnsd-key"
tsig_algorithm = "hmac-sha256"
tsig_secret_file = "/etc/ddnsd/tsig.b64"

[[records]]
name = "router.example.com"
provider = "home"
sources = ["wan6"]
ttl = 300

"#
    );
    // Everything but the secret file, which only the router has, is valid as written.
    let secret = write(dir.path(), "tsig.b64", "c2VjcmV0LWtleS1mb3ItZGRuc2Q=\n");
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let path = dir.path().join("translated.toml");
    std::fs::write(&path, toml.replace("/etc/ddnsd/tsig.b64", &secret)).unwrap();
    let (code, out, err) = check(&path);
    assert_eq!(
        (code, out, err),
        (
            0,
            format!(
                "{}: ok (1 sources, 1 providers, 1 records)\n",
                path.display()
            ),
            String::new()
        )
    );
}

const TYPES_AND_QUOTING: &str = r#"
config ddnsd 'main'
	option enabled '1'
	option interval '10m'
	list trigger 'wan6'
	list trigger 'wan'

config source 'wan6'
	option kind 'interface'
	option network 'wan6'
	option allow_temporary '0'
	option allow_ula 'yes'

config source 'fixed'
	option kind 'static'
	list addresses '2001:db8::10'
	list addresses '192.0.2.10'

config source 'nas'
	option kind 'prefix'
	option from 'wan6'
	option prefix_length '56'
	option subnet_id '1'
	option mac '06:cd:ba:11:05:35'

config source 'script'
	option kind 'command'
	option family 'ipv4'
	list command 'sh'
	list command '-c'
	list command 'echo "192.0.2.7" # it'\''s a \ test'

config provider 'preview'
	option kind 'dry-run'

config record
	option name 'fixed.example.test'
	option provider 'preview'
	list sources 'fixed'
	list sources 'script'
	option ttl '120'

config record
	option name 'nas.example.test'
	option provider 'preview'
	list sources 'nas'
"#;

#[test]
fn uci_options_lists_booleans_integers_and_quotes_become_typed_toml() {
    let dir = tempfile::tempdir().unwrap();
    uci(dir.path(), TYPES_AND_QUOTING);
    let (code, toml, err) = ash(
        dir.path(),
        &[("NETWORK_DEVICES", "wan6=eth1")],
        "ddnsd_load && ddnsd_toml",
    );
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        toml,
        r#"# Generated from /etc/config/ddnsd by /etc/init.d/ddnsd; edit that file instead.

[daemon]
interval = "10m"

[sources.wan6]
kind = "interface"
interface = "eth1"
allow_temporary = false
allow_ula = true

[sources.fixed]
kind = "static"
addresses = ["2001:db8::10", "192.0.2.10"]

[sources.nas]
kind = "prefix"
from = "wan6"
prefix_length = 56
subnet_id = 1
mac = "06:cd:ba:11:05:35"

[sources.script]
kind = "command"
family = "ipv4"
command = ["sh", "-c", "echo \"192.0.2.7\" # it's a \\ test"]

[providers.preview]
kind = "dry-run"

[[records]]
name = "fixed.example.test"
provider = "preview"
sources = ["fixed", "script"]
ttl = 120

[[records]]
name = "nas.example.test"
provider = "preview"
sources = ["nas"]

"#
    );
    let path = dir.path().join("translated.toml");
    std::fs::write(&path, &toml).unwrap();
    let (code, out, err) = check(&path);
    assert_eq!(
        (code, out, err),
        (
            0,
            format!(
                "{}: ok (4 sources, 1 providers, 2 records)\n",
                path.display()
            ),
            String::new()
        )
    );
}

#[test]
fn untranslatable_uci_stops_the_start_with_the_reason() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "config ddnsd 'main'\n\toption enabled '1'\nconfig source 's'\n\toption kind 'interface'\n\toption allow_ula 'maybe'\n",
            "wan6=eth1",
            "ddnsd: option allow_ula 'maybe' must be 0 or 1\n",
        ),
        (
            "config ddnsd 'main'\n\toption enabled '1'\nconfig record\n\toption ttl '5m'\n",
            "wan6=eth1",
            "ddnsd: option ttl '5m' must be a whole number\n",
        ),
        (
            "config ddnsd 'main'\n\toption enabled '1'\nconfig source 'wan6'\n\toption kind 'interface'\n\toption network 'wan6'\n",
            "lan=br-lan",
            "ddnsd: network 'wan6' (source wan6) has no device yet; is it up?\n",
        ),
    ];
    for (config, devices, reason) in cases {
        let dir = tempfile::tempdir().unwrap();
        uci(dir.path(), config);
        let (code, out, err) = ash(dir.path(), &[("NETWORK_DEVICES", devices)], "start_service");
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (1, "", *reason),
            "{config}"
        );
        assert_eq!(procd_log(dir.path()), "", "no instance for {config}");
        assert!(!dir.path().join("ddnsd.toml").exists());
    }
    // A config that translates but does not check: `ddnsd check` says why, nothing starts.
    let dir = tempfile::tempdir().unwrap();
    uci(
        dir.path(),
        "config ddnsd 'main'\n\toption enabled '1'\nconfig record\n\toption name 'h.example.test'\n\toption provider 'nope'\n\tlist sources 's'\n",
    );
    let (code, _, err) = ash(dir.path(), &[], "start_service");
    let generated = dir.path().join("ddnsd.toml");
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "{g}:7:12: record names provider \"nope\", which is not defined\n  \
             hint: add a [providers.nope] table\n\
             {g}:8:12: record names source \"s\", which is not defined\n  \
             hint: add a [sources.s] table\n",
            g = generated.display()
        )
    );
    assert_eq!(procd_log(dir.path()), "");
}

fn static_config(mode: &str, enabled: &str, ttl: &str, state: &Path) -> String {
    format!(
        "config ddnsd 'main'\n\toption enabled '{enabled}'\n\toption mode '{mode}'\n\
         \toption state_file '{state}'\n\
         config source 'fixed'\n\toption kind 'static'\n\tlist addresses '2001:db8::10'\n\
         config provider 'preview'\n\toption kind 'dry-run'\n\
         config record\n\toption name 'fixed.example.test'\n\toption provider 'preview'\n\
         \tlist sources 'fixed'\n\toption ttl '{ttl}'\n",
        state = state.display()
    )
}

#[test]
fn hotplug_mode_runs_one_pass_per_event_of_a_trigger_interface() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    uci(dir.path(), &static_config("hotplug", "1", "300", &state));
    // Not a trigger interface (default: wan6 only): nothing happens.
    let (code, out, err) = ash(dir.path(), &[("INTERFACE", "lan")], "hotplug");
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    // wan6: the TOML is generated and checked, and one real pass runs on it.
    let (code, out, err) = ash(dir.path(), &[("INTERFACE", "wan6")], "hotplug");
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            0,
            "fixed.example.test AAAA 2001:db8::10  would create (dry run)\n",
            ""
        )
    );
    // Starting the service in hotplug mode registers no resident instance.
    let (code, _, err) = ash(dir.path(), &[], "start_service");
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(procd_log(dir.path()), "");
}

#[test]
fn daemon_mode_starts_under_procd_and_signals_on_events() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let generated = dir.path().join("ddnsd.toml");
    uci(dir.path(), &static_config("daemon", "1", "300", &state));
    let (code, _, err) = ash(dir.path(), &[], "start_service");
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        procd_log(dir.path()),
        format!(
            "open_instance\n\
             set_param command {bin} run -c {generated}\n\
             set_param env RUST_BACKTRACE=0\n\
             set_param respawn 3600 5 5\n\
             set_param stderr 1\n\
             set_param term_timeout 10\n\
             close_instance\n",
            bin = env!("CARGO_BIN_EXE_ddnsd"),
            generated = generated.display()
        )
    );
    let running = [("PROCD_RUNNING", "1"), ("INTERFACE", "wan6")];
    // Same config: a pass (SIGUSR1), so backoff and rejected credentials are not reset.
    let (code, out, err) = ash(dir.path(), &running, "hotplug");
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    assert_eq!(procd_log(dir.path()), "send_signal ddnsd * USR1\n");
    // A changed config (uci commit → reload): re-read (SIGHUP).
    uci(dir.path(), &static_config("daemon", "1", "600", &state));
    let (code, _, err) = ash(dir.path(), &running, "reload_service");
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(procd_log(dir.path()), "send_signal ddnsd * HUP\n");
    assert!(std::fs::read_to_string(&generated)
        .unwrap()
        .contains("ttl = 600\n"));
    // Disabled in UCI: the reload registers no instance, which stops the daemon.
    uci(dir.path(), &static_config("daemon", "0", "600", &state));
    let (code, _, err) = ash(dir.path(), &running, "reload_service");
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(procd_log(dir.path()), "start\n");
}
