//! systemd's notification protocol (`sd_notify`): READY=1, STATUS=…, STOPPING=1 and WATCHDOG=1.
//! Every call is a no-op without `$NOTIFY_SOCKET`, and failures are logged, never fatal: the
//! daemon's job does not depend on the service manager hearing from it.

use std::time::Duration;

use sd_notify::NotifyState;

/// Tells systemd start-up is done (after the first pass was attempted), with a status line.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// Updates the one-line status shown by `systemctl status`.
pub fn status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// Tells systemd the daemon is shutting down.
pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

/// Tells systemd the configuration is being reloaded.
pub fn reloading() {
    send(&[NotifyState::Reloading]);
}

/// Pets the watchdog.
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// How often to pet the watchdog: half of `$WATCHDOG_USEC` (when it is meant for this
/// process), as sd_watchdog_enabled(3) recommends.
pub fn watchdog_period() -> Option<Duration> {
    sd_notify::watchdog_enabled()
        .map(|d| d / 2)
        .filter(|d| !d.is_zero())
}

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "could not notify systemd");
    }
}
