//! `GET /`: one server-rendered page with the table a user wants at a glance — each record,
//! its address, OK or failing, when it last changed and how long its last publish took —
//! then the providers and sources. No script and no external asset (the style is inline, and
//! the server's Content-Security-Policy forbids anything else); it refreshes itself every
//! [`REFRESH_SECS`] seconds with a `<meta>` tag, which works without JavaScript.

use std::fmt::Write as _;
use std::time::SystemTime;

use super::{ago, human_ms, rfc3339};
use crate::status::snapshot::{ProviderState, RecordView, Snapshot};

/// How often the page reloads itself.
pub const REFRESH_SECS: u32 = 30;

const STYLE: &str = "body{font:15px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b;background:#fafafa}\
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.6em 0 .4em}\
.meta{color:#555;margin:.2em 0 1em}table{border-collapse:collapse;width:100%;background:#fff}\
th,td{text-align:left;padding:.4em .6em;border-bottom:1px solid #ddd;vertical-align:top}\
th{background:#f0f0f0;font-weight:600}td.addr,td.num{font-family:ui-monospace,monospace}\
.badge{display:inline-block;min-width:4.5em;text-align:center;padding:.05em .4em;border-radius:.3em;font-weight:700;font-size:.85em}\
.ok .badge{background:#d8f3dc;color:#1b5e20}.failing .badge{background:#ffd6d6;color:#8b0000}\
.other .badge{background:#eee;color:#444}.hint{color:#555;font-size:.9em}\
.summary-ok{color:#1b5e20}.summary-failing{color:#8b0000}footer{margin-top:2em;color:#777;font-size:.9em}";

/// The page as served at `now`.
pub fn render(s: &Snapshot, now: SystemTime) -> String {
    let failing = s
        .records
        .iter()
        .filter(|r| r.result.as_ref().is_some_and(|x| !x.ok))
        .count();
    let headline = match (failing, s.last_pass.is_some()) {
        (_, false) => "waiting for the first pass".to_owned(),
        (0, true) if s.records.len() == 1 => "1 record OK".to_owned(),
        (0, true) => format!("all {} records OK", s.records.len()),
        (1, true) => "1 record failing".to_owned(),
        (n, true) => format!("{n} records failing"),
    };
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta http-equiv=\"refresh\" content=\"{REFRESH_SECS}\">\n\
<title>ddnsd on {host}: {headline}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
<h1>ddnsd on {host}</h1>\n<p id=\"summary\" class=\"{class}\">{headline}</p>\n",
        host = esc(&s.host),
        headline = esc(&headline),
        class = if failing == 0 {
            "summary-ok"
        } else {
            "summary-failing"
        },
    );
    let _ = write!(
        o,
        "<p class=\"meta\">version {} · started {} · config {}",
        esc(&s.version),
        time(s.started_at, now),
        esc(&s.config)
    );
    if let Some(p) = &s.last_pass {
        let _ = write!(
            o,
            "<br>last pass {} ({}, {}): {}",
            time(p.at, now),
            esc(&p.causes),
            human_ms(p.took),
            esc(&p.summary)
        );
    }
    o.push_str("</p>\n");

    o.push_str(
        "<table id=\"records\">\n<thead><tr><th>Record</th><th>Type</th><th>Address</th>\
<th>Status</th><th>Last changed</th><th>Last publish took</th></tr></thead>\n<tbody>\n",
    );
    for r in &s.records {
        record_row(&mut o, r, now);
    }
    o.push_str("</tbody>\n</table>\n");

    o.push_str(
        "<h2>Providers</h2>\n<table id=\"providers\">\n<thead><tr><th>Provider</th>\
<th>State</th><th>Last error</th></tr></thead>\n<tbody>\n",
    );
    for p in &s.providers {
        let (class, badge, state) = match &p.state {
            ProviderState::Ok => ("ok", "OK", String::new()),
            ProviderState::BackingOff { until, reason } => (
                "failing",
                "BACKOFF",
                format!("retried {} ({})", time(*until, now), esc(reason)),
            ),
            ProviderState::Paused { reason } => (
                "failing",
                "PAUSED",
                format!("until the config is reloaded ({})", esc(reason)),
            ),
        };
        let last = match &p.last_error {
            None => "—".to_owned(),
            Some(e) => {
                let hint = e
                    .hint
                    .as_ref()
                    .map(|h| format!("<div class=\"hint\">hint: {}</div>", esc(h)))
                    .unwrap_or_default();
                format!("{} ({}){hint}", esc(&e.message), time(e.at, now))
            }
        };
        let _ = writeln!(
            o,
            "<tr class=\"{class}\"><td>{}</td><td><span class=\"badge\">{badge}</span> {state}</td><td>{last}</td></tr>",
            esc(&p.name)
        );
    }
    o.push_str("</tbody>\n</table>\n");

    o.push_str(
        "<h2>Sources</h2>\n<table id=\"sources\">\n<thead><tr><th>Source</th>\
<th>Last detection</th><th>Selected</th></tr></thead>\n<tbody>\n",
    );
    for src in &s.sources {
        let (class, selected) = match &src.error {
            Some(e) => ("failing", format!("failed: {}", esc(&e.message))),
            None if src.selected.is_empty() => ("other", "—".to_owned()),
            None => (
                "ok",
                esc(&src
                    .selected
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")),
            ),
        };
        let at = src
            .at
            .map(|t| time(t, now))
            .unwrap_or_else(|| "never".to_owned());
        let _ = writeln!(
            o,
            "<tr class=\"{class}\"><td>{}</td><td>{at}</td><td class=\"addr\">{selected}</td></tr>",
            esc(&src.name)
        );
    }
    o.push_str("</tbody>\n</table>\n");
    let _ = write!(
        o,
        "<footer>{} · JSON: <a href=\"/status\">/status</a> · Prometheus: <a href=\"/metrics\">/metrics</a> · refreshes every {REFRESH_SECS} s</footer>\n</body>\n</html>\n",
        rfc3339(now)
    );
    o
}

fn record_row(o: &mut String, r: &RecordView, now: SystemTime) {
    let (class, badge, status, hint) = match &r.result {
        None => ("other", "WAITING", "not checked yet".to_owned(), None),
        Some(x) if !x.ok => ("failing", "FAILING", x.text.clone(), x.hint.clone()),
        Some(x) if matches!(x.code, "no-address" | "gone") => {
            ("other", "SKIPPED", x.text.clone(), None)
        }
        Some(x) => ("ok", "OK", x.text.clone(), None),
    };
    let addrs = r
        .published
        .as_ref()
        .or(r.desired.as_ref())
        .map(ToString::to_string)
        .unwrap_or_else(|| "-".to_owned());
    let changed = r
        .last_change
        .map(|t| time(t, now))
        .unwrap_or_else(|| "never".to_owned());
    let took = r
        .last_publish
        .map(|l| human_ms(l.took))
        .unwrap_or_else(|| "—".to_owned());
    let hint = hint
        .map(|h| format!("<div class=\"hint\">hint: {}</div>", esc(&h)))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "<tr class=\"{class}\" id=\"{id}\"><td>{name}</td><td>{rtype}</td><td class=\"addr\">{addrs}</td>\
<td><span class=\"badge\">{badge}</span> {status}{hint}</td><td>{changed}</td><td class=\"num\">{took}</td></tr>",
        id = esc(&format!("record-{}-{}", r.key.name, r.key.rtype)),
        name = esc(r.key.name.as_str()),
        rtype = r.key.rtype.as_str(),
        addrs = esc(&addrs),
        status = esc(&status),
    );
}

/// `<time datetime="…">…Z</time> (5 s ago)`.
fn time(t: SystemTime, now: SystemTime) -> String {
    let at = rfc3339(t);
    format!("<time datetime=\"{at}\">{at}</time> ({})", ago(t, now))
}

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::snapshot::tests::{snapshot_after_one_pass, t};

    #[test]
    fn page_rows() {
        let page = render(&snapshot_after_one_pass(), t(15));
        for want in [
            "<title>ddnsd on vm: 2 records failing</title>",
            "<tr class=\"ok\" id=\"record-a.example.test-AAAA\"><td>a.example.test</td><td>AAAA</td><td class=\"addr\">2001:db8::2</td><td><span class=\"badge\">OK</span> created</td><td><time datetime=\"2023-11-14T22:13:25Z\">2023-11-14T22:13:25Z</time> (10 s ago)</td><td class=\"num\">42 ms</td></tr>",
            "<tr class=\"failing\" id=\"record-b.example.test-AAAA\"><td>b.example.test</td><td>AAAA</td><td class=\"addr\">2001:db8::2</td><td><span class=\"badge\">FAILING</span> failed: the server refused the update<div class=\"hint\">hint: allow the name in the server&#39;s update-policy</div></td><td>never</td><td class=\"num\">—</td></tr>",
            "<tr class=\"failing\"><td>home</td><td><span class=\"badge\">BACKOFF</span> retried <time datetime=\"2023-11-14T22:14:25Z\">2023-11-14T22:14:25Z</time> (in 50 s) (could not reach 127.0.0.1:53)</td>",
            "<tr class=\"failing\"><td>wan4</td>",
        ] {
            assert!(page.contains(want), "missing {want:?} in\n{page}");
        }
        assert!(!page.contains("<script"), "no script");
        assert!(!page.contains("src="), "no external asset");
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "no external link"
        );
    }

    #[test]
    fn untrusted_text_is_escaped() {
        let mut s = snapshot_after_one_pass();
        s.config = "<script>alert(1)</script>".into();
        let page = render(&s, t(15));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<script>"));
    }
}
