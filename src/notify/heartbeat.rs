//! `[heartbeat]`: a ping per pass, so that silence itself raises the alarm. Pure: builds the
//! request for each ping in the style of the monitoring service; the queue sends it.
//!
//! - Healthchecks.io (`style = "healthchecks"`, the default): `POST URL/start` when a pass
//!   starts, `POST URL` when it ends well, `POST URL/fail` when a record failed; the body
//!   holds the pass summary and the failing records' lines (Healthchecks shows it).
//! - Uptime Kuma (`style = "uptime-kuma"`): its push URL with `status=up` or `status=down`,
//!   `msg=` (summary, or the failing records) and `ping=` (the pass's duration in ms). Kuma
//!   has no "started" signal, so nothing is sent at the start.

use std::time::Duration;

use crate::secret::Secret;

/// `[heartbeat]`, checked.
#[derive(Clone, Debug)]
pub struct HeartbeatSettings {
    /// The check's ping URL (a secret: whoever has it can ping).
    pub url: Secret<String>,
    /// The monitoring service's style.
    pub style: Style,
    /// Time allowed for one ping.
    pub timeout: Duration,
}

/// How pings are spelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Healthchecks.io (and compatible services): `/start`, `/fail` suffixes, POST bodies.
    Healthchecks,
    /// Uptime Kuma push monitors: `?status=up|down&msg=…&ping=…`.
    UptimeKuma,
}

impl Style {
    /// The name as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Style::Healthchecks => "healthchecks",
            Style::UptimeKuma => "uptime-kuma",
        }
    }
}

/// One ping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ping {
    /// A pass started.
    Start,
    /// A pass ended with every record current (or without a usable address).
    Success {
        /// The pass summary.
        body: String,
        /// How long the pass took.
        took: Duration,
    },
    /// A pass ended with failing records.
    Fail {
        /// The summary and the failing records' lines.
        body: String,
        /// How long the pass took.
        took: Duration,
    },
}

impl Ping {
    /// How a log line names the ping: `the "start" ping`.
    pub fn describe(&self) -> &'static str {
        match self {
            Ping::Start => "the \"start\" ping",
            Ping::Success { .. } => "the \"success\" ping",
            Ping::Fail { .. } => "the \"fail\" ping",
        }
    }
}

/// What to send for a ping: `None` when the style has no such signal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PingRequest {
    /// POST (Healthchecks) or GET (Uptime Kuma).
    pub post: bool,
    /// The full URL.
    pub url: String,
    /// The body (empty for GET).
    pub body: String,
}

/// The longest `msg=` sent to Uptime Kuma (it is part of a URL).
#[cfg(feature = "http")]
const KUMA_MSG_MAX: usize = 400;

/// Builds the request of `ping` for the check at `url`.
#[cfg(feature = "http")]
pub fn request(style: Style, url: &str, ping: &Ping) -> Option<PingRequest> {
    match style {
        Style::Healthchecks => {
            let base = url.trim_end_matches('/');
            let (suffix, body) = match ping {
                Ping::Start => ("/start", String::new()),
                Ping::Success { body, .. } => ("", body.clone()),
                Ping::Fail { body, .. } => ("/fail", body.clone()),
            };
            Some(PingRequest {
                post: true,
                url: format!("{base}{suffix}"),
                body,
            })
        }
        Style::UptimeKuma => {
            let (status, body, took) = match ping {
                Ping::Start => return None,
                Ping::Success { body, took } => ("up", body, took),
                Ping::Fail { body, took } => ("down", body, took),
            };
            let msg: String = body.trim_end().replace('\n', "; ");
            let msg = truncate(&msg, KUMA_MSG_MAX);
            let mut parsed = reqwest::Url::parse(url).ok()?;
            let kept: Vec<(String, String)> = parsed
                .query_pairs()
                .filter(|(k, _)| !matches!(k.as_ref(), "status" | "msg" | "ping"))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            parsed
                .query_pairs_mut()
                .clear()
                .extend_pairs(kept)
                .append_pair("status", status)
                .append_pair("msg", &msg)
                .append_pair("ping", &took.as_millis().to_string());
            Some(PingRequest {
                post: false,
                url: parsed.to_string(),
                body: String::new(),
            })
        }
    }
}

/// At most `max` bytes of `s`, cut at a character boundary, with `…` when cut.
#[cfg(feature = "http")]
fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

// The request builder is the `http` feature's.
#[cfg(all(test, feature = "http"))]
mod tests {
    use super::*;

    const FAIL_BODY: &str = "0 changed, 1 unchanged, 1 failed, 0 without address\nb.example.test AAAA 2001:db8::1  failed: refused\n";

    #[test]
    fn healthchecks_table() {
        let url = "http://127.0.0.1:8000/ping/0d7a/";
        let took = Duration::from_millis(42);
        let cases = [
            (Ping::Start, "http://127.0.0.1:8000/ping/0d7a/start", ""),
            (
                Ping::Success {
                    body: "1 changed\n".into(),
                    took,
                },
                "http://127.0.0.1:8000/ping/0d7a",
                "1 changed\n",
            ),
            (
                Ping::Fail {
                    body: FAIL_BODY.into(),
                    took,
                },
                "http://127.0.0.1:8000/ping/0d7a/fail",
                FAIL_BODY,
            ),
        ];
        for (ping, want_url, want_body) in cases {
            let r = request(Style::Healthchecks, url, &ping).unwrap();
            assert!(r.post);
            assert_eq!((r.url.as_str(), r.body.as_str()), (want_url, want_body));
        }
    }

    #[test]
    fn uptime_kuma_table() {
        let url = "http://127.0.0.1:3001/api/push/Tok3n?status=up&msg=OK&ping=";
        let took = Duration::from_millis(42);
        assert_eq!(request(Style::UptimeKuma, url, &Ping::Start), None);
        let r = request(
            Style::UptimeKuma,
            url,
            &Ping::Success {
                body: "1 changed\n".into(),
                took,
            },
        )
        .unwrap();
        assert!(!r.post);
        assert_eq!(
            r.url,
            "http://127.0.0.1:3001/api/push/Tok3n?status=up&msg=1+changed&ping=42"
        );
        let r = request(
            Style::UptimeKuma,
            url,
            &Ping::Fail {
                body: FAIL_BODY.into(),
                took,
            },
        )
        .unwrap();
        assert_eq!(
            r.url,
            "http://127.0.0.1:3001/api/push/Tok3n?status=down&msg=0+changed%2C+1+unchanged%2C+1+failed%2C+0+without+address%3B+b.example.test+AAAA+2001%3Adb8%3A%3A1++failed%3A+refused&ping=42"
        );
        let long = "x".repeat(1000);
        let r = request(Style::UptimeKuma, url, &Ping::Fail { body: long, took }).unwrap();
        assert!(r
            .url
            .contains(&format!("msg={}%E2%80%A6&", "x".repeat(400))));
    }
}
