//! Rendering a [`Snapshot`](super::Snapshot) for people and programs: `GET /status` JSON
//! (`json.rs`), `GET /metrics` Prometheus text (`metrics.rs`), the `GET /` page (`html.rs`)
//! and the `ddnsd status` table (`table.rs`, from the JSON). Pure: the time of the request is
//! handed in; table tests pin the output.

pub mod html;
pub mod json;
pub mod metrics;
pub mod table;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `2023-11-14T22:13:20Z` (UTC, whole seconds).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses what [`rfc3339`] writes.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<u64>().ok();
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (h, mi, se) = (n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d)?;
    Some(UNIX_EPOCH + Duration::from_secs(days * 86_400 + h * 3600 + mi * 60 + se))
}

/// `5 s ago`, `3 min ago`, `2 h ago`, `4 days ago` (`in 30 s` for a time ahead).
pub fn ago(t: SystemTime, now: SystemTime) -> String {
    let (d, ahead) = match now.duration_since(t) {
        Ok(d) => (d, false),
        Err(e) => (e.duration(), true),
    };
    let s = d.as_secs();
    let amount = if s < 120 {
        format!("{s} s")
    } else if s < 7200 {
        format!("{} min", s / 60)
    } else if s < 172_800 {
        format!("{} h", s / 3600)
    } else {
        format!("{} days", s / 86_400)
    };
    if ahead {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// A duration for people: `42 ms`, `1.25 s`.
pub fn human_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{} ms", ms.round() as u64)
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// (year, month, day) of a day count since 1970-01-01 (Hinnant's civil_from_days).
fn civil(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Day count since 1970-01-01 of a date (Hinnant's days_from_civil), for years from 1970.
fn days_from_civil(y: u64, m: u64, d: u64) -> Option<u64> {
    let y = if m <= 2 { y.checked_sub(1)? } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_table() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (1_700_000_000, "2023-11-14T22:13:20Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
        ];
        for (secs, want) in cases {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(rfc3339(t), want);
            assert_eq!(parse_rfc3339(want), Some(t), "{want}");
        }
        assert_eq!(parse_rfc3339("2023-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let cases = [
            (5, "5 s ago"),
            (600, "10 min ago"),
            (7200, "2 h ago"),
            (3 * 86_400, "3 days ago"),
        ];
        for (back, want) in cases {
            assert_eq!(ago(now - Duration::from_secs(back), now), want);
        }
        assert_eq!(ago(now + Duration::from_secs(30), now), "in 30 s");
        assert_eq!(human_ms(Duration::from_micros(41_600)), "42 ms");
        assert_eq!(human_ms(Duration::from_millis(1250)), "1.25 s");
    }
}
