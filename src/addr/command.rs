//! `kind = "command"`: run a program (no shell unless the user writes `sh -c`) and read the
//! addresses it prints, one per line (`#` comments and blank lines ignored). A command that
//! overruns its timeout, or prints more than 64 KiB (`limits::MAX_REPLY`) on either stream, is
//! killed with its whole process group and reaped (no zombie).

use std::net::IpAddr;
use std::process::Stdio;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::process::Command;

use super::policy::{select_plain, PolicyOptions, SkipReason, Verdict};
use super::{Candidate, Detection, Source, SourceError};
use crate::limits::{self, TooLarge, MAX_REPLY};
use crate::record::Family;
use crate::secret::Secret;

/// The default time a command may run.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a command's output is quoted in an error.
const HEAD_CHARS: usize = 200;

/// Settings of a command source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandSettings {
    /// The family asked for; addresses of the other family are skipped.
    pub family: Family,
    /// Program and arguments (never empty: config guarantees it).
    pub command: Vec<String>,
    /// Time the command may run.
    pub timeout: Duration,
    /// Rules the addresses are judged by.
    pub policy: PolicyOptions,
    /// The whole environment the command runs with: `PATH`, `HOME`, `LANG` and the variables
    /// the source lists, captured when the config was read. Nothing else of ddnsd's
    /// environment (secrets above all) reaches the command.
    pub env: Vec<(String, Secret<String>)>,
}

/// Why a command gave no addresses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandFailure {
    /// The program could not be started.
    #[error("could not start: {0}")]
    Spawn(String),
    /// It exited with a non-zero status.
    #[error("exited with {status} (stderr: {stderr:?})")]
    Exit {
        /// `status 3` or `signal 9`.
        status: String,
        /// The start of standard error.
        stderr: String,
    },
    /// It ran longer than the timeout and was killed.
    #[error("still running after {}s; killed", .0.as_secs_f32())]
    Timeout(Duration),
    /// A line of its output is not an address.
    #[error("line {line} is not an ip address: {text:?}")]
    Unparsable {
        /// 1-based line number.
        line: usize,
        /// The line (truncated).
        text: String,
    },
    /// It printed no address at all.
    #[error("printed no address (stdout: {stdout:?}, stderr: {stderr:?})")]
    NoAddress {
        /// The start of standard output.
        stdout: String,
        /// The start of standard error.
        stderr: String,
    },
    /// It printed more than ddnsd reads from a command; it was killed.
    #[error("printed more than {} on {stream}; killed", limits::human_size(*cap))]
    TooMuchOutput {
        /// `stdout` or `stderr`.
        stream: &'static str,
        /// The cap, in bytes.
        cap: usize,
    },
    /// Reading its output failed.
    #[error("could not read its output: {0}")]
    Io(String),
}

/// Parses a command's output (pure): one address per line, `#` starts a comment.
pub fn parse_output(stdout: &str) -> Result<Vec<IpAddr>, CommandFailure> {
    let mut out = Vec::new();
    for (i, line) in stdout.lines().enumerate() {
        let text = line.split('#').next().unwrap_or("").trim();
        if text.is_empty() {
            continue;
        }
        match text.parse() {
            Ok(a) => out.push(a),
            Err(_) => {
                return Err(CommandFailure::Unparsable {
                    line: i + 1,
                    text: truncate(text),
                })
            }
        }
    }
    Ok(out)
}

fn truncate(s: &str) -> String {
    let mut t: String = s.chars().take(HEAD_CHARS).collect();
    if s.chars().count() > HEAD_CHARS {
        t.push('…');
    }
    t
}

/// Runs a command and reads the addresses it prints.
#[derive(Debug)]
pub struct CommandSource {
    name: String,
    settings: CommandSettings,
}

impl CommandSource {
    /// A command source named `name`.
    pub fn new(name: String, settings: CommandSettings) -> CommandSource {
        CommandSource { name, settings }
    }

    /// The command line as shown in messages (arguments quoted when they need it).
    pub fn command_line(&self) -> String {
        self.settings
            .command
            .iter()
            .map(|a| {
                if !a.is_empty()
                    && a.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,".contains(c))
                {
                    a.clone()
                } else {
                    format!("{a:?}")
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    async fn detect_now(&self) -> Result<Detection, SourceError> {
        let fail = |failure| SourceError::Command {
            command: self.command_line(),
            failure,
        };
        let stdout = run(
            &self.settings.command,
            &self.settings.env,
            self.settings.timeout,
        )
        .await
        .map_err(fail)?;
        let addrs = parse_output(&stdout.0).map_err(fail)?;
        if addrs.is_empty() {
            return Err(fail(CommandFailure::NoAddress {
                stdout: truncate(&stdout.0),
                stderr: truncate(&stdout.1),
            }));
        }
        let family = self.settings.family;
        let mine: Vec<IpAddr> = addrs
            .iter()
            .copied()
            .filter(|a| Family::of(a) == family)
            .collect();
        let mut verdicts = select_plain(&mine, &self.settings.policy).into_iter();
        let origin = self.command_line();
        let candidates = addrs
            .into_iter()
            .map(|addr| Candidate {
                addr,
                origin: origin.clone(),
                verdict: if Family::of(&addr) == family {
                    // select_plain gives one verdict per address of `mine`, in order.
                    verdicts
                        .next()
                        .unwrap_or(Verdict::Skipped(SkipReason::Unspecified))
                } else {
                    Verdict::Skipped(SkipReason::WrongFamily)
                },
                detail: None,
                lifetime: None,
            })
            .collect();
        Ok(Detection {
            source: self.name.clone(),
            candidates,
        })
    }
}

/// Runs `argv` with exactly `env` and a timeout; returns (stdout, stderr) of a successful run.
async fn run(
    argv: &[String],
    env: &[(String, Secret<String>)],
    timeout: Duration,
) -> Result<(String, String), CommandFailure> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| CommandFailure::Spawn("empty command".into()))?;
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v.expose())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout kills what it started too (`sh -c` children).
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| CommandFailure::Spawn(format!("{program}: {e}")))?;
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    // Both pipes are read through the one size cap (issue 8, bounded input); the first pipe
    // to fail ends the reading at once, so a command that never stops printing costs at most
    // the cap, not memory until the timeout.
    let finished = async {
        let (o, e) = tokio::try_join!(
            read_capped(out.as_mut(), "stdout"),
            read_capped(err.as_mut(), "stderr")
        )?;
        let status = child
            .wait()
            .await
            .map_err(|e| CommandFailure::Io(e.to_string()))?;
        Ok::<_, CommandFailure>((status, o, e))
    };
    let result = tokio::time::timeout(timeout, finished).await;
    let (status, o, e) = match result {
        Ok(Ok(done)) => done,
        Ok(Err(failure)) => {
            kill_group(&mut child).await;
            return Err(failure);
        }
        Err(_) => {
            kill_group(&mut child).await;
            return Err(CommandFailure::Timeout(timeout));
        }
    };
    let stdout = String::from_utf8_lossy(&o).into_owned();
    let stderr = String::from_utf8_lossy(&e).into_owned();
    if !status.success() {
        use std::os::unix::process::ExitStatusExt;
        let status = match (status.code(), status.signal()) {
            (Some(c), _) => format!("status {c}"),
            (None, Some(s)) => format!("signal {s}"),
            (None, None) => "an unknown status".to_owned(),
        };
        return Err(CommandFailure::Exit {
            status,
            stderr: truncate(stderr.trim_end()),
        });
    }
    Ok((stdout, stderr))
}

/// Reads one of the child's pipes to its end, at most [`MAX_REPLY`] bytes.
async fn read_capped<R>(
    pipe: Option<&mut R>,
    stream: &'static str,
) -> Result<Vec<u8>, CommandFailure>
where
    R: tokio::io::AsyncRead + Unpin,
{
    let Some(pipe) = pipe else {
        return Ok(Vec::new());
    };
    match limits::read_to_end(pipe, MAX_REPLY).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(TooLarge { cap })) => Err(CommandFailure::TooMuchOutput { stream, cap }),
        Err(e) => Err(CommandFailure::Io(e.to_string())),
    }
}

/// SIGKILLs the child's process group, then waits for the child so it is reaped.
async fn kill_group(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    // kill() sends SIGKILL (a no-op if already dead) and waits: the zombie is reaped here.
    let _ = child.kill().await;
}

impl Source for CommandSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn families(&self) -> Vec<Family> {
        vec![self.settings.family]
    }

    fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>> {
        Box::pin(self.detect_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_one_address_per_line() {
        let a = parse_output("# my addresses\n2001:db8::1  # wan\n\n  203.0.113.4\n").unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(
            parse_output("2001:db8::1\nnope\n").unwrap_err().to_string(),
            "line 2 is not an ip address: \"nope\""
        );
        assert!(parse_output("\n# nothing\n").unwrap().is_empty());
    }

    // Property tests (issue 8, fuzzing): a command prints whatever it prints.

    use proptest::prelude::*;

    use crate::testing::{apply, cases, edit};

    /// Pieces of command output, for edits.
    const TOKENS: &[&str] = &[
        "\n",
        "\r\n",
        " ",
        "\t",
        "#",
        "# comment",
        "2001:db8::1",
        "203.0.113.4",
        "::",
        "fe80::1%eth0",
        "1.2.3",
        "<html>",
        "\u{0}",
        "\u{feff}",
        "é",
        "\r",
    ];

    /// No panic; every address comes from a line of the output; a failure names a line
    /// that exists and quotes at most [`HEAD_CHARS`] characters of it.
    fn check(out: &str) -> Result<(), TestCaseError> {
        let lines: Vec<&str> = out.lines().collect();
        match parse_output(out) {
            Ok(addrs) => {
                prop_assert!(addrs.len() <= lines.len());
                for a in &addrs {
                    let found = lines
                        .iter()
                        .any(|l| l.split('#').next().unwrap_or("").trim().parse() == Ok(*a));
                    prop_assert!(found, "{a} is not a line of {out:?}");
                }
            }
            Err(CommandFailure::Unparsable { line, text }) => {
                prop_assert!(
                    (1..=lines.len()).contains(&line),
                    "line {line} of {}",
                    lines.len()
                );
                prop_assert!(text.chars().count() <= HEAD_CHARS + 1, "{text:?}");
            }
            Err(other) => return Err(TestCaseError::fail(format!("{other}"))),
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(cases(2000))]

        #[test]
        fn arbitrary_output(out in any::<String>()) {
            check(&out)?;
        }

        #[test]
        fn edited_output(edits in prop::collection::vec(edit(TOKENS), 0..8)) {
            check(&apply("# wan\n2001:db8::1  # v6\n\n203.0.113.4\n", &edits))?;
        }
    }
}
