//! [`ProviderError`]: what went wrong while publishing, what it is about (one record or the
//! whole provider: [`Scope`]) and how to retry ([`RetryPolicy`]). Every adapter maps its API's
//! failures onto these kinds; the daemon and `run --once` act on the kind alone.

use std::fmt;
use std::time::Duration;

/// What went wrong while publishing, as the program can act on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderErrorKind {
    /// Credentials rejected. The provider is paused until the config is reloaded.
    Auth,
    /// Credentials accepted but not allowed to change this record (update-policy, ACL, a key
    /// scoped to other zones). Charged to the record; not retried until it changes.
    Forbidden,
    /// The provider rejected the request's timestamp; `offset_secs` = provider time − local
    /// time.
    ClockSkew {
        /// Seconds the provider's clock is ahead of this machine's (negative: behind).
        offset_secs: i64,
    },
    /// The record's zone is not served by this provider/account. Charged to the record.
    ZoneNotFound,
    /// Too many requests; retry after the given delay if the provider said.
    RateLimited {
        /// The provider's `Retry-After`, if given.
        retry_after: Option<Duration>,
    },
    /// The server could not be reached at all (connection refused, connect timeout, no
    /// route): nothing else of this provider can work either.
    Unreachable,
    /// A failure that may pass: a 5xx, SERVFAIL, a read timeout before anything was sent, an
    /// error code the provider does not document as permanent.
    Transient,
    /// The write may or may not have happened (the reply was lost); the live record is read
    /// on the next pass.
    Unconfirmed,
    /// The provider answered something ddnsd does not understand.
    Protocol,
    /// The request was refused as invalid (bad value, TTL out of the plan's range, name
    /// outside the zone). Charged to the record; not retried until it changes.
    Rejected,
}

/// What an error is about: the record it happened to, or everything the provider publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Only this record; the provider's other records carry on.
    Record,
    /// The provider as a whole (credentials, clock, rate limit, reachability): its other
    /// records are skipped, each with a line saying so, until the pause ends.
    Provider,
}

/// How the caller should retry after an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryPolicy {
    /// Do not retry until the configuration is reloaded (credentials rejected).
    UntilConfigChange,
    /// The provider said the request itself is wrong: retry only when the desired record
    /// changes, on the next verify pass, or after a reload — never on a timer.
    UntilChange,
    /// Retry with exponential backoff.
    Backoff,
    /// Retry after at least this long (then back off).
    After(Duration),
}

impl ProviderErrorKind {
    /// What the error is about.
    pub fn scope(&self) -> Scope {
        match self {
            ProviderErrorKind::Auth
            | ProviderErrorKind::ClockSkew { .. }
            | ProviderErrorKind::RateLimited { .. }
            | ProviderErrorKind::Unreachable => Scope::Provider,
            ProviderErrorKind::Forbidden
            | ProviderErrorKind::ZoneNotFound
            | ProviderErrorKind::Transient
            | ProviderErrorKind::Unconfirmed
            | ProviderErrorKind::Protocol
            | ProviderErrorKind::Rejected => Scope::Record,
        }
    }

    /// How to retry after this kind of error.
    pub fn retry_policy(&self) -> RetryPolicy {
        match self {
            ProviderErrorKind::Auth => RetryPolicy::UntilConfigChange,
            ProviderErrorKind::Forbidden
            | ProviderErrorKind::ZoneNotFound
            | ProviderErrorKind::Rejected => RetryPolicy::UntilChange,
            ProviderErrorKind::RateLimited {
                retry_after: Some(d),
            } => RetryPolicy::After(*d),
            ProviderErrorKind::ClockSkew { .. }
            | ProviderErrorKind::RateLimited { retry_after: None }
            | ProviderErrorKind::Unreachable
            | ProviderErrorKind::Transient
            | ProviderErrorKind::Unconfirmed
            | ProviderErrorKind::Protocol => RetryPolicy::Backoff,
        }
    }

    /// True for the kinds retried inside one call (a few quick attempts) before the pass
    /// gives up on the record: they often pass within seconds.
    pub fn retried_in_call(&self) -> bool {
        matches!(
            self,
            ProviderErrorKind::Transient | ProviderErrorKind::RateLimited { .. }
        )
    }
}

/// A publishing failure: its kind, what happened, and what the user can do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderError {
    /// What the program can act on.
    pub kind: ProviderErrorKind,
    /// What happened, as a lower-case clause (no secret, untrusted text quoted).
    pub message: String,
    /// What to do next, if the kind's generic hint is not precise enough.
    pub hint: Option<String>,
}

impl ProviderError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ProviderErrorKind, message: impl Into<String>) -> ProviderError {
        ProviderError {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a precise hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> ProviderError {
        self.hint = Some(hint.into());
        self
    }

    /// What the error is about (see [`ProviderErrorKind::scope`]).
    pub fn scope(&self) -> Scope {
        self.kind.scope()
    }

    /// The hint to show: the precise one, else one derived from the kind.
    pub fn hint(&self) -> Option<String> {
        if let Some(h) = &self.hint {
            return Some(h.clone());
        }
        match &self.kind {
            ProviderErrorKind::ClockSkew { offset_secs } => Some(clock_skew_hint(*offset_secs)),
            ProviderErrorKind::Auth => Some("check the provider's credentials in the config".into()),
            ProviderErrorKind::Unconfirmed => Some(
                "the change may have been applied; ddnsd will read the live record on the next pass".into(),
            ),
            _ => None,
        }
    }
}

/// "this machine's clock is 7m12s behind the provider's; enable NTP…".
pub fn clock_skew_hint(offset_secs: i64) -> String {
    let dir = if offset_secs >= 0 {
        "behind"
    } else {
        "ahead of"
    };
    format!(
        "this machine's clock is {} {dir} the provider's; enable NTP (`timedatectl set-ntp true`, or ntpd/chrony on a router)",
        human_duration(offset_secs.unsigned_abs())
    )
}

/// `432` → `7m12s`, `59` → `59s`, `3600` → `1h0m0s`.
pub fn human_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProviderError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        for (s, want) in [(0, "0s"), (59, "59s"), (432, "7m12s"), (3600, "1h0m0s")] {
            assert_eq!(human_duration(s), want);
        }
        assert_eq!(
            clock_skew_hint(432),
            "this machine's clock is 7m12s behind the provider's; enable NTP (`timedatectl set-ntp true`, or ntpd/chrony on a router)"
        );
    }

    /// See: issue 8 (failure scope). Errors about the credentials, the clock, the rate or the
    /// server's reachability pause the provider; everything else is the record's alone.
    #[test]
    fn scope_and_retry_table() {
        use ProviderErrorKind as K;
        let cases = [
            (K::Auth, Scope::Provider, RetryPolicy::UntilConfigChange),
            (
                K::ClockSkew { offset_secs: 5 },
                Scope::Provider,
                RetryPolicy::Backoff,
            ),
            (
                K::RateLimited { retry_after: None },
                Scope::Provider,
                RetryPolicy::Backoff,
            ),
            (
                K::RateLimited {
                    retry_after: Some(Duration::from_secs(7)),
                },
                Scope::Provider,
                RetryPolicy::After(Duration::from_secs(7)),
            ),
            (K::Unreachable, Scope::Provider, RetryPolicy::Backoff),
            (K::Forbidden, Scope::Record, RetryPolicy::UntilChange),
            (K::ZoneNotFound, Scope::Record, RetryPolicy::UntilChange),
            (K::Rejected, Scope::Record, RetryPolicy::UntilChange),
            (K::Transient, Scope::Record, RetryPolicy::Backoff),
            (K::Unconfirmed, Scope::Record, RetryPolicy::Backoff),
            (K::Protocol, Scope::Record, RetryPolicy::Backoff),
        ];
        for (kind, scope, retry) in cases {
            assert_eq!(kind.scope(), scope, "{kind:?}");
            assert_eq!(kind.retry_policy(), retry, "{kind:?}");
        }
    }
}
