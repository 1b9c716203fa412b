//! `ddnsd status`: the daemon's `GET /status` document as a table, one row per record, then
//! one line per provider that is not OK and per source that failed.

use std::fmt::Write as _;
use std::time::SystemTime;

use serde_json::Value;

use super::json::SCHEMA;
use super::parse_rfc3339;

/// The rendered table and whether any record is failing (exit status 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// For standard output.
    pub text: String,
    /// True when any record is failing.
    pub failing: bool,
}

/// Renders the document; the error is a clause saying why it cannot be read.
pub fn render(doc: &Value, now: SystemTime) -> Result<Table, String> {
    match doc["schema"].as_u64() {
        Some(SCHEMA) => {}
        Some(n) => {
            return Err(format!(
                "the daemon speaks status schema {n}; this ddnsd reads schema {SCHEMA}"
            ))
        }
        None => return Err("the answer is not a ddnsd status document".to_owned()),
    }
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let when = |v: &Value| match v.as_str().and_then(parse_rfc3339) {
        Some(t) => format!("{} ({})", s(v), super::ago(t, now)),
        None => "never".to_owned(),
    };
    let d = &doc["ddnsd"];
    let mut o = String::new();
    let _ = writeln!(
        o,
        "ddnsd {} on {} (config {}), started {}",
        s(&d["version"]),
        s(&d["host"]),
        s(&d["config"]),
        when(&d["started_at"])
    );
    match doc["last_pass"].as_object() {
        Some(p) => {
            let took = p["took_seconds"].as_f64().unwrap_or(0.0);
            let _ = writeln!(
                o,
                "last pass {} ({}, {}): {}",
                when(&p["at"]),
                s(&p["causes"]),
                super::human_ms(std::time::Duration::from_secs_f64(took.max(0.0))),
                s(&p["summary"])
            );
        }
        None => o.push_str("no pass has finished yet\n"),
    }
    o.push('\n');

    let empty = Vec::new();
    let records = doc["records"].as_array().unwrap_or(&empty);
    let mut rows: Vec<[String; 7]> = vec![[
        "RECORD".into(),
        "TYPE".into(),
        "ADDRESS".into(),
        "STATE".into(),
        "CHANGED".into(),
        "TOOK".into(),
        "STATUS".into(),
    ]];
    let mut hints: Vec<Option<String>> = vec![None];
    let mut failing = false;
    for r in records {
        let addrs = r["published"]
            .as_array()
            .or(r["desired"].as_array())
            .map(|a| a.iter().map(&s).collect::<Vec<_>>().join(","))
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| "-".to_owned());
        let state = match (r["ok"].as_bool(), r["result"].as_str()) {
            (None, _) => "waiting",
            (Some(false), _) => {
                failing = true;
                "FAILING"
            }
            (Some(true), Some("no-address" | "gone")) => "skipped",
            (Some(true), _) => "ok",
        };
        let changed = r["last_change"].as_str().unwrap_or("-").to_owned();
        let took = r["last_publish_seconds"]
            .as_f64()
            .map(|t| super::human_ms(std::time::Duration::from_secs_f64(t.max(0.0))))
            .unwrap_or_else(|| "-".to_owned());
        let status = r["status"].as_str().unwrap_or("not checked yet").to_owned();
        rows.push([
            s(&r["name"]),
            s(&r["type"]),
            addrs,
            state.to_owned(),
            changed,
            took,
            status,
        ]);
        hints.push(r["hint"].as_str().map(str::to_owned));
    }
    let mut widths = [0usize; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for (row, hint) in rows.iter().zip(&hints) {
        let mut line = String::new();
        for (cell, w) in row.iter().zip(widths) {
            let _ = write!(line, "{cell:w$}  ");
        }
        line.push_str(&row[6]);
        let _ = writeln!(o, "{}", line.trim_end());
        if let Some(h) = hint {
            let _ = writeln!(o, "  hint: {h}");
        }
    }

    let mut notes = String::new();
    for p in doc["providers"].as_array().unwrap_or(&empty) {
        let state = match p["state"].as_str() {
            Some("backing-off") => {
                format!("backing off until {} ({})", s(&p["until"]), s(&p["reason"]))
            }
            Some("paused") => format!("paused until the config is reloaded ({})", s(&p["reason"])),
            _ => continue,
        };
        let _ = writeln!(notes, "provider {}: {state}", s(&p["name"]));
    }
    for src in doc["sources"].as_array().unwrap_or(&empty) {
        if let Some(e) = src["error"].as_object() {
            let _ = writeln!(
                notes,
                "source {}: failed at {}: {}",
                s(&src["name"]),
                s(&e["at"]),
                s(&e["message"])
            );
            if let Some(h) = e["hint"].as_str() {
                let _ = writeln!(notes, "  hint: {h}");
            }
        }
    }
    if !notes.is_empty() {
        o.push('\n');
        o.push_str(&notes);
    }
    Ok(Table { text: o, failing })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::render::json;
    use crate::status::snapshot::tests::{snapshot_after_one_pass, t};

    #[test]
    fn table_from_the_json_document() {
        let doc: Value =
            serde_json::from_str(&json::render(&snapshot_after_one_pass(), t(15))).unwrap();
        let got = render(&doc, t(15)).unwrap();
        assert!(got.failing);
        assert_eq!(
            got.text,
            "ddnsd 0.1.0 on vm (config /etc/ddnsd/ddnsd.toml), started 2023-11-14T22:13:20Z (15 s ago)
last pass 2023-11-14T22:13:25Z (10 s ago) (address change, 60 ms): 1 changed, 0 unchanged, 2 failed, 0 without address

RECORD          TYPE  ADDRESS      STATE    CHANGED               TOOK   STATUS
a.example.test  AAAA  2001:db8::2  ok       2023-11-14T22:13:25Z  42 ms  created
b.example.test  AAAA  2001:db8::2  FAILING  -                     -      failed: the server refused the update
  hint: allow the name in the server's update-policy
b.example.test  A     -            FAILING  -                     -      failed: source wan4 failed; record left as it is

provider home: backing off until 2023-11-14T22:14:25Z (could not reach 127.0.0.1:53)
source wan4: failed at 2023-11-14T22:13:25Z: no interface named \"eth9\" on this machine
  hint: check `interface` in the source; `ip -br link` lists this machine's interfaces
"
        );
    }

    #[test]
    fn refuses_other_schemas() {
        let doc = serde_json::json!({"schema": 2});
        assert_eq!(
            render(&doc, t(0)).unwrap_err(),
            "the daemon speaks status schema 2; this ddnsd reads schema 1"
        );
        assert_eq!(
            render(&serde_json::json!([]), t(0)).unwrap_err(),
            "the answer is not a ddnsd status document"
        );
    }
}
