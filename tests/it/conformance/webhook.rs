//! Fixture for `webhook` over the recording endpoint (`harness/webhook_server.rs`) acting as a
//! receiver: it applies `{"name", "type", "addresses"}` JSON bodies to its record store,
//! requires a bearer token (401 without it) and refuses the refused name (422). The URL holds a
//! token too, so the secret check covers URL, header and the settings' Debug form.
//!
//! Write-only ([`Fixture::reads`] is false): a webhook has no read call; every request replaces
//! one RRset. Reply bodies are not read (a 2xx is success), so a malformed or truncated reply
//! cannot be told from a good one: those two scenarios do not apply. No record ids.

use std::collections::BTreeMap;
use std::sync::Arc;

use ddnsd::http::Method;
use ddnsd::provider::webhook::{Escape, Template, WebhookSettings};
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{Creds, Fault, Fixture, Op, Scenario, Seed, Tally, MARKER};
use crate::harness::emu_http::Outcome;
use crate::harness::webhook_server::WebhookServer;

/// The receiver.
pub struct Webhook {
    hook: WebhookServer,
}

fn fqdn(name: &str, zone: &str) -> String {
    if name == "@" {
        zone.to_owned()
    } else {
        format!("{name}.{zone}")
    }
}

fn bearer(creds: Creds) -> String {
    match creds {
        Creds::Good => format!("Bearer {MARKER}-hook"),
        Creds::Bad => format!("Bearer {MARKER}-wrong"),
    }
}

/// Starts the receiver holding the seed.
pub fn start(seed: &Seed) -> Webhook {
    let hook = WebhookServer::start();
    {
        let mut st = hook.state();
        let mut store: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        store.insert(
            (seed.zone.to_owned(), "NS".to_owned()),
            vec![format!("ns1.{}.", seed.zone)],
        );
        for r in &seed.records {
            store.insert(
                (fqdn(r.name, seed.zone), r.rtype.to_owned()),
                r.values.iter().map(|v| (*v).to_owned()).collect(),
            );
        }
        st.store = Some(store);
        st.refuse.insert(fqdn(seed.refused, seed.zone));
        st.require = Some(("Authorization".into(), bearer(Creds::Good)));
    }
    Webhook { hook }
}

impl Fixture for Webhook {
    fn label(&self) -> String {
        "webhook/json-receiver".into()
    }

    fn skips(&self) -> Vec<(Scenario, &'static str)> {
        let why = "a webhook's reply body is not read (a 2xx is success): a malformed one cannot be told from a good one";
        vec![(Scenario::Malformed, why), (Scenario::Truncated, why)]
    }

    fn reads(&self) -> bool {
        false
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        let url = format!("{}/records?key={MARKER}-url", self.hook.base_url());
        let body =
            r#"{"name": "{name}", "type": "{type}", "addresses": {addresses_json}, "ttl": {ttl}}"#;
        Arc::new(WebhookSettings {
            url: Template::parse(&url).unwrap(),
            method: Method::Post,
            headers: vec![("Authorization".into(), Secret::new(bearer(creds)))],
            body: Some(Template::parse(body).unwrap()),
            body_escape: Escape::Json,
            default_content_type: Some("application/json"),
            expect_body: None,
            zone: Some(super::ZONE.parse().unwrap()),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &["headers", "Authorization", "url"]
    }

    fn secrets(&self) -> Vec<String> {
        vec![
            MARKER.to_owned(),
            bearer(Creds::Good),
            format!("key={MARKER}-url"),
        ]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        let st = self.hook.state();
        st.store
            .as_ref()
            .and_then(|s| s.get(&(fqdn(name, super::ZONE), rtype.to_owned())))
            .cloned()
            .unwrap_or_default()
    }

    fn tally(&self) -> Tally {
        Tally {
            replaces: u32::try_from(self.hook.calls()).unwrap(),
            ..Tally::default()
        }
    }

    fn reset(&self) {
        let mut st = self.hook.state();
        st.received.clear();
        st.script.clear();
        st.scripted_served = 0;
    }

    fn inject(&self, fault: Fault, op: Op, times: u32) {
        // A webhook has no read request: a fault on reads never fires.
        if op == Op::Read {
            return;
        }
        let answer = match fault {
            Fault::ServerError => Outcome::text(502, "<html><body>Bad Gateway</body></html>"),
            Fault::Timeout => Outcome::Hang,
            Fault::RateLimit { retry_after } => Outcome::with_header(
                429,
                "{\"error\": \"slow down\"}",
                "Retry-After",
                &retry_after.as_secs().to_string(),
            ),
            Fault::Malformed => Outcome::text(200, "<html>"),
            Fault::Truncated => Outcome::text(200, "{\"ok\": tr"),
        };
        for _ in 0..times {
            self.hook.script(answer.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        vec![self.hook.host_port(); self.hook.state().scripted_served]
    }
}
