//! The command-line contract: exit codes, `init` | `check`, messages.

use crate::harness::{ddnsd, output, write};

#[test]
fn init_prints_an_example_that_check_accepts() {
    let (code, example, _) = output({
        let mut c = ddnsd();
        c.arg("init");
        c
    });
    assert_eq!(code, 0);
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "ddnsd.toml", &example);
    let mut c = ddnsd();
    c.env("DDNSD_TSIG_SECRET", "c2VjcmV0")
        .args(["check", "-c", &path]);
    let (code, stdout, stderr) = output(c);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(
        stdout,
        format!("{path}: ok (3 sources, 1 providers, 2 records)\n")
    );
    // After the example, every kind's block, commented out.
    for kind in ddnsd::provider::KINDS {
        assert!(
            example.contains(&format!(
                "\n# {} — {}\n# [providers.",
                kind.name, kind.about
            )),
            "{}",
            kind.name
        );
    }
}

/// See: issue 10 (`ddnsd init --provider KIND`).
#[test]
fn init_provider_prints_one_kinds_block_or_suggests_a_kind() {
    let (code, stdout, stderr) = output({
        let mut c = ddnsd();
        c.args(["init", "--provider", "rfc2136"]);
        c
    });
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(
        stdout,
        r#"# rfc2136 — DNS UPDATE (RFC 2136) with TSIG: BIND, Knot, PowerDNS, any primary server
[providers.home]
kind = "rfc2136"
server = "192.0.2.53:53"       # the primary's address (IP or IP:PORT)
zone = "example.test"          # omit to find it with an SOA query
tsig_name = "ddnsd-key"        # the key's name as the server knows it
tsig_algorithm = "hmac-sha256" # or "hmac-sha512"
tsig_secret_env = "DDNSD_TSIG_SECRET"   # or tsig_secret_file = "/etc/ddnsd/tsig.b64"
# timeout = "5s"
# batch = true                 # one UPDATE per zone; false: one per name (see the README for Knot)
# sign_queries = false         # true when the server answers only TSIG-signed queries
"#
    );
    // No close name: every kind, in registry order (a new kind joins the list by itself).
    let known = ddnsd::provider::registry::names().join(", ");
    assert!(
        known.starts_with("rfc2136, tencentcloud, dnspod, "),
        "{known}"
    );
    for (kind, stderr) in [
        (
            "cloudflar",
            "error: unknown provider kind \"cloudflar\"\n  hint: did you mean \"cloudflare\"?\n"
                .to_owned(),
        ),
        (
            "bind",
            format!("error: unknown provider kind \"bind\"\n  hint: known kinds: {known}\n"),
        ),
    ] {
        let mut c = ddnsd();
        c.args(["init", "--provider", kind]);
        assert_eq!(output(c), (2, String::new(), stderr), "{kind}");
    }
}

#[test]
fn bad_config_exits_2_with_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "bad.toml",
        "[daemon]\nintervl = \"5m\"\nverify_interval = \"1x\"\n",
    );
    for cmd in [&["check"][..], &["run", "--once"], &["detect"]] {
        let mut c = ddnsd();
        c.args(cmd).args(["-c", &path]);
        let (code, stdout, stderr) = output(c);
        assert_eq!(code, 2, "{cmd:?}");
        assert_eq!(stdout, "");
        assert_eq!(
            stderr,
            format!(
                "{path}:2:1: unknown key `intervl` in [daemon]\n  hint: did you mean `interval`?\n{path}:3:19: verify_interval: unknown unit \"x\" in duration \"1x\"; use ms, s, m, h or d\n"
            )
        );
    }
}

#[test]
fn named_config_that_is_missing_is_an_error_even_via_env() {
    let mut c = ddnsd();
    c.env("DDNSD_CONFIG", "/nonexistent/ddnsd.toml")
        .arg("check");
    let (code, _, stderr) = output(c);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: config file /nonexistent/ddnsd.toml does not exist\n  hint: `ddnsd init > FILE` writes a commented example to start from\n"
    );
}

#[test]
fn usage_errors_exit_2_and_version_works() {
    let mut c = ddnsd();
    c.args(["run", "--bogus"]);
    assert_eq!(output(c).0, 2);
    let mut c = ddnsd();
    c.arg("--version");
    let (code, stdout, _) = output(c);
    assert_eq!(
        (code, stdout.trim()),
        (0, concat!("ddnsd ", env!("CARGO_PKG_VERSION")))
    );
}

#[test]
fn state_dir_unwritable_is_exit_1_with_hint() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the state directory should be: no user (even root) can write there.
    let blocker = write(dir.path(), "blocker", "");
    let cfg = format!(
        "[daemon]\nstate_file = \"{blocker}/state.json\"\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n[providers.p]\nkind = \"rfc2136\"\nserver = \"127.0.0.1:1\"\ntimeout = \"1s\"\n[[records]]\nname = \"h.example.test\"\nprovider = \"p\"\nsources = [\"s\"]\n"
    );
    let path = write(dir.path(), "c.toml", &cfg);
    let mut c = ddnsd();
    c.args(["run", "--once", "--dry-run", "-c", &path]);
    let (code, stdout, stderr) = output(c);
    // A dry run reads state but writes none: the unreadable state is reported, nothing else.
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("hint: make sure the directory of"),
        "{stderr}"
    );
}

/// See: issue 8 (logs fit where they go). A pipe or a file gets no escape codes; the journal
/// (JOURNAL_STREAM naming stderr's device and inode) gets `<N>` priority prefixes.
#[test]
fn logs_have_no_colour_off_a_terminal_and_priorities_in_the_journal() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "ddnsd.toml",
        &format!(
            "[daemon]\nstate_file = \"{}/state.json\"\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n[providers.p]\nkind = \"dry-run\"\n[[records]]\nname = \"h.example.test\"\nprovider = \"p\"\nsources = [\"s\"]\n",
            dir.path().display()
        ),
    );
    let mut c = ddnsd();
    c.args(["--log-level", "debug", "run", "--once", "-c", &cfg]);
    let (code, _, stderr) = output(c);
    assert_eq!(code, 0);
    assert!(stderr.contains("planned"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "escape codes in a pipe: {stderr:?}"
    );

    // The journal: stderr is a file whose device and inode JOURNAL_STREAM names.
    let log = dir.path().join("journal.log");
    let file = std::fs::File::create(&log).unwrap();
    let meta = file.metadata().unwrap();
    let mut c = ddnsd();
    c.args(["--log-level", "debug", "run", "--once", "-c", &cfg])
        .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
        .stderr(file);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.is_empty());
    for line in text.lines() {
        assert!(
            line.starts_with("<7>") || line.starts_with("<6>") || line.starts_with("<4>"),
            "no priority prefix: {line:?}"
        );
        assert!(!line.contains('\u{1b}'), "{line:?}");
    }
    assert!(
        text.contains("<7>planned record=h.example.test AAAA"),
        "{text}"
    );

    // JOURNAL_STREAM inherited by a process whose stderr went elsewhere: plain lines.
    let mut c = ddnsd();
    c.args(["--log-level", "debug", "run", "--once", "-c", &cfg])
        .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()));
    let (_, _, stderr) = output(c);
    assert!(
        !stderr.contains("<7>") && stderr.contains("DEBUG"),
        "{stderr}"
    );
}

/// See: issue 8 (`check` and service-only secrets). `ddnsd init > x.toml && ddnsd check -c
/// x.toml` exits 0 in a shell without the service's environment, warning about the variable;
/// `run` still refuses it.
#[test]
fn check_warns_about_a_secret_only_the_service_has_and_run_refuses_it() {
    let (_, example, _) = output({
        let mut c = ddnsd();
        c.arg("init");
        c
    });
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "ddnsd.toml", &example);
    let mut c = ddnsd();
    c.env_remove("DDNSD_TSIG_SECRET")
        .args(["check", "-c", &path]);
    let (code, stdout, stderr) = output(c);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.ends_with(": ok (3 sources, 1 providers, 2 records)\n"),
        "{stdout}"
    );
    let line = example
        .lines()
        .position(|l| l.starts_with("tsig_secret_env"))
        .unwrap()
        + 1;
    assert_eq!(
        stderr,
        format!(
            "{path}:{line}:19: warning: environment variable \"DDNSD_TSIG_SECRET\" (named by tsig_secret_env) is not set; `ddnsd run` will need it\n  hint: export DDNSD_TSIG_SECRET=… in the service's environment, or use tsig_secret_file\n"
        )
    );
    let mut c = ddnsd();
    c.env_remove("DDNSD_TSIG_SECRET")
        .args(["run", "--once", "--dry-run", "-c", &path]);
    let (code, _, stderr) = output(c);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with(&format!(
            "{path}:{line}:19: environment variable \"DDNSD_TSIG_SECRET\" (named by tsig_secret_env) is not set\n"
        )),
        "{stderr}"
    );
}

/// See: issue 8 (secrets stay put). A secret read from an environment variable is gone from
/// the environment a command source runs with, and so is everything else not listed.
#[test]
fn command_sources_run_with_a_clean_environment() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "ddnsd.toml",
        &format!(
            r#"[daemon]
state_file = "{}/state.json"

[sources.probe]
kind = "command"
# Prints the address only when the environment is as promised.
command = ["sh", "-c", "test -z \"$DDNSD_TEST_SECRET\" && test -z \"$UNLISTED\" && test \"$LISTED\" = yes && test -n \"$PATH\" && echo 2001:db8::7"]
env = ["LISTED"]

[providers.p]
kind = "tencentcloud"
secret_id = "AKIDexample"
secret_key_env = "DDNSD_TEST_SECRET"
endpoint = "http://127.0.0.1:1"

[[records]]
name = "h.example.test"
provider = "p"
sources = ["probe"]
"#,
            dir.path().display()
        ),
    );
    let mut c = ddnsd();
    c.env("DDNSD_TEST_SECRET", "hunter2-marker")
        .env("UNLISTED", "x")
        .env("LISTED", "yes")
        .args(["run", "--once", "-c", &cfg]);
    let (code, stdout, stderr) = output(c);
    // The source worked (the record got as far as the unreachable provider).
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with("h.example.test AAAA 2001:db8::7  failed: "),
        "{stdout}{stderr}"
    );
    assert!(!stdout.contains("hunter2") && !stderr.contains("hunter2"));
}
