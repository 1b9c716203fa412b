//! `GET /status`: the snapshot as JSON, schema version [`SCHEMA`] (documented in
//! docs/status.md). Adding a field keeps the version; renaming, removing or changing the
//! meaning of one raises it.

use std::time::SystemTime;

use serde_json::{json, Value};

use super::rfc3339;
use crate::record::AddrSet;
use crate::status::snapshot::{ErrorView, ProviderState, Snapshot};

/// The schema version of `GET /status`.
pub const SCHEMA: u64 = 1;

/// The JSON document served at `now`.
pub fn render(s: &Snapshot, now: SystemTime) -> String {
    let time = |t: Option<SystemTime>| t.map(rfc3339);
    let addrs = |a: &AddrSet| a.iter().map(ToString::to_string).collect::<Vec<_>>();
    let error = |e: &Option<ErrorView>| {
        e.as_ref()
            .map(|e| json!({ "message": e.message, "hint": e.hint, "at": rfc3339(e.at) }))
    };
    let records: Vec<Value> = s
        .records
        .iter()
        .map(|r| {
            json!({
                "name": r.key.name.as_str(),
                "type": r.key.rtype.as_str(),
                "provider": r.provider,
                "sources": r.sources,
                "desired": r.desired.as_ref().map(addrs),
                "published": r.published.as_ref().map(addrs),
                "result": r.result.as_ref().map(|x| x.code),
                "ok": r.result.as_ref().map(|x| x.ok),
                "status": r.result.as_ref().map(|x| x.text.as_str()),
                "hint": r.result.as_ref().and_then(|x| x.hint.as_deref()),
                "checked_at": time(r.checked_at),
                "last_change": time(r.last_change),
                "last_verify": time(r.last_verify),
                "last_publish_seconds": r.last_publish.map(|l| l.took.as_secs_f64()),
                "last_publish_from": r.last_publish.map(|l| if l.from_event { "address-event" } else { "pass-start" }),
            })
        })
        .collect();
    let providers: Vec<Value> = s
        .providers
        .iter()
        .map(|p| {
            let (state, until, reason) = match &p.state {
                ProviderState::Ok => ("ok", None, None),
                ProviderState::BackingOff { until, reason } => {
                    ("backing-off", Some(rfc3339(*until)), Some(reason.as_str()))
                }
                ProviderState::Paused { reason } => ("paused", None, Some(reason.as_str())),
            };
            json!({
                "name": p.name,
                "state": state,
                "until": until,
                "reason": reason,
                "last_error": error(&p.last_error),
            })
        })
        .collect();
    let sources: Vec<Value> = s
        .sources
        .iter()
        .map(|x| {
            json!({
                "name": x.name,
                "at": time(x.at),
                "selected": x.selected.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "error": error(&x.error),
            })
        })
        .collect();
    let doc = json!({
        "schema": SCHEMA,
        "ddnsd": {
            "version": s.version,
            "host": s.host,
            "started_at": rfc3339(s.started_at),
            "config": s.config,
        },
        "generated_at": rfc3339(now),
        "passes": s.passes,
        "last_pass": s.last_pass.as_ref().map(|p| json!({
            "at": rfc3339(p.at),
            "took_seconds": p.took.as_secs_f64(),
            "causes": p.causes,
            "summary": p.summary,
        })),
        "ok": !s.any_failing(),
        "records": records,
        "providers": providers,
        "sources": sources,
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::snapshot::tests::{snapshot_after_one_pass, t};

    #[test]
    fn schema_v1_fields() {
        let v: Value = serde_json::from_str(&render(&snapshot_after_one_pass(), t(10))).unwrap();
        assert_eq!(v["schema"], 1);
        assert_eq!(v["ddnsd"]["version"], "0.1.0");
        assert_eq!(v["ddnsd"]["started_at"], "2023-11-14T22:13:20Z");
        assert_eq!(v["ddnsd"]["config"], "/etc/ddnsd/ddnsd.toml");
        assert_eq!(v["generated_at"], "2023-11-14T22:13:30Z");
        assert_eq!(v["ok"], false);
        assert_eq!(v["last_pass"]["causes"], "address change");
        assert_eq!(v["last_pass"]["took_seconds"], 0.06);
        let a = &v["records"][0];
        assert_eq!(a["name"], "a.example.test");
        assert_eq!(a["type"], "AAAA");
        assert_eq!(a["desired"], json!(["2001:db8::2"]));
        assert_eq!(a["published"], json!(["2001:db8::2"]));
        assert_eq!(
            (a["result"].as_str(), a["ok"].as_bool()),
            (Some("created"), Some(true))
        );
        assert_eq!(a["last_change"], "2023-11-14T22:13:25Z");
        assert_eq!(a["last_verify"], Value::Null);
        assert_eq!(a["last_publish_seconds"], 0.042);
        assert_eq!(a["last_publish_from"], "address-event");
        let b = &v["records"][1];
        assert_eq!(b["status"], "failed: the server refused the update");
        assert_eq!(b["hint"], "allow the name in the server's update-policy");
        assert_eq!(b["published"], Value::Null);
        let p = &v["providers"][0];
        assert_eq!(p["state"], "backing-off");
        assert_eq!(p["until"], "2023-11-14T22:14:25Z");
        assert_eq!(p["last_error"]["message"], "the server refused the update");
        let wan4 = &v["sources"][0];
        assert_eq!(wan4["name"], "wan4");
        assert_eq!(
            wan4["error"]["message"],
            "no interface named \"eth9\" on this machine"
        );
        assert_eq!(v["sources"][1]["selected"], json!(["2001:db8::2"]));
    }
}
