//! Official SDKs from PyPI for signer cross-checks: a venv under `target/NAME-sdk-venv`
//! created and filled with pip by the test that needs it, and a runner that feeds a script
//! under `tests/sdk/` one JSON case per line. Panics (so the test fails) when Python or the
//! package cannot be had.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Serialises venv creation between tests of one process.
static LOCK: Mutex<()> = Mutex::new(());

/// The venv's python with `packages` installed, once `import` works
/// (`target/NAME-sdk-venv`).
pub fn python(name: &str, packages: &[&str], import: &str) -> PathBuf {
    venv(&format!("{name}-sdk-venv"), packages, import).join("bin/python")
}

/// A venv `target/DIR` with `packages` installed, once `import` works; created (or, when a
/// run that was cut short left it broken, created anew) with pip. Panics, so the test fails,
/// when Python or the packages cannot be had.
pub fn venv(dir: &str, packages: &[&str], import: &str) -> PathBuf {
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(dir);
    let python = dir.join("bin/python");
    let ready = |p: &Path| {
        Command::new(p)
            .args(["-c", &format!("import {import}")])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready(&python) {
        return dir;
    }
    // --clear: a venv whose creation was interrupted (a full disk, a killed run) has pip
    // scripts pointing at an interpreter that is not there.
    let st = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&dir)
        .status()
        .expect("python3 must be installed (scripts/test installs python3-venv)");
    assert!(st.success(), "python3 -m venv {} failed", dir.display());
    let st = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet"])
        .args(packages)
        .status()
        .expect("run pip");
    assert!(st.success(), "pip install {packages:?} failed");
    assert!(
        ready(&python),
        "{import} does not import after installing {packages:?}"
    );
    dir
}

/// Runs `tests/sdk/SCRIPT` with `python`, one JSON case per line in, one JSON line per case
/// out.
pub fn run(python: &Path, script: &str, cases: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sdk")
        .join(script);
    let mut child = Command::new(python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for c in cases {
            writeln!(stdin, "{c}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{} failed", script.display());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), cases.len());
    lines
}
