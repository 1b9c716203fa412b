//! Failure holds: which providers are paused and which records wait before their next
//! attempt, and until when. Pure: the time and the jitter are handed in, so the daemon keeps
//! one `Holds` across passes (and `run --once` a fresh one) and tests drive it with a fake
//! clock.
//!
//! An error is charged to what it is about ([`Scope`]): a provider-wide error (credentials,
//! clock skew, rate limit, unreachable server) pauses the provider; anything else holds only
//! the record, and only for the value that failed — a new address is tried at once.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::backoff::{full_jitter, Jitter, BASE, CAP, MAX_RETRY_AFTER};
use crate::provider::{ProviderError, RetryPolicy, Scope};
use crate::record::{AddrSet, RecordKey};

/// Until when something is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    /// A time (wall clock).
    Time(SystemTime),
    /// The config is reloaded (credentials rejected).
    Reload,
    /// The record's desired value changes, the next verify pass, or a reload (the provider
    /// refused this very request).
    Change,
}

/// Why and until when a provider is paused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pause {
    /// Until when.
    pub until: Until,
    /// The error that caused it, as a clause.
    pub reason: String,
}

#[derive(Clone, Debug)]
struct ProviderHold {
    failures: u32,
    pause: Pause,
}

#[derive(Clone, Debug)]
struct RecordHold {
    failures: u32,
    /// The value whose write failed: another value is not held.
    desired: AddrSet,
    pause: Pause,
}

/// Every pause and hold, across passes.
#[derive(Clone, Debug, Default)]
pub struct Holds {
    providers: BTreeMap<String, ProviderHold>,
    records: BTreeMap<RecordKey, RecordHold>,
}

impl Holds {
    /// The pause of `provider` at `now`, if it is still paused.
    pub fn provider_pause(&self, provider: &str, now: SystemTime) -> Option<&Pause> {
        self.providers
            .get(provider)
            .map(|h| &h.pause)
            .filter(|p| active(p.until, now, false))
    }

    /// The hold of the record `key` for the value `desired` at `now`, if any. A verify pass
    /// retries records held [`Until::Change`].
    pub fn record_hold(
        &self,
        key: &RecordKey,
        desired: &AddrSet,
        now: SystemTime,
        verify: bool,
    ) -> Option<&Pause> {
        self.records
            .get(key)
            .filter(|h| &h.desired == desired)
            .map(|h| &h.pause)
            .filter(|p| active(p.until, now, verify))
    }

    /// Records a provider-wide failure at `now`; returns the pause.
    pub fn provider_failed(
        &mut self,
        provider: &str,
        e: &ProviderError,
        now: SystemTime,
        jitter: &mut dyn Jitter,
    ) -> Pause {
        let failures = self
            .providers
            .get(provider)
            .map_or(1, |h| h.failures.saturating_add(1));
        let pause = Pause {
            until: until(e.kind.retry_policy(), failures, now, jitter),
            reason: e.message.clone(),
        };
        self.providers.insert(
            provider.to_owned(),
            ProviderHold {
                failures,
                pause: pause.clone(),
            },
        );
        pause
    }

    /// Records a record-scoped failure of writing (or reading) `desired` at `now`.
    pub fn record_failed(
        &mut self,
        key: &RecordKey,
        desired: &AddrSet,
        e: &ProviderError,
        now: SystemTime,
        jitter: &mut dyn Jitter,
    ) -> Pause {
        let failures = self
            .records
            .get(key)
            .filter(|h| &h.desired == desired)
            .map_or(1, |h| h.failures.saturating_add(1));
        let pause = Pause {
            until: until(e.kind.retry_policy(), failures, now, jitter),
            reason: e.message.clone(),
        };
        self.records.insert(
            key.clone(),
            RecordHold {
                failures,
                desired: desired.clone(),
                pause: pause.clone(),
            },
        );
        pause
    }

    /// Charges `e` to the record or the provider, by its scope.
    pub fn failed(
        &mut self,
        provider: &str,
        key: &RecordKey,
        desired: &AddrSet,
        e: &ProviderError,
        now: SystemTime,
        jitter: &mut dyn Jitter,
    ) -> Pause {
        match e.scope() {
            Scope::Provider => self.provider_failed(provider, e, now, jitter),
            Scope::Record => self.record_failed(key, desired, e, now, jitter),
        }
    }

    /// The provider answered: its pause (if any) is over.
    pub fn provider_ok(&mut self, provider: &str) {
        self.providers.remove(provider);
    }

    /// The record was published or confirmed.
    pub fn record_ok(&mut self, key: &RecordKey) {
        self.records.remove(key);
    }

    /// Forgets everything (the config was reloaded: credentials may have been fixed).
    pub fn reset(&mut self) {
        self.providers.clear();
        self.records.clear();
    }

    /// The earliest time after `after` at which a timed pause or hold ends, if any (the
    /// daemon passes the time of its last full pass: what ended before it was retried then).
    pub fn next_due_after(&self, after: SystemTime) -> Option<SystemTime> {
        self.providers
            .values()
            .map(|h| h.pause.until)
            .chain(self.records.values().map(|h| h.pause.until))
            .filter_map(|u| match u {
                Until::Time(t) => Some(t),
                Until::Reload | Until::Change => None,
            })
            .filter(|t| *t > after)
            .min()
    }

    /// True when nothing is paused or held.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty() && self.records.is_empty()
    }
}

fn active(until: Until, now: SystemTime, verify: bool) -> bool {
    match until {
        Until::Time(t) => now < t,
        Until::Reload => true,
        Until::Change => !verify,
    }
}

fn until(policy: RetryPolicy, failures: u32, now: SystemTime, jitter: &mut dyn Jitter) -> Until {
    let delay = match policy {
        RetryPolicy::UntilConfigChange => return Until::Reload,
        RetryPolicy::UntilChange => return Until::Change,
        RetryPolicy::Backoff => full_jitter(BASE, CAP, failures, jitter),
        RetryPolicy::After(at_least) => {
            full_jitter(BASE, CAP, failures, jitter).max(at_least.min(MAX_RETRY_AFTER))
        }
    };
    // At least a second, so a zero draw does not turn into a tight retry loop.
    Until::Time(now + delay.max(Duration::from_secs(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ProviderErrorKind;
    use crate::record::RecordType;

    struct Fixed(f64);
    impl Jitter for Fixed {
        fn fraction(&mut self) -> f64 {
            self.0
        }
    }

    fn t(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s)
    }

    fn key(n: &str) -> RecordKey {
        RecordKey {
            name: n.parse().unwrap(),
            rtype: RecordType::Aaaa,
        }
    }

    fn set(a: &str) -> AddrSet {
        [a.parse().unwrap()].into_iter().collect()
    }

    fn err(kind: ProviderErrorKind) -> ProviderError {
        ProviderError::new(kind, "boom")
    }

    #[test]
    fn provider_errors_pause_the_provider_with_growing_delays() {
        let mut h = Holds::default();
        let e = err(ProviderErrorKind::Unreachable);
        let p = h.failed(
            "p",
            &key("a.example.test"),
            &set("2001:db8::1"),
            &e,
            t(0),
            &mut Fixed(1.0),
        );
        assert_eq!(p.until, Until::Time(t(5)));
        assert_eq!(
            h.provider_pause("p", t(4)).map(|p| p.reason.as_str()),
            Some("boom")
        );
        assert!(
            h.provider_pause("p", t(5)).is_none(),
            "over at the instant it ends"
        );
        assert!(h.provider_pause("q", t(0)).is_none());
        let p = h.provider_failed("p", &e, t(5), &mut Fixed(1.0));
        assert_eq!(p.until, Until::Time(t(15)));
        assert_eq!(h.next_due_after(t(0)), Some(t(15)));
        assert_eq!(h.next_due_after(t(15)), None);
        h.provider_ok("p");
        assert!(h.is_empty());
    }

    #[test]
    fn auth_pauses_until_reload() {
        let mut h = Holds::default();
        h.provider_failed("p", &err(ProviderErrorKind::Auth), t(0), &mut Fixed(0.5));
        assert!(h.provider_pause("p", t(86_400 * 365)).is_some());
        assert_eq!(h.next_due_after(t(0)), None);
        h.reset();
        assert!(h.provider_pause("p", t(0)).is_none());
    }

    #[test]
    fn retry_after_is_a_floor_and_a_zero_draw_still_waits() {
        let mut h = Holds::default();
        let e = err(ProviderErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(90)),
        });
        assert_eq!(
            h.provider_failed("p", &e, t(0), &mut Fixed(0.0)).until,
            Until::Time(t(90))
        );
        let e = err(ProviderErrorKind::Transient);
        let p = h.record_failed(
            &key("a.example.test"),
            &set("2001:db8::1"),
            &e,
            t(0),
            &mut Fixed(0.0),
        );
        assert_eq!(p.until, Until::Time(t(1)));
    }

    /// See: issue 8 (failure scope). A refused record is held for the value that was refused;
    /// a new value, or a verify pass, tries again; other records are not affected.
    #[test]
    fn record_holds_are_per_value() {
        let mut h = Holds::default();
        let (a, b) = (key("a.example.test"), key("b.example.test"));
        let e = err(ProviderErrorKind::Forbidden);
        let p = h.failed("p", &a, &set("2001:db8::1"), &e, t(0), &mut Fixed(0.5));
        assert_eq!(p.until, Until::Change);
        assert!(
            h.provider_pause("p", t(0)).is_none(),
            "the provider is not paused"
        );
        assert!(h
            .record_hold(&a, &set("2001:db8::1"), t(9999), false)
            .is_some());
        assert!(
            h.record_hold(&a, &set("2001:db8::2"), t(1), false)
                .is_none(),
            "new value"
        );
        assert!(
            h.record_hold(&a, &set("2001:db8::1"), t(1), true).is_none(),
            "verify"
        );
        assert!(h
            .record_hold(&b, &set("2001:db8::1"), t(1), false)
            .is_none());
        assert_eq!(h.next_due_after(t(0)), None);
        h.record_ok(&a);
        assert!(h.is_empty());
    }
}
