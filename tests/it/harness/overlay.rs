//! A throw-away view of this machine for tests that install things system-wide (the .deb):
//! a private mount namespace where /usr, /etc and /var are overlays whose writes land on a
//! tmpfs. dpkg run inside it installs and purges for real, against the machine's own dpkg
//! database, while the machine itself — including a ddnsd package or an /etc/ddnsd that is
//! really installed — stays exactly as it was. The namespace dies with its holder process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The directories the overlay covers: everything dpkg and a package's maintainer scripts write.
const COVERED: &[&str] = &["/usr", "/etc", "/var"];

/// A mount namespace held open by a sleeping process; commands enter it with nsenter.
pub struct Overlay {
    holder: Child,
    _upper: tempfile::TempDir,
}

impl Overlay {
    /// Sets the namespace up; panics with the setup's own error output when the kernel or the
    /// tools refuse (the test needs root, unshare and overlayfs, as CI has).
    pub fn new() -> Overlay {
        let upper = tempfile::tempdir().unwrap();
        // The upper and work dirs live on a tmpfs mounted inside the namespace: overlayfs
        // refuses an upper dir on an overlay (the root of a container), and nothing is left
        // on disk when the holder goes.
        let script = format!(
            r#"set -e
mount -t tmpfs ddnsd-test-overlay "$0"
for d in {dirs}; do
  n=$(echo "$d" | tr / _)
  mkdir -p "$0/upper$n" "$0/work$n"
  mount -t overlay overlay -o "lowerdir=$d,upperdir=$0/upper$n,workdir=$0/work$n" "$d"
done
echo ready
exec sleep 3600"#,
            dirs = COVERED.join(" ")
        );
        let mut holder = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .arg(upper.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run unshare (util-linux): {e}"));
        let mut line = String::new();
        let stdout = holder.stdout.take().unwrap();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        if line.trim() != "ready" {
            let _ = holder.kill();
            let out = holder.wait_with_output().unwrap();
            panic!(
                "cannot set up the overlay namespace (needs root and overlayfs): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Overlay {
            holder,
            _upper: upper,
        }
    }

    /// `program` run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("-t")
            .arg(self.holder.id().to_string())
            .args(["--mount", "--"])
            .arg(program);
        c
    }

    /// Where `path` (absolute) of the namespace's view is reachable from outside it.
    pub fn path(&self, path: &str) -> PathBuf {
        Path::new(&format!("/proc/{}/root", self.holder.id())).join(path.trim_start_matches('/'))
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
