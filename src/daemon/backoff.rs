//! Pure, per-provider retry scheduling: bounded exponential backoff with full jitter, honouring
//! `Retry-After`, and parking providers whose credentials were rejected until the config is
//! reloaded. Reads no clock and draws no randomness of its own: both are handed in.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::provider::RetryPolicy;

/// The first retry waits up to this long.
pub const BASE: Duration = Duration::from_secs(5);
/// No backoff delay grows beyond this.
pub const CAP: Duration = Duration::from_secs(600);
/// The longest `Retry-After` honoured as given (longer ones are clamped to this).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// A source of uniform random fractions in `[0, 1)`, injected so tests are deterministic.
pub trait Jitter: Send {
    /// A uniform random number in `[0, 1)`.
    fn fraction(&mut self) -> f64;
}

/// [`Jitter`] backed by the thread-local generator of `rand`.
#[derive(Debug, Default)]
pub struct ThreadJitter;

impl Jitter for ThreadJitter {
    fn fraction(&mut self) -> f64 {
        rand::random::<f64>()
    }
}

/// `d` scaled by a uniform factor in `[0.9, 1.1)`: spreads periodic work of many daemons.
pub fn spread(d: Duration, jitter: &mut dyn Jitter) -> Duration {
    d.mul_f64(0.9 + 0.2 * jitter.fraction().clamp(0.0, 1.0))
}

/// What the schedule decided after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Retry no earlier than after this delay.
    RetryIn(Duration),
    /// Do not retry until the config is reloaded.
    Parked,
}

/// The state of one provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hold {
    /// `failures` consecutive failures; not before `until`.
    Waiting { failures: u32, until: Instant },
    /// Auth-like failure: wait for a reload.
    Parked,
}

/// Per-provider backoff.
#[derive(Debug)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    holds: BTreeMap<String, Hold>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(BASE, CAP)
    }
}

impl Backoff {
    /// A schedule whose first delay is up to `base` and whose delays never exceed `cap`.
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff {
            base,
            cap,
            holds: BTreeMap::new(),
        }
    }

    /// Records a failed pass of `provider` at `now`.
    pub fn failure(
        &mut self,
        provider: &str,
        policy: RetryPolicy,
        now: Instant,
        jitter: &mut dyn Jitter,
    ) -> Decision {
        let failures = match self.holds.get(provider) {
            Some(Hold::Waiting { failures, .. }) => failures.saturating_add(1),
            Some(Hold::Parked) | None => 1,
        };
        let decision = match policy {
            RetryPolicy::UntilConfigChange | RetryPolicy::UntilChange => Decision::Parked,
            RetryPolicy::Backoff => Decision::RetryIn(self.full_jitter(failures, jitter)),
            RetryPolicy::After(at_least) => Decision::RetryIn(
                self.full_jitter(failures, jitter)
                    .max(at_least.min(MAX_RETRY_AFTER)),
            ),
        };
        let hold = match decision {
            Decision::Parked => Hold::Parked,
            Decision::RetryIn(d) => Hold::Waiting {
                failures,
                until: now + d,
            },
        };
        self.holds.insert(provider.to_owned(), hold);
        decision
    }

    /// Records a successful pass of `provider`: the next failure starts from the base again.
    pub fn success(&mut self, provider: &str) {
        self.holds.remove(provider);
    }

    /// Forgets everything (the config was reloaded: credentials may have been fixed).
    pub fn reset(&mut self) {
        self.holds.clear();
    }

    /// May `provider` be called at `now`?
    pub fn allows(&self, provider: &str, now: Instant) -> bool {
        match self.holds.get(provider) {
            None => true,
            Some(Hold::Parked) => false,
            Some(Hold::Waiting { until, .. }) => now >= *until,
        }
    }

    /// Is `provider` parked until a reload?
    pub fn is_parked(&self, provider: &str) -> bool {
        matches!(self.holds.get(provider), Some(Hold::Parked))
    }

    /// The earliest instant a waiting provider may be retried, if any waits.
    pub fn next_retry(&self) -> Option<Instant> {
        self.holds
            .values()
            .filter_map(|h| match h {
                Hold::Waiting { until, .. } => Some(*until),
                Hold::Parked => None,
            })
            .min()
    }

    /// "Full jitter": uniform in `[0, min(cap, base × 2^(failures−1))]`.
    fn full_jitter(&self, failures: u32, jitter: &mut dyn Jitter) -> Duration {
        let exp = failures.saturating_sub(1).min(30);
        let ceiling = self.base.saturating_mul(1u32 << exp).min(self.cap);
        ceiling.mul_f64(jitter.fraction().clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Always returns the same fraction.
    struct Fixed(f64);
    impl Jitter for Fixed {
        fn fraction(&mut self) -> f64 {
            self.0
        }
    }

    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let mut b = Backoff::default();
        let now = t0();
        let got: Vec<Decision> = (0..10)
            .map(|_| b.failure("p", RetryPolicy::Backoff, now, &mut Fixed(1.0)))
            .collect();
        let secs: Vec<u64> = got
            .iter()
            .map(|d| match d {
                Decision::RetryIn(d) => d.as_secs(),
                Decision::Parked => panic!("parked"),
            })
            .collect();
        assert_eq!(secs, [5, 10, 20, 40, 80, 160, 320, 600, 600, 600]);
    }

    #[test]
    fn full_jitter_spans_zero_to_the_ceiling() {
        let mut b = Backoff::default();
        let now = t0();
        assert_eq!(
            b.failure("p", RetryPolicy::Backoff, now, &mut Fixed(0.0)),
            Decision::RetryIn(Duration::ZERO)
        );
        assert_eq!(
            b.failure("p", RetryPolicy::Backoff, now, &mut Fixed(0.5)),
            Decision::RetryIn(Duration::from_secs(5))
        );
    }

    #[test]
    fn retry_after_is_a_floor() {
        let mut b = Backoff::default();
        let now = t0();
        let d = b.failure(
            "p",
            RetryPolicy::After(Duration::from_secs(90)),
            now,
            &mut Fixed(0.1),
        );
        assert_eq!(d, Decision::RetryIn(Duration::from_secs(90)));
        assert!(!b.allows("p", now + Duration::from_secs(89)));
        assert!(b.allows("p", now + Duration::from_secs(90)));
        assert_eq!(b.next_retry(), Some(now + Duration::from_secs(90)));
        // A Retry-After beyond the cap is still honoured (the server asked), up to a day.
        let d = b.failure(
            "q",
            RetryPolicy::After(Duration::from_secs(7200)),
            now,
            &mut Fixed(1.0),
        );
        assert_eq!(d, Decision::RetryIn(Duration::from_secs(7200)));
    }

    #[test]
    fn auth_errors_park_until_reset() {
        let mut b = Backoff::default();
        let now = t0();
        assert_eq!(
            b.failure("p", RetryPolicy::UntilConfigChange, now, &mut Fixed(0.5)),
            Decision::Parked
        );
        assert!(b.is_parked("p"));
        assert!(!b.allows("p", now + Duration::from_secs(86_400 * 365)));
        assert_eq!(b.next_retry(), None);
        assert!(b.allows("other", now));
        b.reset();
        assert!(b.allows("p", now));
    }

    #[test]
    fn success_resets_the_exponent() {
        let mut b = Backoff::default();
        let now = t0();
        for _ in 0..5 {
            b.failure("p", RetryPolicy::Backoff, now, &mut Fixed(1.0));
        }
        b.success("p");
        assert!(b.allows("p", now));
        assert_eq!(
            b.failure("p", RetryPolicy::Backoff, now, &mut Fixed(1.0)),
            Decision::RetryIn(Duration::from_secs(5))
        );
    }

    #[test]
    fn spread_stays_within_ten_percent() {
        let d = Duration::from_secs(300);
        assert_eq!(spread(d, &mut Fixed(0.0)), Duration::from_secs(270));
        assert_eq!(spread(d, &mut Fixed(0.5)), Duration::from_secs(300));
        assert!(spread(d, &mut Fixed(0.999_999)) <= Duration::from_secs(330));
    }
}
