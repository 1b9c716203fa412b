//! Durations written as `500ms`, `30s`, `5m`, `1h`, `1d`, or sums like `1h30m`.

use std::time::Duration;

/// Parses a duration; the error says what is wrong in a form fit for a diagnostic.
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration; write e.g. \"30s\", \"5m\" or \"1h\"".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "invalid duration {text:?}; write e.g. \"30s\", \"5m\" or \"1h\""
            ));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("duration {text:?} is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            "d" => Duration::from_secs(n.saturating_mul(86400)),
            "" => {
                return Err(format!(
                    "duration {text:?} has no unit; write e.g. \"{n}s\" or \"{n}m\""
                ))
            }
            other => {
                return Err(format!(
                    "unknown unit {other:?} in duration {text:?}; use ms, s, m, h or d"
                ))
            }
        };
        total = total.saturating_add(part);
    }
    Ok(total)
}

/// Formats a duration the way [`parse`] reads it (`1h30m`, `500ms`).
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let mut s = d.as_secs();
    let mut out = String::new();
    for (unit, len) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] {
        if s >= len {
            out.push_str(&format!("{}{unit}", s / len));
            s %= len;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let ok = [
            ("30s", 30_000),
            ("5m", 300_000),
            ("1h", 3_600_000),
            ("1h30m", 5_400_000),
            ("500ms", 500),
            ("2d", 172_800_000),
            (" 10s ", 10_000),
        ];
        for (text, ms) in ok {
            assert_eq!(parse(text), Ok(Duration::from_millis(ms)), "{text}");
        }
        let bad = [
            ("", "empty duration; write e.g. \"30s\", \"5m\" or \"1h\""),
            (
                "5",
                "duration \"5\" has no unit; write e.g. \"5s\" or \"5m\"",
            ),
            (
                "5x",
                "unknown unit \"x\" in duration \"5x\"; use ms, s, m, h or d",
            ),
            (
                "m5",
                "invalid duration \"m5\"; write e.g. \"30s\", \"5m\" or \"1h\"",
            ),
        ];
        for (text, msg) in bad {
            assert_eq!(parse(text), Err(msg.to_owned()), "{text}");
        }
    }

    #[test]
    fn format_round_trips() {
        for text in ["500ms", "30s", "5m", "1h30m", "1d"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
    }
}
