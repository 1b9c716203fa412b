//! Time, handed in rather than reached for: [`Clock`] with [`SystemClock`] and [`FakeClock`].

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of wall-clock and monotonic time.
pub trait Clock: Send + Sync {
    /// The wall-clock time (used for request signatures and the state file).
    fn now(&self) -> SystemTime;
    /// A monotonic instant (used for measuring durations).
    fn monotonic(&self) -> Instant;

    /// Seconds since the Unix epoch (0 for a clock set before 1970).
    fn unix_secs(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// The operating system's clocks.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
    fn monotonic(&self) -> Instant {
        Instant::now()
    }
}

/// A clock for tests: starts at a given wall time and moves only when told.
#[derive(Debug)]
pub struct FakeClock {
    inner: Mutex<(SystemTime, Instant)>,
}

impl FakeClock {
    /// A clock reading `unix_secs` seconds after the epoch.
    pub fn at_unix(unix_secs: u64) -> FakeClock {
        FakeClock {
            inner: Mutex::new((UNIX_EPOCH + Duration::from_secs(unix_secs), Instant::now())),
        }
    }

    /// Moves both clocks forward.
    pub fn advance(&self, d: Duration) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.0 += d;
        g.1 += d;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> SystemTime {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).0
    }
    fn monotonic(&self) -> Instant {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_clock_moves_only_when_told() {
        let c = FakeClock::at_unix(1_700_000_000);
        assert_eq!(c.unix_secs(), 1_700_000_000);
        c.advance(Duration::from_secs(5));
        assert_eq!(c.unix_secs(), 1_700_000_005);
    }
}
