//! Every user-visible sentence about a run: the `--once` lines, `detect` text and JSON, error
//! and hint rendering. Pure rendering of [`RunReport`], [`Detection`] and [`Error`].

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::SystemTime;

use serde_json::{json, Value};

use crate::addr::{Detection, SourceFailure, Verdict};
use crate::daemon::lock::Holder;
use crate::error::Error;
use crate::reconcile::{RecordOutcome, RunReport, Status, Until};
use crate::state::StateError;

/// The `run --once` output: one line per (record, type) for stdout, and the errors and hints
/// for stderr.
pub struct Rendered {
    /// For standard output.
    pub stdout: String,
    /// For standard error.
    pub stderr: String,
}

/// Renders a pass.
pub fn run(report: &RunReport) -> Rendered {
    let mut stdout = String::new();
    for r in &report.records {
        let _ = writeln!(stdout, "{}", record_line(r));
    }
    let mut stderr = String::new();
    for d in &report.detections {
        if let Err(f) = d {
            stderr.push_str(&source_failure(f));
        }
    }
    let mut hints = BTreeSet::new();
    for r in &report.records {
        if let Status::Failed(e) = &r.status {
            if let Some(h) = e.hint() {
                if hints.insert(h.clone()) {
                    let _ = writeln!(
                        stderr,
                        "error: {} {} via {}: {e}\n  hint: {h}",
                        r.key.name, r.key.rtype, r.provider
                    );
                }
            }
        }
    }
    if let Some(e) = &report.state_error {
        stderr.push_str(&state_error(e));
    }
    Rendered { stdout, stderr }
}

/// `NAME TYPE ADDRS  status`.
pub fn record_line(r: &RecordOutcome) -> String {
    format!(
        "{} {} {}  {}",
        r.key.name,
        r.key.rtype,
        r.addrs,
        status(&r.status)
    )
}

/// The status part of a record line.
pub fn status(s: &Status) -> String {
    match s {
        Status::Created => "created".to_owned(),
        Status::Updated { was } => format!("updated (was {was})"),
        Status::Unchanged => "unchanged".to_owned(),
        Status::WouldCreate => "would create (dry run)".to_owned(),
        Status::WouldUpdate { was } => format!("would update (was {was}) (dry run)"),
        Status::Failed(e) => format!("failed: {e}"),
        Status::Paused { provider, pause } => format!(
            "failed: provider {provider} paused {} ({})",
            until(pause.until),
            pause.reason
        ),
        Status::Held { pause } => format!("failed: {} ({})", pause.reason, retry(pause.until)),
        Status::SourceFailed { sources } => {
            format!(
                "failed: source {} failed; record left as it is",
                sources.join(", ")
            )
        }
        Status::NoAddress { sources } => format!(
            "skipped: no usable address from {}; record left as it is (see `ddnsd detect`)",
            sources.join(", ")
        ),
        Status::Gone {
            sources,
            withdraw_at,
        } => format!(
            "skipped: no usable address from {}; withdrawn at {} unless one returns (on_gone = \"delete\")",
            sources.join(", "),
            clock_time(*withdraw_at)
        ),
        Status::Withdrawn { was } => format!("withdrawn (was {was})"),
        Status::WouldWithdraw { was } => format!("would withdraw (was {was}) (dry run)"),
    }
}

/// "until 14:03:12" / "until the config is reloaded" / "until the record changes".
fn until(u: Until) -> String {
    match u {
        Until::Time(t) => format!("until {}", clock_time(t)),
        Until::Reload => "until the config is reloaded".to_owned(),
        Until::Change => "until the address or the config changes".to_owned(),
    }
}

/// When a held record is tried again.
fn retry(u: Until) -> String {
    match u {
        Until::Time(t) => format!("retrying at {}", clock_time(t)),
        Until::Reload => "not retried until the config is reloaded".to_owned(),
        Until::Change => {
            "not retried until the address changes, the next verify pass, or a reload".to_owned()
        }
    }
}

/// `HH:MM:SS` (UTC, like the log timestamps) of a wall-clock time.
pub fn clock_time(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let day = secs % 86_400;
    format!("{:02}:{:02}:{:02}", day / 3600, day % 3600 / 60, day % 60)
}

fn source_failure(f: &SourceFailure) -> String {
    let mut s = format!("error: {f}\n");
    if let Some(h) = f.error.hint() {
        let _ = writeln!(s, "  hint: {h}");
    }
    s
}

fn state_error(e: &StateError) -> String {
    let level = match e {
        StateError::Corrupt { .. } => "warning",
        StateError::Io { .. } | StateError::Newer { .. } => "error",
    };
    let mut s = format!("{level}: {e}\n");
    if let Some(h) = e.hint() {
        let _ = writeln!(s, "  hint: {h}");
    }
    s
}

/// `ddnsd detect` as text: per source, every candidate with `selected` or `skipped: reason`.
pub fn detect_text(detections: &[Result<Detection, SourceFailure>]) -> Rendered {
    let mut stdout = String::new();
    let mut stderr = String::new();
    for d in detections {
        match d {
            Ok(d) => {
                let _ = writeln!(stdout, "source {}:", d.source);
                if d.candidates.is_empty() {
                    let _ = writeln!(stdout, "  (no addresses)");
                }
                let width = d
                    .candidates
                    .iter()
                    .map(|c| c.addr.to_string().len())
                    .max()
                    .unwrap_or(0);
                for c in &d.candidates {
                    let verdict = match c.verdict {
                        Verdict::Selected => "selected".to_owned(),
                        Verdict::Skipped(r) => format!("skipped: {r}"),
                    };
                    let detail = c
                        .detail
                        .as_deref()
                        .map(|d| format!(" [{d}]"))
                        .unwrap_or_default();
                    let _ = writeln!(
                        stdout,
                        "  {:width$}  {}  {verdict}{detail}",
                        c.addr.to_string(),
                        c.origin,
                    );
                }
            }
            Err(f) => {
                let _ = writeln!(stdout, "source {}:\n  failed: {}", f.source, f.error);
                stderr.push_str(&source_failure(f));
            }
        }
    }
    Rendered { stdout, stderr }
}

/// `ddnsd detect --json`: the same as [`detect_text`], as one JSON document.
pub fn detect_json(detections: &[Result<Detection, SourceFailure>]) -> String {
    let sources: Vec<Value> = detections
        .iter()
        .map(|d| match d {
            Ok(d) => json!({
                "source": d.source,
                "candidates": d.candidates.iter().map(|c| {
                    let (verdict, reason) = match c.verdict {
                        Verdict::Selected => ("selected", None),
                        Verdict::Skipped(r) => ("skipped", Some(r)),
                    };
                    json!({
                        "address": c.addr.to_string(),
                        "origin": c.origin,
                        "verdict": verdict,
                        "reason": reason.map(|r| r.code()),
                        "explanation": reason.map(|r| r.to_string()),
                        "detail": c.detail,
                    })
                }).collect::<Vec<_>>(),
            }),
            Err(f) => json!({
                "source": f.source,
                "error": f.error.to_string(),
                "hint": f.error.hint(),
            }),
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&json!({ "sources": sources })).unwrap_or_default();
    s.push('\n');
    s
}

/// An error that stops a command, with its hint.
pub fn error(e: &Error) -> String {
    let mut s = match e {
        // Placed problems are already one line each (PATH:LINE:COL: message, hint lines).
        Error::Config(crate::config::Error::Invalid { .. }) => format!("{e}\n"),
        _ => format!("error: {e}\n"),
    };
    if let Some(h) = e.hint() {
        let _ = writeln!(s, "  hint: {h}");
    }
    s
}

/// Logs a daemon pass: one structured event per (record, type) with the fields `name`, `type`,
/// `addrs` and `status` (unchanged records at debug level), then source and state problems.
pub fn log_run(report: &RunReport) {
    for r in &report.records {
        let status = status(&r.status);
        let (name, rtype, addrs) = (
            r.key.name.to_string(),
            r.key.rtype.as_str(),
            r.addrs.to_string(),
        );
        match r.status {
            Status::Unchanged => {
                tracing::debug!(name, r#type = rtype, addrs, status, provider = %r.provider, "{}", record_line(r))
            }
            Status::Failed(_)
            | Status::Paused { .. }
            | Status::Held { .. }
            | Status::SourceFailed { .. } => {
                tracing::warn!(name, r#type = rtype, addrs, status, provider = %r.provider, "{}", record_line(r))
            }
            _ => {
                tracing::info!(name, r#type = rtype, addrs, status, provider = %r.provider, "{}", record_line(r))
            }
        }
    }
    for line in run(report).stderr.lines() {
        tracing::warn!("{line}");
    }
}

/// A daemon event worth a log line (the wording lives here with every other sentence).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note<'a> {
    /// SIGHUP: the new config is in use.
    Reloaded,
    /// SIGHUP: the new config was invalid.
    ReloadFailed,
    /// A pass ended; its summary.
    PassFinished(&'a str),
    /// SIGTERM/SIGINT arrived.
    ShutdownRequested,
    /// Shutdown waits for the pass in flight at most this long.
    WaitingForPass(std::time::Duration),
    /// The pass in flight did not finish within the grace period.
    AbandonedPass,
    /// The loop ended.
    ShuttingDown,
    /// Netlink events were lost (why).
    EventsLost(&'a str),
    /// No netlink subscription is possible.
    WatchUnavailable,
    /// Lease files cannot be watched.
    FileWatchUnavailable,
}

/// The log line of a daemon event.
pub fn note(n: &Note<'_>) -> String {
    match n {
        Note::Reloaded => "config reloaded".to_owned(),
        Note::ReloadFailed => {
            "config reload failed; still running with the previous config".to_owned()
        }
        Note::PassFinished(summary) => format!("pass finished: {summary}"),
        Note::ShutdownRequested => "shutdown requested by signal".to_owned(),
        Note::WaitingForPass(d) => {
            format!("waiting up to {} s for the pass in flight", d.as_secs())
        }
        Note::AbandonedPass => "abandoned the pass in flight at shutdown".to_owned(),
        Note::ShuttingDown => "shutting down".to_owned(),
        Note::EventsLost(why) => format!(
            "netlink events were lost: {why}; subscribing again and re-reading every source"
        ),
        Note::WatchUnavailable => "cannot subscribe to netlink address events; interface sources are re-read every interval instead".to_owned(),
        Note::FileWatchUnavailable => "cannot watch lease files for changes; sources reading them are re-read every interval instead".to_owned(),
    }
}

/// "2 changed, 1 unchanged, 0 failed, 0 without address".
pub fn summary(report: &RunReport) -> String {
    let (mut changed, mut unchanged, mut failed, mut skipped) = (0, 0, 0, 0);
    for r in &report.records {
        match r.status {
            Status::Created
            | Status::Updated { .. }
            | Status::WouldCreate
            | Status::WouldUpdate { .. }
            | Status::Withdrawn { .. }
            | Status::WouldWithdraw { .. } => changed += 1,
            Status::Unchanged => unchanged += 1,
            Status::Failed(_)
            | Status::Paused { .. }
            | Status::Held { .. }
            | Status::SourceFailed { .. } => failed += 1,
            Status::NoAddress { .. } | Status::Gone { .. } => skipped += 1,
        }
    }
    format!("{changed} changed, {unchanged} unchanged, {failed} failed, {skipped} without address")
}

/// The warnings of a usable config, `PATH:LINE:COL: warning: …` with hints (for `check`).
pub fn config_warnings(cfg: &crate::config::Config) -> String {
    let mut s = String::new();
    for w in &cfg.warnings {
        let _ = writeln!(
            s,
            "{}:{}:{}: warning: {}",
            cfg.origin, w.line, w.col, w.message
        );
        if let Some(h) = &w.hint {
            let _ = writeln!(s, "  hint: {h}");
        }
    }
    s
}

/// What `ddnsd check` prints for a usable config.
pub fn check_ok(
    origin: &crate::config::Origin,
    sources: usize,
    providers: usize,
    records: usize,
) -> String {
    format!("{origin}: ok ({sources} sources, {providers} providers, {records} records)\n")
}

/// What `run --once` prints when the daemon or another run holds the lock.
pub fn lock_busy(h: &Holder) -> String {
    let (who, worker) = match (&h.role, h.pid) {
        (Some(role), Some(pid)) if role == "daemon" => {
            (format!("the ddnsd daemon (pid {pid})"), "the daemon")
        }
        (_, Some(pid)) => (format!("another ddnsd run (pid {pid})"), "the other one"),
        _ => ("another ddnsd run".to_owned(), "the other one"),
    };
    format!(
        "{who} holds the lock {}; skipping this run ({worker} does the work)\n",
        h.path.display()
    )
}

/// Why a second daemon does not start.
pub fn daemon_busy(h: &Holder) -> String {
    let pid = h.pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
    format!(
        "another ddnsd{pid} already publishes with this state file (lock {}); stop it first, or give this one its own daemon.state_file",
        h.path.display()
    )
}

/// Logged when the lock file cannot be created.
pub fn lock_unavailable(state: &std::path::Path) -> String {
    format!(
        "cannot take the writer's lock next to {}; running without it",
        state.display()
    )
}

/// The notice shown when the embedded default is used.
pub fn embedded_notice(default_path: &str) -> String {
    format!(
        "notice: no config file given and none at {default_path}; using the embedded default \
(every interface's addresses, dry run: nothing is published)\n  hint: write a real config with \
`ddnsd init > ddnsd.toml`, edit it, check it with `ddnsd check -c ddnsd.toml`, then run \
`ddnsd run -c ddnsd.toml` (or install it at {default_path})\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{Candidate, SkipReason};
    use crate::provider::{ProviderError, ProviderErrorKind};
    use crate::record::{AddrSet, RecordKey, RecordType};

    fn set(a: &[&str]) -> AddrSet {
        a.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn outcome(status: Status) -> RecordOutcome {
        RecordOutcome {
            key: RecordKey {
                name: "host.example.test".parse().unwrap(),
                rtype: RecordType::Aaaa,
            },
            provider: "home".into(),
            addrs: set(&["2001:db8::1"]),
            status,
        }
    }

    #[test]
    fn once_lines_table() {
        let cases = [
            (Status::Created, "host.example.test AAAA 2001:db8::1  created"),
            (
                Status::Updated { was: set(&["2001:db8::2", "2001:db8::3"]) },
                "host.example.test AAAA 2001:db8::1  updated (was 2001:db8::2,2001:db8::3)",
            ),
            (Status::Unchanged, "host.example.test AAAA 2001:db8::1  unchanged"),
            (Status::WouldCreate, "host.example.test AAAA 2001:db8::1  would create (dry run)"),
            (
                Status::Failed(ProviderError::new(ProviderErrorKind::Transient, "could not reach 127.0.0.1:1")),
                "host.example.test AAAA 2001:db8::1  failed: could not reach 127.0.0.1:1",
            ),
            (
                Status::SourceFailed { sources: vec!["wan6".into()] },
                "host.example.test AAAA 2001:db8::1  failed: source wan6 failed; record left as it is",
            ),
        ];
        for (status, want) in cases {
            assert_eq!(record_line(&outcome(status)), want);
        }
    }

    #[test]
    fn detect_text_and_json() {
        let d = Detection {
            source: "wan6".into(),
            candidates: vec![
                Candidate {
                    addr: "2001:db8::1".parse().unwrap(),
                    origin: "eth0".into(),
                    verdict: Verdict::Selected,
                    detail: None,
                    lifetime: None,
                },
                Candidate {
                    addr: "fd00::2".parse().unwrap(),
                    origin: "eth0".into(),
                    verdict: Verdict::Skipped(SkipReason::Ula),
                    detail: None,
                    lifetime: None,
                },
            ],
        };
        let r = detect_text(&[Ok(d.clone())]);
        assert_eq!(
            r.stdout,
            "source wan6:\n  2001:db8::1  eth0  selected\n  fd00::2      eth0  skipped: unique local address (fc00::/7); allow_ula = true publishes it\n"
        );
        let v: Value = serde_json::from_str(&detect_json(&[Ok(d)])).unwrap();
        assert_eq!(v["sources"][0]["candidates"][1]["reason"], "ula");
        assert_eq!(v["sources"][0]["candidates"][0]["verdict"], "selected");
    }
}
