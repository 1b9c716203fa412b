//! Pure retry arithmetic shared by the daemon's timers and the failure holds of reconcile:
//! bounded exponential backoff with full jitter, and the ±10 % spread of periodic timers.
//! Reads no clock and draws no randomness of its own: the [`Jitter`] is handed in.

use std::time::Duration;

/// The first retry after a failure waits up to this long.
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

/// "Full jitter" after `failures` consecutive failures: uniform in
/// `[0, min(cap, base × 2^(failures−1))]`.
pub fn full_jitter(
    base: Duration,
    cap: Duration,
    failures: u32,
    jitter: &mut dyn Jitter,
) -> Duration {
    let exp = failures.saturating_sub(1).min(30);
    let ceiling = base.saturating_mul(1u32 << exp).min(cap);
    ceiling.mul_f64(jitter.fraction().clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Always returns the same fraction.
    pub struct Fixed(pub f64);
    impl Jitter for Fixed {
        fn fraction(&mut self) -> f64 {
            self.0
        }
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let secs: Vec<u64> = (1..=10)
            .map(|n| full_jitter(BASE, CAP, n, &mut Fixed(1.0)).as_secs())
            .collect();
        assert_eq!(secs, [5, 10, 20, 40, 80, 160, 320, 600, 600, 600]);
        assert_eq!(full_jitter(BASE, CAP, 1, &mut Fixed(0.0)), Duration::ZERO);
        assert_eq!(
            full_jitter(BASE, CAP, 2, &mut Fixed(0.5)),
            Duration::from_secs(5)
        );
        assert_eq!(full_jitter(BASE, CAP, u32::MAX, &mut Fixed(1.0)), CAP);
    }

    #[test]
    fn spread_stays_within_ten_percent() {
        let d = Duration::from_secs(300);
        assert_eq!(spread(d, &mut Fixed(0.0)), Duration::from_secs(270));
        assert_eq!(spread(d, &mut Fixed(0.5)), Duration::from_secs(300));
        assert!(spread(d, &mut Fixed(0.999_999)) <= Duration::from_secs(330));
    }
}
