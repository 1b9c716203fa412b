//! Every text a notification or heartbeat carries, and the log sentences about delivering
//! them. Pure: rendering only (the host name and times are handed in).

use std::fmt::Write as _;

use serde_json::json;

use super::{Event, Notice};
use crate::status::render::rfc3339;

/// `ddnsd on HOST: NAME TYPE EVENT`.
pub fn title(n: &Notice, host: &str) -> String {
    format!(
        "ddnsd on {host}: {} {} {}",
        n.key.name, n.key.rtype, n.event
    )
}

/// The one-line text of a notice: the record's `run --once` line, or for a recovery
/// `NAME TYPE ADDRS  recovered (failing since TIME)`.
pub fn text(n: &Notice) -> String {
    let status = match (n.event, n.failing_since) {
        (Event::Recovered, Some(since)) => format!("recovered (failing since {})", rfc3339(since)),
        (Event::Recovered, None) => "recovered".to_owned(),
        _ => n.status.clone(),
    };
    format!("{} {} {}  {status}", n.key.name, n.key.rtype, n.addrs)
}

/// The JSON object a webhook without a `body` template sends.
pub fn json_body(n: &Notice, host: &str) -> String {
    let addrs = |s: &crate::record::AddrSet| s.iter().map(ToString::to_string).collect::<Vec<_>>();
    json!({
        "event": n.event.as_str(),
        "name": n.key.name.as_str(),
        "type": n.key.rtype.as_str(),
        "addrs": addrs(&n.addrs),
        "was": n.was.as_ref().map(addrs),
        "provider": n.provider,
        "status": n.status,
        "message": text(n),
        "title": title(n, host),
        "host": host,
        "at": rfc3339(n.at),
    })
    .to_string()
}

/// A webhook body template: text with `{field}` placeholders (`{{` and `}}` for braces).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Field),
}

/// A placeholder of a [`Template`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Event,
    Name,
    Type,
    Addrs,
    Was,
    Provider,
    Status,
    Message,
    Title,
    Host,
    At,
}

/// Every placeholder a template may use.
pub const FIELDS: &[&str] = &[
    "event", "name", "type", "addrs", "was", "provider", "status", "message", "title", "host", "at",
];

impl Template {
    /// Parses a template; the error is a clause naming the problem. A placeholder is
    /// `{word}` of lower-case letters and `_`; any other brace is text (so a JSON body needs
    /// no escaping), and `{{` writes a lone `{` before a word that is not a placeholder.
    pub fn parse(s: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('{') {
            text.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(tail) = after.strip_prefix('{') {
                text.push('{');
                rest = tail;
                continue;
            }
            let word_len = after
                .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .unwrap_or(after.len());
            let (word, tail) = after.split_at(word_len);
            let Some(tail) = tail.strip_prefix('}').filter(|_| !word.is_empty()) else {
                text.push('{');
                rest = after;
                continue;
            };
            let field = match word {
                "event" => Field::Event,
                "name" => Field::Name,
                "type" => Field::Type,
                "addrs" => Field::Addrs,
                "was" => Field::Was,
                "provider" => Field::Provider,
                "status" => Field::Status,
                "message" => Field::Message,
                "title" => Field::Title,
                "host" => Field::Host,
                "at" => Field::At,
                _ => return Err(format!("unknown placeholder \"{{{word}}}\"")),
            };
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(Part::Field(field));
            rest = tail;
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template { parts })
    }

    /// Fills the template in. With `json`, every value is escaped for use inside a JSON
    /// string (the template supplies the quotes).
    pub fn render(&self, n: &Notice, host: &str, json: bool) -> String {
        let mut out = String::new();
        for p in &self.parts {
            let value = match p {
                Part::Text(t) => {
                    out.push_str(t);
                    continue;
                }
                Part::Field(f) => match f {
                    Field::Event => n.event.as_str().to_owned(),
                    Field::Name => n.key.name.to_string(),
                    Field::Type => n.key.rtype.as_str().to_owned(),
                    Field::Addrs => n.addrs.to_string(),
                    Field::Was => n.was.as_ref().map(ToString::to_string).unwrap_or_default(),
                    Field::Provider => n.provider.clone(),
                    Field::Status => n.status.clone(),
                    Field::Message => text(n),
                    Field::Title => title(n, host),
                    Field::Host => host.to_owned(),
                    Field::At => rfc3339(n.at),
                },
            };
            if json {
                let quoted = serde_json::Value::String(value).to_string();
                // invariant: a serialised JSON string starts and ends with an ASCII quote.
                out.push_str(quoted.get(1..quoted.len() - 1).unwrap_or_default());
            } else {
                out.push_str(&value);
            }
        }
        out
    }
}

/// The heartbeat body after a pass: its summary, then one line per failing record.
pub fn heartbeat_body(summary: &str, failing: &[String]) -> String {
    let mut s = format!("{summary}\n");
    for line in failing {
        let _ = writeln!(s, "{line}");
    }
    s
}

/// Logged when a message could not be delivered (after its retries, or at once when the
/// target's answer means retrying cannot help).
pub fn delivery_failed(label: &str, what: &str, attempts: u32, error: &str) -> String {
    let tries = if attempts == 1 {
        "1 attempt".to_owned()
    } else {
        format!("{attempts} attempts")
    };
    format!("{label}: could not deliver {what} after {tries}: {error}")
}

/// Logged when a target's queue is full and a message is dropped.
pub fn queue_full(label: &str, capacity: usize, what: &str) -> String {
    format!("{label}: {capacity} messages are already waiting; dropped {what}")
}

/// How a log line names a notice: `the "failed" notice of NAME TYPE`.
pub fn describe(n: &Notice) -> String {
    format!(
        "the {:?} notice of {} {}",
        n.event.as_str(),
        n.key.name,
        n.key.rtype
    )
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::record::{RecordKey, RecordType};

    fn notice(event: Event) -> Notice {
        Notice {
            event,
            key: RecordKey {
                name: "h.example.test".parse().unwrap(),
                rtype: RecordType::Aaaa,
            },
            provider: "home".into(),
            addrs: ["2001:db8::2".parse().unwrap()].into_iter().collect(),
            was: (event == Event::Changed)
                .then(|| ["2001:db8::1".parse().unwrap()].into_iter().collect()),
            status: match event {
                Event::Changed => "updated (was 2001:db8::1)".into(),
                Event::Failed => "failed: the server refused the update".into(),
                Event::Recovered => "unchanged".into(),
            },
            failing_since: (event == Event::Recovered)
                .then(|| SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_600),
        }
    }

    #[test]
    fn texts_table() {
        let cases = [
            (
                Event::Changed,
                "ddnsd on vm: h.example.test AAAA changed",
                "h.example.test AAAA 2001:db8::2  updated (was 2001:db8::1)",
            ),
            (
                Event::Failed,
                "ddnsd on vm: h.example.test AAAA failed",
                "h.example.test AAAA 2001:db8::2  failed: the server refused the update",
            ),
            (
                Event::Recovered,
                "ddnsd on vm: h.example.test AAAA recovered",
                "h.example.test AAAA 2001:db8::2  recovered (failing since 2023-11-14T22:13:20Z)",
            ),
        ];
        for (event, want_title, want_text) in cases {
            let n = notice(event);
            assert_eq!(title(&n, "vm"), want_title);
            assert_eq!(text(&n), want_text);
        }
    }

    #[test]
    fn json_body_has_every_field() {
        let v: serde_json::Value =
            serde_json::from_str(&json_body(&notice(Event::Changed), "vm")).unwrap();
        assert_eq!(v["event"], "changed");
        assert_eq!(v["name"], "h.example.test");
        assert_eq!(v["type"], "AAAA");
        assert_eq!(v["addrs"][0], "2001:db8::2");
        assert_eq!(v["was"][0], "2001:db8::1");
        assert_eq!(v["at"], "2023-11-14T22:23:20Z");
        let v: serde_json::Value =
            serde_json::from_str(&json_body(&notice(Event::Failed), "vm")).unwrap();
        assert!(v["was"].is_null());
    }

    #[test]
    fn templates_table() {
        let n = notice(Event::Failed);
        let cases = [
            ("{name} {type}: {event}", false, Ok("h.example.test AAAA: failed")),
            ("{\"text\": \"{message}\"}", true, Ok("{\"text\": \"h.example.test AAAA 2001:db8::2  failed: the server refused the update\"}")),
            ("x{was}y", false, Ok("xy")),
            ("{nmae}", false, Err("unknown placeholder \"{nmae}\"")),
            ("{name", false, Ok("{name")),
            ("a } b {{name} {Name}", false, Ok("a } b {name} {Name}")),
        ];
        for (t, json, want) in cases {
            let got = Template::parse(t).map(|t| t.render(&n, "vm", json));
            assert_eq!(got.as_deref().map_err(String::as_str), want, "{t}");
        }
        // JSON escaping keeps the body valid whatever the values hold.
        let mut odd = notice(Event::Failed);
        odd.status = "failed: \"quoted\"\nnext".into();
        let body = Template::parse("{\"s\": \"{status}\"}")
            .unwrap()
            .render(&odd, "vm", true);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["s"], "failed: \"quoted\"\nnext");
    }

    #[test]
    fn log_sentences() {
        assert_eq!(
            delivery_failed("notify #1 (webhook)", &describe(&notice(Event::Failed)), 3, "the target answered 500"),
            "notify #1 (webhook): could not deliver the \"failed\" notice of h.example.test AAAA after 3 attempts: the target answered 500"
        );
        assert_eq!(
            queue_full("heartbeat", 32, "the \"success\" ping"),
            "heartbeat: 32 messages are already waiting; dropped the \"success\" ping"
        );
        assert_eq!(
            heartbeat_body("1 changed", &["a".into(), "b".into()]),
            "1 changed\na\nb\n"
        );
    }
}
