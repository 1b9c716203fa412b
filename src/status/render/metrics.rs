//! `GET /metrics`: the Prometheus text exposition format (version 0.0.4). The metric names
//! are a contract (docs/status.md lists them); each family has HELP and TYPE lines and label
//! values are escaped as the format requires.

use std::fmt::Write as _;
use std::time::SystemTime;

use crate::status::snapshot::{is_published, Histogram, ProviderState, Snapshot};

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The metrics as scraped at `now` (the backoff gauge counts down to `now`).
pub fn render(s: &Snapshot, now: SystemTime) -> String {
    let mut o = String::new();
    family(
        &mut o,
        "ddnsd_build_info",
        "gauge",
        "the running ddnsd's version (always 1)",
    );
    let _ = writeln!(o, "ddnsd_build_info{{version=\"{}\"}} 1", esc(&s.version));

    family(
        &mut o,
        "ddnsd_record_published",
        "gauge",
        "1 when the record's desired addresses are live after its last pass (created, updated or unchanged), else 0",
    );
    for r in &s.records {
        let v = r.result.as_ref().is_some_and(|x| is_published(x.code));
        let _ = writeln!(
            o,
            "ddnsd_record_published{} {}",
            record_labels(r),
            u8::from(v)
        );
    }

    family(
        &mut o,
        "ddnsd_record_last_change_timestamp_seconds",
        "gauge",
        "when the record was last written (Unix time)",
    );
    for r in &s.records {
        if let Some(t) = r.last_change {
            let _ = writeln!(
                o,
                "ddnsd_record_last_change_timestamp_seconds{} {}",
                record_labels(r),
                unix(t)
            );
        }
    }

    family(
        &mut o,
        "ddnsd_publish_latency_seconds",
        "histogram",
        "from the kernel's address event to the provider's confirmation of the write",
    );
    histogram(
        &mut o,
        "ddnsd_publish_latency_seconds",
        &s.metrics.publish_latency,
    );

    family(
        &mut o,
        "ddnsd_provider_calls_total",
        "counter",
        "provider calls by action (read, write) and result (ok, or the error kind)",
    );
    for ((provider, action, result), n) in &s.metrics.provider_calls {
        let _ = writeln!(
            o,
            "ddnsd_provider_calls_total{{provider=\"{}\",action=\"{}\",result=\"{}\"}} {n}",
            esc(provider),
            esc(action),
            esc(result)
        );
    }

    family(
        &mut o,
        "ddnsd_provider_backoff_seconds",
        "gauge",
        "seconds until a paused provider is tried again (0: not paused; +Inf: until the config is reloaded)",
    );
    for p in &s.providers {
        let v = match &p.state {
            ProviderState::Ok => "0".to_owned(),
            ProviderState::BackingOff { until, .. } => num(until
                .duration_since(now)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0)),
            ProviderState::Paused { .. } => "+Inf".to_owned(),
        };
        let _ = writeln!(
            o,
            "ddnsd_provider_backoff_seconds{{provider=\"{}\"}} {v}",
            esc(&p.name)
        );
    }

    family(
        &mut o,
        "ddnsd_source_failures_total",
        "counter",
        "detections that failed, by source",
    );
    for src in &s.sources {
        let n = s
            .metrics
            .source_failures
            .get(&src.name)
            .copied()
            .unwrap_or(0);
        let _ = writeln!(
            o,
            "ddnsd_source_failures_total{{source=\"{}\"}} {n}",
            esc(&src.name)
        );
    }

    family(
        &mut o,
        "ddnsd_pass_duration_seconds",
        "histogram",
        "how long passes take",
    );
    histogram(
        &mut o,
        "ddnsd_pass_duration_seconds",
        &s.metrics.pass_duration,
    );
    o
}

fn family(o: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(o, "# HELP {name} {help}");
    let _ = writeln!(o, "# TYPE {name} {kind}");
}

fn histogram(o: &mut String, name: &str, h: &Histogram) {
    for (le, n) in h.cumulative() {
        let _ = writeln!(o, "{name}_bucket{{le=\"{}\"}} {n}", num(le));
    }
    let _ = writeln!(o, "{name}_sum {}", num(h.sum));
    let _ = writeln!(o, "{name}_count {}", h.count);
}

fn record_labels(r: &crate::status::snapshot::RecordView) -> String {
    format!(
        "{{name=\"{}\",type=\"{}\"}}",
        esc(r.key.name.as_str()),
        r.key.rtype.as_str()
    )
}

/// A sample value: `+Inf`, or the shortest decimal that reads back as `v`.
fn num(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{v}")
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Escapes a label value: backslash, double quote and line feed.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::snapshot::tests::{snapshot_after_one_pass, t};

    #[test]
    fn exposition_lines() {
        let text = render(&snapshot_after_one_pass(), t(15));
        for want in [
            "# TYPE ddnsd_build_info gauge",
            "ddnsd_build_info{version=\"0.1.0\"} 1",
            "ddnsd_record_published{name=\"a.example.test\",type=\"AAAA\"} 1",
            "ddnsd_record_published{name=\"b.example.test\",type=\"AAAA\"} 0",
            "ddnsd_record_published{name=\"b.example.test\",type=\"A\"} 0",
            "ddnsd_record_last_change_timestamp_seconds{name=\"a.example.test\",type=\"AAAA\"} 1700000005",
            "# TYPE ddnsd_publish_latency_seconds histogram",
            "ddnsd_publish_latency_seconds_bucket{le=\"0.025\"} 0",
            "ddnsd_publish_latency_seconds_bucket{le=\"0.05\"} 1",
            "ddnsd_publish_latency_seconds_bucket{le=\"+Inf\"} 1",
            "ddnsd_publish_latency_seconds_sum 0.042",
            "ddnsd_publish_latency_seconds_count 1",
            "ddnsd_provider_calls_total{provider=\"home\",action=\"write\",result=\"forbidden\"} 1",
            "ddnsd_provider_calls_total{provider=\"home\",action=\"write\",result=\"ok\"} 1",
            "ddnsd_provider_backoff_seconds{provider=\"home\"} 50",
            "ddnsd_source_failures_total{source=\"wan4\"} 1",
            "ddnsd_source_failures_total{source=\"wan6\"} 0",
            "ddnsd_pass_duration_seconds_bucket{le=\"0.1\"} 1",
            "ddnsd_pass_duration_seconds_count 1",
        ] {
            assert!(text.lines().any(|l| l == want), "missing {want:?} in\n{text}");
        }
        // Every sample line belongs to a family declared before it.
        let mut declared = Vec::new();
        for l in text.lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                declared.push(rest.split(' ').next().unwrap().to_owned());
            } else if !l.starts_with('#') {
                let name = l.split(['{', ' ']).next().unwrap();
                assert!(
                    declared.iter().any(|d| name == d
                        || name
                            .strip_prefix(d.as_str())
                            .is_some_and(|s| ["_bucket", "_sum", "_count"].contains(&s))),
                    "{l}"
                );
            }
        }
    }

    #[test]
    fn escaping_and_numbers() {
        assert_eq!(esc("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(num(f64::INFINITY), "+Inf");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(60.0), "60");
    }
}
