//! Config building: exact diagnostics (text is part of the contract) and defaults.

use std::path::Path;

use super::*;
use crate::provider::ProviderSettings;

fn env(name: &str) -> Option<String> {
    match name {
        "TSIG" => Some("c2VjcmV0LWtleS1mb3ItZGRuc2QtdGVzdHMtMzJieXRlcyE=".into()),
        "STATE_DIRECTORY" => None,
        _ => None,
    }
}

fn problems(text: &str) -> String {
    match from_text(text, Path::new("t.toml"), &env) {
        Ok(_) => panic!("expected problems in:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const GOOD: &str = r#"
[sources.wan6]
kind = "interface"
interface = "eth0"

[providers.home]
kind = "rfc2136"
server = "127.0.0.1:5300"
tsig_name = "ddnsd-key"
tsig_secret_env = "TSIG"

[[records]]
name = "host.example.test"
provider = "home"
sources = ["wan6"]
"#;

#[test]
fn good_config_builds_with_defaults() {
    let c = from_text(GOOD, Path::new("t.toml"), &env).unwrap();
    assert_eq!(c.daemon.interval, std::time::Duration::from_secs(300));
    assert_eq!(
        c.daemon.verify_interval,
        std::time::Duration::from_secs(3600)
    );
    assert_eq!(c.daemon.debounce, std::time::Duration::from_millis(500));
    assert_eq!(
        c.daemon.state_file.as_deref(),
        Some(Path::new(DEFAULT_STATE_FILE))
    );
    assert_eq!(c.records[0].ttl.0, 300);
    let ProviderSettings::Rfc2136(p) = &c.providers["home"] else {
        panic!()
    };
    assert_eq!(p.server.to_string(), "127.0.0.1:5300");
    let key = p.tsig.as_ref().unwrap();
    assert_eq!(
        key.secret.expose().as_slice(),
        b"secret-key-for-ddnsd-tests-32bytes!"
    );
    assert!(
        !format!("{p:?}").contains("secret-key"),
        "secret leaked in Debug"
    );
}

#[test]
fn state_directory_from_systemd_is_the_default() {
    let env = |n: &str| (n == "STATE_DIRECTORY").then(|| "/var/lib/ddnsd".to_owned());
    let c = from_text("", Path::new("t.toml"), &env).unwrap();
    assert_eq!(
        c.daemon.state_file.as_deref(),
        Some(Path::new("/var/lib/ddnsd/state.json"))
    );
}

#[test]
fn diagnostics_table() {
    let cases: &[(&str, &str)] = &[
        // bad TOML
        ("a = \n", "t.toml:1:5: invalid TOML: string values must be quoted, expected literal string"),
        // unknown key with did-you-mean
        (
            "[daemon]\nintervl = \"5m\"\n",
            "t.toml:2:1: unknown key `intervl` in [daemon]\n  hint: did you mean `interval`?",
        ),
        (
            "[deamon]\n",
            "t.toml:1:2: unknown key `deamon` at the top level\n  hint: did you mean `daemon`?",
        ),
        // bad duration
        (
            "[daemon]\ninterval = \"5x\"\n",
            "t.toml:2:12: interval: unknown unit \"x\" in duration \"5x\"; use ms, s, m, h or d",
        ),
        (
            "[daemon]\ninterval = \"5\"\n",
            "t.toml:2:12: interval: duration \"5\" has no unit; write e.g. \"5s\" or \"5m\"",
        ),
        // unknown kind
        (
            "[sources.x]\nkind = \"interfce\"\n",
            "t.toml:2:8: unknown kind \"interfce\" in [sources.x]\n  hint: did you mean \"interface\"?",
        ),
        // missing references
        (
            "[providers.home]\nkind = \"dry-run\"\n[[records]]\nname = \"h.example.test\"\nprovider = \"hme\"\nsources = [\"wan6\"]\n",
            "t.toml:5:12: record names provider \"hme\", which is not defined\n  hint: did you mean \"home\"?\nt.toml:6:12: record names source \"wan6\", which is not defined\n  hint: add a [sources.wan6] table",
        ),
        // secret given twice
        (
            "[providers.p]\nkind = \"rfc2136\"\nserver = \"127.0.0.1\"\ntsig_name = \"k\"\ntsig_secret = \"YQ==\"\ntsig_secret_env = \"TSIG\"\n",
            "t.toml:6:19: tsig_secret is given 2 ways (tsig_secret, tsig_secret_env)\n  hint: keep exactly one; remove tsig_secret_env",
        ),
        // secret given none
        (
            "[providers.p]\nkind = \"rfc2136\"\nserver = \"127.0.0.1\"\ntsig_name = \"k\"\n",
            "t.toml:1:1: tsig_secret is missing\n  hint: give exactly one of tsig_secret, tsig_secret_file (a path) or tsig_secret_env (an environment variable name)",
        ),
        // secret from an unset variable
        (
            "[providers.p]\nkind = \"tencentcloud\"\nsecret_id = \"AKID\"\nsecret_key_env = \"NOPE\"\n",
            "t.toml:4:18: environment variable \"NOPE\" (named by secret_key_env) is not set\n  hint: export NOPE=… in the service's environment, or use secret_key_file",
        ),
        // wrong type names the key, and the rest of the record is still checked
        (
            "[[records]]\nname = \"h\"\nprovider = \"p\"\nsources = []\nttl = \"300\"\n",
            "t.toml:2:8: record name: \"h\" is not fully qualified (it needs at least one dot, e.g. \"host.example.com\")\nt.toml:3:12: record names provider \"p\", which is not defined\n  hint: add a [providers.p] table\nt.toml:4:11: `sources` is empty\n  hint: name at least one [sources.NAME]\nt.toml:5:7: ttl: invalid type: string \"300\", expected i64 in [[records]] #1",
        ),
        // missing required key
        (
            "[providers.p]\nkind = \"rfc2136\"\n",
            "t.toml:1:1: missing field `server` in [providers.p]",
        ),
        // duplicate record
        (
            "[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n[providers.p]\nkind = \"dry-run\"\n[[records]]\nname = \"h.example.test\"\nprovider = \"p\"\nsources = [\"s\"]\n[[records]]\nname = \"h.example.test\"\nprovider = \"p\"\nsources = [\"s\"]\n",
            "t.toml:11:8: h.example.test AAAA is also managed by [[records]] #1\n  hint: list every source of one name in a single [[records]] entry",
        ),
        (
            "[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::zz\"]\n",
            "t.toml:3:14: \"2001:db8::zz\" is not an IP address",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(problems(text), *want, "config:\n{text}");
    }
}

#[test]
fn secret_files_are_checked() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("tsig.b64");
    std::fs::write(&f, "c2VjcmV0LWtleS1mb3ItZGRuc2QtdGVzdHMtMzJieXRlcyE=\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = format!(
        "[providers.p]\nkind = \"rfc2136\"\nserver = \"127.0.0.1\"\ntsig_name = \"k\"\ntsig_secret_file = \"{}\"\n",
        f.display()
    );
    assert_eq!(
        problems(&text),
        format!(
            "t.toml:5:20: secret file \"{0}\" (tsig_secret_file) is readable by every user\n  hint: chmod 600 {0} (or 640 with a group ddnsd runs as)",
            f.display()
        )
    );
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let c = from_text(&text, Path::new("t.toml"), &env).unwrap();
    let ProviderSettings::Rfc2136(p) = &c.providers["p"] else {
        panic!()
    };
    assert_eq!(p.tsig.as_ref().unwrap().secret.expose().len(), 35);

    let missing = text.replace("tsig.b64", "nope.b64");
    assert!(
        problems(&missing).contains("cannot read secret file"),
        "{}",
        problems(&missing)
    );
    // ${VAR} expansion (systemd LoadCredential=)
    let cred_env =
        |n: &str| (n == "CREDENTIALS_DIRECTORY").then(|| dir.path().display().to_string());
    let via_var = text.replace(
        &dir.path().display().to_string(),
        "${CREDENTIALS_DIRECTORY}",
    );
    assert!(from_text(&via_var, Path::new("t.toml"), &cred_env).is_ok());
}

#[test]
fn init_example_is_accepted_by_check() {
    let env = |n: &str| (n == "DDNSD_TSIG_SECRET").then(|| "c2VjcmV0".to_owned());
    let c = from_text(default::EXAMPLE, Path::new("example.toml"), &env).unwrap();
    assert_eq!(c.records.len(), 2);
    assert_eq!(c.sources.len(), 3);
}

#[test]
fn embedded_default_builds() {
    let c = build::build(&default::embedded("vm"), Origin::Embedded, &env).unwrap();
    assert_eq!(c.records[0].name.as_str(), "vm.example.invalid");
    assert!(matches!(c.providers["preview"], ProviderSettings::DryRun));
    assert_eq!(c.daemon.state_file, None);
    for (raw, want) in [
        ("My_Host.lan", "my-host"),
        ("", "host"),
        ("--", "host"),
        ("vm", "vm"),
    ] {
        assert_eq!(default::label(raw), want);
    }
}

#[test]
fn locate_order() {
    let none = |_: &str| None;
    assert_eq!(
        locate(Some(Path::new("/a.toml")), &none),
        Located::Named("/a.toml".into())
    );
    let env = |n: &str| (n == "DDNSD_CONFIG").then(|| "/b.toml".to_owned());
    assert_eq!(locate(None, &env), Located::Named("/b.toml".into()));
    assert_eq!(
        locate(Some(Path::new("/a.toml")), &env),
        Located::Named("/a.toml".into())
    );
    assert_eq!(line_col("ab\ncd", 4), (2, 2));
}
