//! Packages: the generated text kept under dist/ (man pages, shell completions, the .deb's
//! conffile) equals what the binary generates and is accepted by what reads it (groff, bash,
//! zsh, fish); the .deb built by cargo-deb from Cargo.toml's [package.metadata.deb] installs
//! with dpkg (in a throw-away overlay of this machine: harness/overlay.rs), passes `ddnsd
//! check`, and leaves nothing behind when purged.
//!
//! Refresh the dist/ copies after a CLI or `init` change:
//! `DDNSD_BLESS=1 cargo test --test it -- packaging::dist_copies`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::overlay::Overlay;
use crate::harness::{ddnsd, output};

/// The commands with a page of their own (ddnsd-COMMAND(1)).
const PAGES: &[&str] = &[
    "run",
    "detect",
    "check",
    "status",
    "init",
    "completions",
    "man",
];
/// Completion scripts: (shell, file under dist/).
const SHELLS: &[(&str, &str)] = &[
    ("bash", "dist/completions/ddnsd.bash"),
    ("zsh", "dist/completions/_ddnsd"),
    ("fish", "dist/completions/ddnsd.fish"),
];
/// Where the .deb puts the config (a conffile).
const CONFFILE: &str = "/etc/ddnsd/ddnsd.toml";

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn stdout_of(args: &[&str]) -> String {
    let mut c = ddnsd();
    c.args(args);
    let (code, out, err) = output(c);
    assert_eq!((code, err.as_str()), (0, ""), "ddnsd {args:?}");
    out
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The package's config: `ddnsd init`'s example, made to publish nothing until edited (every
/// record goes to the dry-run provider, whose block `ddnsd init --provider dry-run` gives; the
/// rfc2136 provider, whose secret comes from an environment variable the service does not
/// have, is commented out; and the interface sources consider every interface rather than an
/// `eth0` the machine may not have).
fn conffile_from_init(init: &str, dry_run: &str) -> String {
    let mut out = String::from(
        "# /etc/ddnsd/ddnsd.toml as installed by the ddnsd package: the example `ddnsd init`\n\
         # prints, set to publish nothing until you edit it. Every record goes to the dry-run\n\
         # provider \"preview\"; fill in [providers.home], point the records at it, check with\n\
         # `ddnsd check`, then `systemctl enable --now ddnsd`. ddnsd.service hands secrets over\n\
         # from /etc/ddnsd/credentials/ (LoadCredential=, e.g. tsig.b64, chmod 600): refer to\n\
         # them as tsig_secret_file = \"${CREDENTIALS_DIRECTORY}/tsig.b64\".\n\n",
    );
    let mut in_home = false;
    for line in init.lines() {
        if line == "[providers.home]" {
            in_home = true;
        } else if line.is_empty() && in_home {
            in_home = false;
            out.push('\n');
            out.push_str(dry_run);
        }
        if in_home || line.starts_with("interface = ") {
            out.push_str("# ");
            out.push_str(line);
        } else if line.starts_with("provider = \"home\"") {
            out.push_str(
                "provider = \"preview\"           # \"home\" once [providers.home] is filled in",
            );
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Every generated file kept under dist/, with the text it must hold.
fn generated() -> Vec<(String, String)> {
    let mut files = vec![("dist/man/ddnsd.1".to_owned(), stdout_of(&["man"]))];
    for page in PAGES {
        files.push((
            format!("dist/man/ddnsd-{page}.1"),
            stdout_of(&["man", page]),
        ));
    }
    for (shell, path) in SHELLS {
        files.push(((*path).to_owned(), stdout_of(&["completions", shell])));
    }
    files.push((
        "dist/debian/ddnsd.toml".to_owned(),
        conffile_from_init(
            &stdout_of(&["init"]),
            &stdout_of(&["init", "--provider", "dry-run"]),
        ),
    ));
    files
}

#[test]
fn dist_copies_equal_what_the_binary_generates() {
    let bless = std::env::var_os("DDNSD_BLESS").is_some();
    let mut stale = Vec::new();
    for (path, want) in generated() {
        let file = repo(&path);
        if std::fs::read_to_string(&file).ok().as_deref() == Some(want.as_str()) {
            continue;
        }
        if bless {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, want).unwrap();
        } else {
            stale.push(path);
        }
    }
    let pages: BTreeSet<String> = std::fs::read_dir(repo("dist/man"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let want: BTreeSet<String> = std::iter::once("ddnsd.1".to_owned())
        .chain(PAGES.iter().map(|p| format!("ddnsd-{p}.1")))
        .collect();
    assert_eq!(pages, want, "dist/man holds a page for no command");
    assert!(
        stale.is_empty(),
        "stale under dist/: {stale:?}; regenerate with \
         `DDNSD_BLESS=1 cargo test --test it -- packaging::dist_copies`"
    );
}

#[test]
fn man_pages_render_without_warnings() {
    for page in
        std::iter::once("ddnsd".to_owned()).chain(PAGES.iter().map(|p| format!("ddnsd-{p}")))
    {
        let file = repo(&format!("dist/man/{page}.1"));
        let (code, text, err) = run(Command::new("groff")
            // -k: preconv, as man(1) runs it (the pages hold UTF-8 such as "→").
            .args(["-k", "-man", "-Tutf8", "-ww", "-P-cbou"])
            .arg(&file)
            .env("LC_ALL", "C.UTF-8"));
        assert_eq!((code, err.as_str()), (0, ""), "groff on {page}.1");
        assert!(text.contains("NAME"), "{page}: {text}");
        if page == "ddnsd" {
            for section in ["EXIT STATUS", "FILES", "SIGNALS", "SEE ALSO"] {
                assert!(text.contains(section), "ddnsd(1) lacks {section}:\n{text}");
            }
        } else {
            assert!(text.contains(&format!("{}(1)", page)), "{page}: {text}");
        }
    }
}

/// What bash offers after `ddnsd WORDS…` (the last word being completed), through the script
/// bash-completion would load.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let script = repo("dist/completions/ddnsd.bash");
    let quoted: Vec<String> = words.iter().map(|w| format!("{w:?}")).collect();
    let program = format!(
        "source {script:?}\n\
         COMP_WORDS=(ddnsd {words})\n\
         COMP_CWORD={cword}\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         _ddnsd ddnsd {cur:?} {prev:?}\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words = quoted.join(" "),
        cword = words.len(),
        cur = words.last().copied().unwrap_or(""),
        prev = if words.len() > 1 {
            words[words.len() - 2]
        } else {
            "ddnsd"
        },
    );
    let (code, out, err) = run(Command::new("bash").args(["--norc", "-c", &program]));
    assert_eq!((code, err.as_str()), (0, ""), "bash completing {words:?}");
    out.lines().map(str::to_owned).collect()
}

#[test]
fn bash_completion_offers_commands_options_and_values() {
    let (code, _, err) = run(Command::new("bash").arg("-n").arg(repo(SHELLS[0].1)));
    assert_eq!((code, err.as_str()), (0, ""));
    let commands = bash_complete(&[""]);
    for c in ["run", "detect", "check", "init", "completions", "man"] {
        assert!(commands.contains(&c.to_owned()), "{c} not in {commands:?}");
    }
    let run_options = bash_complete(&["run", "--"]);
    for o in [
        "--once",
        "--dry-run",
        "--config",
        "--daemonize",
        "--pid-file",
    ] {
        assert!(
            run_options.contains(&o.to_owned()),
            "{o} not in {run_options:?}"
        );
    }
    let shells = bash_complete(&["completions", ""]);
    for s in ["bash", "zsh", "fish"] {
        assert!(shells.contains(&s.to_owned()), "{s} not in {shells:?}");
    }
    assert!(!shells.contains(&"run".to_owned()), "{shells:?}");
    assert_eq!(
        bash_complete(&["--log-level", ""]),
        ["error", "warn", "info", "debug", "trace"]
    );
}

#[test]
fn zsh_and_fish_accept_their_completions() {
    let (code, _, err) = run(Command::new("zsh").arg("-n").arg(repo(SHELLS[1].1)));
    assert_eq!((code, err.as_str()), (0, ""), "zsh -n");
    // fish can complete a command line itself: the real behaviour, not only the syntax.
    let fish = repo(SHELLS[2].1);
    let program = format!("source {fish:?}; complete -C 'ddnsd ru'; complete -C 'ddnsd run --dr'");
    let (code, out, err) = run(Command::new("fish").args(["--no-config", "-c", &program]));
    assert_eq!((code, err.as_str()), (0, ""), "fish");
    let words: Vec<&str> = out
        .lines()
        .map(|l| l.split('\t').next().unwrap_or(""))
        .collect();
    assert_eq!(words, ["run", "--dry-run"], "{out}");
}

/// dpkg inside the overlay. Triggers are left pending: man-db's index rebuild costs seconds
/// per call, and the overlay is thrown away with whatever it left.
fn dpkg(ov: &Overlay, args: &[&str]) -> (i32, String, String) {
    run(ov.command("dpkg").arg("--no-triggers").args(args))
}

fn dpkg_status(ov: &Overlay) -> String {
    let (_, out, _) = run(ov
        .command("dpkg-query")
        .args(["-W", "-f=${db:Status-Status}", "ddnsd"]));
    out
}

#[test]
fn deb_installs_checks_runs_and_purges() {
    let (code, _, _) = run(Command::new("cargo").args(["deb", "--version"]));
    assert_eq!(
        code, 0,
        "cargo-deb is missing: `cargo install cargo-deb --locked` (scripts/test does)"
    );

    // cargo-deb packages target/release/ddnsd of the target dir it is given: stage the
    // binary under test there (a debug build: --strip takes its 100 MB of debug info out;
    // --fast is xz's fast level, seconds instead of a minute).
    let dir = tempfile::tempdir().unwrap();
    let release = dir.path().join("target/release");
    std::fs::create_dir_all(&release).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_ddnsd"), release.join("ddnsd")).unwrap();
    let deb = dir.path().join("ddnsd.deb");
    let (code, out, err) = run(Command::new("cargo")
        .args([
            "deb",
            "--no-build",
            "--strip",
            "--fast",
            "--offline",
            "--locked",
            "-o",
        ])
        .arg(&deb)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CARGO_TARGET_DIR", dir.path().join("target")));
    assert_eq!(code, 0, "cargo deb:\n{out}\n{err}");

    let (code, out, err) = run(Command::new("dpkg-deb").arg("--info").arg(&deb));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Package: ddnsd"), "{out}");
    assert!(out.contains("Depends: libc6"), "shlibdeps: {out}");

    // Installed for real, but in a throw-away view of this machine: a ddnsd package or an
    // /etc/ddnsd that is really here is neither in the way nor touched. In the view, a
    // package already installed is purged first so that this is a first install.
    let ov = Overlay::new();
    if !matches!(dpkg_status(&ov).as_str(), "" | "not-installed") {
        let (code, _, err) = dpkg(&ov, &["--purge", "ddnsd"]);
        assert_eq!(
            code, 0,
            "purging the machine's own ddnsd in the overlay: {err}"
        );
    }
    let (code, _, err) = run(ov.command("rm").args(["-rf", "/etc/ddnsd"]));
    assert_eq!(code, 0, "{err}");

    let (code, out, err) = dpkg(&ov, &["-i", deb.to_str().unwrap()]);
    assert_eq!(code, 0, "dpkg -i:\n{out}\n{err}");
    let (_, files, _) = run(ov.command("dpkg").args(["-L", "ddnsd"]));
    let files: Vec<&str> = files.lines().collect();
    for f in [
        "/usr/bin/ddnsd",
        CONFFILE,
        "/usr/lib/systemd/system/ddnsd.service",
        "/usr/lib/systemd/system/ddnsd-forking.service",
        "/usr/lib/systemd/system/ddnsd-once.service",
        "/usr/lib/systemd/system/ddnsd-once.timer",
        "/usr/share/man/man1/ddnsd.1.gz",
        "/usr/share/man/man1/ddnsd-run.1.gz",
        "/usr/share/man/man1/ddnsd-status.1.gz",
        "/usr/share/bash-completion/completions/ddnsd",
        "/usr/share/zsh/vendor-completions/_ddnsd",
        "/usr/share/fish/vendor_completions.d/ddnsd.fish",
    ] {
        assert!(files.contains(&f), "{f} not in the package: {files:?}");
        assert!(ov.path(f).is_file(), "{f} not installed");
    }
    let (_, conffiles, _) = run(ov
        .command("dpkg-query")
        .args(["-W", "-f=${Conffiles}", "ddnsd"]));
    assert!(conffiles.contains(CONFFILE), "conffiles: {conffiles:?}");
    assert_eq!(
        std::fs::read_to_string(ov.path(CONFFILE)).unwrap(),
        std::fs::read_to_string(repo("dist/debian/ddnsd.toml")).unwrap()
    );
    use std::os::unix::fs::PermissionsExt;
    let credentials = std::fs::metadata(ov.path("/etc/ddnsd/credentials")).unwrap();
    assert!(credentials.is_dir());
    assert_eq!(credentials.permissions().mode() & 0o777, 0o700);

    // The installed binary on the shipped config, found at the default path (no -c, no env).
    let installed = || {
        let mut c = ov.command("/usr/bin/ddnsd");
        c.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("RUST_BACKTRACE", "0")
            .current_dir("/");
        c
    };
    let (code, out, err) = run(installed().arg("check"));
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            0,
            "/etc/ddnsd/ddnsd.toml: ok (3 sources, 1 providers, 2 records)\n",
            ""
        )
    );
    let (code, out, err) = run(installed().args(["run", "--once", "--dry-run"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.lines()
            .any(|l| l == "lab.example.test AAAA 2001:db8::10  would create (dry run)"),
        "{out}"
    );
    let (code, out, _) = run(ov
        .command("man")
        .args(["-w", "ddnsd-run"])
        .env("MANPATH", "/usr/share/man"));
    assert_eq!(
        (code, out.trim()),
        (0, "/usr/share/man/man1/ddnsd-run.1.gz")
    );

    // remove: everything but the conffile goes; purge: the conffile and /etc/ddnsd too.
    let (code, _, err) = dpkg(&ov, &["-r", "ddnsd"]);
    assert_eq!(code, 0, "dpkg -r: {err}");
    assert!(!ov.path("/usr/bin/ddnsd").exists());
    assert!(ov.path(CONFFILE).exists(), "dpkg -r keeps conffiles");
    assert_eq!(dpkg_status(&ov), "config-files");
    let (code, _, err) = dpkg(&ov, &["--purge", "ddnsd"]);
    assert_eq!(code, 0, "dpkg --purge: {err}");
    let left: Vec<&&str> = files
        .iter()
        .filter(|f| ov.path(f).exists() && !ov.path(f).is_dir())
        .collect();
    assert!(left.is_empty(), "left after purge: {left:?}");
    assert!(
        !ov.path("/etc/ddnsd").exists(),
        "/etc/ddnsd left after purge"
    );
    assert!(
        matches!(dpkg_status(&ov).as_str(), "" | "not-installed"),
        "{}",
        dpkg_status(&ov)
    );
}
