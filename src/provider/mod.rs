//! Publishing: the [`Provider`] trait, [`ProviderError`], provider settings and [`build`].
//!
//! Providers never read config files, environment variables, the clock (other than the
//! [`Clock`] handed in) or the state file.

pub mod api;
pub mod dnspod;
pub mod dnspod_legacy;
pub mod dry_run;
pub mod rfc2136;
pub mod rows;
pub mod tc3;
pub mod tsig;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::http::{Backoff, HttpClient, HttpError, HttpSettings};
use crate::record::{AddrSet, RecordKey, RrSet, Ttl};

/// Provider-specific facts kept in the state file between runs (zone ids, record ids), so a
/// later run can skip look-ups. Never holds a secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProviderHints(pub BTreeMap<String, String>);

/// What a provider reports of a live RRset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveRrSet {
    /// The live addresses (empty when the name has no record of this type).
    pub addrs: AddrSet,
    /// The live TTL, if any record exists.
    pub ttl: Option<Ttl>,
    /// Fresh hints learned while reading.
    pub hints: ProviderHints,
}

/// A DNS hosting service (or server) that ddnsd publishes to.
pub trait Provider: Send + Sync {
    /// The provider's name from the config.
    fn name(&self) -> &str;

    /// True for the provider that only reports what it would do.
    fn is_dry_run(&self) -> bool {
        false
    }

    /// Reads the live RRset of (name, type).
    fn read_rrset<'a>(
        &'a self,
        key: &'a RecordKey,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>>;

    /// Makes the live RRset of (name, type) equal `desired`, touching nothing else; returns the
    /// hints to remember.
    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>>;
}

/// What went wrong while publishing, as the program can act on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderErrorKind {
    /// Credentials rejected. Not retried until the config changes.
    Auth,
    /// Credentials accepted but not allowed to do this. Not retried until the config changes.
    Forbidden,
    /// The provider rejected the request's timestamp; `offset_secs` = provider time − local
    /// time.
    ClockSkew {
        /// Seconds the provider's clock is ahead of this machine's (negative: behind).
        offset_secs: i64,
    },
    /// The zone is not served by this provider/account.
    ZoneNotFound,
    /// Too many requests; retry after the given delay if the provider said.
    RateLimited {
        /// The provider's `Retry-After`, if given.
        retry_after: Option<Duration>,
    },
    /// A failure that may pass: timeout, connection refused, 5xx, SERVFAIL.
    Transient,
    /// The write may or may not have happened (the reply was lost).
    Unconfirmed,
    /// The provider answered something ddnsd does not understand.
    Protocol,
    /// The request was refused as invalid (bad value, name outside zone…). Not retried.
    Rejected,
}

/// How the caller should retry after an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryPolicy {
    /// Do not retry until the configuration changes.
    UntilConfigChange,
    /// Retry with exponential backoff.
    Backoff,
    /// Retry after at least this long (then back off).
    After(Duration),
}

impl ProviderErrorKind {
    /// How to retry after this kind of error.
    pub fn retry_policy(&self) -> RetryPolicy {
        match self {
            ProviderErrorKind::Auth
            | ProviderErrorKind::Forbidden
            | ProviderErrorKind::ZoneNotFound
            | ProviderErrorKind::Rejected => RetryPolicy::UntilConfigChange,
            ProviderErrorKind::RateLimited {
                retry_after: Some(d),
            } => RetryPolicy::After(*d),
            ProviderErrorKind::ClockSkew { .. }
            | ProviderErrorKind::RateLimited { retry_after: None }
            | ProviderErrorKind::Transient
            | ProviderErrorKind::Unconfirmed
            | ProviderErrorKind::Protocol => RetryPolicy::Backoff,
        }
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

/// The settings of one provider, as built from the config.
#[derive(Clone, Debug)]
pub enum ProviderSettings {
    /// Reports what it would do; publishes nothing.
    DryRun,
    /// RFC 2136 dynamic update with TSIG.
    Rfc2136(rfc2136::Rfc2136Settings),
    /// Tencent Cloud DNSPod API 3.0.
    TencentCloud(dnspod::TencentCloudSettings),
    /// Legacy DNSPod token API.
    DnspodLegacy(dnspod_legacy::DnspodLegacySettings),
}

impl ProviderSettings {
    /// The config spelling of the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            ProviderSettings::DryRun => "dry-run",
            ProviderSettings::Rfc2136(_) => "rfc2136",
            ProviderSettings::TencentCloud(_) => "tencentcloud",
            ProviderSettings::DnspodLegacy(_) => "dnspod",
        }
    }
}

/// What providers are handed from outside.
#[derive(Clone)]
pub struct ProviderDeps {
    /// The clock used for signatures and skew measurement.
    pub clock: Arc<dyn Clock>,
    /// The HTTP client shared by every HTTP provider.
    pub http: HttpClient,
    /// How HTTP providers retry transient failures and rate limits within one call.
    pub backoff: Backoff,
    /// Time allowed for one HTTP request (connect included).
    pub timeout: Duration,
}

impl ProviderDeps {
    /// Production dependencies: `clock`, a client with [`HttpSettings::default`], the default
    /// [`Backoff`] and a 20 s request timeout.
    pub fn new(clock: Arc<dyn Clock>) -> Result<ProviderDeps, HttpError> {
        let settings = HttpSettings::default();
        Ok(ProviderDeps {
            clock,
            http: HttpClient::new(&settings)?,
            backoff: Backoff::default(),
            timeout: settings.total_timeout,
        })
    }
}

/// Builds a provider from its settings.
pub fn build(name: &str, settings: &ProviderSettings, deps: &ProviderDeps) -> Arc<dyn Provider> {
    match settings {
        ProviderSettings::DryRun => Arc::new(dry_run::DryRun::new(name.to_owned())),
        ProviderSettings::Rfc2136(s) => Arc::new(rfc2136::Rfc2136::new(
            name.to_owned(),
            s.clone(),
            deps.clock.clone(),
        )),
        ProviderSettings::TencentCloud(s) => {
            Arc::new(dnspod::TencentCloud::new(name.to_owned(), s.clone(), deps))
        }
        ProviderSettings::DnspodLegacy(s) => Arc::new(dnspod_legacy::DnspodLegacy::new(
            name.to_owned(),
            s.clone(),
            deps,
        )),
    }
}

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

    #[test]
    fn auth_is_not_retried() {
        assert_eq!(
            ProviderErrorKind::Auth.retry_policy(),
            RetryPolicy::UntilConfigChange
        );
        assert_eq!(
            ProviderErrorKind::Transient.retry_policy(),
            RetryPolicy::Backoff
        );
    }
}
