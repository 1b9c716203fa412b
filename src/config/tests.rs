//! Compiled only under #[cfg(test)] (declared so in config/mod.rs).
//! Config building: exact diagnostics (text is part of the contract) and defaults.

use std::path::Path;

use super::*;
use crate::provider::rfc2136::Rfc2136Settings;

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
    let p: &Rfc2136Settings = c.providers["home"].get().unwrap();
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

// Its configs name kinds of the `http` feature (the router build's own table is
// `left_out_features_are_named`).
#[cfg(feature = "http")]
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
            "t.toml:2:8: record name: \"h\" is not fully qualified (it needs at least one dot, e.g. \"host.example.com\")\nt.toml:3:12: record names provider \"p\", which is not defined\n  hint: add a [providers.p] table\nt.toml:4:11: `sources` is empty\n  hint: name at least one [sources.NAME]\nt.toml:5:7: ttl \"300\" is not a number of seconds\n  hint: use seconds (e.g. 300) or \"auto\" (at most 300, capped at the address's remaining preferred lifetime)",
        ),
        // See: issue 8 (bounded input). Durations have a ceiling `check` reports, so nothing
        // overflows or aborts at run time.
        (
            "[daemon]\ninterval = \"99999999999999d\"\ndebounce = \"1h\"\n[providers.p]\nkind = \"rfc2136\"\nserver = \"127.0.0.1\"\ntimeout = \"0s\"\n",
            "t.toml:2:12: interval \"99999999999999d\" is longer than the 7d allowed\n  hint: use at most \"7d\"\nt.toml:3:12: debounce \"1h\" is longer than the 10m allowed\n  hint: use at most \"10m\"\nt.toml:7:11: timeout must be longer than zero",
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
    let p: &Rfc2136Settings = c.providers["p"].get().unwrap();
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

    // See: issue 8 (bounded input). A path naming something that is not a secret file is
    // read no further than the cap.
    std::fs::write(&f, vec![b'a'; crate::limits::MAX_SECRET + 1]).unwrap();
    assert_eq!(
        problems(&text),
        format!(
            "t.toml:5:20: secret file \"{}\" (tsig_secret_file) is longer than 64 KiB\n  hint: a secret file holds only the secret: check the path",
            f.display()
        )
    );
}

/// See: issue 8 (bounded input). `-c /dev/zero` (or a log file) is refused at the cap
/// instead of being read until memory runs out.
#[test]
fn a_config_past_the_cap_is_refused() {
    let e = load(&Located::Named("/dev/zero".into()), &env, Purpose::Check).unwrap_err();
    assert_eq!(e.to_string(), "config file /dev/zero is longer than 4 MiB");
    assert!(e
        .hint()
        .unwrap()
        .starts_with("check the path given with -c"));
}

#[test]
fn init_example_is_accepted_by_check() {
    let env = |n: &str| (n == "DDNSD_TSIG_SECRET").then(|| "c2VjcmV0".to_owned());
    let c = from_text(&default::init(), Path::new("example.toml"), &env).unwrap();
    assert_eq!(c.records.len(), 2);
    assert_eq!(c.sources.len(), 3);
    assert_eq!(c.providers.len(), 1);
}

/// Every kind's block, as `ddnsd init` prints it commented out, is (once uncommented) a
/// provider the config reader accepts, and `init --provider KIND` prints the same block. Runs
/// over the registry, so a new kind is covered by adding it.
#[test]
fn every_kinds_init_block_uncommented_is_a_valid_provider() {
    use crate::provider::KINDS;

    // Any secret the block names by `X_env` (a TSIG key needs base64).
    let env = |_: &str| Some("c2VjcmV0LWtleS1mb3ItZGRuc2QtdGVzdHMtMzJieXRlcyE=".to_owned());
    const GCLOUD_PEM: &str = include_str!("../../tests/fixtures/gcloud/test-key.pem");
    let dir = tempfile::tempdir().unwrap();
    let init = default::init();
    for kind in KINDS {
        let heading = format!("# {} — {}\n", kind.name, kind.about);
        let start = init
            .find(&heading)
            .unwrap_or_else(|| panic!("no heading for {} in init", kind.name));
        let block: String = init[start + heading.len()..]
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| l.strip_prefix("# ").or(l.strip_prefix('#')).unwrap_or(l))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(block, kind.example, "{}", kind.name);
        assert_eq!(
            default::provider_example(kind.name).unwrap(),
            format!("{heading}{block}")
        );
        let table = block
            .lines()
            .find_map(|l| l.strip_prefix("[providers.")?.strip_suffix(']'))
            .unwrap_or_else(|| panic!("{}: no [providers.NAME] line", kind.name));
        // A secret the block reads from a file gets one at a path of the test's: the
        // service-account key where the kind wants one, a token otherwise.
        let mut block = block.clone();
        for line in kind.example.lines() {
            let Some((key, rest)) = line.split_once("_file = \"") else {
                continue;
            };
            let Some((path, _)) = rest.split_once('"') else {
                continue;
            };
            let file = dir.path().join(format!("{}-{}", kind.name, key.trim()));
            let content = if kind.name == "gcloud" {
                serde_json::json!({"type": "service_account", "project_id": "p",
                    "private_key_id": "k", "private_key": GCLOUD_PEM,
                    "client_email": "ddnsd@p.iam.gserviceaccount.com"})
                .to_string()
            } else {
                "secret-token-for-ddnsd-tests".to_owned()
            };
            std::fs::write(&file, content).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
            block = block.replace(path, file.to_str().unwrap());
        }
        // The record's address is of a family the kind publishes (`check` refuses a source
        // of another family): the block alone says which.
        let alone = from_text(&block, Path::new("t.toml"), &env)
            .unwrap_or_else(|e| panic!("{}:\n{e}\n{block}", kind.name));
        let address = match alone.providers[table].config.families().first() {
            Some(crate::record::Family::Ipv4) => "192.0.2.1",
            _ => "2001:db8::1",
        };
        let text = format!(
            "{block}\n[sources.s]\nkind = \"static\"\naddresses = [\"{address}\"]\n\n\
             [[records]]\nname = \"host.example.test\"\nprovider = \"{table}\"\nsources = [\"s\"]\n"
        );
        let c = from_text(&text, Path::new("t.toml"), &env)
            .unwrap_or_else(|e| panic!("{}:\n{e}\n{text}", kind.name));
        assert_eq!(c.providers[table].kind(), kind.name);
    }
}

// Its configs name kinds of the `http` feature (the router build's own table is
// `left_out_features_are_named`).
#[cfg(feature = "http")]
#[test]
fn init_provider_names_a_kind_or_suggests_one() {
    for (kind, hint) in [
        ("cloudflar", "did you mean \"cloudflare\"?".to_owned()),
        (
            "bind",
            format!(
                "known kinds: {}",
                crate::provider::registry::names().join(", ")
            ),
        ),
    ] {
        let e = default::provider_example(kind).unwrap_err();
        assert_eq!(e.to_string(), format!("unknown provider kind {kind:?}"));
        assert_eq!(e.hint(), Some(hint));
    }
}

/// What `init --provider cloudflare` says in a build without the `http` feature (the error is
/// built from `provider::LEFT_OUT` there; the default build has every kind).
#[test]
fn init_provider_of_a_left_out_kind_names_the_feature() {
    let e = Error::KindLeftOut {
        kind: "cloudflare".to_owned(),
        feature: "http",
    };
    assert_eq!(
        e.to_string(),
        "provider kind \"cloudflare\" is not available: ddnsd was built without the http feature"
    );
    assert_eq!(
        e.hint().as_deref(),
        Some("use a build with the default features (cargo feature `http`)")
    );
}

#[test]
fn embedded_default_builds() {
    let c = build::build(
        &default::embedded("vm"),
        Origin::Embedded,
        &env,
        super::Purpose::Run,
    )
    .unwrap();
    assert_eq!(c.records[0].name.as_str(), "vm.example.invalid");
    assert_eq!(c.providers["preview"].kind(), "dry-run");
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

#[cfg(feature = "http")]
const SOURCE_KINDS_GOOD: &str = r#"
[sources.wan]
kind = "interface"
interface = "eth0"

[sources.echo6]
kind = "http"
urls = ["http://[::1]:8080/", "https://api6.ipify.org"]
consensus = 2
timeout = "2s"

[sources.echo4]
kind = "http"
family = "ipv4"

[sources.cf]
kind = "dns"

[sources.mine]
kind = "dns"
family = "ipv4"
resolver = "127.0.0.1:5353"
name = "whoami.test"
type = "txt"
class = "ch"

[sources.script]
kind = "command"
command = ["/usr/local/bin/myip", "-6"]

[sources.nas]
kind = "prefix"
from = "wan"
mac = "06:cd:ba:11:05:35"

[sources.printer]
kind = "prefix"
from = "wan"
prefix_length = 60
subnet_id = 0x3
suffix = "::1234:5678:9abc:def0"
"#;

// The config names `http` sources.
#[cfg(feature = "http")]
#[test]
fn source_kinds_build_with_defaults() {
    use crate::addr::dns::{QueryClass, QueryType};
    use crate::addr::prefix::HostPart;
    use crate::addr::SourceSettings as S;
    use crate::record::Family;
    use std::time::Duration;

    let c = from_text(SOURCE_KINDS_GOOD, Path::new("t.toml"), &env).unwrap();
    let S::Http(h) = &c.sources["echo6"] else {
        panic!()
    };
    assert_eq!(
        (h.family, h.consensus, h.timeout),
        (Family::Ipv6, Some(2), Duration::from_secs(2))
    );
    let S::Http(h) = &c.sources["echo4"] else {
        panic!()
    };
    assert_eq!(h.urls[0], "https://api.ipify.org");
    assert_eq!((h.consensus, h.timeout), (None, Duration::from_secs(5)));
    let S::Dns(d) = &c.sources["cf"] else {
        panic!()
    };
    assert_eq!(d.resolver.to_string(), "[2606:4700:4700::1111]:53");
    assert_eq!(d.query.to_string(), "whoami.cloudflare. TXT CH");
    let S::Dns(d) = &c.sources["mine"] else {
        panic!()
    };
    assert_eq!(
        (d.query.name.as_str(), d.query.rtype, d.query.class),
        ("whoami.test.", QueryType::Txt, QueryClass::Ch)
    );
    let S::Command(cmd) = &c.sources["script"] else {
        panic!()
    };
    assert_eq!(cmd.timeout, Duration::from_secs(10));
    let S::Prefix(p) = &c.sources["nas"] else {
        panic!()
    };
    assert_eq!((p.prefix_length, p.subnet_id), (64, 0));
    assert_eq!(p.host, HostPart::Mac([6, 0xcd, 0xba, 0x11, 5, 0x35]));
    let S::Prefix(p) = &c.sources["printer"] else {
        panic!()
    };
    assert_eq!((p.prefix_length, p.subnet_id), (60, 3));
}

// Its configs name kinds of the `http` feature (the router build's own table is
// `left_out_features_are_named`).
#[cfg(feature = "http")]
#[test]
fn source_kinds_diagnostics() {
    let cases: &[(&str, &str)] = &[
        (
            "[sources.e]\nkind = \"http\"\nurls = []\n",
            "t.toml:3:8: `urls` in [sources.e] is empty\n  hint: omit `urls` to use the built-in echo services",
        ),
        (
            "[sources.e]\nkind = \"http\"\nurls = [\"ftp://x\", \"http://[::1]/\"]\nconsensus = 3\n",
            "t.toml:3:9: url \"ftp://x\" is not an http(s) URL\nt.toml:4:13: consensus 3 is out of range: there are 2 urls\n  hint: use a number from 1 to the number of urls (2 is a good choice)",
        ),
        (
            "[sources.e]\nkind = \"http\"\nurl = \"http://[::1]/\"\n",
            "t.toml:3:1: unknown key `url` in [sources.e]\n  hint: did you mean `urls`?",
        ),
        (
            "[sources.d]\nkind = \"dns\"\nquery = \"opendsn\"\n",
            "t.toml:3:9: unknown query \"opendsn\"\n  hint: did you mean \"opendns\"?",
        ),
        (
            "[sources.d]\nkind = \"dns\"\nquery = \"google\"\nname = \"x.test\"\nresolver = \"127.0.0.1\"\n",
            "t.toml:4:8: give either `query` or `name`, not both\n  hint: `query` picks a preset; `name`, `type` and `class` spell the question out\nt.toml:5:12: resolver 127.0.0.1:53 is an ipv4 address but family is ipv6\n  hint: the query goes out over the source's family: give a resolver of that family",
        ),
        (
            "[sources.d]\nkind = \"dns\"\nname = \"x.test\"\n",
            "t.toml:3:8: `name` needs a `resolver` to ask\n  hint: add resolver = \"IP[:PORT]\"",
        ),
        (
            "[sources.d]\nkind = \"dns\"\ntype = \"TXT\"\n",
            "t.toml:3:8: `type` is only used with `name`",
        ),
        (
            "[sources.d]\nkind = \"dns\"\nresolver = \"127.0.0.1\"\nname = \"x.test\"\ntype = \"A\"\n",
            "t.toml:3:12: resolver 127.0.0.1:53 is an ipv4 address but family is ipv6\n  hint: the query goes out over the source's family: give a resolver of that family\nt.toml:5:8: type A answers with an address of the other family than ipv6\n  hint: use AAAA for ipv6 and A for ipv4",
        ),
        (
            "[sources.d]\nkind = \"dns\"\nresolver = \"::1\"\nname = \"x.test\"\ntype = \"MX\"\nclass = \"HS\"\n",
            "t.toml:5:8: unknown type \"MX\"\n  hint: use \"A\", \"AAAA\" or \"TXT\"\nt.toml:6:9: unknown class \"HS\"\n  hint: use \"IN\" or \"CH\"",
        ),
        (
            "[sources.c]\nkind = \"command\"\ncommand = []\n",
            "t.toml:3:11: `command` in [sources.c] has no program\n  hint: write the program and its arguments, e.g. [\"/usr/local/bin/myip\", \"-6\"] (no shell unless you write \"sh\", \"-c\")",
        ),
        (
            "[sources.c]\nkind = \"command\"\ncommand = [\"x\"]\ntimeout = \"0s\"\nfamily = \"ip6\"\n",
            "t.toml:4:11: timeout must be longer than zero\nt.toml:5:10: unknown family \"ip6\"\n  hint: use \"ipv6\" or \"ipv4\"",
        ),
        (
            "[sources.p]\nkind = \"prefix\"\nfrom = \"wan\"\n",
            "t.toml:1:1: [sources.p] needs `suffix` or `mac` (the host part)\n  hint: e.g. suffix = \"::1234:5678:9abc:def0\" or mac = \"aa:bb:cc:dd:ee:ff\"\nt.toml:3:8: [sources.p] takes its prefix from source \"wan\", which is not defined\n  hint: add a [sources.wan] table (usually kind = \"interface\")",
        ),
        (
            "[sources.w]\nkind = \"interface\"\n[sources.p]\nkind = \"prefix\"\nfrom = \"w\"\nsuffix = \"::1\"\nmac = \"06:cd:ba:11:05:35\"\n",
            "t.toml:7:7: give either `suffix` or `mac` in [sources.p], not both\n  hint: `suffix` is the host part as written; `mac` derives it (modified EUI-64)",
        ),
        (
            "[sources.w]\nkind = \"interface\"\n[sources.p]\nkind = \"prefix\"\nfrom = \"w\"\nsuffix = \"0:0:0:1::1\"\n",
            "t.toml:6:10: suffix ::1:0:0:0:1 has bits inside the /64 prefix",
        ),
        (
            "[sources.w]\nkind = \"interface\"\n[sources.p]\nkind = \"prefix\"\nfrom = \"w\"\nprefix_length = 60\nsubnet_id = 16\nmac = \"06:cd:ba:11:05\"\n",
            "t.toml:8:7: mac \"06:cd:ba:11:05\" is not a MAC address\n  hint: write six hex bytes, e.g. \"aa:bb:cc:dd:ee:ff\"",
        ),
        (
            "[sources.w]\nkind = \"interface\"\n[sources.p]\nkind = \"prefix\"\nfrom = \"w\"\nprefix_length = 60\nsubnet_id = 16\nsuffix = \"::1\"\n",
            "t.toml:7:13: subnet_id 16 does not fit in the 4 bits between the prefix and /64 (at most 15)",
        ),
        (
            "[sources.w]\nkind = \"interface\"\n[sources.p]\nkind = \"prefix\"\nfrom = \"w\"\nprefix_length = 72\nsuffix = \"::1\"\n",
            "t.toml:6:17: prefix_length 72 is out of range\n  hint: use 1 to 64 (the host part needs the last 64 bits); 64 when the interface has a /64",
        ),
        (
            "[sources.w]\nkind = \"interface\"\n[sources.p]\nkind = \"prefix\"\nfrom = \"x\"\nsuffix = \"::1\"\n",
            "t.toml:5:8: [sources.p] takes its prefix from source \"x\", which is not defined\n  hint: defined sources: w",
        ),
        (
            "[sources.w4]\nkind = \"interface\"\nfamily = \"ipv4\"\n[sources.p]\nkind = \"prefix\"\nfrom = \"w4\"\nsuffix = \"::1\"\n",
            "t.toml:6:8: [sources.p] takes its prefix from source \"w4\", which is not an ipv6 source\n  hint: name a source with family = \"ipv6\" (usually an interface)",
        ),
        (
            "[sources.a]\nkind = \"prefix\"\nfrom = \"b\"\nsuffix = \"::1\"\n[sources.b]\nkind = \"prefix\"\nfrom = \"a\"\nsuffix = \"::2\"\n",
            "t.toml:3:8: prefix sources take their prefix from each other in a cycle: a → b → a\n  hint: one source in the chain must take its prefix from an interface source\nt.toml:7:8: prefix sources take their prefix from each other in a cycle: b → a → b\n  hint: one source in the chain must take its prefix from an interface source",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(problems(text), *want, "config:\n{text}");
    }
}

const LAN_BASE: &str = "[sources.lan6]\nkind = \"interface\"\ninterface = \"br-lan\"\n[providers.p]\nkind = \"dry-run\"\n";

/// See: issue 12. The LAN kinds and the record keys build; every mistake is placed.
#[test]
fn lan_sources_and_record_lifetimes() {
    let good = format!(
        "{LAN_BASE}[sources.nas]\nkind = \"neighbors\"\ninterface = \"br-lan\"\nfrom = \"lan6\"\nmac = \"52:54:00:12:34:56\"\n\
         [sources.tv]\nkind = \"neighbors\"\ninterface = \"br-lan\"\nfrom = \"lan6\"\nhostname = \"tv\"\nleases = \"/tmp/hosts/odhcpd\"\nselect = \"all\"\nprobe = false\n\
         [sources.pc]\nkind = \"leases\"\nfile = \"/var/lib/misc/dnsmasq.leases\"\nformat = \"dnsmasq\"\nduid = \"00:03:00:01:52:54:00:12:34:56\"\n\
         [[records]]\nname = \"nas.example.test\"\nprovider = \"p\"\nsources = [\"nas\"]\nttl = \"auto\"\non_gone = \"delete\"\ngrace = \"2h\"\n\
         [[records]]\nname = \"tv.example.test\"\nprovider = \"p\"\nsources = [\"tv\", \"pc\"]\n"
    );
    let c = from_text(&good, Path::new("t.toml"), &env).unwrap();
    assert!(c.records[0].ttl_auto);
    assert_eq!(c.records[0].ttl.0, 300);
    assert_eq!(
        c.records[0].on_gone,
        crate::record::OnGone::Delete {
            grace: std::time::Duration::from_secs(7200)
        }
    );
    assert_eq!(c.records[1].on_gone, crate::record::OnGone::Keep);
    assert!(!c.records[1].ttl_auto);
    let crate::addr::SourceSettings::Neighbors(tv) = &c.sources["tv"] else {
        panic!("{:?}", c.sources["tv"]);
    };
    assert_eq!(tv.select, crate::addr::policy::Select::All);
    assert!(!tv.probe);
    let crate::addr::SourceSettings::Leases(pc) = &c.sources["pc"] else {
        panic!("{:?}", c.sources["pc"]);
    };
    assert_eq!(
        pc.host,
        crate::addr::leases::HostKey::Duid("00030001525400123456".into())
    );
    let cases: &[(&str, &str)] = &[
        (
            "[sources.n]\nkind = \"neighbors\"\ninterface = \"br-lan\"\nfrom = \"lan6\"\n",
            "t.toml:6:1: [sources.n] needs `mac` or `hostname` (which host)\n  hint: e.g. mac = \"aa:bb:cc:dd:ee:ff\"",
        ),
        (
            "[sources.n]\nkind = \"neighbors\"\ninterface = \"br-lan\"\nfrom = \"lan6\"\nhostname = \"tv\"\n",
            "t.toml:10:12: `hostname` in [sources.n] needs `leases`, the lease file naming the host\n  hint: e.g. leases = \"/tmp/hosts/odhcpd\" (OpenWrt) or \"/var/lib/misc/dnsmasq.leases\" with leases_format = \"dnsmasq\"",
        ),
        (
            "[sources.n]\nkind = \"neighbors\"\ninterface = \"br-lan\"\nfrom = \"wan\"\nmac = \"52:54:00:12:34\"\n",
            "t.toml:9:8: [sources.n] takes its prefix from source \"wan\", which is not defined\n  hint: defined sources: lan6\nt.toml:10:7: mac \"52:54:00:12:34\" is not a MAC address\n  hint: write six hex bytes, e.g. \"aa:bb:cc:dd:ee:ff\"",
        ),
        (
            "[sources.l]\nkind = \"leases\"\nfile = \"/tmp/x\"\nformat = \"isc\"\nhostname = \"a\"\nmac = \"52:54:00:12:34:56\"\n",
            "t.toml:6:1: give one of `hostname`, `duid` or `mac` in [sources.l]\n  hint: each leases source publishes one host\nt.toml:9:10: unknown lease file format \"isc\"\n  hint: use \"odhcpd\" (OpenWrt) or \"dnsmasq\"",
        ),
        (
            "[[records]]\nname = \"a.example.test\"\nprovider = \"p\"\nsources = [\"lan6\"]\non_gone = \"drop\"\ngrace = \"1h\"\n",
            "t.toml:10:11: unknown on_gone \"drop\"\n  hint: use \"keep\" (the default: the record stays) or \"delete\" (withdrawn after grace)",
        ),
        (
            "[[records]]\nname = \"a.example.test\"\nprovider = \"p\"\nsources = [\"lan6\"]\ngrace = \"1h\"\n",
            "t.toml:10:9: `grace` is only used with on_gone = \"delete\"\n  hint: add on_gone = \"delete\" to withdraw the record after grace, or remove grace",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(
            problems(&format!("{LAN_BASE}{text}")),
            *want,
            "config:\n{text}"
        );
    }
}

/// The router build (`--no-default-features`) refuses what it left out by name, with the way
/// out, and keeps checking the rest of the config (issue 13).
#[cfg(not(any(feature = "http", feature = "status")))]
#[test]
fn left_out_features_are_named() {
    let text = "[status]\nlisten = \"127.0.0.1:9753\"\n[heartbeat]\nurl = \"https://hc-ping.com/x\"\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n[sources.e]\nkind = \"http\"\n[providers.cf]\nkind = \"cloudflare\"\nzone = \"example.com\"\ntoken = \"x\"\n[providers.p]\nkind = \"dry-run\"\n[[records]]\nname = \"h.example.com\"\nprovider = \"p\"\nsources = [\"s\"]\n[[records]]\nname = \"h.example.com\"\nprovider = \"p\"\nsources = [\"s\"]\n";
    assert_eq!(
        problems(text),
        concat!(
            "t.toml:1:1: [status] is not available: ddnsd was built without the status feature\n",
            "  hint: use a build with the default features (cargo feature `status`), or remove [status]\n",
            "t.toml:3:1: [heartbeat] is not available: ddnsd was built without the http feature\n",
            "  hint: use a build with the default features (cargo feature `http`), or remove [heartbeat]\n",
            "t.toml:9:8: kind \"http\" in [sources.e] is not available: ddnsd was built without the http feature\n",
            "  hint: use a build with the default features (cargo feature `http`), or a kind this build has\n",
            "t.toml:11:8: kind \"cloudflare\" in [providers.cf] is not available: ddnsd was built without the http feature\n",
            "  hint: use a build with the default features (cargo feature `http`), or a kind this build has\n",
            "t.toml:21:8: h.example.com AAAA is also managed by [[records]] #1\n",
            "  hint: list every source of one name in a single [[records]] entry",
        )
    );
    let e = default::provider_example("cloudflare").unwrap_err();
    assert_eq!(
        e.to_string(),
        "provider kind \"cloudflare\" is not available: ddnsd was built without the http feature"
    );
}
